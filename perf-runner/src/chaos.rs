//! The `[chaos]` phase: a steady gossip stream while a seeded schedule of network faults
//! (partition, isolate, heal) is applied through the userspace switch, then recovery.
//!
//! Measured: recovery time after the last heal (every node back to its target peer count and
//! a message published after the heal delivered everywhere), and the exactly-once delivery
//! ratio of messages published during the faults and after the heal. Every wait has a
//! deadline; a network that never recovers is a failed repetition with the nodes' log tails.

use std::time::{Duration, Instant};

use futures::future::try_join_all;
use serde_json::json;

use crate::{
    clock::unix_ns,
    cluster::{
        Cluster,
        process::{LOG_TAIL_LINES, log_tail},
    },
    netem::Switch,
    node_api::Received,
    scenario::{ChaosPhase, FaultKind, NetworkSpec},
    workload::{
        Values, WorkloadError,
        exactly_once::{self, Published},
    },
};

/// How long after the stream every delivery may take to arrive.
const SETTLE: Duration = Duration::from_secs(10);

/// The directed links a fault cuts.
fn cut_links(kind: &FaultKind, nodes: usize) -> Vec<(usize, usize)> {
    let side_of = |groups: &[Vec<usize>], n: usize| {
        groups
            .iter()
            .position(|g| g.contains(&n))
            .unwrap_or(groups.len())
    };
    let mut cut = Vec::new();
    for a in 0..nodes {
        for b in 0..nodes {
            let separated = a != b
                && match kind {
                    FaultKind::Partition { groups } => side_of(groups, a) != side_of(groups, b),
                    FaultKind::Isolate { node } => a == *node || b == *node,
                    _ => false,
                };
            if separated {
                cut.push((a, b));
            }
        }
    }
    cut
}

fn apply_network(kind: &FaultKind, switch: &Switch, network: &NetworkSpec, nodes: usize) {
    match kind {
        FaultKind::Heal => {
            for a in 0..nodes {
                for b in (0..nodes).filter(|&b| b != a) {
                    switch.set_link(a, b, network.rules_for(a, b).link_rules());
                }
            }
        }
        _ => {
            for (a, b) in cut_links(kind, nodes) {
                let mut rules = network.rules_for(a, b).link_rules();
                rules.partitioned = true;
                switch.set_link(a, b, rules);
            }
        }
    }
}

/// Every delivery of each running node (an empty list for a node that is down or paused).
async fn received_by_all(cluster: &Cluster) -> Result<Vec<Vec<Received>>, WorkloadError> {
    let up = cluster.up();
    try_join_all(cluster.nodes.iter().enumerate().map(|(index, node)| {
        let running = up.contains(&index);
        async move {
            if !running {
                return Ok(Vec::new());
            }
            node.api
                .received()
                .await
                .map_err(|source| WorkloadError::Api { index, source })
        }
    }))
    .await
}

/// Connected peers of each running node (`None` for a node that is down or paused).
async fn peer_counts(cluster: &Cluster) -> Result<Vec<Option<usize>>, WorkloadError> {
    let up = cluster.up();
    try_join_all(cluster.nodes.iter().enumerate().map(|(index, node)| {
        let running = up.contains(&index);
        async move {
            if !running {
                return Ok(None);
            }
            node.api
                .peers()
                .await
                .map(|p| Some(p.len()))
                .map_err(|source| WorkloadError::Api { index, source })
        }
    }))
    .await
}

/// When a node could not take part (crashed or paused), and since when it can again.
#[derive(Debug, Clone, Default)]
struct Availability {
    /// [start, end) windows in unix ns during which the node was down or paused, until it
    /// had rejoined the mesh (end `None`: still is).
    gaps: Vec<(u64, Option<u64>)>,
    /// Start of the current process's life (restart), or 0: deliveries to an earlier
    /// process died with it.
    incarnation_ns: u64,
}

impl Availability {
    fn open(&mut self, at: u64) {
        if self.gaps.last().is_none_or(|g| g.1.is_some()) {
            self.gaps.push((at, None));
        }
    }
    fn close(&mut self, at: u64) {
        if let Some(g) = self.gaps.last_mut().filter(|g| g.1.is_none()) {
            g.1 = Some(at);
        }
    }
    /// Whether a message published at `t` had to reach this node: published in its current
    /// life and outside every gap.
    fn expects(&self, t: u64) -> bool {
        t >= self.incarnation_ns
            && !self
                .gaps
                .iter()
                .any(|&(start, end)| t >= start && end.is_none_or(|e| t < e))
    }
    /// Whether a gap began within `grace` after `t` (a publisher that died right after
    /// publishing may not have sent its message anywhere).
    fn gap_soon_after(&self, t: u64, grace: u64) -> bool {
        self.gaps
            .iter()
            .any(|&(start, _)| start >= t && start < t + grace)
    }
}

