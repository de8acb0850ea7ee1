//! The verdict rule, criterion's `compare_to_threshold` made three-valued plus power: a
//! change counts only if it is significant *and* beyond the threshold; "unchanged" needs the
//! power to have seen a change the size of the threshold; anything else is inconclusive.
//! Deterministic metrics compare by plain threshold.

use crate::stats::{power, sessions};

use super::{Evidence, GateConfig, MetricComparison, Power, Verdict};

/// Sets the verdict and its reason; `family` is the number of gated metrics Holm's
/// correction spans.
pub(super) fn decide(
    r: &mut MetricComparison,
    evidence: &Evidence,
    config: &GateConfig,
    family: usize,
) {
    if evidence.deterministic {
        (r.verdict, r.reason) = deterministic(r);
        return;
    }
    if evidence.identical {
        r.verdict = Verdict::Unchanged;
        r.reason = "the same value in every repetition on both sides".into();
        return;
    }
    if r.n_base < 2 || r.n_head < 2 {
        r.verdict = Verdict::Inconclusive;
        r.reason = format!("{} vs {} samples: too few to test", r.n_base, r.n_head);
        return;
    }
    if let Some(why) = &evidence.untestable {
        r.verdict = Verdict::Inconclusive;
        r.reason = why.clone();
        return;
    }
    r.mde = mde(r, evidence.power, config, family);
    (r.verdict, r.reason) = statistical(r, evidence, config);
}

fn pct(x: f64) -> f64 {
    x * 100.0
}

/// A deterministic metric: worse or better than its threshold, or within it.
fn deterministic(r: &MetricComparison) -> (Verdict, String) {
    match r.change.map(|c| r.direction.worse_by(c)) {
        None => (Verdict::Inconclusive, "base is zero".to_owned()),
        Some(w) if w > r.threshold => (
            Verdict::Regressed,
            format!(
                "deterministic: worse by {:.2}% > {:.1}%",
                pct(w),
                pct(r.threshold)
            ),
        ),
        Some(w) if -w > r.threshold => (
            Verdict::Improved,
            format!(
                "deterministic: better by {:.2}% > {:.1}%",
                pct(-w),
                pct(r.threshold)
            ),
        ),
        Some(_) => (
            Verdict::Unchanged,
            format!("deterministic: within {:.1}%", pct(r.threshold)),
        ),
    }
}

/// The minimal detectable effect of the test at the level its p-value faces.
fn mde(r: &MetricComparison, power: Power, config: &GateConfig, family: usize) -> Option<f64> {
    // Under Holm the first (smallest) p-value faces α / family: the power to promise is that.
    let level = if r.gated {
        config.alpha / family as f64
    } else {
        config.alpha
    };
    match power {
        Power::Unknown => None,
        Power::Paired { pairs, sd } => power::paired_mde(pairs, sd, level, config.power),
        Power::Unpaired { n_base, n_head, sd } => {
            power::unpaired_mde(n_base, n_head, sd, level, config.power)
        }
        Power::Sessions(test) => sessions::mde(&test, level, config.power),
    }
}

/// A statistical metric: significant and beyond the threshold either way, unchanged with
/// the power to tell, or inconclusive.
fn statistical(
    r: &MetricComparison,
    evidence: &Evidence,
    config: &GateConfig,
) -> (Verdict, String) {
    let p_worse = if r.gated {
        r.p_adjusted.or(r.p_regression)
    } else {
        r.p_regression
    };
    let w = r.direction.worse_by(r.change.unwrap_or(0.0));
    if p_worse.is_some_and(|p| p < config.alpha) && w > r.threshold {
        let reason = format!(
            "p = {:.4} < {} and worse by {:.1}% > threshold {:.1}%",
            p_worse.unwrap_or(1.0),
            config.alpha,
            pct(w),
            pct(r.threshold)
        );
        (Verdict::Regressed, reason)
    } else if evidence.p_improvement.is_some_and(|p| p < config.alpha) && -w > r.threshold {
        let reason = format!(
            "better by {:.1}% > threshold {:.1}%",
            pct(-w),
            pct(r.threshold)
        );
        (Verdict::Improved, reason)
    } else if w <= r.threshold
        && (r.mde.is_some_and(|mde| mde <= r.threshold) || evidence.power.noiseless())
    {
        let reason = match r.mde {
            Some(mde) => format!(
                "within ±{:.1}%; this test detects ≥ {:.1}%",
                pct(r.threshold),
                pct(mde)
            ),
            None => format!("within ±{:.1}%; no noise at all", pct(r.threshold)),
        };
        (Verdict::Unchanged, reason)
    } else {
        (Verdict::Inconclusive, inconclusive(r, w, p_worse))
    }
}

/// Why a statistical metric is inconclusive: too little power, or a change `w` that is not
/// significant.
fn inconclusive(r: &MetricComparison, w: f64, p_worse: Option<f64>) -> String {
    match r.mde {
        Some(mde) if w <= r.threshold => format!(
            "could only detect changes ≥ {:.1}% (threshold {:.1}%): more repetitions needed",
            pct(mde),
            pct(r.threshold)
        ),
        Some(_) => format!(
            "worse by {:.1}% but not significant (p = {:.3})",
            pct(w),
            p_worse.unwrap_or(1.0)
        ),
        None => "too few samples to reach significance, or values not all positive".to_owned(),
    }
}
