//! `cargo xtask`: the command-line front of swarmbench.
//!
//! This binary parses arguments, calls one function, and maps the outcome to an exit code.
//! Performance logic lives in the `perf-runner` library; dev-tool setup lives in `tools`.

mod cli;
mod testing;
mod tools;

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::Parser;
use cli::{
    BaselineAction, BaselineUpdateArgs, BenchArgs, BenchKind, BisectArgs, Cli, Command,
    CommentArgs, ConclusionArg, Experiment, NodeAction, NodeCheckArgs, PerfAction, PerfArgs,
    PerfRunArgs, RecordArgs, ScaleCurveArgs, SuiteArgs, TestArgs, TransportArg, TrendArgs,
    ValidateArgs,
};
use perf_runner::{
    Exit,
    data::{comparison::Comparison, summary::RunSummary},
    github::client::Posted,
    report,
    report::comment::{Links, NoReport},
    run::Outcome,
    scenario::{Overrides, Transport},
    tasks::{
        Common, bench, bisect, comment,
        history::{self, RecordRequest, TrendRequest},
        node_check::{self, NodeCheckRequest},
        perf::{BaselineRequest, PerfRequest, run_scenario, update_baseline},
        scale_curve::{self, CurveRequest},
        suite,
        validate::{self, ValidateRequest},
    },
};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit(Exit::Usage)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Perf(PerfArgs {
            action: Some(action),
            ..
        }) => Ok(perf_action(action)),
        Command::Perf(PerfArgs { action: None, run }) => Ok(perf_run(run)),
        Command::Bench(args) => Ok(bench(args)),
        Command::Node(NodeAction::Check(args)) => Ok(node_check(args)),
        Command::Test(args) => test(args),
    }
}

fn perf_action(action: PerfAction) -> ExitCode {
    match action {
        PerfAction::List => {
            print!("{}", report::terminal::scenario_list());
            exit(Exit::Success)
        }
        PerfAction::Metrics => {
            print!("{}", report::terminal::metric_list());
            exit(Exit::Success)
        }
        PerfAction::Baseline(BaselineAction::Update(run)) => baseline_update(run),
        PerfAction::Validate(args) => validate(args),
        PerfAction::Comment(args) => comment(args),
        PerfAction::Record(args) => record(args),
        PerfAction::Trend(args) => trend(args),
        PerfAction::Bisect(args) => bisect(args),
        PerfAction::Suite(args) => suite(args),
        PerfAction::ScaleCurve(args) => curve(args),
    }
}

/// The process exit code of an outcome: the one place an [`Exit`] becomes a number.
fn exit(outcome: Exit) -> ExitCode {
    ExitCode::from(outcome.code())
}

/// Prints the error and returns its exit code.
fn fail(e: impl Into<perf_runner::Error>) -> ExitCode {
    let e = e.into();
    eprintln!("error: {e}");
    exit(e.exit())
}

/// The repository root: xtask lives one level below it.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent")
        .to_path_buf()
}

fn request(args: PerfRunArgs) -> PerfRequest {
    let root = project_root();
    PerfRequest {
        scenario: args.scenario.expect("clap requires a scenario"),
        overrides: Overrides {
            nodes: args.nodes,
            repetitions: args.repetitions,
            warmup: args.warmup,
            transport: args.transport.map(transport),
        },
        node_bin: args.node_bin,
        node_args: args.node_args,
        against: args.against,
        base_node_bin: args.base_node_bin,
        base_node_args: args.base_node_args,
        budget: args
            .budget
            .unwrap_or(perf_runner::tasks::sequential::DEFAULT_BUDGET),
        common: Common {
            baselines: args.baselines.unwrap_or_else(|| root.join("baselines")),
            threshold: args.threshold,
            out: args.out,
            quiet: args.quiet,
            workspace: root,
        },
        keep_logs: args.keep_logs,
        measure_build: args.measure_build,
        testbed: args.testbed,
    }
}

fn perf_run(args: PerfRunArgs) -> ExitCode {
    let json = args.json;
    let outcome = match run_scenario(&request(args)) {
        Ok(outcome) => outcome,
        Err(e) => return fail(e),
    };
    let summary = &outcome.result.summaries[0];
    print_result(
        json,
        summary,
        outcome.comparison.as_ref(),
        &outcome.result.dir.report_md(),
    );
    if let Some(notice) = &outcome.notice {
        eprintln!("note: {notice}");
    }
    if let Some(error) = &outcome.plot_error {
        eprintln!("warning: plots were not drawn: {error}");
    }
    match &outcome.result.outcome {
        Outcome::Complete => {}
        Outcome::Interrupted => eprintln!(
            "interrupted: partial results written to {}",
            outcome.result.dir.dir.display()
        ),
        Outcome::Failed(message) => eprintln!("error: the run failed: {message}"),
    }
    exit(outcome.exit())
}

