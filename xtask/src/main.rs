//! `cargo xtask`: the command-line front of swarmbench.
//!
//! This binary parses arguments, calls one function, and maps the outcome to an exit code.
//! Performance logic lives in the `perf-runner` library; dev-tool setup lives in `tools`.

mod cli;
mod tools;

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    process::{Command as Process, ExitCode},
};

use anyhow::Context;
use clap::Parser;
use cli::{
    BaselineAction, Cli, Command, Experiment, PerfAction, PerfArgs, PerfRunArgs, TestArgs,
    TransportArg, ValidateArgs,
};
use perf_runner::{
    perf::{PerfRequest, run_scenario, update_baseline},
    report,
    run::Outcome,
    scenario::{Overrides, Transport},
    validate::ValidateRequest,
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
        Command::Perf(PerfArgs {
            action: Some(PerfAction::Baseline(BaselineAction::Update(run))),
            ..
        }) => Ok(baseline_update(run)),
        Command::Perf(PerfArgs {
            action: Some(PerfAction::Validate(args)),
            ..
        }) => Ok(validate(args)),
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

fn request(args: PerfRunArgs) -> PerfRequest {
    let root = project_root();
    PerfRequest {
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
        against: args.against,
        base_node_bin: args.base_node_bin,
        base_node_args: args.base_node_args,
        baselines: args.baselines.unwrap_or_else(|| root.join("baselines")),
        threshold: args.threshold,
        out: args.out,
        keep_logs: args.keep_logs,
        measure_build: args.measure_build,
        quiet: args.quiet,
        workspace: root,
    }
}

fn perf(args: PerfRunArgs) -> ExitCode {
    let json = args.json;
    let outcome = match run_scenario(&request(args)) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    let summary = &outcome.result.summaries[0];
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(summary).expect("summary serializes")
        );
    } else {
        print!("{}", report::terminal::render(summary));
        if let Some(comparison) = &outcome.comparison {
            print!(
                "{}",
                report::terminal::render_comparison(comparison, std::io::stdout().is_terminal())
            );
        }
        println!("report: {}", outcome.result.dir.report_md().display());
    }
    if let Some(notice) = &outcome.notice {
        eprintln!("note: {notice}");
    }
    if let Some(error) = &outcome.plot_error {
        eprintln!("warning: plots were not drawn: {error}");
    }
    match run_exit(&outcome.result) {
        Some(code) => code,
        None if outcome
            .comparison
            .as_ref()
            .is_some_and(|c| !c.regressions().is_empty()) =>
        {
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}

/// The exit code of an interrupted or failed run; `None` when it completed.
fn run_exit(result: &perf_runner::run::RunResult) -> Option<ExitCode> {
    match &result.outcome {
        Outcome::Complete => None,
        Outcome::Interrupted => {
            eprintln!(
                "interrupted: partial results written to {}",
                result.dir.dir.display()
            );
            Some(ExitCode::from(130))
        }
        Outcome::Failed(message) => {
            eprintln!("error: the run failed: {message}");
            Some(ExitCode::from(3))
        }
    }
}

fn validate(args: ValidateArgs) -> ExitCode {
    let request = ValidateRequest {
        perf: request(args.run),
        runs: args.runs,
        inject_delay_us: args.inject_delay_us,
        aa: args.experiments.contains(&Experiment::Aa),
        injected: args.experiments.contains(&Experiment::Injected),
    };
    match perf_runner::validate::validate(&request) {
        Ok((validation, dir)) => {
            print!("{}", perf_runner::validate::render(&validation));
            println!("written: {}", dir.dir.join("validation.md").display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn baseline_update(args: PerfRunArgs) -> ExitCode {
    match update_baseline(&request(args)) {
        Ok((result, path)) => {
            print!("{}", report::terminal::render(&result.summaries[0]));
            println!("baseline written: {}", path.display());
            ExitCode::SUCCESS
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
