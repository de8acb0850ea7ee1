//! Spawning one node process under the node contract, so that it can never outlive the runner.
//!
//! Three guarantees, all set up between fork and exec:
//! - `PR_SET_PDEATHSIG(SIGKILL)`: the kernel kills the node when the thread that forked it
//!   dies. The runner forks only from its main thread (a current-thread runtime), so that
//!   thread's death is the process's death, SIGKILL included.
//! - A check that the parent is still the runner, closing the race where the runner died
//!   between fork and prctl.
//! - A process group of its own, so a terminal's Ctrl-C reaches only the runner, which then
//!   stops the nodes itself after saving what it measured.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// The node contract version this runner speaks (node/README.md).
pub const CONTRACT_VERSION: u64 = 1;

/// What a node printed in its ready line.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Ready {
    /// The node's peer id.
    pub peer_id: String,
    /// Where it listens.
    pub listen_addrs: Vec<String>,
    /// Base URL of its control API.
    pub control: String,
    /// The optional parts of the contract it implements (`perf`, `metrics`, `events`).
    #[serde(default)]
    pub capabilities: Vec<String>,
}

impl Ready {
    /// Whether the node declared `capability`.
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

/// Why a ready line's `contract` field rules the node out, if it does.
fn contract_mismatch(line: &serde_json::Value) -> Option<String> {
    match &line["contract"] {
        serde_json::Value::Number(n) if n.as_u64() == Some(CONTRACT_VERSION) => None,
        serde_json::Value::Null => Some(format!(
            "printed a ready line without \"contract\": {CONTRACT_VERSION}: add it once the node speaks node contract v{CONTRACT_VERSION} (node/README.md)"
        )),
        other => Some(format!(
            "speaks node contract {other}, this runner speaks v{CONTRACT_VERSION} (node/README.md): use a runner or a node of the same contract version"
        )),
    }
}

/// Why a node did not come up.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The binary could not be executed.
    #[error("cannot start node {index} ({bin}): {source}")]
    Exec {
        /// Node index.
        index: usize,
        /// The binary.
        bin: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The node exited or stayed silent instead of printing its ready line.
    #[error("node {index} {what}; last lines of {log}:\n{tail}")]
    NotReady {
        /// Node index.
        index: usize,
        /// "exited with status 1 before its ready line", "printed no ready line within 30s", …
        what: String,
        /// Its log file.
        log: String,
        /// The end of its stderr.
        tail: String,
    },
}

/// A node process that has printed its ready line.
pub struct NodeProcess {
    /// Position in the cluster.
    pub index: usize,
    /// The child; killed on drop.
    pub child: Child,
    /// Its ready line.
    pub ready: Ready,
    /// Where its stderr goes.
    pub log_path: PathBuf,
    /// When the runner read the ready line, unix ns.
    pub ready_ns: u64,
    /// What the node printed on stdout after its ready line (a contract violation): the
    /// first [`STRAY_LINES_KEPT`] lines.
    pub stray_stdout: Arc<Mutex<Vec<String>>>,
}

/// Lines of stray stdout kept per node.
pub const STRAY_LINES_KEPT: usize = 5;

/// Lines of a log shown when a node fails.
pub const LOG_TAIL_LINES: usize = 20;

/// Longest log line shown in a tail; the rest is cut with an ellipsis.
const TAIL_LINE_CHARS: usize = 400;

/// The last `lines` lines of a file, cleaned for a terminal and a report (see [`clean_line`]),
/// or a note that it cannot be read.
pub fn log_tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            let tail: Vec<String> = all[all.len().saturating_sub(lines)..]
                .iter()
                .map(|line| clean_line(line))
                .collect();
            let tail = tail.join("\n");
            if tail.trim().is_empty() {
                "(empty)".into()
            } else {
                tail
            }
        }
        Err(e) => format!("(cannot read: {e})"),
    }
}

/// A log line without ANSI escape sequences (a node that colours its logs even into a file
/// would otherwise put raw `ESC[2m` codes into errors and report.md) or other control
/// characters, cut to [`TAIL_LINE_CHARS`].
pub fn clean_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len().min(TAIL_LINE_CHARS));
    let mut chars = line.chars().peekable();
    let mut shown = 0;
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters… final byte in @..~; other escapes (ESC ( B …): ESC and
            // the next character, the rest shown as text.
            if chars.next_if_eq(&'[').is_some() {
                while chars.next().is_some_and(|c| !('@'..='~').contains(&c)) {}
            } else {
                chars.next();
            }
            continue;
        }
        if c.is_control() && c != '\t' {
            continue;
        }
        if shown == TAIL_LINE_CHARS {
            out.push('…');
            break;
        }
        out.push(c);
        shown += 1;
    }
    out
}

