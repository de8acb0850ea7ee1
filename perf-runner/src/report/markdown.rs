//! `report.md`: the human-readable report of one run, one function per section.

use crate::{
    data::summary::RunSummary,
    report::{comparison, format_value},
};

/// Renders the report.
pub fn render(summary: &RunSummary) -> String {
    let mut out = String::new();
    header(summary, &mut out);
    verdict(summary, &mut out);
    measurements(summary, &mut out);
    breakdown(summary, &mut out);
    failures(summary, &mut out);
    plots(summary, &mut out);
    notes(summary, &mut out);
    definitions(summary, &mut out);
    out
}

/// Title, what was run, and on which machine and revision.
fn header(summary: &RunSummary, out: &mut String) {
    let s = &summary.scenario;
    out.push_str(&format!("# swarmbench: {}\n\n", s.name));
    if s.nodes == 0 {
        out.push_str(&format!(
            "Micro-benchmarks (`benches/`): instruction counts from one callgrind run per case, wall times from {} criterion samples per case.\n\n",
            summary.repetitions_done
        ));
    } else {
        out.push_str(&format!(
            "{} nodes, topology {}, transport {}, {} (each a fresh cluster) after {} warm-up.{}\n\n",
            s.nodes,
            s.topology,
            s.transport,
            super::repetitions_text(summary.repetitions_done, s.repetitions, "measured repetitions"),
            s.warmup,
            if summary.complete { "" } else { " **Incomplete run: interrupted or failed; the numbers cover the repetitions that finished.**" }
        ));
    }
    out.push_str(&format!(
        "{}Machine: {} ({} cores), {}, kernel {}, {}; network: {}. Revision {}{}. Node binary: `{}`.\n\n",
        summary
            .testbed
            .as_ref()
            .map_or(String::new(), |t| format!("Testbed: `{t}`. ")),
        summary.environment.cpu_model,
        summary.environment.cores,
        summary.environment.os,
        summary.environment.kernel,
        summary.environment.rustc,
        summary.environment.network_backend,
        crate::data::env::short_commit(&summary.revision.commit),
        if summary.revision.dirty { " (with uncommitted changes)" } else { "" },
        summary.node_bin
    ));
}

/// The verdict of a comparison, when the run has one: headline, table, chart and reasons. A
/// run that did not finish or measured nothing says "no verdict" here, compared or not.
fn verdict(summary: &RunSummary, out: &mut String) {
    let Some(line) = comparison::verdict_line(summary, summary.comparison.as_ref()) else {
        return;
    };
    let informational = summary
        .comparison
        .as_ref()
        .is_some_and(|c| c.informational.is_some() && c.no_verdict.is_none());
    let title = if informational {
        "Comparison for information only"
    } else {
        "Verdict"
    };
    out.push_str(&format!("## {title}\n\n**{line}**\n\n"));
    if let Some(c) = &summary.comparison {
        out.push_str(&format!("{}\n\n", comparison::method(c)));
        for w in &c.warnings {
            out.push_str(&format!("> Warning: {w}\n\n"));
        }
        out.push_str(&format!(
            "| {} |\n|{}\n",
            comparison::HEADERS.join(" | "),
            "---|".repeat(comparison::HEADERS.len())
        ));
        for m in &c.metrics {
            out.push_str(&format!("| {} |\n", comparison::row(m).join(" | ")));
        }
        for m in &c.not_measured {
            out.push_str(&format!(
                "| {} |\n",
                comparison::not_measured_row(m).join(" | ")
            ));
        }
        out.push('\n');
        out.push_str(&comparison::mermaid(c));
        out.push_str("\n<details><summary>Why each verdict</summary>\n\n");
        for m in &c.metrics {
            out.push_str(&format!("- `{}`: {}\n", m.name, m.reason));
        }
        for m in &c.not_measured {
            out.push_str(&format!(
                "- `{}`: {}\n",
                m.name,
                comparison::not_measured_reason(m)
            ));
        }
        out.push_str("\n</details>\n\n");
    }
    out.push_str("## Measurements\n\n");
}

/// Every metric's median, range and noise.
fn measurements(summary: &RunSummary, out: &mut String) {
    out.push_str(
        "| metric | median | min | max | noise | n | unit |\n|---|---:|---:|---:|---:|---:|---|\n",
    );
    for m in &summary.metrics {
        let Some(st) = &m.summary else { continue };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            m.name,
            format_value(st.median, &m.unit),
            format_value(st.min, &m.unit),
            format_value(st.max, &m.unit),
            if st.n > 1 {
                format!("±{:.1}%", st.rel_mad * 100.0)
            } else {
                "-".into()
            },
            st.n,
            m.unit
        ));
    }
    out.push_str("\nnoise: median absolute deviation over repetitions, relative to the median.\n");
}

/// A mixed network's latencies per implementation pair, when it has them.
fn breakdown(summary: &RunSummary, out: &mut String) {
    if summary.breakdown.is_empty() {
        return;
    }
    out.push_str("\n## By implementation pair\n\n");
    out.push_str("Over every delivery and get of the measured repetitions, for information (not gated). Gossip: publisher → receiver; DHT get: the node that answered → the getter; `uss_idle_mb`: each node's private memory after the idle window, by its implementation.\n\n");
    out.push_str("| metric | from | to | p50 | p99 | n |\n|---|---|---|---:|---:|---:|\n");
    for row in &summary.breakdown {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            row.metric,
            super::escape::code(&row.from),
            if row.to.is_empty() {
                "(per node)".to_owned()
            } else {
                super::escape::code(&row.to)
            },
            format_value(row.p50, &row.unit),
            format_value(row.p99, &row.unit),
            row.n
        ));
    }
}

