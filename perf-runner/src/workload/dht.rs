//! DHT workload: puts round-robin over nodes, then gets of those keys from other nodes.
//!
//! Latencies are the node-reported `elapsed_us` (lookup start to first record), so HTTP
//! overhead is excluded. With Kademlia's replication factor of 20, in networks of up to ~20
//! nodes every record is replicated to every node and gets are local hits;
//! `dht_get_local_ratio` reports how many, so the number is never mistaken for a network lookup.

use futures::{StreamExt, TryStreamExt, stream};
use serde_json::json;

use super::{Values, WorkloadError, insert_quantiles};
use crate::{
    cluster::{Cluster, node_api::ApiError},
    scenario::DhtPhase,
};

/// Runs the phase. `tag` makes keys unique per repetition.
pub async fn run(
    cluster: &Cluster,
    phase: &DhtPhase,
    tag: &str,
    raw: &mut Vec<serde_json::Value>,
) -> Result<Values, WorkloadError> {
    let n = cluster.nodes.len();
    let value = "v".repeat(phase.value_size);
    let puts = puts(cluster, phase, tag, &value).await?;
    let put_ms: Vec<f64> = puts.iter().map(|&(_, us)| us as f64 / 1000.0).collect();
    for &(i, us) in &puts {
        raw.push(json!({"phase": "dht", "op": "put", "key": format!("{tag}-k{i}"), "node": i % n, "elapsed_us": us}));
    }
    let gets = tally(gets(cluster, phase, tag, &value).await?, raw);
    Ok(summarise(phase, &put_ms, &gets))
}

/// One get's outcome: (get index, getting node, key, (value correct, local hit, elapsed µs)).
type GetResult = (usize, usize, String, Result<(bool, bool, u64), ApiError>);

/// Puts `phase.puts` records round-robin over the nodes; returns (put index, elapsed µs).
/// The first failed put ends the phase and cancels the puts in flight.
async fn puts(
    cluster: &Cluster,
    phase: &DhtPhase,
    tag: &str,
    value: &str,
) -> Result<Vec<(usize, u64)>, WorkloadError> {
    let n = cluster.nodes.len();
    stream::iter(0..phase.puts)
        .map(|i| {
            let node = &cluster.nodes[i % n];
            let key = format!("{tag}-k{i}");
            async move {
                node.api
                    .dht_put(&key, value)
                    .await
                    .map(|us| (i, us))
                    .map_err(|source| WorkloadError::Api {
                        index: i % n,
                        source,
                    })
            }
        })
        .buffer_unordered(phase.concurrency)
        .try_collect()
        .await
}

/// Gets `phase.gets` of the put keys, each from a node other than its putter. A lookup that
/// finds nothing or times out (404, 504) is a measured failure, kept in the results; any
/// other error ends the phase and cancels the gets in flight.
async fn gets(
    cluster: &Cluster,
    phase: &DhtPhase,
    tag: &str,
    value: &str,
) -> Result<Vec<GetResult>, WorkloadError> {
    let n = cluster.nodes.len();
    stream::iter(0..phase.gets)
        .map(|j| {
            let key_index = j % phase.puts;
            let putter = key_index % n;
            // Never the putter: spread gets over the other nodes.
            let getter = (putter + 1 + (j / phase.puts) % (n - 1)) % n;
            let key = format!("{tag}-k{key_index}");
            let node = &cluster.nodes[getter];
            async move {
                let result = match node.api.dht_get(&key).await {
                    Ok(g) => Ok((g.value == *value, g.from.is_none(), g.elapsed_us)),
                    Err(e) if matches!(e.status(), Some(404 | 504)) => Err(e),
                    Err(source) => {
                        return Err(WorkloadError::Api {
                            index: getter,
                            source,
                        });
                    }
                };
                Ok((j, getter, key, result))
            }
        })
        .buffer_unordered(phase.concurrency)
        .try_collect()
        .await
}

/// What the gets found.
struct Gets {
    /// Latency of each correct get, ms.
    ms: Vec<f64>,
    /// Gets that returned the right value.
    ok: usize,
    /// Of those, local-store hits.
    local: usize,
}

/// Counts the gets and records each in `raw`, failures (not found, timed out) included.
fn tally(gets: Vec<GetResult>, raw: &mut Vec<serde_json::Value>) -> Gets {
    let mut get_ms = Vec::new();
    let (mut ok, mut local) = (0usize, 0usize);
    for (j, getter, key, result) in gets {
        match result {
            Ok((correct, is_local, us)) => {
                raw.push(json!({"phase": "dht", "op": "get", "key": key, "node": getter, "elapsed_us": us, "correct": correct, "local": is_local}));
                if correct {
                    ok += 1;
                    local += usize::from(is_local);
                    get_ms.push(us as f64 / 1000.0);
                }
            }
            Err(e) => {
                raw.push(json!({"phase": "dht", "op": "get", "key": key, "node": getter, "error": e.to_string(), "index": j}));
            }
        }
    }
    Gets {
        ms: get_ms,
        ok,
        local,
    }
}

/// Put and get percentiles, the get success ratio and the share of local hits.
fn summarise(phase: &DhtPhase, put_ms: &[f64], gets: &Gets) -> Values {
    let mut values = Values::new();
    insert_quantiles(
        &mut values,
        &[
            ("dht_put_ms_p50", 0.5),
            ("dht_put_ms_p95", 0.95),
            ("dht_put_ms_p99", 0.99),
        ],
        put_ms,
    );
    insert_quantiles(
        &mut values,
        &[
            ("dht_get_ms_p50", 0.5),
            ("dht_get_ms_p95", 0.95),
            ("dht_get_ms_p99", 0.99),
        ],
        &gets.ms,
    );
    if phase.gets > 0 {
        values.insert("dht_get_success_ratio", gets.ok as f64 / phase.gets as f64);
    }
    if gets.ok > 0 {
        values.insert("dht_get_local_ratio", gets.local as f64 / gets.ok as f64);
    }
    values
}