/// Starts `bin args…` as node `index` with stderr to `log_path`, forking now; the returned
/// future waits for the ready line. Forking eagerly lets the cluster stagger spawns precisely.
pub fn spawn_node(
    index: usize,
    bin: &Path,
    args: &[String],
    log_path: &Path,
    ready_timeout: Duration,
    niceness: i32,
) -> Result<impl Future<Output = Result<NodeProcess, SpawnError>> + use<>, SpawnError> {
    let exec_error = |source| SpawnError::Exec {
        index,
        bin: bin.into(),
        source,
    };
    let log = std::fs::File::create(log_path).map_err(exec_error)?;
    let mut command = Command::new(bin);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    arm_parent_death(&mut command);
    let child = command.spawn().map_err(exec_error)?;
    Ok(wait_ready(
        index,
        child,
        log_path.to_path_buf(),
        ready_timeout,
        niceness,
    ))
}

async fn wait_ready(
    index: usize,
    mut child: Child,
    log_path: PathBuf,
    ready_timeout: Duration,
    niceness: i32,
) -> Result<NodeProcess, SpawnError> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let not_ready = |what: String| SpawnError::NotReady {
        index,
        what,
        log: log_path.display().to_string(),
        tail: log_tail(&log_path, LOG_TAIL_LINES),
    };
    let first = match tokio::time::timeout(ready_timeout, lines.next_line()).await {
        Err(_) => {
            let _ = child.start_kill();
            return Err(not_ready(format!(
                "printed no ready line within {ready_timeout:?}"
            )));
        }
        Ok(Ok(Some(line))) => line,
        Ok(_) => {
            let status = child
                .wait()
                .await
                .map(|s| s.to_string())
                .unwrap_or_else(|e| e.to_string());
            return Err(not_ready(format!(
                "exited ({status}) before printing its ready line"
            )));
        }
    };
    let ready: Ready = match serde_json::from_str::<serde_json::Value>(&first) {
        Ok(v) if v["event"] == "ready" => {
            if let Some(mismatch) = contract_mismatch(&v) {
                let _ = child.start_kill();
                return Err(not_ready(mismatch));
            }
            serde_json::from_value(v).map_err(|e| {
                let _ = child.start_kill();
                not_ready(format!(
                    "printed a ready line missing a field ({e}): {first}"
                ))
            })?
        }
        _ => {
            let _ = child.start_kill();
            return Err(not_ready(format!(
                "printed {first:?} where the ready line was expected"
            )));
        }
    };
    if let Some(pid) = child.id() {
        lower_priority(pid, niceness);
    }
    // Keep draining stdout so a chatty node never blocks on a full pipe; the contract says
    // stdout carries nothing after the ready line, so anything there is logged as a bug.
    let stray_stdout = Arc::new(Mutex::new(Vec::new()));
    let stray = stray_stdout.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::warn!(node = index, "unexpected stdout after ready line: {line}");
            let mut kept = stray.lock().expect("not poisoned");
            if kept.len() < STRAY_LINES_KEPT {
                kept.push(clean_line(&line));
            }
        }
    });
    Ok(NodeProcess {
        index,
        child,
        ready,
        log_path,
        ready_ns: crate::measure::clock::unix_ns(),
        stray_stdout,
    })
}

