//! Spawn, supervise and stop a cluster of node processes.
//!
//! The cluster knows nodes only through the node contract: a binary, its flags, its ready
//! line and its control API. It never picks ports. Nodes are spawned in index order, each as
//! soon as the nodes it bootstraps from are ready, `stagger_ms` apart.

pub mod fan_out;
pub mod liveness;
pub mod node_api;
pub mod process;
pub mod topology;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use futures::{StreamExt, stream::FuturesUnordered};

use crate::{
    cluster::{
        liveness::{Liveness, Watched, WatchedNode},
        node_api::NodeApi,
    },
    measure::clock::unix_ns,
    netem::Switch,
    scenario::{Topology, Transport},
};
use process::{LOG_TAIL_LINES, NodeProcess, SpawnError, log_tail, spawn_node};

/// How long a control call may take before the node counts as hung.
pub const API_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a node gets to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// What to launch.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Binary speaking the node contract: every node's, except those in `other_bins`.
    pub node_bin: PathBuf,
    /// Nodes that run another binary (a mixed network's node groups), by index. They get
    /// `extra_args` but not `own_args`.
    pub other_bins: BTreeMap<usize, PathBuf>,
    /// Number of nodes.
    pub nodes: usize,
    /// Who bootstraps from whom.
    pub topology: Topology,
    /// Seed for topology and node identities.
    pub seed: u64,
    /// Transport flag passed to every node.
    pub transport: Transport,
    /// `--target-peers` passed to every node.
    pub target_peers: usize,
    /// Pause between spawns.
    pub stagger: Duration,
    /// Directory for `node<i>.log`.
    pub log_dir: PathBuf,
    /// How long a node may take to print its ready line.
    pub ready_timeout: Duration,
    /// How many steps below the runner's priority nodes run (see [`node_niceness`]).
    pub niceness: i32,
    /// Extra arguments appended to every node's command line.
    pub extra_args: Vec<String>,
    /// Extra arguments appended after `extra_args` for the nodes that run `node_bin` (an arm's
    /// own arguments, which another implementation may not understand).
    pub own_args: Vec<String>,
    /// The userspace switch every node's traffic goes through, when the scenario emulates a
    /// network: node k announces the switch's port P_k and bootstraps to peers' P ports.
    pub network: Option<std::sync::Arc<Switch>>,
}

/// Why a cluster failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A node did not start.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// A node exited while it should have been running.
    #[error("node {index} exited unexpectedly ({status}); last lines of {log}:\n{tail}")]
    Crashed {
        /// Node index.
        index: usize,
        /// Exit status.
        status: String,
        /// Its log.
        log: String,
        /// End of its log.
        tail: String,
    },
    /// A node was stopped (SIGSTOP or a debugger) while it should have been running.
    #[error(
        "node {index} was stopped (SIGSTOP or a debugger) and cannot answer; last lines of {log}:\n{tail}"
    )]
    Stopped {
        /// Node index.
        index: usize,
        /// Its log.
        log: String,
        /// End of its log.
        tail: String,
    },
    /// A running node stopped answering its control API.
    #[error(
        "node {index} has not answered GET /health for {silent:.1?}; last lines of {log}:\n{tail}"
    )]
    Unresponsive {
        /// Node index.
        index: usize,
        /// How long it has been silent.
        silent: Duration,
        /// Its log.
        log: String,
        /// End of its log.
        tail: String,
    },
    /// The network emulation cannot work with this node.
    #[error("node {index}: {message}")]
    Emulation {
        /// Node index.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// The log directory could not be created.
    #[error("cannot create log directory {path}: {source}")]
    LogDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One running node.
pub struct ClusterNode {
    /// The process.
    pub process: NodeProcess,
    /// Its control API.
    pub api: NodeApi,
}

impl ClusterNode {
    /// The node's peer id.
    pub fn peer_id(&self) -> &str {
        &self.process.ready.peer_id
    }
    /// The node's process id.
    pub fn pid(&self) -> u32 {
        self.process.child.id().unwrap_or(0)
    }
}

/// What a fault did to a node: the cluster must not mistake it for a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Running.
    Up,
    /// Killed on purpose (SIGKILL), until restarted.
    Down,
    /// Stopped with SIGSTOP, until resumed.
    Paused,
}

