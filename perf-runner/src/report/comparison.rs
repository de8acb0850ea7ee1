//! The comparison section, shared by the markdown report and the terminal: rows of cells,
//! computed once from a finished [`Comparison`], and the verdict line, which says "no verdict"
//! for a run that did not finish or measured nothing, with or without a comparison.

use crate::{
    compare::{Comparison, MetricComparison, Mode, Verdict},
    data::{comparison::NotMeasured, summary::RunSummary},
    report::format_value,
};

/// What the head column and the verdict say of a metric the head did not measure.
pub const NOT_MEASURED: &str = "not measured";

/// The longest failure message quoted in a verdict line; the report has the whole of it.
const MAX_QUOTED_CHARS: usize = 200;

/// Column headers of the comparison table.
pub const HEADERS: [&str; 8] = [
    "metric",
    "base",
    "head",
    "change",
    "95% CI",
    "p (Holm)",
    "threshold",
    "verdict",
];

/// One row of cells.
pub fn row(m: &MetricComparison) -> [String; 8] {
    let pct = |x: f64| format!("{:+.1}%", x * 100.0);
    [
        format!("{}{}", m.name, if m.gated { "" } else { " (info)" }),
        format!("{} {}", format_value(m.base_median, &m.unit), m.unit),
        format!("{} {}", format_value(m.head_median, &m.unit), m.unit),
        m.change.map_or("-".into(), pct),
        m.change_ci.map_or("-".into(), |ci| {
            format!("{} … {}", pct(ci.low), pct(ci.high))
        }),
        m.p_adjusted
            .or(m.p_regression)
            .map_or("-".into(), |p| format!("{p:.4}")),
        format!("±{:.1}%", m.threshold * 100.0),
        match (m.verdict, m.mde) {
            (Verdict::Unchanged, Some(mde)) => format!("unchanged (MDE {:.1}%)", mde * 100.0),
            (v, _) => v.to_string(),
        },
    ]
}

/// The row of a metric the base has and the head did not measure: words, not a number.
pub fn not_measured_row(m: &NotMeasured) -> [String; 8] {
    [
        format!("{}{}", m.name, if m.gated { "" } else { " (info)" }),
        format!("{} {}", format_value(m.base_median, &m.unit), m.unit),
        NOT_MEASURED.into(),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        NOT_MEASURED.into(),
    ]
}

/// Why a metric is not measured, for the list of reasons.
pub fn not_measured_reason(m: &NotMeasured) -> String {
    format!(
        "{NOT_MEASURED}: the base has it, this run produced no value for it{}",
        if m.gated {
            ", so the comparison is no verdict"
        } else {
            ""
        }
    )
}

/// The verdict line of a run: "NO VERDICT: <why>" when its comparison is none or when the run
/// did not finish or measured nothing, else the comparison's headline; `None` for a finished
/// run that was not compared.
pub fn verdict_line(summary: &RunSummary, comparison: Option<&Comparison>) -> Option<String> {
    match (comparison, unfinished(summary)) {
        (Some(c), _) if c.no_verdict.is_some() => Some(c.headline()),
        (_, Some(why)) => Some(format!("NO VERDICT: {why}")),
        (Some(c), None) => Some(c.headline()),
        (None, None) => None,
    }
}

/// Why a run is no verdict, whatever it was compared with: its comparison's reason, or that it
/// did not finish or measured nothing.
pub fn no_verdict(summary: &RunSummary) -> Option<String> {
    summary
        .comparison
        .as_ref()
        .and_then(|c| c.no_verdict.clone())
        .or_else(|| unfinished(summary))
}

/// Why a run cannot be judged from its summary alone: it did not finish (the last failure
/// says why, when there is one), or it measured no repetition.
pub fn unfinished(summary: &RunSummary) -> Option<String> {
    if !summary.complete {
        return Some(match summary.failures.last() {
            Some(f) => format!("the run did not finish ({})", first_line(&f.message)),
            None => "the run did not finish (interrupted)".into(),
        });
    }
    (summary.repetitions_done == 0).then(|| "0 measured repetitions".into())
}

