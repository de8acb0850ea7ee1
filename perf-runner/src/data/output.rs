//! Where results go, and how they are written: every path under the output root comes from
//! here, and every finished file is written atomically (temp file in the same directory, then
//! rename), so a reader never sees half a file, even if the runner is killed mid-write.
//!
//! [`OutputRoot`] names the directories directly under the root (`target/perf` by default):
//! run directories, history, trend, worktree builds and their caches. [`RunDir`] names the files
//! of one run. [`BenchResults`] names where the benchmark harnesses write inside a cargo target
//! directory. Nothing here decides *whether* to write; callers do.
//!
//! # A measured run's files are one set
//!
//! The scheduler rewrites a run's files (`summary.json`, `samples.csv`, `metrics.jsonl`,
//! `report.md`, `base/…`) after every round, and they must agree at every instant, even after a
//! SIGKILL: the same repetitions in each. Renaming file after file cannot give that (a kill
//! between two renames leaves a `summary.json` of 2 repetitions next to a `samples.csv` of 1),
//! and neither can a manifest written last (the other files would still hold a repetition it
//! does not count). So a run directory created by [`RunDir::create_committed`] is a symlink:
//!
//! ```text
//! <scenario>/latest       -> <timestamp>                  (set when the run is created)
//! <scenario>/<timestamp>  -> .<timestamp>/r<N>-<pid>      (the committed round, swapped)
//! <scenario>/.<timestamp>/r<N>-<pid>/                     summary.json, samples.csv, …, nodes -> ../nodes
//! <scenario>/.<timestamp>/nodes/                          node logs, shared by every round
//! ```
//!
//! Each round's whole set is written into a fresh round directory ([`RunDir::stage`]) that no
//! reader can reach, and [`RunDir::commit`] then renames a new symlink over `<timestamp>`: one
//! atomic `rename(2)` moves every file at once, and the previous round is deleted. A killed
//! run therefore always leaves one whole committed round. A reader of a run still in progress
//! that must not mix rounds resolves the symlink once and reads from the round directory it
//! names: it gets that whole round, or (if the next commit deleted it meanwhile) a missing file
//! to retry on, never a file of another round. `summary.json` stays a regular file where every
//! reader looks for it (`<run>/summary.json`, also through `latest/`). What a task writes after
//! the run (plots, the comparison) goes straight into the last round, file by file; it adds no
//! repetition. Killed runs leave temp files (`.<name>.tmp-<pid>…`) and round directories their
//! link does not name; [`remove_stale`] deletes them when the next run of the scenario starts,
//! and only when their process `<pid>` is gone.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

/// The default output root, relative to the workspace.
const DEFAULT_ROOT: &str = "target/perf";

/// The directory of scale curves under the root.
const SCALE_CURVE: &str = "scale-curve";

/// The output root: `--out`, or `<workspace>/target/perf`.
///
/// Layout:
/// - `<scenario>/<timestamp>/`: one run ([`RunDir`]); `<scenario>/latest` links the newest.
/// - `suite-<suite>/<timestamp>/`: a suite's combined report.
/// - `scale-curve/<timestamp>/`: a scale curve (its sizes' runs are ordinary run directories);
///   `scale-curve/latest` links the newest.
/// - `validate/<scenario>/<timestamp>/`: a validation, its runs under `runs/<experiment>/`.
/// - `history/`: one `<scenario>.jsonl` per scenario.
/// - `trend/<scenario>/`: trend report and plots.
/// - `worktrees/<commit>/`: git worktrees of other revisions, removed after use.
/// - `worktree-target/`: the cargo target directory those worktrees share.
/// - `bin/<commit>/swarm-node`: node binaries of other revisions, cached by commit.
/// - `fault-injection-target/`: the cargo target directory of the fault-injection build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRoot {
    /// The directory.
    pub dir: PathBuf,
}

impl OutputRoot {
    /// The root at `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default root of a workspace: `<workspace>/target/perf`. Builds of other revisions
    /// always go here, whatever `--out` says, so their caches are shared between runs.
    pub fn of_workspace(workspace: &Path) -> Self {
        Self::at(workspace.join(DEFAULT_ROOT))
    }

    /// `out` when given, else the workspace's default root.
    pub fn chosen(out: Option<&Path>, workspace: &Path) -> Self {
        out.map_or_else(|| Self::of_workspace(workspace), Self::at)
    }