/// A running cluster. Dropping it kills every node.
pub struct Cluster {
    /// Nodes in index order.
    pub nodes: Vec<ClusterNode>,
    /// When the first node was spawned, unix ns: time zero of formation.
    pub t0_ns: u64,
    /// Per node: up, or down or paused by a fault.
    states: Vec<NodeState>,
    /// How each node was started, so that it can be started again.
    launches: Vec<Launch>,
    /// What the liveness watcher sees: updated before every deliberate state change.
    watched: Watched,
    /// The run's own node binary (`ClusterConfig::node_bin`), which newcomers run.
    own_bin: PathBuf,
}

/// Node `index`'s command line: the flags the runner always passes, its external address
/// behind the switch, a bootstrap address for each of its targets (which are ready), and the
/// user's extra arguments.
fn command_line(
    config: &ClusterConfig,
    index: usize,
    targets: &[usize],
    ready: &[Option<NodeProcess>],
) -> Vec<String> {
    let mut args = vec![
        "--transport".to_owned(),
        config.transport.as_str().to_owned(),
        "--target-peers".to_owned(),
        config.target_peers.to_string(),
        "--key-seed".to_owned(),
        (config
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(index as u64))
        .to_string(),
    ];
    if let Some(switch) = &config.network {
        args.extend([
            "--external".to_owned(),
            public_multiaddr(config.transport, switch.public_port(index)),
        ]);
    }
    for &t in targets {
        let target = ready[t].as_ref().expect("target is ready");
        let addr = match &config.network {
            Some(switch) => public_multiaddr(config.transport, switch.public_port(t)),
            None => target
                .ready
                .listen_addrs
                .first()
                .cloned()
                .unwrap_or_default(),
        };
        args.extend([
            "--bootstrap".to_owned(),
            format!("{addr}/p2p/{}", target.ready.peer_id),
        ]);
    }
    args.extend(config.extra_args.iter().cloned());
    if !config.other_bins.contains_key(&index) {
        args.extend(config.own_args.iter().cloned());
    }
    args
}

impl ClusterConfig {
    /// The binary node `index` runs.
    pub fn bin_of(&self, index: usize) -> &Path {
        self.other_bins.get(&index).unwrap_or(&self.node_bin)
    }
}

/// A node's command line and where its logs go.
struct Launch {
    args: Vec<String>,
    bin: PathBuf,
    log_dir: PathBuf,
    ready_timeout: Duration,
    niceness: i32,
    network: Option<std::sync::Arc<Switch>>,
    transport: Transport,
    restarts: usize,
}

/// Nodes per core above which nodes run below the runner's priority.
const NODES_PER_CORE_AT_FULL_PRIORITY: usize = 8;

/// The niceness nodes get: 0 (the runner's priority) for clusters of up to
/// [`NODES_PER_CORE_AT_FULL_PRIORITY`] nodes per core, 19 above, so that the runner keeps
/// up with hundreds of nodes (see `process::lower_priority`). 19, not less: CPU shares go by
/// weight per process, and at niceness 5 the runner still had 1 % of the machine against 250
/// nodes and its requests timed out; at 19 it has about a fifth against 250 and 6 % against
/// 1,000, more than it uses. Small clusters, where the runner is never starved, are measured
/// exactly as before.
pub fn node_niceness(nodes: usize, cores: usize) -> i32 {
    if nodes > NODES_PER_CORE_AT_FULL_PRIORITY * cores.max(1) {
        19
    } else {
        0
    }
}

impl Launch {
    /// Spawns node `index` with this command line, waits for its ready line and registers
    /// its private address with the switch.
    async fn start(&self, index: usize, log: &Path) -> Result<ClusterNode, ClusterError> {
        let process = spawn_node(
            index,
            &self.bin,
            &self.args,
            log,
            self.ready_timeout,
            self.niceness,
        )?
        .await?;
        register(self.network.as_deref(), &process)?;
        let api = NodeApi::new(&process.ready.control, API_TIMEOUT);
        Ok(ClusterNode { process, api })
    }
}

