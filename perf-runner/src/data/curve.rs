//! The result of `cargo xtask perf scale-curve` (`curve.json`): one scenario run at rising
//! network sizes, and per size how it ended and the median of each metric the curve follows.
//! Plain data; [`crate::tasks::scale_curve`] produces it, [`crate::report::curve`] renders it.
//!
//! A metric a size did not measure is absent from that size's medians, never 0.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{Exit, data::env::Fingerprint};

/// Current schema version of `curve.json`.
pub const SCHEMA_VERSION: u32 = 1;

/// A metric a curve follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Followed {
    /// Metric name (see [`crate::data::metrics::ALL`]).
    pub name: &'static str,
    /// Whether it is a column only when some size measured it: metrics of workloads a scenario
    /// may leave out, and metrics that not every version of the runner has.
    pub optional: bool,
}

const fn always(name: &'static str) -> Followed {
    Followed {
        name,
        optional: false,
    }
}

const fn if_measured(name: &'static str) -> Followed {
    Followed {
        name,
        optional: true,
    }
}

/// The metrics a curve follows, in column order: formation, lookups, gossip, memory and CPU
/// per node, and the machine's own load where the runner measures it.
pub const FOLLOWED: &[Followed] = &[
    always("formation_time_ms"),
    always("dht_get_ms_p50"),
    always("dht_get_ms_p95"),
    if_measured("dht_get_peers_queried_p50"),
    always("gossip_latency_ms_p50"),
    always("gossip_latency_ms_p99"),
    always("uss_idle_mb_mean"),
    always("rss_idle_mb_mean"),
    always("cpu_idle_pct"),
    if_measured("runner_cpu_pct"),
    if_measured("load_avg_1m"),
];

/// A scale curve: `curve.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// Schema version.
    pub schema_version: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file.
    pub source: String,
    /// Measured repetitions per size (each a fresh cluster).
    pub repetitions: usize,
    /// The sizes asked for, nodes, strictly increasing.
    pub sizes: Vec<usize>,
    /// The node binary every size ran.
    pub node_bin: String,
    /// The machine, from the first size that measured anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Fingerprint>,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// End, RFC 3339 UTC; absent while sizes are still to run (or the runner was killed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The metrics shown, in order, with their units.
    pub columns: Vec<Column>,
    /// One point per size, in the order of `sizes`.
    pub points: Vec<Point>,
}

/// A metric of the curve, its unit and what it measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Metric name.
    pub metric: String,
    /// Unit as printed.
    pub unit: String,
    /// Its definition (see [`crate::data::metrics`]).
    pub definition: String,
}

/// One size of the curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Nodes.
    pub nodes: usize,
    /// How the size ended.
    pub status: Status,
    /// Why it failed (the run's error) when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The size's own run directory, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_dir: Option<PathBuf>,
    /// Measured repetitions that finished.
    pub repetitions_done: usize,
    /// Median over the size's repetitions of each followed metric it measured.
    pub medians: Vec<Median>,
}

/// One metric's median at one size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Median {
    /// Metric name.
    pub metric: String,
    /// Median over the repetitions.
    pub median: f64,
    /// Unit.
    pub unit: String,
}

/// How one size ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not run yet: the curve is still running, or its runner was killed.
    Pending,
    /// Every repetition ran.
    Ok,
    /// The run failed (formation timeout, a crash): the curve stopped here.
    Failed,
    /// Interrupted (Ctrl-C): what finished is kept, and the curve stopped here.
    Interrupted,
    /// Not run because an earlier size failed or was interrupted.
    NotRun,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Pending => "pending",
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
            Status::NotRun => "not run",
        })
    }
}

impl Point {
    /// A size not run yet.
    pub fn pending(nodes: usize) -> Self {
        Self {
            nodes,
            status: Status::Pending,
            error: None,
            run_dir: None,
            repetitions_done: 0,
            medians: Vec::new(),
        }
    }

    /// The median of `metric` at this size, if it was measured.
    pub fn median(&self, metric: &str) -> Option<f64> {
        self.medians
            .iter()
            .find(|m| m.metric == metric)
            .map(|m| m.median)
    }
}

impl Curve {
    /// How the command ends: 130 when a size was interrupted, 3 when one failed, else 0 (a
    /// curve compares nothing, so it never regresses).
    pub fn exit(&self) -> Exit {
        let has = |status| self.points.iter().any(|p| p.status == status);
        if has(Status::Interrupted) {
            Exit::Interrupted
        } else if has(Status::Failed) {
            Exit::Failed
        } else {
            Exit::Success
        }
    }

    /// The unit of `metric`'s column, if it is one.
    pub fn unit(&self, metric: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|c| c.metric == metric)
            .map(|c| c.unit.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve() -> Curve {
        Curve {
            schema_version: SCHEMA_VERSION,
            scenario: "scale-100".into(),
            source: "perf-runner/scenarios/scale-100.toml".into(),
            repetitions: 1,
            sizes: vec![10, 30, 100],
            node_bin: "target/release/swarm-node".into(),
            environment: None,
            started_at: "2026-12-01T10:00:00Z".into(),
            finished_at: Some("2026-12-01T10:05:00Z".into()),
            columns: vec![Column {
                metric: "formation_time_ms".into(),
                unit: "ms".into(),
                definition: "first node spawned until formed".into(),
            }],
            points: vec![
                Point {
                    status: Status::Ok,
                    run_dir: Some("out/scale-100/2026-12-01T10-00-00Z".into()),
                    repetitions_done: 1,
                    medians: vec![Median {
                        metric: "formation_time_ms".into(),
                        median: 812.5,
                        unit: "ms".into(),
                    }],
                    ..Point::pending(10)
                },
                Point {
                    status: Status::Failed,
                    error: Some("formation timed out after 120 s".into()),
                    ..Point::pending(30)
                },
                Point {
                    status: Status::NotRun,
                    ..Point::pending(100)
                },
            ],
        }
    }

    #[test]
    fn curve_json_round_trips_and_names_statuses_in_snake_case() {
        let c = curve();
        let json = serde_json::to_string_pretty(&c).unwrap();
        let back: Curve = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let statuses: Vec<&str> = value["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["ok", "failed", "not_run"]);
        assert_eq!(value["points"][0]["medians"][0]["unit"], "ms");
        assert!(
            value["points"][1].get("run_dir").is_none() && value.get("environment").is_none(),
            "absent values are left out: {json}"
        );
        assert_eq!(back.points[0].median("formation_time_ms"), Some(812.5));
        assert_eq!(back.points[0].median("dht_get_ms_p50"), None);
        assert_eq!(back.unit("formation_time_ms"), Some("ms"));
    }

    #[test]
    fn a_failed_size_exits_3_an_interrupted_one_130_and_a_full_curve_0() {
        let mut c = curve();
        assert_eq!(c.exit(), Exit::Failed);
        c.points[1].status = Status::Interrupted;
        assert_eq!(c.exit(), Exit::Interrupted);
        for p in &mut c.points {
            p.status = Status::Ok;
        }
        assert_eq!(c.exit(), Exit::Success);
        assert_eq!(Status::NotRun.to_string(), "not run");
    }

    #[test]
    fn every_followed_metric_is_defined_or_optional() {
        for f in FOLLOWED {
            assert!(
                f.optional || crate::data::metrics::definition(f.name).is_some(),
                "{} is neither defined nor optional",
                f.name
            );
        }
    }
}
