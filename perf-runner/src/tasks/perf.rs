//! The entry points behind `cargo xtask perf`: resolve, build, check, run, compare.
//!
//! The runner's async work runs on a current-thread runtime on the calling thread. That is a
//! correctness requirement, not a taste: nodes get `PR_SET_PDEATHSIG`, which fires when the
//! *thread* that forked them exits, so every fork must come from a thread that lives exactly
//! as long as the process.

use std::path::PathBuf;

use crate::{
    Error,
    cluster::check_node_bin,
    compare::{self, Comparison, GateConfig, MetricSamples, Mode},
    data::baseline::{self, Baseline},
    data::env::{Revision, short_commit},
    data::summary::RunSummary,
    measure::build::{binary_size_bytes, build_release_node, build_revision_node},
    report::plots::{self, PlotData},
    report::progress::ProgressBarObserver,
    run::{self, Arm, RunConfig, RunResult},
    scenario::{self, Overrides, Scenario},
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
    /// Directory of committed baselines.
    pub baselines: PathBuf,
    /// One fixed threshold for every metric (`--threshold`).
    pub threshold: Option<f64>,
    /// Output root; default `<workspace>/target/perf`.
    pub out: Option<PathBuf>,
    /// Keep node logs of successful repetitions.
    pub keep_logs: bool,
    /// Touch and rebuild the node to measure build time.
    pub measure_build: bool,
    /// No progress bar.
    pub quiet: bool,
    /// The swarmbench repository.
    pub workspace: PathBuf,
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
        baseline::load(&request.baselines, &scenario.name)?
    };
    let mut arms = vec![head_arm(request)?];
    if paired {
        arms.push(base_arm(request)?);
    }
    let mut result = execute(request, &scenario, arms)?;
    let gate = gate_config(request, &scenario);
    let (comparison, notice) = if paired {
        let base_label = match (&request.against, &result.summaries[1].revision.commit) {
            (Some(r), commit) => format!("revision {r} ({})", short_commit(commit)),
            (None, _) => format!("binary {}", result.summaries[1].node_bin),
        };
        (
            Some(paired_comparison(
                &result.summaries[0],
                &result.summaries[1],
                base_label,
                &gate,
                None,
            )),
            None,
        )
    } else if let Some(stored) = &stored {
        (
            Some(baseline_comparison(
                &result.summaries[0],
                stored,
                request,
                &gate,
            )),
            None,
        )
    } else {
        let notice = format!(
            "no baseline for scenario {:?} in {}: nothing to compare with. Create one with `cargo xtask perf baseline update {}`, or compare with a revision using --against <git-ref>",
            scenario.name,
            request.baselines.display(),
            scenario.name
        );
        (None, Some(notice))
    };
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

/// A paired run (`request.against` or `request.base_node_bin` must be set) compared on one
/// metric only: a bisection probe. The run's files are written as for any run.
pub fn run_paired_on_metric(request: &PerfRequest, metric: &str) -> Result<Comparison, Error> {
    let scenario = scenario::resolve(&request.scenario)?.with_overrides(&request.overrides)?;
    let arms = vec![head_arm(request)?, base_arm(request)?];
    let mut result = execute(request, &scenario, arms)?;
    match &result.outcome {
        run::Outcome::Complete => {}
        run::Outcome::Interrupted => return Err(Error::Interrupted("interrupted".into())),
        run::Outcome::Failed(message) => {
            return Err(Error::Bisect(format!("the run failed: {message}")));
        }
    }
    let label = format!(
        "revision {}",
        short_commit(&result.summaries[1].revision.commit)
    );
    let comparison = paired_comparison(
        &result.summaries[0],
        &result.summaries[1],
        label,
        &gate_config(request, &scenario),
        Some(metric),
    );
    result.summaries[0].comparison = Some(comparison.clone());
    crate::report::write_run_files(&result.dir, &result.summaries[0])?;
    Ok(comparison)
}

