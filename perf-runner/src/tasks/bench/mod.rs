//! `cargo xtask bench`: runs the micro-benchmarks in `benches/` (criterion for wall time,
//! iai-callgrind for instruction counts), reads their result files into a [`RunSummary`] like
//! any cluster run, and sends it through the same compare, report and comment path.
//!
//! Metrics are named `bench.<case>.<measure>` (`metrics::BENCH`): instructions gate by the
//! deterministic 1 % threshold; wall times get rank-test verdicts but are informational,
//! because between-run drift dwarfs the within-run noise those tests see. A comparison is either with
//! `baselines/bench.json` or with another revision whose benches are built and run in a git
//! worktree (`--against`); both are unpaired (criterion's samples of one run are not pairs).

pub mod criterion;
pub mod iai;

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use crate::{
    Error, Exit,
    data::baseline::{self, Baseline},
    data::env::{Fingerprint, Revision},
    data::metrics,
    data::output::{BenchResults, OutputRoot, RunDir},
    data::summary::{MetricResult, RunSummary, SCHEMA_VERSION, ScenarioInfo},
    git,
    measure::build::revision_worktree,
    stats::descriptive::summarize,
    tasks::{
        Common,
        gate::{self, Base, Gate},
    },
};

/// The iai-callgrind version `benches/Cargo.toml` pins; the runner binary must match it.
pub const IAI_CALLGRIND_VERSION: &str = "0.16.1";
/// The benchmark package.
pub const PACKAGE: &str = "swarmbench-benches";
/// The criterion group and iai-callgrind group all cases belong to.
pub const GROUP: &str = "swarmbench";
/// Name of the pseudo-scenario: summaries, baselines and comments of benchmark runs use it.
pub const SCENARIO: &str = "bench";

/// Why a benchmark run could not happen or be read.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A tool is missing or has the wrong version.
    #[error("{0}")]
    Tool(String),
    /// The filter matches no benchmark.
    #[error("{0}")]
    UnknownBench(String),
    /// `cargo bench` failed.
    #[error("{0}")]
    Cargo(String),
    /// A result file is missing or malformed.
    #[error("{path}: {message}")]
    Results {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Which harnesses to run.
#[derive(Debug, Clone, Copy)]
pub struct Kinds {
    /// criterion.
    pub wall: bool,
    /// iai-callgrind.
    pub instructions: bool,
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct BenchRequest {
    /// Workspace, baselines, output root, threshold; `quiet` hides cargo's and the harnesses'
    /// output.
    pub common: Common,
    /// Harnesses.
    pub kinds: Kinds,
    /// Only cases whose name contains this.
    pub filter: Option<String>,
    /// Compare with this revision instead of the baseline.
    pub against: Option<String>,
    /// Shorter criterion measurement (1 s warm-up, 3 s measurement per case).
    pub quick: bool,
    /// Store the result as `baselines/bench.json` instead of comparing.
    pub update_baseline: bool,
    /// The cargo profile the harnesses are built with: [`SHIPPED_PROFILE`] measures the
    /// node's code as shipped; another (the tests use `dev`) reuses that profile's build.
    pub cargo_profile: String,
}

/// The profile whose numbers `baselines/bench.json` holds: release settings with symbols.
pub const SHIPPED_PROFILE: &str = "bench";

/// A finished benchmark run.
#[derive(Debug)]
pub struct BenchOutcome {
    /// The head summary (with its comparison, if any).
    pub summary: RunSummary,
    /// Where it was written.
    pub dir: RunDir,
    /// Why there is no comparison, when there is none.
    pub notice: Option<String>,
    /// The baseline written, with `update_baseline`.
    pub baseline_written: Option<PathBuf>,
}

impl BenchOutcome {
    /// How the command ends: 1 when a gated case regressed, else 0.
    pub fn exit(&self) -> Exit {
        Exit::verdict(
            self.summary
                .comparison
                .as_ref()
                .is_some_and(|c| !c.regressions().is_empty()),
        )
    }
}

fn on_path(binary: &str, path_var: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|d| d.join(binary))
        .find(|p| p.is_file())
}

/// Where `cargo xtask test` installs `iai-callgrind-runner`: one directory per version in the
/// user's cache (`$XDG_CACHE_HOME` or `~/.cache`), shared by every clone on the machine as the
/// Debian tools are, so a fresh clone does not compile it again. `None` without a home.
pub fn runner_install_root() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(
        cache
            .join("swarmbench/tools")
            .join(format!("iai-callgrind-runner-{IAI_CALLGRIND_VERSION}")),
    )
}

