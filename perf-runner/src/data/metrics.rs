//! Metric definitions: every number in a report has one (DESIGN.md "Metrics").
//!
//! A metric is a name, a unit, a direction, a kind and a one-sentence definition. Workloads
//! produce values keyed by these names; reports look the definitions up here. Adding a metric
//! means adding a line to [`ALL`]; a test checks names are unique and documented.

use serde::{Deserialize, Serialize};

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Smaller values are better (latencies, memory).
    LowerIsBetter,
    /// Larger values are better (ratios, throughput).
    HigherIsBetter,
}

impl Direction {
    /// How much worse a relative `change` is in this direction (negative: better).
    pub fn worse_by(self, change: f64) -> f64 {
        match self {
            Direction::LowerIsBetter => change,
            Direction::HigherIsBetter => -change,
        }
    }
}

/// How a metric behaves, which decides how it is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A duration or rate measured on a noisy machine: compared with rank tests.
    Timing,
    /// A share in [0, 1].
    Ratio,
    /// Memory, CPU, bytes on the wire: noisy but not a time.
    Resource,
    /// The same for the same build: compared by plain threshold.
    Deterministic,
    /// Informational reference (e.g. raw loopback TCP), never gated.
    Reference,
}

/// One metric's definition.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MetricDef {
    /// Stable name, unit in the name.
    pub name: &'static str,
    /// Unit as printed.
    pub unit: &'static str,
    /// Better direction.
    pub direction: Direction,
    /// Comparison kind.
    pub kind: Kind,
    /// Whether a regression of this metric fails the gate (issue: statistics).
    pub gated: bool,
    /// What exactly is measured.
    pub definition: &'static str,
}

use Direction::{HigherIsBetter as Higher, LowerIsBetter as Lower};

const fn m(
    name: &'static str,
    unit: &'static str,
    direction: Direction,
    kind: Kind,
    gated: bool,
    definition: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        unit,
        direction,
        kind,
        gated,
        definition,
    }
}