/// The first line of a failure message, shortened to quote it in a verdict line (without the
/// colon that introduces a log tail on the next lines).
pub fn first_line(message: &str) -> String {
    let line = message
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches(':');
    if line.chars().count() <= MAX_QUOTED_CHARS {
        line.to_owned()
    } else {
        format!(
            "{}…",
            line.chars().take(MAX_QUOTED_CHARS).collect::<String>()
        )
    }
}

/// What was compared, how, and at what level, in a few sentences.
pub fn method(c: &Comparison) -> String {
    let gated = match c.gated() {
        0 => "gated metrics (none was compared)".to_owned(),
        n => format!("{n} gated metrics"),
    };
    let how = match (c.mode, c.base_sessions) {
        (Mode::Paired, _) => {
            "paired: base and head interleaved in ABBA order on this machine; one-sided Wilcoxon signed-rank test on per-pair log-ratios; change = Hodges–Lehmann estimate".to_owned()
        }
        (Mode::Unpaired, Some(sessions)) => format!(
            "unpaired against {sessions} recorded session(s): this run's level (median) against the prediction interval of the sessions' levels, Student's t with {} degrees of freedom, so drift between sessions counts as noise; change = ratio of this run's median to the sessions' geometric mean",
            sessions.saturating_sub(1)
        ),
        (Mode::Unpaired, None) => {
            "unpaired: one-sided Mann–Whitney U test against the other run's samples; change = ratio of medians".to_owned()
        }
    };
    let mut text = format!(
        "Compared with {} ({how}). A regression needs Holm-adjusted p < {} across the {gated} and a change beyond the threshold, the effect worth blocking for (5 % unless the scenario's [thresholds] or --threshold say otherwise). \"unchanged\" is claimed only when the minimal detectable effect (MDE, 80 % power) is within the threshold; otherwise the metric is \"inconclusive\".",
        c.base_label, c.alpha
    );
    if let Some(s) = &c.sequential {
        let pairs: Vec<String> = s.looks.iter().map(|l| l.pairs.to_string()).collect();
        text.push_str(&format!(
            " Sequential: looks at {} pairs (at most {} within the {:.0} s budget), each testing at its share of α = {} (Pocock-type alpha spending), so looking more than once keeps the false-alarm rate; the last look's share is the level above. Stopped: {}.",
            pairs.join(", "),
            s.max_pairs,
            s.budget_s,
            s.alpha,
            s.stopped
        ));
    }
    text
}