/// The summary as JSON (`--json`), or the terminal table with the comparison and the report's
/// path.
fn print_result(
    json: bool,
    summary: &RunSummary,
    comparison: Option<&Comparison>,
    report_md: &Path,
) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(summary).expect("summary serializes")
        );
    } else {
        let color = std::io::stdout().is_terminal();
        print!(
            "{}",
            report::terminal::run_result(summary, comparison, report_md, color)
        );
    }
}

fn validate(args: ValidateArgs) -> ExitCode {
    let request = ValidateRequest {
        perf: request(args.run),
        runs: args.runs,
        experiments: args
            .experiments
            .iter()
            .map(|e| match e {
                Experiment::Aa => validate::Which::Aa,
                Experiment::Sessions => validate::Which::Sessions,
                Experiment::Injected => validate::Which::Injected,
            })
            .collect(),
        shifts: args.shift,
        inject_delay_us: args.inject_delay_us,
        sessions: args.sessions,
    };
    match validate::validate(&request) {
        Ok((validation, dir)) => {
            print!("{}", report::validation::render(&validation));
            println!("written: {}", dir.validation_md().display());
            exit(Exit::Success)
        }
        Err(e) => fail(e),
    }
}

fn baseline_update(args: BaselineUpdateArgs) -> ExitCode {
    let request = BaselineRequest {
        perf: request(args.run),
        sessions: args.sessions.map(usize::from),
        append: args.append,
    };
    match update_baseline(&request) {
        Ok(update) => {
            for run in &update.runs {
                print!("{}", report::terminal::render(&run.summaries[0]));
            }
            println!(
                "baseline written: {} ({} new session(s), {} in all)",
                update.written.path.display(),
                update.added,
                update.written.baseline.sessions().len()
            );
            exit(Exit::Success)
        }
        Err(e) => fail(e),
    }
}

fn comment(args: CommentArgs) -> ExitCode {
    use perf_runner::report::comment::Conclusion;
    let conclusion = args.conclusion.map(|c| match c {
        ConclusionArg::Success => Conclusion::Success,
        ConclusionArg::Failure => Conclusion::Failure,
        ConclusionArg::Cancelled => Conclusion::Cancelled,
        ConclusionArg::TimedOut => Conclusion::TimedOut,
        ConclusionArg::ActionRequired => Conclusion::ActionRequired,
        ConclusionArg::Neutral => Conclusion::Neutral,
        ConclusionArg::Skipped => Conclusion::Skipped,
        ConclusionArg::Stale => Conclusion::Stale,
        ConclusionArg::StartupFailure => Conclusion::StartupFailure,
    });
    let post = match (args.dry_run, args.repo, args.pr) {
        (true, _, _) => None,
        (false, Some(repo), Some(pr)) => Some(comment::PostTo {
            repo,
            pr: pr.get(),
            author: args.author,
            expect_head_sha: args.expect_head_sha,
        }),
        (false, _, _) => {
            return fail(perf_runner::Error::Usage(
                "--repo and --pr are required unless --dry-run".into(),
            ));
        }
    };
    let request = comment::CommentRequest {
        report: args.report,
        // clap caps the MiB at 1024, so this cannot overflow.
        max_artifact_bytes: args.max_artifact_mib.saturating_mul(1024 * 1024),
        links: Links {
            run_url: args.run_url,
            artifact: args.artifact,
            conclusion,
            head_sha: args.head_sha,
        },
        scenario: args.scenario,
        post,
    };
    let outcome = match comment::comment(&request) {
        Ok(outcome) => outcome,
        Err(e) => return fail(e),
    };
    match outcome.done {
        comment::Done::Rendered(body) => print!("{body}"),
        comment::Done::Posted(Posted::Created { url, .. }) => println!("created {url}"),
        comment::Done::Posted(Posted::Updated { url, .. }) => println!("updated {url}"),
    }
    match outcome.report {
        comment::ReportState::Rendered => exit(Exit::Success),
        comment::ReportState::Absent(NoReport::Missing) => {
            eprintln!("note: the run left no report; the comment says so");
            exit(Exit::Success)
        }
        comment::ReportState::Absent(NoReport::Refused(why)) => {
            eprintln!("error: the report was refused ({why}); the comment says so");
            exit(Exit::Usage)
        }
    }
}

fn record(args: RecordArgs) -> ExitCode {
    let request = RecordRequest {
        run: args.run,
        history: args.history,
        workspace: project_root(),
    };
    match history::record(&request) {
        Ok((path, perf_runner::history::Recorded::Appended(n))) => {
            println!("recorded as run {n} in {}", path.display());
            exit(Exit::Success)
        }
        Ok((path, perf_runner::history::Recorded::AlreadyPresent)) => {
            println!("already recorded in {}", path.display());
            exit(Exit::Success)
        }
        Err(e) => fail(e),
    }
}

