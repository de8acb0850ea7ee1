//! Change points in a series: E-divisive means (Matteson & James 2014, "A Nonparametric
//! Approach for Multiple Change Point Analysis of Multivariate Data", JASA 109:505), the method
//! MongoDB's performance CI uses on its trend data (Daly et al. 2020, ICPE).
//!
//! For a segment split at τ into X (before) and Y (after), the divergence is
//! `Q = m·n/(m+n) · (2/(m n) Σ|x−y| − C(m,2)⁻¹ Σ|x−x'| − C(n,2)⁻¹ Σ|y−y'|)` (α = 1).
//! Bisection: take the split with the largest Q over all current segments, keep it if a
//! permutation test (values shuffled within each segment, the best Q recomputed) says it is
//! significant, split there and repeat. The permutations are seeded, so the same series
//! always gives the same change points. Like the original, κ is fixed at the segment end.
//!
//! No distributional assumption: it finds shifts in location *and* spread. The minimum segment
//! length bounds how close to an end (or to each other) change points can be found.

use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};

/// Settings of the detection.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Significance level of each permutation test.
    pub alpha: f64,
    /// Permutations per test; p-values are resolved to 1/(permutations + 1).
    pub permutations: usize,
    /// Fewest points on each side of a change point.
    pub min_segment: usize,
    /// Seed of the permutations.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            alpha: 0.01,
            permutations: 499,
            min_segment: 3,
            seed: 0x5eed,
        }
    }
}

/// A found change point: the series changes *before* `index`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePoint {
    /// First index of the new segment.
    pub index: usize,
    /// The divergence statistic Q at the split.
    pub statistic: f64,
    /// Permutation p-value.
    pub p_value: f64,
}

/// The best split of `values` (the whole slice is one segment): (index, Q), or `None` when
/// the segment is too short to split with `min_segment` points on each side.
fn best_split(values: &[f64], min_segment: usize) -> Option<(usize, f64)> {
    let n = values.len();
    let min_segment = min_segment.max(2);
    if n < 2 * min_segment {
        return None;
    }
    // row_sum_before[t] = Σ_{i<t} |v_i − v_t|, row_sum_after[t] = Σ_{j>t} |v_t − v_j|.
    let d = |i: usize, j: usize| (values[i] - values[j]).abs();
    let before: Vec<f64> = (0..n).map(|t| (0..t).map(|i| d(i, t)).sum()).collect();
    let after: Vec<f64> = (0..n).map(|t| (t + 1..n).map(|j| d(t, j)).sum()).collect();
    // Split at τ: X = [0, τ), Y = [τ, n). Start at τ = 0 (X empty) and move points into X.
    let mut within_x = 0.0; // Σ_{i<k<τ} d
    let mut within_y: f64 = after.iter().sum(); // Σ_{τ≤j<k} d
    let mut between = 0.0; // Σ_{i<τ≤j} d
    let mut best: Option<(usize, f64)> = None;
    for tau in 1..n - 1 {
        // Move point τ−1 from Y to X.
        let t = tau - 1;
        within_x += before[t];
        within_y -= after[t];
        between += after[t] - before[t];
        let (m, k) = (tau as f64, (n - tau) as f64);
        if tau < min_segment || n - tau < min_segment {
            continue;
        }
        let e = 2.0 * between / (m * k)
            - within_x / (m * (m - 1.0) / 2.0)
            - within_y / (k * (k - 1.0) / 2.0);
        let q = m * k / (m + k) * e;
        if best.is_none_or(|(_, b)| q > b) {
            best = Some((tau, q));
        }
    }
    best
}

