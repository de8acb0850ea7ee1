//! The entry point behind `cargo xtask perf <scenario>`: resolve, build, check, run.
//!
//! The runner's async work runs on a current-thread runtime on the calling thread. That is a
//! correctness requirement, not a taste: nodes get `PR_SET_PDEATHSIG`, which fires when the
//! *thread* that forked them exits, so every fork must come from a thread that lives exactly
//! as long as the process.

use std::path::PathBuf;

use crate::{
    Error,
    cluster::check_node_bin,
    measure::build::{binary_size_bytes, build_release_node},
    progress::ProgressBarObserver,
    run::{self, RunConfig, RunResult},
    scenario::{self, Overrides},
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

/// Resolves the scenario, provides the node binary, and runs until done or interrupted.
pub fn run_scenario(request: &PerfRequest) -> Result<RunResult, Error> {
    let scenario = scenario::resolve(&request.scenario)?.with_overrides(&request.overrides)?;
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
    let config = RunConfig {
        binary_size_bytes: binary_size_bytes(&node_bin),
        build_time_s,
        node_bin,
        node_args: request.node_args.clone(),
        out_root: request
            .out
            .clone()
            .unwrap_or_else(|| request.workspace.join("target/perf")),
        keep_logs: request.keep_logs,
        workspace: request.workspace.clone(),
        scenario,
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