/// Checks valgrind and the runner; returns the directory to put first on PATH so that the
/// benchmark binary finds the right `iai-callgrind-runner`.
pub fn check_instruction_tools(workspace: &Path) -> Result<PathBuf, BenchError> {
    let mut installed = vec![workspace.join("target/tools/bin")];
    installed.extend(runner_install_root().map(|root| root.join("bin")));
    check_tools_on(&installed, &std::env::var_os("PATH").unwrap_or_default())
}

/// Looks for the runner in the `installed` directories, then on `path_var`.
fn check_tools_on(
    installed: &[PathBuf],
    path_var: &std::ffi::OsStr,
) -> Result<PathBuf, BenchError> {
    if on_path("valgrind", path_var).is_none() {
        return Err(BenchError::Tool(
            "valgrind is not installed: the instruction-count benchmarks run under valgrind's callgrind. \
             Install it (`sudo apt-get install valgrind`, or `cargo xtask test --tools-only`), or run only \
             the wall-time benchmarks with --kind wall"
                .into(),
        ));
    }
    let runner = installed
        .iter()
        .map(|dir| dir.join("iai-callgrind-runner"))
        .find(|p| p.is_file())
        .or_else(|| on_path("iai-callgrind-runner", path_var));
    let install = format!(
        "install the matching one with `cargo xtask test --tools-only` (or `cargo install iai-callgrind-runner --version {IAI_CALLGRIND_VERSION} --locked`)"
    );
    let Some(runner) = runner else {
        return Err(BenchError::Tool(format!(
            "iai-callgrind-runner is not installed: {install}"
        )));
    };
    let version = runner_version(&runner).unwrap_or_else(|| "no version".into());
    if version != IAI_CALLGRIND_VERSION {
        return Err(BenchError::Tool(format!(
            "{} reports {version:?}, but benches/ uses iai-callgrind {IAI_CALLGRIND_VERSION}; the two must match: {install}",
            runner.display()
        )));
    }
    Ok(runner
        .parent()
        .map(Path::to_path_buf)
        .expect("a file found in a directory has a parent"))
}

/// The version an `iai-callgrind-runner` binary reports. It has no `--version` flag; run
/// without the library version it expects, it names its own: "iai-callgrind-runner (0.16.1)".
pub fn runner_version(runner: &Path) -> Option<String> {
    let out = Command::new(runner).arg("--version").output().ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let rest = &text[text.find("iai-callgrind-runner (")? + "iai-callgrind-runner (".len()..];
    Some(rest[..rest.find(')')?].to_owned())
}

