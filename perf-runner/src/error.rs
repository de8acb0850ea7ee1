//! The crate-level error, and every exit code `cargo xtask` can return.
//!
//! Each module keeps its own error enum with the context a user needs; all of them convert
//! into [`Error`] with `#[from]`, and [`Error::exit`] alone decides the exit code of a failure.
//! Outcomes that are not failures (no regression, a regression) map through [`Exit`] too, so
//! no exit number is written anywhere else.

use std::path::PathBuf;

use crate::{
    cluster::ClusterError,
    data::{
        baseline::BaselineError, comparison::Comparison, env::TestbedError, summary::SummaryError,
    },
    git::GitError,
    github::GithubError,
    history::HistoryError,
    measure::build::BuildError,
    report::plots::PlotError,
    run::Outcome,
    scenario::ScenarioError,
    tasks::bench::BenchError,
    workload::WorkloadError,
};

/// How a command ended, as the shell sees it (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It ran and found no regression.
    Success,
    /// It ran and found a regression.
    Regressed,
    /// Usage, configuration or input error: fix the arguments, scenario, baseline or file.
    Usage,
    /// The run itself failed (a node crashed, a build or git failed, output not written).
    Failed,
    /// Interrupted (Ctrl-C); partial results are kept.
    Interrupted,
}

impl Exit {
    /// The process exit code: 0, 1, 2, 3 or 130 (128 + SIGINT, as shells report it).
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Regressed => 1,
            Exit::Usage => 2,
            Exit::Failed => 3,
            Exit::Interrupted => 130,
        }
    }

    /// A finished command: 1 if it found a regression, else 0.
    pub fn verdict(regressed: bool) -> Self {
        if regressed {
            Exit::Regressed
        } else {
            Exit::Success
        }
    }

    /// A measured run: interrupted and failed runs first, then the verdict.
    pub fn of_run(outcome: &Outcome, regressed: bool) -> Self {
        match outcome {
            Outcome::Complete => Exit::verdict(regressed),
            Outcome::Interrupted => Exit::Interrupted,
            Outcome::Failed(_) => Exit::Failed,
        }
    }

    /// A measured run and its comparison, if any: interrupted stays 130, a failed run or a
    /// comparison that is no verdict is 3 (the run did not measure what a verdict needs),
    /// else the verdict (a comparison for information only never fails the gate).
    pub fn of_compared_run(outcome: &Outcome, comparison: Option<&Comparison>) -> Self {
        let regressed = comparison.is_some_and(Comparison::fails_gate);
        match Exit::of_run(outcome, regressed) {
            Exit::Success | Exit::Regressed
                if comparison.is_some_and(|c| c.no_verdict.is_some()) =>
            {
                Exit::Failed
            }
            exit => exit,
        }
    }
}

