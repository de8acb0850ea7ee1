//! The PR comment body. Its input is a summary read from a report directory that must be
//! treated as hostile (in the fork-safe workflow it is an artifact a pull request's code wrote;
//! [`crate::github::artifact`] reads it with size caps and identifier checks).
//!
//! What that means here: the summary is data, never included verbatim; every string from it
//! is escaped ([`crate::report::escape`]) and shortened; names that go into the hidden marker
//! or a Mermaid chart must be plain identifiers; every number is checked (finite, in a sane
//! range) before it is formatted, and shown as "invalid" otherwise.
//!
//! The header (hidden marker, verdict line, check line, scenario shape) is bounded by
//! construction (every list in it is capped with "and N more", every string shortened) and
//! always kept; the sections after it are left out, with a note, when the body would pass the
//! cap, which is below GitHub's 65,536-character limit. So the marker is always the first line
//! and the verdict always shown.
//!
//! The verdict line is the report's own claim, written by the pull request's run. Next to it
//! the comment states the check's conclusion that GitHub recorded for the workflow run
//! ([`Links::conclusion`], from `workflow_run.conclusion`), and says so when they disagree.

use crate::{
    compare::{Comparison, MetricComparison, Mode, Verdict},
    data::{comparison::NotMeasured, summary::RunSummary},
    report::{
        comparison::{NOT_MEASURED, no_verdict, not_measured_reason},
        escape::{code, is_identifier, markdown_text, truncate},
        format_value,
    },
};

/// GitHub rejects comment bodies over 65,536 characters; stay well below. Bodies are measured
/// in bytes, which are never fewer than characters.
pub const DEFAULT_MAX_CHARS: usize = 60_000;
/// Longest name (metric, scenario, testbed) shown, in characters.
const NAME_CHARS: usize = 80;
/// Longest free text (a reason, a warning, a label) shown, in characters.
const TEXT_CHARS: usize = 300;
/// Regressed metrics named in the verdict line; the rest are counted.
const VERDICT_NAMES: usize = 5;
/// Bars in the chart; the rest are in the table.
const CHART_BARS: usize = 30;
/// Largest relative change shown (+100,000 %); a relative change is never below -100 %.
const MAX_CHANGE: f64 = 1000.0;
/// Largest magnitude of a measured value shown.
const MAX_VALUE: f64 = 1e18;

/// The hidden first line that identifies the sticky comment of a scenario.
pub fn marker(scenario: &str) -> String {
    format!("<!-- swarmbench:perf-comment scenario={scenario} -->")
}

/// What the trusted workflow tells the comment, none of it from the artifact: what to link to,
/// the perf check's conclusion and the commit it ran on.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// The perf workflow run (`https://…/actions/runs/<id>`).
    pub run_url: Option<String>,
    /// Name of the artifact holding the full report and plots.
    pub artifact: Option<String>,
    /// The perf workflow run's conclusion as GitHub recorded it (`workflow_run.conclusion`).
    pub conclusion: Option<Conclusion>,
    /// The commit the perf run was for (`workflow_run.head_sha`).
    pub head_sha: Option<String>,
}

/// A check run's conclusion, as GitHub names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conclusion {
    /// `success`
    Success,
    /// `failure`
    Failure,
    /// `cancelled`
    Cancelled,
    /// `timed_out`
    TimedOut,
    /// `action_required`
    ActionRequired,
    /// `neutral`
    Neutral,
    /// `skipped`
    Skipped,
    /// `stale`
    Stale,
    /// `startup_failure`
    StartupFailure,
}

impl Conclusion {
    /// GitHub's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Cancelled => "cancelled",
            Conclusion::TimedOut => "timed_out",
            Conclusion::ActionRequired => "action_required",
            Conclusion::Neutral => "neutral",
            Conclusion::Skipped => "skipped",
            Conclusion::Stale => "stale",
            Conclusion::StartupFailure => "startup_failure",
        }
    }
}

/// Why a comment has no report to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoReport {
    /// The run left no report (no artifact, or no summary in it).
    Missing,
    /// The artifact was there and refused; the reason is shown escaped.
    Refused(String),
}

