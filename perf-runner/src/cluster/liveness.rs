//! Watching the nodes while a repetition's phases run, so that a node that dies, is stopped or
//! stops answering ends the repetition at once instead of stalling it behind request timeouts
//! (a DHT phase with 1,500 puts against a dead node used to wait out every Kademlia timeout).
//!
//! Three checks, from cheapest to slowest:
//! - **Exit and stop, from `/proc/<pid>/stat`**, on every SIGCHLD (the kernel sends the
//!   runner one when a child exits or is stopped) and every [`SCAN_INTERVAL`] as a fallback:
//!   a zombie means the node exited (the cluster reaps it later, for its exit status), state
//!   `T`/`t` means someone stopped it (SIGSTOP, a debugger). Noticed within milliseconds.
//! - **Answering, from `GET /health`**: one probe per node at a time, at most one a second
//!   (fewer in large clusters, see [`probe_interval`]); a running node with no successful answer
//!   for the [`silence_limit`] is hung (a dead event loop, a deadlock). The limit is at least
//!   [`MIN_SILENCE`] and grows with how slowly the *other* nodes answer: while 100 nodes form
//!   on 2 cores, `/health` takes 4 s at the median (6 s at p90, measured), and a node that is
//!   merely as slow as its peers is not hung. Off while idle CPU is measured, so that the
//!   runner's probes never count as the node's own work.
//! - Nodes that a fault took down or paused on purpose are not watched until they are back.
//!
//! The watcher shares the cluster's view of which node should be up through [`Watched`], which
//! the cluster updates before every deliberate kill, pause, stop or restart.

use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures::{StreamExt, stream::FuturesUnordered};

use super::{
    ClusterError, NodeState,
    node_api::NodeApi,
    process::{LOG_TAIL_LINES, log_tail},
};

/// Fallback interval of the `/proc` scan when no SIGCHLD arrives.
pub const SCAN_INTERVAL: Duration = Duration::from_millis(250);
/// The shortest silence that makes a node hung.
pub const MIN_SILENCE: Duration = Duration::from_secs(10);
/// The longest: beyond it a node that does not answer is hung however slow the others are.
pub const MAX_SILENCE: Duration = Duration::from_secs(300);
/// A node is hung when silent this many times longer than the median answer of the others.
const SILENCE_FACTOR: u32 = 10;
/// Successful probe latencies the median is taken over.
const LATENCY_WINDOW: usize = 256;

/// How often each node is probed: once a second, and no more than 100 probes a second in all,
/// so that probing 1,000 nodes does not load the machine it measures.
pub fn probe_interval(nodes: usize) -> Duration {
    Duration::from_secs(1).max(Duration::from_millis(10) * nodes as u32)
}

/// How long a node may go without a successful answer: [`SILENCE_FACTOR`] times the median
/// latency of recent answers (from every node), and at least three probe intervals and
/// [`MIN_SILENCE`], at most [`MAX_SILENCE`].
pub fn silence_limit(median_latency: Option<Duration>, interval: Duration) -> Duration {
    let relative = median_latency.unwrap_or_default() * SILENCE_FACTOR;
    relative.max(interval * 3).max(MIN_SILENCE).min(MAX_SILENCE)
}

/// What the watcher needs of one node.
#[derive(Clone)]
pub(super) struct WatchedNode {
    /// Its process id; `None` once reaped.
    pub pid: Option<u32>,
    /// Up, or down or paused on purpose.
    pub state: NodeState,
    /// Its control API.
    pub api: NodeApi,
    /// Its log, for the tail in the error.
    pub log_path: PathBuf,
}

/// What the cluster shares with its watchers: it writes, they read.
#[derive(Default)]
pub(super) struct Shared {
    /// The nodes as they should be.
    pub nodes: Mutex<Vec<WatchedNode>>,
    /// While set, no `/health` probes (idle CPU is being measured).
    quiet: AtomicBool,
}

/// The cluster's side of the watch.
pub(super) type Watched = Arc<Shared>;

/// A handle on the cluster's liveness, independent of the `&mut Cluster` a phase holds.
#[derive(Clone)]
pub struct Liveness {
    watched: Watched,
}

/// Keeps HTTP probes off while it lives.
pub struct Quiet(Watched);

impl Drop for Quiet {
    fn drop(&mut self) {
        self.0.quiet.store(false, Ordering::Relaxed);
    }
}

/// A process's scheduler state from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessState {
    /// Running, sleeping or in disk wait.
    Running,
    /// Stopped by a signal or a tracer.
    Stopped,
    /// Exited (a zombie awaiting its parent's wait, or gone).
    Exited,
}