impl Cluster {
    /// Spawns every node and waits for all ready lines.
    pub async fn start(config: &ClusterConfig) -> Result<Cluster, ClusterError> {
        std::fs::create_dir_all(&config.log_dir).map_err(|source| ClusterError::LogDir {
            path: config.log_dir.clone(),
            source,
        })?;
        let targets = topology::bootstrap_targets(config.topology, config.nodes, config.seed);
        let mut ready: Vec<Option<NodeProcess>> = (0..config.nodes).map(|_| None).collect();
        let mut pending = FuturesUnordered::new();
        let mut launches = Vec::with_capacity(config.nodes);
        let t0_ns = unix_ns();
        for (index, node_targets) in targets.iter().enumerate() {
            while node_targets.iter().any(|&t| ready[t].is_none()) {
                let node: NodeProcess = pending
                    .next()
                    .await
                    .expect("a bootstrap target is still starting")?;
                register(config.network.as_deref(), &node)?;
                let index = node.index;
                ready[index] = Some(node);
            }
            if index > 0 && !config.stagger.is_zero() {
                tokio::time::sleep(config.stagger).await;
            }
            let args = command_line(config, index, node_targets, &ready);
            launches.push(Launch {
                args: args.clone(),
                bin: config.bin_of(index).to_path_buf(),
                log_dir: config.log_dir.clone(),
                ready_timeout: config.ready_timeout,
                niceness: config.niceness,
                network: config.network.clone(),
                transport: config.transport,
                restarts: 0,
            });
            let log = config.log_dir.join(format!("node{index}.log"));
            pending.push(spawn_node(
                index,
                config.bin_of(index),
                &args,
                &log,
                config.ready_timeout,
                config.niceness,
            )?);
        }
        while let Some(node) = pending.next().await {
            let node = node?;
            register(config.network.as_deref(), &node)?;
            let index = node.index;
            ready[index] = Some(node);
        }
        let nodes = ready
            .into_iter()
            .map(|p| {
                let process = p.expect("every node is ready");
                let api = NodeApi::new(&process.ready.control, API_TIMEOUT);
                ClusterNode { process, api }
            })
            .collect();
        let cluster = Cluster {
            states: vec![NodeState::Up; config.nodes],
            nodes,
            t0_ns,
            launches,
            watched: Watched::default(),
            own_bin: config.node_bin.clone(),
        };
        for index in 0..cluster.nodes.len() {
            cluster.publish(index);
        }
        Ok(cluster)
    }

    /// A handle that watches this cluster's nodes while a phase holds the cluster.
    pub fn liveness(&self) -> Liveness {
        Liveness::new(self.watched.clone())
    }

    /// Whether every node declared `capability` in its ready line (node contract v1): a phase
    /// that needs an optional part of the contract runs only then, and is otherwise not
    /// measured.
    pub fn all_declare(&self, capability: &str) -> bool {
        self.nodes.iter().all(|n| n.process.ready.has(capability))
    }

    /// Node `index`'s state.
    pub fn state(&self, index: usize) -> NodeState {
        self.states[index]
    }

    /// Sets node `index`'s state and tells the watcher, before any signal is sent, so that a
    /// deliberate kill or pause is never taken for a crash.
    fn set_state(&mut self, index: usize, state: NodeState) {
        self.states[index] = state;
        self.publish(index);
    }

    /// Shows node `index` as it is now to the liveness watcher.
    fn publish(&self, index: usize) {
        let node = &self.nodes[index];
        let seen = WatchedNode {
            pid: node.process.child.id(),
            state: self.states[index],
            api: node.api.clone(),
            log_path: node.process.log_path.clone(),
        };
        let mut watched = self.watched.nodes.lock().expect("not poisoned");
        if index < watched.len() {
            watched[index] = seen;
        } else {
            watched.push(seen);
        }
    }

