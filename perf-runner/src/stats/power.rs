//! Minimal detectable effect: the smallest change a test of this size would catch, so that
//! "unchanged" is never claimed without the power behind it.
//!
//! Normal-approximation power formula (Cohen 1988, ch. 2) on the log scale, divided by the
//! asymptotic relative efficiency of the rank tests against the t-test under normality,
//! 3/π ≈ 0.955 (Lehmann 1975, *Nonparametrics*, §2.4). An exact rank test also has a floor:
//! with too few samples no outcome reaches α, and then nothing is detectable.

use super::{normal_quantile, wilcoxon};

/// Asymptotic relative efficiency of Wilcoxon / Mann–Whitney versus t under normality.
const RANK_TEST_ARE: f64 = 3.0 / std::f64::consts::PI;

/// Smallest relative change (e.g. 0.05 = 5 %) a one-sided paired test of `n` log-ratios with
/// standard deviation `sd_log` detects with probability `power` at level `alpha`.
/// `None` when `n` pairs cannot reach `alpha` at all.
pub fn paired_mde(n: usize, sd_log: f64, alpha: f64, power: f64) -> Option<f64> {
    if n < 2 || wilcoxon::smallest_p(n) > alpha {
        return None;
    }
    let z = normal_quantile(1.0 - alpha) + normal_quantile(power);
    Some((z * sd_log / (n as f64 * RANK_TEST_ARE).sqrt()).exp() - 1.0)
}

/// The same for two independent samples of sizes `n1`, `n2` with log-scale sd `sd_log` each.
pub fn unpaired_mde(n1: usize, n2: usize, sd_log: f64, alpha: f64, power: f64) -> Option<f64> {
    if n1 < 2 || n2 < 2 || smallest_unpaired_p(n1, n2) > alpha {
        return None;
    }
    let z = normal_quantile(1.0 - alpha) + normal_quantile(power);
    let se = sd_log * (1.0 / n1 as f64 + 1.0 / n2 as f64).sqrt() / RANK_TEST_ARE.sqrt();
    Some((z * se).exp() - 1.0)
}

/// Smallest one-sided exact Mann–Whitney p-value: 1 / C(n1 + n2, n1).
fn smallest_unpaired_p(n1: usize, n2: usize) -> f64 {
    let mut combinations = 1.0f64;
    for k in 0..n1.min(n2) {
        combinations = combinations * (n1 + n2 - k) as f64 / (k + 1) as f64;
    }
    1.0 / combinations
}

/// A robust standard deviation: 1.4826 × the median absolute deviation (consistent for the
/// normal distribution; Rousseeuw & Croux 1993).
pub fn robust_sd(values: &[f64]) -> Option<f64> {
    let median = super::descriptive::quantile(values, 0.5)?;
    let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    Some(1.4826 * super::descriptive::quantile(&deviations, 0.5)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_mde_matches_the_formula_by_hand() {
        // z(0.95) + z(0.80) = 1.644854 + 0.841621 = 2.486475; sqrt(16 · 3/π) = 3.908820;
        // 0.1 · 2.486475 / 3.908820 = 0.0636118 → e^x − 1 = 0.065679.
        let mde = paired_mde(16, 0.1, 0.05, 0.8).unwrap();
        assert!((mde - 0.065_679).abs() < 1e-5, "{mde}");
    }

    #[test]
    fn too_few_pairs_detect_nothing() {
        assert_eq!(paired_mde(6, 0.01, 0.01, 0.8), None); // 2⁻⁶ = 0.0156 > 0.01
        assert!(paired_mde(7, 0.01, 0.01, 0.8).is_some()); // 2⁻⁷ = 0.0078
        assert_eq!(unpaired_mde(3, 3, 0.01, 0.01, 0.8), None); // 1/20 > 0.01
    }

    #[test]
    fn more_samples_detect_smaller_effects() {
        let small = unpaired_mde(10, 10, 0.1, 0.01, 0.8).unwrap();
        let large = unpaired_mde(40, 40, 0.1, 0.01, 0.8).unwrap();
        assert!(large < small);
        assert!((smallest_unpaired_p(5, 5) - 1.0 / 252.0).abs() < 1e-15);
    }

    #[test]
    fn robust_sd_of_a_normal_like_sample() {
        assert_eq!(robust_sd(&[1.0, 2.0, 3.0, 4.0, 5.0]), Some(1.4826));
        assert_eq!(robust_sd(&[]), None);
    }
}
