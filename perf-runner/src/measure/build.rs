//! Building swarm-node (this tree, another git revision, the fault-injection variant) and
//! measuring the binary: size, and optionally build time.
//!
//! Every build goes through [`cargo_build_node`], so all of them report failures the same way.

use std::{
    io::Read,
    path::{Path, PathBuf},
    process::Stdio,
    time::Instant,
};

use crate::{
    cargo,
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
    let mut command = cargo::command();
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

/// File size of the binary, bytes; `None` unless it is an executable binary (ELF or Mach-O):
/// the size of a script that starts a node elsewhere says nothing about the node.
pub fn binary_size_bytes(bin: &Path) -> Option<u64> {
    let mut magic = [0u8; 4];
    std::fs::File::open(bin)
        .and_then(|mut file| file.read_exact(&mut magic))
        .ok()?;
    if !EXECUTABLE_MAGIC.contains(&magic) {
        return None;
    }
    std::fs::metadata(bin).ok().map(|m| m.len())
}

/// The first bytes of executable binaries: ELF, then Mach-O 32 and 64 bit in either byte
/// order, and Mach-O universal (fat) binaries.
const EXECUTABLE_MAGIC: [[u8; 4]; 6] = [
    *b"\x7fELF",
    [0xfe, 0xed, 0xfa, 0xce],
    [0xce, 0xfa, 0xed, 0xfe],
    [0xfe, 0xed, 0xfa, 0xcf],
    [0xcf, 0xfa, 0xed, 0xfe],
    [0xca, 0xfe, 0xba, 0xbe],
];

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_executable_binary_has_its_file_size() {
        let this = std::env::current_exe().unwrap();
        let size = std::fs::metadata(&this).unwrap().len();
        assert_eq!(binary_size_bytes(&this), Some(size));
    }

    #[test]
    fn a_script_or_any_other_file_has_no_binary_size() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[u8]); 4] = [
            (
                "node.sh",
                b"#!/bin/sh\nexec /usr/bin/node index.js \"$@\"\n",
            ),
            ("text", b"not a program at all"),
            ("short", b"\x7fEL"),
            ("empty", b""),
        ];
        for (name, bytes) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(binary_size_bytes(&path), None, "{name}");
        }
        assert_eq!(binary_size_bytes(&dir.path().join("missing")), None);
    }
}