fn trend(args: TrendArgs) -> ExitCode {
    let request = TrendRequest {
        scenario: args.scenario,
        history: args.history,
        out: args.out,
        recent: args.recent,
        alpha: args.alpha,
        fail_on_regression: args.fail_on_regression,
        workspace: project_root(),
    };
    let outcome = match history::trend(&request) {
        Ok(outcome) => outcome,
        Err(e) => return fail(e),
    };
    if let Some(e) = &outcome.plot_error {
        eprintln!("warning: trend plots were not drawn: {e}");
    }
    print!("{}", outcome.markdown);
    println!("\nwritten: {}", outcome.written.display());
    exit(outcome.exit())
}

fn suite(args: SuiteArgs) -> ExitCode {
    let chosen = match suite::find(&args.suite) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let template = request(PerfRunArgs {
        scenario: Some(String::new()),
        repetitions: args.repetitions,
        out: args.out,
        node_bin: args.node_bin,
        baselines: args.baselines,
        quiet: args.quiet,
        ..PerfRunArgs::default()
    });
    match suite::run(chosen, &template) {
        Ok((entries, report)) => {
            print!("{}", report::suite::render(chosen, &entries));
            println!("\nsuite report: {}", report.display());
            exit(perf_runner::data::suite::worst(&entries).exit())
        }
        Err(e) => fail(e),
    }
}

fn curve(args: ScaleCurveArgs) -> ExitCode {
    let perf = request(PerfRunArgs {
        scenario: Some(args.scenario),
        repetitions: Some(args.repetitions),
        out: args.out,
        node_bin: args.node_bin,
        quiet: args.quiet,
        ..PerfRunArgs::default()
    });
    let outcome = match scale_curve::run(&CurveRequest {
        perf,
        sizes: args.sizes,
    }) {
        Ok(outcome) => outcome,
        Err(e) => return fail(e),
    };
    print!("{}", report::curve::table(&outcome.curve));
    println!("\nscale curve: {}", outcome.dir.report_md().display());
    if let Some(error) = &outcome.plot_error {
        eprintln!("warning: the plot was not drawn: {error}");
    }
    if outcome.exit() == Exit::Interrupted {
        eprintln!(
            "interrupted: what was measured is written to {}",
            outcome.dir.dir.display()
        );
    }
    exit(outcome.exit())
}

fn bisect(args: BisectArgs) -> ExitCode {
    let perf = request(PerfRunArgs {
        scenario: Some(args.scenario),
        nodes: args.nodes,
        repetitions: args.repetitions,
        quiet: args.quiet,
        ..PerfRunArgs::default()
    });
    let request = bisect::BisectRequest {
        perf,
        good: args.good,
        bad: args.bad,
        metric: args.metric,
    };
    match bisect::bisect(&request) {
        Ok(b) => {
            print!("{}", bisect::render(&b));
            exit(Exit::Success)
        }
        Err(e) => fail(e),
    }
}

fn bench(args: BenchArgs) -> ExitCode {
    let root = project_root();
    let request = bench::BenchRequest {
        kinds: bench::Kinds {
            wall: args.kind != BenchKind::Instructions,
            instructions: args.kind != BenchKind::Wall,
        },
        filter: args.filter,
        against: args.against,
        common: Common {
            baselines: args.baselines.unwrap_or_else(|| root.join("baselines")),
            out: args.out,
            threshold: args.threshold,
            quiet: args.quiet,
            workspace: root,
        },
        quick: args.quick,
        update_baseline: args.update_baseline,
        cargo_profile: args.cargo_profile,
    };
    let outcome = match bench::run(&request) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    print_result(
        args.json,
        &outcome.summary,
        outcome.summary.comparison.as_ref(),
        &outcome.dir.report_md(),
    );
    if let Some(path) = &outcome.baseline_written {
        println!("baseline written: {}", path.display());
    }
    if let Some(notice) = &outcome.notice {
        eprintln!("note: {notice}");
    }
    exit(outcome.exit())
}

fn node_check(args: NodeCheckArgs) -> ExitCode {
    let request = NodeCheckRequest {
        node_bin: args.node_bin,
        peer_bin: args.peer_bin,
        transport: transport(args.transport),
        log_dir: perf_runner::data::output::OutputRoot::chosen(
            args.out.as_deref(),
            &project_root(),
        )
        .node_check(),
        ready_timeout: std::time::Duration::from_secs_f64(args.ready_timeout),
    };
    match node_check::check(&request) {
        Ok(check) => {
            print!("{}", report::node_check::render(&check));
            if check.failed().next().is_some() {
                println!("node logs: {}", request.log_dir.display());
            }
            exit(check.exit())
        }
        Err(e) => fail(e),
    }
}

fn transport(arg: TransportArg) -> Transport {
    match arg {
        TransportArg::Quic => Transport::Quic,
        TransportArg::Tcp => Transport::Tcp,
    }
}

fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    testing::run(&testing::TestRequest {
        root: project_root(),
        tools_only: args.tools_only,
        runner_args: args.cargo_args,
    })
}
