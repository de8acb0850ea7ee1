//! The result of `cargo xtask perf validate` (`validation.json`): the gate's measured
//! false-alarm and detection rates, per metric and per run, each with its Clopper–Pearson
//! interval. Plain data; [`crate::tasks::validate`] produces it, [`crate::report::validation`]
//! renders it.

use serde::{Deserialize, Serialize};

use crate::{
    data::comparison::Verdict,
    stats::{bootstrap::Interval, proportion::clopper_pearson},
};

/// The metric the injected delay is calibrated on: gossip message handling is where it acts
/// first.
pub const CALIBRATION_METRIC: &str = "gossip_latency_ms_p50";

/// A rate with its interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Events.
    pub k: usize,
    /// Trials.
    pub n: usize,
    /// k / n; `None` without trials (nothing was measured, which is not a rate of 0).
    pub rate: Option<f64>,
    /// 95 % Clopper–Pearson interval.
    pub ci95: Option<Interval>,
}

impl Rate {
    /// `k` events in `n` trials, with its interval.
    pub fn of(k: usize, n: usize) -> Self {
        Self {
            k,
            n,
            rate: (n > 0).then(|| k as f64 / n as f64),
            ci95: clopper_pearson(k, n, 0.95),
        }
    }
}

/// What an experiment measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExperimentKind {
    /// Paired runs of one binary on both sides: every "regressed" is a false alarm.
    AaPaired,
    /// Separate runs of one binary against a baseline of `sessions` sessions recorded by other
    /// runs: every "regressed" is a false alarm of the sessions test.
    AaSessions {
        /// Sessions in the baseline.
        sessions: usize,
    },
    /// Paired runs with a delay injected on the head side only: every "regressed" of a metric
    /// the delay slows is a detection.
    Injected {
        /// The shift the delay was calibrated to, relative (0.10 = 10 %).
        target_shift: Option<f64>,
        /// The delay, microseconds per handled gossip message and DHT request.
        delay_us: u64,
        /// Gated metrics the calibration run found shifted near the target, between half and
        /// twice it (only these count as detections), with the shift measured there.
        slowed: Vec<(String, f64)>,
    },
}

/// One experiment's rates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Experiment {
    /// Name in reports: `A/A paired`, `A/A across sessions`, `injected 10 %`.
    pub name: String,
    /// What it measures.
    pub kind: ExperimentKind,
    /// Per counted metric: regressed verdicts over runs, and the median change over the runs.
    pub metrics: Vec<MetricRate>,
    /// Regressed verdicts over every counted metric comparison.
    pub per_comparison: Rate,
    /// Runs with any gated metric regressed (the gate failed) over the runs that finished.
    pub per_run: Rate,
    /// Every run's verdicts, for the record.
    pub runs: Vec<ValidationRun>,
}

/// One metric's rate in one experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricRate {
    /// Metric name.
    pub metric: String,
    /// Regressed verdicts over runs that compared it.
    pub rate: Rate,
    /// Median over the runs of the estimated change (what the experiment did to it).
    pub median_change: Option<f64>,
}

/// The validation result, written as `validation.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Validation {
    /// Scenario name.
    pub scenario: String,
    /// Pairs at the first look of a paired run (the scenario's repetitions).
    pub repetitions: usize,
    /// Time budget of each paired run, seconds.
    pub budget_s: f64,
    /// The experiments, in the order they ran.
    pub experiments: Vec<Experiment>,
}

/// One run of an experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidationRun {
    /// Run directory.
    pub dir: String,
    /// Pairs (or repetitions) measured.
    pub pairs: usize,
    /// (metric, verdict, change) of every gated metric.
    pub verdicts: Vec<(String, Verdict, Option<f64>)>,
    /// Why the run failed (a node crashed, the network did not form), when it did: then it has
    /// no verdicts and is left out of the rates, and reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}
