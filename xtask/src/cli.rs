//! The whole `cargo xtask` command grammar, in one place.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use perf_runner::tasks::scale_curve;

/// Development tasks and the swarmbench performance suite.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once per process; boxing the big variant would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure a P2P network: launch a cluster per repetition, drive workloads, write a report
    ///
    /// Examples:
    ///   cargo xtask perf standard                 5 nodes, the PR gate scenario
    ///   cargo xtask perf minimal --repetitions 3  a quick look
    ///   cargo xtask perf ./my.toml --node-bin ./other-node
    ///   cargo xtask perf standard --against main  paired ABBA comparison with another revision
    ///   cargo xtask perf baseline update standard record this testbed's baseline (3 sessions)
    ///   cargo xtask perf list                     shipped scenarios
    ///
    /// Without --against, a run is compared with its testbed's baseline,
    /// baselines/<testbed>/<node>-<transport>/<scenario>.json, when it exists; a baseline of
    /// another testbed, node or transport is shown for information only and never fails the run.
    /// Results go to target/perf/<scenario>/<timestamp>/ (summary.json, report.md, samples.csv,
    /// metrics.jsonl); target/perf/<scenario>/latest points at the newest.
    /// Exit codes: 0 no regression, 1 regression, 2 bad scenario, baseline or arguments,
    /// 3 the run failed (node crashed, timeout, build failed) or is no verdict (nothing
    /// measured, a gated metric the base has not measured), 130 interrupted.
    Perf(PerfArgs),
    /// Micro-benchmarks: criterion wall times and iai-callgrind instruction counts of the node's
    /// and the runner's hot paths, compared and gated like a cluster run
    ///
    /// Examples:
    ///   cargo xtask bench                       both kinds, compared with baselines/bench.json
    ///   cargo xtask bench --against main        and the same benchmarks built at main
    ///   cargo xtask bench --kind instructions --filter gossip
    ///   cargo xtask bench --update-baseline     store the result as baselines/bench.json
    ///
    /// Instruction counts gate by a 1 % threshold (they are deterministic); wall times by the
    /// same statistics as cluster metrics. Needs valgrind and iai-callgrind-runner 0.16.1 for
    /// instruction counts (`cargo xtask test --tools-only` installs both). Results go to
    /// target/perf/bench/<timestamp>/. Exit codes as for `perf`.
    Bench(BenchArgs),
    /// Work on a node implementation of the node contract (node/README.md)
    #[command(subcommand)]
    Node(NodeAction),
    /// Install what the tests need (promtool, valgrind, iai-callgrind-runner, actionlint),
    /// idempotently and while the tests compile, then run every test: doc tests, then
    /// `cargo nextest run --workspace` (cluster tests one at a time, the rest beside them; see
    /// .config/nextest.toml), or `cargo test --workspace` where cargo-nextest is not installed
    Test(TestArgs),
}

/// `cargo xtask node …`.
#[derive(Debug, Subcommand)]
pub enum NodeAction {
    /// Check a node binary against the node contract and print what to fix
    ///
    /// Starts a peer (a second instance of the node, or --peer-bin), then the node bootstrapping
    /// from it; exercises the flags, the ready line, every required endpoint and error answer,
    /// each capability the ready line declares (an undeclared one is skipped, never failed),
    /// SIGTERM and POST /shutdown. One row per rule: pass, FAIL with what to fix, skipped, or
    /// not run (a check it needs failed). A few seconds for a conforming node. Node logs go to
    /// target/perf/node-check/ (see --out).
    ///
    /// Examples:
    ///   cargo xtask node check --node-bin path/to/your-node
    ///   cargo xtask node check --node-bin path/to/your-node --transport tcp
    ///   cargo xtask node check --node-bin path/to/your-node --peer-bin target/debug/swarm-node
    ///
    /// Exit codes: 0 every check passed, 1 a check failed, 2 bad arguments, 3 nothing could be
    /// checked (a binary that cannot be executed, a --peer-bin that does not start).
    Check(NodeCheckArgs),
}

