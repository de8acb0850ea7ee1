//! The phases of one repetition on a running cluster, in order: formation, the idle window
//! (idle CPU and memory), formation from the nodes' events, the workloads (with the CPU they
//! cost), bandwidth, throughput, peak memory. The /proc readings come from
//! `measure::resources`; this file only decides when to take them and what they are called.

use std::time::{Duration, Instant};

use crate::cluster::fan_out::each_node;
use serde_json::json;

use crate::{
    cluster::{Cluster, node_api::sum_metric},
    measure::resources::{
        cpu_of, cpu_seconds, cpu_share_pct, load_average_1m, peak_rss_mb, rss_mb, uss_mb,
    },
    netem::Switch,
    scenario::Scenario,
    stats::descriptive::mean,
    workload::{self, Values, WorkloadError, formation},
};

use super::{Arm, Observer};

/// The phases of one repetition on a running cluster.
pub(super) async fn phases(
    scenario: &Scenario,
    arm: &Arm,
    cluster: &mut Cluster,
    switch: Option<&Switch>,
    label: &str,
    observer: &dyn Observer,
    raw: &mut Vec<serde_json::Value>,
) -> Result<Values, WorkloadError> {
    let pids: Vec<u32> = cluster.nodes.iter().map(|n| n.pid()).collect();
    let runner = std::process::id();
    let (runner_started, runner_cpu_before) = (Instant::now(), cpu_seconds(runner));

    observer.phase("formation");
    let formed = formation::wait_formed(cluster, &scenario.formation).await?;
    let mut values = formed.values;
    if let Some(load) = load_average_1m() {
        values.insert("load_avg_1m", load);
    }

    if scenario.idle.settle_s > 0.0 {
        observer.phase("settle");
        tokio::time::sleep(Duration::from_secs_f64(scenario.idle.settle_s)).await;
        cluster.check_alive()?;
    }
    observer.phase("idle");
    let quiet = cluster.liveness().quiet();
    values.extend(idle(cluster, &pids, scenario.idle.seconds).await?);
    drop(quiet);
    if !scenario.node_groups.is_empty() {
        // A mixed network's mean mixes implementations: each node's own, for the breakdown.
        let per_node: Vec<Option<f64>> = pids.iter().map(|&p| uss_mb(&[p]).pop()).collect();
        raw.push(json!({"phase": "idle_memory", "uss_mb": per_node}));
    }
    values.extend(formation_from_events(cluster, scenario, formed.polled_end_ns, raw).await?);
    values.extend(workloads(scenario, cluster, switch, &pids, label, observer, raw).await?);

    if declared(cluster, "metrics", "bandwidth", raw) {
        values.extend(bandwidth(cluster).await?);
    }

    if let Some(throughput) = &scenario.throughput
        && declared(cluster, "perf", "throughput", raw)
    {
        observer.phase("throughput");
        values.extend(workload::throughput::run(cluster, throughput, raw).await?);
    }
    if let (Some(before), Some(after)) = (runner_cpu_before, cpu_seconds(runner)) {
        let seconds = runner_started.elapsed().as_secs_f64().max(1e-9);
        values.insert("runner_cpu_pct", (after - before) / seconds * 100.0);
    }
    if let Some(peak) = peak_rss_mb(&pids) {
        values.insert("rss_peak_mb", peak);
    }
    if let Some(size) = arm.binary_size_bytes {
        values.insert("binary_size_bytes", size as f64);
    }
    if let Some(seconds) = arm.build_time_s {
        values.insert("build_time_s", seconds);
    }

    cluster.check_alive()?;
    Ok(values)
}

/// The idle window: CPU over `seconds` of quiet, then resident and unique memory.
async fn idle(cluster: &mut Cluster, pids: &[u32], seconds: f64) -> Result<Values, WorkloadError> {
    let mut values = Values::new();
    let window = Instant::now();
    let cpu_before = cpu_of(pids);
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    let cpu_after = cpu_of(pids);
    // The ticks are divided by the time that really passed between the two readings, not by
    // `seconds`: on a saturated machine (100 nodes on 2 cores) the sleep and the /proc reads
    // overran a 5 s window to 12.5 s, and the nominal length turned that into 239 % of the
    // machine for 100 nodes.
    let elapsed = window.elapsed().as_secs_f64();
    cluster.check_alive()?;
    if seconds > 0.0
        && let Some(share) = cpu_share_pct(&cpu_before, &cpu_after, elapsed)
    {
        values.insert("cpu_idle_pct", share);
    }
    let idle_rss_mb = rss_mb(pids);
    if let Some(mean) = mean(&idle_rss_mb) {
        values.insert("rss_idle_mb_mean", mean);
        values.insert(
            "rss_idle_mb_max",
            idle_rss_mb.iter().copied().fold(0.0, f64::max),
        );
    }
    if let Some(mean) = mean(&uss_mb(pids)) {
        values.insert("uss_idle_mb_mean", mean);
    }
    Ok(values)
}

