//! Mann–Whitney U (Wilcoxon rank-sum) test for two independent samples.
//!
//! Exact p-values from the null distribution of U when there are no ties and both samples
//! have at most [`EXACT_MAX`] values (the recursion of Mann & Whitney 1947); otherwise the
//! normal approximation with tie-corrected variance and a continuity correction
//! (Hollander & Wolfe, *Nonparametric Statistical Methods*, 1973, §4.1), as R's `wilcox.test`.

use super::{Alternative, normal_sf, rank};

/// Largest sample size for which the exact distribution is used.
pub const EXACT_MAX: usize = 50;

/// Result of a Mann–Whitney test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of the first sample: the number of pairs (x, y) with x > y, ties counting ½
    /// (R reports it as W).
    pub u: f64,
    /// One-sided p-value.
    pub p: f64,
    /// Whether `p` is exact.
    pub exact: bool,
}

/// Tests whether `x` tends to be greater (or less) than `y`. `None` if either sample is empty.
pub fn test(x: &[f64], y: &[f64], alternative: Alternative) -> Option<MannWhitney> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let (ranks, ties) = rank::midranks(&pooled);
    let r1: f64 = ranks[..n1].iter().sum();
    let u = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let n1n2 = (n1 * n2) as f64;
    if ties.is_empty() && n1 <= EXACT_MAX && n2 <= EXACT_MAX {
        let counts = u_distribution(n1, n2);
        let total: f64 = counts.iter().sum();
        let u = u.round() as usize;
        let tail: f64 = match alternative {
            Alternative::Greater => counts[u..].iter().sum(),
            Alternative::Less => counts[..=u].iter().sum(),
        };
        return Some(MannWhitney {
            u: u as f64,
            p: (tail / total).min(1.0),
            exact: true,
        });
    }
    let n = (n1 + n2) as f64;
    let variance = n1n2 / 12.0 * ((n + 1.0) - rank::tie_term(&ties) / (n * (n - 1.0)));
    if variance <= 0.0 {
        // Every value tied: no evidence either way.
        return Some(MannWhitney {
            u,
            p: 1.0,
            exact: false,
        });
    }
    let centred = u - n1n2 / 2.0;
    let z = match alternative {
        Alternative::Greater => (centred - 0.5) / variance.sqrt(),
        Alternative::Less => (-centred - 0.5) / variance.sqrt(),
    };
    Some(MannWhitney {
        u,
        p: normal_sf(z),
        exact: false,
    })
}

/// Number of arrangements giving each U = 0..=n1·n2 under the null, by the recursion
/// f(m, n, u) = f(m − 1, n, u − n) + f(m, n − 1, u). Counts are f64: C(100, 50) ≈ 1e29 fits.
fn u_distribution(n1: usize, n2: usize) -> Vec<f64> {
    // table[j] holds the distribution for (i, j) while i advances.
    let max = n1 * n2;
    let mut prev: Vec<Vec<f64>> = (0..=n2).map(|_| one_at_zero(max)).collect(); // i = 0
    for i in 1..=n1 {
        let mut cur: Vec<Vec<f64>> = Vec::with_capacity(n2 + 1);
        cur.push(one_at_zero(max)); // j = 0
        for j in 1..=n2 {
            let mut dist = vec![0.0; max + 1];
            for u in 0..=i * j {
                let from_x = if u >= j { prev[j][u - j] } else { 0.0 };
                dist[u] = from_x + cur[j - 1][u];
            }
            cur.push(dist);
        }
        prev = cur;
    }
    prev.swap_remove(n2)
}

fn one_at_zero(len: usize) -> Vec<f64> {
    let mut v = vec![0.0; len + 1];
    v[0] = 1.0;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    // R's `?wilcox.test` example (Hollander & Wolfe 1973, p. 69):
    //   wilcox.test(x, y, alternative = "g")  →  W = 35, p-value = 0.1272
    // (SciPy's exact mannwhitneyu gives 0.1272061272061272.)
    const X: [f64; 10] = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const Y: [f64; 5] = [1.15, 0.88, 0.90, 0.74, 1.21];

    #[test]
    fn exact_matches_r_documentation_example() {
        let r = test(&X, &Y, Alternative::Greater).unwrap();
        assert_eq!(r.u, 35.0);
        assert!(r.exact);
        assert!((r.p - 0.127_206_127_206_127_2).abs() < 1e-12, "{}", r.p);
    }

    #[test]
    fn less_is_the_mirror_of_greater() {
        let greater = test(&Y, &X, Alternative::Less).unwrap();
        assert!((greater.p - 0.1272).abs() < 5e-5, "{}", greater.p);
    }

    #[test]
    fn distribution_is_symmetric_and_counts_binomial_total() {
        let d = u_distribution(4, 3);
        assert_eq!(d.iter().sum::<f64>(), 35.0); // C(7, 3)
        for u in 0..=12 {
            assert_eq!(d[u], d[12 - u]);
        }
    }

    #[test]
    fn complete_separation_reaches_the_smallest_exact_p() {
        let r = test(
            &[10.0, 11.0, 12.0, 13.0, 14.0],
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            Alternative::Greater,
        )
        .unwrap();
        assert!((r.p - 1.0 / 252.0).abs() < 1e-12); // 1 / C(10, 5)
    }

    #[test]
    fn ties_use_the_corrected_normal_approximation() {
        // SciPy 1.x: mannwhitneyu([1,2,2,3,4,5], [2,3,3,4], alternative="greater",
        //   method="asymptotic", use_continuity=True) → statistic 10.5, p 0.6694985771880106.
        let r = test(
            &[1.0, 2.0, 2.0, 3.0, 4.0, 5.0],
            &[2.0, 3.0, 3.0, 4.0],
            Alternative::Greater,
        )
        .unwrap();
        assert_eq!(r.u, 10.5);
        assert!(!r.exact);
        assert!((r.p - 0.669_498_577_188_010_6).abs() < 1e-9, "{}", r.p);
    }

    #[test]
    fn empty_or_all_tied_samples_do_not_panic() {
        assert!(test(&[], &[1.0], Alternative::Greater).is_none());
        assert_eq!(
            test(&[1.0, 1.0], &[1.0, 1.0], Alternative::Greater)
                .unwrap()
                .p,
            1.0
        );
    }
}
