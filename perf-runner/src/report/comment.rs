//! The PR comment body. Its input is a summary read from a report directory that must be
//! treated as hostile (in the fork-safe workflow it is an artifact a pull request's code wrote;
//! [`crate::github::artifact`] reads it with size caps and identifier checks).
//!
//! What that means here: the summary is data, never included verbatim; every string from it
//! is escaped ([`crate::report::escape`]); names that go into the hidden marker or a Mermaid
//! chart must be plain identifiers; the body is capped below GitHub's 65,536-character limit,
//! with a note when sections were left out. Numbers are formatted by us, so they are safe.
//! The comment is informational: whether the check passes is decided by the perf workflow's
//! exit code, which a pull request cannot forge through the artifact.

use crate::{
    compare::{Comparison, MetricComparison, Mode, Verdict},
    data::{comparison::NotMeasured, summary::RunSummary},
    report::{
        comparison::{NOT_MEASURED, no_verdict, not_measured_reason},
        escape::{code, is_identifier, markdown_text},
        format_value,
    },
};

/// GitHub rejects comment bodies over 65,536 characters; stay well below.
pub const DEFAULT_MAX_CHARS: usize = 60_000;

/// The hidden first line that identifies the sticky comment of a scenario.
pub fn marker(scenario: &str) -> String {
    format!("<!-- swarmbench:perf-comment scenario={scenario} -->")
}

/// What the comment links to; all of it comes from the trusted workflow, not the artifact.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// The perf workflow run (`https://…/actions/runs/<id>`).
    pub run_url: Option<String>,
    /// Name of the artifact holding the full report and plots.
    pub artifact: Option<String>,
}

/// A body built from sections in priority order, cut before it would pass the cap.
struct Body {
    text: String,
    max: usize,
    omitted: Vec<&'static str>,
}

impl Body {
    fn push(&mut self, name: &'static str, section: &str) {
        // Room is kept for the truncation note itself.
        if self.omitted.is_empty() && self.text.len() + section.len() + 300 <= self.max {
            self.text.push_str(section);
        } else {
            self.omitted.push(name);
        }
    }

    fn finish(mut self) -> String {
        if !self.omitted.is_empty() {
            self.text.push_str(&format!(
                "\n> Truncated to stay under GitHub's comment size limit; left out: {}. The full report is in the artifact.\n",
                self.omitted.join(", ")
            ));
        }
        self.text
    }
}

/// Renders the comment of a run.
pub fn render(summary: &RunSummary, links: &Links, max_chars: usize) -> String {
    let mut body = Body {
        text: String::new(),
        max: max_chars,
        omitted: Vec::new(),
    };
    let s = &summary.scenario;
    let shape = if s.nodes == 0 {
        format!(
            "{}, {} samples",
            markdown_text(&s.topology),
            summary.repetitions_done
        )
    } else {
        format!(
            "{} nodes, {}, {}",
            s.nodes,
            markdown_text(&s.transport),
            super::repetitions_text(summary.repetitions_done, s.repetitions, "repetitions")
        )
    };
    let header = format!(
        "{}\n### swarmbench · {} · {}\n\n{shape}{}.\n\n",
        marker(&s.name),
        code(&s.name),
        verdict_line(summary),
        if summary.complete {
            ""
        } else {
            " — **incomplete run**"
        }
    );
    body.push("header", &header);
    match &summary.comparison {
        Some(c) => {
            body.push("method", &format!("{}\n\n", method(c)));
            body.push("table", &table(c, max_chars / 2));
            body.push("chart", &mermaid(c));
        }
        None => body.push(
            "no-comparison",
            "No comparison was made (no baseline and no base revision): the numbers below are not a verdict.\n\n",
        ),
    }
    body.push("links", &links_line(links));
    if let Some(c) = &summary.comparison {
        let mut reasons = String::from("<details><summary>Why each verdict</summary>\n\n");
        for m in &c.metrics {
            reasons.push_str(&format!(
                "- {}: {}\n",
                code(&m.name),
                markdown_text(&m.reason)
            ));
        }
        for m in &c.not_measured {
            reasons.push_str(&format!(
                "- {}: {}\n",
                code(&m.name),
                markdown_text(&not_measured_reason(m))
            ));
        }
        for w in &c.warnings {
            reasons.push_str(&format!("- warning: {}\n", markdown_text(w)));
        }
        reasons.push_str("\n</details>\n\n");
        body.push("reasons", &reasons);
    }
    body.push("measurements", &measurements(summary));
    body.push("environment", &environment(summary));
    body.finish()
}

