//! The scheduler: repetitions of fresh clusters, phases in order, results saved as they come.
//!
//! After every measured repetition the outputs are rewritten (atomically), so an interrupted
//! or failed run still leaves a complete, readable record of what was measured, marked
//! incomplete. Warm-up repetitions run the same phases and are discarded.

use std::{collections::BTreeMap, future::Future, path::PathBuf, time::Duration};

use futures::future::try_join_all;
use serde_json::json;

use crate::{
    Error,
    cluster::node_api::sum_metric,
    cluster::{Cluster, ClusterConfig},
    data::env::{Fingerprint, Revision},
    data::metrics,
    data::output::{RunDir, write_atomic},
    data::summary::{Failure, MetricResult, RunSummary, SCHEMA_VERSION, ScenarioInfo},
    measure::resources,
    scenario::Scenario,
    stats::descriptive::{mean, summarize},
    workload::{self, Values, WorkloadError, formation},
};

/// One side of a run: a node binary and how it was obtained. A plain run has one arm
/// (`head`); `--against` adds a second (`base`), run interleaved with the first.
#[derive(Debug, Clone)]
pub struct Arm {
    /// `head` or `base`.
    pub label: String,
    /// Binary speaking the node contract.
    pub node_bin: PathBuf,
    /// Extra arguments for every node (e.g. `--inject-delay-us=100` of a fault-injection build).
    pub node_args: Vec<String>,
    /// Size of the node binary, reported as `binary_size_bytes` when known.
    pub binary_size_bytes: Option<u64>,
    /// Measured build time, reported as `build_time_s` when measured.
    pub build_time_s: Option<f64>,
    /// Source revision of the binary.
    pub revision: Revision,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The scenario, overrides applied.
    pub scenario: Scenario,
    /// The head arm, then optionally the base arm.
    pub arms: Vec<Arm>,
    /// Output root (`target/perf` by default).
    pub out_root: PathBuf,
    /// Keep node logs of successful repetitions too.
    pub keep_logs: bool,
    /// Writes a summary's files (`summary.json` and its renderings) after every round, so a
    /// run stopped at any point leaves a readable record. The caller picks the renderers:
    /// the scheduler knows none.
    pub write_files: WriteFiles,
}

/// Writes the files of one arm's summary into its run directory, atomically.
pub type WriteFiles = fn(&RunDir, &RunSummary) -> Result<(), Error>;

/// Hooks for showing progress; every method has an empty default.
pub trait Observer {
    /// A repetition begins. `index` counts warm-ups first, and every arm's run.
    fn repetition_started(&self, _index: usize, _total: usize, _label: &str) {}
    /// A phase of the current repetition begins.
    fn phase(&self, _name: &str) {}
    /// The current repetition ended.
    fn repetition_finished(&self) {}
    /// The run ended.
    fn finished(&self) {}
}

/// An observer that shows nothing.
pub struct Silent;
impl Observer for Silent {}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every repetition finished.
    Complete,
    /// Stopped by Ctrl-C or SIGTERM.
    Interrupted,
    /// A repetition failed (crash, timeout); the message says which and why.
    Failed(String),
}

/// A finished (or stopped) run.
pub struct RunResult {
    /// What was measured, one summary per arm, head first.
    pub summaries: Vec<RunSummary>,
    /// Where it was written.
    pub dir: RunDir,
    /// How it ended.
    pub outcome: Outcome,
    /// Every gossip delivery's latency in ms over the measured repetitions, per arm (head first).
    pub gossip_latencies_ms: Vec<(String, Vec<f64>)>,
}

/// The order of arm runs within repetition `index`: ABBA, so that drift over the run (thermal,
/// background load) falls on both arms equally.
pub fn abba_order(index: usize, arms: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..arms).collect();
    if index % 2 == 1 {
        order.reverse();
    }
    order
}

