//! The fault schedule applied as it comes due: network faults become switch rules (through
//! links.rs), node faults go to the cluster; each tells recovery.rs what must come back and
//! availability.rs which messages a node could not receive.

use serde_json::json;

use crate::{
    cluster::Cluster,
    measure::clock::unix_ns,
    netem::Switch,
    scenario::{ChaosPhase, FaultKind, NetworkSpec},
    workload::WorkloadError,
};

use super::{
    availability::{Availability, rejoined},
    links::LinkFaults,
    recovery::Recovery,
};

/// What the faults applied so far left behind.
pub(super) struct Faults<'a> {
    links: LinkFaults<'a>,
    /// The switch the network faults are sent to.
    switch: &'a Switch,
    /// Seeds the intermittent links (with the fault's index).
    seed: u64,
    /// Per node, when it could not take part.
    pub(super) availability: Vec<Availability>,
    /// Index of the next fault of the schedule.
    next: usize,
    /// When the first fault was applied, unix ns.
    pub(super) first_fault_ns: Option<u64>,
}

impl<'a> Faults<'a> {
    /// No fault applied yet on a cluster of `nodes` whose `[network]` is `network`, applied
    /// by `switch`; `seed` seeds the intermittent links.
    pub(super) fn new(
        network: &'a NetworkSpec,
        switch: &'a Switch,
        seed: u64,
        nodes: usize,
    ) -> Self {
        Faults {
            links: LinkFaults::new(network),
            switch,
            seed,
            availability: vec![Availability::default(); nodes],
            next: 0,
            first_fault_ns: None,
        }
    }

    /// Whether every fault of `phase` has been applied.
    pub(super) fn done(&self, phase: &ChaosPhase) -> bool {
        self.next >= phase.faults.len()
    }

    /// Applies every fault of `phase` due `elapsed_s` into the phase.
    pub(super) async fn apply_due(
        &mut self,
        cluster: &mut Cluster,
        phase: &ChaosPhase,
        elapsed_s: f64,
        recovery: &mut Recovery,
        raw: &mut Vec<serde_json::Value>,
    ) -> Result<(), WorkloadError> {
        while let Some(fault) = phase.faults.get(self.next).filter(|f| f.at_s <= elapsed_s) {
            let now = unix_ns();
            raw.push(json!({"phase": "chaos", "fault": fault, "at_ns": now}));
            self.first_fault_ns.get_or_insert(now);
            self.apply(&fault.kind, cluster, now, recovery).await?;
            recovery.fault_applied();
            self.next += 1;
        }
        Ok(())
    }

    /// Flips an intermittent link whose time has come and sends the switch the change.
    pub(super) fn tick_links(&mut self, nodes: usize, raw: &mut Vec<serde_json::Value>) {
        if let Some(down) = self.links.tick(std::time::Instant::now()) {
            self.links.push(self.switch, nodes);
            raw.push(json!({"phase": "chaos", "intermittent_link_down": down, "at_ns": unix_ns()}));
        }
    }

    /// Applies one fault at `now` (unix ns).
    async fn apply(
        &mut self,
        kind: &FaultKind,
        cluster: &mut Cluster,
        now: u64,
        recovery: &mut Recovery,
    ) -> Result<(), WorkloadError> {
        let nodes = cluster.nodes.len();
        match kind {
            FaultKind::Partition { .. }
            | FaultKind::Isolate { .. }
            | FaultKind::Corrupt { .. }
            | FaultKind::Intermittent { .. } => self.network_fault(kind, nodes, recovery),
            FaultKind::Heal => {
                self.links.apply(kind, nodes, 0);
                self.links.push(self.switch, nodes);
                recovery.network_healed(now);
            }
            FaultKind::Crash { node } => {
                cluster.kill(*node).await;
                self.away(*node, now, recovery);
            }
            FaultKind::Pause { node } => {
                cluster.pause(*node);
                self.away(*node, now, recovery);
            }
            FaultKind::Leave { node } => {
                cluster.leave(*node).await;
                self.availability[*node].open(now);
                // A node that left on purpose is not a disruption to recover from.
                recovery.measure_from(now);
            }
            FaultKind::ScaleDown { nodes } => {
                for &node in nodes {
                    cluster.leave(node).await;
                    self.availability[node].open(now);
                }
                recovery.measure_from(now);
            }
            FaultKind::Restart { node } => {
                cluster.restart(*node).await?;
                let back = self.back(cluster, *node, now, recovery).await?;
                // Deliveries to the process before the restart died with it.
                self.availability[*node].incarnation_ns = back;
            }
            FaultKind::Resume { node } => {
                cluster.resume(*node);
                self.back(cluster, *node, now, recovery).await?;
            }
            FaultKind::ScaleUp { count } => self.scale_up(*count, cluster, now, recovery).await?,
        }
        Ok(())
    }

    /// A partition, isolation, corruption or intermittent link comes into force.
    fn network_fault(&mut self, kind: &FaultKind, nodes: usize, recovery: &mut Recovery) {
        // A cut-off node is still expected to get every message eventually (connections
        // that survive the partition retransmit after the heal): what does not arrive is the
        // fault's cost, measured, not excused.
        self.links.apply(kind, nodes, self.seed ^ self.next as u64);
        self.links.push(self.switch, nodes);
        recovery.network_disturbed();
    }

    /// Node `node` crashed or was paused at `now`.
    fn away(&mut self, node: usize, now: u64, recovery: &mut Recovery) {
        self.availability[node].open(now);
        recovery.node_away(node);
    }

    /// Node `node`, restarted or resumed after an event at `now`, has rejoined the mesh;
    /// returns when, unix ns.
    async fn back(
        &mut self,
        cluster: &Cluster,
        node: usize,
        now: u64,
        recovery: &mut Recovery,
    ) -> Result<u64, WorkloadError> {
        let back = rejoined(cluster, node).await?;
        self.availability[node].close(back);
        recovery.node_back(node, now);
        Ok(back)
    }

    /// Adds `count` nodes, each expected to receive what is published once it has a mesh.
    async fn scale_up(
        &mut self,
        count: usize,
        cluster: &mut Cluster,
        now: u64,
        recovery: &mut Recovery,
    ) -> Result<(), WorkloadError> {
        for _ in 0..count {
            let node = cluster.add_node().await?;
            let joined = rejoined(cluster, node).await?;
            self.availability.push(Availability {
                gaps: Vec::new(),
                incarnation_ns: joined,
            });
        }
        // Network faults in force apply to the newcomers' links too.
        self.links.push(self.switch, cluster.nodes.len());
        recovery.measure_from(now);
        Ok(())
    }
}
