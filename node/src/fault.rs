//! Deliberate slowdown of one hot path, for validating the regression gate.
//!
//! Only the `fault-injection` cargo feature makes the delay configurable; in the default build
//! `inject_delay` compiles to nothing, so the measured binary carries no trace of it.
//! The delay is a busy wait, not a sleep: it models slower code (CPU time on the event loop),
//! and a spin is accurate to about a microsecond where a sleep is not.

#[cfg(feature = "fault-injection")]
static DELAY_US: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sets the delay applied to each gossip message and DHT request handled.
#[cfg(feature = "fault-injection")]
pub fn set_delay_us(us: u64) {
    DELAY_US.store(us, std::sync::atomic::Ordering::Relaxed);
}

/// Spins for the configured delay. A no-op unless built with `fault-injection`.
#[inline]
pub fn inject_delay() {
    #[cfg(feature = "fault-injection")]
    {
        let us = DELAY_US.load(std::sync::atomic::Ordering::Relaxed);
        if us > 0 {
            let until = std::time::Instant::now() + std::time::Duration::from_micros(us);
            while std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
        }
    }
}
