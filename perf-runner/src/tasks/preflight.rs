//! What every command that runs clusters checks before anything is built or started, so that
//! bad input fails in a second with exit 2 instead of after a node build or minutes of
//! measuring with exit 3: the scenario as overridden (the file's own rules, see
//! [`scenario::resolve_with`]), the output root (writable, a directory), the open files the
//! runner will need for the largest cluster against `RLIMIT_NOFILE`, and that the other
//! implementations of a mixed network (`[[node_groups]]`) are installed.

use crate::{
    Error,
    scenario::{self, Scenario, Transport},
    tasks::{Common, perf::PerfRequest},
};

/// Checks a perf request before anything is built or started, and returns its scenario with
/// the overrides applied.
pub fn perf(request: &PerfRequest) -> Result<Scenario, Error> {
    let scenario = scenario::resolve_with(&request.scenario, &request.overrides)?;
    output_root(&request.common)?;
    open_files(&scenario)?;
    implementations(&scenario)?;
    Ok(scenario)
}

/// Refuses a mixed network whose other implementations are not installed (a missing start
/// script, or `nodes/js-libp2p/node_modules` before `npm ci`), saying how to install them.
pub fn implementations(scenario: &Scenario) -> Result<(), Error> {
    for implementation in scenario.group_implementations() {
        implementation.check_installed().map_err(Error::Usage)?;
    }
    Ok(())
}

/// Proves the output root writable (it is created when missing, a file is created in it and
/// removed, and what was created is removed again); a path that is a file, or a directory this
/// user cannot write or create, is a usage error.
pub fn output_root(common: &Common) -> Result<(), Error> {
    let root = common.output_root();
    let named = match &common.out {
        Some(out) => format!("--out {}", out.display()),
        None => format!("the output directory {}", root.dir.display()),
    };
    if root.dir.exists() && !root.dir.is_dir() {
        return Err(Error::Usage(format!(
            "{named} is a file, not a directory; give a directory (it is created when missing)"
        )));
    }
    root.probe_writable().map_err(|e| {
        Error::Usage(format!(
            "{named} cannot be written ({e}); give a directory you can write to"
        ))
    })
}

/// Files the runner holds besides its nodes': standard streams, the runtime's epoll and event
/// descriptors, the output file being written, a `/proc` file being read, the HTTP client's
/// resolver. Generous on purpose: the estimate must not be what fails.
const FIXED_FILES: u64 = 64;

/// Open files the runner needs at the peak of one cluster of `scenario`: per node that it
/// ever starts ([`Scenario::max_nodes`], counting scale-ups), the node's stdout pipe, its child
/// handle and its log file while spawning (cluster/process.rs), three keep-alive connections to
/// its control API (health, events, a workload request); with `[network]` the UDP socket and
/// TCP listener of its switch port (netem/switch.rs), and over TCP two descriptors per proxied
/// connection (accepted and outgoing, netem/proxy.rs) to up to 16 peers. Plus the DHT phase's
/// requests in flight and [`FIXED_FILES`]. Repetitions and arms run one cluster at a time.
pub fn files_needed(scenario: &Scenario) -> FileEstimate {
    let nodes = scenario.max_nodes() as u64;
    let mut per_node = 3 + 3;
    if scenario.network.is_some() {
        per_node += 2;
        if scenario.transport == Transport::Tcp {
            per_node += 2 * nodes.saturating_sub(1).min(16);
        }
    }
    let in_flight = scenario.dht.as_ref().map_or(0, |d| d.concurrency as u64);
    FileEstimate {
        nodes,
        per_node,
        fixed: FIXED_FILES + in_flight,
    }
}

/// How many files a run needs, and how the number was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileEstimate {
    /// Nodes at the most, scale-ups counted.
    pub nodes: u64,
    /// Files per node.
    pub per_node: u64,
    /// Files besides the nodes'.
    pub fixed: u64,
}

impl FileEstimate {
    /// The total.
    pub fn total(&self) -> u64 {
        self.nodes * self.per_node + self.fixed
    }
}

/// Refuses a scenario whose largest cluster needs more open files than `RLIMIT_NOFILE` allows,
/// after raising the soft limit to the hard limit when the soft one is too low (child
/// processes inherit the raised limit; nothing changes when the soft limit suffices).
pub fn open_files(scenario: &Scenario) -> Result<(), Error> {
    let estimate = files_needed(scenario);
    let (soft, hard) = raise_file_limit(estimate.total());
    check_files(&scenario.name, estimate, soft, hard)
}