/// The verdict after the scenario's name: "no verdict" comes first, for a comparison that is
/// none and for a run that did not finish or measured nothing, compared or not.
fn verdict_line(summary: &RunSummary) -> String {
    if let Some(why) = no_verdict(summary) {
        return format!("⛔ **no verdict**: {}", markdown_text(&why));
    }
    let Some(c) = &summary.comparison else {
        return "measured, not compared".into();
    };
    let gated = c.gated();
    if gated == 0 {
        return "ℹ️ nothing gated was compared: information, not a verdict".into();
    }
    let regressed = c.regressions();
    if let Some(why) = &c.informational {
        return format!(
            "ℹ️ for information only ({}): not a verdict; {} of {gated} gated metrics worse beyond the threshold",
            markdown_text(why),
            regressed.len()
        );
    }
    let inconclusive = c.inconclusive();
    if !regressed.is_empty() {
        format!(
            "❌ **regression** in {} of {gated} gated metrics: {}",
            regressed.len(),
            regressed
                .iter()
                .map(|m| format!("{} {}", code(&m.name), pct(m.change)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else if inconclusive.is_empty() {
        format!(
            "✅ no regression: all {gated} gated metrics unchanged or improved, with the power to see a change beyond the threshold"
        )
    } else {
        format!(
            "⚠️ no regression detected; {} of {gated} gated metrics inconclusive (too noisy to rule one out)",
            inconclusive.len()
        )
    }
}

fn pct(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or("-".into(), |v| format!("{:+.1}%", v * 100.0))
}

fn method(c: &Comparison) -> String {
    let how = match c.mode {
        Mode::Paired => "paired ABBA runs, Wilcoxon signed-rank on per-pair log-ratios",
        Mode::Unpaired => "unpaired, Mann–Whitney U against the stored baseline",
    };
    format!(
        "Base: {} ({how}). Regression = Holm-adjusted p < {} **and** a change beyond the threshold; \"unchanged\" only when the test could have seen such a change.",
        markdown_text(&c.base_label),
        if c.alpha.is_finite() {
            c.alpha
        } else {
            f64::NAN
        }
    )
}

fn value(v: f64, unit: &str) -> String {
    if v.is_finite() {
        format!("{} {}", format_value(v, unit), markdown_text(unit))
    } else {
        "-".into()
    }
}

fn row(m: &MetricComparison) -> String {
    let verdict = match (m.verdict, m.mde) {
        (Verdict::Regressed, _) => "❌ regressed".to_owned(),
        (Verdict::Improved, _) => "🚀 improved".to_owned(),
        (Verdict::Unchanged, Some(mde)) if mde.is_finite() => {
            format!("unchanged (MDE {:.1}%)", mde * 100.0)
        }
        (v, _) => v.to_string(),
    };
    format!(
        "| {}{} | {} | {} | {} | {} | {} | ±{:.1}% | {} |\n",
        code(&m.name),
        if m.gated { "" } else { " (info)" },
        value(m.base_median, &m.unit),
        value(m.head_median, &m.unit),
        pct(m.change),
        m.change_ci.map_or("-".into(), |ci| format!(
            "{} … {}",
            pct(Some(ci.low)),
            pct(Some(ci.high))
        )),
        m.p_adjusted
            .or(m.p_regression)
            .filter(|p| p.is_finite())
            .map_or("-".into(), |p| format!("{p:.4}")),
        m.threshold * 100.0,
        verdict
    )
}

/// The row of a metric the base has and the head did not measure.
fn not_measured_row(m: &NotMeasured) -> String {
    format!(
        "| {}{} | {} | {NOT_MEASURED} | - | - | - | - | {NOT_MEASURED} |\n",
        code(&m.name),
        if m.gated { "" } else { " (info)" },
        value(m.base_median, &m.unit),
    )
}

/// The comparison table, gated metrics first, each group ending with what the head did not
/// measure; rows beyond `max` bytes are counted, not shown.
fn table(c: &Comparison, max: usize) -> String {
    let mut out = String::from(
        "| metric | base | head | change | 95% CI | p (Holm) | threshold | verdict |\n|---|---:|---:|---:|---|---:|---:|---|\n",
    );
    let mut rows: Vec<(bool, String)> = c
        .metrics
        .iter()
        .map(|m| (m.gated, row(m)))
        .chain(
            c.not_measured
                .iter()
                .map(|m| (m.gated, not_measured_row(m))),
        )
        .collect();
    rows.sort_by_key(|(gated, _)| !gated);
    let mut left_out = 0;
    for (_, r) in rows {
        if out.len() + r.len() > max {
            left_out += 1;
        } else {
            out.push_str(&r);
        }
    }
    if left_out > 0 {
        out.push_str(&format!(
            "\n{left_out} more rows in the artifact's report.\n"
        ));
    }
    out.push('\n');
    out
}

/// A Mermaid bar chart of the gated changes; only identifier-named metrics can be labels.
fn mermaid(c: &Comparison) -> String {
    let bars: Vec<(&str, f64)> = c
        .metrics
        .iter()
        .filter(|m| m.gated && is_identifier(&m.name))
        .filter_map(|m| {
            m.change
                .filter(|v| v.is_finite())
                .map(|v| (m.name.as_str(), (v * 1000.0).round() / 10.0))
        })
        .take(30)
        .collect();
    if bars.is_empty() {
        return String::new();
    }
    let bound = bars
        .iter()
        .fold(10.0f64, |acc, (_, v)| acc.max(v.abs()))
        .min(1000.0)
        .ceil();
    format!(
        "```mermaid\nxychart-beta\n    title \"Change vs base (%), gated metrics\"\n    x-axis [{}]\n    y-axis \"change %\" {} --> {}\n    bar [{}]\n```\n\n",
        bars.iter()
            .map(|(n, _)| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", "),
        -bound,
        bound,
        bars.iter()
            .map(|(_, v)| v.clamp(-bound, bound).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn links_line(links: &Links) -> String {
    let run = links
        .run_url
        .as_deref()
        .filter(|u| is_safe_url(u))
        .map(|u| format!("[the workflow run]({u})"));
    let artifact = links.artifact.as_deref().map(code);
    match (run, artifact) {
        (Some(run), Some(a)) => format!(
            "Full report with PNG/SVG plots: artifact {a} of {run} ([artifacts]({}#artifacts)).\n\n",
            links.run_url.as_deref().unwrap_or_default()
        ),
        (Some(run), None) => format!("Full report with PNG/SVG plots: {run}.\n\n"),
        (None, Some(a)) => format!("Full report with PNG/SVG plots: artifact {a}.\n\n"),
        (None, None) => String::new(),
    }
}

/// An https URL without characters that could end a Markdown link.
fn is_safe_url(u: &str) -> bool {
    u.starts_with("https://")
        && u.len() < 500
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'*+,;=%".contains(c))
        && !u.contains(['(', ')', '[', ']'])
}

fn measurements(summary: &RunSummary) -> String {
    let mut out = String::from(
        "<details><summary>Measurements of this run</summary>\n\n| metric | median | min | max | n |\n|---|---:|---:|---:|---:|\n",
    );
    for m in &summary.metrics {
        let Some(st) = &m.summary else { continue };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            code(&m.name),
            value(st.median, &m.unit),
            value(st.min, &m.unit),
            value(st.max, &m.unit),
            st.n
        ));
    }
    out.push_str("\n</details>\n\n");
    out
}

fn environment(summary: &RunSummary) -> String {
    let e = &summary.environment;
    format!(
        "<details><summary>Environment</summary>\n\n{}{} ({} cores), {}, kernel {}, {}; network: {}; commit {}{}.\n\n</details>\n",
        summary
            .testbed
            .as_ref()
            .map_or(String::new(), |t| format!("testbed {}: ", code(t.as_str()))),
        markdown_text(&e.cpu_model),
        e.cores,
        markdown_text(&e.os),
        markdown_text(&e.kernel),
        markdown_text(&e.rustc),
        markdown_text(&e.network_backend),
        code(&summary.revision.commit.chars().take(40).collect::<String>()),
        if summary.revision.dirty {
            " (uncommitted changes)"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::compare::{self, GateConfig, MetricSamples};

    fn fixture() -> RunSummary {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/summary-small.json");
        RunSummary::read(&path).unwrap()
    }

    /// The fixture with a paired comparison in which gossip p50 is 20 % slower.
    fn compared() -> RunSummary {
        let mut s = fixture();
        let base: Vec<f64> = (0..12).map(|i| 1.0 + 0.01 * (i % 4) as f64).collect();
        let head: Vec<f64> = base.iter().map(|v| v * 1.2).collect();
        let flat: Vec<f64> = (0..12).map(|i| 50.0 + (i % 3) as f64 * 0.1).collect();
        s.comparison = Some(compare::compare(
            Mode::Paired,
            "revision main (commit 0123456)".into(),
            &[
                MetricSamples {
                    name: "gossip_latency_ms_p50",
                    base: &base,
                    head: &head,
                    base_sessions: &[],
                },
                MetricSamples {
                    name: "formation_time_ms",
                    base: &flat,
                    head: &flat,
                    base_sessions: &[],
                },
            ],
            &GateConfig::default(),
        ));
        s
    }

    #[test]
    fn comment_has_marker_verdict_table_chart_and_links() {
        let links = Links {
            run_url: Some("https://github.com/o/r/actions/runs/42".into()),
            artifact: Some("perf-report".into()),
        };
        let body = render(&compared(), &links, DEFAULT_MAX_CHARS);
        assert!(
            body.starts_with("<!-- swarmbench:perf-comment scenario=small -->\n"),
            "{body}"
        );
        assert!(
            body.contains(
                "❌ **regression** in 1 of 2 gated metrics: `gossip_latency_ms_p50` +20.0%"
            ),
            "{body}"
        );
        assert!(body.contains("| `gossip_latency_ms_p50` |"), "{body}");
        assert!(body.contains("```mermaid\nxychart-beta"), "{body}");
        assert!(
            body.contains("[the workflow run](https://github.com/o/r/actions/runs/42)"),
            "{body}"
        );
        assert!(
            body.contains("<details><summary>Why each verdict</summary>"),
            "{body}"
        );
        assert_eq!(
            body.matches("<details>").count(),
            body.matches("</details>").count()
        );
    }

    #[test]
    fn a_run_without_a_verdict_is_never_green() {
        use crate::report::comparison::fixtures;
        let body = |s: &RunSummary| render(s, &Links::default(), DEFAULT_MAX_CHARS);
        let missing = body(&fixtures::missing_gated_metric());
        assert!(
            missing.contains(
                "· ⛔ **no verdict**: gated metric\\(s\\) the base has were not measured: binary\\_size\\_bytes\n"
            ),
            "{missing}"
        );
        assert!(
            missing.contains(
                "| `binary_size_bytes` | 7.75 M bytes | not measured | - | - | - | - | not measured |"
            ),
            "{missing}"
        );
        for failed in [fixtures::failed(false), fixtures::failed(true)] {
            let text = body(&failed);
            assert!(text.contains("⛔ **no verdict**: the run "), "{text}");
            assert!(text.contains("**incomplete run**"), "{text}");
        }
        for text in [
            missing,
            body(&fixtures::failed(false)),
            body(&fixtures::failed(true)),
            body(&fixtures::nothing_gated()),
        ] {
            assert!(!text.contains('✅'), "{text}");
            assert!(!text.to_lowercase().contains("no regression"), "{text}");
            assert!(!text.contains("all 0 gated"), "{text}");
        }
        assert!(body(&fixtures::nothing_gated()).contains("nothing gated was compared"));
    }

    #[test]
    fn hostile_strings_from_the_artifact_are_inert() {
        let mut s = compared();
        let c = s.comparison.as_mut().unwrap();
        c.base_label = "main <img src=x onerror=alert(1)> @octocat [x](https://evil)".into();
        c.metrics[0].name = "x\"] --> y\n</details><script>".into();
        c.metrics[0].reason = "</details>\n\n# pwned @everyone".into();
        c.warnings
            .push("<!-- swarmbench:perf-comment scenario=other -->".into());
        s.environment.cpu_model = "| cell | split |".into();
        let links = Links {
            run_url: Some("https://evil.example/x)](javascript:alert(1)".into()),
            artifact: Some("a`b".into()),
        };
        let body = render(&s, &links, DEFAULT_MAX_CHARS);
        assert!(
            !body.contains("<img") && !body.contains("<script") && !body.contains("\n# pwned"),
            "{body}"
        );
        assert!(
            !body.contains("@octocat") && !body.contains("@everyone"),
            "{body}"
        );
        assert!(
            !body.contains("javascript:") && !body.contains("](https://evil"),
            "{body}"
        );
        assert_eq!(
            body.matches("<!--").count(),
            1,
            "only our own marker: {body}"
        );
        assert_eq!(
            body.matches("<details>").count(),
            body.matches("</details>").count(),
            "{body}"
        );
        // A name that is not an identifier stays out of the Mermaid chart.
        let chart = body
            .split("```mermaid")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        assert!(!chart.contains("x\\\"") && !chart.contains('<'), "{chart}");
        assert!(!body.contains("| cell | split |"), "{body}");
    }

    #[test]
    fn a_comparison_for_information_only_is_never_a_verdict() {
        let mut s = compared();
        s.testbed = Some(crate::data::env::Testbed::named("box-2c", "test").unwrap());
        s.comparison.as_mut().unwrap().informational =
            Some("baseline recorded on testbed other <b>x</b>".into());
        let body = render(&s, &Links::default(), DEFAULT_MAX_CHARS);
        assert!(
            body.contains("ℹ️ for information only (baseline recorded on testbed other")
                && body.contains("not a verdict; 1 of 2 gated metrics worse beyond the threshold"),
            "{body}"
        );
        assert!(
            !body.contains("**regression**") && !body.contains("✅"),
            "{body}"
        );
        assert!(!body.contains("<b>"), "the reason is escaped: {body}");
        assert!(body.contains("testbed `box-2c`: "), "{body}");
    }

    #[test]
    fn an_oversized_body_is_capped_with_a_note() {
        let mut s = compared();
        let template = s.comparison.as_ref().unwrap().metrics[1].clone();
        for i in 0..2000 {
            let mut m = template.clone();
            m.name = format!("metric_{i}");
            m.reason = "x".repeat(200);
            s.comparison.as_mut().unwrap().metrics.push(m);
        }
        let body = render(&s, &Links::default(), 20_000);
        assert!(
            body.chars().count() <= 20_000,
            "{} chars",
            body.chars().count()
        );
        assert!(
            body.contains("more rows in the artifact's report"),
            "{}",
            &body[body.len() - 500..]
        );
        assert!(body.contains("Truncated to stay under GitHub's comment size limit; left out: "));
        assert!(body.contains("reasons"));
        assert_eq!(
            body.matches("<details>").count(),
            body.matches("</details>").count()
        );
    }
}
