//! The `[chaos]` phase: a steady gossip stream while a seeded schedule of faults is applied:
//! network faults (partition, isolate, corrupt, intermittent link, heal) through the
//! userspace switch, node faults (crash, leave, restart, pause, resume, scale up and down)
//! through the cluster; then recovery.
//!
//! Measured: recovery time after the last heal (every node back to its target peer count and
//! a message published after the heal delivered everywhere), and the exactly-once delivery
//! ratio of messages published during the faults and after the heal. Every wait has a
//! deadline; a network that never recovers is a failed repetition with the nodes' log tails.
//!
//! One job per file: `faults` applies the schedule (network faults through `links` to the
//! switch, node faults to the cluster), `stream` publishes the gossip stream, `recovery`
//! measures the way back, `availability` says which node had to receive which message,
//! `delivery` checks the exactly-once windows and `probe` asks the nodes what they got.

mod availability;
mod delivery;
mod faults;
mod links;
mod probe;
mod recovery;
mod stream;

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{
    cluster::Cluster,
    netem::Switch,
    scenario::{ChaosPhase, NetworkSpec, Scenario},
    workload::{Values, WorkloadError},
};

use self::{
    delivery::Windows, faults::Faults, recovery::Recovery, recovery::never_recovered,
    stream::Stream,
};

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
    let tag = format!("{tag}-chaos");
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / phase.publish_rate_per_s));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stream = Stream::new(tag.clone());
    let mut faults = Faults::new(network, switch, scenario.seed, cluster.nodes.len());
    let mut recovery = Recovery::new();
    loop {
        ticker.tick().await;
        cluster.check_alive()?;
        let elapsed = start.elapsed().as_secs_f64();
        faults
            .apply_due(cluster, phase, elapsed, &mut recovery, raw)
            .await?;
        faults.tick_links(cluster.nodes.len(), raw);
        let up = cluster.up();
        stream.publish(cluster, &up).await?;
        recovery
            .check(cluster, &stream.published, &up, target_peers)
            .await?;
        let stream_done = elapsed >= phase.duration_s;
        if stream_done && faults.done(phase) && !recovery.waiting() {
            break;
        }
        if recovery.timed_out(phase.recovery_timeout_s) {
            let heal_ns = recovery.since_ns();
            return Err(
                never_recovered(cluster, phase, target_peers, &stream.published, heal_ns).await,
            );
        }
    }

    // Let late deliveries arrive, then check every message against who had to get it. Only
    // live nodes can be asked what they received.
    let expected = availability::expectation(cluster.up(), &faults.availability);
    let received = delivery::settle(cluster, &stream.published, &tag, &expected).await?;
    let stats = switch.stats().await.total();
    raw.push(json!({"phase": "chaos", "switch": stats}));
    let windows = Windows {
        first_fault_ns: faults.first_fault_ns,
        recovery_start_ns: recovery.since_ns(),
        recovered_ns: recovery.recovered_ns(),
    };
    Ok(delivery::values(
        &stream.published,
        &received,
        &windows,
        &tag,
        expected,
        raw,
    ))
}