/// Formation times from the nodes' own events (`polled_end_ns`: when polling saw it formed).
async fn formation_from_events(
    cluster: &Cluster,
    scenario: &Scenario,
    polled_end_ns: u64,
    raw: &mut Vec<serde_json::Value>,
) -> Result<Values, WorkloadError> {
    let per_node = each_node(
        cluster
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| async move {
                // `/events` is optional in the node contract: without it formation falls
                // back to the runner's polled time.
                let events = if !node.process.ready.has("events") {
                    Vec::new()
                } else {
                    match node.api.events().await {
                        Ok(events) => events,
                        Err(e) if e.status() == Some(404) => Vec::new(),
                        Err(source) => return Err(WorkloadError::Api { index, source }),
                    }
                };
                Ok::<_, WorkloadError>((events, node.process.ready_ns))
            }),
    )
    .await?;
    let target = formation::FormationTarget::of(&scenario.formation);
    let values = formation::from_events(cluster.t0_ns, &per_node, target, polled_end_ns);
    raw.push(json!({"phase": "formation", "t0_ns": cluster.t0_ns, "events_per_node": per_node.iter().map(|(e, _)| e.len()).collect::<Vec<_>>()}));
    Ok(values)
}

/// The DHT, gossip and chaos workloads the scenario sets, and the CPU they cost.
async fn workloads(
    scenario: &Scenario,
    cluster: &mut Cluster,
    switch: Option<&Switch>,
    pids: &[u32],
    label: &str,
    observer: &dyn Observer,
    raw: &mut Vec<serde_json::Value>,
) -> Result<Values, WorkloadError> {
    let mut values = Values::new();
    let load_started = Instant::now();
    let cpu_load_before = cpu_of(pids);
    if let Some(dht) = &scenario.dht {
        observer.phase("dht");
        values.extend(workload::dht::run(cluster, dht, label, raw).await?);
    }
    if let Some(gossip) = &scenario.gossip {
        observer.phase("gossip");
        values.extend(workload::gossip::run(cluster, gossip, label, raw).await?);
    }
    if let (Some(chaos), Some(switch), Some(network)) = (&scenario.chaos, switch, &scenario.network)
    {
        observer.phase("chaos");
        values.extend(
            workload::chaos::run(cluster, switch, scenario, network, chaos, label, raw).await?,
        );
    }
    if scenario.dht.is_some() || scenario.gossip.is_some() {
        let seconds = load_started.elapsed().as_secs_f64();
        if let Some(share) = cpu_share_pct(&cpu_load_before, &cpu_of(pids), seconds) {
            values.insert("cpu_load_pct", share);
        }
    }
    Ok(values)
}

/// Whether every node declared `capability`; if not, `what` is not measured and a raw record
/// says why (the run's notes repeat it).
fn declared(
    cluster: &Cluster,
    capability: &str,
    what: &str,
    raw: &mut Vec<serde_json::Value>,
) -> bool {
    let all = cluster.all_declare(capability);
    if !all {
        raw.push(json!({
            "phase": what,
            "not_measured": format!("{what} is not measured: not every node declares the \"{capability}\" capability in its ready line (node contract v1)"),
        }));
    }
    all
}

/// Mean bytes sent and received per node, over the nodes that are up (a node a fault took
/// down has no counters to read). Not measured, rather than 0, when a node has no `/metrics`
/// (404) or its page has no bandwidth counters.
async fn bandwidth(cluster: &Cluster) -> Result<Values, WorkloadError> {
    let pages = each_node(cluster.up().into_iter().map(|index| {
        let node = &cluster.nodes[index];
        async move {
            match node.api.metrics_text().await {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.status() == Some(404) => Ok(None),
                Err(source) => Err(WorkloadError::Api { index, source }),
            }
        }
    }))
    .await?;
    let mut values = Values::new();
    for (name, direction) in [
        ("bandwidth_sent_bytes_per_node", "direction=\"Outbound\""),
        ("bandwidth_received_bytes_per_node", "direction=\"Inbound\""),
    ] {
        // A mean over the nodes that report it would hide the ones that do not.
        let per_node: Option<Vec<f64>> = pages
            .iter()
            .map(|page| sum_metric(page.as_deref()?, BANDWIDTH_FAMILY, direction))
            .collect();
        if let Some(mean) = per_node.as_deref().and_then(mean) {
            values.insert(name, mean);
        }
    }
    Ok(values)
}

/// The Prometheus counter family of libp2p's bandwidth metrics.
const BANDWIDTH_FAMILY: &str = "libp2p_bandwidth_bytes_total";
