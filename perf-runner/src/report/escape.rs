//! Escaping for text that did not come from us: scenario names, branch names, commit
//! messages, anything read from an artifact a fork's pull request produced.
//!
//! GitHub renders comment bodies as GitHub-flavoured Markdown with a subset of HTML, then links
//! `@mentions`. Untrusted text must not open tags, links, images, tables cells, code fences or
//! details blocks, and must not ping anyone. Two forms cover every use here:
//! [`markdown_text`] for running text and [`code`] for names shown as inline code.
//!
//! Backslash escapes do not stop GitHub's autolinks: the GFM autolink extension (GFM spec,
//! "Autolinks (extension)") runs on text after escapes are resolved, so `www\.x\.com` and
//! `http://intranet/x` still become links. Running text therefore gets a zero-width joiner
//! inside every `://` and between `www` and its dot (neither sequence survives, so neither
//! extended autolink matches) and a zero-width space after `@` (no mention, no email link) and
//! after `#` (no issue reference). Bidirectional controls (U+202A–U+202E, U+2066–U+2069,
//! U+200E, U+200F, U+061C), which can make text read differently from what it is, are
//! dropped everywhere.

/// Characters with a meaning in Markdown; each is backslash-escaped in running text.
const MARKDOWN_PUNCTUATION: &str = "\\`*_{}[]()#+-.!|~>";

/// Zero-width joiner: breaks `://` and `www.` without changing what a reader sees.
const ZWJ: char = '\u{200D}';
/// Zero-width space: breaks `@mention`, `user@host` and `#123` likewise.
const ZWSP: char = '\u{200B}';

/// Bidirectional formatting characters (Unicode TR9): embeddings, overrides, isolates and
/// marks. Text from an artifact has no business reordering what a reader sees.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Untrusted characters with bidi controls dropped and control characters (newlines
/// included, which would start new blocks) turned into spaces.
fn flattened(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(|&c| !is_bidi_control(c))
        .map(|c| if c.is_control() { ' ' } else { c })
}

/// Untrusted text for running Markdown: no block starts, no tags, no links (autolinks
/// included), no mentions, no issue references, no bidi controls.
pub fn markdown_text(s: &str) -> String {
    let chars: Vec<char> = flattened(s).collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // "@org/team" pings no one and "a@b.c" is no mail link.
            '@' => {
                out.push('@');
                out.push(ZWSP);
            }
            // "#12" and "o/r#12" reference no issue (and so leave no backlink on it).
            '#' => {
                out.push_str("\\#");
                out.push(ZWSP);
            }
            // "http://", "ftp://", any "scheme://": the extended URL autolink needs "://".
            ':' if chars.get(i + 1) == Some(&'/') => {
                out.push(':');
                out.push(ZWJ);
            }
            // "www.": the extended www autolink needs exactly these four characters.
            '.' if i >= 3
                && chars[i - 3..i]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case("www") =>
            {
                out.push(ZWJ);
                out.push_str("\\.");
            }
            c if MARKDOWN_PUNCTUATION.contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The first `max` characters of untrusted text, with "…" when it was longer: for names and
/// reasons shown in places of bounded size. Escape the result, not the input.
pub fn truncate(s: &str, max: usize) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// Untrusted text as an inline code span, backticks included. Inside a code span Markdown and
/// HTML are inert; a backtick (which would close it) and a pipe (which splits a table cell
/// even inside code) must be replaced.
pub fn code(s: &str) -> String {
    let inner: String = flattened(s)
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
        .filter(|&c| (!c.is_control() || c == '\n' || c == '\t') && !is_bidi_control(c))
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

    /// What GitHub's renderer would turn into a link or a reference: the GFM extended
    /// autolinks (`www.`, `scheme://`, `x@y.z`) and GitHub's `@login` and `#123`.
    fn links_something(e: &str) -> bool {
        e.contains("://")
            || e.to_ascii_lowercase().contains("www.")
            || e.to_ascii_lowercase().contains("www\\.")
            || e.chars().zip(e.chars().skip(1)).any(|(a, b)| {
                (a == '@' || a == '#') && (b.is_ascii_alphanumeric() || b == '_' || b == '-')
            })
    }

    #[test]
    fn bare_urls_emails_mentions_and_references_do_not_link() {
        for s in [
            "see http://intranet/x",
            "HTTPS://evil.example/a?b",
            "ftp://files.example/x",
            "go to www.evil.example now",
            "WWW.EVIL.EXAMPLE",
            "mail admin@corp.example",
            "mailto:admin@corp.example",
            "fixes #12 and o/r#34",
            "@octocat",
        ] {
            let e = markdown_text(s);
            assert!(!links_something(&e), "{s:?} → {e:?}");
        }
        // What a reader sees is unchanged once the invisible characters are removed.
        let shown = |e: &str| e.replace([ZWJ, ZWSP, '\\'], "");
        assert_eq!(
            shown(&markdown_text("http://intranet/x")),
            "http://intranet/x"
        );
        assert_eq!(shown(&markdown_text("www.a.b")), "www.a.b");
    }

    #[test]
    fn bidi_controls_are_dropped_everywhere() {
        let s = "safe\u{202E}txt.exe\u{2066}x\u{2069}\u{200F}\u{061C}";
        for e in [markdown_text(s), code(s), code_block(s)] {
            assert!(!e.chars().any(is_bidi_control), "{e:?}");
            assert!(e.contains("txt"), "{e:?}");
        }
    }

    #[test]
    fn truncation_counts_characters_and_says_so() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "abc…");
        assert_eq!(truncate("ééééé", 2), "éé…");
        assert_eq!(truncate(&"x".repeat(1 << 20), 10).chars().count(), 11);
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
