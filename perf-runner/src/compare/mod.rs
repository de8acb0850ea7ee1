//! Samples in, verdicts out: the regression gate (DESIGN.md "Statistics and the gate").
//!
//! A metric regresses only if both hold: its Holm-adjusted one-sided p-value is below α,
//! and its estimated change is worse than its threshold, an effect size worth blocking a pull
//! request for (default 5 %). "Unchanged" is claimed only when the test had the power to see a
//! change the size of the threshold (its minimal detectable effect is within it); otherwise the
//! verdict is "inconclusive". Deterministic metrics compare by plain threshold.
//!
//! Three tests: *paired* (base and head run interleaved in one job: Wilcoxon signed-rank on
//! per-pair log-ratios, Hodges–Lehmann estimate); *sessions* (a run against a baseline recorded
//! over several sessions: the new session against the prediction interval of the recorded ones,
//! so drift between sessions is noise, not a regression); *unpaired* within one session
//! (Mann–Whitney U, ratio of medians with a bootstrap interval), for a base measured in the same
//! job but not interleaved (`bench --against`).
//!
//! This file runs the family (Holm across the gated metrics) and each metric's outline;
//! `threshold` holds noise and threshold, `unpaired`, `sessions` and `paired` the tests,
//! `verdict` the rule, `sequential` when a paired run has seen enough. Everything here is pure:
//! samples and settings in, a `Comparison` out, no IO.

mod threshold;
mod unpaired;
mod sessions;
mod paired;
mod verdict;
pub mod sequential;

use std::collections::BTreeMap;

pub use crate::data::comparison::{Comparison, MetricComparison, Mode, Verdict};
use crate::{
    data::metrics::{self, Direction, Kind},
    stats::{Alternative, descriptive::quantile, holm},
};

use self::verdict::decide;

/// Settings of the gate.
#[derive(Debug, Clone)]
pub struct GateConfig {
    /// Family-wise significance level across the gated metrics.
    pub alpha: f64,
    /// Threshold for statistical metrics: the relative change worth blocking for (0.05 = 5 %).
    pub threshold: f64,
    /// Threshold for deterministic metrics.
    pub deterministic_threshold: f64,
    /// Power at which the minimal detectable effect is computed.
    pub power: f64,
    /// Fixed thresholds per metric (scenario `[thresholds]`), replacing the default rule.
    pub overrides: BTreeMap<String, f64>,
    /// One fixed threshold for every metric (`--threshold`), replacing everything else.
    pub global: Option<f64>,
    /// Bootstrap resamples for confidence intervals.
    pub resamples: usize,
    /// Bootstrap seed.
    pub seed: u64,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            alpha: 0.01,
            threshold: 0.05,
            deterministic_threshold: 0.01,
            power: 0.8,
            overrides: BTreeMap::new(),
            global: None,
            resamples: 2000,
            seed: 0x5eed,
        }
    }
}

/// Samples of one metric on both sides. In paired mode `base[i]` and `head[i]` are a pair.
#[derive(Debug, Clone)]
pub struct MetricSamples<'a> {
    /// Metric name (must be defined in `metrics::ALL`).
    pub name: &'a str,
    /// Base samples.
    pub base: &'a [f64],
    /// Head samples.
    pub head: &'a [f64],
    /// How many of `base` each recorded session contributed, in order (they sum to
    /// `base.len()`). Empty: the base is one run of this job (paired, or `bench --against`);
    /// otherwise the unpaired comparison is the sessions test.
    pub base_sessions: &'a [usize],
}

/// Compares every metric and applies Holm's correction across the gated ones.
pub fn compare(
    mode: Mode,
    base_label: String,
    samples: &[MetricSamples],
    config: &GateConfig,
) -> Comparison {
    let mut results: Vec<(MetricComparison, Evidence)> = samples
        .iter()
        .filter_map(|s| compare_one(mode, s, config))
        .collect();
    // Holm across the gated metrics that were tested, separately for each direction.
    let gated: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].0.gated && results[i].0.p_regression.is_some())
        .collect();
    let family = gated.len().max(1);
    let worse: Vec<f64> = gated
        .iter()
        .map(|&i| results[i].0.p_regression.unwrap_or(1.0))
        .collect();
    let better: Vec<f64> = gated
        .iter()
        .map(|&i| results[i].1.p_improvement.unwrap_or(1.0))
        .collect();
    for ((&i, worse), better) in gated
        .iter()
        .zip(holm::adjust(&worse))
        .zip(holm::adjust(&better))
    {
        results[i].0.p_adjusted = Some(worse);
        results[i].1.p_improvement = Some(better);
    }
    let metrics = results
        .into_iter()
        .map(|(mut r, evidence)| {
            decide(&mut r, &evidence, config, family);
            r
        })
        .collect();
    Comparison {
        mode,
        base_label,
        alpha: config.alpha,
        metrics,
        warnings: Vec::new(),
        base_sessions: None,
        sequential: None,
        no_verdict: None,
        not_measured: Vec::new(),
        informational: None,
    }
}