/// Every metric swarmbench reports.
pub const ALL: &[MetricDef] = &[
    m(
        "formation_time_ms",
        "ms",
        Lower,
        Kind::Timing,
        true,
        "First node spawned until every node has at least the target number of peers connected and a gossip mesh of at least min(target, 5) peers; from node event timestamps",
    ),
    m(
        "discovery_ratio",
        "ratio",
        Higher,
        Kind::Ratio,
        true,
        "Mean over nodes of (peers in the node's Kademlia routing table) / (n - 1), at the end of formation",
    ),
    m(
        "avg_peers",
        "peers",
        Higher,
        Kind::Ratio,
        false,
        "Mean connected peers per node at the end of formation",
    ),
    m(
        "convergence_time_ms",
        "ms",
        Lower,
        Kind::Timing,
        false,
        "First node spawned until the last routing-table change of any node, observed through the end of the idle window",
    ),
    m(
        "connect_time_ms_p50",
        "ms",
        Lower,
        Kind::Timing,
        false,
        "Median over outbound connections during formation of dial start to connection established (transport handshake included), as timed by libp2p",
    ),
    m(
        "connect_time_ms_p95",
        "ms",
        Lower,
        Kind::Timing,
        false,
        "95th percentile of the same dial-to-established times",
    ),
    m(
        "dht_put_ms_p50",
        "ms",
        Lower,
        Kind::Timing,
        true,
        "Median over puts of the node-reported time from the request until one remote peer stored the record (quorum one), after the iterative lookup of the k = 20 closest peers",
    ),
    m(
        "dht_put_ms_p95",
        "ms",
        Lower,
        Kind::Timing,
        false,
        "95th percentile of DHT put times",
    ),
    m(
        "dht_put_ms_p99",
        "ms",
        Lower,
        Kind::Timing,
        false,
        "99th percentile of DHT put times",
    ),
    m(
        "dht_get_ms_p50",
        "ms",
        Lower,
        Kind::Timing,
        true,
        "Median over gets (each from a node other than the putter) of the node-reported time from the request to the first record received from a remote peer: a lookup over the network, never the getter's own store",
    ),
    m(
        "dht_get_ms_p95",
        "ms",
        Lower,
        Kind::Timing,
        false,
        "95th percentile of DHT get times (request to first remote record)",
    ),
    m(
        "dht_get_ms_p99",
        "ms",
        Lower,
        Kind::Timing,
        false,
        "99th percentile of DHT get times (request to first remote record)",
    ),
    m(
        "dht_get_success_ratio",
        "ratio",
        Higher,
        Kind::Ratio,
        true,
        "Gets that returned the value that was put, over all gets",
    ),
    m(
        "dht_get_local_ratio",
        "ratio",
        Higher,
        Kind::Reference,
        false,
        "Successful gets whose getter also held the record itself (replicated there by the put), over successful gets; information only: the lookup does not use that copy",
    ),
    m(
        "dht_get_peers_queried_p50",
        "requests",
        Lower,
        Kind::Reference,
        false,
        "Median over successful gets of the Kademlia requests the lookup had sent when the first remote record arrived (libp2p-kad QueryStats::num_requests): up to α = 3 for a one-hop lookup, more as a lookup walks towards the key in a network larger than the replication factor",
    ),
    m(
        "dht_get_peers_queried_p95",
        "requests",
        Lower,
        Kind::Reference,
        false,
        "95th percentile of the Kademlia requests a lookup had sent when the first remote record arrived: the multi-hop tail (more than α = 3 means the first peers asked did not hold the record)",
    ),
    m(
        "gossip_latency_ms_p50",
        "ms",
        Lower,
        Kind::Timing,
        true,
        "Median over (message, receiver) pairs of receive time minus the publisher's send time carried in the payload (same machine clock)",
    ),
    m(
        "gossip_latency_ms_p95",
        "ms",
        Lower,
        Kind::Timing,
        false,
        "95th percentile of gossip publish-to-receive latencies",
    ),
    m(
        "gossip_latency_ms_p99",
        "ms",
        Lower,
        Kind::Timing,
        false,
        "99th percentile of gossip publish-to-receive latencies",
    ),
    m(
        "gossip_delivery_ratio",
        "ratio",
        Higher,
        Kind::Ratio,
        true,
        "Distinct (message, receiver) pairs received over messages x (n - 1)",
    ),
    m(
        "gossip_duplicate_ratio",
        "ratio",
        Lower,
        Kind::Ratio,
        true,
        "Deliveries beyond the first of a (message, receiver) pair, over all deliveries",
    ),
    m(
        "recovery_time_ms",
        "ms",
        Lower,
        Kind::Timing,
        true,
        "[chaos] only: from the last heal until a gossip message published after it has reached every node (node timestamps) while every node has its target peer count again (polled every 200 ms)",
    ),
    m(
        "fault_delivery_ratio_during",
        "ratio",
        Higher,
        Kind::Ratio,
        true,
        "[chaos] only: of the messages published between the first fault and the heal, the share of (receiver, message) pairs delivered exactly once by the end of the phase plus a 10 s settle",
    ),
    m(
        "fault_delivery_ratio_after",
        "ratio",
        Higher,
        Kind::Ratio,
        true,
        "[chaos] only: the same for messages published after the heal",
    ),
    m(
        "gossip_exactly_once_ratio",
        "ratio",
        Higher,
        Kind::Ratio,
        true,
        "Share of (receiver, message) pairs that had to be delivered and arrived exactly once with the publisher's identity and sequence number; lost, duplicated and mismatched messages are listed by id in metrics.jsonl",
    ),
    m(
        "throughput_mbit_s",
        "Mbit/s",
        Higher,
        Kind::Timing,
        true,
        "Upload bytes x 8 / elapsed over the libp2p perf protocol between connected pairs, mean over pairs",
    ),
    m(
        "netem_loss_ratio",
        "ratio",
        Lower,
        Kind::Reference,
        false,
        "Network emulation over QUIC only: datagrams the userspace switch dropped (loss model and full rate-limit queues) over all datagrams it forwarded in the repetition; the loss the nodes actually faced",
    ),
    m(
        "netem_switch_cpu_us_per_1000_packets",
        "µs",
        Lower,
        Kind::Reference,
        false,
        "Network emulation only: CPU time of the switch thread per 1000 datagrams (QUIC) or stream chunks of up to 16 KiB (TCP proxy) forwarded, over the whole repetition (includes idle wake-ups)",
    ),
    m(
        "tcp_loopback_mbit_s",
        "Mbit/s",
        Higher,
        Kind::Reference,
        false,
        "Raw single-stream TCP over loopback in the same repetition, same byte count: the machine's ceiling",
    ),
    m(
        "throughput_share_of_tcp",
        "ratio",
        Higher,
        Kind::Ratio,
        false,
        "throughput_mbit_s / tcp_loopback_mbit_s of the same repetition: comparable across machines",
    ),
    m(
        "rss_idle_mb_mean",
        "MiB",
        Lower,
        Kind::Resource,
        true,
        "Mean over nodes of resident set size (VmRSS, /proc) at the end of the idle window",
    ),
    m(
        "rss_idle_mb_max",
        "MiB",
        Lower,
        Kind::Resource,
        false,
        "Largest node resident set size at the end of the idle window",
    ),
    m(
        "uss_idle_mb_mean",
        "MiB",
        Lower,
        Kind::Resource,
        false,
        "Mean over nodes of unique set size (private pages, /proc smaps_rollup) at the end of the idle window: the node's own memory, without the binary and library pages all nodes share",
    ),
    m(
        "rss_peak_mb",
        "MiB",
        Lower,
        Kind::Resource,
        false,
        "Largest node high-water resident set size (VmHWM, /proc) at the end of the repetition",
    ),
    m(
        "cpu_idle_pct",
        "% of a core",
        Lower,
        Kind::Resource,
        false,
        "Mean over nodes of CPU time (user + system, /proc) during the idle window over the window's measured length; the window opens `[idle] settle_s` after formation (0 s unless the scenario sets it: then the window still holds the nodes' post-formation lookups)",
    ),
    m(
        "runner_cpu_pct",
        "% of a core",
        Lower,
        Kind::Resource,
        false,
        "CPU time of the runner process itself (user + system, /proc/self: polling, the network switch, workload drivers) from the start of formation to the end of the phases, over that time: what measuring costs the machine the nodes share",
    ),
    m(
        "load_avg_1m",
        "processes",
        Lower,
        Kind::Resource,
        false,
        "The machine's 1-minute load average (/proc/loadavg) when formation completed: processes running or waiting for a CPU. Above the core count, latencies include time spent waiting for a CPU, not only the network",
    ),
    m(
        "cpu_load_pct",
        "% of a core",
        Lower,
        Kind::Resource,
        false,
        "Mean over nodes of CPU time during the DHT and gossip phases over their length",
    ),
    m(
        "bandwidth_sent_bytes_per_node",
        "bytes",
        Lower,
        Kind::Resource,
        false,
        "Mean over nodes of bytes sent (libp2p bandwidth counters) from start through the gossip phase; the throughput phase is excluded so protocol chattiness stays visible; not measured when a node's /metrics lacks libp2p_bandwidth_bytes_total",
    ),
    m(
        "bandwidth_received_bytes_per_node",
        "bytes",
        Lower,
        Kind::Resource,
        false,
        "Mean over nodes of bytes received over the same span",
    ),
    m(
        "binary_size_bytes",
        "bytes",
        Lower,
        Kind::Deterministic,
        true,
        "Size of the node binary file as run (stripped release build for swarm-node); not measured when the node is not an ELF or Mach-O executable (a script that starts it elsewhere)",
    ),
    m(
        "build_time_s",
        "s",
        Lower,
        Kind::Reference,
        false,
        "Wall time of the release build of the node after touching its main.rs (incremental); only with --measure-build",
    ),
];

