//! The node's Prometheus registry: libp2p's own metrics plus the `p2p_*` names of the contract.
//!
//! One registry serves `/metrics`. Counter names are registered without `_total`;
//! prometheus-client appends it, as the exposition format requires.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// Labels of `p2p_dht_operation_seconds`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DhtOpLabels {
    /// `put` or `get`.
    pub op: &'static str,
    /// `ok`, `not_found`, `failed`.
    pub outcome: &'static str,
}

/// The contract's application-level metrics.
#[derive(Clone)]
pub struct NodeMetrics {
    /// Connected peers right now.
    pub peer_count: Gauge,
    /// Gossip messages this node published.
    pub messages_sent: Counter,
    /// Gossip messages this node received (each delivered once by gossipsub).
    pub messages_received: Counter,
    /// Publish-to-receive latency of received gossip messages, seconds.
    pub message_latency: Histogram,
    /// Duration of DHT operations started by this node, seconds.
    pub dht_operation: Family<DhtOpLabels, Histogram>,
    /// Peers disconnected because the node held more than `--max-peers`.
    pub peers_trimmed: Counter,
}

/// Histogram buckets from 50 µs to about 13 s, doubling: loopback latencies sit at the low end,
/// emulated WAN latencies and timeouts at the high end.
fn latency_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(50e-6, 2.0, 19)
}

impl NodeMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            peer_count: Gauge::default(),
            messages_sent: Counter::default(),
            messages_received: Counter::default(),
            message_latency: Histogram::new(latency_buckets()),
            dht_operation: Family::new_with_constructor(|| Histogram::new(latency_buckets())),
            peers_trimmed: Counter::default(),
        };
        // The design named this `p2p_peer_count`; Prometheus reserves the `_count` suffix for
        // histograms and summaries (promtool rejects it), so the gauge is `p2p_connected_peers`.
        registry.register(
            "p2p_connected_peers",
            "Connected peers",
            metrics.peer_count.clone(),
        );
        registry.register(
            "p2p_messages_sent",
            "Gossip messages published by this node",
            metrics.messages_sent.clone(),
        );
        registry.register(
            "p2p_messages_received",
            "Gossip messages received by this node",
            metrics.messages_received.clone(),
        );
        registry.register(
            "p2p_message_latency_seconds",
            "Gossip publish-to-receive latency in seconds",
            metrics.message_latency.clone(),
        );
        registry.register(
            "p2p_dht_operation_seconds",
            "Duration of DHT put and get operations started by this node, in seconds",
            metrics.dht_operation.clone(),
        );
        registry.register(
            "p2p_peers_trimmed",
            "Peers disconnected because the node held more than --max-peers",
            metrics.peers_trimmed.clone(),
        );
        metrics
    }

    /// Records the duration of one DHT operation.
    pub fn observe_dht(&self, op: &'static str, outcome: &'static str, seconds: f64) {
        self.dht_operation
            .get_or_create(&DhtOpLabels { op, outcome })
            .observe(seconds);
    }
}

/// Media type of the Prometheus text exposition format, version 0.0.4.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Media type of OpenMetrics text, what prometheus-client encodes natively.
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Rewrites OpenMetrics text (prometheus-client's encoding) as Prometheus text format 0.0.4.
///
/// The formats differ in three ways that matter to Prometheus-format parsers such as
/// `promtool check metrics`: OpenMetrics names a counter family without `_total` in `# HELP`
/// and `# TYPE` while its samples carry `_total`; it has `# UNIT` lines; it ends with `# EOF`.
/// prometheus-client has no Prometheus-format encoder, hence this small rewrite.
pub fn openmetrics_to_prometheus(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut pending_help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            // HELP precedes TYPE; hold it until TYPE says whether the name needs `_total`.
            let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
            pending_help = Some((name, text));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (name, kind) = match kind {
                "counter" if !name.ends_with("_total") => (format!("{name}_total"), "counter"),
                "unknown" => (name.to_owned(), "untyped"),
                "info" => (format!("{name}_info"), "gauge"),
                other => (name.to_owned(), other),
            };
            if let Some((help_name, text)) = pending_help.take()
                && name.starts_with(help_name)
            {
                out.push_str(&format!("# HELP {name} {text}\n"));
            }
            out.push_str(&format!("# TYPE {name} {kind}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_families_gain_total_and_footer_goes() {
        let om = "# HELP p2p_messages_sent Sent.\n# TYPE p2p_messages_sent counter\np2p_messages_sent_total 3\n\
                  # HELP rtt RTT.\n# TYPE rtt histogram\n# UNIT rtt seconds\nrtt_count 0\n# EOF\n";
        let prom = openmetrics_to_prometheus(om);
        assert_eq!(
            prom,
            "# HELP p2p_messages_sent_total Sent.\n# TYPE p2p_messages_sent_total counter\np2p_messages_sent_total 3\n\
             # HELP rtt RTT.\n# TYPE rtt histogram\nrtt_count 0\n"
        );
    }

    #[test]
    fn registered_metrics_encode_to_prometheus_names() {
        let mut registry = Registry::default();
        let metrics = NodeMetrics::register(&mut registry);
        metrics.messages_sent.inc();
        metrics.observe_dht("get", "ok", 0.001);
        let mut om = String::new();
        prometheus_client::encoding::text::encode(&mut om, &registry).unwrap();
        let prom = openmetrics_to_prometheus(&om);
        assert!(
            prom.contains("# TYPE p2p_messages_sent_total counter\np2p_messages_sent_total 1\n"),
            "{prom}"
        );
        assert!(
            prom.contains("p2p_dht_operation_seconds_count{op=\"get\",outcome=\"ok\"} 1"),
            "{prom}"
        );
        assert!(!prom.contains("# EOF"));
    }
}
