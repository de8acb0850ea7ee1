//! The scheduler: repetitions of fresh clusters, phases in order, results saved as they come.
//!
//! After every measured round the outputs are rewritten as one set (every arm's files staged,
//! then committed at once: `data::output`), so an interrupted, failed or killed run still
//! leaves a complete, readable and consistent record of what was measured, marked incomplete.
//! The run directory exists, with an empty record, and is `latest` from the start. Warm-up
//! repetitions run the same phases and are discarded.
//!
//! This file is the scheduler (rounds, ABBA order, interruption); `repetition` runs one
//! fresh cluster, `phases` the phases on it, `record` builds each arm's summary, `breakdown`
//! a mixed network's latencies per implementation pair.

mod repetition;
mod phases;
mod record;
mod breakdown;

use std::{
    future::Future,
    path::PathBuf,
    time::{Duration, Instant},
};

use crate::{
    Error,
    data::env::Revision,
    data::output::RunDir,
    data::summary::{Failure, RunSummary},
    scenario::Scenario,
    workload::{Values, WorkloadError},
};

use self::record::Record;

/// One side of a run: a node binary and how it was obtained. A plain run has one arm
/// (`head`); `--against` adds a second (`base`), run interleaved with the first.
#[derive(Debug, Clone)]
pub struct Arm {
    /// `head` or `base`.
    pub label: String,
    /// Binary speaking the node contract.
    pub node_bin: PathBuf,
    /// Extra arguments for every node (e.g. `--inject-delay-us=100` of a fault-injection build).
    pub node_args: Vec<String>,
    /// Size of the node binary, reported as `binary_size_bytes` when known.
    pub binary_size_bytes: Option<u64>,
    /// Measured build time, reported as `build_time_s` when measured.
    pub build_time_s: Option<f64>,
    /// Source revision of the binary.
    pub revision: Revision,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The scenario, overrides applied.
    pub scenario: Scenario,
    /// The head arm, then optionally the base arm.
    pub arms: Vec<Arm>,
    /// Output root (`target/perf` by default).
    pub out_root: PathBuf,
    /// Keep node logs of successful repetitions too.
    pub keep_logs: bool,
    /// Writes a summary's files (`summary.json` and its renderings) after every round, so a
    /// run stopped at any point leaves a readable record. The caller picks the renderers:
    /// the scheduler knows none.
    pub write_files: WriteFiles,
}

/// Writes the files of one arm's summary into its run directory, atomically.
pub type WriteFiles = fn(&RunDir, &RunSummary) -> Result<(), Error>;

/// Hooks for showing progress; every method has an empty default.
pub trait Observer {
    /// A repetition begins. `index` counts warm-ups first, and every arm's run.
    fn repetition_started(&self, _index: usize, _total: usize, _label: &str) {}
    /// A phase of the current repetition begins.
    fn phase(&self, _name: &str) {}
    /// The current repetition ended.
    fn repetition_finished(&self) {}
    /// The run ended.
    fn finished(&self) {}
}

/// An observer that shows nothing.
pub struct Silent;
impl Observer for Silent {}

/// When a run has measured enough rounds. A plain run takes the scenario's repetitions
/// ([`Fixed`]); a sequential paired run looks at its data and may take more.
pub trait Stopping {
    /// Measured rounds the run plans for now (the progress bar's length).
    fn planned(&self) -> usize;
    /// After `rounds` measured rounds, `elapsed` since the run began, with every arm's summary
    /// so far (head first): whether to stop.
    fn enough(&mut self, rounds: usize, elapsed: Duration, summaries: &[RunSummary]) -> bool;
}

/// Exactly this many measured rounds.
pub struct Fixed(pub usize);

impl Stopping for Fixed {
    fn planned(&self) -> usize {
        self.0
    }

    fn enough(&mut self, rounds: usize, _elapsed: Duration, _summaries: &[RunSummary]) -> bool {
        rounds >= self.0
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every repetition finished.
    Complete,
    /// Stopped by Ctrl-C or SIGTERM.
    Interrupted,
    /// A repetition failed (crash, timeout); the message says which and why.
    Failed(String),
}

/// A finished (or stopped) run.
pub struct RunResult {
    /// What was measured, one summary per arm, head first.
    pub summaries: Vec<RunSummary>,
    /// Where it was written.
    pub dir: RunDir,
    /// How it ended.
    pub outcome: Outcome,
    /// Every gossip delivery's latency in ms over the measured repetitions, per arm (head first).
    pub gossip_latencies_ms: Vec<(String, Vec<f64>)>,
}

/// The order of arm runs within repetition `index`: ABBA, so that drift over the run (thermal,
/// background load) falls on both arms equally.
pub fn abba_order(index: usize, arms: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..arms).collect();
    if index % 2 == 1 {
        order.reverse();
    }
    order
}

/// Runs the scenario until `stopping` says enough, a repetition fails, or `interrupt` resolves.
pub async fn run(
    config: &RunConfig,
    observer: &dyn Observer,
    stopping: &mut dyn Stopping,
    interrupt: impl Future<Output = ()>,
) -> Result<RunResult, Error> {
    let dir =
        RunDir::create_committed(&config.out_root, &config.scenario.name).map_err(|source| {
            Error::Io {
                path: config.out_root.clone(),
                source,
            }
        })?;
    let mut records: Vec<Record> = config
        .arms
        .iter()
        .map(|arm| Record::new(config, arm))
        .collect();
    write_round(config, &dir, &mut records, false)?;
    let outcome = rounds(config, &dir, &mut records, observer, stopping, interrupt).await?;
    finish(config, dir, records, outcome, observer)
}