/// Runs the scenario and stores it as the committed baseline.
pub fn update_baseline(request: &PerfRequest) -> Result<(RunResult, PathBuf), Error> {
    let scenario = scenario::resolve(&request.scenario)?.with_overrides(&request.overrides)?;
    let result = execute(request, &scenario, vec![head_arm(request)?])?;
    let path = baseline::store(&request.baselines, &result.summaries[0])?;
    Ok((result, path))
}

fn execute(request: &PerfRequest, scenario: &Scenario, arms: Vec<Arm>) -> Result<RunResult, Error> {
    let config = RunConfig {
        scenario: scenario.clone(),
        arms,
        out_root: request
            .out
            .clone()
            .unwrap_or_else(|| request.workspace.join("target/perf")),
        keep_logs: request.keep_logs,
        write_files: crate::report::write_run_files,
    };
    let observer = ProgressBarObserver::new(&config.scenario.name, request.quiet);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            path: PathBuf::from("(tokio runtime)"),
            source,
        })?;
    runtime.block_on(run::run(&config, &observer, run::interrupted()))
}

fn head_arm(request: &PerfRequest) -> Result<Arm, Error> {
    let (node_bin, build_time_s) = match &request.node_bin {
        Some(bin) => {
            check_node_bin(bin).map_err(Error::NodeBin)?;
            (bin.clone(), None)
        }
        None => {
            let built = build_release_node(&request.workspace, request.measure_build)?;
            (built.bin, built.build_time_s)
        }
    };
    Ok(Arm {
        label: "head".into(),
        binary_size_bytes: binary_size_bytes(&node_bin),
        node_bin,
        node_args: request.node_args.clone(),
        build_time_s,
        revision: Revision::of(&request.workspace),
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
            let (bin, commit) = build_revision_node(&request.workspace, git_ref)?;
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

fn gate_config(request: &PerfRequest, scenario: &Scenario) -> GateConfig {
    GateConfig {
        overrides: scenario.thresholds.clone(),
        global: request.threshold,
        ..GateConfig::default()
    }
}

/// Paired comparison: samples matched by repetition index.
/// With `only`, just that metric is compared (Holm's family is then that metric alone).
fn paired_comparison(
    head: &RunSummary,
    base: &RunSummary,
    base_label: String,
    gate: &GateConfig,
    only: Option<&str>,
) -> Comparison {
    let pairs: Vec<(String, Vec<f64>, Vec<f64>)> = head
        .metrics
        .iter()
        .filter(|h| only.is_none_or(|name| h.name == name))
        .filter_map(|h| {
            let b = base.metric(&h.name)?;
            let (mut bs, mut hs) = (Vec::new(), Vec::new());
            for (rep, hv) in h.repetitions.iter().zip(&h.samples) {
                if let Some(i) = b.repetitions.iter().position(|r| r == rep) {
                    bs.push(b.samples[i]);
                    hs.push(*hv);
                }
            }
            Some((h.name.clone(), bs, hs))
        })
        .collect();
    let samples: Vec<MetricSamples> = pairs
        .iter()
        .map(|(name, b, h)| MetricSamples {
            name,
            base: b,
            head: h,
        })
        .collect();
    compare::compare(Mode::Paired, base_label, &samples, gate)
}

/// Unpaired comparison with a committed baseline, with a warning per fingerprint difference.
fn baseline_comparison(
    head: &RunSummary,
    stored: &Baseline,
    request: &PerfRequest,
    gate: &GateConfig,
) -> Comparison {
    let samples: Vec<MetricSamples> = head
        .metrics
        .iter()
        .filter_map(|h| {
            Some(MetricSamples {
                name: &h.name,
                base: stored.samples(&h.name)?,
                head: &h.samples,
            })
        })
        .collect();
    let label = format!(
        "baseline {} (commit {}, recorded {})",
        baseline::path(&request.baselines, &stored.scenario).display(),
        short_commit(&stored.revision.commit),
        stored.recorded_at
    );
    let mut comparison = compare::compare(Mode::Unpaired, label, &samples, gate);
    for difference in head.environment.differences(&stored.environment) {
        comparison.warnings.push(format!(
            "the baseline was measured on a different environment ({difference}); differences may come from the machine, not the code"
        ));
    }
    comparison
}
