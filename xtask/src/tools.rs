//! Installs the external tools the test suite needs, only when missing.
//!
//! Each tool has one check ("is it on PATH?") and one install recipe. Installing is idempotent:
//! a second run finds everything present and does nothing.

use std::process::Command;

use anyhow::{Context, bail};

/// An external tool the tests call.
struct Tool {
    /// Binary looked up on PATH.
    binary: &'static str,
    /// Debian package that provides it.
    debian_package: &'static str,
    /// Why the tests need it.
    purpose: &'static str,
}

const TOOLS: &[Tool] = &[Tool {
    binary: "promtool",
    debian_package: "prometheus",
    purpose: "checks that /metrics is valid Prometheus text",
}];

/// Whether `binary` is on PATH.
fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(binary).is_file()))
}

/// Installs every missing tool.
pub fn ensure_installed() -> anyhow::Result<()> {
    let missing: Vec<&Tool> = TOOLS.iter().filter(|t| !on_path(t.binary)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    for tool in &missing {
        eprintln!(
            "xtask: installing {} ({}) from Debian package {}",
            tool.binary, tool.purpose, tool.debian_package
        );
    }
    let packages: Vec<&str> = missing.iter().map(|t| t.debian_package).collect();
    apt_install(&packages)?;
    for tool in missing {
        if !on_path(tool.binary) {
            bail!(
                "{} is still missing after installing {}",
                tool.binary,
                tool.debian_package
            );
        }
    }
    Ok(())
}

fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    if !on_path("apt-get") {
        bail!(
            "cannot install {packages:?}: no apt-get here; install them with your package manager and re-run"
        );
    }
    // Root runs apt directly; others go through sudo (non-interactive, so CI never hangs on a prompt).
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let apt = |args: &[&str]| -> anyhow::Result<()> {
        let mut cmd = if is_root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !is_root {
            cmd.args(["-n", "apt-get"]);
        }
        let status = cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .with_context(|| format!("running apt-get {}", args.join(" ")))?;
        if !status.success() {
            bail!("apt-get {} failed with {status}", args.join(" "));
        }
        Ok(())
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend_from_slice(packages);
    apt(&install)
}