/// How long after a restart or resume a node counts as away: until it has a gossip mesh
/// again, at most this long.
const REJOIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits until node `index` has peers and a gossip mesh again; returns when, unix ns.
async fn rejoined(cluster: &Cluster, index: usize) -> Result<u64, WorkloadError> {
    let deadline = Instant::now() + REJOIN_TIMEOUT;
    loop {
        let health = cluster.nodes[index]
            .api
            .health()
            .await
            .map_err(|source| WorkloadError::Api { index, source })?;
        if health.connected_peers > 0 && health.mesh_size > 0 {
            return Ok(unix_ns());
        }
        if Instant::now() > deadline {
            return Err(WorkloadError::Timeout(format!(
                "node {index} did not rejoin within {REJOIN_TIMEOUT:?} (peers {}, mesh {}); last lines of {}:\n{}",
                health.connected_peers,
                health.mesh_size,
                cluster.nodes[index].process.log_path.display(),
                log_tail(&cluster.nodes[index].process.log_path, LOG_TAIL_LINES)
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// When the first message published at or after `since_ns` had reached every node but its
/// publisher (the latest of those receive times), if one has.
fn first_complete_delivery(
    published: &[Published],
    received: &[Vec<Received>],
    up: &[usize],
    since_ns: u64,
) -> Option<u64> {
    published
        .iter()
        .filter(|p| p.published_ns >= since_ns)
        .find_map(|p| {
            let mut latest = 0;
            for (node, list) in received.iter().enumerate() {
                if node == p.publisher || !up.contains(&node) {
                    continue;
                }
                let r = list.iter().find(|r| r.id == p.id)?;
                latest = latest.max(r.received_ns);
            }
            Some(latest)
        })
}

/// Runs the phase on a formed cluster.
pub async fn run(
    cluster: &mut Cluster,
    switch: &Switch,
    network: &NetworkSpec,
    phase: &ChaosPhase,
    target_peers: usize,
    tag: &str,
    raw: &mut Vec<serde_json::Value>,
) -> Result<Values, WorkloadError> {
    let n = cluster.nodes.len();
    let tag = format!("{tag}-chaos");
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / phase.publish_rate_per_s));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut published: Vec<Published> = Vec::new();
    let mut availability = vec![Availability::default(); n];
    let mut next_fault = 0;
    let mut first_fault_ns: Option<u64> = None;
    // The last event after which the network must come back (heal, restart, resume), and
    // whether every fault before it has been undone.
    let mut recover_from: Option<(u64, Instant)> = None;
    let mut disrupted = false;
    let mut recovered_ns: Option<u64> = None;
    let mut last_check = Instant::now();
    loop {
        ticker.tick().await;
        cluster.check_alive()?;
        let elapsed = start.elapsed().as_secs_f64();
        while let Some(fault) = phase.faults.get(next_fault).filter(|f| f.at_s <= elapsed) {
            let now = unix_ns();
            raw.push(json!({"phase": "chaos", "fault": fault, "at_ns": now}));
            first_fault_ns.get_or_insert(now);
            match &fault.kind {
                kind @ (FaultKind::Partition { .. } | FaultKind::Isolate { .. }) => {
                    // A cut-off node is still expected to get every message eventually
                    // (connections that survive the partition retransmit after the heal):
                    // what does not arrive is the partition's cost, measured, not excused.
                    apply_network(kind, switch, network, n);
                    disrupted = true;
                }
                FaultKind::Heal => {
                    apply_network(&fault.kind, switch, network, n);
                    recover_from = Some((now, Instant::now()));
                    disrupted = false;
                }
                FaultKind::Crash { node } => {
                    cluster.kill(*node).await;
                    availability[*node].open(now);
                    disrupted = true;
                }
                FaultKind::Leave { node } => {
                    cluster.leave(*node).await;
                    availability[*node].open(now);
                    // A node that left on purpose is not a disruption to recover from.
                    recover_from = Some((now, Instant::now()));
                }
                FaultKind::Pause { node } => {
                    cluster.pause(*node);
                    availability[*node].open(now);
                    disrupted = true;
                }
                FaultKind::Restart { node } => {
                    cluster.restart(*node).await?;
                    let back = rejoined(cluster, *node).await?;
                    availability[*node].close(back);
                    availability[*node].incarnation_ns = back;
                    recover_from = Some((now, Instant::now()));
                    disrupted = cluster.up().len() < n;
                }
                FaultKind::Resume { node } => {
                    cluster.resume(*node);
                    let back = rejoined(cluster, *node).await?;
                    availability[*node].close(back);
                    recover_from = Some((now, Instant::now()));
                    disrupted = cluster.up().len() < n;
                }
            }
            recovered_ns = None;
            next_fault += 1;
        }
        // Publish round-robin over the nodes that are up.
        let up = cluster.up();
        let publisher = up[published.len() % up.len()];
        let id = format!("{tag}-m{}", published.len());
        let node = &cluster.nodes[publisher];
        let answer = node
            .api
            .publish(64, &id)
            .await
            .map_err(|source| WorkloadError::Api {
                index: publisher,
                source,
            })?;
        published.push(Published {
            id,
            publisher,
            publisher_peer: node.peer_id().to_owned(),
            seq: answer.seq,
            published_ns: answer.sent_ns,
        });
        // Recovery is checked five times a second once every fault is undone.
        if let (Some((since, _)), None, false) = (recover_from, recovered_ns, disrupted)
            && last_check.elapsed() >= Duration::from_millis(200)
        {
            last_check = Instant::now();
            let peers = peer_counts(cluster).await?;
            // With nodes down, fewer peers exist than the target asks for.
            let reachable = target_peers.min(up.len().saturating_sub(1));
            if peers.iter().flatten().all(|&p| p >= reachable) {
                let received = received_by_all(cluster).await?;
                // The peer condition is known to within the 200 ms of polling; the
                // delivery time comes from the nodes' own timestamps.
                recovered_ns = first_complete_delivery(&published, &received, &up, since);
            }
        }
        let faults_done = next_fault >= phase.faults.len();
        let stream_done = elapsed >= phase.duration_s;
        let waiting_for_recovery = recover_from.is_some() && !disrupted && recovered_ns.is_none();
        if stream_done && faults_done && !waiting_for_recovery {
            break;
        }
        if let (Some((_, at)), true) = (recover_from, waiting_for_recovery)
            && at.elapsed() > Duration::from_secs_f64(phase.recovery_timeout_s)
        {
            return Err(never_recovered(
                cluster,
                phase,
                target_peers,
                &published,
                recover_from.map(|r| r.0),
            )
            .await);
        }
    }

    // Let late deliveries arrive, then check every message against who had to get it.
    let grace = Duration::from_secs(1).as_nanos() as u64;
    // Only live nodes can be asked what they received: a node that is down at the end took
    // its deliveries with it.
    let live = cluster.up();
    let expected = |node: usize, m: &Published| {
        live.contains(&node)
            && availability[node].expects(m.published_ns)
            && !availability[m.publisher].gap_soon_after(m.published_ns, grace)
    };
    let settle_until = Instant::now() + SETTLE;
    let received = loop {
        let received = received_by_all(cluster).await?;
        let report = exactly_once::check(&published, &received, &tag, expected);
        if report.lost.is_empty() || Instant::now() > settle_until {
            break received;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let stats = switch.stats().await.total();
    raw.push(json!({"phase": "chaos", "switch": stats}));
    let mut values = Values::new();
    let window = |from: Option<u64>, to: Option<u64>| {
        let chosen: Vec<Published> = published
            .iter()
            .filter(|p| {
                from.is_none_or(|f| p.published_ns >= f) && to.is_none_or(|t| p.published_ns < t)
            })
            .cloned()
            .collect();
        exactly_once::check(&chosen, &received, &tag, expected)
    };
    let recovery_start = recover_from.map(|r| r.0);
    if let Some(first) = first_fault_ns {
        let during = window(Some(first), recovery_start);
        values.insert("fault_delivery_ratio_during", during.delivery_ratio());
        raw.push(json!({"phase": "chaos", "window": "during", "report": during}));
    }
    if let Some(since) = recovery_start {
        let after = window(Some(since), None);
        values.insert("fault_delivery_ratio_after", after.delivery_ratio());
        raw.push(json!({"phase": "chaos", "window": "after", "report": after}));
        if let Some(done) = recovered_ns {
            values.insert("recovery_time_ms", done.saturating_sub(since) as f64 / 1e6);
        }
    }
    Ok(values)
}

/// The failure of a network that did not recover: which nodes lack peers or messages, with
/// the tail of each such node's log.
async fn never_recovered(
    cluster: &Cluster,
    phase: &ChaosPhase,
    target_peers: usize,
    published: &[Published],
    heal_ns: Option<u64>,
) -> WorkloadError {
    let mut lines = vec![format!(
        "the network did not recover within {} s of the heal (chaos.recovery_timeout_s):",
        phase.recovery_timeout_s
    )];
    let peers = peer_counts(cluster).await.unwrap_or_default();
    let received = received_by_all(cluster).await.unwrap_or_default();
    let probe = published
        .iter()
        .find(|p| heal_ns.is_some_and(|h| p.published_ns >= h));
    for (index, node) in cluster.nodes.iter().enumerate() {
        let mut problems = Vec::new();
        if let Some(&Some(p)) = peers.get(index)
            && p < target_peers
        {
            problems.push(format!("{p} of {target_peers} peers"));
        }
        if let (Some(probe), Some(list)) = (probe, received.get(index))
            && probe.publisher != index
            && !list.iter().any(|r| r.id == probe.id)
        {
            problems.push(format!("never received {}", probe.id));
        }
        if !problems.is_empty() {
            lines.push(format!(
                "node {index}: {}; last lines of {}:\n{}",
                problems.join(", "),
                node.process.log_path.display(),
                log_tail(&node.process.log_path, LOG_TAIL_LINES)
            ));
        }
    }
    WorkloadError::Timeout(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_windows_decide_what_was_expected() {
        let mut a = Availability::default();
        a.open(100);
        a.close(200);
        assert!(a.expects(99) && !a.expects(100) && !a.expects(199) && a.expects(200));
        a.open(300);
        assert!(!a.expects(10_000), "an open gap lasts");
        a.close(400);
        a.incarnation_ns = 400;
        assert!(
            !a.expects(250),
            "before the restart: delivered to a process that is gone"
        );
        assert!(a.expects(450));
        assert!(a.gap_soon_after(290, 20) && !a.gap_soon_after(250, 20));
    }

    #[test]
    fn partitions_cut_exactly_the_links_between_sides() {
        let cut = cut_links(
            &FaultKind::Partition {
                groups: vec![vec![0, 1]],
            },
            4,
        );
        // {0, 1} against the rest {2, 3}: 2 × 2 pairs, both directions.
        assert_eq!(cut.len(), 8);
        assert!(cut.contains(&(0, 2)) && cut.contains(&(3, 1)));
        assert!(!cut.contains(&(0, 1)) && !cut.contains(&(2, 3)));
        let isolated = cut_links(&FaultKind::Isolate { node: 2 }, 4);
        assert_eq!(isolated.len(), 6);
        assert!(isolated.iter().all(|&(a, b)| a == 2 || b == 2));
        assert!(cut_links(&FaultKind::Heal, 4).is_empty());
    }

    #[test]
    fn recovery_waits_for_a_message_published_after_the_heal() {
        let p = |m: usize, publisher: usize, ns: u64| Published {
            id: format!("c-m{m}"),
            publisher,
            publisher_peer: format!("p{publisher}"),
            seq: m as u64,
            published_ns: ns,
        };
        let r = |id: &str, at: u64| Received {
            id: id.into(),
            publisher: String::new(),
            seq: 0,
            sent_ns: 0,
            received_ns: at,
        };
        let published = vec![p(0, 0, 100), p(1, 1, 200), p(2, 0, 300)];
        // m1 (after the heal at 150) reached node 0 but not node 2; m2 reached both others.
        let received = vec![
            vec![r("c-m1", 250)],
            vec![r("c-m0", 120), r("c-m2", 390)],
            vec![r("c-m0", 130), r("c-m2", 350)],
        ];
        let up = [0, 1, 2];
        let first = |up: &[usize], since| first_complete_delivery(&published, &received, up, since);
        assert_eq!(first(&up, 150), Some(390));
        assert_eq!(first(&up, 50), Some(130));
        assert_eq!(first(&up, 301), None);
        // With node 2 down, m1 only had to reach node 0.
        assert_eq!(first(&[0, 1], 150), Some(250));
    }
}
