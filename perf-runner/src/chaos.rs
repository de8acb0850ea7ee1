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
                    FaultKind::Heal => false,
                };
            if separated {
                cut.push((a, b));
            }
        }
    }
    cut
}

fn apply(kind: &FaultKind, switch: &Switch, network: &NetworkSpec, nodes: usize) {
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

async fn received_by_all(cluster: &Cluster) -> Result<Vec<Vec<Received>>, WorkloadError> {
    try_join_all(
        cluster
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| async move {
                node.api
                    .received()
                    .await
                    .map_err(|source| WorkloadError::Api { index, source })
            }),
    )
    .await
}

async fn peer_counts(cluster: &Cluster) -> Result<Vec<usize>, WorkloadError> {
    try_join_all(
        cluster
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| async move {
                node.api
                    .peers()
                    .await
                    .map(|p| p.len())
                    .map_err(|source| WorkloadError::Api { index, source })
            }),
    )
    .await
}

/// When the first message published at or after `since_ns` had reached every node but its
/// publisher (the latest of those receive times), if one has.
fn first_complete_delivery(
    published: &[Published],
    received: &[Vec<Received>],
    since_ns: u64,
) -> Option<u64> {
    published
        .iter()
        .filter(|p| p.published_ns >= since_ns)
        .find_map(|p| {
            let mut latest = 0;
            for (node, list) in received.iter().enumerate() {
                if node == p.publisher {
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
    let mut next_fault = 0;
    let (mut first_fault_ns, mut heal_ns): (Option<u64>, Option<u64>) = (None, None);
    let mut recovered_ns: Option<u64> = None;
    let mut last_check = Instant::now();
    let recovery_deadline =
        |heal: Instant| heal + Duration::from_secs_f64(phase.recovery_timeout_s);
    let mut heal_instant: Option<Instant> = None;
    loop {
        ticker.tick().await;
        cluster.check_alive()?;
        let elapsed = start.elapsed().as_secs_f64();
        while let Some(fault) = phase.faults.get(next_fault).filter(|f| f.at_s <= elapsed) {
            apply(&fault.kind, switch, network, n);
            let now = unix_ns();
            raw.push(json!({"phase": "chaos", "fault": fault, "at_ns": now}));
            match fault.kind {
                FaultKind::Heal => {
                    heal_ns = Some(now);
                    heal_instant = Some(Instant::now());
                    recovered_ns = None;
                }
                _ => {
                    first_fault_ns.get_or_insert(now);
                    heal_ns = None;
                    heal_instant = None;
                }
            }
            next_fault += 1;
        }
        let m = published.len();
        let publisher = m % n;
        let id = format!("{tag}-m{m}");
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
        // Recovery is checked five times a second once healed.
        if let (Some(heal), None) = (heal_ns, recovered_ns)
            && last_check.elapsed() >= Duration::from_millis(200)
        {
            last_check = Instant::now();
            let peers = peer_counts(cluster).await?;
            if peers.iter().all(|&p| p >= target_peers) {
                let received = received_by_all(cluster).await?;
                // The peer condition is known to within the 200 ms of polling; the
                // delivery time comes from the nodes' own timestamps.
                recovered_ns = first_complete_delivery(&published, &received, heal);
            }
        }
        let faults_done = next_fault >= phase.faults.len();
        let stream_done = elapsed >= phase.duration_s;
        if stream_done && faults_done && (heal_ns.is_none() || recovered_ns.is_some()) {
            break;
        }
        if let Some(heal) = heal_instant
            && recovered_ns.is_none()
            && Instant::now() > recovery_deadline(heal)
        {
            return Err(never_recovered(cluster, phase, target_peers, &published, heal_ns).await);
        }
        if stream_done && faults_done && heal_ns.is_none() && first_fault_ns.is_some() {
            // Ended partitioned: nothing to recover from by design.
            break;
        }
    }

    // Let late deliveries arrive, then check every message.
    let settle_until = Instant::now() + SETTLE;
    let received = loop {
        let received = received_by_all(cluster).await?;
        let report = exactly_once::check(&published, &received, &tag, |_, _| true);
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
        exactly_once::check(&chosen, &received, &tag, |_, _| true)
    };
    if let Some(first) = first_fault_ns {
        let during = window(Some(first), heal_ns);
        values.insert("fault_delivery_ratio_during", during.delivery_ratio());
        raw.push(json!({"phase": "chaos", "window": "during", "report": during}));
    }
    if let Some(heal) = heal_ns {
        let after = window(Some(heal), None);
        values.insert("fault_delivery_ratio_after", after.delivery_ratio());
        raw.push(json!({"phase": "chaos", "window": "after", "report": after}));
        if let Some(done) = recovered_ns {
            values.insert("recovery_time_ms", done.saturating_sub(heal) as f64 / 1e6);
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
        if let Some(&p) = peers.get(index)
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
        assert_eq!(
            first_complete_delivery(&published, &received, 150),
            Some(390)
        );
        assert_eq!(
            first_complete_delivery(&published, &received, 50),
            Some(130)
        );
        assert_eq!(first_complete_delivery(&published, &received, 301), None);
    }
}
