//! Formation, discovery, convergence and connect times, from node events.
//!
//! The runner polls `/health` only to learn *when to stop waiting*. The numbers come from the
//! nodes' own event timestamps (`/events`, unix ns on the shared clock), so their error is the
//! node's event-loop queueing delay, well under a millisecond, not the polling interval.

use std::time::{Duration, Instant};

use super::{Values, WorkloadError, insert_quantiles};
use crate::{
    cluster::node_api::{Health, NodeEvent},
    cluster::{Cluster, fan_out::each_node},
    scenario::FormationPhase,
    stats::descriptive::mean,
};

/// gossipsub's default lower mesh bound (D_lo); a node's mesh target is min(target peers, this).
pub const GOSSIP_MESH_LOW: usize = 5;
/// Pause between rounds of `/health` polls while waiting for formation, per node polled,
/// within [`POLL_PAUSE_MIN`] and [`POLL_PAUSE_MAX`]: 10 ms while a few nodes lag, 1 s while
/// 1,000 do, so that polling never takes the CPU the nodes need to form. (The measured times
/// come from the nodes' events; polling only decides when to stop waiting.)
const POLL_PAUSE_PER_NODE: Duration = Duration::from_millis(1);
const POLL_PAUSE_MIN: Duration = Duration::from_millis(10);
const POLL_PAUSE_MAX: Duration = Duration::from_secs(1);

/// What formation needs of every node.
#[derive(Debug, Clone, Copy)]
pub struct FormationTarget {
    /// Connected peers.
    pub peers: usize,
    /// Gossip mesh size.
    pub mesh: usize,
}

impl FormationTarget {
    /// Whether a node's health meets the target.
    fn met_by(&self, health: &Health) -> bool {
        health.connected_peers >= self.peers && health.mesh_size >= self.mesh
    }

    /// The target for a phase configuration.
    pub fn of(phase: &FormationPhase) -> Self {
        Self {
            peers: phase.target_peers,
            mesh: phase.target_peers.min(GOSSIP_MESH_LOW),
        }
    }
}

/// State at the end of formation, before the event log is read.
pub struct Formed {
    /// Values known at formation end: discovery ratio and average peers.
    pub values: Values,
    /// Runner's own observation of formation end, unix ns (fallback when events are missing).
    pub polled_end_ns: u64,
}

/// Waits until every node reaches `target`; fails after the phase timeout naming the laggards.
///
/// Each round polls only the nodes not yet seen formed; once none is left, one round over
/// every node confirms that all still are (a node may lose a peer meanwhile), and any that
/// is not is polled again.
pub async fn wait_formed(
    cluster: &mut Cluster,
    phase: &FormationPhase,
) -> Result<Formed, WorkloadError> {
    let target = FormationTarget::of(phase);
    let deadline = Instant::now() + Duration::from_secs_f64(phase.timeout_s);
    let formed = |h: &Option<Health>| h.as_ref().is_some_and(|h| target.met_by(h));
    let mut lagging: Vec<usize> = (0..cluster.nodes.len()).collect();
    loop {
        cluster.check_alive()?;
        let confirming = lagging.is_empty();
        let polled: Vec<usize> = if confirming {
            (0..cluster.nodes.len()).collect()
        } else {
            lagging.clone()
        };
        let healths = poll_health(cluster, &polled).await?;
        lagging = polled
            .iter()
            .zip(&healths)
            .filter(|(_, h)| !formed(h))
            .map(|(&index, _)| index)
            .collect();
        if confirming && lagging.is_empty() {
            let healths: Vec<Health> = healths.into_iter().flatten().collect();
            return Ok(Formed {
                values: formed_values(&healths),
                polled_end_ns: crate::measure::clock::unix_ns(),
            });
        }
        if Instant::now() > deadline {
            let laggards: Vec<String> = polled
                .iter()
                .zip(&healths)
                .filter(|(_, h)| !formed(h))
                .map(|(i, h)| match h {
                    Some(h) => format!(
                        "node {i}: {}/{} peers, mesh {}/{}",
                        h.connected_peers, target.peers, h.mesh_size, target.mesh
                    ),
                    None => format!("node {i}: /health not answered in time"),
                })
                .collect();
            return Err(WorkloadError::Timeout(format!(
                "network did not form within {}s: {}{}",
                phase.timeout_s,
                laggards
                    .iter()
                    .take(MAX_LAGGARDS_NAMED)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; "),
                match laggards.len().checked_sub(MAX_LAGGARDS_NAMED) {
                    Some(more) if more > 0 => format!("; and {more} more nodes"),
                    _ => String::new(),
                }
            )));
        }
        if !lagging.is_empty() {
            tokio::time::sleep(poll_pause(lagging.len())).await;
        }
    }
}

