//! The table printed at the end of a run.

use std::path::Path;

use crate::{
    data::{comparison::Comparison, summary::RunSummary},
    report::{comparison, format_value},
};

/// What `perf` and `bench` print after a run: the metric table, the comparison when there
/// is one, the verdict line (which says "no verdict" for a run that did not finish, compared
/// or not), and where the full report went.
pub fn run_result(
    summary: &RunSummary,
    comparison: Option<&Comparison>,
    report_md: &Path,
    color: bool,
) -> String {
    let mut out = render(summary);
    if let Some(c) = comparison {
        out.push_str(&render_comparison(c, color));
    }
    if let Some(line) = comparison::verdict_line(summary, comparison) {
        out.push_str(&format!("{line}\n"));
    }
    out.push_str(&format!("report: {}\n", report_md.display()));
    out
}

/// A plain-text table: metric, median, range, noise, unit.
pub fn render(summary: &RunSummary) -> String {
    let mut rows = vec![[
        "metric".to_owned(),
        "median".into(),
        "min … max".into(),
        "noise".into(),
        "unit".into(),
    ]];
    for m in &summary.metrics {
        let Some(s) = &m.summary else { continue };
        rows.push([
            m.name.clone(),
            format_value(s.median, &m.unit),
            format!(
                "{} … {}",
                format_value(s.min, &m.unit),
                format_value(s.max, &m.unit)
            ),
            if s.n > 1 {
                format!("±{:.1}%", s.rel_mad * 100.0)
            } else {
                "-".into()
            },
            m.unit.clone(),
        ]);
    }
    let s = &summary.scenario;
    // A micro-benchmark run has no cluster: its shape is the harness and the sample count.
    let shape = if s.nodes == 0 {
        format!("{} · {} samples", s.topology, summary.repetitions_done)
    } else {
        format!(
            "{} nodes · {} · {} · {}",
            s.nodes,
            s.topology,
            s.transport,
            super::repetitions_text(summary.repetitions_done, s.repetitions, "repetitions")
        )
    };
    let mut out = format!(
        "{} · {shape}{}\n",
        s.name,
        if summary.complete {
            ""
        } else {
            " · INCOMPLETE"
        }
    );
    // Names and units read left to right; numbers line up on the right.
    push_table(&mut out, &rows, [false, true, true, true, false]);
    out.push_str("noise = median absolute deviation / median over repetitions\n");
    if !summary.breakdown.is_empty() {
        let mut rows = vec![[
            "by implementation pair".to_owned(),
            "from → to".into(),
            "p50".into(),
            "p99".into(),
            "n".into(),
        ]];
        for r in &summary.breakdown {
            rows.push([
                r.metric.clone(),
                if r.to.is_empty() {
                    r.from.clone()
                } else {
                    format!("{} → {}", r.from, r.to)
                },
                format_value(r.p50, &r.unit),
                format_value(r.p99, &r.unit),
                r.n.to_string(),
            ]);
        }
        out.push('\n');
        push_table(&mut out, &rows, [false, false, true, true, true]);
        out.push_str("gossip: publisher → receiver; dht_get_ms: the node that answered → the getter; uss_idle_mb: per node (information, not gated)\n");
    }
    for f in &summary.failures {
        out.push_str(&format!(
            "FAILURE (repetition {}): {}\n",
            f.repetition, f.message
        ));
    }
    out
}

/// The comparison table, with verdicts coloured when `color` is set, then its warnings.
/// Metrics the head did not measure close the table, saying so.
pub fn render_comparison(c: &Comparison, color: bool) -> String {
    use crate::compare::Verdict;
    let headers = comparison::HEADERS.map(str::to_owned);
    let rows: Vec<[String; 8]> = std::iter::once(headers)
        .chain(c.metrics.iter().map(comparison::row))
        .chain(c.not_measured.iter().map(comparison::not_measured_row))
        .collect();
    let (lines, width) = lay_out(&rows, [false; 8]);
    let mut out = format!("\n{}\n{}\n", lines[0], "-".repeat(width));
    let colors = c
        .metrics
        .iter()
        .map(|m| match m.verdict {
            Verdict::Regressed => "31",
            Verdict::Improved => "32",
            Verdict::Inconclusive => "33",
            Verdict::Unchanged => "",
        })
        .chain(c.not_measured.iter().map(|_| "33"));
    for (code, text) in colors.zip(&lines[1..]) {
        if color && !code.is_empty() {
            out.push_str(&format!("\x1b[{code}m{text}\x1b[0m\n"));
        } else {
            out.push_str(text);
            out.push('\n');
        }
    }
    for w in &c.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

/// Appends `rows` laid out (see [`lay_out`]), the first row underlined as the header.
fn push_table<const N: usize>(out: &mut String, rows: &[[String; N]], right: [bool; N]) {
    let (lines, width) = lay_out(rows, right);
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(width));
            out.push('\n');
        }
    }
}

