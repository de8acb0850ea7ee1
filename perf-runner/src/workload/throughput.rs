//! Throughput over the libp2p perf protocol, with raw loopback TCP measured alongside.
//!
//! An absolute Mbit/s says more about the machine than about the node, so every repetition
//! also moves the same bytes over a plain TCP socket and reports the ratio.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    time::Instant,
};

use serde_json::json;

use super::{Values, WorkloadError};
use crate::{cluster::Cluster, scenario::ThroughputPhase};

/// Runs the phase: `pairs` transfers, one after another, each from node `p % n` to a peer it
/// is connected to.
pub async fn run(
    cluster: &Cluster,
    phase: &ThroughputPhase,
    raw: &mut Vec<serde_json::Value>,
) -> Result<Values, WorkloadError> {
    let n = cluster.nodes.len();
    let mut rates = Vec::new();
    for p in 0..phase.pairs {
        let client = p % n;
        let api = &cluster.nodes[client].api;
        let peers = api.peers().await.map_err(|source| WorkloadError::Api {
            index: client,
            source,
        })?;
        let mut peers = peers;
        peers.sort();
        let Some(server) = peers.get(p / n % peers.len().max(1)).cloned() else {
            return Err(WorkloadError::Timeout(format!(
                "node {client} has no connected peer for the throughput phase"
            )));
        };
        let elapsed_us = api
            .perf_upload(&server, phase.bytes)
            .await
            .map_err(|source| WorkloadError::Api {
                index: client,
                source,
            })?;
        // A node that reports 0 µs did not time the transfer: no rate, rather than bytes / 1 µs.
        let mbit_s = mbit_per_s(phase.bytes, elapsed_us);
        raw.push(json!({"phase": "throughput", "client": client, "server": server, "bytes": phase.bytes, "elapsed_us": elapsed_us, "mbit_s": mbit_s}));
        rates.extend(mbit_s);
    }
    let bytes = phase.bytes;
    let tcp = tokio::task::spawn_blocking(move || raw_tcp_mbit_s(bytes))
        .await
        .map_err(|e| WorkloadError::Timeout(format!("raw TCP reference panicked: {e}")))?
        .map_err(|e| WorkloadError::Timeout(format!("raw TCP reference failed: {e}")))?;
    raw.push(
        json!({"phase": "throughput", "reference": "tcp_loopback", "bytes": bytes, "mbit_s": tcp}),
    );

    let mut values = Values::new();
    values.insert("tcp_loopback_mbit_s", tcp);
    // No mean when no node timed its transfer.
    if let Some(mean) = crate::stats::descriptive::mean(&rates) {
        values.insert("throughput_mbit_s", mean);
        if tcp > 0.0 {
            values.insert("throughput_share_of_tcp", mean / tcp);
        }
    }
    Ok(values)
}

/// Bits per microsecond, which is megabits per second; `None` for no elapsed time, which is
/// no measurement.
fn mbit_per_s(bytes: u64, elapsed_us: u64) -> Option<f64> {
    (elapsed_us > 0).then(|| bytes as f64 * 8.0 / elapsed_us as f64)
}

/// Sends `bytes` over one loopback TCP connection; Mbit/s from connect to the last byte read.
pub fn raw_tcp_mbit_s(bytes: u64) -> std::io::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let reader = std::thread::spawn(move || -> std::io::Result<u64> {
        let (mut socket, _) = listener.accept()?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            match socket.read(&mut buf)? {
                0 => return Ok(total),
                k => total += k as u64,
            }
        }
    });
    let started = Instant::now();
    let mut socket = TcpStream::connect(addr)?;
    let chunk = vec![0u8; 256 * 1024];
    let mut left = bytes;
    while left > 0 {
        let k = left.min(chunk.len() as u64) as usize;
        socket.write_all(&chunk[..k])?;
        left -= k as u64;
    }
    socket.shutdown(std::net::Shutdown::Write)?;
    let received = reader
        .join()
        .map_err(|_| std::io::Error::other("reader thread panicked"))??;
    let elapsed = started.elapsed();
    if received != bytes {
        return Err(std::io::Error::other(format!(
            "sent {bytes} bytes, {received} arrived"
        )));
    }
    mbit_per_s(bytes, elapsed.as_micros() as u64).ok_or_else(|| {
        std::io::Error::other(format!("{bytes} bytes arrived in under a microsecond"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_tcp_moves_every_byte() {
        let rate = raw_tcp_mbit_s(1 << 20).unwrap();
        assert!(rate > 0.0 && rate.is_finite());
    }

    #[test]
    fn unit_conversion() {
        assert_eq!(mbit_per_s(1_000_000, 8_000), Some(1000.0));
        assert_eq!(mbit_per_s(1_000_000, 0), None);
    }
}