    /// Fails if any node that should be running has exited, or has been stopped (SIGSTOP, a
    /// debugger) while it should be up.
    pub fn check_alive(&mut self) -> Result<(), ClusterError> {
        for (node, state) in self.nodes.iter_mut().zip(&self.states) {
            if *state == NodeState::Down {
                continue;
            }
            if let Ok(Some(status)) = node.process.child.try_wait() {
                return Err(crashed(&node.process, status.to_string()));
            }
            let stopped =
                node.process.child.id().is_some_and(|pid| {
                    liveness::process_state(pid) == liveness::ProcessState::Stopped
                });
            if *state == NodeState::Up && stopped {
                return Err(ClusterError::Stopped {
                    index: node.process.index,
                    log: node.process.log_path.display().to_string(),
                    tail: log_tail(&node.process.log_path, LOG_TAIL_LINES),
                });
            }
        }
        Ok(())
    }

    /// Indices of the nodes that are up.
    pub fn up(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.states[i] == NodeState::Up)
            .collect()
    }

    fn signal(&self, index: usize, signal: libc::c_int) {
        if let Some(pid) = self.nodes[index].process.child.id() {
            // SAFETY: kill(2) on a child we spawned and have not reaped.
            unsafe { libc::kill(pid as i32, signal) };
        }
    }

    /// Kills node `index` with SIGKILL (a crash) and reaps it.
    pub async fn kill(&mut self, index: usize) {
        let was = self.states[index];
        self.set_state(index, NodeState::Down);
        if was == NodeState::Paused {
            self.signal(index, libc::SIGCONT);
        }
        let _ = self.nodes[index].process.child.kill().await;
    }

    /// Graceful leave: SIGTERM, then up to the stop grace for a clean exit (killed after it).
    pub async fn leave(&mut self, index: usize) {
        let was = self.states[index];
        self.set_state(index, NodeState::Down);
        if was == NodeState::Paused {
            self.signal(index, libc::SIGCONT);
        }
        self.signal(index, libc::SIGTERM);
        let child = &mut self.nodes[index].process.child;
        if tokio::time::timeout(STOP_GRACE, child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
    }

    /// Freezes node `index` (SIGSTOP): its sockets stay open, nothing answers.
    pub fn pause(&mut self, index: usize) {
        if self.states[index] == NodeState::Up {
            self.set_state(index, NodeState::Paused);
            self.signal(index, libc::SIGSTOP);
        }
    }

    /// Thaws a paused node (SIGCONT).
    pub fn resume(&mut self, index: usize) {
        if self.states[index] == NodeState::Paused {
            self.signal(index, libc::SIGCONT);
            self.set_state(index, NodeState::Up);
        }
    }

    /// Starts node `index` again with its original command line but a fresh identity (a new
    /// `--key-seed`), on the same public switch port, bootstrapping from up to three nodes
    /// that are up; waits for its ready line and registers its new private address with the
    /// switch. Its log is `node<i>.restart<k>.log`.
    ///
    /// Why a fresh identity: a node that comes back under its old peer id while its peers
    /// still hold the dead connection never regains a gossip mesh with swarm-node on
    /// rust-libp2p 0.57 (gossipsub exchanges subscriptions only on a peer's first
    /// connection, and the peers keep the restarted node in their mesh), so such a restart
    /// measures that liveness bug rather than recovery. Seen in `perf churn`, 2026-11-23.
    pub async fn restart(&mut self, index: usize) -> Result<(), ClusterError> {
        if self.states[index] != NodeState::Down {
            self.kill(index).await;
        }
        let bootstrap = self.bootstrap_from_up(index);
        let launch = &mut self.launches[index];
        launch.restarts += 1;
        let key_seed = key_seed_of(&launch.args)
            .unwrap_or_default()
            .wrapping_add(0x9E37_79B9 * launch.restarts as u64);
        launch.args = relaunch_args(&launch.args, key_seed, None, &bootstrap);
        let log = launch
            .log_dir
            .join(format!("node{index}.restart{}.log", launch.restarts));
        self.nodes[index] = launch.start(index, &log).await?;
        self.set_state(index, NodeState::Up);
        Ok(())
    }

    /// A new node joins (scale up): node 0's command line with the next index, its own
    /// identity and switch port, bootstrapping from up to three nodes that are up. Returns its
    /// index once it is ready and registered with the switch.
    pub async fn add_node(&mut self) -> Result<usize, ClusterError> {
        let index = self.nodes.len();
        let bootstrap = self.bootstrap_from_up(index);
        // Newcomers run the run's own node: the first node that does is the template (node 0
        // when every node is in a node group).
        let first = self
            .launches
            .iter()
            .find(|l| l.bin == self.own_bin)
            .unwrap_or(&self.launches[0]);
        let external = first
            .network
            .as_ref()
            .map(|switch| public_multiaddr(first.transport, switch.public_port(index)));
        let key_seed = key_seed_of(&first.args)
            .unwrap_or_default()
            .wrapping_add(index as u64);
        let launch = Launch {
            args: relaunch_args(&first.args, key_seed, external, &bootstrap),
            bin: first.bin.clone(),
            log_dir: first.log_dir.clone(),
            ready_timeout: first.ready_timeout,
            niceness: first.niceness,
            network: first.network.clone(),
            transport: first.transport,
            restarts: 0,
        };
        let log = launch.log_dir.join(format!("node{index}.log"));
        self.nodes.push(launch.start(index, &log).await?);
        self.states.push(NodeState::Up);
        self.launches.push(launch);
        self.publish(index);
        Ok(index)
    }

    /// Bootstrap addresses of up to three nodes that are up, other than `except`, at their
    /// public switch ports and current identities: a node that (re)joins during faults
    /// cannot count on its original bootstrap peers being there. Empty without a switch
    /// (the node keeps its original bootstrap list).
    fn bootstrap_from_up(&self, except: usize) -> Vec<String> {
        let launch = &self.launches[0];
        let Some(switch) = &launch.network else {
            return Vec::new();
        };
        self.up()
            .into_iter()
            .filter(|&i| i != except)
            .take(3)
            .map(|i| {
                format!(
                    "{}/p2p/{}",
                    public_multiaddr(launch.transport, switch.public_port(i)),
                    self.nodes[i].peer_id()
                )
            })
            .collect()
    }

    /// SIGTERM to every node, then wait; returns one line per node that exited badly.
    pub async fn stop(mut self) -> Vec<String> {
        for index in 0..self.nodes.len() {
            self.resume(index);
            if self.states[index] == NodeState::Up {
                self.signal(index, libc::SIGTERM);
            }
        }
        // From here on exits are expected; nothing watches any more.
        let mut problems = Vec::new();
        for (node, state) in self.nodes.iter_mut().zip(&self.states) {
            if *state == NodeState::Down {
                continue;
            }
            match tokio::time::timeout(STOP_GRACE, node.process.child.wait()).await {
                Ok(Ok(status)) if status.success() => {}
                Ok(Ok(status)) => problems.push(format!(
                    "node {} exited with {status} on SIGTERM",
                    node.process.index
                )),
                Ok(Err(e)) => problems.push(format!("node {}: {e}", node.process.index)),
                Err(_) => {
                    let _ = node.process.child.kill().await;
                    problems.push(format!(
                        "node {} ignored SIGTERM for {STOP_GRACE:?} and was killed",
                        node.process.index
                    ));
                }
            }
        }
        problems
    }
}