/// Warm-up then measured rounds, each arm once per round in ABBA order; every arm's files
/// are rewritten after each measured round. Stops when `stopping` says enough, at the first
/// failure, or at `interrupt`.
async fn rounds(
    config: &RunConfig,
    dir: &RunDir,
    records: &mut [Record],
    observer: &dyn Observer,
    stopping: &mut dyn Stopping,
    interrupt: impl Future<Output = ()>,
) -> Result<Outcome, Error> {
    let scenario = &config.scenario;
    let began = Instant::now();
    let mut started = 0;
    tokio::pin!(interrupt);
    for round in 0.. {
        let total = (scenario.warmup + stopping.planned()) * config.arms.len();
        let warmup = round < scenario.warmup;
        let repetition = round.saturating_sub(scenario.warmup);
        if !warmup && repetition == 0 && stopping.planned() == 0 {
            break;
        }
        for arm_index in abba_order(round, config.arms.len()) {
            let arm = &config.arms[arm_index];
            let label = label(config, arm, round, warmup);
            observer.repetition_started(started, total, &label);
            started += 1;
            let mut raw = Vec::new();
            let log_dir = dir.node_logs(&label);
            let result = tokio::select! {
                result = repetition::repetition(scenario, arm, &log_dir, &label, observer, &mut raw) => result,
                () = &mut interrupt => return Ok(Outcome::Interrupted),
            };
            observer.repetition_finished();
            let which = Which {
                repetition,
                warmup,
                label: &label,
                log_dir: &log_dir,
            };
            if let Err(message) = record_result(config, &mut records[arm_index], which, result, raw)
            {
                return Ok(Outcome::Failed(message));
            }
        }
        if !warmup {
            let summaries = write_round(config, dir, records, false)?;
            if stopping.enough(repetition + 1, began.elapsed(), &summaries) {
                break;
            }
        }
    }
    Ok(Outcome::Complete)
}

/// The name of an arm's run in `round`: its node log directory and its progress line.
fn label(config: &RunConfig, arm: &Arm, round: usize, warmup: bool) -> String {
    let repetition = round.saturating_sub(config.scenario.warmup);
    match (warmup, config.arms.len()) {
        (true, 1) => format!("warmup{round}"),
        (false, 1) => format!("rep{repetition}"),
        (true, _) => format!("warmup{round}-{}", arm.label),
        (false, _) => format!("rep{repetition}-{}", arm.label),
    }
}

/// Which repetition a result belongs to.
struct Which<'a> {
    repetition: usize,
    warmup: bool,
    label: &'a str,
    log_dir: &'a std::path::Path,
}

/// Adds a repetition's result to its arm's record; a failed repetition's message is the
/// error, which ends the run.
fn record_result(
    config: &RunConfig,
    record: &mut Record,
    which: Which,
    result: Result<(Values, Vec<String>), WorkloadError>,
    raw: Vec<serde_json::Value>,
) -> Result<(), String> {
    let Which {
        repetition,
        warmup,
        label,
        log_dir,
    } = which;
    match result {
        Ok((values, stop_problems)) => {
            for message in stop_problems {
                record.failures.push(Failure {
                    repetition,
                    warmup,
                    message,
                });
            }
            if !config.keep_logs {
                let _ = std::fs::remove_dir_all(log_dir);
            }
            if !warmup {
                record.add(repetition, &values, raw);
            }
            Ok(())
        }
        Err(e) => {
            let message = format!("{label}: {e}\n(node logs in {})", log_dir.display());
            record.failures.push(Failure {
                repetition,
                warmup,
                message: message.clone(),
            });
            Err(message)
        }
    }
}

/// Writes every arm's files into a fresh round and commits them as one set; returns the
/// summaries written, head first.
fn write_round(
    config: &RunConfig,
    dir: &RunDir,
    records: &mut [Record],
    complete: bool,
) -> Result<Vec<RunSummary>, Error> {
    let io = |source| Error::Io {
        path: dir.dir.clone(),
        source,
    };
    let staged = dir.stage().map_err(io)?;
    let summaries = records
        .iter_mut()
        .map(|record| record.write(&staged, complete, config.write_files))
        .collect::<Result<Vec<_>, _>>()?;
    dir.commit(&staged).map_err(io)?;
    Ok(summaries)
}

/// Writes every arm's final files and hands back what was measured.
fn finish(
    config: &RunConfig,
    dir: RunDir,
    mut records: Vec<Record>,
    outcome: Outcome,
    observer: &dyn Observer,
) -> Result<RunResult, Error> {
    if !config.keep_logs {
        // Empty when every repetition succeeded; failed repetitions keep their logs.
        dir.remove_empty_nodes();
    }
    let summaries = write_round(config, &dir, &mut records, outcome == Outcome::Complete)?;
    observer.finished();
    let gossip_latencies_ms = config
        .arms
        .iter()
        .zip(&records)
        .map(|(arm, r)| (arm.label.clone(), r.gossip_latencies_ms.clone()))
        .collect();
    Ok(RunResult {
        summaries,
        dir,
        outcome,
        gossip_latencies_ms,
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_arms_alternate_abba() {
        let order: Vec<usize> = (0..4).flat_map(|round| abba_order(round, 2)).collect();
        assert_eq!(order, vec![0, 1, 1, 0, 0, 1, 1, 0]);
        assert_eq!(abba_order(3, 1), vec![0]);
    }
}
