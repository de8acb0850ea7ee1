//! The paired test (base and head run interleaved in one job): Wilcoxon signed-rank on the
//! per-pair log-ratios, the Hodges–Lehmann estimate with a bootstrap interval.

use crate::stats::{Alternative, bootstrap, bootstrap::Interval, hodges_lehmann, power, wilcoxon};

use super::{GateConfig, MetricComparison, MetricSamples, Power, TestEvidence};

/// Tests the pairs of `s`, writing the regression p-value and (for positive values) the
/// change and its interval into `result`. Pairs of values that are not all positive are
/// compared by difference, without a change estimate of their own.
pub(super) fn test(
    s: &MetricSamples,
    positive: bool,
    (worse, better): (Alternative, Alternative),
    config: &GateConfig,
    result: &mut MetricComparison,
) -> TestEvidence {
    let n = s.base.len().min(s.head.len());
    let diffs: Vec<f64> = if positive {
        (0..n).map(|i| (s.head[i] / s.base[i]).ln()).collect()
    } else {
        (0..n).map(|i| s.head[i] - s.base[i]).collect()
    };
    result.p_regression = Some(wilcoxon::test(&diffs, worse).map_or(1.0, |t| t.p));
    if positive {
        result.change = hodges_lehmann::one_sample(&diffs).map(|hl| hl.exp() - 1.0);
        result.change_ci = bootstrap::paired_ratio(&diffs, 0.95, config.resamples, config.seed)
            .map(|ci| Interval {
                low: ci.low - 1.0,
                high: ci.high - 1.0,
            });
    }
    let sd = if positive {
        power::robust_sd(&diffs)
    } else {
        None
    };
    TestEvidence {
        p_improvement: Some(wilcoxon::test(&diffs, better).map_or(1.0, |t| t.p)),
        power: sd.map_or(Power::Unknown, |sd| Power::Paired { pairs: n, sd }),
        untestable: None,
    }
}