/// A Mermaid bar chart of the gated metrics' changes, which GitHub renders inline.
pub fn mermaid(c: &Comparison) -> String {
    let gated: Vec<&MetricComparison> = c
        .metrics
        .iter()
        .filter(|m| m.gated && m.change.is_some())
        .collect();
    if gated.is_empty() {
        return String::new();
    }
    let changes: Vec<f64> = gated
        .iter()
        .map(|m| (m.change.unwrap_or(0.0) * 1000.0).round() / 10.0)
        .collect();
    let bound = changes
        .iter()
        .fold(10.0f64, |acc, v| acc.max(v.abs()))
        .ceil();
    format!(
        "```mermaid\nxychart-beta\n    title \"Change of gated metrics vs base (%)\"\n    x-axis [{}]\n    y-axis \"change %\" {} --> {}\n    bar [{}]\n```\n",
        gated
            .iter()
            .map(|m| format!("\"{}\"", m.name))
            .collect::<Vec<_>>()
            .join(", "),
        -bound,
        bound,
        changes
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Runs without a verdict, for the renderers' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::{
        compare::{self, Comparison, GateConfig, MetricSamples, Mode},
        data::summary::{Failure, RunSummary},
        run::Outcome,
        tasks::no_verdict,
    };

    /// The fixture run: 3 repetitions of `small`, every metric, not compared.
    pub fn measured() -> RunSummary {
        serde_json::from_str(include_str!("../../tests/fixtures/summary-small.json")).unwrap()
    }

    /// `head` compared (paired) with `base` on the metrics both have, judged for `outcome`.
    fn judged(head: &RunSummary, base: &RunSummary, outcome: &Outcome) -> Comparison {
        let samples: Vec<MetricSamples> = head
            .metrics
            .iter()
            .filter_map(|h| {
                Some(MetricSamples {
                    name: &h.name,
                    base: &base.metric(&h.name)?.samples,
                    head: &h.samples,
                    base_sessions: &[],
                })
            })
            .collect();
        let mut c = compare::compare(
            Mode::Paired,
            "revision main (commit 0123456)".into(),
            &samples,
            &GateConfig::default(),
        );
        no_verdict::judge(&mut c, outcome, head, |name| {
            base.metric(name).map(|m| m.samples.as_slice())
        });
        c
    }

    /// A complete run whose node did not provide a gated metric (binary size) nor an ungated
    /// one (bandwidth sent), compared with a base that has both.
    pub fn missing_gated_metric() -> RunSummary {
        let base = measured();
        let mut head = measured();
        head.metrics
            .retain(|m| m.name != "binary_size_bytes" && m.name != "bandwidth_sent_bytes_per_node");
        head.comparison = Some(judged(&head, &base, &Outcome::Complete));
        head
    }

    /// The failure message of a node that crashed before its ready line.
    pub const CRASH: &str = "rep0: node 1 exited (exit status: 1) before printing its ready line\nfatal: simulated crash\n(node logs in /tmp/x/nodes)";

    /// A run that failed in its first repetition, with a baseline (`compared`) or without.
    pub fn failed(compared: bool) -> RunSummary {
        let base = measured();
        let mut head = measured();
        head.metrics.clear();
        head.complete = false;
        head.repetitions_done = 0;
        head.failures = vec![Failure {
            repetition: 0,
            warmup: false,
            message: CRASH.into(),
        }];
        if compared {
            head.comparison = Some(judged(&head, &base, &Outcome::Failed(CRASH.into())));
        }
        head
    }

    /// Compared on ungated metrics only (e.g. wall times of micro-benchmarks).
    pub fn nothing_gated() -> RunSummary {
        let mut head = measured();
        let mut c = judged(&head, &head, &Outcome::Complete);
        c.metrics.retain(|m| !m.gated);
        c.no_verdict = None;
        head.comparison = Some(c);
        head
    }
}

#[cfg(test)]
mod tests {
    use super::{fixtures::*, *};

    #[test]
    fn the_verdict_line_says_no_verdict_with_or_without_a_comparison() {
        let line = |s: &RunSummary| verdict_line(s, s.comparison.as_ref());
        assert_eq!(line(&measured()), None);
        assert_eq!(
            line(&missing_gated_metric()).as_deref(),
            Some("NO VERDICT: gated metric(s) the base has were not measured: binary_size_bytes")
        );
        let failed_alone = "NO VERDICT: the run did not finish (rep0: node 1 exited (exit status: 1) before printing its ready line)";
        assert_eq!(line(&failed(false)).as_deref(), Some(failed_alone));
        assert_eq!(
            line(&failed(true)).as_deref(),
            Some(
                "NO VERDICT: the run failed (rep0: node 1 exited (exit status: 1) before printing its ready line); 0 measured repetitions"
            )
        );
        // A comparison written without the field (an older summary) cannot hide a failure.
        let mut older = failed(true);
        older.comparison.as_mut().unwrap().no_verdict = None;
        assert_eq!(line(&older).as_deref(), Some(failed_alone));
        let mut interrupted = measured();
        interrupted.complete = false;
        assert_eq!(
            no_verdict(&interrupted).as_deref(),
            Some("the run did not finish (interrupted)")
        );
    }

    #[test]
    fn a_metric_the_head_lacks_reads_not_measured_with_the_base_value() {
        let s = missing_gated_metric();
        let c = s.comparison.as_ref().unwrap();
        let rows: Vec<[String; 8]> = c.not_measured.iter().map(not_measured_row).collect();
        assert_eq!(rows.len(), 2);
        let size = rows.iter().find(|r| r[0] == "binary_size_bytes").unwrap();
        assert_eq!(
            (size[2].as_str(), size[7].as_str()),
            ("not measured", "not measured")
        );
        assert!(
            size[1].ends_with(" bytes") && size[1] != "0 bytes",
            "{size:?}"
        );
        assert!(
            rows.iter()
                .any(|r| r[0] == "bandwidth_sent_bytes_per_node (info)")
        );
    }
}