/// `cargo xtask node check`.
#[derive(Debug, clap::Args)]
pub struct NodeCheckArgs {
    /// The node binary to check
    #[arg(long, value_name = "PATH")]
    pub node_bin: PathBuf,
    /// The transport both nodes are started with
    #[arg(long, value_enum, default_value_t = TransportArg::Quic)]
    pub transport: TransportArg,
    /// The peer to check it against, e.g. swarm-node (target/debug/swarm-node) [default: a
    /// second instance of --node-bin]
    #[arg(long, value_name = "PATH")]
    pub peer_bin: Option<PathBuf>,
    /// How long a node may take to print its ready line, seconds (a scenario's default)
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0,
          value_parser = parse_seconds)]
    pub ready_timeout: f64,
    /// Output root directory; node logs go to its node-check/ [default: target/perf]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `cargo xtask perf`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct PerfArgs {
    /// Listings instead of a run.
    #[command(subcommand)]
    pub action: Option<PerfAction>,
    /// Run options.
    #[command(flatten)]
    pub run: PerfRunArgs,
}

/// Listings and baseline management.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum PerfAction {
    /// List the shipped scenarios
    List,
    /// List every metric with its unit, direction and definition
    Metrics,
    /// Manage committed baselines
    #[command(subcommand)]
    Baseline(BaselineAction),
    /// Measure the gate: A/A runs give the false-alarm rate (paired, and unpaired against a
    /// baseline of several sessions), runs of a fault-injection build with a delay calibrated
    /// to a 10 % and a 5 % shift give the detection rate per slowed metric (writes
    /// validation.md)
    ///
    /// Example (about an hour on 2 cores):
    ///   cargo xtask perf validate standard --runs 10 --budget 2m
    Validate(ValidateArgs),
    /// Post or update the sticky PR comment for a report directory
    ///
    /// The report is treated as untrusted data (in CI it is an artifact a fork may have
    /// written): size-capped, parsed, escaped, never executed. The token comes only from
    /// GITHUB_TOKEN; the API from GITHUB_API_URL (GitHub Enterprise), default
    /// https://api.github.com (https required off loopback). The body also goes to
    /// $GITHUB_STEP_SUMMARY when that is set. Only the token's own login's comment is updated
    /// (GET /user), or --author's when given; a GitHub App token (GITHUB_TOKEN) needs --author.
    /// Exit 0 posted, 2 bad arguments or a refused report, 3 GitHub failed.
    ///
    /// Example:
    ///   GITHUB_TOKEN=… cargo xtask perf comment --repo o/r --pr 12 --report target/perf/standard/latest
    ///   cargo xtask perf comment --report target/perf/standard/latest --dry-run --conclusion success
    Comment(CommentArgs),
    /// Append a finished run (its summary.json or run directory) to the history store
    Record(RecordArgs),
    /// Trend report from the history: per-metric plots with change points (E-divisive means)
    Trend(TrendArgs),
    /// Run a suite of scenarios at a resilience level and write one combined report
    ///
    /// Suites: basic (low: minimal, small, lossy-5pct, partition-recovery), comprehensive
    /// (medium to high: standard, large, lossy-5pct, wan-50ms, wan-tcp, partition-recovery,
    /// churn, flaky-links, bootstrap-failure), stress (extreme: scale-100, churn, flaky-links,
    /// lossy-5pct). Exit 3 if a scenario failed, 1 if one regressed against its baseline,
    /// else 0.
    Suite(SuiteArgs),
    /// How cost grows with network size: one run per size, a table and a plot of the medians
    ///
    /// Runs SCENARIO once per size of --sizes, smallest first, with --nodes set to the size and
    /// nothing else changed, so any scenario works. Each size is an ordinary run with its own
    /// run directory and report, compared with nothing: a curve never gates and never reads or
    /// writes a baseline. From each size it takes the medians of formation time, DHT get
    /// p50/p95 (and requests per lookup), gossip latency p50/p99, USS and RSS per node and idle
    /// CPU per node into target/perf/scale-curve/<timestamp>/ (rewritten after every size;
    /// target/perf/scale-curve/latest points at the newest): report.md with one row per size,
    /// curve.json, curve.csv, and curve.svg/png with one panel per metric over the number of
    /// nodes on a log axis.
    ///
    /// How long: about a minute per size up to 100 nodes (scale-100 lets connections settle 45 s
    /// before its idle window); scale-1000 from 10 to 1,000 nodes takes about 12 minutes on a
    /// 2-core machine. The default stops at 100; give --sizes to go further. The first size that fails (formation timeout, a crash) ends the curve
    /// and the larger sizes are "not run"; a scenario's [formation] timeout is the same at every
    /// size, so large sizes may need a scenario made for them.
    ///
    /// What it cannot tell: every node runs on this one machine, so at large sizes the nodes
    /// compete for its cores and that CPU contention inflates the latencies. The curve shows
    /// this machine's limits, not the protocol's.
    ///
    /// Examples:
    ///   cargo xtask perf scale-curve                          scale-100 at 10, 30 and 100 nodes
    ///   cargo xtask perf scale-curve scale-1000 --sizes 10,100,250,500,1000
    ///                                                         10 to 1,000 nodes, random joins
    ///   cargo xtask perf scale-curve large --sizes 5,10,20 --repetitions 3
    ///
    /// Exit codes: 0 every size ran, 2 bad sizes or arguments (nothing is built or run), 3 a
    /// size failed (the curve up to it is written), 130 interrupted (what was measured is
    /// written).
    #[command(verbatim_doc_comment)]
    ScaleCurve(ScaleCurveArgs),
    /// Find the first commit between --good and --bad at which --metric regressed
    ///
    /// Each probe builds the candidate revision (cached by commit) and runs a paired ABBA
    /// comparison against --good on the scenario, gated on that one metric. The bad end is
    /// probed first: if it does not regress, there is nothing to bisect (exit 3).
    ///
    /// Example:
    ///   cargo xtask perf bisect --good v0.3.0 --bad main --scenario standard --metric gossip_latency_ms_p50
    Bisect(BisectArgs),
}

