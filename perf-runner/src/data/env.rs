//! The environment fingerprint: what a result depends on besides the code, and the testbed,
//! the named machine class a baseline belongs to.
//!
//! Two runs compare cleanly only on the same fingerprint; a baseline from another CPU or
//! kernel is still shown, with a warning. A baseline gates only runs of its own testbed: a
//! name given with `--testbed` or `SWARMBENCH_TESTBED`, else derived from the fingerprint's
//! stable parts (CPU model, cores, OS). The kernel build and rustc are left out on purpose:
//! they change with routine updates while the machine class stays the same.

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

/// The environment variable that names the testbed when `--testbed` is not given.
pub const TESTBED_ENV: &str = "SWARMBENCH_TESTBED";

/// Longest testbed name: it is a directory name under `baselines/`.
const TESTBED_MAX_LEN: usize = 64;

/// A named machine class, e.g. `intel-xeon-processor-2c-debian-gnu-linux-12`: lowercase
/// letters, digits and `-`, starting with a letter or digit. Baselines are stored per testbed,
/// and a run gates only against a baseline of its own testbed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Testbed(String);

/// A testbed name that cannot be a directory under `baselines/`.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid testbed name {name:?} (from {origin}): use lowercase letters, digits and '-', starting with a letter or digit, at most {TESTBED_MAX_LEN} characters (e.g. intel-xeon-processor-2c-debian-gnu-linux-12)"
)]
pub struct TestbedError {
    /// The name given.
    pub name: String,
    /// Where it came from: `--testbed` or the environment variable.
    pub origin: String,
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

impl Testbed {
    /// A name given by the user, checked; `origin` says where it came from for the error.
    pub fn named(name: &str, origin: &str) -> Result<Self, TestbedError> {
        let valid = name.len() <= TESTBED_MAX_LEN
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(TestbedError {
                name: name.to_owned(),
                origin: origin.to_owned(),
            })
        }
    }

    /// The default name of the machine `fingerprint` describes: CPU model without trademark
    /// signs, cores, OS without its parenthesised codename, as one slug. Kernel, rustc and
    /// network backend do not take part.
    pub fn derived(fingerprint: &Fingerprint) -> Self {
        let cpu = ["(R)", "(r)", "(TM)", "(tm)"]
            .iter()
            .fold(fingerprint.cpu_model.clone(), |s, mark| {
                s.replace(mark, " ")
            });
        let os = without_parentheses(&fingerprint.os);
        let name = slug(
            &format!("{cpu} {}c {os}", fingerprint.cores),
            TESTBED_MAX_LEN,
        );
        Self(if name.is_empty() {
            "unknown".into()
        } else {
            name
        })
    }

    /// The testbed of a run: `flag` (`--testbed`) when given, else `env` (the value of
    /// [`TESTBED_ENV`], ignored when empty), else derived from `fingerprint`. A given name
    /// that is not a valid slug is an error, never silently rewritten.
    pub fn choose(
        flag: Option<&str>,
        env: Option<&str>,
        fingerprint: &Fingerprint,
    ) -> Result<Self, TestbedError> {
        match (flag, env.filter(|v| !v.is_empty())) {
            (Some(name), _) => Self::named(name, "--testbed"),
            (None, Some(name)) => Self::named(name, TESTBED_ENV),
            (None, None) => Ok(Self::derived(fingerprint)),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Testbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Testbed {
    type Error = TestbedError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        Self::named(&name, "the file")
    }
}

impl From<Testbed> for String {
    fn from(testbed: Testbed) -> Self {
        testbed.0
    }
}

/// `text` with every parenthesised part removed: `Debian GNU/Linux 12 (bookworm)` →
/// `Debian GNU/Linux 12 `. The codename repeats the version number.
fn without_parentheses(text: &str) -> String {
    let mut depth = 0usize;
    text.chars()
        .filter(|&c| {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    return false;
                }
                _ => {}
            }
            depth == 0
        })
        .collect()
}