/// How a command that should not start (bad flags) ended.
#[derive(Debug, Clone)]
pub struct Exited {
    /// Its exit code; `None` when a signal ended it or it was still running at the timeout.
    pub code: Option<i32>,
    /// Whether it was still running at the timeout (and was killed).
    pub timed_out: bool,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

/// Runs `bin args…` with the same parent-death guarantees as a node, capturing both streams,
/// until it exits or `timeout` passes (then it is killed): for flags a node must refuse.
pub async fn run_to_exit(
    bin: &Path,
    args: &[String],
    timeout: Duration,
) -> Result<Exited, std::io::Error> {
    let mut command = Command::new(bin);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    arm_parent_death(&mut command);
    let mut child = command.spawn()?;
    let read = |stream: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>| {
        tokio::spawn(async move {
            let mut bytes = Vec::new();
            if let Some(mut stream) = stream {
                let _ = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut bytes).await;
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read(child.stdout.take().map(|s| Box::new(s) as _));
    let stderr = read(child.stderr.take().map(|s| Box::new(s) as _));
    let (code, timed_out) = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => (status?.code(), false),
        Err(_) => {
            if let Some(pid) = child.id() {
                kill_group(pid);
            }
            let _ = child.kill().await;
            (None, true)
        }
    };
    // A process it forked may still hold the streams open: a moment, then without them.
    let rest = |task: tokio::task::JoinHandle<String>| async move {
        match tokio::time::timeout(Duration::from_secs(1), task).await {
            Ok(Ok(text)) => text,
            _ => String::new(),
        }
    };
    Ok(Exited {
        code,
        timed_out,
        stdout: rest(stdout).await,
        stderr: rest(stderr).await,
    })
}

/// SIGKILL to the process group a spawned node leads (its own, see [`spawn_node`]): whatever
/// a node forked dies with it, even children that lost the parent-death signal at fork.
pub fn kill_group(pid: u32) {
    // SAFETY: kill(2) with a negative pid signals the group the spawned child leads.
    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
}

/// Lowers the ready node `pid`, every thread and every process of its process group (which
/// it leads, see [`arm_parent_death`]), `niceness` steps below the runner's priority (0: the
/// same).
///
/// With hundreds of nodes on two cores, the runner is one process among hundreds and got a
/// few milliseconds of CPU a second: its requests to the nodes then timed out in its own queue
/// (measured: 250 nodes at load average 170, `/health` to a node that answered a `curl` in
/// 0.2 s timed out in the runner after 30 s). Lower node priority lets the measuring keep up
/// while the nodes still share the rest equally among themselves.
///
/// Only once the node is ready: a node that starts at the lowest priority waits behind every
/// forming node before it can print its ready line, and the nodes that bootstrap from it wait
/// for that line (measured: 1,000 nodes took 45 s and, in another run, 232 s to start when
/// each started at niceness 19).
fn lower_priority(pid: u32, niceness: i32) {
    if niceness == 0 {
        return;
    }
    // SAFETY: getpriority/setpriority only read and set scheduling priorities. PRIO_PGRP
    // reaches every thread of every process in the group (nice values are per thread on
    // Linux). A failure (the node already exited) leaves the priority as it is.
    unsafe {
        let runner = libc::getpriority(libc::PRIO_PROCESS, 0);
        libc::setpriority(
            libc::PRIO_PGRP,
            pid as libc::id_t,
            (runner + niceness).min(19),
        );
    }
}

#[cfg(target_os = "linux")]
fn arm_parent_death(command: &mut Command) {
    // SAFETY: getpid is async-signal-safe; the closure below only calls async-signal-safe
    // functions (prctl, getppid, setpgid, raise), as pre_exec requires.
    let runner_pid = unsafe { libc::getpid() };
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != runner_pid {
                // The runner died before prctl took effect.
                libc::raise(libc::SIGKILL);
            }
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn arm_parent_death(command: &mut Command) {
    // No parent-death signal outside Linux: kill_on_drop covers orderly exits only.
    command.process_group(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_ready_line_of_this_contract_version_is_accepted() {
        let line = |contract: &str| {
            serde_json::from_str::<serde_json::Value>(&format!(
                r#"{{"event":"ready","peer_id":"x","listen_addrs":[],"control":"http://127.0.0.1:9"{contract}}}"#
            ))
            .unwrap()
        };
        assert_eq!(contract_mismatch(&line(r#","contract":1"#)), None);
        let missing = contract_mismatch(&line("")).unwrap();
        assert!(missing.contains(r#"without "contract": 1"#), "{missing}");
        let other = contract_mismatch(&line(r#","contract":2"#)).unwrap();
        assert!(other.contains("speaks node contract 2"), "{other}");
        assert!(contract_mismatch(&line(r#","contract":"1""#)).is_some());
    }

    #[tokio::test]
    async fn a_node_runs_at_full_priority_until_ready_then_every_thread_is_lowered() {
        let dir = tempfile::tempdir().unwrap();
        // A "node" that records its own nice value before its ready line, then starts a
        // second process in its group and idles.
        let script = dir.path().join("node.sh");
        let before = dir.path().join("nice-before-ready");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n\
                 awk '{{print $19}}' /proc/$$/stat > {before}\n\
                 echo '{{\"event\":\"ready\",\"peer_id\":\"x\",\"listen_addrs\":[],\"control\":\"http://127.0.0.1:9\",\"contract\":1}}'\n\
                 sleep 60 & sleep 60\n",
                before = before.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let runner_nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let node = spawn_node(
            0,
            &script,
            &[],
            &dir.path().join("node0.log"),
            Duration::from_secs(60),
            5,
        )
        .unwrap()
        .await
        .unwrap();
        let recorded: i32 = std::fs::read_to_string(&before)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(recorded, runner_nice, "lowered before its ready line");
        let pid = node.child.id().unwrap();
        let expected = (runner_nice + 5).min(19);
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
            let tid: libc::id_t = task.unwrap().file_name().to_str().unwrap().parse().unwrap();
            // SAFETY: getpriority only reads; on Linux PRIO_PROCESS with a thread id reads
            // that thread's nice value.
            let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, tid) };
            assert_eq!(nice, expected, "thread {tid}");
        }
        kill_group(pid);
    }

    #[test]
    fn tails_lose_colour_codes_and_control_characters() {
        assert_eq!(
            clean_line(
                "\u{1b}[2m2026-12-05T17:00:00Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m node started\u{7}"
            ),
            "2026-12-05T17:00:00Z  INFO node started"
        );
        assert_eq!(
            clean_line("tab\tkept, \u{1b}(B charset escape gone"),
            "tab\tkept, B charset escape gone"
        );
        let long = "x".repeat(TAIL_LINE_CHARS + 10);
        assert_eq!(clean_line(&long).chars().count(), TAIL_LINE_CHARS + 1);
    }

    #[test]
    fn a_tail_is_the_last_lines_cleaned_and_says_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("node0.log");
        std::fs::write(&log, "one\ntwo\n\u{1b}[31mthree\u{1b}[0m\n").unwrap();
        assert_eq!(log_tail(&log, 2), "two\nthree");
        std::fs::write(&log, "").unwrap();
        assert_eq!(log_tail(&log, 2), "(empty)");
        assert!(log_tail(&dir.path().join("missing.log"), 2).starts_with("(cannot read"));
    }
}
