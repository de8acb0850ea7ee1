//! `cargo xtask`: the command-line front of swarmbench.
//!
//! This binary parses arguments, calls one function, and maps the outcome to an exit code.
//! Performance logic lives in the `perf-runner` library; dev-tool setup lives in `tools`.

mod cli;
mod tools;

use std::{
    path::{Path, PathBuf},
    process::{Command as Process, ExitCode},
};

use anyhow::Context;
use clap::Parser;
use cli::{Cli, Command, PerfAction, PerfArgs, PerfRunArgs, TestArgs, TransportArg};
use perf_runner::{
    perf::{PerfRequest, run_scenario},
    report,
    run::Outcome,
    scenario::{Overrides, Transport},
};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Perf(PerfArgs {
            action: Some(PerfAction::List),
            ..
        }) => {
            list_scenarios();
            Ok(ExitCode::SUCCESS)
        }
        Command::Perf(PerfArgs {
            action: Some(PerfAction::Metrics),
            ..
        }) => {
            for m in perf_runner::metrics::ALL {
                println!(
                    "{:<36} {:<12} {:?}\n    {}",
                    m.name, m.unit, m.direction, m.definition
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Perf(PerfArgs { action: None, run }) => Ok(perf(run)),
        Command::Test(args) => test(args),
    }
}

/// The repository root: xtask lives one level below it.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent")
        .to_path_buf()
}

fn list_scenarios() {
    for name in perf_runner::scenario::shipped_names() {
        match perf_runner::scenario::resolve(&name) {
            Ok(s) => println!(
                "{name:<12} {:>4} nodes  {:<8} {}",
                s.nodes,
                s.topology.to_string(),
                s.description
            ),
            Err(e) => println!("{name:<12} invalid: {e}"),
        }
    }
}

fn perf(args: PerfRunArgs) -> ExitCode {
    let request = PerfRequest {
        scenario: args.scenario.expect("clap requires a scenario"),
        overrides: Overrides {
            nodes: args.nodes,
            repetitions: args.repetitions,
            warmup: args.warmup,
            transport: args.transport.map(|t| match t {
                TransportArg::Quic => Transport::Quic,
                TransportArg::Tcp => Transport::Tcp,
            }),
        },
        node_bin: args.node_bin,
        node_args: args.node_args,
        out: args.out,
        keep_logs: args.keep_logs,
        measure_build: args.measure_build,
        quiet: args.quiet,
        workspace: project_root(),
    };
    match run_scenario(&request) {
        Ok(result) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&result.summary).expect("summary serializes")
                );
            } else {
                print!("{}", report::terminal::render(&result.summary));
                println!("report: {}", result.dir.report_md().display());
            }
            match result.outcome {
                Outcome::Complete => ExitCode::SUCCESS,
                Outcome::Interrupted => {
                    eprintln!(
                        "interrupted: partial results written to {}",
                        result.dir.dir.display()
                    );
                    ExitCode::from(130)
                }
                Outcome::Failed(message) => {
                    eprintln!("error: the run failed: {message}");
                    ExitCode::from(3)
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    tools::ensure_installed()?;
    if args.tools_only {
        return Ok(ExitCode::SUCCESS);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Process::new(cargo)
        .args(["test", "--workspace"])
        .args(&args.cargo_args)
        .status()
        .context("running cargo test")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
