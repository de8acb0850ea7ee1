//! The record of one arm being built: samples per metric, raw records, failures, and the
//! summary rebuilt from them and written after every round into the round's staged directory,
//! which the scheduler then commits with every other arm's as one set (`data::output`): the
//! files of a round hold exactly the repetitions its `summary.json` counts.

use std::collections::BTreeMap;

use serde_json::json;

use crate::{
    Error,
    data::env::Fingerprint,
    data::metrics,
    data::output::{RunDir, write_atomic},
    data::summary::{Failure, MetricResult, RunSummary, SCHEMA_VERSION, ScenarioInfo},
    scenario::Scenario,
    stats::descriptive::summarize,
    workload::Values,
};

use super::{Arm, RunConfig, WriteFiles};

/// What has been measured so far, and how to write it.
pub(super) struct Record {
    /// Where this arm's files go: the run directory for the head, a subdirectory for the base.
    files: ArmFiles,
    summary: RunSummary,
    samples: BTreeMap<&'static str, Vec<(usize, f64)>>,
    raw: Vec<serde_json::Value>,
    pub(super) failures: Vec<Failure>,
    pub(super) gossip_latencies_ms: Vec<f64>,
}

impl Record {
    pub(super) fn new(config: &RunConfig, arm: &Arm) -> Self {
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
            // The task that picks the baseline by testbed fills this in (tasks::perf).
            testbed: None,
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
            breakdown: Vec::new(),
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

    pub(super) fn add(&mut self, repetition: usize, values: &Values, raw: Vec<serde_json::Value>) {
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
        // What a phase could not measure (a capability the nodes lack) is said once in the notes.
        for reason in raw.iter().filter_map(|r| r["not_measured"].as_str()) {
            if !self.summary.notes.iter().any(|n| n == reason) {
                self.summary.notes.push(reason.to_owned());
            }
        }
        self.raw.extend(raw.into_iter().map(|mut r| {
            r["repetition"] = json!(repetition);
            r
        }));
        self.summary.repetitions_done += 1;
    }

    /// Rebuilds the summary and writes every output file of this arm into `dir`, a staged round
    /// (the head's files at its top, the base's in `base/`).
    pub(super) fn write(
        &mut self,
        dir: &RunDir,
        complete: bool,
        write_files: WriteFiles,
    ) -> Result<RunSummary, Error> {
        let summary = &mut self.summary;
        summary.complete = complete;
        summary.finished_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        summary.failures = self.failures.clone();
        summary.breakdown = super::breakdown::breakdown(&self.raw);
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

/// Kademlia's default replication factor, what nodes use unless the scenario sets one.
const KADEMLIA_K: usize = 20;

/// What the numbers of this scenario can and cannot tell.
fn notes(s: &Scenario) -> Vec<String> {
    let mut notes = vec![
        "Formation, convergence and connect times come from the nodes' own event timestamps (unix ns, the runner's clock): resolution well under 1 ms; the error is the node's event-loop queueing delay. Polling only decides when to stop waiting.".to_owned(),
        "All nodes share this machine's cores and loopback: the numbers describe this machine under this load, not a real network. Compare runs only on the same environment fingerprint.".to_owned(),
        "CPU shares come from /proc clock ticks (10 ms), so idle CPU resolves to about 1 / idle.seconds % of a core.".to_owned(),
        "A single run reports levels, not a verdict: a regression verdict needs a comparison with a baseline or another revision.".to_owned(),
    ];
    if let Some(max) = s.formation.max_peers {
        notes.push(format!(
            "Every node keeps at most {max} peers (--max-peers): connections opened by lookups are closed 10 s after they opened, gossip mesh peers never. avg_peers is read when formation completes, before surplus connections close; DHT lookups dial the peers they ask, so lookups that reach beyond a node's connections pay for connection set-up (a QUIC or TCP handshake) as in a real network."
        ));
    }
    if s.node.current_thread {
        notes.push("Every node runs on one thread (--current-thread): with many nodes on few cores this saves memory and wake-ups; a node's latencies then include its own queueing behind one thread.".to_owned());
    }
    let cores = crate::measure::resources::available_cores();
    if s.nodes > 2 * cores {
        notes.push(format!(
            "{} nodes share {cores} cores: latencies include time waiting for a CPU (load_avg_1m says how many processes competed when formation completed), and runner_cpu_pct what the runner itself took. The numbers show how this machine copes with the network, not how the protocol would behave with a core per node.",
            s.nodes,
        ));
    }
    let niceness = crate::cluster::node_niceness(s.nodes, cores);
    if niceness > 0 {
        notes.push(format!(
            "With {} nodes on {cores} cores the nodes run at niceness {niceness} below the runner, so that a saturated machine slows the nodes rather than the runner's polling; the nodes still share the CPU equally among themselves.",
            s.nodes,
        ));
    }
    for group in &s.node_groups {
        notes.push(format!(
            "A mixed network: nodes {:?} run {}, the others the run's own node. Metrics over all nodes (memory, CPU, latency quantiles) mix implementations; the breakdown by implementation pair separates gossip latency, DHT get latency and private memory (information, not gated).",
            group.nodes, group.implementation
        ));
    }
    if let Some(dht) = &s.dht {
        let k = dht.replication_factor.unwrap_or(KADEMLIA_K);
        notes.push(if s.nodes <= k {
            format!(
                "With {} nodes and a replication factor of {k}, every record is replicated to every node, so a get's first request already reaches a peer holding it: dht_get_ms is a one-hop lookup (request, one round trip to a peer, answer), never the getter's own copy.",
                s.nodes
            )
        } else {
            format!(
                "Each record is stored on the {k} peers closest to its key out of {} nodes, so a lookup may walk several hops before a peer holding it answers; dht_get_peers_queried_p50/p95 count the Kademlia requests sent by then (α = 3 is one hop).",
                s.nodes
            )
        });
    }
    notes
}