/// Reads `pid`'s state. The state letter follows the command name, which is in parentheses
/// and may itself contain spaces and parentheses, so it is found after the *last* `)`.
pub fn process_state(pid: u32) -> ProcessState {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return ProcessState::Exited;
    };
    parse_state(&stat)
}

fn parse_state(stat: &str) -> ProcessState {
    let letter = stat
        .rfind(')')
        .and_then(|at| stat[at + 1..].trim_start().chars().next());
    match letter {
        Some('Z' | 'X' | 'x') | None => ProcessState::Exited,
        Some('T' | 't') => ProcessState::Stopped,
        Some(_) => ProcessState::Running,
    }
}

impl Liveness {
    pub(super) fn new(watched: Watched) -> Self {
        Self { watched }
    }

    /// No `/health` probes until the returned guard is dropped.
    pub fn quiet(&self) -> Quiet {
        self.watched.quiet.store(true, Ordering::Relaxed);
        Quiet(self.watched.clone())
    }

    /// Runs `phase` to its end, unless a node fails first: then `phase` is dropped, which
    /// cancels its outstanding requests, and the node's failure is the result.
    pub async fn guard<T, E: From<ClusterError>>(
        &self,
        phase: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        tokio::select! {
            biased;
            failure = self.first_failure() => Err(E::from(failure)),
            result = phase => result,
        }
    }

    /// Resolves with the first node found dead, stopped or hung; never resolves otherwise.
    pub async fn first_failure(&self) -> ClusterError {
        let mut child_signals =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child()).ok();
        let mut scan = tokio::time::interval(SCAN_INTERVAL);
        scan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut probes = Probes::default();
        loop {
            let nodes = self.watched.nodes.lock().expect("not poisoned").clone();
            if let Some(failure) = scan_processes(&nodes) {
                return failure;
            }
            if !self.watched.quiet.load(Ordering::Relaxed) {
                probes.start_due(&nodes);
            } else {
                probes.pause();
            }
            if let Some(failure) = probes.hung(&nodes) {
                return failure;
            }
            tokio::select! {
                _ = scan.tick() => {}
                Some(()) = async {
                    match child_signals.as_mut() {
                        Some(signals) => signals.recv().await,
                        None => std::future::pending().await,
                    }
                } => {}
                Some(answer) = probes.in_flight.next() => probes.answered(answer),
            }
        }
    }
}

/// The first node that should be up and has exited or been stopped.
fn scan_processes(nodes: &[WatchedNode]) -> Option<ClusterError> {
    nodes.iter().enumerate().find_map(|(index, node)| {
        if node.state != NodeState::Up {
            return None;
        }
        let pid = node.pid?;
        let tail = || log_tail(&node.log_path, LOG_TAIL_LINES);
        match process_state(pid) {
            ProcessState::Running => None,
            ProcessState::Exited => Some(ClusterError::Crashed {
                index,
                status: "exited".to_owned(),
                log: node.log_path.display().to_string(),
                tail: tail(),
            }),
            ProcessState::Stopped => Some(ClusterError::Stopped {
                index,
                log: node.log_path.display().to_string(),
                tail: tail(),
            }),
        }
    })
}

/// `/health` probes in flight, the last good answer per process and recent latencies.
#[derive(Default)]
struct Probes {
    in_flight: FuturesUnordered<futures::future::BoxFuture<'static, Answer>>,
    /// Per pid: last successful answer (or when watching began), last probe sent, and
    /// whether one is outstanding.
    by_pid: std::collections::HashMap<u32, ProbeState>,
    /// The latest successful probes' latencies, every node's, oldest first.
    latencies: std::collections::VecDeque<Duration>,
}

/// A probe's outcome.
struct Answer {
    pid: u32,
    ok: bool,
    latency: Duration,
}

struct ProbeState {
    last_ok: Instant,
    last_sent: Option<Instant>,
    outstanding: bool,
}

impl Probes {
    /// Sends a probe to every up node without one outstanding whose last was long enough ago.
    fn start_due(&mut self, nodes: &[WatchedNode]) {
        let now = Instant::now();
        let interval = probe_interval(nodes.len());
        for node in nodes.iter().filter(|n| n.state == NodeState::Up) {
            let Some(pid) = node.pid else { continue };
            let state = self.by_pid.entry(pid).or_insert(ProbeState {
                last_ok: now,
                last_sent: None,
                outstanding: false,
            });
            let due = state
                .last_sent
                .is_none_or(|sent| now.duration_since(sent) >= interval);
            if state.outstanding || !due {
                continue;
            }
            state.outstanding = true;
            state.last_sent = Some(now);
            let api = node.api.clone();
            self.in_flight.push(Box::pin(async move {
                // The API client's own timeout ends a probe that gets no answer.
                let ok = api.health().await.is_ok();
                Answer {
                    pid,
                    ok,
                    latency: now.elapsed(),
                }
            }));
        }
    }

