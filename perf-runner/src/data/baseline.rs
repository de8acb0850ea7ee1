//! Committed baselines, read for comparison and written only on an explicit request
//! (`cargo xtask perf baseline update`, `cargo xtask bench --update-baseline`).
//!
//! A scenario's baseline belongs to a testbed (a named machine class), a node implementation
//! (the node binary's file stem, `swarm-node` for ours) and a transport: one file per
//! [`BaselineKey`], at `<dir>/<testbed>/<implementation>-<transport>/<scenario>.json`, so
//! baselines of several machines and nodes live side by side and a run gates only against its
//! own. A file holds one or more [`Session`]s, each an independent invocation (other clusters,
//! perhaps another day), so that the comparison can see the drift between sessions and not only
//! the noise inside one. The bench suite keeps its flat `<dir>/bench.json` ([`path`], [`load`],
//! [`store`]).
//!
//! **API Boundary.** A baseline keeps every raw sample with the environment fingerprint and
//! the commit it measured, so any statistic can be recomputed and a comparison across
//! machines can be flagged. Schema 1 files (one session, no testbed, implementation or
//! transport) still load, as one session. Reading never modifies a file; writing is atomic,
//! always in the current schema.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{
    data::env::{Fingerprint, Revision, Testbed, slug},
    data::output::write_atomic,
    data::summary::{MetricResult, RunSummary},
};

/// Current baseline schema: 2 added the key (testbed, implementation, transport) and sessions.
pub const SCHEMA_VERSION: u32 = 2;
/// Marks the file as a swarmbench baseline.
const KIND: &str = "swarmbench-baseline";
/// What a schema-1 file's transport reads as: it was not recorded.
const UNKNOWN: &str = "unknown";

/// A stored baseline: the samples of one or more sessions of one scenario on one testbed, node
/// implementation and transport.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    /// The schema the file was written in (writing always uses [`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Always `swarmbench-baseline`.
    pub kind: String,
    /// Scenario name; must match the file name and the run.
    pub scenario: String,
    /// Machine class it was measured on.
    pub testbed: Testbed,
    /// Node implementation: the node binary's file stem as a slug (`swarm-node`).
    pub implementation: String,
    /// Transport of the scenario as measured (`quic`, `tcp`).
    pub transport: String,
    /// Independent sessions, oldest first; never empty.
    pub sessions: Vec<Session>,
}

/// One independent invocation: its own clusters, its own run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
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

/// What a baseline is for: where it lives and which runs it gates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineKey {
    /// Machine class.
    pub testbed: Testbed,
    /// Node implementation (see [`implementation_of`]).
    pub implementation: String,
    /// Transport.
    pub transport: String,
    /// Scenario name.
    pub scenario: String,
}

/// A baseline and the file it was read from.
#[derive(Debug, Clone)]
pub struct Found {
    /// The baseline.
    pub baseline: Baseline,
    /// Its file.
    pub path: PathBuf,
}

/// The layout of schema 1: one session, no key.
#[derive(Deserialize)]
struct SchemaOne {
    scenario: String,
    recorded_at: String,
    revision: Revision,
    environment: Fingerprint,
    node_bin: String,
    repetitions: usize,
    metrics: Vec<MetricResult>,
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
    /// Its content names another testbed, implementation or transport than its place in the
    /// layout.
    #[error(
        "{path}: baseline is for {found}, but its place in baselines/ says {expected}; move it to where it belongs or regenerate it"
    )]
    Misplaced {
        /// The file.
        path: PathBuf,
        /// What the file says.
        found: String,
        /// What its path says.
        expected: String,
    },
    /// `--append` to a baseline of another testbed, implementation or transport.
    #[error("{path}: refusing to append: the baseline is for {found}, this run is {expected}")]
    AppendMismatch {
        /// The file.
        path: PathBuf,
        /// What the file is for.
        found: String,
        /// What the new sessions are.
        expected: String,
    },
    /// `--append` with no baseline to append to.
    #[error(
        "{path}: no baseline to append to (baselines of this scenario: {existing}); drop --append to record a new one, or name the testbed of an existing one with --testbed"
    )]
    NothingToAppend {
        /// The file that does not exist.
        path: PathBuf,
        /// The keys of the scenario's other baselines, or `none`.
        existing: String,
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

impl BaselineKey {
    /// `<dir>/<testbed>/<implementation>-<transport>/<scenario>.json`.
    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(self.testbed.as_str())
            .join(self.variant())
            .join(format!("{}.json", self.scenario))
    }

    /// `<implementation>-<transport>`, e.g. `swarm-node-quic`.
    pub fn variant(&self) -> String {
        format!("{}-{}", self.implementation, self.transport)
    }

    /// `testbed <testbed> (<implementation>-<transport>)`, as messages name it.
    pub fn describe(&self) -> String {
        format!("testbed {} ({})", self.testbed, self.variant())
    }
}