/// The `--key-seed` of a command line.
fn key_seed_of(args: &[String]) -> Option<u64> {
    let at = args.iter().position(|a| a == "--key-seed")?;
    args.get(at + 1)?.parse().ok()
}

/// `args` with another `--key-seed`, `--external` (when given) and `--bootstrap` list (when
/// not empty); every other flag kept.
fn relaunch_args(
    args: &[String],
    key_seed: u64,
    external: Option<String>,
    bootstrap: &[String],
) -> Vec<String> {
    let mut replaced = vec!["--key-seed"];
    if external.is_some() {
        replaced.push("--external");
    }
    if !bootstrap.is_empty() {
        replaced.push("--bootstrap");
    }
    let mut out = Vec::with_capacity(args.len());
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        if replaced.contains(&a.as_str()) {
            rest.next();
        } else {
            out.push(a.clone());
        }
    }
    out.extend(["--key-seed".to_owned(), key_seed.to_string()]);
    if let Some(e) = external {
        out.extend(["--external".to_owned(), e]);
    }
    for b in bootstrap {
        out.extend(["--bootstrap".to_owned(), b.clone()]);
    }
    out
}

/// A switch port as a multiaddr of the transport in use.
fn public_multiaddr(transport: Transport, port: u16) -> String {
    match transport {
        Transport::Quic => format!("/ip4/127.0.0.1/udp/{port}/quic-v1"),
        Transport::Tcp => format!("/ip4/127.0.0.1/tcp/{port}"),
    }
}

