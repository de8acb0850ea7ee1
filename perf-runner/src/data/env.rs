//! The environment fingerprint: what a result depends on besides the code.
//!
//! Two runs compare cleanly only on the same fingerprint; a baseline from another CPU or
//! kernel is still shown, with a warning.

use std::{path::Path, process::Command};

use serde::{Deserialize, Serialize};

/// Machine, toolchain and revision a run was measured on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// CPU model name from /proc/cpuinfo.
    pub cpu_model: String,
    /// Cores available to the runner.
    pub cores: usize,
    /// Kernel release.
    pub kernel: String,
    /// OS pretty name.
    pub os: String,
    /// `rustc -V`.
    pub rustc: String,
    /// How the network between nodes is provided (`loopback`, or an emulation backend).
    pub network_backend: String,
}

/// Source revision of the measured code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// `git rev-parse HEAD`, or `unknown`.
    pub commit: String,
    /// Uncommitted changes present.
    pub dirty: bool,
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The first 12 hex digits of a commit id, as reports show it.
pub fn short_commit(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

impl Fingerprint {
    /// Reads this machine's fingerprint.
    pub fn current(network_backend: &str) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let os = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|t| {
                t.lines().find_map(|l| {
                    l.strip_prefix("PRETTY_NAME=")
                        .map(|v| v.trim_matches('"').to_owned())
                })
            })
            .unwrap_or_else(|| std::env::consts::OS.into());
        Self {
            cpu_model,
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            os,
            rustc: command_line("rustc", &["-V"]).unwrap_or_else(|| "unknown".into()),
            network_backend: network_backend.into(),
        }
    }

    /// Fields that differ from `other`, as `name: this vs other`.
    pub fn differences(&self, other: &Fingerprint) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |name: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            let (a, b) = (a.to_string(), b.to_string());
            if a != b {
                out.push(format!("{name}: {a} vs {b}"));
            }
        };
        check("cpu_model", &self.cpu_model, &other.cpu_model);
        check("cores", &self.cores, &other.cores);
        check("kernel", &self.kernel, &other.kernel);
        check("os", &self.os, &other.os);
        check("rustc", &self.rustc, &other.rustc);
        check(
            "network_backend",
            &self.network_backend,
            &other.network_backend,
        );
        out
    }
}

impl Revision {
    /// The git revision of the repository at `dir`: `unknown` and clean when git cannot say.
    pub fn of(dir: &Path) -> Self {
        Self {
            commit: crate::git::head_commit(dir).unwrap_or_else(|_| "unknown".into()),
            dirty: crate::git::is_dirty(dir).unwrap_or(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_each_changed_field() {
        let a = Fingerprint::current("loopback");
        let mut b = a.clone();
        assert!(a.differences(&b).is_empty());
        b.cores += 1;
        b.network_backend = "userspace".into();
        let diffs = a.differences(&b);
        assert_eq!(diffs.len(), 2, "{diffs:?}");
        assert!(diffs[1].starts_with("network_backend: loopback vs userspace"));
    }
}
