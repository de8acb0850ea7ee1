//! The `[chaos]` phase: a steady gossip stream while a seeded schedule of faults is applied:
//! network faults (partition, isolate, corrupt, intermittent link, heal) through the
//! userspace switch, node faults (crash, leave, restart, pause, resume, scale up and down)
//! through the cluster; then recovery.
//!
//! Measured: recovery time after the last heal (every node back to its target peer count and
//! a message published after the heal delivered everywhere), and the exactly-once delivery
//! ratio of messages published during the faults and after the heal. Every wait has a
//! deadline; a network that never recovers is a failed repetition with the nodes' log tails.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    time::{Duration, Instant},
};

use futures::future::try_join_all;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;

use crate::{
    cluster::node_api::Received,
    cluster::{
        Cluster,
        process::{LOG_TAIL_LINES, log_tail},
    },
    measure::clock::unix_ns,
    netem::{LinkRules, Switch},
    scenario::{ChaosPhase, FaultKind, NetworkSpec, Scenario},
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

/// The network faults in force, turned into rules per directed link.
struct LinkFaults<'a> {
    network: &'a NetworkSpec,
    /// Links cut by partitions and isolations.
    cut: HashSet<(usize, usize)>,
    /// Corruption (percent) on the links from or to some nodes (all links when empty).
    corrupt: Vec<(f64, Vec<usize>)>,
    flap: Option<Flap>,
    /// What the switch was last told per link (the scenario's rules until then).
    sent: HashMap<(usize, usize), LinkRules>,
}

/// An intermittent link: a node's links go down and up with exponential, seeded durations.
struct Flap {
    node: usize,
    down_s: f64,
    up_s: f64,
    down: bool,
    next: Instant,
    rng: StdRng,
}

impl Flap {
    /// An exponential duration with mean `mean_s`, at least 10 ms.
    fn draw(&mut self, mean_s: f64) -> Duration {
        let u: f64 = self.rng.random();
        Duration::from_secs_f64((-(1.0 - u).ln() * mean_s).max(0.01))
    }
}

impl<'a> LinkFaults<'a> {
    fn new(network: &'a NetworkSpec) -> Self {
        LinkFaults {
            network,
            cut: HashSet::new(),
            corrupt: Vec::new(),
            flap: None,
            sent: HashMap::new(),
        }
    }

    /// Takes a network fault (or the heal) into account; `seed` seeds an intermittent link.
    fn apply(&mut self, kind: &FaultKind, nodes: usize, seed: u64) {
        match kind {
            FaultKind::Heal => {
                self.cut.clear();
                self.corrupt.clear();
                self.flap = None;
            }
            FaultKind::Corrupt { pct, nodes } => self.corrupt.push((*pct, nodes.clone())),
            FaultKind::Intermittent { node, down_s, up_s } => {
                let mut flap = Flap {
                    node: *node,
                    down_s: *down_s,
                    up_s: *up_s,
                    down: true,
                    next: Instant::now(),
                    rng: StdRng::seed_from_u64(seed),
                };
                let first = flap.draw(*down_s);
                flap.next += first;
                self.flap = Some(flap);
            }
            other => self.cut.extend(cut_links(other, nodes)),
        }
    }

    /// Flips an intermittent link whose time has come; returns its new state (down?) if so.
    fn tick(&mut self, now: Instant) -> Option<bool> {
        let flap = self.flap.as_mut().filter(|f| f.next <= now)?;
        flap.down = !flap.down;
        let mean = if flap.down { flap.down_s } else { flap.up_s };
        flap.next = now + flap.draw(mean);
        Some(flap.down)
    }

    fn rules(&self, a: usize, b: usize) -> LinkRules {
        let mut rules = self.network.rules_for(a, b).link_rules();
        let flapped = self
            .flap
            .as_ref()
            .is_some_and(|f| f.down && (a == f.node || b == f.node));
        if flapped || self.cut.contains(&(a, b)) {
            rules.partitioned = true;
        }
        for (pct, nodes) in &self.corrupt {
            if nodes.is_empty() || nodes.contains(&a) || nodes.contains(&b) {
                rules.corrupt = rules.corrupt.max(pct / 100.0);
            }
        }
        rules
    }

