//! One repetition: a fresh cluster (behind the switch when the scenario emulates a network)
//! through every phase, the checks that traffic went through the switch, then a clean stop.

use std::{path::Path, sync::Arc, time::Duration};

use crate::{
    cluster::{Cluster, ClusterConfig},
    data::baseline::implementation_of,
    netem::Switch,
    scenario::{NetworkSpec, Scenario, Transport},
    workload::{Values, WorkloadError},
};

use super::{Arm, Observer, phases::phases};

/// One repetition: a fresh cluster through every phase. Returns metric values and unclean
/// exits seen when stopping the nodes.
pub(super) async fn repetition(
    scenario: &Scenario,
    arm: &Arm,
    log_dir: &Path,
    label: &str,
    observer: &dyn Observer,
    raw: &mut Vec<serde_json::Value>,
) -> Result<(Values, Vec<String>), WorkloadError> {
    observer.phase("starting nodes");
    let switch = match &scenario.network {
        Some(network) => Some(Arc::new(start_switch(network, scenario)?)),
        None => None,
    };
    let cluster_config = ClusterConfig {
        node_bin: arm.node_bin.clone(),
        other_bins: (0..scenario.nodes)
            .filter_map(|i| Some((i, scenario.implementation_of(i)?.bin())))
            .collect(),
        nodes: scenario.nodes,
        topology: scenario.topology,
        seed: scenario.seed,
        transport: scenario.transport,
        target_peers: scenario.formation.target_peers,
        stagger: Duration::from_millis(scenario.stagger_ms),
        log_dir: log_dir.to_path_buf(),
        ready_timeout: Duration::from_secs_f64(scenario.formation.ready_timeout_s),
        niceness: crate::cluster::node_niceness(
            scenario.nodes,
            crate::measure::resources::available_cores(),
        ),
        extra_args: scenario_args(scenario),
        own_args: arm.node_args.clone(),
        network: switch.clone(),
    };
    let mut cluster = Cluster::start(&cluster_config).await?;
    if !scenario.node_groups.is_empty() {
        raw.push(implementations(scenario, arm, &cluster));
    }
    // Every phase runs under the liveness watch: a node that exits, is stopped or hangs ends
    // the repetition at once, its outstanding requests cancelled.
    let liveness = cluster.liveness();
    let measured = liveness
        .guard(async {
            let mut values = phases(
                scenario,
                arm,
                &mut cluster,
                switch.as_deref(),
                label,
                observer,
                raw,
            )
            .await?;
            if let Some(switch) = &switch {
                network_checks(&cluster, switch, scenario.transport, &mut values).await?;
            }
            Ok(values)
        })
        .await;
    match measured {
        Ok(values) => {
            observer.phase("stopping nodes");
            Ok((values, cluster.stop().await))
        }
        Err(e) => Err(explain(&mut cluster, e).await),
    }
}