/// What `decide` needs beyond the published comparison.
#[derive(Clone)]
struct Evidence {
    /// One-sided p-value toward an improvement (Holm-adjusted for gated metrics).
    p_improvement: Option<f64>,
    /// What the power calculation needs.
    power: Power,
    /// Why no test could be made, when that is the whole story (replaces the generic reason).
    untestable: Option<String>,
    /// Every sample on both sides has the same value.
    identical: bool,
    /// The metric compares by plain threshold.
    deterministic: bool,
}

/// What a test adds to the evidence beyond what it writes into the comparison.
struct TestEvidence {
    /// One-sided p-value toward an improvement.
    p_improvement: Option<f64>,
    /// What the power calculation needs.
    power: Power,
    /// Why the test could not be made, if it could not.
    untestable: Option<String>,
}

/// The quantities the minimal detectable effect of each test is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Power {
    /// Not computable (too few samples, values not all positive).
    Unknown,
    /// Paired: pairs and the log-ratios' standard deviation.
    Paired { pairs: usize, sd: f64 },
    /// Unpaired within one session: sample sizes and the noisier side's log-scale sd.
    Unpaired {
        n_base: usize,
        n_head: usize,
        sd: f64,
    },
    /// Sessions test: the result, whose standard error and degrees of freedom decide.
    Sessions(crate::stats::sessions::SessionTest),
}

impl Power {
    /// No noise at all: any change would be seen.
    fn noiseless(&self) -> bool {
        match self {
            Power::Unknown => false,
            Power::Paired { sd, .. } | Power::Unpaired { sd, .. } => *sd == 0.0,
            Power::Sessions(t) => t.se == 0.0,
        }
    }
}

