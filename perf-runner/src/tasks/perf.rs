//! The entry points behind `cargo xtask perf`: resolve, build, check, run, compare.
//!
//! The runner's async work runs on a current-thread runtime on the calling thread. That is a
//! correctness requirement, not a taste: nodes get `PR_SET_PDEATHSIG`, which fires when the
//! *thread* that forked them exits, so every fork must come from a thread that lives exactly
//! as long as the process.

use std::{path::PathBuf, time::Duration};

use crate::{
    Error, Exit,
    cluster::check_node_bin,
    compare::Comparison,
    data::baseline::{self, Baseline},
    data::env::Revision,
    measure::build::{binary_size_bytes, build_release_node, build_revision_node},
    report::plots::{self, PlotData},
    report::progress::ProgressBarObserver,
    run::{self, Arm, Fixed, RunConfig, RunResult, Stopping},
    scenario::{self, Overrides, Scenario},
    tasks::{
        Common,
        gate::{self, Base, Gate},
        no_verdict,
        sequential::SequentialStop,
    },
};

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct PerfRequest {
    /// Scenario name or path.
    pub scenario: String,
    /// Command-line overrides.
    pub overrides: Overrides,
    /// A node binary to use instead of building swarm-node.
    pub node_bin: Option<PathBuf>,
    /// Extra arguments for every node.
    pub node_args: Vec<String>,
    /// Compare against this git revision, built in a worktree, in interleaved ABBA order.
    pub against: Option<String>,
    /// Compare against this binary instead of a git revision (paired, like `against`).
    pub base_node_bin: Option<PathBuf>,
    /// Extra arguments for the base arm's nodes.
    pub base_node_args: Vec<String>,
    /// Time a paired run may take adding pairs until every gated metric is decided.
    pub budget: Duration,
    /// Workspace, baselines, output root, threshold; `quiet` hides the progress bar.
    pub common: Common,
    /// Keep node logs of successful repetitions.
    pub keep_logs: bool,
    /// Touch and rebuild the node to measure build time.
    pub measure_build: bool,
}

/// A run and what it was compared with.
pub struct PerfOutcome {
    /// The run.
    pub result: RunResult,
    /// The verdicts, when there was something to compare with.
    pub comparison: Option<Comparison>,
    /// Why there is no comparison, when there is none.
    pub notice: Option<String>,
    /// Why the plots are missing, if they are: plots never fail a run.
    pub plot_error: Option<String>,
}

impl PerfOutcome {
    /// How the command ends: a failed or interrupted run first, then no verdict, then the
    /// verdict.
    pub fn exit(&self) -> Exit {
        Exit::of_compared_run(&self.result.outcome, self.comparison.as_ref())
    }
}

/// Draws the plots of a finished run and lists them in the head summary.
fn draw_plots(result: &mut RunResult) -> Result<(), plots::PlotError> {
    let data = PlotData {
        head: &result.summaries[0],
        base: result.summaries.get(1),
        gossip_latencies_ms: &result.gossip_latencies_ms,
    };
    let files = plots::render(&result.dir.plots(), &data)?;
    result.summaries[0].plots = files
        .iter()
        .filter_map(|f| f.strip_prefix(&result.dir.dir).ok())
        .map(|f| f.display().to_string())
        .collect();
    Ok(())
}

/// Runs the scenario and compares it with the baseline or the `--against` revision.
pub fn run_scenario(request: &PerfRequest) -> Result<PerfOutcome, Error> {
    let scenario = scenario::resolve(&request.scenario)?.with_overrides(&request.overrides)?;
    let paired = request.against.is_some() || request.base_node_bin.is_some();
    // Read the baseline before measuring anything: a bad one is a configuration error.
    let stored = if paired {
        None
    } else {
        baseline::load(&request.common.baselines, &scenario.name)?
    };
    let gate = gate_for(request, &scenario, None);
    let (mut result, mut comparison) = if paired {
        run_paired(request, &scenario, gate)?
    } else {
        let result = execute(
            request,
            &scenario,
            vec![head_arm(request)?],
            &mut Fixed(scenario.repetitions),
        )?;
        let comparison = stored.as_ref().map(|stored| {
            let base = Base::Baseline {
                stored,
                dir: &request.common.baselines,
            };
            gate::compare(&result.summaries[0], base, &gate)
        });
        (result, comparison)
    };
    if let Some(comparison) = &mut comparison {
        judge(comparison, &result, stored.as_ref());
    }
    let notice = comparison.is_none().then(|| {
        gate::no_baseline_notice(
            &format!(
                "no baseline for scenario {:?} in {}",
                scenario.name,
                request.common.baselines.display()
            ),
            &format!("cargo xtask perf baseline update {}", scenario.name),
        )
    });
    result.summaries[0].comparison = comparison.clone();
    let plot_error = draw_plots(&mut result).err().map(|e| e.to_string());
    crate::report::write_run_files(&result.dir, &result.summaries[0])?;
    Ok(PerfOutcome {
        result,
        comparison,
        notice,
        plot_error,
    })
}

