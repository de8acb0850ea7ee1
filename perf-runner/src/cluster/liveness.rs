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
//!   for the [`silence_limit`] is hung (a dead event loop, a deadlock), unless it spent a quarter
//!   of that silence waiting for a CPU ([`starved`]: up to [`MAX_SILENCE`]). The limit is at least
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
/// Probes outstanding at once: at 1,000 nodes every node falls due within the same tick, and a
/// burst of 1,000 requests would measure the runner's queue, not the nodes.
const PROBES_IN_FLIGHT: usize = 64;
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

/// Whether a node that did not answer for `silent` was starved rather than hung: it spent at
/// least a quarter of that time runnable but waiting for a CPU. A hung node (a dead event
/// loop, a deadlock) sleeps; a starved one queues. Measured at 1,000 nodes on 2 cores while
/// they formed: a node answered `/health` after more than 30 s while every node had used only
/// 0.1 s of CPU; all were waiting their turn.
fn starved(waited: Duration, silent: Duration) -> bool {
    waited * 4 >= silent
}

/// How long all of `pid`'s threads have waited for a CPU so far (the second field of
/// `/proc/<pid>/task/<tid>/schedstat`, in nanoseconds); `None` when the kernel does not say.
/// A thread that exits between listing and reading is skipped, not taken for a kernel that
/// keeps no schedstat.
fn run_queue_wait(pid: u32) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = None;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        *total.get_or_insert(Duration::ZERO) += parse_run_queue_wait(&stat)?;
    }
    total
}

fn parse_run_queue_wait(schedstat: &str) -> Option<Duration> {
    let nanos = schedstat.split_whitespace().nth(1)?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
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
        // The checks below read every node's `/proc/<pid>/stat` and walk the whole node list,
        // so they run on the scan tick and on SIGCHLD, never per probe answer: at 1,000 nodes
        // answers arrive 100 times a second, and checking on each one read /proc 100,000
        // times a second, which starved the runner's own probes (a node that answered `curl`
        // within 2 s was declared silent for 67 s).
        let mut check_now = true;
        let mut nodes = Vec::new();
        loop {
            if check_now {
                nodes = self.watched.nodes.lock().expect("not poisoned").clone();
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
            }
            check_now = tokio::select! {
                _ = scan.tick() => true,
                Some(()) = async {
                    match child_signals.as_mut() {
                        Some(signals) => signals.recv().await,
                        None => std::future::pending().await,
                    }
                } => true,
                Some(answer) = probes.in_flight.next() => {
                    probes.answered(answer);
                    // A freed slot goes to the next due node (from the last check's list).
                    if !self.watched.quiet.load(Ordering::Relaxed) {
                        probes.start_due(&nodes);
                    }
                    false
                }
            };
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
    /// The process's time waiting for a CPU at `last_ok` (see [`run_queue_wait`]).
    waited_at_last_ok: Option<Duration>,
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
            let state = self.by_pid.entry(pid).or_insert_with(|| ProbeState {
                last_ok: now,
                waited_at_last_ok: run_queue_wait(pid),
                last_sent: None,
                outstanding: false,
            });
            let due = state
                .last_sent
                .is_none_or(|sent| now.duration_since(sent) >= interval);
            if state.outstanding || !due {
                continue;
            }
            if self.in_flight.len() >= PROBES_IN_FLIGHT {
                break;
            }
            state.outstanding = true;
            state.last_sent = Some(now);
            if state.waited_at_last_ok.is_none() {
                state.waited_at_last_ok = run_queue_wait(pid);
            }
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
            // Waiting for a CPU before the pause must not excuse silence after it; the new
            // baseline is read with the next probe (not here: no /proc reads while idle CPU
            // is measured).
            state.waited_at_last_ok = None;
        }
    }

    fn answered(&mut self, answer: Answer) {
        let Some(state) = self.by_pid.get_mut(&answer.pid) else {
            return;
        };
        state.outstanding = false;
        if answer.ok {
            state.last_ok = Instant::now();
            state.waited_at_last_ok = run_queue_wait(answer.pid);
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
        let up: std::collections::HashSet<u32> = nodes
            .iter()
            .filter(|n| n.state == NodeState::Up)
            .filter_map(|n| n.pid)
            .collect();
        self.by_pid.retain(|pid, _| up.contains(pid));
        let limit = silence_limit(self.median_latency(), probe_interval(nodes.len()));
        nodes.iter().enumerate().find_map(|(index, node)| {
            let pid = node.pid?;
            let state = self.by_pid.get(&pid)?;
            let silent = now.duration_since(state.last_ok);
            if node.state != NodeState::Up || silent < limit {
                return None;
            }
            let waited = run_queue_wait(pid)
                .zip(state.waited_at_last_ok)
                .map(|(now, then)| now.saturating_sub(then));
            if silent < MAX_SILENCE && waited.is_some_and(|w| starved(w, silent)) {
                return None;
            }
            Some(ClusterError::Unresponsive {
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
    fn a_silent_node_that_mostly_waited_for_a_cpu_is_starved_not_hung() {
        let second = Duration::from_secs(1);
        assert!(starved(10 * second, 40 * second));
        assert!(starved(30 * second, 40 * second));
        assert!(!starved(9 * second, 40 * second));
        assert!(!starved(Duration::ZERO, 40 * second));
    }

    #[test]
    fn a_pause_restarts_both_the_silence_and_the_wait_it_is_weighed_against() {
        let mut probes = Probes::default();
        let long_ago = Instant::now() - Duration::from_secs(100);
        probes.by_pid.insert(
            42,
            ProbeState {
                last_ok: long_ago,
                waited_at_last_ok: Some(Duration::from_secs(1)),
                last_sent: None,
                outstanding: false,
            },
        );
        probes.pause();
        let state = &probes.by_pid[&42];
        assert!(state.last_ok > long_ago);
        assert_eq!(state.waited_at_last_ok, None);
    }

    #[test]
    fn run_queue_wait_reads_the_second_schedstat_field() {
        assert_eq!(
            parse_run_queue_wait("1291114889 707129463 198\n"),
            Some(Duration::from_nanos(707_129_463))
        );
        assert_eq!(parse_run_queue_wait("12"), None);
        assert_eq!(parse_run_queue_wait("a b c"), None);
        // This process exists and has threads, so the kernel reports a total.
        assert!(run_queue_wait(std::process::id()).is_some());
        assert_eq!(run_queue_wait(u32::MAX), None);
    }

    #[test]
    fn a_process_that_queues_for_the_cpu_accumulates_wait() {
        // More busy threads than cores: each waits its turn, which is what a starved node does.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let before = run_queue_wait(std::process::id()).expect("schedstat readable");
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let spinners: Vec<_> = (0..cores * 3)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        wait_for(|| run_queue_wait(std::process::id()).expect("schedstat readable") > before);
        stop.store(true, Ordering::Relaxed);
        for spinner in spinners {
            spinner.join().unwrap();
        }
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
