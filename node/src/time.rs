//! Wall-clock timestamps shared by publisher and receivers.
//!
//! Gossip latency is measured as `received_ns - sent_ns` across processes on the same machine,
//! so both ends must read the same clock: the system real-time clock in unix nanoseconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the unix epoch, read from the system real-time clock.
pub fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
