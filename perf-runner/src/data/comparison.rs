//! The comparison section of `summary.json`: what the gate concluded per metric and for the
//! run. Plain data with serde; [`crate::compare`] produces it, reports and the PR comment read it.

use serde::{Deserialize, Serialize};

use crate::{data::metrics::Direction, stats::bootstrap::Interval};

/// What the gate concluded about one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly better, by more than the threshold.
    Improved,
    /// No change beyond the threshold, and the test could have seen one.
    Unchanged,
    /// Significantly worse, by more than the threshold.
    Regressed,
    /// Not enough evidence either way (too few samples, too much noise).
    Inconclusive,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Regressed => "regressed",
            Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// How base and head samples relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Independent samples: a run against a stored baseline.
    Unpaired,
    /// Interleaved pairs from one job: `--against`.
    Paired,
}

/// One metric's comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricComparison {
    /// Metric name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Better direction.
    pub direction: Direction,
    /// Whether it counts for the gate.
    pub gated: bool,
    /// Samples per side (pairs in paired mode).
    pub n_base: usize,
    /// Samples of the head.
    pub n_head: usize,
    /// Median of the base samples.
    pub base_median: f64,
    /// Median of the head samples.
    pub head_median: f64,
    /// Estimated relative change head vs base (0.1 = head 10 % larger).
    pub change: Option<f64>,
    /// 95 % interval of the relative change.
    pub change_ci: Option<Interval>,
    /// One-sided p-value toward a regression.
    pub p_regression: Option<f64>,
    /// Holm-adjusted `p_regression` (gated metrics only).
    pub p_adjusted: Option<f64>,
    /// Threshold the change must exceed, relative.
    pub threshold: f64,
    /// The metric's relative noise (robust sd of log samples).
    pub noise: Option<f64>,
    /// Smallest relative change this test would detect with the configured power.
    pub mde: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// One line explaining the verdict.
    pub reason: String,
}

/// The comparison of a whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// Unpaired or paired.
    pub mode: Mode,
    /// What the base is: "baseline <file> (commit …)" or "revision <ref> (commit …)".
    pub base_label: String,
    /// Significance level used.
    pub alpha: f64,
    /// Per-metric results, in definition order.
    pub metrics: Vec<MetricComparison>,
    /// Warnings that qualify the result (e.g. a different machine).
    pub warnings: Vec<String>,
    /// Recorded sessions of the baseline compared with (the sessions test), when it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_sessions: Option<usize>,
    /// The looks of a sequential paired run (`--against`), when it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential: Option<Sequential>,
    /// Why this comparison is no verdict, when it is none: the run failed or was interrupted,
    /// measured nothing, or did not measure a gated metric the base has. Reports then say
    /// "no verdict", never "no regression", and the command exits 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_verdict: Option<String>,
    /// Metrics the base has and the head did not measure: reported as "not measured", never
    /// as a number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_measured: Vec<NotMeasured>,
    /// Why the verdicts are for information only, when they are: the base is a baseline of
    /// another testbed, node implementation or transport. Its regressions do not fail the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub informational: Option<String>,
}

/// How a sequential paired run went: the looks it took and why it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequential {
    /// Overall false-alarm level across all looks; `Comparison::alpha` is the last look's share.
    pub alpha: f64,
    /// Time budget of the run, seconds.
    pub budget_s: f64,
    /// Most pairs the run could take (fixed at the first look).
    pub max_pairs: usize,
    /// Looks taken, in order.
    pub looks: Vec<Look>,
    /// Why the run stopped adding pairs.
    pub stopped: String,
}

/// One look at the data of a sequential run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Look {
    /// Pairs measured at this look.
    pub pairs: usize,
    /// Significance level this look tested at.
    pub level: f64,
}

/// A metric the base has and the head did not measure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotMeasured {
    /// Metric name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Whether it counts for the gate: then the comparison is no verdict.
    pub gated: bool,
    /// Median of the base samples.
    pub base_median: f64,
}