/// `cargo xtask perf comment`.
#[derive(Debug, clap::Args)]
pub struct CommentArgs {
    /// The run's report directory (holding summary.json)
    #[arg(long, value_name = "DIR")]
    pub report: PathBuf,
    /// Repository, owner/name
    #[arg(long, value_name = "OWNER/NAME", required_unless_present = "dry_run")]
    pub repo: Option<String>,
    /// Pull request number
    #[arg(long, value_name = "N", required_unless_present = "dry_run")]
    pub pr: Option<std::num::NonZeroU64>,
    /// The scenario the comment is for (from the workflow, trusted): with it, a run that left
    /// no report, or a refused one, updates the comment to "no report for <commit>"
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// The perf workflow run's conclusion as GitHub recorded it (workflow_run.conclusion),
    /// stated next to the report's own verdict
    #[arg(long, value_name = "CONCLUSION", value_enum)]
    pub conclusion: Option<ConclusionArg>,
    /// The commit the perf run was for (workflow_run.head_sha), named in the comment
    #[arg(long, value_name = "SHA")]
    pub head_sha: Option<String>,
    /// Link to the workflow run that produced the report (https only)
    #[arg(long, value_name = "URL")]
    pub run_url: Option<String>,
    /// Name of the artifact with the full report and plots
    #[arg(long, value_name = "NAME")]
    pub artifact: Option<String>,
    /// Refuse (exit 2, nothing posted) unless the PR's head commit is this one: ties an
    /// untrusted artifact's PR number to the workflow run that produced it
    #[arg(long, value_name = "SHA")]
    pub expect_head_sha: Option<String>,
    /// Only update a marked comment written by this login [default: the token's own login,
    /// from GET /user; a GitHub App token such as GITHUB_TOKEN cannot read it: pass
    /// --author 'github-actions[bot]']
    #[arg(long, value_name = "LOGIN")]
    pub author: Option<String>,
    /// Largest report directory accepted, MiB (1 to 1024)
    #[arg(long, value_name = "MIB", default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_artifact_mib: u64,
    /// Print the body instead of posting it (no token needed)
    #[arg(long)]
    pub dry_run: bool,
}