/// A node that died explains a failed call better than the call's own error. A refused
/// connection often comes from a node that is exiting, so after a failed call the nodes get
/// [`EXIT_GRACE`] to be seen gone before the call's error stands.
async fn explain(cluster: &mut Cluster, error: WorkloadError) -> WorkloadError {
    let deadline = tokio::time::Instant::now() + EXIT_GRACE;
    loop {
        if let Err(crash) = cluster.check_alive() {
            return crash.into();
        }
        if !matches!(error, WorkloadError::Api { .. }) || tokio::time::Instant::now() >= deadline {
            return error;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How long a failed call waits for its node to be seen exiting.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// The flags the scenario asks of every node, whatever its implementation (the arm's own
/// arguments follow them on the nodes that run the arm's binary).
fn scenario_args(scenario: &Scenario) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(factor) = scenario.dht.as_ref().and_then(|d| d.replication_factor) {
        args.extend(["--kad-replication-factor".to_owned(), factor.to_string()]);
    }
    if let Some(max) = scenario.formation.max_peers {
        args.extend(["--max-peers".to_owned(), max.to_string()]);
    }
    if scenario.node.current_thread {
        args.push("--current-thread".to_owned());
    }
    args
}

/// A mixed network's raw record of which node runs which implementation, by index and peer
/// id: what the per-pair breakdown (`run::breakdown`) reads the gossip and DHT records with.
fn implementations(scenario: &Scenario, arm: &Arm, cluster: &Cluster) -> serde_json::Value {
    let own = implementation_of(&arm.node_bin);
    let nodes: Vec<serde_json::Value> = cluster
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| {
            let implementation = scenario
                .implementation_of(index)
                .map_or(own.clone(), |i| i.name.to_owned());
            serde_json::json!({"index": index, "peer_id": node.peer_id(), "implementation": implementation})
        })
        .collect();
    serde_json::json!({"phase": "nodes", "nodes": nodes})
}

/// With emulation: checks that every connection goes through the switch (a node that learnt a
/// peer's private address would bypass it), and adds the switch's own metrics.
async fn network_checks(
    cluster: &Cluster,
    switch: &Switch,
    transport: Transport,
    values: &mut Values,
) -> Result<(), WorkloadError> {
    for index in cluster.up() {
        let node = &cluster.nodes[index];
        let peers = node
            .api
            .peer_addresses()
            .await
            .map_err(|source| WorkloadError::Api { index, source })?;
        for (peer, addresses) in peers {
            for address in addresses {
                let through_switch = crate::cluster::socket_of(&address)
                    .is_some_and(|a| switch.forwards_from(a.port()));
                if !through_switch {
                    return Err(WorkloadError::Bypass(format!(
                        "node {index} is connected to {peer} at {address}, not at a switch port: traffic bypasses the network emulation"
                    )));
                }
            }
        }
    }
    let stats = switch.stats().await;
    let total = stats.total();
    if total.packets > 0 {
        // The TCP proxy never drops: a loss ratio would always read 0.
        if transport == Transport::Quic {
            values.insert(
                "netem_loss_ratio",
                (total.lost + total.queue_full) as f64 / total.packets as f64,
            );
        }
        values.insert(
            "netem_switch_cpu_us_per_1000_packets",
            stats.cpu.as_secs_f64() * 1e6 / (total.packets as f64 / 1000.0),
        );
    }
    Ok(())
}

/// A switch with the scenario's rules on every directed link.
fn start_switch(network: &NetworkSpec, scenario: &Scenario) -> Result<Switch, WorkloadError> {
    let switch = Switch::start(
        scenario.max_nodes(),
        network.rules.link_rules(),
        scenario.seed,
    )
    .map_err(|e| WorkloadError::Setup(format!("cannot open the switch's sockets: {e}")))?;
    for from in 0..scenario.max_nodes() {
        for to in 0..scenario.max_nodes() {
            if from != to {
                let rules = network.rules_for(from, to);
                if rules != &network.rules {
                    switch.set_link(from, to, rules.link_rules());
                }
            }
        }
    }
    Ok(switch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenarios_peer_bound_and_runtime_reach_every_node() {
        let scenario = Scenario::from_toml(
            "name = \"x\"\nnodes = 50\n[node]\ncurrent_thread = true\n[formation]\nmax_peers = 16\n",
            Path::new("s.toml"),
        )
        .unwrap();
        assert_eq!(
            scenario_args(&scenario),
            ["--max-peers", "16", "--current-thread"]
        );
        let below_target = Scenario::from_toml(
            "name = \"x\"\nnodes = 50\n[formation]\ntarget_peers = 8\nmax_peers = 4\n",
            Path::new("s.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            below_target.contains("s.toml:5:") && below_target.contains("allowed: 8 to"),
            "{below_target}"
        );
    }

    #[test]
    fn a_scenario_replication_factor_reaches_every_node() {
        let scenario = Scenario::from_toml(
            "name = \"x\"\nnodes = 5\n[dht]\nreplication_factor = 3\n",
            Path::new("s.toml"),
        )
        .unwrap();
        assert_eq!(scenario_args(&scenario), ["--kad-replication-factor", "3"]);
        let default =
            Scenario::from_toml("name = \"x\"\nnodes = 5\n[dht]\n", Path::new("s.toml")).unwrap();
        assert_eq!(scenario_args(&default), Vec::<String>::new());
        let error = Scenario::from_toml(
            "name = \"x\"\nnodes = 5\n[dht]\nreplication_factor = 0\n",
            Path::new("s.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("s.toml:4:") && error.contains("dht.replication_factor"),
            "{error}"
        );
    }
}
