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
