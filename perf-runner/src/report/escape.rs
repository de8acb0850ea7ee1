//! Escaping for text that did not come from us: scenario names, branch names, commit
//! messages, anything read from an artifact a fork's pull request produced.
//!
//! GitHub renders comment bodies as GitHub-flavoured Markdown with a subset of HTML, then links
//! `@mentions`. Untrusted text must not open tags, links, images, tables cells, code fences or
//! details blocks, and must not ping anyone. Two forms cover every use here:
//! [`markdown_text`] for running text and [`code`] for names shown as inline code.

/// Characters with a meaning in Markdown; each is backslash-escaped in running text.
const MARKDOWN_PUNCTUATION: &str = "\\`*_{}[]()#+-.!|~>";

/// Control characters (newlines included) would start new blocks: they become spaces.
fn flatten(c: char) -> char {
    if c.is_control() { ' ' } else { c }
}

/// Untrusted text for running Markdown: no block starts, no tags, no links, no mentions.
pub fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars().map(flatten) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // A zero-width space after '@' keeps "@org/team" from pinging anyone.
            '@' => out.push_str("@\u{200B}"),
            c if MARKDOWN_PUNCTUATION.contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Untrusted text as an inline code span, backticks included. Inside a code span Markdown and
/// HTML are inert; a backtick (which would close it) and a pipe (which splits a table cell
/// even inside code) must be replaced.
pub fn code(s: &str) -> String {
    let inner: String = s
        .chars()
        .map(flatten)
        .map(|c| match c {
            '`' => '\'',
            '|' => '¦',
            // Inert inside code already; replaced anyway so no tag-like text survives at all.
            '<' => '‹',
            '>' => '›',
            c => c,
        })
        .collect();
    if inner.trim().is_empty() {
        "` `".into()
    } else {
        format!("`{inner}`")
    }
}

/// Multi-line text (an error with a node's log tail) as a fenced code block: the fence is
/// longer than any run of backticks in the text, so nothing inside can close it, and control
/// characters other than newlines and tabs are dropped.
pub fn code_block(s: &str) -> String {
    let text: String = s
        .chars()
        .filter(|&c| !c.is_control() || c == '\n' || c == '\t')
        .collect();
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end_matches('\n'))
}

/// Whether `s` is a plain identifier (letters, digits, `_ - .`): safe anywhere, including
/// Mermaid labels and HTML comments.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_block_cannot_be_closed_from_inside() {
        assert_eq!(code_block("plain\n"), "```text\nplain\n```\n");
        let hostile = "log line\n````\n# heading\u{1b}[0m";
        let block = code_block(hostile);
        assert!(block.starts_with("`````text\n"), "{block}");
        assert!(block.ends_with("\n`````\n"), "{block}");
        assert!(!block.contains('\u{1b}'));
    }

    const HOSTILE: &[&str] = &[
        "<img src=x onerror=alert(1)>",
        "</details><script>alert(1)</script>",
        "[click](https://evil.example)",
        "![x](https://evil.example/t.png)",
        "@octocat please look",
        "a | b | c",
        "line\n# heading\n```\nfence",
        "`code` and ``double``",
        "<!-- swarmbench:comment standard -->",
        "&lt;already&gt;",
    ];

    #[test]
    fn running_text_opens_nothing() {
        for s in HOSTILE {
            let e = markdown_text(s);
            assert!(!e.contains('<') && !e.contains('\n'), "{s:?} → {e:?}");
            assert!(!e.contains("](") && !e.contains("@o"), "{s:?} → {e:?}");
            assert!(!e.contains('|') || e.contains("\\|"), "{s:?} → {e:?}");
            assert!(!e.contains("<!--"), "{s:?} → {e:?}");
        }
        assert_eq!(markdown_text("feat/x-1.2"), "feat/x\\-1\\.2");
        assert_eq!(markdown_text("a&b"), "a&amp;b");
    }

    #[test]
    fn code_spans_cannot_be_closed_or_split() {
        for s in HOSTILE {
            let e = code(s);
            assert!(e.starts_with('`') && e.ends_with('`'), "{e}");
            let inner = &e[1..e.len() - 1];
            assert!(!inner.contains(['`', '|', '\n', '<', '>']), "{e}");
        }
        assert_eq!(code("gossip_latency_ms_p50"), "`gossip_latency_ms_p50`");
        assert_eq!(code(""), "` `");
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("standard") && is_identifier("scale-100") && is_identifier("a_b.c"));
        assert!(
            !is_identifier("a b")
                && !is_identifier("x-->y")
                && !is_identifier("\"q\"")
                && !is_identifier("")
        );
    }
}