/// The implementation name of a node binary: its file stem as a slug (`swarm-node`), or
/// `unknown`.
pub fn implementation_of(node_bin: &Path) -> String {
    let stem = node_bin
        .file_stem()
        .map(|s| slug(&s.to_string_lossy(), 64))
        .unwrap_or_default();
    if stem.is_empty() {
        UNKNOWN.into()
    } else {
        stem
    }
}

/// `<dir>/<scenario>.json`: the flat place of the bench suite's baseline (and of scenario
/// baselines before schema 2).
pub fn path(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("{scenario}.json"))
}

/// Reads the flat baseline `<dir>/<scenario>.json`; `Ok(None)` when there is none.
pub fn load(dir: &Path, scenario: &str) -> Result<Option<Baseline>, BaselineError> {
    read(&path(dir, scenario), scenario)
}

/// Reads the baseline of exactly `key` from `dir`; `Ok(None)` when there is none. A file whose
/// content is for another key than its place is an error, never silently used.
pub fn load_exact(dir: &Path, key: &BaselineKey) -> Result<Option<Baseline>, BaselineError> {
    let path = key.path(dir);
    let Some(baseline) = read(&path, &key.scenario)? else {
        return Ok(None);
    };
    check_place(&path, &baseline, key)?;
    Ok(Some(baseline))
}

/// The baseline of `key.scenario` nearest to `key` among the others in `dir`, to be shown for
/// information: the same implementation and transport on another testbed first, then the same
/// testbed, the same transport, the same implementation, then any (a flat schema-1 file
/// included); ties go to the first path in sorted order. `key`'s own file is never returned.
pub fn nearest(dir: &Path, key: &BaselineKey) -> Result<Option<Found>, BaselineError> {
    let mut candidates = others(dir, key)?;
    candidates.sort_by_cached_key(|found| {
        let other = found.baseline.key();
        (
            other.variant() != key.variant(),
            other.testbed != key.testbed,
            other.transport != key.transport,
            other.implementation != key.implementation,
            found.path.clone(),
        )
    });
    Ok(candidates.into_iter().next())
}

/// Every baseline of `key.scenario` in `dir` except `key`'s own.
fn others(dir: &Path, key: &BaselineKey) -> Result<Vec<Found>, BaselineError> {
    let own = key.path(dir);
    let mut found = Vec::new();
    let flat = path(dir, &key.scenario);
    if let Some(baseline) = read(&flat, &key.scenario)? {
        found.push(Found {
            baseline,
            path: flat,
        });
    }
    for testbed in subdirectories(dir)? {
        for variant in subdirectories(&testbed)? {
            let file = variant.join(format!("{}.json", key.scenario));
            if file == own {
                continue;
            }
            let Some(baseline) = read(&file, &key.scenario)? else {
                continue;
            };
            let expected = baseline.key().path(dir);
            if expected != file {
                return Err(BaselineError::Misplaced {
                    found: baseline.key().describe(),
                    expected: place_of(dir, &file),
                    path: file,
                });
            }
            found.push(Found {
                baseline,
                path: file,
            });
        }
    }
    Ok(found)
}

