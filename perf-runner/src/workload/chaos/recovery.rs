//! Recovery: the last event after which the network must come back, whether any fault is
//! still undone, and when every node had its peers again and a message published after that
//! event had reached everyone; the failure report of a network that never recovers.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use crate::{
    cluster::{
        Cluster,
        node_api::Received,
        process::{LOG_TAIL_LINES, log_tail},
    },
    scenario::ChaosPhase,
    workload::{WorkloadError, exactly_once::Published},
};

use super::probe::{peer_counts, received_by_all};

/// Recovery measured from the last heal, restart, resume or change of membership.
pub(super) struct Recovery {
    /// The last event after which the network must come back (heal, restart, resume, a node
    /// joining or leaving), in unix ns and as an instant for the timeout; recovery is
    /// measured once no fault is left undone: no network fault in force and no node crashed
    /// or paused (nodes that left on purpose do not count).
    from: Option<(u64, Instant)>,
    network_disturbed: bool,
    /// Nodes crashed or paused and not back yet.
    away: BTreeSet<usize>,
    /// When the network had recovered from `from`, unix ns.
    recovered_ns: Option<u64>,
    last_check: Instant,
}

impl Recovery {
    pub(super) fn new() -> Self {
        Recovery {
            from: None,
            network_disturbed: false,
            away: BTreeSet::new(),
            recovered_ns: None,
            last_check: Instant::now(),
        }
    }

    /// The network must come back after an event at `now` (unix ns).
    pub(super) fn measure_from(&mut self, now: u64) {
        self.from = Some((now, Instant::now()));
    }

    /// A network fault is in force.
    pub(super) fn network_disturbed(&mut self) {
        self.network_disturbed = true;
    }

    /// Every network fault was healed at `now`.
    pub(super) fn network_healed(&mut self, now: u64) {
        self.measure_from(now);
        self.network_disturbed = false;
    }

    /// Node `node` crashed or was paused.
    pub(super) fn node_away(&mut self, node: usize) {
        self.away.insert(node);
    }

    /// Node `node` is back (restarted or resumed) after an event at `now`.
    pub(super) fn node_back(&mut self, node: usize, now: u64) {
        self.measure_from(now);
        self.away.remove(&node);
    }

    /// A fault was applied: any recovery measured so far was from an earlier event.
    pub(super) fn fault_applied(&mut self) {
        self.recovered_ns = None;
    }

    /// Start of the recovery, unix ns, once an event asked for one.
    pub(super) fn since_ns(&self) -> Option<u64> {
        self.from.map(|r| r.0)
    }

    /// When the network had recovered, unix ns.
    pub(super) fn recovered_ns(&self) -> Option<u64> {
        self.recovered_ns
    }

    fn disrupted(&self) -> bool {
        self.network_disturbed || !self.away.is_empty()
    }

    /// Whether every fault is undone but the network has not recovered yet.
    pub(super) fn waiting(&self) -> bool {
        self.from.is_some() && !self.disrupted() && self.recovered_ns.is_none()
    }

    /// Whether the network has been waited for longer than `timeout_s` after the event.
    pub(super) fn timed_out(&self, timeout_s: f64) -> bool {
        self.waiting()
            && self
                .from
                .is_some_and(|(_, at)| at.elapsed() > Duration::from_secs_f64(timeout_s))
    }

    /// Checks, five times a second once every fault is undone, whether every running node
    /// (`up`) has its peers and a message published since the event has reached everyone.
    pub(super) async fn check(
        &mut self,
        cluster: &Cluster,
        published: &[Published],
        up: &[usize],
        target_peers: usize,
    ) -> Result<(), WorkloadError> {
        if let (Some((since, _)), None, false) = (self.from, self.recovered_ns, self.disrupted())
            && self.last_check.elapsed() >= Duration::from_millis(200)
        {
            self.last_check = Instant::now();
            let peers = peer_counts(cluster).await?;
            // With nodes down, fewer peers exist than the target asks for.
            let reachable = target_peers.min(up.len().saturating_sub(1));
            if peers.iter().flatten().all(|&p| p >= reachable) {
                let received = received_by_all(cluster).await?;
                // The peer condition is known to within the 200 ms of polling; the
                // delivery time comes from the nodes' own timestamps.
                self.recovered_ns = first_complete_delivery(published, &received, up, since);
            }
        }
        Ok(())
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

/// The failure of a network that did not recover: which nodes lack peers or messages, with
/// the tail of each such node's log.
pub(super) async fn never_recovered(
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
