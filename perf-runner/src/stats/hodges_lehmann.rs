//! Hodges–Lehmann estimators: the shift estimates that go with the rank tests
//! (Hodges & Lehmann 1963, "Estimates of location based on rank tests").

use super::descriptive::quantile;

/// One-sample (paired) estimate: the median of the Walsh averages (dᵢ + dⱼ)/2, i ≤ j.
/// The pseudo-median that R's `wilcox.test(conf.int = TRUE)` reports.
pub fn one_sample(d: &[f64]) -> Option<f64> {
    let mut walsh = Vec::with_capacity(d.len() * (d.len() + 1) / 2);
    for i in 0..d.len() {
        for j in i..d.len() {
            walsh.push((d[i] + d[j]) / 2.0);
        }
    }
    quantile(&walsh, 0.5)
}

/// Two-sample estimate of the shift of `x` relative to `y`: the median of all xᵢ − yⱼ.
pub fn two_sample(x: &[f64], y: &[f64]) -> Option<f64> {
    let diffs: Vec<f64> = x
        .iter()
        .flat_map(|a| y.iter().map(move |b| a - b))
        .collect();
    quantile(&diffs, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_is_the_median_of_walsh_averages() {
        // Walsh averages of 1, 2, 4: 1, 1.5, 2.5, 2, 3, 4 → median (2 + 2.5) / 2 = 2.25.
        assert_eq!(one_sample(&[1.0, 2.0, 4.0]), Some(2.25));
        assert_eq!(one_sample(&[]), None);
    }

    #[test]
    fn two_sample_recovers_a_pure_shift() {
        let y = [1.0, 5.0, 2.0, 8.0];
        let x: Vec<f64> = y.iter().map(|v| v + 3.0).collect();
        assert_eq!(two_sample(&x, &y), Some(3.0));
    }
}
