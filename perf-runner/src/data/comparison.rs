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
    /// Why the verdicts are for information only, when they are: the base is a baseline of
    /// another testbed, node implementation or transport. Its regressions do not fail the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub informational: Option<String>,
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

    /// Whether the run fails the gate: a gated metric regressed, and the base is one the run
    /// may be judged by (not a baseline shown for information only).
    pub fn fails_gate(&self) -> bool {
        self.informational.is_none() && !self.regressions().is_empty()
    }

    /// One line for the top of reports.
    pub fn headline(&self) -> String {
        match &self.informational {
            Some(why) => self.informational_headline(why),
            None => self.verdict_headline(),
        }
    }

    /// The headline of a comparison for information only: what differs, never a verdict.
    fn informational_headline(&self, why: &str) -> String {
        let worse: Vec<String> = self
            .regressions()
            .iter()
            .map(|m| format!("{} {:+.1}%", m.name, m.change.unwrap_or(0.0) * 100.0))
            .collect();
        if worse.is_empty() {
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
        if !regressions.is_empty() {
            let names: Vec<String> = regressions
                .iter()
                .map(|m| format!("{} {:+.1}%", m.name, m.change.unwrap_or(0.0) * 100.0))
                .collect();
            return format!(
                "REGRESSION in {} gated metric(s): {}",
                regressions.len(),
                names.join(", ")
            );
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

    fn comparison(informational: Option<&str>) -> Comparison {
        let metric = MetricComparison {
            name: "formation_time_ms".into(),
            unit: "ms".into(),
            direction: Direction::LowerIsBetter,
            gated: true,
            n_base: 10,
            n_head: 10,
            base_median: 100.0,
            head_median: 120.0,
            change: Some(0.2),
            change_ci: None,
            p_regression: Some(0.0001),
            p_adjusted: Some(0.0001),
            threshold: 0.05,
            noise: None,
            mde: None,
            verdict: Verdict::Regressed,
            reason: "slower".into(),
        };
        serde_json::from_value(serde_json::json!({
            "mode": "unpaired", "base_label": "baseline", "alpha": 0.01,
            "metrics": [metric], "warnings": [], "informational": informational,
        }))
        .unwrap()
    }

    #[test]
    fn an_informational_comparison_lists_regressions_but_never_fails_the_gate() {
        let gating = comparison(None);
        assert!(gating.fails_gate());
        assert!(gating.headline().starts_with("REGRESSION in 1"));
        let info = comparison(Some(
            "baseline recorded on testbed a, this run is testbed b",
        ));
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
    }
}