/// `text` as a slug of at most `max_len` characters: ASCII letters and digits lowercased,
/// every other run of characters one `-`, no `-` at either end.
pub fn slug(text: &str, max_len: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(max_len);
    out.trim_end_matches('-').to_owned()
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

    /// The fingerprint stored in the committed baselines before testbeds existed.
    fn xeon() -> Fingerprint {
        Fingerprint {
            cpu_model: "Intel(R) Xeon(R) Processor".into(),
            cores: 2,
            kernel: "6.18.44-fc-v769".into(),
            os: "Debian GNU/Linux 12 (bookworm)".into(),
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
            network_backend: "loopback".into(),
        }
    }

    #[test]
    fn a_testbed_is_derived_from_cpu_cores_and_os_only() {
        let machine = xeon();
        let name = Testbed::derived(&machine);
        assert_eq!(name.as_str(), "intel-xeon-processor-2c-debian-gnu-linux-12");
        // Routine updates of the kernel or the toolchain keep the machine class.
        let updated = Fingerprint {
            kernel: "6.18.44-fc-v782".into(),
            rustc: "rustc 1.96.0".into(),
            network_backend: "userspace-switch".into(),
            ..machine.clone()
        };
        assert_eq!(Testbed::derived(&updated), name);
        // More cores or another CPU is another machine class.
        let bigger = Fingerprint {
            cores: 4,
            ..machine.clone()
        };
        assert_eq!(
            Testbed::derived(&bigger).as_str(),
            "intel-xeon-processor-4c-debian-gnu-linux-12"
        );
        let amd = Fingerprint {
            cpu_model: "AMD EPYC 7763 64-Core Processor".into(),
            ..machine
        };
        assert_eq!(
            Testbed::derived(&amd).as_str(),
            "amd-epyc-7763-64-core-processor-2c-debian-gnu-linux-12"
        );
    }

    #[test]
    fn a_derived_testbed_is_always_a_valid_name() {
        let odd = Fingerprint {
            cpu_model: "Ünïcode (x86) CPU @ 3.20GHz ".repeat(10),
            os: "".into(),
            ..xeon()
        };
        let name = Testbed::derived(&odd);
        assert!(name.as_str().len() <= TESTBED_MAX_LEN, "{name}");
        assert_eq!(Testbed::named(name.as_str(), "test").unwrap(), name);
        let empty = Fingerprint {
            cpu_model: "".into(),
            cores: 0,
            os: "".into(),
            ..xeon()
        };
        assert_eq!(Testbed::derived(&empty).as_str(), "0c");
    }

    #[test]
    fn the_flag_wins_over_the_environment_which_wins_over_the_fingerprint() {
        let machine = xeon();
        let chosen = |flag, env| Testbed::choose(flag, env, &machine).map(String::from);
        assert_eq!(
            chosen(Some("ci-runner"), Some("laptop")).unwrap(),
            "ci-runner"
        );
        assert_eq!(chosen(None, Some("laptop")).unwrap(), "laptop");
        assert_eq!(
            chosen(None, Some("")).unwrap(),
            "intel-xeon-processor-2c-debian-gnu-linux-12",
            "an empty variable counts as unset"
        );
        assert_eq!(
            chosen(None, None).unwrap(),
            "intel-xeon-processor-2c-debian-gnu-linux-12"
        );
    }

    #[test]
    fn a_given_testbed_name_must_be_a_slug() {
        for bad in [
            "",
            "Laptop",
            "my laptop",
            "../x",
            "-x",
            "a_b",
            &"x".repeat(65),
        ] {
            let err = Testbed::named(bad, "--testbed").unwrap_err().to_string();
            assert!(err.contains("from --testbed"), "{err}");
            assert!(err.contains("lowercase letters, digits and '-'"), "{err}");
        }
        let err = Testbed::choose(None, Some("My Box"), &xeon()).unwrap_err();
        assert!(err.to_string().contains("from SWARMBENCH_TESTBED"), "{err}");
        assert!(Testbed::named("gha-ubuntu-24-04-4c", "--testbed").is_ok());
        let parsed: Result<Testbed, _> = serde_json::from_str("\"Not/A/Slug\"");
        assert!(parsed.is_err(), "a stored testbed is checked too");
    }
}