/// Runs the scenario until done, failed, or `interrupt` resolves.
pub async fn run(
    config: &RunConfig,
    observer: &dyn Observer,
    interrupt: impl Future<Output = ()>,
) -> Result<RunResult, Error> {
    let dir =
        RunDir::create(&config.out_root, &config.scenario.name).map_err(|source| Error::Io {
            path: config.out_root.clone(),
            source,
        })?;
    let mut records: Vec<Record> = config
        .arms
        .iter()
        .map(|arm| Record::new(config, arm))
        .collect();
    let scenario = &config.scenario;
    let rounds = scenario.warmup + scenario.repetitions;
    let total = rounds * config.arms.len();
    let mut outcome = Outcome::Complete;
    let mut started = 0;
    tokio::pin!(interrupt);
    'rounds: for round in 0..rounds {
        let warmup = round < scenario.warmup;
        let repetition = round.saturating_sub(scenario.warmup);
        for arm_index in abba_order(round, config.arms.len()) {
            let arm = &config.arms[arm_index];
            let label = match (warmup, config.arms.len()) {
                (true, 1) => format!("warmup{round}"),
                (false, 1) => format!("rep{repetition}"),
                (true, _) => format!("warmup{round}-{}", arm.label),
                (false, _) => format!("rep{repetition}-{}", arm.label),
            };
            observer.repetition_started(started, total, &label);
            started += 1;
            let mut raw = Vec::new();
            let log_dir = dir.node_logs(&label);
            let result = tokio::select! {
                result = self::repetition(scenario, arm, &log_dir, &label, observer, &mut raw) => result,
                () = &mut interrupt => {
                    outcome = Outcome::Interrupted;
                    break 'rounds;
                }
            };
            observer.repetition_finished();
            let record = &mut records[arm_index];
            match result {
                Ok((values, stop_problems)) => {
                    for message in stop_problems {
                        record.failures.push(Failure {
                            repetition,
                            warmup,
                            message,
                        });
                    }
                    if !config.keep_logs {
                        let _ = std::fs::remove_dir_all(&log_dir);
                    }
                    if !warmup {
                        record.add(repetition, &values, raw);
                    }
                }
                Err(e) => {
                    let message = format!("{label}: {e}\n(node logs in {})", log_dir.display());
                    record.failures.push(Failure {
                        repetition,
                        warmup,
                        message: message.clone(),
                    });
                    outcome = Outcome::Failed(message);
                    break 'rounds;
                }
            }
        }
        if !warmup {
            for record in &mut records {
                record.write(&dir, false, config.write_files)?;
            }
        }
    }
    if !config.keep_logs {
        // Empty when every repetition succeeded; failed repetitions keep their logs.
        let _ = std::fs::remove_dir(dir.nodes());
    }
    let mut summaries = Vec::new();
    for record in &mut records {
        summaries.push(record.write(&dir, outcome == Outcome::Complete, config.write_files)?);
    }
    dir.mark_latest().map_err(|source| Error::Io {
        path: dir.dir.clone(),
        source,
    })?;
    observer.finished();
    let gossip_latencies_ms = config
        .arms
        .iter()
        .zip(&records)
        .map(|(arm, r)| (arm.label.clone(), r.gossip_latencies_ms.clone()))
        .collect();
    Ok(RunResult {
        summaries,
        dir,
        outcome,
        gossip_latencies_ms,
    })
}

/// One repetition: a fresh cluster through every phase. Returns metric values and unclean
/// exits seen when stopping the nodes.
async fn repetition(
    scenario: &Scenario,
    arm: &Arm,
    log_dir: &std::path::Path,
    label: &str,
    observer: &dyn Observer,
    raw: &mut Vec<serde_json::Value>,
) -> Result<(Values, Vec<String>), WorkloadError> {
    observer.phase("starting nodes");
    let switch = match &scenario.network {
        Some(network) => Some(std::sync::Arc::new(start_switch(network, scenario)?)),
        None => None,
    };
    let cluster_config = ClusterConfig {
        node_bin: arm.node_bin.clone(),
        nodes: scenario.nodes,
        topology: scenario.topology,
        seed: scenario.seed,
        transport: scenario.transport,
        target_peers: scenario.formation.target_peers,
        stagger: Duration::from_millis(scenario.stagger_ms),
        log_dir: log_dir.to_path_buf(),
        ready_timeout: Duration::from_secs_f64(scenario.formation.ready_timeout_s),
        extra_args: arm.node_args.clone(),
        network: switch.clone(),
    };
    let mut cluster = Cluster::start(&cluster_config).await?;
    let measured = match phases(
        scenario,
        arm,
        &mut cluster,
        switch.as_deref(),
        label,
        observer,
        raw,
    )
    .await
    {
        Ok(mut values) => match &switch {
            Some(switch) => network_checks(&cluster, switch, scenario.transport, &mut values)
                .await
                .map(|()| values),
            None => Ok(values),
        },
        Err(e) => Err(e),
    };
    match measured {
        Ok(values) => {
            observer.phase("stopping nodes");
            Ok((values, cluster.stop().await))
        }
        // A node that died explains the failed call better than the call's own error.
        Err(e) => Err(cluster.check_alive().err().map_or(e, WorkloadError::from)),
    }
}

