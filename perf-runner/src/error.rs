//! The crate-level error and its exit-code classification.

use std::path::PathBuf;

use crate::{
    data::baseline::BaselineError, git::GitError, measure::build::BuildError,
    scenario::ScenarioError, tasks::bench::BenchError,
};

/// Anything that stops perf-runner before or outside a measured repetition.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario file or override is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A baseline cannot be used (or, for `baseline update`, written).
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// The node binary cannot be used.
    #[error("{0}")]
    NodeBin(String),
    /// Building the node failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A git command failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A micro-benchmark run failed or could not start.
    #[error(transparent)]
    Bench(#[from] BenchError),
    /// Arguments that cannot work together (bad refs, unknown metric).
    #[error("{0}")]
    Usage(String),
    /// A bisection could not reach an answer.
    #[error("{0}")]
    Bisect(String),
    /// Output could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// Exit code per DESIGN.md: 2 usage or configuration error, 3 the run itself failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Scenario(_) | Error::Usage(_) => 2,
            Error::Bench(e) => e.exit_code(),
            Error::Baseline(BaselineError::Incomplete(_) | BaselineError::Write { .. }) => 3,
            Error::Baseline(_) => 2,
            Error::NodeBin(_)
            | Error::Build(_)
            | Error::Git(_)
            | Error::Bisect(_)
            | Error::Io { .. } => 3,
        }
    }
}
