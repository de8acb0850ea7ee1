//! Quantiles, mean, standard deviation: the summaries of one sample.

/// The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics,
/// Hyndman & Fan (1996) definition 7, the default of R's `quantile` and NumPy's `percentile`.
/// Returns `None` for an empty sample. NaNs must be filtered out by the caller.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(quantile_sorted(&sorted, q))
}

/// [`quantile`] of an already sorted, non-empty sample.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Arithmetic mean, `None` when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Sample standard deviation (n − 1 denominator), `None` below two values.
pub fn std_dev(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values)?;
    let ss: f64 = values.iter().map(|v| (v - m).powi(2)).sum();
    Some((ss / (values.len() - 1) as f64).sqrt())
}

/// Summary of one metric's per-repetition samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// Mean.
    pub mean: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Sample standard deviation (0 for one sample).
    pub std_dev: f64,
    /// Median absolute deviation / median: a robust relative noise (0 when the median is 0).
    pub rel_mad: f64,
}

/// Summarises a sample; `None` when empty.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let median = quantile_sorted(&sorted, 0.5);
    let deviations: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
    let mad = quantile(&deviations, 0.5).unwrap_or(0.0);
    Some(Summary {
        n: sorted.len(),
        median,
        mean: mean(&sorted).unwrap_or(0.0),
        min: sorted[0],
        max: sorted[sorted.len() - 1],
        std_dev: std_dev(&sorted).unwrap_or(0.0),
        rel_mad: if median != 0.0 {
            mad / median.abs()
        } else {
            0.0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_r_type_7() {
        // R: quantile(c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), c(.5, .95, .99)) → 5.5, 9.55, 9.91
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((quantile(&v, 0.5).unwrap() - 5.5).abs() < 1e-12);
        assert!((quantile(&v, 0.95).unwrap() - 9.55).abs() < 1e-12);
        assert!((quantile(&v, 0.99).unwrap() - 9.91).abs() < 1e-12);
        assert_eq!(quantile(&[3.0], 0.99), Some(3.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn std_dev_matches_textbook() {
        // Sample sd of 2, 4, 4, 4, 5, 5, 7, 9 is sqrt(32 / 7).
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert!((std_dev(&v).unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(std_dev(&[1.0]), None);
    }

    #[test]
    fn summary_is_robust_and_ignores_non_finite() {
        let s = summarize(&[10.0, 11.0, 9.0, f64::NAN, 10.0]).unwrap();
        assert_eq!(s.n, 4);
        assert_eq!(s.median, 10.0);
        assert_eq!((s.min, s.max), (9.0, 11.0));
        assert!((s.rel_mad - 0.05).abs() < 1e-12);
        assert!(summarize(&[]).is_none());
    }
}