/// Everything but the verdict, which needs the family-wide adjustment.
fn compare_one(
    mode: Mode,
    s: &MetricSamples,
    config: &GateConfig,
) -> Option<(MetricComparison, Evidence)> {
    let def = metrics::definition(s.name)?;
    let base_median = quantile(s.base, 0.5)?;
    let head_median = quantile(s.head, 0.5)?;
    let alternatives = match def.direction {
        Direction::LowerIsBetter => (Alternative::Greater, Alternative::Less),
        Direction::HigherIsBetter => (Alternative::Less, Alternative::Greater),
    };
    let positive = s.base.iter().chain(s.head).all(|v| *v > 0.0);
    let noise = threshold::noise(s.base, positive);
    let mut result = MetricComparison {
        name: s.name.to_owned(),
        unit: def.unit.to_owned(),
        direction: def.direction,
        gated: def.gated,
        n_base: s.base.len(),
        n_head: s.head.len(),
        base_median,
        head_median,
        change: (base_median != 0.0).then(|| head_median / base_median - 1.0),
        change_ci: None,
        p_regression: None,
        p_adjusted: None,
        threshold: threshold::threshold(config, s.name, def.kind),
        noise,
        mde: None,
        verdict: Verdict::Inconclusive,
        reason: String::new(),
    };
    let identical = s.base.iter().chain(s.head).all(|v| *v == s.base[0]);
    if def.kind == Kind::Deterministic {
        let evidence = Evidence {
            p_improvement: None,
            power: Power::Unknown,
            untestable: None,
            identical,
            deterministic: true,
        };
        return Some((result, evidence));
    }
    let tested = match mode {
        Mode::Unpaired if s.base_sessions.is_empty() => {
            unpaired::test(s, noise, alternatives, config, &mut result)
        }
        Mode::Unpaired => sessions::test(s, alternatives, &mut result),
        Mode::Paired => paired::test(s, positive, alternatives, config, &mut result),
    };
    let evidence = Evidence {
        p_improvement: tested.p_improvement,
        power: tested.power,
        untestable: tested.untestable,
        identical,
        deterministic: false,
    };
    Some((result, evidence))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn noisy(center: f64, n: usize, rel: f64, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| center * (1.0 + rng.random_range(-rel..rel)))
            .collect()
    }

    fn one(mode: Mode, name: &str, base: &[f64], head: &[f64]) -> MetricComparison {
        let samples = [MetricSamples {
            name,
            base,
            head,
            base_sessions: &[],
        }];
        compare(mode, "test".into(), &samples, &GateConfig::default())
            .metrics
            .remove(0)
    }

    #[test]
    fn clear_twenty_percent_slowdown_is_a_regression() {
        let base = noisy(100.0, 15, 0.03, 1);
        let head = noisy(120.0, 15, 0.03, 2);
        let r = one(Mode::Unpaired, "formation_time_ms", &base, &head);
        assert_eq!(r.verdict, Verdict::Regressed, "{r:?}");
        assert!((r.change.unwrap() - 0.2).abs() < 0.04);
        let paired = one(Mode::Paired, "formation_time_ms", &base, &head);
        assert_eq!(paired.verdict, Verdict::Regressed, "{paired:?}");
    }

    #[test]
    fn identical_distributions_are_unchanged_not_regressed() {
        let base = noisy(100.0, 20, 0.02, 3);
        let head = noisy(100.0, 20, 0.02, 4);
        for mode in [Mode::Unpaired, Mode::Paired] {
            let r = one(mode, "gossip_latency_ms_p50", &base, &head);
            assert_eq!(r.verdict, Verdict::Unchanged, "{mode:?}: {r:?}");
            assert!(r.mde.unwrap() <= r.threshold);
        }
    }

    #[test]
    fn tiny_samples_are_inconclusive() {
        let r = one(
            Mode::Unpaired,
            "formation_time_ms",
            &[100.0, 101.0, 99.0],
            &[130.0, 131.0, 129.0],
        );
        assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
        let r = one(Mode::Paired, "formation_time_ms", &[100.0], &[130.0]);
        assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    }

    #[test]
    fn higher_is_better_metrics_regress_downwards() {
        let base = noisy(4000.0, 15, 0.02, 5);
        let head = noisy(3000.0, 15, 0.02, 6);
        assert_eq!(
            one(Mode::Unpaired, "throughput_mbit_s", &base, &head).verdict,
            Verdict::Regressed
        );
        assert_eq!(
            one(Mode::Unpaired, "throughput_mbit_s", &head, &base).verdict,
            Verdict::Improved
        );
    }

    #[test]
    fn significant_but_small_change_is_not_a_regression() {
        // 2 % slower with 0.5 % noise: detectable, but below the 5 % floor.
        let base = noisy(100.0, 30, 0.005, 7);
        let head = noisy(102.0, 30, 0.005, 8);
        let r = one(Mode::Unpaired, "formation_time_ms", &base, &head);
        assert_eq!(r.verdict, Verdict::Unchanged, "{r:?}");
    }

    #[test]
    fn constant_identical_samples_are_unchanged() {
        let zeros = [0.0; 6];
        assert_eq!(
            one(Mode::Paired, "gossip_duplicate_ratio", &zeros, &zeros).verdict,
            Verdict::Unchanged
        );
        let worse = [0.0, 0.1, 0.1, 0.2, 0.1, 0.1];
        assert_ne!(
            one(Mode::Paired, "gossip_duplicate_ratio", &zeros, &worse).verdict,
            Verdict::Unchanged
        );
    }

    #[test]
    fn deterministic_metrics_use_a_plain_threshold() {
        let r = one(Mode::Unpaired, "binary_size_bytes", &[1000.0], &[1020.0]);
        assert_eq!(r.verdict, Verdict::Regressed);
        let r = one(Mode::Unpaired, "binary_size_bytes", &[1000.0], &[1005.0]);
        assert_eq!(r.verdict, Verdict::Unchanged);
    }

    #[test]
    fn holm_makes_one_of_many_weak_signals_insignificant() {
        // Three gated metrics; one shows a moderate shift whose raw p is below α but whose
        // adjusted p is not.
        let base = noisy(100.0, 8, 0.03, 9);
        let head = noisy(112.0, 8, 0.03, 10);
        let flat = noisy(100.0, 8, 0.03, 11);
        let samples = [
            MetricSamples {
                name: "formation_time_ms",
                base: &base,
                head: &head,
                base_sessions: &[],
            },
            MetricSamples {
                name: "dht_put_ms_p50",
                base: &base,
                head: &flat,
                base_sessions: &[],
            },
            MetricSamples {
                name: "gossip_latency_ms_p50",
                base: &base,
                head: &flat,
                base_sessions: &[],
            },
        ];
        let c = compare(Mode::Unpaired, "t".into(), &samples, &GateConfig::default());
        let f = &c.metrics[0];
        assert!(f.p_adjusted.unwrap() >= f.p_regression.unwrap());
        assert!(c.headline().contains("REGRESSION") == (f.verdict == Verdict::Regressed));
    }

    #[test]
    fn against_sessions_drift_is_not_a_regression_but_a_jump_is() {
        // Three recorded sessions 4 % apart, 10 repetitions each, 1 % noise inside each.
        let base: Vec<f64> = [100.0, 104.0, 96.0]
            .iter()
            .enumerate()
            .flat_map(|(i, level)| noisy(*level, 10, 0.01, 20 + i as u64))
            .collect();
        let sessions = [10, 10, 10];
        let verdict = |head: &[f64]| {
            let samples = [MetricSamples {
                name: "formation_time_ms",
                base: &base,
                head,
                base_sessions: &sessions,
            }];
            compare(Mode::Unpaired, "t".into(), &samples, &GateConfig::default())
                .metrics
                .remove(0)
        };
        // A new session 6 % above the mean: within what drift does, so not a regression,
        // although Mann–Whitney on the pooled samples calls it one.
        let drifted = noisy(106.0, 10, 0.01, 30);
        let r = verdict(&drifted);
        assert_ne!(r.verdict, Verdict::Regressed, "{r:?}");
        assert!(r.noise.unwrap() > 0.03, "the noise is the drift: {r:?}");
        let pooled = one(Mode::Unpaired, "formation_time_ms", &base, &drifted);
        assert!(pooled.p_regression.unwrap() < 0.01, "{pooled:?}");
        // Twice as slow: far beyond any drift the sessions show.
        let r = verdict(&noisy(200.0, 10, 0.01, 31));
        assert_eq!(r.verdict, Verdict::Regressed, "{r:?}");
        // One recorded session cannot tell drift from change.
        let samples = [MetricSamples {
            name: "formation_time_ms",
            base: &base[..10],
            head: &drifted,
            base_sessions: &[10],
        }];
        let r = &compare(Mode::Unpaired, "t".into(), &samples, &GateConfig::default()).metrics[0];
        assert_eq!(r.verdict, Verdict::Inconclusive);
        assert!(r.reason.contains("1 session"), "{}", r.reason);
    }

    #[test]
    fn the_threshold_is_an_effect_size_not_a_multiple_of_the_noise() {
        // 10 % slower with 6 % noise per sample: the old rule's threshold was 2 × noise = 12 %
        // and hid it; now enough pairs call it what it is.
        let base = noisy(100.0, 40, 0.1, 40);
        let head: Vec<f64> = base
            .iter()
            .zip(noisy(110.0, 40, 0.1, 41))
            .map(|(b, h)| b * h / 100.0)
            .collect();
        let r = one(Mode::Paired, "gossip_latency_ms_p50", &base, &head);
        assert_eq!(r.threshold, 0.05);
        assert_eq!(r.verdict, Verdict::Regressed, "{r:?}");
    }

    #[test]
    fn threshold_overrides_apply() {
        let base = noisy(100.0, 15, 0.01, 12);
        let head = noisy(103.0, 15, 0.01, 13);
        let config = GateConfig {
            global: Some(0.02),
            ..Default::default()
        };
        let samples = [MetricSamples {
            name: "formation_time_ms",
            base: &base,
            head: &head,
            base_sessions: &[],
        }];
        let r = &compare(Mode::Unpaired, "t".into(), &samples, &config).metrics[0];
        assert_eq!(r.threshold, 0.02);
        assert_eq!(r.verdict, Verdict::Regressed, "{r:?}");
    }
}