    /// Proves the root writable: creates it when missing, creates and removes a file in it
    /// (named like a temp file, so a leftover is cleaned like one), then removes the
    /// directories it created, so that a check leaves nothing behind.
    pub fn probe_writable(&self) -> std::io::Result<()> {
        let mut created = Vec::new();
        let mut dir = self.dir.as_path();
        while !dir.exists() && !dir.as_os_str().is_empty() {
            created.push(dir.to_path_buf());
            let Some(parent) = dir.parent() else { break };
            dir = parent;
        }
        let probe = || {
            std::fs::create_dir_all(&self.dir)?;
            let file = self
                .dir
                .join(format!(".write-probe.tmp-{}", std::process::id()));
            std::fs::File::options()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&file)?;
            std::fs::remove_file(&file)
        };
        let result = probe();
        // Deepest first.
        for dir in &created {
            let _ = std::fs::remove_dir(dir);
        }
        result
    }

    /// Creates a fresh run directory `<root>/<scenario>/<timestamp>/`.
    pub fn create_run(&self, scenario: &str) -> std::io::Result<RunDir> {
        RunDir::create(&self.dir, scenario)
    }

    /// Creates the directory of a suite's combined report: `<root>/suite-<suite>/<timestamp>/`.
    pub fn create_suite(&self, suite: &str) -> std::io::Result<RunDir> {
        self.create_run(&format!("suite-{suite}"))
    }

    /// Creates the directory of a scale curve: `<root>/scale-curve/<timestamp>/`.
    pub fn create_scale_curve(&self) -> std::io::Result<RunDir> {
        self.create_run(SCALE_CURVE)
    }

    /// `<root>/validate/`: validations, one `<scenario>/<timestamp>/` each.
    pub fn validate(&self) -> OutputRoot {
        Self::at(self.dir.join("validate"))
    }

    /// `<root>/node-check/`: the node logs of the last `cargo xtask node check`.
    pub fn node_check(&self) -> PathBuf {
        self.dir.join("node-check")
    }

    /// `<root>/history/`.
    pub fn history(&self) -> PathBuf {
        self.dir.join("history")
    }

    /// `<root>/trend/<scenario>/`.
    pub fn trend(&self, scenario: &str) -> PathBuf {
        self.dir.join("trend").join(scenario)
    }

    /// `<root>/worktrees/<commit>/`: a worktree of another revision.
    pub fn worktree(&self, commit: &str) -> PathBuf {
        self.dir.join("worktrees").join(commit)
    }

    /// `<root>/worktree-target/`: the cargo target directory every worktree build shares, so a
    /// second revision reuses the compiled dependencies of the first.
    pub fn worktree_target(&self) -> PathBuf {
        self.dir.join("worktree-target")
    }

    /// `<root>/bin/<commit>/swarm-node`: the cached node binary of another revision.
    pub fn revision_node(&self, commit: &str) -> PathBuf {
        self.dir.join("bin").join(commit).join("swarm-node")
    }

    /// `<root>/fault-injection-target/`: the fault-injection build's own cargo target
    /// directory, so the measured binary is never replaced by it.
    pub fn fault_injection_target(&self) -> PathBuf {
        self.dir.join("fault-injection-target")
    }
}

/// The files of one trend analysis (`perf trend`): `<root>/trend/<scenario>/` by default, or
/// the directory given with `--out`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendDir {
    /// The directory.
    pub dir: PathBuf,
}

impl TrendDir {
    /// `trend.md`: the trend report.
    pub fn markdown(&self) -> PathBuf {
        self.dir.join("trend.md")
    }

    /// `trend.json`: the analysis as data.
    pub fn json(&self) -> PathBuf {
        self.dir.join("trend.json")
    }

    /// `alert.md`: present only while a recent change point is a regression (the weekly
    /// workflow opens an issue from it).
    pub fn alert(&self) -> PathBuf {
        self.dir.join("alert.md")
    }

    /// `plots/`: one trend plot per metric.
    pub fn plots(&self) -> PathBuf {
        self.dir.join("plots")
    }
}

/// Where the benchmark harnesses write inside a cargo target directory:
/// `<target>/swarmbench-results/{criterion,iai}/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchResults {
    /// criterion's home (`CRITERION_HOME`).
    pub criterion: PathBuf,
    /// iai-callgrind's home (`IAI_CALLGRIND_HOME`).
    pub iai: PathBuf,
}

