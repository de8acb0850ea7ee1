//! swarm-node entry point: parse flags, set up logging on stderr, pick the runtime, run.

use std::{io::IsTerminal, process::ExitCode};

use clap::Parser;
use swarm_node::NodeConfig;
use tracing_subscriber::EnvFilter;

/// The log filter when `RUST_LOG` is unset: warnings from every crate, and the node's own
/// lifecycle at info (starting, listening, ready, first peer, mesh formed, all peers lost,
/// shutdown requested, stopped): a handful of lines per node per run, so that the tail of a
/// crashed node's log says where it was.
const DEFAULT_LOG_FILTER: &str = "warn,swarm_node=info";

fn main() -> ExitCode {
    let config = NodeConfig::parse();
    if config.current_thread {
        one_malloc_arena();
    }
    // Overlaps the TLS stack's one-time initialisation with startup (see `warm_up_tls`).
    std::thread::spawn(swarm_node::network::warm_up_tls);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal: a log file (the runner's) or a pipe gets
        // plain text, which the runner quotes in its errors and reports.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .init();
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("swarm-node: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// With one runtime thread, glibc's per-thread malloc arenas only add memory: the warm-up
/// thread and tokio's blocking threads would each get an arena of their own. Measured in a
/// 100-node network: 0.5–0.9 MiB less private memory per node with one arena. Must run before
/// any other thread starts.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn run(config: NodeConfig) -> anyhow::Result<()> {
    let mut builder = if config.current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        // Two workers: nodes share the machine with their peers, more threads only contend.
        b.worker_threads(2);
        b
    };
    let runtime = builder.enable_all().build()?;
    runtime.block_on(swarm_node::app::run(config))?;
    // Do not wait for lingering blocking tasks: the contract wants exit within 2 s.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(())
}
