//! Noise and threshold of one metric: how much a change must exceed before it counts.

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

/// The threshold of metric `name`: `--threshold`, else the scenario's, else the plain one of
/// a deterministic metric or max(minimum, multiplier × noise) for a statistical one.
pub(super) fn threshold(config: &GateConfig, name: &str, kind: Kind, noise: Option<f64>) -> f64 {
    config
        .global
        .or_else(|| config.overrides.get(name).copied())
        .unwrap_or(match kind {
            Kind::Deterministic => config.deterministic_threshold,
            _ => config
                .min_threshold
                .max(config.noise_multiplier * noise.unwrap_or(0.0)),
        })
}
