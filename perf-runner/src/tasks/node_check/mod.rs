//! `cargo xtask node check`: a conformance check of a node binary against the node contract
//! (node/README.md), for teams implementing it in another language.
//!
//! It starts a peer (a second instance of the node, or `--peer-bin`), then the node under
//! test bootstrapping from it, exercises every required endpoint and every declared
//! capability, stops the node with SIGTERM, and returns one row per rule. Nodes are spawned by
//! [`crate::cluster::process`] (parent-death signal, own process group) and called through
//! [`crate::cluster::node_api`], exactly as a measured run does. `start.rs` holds the process
//! checks (ready line, flags, one process, SIGTERM, stdout), `api.rs` the required endpoints,
//! `errors.rs` the error answers, `capabilities.rs` the optional parts and `shape.rs` the
//! JSON field checks they share.
//!
//! The async work runs on a current-thread runtime on the calling thread, for the
//! parent-death signal's sake (see [`crate::tasks::perf`]).

mod api;
mod capabilities;
mod errors;
mod shape;
mod start;

use std::{path::PathBuf, time::Duration};

use crate::{
    Error,
    cluster::{check_node_bin, node_api::ApiError},
    data::node_check::{Check, NodeCheck, Status},
    scenario::Transport,
};
use start::Started;

/// What to check.
#[derive(Debug, Clone)]
pub struct NodeCheckRequest {
    /// The node under test.
    pub node_bin: PathBuf,
    /// Its peer; `None`: a second instance of the node under test.
    pub peer_bin: Option<PathBuf>,
    /// The transport both are started with.
    pub transport: Transport,
    /// Where the nodes' logs go (emptied first).
    pub log_dir: PathBuf,
    /// How long a node may take to print its ready line (a scenario's default: 30 s).
    pub ready_timeout: Duration,
}

/// Runs every check. An `Err` means nothing could be checked (a binary that cannot be
/// executed, a peer of another implementation that does not start): exit 3.
pub fn check(request: &NodeCheckRequest) -> Result<NodeCheck, Error> {
    check_node_bin(&request.node_bin).map_err(Error::NodeBin)?;
    if let Some(peer) = &request.peer_bin {
        check_node_bin(peer).map_err(|e| Error::NodeBin(format!("--peer-bin: {e}")))?;
    }
    let _ = std::fs::remove_dir_all(&request.log_dir);
    std::fs::create_dir_all(&request.log_dir).map_err(|source| Error::Io {
        path: request.log_dir.clone(),
        source,
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            path: PathBuf::from("(tokio runtime)"),
            source,
        })?;
    runtime.block_on(run(request))
}

/// Every row, in the order the checks run: its name and what the contract says.
pub const RULES: &[(&str, &str)] = &[
    (
        "bad flags",
        "--bootstrap without /p2p/<id>: exit 1 or 2, a line on stderr, nothing on stdout",
    ),
    (
        "--kad-replication-factor",
        "accepted (passed when a scenario sets [dht] replication_factor, as scale-100 does)",
    ),
    (
        "ready line",
        "one JSON line on stdout within --ready-timeout (30 s): event \"ready\", peer_id, listen_addrs, control, \"contract\": 1",
    ),
    (
        "flags",
        "starts with --transport, --target-peers, --key-seed, --bootstrap <addr>/p2p/<id>, --external <addr>",
    ),
    (
        "listen_addrs",
        "multiaddrs of the chosen transport, the first one dialable on 127.0.0.1, none with /p2p/",
    ),
    (
        "one process",
        "the spawned process is the node: it holds the control API's socket itself",
    ),
    (
        "GET /health",
        "peer_id, uptime_ms, connected_peers, routing_table_size, mesh_size, topic, listen_addrs, bootstrap_errors, gossip_published, gossip_received",
    ),
    (
        "connect",
        "dials its --bootstrap peer: each lists the other in GET /peers; /health connected_peers >= 1",
    ),
    (
        "POST /dht/put",
        "{key, elapsed_us} once a remote peer stored it; the peer's get then finds it, from this node",
    ),
    (
        "GET /dht/get",
        "{key, value, from, elapsed_us} of the peer's record, from = the remote peer that answered",
    ),
    (
        "GET /dht/get unknown",
        "404 {\"error\": ...} when no remote peer has the key",
    ),
    (
        "POST /gossip/publish",
        "{message_id, seq, sent_ns, size}; the peer receives the message exactly once",
    ),
    (
        "GET /gossip/received",
        "{messages: [{id, publisher, seq, sent_ns, received_ns, size}], next}: the peer's message, once",
    ),
    (
        "publish, wrong topic",
        "{size, id, topic} with a topic not the node's: 4xx {\"error\": ...}",
    ),
    ("error: unknown route", "404 {\"error\": ...}"),
    ("error: wrong method", "GET /dht/put: 405 {\"error\": ...}"),
    (
        "error: malformed JSON",
        "POST /dht/put with a broken body: 400 {\"error\": ...}",
    ),
    (
        "error: undecodable path",
        "GET /dht/get/%FF%FE: 400 {\"error\": ...}",
    ),
    (
        "perf",
        "capability perf: POST /perf {peer, upload_bytes, download_bytes} moves the bytes",
    ),
    (
        "metrics",
        "capability metrics: GET /metrics, Prometheus text with libp2p_bandwidth_bytes_total{direction=...}",
    ),
    (
        "events",
        "capability events: GET /events?since=0 is {events: [{ts_ns, kind, ...}], next}, with a connected event",
    ),
    (
        "SIGTERM",
        "exit code 0 within 5 s (the runner's stop grace)",
    ),
    ("stdout", "nothing after the ready line"),
    (
        "POST /shutdown",
        "202, then exit code 0 (checked on the second instance of the node)",
    ),
];