/// The best split over all segments (given by their boundaries): (index, Q).
fn best_over_segments(
    values: &[f64],
    bounds: &[usize],
    min_segment: usize,
) -> Option<(usize, f64)> {
    bounds
        .windows(2)
        .filter_map(|w| best_split(&values[w[0]..w[1]], min_segment).map(|(i, q)| (w[0] + i, q)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Finds the change points of `values`, in index order. Non-finite values are not allowed
/// (the caller drops them); a series shorter than two minimum segments has none.
pub fn e_divisive(values: &[f64], config: &Config) -> Vec<ChangePoint> {
    assert!(values.iter().all(|v| v.is_finite()), "finite values only");
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut bounds = vec![0, values.len()];
    let mut found = Vec::new();
    let mut shuffled = values.to_vec();
    while let Some((index, statistic)) = best_over_segments(values, &bounds, config.min_segment) {
        let mut as_large = 0usize;
        for _ in 0..config.permutations {
            shuffled.copy_from_slice(values);
            for w in bounds.windows(2) {
                shuffled[w[0]..w[1]].shuffle(&mut rng);
            }
            if best_over_segments(&shuffled, &bounds, config.min_segment)
                .is_some_and(|(_, q)| q >= statistic)
            {
                as_large += 1;
            }
        }
        let p_value = (as_large + 1) as f64 / (config.permutations + 1) as f64;
        if p_value > config.alpha {
            break;
        }
        found.push(ChangePoint {
            index,
            statistic,
            p_value,
        });
        bounds.push(index);
        bounds.sort_unstable();
    }
    found.sort_by_key(|c| c.index);
    found
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;

    /// Normal noise by Box–Muller: enough for synthetic series, no extra crate.
    fn noisy(levels: &[(usize, f64)], sd: f64, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut out = Vec::new();
        for &(len, mean) in levels {
            for _ in 0..len {
                let (u1, u2): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random());
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                out.push(mean + sd * z);
            }
        }
        out
    }

    /// Q by the definition, O(n²) per split, to check the incremental sums.
    fn q_by_definition(v: &[f64], tau: usize) -> f64 {
        let (x, y) = v.split_at(tau);
        let (m, n) = (x.len() as f64, y.len() as f64);
        let mut between = 0.0;
        for a in x {
            for b in y {
                between += (a - b).abs();
            }
        }
        let within = |s: &[f64]| {
            let mut sum = 0.0;
            for i in 0..s.len() {
                for j in i + 1..s.len() {
                    sum += (s[i] - s[j]).abs();
                }
            }
            sum / (s.len() * (s.len() - 1) / 2) as f64
        };
        m * n / (m + n) * (2.0 * between / (m * n) - within(x) - within(y))
    }

    #[test]
    fn incremental_statistic_matches_the_definition() {
        let v = noisy(&[(7, 1.0), (9, 4.0)], 1.0, 3);
        let (tau, q) = best_split(&v, 2).unwrap();
        let by_definition = (2..=v.len() - 2)
            .map(|t| (t, q_by_definition(&v, t)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert_eq!(tau, by_definition.0);
        assert!(
            (q - by_definition.1).abs() < 1e-9,
            "{q} vs {}",
            by_definition.1
        );
    }

    #[test]
    fn finds_a_planted_step() {
        let v = noisy(&[(25, 100.0), (25, 110.0)], 2.0, 1);
        let cps = e_divisive(&v, &Config::default());
        assert_eq!(cps.len(), 1, "{cps:?}");
        assert!((24..=26).contains(&cps[0].index), "{cps:?}");
        assert!(cps[0].p_value <= 0.01);
    }

    #[test]
    fn finds_two_planted_changes_up_then_down() {
        let v = noisy(&[(30, 10.0), (30, 13.0), (30, 10.0)], 1.0, 7);
        let cps: Vec<usize> = e_divisive(&v, &Config::default())
            .iter()
            .map(|c| c.index)
            .collect();
        assert_eq!(cps.len(), 2, "{cps:?}");
        assert!(
            (28..=32).contains(&cps[0]) && (58..=62).contains(&cps[1]),
            "{cps:?}"
        );
    }

    #[test]
    fn finds_a_change_in_spread_at_the_same_mean() {
        let v = noisy(&[(40, 50.0)], 0.5, 11)
            .into_iter()
            .chain(noisy(&[(40, 50.0)], 6.0, 12))
            .collect::<Vec<_>>();
        let cps = e_divisive(&v, &Config::default());
        assert!(cps.iter().any(|c| (35..=45).contains(&c.index)), "{cps:?}");
    }

    #[test]
    fn flat_noisy_series_have_no_change_points() {
        // Ten independent flat series at α = 0.01: the expected number of false alarms is
        // about 0.1, so one here would be a (1 in ~10) chance event worth looking into; the
        // seeds are fixed, so this test is deterministic either way.
        for seed in 0..10 {
            let v = noisy(&[(60, 100.0)], 3.0, 100 + seed);
            let cps = e_divisive(&v, &Config::default());
            assert!(cps.is_empty(), "seed {seed}: {cps:?}");
        }
    }

    #[test]
    fn short_or_constant_series_have_none_and_do_not_panic() {
        assert!(e_divisive(&[], &Config::default()).is_empty());
        assert!(e_divisive(&[1.0, 2.0, 3.0], &Config::default()).is_empty());
        assert!(e_divisive(&[5.0; 20], &Config::default()).is_empty());
    }

    #[test]
    fn same_series_same_seed_same_answer() {
        let v = noisy(&[(20, 1.0), (20, 1.5)], 0.3, 5);
        let c = Config::default();
        assert_eq!(e_divisive(&v, &c), e_divisive(&v, &c));
    }
}
