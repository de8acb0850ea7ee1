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

    /// One line for the top of reports.
    pub fn headline(&self) -> String {
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