/// The rows so far.
#[derive(Default)]
struct Rows {
    checks: Vec<Check>,
}

impl Rows {
    /// Adds the row of rule `name` (one of [`RULES`]).
    fn push(&mut self, name: &'static str, status: Status) {
        let contract = RULES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| *c)
            .expect("every row is one of RULES");
        self.checks.push(Check::new(name, contract, status));
    }

    /// Whether `name` ran and passed.
    fn passed(&self, name: &str) -> bool {
        self.checks
            .iter()
            .any(|c| c.name == name && c.status == Status::Passed)
    }

    /// `None` when every one of `needs` passed; else not run, naming the first that did not.
    fn blocked(&self, needs: &[&str]) -> Option<Status> {
        needs
            .iter()
            .find(|n| !self.passed(n))
            .map(|n| Status::NotRun(format!("needs \"{n}\"")))
    }

    /// Every rule without a row yet: not run, because of `why`.
    fn rest_not_run(&mut self, why: &str) {
        for (name, _) in RULES {
            if !self.checks.iter().any(|c| c.name == *name) {
                self.push(name, Status::NotRun(why.to_owned()));
            }
        }
    }
}

async fn run(request: &NodeCheckRequest) -> Result<NodeCheck, Error> {
    let mut rows = Rows::default();
    start::refuses_bad_flags(request, &mut rows).await;
    start::accepts_replication_factor(request, &mut rows).await;
    let mut capabilities = Vec::new();
    if let Some(mut started) = start::start_pair(request, &mut rows).await? {
        capabilities = started.node.process.ready.capabilities.clone();
        exercise(&started, &mut rows).await;
        start::stop(&mut started, &mut rows).await;
    }
    rows.rest_not_run("needs \"ready line\"");
    Ok(NodeCheck {
        node_bin: request.node_bin.clone(),
        peer_bin: request.peer_bin.clone(),
        transport: request.transport.as_str().to_owned(),
        capabilities,
        checks: rows.checks,
    })
}

/// Every check that needs the two nodes running.
async fn exercise(started: &Started, rows: &mut Rows) {
    start::one_process(started, rows).await;
    api::health(started, rows).await;
    api::connect(started, rows).await;
    api::dht(started, rows).await;
    api::gossip(started, rows).await;
    errors::all(started, rows).await;
    capabilities::perf(started, rows).await;
    capabilities::metrics(started, rows).await;
    capabilities::events(started, rows).await;
}

/// A deadline for waiting on a condition that normally holds within a second or two: generous,
/// so that a loaded machine never fails a conforming node.
const WAIT: Duration = Duration::from_secs(30);

/// Between two polls of a condition.
const POLL: Duration = Duration::from_millis(50);

/// Calls `call` again while it fails with HTTP `retry_on` (a node that is not ready yet:
/// `503` before a peer is subscribed or known), until [`WAIT`] passes.
async fn retrying<T, F: Future<Output = Result<T, ApiError>>>(
    retry_on: u16,
    mut call: impl FnMut() -> F,
) -> Result<T, ApiError> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match call().await {
            Err(e) if e.status() == Some(retry_on) && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(POLL).await;
            }
            result => return result,
        }
    }
}
