//! The combined report of a suite (`suite.md`): one row per scenario with its status, key
//! metrics and verdict or error, then links to each scenario's own report.

use crate::{
    data::suite::{Entry, Suite},
    report::{
        escape::{code, markdown_text},
        format_value,
    },
};

/// The combined report.
pub fn render(suite: &Suite, entries: &[Entry]) -> String {
    let mut out = format!(
        "# swarmbench suite: {} (resilience level {})\n\n{}.\n\n| scenario | status | key metrics (median) | verdict or error |\n|---|---|---|---|\n",
        suite.name, suite.level, suite.description
    );
    for e in entries {
        let metrics = e
            .metrics
            .iter()
            .map(|(n, v, u)| format!("{} {} {}", code(n), format_value(*v, u), u))
            .collect::<Vec<_>>()
            .join("<br>");
        let detail: String = e
            .detail
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(300)
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            code(&e.scenario),
            e.status,
            metrics,
            markdown_text(&detail)
        ));
    }
    out.push_str("\nEach scenario's full report, with every metric's definition, is in its own run directory:\n\n");
    for e in entries {
        if let Some(r) = &e.report {
            out.push_str(&format!("- {}: {}\n", code(&e.scenario), r.display()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{data::suite::Status, tasks::suite::SUITES};

    #[test]
    fn the_combined_report_lists_status_and_metrics() {
        let entries = vec![
            Entry {
                scenario: "lossy-5pct".into(),
                status: Status::Ok,
                detail: "measured; no baseline to compare with".into(),
                metrics: vec![("netem_loss_ratio".into(), 0.052, "ratio".into())],
                report: Some("target/perf/lossy-5pct/x/report.md".into()),
            },
            Entry {
                scenario: "churn".into(),
                status: Status::Failed,
                detail: "node 3 did not rejoin\nlog tail".into(),
                metrics: Vec::new(),
                report: None,
            },
        ];
        let md = render(&SUITES[0], &entries);
        assert!(
            md.contains("| `lossy-5pct` | ok | `netem_loss_ratio` 0.052 ratio |"),
            "{md}"
        );
        assert!(
            md.contains("| `churn` | failed |  | node 3 did not rejoin |"),
            "{md}"
        );
    }
}