/// With emulation: checks that every connection goes through the switch (a node that learnt a
/// peer's private address would bypass it), and adds the switch's own metrics.
async fn network_checks(
    cluster: &Cluster,
    switch: &crate::netem::Switch,
    transport: crate::scenario::Transport,
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
        if transport == crate::scenario::Transport::Quic {
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
fn start_switch(
    network: &crate::scenario::NetworkSpec,
    scenario: &Scenario,
) -> Result<crate::netem::Switch, WorkloadError> {
    let switch = crate::netem::Switch::start(
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

/// The phases of one repetition on a running cluster.
async fn phases(
    scenario: &Scenario,
    arm: &Arm,
    cluster: &mut Cluster,
    switch: Option<&crate::netem::Switch>,
    label: &str,
    observer: &dyn Observer,
    raw: &mut Vec<serde_json::Value>,
) -> Result<Values, WorkloadError> {
    let pids: Vec<u32> = cluster.nodes.iter().map(|n| n.pid()).collect();

    observer.phase("formation");
    let formed = formation::wait_formed(cluster, &scenario.formation).await?;
    let mut values = formed.values;

    observer.phase("idle");
    let cpu_before = cpu_of(&pids);
    tokio::time::sleep(Duration::from_secs_f64(scenario.idle.seconds)).await;
    let cpu_after = cpu_of(&pids);
    cluster.check_alive()?;
    if scenario.idle.seconds > 0.0 {
        values.insert(
            "cpu_idle_pct",
            cpu_share_pct(&cpu_before, &cpu_after, scenario.idle.seconds),
        );
    }
    let idle_rss_mb: Vec<f64> = pids
        .iter()
        .filter_map(|&p| resources::memory(p))
        .map(|m| m.rss_kib as f64 / 1024.0)
        .collect();
    if let Some(mean) = mean(&idle_rss_mb) {
        values.insert("rss_idle_mb_mean", mean);
        values.insert(
            "rss_idle_mb_max",
            idle_rss_mb.iter().copied().fold(0.0, f64::max),
        );
    }
    let idle_uss_mb: Vec<f64> = pids
        .iter()
        .filter_map(|&p| resources::unique_kib(p))
        .map(|kib| kib as f64 / 1024.0)
        .collect();
    if let Some(mean) = mean(&idle_uss_mb) {
        values.insert("uss_idle_mb_mean", mean);
    }

    let per_node = try_join_all(
        cluster
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| async move {
                // `/events` is optional in the node contract: without it formation falls
                // back to the runner's polled time.
                let events = match node.api.events().await {
                    Ok(events) => events,
                    Err(e) if e.status() == Some(404) => Vec::new(),
                    Err(source) => return Err(WorkloadError::Api { index, source }),
                };
                Ok::<_, WorkloadError>((events, node.process.ready_ns))
            }),
    )
    .await?;
    let target = formation::FormationTarget::of(&scenario.formation);
    values.extend(formation::from_events(
        cluster.t0_ns,
        &per_node,
        target,
        formed.polled_end_ns,
    ));
    raw.push(json!({"phase": "formation", "t0_ns": cluster.t0_ns, "events_per_node": per_node.iter().map(|(e, _)| e.len()).collect::<Vec<_>>()}));

    let load_started = std::time::Instant::now();
    let cpu_load_before = cpu_of(&pids);
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
            crate::workload::chaos::run(cluster, switch, scenario, network, chaos, label, raw)
                .await?,
        );
    }
    if scenario.dht.is_some() || scenario.gossip.is_some() {
        let seconds = load_started.elapsed().as_secs_f64();
        values.insert(
            "cpu_load_pct",
            cpu_share_pct(&cpu_load_before, &cpu_of(&pids), seconds),
        );
    }

    let (sent, received) = bandwidth(cluster).await?;
    values.insert("bandwidth_sent_bytes_per_node", sent);
    values.insert("bandwidth_received_bytes_per_node", received);

    if let Some(throughput) = &scenario.throughput {
        observer.phase("throughput");
        values.extend(workload::throughput::run(cluster, throughput, raw).await?);
    }
    let peak_mb = pids
        .iter()
        .filter_map(|&p| resources::memory(p))
        .map(|m| m.hwm_kib as f64 / 1024.0)
        .fold(0.0, f64::max);
    values.insert("rss_peak_mb", peak_mb);
    if let Some(size) = arm.binary_size_bytes {
        values.insert("binary_size_bytes", size as f64);
    }
    if let Some(seconds) = arm.build_time_s {
        values.insert("build_time_s", seconds);
    }

    cluster.check_alive()?;
    Ok(values)
}

fn cpu_of(pids: &[u32]) -> Vec<Option<f64>> {
    pids.iter().map(|&p| resources::cpu_seconds(p)).collect()
}

/// Mean over nodes of CPU seconds used / wall seconds, in percent of one core.
fn cpu_share_pct(before: &[Option<f64>], after: &[Option<f64>], seconds: f64) -> f64 {
    let shares: Vec<f64> = before
        .iter()
        .zip(after)
        .filter_map(|(b, a)| Some((a.as_ref()? - b.as_ref()?) / seconds.max(1e-9) * 100.0))
        .collect();
    mean(&shares).unwrap_or(0.0)
}

/// Mean bytes sent and received per node, from libp2p's bandwidth counters.
/// Mean bytes sent and received per node, over the nodes that are up (a node a fault took
/// down has no counters to read).
async fn bandwidth(cluster: &Cluster) -> Result<(f64, f64), WorkloadError> {
    let texts = try_join_all(cluster.up().into_iter().map(|index| {
        let node = &cluster.nodes[index];
        async move {
            node.api
                .metrics_text()
                .await
                .map_err(|source| WorkloadError::Api { index, source })
        }
    }))
    .await?;
    let n = texts.len().max(1) as f64;
    let sent: f64 = texts
        .iter()
        .map(|t| sum_metric(t, "libp2p_bandwidth_bytes_total", "direction=\"Outbound\""))
        .sum();
    let received: f64 = texts
        .iter()
        .map(|t| sum_metric(t, "libp2p_bandwidth_bytes_total", "direction=\"Inbound\""))
        .sum();
    Ok((sent / n, received / n))
}

/// What has been measured so far, and how to write it.
struct Record {
    /// Where this arm's files go: the run directory for the head, a subdirectory for the base.
    files: ArmFiles,
    summary: RunSummary,
    samples: BTreeMap<&'static str, Vec<(usize, f64)>>,
    raw: Vec<serde_json::Value>,
    failures: Vec<Failure>,
    gossip_latencies_ms: Vec<f64>,
}

impl Record {
    fn new(config: &RunConfig, arm: &Arm) -> Self {
        let s = &config.scenario;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let summary = RunSummary {
            schema_version: SCHEMA_VERSION,
            tool: format!("swarmbench {}", env!("CARGO_PKG_VERSION")),
            scenario: ScenarioInfo {
                name: s.name.clone(),
                nodes: s.nodes,
                topology: s.topology.to_string(),
                transport: s.transport.to_string(),
                repetitions: s.repetitions,
                warmup: s.warmup,
                seed: s.seed,
                source: s.source.display().to_string(),
            },
            environment: Fingerprint::current(if s.network.is_some() {
                "userspace-switch"
            } else {
                "loopback"
            }),
            revision: arm.revision.clone(),
            node_bin: arm.node_bin.display().to_string(),
            started_at: now.clone(),
            finished_at: now,
            complete: false,
            repetitions_done: 0,
            failures: Vec::new(),
            metrics: Vec::new(),
            notes: notes(s),
            plots: Vec::new(),
            comparison: None,
        };
        let primary = config
            .arms
            .first()
            .is_none_or(|first| first.label == arm.label);
        Self {
            files: if primary {
                ArmFiles::Root
            } else {
                ArmFiles::Sub(arm.label.clone())
            },
            summary,
            samples: BTreeMap::new(),
            raw: Vec::new(),
            failures: Vec::new(),
            gossip_latencies_ms: Vec::new(),
        }
    }

    fn add(&mut self, repetition: usize, values: &Values, raw: Vec<serde_json::Value>) {
        for (name, value) in values {
            if value.is_finite() {
                self.samples
                    .entry(name)
                    .or_default()
                    .push((repetition, *value));
            }
        }
        self.gossip_latencies_ms.extend(
            raw.iter()
                .filter(|r| r["phase"] == "gossip")
                .filter_map(|r| r["latency_us"].as_f64())
                .map(|us| us / 1000.0),
        );
        self.raw.extend(raw.into_iter().map(|mut r| {
            r["repetition"] = json!(repetition);
            r
        }));
        self.summary.repetitions_done += 1;
    }

    /// Rebuilds the summary and rewrites every output file atomically.
    fn write(
        &mut self,
        dir: &RunDir,
        complete: bool,
        write_files: WriteFiles,
    ) -> Result<RunSummary, Error> {
        let summary = &mut self.summary;
        summary.complete = complete;
        summary.finished_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        summary.failures = self.failures.clone();
        // Metrics in definition order, so every report lists them the same way.
        summary.metrics = metrics::ALL
            .iter()
            .filter_map(|def| {
                let samples = self.samples.get(def.name)?;
                let values: Vec<f64> = samples.iter().map(|&(_, v)| v).collect();
                Some(MetricResult {
                    name: def.name.into(),
                    unit: def.unit.into(),
                    direction: def.direction,
                    kind: def.kind,
                    definition: def.definition.into(),
                    repetitions: samples.iter().map(|&(r, _)| r).collect(),
                    summary: summarize(&values),
                    samples: values,
                })
            })
            .collect();
        let dir = match &self.files {
            ArmFiles::Root => dir.clone(),
            ArmFiles::Sub(label) => dir.arm(label).map_err(|source| Error::Io {
                path: dir.dir.join(label),
                source,
            })?,
        };
        let jsonl: String = self.raw.iter().map(|r| format!("{r}\n")).collect();
        write_atomic(&dir.metrics_jsonl(), jsonl.as_bytes()).map_err(|source| Error::Io {
            path: dir.metrics_jsonl(),
            source,
        })?;
        write_files(&dir, summary)?;
        Ok(summary.clone())
    }
}

/// Which directory an arm's files go to.
enum ArmFiles {
    /// The run directory itself (the head).
    Root,
    /// A subdirectory named after the arm (the base).
    Sub(String),
}

/// What the numbers of this scenario can and cannot tell.
fn notes(s: &Scenario) -> Vec<String> {
    let mut notes = vec![
        "Formation, convergence and connect times come from the nodes' own event timestamps (unix ns, the runner's clock): resolution well under 1 ms; the error is the node's event-loop queueing delay. Polling only decides when to stop waiting.".to_owned(),
        "All nodes share this machine's cores and loopback: the numbers describe this machine under this load, not a real network. Compare runs only on the same environment fingerprint.".to_owned(),
        "CPU shares come from /proc clock ticks (10 ms), so idle CPU resolves to about 1 / idle.seconds % of a core.".to_owned(),
        "A single run reports levels, not a verdict: a regression verdict needs a comparison with a baseline or another revision.".to_owned(),
    ];
    if s.dht.is_some() && s.nodes <= 20 {
        notes.push(format!(
            "With {} nodes and Kademlia's replication factor 20, records are replicated to every node; most DHT gets are local-store hits (see dht_get_local_ratio), so dht_get_ms measures the lookup path, not network round trips.",
            s.nodes
        ));
    }
    notes
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_arms_alternate_abba() {
        let order: Vec<usize> = (0..4).flat_map(|round| abba_order(round, 2)).collect();
        assert_eq!(order, vec![0, 1, 1, 0, 0, 1, 1, 0]);
        assert_eq!(abba_order(3, 1), vec![0]);
    }

    #[test]
    fn cpu_share_is_a_mean_over_nodes_that_skips_vanished_ones() {
        let before = [Some(1.0), Some(2.0), None];
        let after = [Some(1.5), Some(2.1), Some(9.0)];
        // (0.5 + 0.1) / 2 nodes over 1 s = 30 % of a core.
        assert!((cpu_share_pct(&before, &after, 1.0) - 30.0).abs() < 1e-9);
        assert_eq!(cpu_share_pct(&[], &[], 1.0), 0.0);
    }
}