/// A check run's conclusion, as GitHub names them.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ConclusionArg {
    /// The check passed
    Success,
    /// The check failed
    Failure,
    /// Cancelled
    Cancelled,
    /// Timed out
    TimedOut,
    /// Waiting for an action
    ActionRequired,
    /// Neutral
    Neutral,
    /// Skipped
    Skipped,
    /// Stale
    Stale,
    /// The workflow did not start
    StartupFailure,
}

/// `cargo xtask perf record`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// A run directory or its summary.json
    #[arg(value_name = "RUN")]
    pub run: PathBuf,
    /// History directory (one <scenario>.jsonl per scenario) [default: target/perf/history]
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
}

/// `cargo xtask perf trend`.
#[derive(Debug, clap::Args)]
pub struct TrendArgs {
    /// Scenario whose history to analyse
    pub scenario: String,
    /// History directory [default: target/perf/history]
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// Where trend.md, trend.json and plots/ go [default: target/perf/trend/<scenario>]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A change point among the newest N records counts as recent (and writes alert.md)
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub recent: usize,
    /// Significance level of each change point's permutation test
    #[arg(long, value_name = "ALPHA", default_value_t = 0.01)]
    pub alpha: f64,
    /// Exit 1 when a recent change point is a regression
    #[arg(long)]
    pub fail_on_regression: bool,
}

/// `cargo xtask perf suite`.
#[derive(Debug, clap::Args)]
pub struct SuiteArgs {
    /// basic, comprehensive or stress
    pub suite: String,
    /// Override every scenario's measured repetitions
    #[arg(long, value_name = "N")]
    pub repetitions: Option<usize>,
    /// Node binary speaking the node contract instead of building swarm-node
    #[arg(long, value_name = "PATH")]
    pub node_bin: Option<PathBuf>,
    /// Output root directory [default: target/perf]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Directory of committed baselines [default: baselines/ in the repository]
    #[arg(long, value_name = "DIR")]
    pub baselines: Option<PathBuf>,
    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
}

/// `cargo xtask perf scale-curve`.
#[derive(Debug, clap::Args)]
pub struct ScaleCurveArgs {
    /// Scenario name (see `cargo xtask perf list`) or path to a .toml file; each size changes
    /// only its number of nodes
    #[arg(default_value = scale_curve::DEFAULT_SCENARIO)]
    pub scenario: String,
    /// Network sizes in nodes, comma-separated and strictly increasing, each 2 to 1000
    #[arg(long, value_name = "N,N,…", value_delimiter = ',',
          default_values_t = scale_curve::DEFAULT_SIZES.to_vec())]
    pub sizes: Vec<usize>,
    /// Measured repetitions per size (each a fresh cluster); the curve shows their medians
    #[arg(long, value_name = "N", default_value_t = scale_curve::DEFAULT_REPETITIONS)]
    pub repetitions: usize,
    /// Node binary speaking the node contract (node/README.md) instead of building swarm-node
    #[arg(long, value_name = "PATH")]
    pub node_bin: Option<PathBuf>,
    /// Output root directory [default: target/perf]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bar (the line per size stays)
    #[arg(long, short)]
    pub quiet: bool,
}

/// `cargo xtask perf bisect`.
#[derive(Debug, clap::Args)]
pub struct BisectArgs {
    /// A revision without the regression
    #[arg(long, value_name = "GIT-REF")]
    pub good: String,
    /// A revision with it
    #[arg(long, value_name = "GIT-REF")]
    pub bad: String,
    /// The metric that regressed (see `cargo xtask perf metrics`)
    #[arg(long)]
    pub metric: String,
    /// Scenario to measure with
    #[arg(long, default_value = "standard")]
    pub scenario: String,
    /// Paired rounds per probe (each a base and a head cluster)
    #[arg(long, value_name = "N")]
    pub repetitions: Option<usize>,
    /// Override the number of nodes
    #[arg(long, value_name = "N")]
    pub nodes: Option<usize>,
    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
}