/// Looks a metric up by name.
pub fn definition(name: &str) -> Option<&'static MetricDef> {
    ALL.iter()
        .find(|m| m.name == name)
        .or_else(|| bench_definition(name))
}

/// Micro-benchmark metrics are named `bench.<case>.<measure>`; one definition per measure.
pub const BENCH: &[MetricDef] = &[
    m(
        "bench.*.instructions",
        "instructions",
        Lower,
        Kind::Deterministic,
        true,
        "Instructions executed by one call of the micro-benchmark case, setup excluded (valgrind callgrind's Ir, via iai-callgrind); the same for the same binary and input on any machine",
    ),
    m(
        "bench.*.estimated_cycles",
        "cycles",
        Lower,
        Kind::Deterministic,
        false,
        "iai-callgrind's cycle estimate from callgrind's cache simulation (L1 hits + 5 × LL hits + 35 × RAM hits): a model of a generic cache, not a measurement of this CPU",
    ),
    m(
        "bench.*.time_ns",
        "ns",
        Lower,
        Kind::Timing,
        // Not gated: two criterion runs of the same build on the 2-core dev machine differed by
        // −48 % … +66 % (README), far beyond the within-run noise the rank tests see.
        false,
        "Wall time of one call of the micro-benchmark case (criterion): one value per criterion sample, its total time divided by its iterations; compared with rank tests and reported, but not gated, because the drift between two runs is larger than the noise within one",
    ),
];