/// A body built from sections in priority order: the header always, then each section that
/// still fits under the cap.
struct Body {
    text: String,
    max: usize,
    omitted: Vec<&'static str>,
}

/// Room kept for the truncation note.
const NOTE_ROOM: usize = 400;

impl Body {
    /// The header: bounded by construction, never left out.
    fn new(header: String, max: usize) -> Self {
        Self {
            text: header,
            max,
            omitted: Vec::new(),
        }
    }

    fn push(&mut self, name: &'static str, section: &str) {
        if self.text.len() + section.len() + NOTE_ROOM <= self.max {
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
    let mut body = Body::new(header(summary, links), max_chars);
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
        body.push("reasons", &reasons(c, max_chars / 4));
    }
    body.push("measurements", &measurements(summary, max_chars / 4));
    body.push("environment", &environment(summary));
    body.finish()
}

/// The comment of a run that left no usable report: it replaces a stale verdict.
pub fn render_no_report(scenario: &str, links: &Links, why: &NoReport) -> String {
    let commit = links
        .head_sha
        .as_deref()
        .map_or("this commit".to_owned(), |sha| code(&truncate(sha, 40)));
    let reason = match why {
        NoReport::Missing => "The perf run left no report (no artifact, or no `summary.json` in it): nothing was measured that a verdict could rest on.".to_owned(),
        NoReport::Refused(reason) => format!(
            "The report in the artifact was refused: {}.",
            markdown_text(&truncate(reason, TEXT_CHARS))
        ),
    };
    let mut text = format!(
        "{}\n### swarmbench · {} · ⛔ no report for {commit}\n\n{}\n\n{reason} An earlier verdict in this comment no longer applies.\n\n",
        marker(scenario),
        code(&truncate(scenario, NAME_CHARS)),
        check_line(links.conclusion, None),
    );
    if let Some(url) = links.run_url.as_deref().filter(|u| is_safe_url(u)) {
        text.push_str(&format!(
            "What happened is in [the workflow run]({url}).\n\n"
        ));
    }
    text
}

/// What the report says about the gate, to set against the check's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportSays {
    /// Nothing that fails the gate (no regression, information only, not compared).
    Passes,
    /// A regression.
    Regressed,
    /// No verdict (a failed or incomplete run): the perf command exits 3.
    NoVerdict,
}

fn report_says(summary: &RunSummary) -> ReportSays {
    if no_verdict(summary).is_some() {
        ReportSays::NoVerdict
    } else if summary
        .comparison
        .as_ref()
        .is_some_and(Comparison::fails_gate)
    {
        ReportSays::Regressed
    } else {
        ReportSays::Passes
    }
}

/// Marker, verdict line, check line and shape: never left out, so bounded by construction.
fn header(summary: &RunSummary, links: &Links) -> String {
    let s = &summary.scenario;
    let shape = if s.nodes == 0 {
        format!(
            "{}, {} samples",
            markdown_text(&truncate(&s.topology, NAME_CHARS)),
            summary.repetitions_done
        )
    } else {
        format!(
            "{} nodes, {}, {}",
            s.nodes,
            markdown_text(&truncate(&s.transport, NAME_CHARS)),
            super::repetitions_text(summary.repetitions_done, s.repetitions, "repetitions")
        )
    };
    format!(
        "{}\n### swarmbench · {} · {}\n\n{}\n\n{shape}{}.\n\n",
        marker(&s.name),
        code(&truncate(&s.name, NAME_CHARS)),
        verdict_line(summary),
        check_line(links.conclusion, Some(report_says(summary))),
        if summary.complete {
            ""
        } else {
            " — **incomplete run**"
        }
    )
}

