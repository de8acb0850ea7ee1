//! Committed baselines: `baselines/<scenario>.json`, read for comparison, written only on an
//! explicit request (`cargo xtask perf baseline update`, `cargo xtask bench --update-baseline`).
//!
//! **API Boundary.** A baseline keeps every raw sample with the environment fingerprint and
//! the commit it measured, so any statistic can be recomputed and a comparison across
//! machines can be flagged. Reading never modifies the file; writing is atomic.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{
    data::env::{Fingerprint, Revision},
    data::output::write_atomic,
    data::summary::{MetricResult, RunSummary},
};

/// Current baseline schema.
pub const SCHEMA_VERSION: u32 = 1;
/// Marks the file as a swarmbench baseline.
const KIND: &str = "swarmbench-baseline";

/// A stored baseline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    /// Schema version.
    pub schema_version: u32,
    /// Always `swarmbench-baseline`.
    pub kind: String,
    /// Scenario name; must match the file name and the run.
    pub scenario: String,
    /// When it was recorded, RFC 3339.
    pub recorded_at: String,
    /// Commit measured.
    pub revision: Revision,
    /// Machine it was measured on.
    pub environment: Fingerprint,
    /// Node binary measured.
    pub node_bin: String,
    /// Measured repetitions.
    pub repetitions: usize,
    /// Every metric with its samples and summary.
    pub metrics: Vec<MetricResult>,
}

/// A baseline that cannot be used or stored ([`crate::Error::exit`] classifies each).
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// Unreadable.
    #[error("{path}: cannot read baseline: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a baseline of this schema.
    #[error(
        "{path}: not a valid swarmbench baseline ({message}); fix it or regenerate it with `cargo xtask perf baseline update {scenario}`"
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
        /// Scenario, for the hint.
        scenario: String,
    },
    /// Written by a newer swarmbench.
    #[error(
        "{path}: baseline schema {found} is newer than this swarmbench understands ({SCHEMA_VERSION}); update swarmbench"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u64,
    },
    /// For another scenario.
    #[error("{path}: baseline is for scenario {found:?}, not {expected:?}")]
    WrongScenario {
        /// The file.
        path: PathBuf,
        /// In the file.
        found: String,
        /// Asked for.
        expected: String,
    },
    /// The run to store is incomplete.
    #[error("refusing to store an incomplete run as the baseline: {0}")]
    Incomplete(String),
    /// Writing failed.
    #[error("{path}: cannot write baseline: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// `<dir>/<scenario>.json`.
pub fn path(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("{scenario}.json"))
}

/// Reads the baseline for `scenario` from `dir`; `Ok(None)` when there is none.
pub fn load(dir: &Path, scenario: &str) -> Result<Option<Baseline>, BaselineError> {
    let path = path(dir, scenario);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(BaselineError::Read { path, source }),
    };
    let malformed = |message: String| BaselineError::Malformed {
        path: path.clone(),
        message,
        scenario: scenario.into(),
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
    if value["kind"] != KIND {
        return Err(malformed(format!("`kind` is not {KIND:?}")));
    }
    let found = value["schema_version"]
        .as_u64()
        .ok_or_else(|| malformed("no schema_version".into()))?;
    if found > u64::from(SCHEMA_VERSION) {
        return Err(BaselineError::NewerSchema { path, found });
    }
    let baseline: Baseline = serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
    if baseline.scenario != scenario {
        return Err(BaselineError::WrongScenario {
            path,
            found: baseline.scenario,
            expected: scenario.into(),
        });
    }
    Ok(Some(baseline))
}

/// Stores a complete run as the baseline for its scenario, atomically.
pub fn store(dir: &Path, summary: &RunSummary) -> Result<PathBuf, BaselineError> {
    if !summary.complete {
        return Err(BaselineError::Incomplete(format!(
            "{} of {} repetitions finished",
            summary.repetitions_done, summary.scenario.repetitions
        )));
    }
    let baseline = Baseline {
        schema_version: SCHEMA_VERSION,
        kind: KIND.into(),
        scenario: summary.scenario.name.clone(),
        recorded_at: summary.finished_at.clone(),
        revision: summary.revision.clone(),
        environment: summary.environment.clone(),
        node_bin: summary.node_bin.clone(),
        repetitions: summary.repetitions_done,
        metrics: summary.metrics.clone(),
    };
    let path = path(dir, &baseline.scenario);
    std::fs::create_dir_all(dir).map_err(|source| BaselineError::Write {
        path: path.clone(),
        source,
    })?;
    let mut json = serde_json::to_vec_pretty(&baseline).expect("baseline serializes");
    json.push(b'\n');
    write_atomic(&path, &json).map_err(|source| BaselineError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

impl Baseline {
    /// Samples of `metric`, if recorded.
    pub fn samples(&self, metric: &str) -> Option<&[f64]> {
        self.metrics
            .iter()
            .find(|m| m.name == metric)
            .map(|m| m.samples.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(complete: bool) -> RunSummary {
        let text = include_str!("../../tests/fixtures/summary-small.json");
        let mut s: RunSummary = serde_json::from_str(text).unwrap();
        s.complete = complete;
        s
    }

    #[test]
    fn store_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let s = summary(true);
        let path = store(dir.path(), &s).unwrap();
        assert_eq!(path, dir.path().join("small.json"));
        let b = load(dir.path(), "small").unwrap().unwrap();
        assert_eq!(b.metrics.len(), s.metrics.len());
        assert_eq!(
            b.samples("formation_time_ms"),
            s.metric("formation_time_ms").map(|m| m.samples.as_slice())
        );
        assert_eq!(b.revision, s.revision);
    }

    #[test]
    fn missing_baseline_is_none() {
        assert!(
            load(tempfile::tempdir().unwrap().path(), "small")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn incomplete_runs_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            store(dir.path(), &summary(false)),
            Err(BaselineError::Incomplete(_))
        ));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn bad_files_are_rejected_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("small.json");
        let cases = [
            ("{not json", "not a valid swarmbench baseline"),
            (
                "{\"kind\": \"swarmbench-baseline\", \"schema_version\": 99}",
                "schema 99 is newer",
            ),
            (
                "{\"kind\": \"something-else\", \"schema_version\": 1}",
                "`kind` is not",
            ),
        ];
        for (text, needle) in cases {
            std::fs::write(&file, text).unwrap();
            let err = load(dir.path(), "small").unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
            assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        }
        store(dir.path(), &summary(true)).unwrap();
        std::fs::rename(&file, dir.path().join("standard.json")).unwrap();
        let err = load(dir.path(), "standard").unwrap_err().to_string();
        assert!(err.contains("is for scenario \"small\""), "{err}");
    }
}
