//! The trend store: one JSON line per recorded run in `<dir>/<scenario>.jsonl`, and the trend
//! analysis over it (change points per metric, E-divisive means).
//!
//! **API Boundary.** The store is plain files so that a workflow can persist it anywhere (the
//! weekly workflow keeps it on a `perf-history` branch). Lines carry per-metric statistics, not
//! raw samples: the history grows by ~3 KB a run. Appends rewrite the file atomically.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use crate::{
    data::env::Fingerprint,
    data::metrics::Direction,
    data::output::write_atomic,
    data::summary::RunSummary,
    stats::change_point::{self, ChangePoint},
};

/// Version of a history line.
pub const SCHEMA_VERSION: u32 = 1;

/// One recorded run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// Schema version of this line.
    pub schema_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Commit measured.
    pub commit: String,
    /// Whether the tree had uncommitted changes.
    pub dirty: bool,
    /// When the run started (RFC 3339 UTC); with the commit, the record's identity.
    pub started_at: String,
    /// Machine fingerprint: a change here explains a step in the trend.
    pub environment: Fingerprint,
    /// Per-metric statistics over the run's repetitions.
    pub metrics: BTreeMap<String, Point>,
}

/// One metric of one recorded run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Point {
    /// Unit.
    pub unit: String,
    /// Better direction.
    pub direction: Direction,
    /// Repetitions.
    pub n: usize,
    /// Median over repetitions: the value the trend follows.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Median absolute deviation relative to the median.
    pub rel_mad: f64,
}

/// Why the history cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The summary is not fit to record.
    #[error("{0}")]
    Unfit(String),
    /// A history line is not valid.
    #[error("{path}:{line}: {message}")]
    Corrupt {
        /// File.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why.
        message: String,
    },
    /// IO.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Scenario names become file names: keep them to a safe alphabet.
fn check_name(name: &str) -> Result<(), HistoryError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(HistoryError::Unfit(format!(
            "scenario name {name:?} cannot name a history file (use letters, digits, - _ .)"
        )))
    }
}

/// The history file of a scenario.
pub fn path(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("{scenario}.jsonl"))
}

impl Record {
    /// The record of a finished run.
    pub fn from_summary(summary: &RunSummary) -> Result<Self, HistoryError> {
        check_name(&summary.scenario.name)?;
        if !summary.complete {
            return Err(HistoryError::Unfit(format!(
                "the {} run of {} is incomplete ({} of {} repetitions): an interrupted run would bend the trend, so it is not recorded",
                summary.scenario.name,
                summary.started_at,
                summary.repetitions_done,
                summary.scenario.repetitions
            )));
        }
        let metrics = summary
            .metrics
            .iter()
            .filter_map(|m| {
                let s = m.summary.as_ref()?;
                Some((
                    m.name.clone(),
                    Point {
                        unit: m.unit.clone(),
                        direction: m.direction,
                        n: s.n,
                        median: s.median,
                        min: s.min,
                        max: s.max,
                        rel_mad: s.rel_mad,
                    },
                ))
            })
            .collect();
        Ok(Self {
            schema_version: SCHEMA_VERSION,
            scenario: summary.scenario.name.clone(),
            commit: summary.revision.commit.clone(),
            dirty: summary.revision.dirty,
            started_at: summary.started_at.clone(),
            environment: summary.environment.clone(),
            metrics,
        })
    }
}

/// Reads a scenario's history, oldest first; an absent file is an empty history.
pub fn load(dir: &Path, scenario: &str) -> Result<Vec<Record>, HistoryError> {
    check_name(scenario)?;
    let file = path(dir, scenario);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(HistoryError::Io { path: file, source }),
    };
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let corrupt = |message: String| HistoryError::Corrupt {
            path: file.clone(),
            line: i + 1,
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| corrupt(e.to_string()))?;
        let version = value["schema_version"].as_u64().unwrap_or(0);
        if version > SCHEMA_VERSION as u64 {
            return Err(corrupt(format!(
                "schema version {version} is newer than this swarmbench understands ({SCHEMA_VERSION})"
            )));
        }
        records.push(serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?);
    }
    Ok(records)
}

/// What [`record`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Appended as line `n` (1-based).
    Appended(usize),
    /// The same run (commit and start time) was already there; nothing changed.
    AlreadyPresent,
}

