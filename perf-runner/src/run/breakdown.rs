//! A mixed network's latencies per implementation pair, from the raw records of every measured
//! repetition: gossip latency from the publisher's implementation to the receiver's, DHT get
//! latency by the implementation of the node that answered and of the getter.
//!
//! Each repetition of a mixed network records which node runs which implementation (a
//! `"phase": "nodes"` record, `run::repetition`); its gossip deliveries name the receiver by
//! index and the publisher by peer id, its gets the getter by index and the answering peer by
//! peer id. Only first deliveries count (as in `gossip_latency_ms_*`) and only correct gets
//! answered by a remote peer (as in `dht_get_ms_*`). Each node's private memory after the idle
//! window (`"phase": "idle_memory"`) goes by its implementation alone, since the mean of
//! `uss_idle_mb_mean` mixes them. Information only: nothing here is gated.
//! A run without that record (a single implementation) has no breakdown.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::{data::summary::PairStat, stats::descriptive::quantile};

/// The breakdown of `raw`, every record carrying its `repetition`; empty when no repetition
/// recorded its nodes' implementations.
pub(super) fn breakdown(raw: &[Value]) -> Vec<PairStat> {
    // Per repetition: node index → implementation, peer id → implementation.
    let mut by_index: HashMap<u64, HashMap<u64, String>> = HashMap::new();
    let mut by_peer: HashMap<u64, HashMap<String, String>> = HashMap::new();
    for record in raw.iter().filter(|r| r["phase"] == "nodes") {
        let repetition = record["repetition"].as_u64().unwrap_or(0);
        for node in record["nodes"].as_array().into_iter().flatten() {
            let (Some(index), Some(peer), Some(implementation)) = (
                node["index"].as_u64(),
                node["peer_id"].as_str(),
                node["implementation"].as_str(),
            ) else {
                continue;
            };
            by_index
                .entry(repetition)
                .or_default()
                .insert(index, implementation.to_owned());
            by_peer
                .entry(repetition)
                .or_default()
                .insert(peer.to_owned(), implementation.to_owned());
        }
    }
    if by_index.is_empty() {
        return Vec::new();
    }
    let index_impl = |repetition: u64, index: &Value| {
        by_index
            .get(&repetition)?
            .get(&index.as_u64()?)
            .map(String::as_str)
    };
    let peer_impl = |repetition: u64, peer: &Value| {
        by_peer
            .get(&repetition)?
            .get(peer.as_str()?)
            .map(String::as_str)
    };
    let mut samples: BTreeMap<(&'static str, &str, &str), Vec<f64>> = BTreeMap::new();
    let mut delivered: HashSet<(u64, u64, &str)> = HashSet::new();
    for r in raw {
        let repetition = r["repetition"].as_u64().unwrap_or(0);
        if r["phase"] == "gossip" {
            let (Some(receiver), Some(id), Some(latency_us)) = (
                r["receiver"].as_u64(),
                r["id"].as_str(),
                r["latency_us"].as_f64(),
            ) else {
                continue;
            };
            // A duplicate is no latency sample.
            if !delivered.insert((repetition, receiver, id)) {
                continue;
            }
            let (Some(from), Some(to)) = (
                peer_impl(repetition, &r["publisher"]),
                index_impl(repetition, &r["receiver"]),
            ) else {
                continue;
            };
            samples
                .entry((GOSSIP, from, to))
                .or_default()
                .push(latency_us / 1000.0);
        } else if r["phase"] == "idle_memory" {
            for (index, uss) in r["uss_mb"].as_array().into_iter().flatten().enumerate() {
                let (Some(of), Some(mb)) =
                    (index_impl(repetition, &Value::from(index)), uss.as_f64())
                else {
                    continue;
                };
                samples.entry((USS, of, "")).or_default().push(mb);
            }
        } else if r["phase"] == "dht" && r["op"] == "get" && r["correct"] == true {
            let (Some(from), Some(to), Some(elapsed_us)) = (
                peer_impl(repetition, &r["from"]),
                index_impl(repetition, &r["node"]),
                r["elapsed_us"].as_f64(),
            ) else {
                continue;
            };
            samples
                .entry((DHT_GET, from, to))
                .or_default()
                .push(elapsed_us / 1000.0);
        }
    }
    samples
        .into_iter()
        .filter_map(|((metric, from, to), values)| {
            Some(PairStat {
                metric: metric.into(),
                from: from.into(),
                to: to.into(),
                p50: quantile(&values, 0.5)?,
                p99: quantile(&values, 0.99)?,
                n: values.len(),
                unit: if metric == USS { "MiB" } else { "ms" }.into(),
            })
        })
        .collect()
}

/// The breakdown's metric names: the per-repetition metrics they break down, without quantile.
const GOSSIP: &str = "gossip_latency_ms";
const DHT_GET: &str = "dht_get_ms";
/// Per node, by its implementation alone.
const USS: &str = "uss_idle_mb";

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn nodes(repetition: u64, implementations: &[&str]) -> Value {
        let nodes: Vec<Value> = implementations
            .iter()
            .enumerate()
            .map(|(i, name)| json!({"index": i, "peer_id": format!("p{repetition}-{i}"), "implementation": name}))
            .collect();
        json!({"phase": "nodes", "nodes": nodes, "repetition": repetition})
    }

    fn delivery(repetition: u64, id: &str, publisher: usize, receiver: usize, us: u64) -> Value {
        json!({"phase": "gossip", "id": id, "receiver": receiver,
            "publisher": format!("p{repetition}-{publisher}"), "seq": 0, "latency_us": us, "repetition": repetition})
    }

    fn get(repetition: u64, getter: usize, from: Option<usize>, us: u64, correct: bool) -> Value {
        json!({"phase": "dht", "op": "get", "key": "k", "node": getter, "elapsed_us": us, "correct": correct,
            "from": from.map(|f| format!("p{repetition}-{f}")), "repetition": repetition})
    }

    fn row<'a>(rows: &'a [PairStat], metric: &str, from: &str, to: &str) -> &'a PairStat {
        rows.iter()
            .find(|r| r.metric == metric && r.from == from && r.to == to)
            .unwrap_or_else(|| panic!("no {metric} {from} → {to} in {rows:?}"))
    }

    #[test]
    fn gossip_and_gets_are_grouped_by_implementation_pair_over_repetitions() {
        let impls = ["swarm-node", "swarm-node", "js-libp2p"];
        let raw = vec![
            nodes(0, &impls),
            // swarm → js, twice over two repetitions; a duplicate does not count.
            delivery(0, "a", 0, 2, 2_000),
            delivery(0, "a", 0, 2, 9_000),
            // js → swarm.
            delivery(0, "b", 2, 0, 4_000),
            delivery(0, "b", 2, 1, 6_000),
            // swarm → swarm.
            delivery(0, "a", 0, 1, 1_000),
            // Gets: answered by js for a swarm getter; a local answer and a wrong value are
            // not lookups.
            get(0, 0, Some(2), 3_000, true),
            get(0, 1, None, 1, true),
            get(0, 1, Some(2), 50_000, false),
            get(0, 2, Some(0), 1_500, true),
            json!({"phase": "dht", "op": "get", "key": "k", "node": 1, "error": "404", "repetition": 0}),
            json!({"phase": "idle_memory", "uss_mb": [3.0, 5.0, 40.0], "repetition": 0}),
            nodes(1, &impls),
            delivery(1, "c", 1, 2, 4_000),
            json!({"phase": "idle_memory", "uss_mb": [4.0, null, 50.0], "repetition": 1}),
        ];
        let rows = breakdown(&raw);
        let swarm_js = row(&rows, GOSSIP, "swarm-node", "js-libp2p");
        assert_eq!((swarm_js.n, swarm_js.p50), (2, 3.0));
        assert_eq!(swarm_js.unit, "ms");
        let js_swarm = row(&rows, GOSSIP, "js-libp2p", "swarm-node");
        assert_eq!((js_swarm.n, js_swarm.p50), (2, 5.0));
        assert!(js_swarm.p99 > 5.9 && js_swarm.p99 <= 6.0, "{js_swarm:?}");
        assert_eq!(row(&rows, GOSSIP, "swarm-node", "swarm-node").n, 1);
        let answered_by_js = row(&rows, DHT_GET, "js-libp2p", "swarm-node");
        assert_eq!((answered_by_js.n, answered_by_js.p50), (1, 3.0));
        assert_eq!(row(&rows, DHT_GET, "swarm-node", "js-libp2p").p50, 1.5);
        let js_memory = row(&rows, USS, "js-libp2p", "");
        assert_eq!(
            (js_memory.n, js_memory.p50, js_memory.unit.as_str()),
            (2, 45.0, "MiB")
        );
        assert_eq!(
            row(&rows, USS, "swarm-node", "").n,
            3,
            "a node without a reading is left out"
        );
        assert_eq!(rows.len(), 7, "{rows:?}");
    }

    #[test]
    fn a_single_implementation_run_has_no_breakdown() {
        let raw = vec![
            delivery(0, "a", 0, 1, 1_000),
            get(0, 0, Some(1), 1_000, true),
        ];
        assert!(breakdown(&raw).is_empty());
    }
}