/// The failed repetitions with their messages.
fn failures(summary: &RunSummary, out: &mut String) {
    if !summary.failures.is_empty() {
        out.push_str("\n## Failures\n\n");
        for f in &summary.failures {
            out.push_str(&format!(
                "- repetition {}{}:\n\n{}",
                f.repetition,
                if f.warmup { " (warm-up)" } else { "" },
                super::escape::code_block(&f.message)
            ));
        }
    }
}

/// The SVG plots, when there are any.
fn plots(summary: &RunSummary, out: &mut String) {
    let svgs: Vec<&String> = summary
        .plots
        .iter()
        .filter(|p| p.ends_with(".svg"))
        .collect();
    if !svgs.is_empty() {
        out.push_str("\n## Plots\n\n");
        for plot in svgs {
            out.push_str(&format!("![{plot}]({plot})\n\n"));
        }
        out.push_str("PNG versions sit beside the SVGs.\n");
    }
}

/// What the numbers of this scenario can and cannot tell.
fn notes(summary: &RunSummary, out: &mut String) {
    out.push_str("\n## What the numbers mean\n\n");
    for n in &summary.notes {
        out.push_str(&format!("- {n}\n"));
    }
}

/// Each metric's definition, folded.
fn definitions(summary: &RunSummary, out: &mut String) {
    out.push_str("\n<details><summary>Metric definitions</summary>\n\n");
    for m in &summary.metrics {
        out.push_str(&format!("- `{}` ({}): {}\n", m.name, m.unit, m.definition));
    }
    out.push_str("\n</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{comparison::Comparison, env::Testbed};
    use crate::report::comparison::fixtures;

    #[test]
    fn a_report_without_a_verdict_says_so_and_never_no_regression() {
        let missing = render(&fixtures::missing_gated_metric());
        assert!(
            missing.contains(
                "## Verdict\n\n**NO VERDICT: gated metric(s) the base has were not measured: binary_size_bytes**\n"
            ),
            "{missing}"
        );
        let row = missing
            .lines()
            .find(|l| l.starts_with("| binary_size_bytes |"))
            .unwrap();
        assert!(row.contains("| not measured |"), "{row}");
        assert!(
            missing.contains("- `binary_size_bytes`: not measured: the base has it"),
            "{missing}"
        );
        for failed in [fixtures::failed(false), fixtures::failed(true)] {
            let md = render(&failed);
            assert!(md.contains("## Verdict\n\n**NO VERDICT: the run "), "{md}");
            assert!(md.contains("## Failures"), "{md}");
        }
        for md in [
            missing,
            render(&fixtures::failed(false)),
            render(&fixtures::failed(true)),
            render(&fixtures::nothing_gated()),
        ] {
            assert!(!md.to_lowercase().contains("no regression"), "{md}");
            assert_eq!(md.matches("## Measurements").count(), 1, "{md}");
        }
        let plain = render(&fixtures::measured());
        assert!(!plain.contains("## Verdict"), "{plain}");
    }

    #[test]
    fn a_mixed_network_gets_a_table_by_implementation_pair() {
        let mut summary = fixtures::measured();
        assert!(!render(&summary).contains("By implementation pair"));
        summary.breakdown = vec![crate::data::summary::PairStat {
            metric: "gossip_latency_ms".into(),
            from: "swarm-node".into(),
            to: "js-libp2p".into(),
            p50: 1.25,
            p99: 4.5,
            n: 120,
            unit: "ms".into(),
        }];
        let md = render(&summary);
        assert!(md.contains("## By implementation pair\n"), "{md}");
        let row = md
            .lines()
            .find(|l| l.starts_with("| `gossip_latency_ms` |"))
            .unwrap();
        assert!(
            row.contains("| `swarm-node` | `js-libp2p` |") && row.ends_with("| 120 |"),
            "{row}"
        );
    }

    #[test]
    fn the_report_names_the_testbed_and_marks_information_only() {
        let mut summary: RunSummary =
            serde_json::from_str(include_str!("../../tests/fixtures/summary-small.json")).unwrap();
        let mut c: Comparison = serde_json::from_value(serde_json::json!({
            "mode": "unpaired", "base_label": "baseline b.json", "alpha": 0.01,
            "metrics": [], "warnings": [],
        }))
        .unwrap();
        summary.testbed = Some(Testbed::named("box-2c", "test").unwrap());
        summary.comparison = Some(c.clone());
        let gated = render(&summary);
        assert!(gated.contains("Testbed: `box-2c`. Machine: "), "{gated}");
        assert!(gated.contains("## Verdict\n"), "{gated}");

        c.informational = Some("baseline recorded on testbed other-box".into());
        summary.comparison = Some(c);
        let informational = render(&summary);
        assert!(
            informational.contains("## Comparison for information only\n")
                && informational
                    .contains("**For information only (baseline recorded on testbed other-box)"),
            "{informational}"
        );
        assert!(!informational.contains("## Verdict"), "{informational}");
    }
}
