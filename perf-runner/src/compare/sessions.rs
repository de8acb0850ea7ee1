//! The sessions test (a run against a baseline recorded over several sessions): the run's level
//! against the prediction interval of the recorded sessions' levels ([`stats::sessions`]), so
//! the noise it knows includes drift between sessions (another VM, another day).

use crate::stats::{Alternative, bootstrap::Interval, sessions};

use super::{MetricComparison, MetricSamples, Power, TestEvidence};

/// Tests `s` session against session, writing the regression p-value, the change and its
/// interval into `result`. A baseline of one session cannot tell drift from change: no test.
pub(super) fn test(
    s: &MetricSamples,
    (worse, _better): (Alternative, Alternative),
    result: &mut MetricComparison,
) -> TestEvidence {
    let mut recorded = Vec::with_capacity(s.base_sessions.len());
    let mut start = 0;
    for &n in s.base_sessions {
        recorded.push(&s.base[start..(start + n).min(s.base.len())]);
        start += n;
    }
    let Some(t) = sessions::test(&recorded, s.head) else {
        let untestable = if recorded.len() < 2 {
            format!(
                "the baseline holds {} session(s): drift between sessions is unknown, so no change can be told from it (record more with `perf baseline update --sessions 3`, or compare with --against)",
                recorded.len()
            )
        } else {
            "values not all positive: the sessions test works on ratios".to_owned()
        };
        return TestEvidence {
            p_improvement: None,
            power: Power::Unknown,
            untestable: Some(untestable),
        };
    };
    let (p_worse, p_better) = match worse {
        Alternative::Greater => (t.p_greater, t.p_less),
        Alternative::Less => (t.p_less, t.p_greater),
    };
    result.p_regression = Some(p_worse);
    result.change = Some(t.shift.exp() - 1.0);
    result.change_ci =
        sessions::change_interval(&t, 0.95).map(|(low, high)| Interval { low, high });
    // The noise the verdict faced: the spread of the recorded sessions' levels.
    result.noise = Some(t.spread);
    TestEvidence {
        p_improvement: Some(p_better),
        power: Power::Sessions(t),
        untestable: None,
    }
}
