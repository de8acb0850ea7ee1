//! Noise and threshold of one metric: the change that counts, and how noisy the base is.
//!
//! The threshold is an effect size, the change worth blocking a pull request for (default 5 %),
//! never a multiple of the noise: noise decides how many samples a verdict needs, not what
//! counts. A noisy metric therefore ends "inconclusive" until enough pairs are measured,
//! instead of hiding every change below twice its noise behind "unchanged".

use crate::data::metrics::Kind;

use super::GateConfig;

/// The base side's relative noise: the robust standard deviation of its log samples, when
/// every sample on both sides is positive.
pub(super) fn noise(base: &[f64], positive: bool) -> Option<f64> {
    let log_base: Vec<f64> = base.iter().map(|v| v.ln()).collect();
    if positive {
        crate::stats::power::robust_sd(&log_base)
    } else {
        None
    }
}

/// The threshold of metric `name`: `--threshold`, else the scenario's `[thresholds]`, else the
/// default of its kind.
pub(super) fn threshold(config: &GateConfig, name: &str, kind: Kind) -> f64 {
    config
        .global
        .or_else(|| config.overrides.get(name).copied())
        .unwrap_or(match kind {
            Kind::Deterministic => config.deterministic_threshold,
            _ => config.threshold,
        })
}
