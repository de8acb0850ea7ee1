//! The workload phases' tables (`[formation]`, `[dht]`, `[gossip]`, `[throughput]`,
//! `[idle]`) and `[node]` (how every node runs): their validated types, their raw spanned form
//! and the range checks of each.
//! `[network]` and `[chaos]` have files of their own.

use serde::Deserialize;
use toml::Spanned;

use super::{Locator, ScenarioError, default_target_peers};

/// `[formation]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FormationPhase {
    /// Give up on formation after this long, seconds.
    pub timeout_s: f64,
    /// Peers every node must have connected; default min(n − 1, 8).
    pub target_peers: usize,
    /// How long a node may take to print its ready line, seconds.
    pub ready_timeout_s: f64,
    /// Peers a node keeps at most (`--max-peers`): surplus connections, opened by lookups,
    /// are closed once they served them. `None`: no bound, the node keeps every connection.
    pub max_peers: Option<usize>,
}

/// `[dht]`: puts, then gets of the put keys from other nodes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DhtPhase {
    /// Records put, round-robin over nodes.
    pub puts: usize,
    /// Lookups, each from a node other than the putter.
    pub gets: usize,
    /// Bytes per value.
    pub value_size: usize,
    /// Operations in flight at once.
    pub concurrency: usize,
    /// Kademlia replication factor the nodes get (`--kad-replication-factor`); `None` leaves
    /// the node's default (20 for libp2p). A value well below the node count makes lookups
    /// multi-hop, as in a network much larger than the cluster.
    pub replication_factor: Option<usize>,
}

/// `[gossip]`: messages published round-robin over nodes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GossipPhase {
    /// Messages published.
    pub messages: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// Publish rate over the whole network, messages per second.
    pub rate_per_s: f64,
}

/// `[throughput]`: perf-protocol transfers between connected pairs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ThroughputPhase {
    /// Pairs measured one after another.
    pub pairs: usize,
    /// Bytes uploaded per transfer.
    pub bytes: u64,
}

/// `[idle]`: a quiet window for idle CPU and memory.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IdlePhase {
    /// Window length, seconds.
    pub seconds: f64,
    /// Wait this long after formation before the window opens, seconds: a node's own
    /// follow-up lookups (up to 15 s after it joined) and the closing of surplus connections
    /// (`max_peers`, 10 s after they opened) are start-up, not idle cost.
    pub settle_s: f64,
}

/// `[node]`: settings every node gets, for networks too large for the defaults.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct NodeSettings {
    /// Run each node on one thread (`--current-thread`): with hundreds of nodes on a few
    /// cores, more threads per node only add wake-ups and memory.
    pub current_thread: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNodeSettings {
    current_thread: Option<bool>,
}

/// `[node]`, or the defaults.
pub(super) fn node_settings(raw: Option<&RawNodeSettings>) -> NodeSettings {
    NodeSettings {
        current_thread: raw.and_then(|n| n.current_thread).unwrap_or(false),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFormation {
    timeout_s: Option<Spanned<f64>>,
    ready_timeout_s: Option<Spanned<f64>>,
    target_peers: Option<Spanned<i64>>,
    max_peers: Option<Spanned<i64>>,
}

impl RawFormation {
    /// Drops `target_peers`, so that the default for the node count applies (`--nodes`).
    pub(super) fn forget_target_peers(&mut self) {
        self.target_peers = None;
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDht {
    puts: Option<Spanned<i64>>,
    gets: Option<Spanned<i64>>,
    value_size: Option<Spanned<i64>>,
    concurrency: Option<Spanned<i64>>,
    replication_factor: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGossip {
    messages: Option<Spanned<i64>>,
    size: Option<Spanned<i64>>,
    rate_per_s: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawThroughput {
    pairs: Option<Spanned<i64>>,
    bytes: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdle {
    seconds: Option<Spanned<f64>>,
    settle_s: Option<Spanned<f64>>,
}

/// `[formation]`, or its defaults when the scenario leaves it out.
pub(super) fn formation_phase(
    raw: Option<&RawFormation>,
    nodes: usize,
    loc: &Locator,
) -> Result<FormationPhase, ScenarioError> {
    Ok(match raw {
        None => FormationPhase {
            timeout_s: 30.0,
            target_peers: default_target_peers(nodes),
            ready_timeout_s: 30.0,
            max_peers: None,
        },
        Some(f) => {
            let target_peers = loc.opt_int(
                &f.target_peers,
                "formation.target_peers",
                0,
                (nodes as i64 - 1).max(0),
                default_target_peers(nodes) as i64,
            )? as usize;
            FormationPhase {
                timeout_s: loc.float(&f.timeout_s, "formation.timeout_s", 0.1, 3600.0, 30.0)?,
                ready_timeout_s: loc.float(
                    &f.ready_timeout_s,
                    "formation.ready_timeout_s",
                    0.1,
                    3600.0,
                    30.0,
                )?,
                target_peers,
                // Below target_peers a node would close connections only to dial them again.
                max_peers: match &f.max_peers {
                    None => None,
                    some => Some(loc.opt_int(
                        some,
                        "formation.max_peers",
                        (target_peers as i64).max(1),
                        super::MAX_NODES,
                        0,
                    )? as usize),
                },
            }
        }
    })
}

pub(super) fn dht_phase(d: &RawDht, loc: &Locator) -> Result<DhtPhase, ScenarioError> {
    Ok(DhtPhase {
        puts: loc.opt_int(&d.puts, "dht.puts", 1, 1_000_000, 20)? as usize,
        gets: loc.opt_int(&d.gets, "dht.gets", 0, 1_000_000, 100)? as usize,
        value_size: loc.opt_int(&d.value_size, "dht.value_size", 1, 1 << 20, 256)? as usize,
        concurrency: loc.opt_int(&d.concurrency, "dht.concurrency", 1, 1024, 4)? as usize,
        replication_factor: match &d.replication_factor {
            None => None,
            some => Some(loc.opt_int(some, "dht.replication_factor", 1, 20, 20)? as usize),
        },
    })
}

pub(super) fn gossip_phase(g: &RawGossip, loc: &Locator) -> Result<GossipPhase, ScenarioError> {
    Ok(GossipPhase {
        messages: loc.opt_int(&g.messages, "gossip.messages", 1, 1_000_000, 50)? as usize,
        size: loc.opt_int(&g.size, "gossip.size", 1, 1 << 20, 1024)? as usize,
        rate_per_s: loc.float(&g.rate_per_s, "gossip.rate_per_s", 0.1, 100_000.0, 200.0)?,
    })
}

pub(super) fn throughput_phase(
    t: &RawThroughput,
    loc: &Locator,
) -> Result<ThroughputPhase, ScenarioError> {
    Ok(ThroughputPhase {
        pairs: loc.opt_int(&t.pairs, "throughput.pairs", 1, 1000, 1)? as usize,
        bytes: loc.opt_int(&t.bytes, "throughput.bytes", 1, 1 << 36, 16 << 20)? as u64,
    })
}

/// `[idle]`, or its 2 s default.
pub(super) fn idle_phase(raw: Option<&RawIdle>, loc: &Locator) -> Result<IdlePhase, ScenarioError> {
    Ok(IdlePhase {
        seconds: loc.float(
            &raw.and_then(|i| i.seconds.clone()),
            "idle.seconds",
            0.0,
            3600.0,
            2.0,
        )?,
        settle_s: loc.float(
            &raw.and_then(|i| i.settle_s.clone()),
            "idle.settle_s",
            0.0,
            600.0,
            0.0,
        )?,
    })
}