/// The subdirectories of `dir`, none when it does not exist.
fn subdirectories(dir: &Path) -> Result<Vec<PathBuf>, BaselineError> {
    let read_error = |source| BaselineError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_error(e)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let path = entry.map_err(read_error)?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// What a file's place in the layout says it is for: `testbed <t> (<variant>)`.
fn place_of(dir: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(dir).unwrap_or(file);
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [testbed, variant, _] => format!("testbed {testbed} ({variant})"),
        _ => relative.display().to_string(),
    }
}

/// Refuses a baseline read from `path` whose content is for another key than `key`.
fn check_place(path: &Path, baseline: &Baseline, key: &BaselineKey) -> Result<(), BaselineError> {
    let found = baseline.key();
    if found == *key {
        Ok(())
    } else {
        Err(BaselineError::Misplaced {
            path: path.to_path_buf(),
            found: found.describe(),
            expected: key.describe(),
        })
    }
}

/// Reads the baseline at `path` in either schema, checking that it is for `scenario`;
/// `Ok(None)` when the file does not exist.
fn read(path: &Path, scenario: &str) -> Result<Option<Baseline>, BaselineError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(BaselineError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let malformed = |message: String| BaselineError::Malformed {
        path: path.to_path_buf(),
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
        return Err(BaselineError::NewerSchema {
            path: path.to_path_buf(),
            found,
        });
    }
    let baseline = if found == 1 {
        serde_json::from_value::<SchemaOne>(value).map(Baseline::from)
    } else {
        serde_json::from_value::<Baseline>(value)
    }
    .map_err(|e| malformed(e.to_string()))?;
    if baseline.sessions.is_empty() {
        return Err(malformed("no sessions".into()));
    }
    if baseline.scenario != scenario {
        return Err(BaselineError::WrongScenario {
            path: path.to_path_buf(),
            found: baseline.scenario,
            expected: scenario.into(),
        });
    }
    Ok(Some(baseline))
}

impl From<SchemaOne> for Baseline {
    /// One session; the testbed derived from its fingerprint as a run today would derive it,
    /// the implementation from its node binary, the transport unknown (schema 1 did not say).
    fn from(old: SchemaOne) -> Self {
        Baseline {
            schema_version: 1,
            kind: KIND.into(),
            testbed: Testbed::derived(&old.environment),
            implementation: implementation_of(Path::new(&old.node_bin)),
            transport: UNKNOWN.into(),
            scenario: old.scenario,
            sessions: vec![Session {
                recorded_at: old.recorded_at,
                revision: old.revision,
                environment: old.environment,
                node_bin: old.node_bin,
                repetitions: old.repetitions,
                metrics: old.metrics,
            }],
        }
    }
}

/// A complete run as a session; an incomplete one is refused.
pub fn session(summary: &RunSummary) -> Result<Session, BaselineError> {
    if !summary.complete {
        return Err(BaselineError::Incomplete(format!(
            "{} of {} repetitions finished",
            summary.repetitions_done, summary.scenario.repetitions
        )));
    }
    Ok(Session {
        recorded_at: summary.finished_at.clone(),
        revision: summary.revision.clone(),
        environment: summary.environment.clone(),
        node_bin: summary.node_bin.clone(),
        repetitions: summary.repetitions_done,
        metrics: summary.metrics.clone(),
    })
}

/// Stores `sessions` as the baseline of `key` in `dir`, in one atomic write: a new file
/// replacing any old one, or with `append` added to the existing one, which must exist and be
/// for `key`. Returns the file and the baseline as written.
pub fn record(
    dir: &Path,
    key: &BaselineKey,
    sessions: Vec<Session>,
    append: bool,
) -> Result<Found, BaselineError> {
    let path = key.path(dir);
    let baseline = if append {
        let mut existing = appendable(dir, key)?;
        existing.append(&path, key, sessions)?;
        existing
    } else {
        Baseline::new(key, sessions)
    };
    write(&path, &baseline)?;
    Ok(Found { baseline, path })
}