/// The cases of the benchmark package, from criterion's `--list`.
fn list_cases(build: &Build) -> Result<Vec<String>, BenchError> {
    let out = crate::cargo::command()
        .current_dir(build.dir)
        .args([
            "bench",
            "--quiet",
            "--profile",
            build.profile,
            "--package",
            PACKAGE,
            "--bench",
            "wall",
            "--",
            "--list",
        ])
        .env("CARGO_TARGET_DIR", build.target_dir)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| BenchError::Cargo(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(BenchError::Cargo(format!(
            "building the benchmarks failed:\n{}",
            tail(&String::from_utf8_lossy(&out.stderr), 40)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": benchmark"))
        .filter_map(|id| id.strip_prefix(&format!("{GROUP}/")))
        .map(str::to_owned)
        .collect())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Checks the filter against the cases; returns the cases that will run.
pub fn select(cases: &[String], filter: Option<&str>) -> Result<Vec<String>, BenchError> {
    let Some(filter) = filter else {
        return Ok(cases.to_vec());
    };
    let chosen: Vec<String> = if filter
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        cases
            .iter()
            .filter(|c| c.contains(filter))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    if chosen.is_empty() {
        return Err(BenchError::UnknownBench(format!(
            "no benchmark matches {filter:?}; the benchmarks are: {}",
            cases.join(", ")
        )));
    }
    Ok(chosen)
}

/// Runs one harness with its results directed into `dirs`.
/// Where and how the harnesses are built.
struct Build<'a> {
    /// The source tree (this one, or a worktree of another revision).
    dir: &'a Path,
    /// Its cargo target directory.
    target_dir: &'a Path,
    /// The cargo profile.
    profile: &'a str,
    /// Hide cargo's and the harness's output.
    quiet: bool,
}

fn cargo_bench(
    build: &Build,
    bench: &str,
    filter: Option<&str>,
    extra_args: &[&str],
    envs: &[(&str, &std::ffi::OsStr)],
) -> Result<(), BenchError> {
    let quiet = build.quiet;
    let mut cmd = crate::cargo::command();
    cmd.current_dir(build.dir)
        .args(["bench", "--package", PACKAGE, "--bench", bench])
        .args(["--profile", build.profile])
        .args(quiet.then_some("--quiet"))
        .arg("--")
        .args(filter)
        .args(extra_args)
        .env("CARGO_TARGET_DIR", build.target_dir)
        .envs(envs.iter().copied())
        .stdin(Stdio::null());
    if quiet {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    }
    let out = cmd
        .output()
        .map_err(|e| BenchError::Cargo(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(BenchError::Cargo(format!(
            "cargo bench --bench {bench} failed ({}){}",
            out.status,
            if quiet {
                format!(":\n{}", tail(&String::from_utf8_lossy(&out.stderr), 40))
            } else {
                String::new()
            }
        )));
    }
    Ok(())
}

/// Runs the selected harnesses in the source tree `dir` and reads their results.
fn measure(
    dir: &Path,
    target_dir: &Path,
    request: &BenchRequest,
    runner_dir: Option<&Path>,
) -> Result<(Vec<criterion::WallResult>, Vec<iai::CountResult>), BenchError> {
    let build = Build {
        dir,
        target_dir,
        profile: &request.cargo_profile,
        quiet: request.common.quiet,
    };
    let cases = list_cases(&build)?;
    let selected = select(&cases, request.filter.as_deref())?;
    // Results of this run only: stale files of cases filtered out must not come back.
    let results = BenchResults::in_target(target_dir);
    let _ = std::fs::remove_dir_all(&results.criterion);
    let _ = std::fs::remove_dir_all(&results.iai);
    let mut wall = Vec::new();
    let mut counts = Vec::new();
    if request.kinds.instructions {
        let mut path = std::ffi::OsString::from(runner_dir.unwrap_or(Path::new("")));
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        // iai-callgrind 0.16 filters by bench target, not by function: the whole target runs
        // (about 20 s) and the results are filtered here.
        cargo_bench(
            &build,
            "instructions",
            None,
            &[],
            &[
                ("PATH", path.as_os_str()),
                ("IAI_CALLGRIND_HOME", results.iai.as_os_str()),
                ("IAI_CALLGRIND_SAVE_SUMMARY", "json".as_ref()),
            ],
        )?;
        counts = iai::read(&results.iai)?;
        counts.retain(|c| selected.contains(&c.case));
    }
    if request.kinds.wall {
        let timing: &[&str] = if request.quick {
            &["--noplot", "--warm-up-time", "1", "--measurement-time", "3"]
        } else {
            &["--noplot"]
        };
        cargo_bench(
            &build,
            "wall",
            request.filter.as_deref(),
            timing,
            &[("CRITERION_HOME", results.criterion.as_os_str())],
        )?;
        wall = criterion::read(&results.criterion, GROUP)?;
    }
    Ok((wall, counts))
}

/// The results as a summary, metrics in case order: instructions, cycles, time.
pub fn to_summary(
    wall: &[criterion::WallResult],
    counts: &[iai::CountResult],
    revision: Revision,
    started_at: String,
) -> RunSummary {
    let mut cases: Vec<&str> = wall
        .iter()
        .map(|w| w.case.as_str())
        .chain(counts.iter().map(|c| c.case.as_str()))
        .collect();
    cases.sort_unstable();
    cases.dedup();
    let mut metrics = Vec::new();
    let mut push = |name: String, samples: Vec<f64>| {
        let def = metrics::definition(&name).expect("bench metrics are defined");
        metrics.push(MetricResult {
            unit: def.unit.into(),
            direction: def.direction,
            kind: def.kind,
            definition: def.definition.into(),
            repetitions: (0..samples.len()).collect(),
            summary: summarize(&samples),
            samples,
            name,
        });
    };
    for case in &cases {
        if let Some(c) = counts.iter().find(|c| c.case == *case) {
            push(
                format!("bench.{case}.instructions"),
                vec![c.instructions as f64],
            );
            if let Some(cycles) = c.estimated_cycles {
                push(
                    format!("bench.{case}.estimated_cycles"),
                    vec![cycles as f64],
                );
            }
        }
        if let Some(w) = wall.iter().find(|w| w.case == *case) {
            push(format!("bench.{case}.time_ns"), w.samples_ns.clone());
        }
    }
    let samples = wall.first().map_or(1, |w| w.samples_ns.len());
    RunSummary {
        schema_version: SCHEMA_VERSION,
        tool: format!("swarmbench {}", env!("CARGO_PKG_VERSION")),
        scenario: ScenarioInfo {
            name: SCENARIO.into(),
            nodes: 0,
            topology: "micro-benchmarks".into(),
            transport: "none".into(),
            repetitions: samples,
            warmup: 0,
            seed: 0,
            source: "benches/".into(),
        },
        environment: Fingerprint::current("none"),
        testbed: None,
        revision,
        node_bin: "-".into(),
        started_at,
        finished_at: chrono::Utc::now().to_rfc3339(),
        complete: true,
        repetitions_done: samples,
        failures: Vec::new(),
        metrics,
        notes: vec![
            "Instruction counts come from valgrind's callgrind (iai-callgrind): one run per case, the same on any machine for the same binary and input, so they gate by a plain 1 % threshold.".into(),
            "Wall times come from criterion: each sample is one batch's time per iteration on this machine. They are compared with the same rank tests as cluster timings but do not gate: the samples of one run do not see the drift between two runs, which on a shared 2-core machine was −48 % … +66 % for the same build.".into(),
            "A micro-benchmark isolates one code path with fixed inputs: it cannot show contention, I/O or network effects, which the cluster scenarios measure.".into(),
        ],
        plots: Vec::new(),
        breakdown: Vec::new(),
        comparison: None,
    }
}

/// The gate of a benchmark comparison. Its base always ran separately, perhaps elsewhere.
fn bench_gate(common: &Common) -> Gate<'static> {
    Gate {
        config: gate::config(common, Default::default()),
        only: None,
        environment_warning: |difference| {
            format!(
                "the base was measured on a different environment ({difference}): wall times may differ because of the machine; instruction counts depend only on the binary"
            )
        },
    }
}

/// Says in the summary when the harnesses were not built as shipped: their numbers then
/// describe another build (the tests' `dev`) and must not be read as the node's.
fn note_profile(summary: &mut RunSummary, profile: &str) {
    if profile != SHIPPED_PROFILE {
        summary.scenario.source =
            format!("benches/ built with cargo profile {profile}, not as shipped");
    }
}

/// Builds and measures the benchmarks of `git_ref` in a worktree; returns its summary and
/// commit.
fn measure_revision(
    request: &BenchRequest,
    git_ref: &str,
    runner_dir: Option<&Path>,
) -> Result<(RunSummary, String), Error> {
    let workspace = &request.common.workspace;
    let commit = git::resolve_commit(workspace, git_ref)?;
    let worktree = revision_worktree(workspace, &commit)?;
    if !worktree.path.join("benches/Cargo.toml").is_file() {
        return Err(Error::Bench(BenchError::Cargo(format!(
            "revision {git_ref} has no benches/ to compare with"
        ))));
    }
    // Worktree builds share one target directory in the workspace, whatever --out says.
    let base_target = OutputRoot::of_workspace(workspace).worktree_target();
    let (wall, counts) = measure(&worktree.path, &base_target, request, runner_dir)?;
    drop(worktree);
    let revision = Revision {
        commit: commit.clone(),
        dirty: false,
    };
    let mut summary = to_summary(&wall, &counts, revision, chrono::Utc::now().to_rfc3339());
    note_profile(&mut summary, &request.cargo_profile);
    Ok((summary, commit))
}

/// Runs the benchmarks, compares, writes the run directory.
pub fn run(request: &BenchRequest) -> Result<BenchOutcome, Error> {
    let common = &request.common;
    super::preflight::output_root(common)?;
    let started_at = chrono::Utc::now().to_rfc3339();
    let runner_dir = if request.kinds.instructions {
        Some(check_instruction_tools(&common.workspace)?)
    } else {
        None
    };
    // Read the baseline first: a bad one is a configuration error, before minutes of work.
    let stored: Option<Baseline> = if request.against.is_none() && !request.update_baseline {
        baseline::load(&common.baselines, SCENARIO)?
    } else {
        None
    };
    let target_dir = common.workspace.join("target");
    let (wall, counts) = measure(
        &common.workspace,
        &target_dir,
        request,
        runner_dir.as_deref(),
    )?;
    let mut summary = to_summary(&wall, &counts, Revision::of(&common.workspace), started_at);
    note_profile(&mut summary, &request.cargo_profile);
    let gate = bench_gate(common);
    let out_root = common.output_root();
    let dir = out_root.create_run(SCENARIO).map_err(|source| Error::Io {
        path: out_root.dir.clone(),
        source,
    })?;
    let mut notice = None;
    let mut baseline_written = None;
    if let Some(git_ref) = &request.against {
        let (base, commit) = measure_revision(request, git_ref, runner_dir.as_deref())?;
        let arm = dir.arm("base").map_err(|source| Error::Io {
            path: dir.dir.clone(),
            source,
        })?;
        crate::report::write_run_files(&arm, &base)?;
        let base = Base::Run {
            summary: &base,
            label: gate::revision_label(git_ref, &commit),
        };
        summary.comparison = Some(gate::compare(&summary, base, &gate));
    } else if request.update_baseline {
        baseline_written = Some(baseline::store(&common.baselines, &summary)?);
    } else if let Some(stored) = &stored {
        let path = baseline::path(&common.baselines, SCENARIO);
        let base = Base::Baseline {
            stored,
            path: &path,
        };
        summary.comparison = Some(gate::compare(&summary, base, &gate));
    } else {
        notice = Some(gate::no_baseline_notice(
            &format!(
                "no baseline in {}",
                baseline::path(&common.baselines, SCENARIO).display()
            ),
            "cargo xtask bench --update-baseline",
        ));
    }
    crate::report::write_run_files(&dir, &summary)?;
    let _ = dir.mark_latest();
    Ok(BenchOutcome {
        summary,
        dir,
        notice,
        baseline_written,
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn fake_tool(dir: &Path, name: &str, script: &str) {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn missing_valgrind_or_a_mismatched_runner_are_explained() {
        let workspace = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        let e = Error::from(
            check_tools_on(&[workspace.path().to_owned()], bin.path().as_os_str()).unwrap_err(),
        );
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().starts_with("valgrind is not installed"),
            "{e}"
        );
        fake_tool(bin.path(), "valgrind", "exit 0");
        let e = check_tools_on(&[workspace.path().to_owned()], bin.path().as_os_str()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("iai-callgrind-runner is not installed"),
            "{e}"
        );
        // The real runner's answer to --version, from an older release.
        fake_tool(
            bin.path(),
            "iai-callgrind-runner",
            "echo \"iai_callgrind_runner: Error: No version information found for iai-callgrind but iai-callgrind-runner (0.14.0) is >= '0.3.0'\" >&2; exit 1",
        );
        let e = check_tools_on(&[workspace.path().to_owned()], bin.path().as_os_str()).unwrap_err();
        assert!(
            e.to_string()
                .contains("reports \"0.14.0\", but benches/ uses iai-callgrind 0.16.1"),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("cargo install iai-callgrind-runner --version 0.16.1"),
            "{e}"
        );
        // A runner in an install directory comes before one on PATH.
        fake_tool(
            workspace.path(),
            "iai-callgrind-runner",
            "echo \"iai-callgrind-runner (0.16.1) is >= '0.3.0'\" >&2; exit 1",
        );
        assert_eq!(
            check_tools_on(&[workspace.path().to_owned()], bin.path().as_os_str()).unwrap(),
            workspace.path()
        );
        std::fs::remove_file(workspace.path().join("iai-callgrind-runner")).unwrap();
        fake_tool(
            bin.path(),
            "iai-callgrind-runner",
            "echo \"iai-callgrind-runner (0.16.1) is >= '0.3.0'\" >&2; exit 1",
        );
        assert_eq!(
            check_tools_on(&[workspace.path().to_owned()], bin.path().as_os_str()).unwrap(),
            bin.path()
        );
    }

    #[test]
    fn unknown_filters_list_the_benchmarks() {
        let cases = vec![
            "gossip_payload_decode".to_owned(),
            "report_plots".to_owned(),
        ];
        assert_eq!(
            select(&cases, Some("decode")).unwrap(),
            ["gossip_payload_decode"]
        );
        assert_eq!(select(&cases, None).unwrap().len(), 2);
        let e = Error::from(select(&cases, Some("nope")).unwrap_err());
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .contains("the benchmarks are: gossip_payload_decode, report_plots"),
            "{e}"
        );
        // Not a plain name: never passed on as a regular expression.
        assert!(select(&cases, Some(".*")).is_err());
    }
}
