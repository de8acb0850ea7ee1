//! When a comparison is no verdict: the run failed or was interrupted, measured nothing, or
//! left out a gated metric the base has. A verdict over what happened to be measured would
//! claim more than the run can tell, so such a comparison keeps its numbers but says "no
//! verdict: <why>", and the command exits 3.
//!
//! Metrics the base has and the head lacks are listed as "not measured", gated or not, so
//! that no report shows them as a number or leaves them out without a word.

use crate::{
    compare::Comparison, data::comparison::NotMeasured, data::metrics, data::summary::RunSummary,
    report::comparison::first_line, run::Outcome, stats::descriptive::quantile,
};

/// Fills `comparison`'s `not_measured` and `no_verdict` for a run that ended with `outcome`.
/// `base_samples` gives the base's samples of a metric, `None` when the base lacks it.
pub fn judge<'a>(
    comparison: &mut Comparison,
    outcome: &Outcome,
    head: &RunSummary,
    base_samples: impl Fn(&str) -> Option<&'a [f64]>,
) {
    comparison.not_measured = not_measured(head, base_samples);
    comparison.no_verdict = reason(outcome, head, comparison);
}

/// Every defined metric the base has samples of and the head has none of, in definition order.
pub fn not_measured<'a>(
    head: &RunSummary,
    base_samples: impl Fn(&str) -> Option<&'a [f64]>,
) -> Vec<NotMeasured> {
    metrics::ALL
        .iter()
        .filter(|def| head.metric(def.name).is_none_or(|m| m.samples.is_empty()))
        .filter_map(|def| {
            let base_median = quantile(base_samples(def.name)?, 0.5)?;
            Some(NotMeasured {
                name: def.name.into(),
                unit: def.unit.into(),
                gated: def.gated,
                base_median,
            })
        })
        .collect()
}

/// Why `comparison` (its `not_measured` filled) is no verdict, or `None` when it is one.
pub fn reason(outcome: &Outcome, head: &RunSummary, comparison: &Comparison) -> Option<String> {
    let mut why = Vec::new();
    match outcome {
        Outcome::Complete => {}
        Outcome::Interrupted => why.push("the run was interrupted".to_owned()),
        Outcome::Failed(message) => why.push(format!("the run failed ({})", first_line(message))),
    }
    if head.repetitions_done == 0 {
        why.push("0 measured repetitions".into());
    }
    // After a failure every metric may be missing; the failure is the reason, not the list.
    if *outcome == Outcome::Complete {
        let missing: Vec<&str> = comparison
            .not_measured
            .iter()
            .filter(|m| m.gated)
            .map(|m| m.name.as_str())
            .collect();
        if !missing.is_empty() {
            why.push(format!(
                "gated metric(s) the base has were not measured: {}",
                missing.join(", ")
            ));
        }
    }
    if why.is_empty() && comparison.gated() == 0 {
        why.push("no gated metric was compared".into());
    }
    (!why.is_empty()).then(|| why.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{self, GateConfig, MetricSamples, Mode};

    fn fixture() -> RunSummary {
        serde_json::from_str(include_str!("../../tests/fixtures/summary-small.json")).unwrap()
    }

    /// The fixture compared with itself, paired, on every metric it has.
    fn compared(head: &RunSummary, base: &RunSummary) -> Comparison {
        let samples: Vec<MetricSamples> = head
            .metrics
            .iter()
            .filter_map(|h| {
                Some(MetricSamples {
                    name: &h.name,
                    base: &base.metric(&h.name)?.samples,
                    head: &h.samples,
                    base_sessions: &[],
                })
            })
            .collect();
        compare::compare(
            Mode::Paired,
            "revision main".into(),
            &samples,
            &GateConfig::default(),
        )
    }

    fn judged(outcome: &Outcome, head: &RunSummary, base: &RunSummary) -> Comparison {
        let mut c = compared(head, base);
        judge(&mut c, outcome, head, |name| {
            base.metric(name).map(|m| m.samples.as_slice())
        });
        c
    }

    #[test]
    fn a_complete_run_with_every_metric_is_a_verdict() {
        let s = fixture();
        let c = judged(&Outcome::Complete, &s, &s);
        assert_eq!(c.no_verdict, None);
        assert!(c.not_measured.is_empty());
        assert!(c.gated() > 0);
    }

    #[test]
    fn a_gated_metric_the_head_lacks_is_named_and_ungated_ones_are_listed() {
        let base = fixture();
        let mut head = fixture();
        head.metrics
            .retain(|m| m.name != "binary_size_bytes" && m.name != "avg_peers");
        assert!(base.metric("binary_size_bytes").is_some() && base.metric("avg_peers").is_some());
        let c = judged(&Outcome::Complete, &head, &base);
        assert_eq!(
            c.no_verdict.as_deref(),
            Some("gated metric(s) the base has were not measured: binary_size_bytes")
        );
        let missing: Vec<(&str, bool)> = c
            .not_measured
            .iter()
            .map(|m| (m.name.as_str(), m.gated))
            .collect();
        assert_eq!(missing, [("avg_peers", false), ("binary_size_bytes", true)]);
        let size = &c.not_measured[1];
        assert_eq!(size.unit, "bytes");
        assert_eq!(
            size.base_median,
            base.metric("binary_size_bytes")
                .unwrap()
                .summary
                .as_ref()
                .unwrap()
                .median
        );
        assert!(c.headline().starts_with("NO VERDICT: "), "{}", c.headline());
    }

    #[test]
    fn an_ungated_metric_the_head_lacks_leaves_the_verdict() {
        let base = fixture();
        let mut head = fixture();
        head.metrics.retain(|m| m.name != "avg_peers");
        let c = judged(&Outcome::Complete, &head, &base);
        assert_eq!(c.no_verdict, None);
        assert_eq!(c.not_measured.len(), 1);
    }

    #[test]
    fn a_failed_run_with_nothing_measured_says_why_in_one_line() {
        let base = fixture();
        let mut head = fixture();
        head.metrics.clear();
        head.repetitions_done = 0;
        head.complete = false;
        let failure = Outcome::Failed(format!(
            "rep0: node 1 exited before its ready line: {}\nlog tail\n(node logs in /x)",
            "x".repeat(300)
        ));
        let c = judged(&failure, &head, &base);
        let why = c.no_verdict.unwrap();
        assert!(
            why.starts_with("the run failed (rep0: node 1 exited before its ready line: xxx"),
            "{why}"
        );
        assert!(why.ends_with("…); 0 measured repetitions"), "{why}");
        assert!(
            !why.contains("log tail") && !why.contains("gated metric"),
            "{why}"
        );
        let interrupted = judged(&Outcome::Interrupted, &fixture(), &base);
        assert_eq!(
            interrupted.no_verdict.as_deref(),
            Some("the run was interrupted")
        );
    }

    #[test]
    fn nothing_gated_to_compare_is_no_verdict() {
        let mut base = fixture();
        let head = fixture();
        base.metrics
            .retain(|m| !metrics::definition(&m.name).is_some_and(|d| d.gated));
        let c = judged(&Outcome::Complete, &head, &base);
        assert_eq!(
            c.no_verdict.as_deref(),
            Some("no gated metric was compared")
        );
    }
}