impl Comparison {
    /// Gated metrics that regressed.
    pub fn regressions(&self) -> Vec<&MetricComparison> {
        self.metrics
            .iter()
            .filter(|m| m.gated && m.verdict == Verdict::Regressed)
            .collect()
    }

    /// Gated metrics without a conclusive answer.
    pub fn inconclusive(&self) -> Vec<&MetricComparison> {
        self.metrics
            .iter()
            .filter(|m| m.gated && m.verdict == Verdict::Inconclusive)
            .collect()
    }

    /// Gated metrics that were compared.
    pub fn gated(&self) -> usize {
        self.metrics.iter().filter(|m| m.gated).count()
    }

    /// Whether the run fails the gate: a gated metric regressed, and the base is one the run
    /// may be judged by (not a baseline shown for information only).
    pub fn fails_gate(&self) -> bool {
        self.informational.is_none() && !self.regressions().is_empty()
    }

    /// One line for the top of reports.
    pub fn headline(&self) -> String {
        // Missing data outranks everything: a comparison that is none is not information either.
        match &self.informational {
            Some(why) if self.no_verdict.is_none() => self.informational_headline(why),
            _ => self.verdict_headline(),
        }
    }

    /// The headline of a comparison for information only: what differs, never a verdict.
    fn informational_headline(&self, why: &str) -> String {
        let worse: Vec<String> = self
            .regressions()
            .iter()
            .map(|m| format!("{} {:+.1}%", m.name, m.change.unwrap_or(0.0) * 100.0))
            .collect();
        let undecided = self.inconclusive().len();
        if worse.is_empty() && undecided > 0 {
            format!(
                "For information only ({why}): {undecided} gated metric(s) inconclusive, none worse beyond its threshold; not a verdict on this change"
            )
        } else if worse.is_empty() {
            format!(
                "For information only ({why}): no gated metric is worse beyond its threshold; not a verdict on this change"
            )
        } else {
            format!(
                "For information only ({why}): {} gated metric(s) worse beyond their threshold, which may be the machine, node or transport rather than the code: {}",
                worse.len(),
                worse.join(", ")
            )
        }
    }

