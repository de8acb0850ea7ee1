//! The one clock runner and nodes share: the system real-time clock, in unix nanoseconds.
//!
//! Node event timestamps and the runner's own marks (first spawn, ready lines) are compared
//! directly, which is sound because every process runs on the same machine.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the unix epoch.
pub fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