/// `cargo xtask perf validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Runs per experiment
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub runs: usize,
    /// Target shifts the injected delay is calibrated to, one injected experiment each
    #[arg(long, value_name = "FRACTION", value_delimiter = ',', default_values_t = [0.10, 0.05], value_parser = parse_fraction)]
    pub shift: Vec<f64>,
    /// Inject this delay instead of calibrating (one injected experiment), microseconds per
    /// handled gossip message and DHT request
    #[arg(long, value_name = "MICROSECONDS")]
    pub inject_delay_us: Option<u64>,
    /// Sessions of the baseline the `sessions` experiment compares separate runs with
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub sessions: usize,
    /// Which experiments to run, in this order
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Experiment::Aa, Experiment::Sessions, Experiment::Injected])]
    pub experiments: Vec<Experiment>,
    /// Scenario and run options
    #[command(flatten)]
    pub run: PerfRunArgs,
}

/// `cargo xtask perf baseline …`.
#[derive(Debug, Subcommand)]
pub enum BaselineAction {
    /// Record the scenario's baseline for this testbed, node and transport:
    /// baselines/<testbed>/<node>-<transport>/<scenario>.json
    ///
    /// Each session is a separate run (its own clusters), one after another; the file is
    /// written once at the end, so a failed or interrupted session leaves it untouched (and
    /// discards the sessions finished before it).
    ///
    /// Examples:
    ///   cargo xtask perf baseline update standard                     3 new sessions, replacing the file
    ///   cargo xtask perf baseline update standard --append            one more session (another day)
    ///   cargo xtask perf baseline update standard --testbed gha-4c    under a testbed name of your own
    Update(BaselineUpdateArgs),
}

/// `cargo xtask perf baseline update`.
#[derive(Debug, clap::Args)]
pub struct BaselineUpdateArgs {
    /// Independent sessions to record, one run each [default: 3 for a new baseline, 1 with
    /// --append]. A baseline needs at least 2 to gate with the drift between sessions known
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub sessions: Option<u16>,
    /// Add the sessions to the existing baseline of this testbed, node and transport instead of
    /// replacing it (refused when there is none)
    #[arg(long)]
    pub append: bool,
    /// Scenario and run options
    #[command(flatten)]
    pub run: PerfRunArgs,
}

/// Options of a perf run.
#[derive(Debug, Default, clap::Args)]
pub struct PerfRunArgs {
    /// Scenario name (see `cargo xtask perf list`) or path to a .toml file
    #[arg(required = true)]
    pub scenario: Option<String>,
    /// Override the number of nodes
    #[arg(long, value_name = "N")]
    pub nodes: Option<usize>,
    /// Override the number of measured repetitions (each a fresh cluster)
    #[arg(long, value_name = "N")]
    pub repetitions: Option<usize>,
    /// Override the number of discarded warm-up repetitions
    #[arg(long, value_name = "N")]
    pub warmup: Option<usize>,
    /// Override the transport
    #[arg(long, value_enum)]
    pub transport: Option<TransportArg>,
    /// Output root directory [default: target/perf]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Node binary speaking the node contract (node/README.md) instead of building swarm-node
    #[arg(long, value_name = "PATH")]
    pub node_bin: Option<PathBuf>,
    /// Compare with this git revision: build it in a worktree (cached by commit) and run both
    /// in interleaved ABBA order of fresh clusters; this is the mode CI gates on
    #[arg(long, value_name = "GIT-REF", conflicts_with = "base_node_bin")]
    pub against: Option<String>,
    /// Compare with this node binary instead of a git revision (paired, like --against)
    #[arg(long, value_name = "PATH")]
    pub base_node_bin: Option<PathBuf>,
    /// Extra argument for the base side's nodes, repeatable
    #[arg(long = "base-node-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub base_node_args: Vec<String>,
    /// Directory of committed baselines [default: baselines/ in the repository]
    #[arg(long, value_name = "DIR")]
    pub baselines: Option<PathBuf>,
    /// Testbed (machine class) whose baseline the run is compared with or recorded as:
    /// lowercase letters, digits and '-' [default: $SWARMBENCH_TESTBED, else derived from CPU
    /// model, cores and OS, e.g. intel-xeon-processor-2c-debian-gnu-linux-12]
    #[arg(long, value_name = "NAME")]
    pub testbed: Option<String>,
    /// Regression threshold for every metric as a fraction (0.05 = 5 %): the change worth
    /// blocking for, replacing the default 5 % and the scenario's [thresholds]
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    pub threshold: Option<f64>,
    /// Time a paired run (--against, --base-node-bin) may take: it adds ABBA pairs until every
    /// gated metric is decided, then stops; what is undecided when time runs out is
    /// "inconclusive". Seconds, or with a unit: 90s, 5m [default: 5m]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub budget: Option<std::time::Duration>,
    /// Extra argument for every node, repeatable (e.g. --node-arg=--current-thread)
    #[arg(long = "node-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub node_args: Vec<String>,
    /// Keep node logs of successful repetitions (failed ones are always kept)
    #[arg(long)]
    pub keep_logs: bool,
    /// Print summary.json to stdout instead of the table
    #[arg(long)]
    pub json: bool,
    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
    /// Touch the node's main.rs and time its release rebuild (reported as build_time_s)
    #[arg(long)]
    pub measure_build: bool,
}