/// Pads every cell to its column's width (right-aligned where `right[c]`) and joins the cells
/// with two spaces. Returns the lines and the full table width, for separators.
fn lay_out<const N: usize>(rows: &[[String; N]], right: [bool; N]) -> (Vec<String>, usize) {
    let widths: [usize; N] =
        std::array::from_fn(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0));
    let lines = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths.iter().zip(right))
                .map(|(cell, (&w, right))| {
                    if right {
                        format!("{cell:>w$}")
                    } else {
                        format!("{cell:<w$}")
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect();
    (
        lines,
        widths.iter().sum::<usize>() + 2 * N.saturating_sub(1),
    )
}

/// `cargo xtask perf list`: every shipped scenario with its size, topology and description,
/// or why it does not parse.
pub fn scenario_list() -> String {
    let mut out = String::new();
    for name in crate::scenario::shipped_names() {
        match crate::scenario::resolve(&name) {
            Ok(s) => out.push_str(&format!(
                "{name:<12} {:>4} nodes  {:<8} {}\n",
                s.nodes,
                s.topology.to_string(),
                s.description
            )),
            Err(e) => out.push_str(&format!("{name:<12} invalid: {e}\n")),
        }
    }
    out
}

/// `cargo xtask perf metrics`: every metric with its unit, direction and definition.
pub fn metric_list() -> String {
    crate::data::metrics::ALL
        .iter()
        .map(|m| {
            format!(
                "{:<36} {:<12} {:?}\n    {}\n",
                m.name, m.unit, m.direction, m.definition
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::comparison::fixtures;

    fn printed(summary: &RunSummary) -> String {
        run_result(
            summary,
            summary.comparison.as_ref(),
            Path::new("out/report.md"),
            false,
        )
    }

    #[test]
    fn a_run_without_a_verdict_says_so_and_never_no_regression() {
        let missing = printed(&fixtures::missing_gated_metric());
        assert!(
            missing.contains(
                "\nNO VERDICT: gated metric(s) the base has were not measured: binary_size_bytes\n"
            ),
            "{missing}"
        );
        let row = missing
            .lines()
            .find(|l| l.starts_with("binary_size_bytes "))
            .unwrap();
        assert!(
            row.contains("not measured") && row.trim_end().ends_with("not measured"),
            "{row}"
        );
        for failed in [fixtures::failed(false), fixtures::failed(true)] {
            let text = printed(&failed);
            assert!(text.contains("NO VERDICT: the run "), "{text}");
            assert!(text.contains("INCOMPLETE"), "{text}");
        }
        for text in [
            missing,
            printed(&fixtures::failed(false)),
            printed(&fixtures::failed(true)),
            printed(&fixtures::nothing_gated()),
        ] {
            assert!(!text.to_lowercase().contains("no regression"), "{text}");
        }
        // A finished run that was not compared has no verdict line at all.
        let plain = printed(&fixtures::measured());
        assert!(
            !plain.contains("VERDICT") && !plain.contains("regression"),
            "{plain}"
        );
    }

    #[test]
    fn numbers_line_up_under_their_header() {
        let summary: RunSummary =
            serde_json::from_str(include_str!("../../tests/fixtures/summary-small.json")).unwrap();
        let table = render(&summary);
        let lines: Vec<&str> = table.lines().collect();
        let header = lines[1];
        assert!(header.starts_with("metric"), "{table}");
        // The median column is right-aligned: every value ends where the header word ends.
        let median_end = header.find("median").unwrap() + "median".len();
        let row = lines
            .iter()
            .find(|l| l.starts_with("formation_time_ms"))
            .unwrap();
        let value = format_value(
            summary
                .metric("formation_time_ms")
                .unwrap()
                .summary
                .as_ref()
                .unwrap()
                .median,
            "ms",
        );
        assert_eq!(&row[median_end - value.len()..median_end], value, "{table}");
        let widest = lines[3..]
            .iter()
            .filter(|l| !l.starts_with("noise"))
            .map(|l| l.chars().count())
            .max();
        assert_eq!(
            Some(lines[2].chars().count()),
            widest,
            "the separator spans the table: {table}"
        );
    }
}