/// Tells the switch where a node that just became ready listens (its Q address).
fn register(switch: Option<&Switch>, node: &NodeProcess) -> Result<(), ClusterError> {
    let Some(switch) = switch else {
        return Ok(());
    };
    let private = node
        .ready
        .listen_addrs
        .iter()
        .find_map(|a| socket_of(a))
        .ok_or_else(|| ClusterError::Emulation {
            index: node.index,
            message: format!(
                "listens on {:?}, no /ip4/127.0.0.1/udp/<port>/quic-v1 or /ip4/127.0.0.1/tcp/<port> address the switch could forward to",
                node.ready.listen_addrs
            ),
        })?;
    switch.register(node.index, private);
    Ok(())
}

/// `/ip4/<ip>/udp/<port>/quic-v1…` or `/ip4/<ip>/tcp/<port>…` → the socket address.
pub fn socket_of(multiaddr: &str) -> Option<std::net::SocketAddr> {
    let parts: Vec<&str> = multiaddr.split('/').collect();
    match parts.as_slice() {
        ["", "ip4", ip, "udp", port, "quic-v1", ..] | ["", "ip4", ip, "tcp", port, ..] => Some(
            std::net::SocketAddr::new(ip.parse().ok()?, port.parse().ok()?),
        ),
        _ => None,
    }
}

fn crashed(process: &NodeProcess, status: String) -> ClusterError {
    ClusterError::Crashed {
        index: process.index,
        status,
        log: process.log_path.display().to_string(),
        tail: log_tail(&process.log_path, LOG_TAIL_LINES),
    }
}

/// Checks before launching anything that `bin` exists and is executable.
pub fn check_node_bin(bin: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(bin)
        .map_err(|e| format!("node binary {} cannot be used: {e}", bin.display()))?;
    if !meta.is_file() {
        return Err(format!("node binary {} is not a file", bin.display()));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "node binary {} is not executable (chmod +x it)",
            bin.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clusters_far_larger_than_the_machine_run_below_the_runner() {
        assert_eq!(node_niceness(5, 2), 0);
        assert_eq!(node_niceness(16, 2), 0);
        assert_eq!(node_niceness(17, 2), 19);
        assert_eq!(node_niceness(1000, 2), 19);
        assert_eq!(node_niceness(100, 64), 0);
    }

    #[test]
    fn nodes_of_another_implementation_get_the_scenarios_arguments_but_not_the_arms() {
        let config = ClusterConfig {
            node_bin: "/x/swarm-node".into(),
            other_bins: BTreeMap::from([(1, PathBuf::from("/y/js-libp2p-node"))]),
            nodes: 2,
            topology: Topology::Star,
            seed: 1,
            transport: Transport::Tcp,
            target_peers: 1,
            stagger: Duration::ZERO,
            log_dir: "/tmp".into(),
            ready_timeout: Duration::from_secs(1),
            niceness: 0,
            extra_args: vec!["--kad-replication-factor".into(), "3".into()],
            own_args: vec!["--current-thread".into()],
            network: None,
        };
        assert_eq!(config.bin_of(0), Path::new("/x/swarm-node"));
        assert_eq!(config.bin_of(1), Path::new("/y/js-libp2p-node"));
        let own = command_line(&config, 0, &[], &[]);
        assert!(
            own.ends_with(&[
                "--kad-replication-factor".into(),
                "3".into(),
                "--current-thread".into()
            ]),
            "{own:?}"
        );
        let other = command_line(&config, 1, &[], &[]);
        assert!(
            other.ends_with(&["--kad-replication-factor".into(), "3".into()]),
            "{other:?}"
        );
    }
}