impl BenchResults {
    /// The result directories of builds in cargo target directory `target_dir`.
    pub fn in_target(target_dir: &Path) -> Self {
        let root = target_dir.join("swarmbench-results");
        Self {
            criterion: root.join("criterion"),
            iai: root.join("iai"),
        }
    }
}

/// The directory of one run: `<root>/<scenario>/<timestamp>/`.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The directory.
    pub dir: PathBuf,
}

impl RunDir {
    /// Creates a fresh run directory named after the current UTC time (suffixed on collision).
    pub fn create(root: &Path, scenario: &str) -> std::io::Result<Self> {
        let scenario_dir = root.join(scenario);
        std::fs::create_dir_all(&scenario_dir)?;
        let stamp = chrono::Utc::now().format("%Y-%m-%dT%H-%M-%SZ").to_string();
        for attempt in 0..1000 {
            let name = if attempt == 0 {
                stamp.clone()
            } else {
                format!("{stamp}-{attempt}")
            };
            let dir = scenario_dir.join(name);
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(Self { dir }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("too many runs in one second"))
    }

    /// `summary.json`.
    pub fn summary(&self) -> PathBuf {
        self.dir.join("summary.json")
    }
    /// `metrics.jsonl`: raw per-operation records.
    pub fn metrics_jsonl(&self) -> PathBuf {
        self.dir.join("metrics.jsonl")
    }
    /// `samples.csv`.
    pub fn samples_csv(&self) -> PathBuf {
        self.dir.join("samples.csv")
    }
    /// `report.md`.
    pub fn report_md(&self) -> PathBuf {
        self.dir.join("report.md")
    }
    /// `plots/`.
    pub fn plots(&self) -> PathBuf {
        self.dir.join("plots")
    }
    /// `nodes/`: node logs.
    pub fn nodes(&self) -> PathBuf {
        self.dir.join("nodes")
    }
    /// Node logs of one repetition.
    pub fn node_logs(&self, label: &str) -> PathBuf {
        self.nodes().join(label)
    }

    /// `suite.md`: a suite's combined report.
    pub fn suite_md(&self) -> PathBuf {
        self.dir.join("suite.md")
    }
    /// `suite.json`.
    pub fn suite_json(&self) -> PathBuf {
        self.dir.join("suite.json")
    }
    /// `validation.md`: a validation's report.
    pub fn validation_md(&self) -> PathBuf {
        self.dir.join("validation.md")
    }
    /// `validation.json`.
    pub fn validation_json(&self) -> PathBuf {
        self.dir.join("validation.json")
    }
    /// `curve.json`: a scale curve as data.
    pub fn curve_json(&self) -> PathBuf {
        self.dir.join("curve.json")
    }
    /// `curve.csv`: a scale curve, one row per size.
    pub fn curve_csv(&self) -> PathBuf {
        self.dir.join("curve.csv")
    }
    /// `.plots.tmp-<pid>/`: where plots are drawn before each file is renamed into this
    /// directory (plotters writes files itself, so they cannot go through [`write_atomic`]).
    pub fn plot_stage(&self) -> PathBuf {
        self.dir.join(format!(".plots.tmp-{}", std::process::id()))
    }
    /// `runs/<experiment>/`: the output root of one validation experiment's runs.
    pub fn experiment_runs(&self, experiment: &str) -> OutputRoot {
        OutputRoot::at(self.dir.join("runs").join(experiment))
    }

    /// The directory for a second arm's files (`base/`), created on first use.
    pub fn arm(&self, label: &str) -> std::io::Result<RunDir> {
        let dir = self.dir.join(label);
        std::fs::create_dir_all(&dir)?;
        Ok(RunDir { dir })
    }

    /// Points `<root>/<scenario>/latest` at this run, atomically.
    pub fn mark_latest(&self) -> std::io::Result<()> {
        let name = self.dir.file_name().expect("run dir has a name");
        replace_symlink(Path::new(name), &self.parent().join("latest"))
    }

    fn parent(&self) -> &Path {
        self.dir.parent().expect("run dir has a parent")
    }

    /// Creates the directory of a measured run whose files are committed as a set, round by
    /// round (see the module documentation): `<root>/<scenario>/<timestamp>` is a symlink to an
    /// empty first round until the first commit. Stale temp files and rounds of killed runs of
    /// the scenario are removed first, and `<scenario>/latest` points at the new run at once,
    /// so a run killed at any point is still found through it.
    pub fn create_committed(root: &Path, scenario: &str) -> std::io::Result<Self> {
        let scenario_dir = root.join(scenario);
        std::fs::create_dir_all(&scenario_dir)?;
        remove_stale(&scenario_dir);
        let stamp = chrono::Utc::now().format("%Y-%m-%dT%H-%M-%SZ").to_string();
        for attempt in 0..1000 {
            let name = if attempt == 0 {
                stamp.clone()
            } else {
                format!("{stamp}-{attempt}")
            };
            let store = scenario_dir.join(format!(".{name}"));
            match std::fs::create_dir(&store) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
            std::fs::create_dir(store.join(NODES))?;
            let first = round_name(0);
            std::fs::create_dir(store.join(&first))?;
            std::os::unix::fs::symlink(
                Path::new("..").join(NODES),
                store.join(&first).join(NODES),
            )?;
            let run = RunDir {
                dir: scenario_dir.join(&name),
            };
            match std::os::unix::fs::symlink(Path::new(&format!(".{name}")).join(&first), &run.dir)
            {
                Ok(()) => {
                    run.mark_latest()?;
                    return Ok(run);
                }
                // A run directory of that name from before run stores.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    std::fs::remove_dir_all(&store)?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("too many runs in one second"))
    }

    /// `<scenario>/.<timestamp>/`: where the rounds and node logs of a committed run live.
    fn store(&self) -> PathBuf {
        let name = self.dir.file_name().expect("run dir has a name");
        self.parent().join(format!(".{}", name.to_string_lossy()))
    }

    /// A fresh, empty round directory for the next set of this run's files: no reader of the
    /// run sees it until [`RunDir::commit`].
    pub fn stage(&self) -> std::io::Result<RunDir> {
        let current = std::fs::read_link(&self.dir)?;
        let next = current
            .file_name()
            .and_then(|n| round_of(n.to_str()?))
            .map_or(0, |(n, _)| n + 1);
        let dir = self.store().join(round_name(next));
        if dir.exists() {
            // A stage this process abandoned (a write failed): start it afresh.
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir(&dir)?;
        Ok(RunDir { dir })
    }

    /// Makes a staged round this run's files, all at once (one `rename(2)` of the run's
    /// symlink), then deletes the round it replaces.
    pub fn commit(&self, staged: &RunDir) -> std::io::Result<()> {
        let store = self.store();
        if store.join(NODES).is_dir() {
            std::os::unix::fs::symlink(Path::new("..").join(NODES), staged.dir.join(NODES))?;
        }
        let previous = std::fs::read_link(&self.dir).ok();
        let round = staged.dir.file_name().expect("a round has a name");
        let store_name = store.file_name().expect("a store has a name");
        replace_symlink(&Path::new(store_name).join(round), &self.dir)?;
        if let Some(previous) = previous.filter(|p| p.file_name() != Some(round)) {
            let _ = std::fs::remove_dir_all(self.parent().join(previous));
        }
        Ok(())
    }

    /// Removes this run's node log directory when it is empty (no repetition kept its logs);
    /// the rounds committed after it then have no `nodes` entry.
    pub fn remove_empty_nodes(&self) {
        let _ = std::fs::remove_dir(self.store().join(NODES));
    }
}

/// The node log directory of a run store, linked from every round.
const NODES: &str = "nodes";

/// The directory name of round `n` written by this process: `r<n>-<pid>`.
fn round_name(n: usize) -> String {
    format!("r{n}-{}", std::process::id())
}

/// Round number and writing process of a round directory's name.
fn round_of(name: &str) -> Option<(usize, i32)> {
    let (n, pid) = name.strip_prefix('r')?.split_once('-')?;
    Some((n.parse().ok()?, pid.parse().ok()?))
}

/// The process that wrote a temp file or directory named `.<name>.tmp-<pid>` or
/// `.<name>.tmp-<pid>-<n>` (what [`write_atomic`], [`RunDir::mark_latest`], [`RunDir::commit`]
/// and [`OutputRoot::probe_writable`] create); `None` for every other name.
fn temp_owner(name: &str) -> Option<i32> {
    let (stem, suffix) = name.rsplit_once(".tmp-")?;
    if !stem.starts_with('.') || stem.len() < 2 {
        return None;
    }
    let (pid, attempt) = suffix.split_once('-').unwrap_or((suffix, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(attempt))
        .then(|| pid.parse().ok())
        .flatten()
}

/// Whether process `pid` exists (a process of another user counts).
fn alive(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// Removes what killed runs left under a scenario's output directory: temp files and
/// directories named `.<name>.tmp-<pid>…` anywhere below it, and round directories
/// (`r<n>-<pid>`) of a run store (`.<timestamp>/`) that the run's symlink does not point at;
/// both only when process `<pid>` no longer exists, so a run in progress keeps its files.
/// Symlinks are not followed, and nothing else is touched. Returns how many entries went.
pub fn remove_stale(scenario_dir: &Path) -> usize {
    let mut removed = 0;
    let mut stack = vec![(scenario_dir.to_path_buf(), true)];
    while let Some((dir, top)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let (path, Ok(kind)) = (entry.path(), entry.file_type()) else {
                continue;
            };
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if temp_owner(name).is_some_and(|pid| !alive(pid)) {
                let gone = if kind.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed += usize::from(gone.is_ok());
            } else if kind.is_dir() {
                if top && name.starts_with('.') {
                    removed += remove_stale_rounds(&path);
                }
                stack.push((path, false));
            }
        }
    }
    removed
}

/// The round directories of run store `store` that its run's symlink does not name, written by
/// processes that are gone.
fn remove_stale_rounds(store: &Path) -> usize {
    let Some(name) = store.file_name().and_then(|n| n.to_str()) else {
        return 0;
    };
    let link = store.with_file_name(&name[1..]);
    let current = std::fs::read_link(&link)
        .ok()
        .and_then(|target| Some(target.file_name()?.to_owned()));
    let Ok(entries) = std::fs::read_dir(store) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let stale = entry.file_type().is_ok_and(|k| k.is_dir())
            && Some(entry.file_name()) != current
            && entry
                .file_name()
                .to_str()
                .and_then(round_of)
                .is_some_and(|(_, pid)| !alive(pid));
        if stale && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Points symlink `link` at `target`, atomically (a temp link renamed over it).
fn replace_symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    let name = link
        .file_name()
        .expect("a link has a name")
        .to_string_lossy();
    let tmp = link.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    std::fs::rename(&tmp, link)
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile_in(dir, path)?;
    tmp.1.write_all(bytes)?;
    tmp.1.sync_all()?;
    std::fs::rename(&tmp.0, path)
}

fn tempfile_in(dir: &Path, target: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for attempt in 0..100u32 {
        let tmp = dir.join(format!(".{name}.tmp-{}-{attempt}", std::process::id()));
        match std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("cannot create a temporary file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn run_dirs_are_unique_and_latest_follows() {
        let root = tempfile::tempdir().unwrap();
        let a = RunDir::create(root.path(), "small").unwrap();
        let b = RunDir::create(root.path(), "small").unwrap();
        assert_ne!(a.dir, b.dir);
        a.mark_latest().unwrap();
        b.mark_latest().unwrap();
        let latest = std::fs::canonicalize(root.path().join("small/latest")).unwrap();
        assert_eq!(latest, std::fs::canonicalize(&b.dir).unwrap());
    }

    /// A pid no process can have (above Linux's largest pid_max).
    const DEAD: i32 = i32::MAX - 1;

    /// The files of a run as a reader sees them through `<run>/`: name → content, absent
    /// files left out.
    fn visible(run: &RunDir, names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .filter_map(|n| {
                Some((
                    n.to_string(),
                    std::fs::read_to_string(run.dir.join(n)).ok()?,
                ))
            })
            .collect()
    }

    #[test]
    fn a_committed_run_is_latest_from_its_creation_and_empty_until_its_first_round() {
        let root = tempfile::tempdir().unwrap();
        let a = RunDir::create_committed(root.path(), "small").unwrap();
        let latest = root.path().join("small/latest");
        assert_eq!(
            std::fs::canonicalize(&latest).unwrap(),
            std::fs::canonicalize(&a.dir).unwrap(),
            "latest names the run before anything is measured"
        );
        assert!(a.dir.is_dir() && !a.summary().exists());
        let b = RunDir::create_committed(root.path(), "small").unwrap();
        assert_ne!(a.dir, b.dir);
        assert_eq!(
            std::fs::canonicalize(&latest).unwrap(),
            std::fs::canonicalize(&b.dir).unwrap()
        );
        // Node logs go through the run directory into the store every round links.
        std::fs::create_dir_all(b.node_logs("rep0")).unwrap();
        std::fs::write(b.node_logs("rep0").join("node0.log"), "log").unwrap();
        let staged = b.stage().unwrap();
        b.commit(&staged).unwrap();
        assert_eq!(
            std::fs::read_to_string(b.node_logs("rep0").join("node0.log")).unwrap(),
            "log"
        );
        std::fs::remove_dir_all(b.node_logs("rep0")).unwrap();
        b.remove_empty_nodes();
        let last = b.stage().unwrap();
        b.commit(&last).unwrap();
        assert!(!b.nodes().exists(), "no logs kept, no nodes entry");
    }

    #[test]
    fn after_any_prefix_of_a_rounds_writes_readers_see_one_whole_round() {
        let root = tempfile::tempdir().unwrap();
        let run = RunDir::create_committed(root.path(), "small").unwrap();
        let names = [
            "metrics.jsonl",
            "summary.json",
            "samples.csv",
            "report.md",
            "base/summary.json",
        ];
        let whole = |round: usize| -> Vec<(String, String)> {
            names
                .iter()
                .map(|n| (n.to_string(), format!("round {round}")))
                .collect()
        };
        assert!(visible(&run, &names).is_empty(), "nothing before round 1");
        for round in 1..=3 {
            let before = visible(&run, &names);
            let staged = run.stage().unwrap();
            for (written, name) in names.iter().enumerate() {
                let path = staged.dir.join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                write_atomic(&path, format!("round {round}").as_bytes()).unwrap();
                assert_eq!(
                    visible(&run, &names),
                    before,
                    "round {round}, {} of {} files written: the last committed round only",
                    written + 1,
                    names.len()
                );
            }
            run.commit(&staged).unwrap();
            assert_eq!(visible(&run, &names), whole(round));
            let rounds: Vec<String> = std::fs::read_dir(run.store())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != NODES)
                .collect();
            assert_eq!(rounds, [round_name(round)], "the replaced round is gone");
        }
        // A stage abandoned by a failed write is started afresh.
        let abandoned = run.stage().unwrap();
        std::fs::write(abandoned.dir.join("summary.json"), "half").unwrap();
        let again = run.stage().unwrap();
        assert_eq!(again.dir, abandoned.dir);
        assert_eq!(std::fs::read_dir(&again.dir).unwrap().count(), 0);
    }

    #[test]
    fn stale_temp_files_and_rounds_of_dead_runs_are_removed_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let small = root.path().join("small");
        let me = std::process::id();
        // A killed run of before run stores, and a killed run with a store.
        let old = small.join("2020-01-01T00-00-00Z");
        let store = small.join(".2020-01-02T00-00-00Z");
        for dir in [&old, &store.join(format!("r3-{DEAD}")), &store.join(NODES)] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::os::unix::fs::symlink(
            format!(".2020-01-02T00-00-00Z/r3-{DEAD}"),
            small.join("2020-01-02T00-00-00Z"),
        )
        .unwrap();
        let stale = [
            old.join(format!(".summary.json.tmp-{DEAD}-0")),
            small.join(format!(".latest.tmp-{DEAD}")),
            store.join(format!("r3-{DEAD}/.samples.csv.tmp-{DEAD}-1")),
            store.join(format!("r4-{DEAD}")),
            store.join(format!(".r5.tmp-{DEAD}")),
        ];
        let kept = [
            old.join("summary.json"),
            store.join(format!("r3-{DEAD}")),
            store.join(format!("r2-{me}")),
            old.join(format!(".summary.json.tmp-{me}-0")),
            small.join("notes.txt"),
            small.join(".notes.tmp"),
            small.join(".my.tmp-abc"),
            small.join(format!(".tmp-{DEAD}")),
            small.join(format!("r9-{DEAD}")),
            old.join(format!("summary.json.tmp-{DEAD}-0")),
        ];
        for path in stale.iter().chain(&kept) {
            let is_dir = path.file_name().unwrap().to_string_lossy().starts_with('r')
                || path.ends_with(format!(".r5.tmp-{DEAD}"));
            if is_dir {
                std::fs::create_dir_all(path).unwrap();
            } else {
                std::fs::write(path, "x").unwrap();
            }
        }
        assert_eq!(remove_stale(&small), stale.len());
        for path in &stale {
            assert!(!path.exists(), "{} should be gone", path.display());
        }
        for path in &kept {
            assert!(path.exists(), "{} should be kept", path.display());
        }
        assert_eq!(remove_stale(&small), 0, "nothing left to remove");
        // The next run cleans up before it starts.
        std::fs::write(old.join(format!(".report.md.tmp-{DEAD}-0")), "x").unwrap();
        RunDir::create_committed(root.path(), "small").unwrap();
        assert!(!old.join(format!(".report.md.tmp-{DEAD}-0")).exists());
    }

    #[test]
    fn temp_names_are_ours_only_with_a_pid() {
        assert_eq!(temp_owner(".summary.json.tmp-123-0"), Some(123));
        assert_eq!(temp_owner(".latest.tmp-77"), Some(77));
        for other in [
            "summary.json.tmp-123-0",
            ".tmp-123",
            ".x.tmp-",
            ".x.tmp-12a",
            ".x.tmp-1-2-3",
            ".x.tmp",
        ] {
            assert_eq!(temp_owner(other), None, "{other}");
        }
        assert_eq!(round_of("r12-345"), Some((12, 345)));
        assert_eq!(round_of("rx-345"), None);
        assert!(alive(std::process::id() as i32) && !alive(DEAD));
    }

    #[test]
    fn every_output_path_is_under_the_root_with_its_documented_name() {
        let workspace = Path::new("/ws");
        let root = OutputRoot::of_workspace(workspace);
        assert_eq!(root.dir, Path::new("/ws/target/perf"));
        assert_eq!(OutputRoot::chosen(None, workspace), root);
        assert_eq!(
            OutputRoot::chosen(Some(Path::new("/elsewhere")), workspace).dir,
            Path::new("/elsewhere")
        );
        let paths = [
            (root.history(), "history"),
            (root.trend("small"), "trend/small"),
            (root.worktree("abc123"), "worktrees/abc123"),
            (root.worktree_target(), "worktree-target"),
            (root.revision_node("abc123"), "bin/abc123/swarm-node"),
            (root.fault_injection_target(), "fault-injection-target"),
            (root.validate().dir, "validate"),
        ];
        let trend = TrendDir {
            dir: root.trend("small"),
        };
        let trend_files = [
            (trend.markdown(), "trend/small/trend.md"),
            (trend.json(), "trend/small/trend.json"),
            (trend.alert(), "trend/small/alert.md"),
            (trend.plots(), "trend/small/plots"),
        ];
        let paths = paths.into_iter().chain(trend_files);
        for (path, name) in paths {
            assert_eq!(path.strip_prefix(&root.dir).unwrap(), Path::new(name));
        }

        let tmp = tempfile::tempdir().unwrap();
        let root = OutputRoot::at(tmp.path());
        let run = root.create_run("small").unwrap();
        assert_eq!(run.dir.parent().unwrap(), tmp.path().join("small"));
        let suite = root.create_suite("basic").unwrap();
        assert_eq!(suite.dir.parent().unwrap(), tmp.path().join("suite-basic"));
        let curve = root.create_scale_curve().unwrap();
        assert_eq!(curve.dir.parent().unwrap(), tmp.path().join("scale-curve"));
        assert_eq!(
            temp_owner(curve.plot_stage().file_name().unwrap().to_str().unwrap()),
            Some(std::process::id() as i32),
            "a plot stage a killed run leaves is recognisably a temp"
        );
        let files = [
            (run.summary(), "summary.json"),
            (run.metrics_jsonl(), "metrics.jsonl"),
            (run.samples_csv(), "samples.csv"),
            (run.report_md(), "report.md"),
            (run.plots(), "plots"),
            (run.node_logs("rep0"), "nodes/rep0"),
            (suite.suite_md(), "suite.md"),
            (suite.suite_json(), "suite.json"),
            (run.validation_md(), "validation.md"),
            (run.validation_json(), "validation.json"),
            (run.experiment_runs("aa").dir, "runs/aa"),
            (run.curve_json(), "curve.json"),
            (run.curve_csv(), "curve.csv"),
        ];
        for (path, name) in files {
            let dir = if name.starts_with("suite") {
                &suite.dir
            } else {
                &run.dir
            };
            assert_eq!(path.strip_prefix(dir).unwrap(), Path::new(name));
        }

        let bench = BenchResults::in_target(Path::new("/ws/target"));
        assert_eq!(
            bench.criterion,
            Path::new("/ws/target/swarmbench-results/criterion")
        );
        assert_eq!(bench.iai, Path::new("/ws/target/swarmbench-results/iai"));
    }
}