/// The existing baseline of `key` that sessions of `key` may be appended to: refused when
/// there is none, or when the file at `key`'s place is for another key.
pub fn appendable(dir: &Path, key: &BaselineKey) -> Result<Baseline, BaselineError> {
    let path = key.path(dir);
    let Some(existing) = read(&path, &key.scenario)? else {
        return Err(BaselineError::NothingToAppend {
            existing: describe_others(dir, key)?,
            path,
        });
    };
    let found = existing.key();
    if found != *key {
        return Err(BaselineError::AppendMismatch {
            path,
            found: found.describe(),
            expected: key.describe(),
        });
    }
    Ok(existing)
}

/// The keys of `key.scenario`'s baselines other than `key`'s, or `none`.
fn describe_others(dir: &Path, key: &BaselineKey) -> Result<String, BaselineError> {
    let others: Vec<String> = others(dir, key)?
        .iter()
        .map(|found| found.baseline.key().describe())
        .collect();
    Ok(if others.is_empty() {
        "none".into()
    } else {
        others.join(", ")
    })
}

/// Stores a complete run as the flat `<dir>/<scenario>.json` (the bench suite's), one session,
/// atomically. Its testbed is derived from the run's fingerprint.
pub fn store(dir: &Path, summary: &RunSummary) -> Result<PathBuf, BaselineError> {
    let session = session(summary)?;
    let key = BaselineKey {
        testbed: Testbed::derived(&summary.environment),
        implementation: implementation_of(Path::new(&summary.node_bin)),
        transport: slug(&summary.scenario.transport, 64),
        scenario: summary.scenario.name.clone(),
    };
    let path = path(dir, &key.scenario);
    write(&path, &Baseline::new(&key, vec![session]))?;
    Ok(path)
}

/// Writes `baseline` to `path` atomically in the current schema, creating its directory.
fn write(path: &Path, baseline: &Baseline) -> Result<(), BaselineError> {
    let write_error = |source| BaselineError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_error)?;
    }
    let current = Baseline {
        schema_version: SCHEMA_VERSION,
        ..baseline.clone()
    };
    let mut json = serde_json::to_vec_pretty(&current).expect("baseline serializes");
    json.push(b'\n');
    write_atomic(path, &json).map_err(write_error)
}