/// Appends a finished run to its scenario's history. Recording the same run twice is a no-op,
/// so a retried workflow step does not double a point.
pub fn record(dir: &Path, summary: &RunSummary) -> Result<(PathBuf, Recorded), HistoryError> {
    let new = Record::from_summary(summary)?;
    let mut records = load(dir, &new.scenario)?;
    let file = path(dir, &new.scenario);
    if records
        .iter()
        .any(|r| r.commit == new.commit && r.started_at == new.started_at)
    {
        return Ok((file, Recorded::AlreadyPresent));
    }
    records.push(new);
    let mut text = String::new();
    for r in &records {
        text.push_str(&serde_json::to_string(r).expect("records serialize"));
        text.push('\n');
    }
    let io = |source| HistoryError::Io {
        path: file.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    write_atomic(&file, text.as_bytes()).map_err(io)?;
    Ok((file, Recorded::Appended(records.len())))
}

/// A change point of one metric, in terms of the records.
#[derive(Debug, Clone, Serialize)]
pub struct MetricChange {
    /// Index of the first record after the change.
    pub index: usize,
    /// Its commit.
    pub commit: String,
    /// Its start time.
    pub started_at: String,
    /// Median of the per-run medians before (back to the previous change point).
    pub before: f64,
    /// Median of the per-run medians after (up to the next change point).
    pub after: f64,
    /// after / before − 1.
    pub change: f64,
    /// Whether the change is for the worse, given the metric's direction.
    pub regression: bool,
    /// Permutation p-value.
    pub p_value: f64,
    /// Whether the machine fingerprint changed at this record: then the machine, not the
    /// code, may explain the step.
    pub environment_changed: bool,
}

/// One metric's trend.
#[derive(Debug, Clone, Serialize)]
pub struct MetricTrend {
    /// Metric name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Better direction.
    pub direction: Direction,
    /// (record index, per-run median), oldest first.
    pub points: Vec<(usize, f64)>,
    /// Change points found.
    pub changes: Vec<MetricChange>,
}

/// The trend of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    /// Scenario.
    pub scenario: String,
    /// Records analysed.
    pub records: usize,
    /// Commits of the records, oldest first.
    pub commits: Vec<String>,
    /// Significance level of each permutation test.
    pub alpha: f64,
    /// Per metric.
    pub metrics: Vec<MetricTrend>,
    /// Changes among the last `recent` records that are regressions: what an alert is about.
    pub recent_regressions: Vec<(String, MetricChange)>,
    /// How many of the newest records count as recent.
    pub recent: usize,
}

/// Settings of the trend analysis.
#[derive(Debug, Clone, Copy)]
pub struct TrendConfig {
    /// Change-point detection settings.
    pub detection: change_point::Config,
    /// A change point whose first record is among the newest `recent` records is recent.
    pub recent: usize,
}

impl Default for TrendConfig {
    fn default() -> Self {
        Self {
            detection: change_point::Config::default(),
            recent: 4,
        }
    }
}

fn median(values: &[f64]) -> f64 {
    crate::stats::descriptive::quantile(values, 0.5).unwrap_or(f64::NAN)
}

/// Finds the change points of every metric in `records` (oldest first).
pub fn analyse(records: &[Record], config: &TrendConfig) -> Trend {
    let mut names: Vec<&String> = records.iter().flat_map(|r| r.metrics.keys()).collect();
    names.sort();
    names.dedup();
    let metrics: Vec<MetricTrend> = names
        .into_iter()
        .map(|name| metric_trend(records, name, config))
        .collect();
    let first_recent = records.len().saturating_sub(config.recent);
    let recent_regressions = metrics
        .iter()
        .flat_map(|m| {
            m.changes
                .iter()
                .filter(|c| c.regression && c.index >= first_recent)
                .map(|c| (m.name.clone(), c.clone()))
        })
        .collect();
    Trend {
        scenario: records
            .first()
            .map(|r| r.scenario.clone())
            .unwrap_or_default(),
        records: records.len(),
        commits: records.iter().map(|r| r.commit.clone()).collect(),
        alpha: config.detection.alpha,
        metrics,
        recent_regressions,
        recent: config.recent,
    }
}

