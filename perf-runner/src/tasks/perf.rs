//! The entry points behind `cargo xtask perf`: resolve, build, check, run, compare.
//!
//! The runner's async work runs on a current-thread runtime on the calling thread. That is a
//! correctness requirement, not a taste: nodes get `PR_SET_PDEATHSIG`, which fires when the
//! *thread* that forked them exits, so every fork must come from a thread that lives exactly
//! as long as the process.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use crate::{
    Error, Exit,
    cluster::check_node_bin,
    compare::Comparison,
    data::baseline::{self, Baseline, BaselineKey, Found},
    data::env::{Fingerprint, Revision, TESTBED_ENV, Testbed},
    data::summary::RunSummary,
    measure::build::{binary_size_bytes, build_release_node, build_revision_node},
    report::plots::{self, PlotData},
    report::progress::ProgressBarObserver,
    run::{self, Arm, Fixed, RunConfig, RunResult, Stopping},
    scenario::{self, Overrides, Scenario},
    tasks::{
        Common,
        gate::{self, Base, Gate},
        no_verdict, preflight,
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
    /// The testbed named with `--testbed`; else [`TESTBED_ENV`], else derived from this
    /// machine's fingerprint.
    pub testbed: Option<String>,
}

/// What `perf baseline update` was asked for.
#[derive(Debug, Clone)]
pub struct BaselineRequest {
    /// The scenario and run options; every session runs with them.
    pub perf: PerfRequest,
    /// Independent sessions to record; default [`DEFAULT_NEW_SESSIONS`] for a new baseline,
    /// 1 with `append`.
    pub sessions: Option<usize>,
    /// Add the sessions to the existing baseline instead of replacing it.
    pub append: bool,
}

/// Sessions of a new baseline when `--sessions` is not given. The unpaired comparison needs at
/// least two to see the drift between sessions (with one it cannot rule drift out and says
/// so); three give a first estimate of that drift for three times the time of one run.
pub const DEFAULT_NEW_SESSIONS: usize = 3;

/// A recorded baseline and the runs it was made of.
pub struct BaselineUpdate {
    /// One run per new session, in order.
    pub runs: Vec<RunResult>,
    /// The file written and the baseline in it (old sessions included with `append`).
    pub written: Found,
    /// How many sessions this invocation added.
    pub added: usize,
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
    let scenario = preflight::perf(request)?;
    let paired = request.against.is_some() || request.base_node_bin.is_some();
    let key = baseline_key(request, &scenario)?;
    // Read the baseline before measuring anything: a bad one is a configuration error.
    let stored = if paired {
        None
    } else {
        choose_baseline(&request.common.baselines, &key)?
    };
    let gate = gate_for(request, &scenario, None);
    let (mut result, mut comparison) = if paired {
        run_paired(request, &scenario, gate)?
    } else {
        let mut result = execute(
            request,
            &scenario,
            vec![head_arm(request)?],
            &mut Fixed(scenario.repetitions),
        )?;
        name_testbed(&mut result, &key.testbed);
        let comparison = stored.as_ref().map(|chosen| {
            let base = Base::Baseline {
                stored: &chosen.found.baseline,
                path: &chosen.found.path,
            };
            let mut c = gate::compare(&result.summaries[0], base, &gate);
            c.informational = chosen.informational.clone();
            c
        });
        (result, comparison)
    };
    if let Some(comparison) = &mut comparison {
        judge(
            comparison,
            &result,
            stored.as_ref().map(|c| &c.found.baseline),
        );
    }
    let notice = (!paired)
        .then(|| baseline_notice(request, &key, stored.as_ref()))
        .flatten();
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
    let testbed = testbed_of(request)?;
    let mut stop = SequentialStop::new(scenario.repetitions, request.budget, gate, label);
    let mut result = execute(request, scenario, vec![head, base], &mut stop)?;
    name_testbed(&mut result, &testbed);
    Ok((result, stop.into_comparison()))
}

/// Compares a finished run with a baseline the caller holds, through the gate `run_scenario`
/// uses (`perf validate`'s sessions experiment builds its baseline in memory).
pub fn compare_with_baseline(
    request: &PerfRequest,
    head: &RunSummary,
    stored: &Baseline,
    path: &Path,
) -> Result<Comparison, Error> {
    let scenario = scenario::resolve_with(&request.scenario, &request.overrides)?;
    let gate = gate_for(request, &scenario, None);
    Ok(gate::compare(head, Base::Baseline { stored, path }, &gate))
}

/// The baseline key of `request`'s run: its testbed, node implementation, transport, scenario.
pub fn key_of(request: &PerfRequest) -> Result<BaselineKey, Error> {
    let scenario = scenario::resolve_with(&request.scenario, &request.overrides)?;
    baseline_key(request, &scenario)
}

