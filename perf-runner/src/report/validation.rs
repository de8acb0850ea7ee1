//! `validation.md`: the gate's false-alarm and detection rates per experiment, per metric and
//! per run, each with its Clopper–Pearson interval, and what the injected delay did.

use crate::data::validation::{CALIBRATION_METRIC, Experiment, ExperimentKind, Rate, Validation};

/// `k / n = r% (95% CI low … high)`, or "no trials" (a rate of nothing is not 0).
pub fn rate_text(r: &Rate) -> String {
    let (Some(rate), Some(ci)) = (r.rate, r.ci95) else {
        return "no trials".into();
    };
    format!(
        "{} / {} = {:.1}% (95% CI {:.1}% … {:.1}%)",
        r.k,
        r.n,
        rate * 100.0,
        ci.low * 100.0,
        ci.high * 100.0
    )
}

/// `validation.md`.
pub fn render(v: &Validation) -> String {
    let mut out = format!(
        "# Gate validation: {}\n\nEach paired run takes its first look after {} pairs and may add pairs up to its budget of {:.0} s; every verdict comes through the same gate as `cargo xtask perf`.\n\n",
        v.scenario, v.repetitions, v.budget_s
    );
    out.push_str("| experiment | what counts | per metric comparison | per run (gate failed) |\n|---|---|---|---|\n");
    for e in &v.experiments {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            e.name,
            what_counts(e),
            rate_text(&e.per_comparison),
            rate_text(&e.per_run)
        ));
    }
    for e in &v.experiments {
        experiment(e, &mut out);
    }
    out.push_str("\nA rate of 0 out of n is not zero: the interval's upper bound is what the experiment can vouch for.\n");
    out
}

/// What an experiment's events are.
fn what_counts(e: &Experiment) -> String {
    match &e.kind {
        ExperimentKind::AaPaired => {
            "false alarms: any gated metric regressed, same binary on both sides".into()
        }
        ExperimentKind::AaSessions { sessions } => format!(
            "false alarms: any gated metric regressed against a baseline of {sessions} sessions of the same binary"
        ),
        ExperimentKind::Injected { slowed, .. } => format!(
            "detections: regressed among the metrics shifted near the target ({})",
            slowed
                .iter()
                .map(|(m, _)| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One experiment's section: its setup and a per-metric table.
fn experiment(e: &Experiment, out: &mut String) {
    out.push_str(&format!("\n## {}\n\n", e.name));
    if let ExperimentKind::Injected {
        target_shift,
        delay_us,
        slowed,
    } = &e.kind
    {
        let target = target_shift.map_or(String::new(), |t| {
            format!(
                ", calibrated to shift `{}` by {:.0} %",
                CALIBRATION_METRIC,
                t * 100.0
            )
        });
        out.push_str(&format!(
            "Delay {delay_us} µs per handled gossip message and DHT request on the head side{target}. The calibration run's shift of each slowed metric: {}.\n\n",
            slowed
                .iter()
                .map(|(m, s)| format!("`{m}` {:+.1} %", s * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let finished: Vec<String> = e
        .runs
        .iter()
        .filter(|r| r.failed.is_none())
        .map(|r| r.pairs.to_string())
        .collect();
    out.push_str(&format!(
        "{} runs finished; pairs (or repetitions) per run: {}.\n\n",
        finished.len(),
        if finished.is_empty() {
            "-".into()
        } else {
            finished.join(", ")
        }
    ));
    let failed: Vec<&str> = e.runs.iter().filter_map(|r| r.failed.as_deref()).collect();
    if !failed.is_empty() {
        out.push_str(&format!(
            "Runs that failed, reported and not counted ({}):\n\n",
            failed.len()
        ));
        for why in failed {
            out.push_str(&format!("- {}\n", why.lines().next().unwrap_or(why)));
        }
        out.push('\n');
    }
    out.push_str("| metric | regressed | median change |\n|---|---|---|\n");
    for m in &e.metrics {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            m.metric,
            rate_text(&m.rate),
            m.median_change
                .map_or("not measured".into(), |c| format!("{:+.1}%", c * 100.0))
        ));
    }
}
