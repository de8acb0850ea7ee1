//! The result of `cargo xtask perf validate` (`validation.json`): the gate's measured
//! false-alarm and detection rates. Plain data; [`crate::tasks::validate`] produces it,
//! [`crate::report::validation`] renders it.

use serde::{Deserialize, Serialize};

use crate::{
    data::comparison::Verdict,
    stats::{bootstrap::Interval, proportion::clopper_pearson},
};

/// A rate with its interval.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rate {
    /// Events.
    pub k: usize,
    /// Trials.
    pub n: usize,
    /// k / n.
    pub rate: f64,
    /// 95 % Clopper–Pearson interval.
    pub ci95: Option<Interval>,
}

impl Rate {
    /// `k` events in `n` trials, with its interval.
    pub fn of(k: usize, n: usize) -> Self {
        Self {
            k,
            n,
            rate: if n == 0 { 0.0 } else { k as f64 / n as f64 },
            ci95: clopper_pearson(k, n, 0.95),
        }
    }
}

/// The validation result, written as `validation.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Validation {
    /// Scenario name.
    pub scenario: String,
    /// Paired repetitions per run.
    pub repetitions: usize,
    /// Injected delay, µs.
    pub inject_delay_us: u64,
    /// A/A: regressed verdicts over gated metric comparisons.
    pub false_alarms_per_metric: Rate,
    /// A/A: runs with any gated regression over runs.
    pub false_alarms_per_run: Rate,
    /// Injected: regressed verdicts over gated latency metric comparisons.
    pub detections_per_metric: Rate,
    /// Injected: runs whose gate failed over runs.
    pub detections_per_run: Rate,
    /// Median relative slowdown the injection caused, per latency metric (what "D µs" meant).
    pub injected_change: Vec<(String, Option<f64>)>,
    /// Verdicts of every run, for the record.
    pub runs: Vec<ValidationRun>,
}

/// One paired run of either experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidationRun {
    /// `aa` or `injected`.
    pub experiment: String,
    /// Run directory.
    pub dir: String,
    /// (metric, verdict, change) of every gated metric.
    pub verdicts: Vec<(String, Verdict, Option<f64>)>,
}