    /// While probes are off, silence does not count against a node.
    fn pause(&mut self) {
        let now = Instant::now();
        for state in self.by_pid.values_mut() {
            state.last_ok = now;
        }
    }

    fn answered(&mut self, answer: Answer) {
        let Some(state) = self.by_pid.get_mut(&answer.pid) else {
            return;
        };
        state.outstanding = false;
        if answer.ok {
            state.last_ok = Instant::now();
            if self.latencies.len() == LATENCY_WINDOW {
                self.latencies.pop_front();
            }
            self.latencies.push_back(answer.latency);
        }
    }

    /// The median latency of recent successful probes.
    fn median_latency(&self) -> Option<Duration> {
        let mut sorted: Vec<Duration> = self.latencies.iter().copied().collect();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied()
    }

    /// The first up node silent for longer than the [`silence_limit`].
    fn hung(&mut self, nodes: &[WatchedNode]) -> Option<ClusterError> {
        let now = Instant::now();
        // A node that went down, or a process that was replaced, starts afresh when back.
        self.by_pid.retain(|pid, _| {
            nodes
                .iter()
                .any(|n| n.pid == Some(*pid) && n.state == NodeState::Up)
        });
        let limit = silence_limit(self.median_latency(), probe_interval(nodes.len()));
        nodes.iter().enumerate().find_map(|(index, node)| {
            let state = self.by_pid.get(&node.pid?)?;
            let silent = now.duration_since(state.last_ok);
            (node.state == NodeState::Up && silent >= limit).then(|| ClusterError::Unresponsive {
                index,
                silent,
                log: node.log_path.display().to_string(),
                tail: log_tail(&node.log_path, LOG_TAIL_LINES),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_letter_follows_the_last_parenthesis() {
        let stat = |comm: &str, state: char| format!("4242 ({comm}) {state} 1 4242 4242 0 -1");
        assert_eq!(parse_state(&stat("swarm-node", 'S')), ProcessState::Running);
        assert_eq!(parse_state(&stat("swarm-node", 'R')), ProcessState::Running);
        assert_eq!(parse_state(&stat("swarm-node", 'D')), ProcessState::Running);
        assert_eq!(parse_state(&stat("swarm-node", 'Z')), ProcessState::Exited);
        assert_eq!(parse_state(&stat("swarm-node", 'T')), ProcessState::Stopped);
        assert_eq!(parse_state(&stat("swarm-node", 't')), ProcessState::Stopped);
        // A command name may hold ") Z (" itself.
        assert_eq!(parse_state(&stat("a) Z (b", 'S')), ProcessState::Running);
        assert_eq!(parse_state("garbage"), ProcessState::Exited);
    }

    #[test]
    fn this_process_runs_and_a_stopped_child_is_seen_stopped_then_exited() {
        assert_eq!(process_state(std::process::id()), ProcessState::Running);
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep runs");
        let pid = child.id();
        // SAFETY: signals to a child we spawned and have not reaped.
        unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
        wait_for(|| process_state(pid) == ProcessState::Stopped);
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        wait_for(|| process_state(pid) == ProcessState::Exited);
        child.wait().expect("reaped");
        assert_eq!(process_state(pid), ProcessState::Exited);
    }

    #[test]
    fn the_silence_limit_grows_with_the_others_latency_within_bounds() {
        let second = Duration::from_secs(1);
        assert_eq!(silence_limit(None, second), MIN_SILENCE);
        assert_eq!(
            silence_limit(Some(Duration::from_millis(2)), second),
            MIN_SILENCE
        );
        // 100 nodes forming on 2 cores: /health at 4 s median.
        assert_eq!(silence_limit(Some(4 * second), second), 40 * second);
        assert_eq!(silence_limit(Some(3600 * second), second), MAX_SILENCE);
        // Rarely probed nodes get three intervals.
        assert_eq!(silence_limit(None, 20 * second), 60 * second);
    }

    #[test]
    fn large_clusters_are_probed_at_most_100_times_a_second() {
        assert_eq!(probe_interval(5), Duration::from_secs(1));
        assert_eq!(probe_interval(100), Duration::from_secs(1));
        assert_eq!(probe_interval(1000), Duration::from_secs(10));
    }

    /// Polls `condition` for up to a minute.
    fn wait_for(condition: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !condition() {
            assert!(Instant::now() < deadline, "condition not reached in 60 s");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
