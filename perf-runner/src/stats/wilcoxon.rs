//! Wilcoxon signed-rank test for paired samples (here: per-pair log-ratios).
//!
//! Zero differences are dropped (Wilcoxon's original method). Exact p-values from the null
//! distribution of W+ (every sign pattern equally likely, 2ⁿ subsets of ranks) when there are
//! no ties and at most [`EXACT_MAX`] non-zero differences; otherwise the normal approximation
//! with tie-corrected variance and a continuity correction (Hollander & Wolfe 1973, §3.1).

use super::{Alternative, normal_sf, rank};

/// Largest number of non-zero differences for which the exact distribution is used.
pub const EXACT_MAX: usize = 60;

/// Result of a signed-rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignedRank {
    /// W+: sum of the ranks of positive differences (R reports it as V).
    pub w_plus: f64,
    /// Non-zero differences used.
    pub n: usize,
    /// One-sided p-value.
    pub p: f64,
    /// Whether `p` is exact.
    pub exact: bool,
}

/// Tests whether the differences tend to be greater (or less) than zero. `None` when every
/// difference is zero or there are none.
pub fn test(differences: &[f64], alternative: Alternative) -> Option<SignedRank> {
    let nonzero: Vec<f64> = differences
        .iter()
        .copied()
        .filter(|d| *d != 0.0 && d.is_finite())
        .collect();
    let n = nonzero.len();
    if n == 0 {
        return None;
    }
    let magnitudes: Vec<f64> = nonzero.iter().map(|d| d.abs()).collect();
    let (ranks, ties) = rank::midranks(&magnitudes);
    let w_plus: f64 = nonzero
        .iter()
        .zip(&ranks)
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum();
    let total = (n * (n + 1)) as f64 / 2.0;
    if ties.is_empty() && n <= EXACT_MAX {
        let counts = w_distribution(n);
        let all: f64 = counts.iter().sum();
        let w = w_plus.round() as usize;
        let tail: f64 = match alternative {
            Alternative::Greater => counts[w..].iter().sum(),
            Alternative::Less => counts[..=w].iter().sum(),
        };
        return Some(SignedRank {
            w_plus,
            n,
            p: (tail / all).min(1.0),
            exact: true,
        });
    }
    let nf = n as f64;
    let variance = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - rank::tie_term(&ties) / 48.0;
    let centred = w_plus - total / 2.0;
    let z = match alternative {
        Alternative::Greater => (centred - 0.5) / variance.sqrt(),
        Alternative::Less => (-centred - 0.5) / variance.sqrt(),
    };
    Some(SignedRank {
        w_plus,
        n,
        p: normal_sf(z),
        exact: false,
    })
}

/// Number of rank subsets of {1..n} with each sum 0..=n(n+1)/2 (subset-sum counting).
fn w_distribution(n: usize) -> Vec<f64> {
    let max = n * (n + 1) / 2;
    let mut counts = vec![0.0; max + 1];
    counts[0] = 1.0;
    for rank in 1..=n {
        for s in (rank..=max).rev() {
            counts[s] += counts[s - rank];
        }
    }
    counts
}

/// The smallest one-sided p-value the exact test can reach with `n` pairs: 2⁻ⁿ. Below
/// ⌈log₂(1/α)⌉ pairs no outcome can be significant at α.
pub fn smallest_p(n: usize) -> f64 {
    0.5f64.powi(n as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    // R's `?wilcox.test` paired example (Hollander & Wolfe 1973, p. 29):
    //   wilcox.test(x, y, paired = TRUE, alternative = "greater") → V = 40, p-value = 0.01953
    // SciPy's exact wilcoxon gives 0.01953125 (= 10 / 512).
    const X: [f64; 9] = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
    #[allow(clippy::approx_constant)] // 3.14 is textbook data, not π
    const Y: [f64; 9] = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];

    #[test]
    fn exact_matches_r_documentation_example() {
        let d: Vec<f64> = X.iter().zip(&Y).map(|(x, y)| x - y).collect();
        let r = test(&d, Alternative::Greater).unwrap();
        assert_eq!(r.w_plus, 40.0);
        assert!(r.exact);
        assert_eq!(r.p, 10.0 / 512.0);
        let less = test(&d, Alternative::Less).unwrap();
        assert!(less.p > 0.98, "{}", less.p);
    }

    #[test]
    fn ties_and_zeros_use_the_corrected_normal_approximation() {
        // SciPy: wilcoxon([1,2,2,-0.5,3,3,4,0,5,6], alternative="greater", method="approx",
        //   zero_method="wilcox", correction=True) → statistic 44, p 0.006346985027636522.
        let d = [1.0, 2.0, 2.0, -0.5, 3.0, 3.0, 4.0, 0.0, 5.0, 6.0];
        let r = test(&d, Alternative::Greater).unwrap();
        assert_eq!((r.w_plus, r.n, r.exact), (44.0, 9, false));
        assert!((r.p - 0.006_346_985_027_636_522).abs() < 1e-9, "{}", r.p);
    }

    #[test]
    fn distribution_totals_two_to_the_n() {
        let d = w_distribution(10);
        assert_eq!(d.iter().sum::<f64>(), 1024.0);
        assert_eq!(smallest_p(7), 1.0 / 128.0);
    }

    #[test]
    fn all_zero_differences_say_nothing() {
        assert!(test(&[0.0, 0.0], Alternative::Greater).is_none());
    }
}
