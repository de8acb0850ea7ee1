//! Where results go, and how they are written: every path under the output root comes from
//! here, and every finished file is written atomically (temp file in the same directory, then
//! rename), so a reader never sees half a file, even if the runner is killed mid-write.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

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
}
