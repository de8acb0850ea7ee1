//! `summary.json`: the versioned, machine-readable result of a run.
//!
//! **API Boundary.** CI, the PR comment and the history read this file. Add fields freely;
//! bump [`SCHEMA_VERSION`] when a field changes meaning or disappears. Raw per-repetition
//! samples are kept, so every statistic can be recomputed later.

use serde::{Deserialize, Serialize};

use crate::{
    data::comparison::Comparison,
    data::env::{Fingerprint, Revision, Testbed},
    data::metrics::{Direction, Kind},
    stats::descriptive::Summary as Stats,
};

/// Current schema version of `summary.json`.
pub const SCHEMA_VERSION: u32 = 1;

/// A run's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// Schema version.
    pub schema_version: u32,
    /// `swarmbench <version>`.
    pub tool: String,
    /// Scenario as run (after overrides).
    pub scenario: ScenarioInfo,
    /// Machine fingerprint.
    pub environment: Fingerprint,
    /// The machine class whose baselines this run is compared with (`--testbed`,
    /// `SWARMBENCH_TESTBED`, or derived from the fingerprint); absent in runs that pick no
    /// baseline by testbed (benchmarks) and in summaries older than testbeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testbed: Option<Testbed>,
    /// Code revision.
    pub revision: Revision,
    /// Node binary measured.
    pub node_bin: String,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// End (or time of the last write), RFC 3339 UTC.
    pub finished_at: String,
    /// False when interrupted or failed before all repetitions.
    pub complete: bool,
    /// Measured repetitions that finished.
    pub repetitions_done: usize,
    /// Failures: crashes, timeouts, unclean exits.
    pub failures: Vec<Failure>,
    /// Every metric with its samples.
    pub metrics: Vec<MetricResult>,
    /// What the numbers can and cannot tell.
    pub notes: Vec<String>,
    /// Plot files, relative to the run directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plots: Vec<String>,
    /// Verdicts against a baseline or another revision, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// A mixed network's latencies per implementation pair, over every measured repetition's
    /// raw records (information, never gated); empty for a single implementation and in
    /// summaries older than mixed networks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakdown: Vec<PairStat>,
}

/// One row of a mixed network's breakdown: a latency between two implementations, or one
/// implementation's memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairStat {
    /// `gossip_latency_ms` (publish → first delivery), `dht_get_ms` (request → first remote
    /// record) or `uss_idle_mb` (each node's private memory after the idle window).
    pub metric: String,
    /// Gossip: the publisher's implementation; DHT: the implementation of the node that answered.
    pub from: String,
    /// Gossip: the receiver's implementation; DHT: the getter's; empty for a per-node metric
    /// (`uss_idle_mb`), which `from` alone names.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Samples (deliveries, gets or nodes × repetitions).
    pub n: usize,
    /// Unit of `p50` and `p99`.
    pub unit: String,
}

/// The scenario parameters that shape the numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// Name.
    pub name: String,
    /// Nodes.
    pub nodes: usize,
    /// Topology, as text.
    pub topology: String,
    /// Transport.
    pub transport: String,
    /// Measured repetitions asked for.
    pub repetitions: usize,
    /// Warm-up repetitions discarded.
    pub warmup: usize,
    /// Seed.
    pub seed: u64,
    /// File it came from.
    pub source: String,
}

/// One failure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    /// Repetition index (warm-ups count from 0 too, with `warmup: true`).
    pub repetition: usize,
    /// Whether it happened in a warm-up repetition.
    pub warmup: bool,
    /// The message, with the node's log tail where there is one.
    pub message: String,
}

/// One metric's samples and summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricResult {
    /// Name (see `metrics::ALL`).
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Better direction.
    pub direction: Direction,
    /// Comparison kind.
    pub kind: Kind,
    /// Definition.
    pub definition: String,
    /// Measured repetition index of each sample.
    pub repetitions: Vec<usize>,
    /// One value per repetition that produced it.
    pub samples: Vec<f64>,
    /// Summary of `samples`.
    pub summary: Option<Stats>,
}

/// Why a summary file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// IO.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not JSON of this schema.
    #[error("{path}: not a swarmbench summary: {message}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Written by a newer swarmbench.
    #[error(
        "{path}: schema version {found} is newer than this swarmbench understands ({SCHEMA_VERSION}); update swarmbench"
    )]
    NewerSchema {
        /// The file.
        path: String,
        /// Its version.
        found: u32,
    },
}

impl RunSummary {
    /// Reads and checks a summary file.
    pub fn read(path: &std::path::Path) -> Result<Self, SummaryError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SummaryError::Io {
            path: p.clone(),
            source,
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| SummaryError::Parse {
                path: p.clone(),
                message: e.to_string(),
            })?;
        let found = value["schema_version"].as_u64().unwrap_or(0) as u32;
        if found > SCHEMA_VERSION {
            return Err(SummaryError::NewerSchema { path: p, found });
        }
        serde_json::from_value(value).map_err(|e| SummaryError::Parse {
            path: p,
            message: e.to_string(),
        })
    }

    /// The metric named `name`.
    pub fn metric(&self, name: &str) -> Option<&MetricResult> {
        self.metrics.iter().find(|m| m.name == name)
    }
}