    /// The headline of a comparison that gates.
    fn verdict_headline(&self) -> String {
        let regressions = self.regressions();
        let regressed = || {
            regressions
                .iter()
                .map(|m| format!("{} {:+.1}%", m.name, m.change.unwrap_or(0.0) * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(why) = &self.no_verdict {
            // A regression among what was measured is still worth knowing; it is not hidden.
            return if regressions.is_empty() {
                format!("NO VERDICT: {why}")
            } else {
                format!(
                    "NO VERDICT: {why} (among what was measured, regressed: {})",
                    regressed()
                )
            };
        }
        if !regressions.is_empty() {
            return format!(
                "REGRESSION in {} gated metric(s): {}",
                regressions.len(),
                regressed()
            );
        }
        if self.gated() == 0 {
            return "Nothing gated was compared: the numbers are information, not a verdict".into();
        }
        let inconclusive = self.inconclusive();
        if inconclusive.is_empty() {
            "No regression: every gated metric is unchanged or improved, with the power to see a change beyond its threshold".into()
        } else {
            format!(
                "No regression detected, but {} gated metric(s) are inconclusive (too few samples or too noisy to rule one out): {}",
                inconclusive.len(),
                inconclusive
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(name: &str, verdict: Verdict, change: f64) -> MetricComparison {
        MetricComparison {
            name: name.into(),
            unit: "ms".into(),
            direction: Direction::LowerIsBetter,
            gated: true,
            n_base: 10,
            n_head: 10,
            base_median: 100.0,
            head_median: 100.0 * (1.0 + change),
            change: Some(change),
            change_ci: None,
            p_regression: None,
            p_adjusted: None,
            threshold: 0.05,
            noise: None,
            mde: None,
            verdict,
            reason: String::new(),
        }
    }

    fn comparison(metrics: Vec<MetricComparison>) -> Comparison {
        Comparison {
            mode: Mode::Paired,
            base_label: "revision main".into(),
            alpha: 0.01,
            metrics,
            warnings: Vec::new(),
            base_sessions: None,
            sequential: None,
            no_verdict: None,
            not_measured: Vec::new(),
            informational: None,
        }
    }

    #[test]
    fn an_informational_comparison_lists_regressions_but_never_fails_the_gate() {
        let gating = comparison(vec![metric("formation_time_ms", Verdict::Regressed, 0.2)]);
        assert!(gating.fails_gate());
        assert!(gating.headline().starts_with("REGRESSION in 1"));
        let mut info = gating.clone();
        info.informational = Some("baseline recorded on testbed a, this run is testbed b".into());
        assert_eq!(info.regressions().len(), 1);
        assert!(!info.fails_gate());
        let headline = info.headline();
        assert!(
            headline.starts_with(
                "For information only (baseline recorded on testbed a, this run is testbed b): 1 gated metric(s) worse"
            ) && headline.contains("formation_time_ms +20.0%")
                && !headline.contains("REGRESSION"),
            "{headline}"
        );
        let json = serde_json::to_value(&gating).unwrap();
        assert!(json.get("informational").is_none(), "skipped when none");
        let back: Comparison =
            serde_json::from_value(serde_json::to_value(&info).unwrap()).unwrap();
        assert_eq!(back.informational, info.informational);
        let mut undecided = info.clone();
        undecided.metrics[0].verdict = Verdict::Inconclusive;
        assert!(
            undecided
                .headline()
                .contains("1 gated metric(s) inconclusive, none worse"),
            "{}",
            undecided.headline()
        );
        // Missing data outranks information: no verdict is not information either.
        info.no_verdict = Some("0 measured repetitions".into());
        assert!(
            info.headline().starts_with("NO VERDICT: 0 measured"),
            "{}",
            info.headline()
        );
    }

    #[test]
    fn no_verdict_heads_the_line_and_leaves_the_verdict_lists_alone() {
        let mut c = comparison(vec![metric("formation_time_ms", Verdict::Unchanged, 0.0)]);
        assert!(
            c.headline().starts_with("No regression: "),
            "{}",
            c.headline()
        );
        c.no_verdict = Some("the run failed (rep0: node 1 crashed)".into());
        assert_eq!(
            c.headline(),
            "NO VERDICT: the run failed (rep0: node 1 crashed)"
        );
        assert!(c.regressions().is_empty() && c.inconclusive().is_empty());
        // A regression among what was measured is still named, after the missing verdict.
        c.metrics
            .push(metric("dht_put_ms_p50", Verdict::Regressed, 0.2));
        assert_eq!(c.regressions().len(), 1);
        assert_eq!(
            c.headline(),
            "NO VERDICT: the run failed (rep0: node 1 crashed) (among what was measured, regressed: dht_put_ms_p50 +20.0%)"
        );
    }

    #[test]
    fn nothing_gated_is_never_called_no_regression() {
        let mut info = metric("avg_peers", Verdict::Unchanged, 0.0);
        info.gated = false;
        let c = comparison(vec![info]);
        assert_eq!(c.gated(), 0);
        assert!(
            !c.headline().to_lowercase().contains("no regression"),
            "{}",
            c.headline()
        );
        assert!(c.headline().contains("not a verdict"), "{}", c.headline());
    }

    #[test]
    fn old_summaries_without_the_new_fields_still_read() {
        let mut c = comparison(vec![metric("formation_time_ms", Verdict::Unchanged, 0.0)]);
        let text = serde_json::to_string(&c).unwrap();
        assert!(!text.contains("no_verdict") && !text.contains("not_measured"));
        let read: Comparison = serde_json::from_str(&text).unwrap();
        assert!(read.no_verdict.is_none() && read.not_measured.is_empty());
        c.no_verdict = Some("0 measured repetitions".into());
        c.not_measured.push(NotMeasured {
            name: "binary_size_bytes".into(),
            unit: "bytes".into(),
            gated: true,
            base_median: 1e7,
        });
        let read: Comparison = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(read.no_verdict.as_deref(), Some("0 measured repetitions"));
        assert_eq!(read.not_measured[0].name, "binary_size_bytes");
    }
}
