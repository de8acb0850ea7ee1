//! Userspace network emulation: works on any Linux without privileges, netem or docker.
//!
//! [`switch`] forwards every node's UDP traffic (QUIC) through one public socket per node and
//! applies per-link [`rules`]: delay, jitter (never reordering), uniform or Gilbert–Elliott
//! loss, a token-bucket rate cap with a bounded queue, partitions and corruption. The same
//! public port takes TCP: `proxy` forwards each connection with delay, jitter, the rate cap
//! and partitions (held, not dropped).
//!
//! What it cannot emulate compared with kernel netem: it sees datagrams, not the kernel's
//! queues, so loopback's own buffering and the switch's scheduling (its thread shares the
//! machine's cores with the nodes) add their own latency, typically tens of microseconds and
//! more under load; timers resolve to about a millisecond, so delays are accurate to ~1 ms,
//! not microseconds; the TCP proxy terminates each connection, so TCP's own reaction to loss
//! (retransmission, congestion control) cannot be emulated, and the delay does not stretch
//! the end-to-end round trip that TCP's window sees; no duplication or reordering on purpose.

pub mod rules;
mod shared;
mod proxy;
pub mod switch;

pub use rules::{LinkRules, Loss};
pub use shared::{LinkStats, SwitchStats};
pub use switch::Switch;
