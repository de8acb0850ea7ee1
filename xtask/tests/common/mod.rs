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

/// Child processes of `pid` (from every thread), in node index order. Not pid order: pids wrap
/// around (pid_max is 32768 on many machines), so a later node can have a smaller pid. A
/// node's `--key-seed` is seed × 1,000,003 + its index, so with one seed the seeds sort like
/// the indices.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut children: Vec<(u64, u32)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/status"))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("PPid:").map(|v| v.trim().to_owned()))
                })
                .is_some_and(|ppid| ppid == pid.to_string())
        })
        .map(|child| (key_seed_of(child), child))
        .collect();
    children.sort_unstable();
    children.into_iter().map(|(_, child)| child).collect()
}

/// The `--key-seed` on a process's command line (0 when it has none).
fn key_seed_of(pid: u32) -> u64 {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
    args.iter()
        .position(|a| *a == b"--key-seed")
        .and_then(|at| args.get(at + 1))
        .and_then(|seed| std::str::from_utf8(seed).ok()?.parse().ok())
        .unwrap_or(0)
}

/// Whether `pid` runs (exists and is not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// The js-libp2p reference node's directory, or `None` when its npm packages are missing:
/// then the caller skips, with a message, on a developer's machine; under `CI=true` this
/// fails instead, because `cargo xtask test`'s installer must have run `npm ci`.
pub fn js_node_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let node_dir = root.join("nodes/js-libp2p");
    if node_dir.join("node_modules").is_dir() {
        return Some(node_dir);
    }
    let message = "nodes/js-libp2p/node_modules is missing: `cargo xtask test` installs it (npm ci), or run `npm ci` in nodes/js-libp2p";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{message}; under CI the tool installer must have done so"
    );
    eprintln!("skipped: {message}");
    None
}

/// A run's `summary.json`, parsed; panics naming the file when it is missing or malformed.
pub fn read_summary(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The median of `metric` in a summary; panics when the summary lacks it.
pub fn median(summary: &serde_json::Value, metric: &str) -> f64 {
    summary["metrics"]
        .as_array()
        .and_then(|metrics| metrics.iter().find(|m| m["name"] == metric))
        .and_then(|m| m["summary"]["median"].as_f64())
        .unwrap_or_else(|| panic!("summary.json lacks {metric}: {summary}"))
}

/// A loopback HTTP server for fake nodes: every accepted connection is handed to `answer` on a
/// thread of its own. Returns its port; the server lives as long as the test process.
pub fn serve(answer: fn(std::net::TcpStream)) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    port
}
