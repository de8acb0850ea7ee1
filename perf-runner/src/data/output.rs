//! Where results go, and how they are written: every path under the output root comes from
//! here, and every finished file is written atomically (temp file in the same directory, then
//! rename), so a reader never sees half a file, even if the runner is killed mid-write.
//!
//! [`OutputRoot`] names the directories directly under the root (`target/perf` by default):
//! run directories, history, trend, worktree builds and their caches. [`RunDir`] names the files
//! of one run. [`BenchResults`] names where the benchmark harnesses write inside a cargo target
//! directory. Nothing here decides *whether* to write; callers do.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

/// The default output root, relative to the workspace.
const DEFAULT_ROOT: &str = "target/perf";

/// The output root: `--out`, or `<workspace>/target/perf`.
///
/// Layout:
/// - `<scenario>/<timestamp>/`: one run ([`RunDir`]); `<scenario>/latest` links the newest.
/// - `suite-<suite>/<timestamp>/`: a suite's combined report.
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

    /// Creates the root when missing and proves it writable: a file is created in it and
    /// removed again (named like a temp file, so a leftover is cleaned like one).
    pub fn probe_writable(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let probe = self
            .dir
            .join(format!(".write-probe.tmp-{}", std::process::id()));
        std::fs::File::options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&probe)?;
        std::fs::remove_file(&probe)
    }

    /// Creates a fresh run directory `<root>/<scenario>/<timestamp>/`.
    pub fn create_run(&self, scenario: &str) -> std::io::Result<RunDir> {
        RunDir::create(&self.dir, scenario)
    }

    /// Creates the directory of a suite's combined report: `<root>/suite-<suite>/<timestamp>/`.
    pub fn create_suite(&self, suite: &str) -> std::io::Result<RunDir> {
        self.create_run(&format!("suite-{suite}"))
    }

    /// `<root>/validate/`: validations, one `<scenario>/<timestamp>/` each.
    pub fn validate(&self) -> OutputRoot {
        Self::at(self.dir.join("validate"))
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
        let parent = self.dir.parent().expect("run dir has a parent");
        let name = self.dir.file_name().expect("run dir has a name");
        let tmp = parent.join(format!(".latest-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(name, &tmp)?;
        std::fs::rename(&tmp, parent.join("latest"))
    }
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