/// Laggards named in a formation timeout; the rest are counted.
const MAX_LAGGARDS_NAMED: usize = 20;

/// The pause before the next round, which polls `nodes` nodes.
fn poll_pause(nodes: usize) -> Duration {
    (POLL_PAUSE_PER_NODE * nodes as u32).clamp(POLL_PAUSE_MIN, POLL_PAUSE_MAX)
}

/// `/health` of the nodes `indices`, in that order; `None` for a node that did not answer
/// before the call's timeout. While hundreds of nodes form on a few cores a node may take
/// that long (measured: the root of 1,000 nodes), and that is not formation's to judge: the
/// node is polled again, and the liveness watcher, whose limit grows with every node's answer
/// time, decides whether it hung. Any other failure (refused, reset) fails the phase.
async fn poll_health(
    cluster: &Cluster,
    indices: &[usize],
) -> Result<Vec<Option<Health>>, WorkloadError> {
    each_node(indices.iter().map(|&index| {
        let node = &cluster.nodes[index];
        async move {
            match node.api.health().await {
                Ok(health) => Ok(Some(health)),
                Err(source) if source.is_timeout() => Ok(None),
                Err(source) => Err(WorkloadError::Api { index, source }),
            }
        }
    }))
    .await
}

/// Discovery ratio and average peers from every node's health at formation end. A single
/// node has no one to discover: its discovery ratio is not measured, not 0.
fn formed_values(healths: &[Health]) -> Values {
    let mut values = Values::new();
    if healths.len() > 1 {
        let others = (healths.len() - 1) as f64;
        let discovered: Vec<f64> = healths
            .iter()
            .map(|h| (h.routing_table_size as f64 / others).min(1.0))
            .collect();
        if let Some(ratio) = mean(&discovered) {
            values.insert("discovery_ratio", ratio);
        }
    }
    let peers: Vec<f64> = healths.iter().map(|h| h.connected_peers as f64).collect();
    if let Some(average) = mean(&peers) {
        values.insert("avg_peers", average);
    }
    values
}

/// When one node first met the target, from its events; `ready_ns` is the earliest possible.
pub fn node_formed_at(events: &[NodeEvent], target: FormationTarget, ready_ns: u64) -> Option<u64> {
    let (mut peers, mut mesh) = (0usize, 0usize);
    if target.peers == 0 && target.mesh == 0 {
        return Some(ready_ns);
    }
    for event in events {
        if let Some(p) = event.connected_peers {
            peers = p;
        }
        if let Some(m) = event.mesh_size {
            mesh = m;
        }
        if peers >= target.peers && mesh >= target.mesh {
            return Some(event.ts_ns.max(ready_ns));
        }
    }
    None
}