impl Baseline {
    /// A baseline of `key` made of `sessions`.
    pub fn new(key: &BaselineKey, sessions: Vec<Session>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            kind: KIND.into(),
            scenario: key.scenario.clone(),
            testbed: key.testbed.clone(),
            implementation: key.implementation.clone(),
            transport: key.transport.clone(),
            sessions,
        }
    }

    /// What it is for.
    pub fn key(&self) -> BaselineKey {
        BaselineKey {
            testbed: self.testbed.clone(),
            implementation: self.implementation.clone(),
            transport: self.transport.clone(),
            scenario: self.scenario.clone(),
        }
    }

    /// Adds `sessions` of `key`, refused when `key` is not this baseline's (`path` is for the
    /// message).
    pub fn append(
        &mut self,
        path: &Path,
        key: &BaselineKey,
        sessions: Vec<Session>,
    ) -> Result<(), BaselineError> {
        let own = self.key();
        if own != *key {
            return Err(BaselineError::AppendMismatch {
                path: path.to_path_buf(),
                found: format!("{}, scenario {}", own.describe(), own.scenario),
                expected: format!("{}, scenario {}", key.describe(), key.scenario),
            });
        }
        self.sessions.extend(sessions);
        Ok(())
    }

    /// The sessions, oldest first.
    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    /// Every session's samples of `metric` concatenated in session order, and how many each
    /// session contributed (sessions without the metric are left out, so no count is 0);
    /// `None` when no session has it.
    pub fn samples_by_session(&self, metric: &str) -> Option<(Vec<f64>, Vec<usize>)> {
        let (mut samples, mut counts) = (Vec::new(), Vec::new());
        for session in &self.sessions {
            let Some(m) = session.metrics.iter().find(|m| m.name == metric) else {
                continue;
            };
            if m.samples.is_empty() {
                continue;
            }
            samples.extend_from_slice(&m.samples);
            counts.push(m.samples.len());
        }
        (!counts.is_empty()).then_some((samples, counts))
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

    fn key(testbed: &str, implementation: &str, transport: &str) -> BaselineKey {
        BaselineKey {
            testbed: Testbed::named(testbed, "test").unwrap(),
            implementation: implementation.into(),
            transport: transport.into(),
            scenario: "small".into(),
        }
    }

    /// A session of the fixture whose formation samples are `samples`.
    fn session_with(samples: &[f64]) -> Session {
        let mut s = session(&summary(true)).unwrap();
        let formation = s
            .metrics
            .iter_mut()
            .find(|m| m.name == "formation_time_ms")
            .unwrap();
        formation.samples = samples.to_vec();
        formation.repetitions = (0..samples.len()).collect();
        s
    }

    #[test]
    fn sessions_round_trip_and_their_samples_concatenate_with_counts() {
        let dir = tempfile::tempdir().unwrap();
        let k = key("box-2c", "swarm-node", "quic");
        let sessions = vec![session_with(&[1.0, 2.0, 3.0]), session_with(&[4.0, 5.0])];
        let written = record(dir.path(), &k, sessions, false).unwrap();
        assert_eq!(
            written.path,
            dir.path().join("box-2c/swarm-node-quic/small.json")
        );
        let b = load_exact(dir.path(), &k).unwrap().unwrap();
        assert_eq!(b.schema_version, SCHEMA_VERSION);
        assert_eq!(b.key(), k);
        assert_eq!(b.sessions().len(), 2);
        assert_eq!(
            b.samples_by_session("formation_time_ms"),
            Some((vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![3, 2]))
        );
        assert_eq!(b.samples_by_session("no_such_metric"), None);
        let text: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&written.path).unwrap()).unwrap();
        assert_eq!(text["schema_version"], 2);
        assert_eq!(text["testbed"], "box-2c");
        assert_eq!(text["sessions"][1]["repetitions"], 3);
    }

    #[test]
    fn append_adds_sessions_and_refuses_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let k = key("box-2c", "swarm-node", "quic");
        record(dir.path(), &k, vec![session_with(&[1.0])], false).unwrap();
        let appended = record(dir.path(), &k, vec![session_with(&[2.0, 3.0])], true).unwrap();
        assert_eq!(appended.baseline.sessions().len(), 2);
        assert_eq!(
            load_exact(dir.path(), &k)
                .unwrap()
                .unwrap()
                .samples_by_session("formation_time_ms")
                .unwrap()
                .1,
            vec![1, 2]
        );

        // A file moved under another testbed's directory is not appended to, nor used.
        let other = key("laptop", "swarm-node", "quic");
        let moved = other.path(dir.path());
        std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
        std::fs::copy(k.path(dir.path()), &moved).unwrap();
        let before = std::fs::read_to_string(&moved).unwrap();
        let err = record(dir.path(), &other, vec![session_with(&[9.0])], true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("refusing to append") && err.contains("testbed box-2c"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&moved).unwrap(), before);
        let err = load_exact(dir.path(), &other).unwrap_err().to_string();
        assert!(
            err.contains("its place in baselines/ says testbed laptop"),
            "{err}"
        );

        let mut b = Baseline::new(&k, vec![session_with(&[1.0])]);
        for wrong in [
            key("box-2c", "js-node", "quic"),
            key("box-2c", "swarm-node", "tcp"),
        ] {
            assert!(matches!(
                b.append(Path::new("x"), &wrong, vec![session_with(&[2.0])]),
                Err(BaselineError::AppendMismatch { .. })
            ));
        }
        assert_eq!(b.sessions().len(), 1);
    }

    #[test]
    fn append_needs_an_existing_baseline_and_names_the_others() {
        let dir = tempfile::tempdir().unwrap();
        record(
            dir.path(),
            &key("box-2c", "swarm-node", "quic"),
            vec![session_with(&[1.0])],
            false,
        )
        .unwrap();
        let err = record(
            dir.path(),
            &key("laptop", "swarm-node", "quic"),
            vec![session_with(&[1.0])],
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("no baseline to append to")
                && err.contains("testbed box-2c (swarm-node-quic)"),
            "{err}"
        );
        assert!(!dir.path().join("laptop").exists());
    }

    #[test]
    fn a_schema_one_file_loads_as_one_session() {
        let dir = tempfile::tempdir().unwrap();
        let s = summary(true);
        let old = serde_json::json!({
            "schema_version": 1, "kind": "swarmbench-baseline", "scenario": "small",
            "recorded_at": "2026-01-01T00:00:00Z", "revision": s.revision,
            "environment": s.environment, "node_bin": "/x/target/release/swarm-node",
            "repetitions": 3, "metrics": s.metrics,
        });
        std::fs::write(dir.path().join("small.json"), old.to_string()).unwrap();
        let b = load(dir.path(), "small").unwrap().unwrap();
        assert_eq!(b.schema_version, 1);
        assert_eq!(b.sessions().len(), 1);
        assert_eq!(b.sessions()[0].recorded_at, "2026-01-01T00:00:00Z");
        assert_eq!(b.testbed, Testbed::derived(&s.environment));
        assert_eq!(
            (b.implementation.as_str(), b.transport.as_str()),
            ("swarm-node", "unknown")
        );
        let formation = s.metric("formation_time_ms").unwrap().samples.clone();
        let n = formation.len();
        assert_eq!(
            b.samples_by_session("formation_time_ms"),
            Some((formation, vec![n]))
        );
    }

    #[test]
    fn the_flat_store_writes_schema_two_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let s = summary(true);
        let path = store(dir.path(), &s).unwrap();
        assert_eq!(path, dir.path().join("small.json"));
        let b = load(dir.path(), "small").unwrap().unwrap();
        assert_eq!(b.schema_version, SCHEMA_VERSION);
        assert_eq!(b.sessions()[0].revision, s.revision);
        assert_eq!(b.transport, s.scenario.transport);
    }

    #[test]
    fn the_nearest_baseline_prefers_the_same_node_and_transport_then_the_same_testbed() {
        let dir = tempfile::tempdir().unwrap();
        let mine = key("laptop", "swarm-node", "quic");
        assert!(
            nearest(dir.path(), &mine).unwrap().is_none(),
            "no directory yet"
        );
        let put = |k: &BaselineKey| {
            record(dir.path(), k, vec![session_with(&[1.0])], false).unwrap();
        };
        put(&key("a-other", "js-node", "tcp"));
        let found = nearest(dir.path(), &mine).unwrap().unwrap();
        assert_eq!(
            found.baseline.testbed.as_str(),
            "a-other",
            "any, when nothing closer"
        );
        put(&key("laptop", "js-node", "tcp"));
        let found = nearest(dir.path(), &mine).unwrap().unwrap();
        assert_eq!(found.baseline.key(), key("laptop", "js-node", "tcp"));
        put(&key("z-server", "swarm-node", "quic"));
        put(&key("b-server", "swarm-node", "quic"));
        let found = nearest(dir.path(), &mine).unwrap().unwrap();
        assert_eq!(
            found.path,
            dir.path().join("b-server/swarm-node-quic/small.json"),
            "the same node and transport on another testbed, first in name order"
        );
        // The run's own baseline is what load_exact returns, never "the nearest other".
        put(&mine);
        assert_ne!(
            nearest(dir.path(), &mine).unwrap().unwrap().baseline.key(),
            mine
        );
        assert!(load_exact(dir.path(), &mine).unwrap().is_some());
        // Another scenario's baselines are not candidates.
        let other_scenario = BaselineKey {
            scenario: "standard".into(),
            ..mine
        };
        assert!(nearest(dir.path(), &other_scenario).unwrap().is_none());
    }

    #[test]
    fn the_implementation_is_the_binary_file_stem() {
        assert_eq!(
            implementation_of(Path::new("/w/target/release/swarm-node")),
            "swarm-node"
        );
        assert_eq!(
            implementation_of(Path::new("./js/Node_P2P.mjs")),
            "node-p2p"
        );
        assert_eq!(implementation_of(Path::new("-")), "unknown");
    }

    #[test]
    fn missing_baseline_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path(), "small").unwrap().is_none());
        assert!(
            load_exact(dir.path(), &key("box", "swarm-node", "quic"))
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
        assert!(matches!(
            session(&summary(false)),
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