    /// Sends the switch every link whose rules changed.
    fn push(&mut self, switch: &Switch, nodes: usize) {
        for a in 0..nodes {
            for b in (0..nodes).filter(|&b| b != a) {
                let rules = self.rules(a, b);
                let current = self
                    .sent
                    .get(&(a, b))
                    .copied()
                    .unwrap_or_else(|| self.network.rules_for(a, b).link_rules());
                if rules != current {
                    switch.set_link(a, b, rules);
                    self.sent.insert((a, b), rules);
                }
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

/// Runs the `phase` of `scenario` (whose `[network]` the switch applies) on a formed cluster.
pub async fn run(
    cluster: &mut Cluster,
    switch: &Switch,
    scenario: &Scenario,
    network: &NetworkSpec,
    phase: &ChaosPhase,
    tag: &str,
    raw: &mut Vec<serde_json::Value>,
) -> Result<Values, WorkloadError> {
    let target_peers = scenario.formation.target_peers;
    let seed = scenario.seed;
    let tag = format!("{tag}-chaos");
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / phase.publish_rate_per_s));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut published: Vec<Published> = Vec::new();
    let mut availability = vec![Availability::default(); cluster.nodes.len()];
    let mut links = LinkFaults::new(network);
    let mut next_fault = 0;
    let mut first_fault_ns: Option<u64> = None;
    // The last event after which the network must come back (heal, restart, resume, a node
    // joining or leaving); recovery is measured once no fault is left undone: no network
    // fault in force and no node crashed or paused (nodes that left on purpose do not count).
    let mut recover_from: Option<(u64, Instant)> = None;
    let mut network_disturbed = false;
    let mut away: BTreeSet<usize> = BTreeSet::new();
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
                kind @ (FaultKind::Partition { .. }
                | FaultKind::Isolate { .. }
                | FaultKind::Corrupt { .. }
                | FaultKind::Intermittent { .. }) => {
                    // A cut-off node is still expected to get every message eventually
                    // (connections that survive the partition retransmit after the heal):
                    // what does not arrive is the fault's cost, measured, not excused.
                    links.apply(kind, cluster.nodes.len(), seed ^ next_fault as u64);
                    links.push(switch, cluster.nodes.len());
                    network_disturbed = true;
                }
                FaultKind::Heal => {
                    links.apply(&fault.kind, cluster.nodes.len(), 0);
                    links.push(switch, cluster.nodes.len());
                    recover_from = Some((now, Instant::now()));
                    network_disturbed = false;
                }
                FaultKind::Crash { node } => {
                    cluster.kill(*node).await;
                    availability[*node].open(now);
                    away.insert(*node);
                }
                FaultKind::Leave { node } => {
                    cluster.leave(*node).await;
                    availability[*node].open(now);
                    // A node that left on purpose is not a disruption to recover from.
                    recover_from = Some((now, Instant::now()));
                }
                FaultKind::ScaleDown { nodes } => {
                    for &node in nodes {
                        cluster.leave(node).await;
                        availability[node].open(now);
                    }
                    recover_from = Some((now, Instant::now()));
                }
                FaultKind::Pause { node } => {
                    cluster.pause(*node);
                    availability[*node].open(now);
                    away.insert(*node);
                }
                FaultKind::Restart { node } => {
                    cluster.restart(*node).await?;
                    let back = rejoined(cluster, *node).await?;
                    availability[*node].close(back);
                    availability[*node].incarnation_ns = back;
                    recover_from = Some((now, Instant::now()));
                    away.remove(node);
                }
                FaultKind::Resume { node } => {
                    cluster.resume(*node);
                    let back = rejoined(cluster, *node).await?;
                    availability[*node].close(back);
                    recover_from = Some((now, Instant::now()));
                    away.remove(node);
                }
                FaultKind::ScaleUp { count } => {
                    for _ in 0..*count {
                        let node = cluster.add_node().await?;
                        // A newcomer has to receive what is published once it has a mesh.
                        let joined = rejoined(cluster, node).await?;
                        availability.push(Availability {
                            gaps: Vec::new(),
                            incarnation_ns: joined,
                        });
                    }
                    // Network faults in force apply to the newcomers' links too.
                    links.push(switch, cluster.nodes.len());
                    recover_from = Some((now, Instant::now()));
                }
            }
            recovered_ns = None;
            next_fault += 1;
        }
        if let Some(down) = links.tick(Instant::now()) {
            links.push(switch, cluster.nodes.len());
            raw.push(json!({"phase": "chaos", "intermittent_link_down": down, "at_ns": unix_ns()}));
        }
        let disrupted = network_disturbed || !away.is_empty();
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
        window_report(&published, &received, from, to, &tag, expected)
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

/// The exactly-once report of the messages published in [from, to) (open ends: unbounded).
/// Deliveries of messages published outside the window belong to another window, not to
/// this one's "never published" findings.
fn window_report(
    published: &[Published],
    received: &[Vec<Received>],
    from: Option<u64>,
    to: Option<u64>,
    tag: &str,
    expected: impl Fn(usize, &Published) -> bool,
) -> exactly_once::Report {
    let chosen: Vec<Published> = published
        .iter()
        .filter(|p| {
            from.is_none_or(|f| p.published_ns >= f) && to.is_none_or(|t| p.published_ns < t)
        })
        .cloned()
        .collect();
    let ids: HashSet<&str> = chosen.iter().map(|p| p.id.as_str()).collect();
    let in_window: Vec<Vec<Received>> = received
        .iter()
        .map(|list| {
            list.iter()
                .filter(|r| ids.contains(r.id.as_str()))
                .cloned()
                .collect()
        })
        .collect();
    exactly_once::check(&chosen, &in_window, tag, expected)
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

    fn spec() -> NetworkSpec {
        NetworkSpec {
            rules: crate::scenario::NetworkRules {
                delay_ms: 1.0,
                jitter_ms: 0.0,
                loss_pct: 0.0,
                loss_model: crate::scenario::LossModel::Uniform,
                burst_len: 4.0,
                rate_mbit: None,
                corrupt_pct: 0.0,
            },
            groups: Vec::new(),
            links: Vec::new(),
        }
    }

    #[test]
    fn network_faults_compose_per_link_and_the_heal_clears_them_all() {
        let network = spec();
        let mut links = LinkFaults::new(&network);
        links.apply(&FaultKind::Isolate { node: 0 }, 3, 1);
        links.apply(
            &FaultKind::Corrupt {
                pct: 20.0,
                nodes: vec![2],
            },
            3,
            1,
        );
        assert!(links.rules(0, 1).partitioned && links.rules(2, 0).partitioned);
        assert!(!links.rules(1, 2).partitioned);
        assert_eq!(links.rules(1, 2).corrupt, 0.2, "2's links corrupt");
        assert_eq!(links.rules(0, 1).corrupt, 0.0, "0 → 1 does not touch 2");
        assert_eq!(
            links.rules(1, 2).delay,
            Duration::from_millis(1),
            "[network] kept"
        );
        links.apply(&FaultKind::Heal, 3, 0);
        for (a, b) in [(0, 1), (1, 2), (2, 0)] {
            assert_eq!(links.rules(a, b), network.rules.link_rules());
        }
    }

    #[test]
    fn an_intermittent_link_flaps_on_a_seeded_schedule() {
        let network = spec();
        let flips = |seed| {
            let mut links = LinkFaults::new(&network);
            links.apply(
                &FaultKind::Intermittent {
                    node: 1,
                    down_s: 0.2,
                    up_s: 0.5,
                },
                3,
                seed,
            );
            assert!(links.rules(0, 1).partitioned, "starts down");
            assert!(!links.rules(0, 2).partitioned, "only node 1's links");
            let start = Instant::now();
            let mut states = Vec::new();
            let mut t = start;
            while t < start + Duration::from_secs(60) {
                t += Duration::from_millis(10);
                if let Some(down) = links.tick(t) {
                    assert_eq!(links.rules(1, 2).partitioned, down);
                    states.push((t - start, down));
                }
            }
            states
        };
        let a = flips(7);
        assert_eq!(a, flips(7), "same seed, same schedule");
        assert_ne!(a, flips(8));
        assert!(a.windows(2).all(|w| w[0].1 != w[1].1), "alternates");
        // Means 0.2 s down + 0.5 s up: about 170 flips in a minute; far from 0 or 6000.
        assert!((60..400).contains(&a.len()), "{} flips", a.len());
    }

    #[test]
    fn a_window_reports_only_its_own_messages() {
        let p = |m: usize, ns: u64| Published {
            id: format!("c-m{m}"),
            publisher: 0,
            publisher_peer: "p0".into(),
            seq: m as u64,
            published_ns: ns,
        };
        let r = |m: usize| Received {
            id: format!("c-m{m}"),
            publisher: "p0".into(),
            seq: m as u64,
            sent_ns: 0,
            received_ns: 0,
        };
        let published = vec![p(0, 100), p(1, 200), p(2, 300)];
        // Node 1 got m0 and m2 but lost m1; m2 came twice.
        let received = vec![vec![], vec![r(0), r(2), r(2)]];
        let during = window_report(&published, &received, Some(150), Some(250), "c", |_, _| {
            true
        });
        assert_eq!(during.expected, 1);
        assert_eq!(during.lost.len(), 1);
        assert_eq!(during.lost[0].id, "c-m1");
        assert!(
            during.mismatched.is_empty() && during.duplicated.is_empty(),
            "{during:?}"
        );
        let after = window_report(&published, &received, Some(250), None, "c", |_, _| true);
        assert_eq!((after.expected, after.exactly_once), (1, 0));
        assert_eq!(after.duplicated.len(), 1);
        assert!(after.mismatched.is_empty());
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
