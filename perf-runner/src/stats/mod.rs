//! Statistics: small, exact and tested. No IO, and no knowledge of metric names.
//!
//! Everything here works on plain `&[f64]` samples and returns `None` (never panics) when a
//! sample is too thin to say anything. Distributions come from `statrs`; the rank tests,
//! estimators and resampling are written out here, each citing its source.

pub mod bootstrap;
pub mod change_point;
pub mod descriptive;
pub mod hodges_lehmann;
pub mod holm;
pub mod mann_whitney;
pub mod power;
pub mod proportion;
pub mod rank;
pub mod sessions;
pub mod spending;
pub mod wilcoxon;

/// Which way a one-sided test looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// The first sample (or the paired differences) tends to be larger.
    Greater,
    /// The first sample (or the paired differences) tends to be smaller.
    Less,
}

/// Standard normal upper tail P(Z ≥ z).
pub(crate) fn normal_sf(z: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().sf(z)
}

/// Standard normal quantile.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(p)
}
