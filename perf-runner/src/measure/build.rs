//! Building swarm-node (this tree, another git revision, the fault-injection variant) and
//! measuring the binary: size, and optionally build time.
//!
//! Every build goes through [`cargo_build_node`], so all of them report failures the same way.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use crate::{
    data::output::OutputRoot,
    git::{self, GitError, Worktree},
};

/// Why the node could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// cargo failed, or its binary could not be prepared or cached.
    #[error("building swarm-node failed: {0}")]
    Cargo(String),
    /// The revision to build could not be resolved or checked out.
    #[error(transparent)]
    Git(#[from] GitError),
}

/// A built node.
#[derive(Debug, Clone)]
pub struct BuiltNode {
    /// Path of the release binary.
    pub bin: PathBuf,
    /// Wall time of the measured build, seconds, if one was measured.
    pub build_time_s: Option<f64>,
}

/// `cargo build --release -p swarm-node` in `dir`, into `target_dir` (or the default), with
/// `features`. Returns the binary path and the wall time of the build.
fn cargo_build_node(
    dir: &Path,
    target_dir: Option<&Path>,
    features: &[&str],
) -> Result<(PathBuf, f64), BuildError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(dir).args([
        "build",
        "--release",
        "-p",
        "swarm-node",
        "--bin",
        "swarm-node",
    ]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    if let Some(target_dir) = target_dir {
        command.env("CARGO_TARGET_DIR", target_dir);
    }
    let started = Instant::now();
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| BuildError::Cargo(format!("cannot run cargo: {e}")))?;
    let elapsed = started.elapsed().as_secs_f64();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        return Err(BuildError::Cargo(
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        ));
    }
    let target = target_dir
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| dir.join("target"));
    Ok((target.join("release/swarm-node"), elapsed))
}

/// Builds this tree's node. With `measure`, first touches the node's main.rs so the timed
/// build is a real incremental rebuild, not a no-op.
pub fn build_release_node(workspace: &Path, measure: bool) -> Result<BuiltNode, BuildError> {
    if measure {
        let main = workspace.join("node/src/main.rs");
        let touch_error =
            |e: std::io::Error| BuildError::Cargo(format!("touch {}: {e}", main.display()));
        let file = std::fs::File::options()
            .append(true)
            .open(&main)
            .map_err(touch_error)?;
        file.set_modified(std::time::SystemTime::now())
            .map_err(touch_error)?;
    }
    let (bin, elapsed) = cargo_build_node(workspace, None, &[])?;
    Ok(BuiltNode {
        bin,
        build_time_s: measure.then_some(elapsed),
    })
}

/// Builds the node with the `fault-injection` feature, in its own target directory so the
/// measured binary is never replaced by it.
pub fn build_fault_injection_node(workspace: &Path) -> Result<PathBuf, BuildError> {
    let target = OutputRoot::of_workspace(workspace).fault_injection_target();
    cargo_build_node(workspace, Some(&target), &["fault-injection"]).map(|(bin, _)| bin)
}

/// File size of the binary, bytes.
pub fn binary_size_bytes(bin: &Path) -> Option<u64> {
    std::fs::metadata(bin).ok().map(|m| m.len())
}

/// A fresh detached worktree of `commit` under `<output root>/worktrees/`, removed when
/// dropped.
pub fn revision_worktree(workspace: &Path, commit: &str) -> Result<Worktree, GitError> {
    let path = OutputRoot::of_workspace(workspace).worktree(commit);
    Worktree::add(workspace, &path, commit)
}

/// Builds swarm-node at another git revision, in a temporary worktree, caching the binary by
/// commit id under `<output root>/bin/<commit>/`. Returns the binary and the commit.
///
/// The worktrees share one target directory, so a second revision reuses the compiled
/// dependencies of the first.
pub fn build_revision_node(
    workspace: &Path,
    git_ref: &str,
) -> Result<(PathBuf, String), BuildError> {
    let commit = git::resolve_commit(workspace, git_ref)?;
    let root = OutputRoot::of_workspace(workspace);
    let cached = root.revision_node(&commit);
    if cached.is_file() {
        return Ok((cached, commit));
    }
    let worktree = revision_worktree(workspace, &commit)?;
    let built = cargo_build_node(&worktree.path, Some(&root.worktree_target()), &[]);
    drop(worktree);
    let (bin, _) = built.map_err(|e| match e {
        BuildError::Cargo(message) => BuildError::Cargo(format!(
            "revision {git_ref} ({commit}) does not build:\n{message}"
        )),
        other => other,
    })?;
    let parent = cached.parent().expect("cache path has a parent");
    std::fs::create_dir_all(parent)
        .map_err(|e| BuildError::Cargo(format!("{}: {e}", parent.display())))?;
    let tmp = parent.join(".swarm-node.tmp");
    std::fs::copy(&bin, &tmp)
        .and_then(|_| std::fs::rename(&tmp, &cached))
        .map_err(|e| BuildError::Cargo(format!("caching the {commit} binary: {e}")))?;
    Ok((cached, commit))
}