/// Marks what the head did not measure and whether the comparison is a verdict at all: the
/// base is the run's second arm, or else the stored baseline.
fn judge(comparison: &mut Comparison, result: &RunResult, stored: Option<&Baseline>) {
    let base_samples = |name: &str| match result.summaries.get(1) {
        Some(base) => base.metric(name).map(|m| m.samples.as_slice()),
        // The latest session that has it: a baseline's level for the "not measured" row.
        None => stored.and_then(|s| {
            s.sessions().iter().rev().find_map(|session| {
                let m = session.metrics.iter().find(|m| m.name == name)?;
                (!m.samples.is_empty()).then_some(m.samples.as_slice())
            })
        }),
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
    let scenario = scenario::resolve_with(&request.scenario, &request.overrides)?;
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

/// Runs the scenario as `request.sessions` independent sessions, one after another, and stores
/// them as the baseline of this testbed, node and transport (replacing it, or appended to it).
/// The file is written once, at the end: a failed or interrupted session leaves it as it was,
/// and the sessions finished before are not kept (their runs stay in the output directory).
pub fn update_baseline(request: &BaselineRequest) -> Result<BaselineUpdate, Error> {
    let perf = &request.perf;
    let scenario = preflight::perf(perf)?;
    let key = baseline_key(perf, &scenario)?;
    let dir = &perf.common.baselines;
    if request.append {
        // Refuse before minutes of measuring, not after.
        baseline::appendable(dir, &key)?;
    }
    let wanted = request.sessions.unwrap_or(if request.append {
        1
    } else {
        DEFAULT_NEW_SESSIONS
    });
    if wanted == 0 {
        return Err(Error::Usage("--sessions must be at least 1".into()));
    }
    let arm = head_arm(perf)?;
    let (mut runs, mut sessions) = (Vec::new(), Vec::new());
    for number in 1..=wanted {
        if wanted > 1 {
            eprintln!("baseline {}: session {number} of {wanted}", scenario.name);
        }
        let mut result = execute(
            perf,
            &scenario,
            vec![arm.clone()],
            &mut Fixed(scenario.repetitions),
        )?;
        name_testbed(&mut result, &key.testbed);
        crate::report::write_run_files(&result.dir, &result.summaries[0])?;
        let unwritten = || {
            format!(
                "session {number} of {wanted}: nothing was written to {} ({} finished session(s) discarded; `--sessions 1 --append` records and keeps one session at a time)",
                key.path(dir).display(),
                number - 1
            )
        };
        match &result.outcome {
            run::Outcome::Complete => sessions.push(baseline::session(&result.summaries[0])?),
            run::Outcome::Interrupted => {
                return Err(Error::Interrupted(format!(
                    "interrupted in {}",
                    unwritten()
                )));
            }
            run::Outcome::Failed(message) => {
                return Err(Error::RunFailed(format!(
                    "{message}; failed in {}",
                    unwritten()
                )));
            }
        }
        runs.push(result);
    }
    let written = baseline::record(dir, &key, sessions, request.append)?;
    Ok(BaselineUpdate {
        runs,
        written,
        added: wanted,
    })
}

/// The testbed of `request`: `--testbed`, else [`TESTBED_ENV`], else derived from this machine.
pub fn testbed_of(request: &PerfRequest) -> Result<Testbed, Error> {
    let env = std::env::var(TESTBED_ENV).ok();
    let machine = Fingerprint::current("-");
    Ok(Testbed::choose(
        request.testbed.as_deref(),
        env.as_deref(),
        &machine,
    )?)
}

/// The file stem of the node `cargo xtask perf` builds: its implementation name.
const BUILT_NODE: &str = "swarm-node";

/// What a run of `scenario` with `request`'s node is a baseline for, or compared with. A mixed
/// network's implementation joins its node groups' to the run's own (`swarm-node+js-libp2p`),
/// so that it is never gated against a single implementation's baseline, nor one against it.
fn baseline_key(request: &PerfRequest, scenario: &Scenario) -> Result<BaselineKey, Error> {
    let own = request
        .node_bin
        .as_deref()
        .map_or_else(|| BUILT_NODE.into(), baseline::implementation_of);
    let mut implementation = own.clone();
    for other in scenario.group_implementations() {
        if other.name != own {
            implementation.push('+');
            implementation.push_str(other.name);
        }
    }
    if implementation == own && !scenario.node_groups.is_empty() {
        // Every group runs the run's own implementation: still a run of the mixed scenario.
        implementation.push_str("+groups");
    }
    Ok(BaselineKey {
        testbed: testbed_of(request)?,
        implementation,
        transport: scenario.transport.to_string(),
        scenario: scenario.name.clone(),
    })
}

/// Records the testbed in every arm's summary.
fn name_testbed(result: &mut RunResult, testbed: &Testbed) {
    for summary in &mut result.summaries {
        summary.testbed = Some(testbed.clone());
    }
}

/// The baseline a run is compared with, and why only for information when it is.
#[derive(Debug)]
struct ChosenBaseline {
    found: Found,
    /// Set when the baseline is another testbed's, implementation's or transport's.
    informational: Option<String>,
}

/// The baseline of exactly `key`, which gates; else the nearest other baseline of the
/// scenario, shown for information only; else none.
fn choose_baseline(dir: &Path, key: &BaselineKey) -> Result<Option<ChosenBaseline>, Error> {
    if let Some(baseline) = baseline::load_exact(dir, key)? {
        let found = Found {
            baseline,
            path: key.path(dir),
        };
        return Ok(Some(ChosenBaseline {
            found,
            informational: None,
        }));
    }
    Ok(baseline::nearest(dir, key)?.map(|found| ChosenBaseline {
        informational: Some(format!(
            "baseline recorded on {}, this run is {}",
            found.baseline.key().describe(),
            key.describe()
        )),
        found,
    }))
}

/// The note after an unpaired run without a baseline of its own: how to get a gate. `None`
/// when the run was gated by its own baseline.
fn baseline_notice(
    request: &PerfRequest,
    key: &BaselineKey,
    chosen: Option<&ChosenBaseline>,
) -> Option<String> {
    let dir = request.common.baselines.display();
    let record = record_command(request, key);
    match chosen {
        None => Some(gate::no_baseline_notice(
            &format!(
                "no baseline for scenario {:?} on {} in {dir}",
                key.scenario,
                key.describe()
            ),
            &record,
        )),
        Some(ChosenBaseline {
            informational: Some(_),
            found,
        }) => Some(format!(
            "no baseline for {} in {dir}: compared with {} for information only, which never fails the run. For a gate, compare with a revision (--against <git-ref>) or record this testbed's baseline: `{record}`",
            key.describe(),
            found.path.display()
        )),
        Some(_) => None,
    }
}

/// The command that records the baseline `key` of this request's scenario and node.
fn record_command(request: &PerfRequest, key: &BaselineKey) -> String {
    let mut command = format!(
        "cargo xtask perf baseline update {} --testbed {}",
        request.scenario, key.testbed
    );
    if let Some(bin) = &request.node_bin {
        command.push_str(&format!(" --node-bin {}", bin.display()));
    }
    if let Some(transport) = &request.overrides.transport {
        command.push_str(&format!(" --transport {transport}"));
    }
    command
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{data::output::RunDir, data::summary::RunSummary, scenario::Overrides};

    fn request(baselines: &Path, node_bin: Option<&str>) -> PerfRequest {
        PerfRequest {
            scenario: "small".into(),
            overrides: Overrides::default(),
            node_bin: node_bin.map(PathBuf::from),
            node_args: Vec::new(),
            against: None,
            base_node_bin: None,
            base_node_args: Vec::new(),
            budget: crate::tasks::sequential::DEFAULT_BUDGET,
            common: Common {
                workspace: "/ws".into(),
                baselines: baselines.to_path_buf(),
                out: None,
                threshold: None,
                quiet: true,
            },
            keep_logs: false,
            measure_build: false,
            testbed: None,
        }
    }

    fn fixture() -> RunSummary {
        serde_json::from_str(include_str!("../../tests/fixtures/summary-small.json")).unwrap()
    }

    fn key(testbed: &str, implementation: &str) -> BaselineKey {
        BaselineKey {
            testbed: Testbed::named(testbed, "test").unwrap(),
            implementation: implementation.into(),
            transport: "quic".into(),
            scenario: "small".into(),
        }
    }

    fn put(dir: &Path, key: &BaselineKey) {
        let session = baseline::session(&fixture()).unwrap();
        baseline::record(dir, key, vec![session], false).unwrap();
    }

    #[test]
    fn the_key_names_the_testbed_node_and_transport() {
        let dir = Path::new("/b");
        let scenario = scenario::resolve("small").unwrap();
        let built = baseline_key(
            &PerfRequest {
                testbed: Some("box-2c".into()),
                ..request(dir, None)
            },
            &scenario,
        )
        .unwrap();
        assert_eq!(built, key("box-2c", "swarm-node"));
        let other = baseline_key(
            &PerfRequest {
                testbed: Some("box-2c".into()),
                ..request(dir, Some("./js/js-node.mjs"))
            },
            &scenario,
        )
        .unwrap();
        assert_eq!(other.variant(), "js-node-quic");
        // A mixed network is its own implementation: never gated against a single one's.
        let interop = scenario::resolve("interop").unwrap();
        let mixed = baseline_key(
            &PerfRequest {
                testbed: Some("box-2c".into()),
                ..request(dir, None)
            },
            &interop,
        )
        .unwrap();
        assert_eq!(mixed.variant(), "swarm-node+js-libp2p-tcp");
        let bad = PerfRequest {
            testbed: Some("Box 2".into()),
            ..request(dir, None)
        };
        let err = baseline_key(&bad, &scenario).unwrap_err();
        assert_eq!(err.exit(), Exit::Usage, "{err}");
    }

    #[test]
    fn the_own_baseline_gates_and_another_testbeds_is_for_information() {
        let dir = tempfile::tempdir().unwrap();
        let mine = key("laptop", "swarm-node");
        assert!(choose_baseline(dir.path(), &mine).unwrap().is_none());

        put(dir.path(), &key("server-2c", "swarm-node"));
        let chosen = choose_baseline(dir.path(), &mine).unwrap().unwrap();
        assert_eq!(
            chosen.informational.as_deref(),
            Some(
                "baseline recorded on testbed server-2c (swarm-node-quic), this run is testbed laptop (swarm-node-quic)"
            )
        );
        assert_eq!(
            chosen.found.path,
            dir.path().join("server-2c/swarm-node-quic/small.json")
        );

        put(dir.path(), &mine);
        let chosen = choose_baseline(dir.path(), &mine).unwrap().unwrap();
        assert_eq!(chosen.informational, None);
        assert_eq!(chosen.found.baseline.key(), mine);
    }

    #[test]
    fn the_notice_says_how_to_get_a_gate() {
        let dir = tempfile::tempdir().unwrap();
        let mine = key("laptop", "js-node");
        let req = request(dir.path(), Some("/x/js-node.mjs"));
        let none = baseline_notice(&req, &mine, None).unwrap();
        assert!(
            none.contains("no baseline for scenario \"small\" on testbed laptop (js-node-quic)")
                && none.contains(
                    "`cargo xtask perf baseline update small --testbed laptop --node-bin /x/js-node.mjs`"
                )
                && none.contains("--against <git-ref>"),
            "{none}"
        );

        put(dir.path(), &key("server-2c", "swarm-node"));
        let chosen = choose_baseline(dir.path(), &mine).unwrap();
        let info = baseline_notice(&req, &mine, chosen.as_ref()).unwrap();
        assert!(
            info.contains("for information only, which never fails the run")
                && info.contains("--against <git-ref>")
                && info.contains("cargo xtask perf baseline update small --testbed laptop"),
            "{info}"
        );
        assert!(!info.contains('\n'), "one line: {info}");

        put(dir.path(), &mine);
        let chosen = choose_baseline(dir.path(), &mine).unwrap();
        assert_eq!(baseline_notice(&req, &mine, chosen.as_ref()), None);
    }

    /// The outcome of a complete run whose comparison has a regressed gated metric.
    fn regressed_outcome(informational: Option<&str>) -> PerfOutcome {
        let head: Vec<f64> = (0..10).map(|i| 200.0 + f64::from(i)).collect();
        let base: Vec<f64> = (0..10).map(|i| 100.0 + f64::from(i)).collect();
        let mut comparison = crate::compare::compare(
            crate::compare::Mode::Unpaired,
            "baseline".into(),
            &[crate::compare::MetricSamples {
                name: "formation_time_ms",
                base: &base,
                head: &head,
                base_sessions: &[],
            }],
            &crate::compare::GateConfig::default(),
        );
        comparison.informational = informational.map(str::to_owned);
        PerfOutcome {
            result: RunResult {
                summaries: vec![fixture()],
                dir: RunDir {
                    dir: "/nowhere".into(),
                },
                outcome: run::Outcome::Complete,
                gossip_latencies_ms: Vec::new(),
            },
            comparison: Some(comparison),
            notice: None,
            plot_error: None,
        }
    }

    #[test]
    fn regressions_against_another_testbed_do_not_fail_the_run() {
        let gated = regressed_outcome(None);
        assert_eq!(
            gated.comparison.as_ref().unwrap().regressions().len(),
            1,
            "the fixture regresses"
        );
        assert_eq!(gated.exit(), Exit::Regressed);
        let informational = regressed_outcome(Some("baseline recorded on testbed other"));
        assert_eq!(informational.comparison.unwrap().regressions().len(), 1);
        assert_eq!(
            regressed_outcome(Some("baseline recorded on testbed other")).exit(),
            Exit::Success
        );
    }
}