/// Anything that stops perf-runner before or outside a measured repetition.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario file or override is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A baseline cannot be used (or, for `baseline update`, written).
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// A testbed name given with `--testbed` or `SWARMBENCH_TESTBED` is not a valid name.
    #[error(transparent)]
    Testbed(#[from] TestbedError),
    /// A summary file given as input cannot be read.
    #[error(transparent)]
    Summary(#[from] SummaryError),
    /// The node binary cannot be used.
    #[error("{0}")]
    NodeBin(String),
    /// Building the node failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A git command failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The cluster failed outside a repetition.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A workload phase failed outside a repetition.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// A micro-benchmark run failed or could not start.
    #[error(transparent)]
    Bench(#[from] BenchError),
    /// A plot could not be drawn.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The history store cannot be read or written.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// A GitHub step failed.
    #[error(transparent)]
    Github(#[from] GithubError),
    /// Arguments that cannot work together (bad refs, unknown metric).
    #[error("{0}")]
    Usage(String),
    /// A measured run that a command depends on failed.
    #[error("{0}")]
    RunFailed(String),
    /// A bisection could not reach an answer.
    #[error("{0}")]
    Bisect(String),
    /// The user interrupted a command that cannot keep partial results.
    #[error("{0}")]
    Interrupted(String),
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
    /// How this failure ends the command: [`Exit::Usage`] when nothing could be measured
    /// because of what the user gave, [`Exit::Failed`] when the work itself failed,
    /// [`Exit::Interrupted`] on Ctrl-C.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Scenario(_) | Error::Testbed(_) | Error::Summary(_) | Error::Usage(_) => {
                Exit::Usage
            }
            Error::Baseline(BaselineError::Incomplete(_) | BaselineError::Write { .. }) => {
                Exit::Failed
            }
            Error::Baseline(_) => Exit::Usage,
            Error::Bench(BenchError::Tool(_) | BenchError::UnknownBench(_)) => Exit::Usage,
            Error::Bench(BenchError::Cargo(_) | BenchError::Results { .. }) => Exit::Failed,
            Error::History(HistoryError::Unfit(_) | HistoryError::Corrupt { .. }) => Exit::Usage,
            Error::History(HistoryError::Io { .. }) => Exit::Failed,
            Error::Github(GithubError::MissingToken(_) | GithubError::BadInput(_)) => Exit::Usage,
            Error::Github(
                GithubError::Api { .. }
                | GithubError::Transport(_)
                | GithubError::Refused(_)
                | GithubError::GaveUp { .. },
            ) => Exit::Failed,
            Error::NodeBin(_)
            | Error::Build(_)
            | Error::Git(_)
            | Error::Cluster(_)
            | Error::Workload(_)
            | Error::Plot(_)
            | Error::RunFailed(_)
            | Error::Bisect(_)
            | Error::Io { .. } => Exit::Failed,
            Error::Interrupted(_) => Exit::Interrupted,
        }
    }

    /// The process exit code of this failure (DESIGN.md): 2 usage or configuration error,
    /// 3 the work itself failed, 130 interrupted.
    pub fn exit_code(&self) -> u8 {
        self.exit().code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: std::io::ErrorKind) -> std::io::Error {
        std::io::Error::from(kind)
    }

    #[test]
    fn outcomes_are_0_and_1_and_runs_that_did_not_finish_are_130_and_3() {
        assert_eq!(Exit::verdict(false).code(), 0);
        assert_eq!(Exit::verdict(true).code(), 1);
        assert_eq!(Exit::of_run(&Outcome::Complete, true).code(), 1);
        assert_eq!(Exit::of_run(&Outcome::Interrupted, true).code(), 130);
        assert_eq!(Exit::of_run(&Outcome::Failed("x".into()), false).code(), 3);
    }

    #[test]
    fn a_comparison_without_a_verdict_is_3_whatever_it_found_and_an_interrupt_stays_130() {
        use crate::compare::{GateConfig, MetricSamples, Mode, compare};
        let larger = [MetricSamples {
            name: "binary_size_bytes",
            base: &[1000.0],
            head: &[1100.0],
            base_sessions: &[],
        }];
        let mut c = compare(Mode::Paired, "base".into(), &larger, &GateConfig::default());
        assert_eq!(c.regressions().len(), 1);
        assert_eq!(
            Exit::of_compared_run(&Outcome::Complete, Some(&c)).code(),
            1
        );
        c.no_verdict = Some("gated metric(s) the base has were not measured: x".into());
        assert_eq!(
            Exit::of_compared_run(&Outcome::Complete, Some(&c)).code(),
            3
        );
        assert_eq!(
            Exit::of_compared_run(&Outcome::Interrupted, Some(&c)).code(),
            130
        );
        assert_eq!(Exit::of_compared_run(&Outcome::Complete, None).code(), 0);
        let failed = Outcome::Failed("node 1 crashed".into());
        assert_eq!(Exit::of_compared_run(&failed, None).code(), 3);
    }

    #[test]
    fn what_the_user_gave_is_a_usage_error_2() {
        let scenario = crate::scenario::resolve("no-such-scenario-anywhere").unwrap_err();
        let summary = crate::data::summary::RunSummary::read("/nonexistent/summary.json".as_ref())
            .unwrap_err();
        let usage = [
            Error::from(scenario),
            Error::from(summary),
            Error::Usage("unknown metric".into()),
            Error::from(BaselineError::NewerSchema {
                path: "b.json".into(),
                found: 99,
            }),
            Error::from(BenchError::Tool("valgrind is not installed".into())),
            Error::from(HistoryError::Corrupt {
                path: "h.jsonl".into(),
                line: 1,
                message: "not JSON".into(),
            }),
            Error::from(GithubError::MissingToken("GITHUB_TOKEN".into())),
            Error::from(GithubError::BadInput("--repo".into())),
        ];
        for e in usage {
            assert_eq!(e.exit_code(), 2, "{e:?}");
        }
    }

    #[test]
    fn work_that_failed_is_3() {
        let failed = [
            Error::from(GitError::Failed {
                command: "rev-list".into(),
                repo: ".".into(),
                stderr: "fatal".into(),
            }),
            Error::from(BuildError::Cargo("error[E0308]".into())),
            Error::from(BaselineError::Incomplete("interrupted".into())),
            Error::from(BenchError::Cargo("cargo bench failed".into())),
            Error::from(HistoryError::Io {
                path: "h.jsonl".into(),
                source: io(std::io::ErrorKind::PermissionDenied),
            }),
            Error::from(GithubError::Api {
                what: "posting".into(),
                status: 500,
                message: "oops".into(),
            }),
            Error::from(PlotError {
                path: "p.svg".into(),
                message: "no font".into(),
            }),
            Error::NodeBin("not executable".into()),
            Error::RunFailed("a validation run failed: node 1 crashed".into()),
            Error::Bisect("nothing to bisect".into()),
            Error::Io {
                path: "out".into(),
                source: io(std::io::ErrorKind::StorageFull),
            },
        ];
        for e in failed {
            assert_eq!(e.exit_code(), 3, "{e:?}");
        }
    }

    #[test]
    fn an_interrupt_is_130_like_an_interrupted_run() {
        let e = Error::Interrupted("validation interrupted".into());
        assert_eq!(e.exit_code(), 130);
        assert_eq!(e.exit(), Exit::of_run(&Outcome::Interrupted, false));
    }
}
