//! Seeded percentile-bootstrap confidence intervals (Efron & Tibshirani 1993, ch. 13).
//!
//! Seeded so that the same samples always give the same interval: reports are reproducible.

use rand::{Rng, SeedableRng, rngs::StdRng};

use super::descriptive::quantile;

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

fn resample(rng: &mut StdRng, sample: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.extend((0..sample.len()).map(|_| sample[rng.random_range(0..sample.len())]));
}

fn percentile_interval(mut stats: Vec<f64>, level: f64) -> Option<Interval> {
    stats.retain(|v| v.is_finite());
    let alpha = (1.0 - level) / 2.0;
    Some(Interval {
        low: quantile(&stats, alpha)?,
        high: quantile(&stats, 1.0 - alpha)?,
    })
}

/// Interval for median(head) / median(base) from independent samples. `None` when a sample
/// has fewer than two values or a median can be zero.
pub fn ratio_of_medians(
    base: &[f64],
    head: &[f64],
    level: f64,
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    if base.len() < 2 || head.len() < 2 {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut b, mut h) = (Vec::new(), Vec::new());
    let stats = (0..resamples)
        .map(|_| {
            resample(&mut rng, base, &mut b);
            resample(&mut rng, head, &mut h);
            quantile(&h, 0.5).unwrap_or(f64::NAN) / quantile(&b, 0.5).unwrap_or(f64::NAN)
        })
        .collect();
    percentile_interval(stats, level)
}

/// Interval for exp(median(log-ratios)) of paired samples, resampling pairs.
pub fn paired_ratio(
    log_ratios: &[f64],
    level: f64,
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    if log_ratios.len() < 2 {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut d = Vec::new();
    let stats = (0..resamples)
        .map(|_| {
            resample(&mut rng, log_ratios, &mut d);
            quantile(&d, 0.5).unwrap_or(f64::NAN).exp()
        })
        .collect();
    percentile_interval(stats, level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(center: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| center * (1.0 + rng.random_range(-0.05..0.05)))
            .collect()
    }

    #[test]
    fn covers_a_planted_ratio_and_is_reproducible() {
        let base = noisy(100.0, 30, 1);
        let head = noisy(120.0, 30, 2);
        let ci = ratio_of_medians(&base, &head, 0.95, 2000, 7).unwrap();
        assert!(ci.low < 1.2 && 1.2 < ci.high, "{ci:?}");
        assert!(
            ci.low > 1.1,
            "a 20 % shift with 5 % noise is clearly above 1: {ci:?}"
        );
        assert_eq!(ci, ratio_of_medians(&base, &head, 0.95, 2000, 7).unwrap());
    }

    #[test]
    fn paired_interval_contains_the_planted_log_ratio() {
        let logs: Vec<f64> = noisy(1.0, 40, 3)
            .iter()
            .map(|v| (1.1 * v).ln() - v.ln() + (v - 1.0) * 0.1)
            .collect();
        let ci = paired_ratio(&logs, 0.95, 2000, 9).unwrap();
        assert!(ci.low < 1.1 && 1.1 < ci.high, "{ci:?}");
    }

    #[test]
    fn thin_samples_give_none() {
        assert!(ratio_of_medians(&[1.0], &[1.0, 2.0], 0.95, 100, 0).is_none());
        assert!(paired_ratio(&[0.1], 0.95, 100, 0).is_none());
    }
}
