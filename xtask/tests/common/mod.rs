//! Helpers shared by the CLI tests: the xtask binary, the debug node, one-at-a-time clusters.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Mutex, MutexGuard},
};

/// Runs that start clusters go one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the cluster lock for the rest of the test.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The xtask binary under test, with stdin closed.
pub fn xtask() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.stdin(Stdio::null());
    cmd
}

/// The debug swarm-node next to this xtask binary, built on demand; or the node named by
/// `SWARMBENCH_TEST_NODE_BIN` (e.g. a release build, to measure the fault-injection tests'
/// timings on what users run).
pub fn node_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("SWARMBENCH_TEST_NODE_BIN") {
        return PathBuf::from(bin);
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_xtask")).with_file_name("swarm-node");
    if !bin.exists() {
        let status = perf_runner::cargo::command()
            .args(["build", "-p", "swarm-node"])
            .status()
            .unwrap();
        assert!(status.success(), "building swarm-node for the tests failed");
    }
    bin
}

/// Exit code, stdout and stderr of a finished command.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let output = cmd.output().expect("run xtask");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}