/// A validation experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Experiment {
    /// The same binary on both sides of paired runs: measures false alarms
    Aa,
    /// Separate runs of one binary against a baseline of several sessions of it: measures the
    /// sessions test's false alarms
    Sessions,
    /// A deliberate delay on the head side: measures detection
    Injected,
}

/// `--transport`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TransportArg {
    /// QUIC v1
    Quic,
    /// TCP + noise + yamux
    Tcp,
}

/// `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Only benchmarks whose name contains this (e.g. gossip, report_plots)
    #[arg(long, value_name = "NAME")]
    pub filter: Option<String>,
    /// Which harness to run
    #[arg(long, value_enum, default_value_t = BenchKind::All)]
    pub kind: BenchKind,
    /// Compare with the same benchmarks built at this git revision (in a worktree)
    #[arg(long, value_name = "GIT-REF", conflicts_with = "update_baseline")]
    pub against: Option<String>,
    /// Store the result as baselines/bench.json instead of comparing
    #[arg(long)]
    pub update_baseline: bool,
    /// Shorter wall-time measurement (1 s warm-up, 3 s per benchmark instead of 3 s + 5 s)
    #[arg(long)]
    pub quick: bool,
    /// Cargo profile to build the harnesses with. The default measures the node's code as
    /// shipped (release settings with symbols); `dev` reuses the test build, which the tests
    /// use to check the harnesses quickly (its numbers are not the shipped build's)
    #[arg(long, value_name = "PROFILE", default_value = perf_runner::tasks::bench::SHIPPED_PROFILE)]
    pub cargo_profile: String,
    /// Directory of committed baselines [default: baselines/ in the repository]
    #[arg(long, value_name = "DIR")]
    pub baselines: Option<PathBuf>,
    /// Output root directory [default: target/perf]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Regression threshold for every metric as a fraction, replacing the defaults
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    pub threshold: Option<f64>,
    /// Print summary.json to stdout instead of the table
    #[arg(long)]
    pub json: bool,
    /// Hide cargo's and the harnesses' output
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--kind` of `cargo xtask bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchKind {
    /// Both harnesses
    All,
    /// criterion wall times only
    Wall,
    /// iai-callgrind instruction counts only
    Instructions,
}

/// `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Only install the tools; do not run the tests
    #[arg(long)]
    pub tools_only: bool,
    /// Extra arguments for the test runner (after `--`): test name filters, `--no-capture`, …
    /// (cargo-nextest where installed, else `cargo test`)
    #[arg(last = true)]
    pub cargo_args: Vec<String>,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match s.strip_suffix('m') {
        Some(minutes) => (minutes, 60.0),
        None => (s.strip_suffix('s').unwrap_or(s), 1.0),
    };
    let v: f64 = number.parse().map_err(|_| {
        format!("{s:?} is not a duration: give seconds (300, 300s) or minutes (5m)")
    })?;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("{s:?}: a duration must be positive"));
    }
    Ok(std::time::Duration::from_secs_f64(v * unit))
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!("{s:?}: give seconds, more than 0 and at most 3600")),
    }
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.0..=10.0).contains(&v) {
        return Err(format!(
            "{v} is out of range: a threshold is a fraction between 0 and 10 (0.05 = 5 %)"
        ));
    }
    Ok(v)
}