/// The check of [`open_files`] with the limits given.
fn check_files(name: &str, estimate: FileEstimate, soft: u64, hard: u64) -> Result<(), Error> {
    let needed = estimate.total();
    if needed <= soft {
        return Ok(());
    }
    let FileEstimate {
        nodes,
        per_node,
        fixed,
    } = estimate;
    let suggestion = needed.next_power_of_two();
    let raise = if suggestion <= hard {
        format!("`ulimit -n {suggestion}` in the shell that runs cargo xtask")
    } else {
        format!(
            "`ulimit -n {suggestion}` as root, or a higher hard limit for your user (/etc/security/limits.conf, systemd's LimitNOFILE)"
        )
    };
    Err(Error::Usage(format!(
        "scenario {name} needs about {needed} open files in the runner ({nodes} nodes × {per_node} + {fixed}), but RLIMIT_NOFILE allows {soft} (hard limit {hard}); raise it with {raise}, or use fewer nodes"
    )))
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit when it is below `needed`; returns the
/// soft and hard limits in force afterwards (`u64::MAX` for unlimited).
// `rlim_t` is 64 bits wide on 64-bit Linux only.
#[allow(clippy::unnecessary_cast)]
fn raise_file_limit(needed: u64) -> (u64, u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) writes the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return (u64::MAX, u64::MAX);
    }
    if (limit.rlim_cur as u64) < needed && limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit(2) reads the struct we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    let value = |v: libc::rlim_t| {
        if v == libc::RLIM_INFINITY {
            u64::MAX
        } else {
            v as u64
        }
    };
    (value(limit.rlim_cur), value(limit.rlim_max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn scenario(text: &str) -> Scenario {
        Scenario::from_toml(text, Path::new("s.toml")).unwrap()
    }

    fn common(out: Option<PathBuf>) -> Common {
        Common {
            workspace: "/nonexistent-workspace".into(),
            baselines: "/nonexistent-baselines".into(),
            out,
            threshold: None,
            quiet: true,
        }
    }

    #[test]
    fn the_file_estimate_grows_with_nodes_switch_ports_and_tcp_connections() {
        let plain = files_needed(&scenario("name = \"x\"\nnodes = 100\n"));
        assert_eq!(
            plain,
            FileEstimate {
                nodes: 100,
                per_node: 6,
                fixed: 64
            }
        );
        assert_eq!(plain.total(), 664);
        let switched = files_needed(&scenario("name = \"x\"\nnodes = 100\n[network]\n"));
        assert_eq!(switched.per_node, 8);
        let tcp = files_needed(&scenario(
            "name = \"x\"\nnodes = 100\ntransport = \"tcp\"\n[network]\n[dht]\nconcurrency = 16\n",
        ));
        assert_eq!((tcp.per_node, tcp.fixed), (8 + 32, 64 + 16));
        let scaled = files_needed(&scenario(
            "name = \"x\"\nnodes = 5\n[network]\n[chaos]\n[[chaos.faults]]\nat_s = 1\nkind = \"scale-up\"\ncount = 995\n",
        ));
        assert_eq!(scaled.nodes, 1000, "newcomers count");
    }

    #[test]
    fn too_few_open_files_is_refused_saying_the_limit_the_estimate_and_how_to_raise_it() {
        let estimate = FileEstimate {
            nodes: 1000,
            per_node: 6,
            fixed: 64,
        };
        assert!(check_files("big", estimate, 6064, 6064).is_ok());
        let e = check_files("big", estimate, 1024, 65536).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "scenario big needs about 6064 open files in the runner (1000 nodes × 6 + 64), but RLIMIT_NOFILE allows 1024 (hard limit 65536); raise it with `ulimit -n 8192` in the shell that runs cargo xtask, or use fewer nodes"
        );
        let e = check_files("big", estimate, 4096, 4096).unwrap_err();
        assert!(e.to_string().contains("`ulimit -n 8192` as root"), "{e}");
    }

    #[test]
    fn the_soft_limit_is_raised_only_when_too_low() {
        let (soft, hard) = raise_file_limit(0);
        assert!(soft <= hard);
        let (raised, same_hard) = raise_file_limit(u64::MAX);
        assert_eq!((raised, same_hard), (hard, hard));
    }

    #[test]
    fn the_output_root_must_be_a_writable_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("a/b");
        output_root(&common(Some(missing.clone()))).unwrap();
        assert!(
            !tmp.path().join("a").exists(),
            "the check leaves nothing behind"
        );
        let existing = tmp.path().join("existing");
        std::fs::create_dir(&existing).unwrap();
        output_root(&common(Some(existing.clone()))).unwrap();
        assert_eq!(
            std::fs::read_dir(&existing).unwrap().count(),
            0,
            "the probe file is gone"
        );
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let e = output_root(&common(Some(file.clone()))).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            format!(
                "--out {} is a file, not a directory; give a directory (it is created when missing)",
                file.display()
            )
        );
        let e = output_root(&common(Some(file.join("below")))).unwrap_err();
        assert!(e.to_string().contains("below cannot be written ("), "{e}");
        // Even root cannot create files in sysfs.
        let e = output_root(&common(Some("/sys".into()))).unwrap_err();
        assert!(
            e.to_string().starts_with("--out /sys cannot be written (")
                && e.to_string()
                    .ends_with("); give a directory you can write to"),
            "{e}"
        );
        // The default root is checked too.
        let workspace = tmp.path().join("ws");
        std::fs::create_dir(&workspace).unwrap();
        std::fs::write(workspace.join("target"), "a file").unwrap();
        let e = output_root(&Common {
            workspace: workspace.clone(),
            ..common(None)
        })
        .unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "the output directory {} cannot be written",
                workspace.join("target/perf").display()
            )),
            "{e}"
        );
    }
}