fn metric_trend(records: &[Record], name: &str, config: &TrendConfig) -> MetricTrend {
    let points: Vec<(usize, f64)> = records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.metrics.get(name).map(|p| (i, p.median)))
        .filter(|(_, v)| v.is_finite())
        .collect();
    let latest = records.iter().rev().find_map(|r| r.metrics.get(name));
    let direction = latest.map_or(Direction::LowerIsBetter, |p| p.direction);
    let values: Vec<f64> = points.iter().map(|p| p.1).collect();
    let found: Vec<ChangePoint> = change_point::e_divisive(&values, &config.detection);
    let mut bounds: Vec<usize> = found.iter().map(|c| c.index).collect();
    bounds.insert(0, 0);
    bounds.push(values.len());
    let changes = found
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let before = median(&values[bounds[k]..c.index]);
            let after = median(&values[c.index..bounds[k + 2]]);
            let change = after / before - 1.0;
            let record = points[c.index].0;
            let previous = points[c.index - 1].0;
            MetricChange {
                index: record,
                commit: records[record].commit.clone(),
                started_at: records[record].started_at.clone(),
                before,
                after,
                change,
                regression: match direction {
                    Direction::LowerIsBetter => after > before,
                    Direction::HigherIsBetter => after < before,
                },
                p_value: c.p_value,
                environment_changed: !records[record]
                    .environment
                    .differences(&records[previous].environment)
                    .is_empty(),
            }
        })
        .collect();
    MetricTrend {
        name: name.to_owned(),
        unit: latest.map(|p| p.unit.clone()).unwrap_or_default(),
        direction,
        points,
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::summary::RunSummary;

    fn fixture() -> RunSummary {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/summary-small.json");
        RunSummary::read(&path).unwrap()
    }

    fn with_gossip(summary: &RunSummary, commit: &str, started: &str, value: f64) -> RunSummary {
        let mut s = summary.clone();
        s.revision.commit = commit.into();
        s.started_at = started.into();
        let m = s
            .metrics
            .iter_mut()
            .find(|m| m.name == "gossip_latency_ms_p50")
            .unwrap();
        m.summary.as_mut().unwrap().median = value;
        s
    }

    #[test]
    fn record_appends_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let s = fixture();
        let (file, first) = record(dir.path(), &s).unwrap();
        assert_eq!(first, Recorded::Appended(1));
        assert_eq!(record(dir.path(), &s).unwrap().1, Recorded::AlreadyPresent);
        let other = with_gossip(&s, "abc", "2026-01-01T00:00:00Z", 1.0);
        assert_eq!(record(dir.path(), &other).unwrap().1, Recorded::Appended(2));
        let records = load(dir.path(), &s.scenario.name).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].commit, "abc");
        assert_eq!(records[1].metrics["gossip_latency_ms_p50"].median, 1.0);
        assert_eq!(std::fs::read_to_string(file).unwrap().lines().count(), 2);
    }

    #[test]
    fn incomplete_runs_and_hostile_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = fixture();
        s.complete = false;
        let e = record(dir.path(), &s).unwrap_err();
        assert!(e.to_string().contains("incomplete"), "{e}");
        let mut s = fixture();
        s.scenario.name = "../../etc/passwd".into();
        let e = record(dir.path(), &s).unwrap_err();
        assert!(e.to_string().contains("cannot name a history file"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_corrupt_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let s = fixture();
        record(dir.path(), &s).unwrap();
        let file = path(dir.path(), &s.scenario.name);
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str("{not json\n");
        std::fs::write(&file, text).unwrap();
        let e = load(dir.path(), &s.scenario.name).unwrap_err();
        assert!(e.to_string().contains(".jsonl:2:"), "{e}");
        assert_eq!(crate::Error::from(e).exit_code(), 2);
    }

    #[test]
    fn trend_flags_a_recent_regression_and_dates_it() {
        let s = fixture();
        // 20 runs around 0.60 ms, then 4 around 0.75 ms: a 25 % slowdown at record 20.
        let records: Vec<Record> = (0..24)
            .map(|i| {
                let noise = [0.0, 0.01, -0.01, 0.005, -0.005][i % 5];
                let v = if i < 20 { 0.60 } else { 0.75 } + noise;
                let started = format!("2026-01-{:02}T00:00:00Z", i + 1);
                Record::from_summary(&with_gossip(&s, &format!("c{i}"), &started, v)).unwrap()
            })
            .collect();
        let trend = analyse(&records, &TrendConfig::default());
        let gossip = trend
            .metrics
            .iter()
            .find(|m| m.name == "gossip_latency_ms_p50")
            .unwrap();
        assert_eq!(gossip.changes.len(), 1, "{:?}", gossip.changes);
        let c = &gossip.changes[0];
        assert_eq!((c.index, c.commit.as_str()), (20, "c20"));
        assert!(c.regression && (c.change - 0.25).abs() < 0.03, "{c:?}");
        assert!(!c.environment_changed);
        assert_eq!(trend.recent_regressions.len(), 1);
        assert_eq!(trend.recent_regressions[0].0, "gossip_latency_ms_p50");
        // Every other metric is constant across these records: no change point.
        assert!(
            trend
                .metrics
                .iter()
                .filter(|m| m.name != "gossip_latency_ms_p50")
                .all(|m| m.changes.is_empty())
        );
    }
}