fn bench_definition(name: &str) -> Option<&'static MetricDef> {
    let rest = name.strip_prefix("bench.")?;
    let (case, measure) = rest.rsplit_once('.')?;
    if case.is_empty() {
        return None;
    }
    BENCH
        .iter()
        .find(|d| d.name.rsplit_once('.').is_some_and(|(_, m)| m == measure))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_metrics_are_defined_by_their_measure() {
        let d = definition("bench.gossip_payload_decode.instructions").unwrap();
        assert_eq!(
            (d.kind, d.gated, d.unit),
            (Kind::Deterministic, true, "instructions")
        );
        assert_eq!(definition("bench.x.time_ns").unwrap().kind, Kind::Timing);
        assert!(!definition("bench.x.time_ns").unwrap().gated);
        assert!(!definition("bench.x.estimated_cycles").unwrap().gated);
        assert!(definition("bench..instructions").is_none());
        assert!(definition("bench.x.bogus").is_none());
        assert!(definition("other.x.instructions").is_none());
    }

    #[test]
    fn names_are_unique_documented_and_carry_units() {
        let mut names = std::collections::HashSet::new();
        for def in ALL {
            assert!(names.insert(def.name), "duplicate {}", def.name);
            assert!(
                !def.unit.is_empty() && def.definition.len() > 20,
                "{} needs a unit and a definition",
                def.name
            );
            assert!(
                def.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            );
        }
    }

    #[test]
    fn every_design_metric_is_defined() {
        for name in [
            "formation_time_ms",
            "discovery_ratio",
            "avg_peers",
            "convergence_time_ms",
            "dht_get_success_ratio",
            "gossip_delivery_ratio",
            "gossip_duplicate_ratio",
            "throughput_mbit_s",
            "rss_idle_mb_mean",
            "rss_peak_mb",
            "cpu_idle_pct",
            "cpu_load_pct",
            "binary_size_bytes",
            "build_time_s",
            "connect_time_ms_p50",
        ] {
            assert!(definition(name).is_some(), "{name}");
        }
    }
}
