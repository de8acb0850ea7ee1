//! Building swarm-node and measuring the binary: size, and optionally build time.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

/// Why the node could not be built.
#[derive(Debug, thiserror::Error)]
#[error("building swarm-node failed: {0}")]
pub struct BuildError(pub String);

/// A built node.
#[derive(Debug, Clone)]
pub struct BuiltNode {
    /// Path of the release binary.
    pub bin: PathBuf,
    /// Wall time of the measured build, seconds, if one was measured.
    pub build_time_s: Option<f64>,
}

/// `cargo build --release -p swarm-node` in `workspace`. With `measure`, first touches the
/// node's main.rs so the timed build is a real incremental rebuild, not a no-op.
pub fn build_release_node(workspace: &Path, measure: bool) -> Result<BuiltNode, BuildError> {
    if measure {
        let main = workspace.join("node/src/main.rs");
        let file = std::fs::File::options()
            .append(true)
            .open(&main)
            .map_err(|e| BuildError(format!("touch {}: {e}", main.display())))?;
        file.set_modified(std::time::SystemTime::now())
            .map_err(|e| BuildError(format!("touch {}: {e}", main.display())))?;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let output = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "-p",
            "swarm-node",
            "--bin",
            "swarm-node",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| BuildError(format!("cannot run cargo: {e}")))?;
    let elapsed = started.elapsed().as_secs_f64();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        return Err(BuildError(
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        ));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    Ok(BuiltNode {
        bin: target.join("release/swarm-node"),
        build_time_s: measure.then_some(elapsed),
    })
}

/// File size of the binary, bytes.
pub fn binary_size_bytes(bin: &Path) -> Option<u64> {
    std::fs::metadata(bin).ok().map(|m| m.len())
}

/// Builds swarm-node at another git revision, in a temporary worktree, caching the binary by
/// commit id under `<workspace>/target/perf/bin/<commit>/`. Returns the binary and the commit.
///
/// The worktrees share one target directory, so a second revision reuses the compiled
/// dependencies of the first.
pub fn build_revision_node(
    workspace: &Path,
    git_ref: &str,
) -> Result<(PathBuf, String), BuildError> {
    let git = |args: &[&str], dir: &Path| {
        Command::new("git")
            .current_dir(dir)
            .args(args)
            .output()
            .map_err(|e| BuildError(format!("cannot run git: {e}")))
    };
    let out = git(
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{git_ref}^{{commit}}"),
        ],
        workspace,
    )?;
    if !out.status.success() {
        return Err(BuildError(format!(
            "git ref {git_ref:?} does not exist in {}",
            workspace.display()
        )));
    }
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let perf_dir = workspace.join("target/perf");
    let cached = perf_dir.join("bin").join(&commit).join("swarm-node");
    if cached.is_file() {
        return Ok((cached, commit));
    }
    let worktree = perf_dir.join("worktrees").join(&commit);
    let _ = git(
        &[
            "worktree",
            "remove",
            "--force",
            &worktree.display().to_string(),
        ],
        workspace,
    );
    let _ = std::fs::remove_dir_all(&worktree);
    let add = git(
        &[
            "worktree",
            "add",
            "--detach",
            "--force",
            &worktree.display().to_string(),
            &commit,
        ],
        workspace,
    )?;
    if !add.status.success() {
        return Err(BuildError(format!(
            "git worktree add for {git_ref} failed: {}",
            String::from_utf8_lossy(&add.stderr).trim()
        )));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target_dir = perf_dir.join("worktree-target");
    let build = Command::new(cargo)
        .current_dir(&worktree)
        .env("CARGO_TARGET_DIR", &target_dir)
        .args([
            "build",
            "--release",
            "-p",
            "swarm-node",
            "--bin",
            "swarm-node",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let _ = git(
        &[
            "worktree",
            "remove",
            "--force",
            &worktree.display().to_string(),
        ],
        workspace,
    );
    let build = build.map_err(|e| BuildError(format!("cannot run cargo: {e}")))?;
    if !build.status.success() {
        let stderr = String::from_utf8_lossy(&build.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        return Err(BuildError(format!(
            "revision {git_ref} ({commit}) does not build:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )));
    }
    let parent = cached.parent().expect("cache path has a parent");
    std::fs::create_dir_all(parent)
        .map_err(|e| BuildError(format!("{}: {e}", parent.display())))?;
    let tmp = parent.join(".swarm-node.tmp");
    std::fs::copy(target_dir.join("release/swarm-node"), &tmp)
        .and_then(|_| std::fs::rename(&tmp, &cached))
        .map_err(|e| BuildError(format!("caching the {commit} binary: {e}")))?;
    Ok((cached, commit))
}