/// A paired run, adding pairs until every metric `gate` judges is decided or the budget ends;
/// the comparison is that of its last look.
fn run_paired(
    request: &PerfRequest,
    scenario: &Scenario,
    gate: Gate,
) -> Result<(RunResult, Option<Comparison>), Error> {
    let (head, base) = (head_arm(request)?, base_arm(request)?);
    let label = match &request.against {
        Some(r) => gate::revision_label(r, &base.revision.commit),
        None => format!("binary {}", base.node_bin.display()),
    };
    let mut stop = SequentialStop::new(scenario.repetitions, request.budget, gate, label);
    let result = execute(request, scenario, vec![head, base], &mut stop)?;
    Ok((result, stop.into_comparison()))
}

/// Marks what the head did not measure and whether the comparison is a verdict at all: the
/// base is the run's second arm, or else the stored baseline.
fn judge(comparison: &mut Comparison, result: &RunResult, stored: Option<&Baseline>) {
    let base_samples = |name: &str| match result.summaries.get(1) {
        Some(base) => base.metric(name).map(|m| m.samples.as_slice()),
        None => stored.and_then(|s| s.samples(name)),
    };
    no_verdict::judge(
        comparison,
        &result.outcome,
        &result.summaries[0],
        base_samples,
    );
}

/// A paired run (`request.against` or `request.base_node_bin` must be set) compared on one
/// metric only: a bisection probe. The run's files are written as for any run.
pub fn run_paired_on_metric(request: &PerfRequest, metric: &str) -> Result<Comparison, Error> {
    let scenario = scenario::resolve(&request.scenario)?.with_overrides(&request.overrides)?;
    let gate = gate_for(request, &scenario, Some(metric));
    let (mut result, comparison) = run_paired(request, &scenario, gate)?;
    match &result.outcome {
        run::Outcome::Complete => {}
        run::Outcome::Interrupted => return Err(Error::Interrupted("interrupted".into())),
        run::Outcome::Failed(message) => {
            return Err(Error::Bisect(format!("the run failed: {message}")));
        }
    }
    let comparison = comparison
        .ok_or_else(|| Error::Bisect("the run ended before its first look at the data".into()))?;
    result.summaries[0].comparison = Some(comparison.clone());
    crate::report::write_run_files(&result.dir, &result.summaries[0])?;
    Ok(comparison)
}

/// Runs the scenario and stores it as the committed baseline.
pub fn update_baseline(request: &PerfRequest) -> Result<(RunResult, PathBuf), Error> {
    let scenario = scenario::resolve(&request.scenario)?.with_overrides(&request.overrides)?;
    let result = execute(
        request,
        &scenario,
        vec![head_arm(request)?],
        &mut Fixed(scenario.repetitions),
    )?;
    let path = baseline::store(&request.common.baselines, &result.summaries[0])?;
    Ok((result, path))
}

fn execute(
    request: &PerfRequest,
    scenario: &Scenario,
    arms: Vec<Arm>,
    stopping: &mut dyn Stopping,
) -> Result<RunResult, Error> {
    let config = RunConfig {
        scenario: scenario.clone(),
        arms,
        out_root: request.common.output_root().dir,
        keep_logs: request.keep_logs,
        write_files: crate::report::write_run_files,
    };
    let observer = ProgressBarObserver::new(&config.scenario.name, request.common.quiet);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            path: PathBuf::from("(tokio runtime)"),
            source,
        })?;
    runtime.block_on(run::run(&config, &observer, stopping, run::interrupted()))
}

fn head_arm(request: &PerfRequest) -> Result<Arm, Error> {
    let (node_bin, build_time_s) = match &request.node_bin {
        Some(bin) => {
            check_node_bin(bin).map_err(Error::NodeBin)?;
            (bin.clone(), None)
        }
        None => {
            let built = build_release_node(&request.common.workspace, request.measure_build)?;
            (built.bin, built.build_time_s)
        }
    };
    Ok(Arm {
        label: "head".into(),
        binary_size_bytes: binary_size_bytes(&node_bin),
        node_bin,
        node_args: request.node_args.clone(),
        build_time_s,
        revision: Revision::of(&request.common.workspace),
    })
}

fn base_arm(request: &PerfRequest) -> Result<Arm, Error> {
    let (node_bin, revision) = match (&request.base_node_bin, &request.against) {
        (Some(bin), _) => {
            check_node_bin(bin).map_err(Error::NodeBin)?;
            (
                bin.clone(),
                Revision {
                    commit: "unknown".into(),
                    dirty: false,
                },
            )
        }
        (None, Some(git_ref)) => {
            let (bin, commit) = build_revision_node(&request.common.workspace, git_ref)?;
            (
                bin,
                Revision {
                    commit,
                    dirty: false,
                },
            )
        }
        (None, None) => unreachable!("base_arm is only called for paired runs"),
    };
    Ok(Arm {
        label: "base".into(),
        binary_size_bytes: binary_size_bytes(&node_bin),
        node_bin,
        node_args: request.base_node_args.clone(),
        build_time_s: None,
        revision,
    })
}

/// The gate of a perf comparison. A baseline from another machine gets one warning per
/// difference; a paired run's arms share the machine.
fn gate_for<'a>(request: &PerfRequest, scenario: &Scenario, only: Option<&'a str>) -> Gate<'a> {
    Gate {
        config: gate::config(&request.common, scenario.thresholds.clone()),
        only,
        environment_warning: |difference| {
            format!(
                "the baseline was measured on a different environment ({difference}); differences may come from the machine, not the code"
            )
        },
    }
}
