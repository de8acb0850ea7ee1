//! The unpaired test within one session (a base measured in the same job, not interleaved:
//! `bench --against`): Mann–Whitney U on the two samples, the ratio of medians with a
//! bootstrap interval. It knows only the noise inside the job, so a baseline recorded in other
//! sessions goes through the sessions test instead.

use crate::stats::{Alternative, bootstrap, bootstrap::Interval, mann_whitney, power};

use super::{GateConfig, MetricComparison, MetricSamples, Power, TestEvidence};

/// Tests `s`, writing the regression p-value and the change interval into `result`; `noise`
/// is the base side's log-scale noise.
pub(super) fn test(
    s: &MetricSamples,
    noise: Option<f64>,
    (worse, better): (Alternative, Alternative),
    config: &GateConfig,
    result: &mut MetricComparison,
) -> TestEvidence {
    result.p_regression = mann_whitney::test(s.head, s.base, worse).map(|t| t.p);
    result.change_ci =
        bootstrap::ratio_of_medians(s.base, s.head, 0.95, config.resamples, config.seed).map(
            |ci| Interval {
                low: ci.low - 1.0,
                high: ci.high - 1.0,
            },
        );
    // The noisier side's log-scale noise (`noise` is the base side's, None unless positive).
    let sd = noise.and_then(|base_sd| {
        let log_head: Vec<f64> = s.head.iter().map(|v| v.ln()).collect();
        power::robust_sd(&log_head).map(|head_sd| base_sd.max(head_sd))
    });
    TestEvidence {
        p_improvement: mann_whitney::test(s.head, s.base, better).map(|t| t.p),
        power: sd.map_or(Power::Unknown, |sd| Power::Unpaired {
            n_base: s.base.len(),
            n_head: s.head.len(),
            sd,
        }),
        untestable: None,
    }
}
