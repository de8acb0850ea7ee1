//! Alpha spending for repeated looks at accumulating data: how much of the false-alarm budget
//! α each look may use, so that looking again and again never raises the overall false-alarm
//! rate above α.
//!
//! The spending function is Lan & DeMets' Pocock-type one (Lan & DeMets 1983, "Discrete
//! sequential boundaries for clinical trials", *Biometrika* 70(3); Kim & DeMets 1987):
//! α(t) = α · ln(1 + (e − 1) · t), where t ∈ [0, 1] is the information fraction, here the pairs
//! measured over the most pairs the run may take. It spends evenly enough that a large change is
//! caught at an early look, which is what a pull-request gate wants.
//!
//! Each look tests at the level it spends, α(t_k) − α(t_{k−1}). By Bonferroni's inequality the
//! probability of any false alarm over all looks is at most the sum, α(t_K) ≤ α, whatever the
//! correlation between looks: conservative (exact group-sequential boundaries would spend the
//! same α a little more efficiently; Jennison & Turnbull 2000, *Group Sequential Methods*, §7.2),
//! but exact as a bound and valid for looks at any times fixed independently of the data.

/// α spent by information fraction `t` (clamped to [0, 1]) of a total `alpha`.
pub fn spent(alpha: f64, t: f64) -> f64 {
    alpha * (1.0 + (std::f64::consts::E - 1.0) * t.clamp(0.0, 1.0)).ln()
}

/// The level a look at `pairs` may test at, after a previous look at `previous` pairs (0 for
/// the first look), with at most `max_pairs` in the run.
pub fn look_level(alpha: f64, previous: usize, pairs: usize, max_pairs: usize) -> f64 {
    let max = max_pairs.max(1) as f64;
    spent(alpha, pairs as f64 / max) - spent(alpha, previous as f64 / max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Alternative, wilcoxon};
    use rand::{Rng, SeedableRng, rngs::StdRng};

    #[test]
    fn spends_everything_at_the_end_and_nothing_at_the_start() {
        assert_eq!(spent(0.01, 0.0), 0.0);
        assert!((spent(0.01, 1.0) - 0.01).abs() < 1e-15);
        // ln(1 + 1.718282 · 0.5) = 0.620115.
        assert!((spent(0.01, 0.5) - 0.006_201_15).abs() < 1e-8);
        assert!((spent(0.01, 7.0) - 0.01).abs() < 1e-15, "t is clamped");
    }

    #[test]
    fn look_levels_add_up_to_alpha() {
        let looks = [10, 20, 40];
        let mut previous = 0;
        let mut total = 0.0;
        for pairs in looks {
            let level = look_level(0.01, previous, pairs, 40);
            assert!(level > 0.0 && level < 0.01);
            total += level;
            previous = pairs;
        }
        assert!((total - 0.01).abs() < 1e-15, "{total}");
    }

    /// How often a sequential Wilcoxon test with looks at 8, 16, 32 and 64 pairs rejects when
    /// nothing changed, at overall level 0.05: with spending, and testing every look at 0.05.
    fn null_rejection_rates(seed: u64, runs: usize) -> (f64, f64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut spending, mut naive) = (0, 0);
        for _ in 0..runs {
            let diffs: Vec<f64> = (0..64).map(|_| rng.random_range(-1.0..1.0)).collect();
            let (mut previous, mut s, mut n) = (0, false, false);
            for pairs in [8, 16, 32, 64] {
                let p = wilcoxon::test(&diffs[..pairs], Alternative::Greater).map_or(1.0, |t| t.p);
                s |= p < look_level(0.05, previous, pairs, 64);
                n |= p < 0.05;
                previous = pairs;
            }
            spending += usize::from(s);
            naive += usize::from(n);
        }
        (spending as f64 / runs as f64, naive as f64 / runs as f64)
    }

    #[test]
    fn repeated_looks_keep_the_false_alarm_rate_with_spending_and_not_without() {
        let (spending, naive) = null_rejection_rates(7, 2000);
        // Binomial sd at 5 % over 2000 runs is 0.49 %; 3 sd of slack above α.
        assert!(spending <= 0.05 + 0.015, "spending: {spending}");
        // Four looks at full α each: the well-known inflation (about 0.11 here).
        assert!(naive > 0.08, "naive: {naive}");
    }
}