/// GitHub's conclusion of the perf check, and whether the report agrees with it.
fn check_line(conclusion: Option<Conclusion>, report: Option<ReportSays>) -> String {
    let Some(conclusion) = conclusion else {
        return "**Check:** not known here (no workflow run given): the verdict above is the report's own.".into();
    };
    let icon = match conclusion {
        Conclusion::Success => "✅",
        Conclusion::Failure | Conclusion::TimedOut | Conclusion::StartupFailure => "❌",
        _ => "⚠️",
    };
    let mut line = format!(
        "**Check:** {icon} `{}` (the perf workflow run's conclusion, as GitHub recorded it{})",
        conclusion.as_str(),
        if report.is_some() {
            "; the verdict above is the report's, written by the pull request's run"
        } else {
            ""
        }
    );
    let disagreement = match (conclusion, report) {
        (Conclusion::Success, Some(ReportSays::Regressed)) => {
            Some("the check passed, but the report claims a regression")
        }
        (Conclusion::Success, Some(ReportSays::NoVerdict)) => {
            Some("the check passed, but the report has no verdict")
        }
        (Conclusion::Failure, Some(ReportSays::Passes)) => Some(
            "the check failed, but the report shows no regression (a step outside the comparison may have failed: see the run)",
        ),
        _ => None,
    };
    if let Some(d) = disagreement {
        line.push_str(&format!(
            ".\n\n> ⚠️ **The report and the check disagree**: {d}. The check is what gates the pull request."
        ));
    } else {
        line.push('.');
    }
    line
}

