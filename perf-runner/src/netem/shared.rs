//! The state the switch's UDP path and the TCP proxy share: the rules table, registrations,
//! counters. Both sides depend on this module and neither on the other's internals, so the
//! switch can start the proxy without the proxy reaching back into the switch.

use std::{
    collections::{HashMap, HashSet},
    net::{Ipv4Addr, SocketAddr},
    sync::Mutex,
    time::Duration,
};

use super::rules::{LinkRules, LinkState};

/// How long datagrams from an unregistered source are kept.
pub const PENDING_FOR: Duration = Duration::from_secs(5);

/// Counters of one directed link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkStats {
    /// Datagrams (UDP) or chunks read from a connection (TCP) that entered the link.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Delivered.
    pub delivered: u64,
    /// Dropped by the loss model.
    pub lost: u64,
    /// Dropped by a partition (UDP), or held until the heal (TCP).
    pub partitioned: u64,
    /// Dropped by a full rate-limit queue.
    pub queue_full: u64,
    /// Delivered with a flipped byte.
    pub corrupted: u64,
}

/// A snapshot of the switch's counters.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SwitchStats {
    /// Per directed link (from, to).
    pub links: HashMap<(usize, usize), LinkStats>,
    /// Datagrams or connections from sources that never registered (dropped after
    /// [`PENDING_FOR`]).
    pub unknown_source: u64,
    /// TCP connections the proxy forwarded.
    pub tcp_connections: u64,
    /// CPU time of the switch thread so far.
    pub cpu: Duration,
}

impl SwitchStats {
    /// All links summed.
    pub fn total(&self) -> LinkStats {
        self.links
            .values()
            .fold(LinkStats::default(), |a, l| LinkStats {
                packets: a.packets + l.packets,
                bytes: a.bytes + l.bytes,
                delivered: a.delivered + l.delivered,
                lost: a.lost + l.lost,
                partitioned: a.partitioned + l.partitioned,
                queue_full: a.queue_full + l.queue_full,
                corrupted: a.corrupted + l.corrupted,
            })
    }
}

/// The rules of every link and where every node listens: read by the UDP path and the TCP
/// proxy, written by commands.
#[derive(Debug)]
pub(super) struct Table {
    pub(super) default_rules: LinkRules,
    pub(super) rules: HashMap<(usize, usize), LinkRules>,
    /// Q_k → k.
    pub(super) private: HashMap<SocketAddr, usize>,
    /// k → Q_k, once registered.
    pub(super) private_of: Vec<Option<SocketAddr>>,
}

impl Table {
    pub(super) fn rules(&self, from: usize, to: usize) -> LinkRules {
        self.rules
            .get(&(from, to))
            .copied()
            .unwrap_or(self.default_rules)
    }
    pub(super) fn node_at(&self, private: SocketAddr) -> Option<usize> {
        self.private.get(&private).copied()
    }
    pub(super) fn private_of(&self, node: usize) -> Option<SocketAddr> {
        self.private_of[node]
    }
}

/// State the switch thread's tasks share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) table: Mutex<Table>,
    /// Notified on every rule change and registration (a TCP link held by a partition waits
    /// on it; so does a connection from a node not registered yet).
    pub(super) changed: tokio::sync::Notify,
    pub(super) stats: Mutex<SwitchStats>,
    /// P_k.
    pub(super) ports: Vec<u16>,
    /// Local ports of proxy connections that could not be opened from P_k (a second
    /// connection on the same pair): the node sees its peer there.
    pub(super) fallback_ports: Mutex<HashSet<u16>>,
    /// Per directed link, the TCP proxy's rate limiter and release clock.
    pub(super) tcp_links: Mutex<HashMap<(usize, usize), LinkState>>,
    pub(super) seed: u64,
}

impl Shared {
    pub(super) fn public_addr(&self, node: usize) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.ports[node]))
    }
    pub(super) fn with_link<T>(
        &self,
        from: usize,
        to: usize,
        f: impl FnOnce(&mut LinkStats) -> T,
    ) -> T {
        f(self
            .stats
            .lock()
            .expect("stats")
            .links
            .entry((from, to))
            .or_default())
    }
}
