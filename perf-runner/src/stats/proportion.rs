//! Confidence intervals for a proportion k / n: the Clopper–Pearson exact interval
//! (Clopper & Pearson 1934), which never under-covers, so a false-alarm rate of 0 out of n
//! is reported with its honest upper bound rather than as zero.

use statrs::distribution::{Beta, ContinuousCDF};

use super::bootstrap::Interval;

/// The two-sided `level` Clopper–Pearson interval for `k` successes in `n` trials.
pub fn clopper_pearson(k: usize, n: usize, level: f64) -> Option<Interval> {
    if n == 0 || k > n {
        return None;
    }
    let alpha = 1.0 - level;
    let (k, n) = (k as f64, n as f64);
    let low = if k == 0.0 {
        0.0
    } else {
        Beta::new(k, n - k + 1.0).ok()?.inverse_cdf(alpha / 2.0)
    };
    let high = if k == n {
        1.0
    } else {
        Beta::new(k + 1.0, n - k)
            .ok()?
            .inverse_cdf(1.0 - alpha / 2.0)
    };
    Some(Interval { low, high })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_all_have_closed_forms() {
        // k = 0: upper = 1 − (α/2)^(1/n); k = n: lower = (α/2)^(1/n).
        let ci = clopper_pearson(0, 10, 0.95).unwrap();
        assert_eq!(ci.low, 0.0);
        assert!(
            (ci.high - (1.0 - 0.025f64.powf(0.1))).abs() < 1e-6,
            "{ci:?}"
        );
        let ci = clopper_pearson(10, 10, 0.95).unwrap();
        assert!((ci.low - 0.025f64.powf(0.1)).abs() < 1e-6, "{ci:?}");
        assert_eq!(ci.high, 1.0);
    }

    #[test]
    fn matches_r_binom_test() {
        // R: binom.test(3, 20)$conf.int → 0.03207094 0.37892683 (SciPy binomtest agrees).
        let ci = clopper_pearson(3, 20, 0.95).unwrap();
        assert!(
            (ci.low - 0.032_070_94).abs() < 1e-6 && (ci.high - 0.378_926_83).abs() < 1e-6,
            "{ci:?}"
        );
        assert!(clopper_pearson(1, 0, 0.95).is_none());
    }
}
