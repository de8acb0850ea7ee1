//! Gossip workload: publish at a fixed rate round-robin over nodes, then collect every delivery.
//!
//! Latency per (message, receiver) is the receiver's timestamp minus the send timestamp the
//! publisher put in the payload; both come from the same machine clock. Delivery and
//! duplicate ratios come from counting (message, receiver) pairs.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use crate::cluster::fan_out::each_node;
use serde_json::json;

use super::{Values, WorkloadError, exactly_once, insert_quantiles};
use crate::{cluster::Cluster, cluster::node_api::Received, scenario::GossipPhase};

/// How long after the last publish every delivery must have arrived.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs the phase. `tag` makes message ids unique per repetition.
pub async fn run(
    cluster: &mut Cluster,
    phase: &GossipPhase,
    tag: &str,
    raw: &mut Vec<serde_json::Value>,
) -> Result<Values, WorkloadError> {
    let n = cluster.nodes.len();
    let mut published = Vec::with_capacity(phase.messages);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / phase.rate_per_s));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for m in 0..phase.messages {
        ticker.tick().await;
        let publisher = m % n;
        let id = format!("{tag}-m{m}");
        let node = &cluster.nodes[publisher];
        let answer =
            node.api
                .publish(phase.size, &id)
                .await
                .map_err(|source| WorkloadError::Api {
                    index: publisher,
                    source,
                })?;
        published.push(exactly_once::Published {
            id,
            publisher,
            publisher_peer: node.peer_id().to_owned(),
            seq: answer.seq,
            published_ns: answer.sent_ns,
        });
    }

    // Wait until each node holds every message it did not publish itself, or time runs out
    // (lost messages are data, reported through the delivery ratio).
    let expected =
        |node: usize| phase.messages - (0..phase.messages).filter(|m| m % n == node).count();
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let received = loop {
        cluster.check_alive()?;
        let received = each_node(cluster.nodes.iter().enumerate().map(
            |(index, node)| async move {
                node.api
                    .received()
                    .await
                    .map_err(|source| WorkloadError::Api { index, source })
            },
        ))
        .await?;
        let complete = received
            .iter()
            .enumerate()
            .all(|(i, r)| distinct_ids(r, tag) >= expected(i));
        if complete || Instant::now() > deadline {
            break received;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut values = summarize(&received, phase.messages, tag, raw);
    // No faults in this phase: every node had to receive every message it did not publish.
    let report = exactly_once::check(&published, &received, tag, |_, _| true);
    if let Some(ratio) = report.delivery_ratio() {
        values.insert("gossip_exactly_once_ratio", ratio);
    }
    if !report.passed() {
        raw.push(json!({"phase": "gossip_exactly_once", "tag": tag, "report": report}));
    }
    Ok(values)
}

fn distinct_ids(received: &[Received], tag: &str) -> usize {
    let mut ids: Vec<&str> = received
        .iter()
        .filter(|r| r.id.starts_with(tag))
        .map(|r| r.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// Latency percentiles, delivery and duplicate ratios over every node's received list.
fn summarize(
    per_node: &[Vec<Received>],
    messages: usize,
    tag: &str,
    raw: &mut Vec<serde_json::Value>,
) -> Values {
    let n = per_node.len();
    let mut latencies_ms = Vec::new();
    let (mut deliveries, mut distinct) = (0usize, 0usize);
    for (node, received) in per_node.iter().enumerate() {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for r in received.iter().filter(|r| r.id.starts_with(tag)) {
            deliveries += 1;
            let count = seen.entry(r.id.as_str()).or_default();
            *count += 1;
            if *count == 1 {
                distinct += 1;
                latencies_ms.push(r.received_ns.saturating_sub(r.sent_ns) as f64 / 1e6);
            }
            raw.push(json!({"phase": "gossip", "id": r.id, "receiver": node, "publisher": r.publisher, "seq": r.seq,
                "latency_us": r.received_ns.saturating_sub(r.sent_ns) / 1000}));
        }
    }
    let mut values = Values::new();
    insert_quantiles(
        &mut values,
        &[
            ("gossip_latency_ms_p50", 0.5),
            ("gossip_latency_ms_p95", 0.95),
            ("gossip_latency_ms_p99", 0.99),
        ],
        &latencies_ms,
    );
    let possible = messages * n.saturating_sub(1);
    if possible > 0 {
        values.insert("gossip_delivery_ratio", distinct as f64 / possible as f64);
    }
    // Without a delivery there is nothing to be a duplicate: not measured, not 0.
    if deliveries > 0 {
        values.insert(
            "gossip_duplicate_ratio",
            (deliveries - distinct) as f64 / deliveries as f64,
        );
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, sent: u64, received: u64) -> Received {
        Received {
            id: id.into(),
            publisher: "p".into(),
            seq: 0,
            sent_ns: sent,
            received_ns: received,
        }
    }

    #[test]
    fn counts_deliveries_duplicates_and_losses() {
        // 2 messages, 3 nodes: 4 possible deliveries. One is lost, one is duplicated.
        let per_node = vec![
            vec![rec("t-m1", 0, 2_000_000)],
            vec![rec("t-m0", 0, 1_000_000), rec("t-m0", 0, 5_000_000)],
            vec![rec("t-m0", 0, 3_000_000), rec("other-m9", 0, 1)],
        ];
        let v = summarize(&per_node, 2, "t", &mut Vec::new());
        assert_eq!(v["gossip_delivery_ratio"], 0.75);
        assert_eq!(v["gossip_duplicate_ratio"], 0.25);
        assert_eq!(
            v["gossip_latency_ms_p50"], 2.0,
            "duplicates do not count as latency samples"
        );
    }

    #[test]
    fn without_deliveries_the_ratios_are_not_measured() {
        let v = summarize(
            &[vec![], vec![rec("other-m9", 0, 1)]],
            2,
            "t",
            &mut Vec::new(),
        );
        assert_eq!(
            v["gossip_delivery_ratio"], 0.0,
            "2 messages could have arrived"
        );
        assert!(!v.contains_key("gossip_duplicate_ratio"), "{v:?}");
        assert!(!v.contains_key("gossip_latency_ms_p50"), "{v:?}");
        let alone = summarize(&[vec![]], 2, "t", &mut Vec::new());
        assert!(
            alone.is_empty(),
            "a lone node can receive nothing: {alone:?}"
        );
    }
}