/// The verdict after the scenario's name: "no verdict" comes first, for a comparison that is
/// none and for a run that did not finish or measured nothing, compared or not.
fn verdict_line(summary: &RunSummary) -> String {
    if let Some(why) = no_verdict(summary) {
        return format!(
            "⛔ **no verdict**: {}",
            markdown_text(&truncate(&why, TEXT_CHARS))
        );
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
            markdown_text(&truncate(why, TEXT_CHARS)),
            regressed.len()
        );
    }
    let inconclusive = c.inconclusive();
    if !regressed.is_empty() {
        let mut names: Vec<String> = regressed
            .iter()
            .take(VERDICT_NAMES)
            .map(|m| format!("{} {}", code(&truncate(&m.name, NAME_CHARS)), pct(m.change)))
            .collect();
        if regressed.len() > VERDICT_NAMES {
            names.push(format!("and {} more", regressed.len() - VERDICT_NAMES));
        }
        format!(
            "❌ **regression** in {} of {gated} gated metrics: {}",
            regressed.len(),
            names.join(", ")
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

/// A relative change that can be one: finite, not below -100 %, not absurdly large.
fn valid_change(x: f64) -> bool {
    x.is_finite() && (-1.0..=MAX_CHANGE).contains(&x)
}

/// A relative change as a percentage; "invalid" when it cannot be one.
fn pct(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(v) if valid_change(v) => format!("{:+.1}%", v * 100.0),
        Some(_) => "invalid".into(),
    }
}

/// A probability; "invalid" outside [0, 1].
fn probability(p: Option<f64>) -> String {
    match p {
        None => "-".into(),
        Some(p) if p.is_finite() && (0.0..=1.0).contains(&p) => format!("{p:.4}"),
        Some(_) => "invalid".into(),
    }
}

/// A non-negative relative size (threshold, MDE) as a percentage; "invalid" otherwise.
fn relative(x: f64) -> String {
    if x.is_finite() && (0.0..=MAX_CHANGE).contains(&x) {
        format!("{:.1}%", x * 100.0)
    } else {
        "invalid".into()
    }
}

fn method(c: &Comparison) -> String {
    let how = match c.mode {
        Mode::Paired => "paired ABBA runs, Wilcoxon signed-rank on per-pair log-ratios",
        Mode::Unpaired => "unpaired, Mann–Whitney U against the stored baseline",
    };
    let alpha = if c.alpha.is_finite() && c.alpha > 0.0 && c.alpha < 1.0 {
        c.alpha.to_string()
    } else {
        "invalid".into()
    };
    format!(
        "Base: {} ({how}). Regression = Holm-adjusted p < {alpha} **and** a change beyond the threshold; \"unchanged\" only when the test could have seen such a change.",
        markdown_text(&truncate(&c.base_label, TEXT_CHARS)),
    )
}

fn value(v: f64, unit: &str) -> String {
    if v.is_finite() && v.abs() <= MAX_VALUE {
        format!(
            "{} {}",
            format_value(v, unit),
            markdown_text(&truncate(unit, 20))
        )
    } else {
        "invalid".into()
    }
}

fn name(m: &str) -> String {
    code(&truncate(m, NAME_CHARS))
}

fn row(m: &MetricComparison) -> String {
    let verdict = match (m.verdict, m.mde) {
        (Verdict::Regressed, _) => "❌ regressed".to_owned(),
        (Verdict::Improved, _) => "🚀 improved".to_owned(),
        (Verdict::Unchanged, Some(mde)) => format!("unchanged (MDE {})", relative(mde)),
        (v, _) => v.to_string(),
    };
    let ci = match m.change_ci {
        None => "-".into(),
        Some(ci) if valid_change(ci.low) && valid_change(ci.high) && ci.low <= ci.high => {
            format!("{} … {}", pct(Some(ci.low)), pct(Some(ci.high)))
        }
        Some(_) => "invalid".into(),
    };
    format!(
        "| {}{} | {} | {} | {} | {} | {} | {} | {} |\n",
        name(&m.name),
        if m.gated { "" } else { " (info)" },
        value(m.base_median, &m.unit),
        value(m.head_median, &m.unit),
        pct(m.change),
        ci,
        probability(m.p_adjusted.or(m.p_regression)),
        match relative(m.threshold) {
            t if t.ends_with('%') => format!("±{t}"),
            invalid => invalid,
        },
        verdict
    )
}

/// The row of a metric the base has and the head did not measure.
fn not_measured_row(m: &NotMeasured) -> String {
    format!(
        "| {}{} | {} | {NOT_MEASURED} | - | - | - | - | {NOT_MEASURED} |\n",
        name(&m.name),
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
        if out.len() + r.len() + 100 > max {
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

/// Why each verdict, capped at `max` bytes with the rest counted.
fn reasons(c: &Comparison, max: usize) -> String {
    let lines = c
        .metrics
        .iter()
        .map(|m| {
            format!(
                "- {}: {}\n",
                name(&m.name),
                markdown_text(&truncate(&m.reason, TEXT_CHARS))
            )
        })
        .chain(c.not_measured.iter().map(|m| {
            format!(
                "- {}: {}\n",
                name(&m.name),
                markdown_text(&truncate(&not_measured_reason(m), TEXT_CHARS))
            )
        }))
        .chain(
            c.warnings
                .iter()
                .map(|w| format!("- warning: {}\n", markdown_text(&truncate(w, TEXT_CHARS)))),
        );
    let mut out = String::from("<details><summary>Why each verdict</summary>\n\n");
    out.push_str(&capped_lines(lines, max));
    out.push_str("\n</details>\n\n");
    out
}

/// Lines up to `max` bytes, then "and N more".
fn capped_lines(lines: impl Iterator<Item = String>, max: usize) -> String {
    let mut out = String::new();
    let mut left_out = 0usize;
    for line in lines {
        if left_out == 0 && out.len() + line.len() + 100 <= max {
            out.push_str(&line);
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        out.push_str(&format!(
            "\nand {left_out} more in the artifact's report.\n"
        ));
    }
    out
}

/// A Mermaid bar chart of the gated changes; only identifier-named metrics can be labels.
///
/// Mermaid's xychart draws every bar up from the bottom of the plot area, that is from the
/// y-axis minimum, not from zero: on a -20..20 axis an unchanged metric gets a half-height bar
/// and a drop a short one. So the axis starts at 0 and bars are sizes of change, in two series
/// from 0: the first how much larger the head is, the second how much smaller (each metric has
/// one non-zero bar); the label's sign says which. This holds for the Mermaid versions that
/// have xychart (10.3 on; GitHub's docs name none, they render whatever `mermaid info` says):
/// `BarPlot` draws from the plot's bottom edge in 10.x and 11.x alike.
fn mermaid(c: &Comparison) -> String {
    let bars: Vec<(&str, f64)> = c
        .metrics
        .iter()
        .filter(|m| m.gated && is_identifier(&m.name))
        .filter_map(|m| {
            m.change
                .filter(|&v| valid_change(v))
                .map(|v| (m.name.as_str(), (v * 1000.0).round() / 10.0))
        })
        .take(CHART_BARS)
        .collect();
    if bars.is_empty() {
        return String::new();
    }
    let top = bars
        .iter()
        .fold(10.0f64, |acc, (_, v)| acc.max(v.abs()))
        .ceil();
    let series = |keep: fn(f64) -> bool| {
        bars.iter()
            .map(|&(_, v)| if keep(v) { v.abs() } else { 0.0 }.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "```mermaid\nxychart-beta\n    title \"Size of change vs base (%), gated metrics: + larger, - smaller\"\n    x-axis [{}]\n    y-axis \"|change| %\" 0 --> {top}\n    bar [{}]\n    bar [{}]\n```\n\n",
        bars.iter()
            .map(|&(n, v)| format!("\"{}{n}\"", if v < 0.0 { "- " } else { "+ " }))
            .collect::<Vec<_>>()
            .join(", "),
        series(|v| v > 0.0),
        series(|v| v < 0.0),
    )
}

fn links_line(links: &Links) -> String {
    let run = links
        .run_url
        .as_deref()
        .filter(|u| is_safe_url(u))
        .map(|u| format!("[the workflow run]({u})"));
    let artifact = links
        .artifact
        .as_deref()
        .map(|a| code(&truncate(a, NAME_CHARS)));
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

fn measurements(summary: &RunSummary, max: usize) -> String {
    let mut out = String::from(
        "<details><summary>Measurements of this run</summary>\n\n| metric | median | min | max | n |\n|---|---:|---:|---:|---:|\n",
    );
    let rows = summary.metrics.iter().filter_map(|m| {
        let st = m.summary.as_ref()?;
        Some(format!(
            "| {} | {} | {} | {} | {} |\n",
            name(&m.name),
            value(st.median, &m.unit),
            value(st.min, &m.unit),
            value(st.max, &m.unit),
            st.n
        ))
    });
    out.push_str(&capped_lines(rows, max));
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
            .map_or(String::new(), |t| format!("testbed {}: ", name(t.as_str()))),
        markdown_text(&truncate(&e.cpu_model, NAME_CHARS)),
        e.cores,
        markdown_text(&truncate(&e.os, NAME_CHARS)),
        markdown_text(&truncate(&e.kernel, NAME_CHARS)),
        markdown_text(&truncate(&e.rustc, NAME_CHARS)),
        markdown_text(&truncate(&e.network_backend, NAME_CHARS)),
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

    fn links(conclusion: Option<Conclusion>) -> Links {
        Links {
            run_url: Some("https://github.com/o/r/actions/runs/42".into()),
            artifact: Some("perf-report".into()),
            conclusion,
            head_sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
        }
    }

    /// Marker first, the verdict line in the first lines, under the cap.
    fn assert_header_intact(body: &str, verdict: &str) {
        assert!(
            body.starts_with(
                "<!-- swarmbench:perf-comment scenario=small -->\n### swarmbench · `small` · "
            ),
            "{}",
            &body[..body.len().min(500)]
        );
        let head: String = body.lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(head.contains(verdict), "{head}");
        assert!(body.len() <= DEFAULT_MAX_CHARS, "{} bytes", body.len());
        assert!(body.contains("**Check:**"), "{}", &body[..1000]);
    }

    #[test]
    fn the_header_survives_hostile_sizes_and_lists_are_capped() {
        let huge = "x".repeat(1 << 20);
        // A 1 MB metric name that regressed.
        let mut s = compared();
        s.comparison.as_mut().unwrap().metrics[0].name = huge.clone();
        let body = render(&s, &links(Some(Conclusion::Failure)), DEFAULT_MAX_CHARS);
        assert_header_intact(&body, "❌ **regression** in 1 of 2 gated metrics: `xxxx");
        // A 1 MB transport string.
        let mut s = compared();
        s.scenario.transport = huge.clone();
        s.scenario.topology = huge.clone();
        let body = render(&s, &links(Some(Conclusion::Failure)), DEFAULT_MAX_CHARS);
        assert_header_intact(&body, "❌ **regression**");
        // 40,000 regressed metrics.
        let mut s = compared();
        let c = s.comparison.as_mut().unwrap();
        let template = c.metrics[0].clone();
        c.metrics = (0..40_000)
            .map(|i| {
                let mut m = template.clone();
                m.name = format!("m{i}_{}", "y".repeat(100));
                m.reason = "z".repeat(10_000);
                m
            })
            .collect();
        let body = render(&s, &links(Some(Conclusion::Failure)), DEFAULT_MAX_CHARS);
        assert_header_intact(&body, "❌ **regression** in 40000 of 40000 gated metrics: ");
        let first_lines: String = body.lines().take(3).collect();
        assert!(first_lines.contains(", and 39995 more"), "{first_lines}");
        assert!(first_lines.len() < 2_000, "{first_lines}");
        assert!(body.contains("more rows in the artifact's report"));
        assert_eq!(
            body.matches("<details>").count(),
            body.matches("</details>").count()
        );
        // A 1 MB reason for no verdict, and a small cap: the header stays whole.
        let mut s = compared();
        s.complete = false;
        s.failures.push(crate::data::summary::Failure {
            repetition: 1,
            warmup: false,
            message: huge.clone(),
        });
        let body = render(&s, &links(Some(Conclusion::Failure)), 3_000);
        assert!(body.starts_with(&marker("small")));
        assert!(
            body.contains("⛔ **no verdict**: the run did not finish"),
            "{body}"
        );
        assert!(body.len() <= 3_000, "{}", body.len());
        assert!(body.contains("Truncated to stay under GitHub's comment size limit"));
    }

    #[test]
    fn the_checks_conclusion_is_stated_and_a_disagreement_said() {
        let body = render(
            &compared(),
            &links(Some(Conclusion::Failure)),
            DEFAULT_MAX_CHARS,
        );
        assert!(body.contains("**Check:** ❌ `failure`"), "{body}");
        assert!(!body.contains("disagree"), "{body}");
        // The report claims a regression, the check passed.
        let body = render(
            &compared(),
            &links(Some(Conclusion::Success)),
            DEFAULT_MAX_CHARS,
        );
        assert!(body.contains("**Check:** ✅ `success`"), "{body}");
        assert!(
            body.contains("**The report and the check disagree**: the check passed, but the report claims a regression"),
            "{body}"
        );
        // The report shows no regression, the check failed.
        let mut s = compared();
        s.comparison.as_mut().unwrap().metrics.remove(0);
        let body = render(&s, &links(Some(Conclusion::Failure)), DEFAULT_MAX_CHARS);
        assert!(
            body.contains("the check failed, but the report shows no regression"),
            "{body}"
        );
        // A failed run's report says no verdict; the check passed: disagreement.
        let body = render(
            &crate::report::comparison::fixtures::failed(true),
            &links(Some(Conclusion::Success)),
            DEFAULT_MAX_CHARS,
        );
        assert!(body.contains("the report has no verdict"), "{body}");
        // Without a workflow run, the comment says the verdict is the report's own.
        let body = render(&compared(), &Links::default(), DEFAULT_MAX_CHARS);
        assert!(body.contains("**Check:** not known here"), "{body}");
    }

    #[test]
    fn a_missing_or_refused_report_replaces_the_verdict() {
        let body = render_no_report(
            "standard",
            &links(Some(Conclusion::Failure)),
            &NoReport::Missing,
        );
        assert!(
            body.starts_with(
                "<!-- swarmbench:perf-comment scenario=standard -->\n### swarmbench · `standard` · ⛔ no report for `0123456789abcdef0123456789abcdef01234567`\n"
            ),
            "{body}"
        );
        assert!(body.contains("**Check:** ❌ `failure`"), "{body}");
        assert!(body.contains("no longer applies"), "{body}");
        assert!(
            body.contains("(the perf workflow run's conclusion, as GitHub recorded it).")
                && body.contains("[the workflow run](https://github.com/o/r/actions/runs/42)")
                && !body.contains("verdict above")
                && !body.contains("Full report"),
            "{body}"
        );
        let body = render_no_report(
            "standard",
            &links(Some(Conclusion::Success)),
            &NoReport::Refused(format!("<script>{}", "x".repeat(1 << 20))),
        );
        assert!(!body.contains("<script"), "{body}");
        assert!(body.len() < 2_000, "{}", body.len());
        assert!(
            !body.contains('✅') || body.contains("**Check:** ✅"),
            "{body}"
        );
    }

    #[test]
    fn impossible_numbers_render_as_invalid() {
        let mut s = compared();
        let c = s.comparison.as_mut().unwrap();
        c.alpha = f64::NAN;
        let m = &mut c.metrics[0];
        m.change = Some(f64::INFINITY);
        m.threshold = f64::INFINITY;
        m.p_adjusted = Some(-5.0);
        m.base_median = f64::NEG_INFINITY;
        m.change_ci = Some(crate::stats::bootstrap::Interval {
            low: 3.0,
            high: -2.0,
        });
        let m = &mut c.metrics[1];
        m.change = Some(-7.0);
        m.mde = Some(f64::NAN);
        m.head_median = 1e300;
        let body = render(&s, &links(None), DEFAULT_MAX_CHARS);
        for bad in ["inf", "NaN", "-5.0000", "-700.0%", "e300", "1e300"] {
            assert!(!body.contains(bad), "{bad} in {body}");
        }
        assert!(body.contains("`gossip_latency_ms_p50` invalid"), "{body}");
        assert!(body.contains("p < invalid"), "{body}");
        assert!(
            body.contains("| invalid | invalid | invalid | invalid |"),
            "{body}"
        );
    }

    #[test]
    fn chart_bars_start_at_zero() {
        let mut s = compared();
        let c = s.comparison.as_mut().unwrap();
        let template = c.metrics[1].clone();
        c.metrics.clear();
        for (name, change) in [("flat", 0.0), ("up", 0.078), ("down", -0.137)] {
            let mut m = template.clone();
            m.name = name.into();
            m.change = Some(change);
            c.metrics.push(m);
        }
        let body = render(&s, &links(None), DEFAULT_MAX_CHARS);
        let chart = body
            .split("```mermaid\n")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        assert_eq!(
            chart,
            "xychart-beta\n    title \"Size of change vs base (%), gated metrics: + larger, - smaller\"\n    x-axis [\"+ flat\", \"+ up\", \"- down\"]\n    y-axis \"|change| %\" 0 --> 14\n    bar [0, 7.8, 0]\n    bar [0, 0, 13.7]\n",
        );
        // Mermaid's BarPlot (10.x and 11.x): a bar reaches from the plot's bottom edge, the
        // axis minimum, up to the value's scaled position. With that geometry on this chart's
        // axis, a bar's height is proportional to the size of its change and 0 % draws none.
        let (min, max) = (0.0, 14.0);
        let plot_height = 400.0;
        let height = |v: f64| plot_height * (v - min) / (max - min);
        let series: Vec<Vec<f64>> = chart
            .lines()
            .filter_map(|l| l.trim().strip_prefix("bar ["))
            .map(|l| {
                l.trim_end_matches(']')
                    .split(", ")
                    .map(|v| v.parse().unwrap())
                    .collect()
            })
            .collect();
        let drawn: Vec<f64> = (0..3)
            .map(|i| series.iter().map(|s| height(s[i])).fold(0.0, f64::max))
            .collect();
        assert_eq!(drawn[0], 0.0);
        assert!((drawn[1] / drawn[2] - 7.8 / 13.7).abs() < 1e-9, "{drawn:?}");
    }

    #[test]
    fn comment_has_marker_verdict_table_chart_and_links() {
        let body = render(&compared(), &links(None), DEFAULT_MAX_CHARS);
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
            ..Links::default()
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
        // The reasons are capped inside their section, with the rest counted.
        assert!(
            body.contains(" more in the artifact's report.\n\n</details>"),
            "{body}"
        );
        assert_eq!(
            body.matches("<details>").count(),
            body.matches("</details>").count()
        );
    }
}
