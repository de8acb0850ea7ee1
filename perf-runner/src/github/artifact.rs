//! Reads the report directory a PR comment is rendered from, as hostile input: in the
//! fork-safe workflow it is an artifact a pull request's code wrote.
//!
//! The directory and `summary.json` are size-capped before reading, links and special files
//! are refused, the summary is parsed as data, and the scenario name (it goes into the hidden
//! marker) must be a plain identifier. Rendering is [`crate::report::comment`]'s job.

use std::path::Path;

use super::GithubError;
use crate::{
    data::{output::RunDir, summary::RunSummary},
    report::escape::{code, is_identifier},
};

/// Largest report directory accepted (the plots of a run are ~1 MB).
pub const DEFAULT_MAX_ARTIFACT_BYTES: u64 = 50 * 1024 * 1024;
/// Largest `summary.json` accepted.
const MAX_SUMMARY_BYTES: u64 = 16 * 1024 * 1024;

/// Total size of the regular files under `dir`, refusing links and anything odd.
fn directory_bytes(dir: &Path, limit: u64) -> Result<u64, GithubError> {
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| GithubError::BadInput(format!("{}: {e}", d.display())))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| GithubError::BadInput(format!("{}: {e}", d.display())))?;
            let meta = std::fs::symlink_metadata(entry.path())
                .map_err(|e| GithubError::BadInput(format!("{}: {e}", entry.path().display())))?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
            if total > limit {
                return Err(GithubError::BadInput(format!(
                    "{}: the report is larger than the {} MiB cap; refusing to read it",
                    dir.display(),
                    limit / (1024 * 1024)
                )));
            }
        }
    }
    Ok(total)
}

/// Whether the report directory has a `summary.json` at all (of whatever kind): without one
/// the run left no report, which is not the same as a report that is refused.
pub fn has_summary(dir: &Path) -> bool {
    let path = RunDir {
        dir: dir.to_path_buf(),
    }
    .summary();
    std::fs::symlink_metadata(path).is_ok()
}

/// Reads the summary of an untrusted report directory, within the size caps.
pub fn load_report(dir: &Path, max_artifact_bytes: u64) -> Result<RunSummary, GithubError> {
    if !dir.is_dir() {
        return Err(GithubError::BadInput(format!(
            "{}: no such report directory (expected the perf run's directory with summary.json)",
            dir.display()
        )));
    }
    directory_bytes(dir, max_artifact_bytes)?;
    let path = RunDir {
        dir: dir.to_path_buf(),
    }
    .summary();
    let meta = std::fs::symlink_metadata(&path).map_err(|_| {
        GithubError::BadInput(format!(
            "{}: missing; is this a perf report?",
            path.display()
        ))
    })?;
    if !meta.is_file() || meta.len() > MAX_SUMMARY_BYTES {
        return Err(GithubError::BadInput(format!(
            "{}: not a regular file under {} MiB",
            path.display(),
            MAX_SUMMARY_BYTES / (1024 * 1024)
        )));
    }
    let summary = RunSummary::read(&path).map_err(|e| GithubError::BadInput(e.to_string()))?;
    if !is_identifier(&summary.scenario.name) {
        return Err(GithubError::BadInput(format!(
            "{}: scenario name {} is not a plain identifier; refusing to use it in a comment marker",
            path.display(),
            code(&summary.scenario.name)
        )));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> RunSummary {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/summary-small.json");
        RunSummary::read(&path).unwrap()
    }

    #[test]
    fn missing_or_oversized_reports_are_refused_before_anything_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let e = load_report(&dir.path().join("nope"), DEFAULT_MAX_ARTIFACT_BYTES).unwrap_err();
        assert!(e.to_string().contains("no such report directory"), "{e}");
        let e = load_report(dir.path(), DEFAULT_MAX_ARTIFACT_BYTES).unwrap_err();
        assert!(e.to_string().contains("summary.json: missing"), "{e}");
        std::fs::write(dir.path().join("big.bin"), vec![0u8; 4096]).unwrap();
        let e = load_report(dir.path(), 1024).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        assert_eq!(crate::Error::from(e).exit_code(), 2);
        let mut s = fixture();
        s.scenario.name = "std -->".into();
        std::fs::write(
            dir.path().join("summary.json"),
            serde_json::to_vec(&s).unwrap(),
        )
        .unwrap();
        let e = load_report(dir.path(), DEFAULT_MAX_ARTIFACT_BYTES).unwrap_err();
        assert!(e.to_string().contains("not a plain identifier"), "{e}");
    }
}