/// Formation time, convergence time and connect-time percentiles from every node's events.
pub fn from_events(
    t0_ns: u64,
    per_node: &[(Vec<NodeEvent>, u64)],
    target: FormationTarget,
    polled_end_ns: u64,
) -> Values {
    let mut values = Values::new();
    let formed: Option<Vec<u64>> = per_node
        .iter()
        .map(|(events, ready)| node_formed_at(events, target, *ready))
        .collect();
    // A node without the events endpoint falls back to the runner's polled time (10 ms resolution).
    let end = formed
        .and_then(|f| f.into_iter().max())
        .unwrap_or(polled_end_ns);
    values.insert("formation_time_ms", end.saturating_sub(t0_ns) as f64 / 1e6);
    let last_routing = per_node
        .iter()
        .flat_map(|(events, _)| events.iter())
        .filter(|e| e.kind == "routing_updated")
        .map(|e| e.ts_ns)
        .max();
    if let Some(last) = last_routing {
        values.insert(
            "convergence_time_ms",
            last.saturating_sub(t0_ns) as f64 / 1e6,
        );
    }
    let connect_ms: Vec<f64> = per_node
        .iter()
        .flat_map(|(events, _)| events.iter())
        .filter_map(|e| e.established_in_us)
        .map(|us| us as f64 / 1000.0)
        .collect();
    insert_quantiles(
        &mut values,
        &[("connect_time_ms_p50", 0.5), ("connect_time_ms_p95", 0.95)],
        &connect_ms,
    );
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_pauses_longer_the_more_nodes_lag() {
        assert_eq!(poll_pause(1), POLL_PAUSE_MIN);
        assert_eq!(poll_pause(250), Duration::from_millis(250));
        assert_eq!(poll_pause(1000), POLL_PAUSE_MAX);
        assert_eq!(poll_pause(100_000), POLL_PAUSE_MAX);
    }

    fn ev(ts_ns: u64, kind: &str, peers: Option<usize>, mesh: Option<usize>) -> NodeEvent {
        NodeEvent {
            ts_ns,
            kind: kind.into(),
            connected_peers: peers,
            mesh_size: mesh,
            established_in_us: None,
        }
    }

    fn health(connected_peers: usize, routing_table_size: usize) -> Health {
        Health {
            connected_peers,
            routing_table_size,
            mesh_size: 0,
        }
    }

    #[test]
    fn discovery_is_a_share_of_the_others_and_a_lone_node_has_none() {
        let three = formed_values(&[health(2, 2), health(1, 1), health(1, 2)]);
        assert!(
            (three["discovery_ratio"] - 5.0 / 6.0).abs() < 1e-12,
            "{three:?}"
        );
        assert!((three["avg_peers"] - 4.0 / 3.0).abs() < 1e-12, "{three:?}");
        let alone = formed_values(&[health(0, 0)]);
        assert!(!alone.contains_key("discovery_ratio"), "{alone:?}");
        assert_eq!(alone["avg_peers"], 0.0);
    }

    #[test]
    fn node_forms_when_both_peers_and_mesh_reach_target() {
        let events = vec![
            ev(100, "connected", Some(1), None),
            ev(150, "mesh_changed", None, Some(1)),
            ev(200, "connected", Some(2), None),
            ev(260, "mesh_changed", None, Some(2)),
        ];
        let target = FormationTarget { peers: 2, mesh: 2 };
        assert_eq!(node_formed_at(&events, target, 50), Some(260));
        assert_eq!(
            node_formed_at(&events, FormationTarget { peers: 3, mesh: 2 }, 50),
            None
        );
        assert_eq!(
            node_formed_at(&[], FormationTarget { peers: 0, mesh: 0 }, 50),
            Some(50)
        );
    }

    #[test]
    fn cluster_formation_is_the_slowest_node_and_convergence_the_last_routing_change() {
        let a = vec![
            ev(1_000_000, "connected", Some(1), None),
            ev(2_000_000, "mesh_changed", None, Some(1)),
        ];
        let mut b = vec![
            ev(1_500_000, "connected", Some(1), None),
            ev(3_000_000, "mesh_changed", None, Some(1)),
        ];
        b.push(ev(9_000_000, "routing_updated", None, None));
        let values = from_events(
            0,
            &[(a, 0), (b, 0)],
            FormationTarget { peers: 1, mesh: 1 },
            99,
        );
        assert_eq!(values["formation_time_ms"], 3.0);
        assert_eq!(values["convergence_time_ms"], 9.0);
    }

    #[test]
    fn a_node_without_events_falls_back_to_the_polled_time() {
        let a = vec![
            ev(1_000_000, "connected", Some(1), None),
            ev(2_000_000, "mesh_changed", None, Some(1)),
        ];
        let values = from_events(
            0,
            &[(a, 0), (vec![], 0)],
            FormationTarget { peers: 1, mesh: 1 },
            7_000_000,
        );
        assert_eq!(values["formation_time_ms"], 7.0);
    }
}
