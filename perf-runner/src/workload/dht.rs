//! DHT workload: puts round-robin over nodes, then gets of those keys from other nodes.
//!
//! A get measures a lookup over the network: under the node contract the getter does not answer
//! from its own store, and the latency is the node-reported `elapsed_us` from the request to the
//! first record received from a remote peer (HTTP overhead excluded). With Kademlia's
//! replication factor of 20, in networks of up to ~20 nodes the put replicates every record to
//! every node, so the first peer asked already holds it: a one-hop lookup.
//! `dht_get_peers_queried_p50`/`_p95` say how far lookups had to go; `dht_get_local_ratio` how often
//! the getter held the record anyway (information only).

use futures::{StreamExt, TryStreamExt, stream};
use serde_json::json;

use super::{Values, WorkloadError, insert_quantiles};
use crate::{
    cluster::{
        Cluster,
        node_api::{ApiError, DhtGet},
    },
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
    let gets = tally(gets(cluster, phase, tag).await?, &value, raw);
    Ok(summarise(phase, &put_ms, &gets))
}

/// One get's outcome: (get index, getting node, key, what it found).
type GetResult = (usize, usize, String, Result<DhtGet, ApiError>);

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
                    Ok(found) => Ok(found),
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
#[derive(Default)]
struct Gets {
    /// Latency of each correct get answered by a remote peer, ms.
    ms: Vec<f64>,
    /// Kademlia requests each of those had sent, where the node reports it.
    peers_queried: Vec<f64>,
    /// Gets that returned the right value.
    ok: usize,
    /// Of those, answered from the getter's own store (`from` null): no lookup latency.
    answered_locally: usize,
    /// Of those, how many say whether the getter held the record, and how many did.
    local_reported: usize,
    local_held: usize,
}

/// Counts the gets and records each in `raw`, failures (not found, timed out) included.
fn tally(gets: Vec<GetResult>, value: &str, raw: &mut Vec<serde_json::Value>) -> Gets {
    let mut tally = Gets::default();
    for (j, getter, key, result) in gets {
        let found = match result {
            Ok(found) => found,
            Err(e) => {
                raw.push(json!({"phase": "dht", "op": "get", "key": key, "node": getter, "error": e.to_string(), "index": j}));
                continue;
            }
        };
        let correct = found.value == value;
        raw.push(json!({"phase": "dht", "op": "get", "key": key, "node": getter, "elapsed_us": found.elapsed_us, "correct": correct, "from": found.from, "local_hit": found.local_hit, "peers_queried": found.peers_queried}));
        if !correct {
            continue;
        }
        tally.ok += 1;
        if let Some(held) = found.local_hit {
            tally.local_reported += 1;
            tally.local_held += usize::from(held);
        }
        if found.from.is_none() {
            tally.answered_locally += 1;
            continue;
        }
        tally.ms.push(found.elapsed_us as f64 / 1000.0);
        if let Some(queried) = found.peers_queried {
            tally.peers_queried.push(f64::from(queried));
        }
    }
    tally
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
    // Only when every remote answer said how many peers it asked: a partial count would
    // describe a subset.
    if !gets.peers_queried.is_empty() && gets.peers_queried.len() == gets.ms.len() {
        insert_quantiles(
            &mut values,
            &[
                ("dht_get_peers_queried_p50", 0.5),
                ("dht_get_peers_queried_p95", 0.95),
            ],
            &gets.peers_queried,
        );
    }
    if phase.gets > 0 {
        values.insert("dht_get_success_ratio", gets.ok as f64 / phase.gets as f64);
    }
    // Held by the getter: what its node says, or, for an implementation that answers from its
    // own store (`from` null) and does not say, those answers.
    if gets.ok > 0 {
        let held = if gets.local_reported == gets.ok {
            Some(gets.local_held)
        } else if gets.local_reported == 0 {
            Some(gets.answered_locally)
        } else {
            None
        };
        if let Some(held) = held {
            values.insert("dht_get_local_ratio", held as f64 / gets.ok as f64);
        }
    }
    values
}
