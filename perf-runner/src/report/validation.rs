//! `validation.md`: the gate's false-alarm and detection rates with their intervals, and what
//! the injected delay did to each slowed metric.

use crate::data::validation::{Rate, Validation};

fn rate_text(r: &Rate) -> String {
    let ci = r.ci95.map_or("-".into(), |ci| {
        format!("{:.1}% … {:.1}%", ci.low * 100.0, ci.high * 100.0)
    });
    format!("{} / {} = {:.1}% (95% CI {ci})", r.k, r.n, r.rate * 100.0)
}

/// `validation.md`.
pub fn render(v: &Validation) -> String {
    let mut out = format!(
        "# Gate validation: {}\n\n{} paired repetitions per run; injected delay {} µs per handled gossip message and DHT request.\n\n",
        v.scenario, v.repetitions, v.inject_delay_us
    );
    out.push_str("| experiment | per metric comparison | per run |\n|---|---|---|\n");
    out.push_str(&format!(
        "| A/A false alarms (goal ≤ 1 % per metric) | {} | {} |\n",
        rate_text(&v.false_alarms_per_metric),
        rate_text(&v.false_alarms_per_run)
    ));
    out.push_str(&format!(
        "| injected slowdown detected (latency metrics) | {} | {} |\n\n",
        rate_text(&v.detections_per_metric),
        rate_text(&v.detections_per_run)
    ));
    out.push_str("What the injected delay did (median change over the injected runs):\n\n");
    for (name, change) in &v.injected_change {
        out.push_str(&format!(
            "- `{name}`: {}\n",
            change.map_or("-".into(), |c| format!("{:+.1}%", c * 100.0))
        ));
    }
    out.push_str("\nA rate of 0 out of n is not zero: the interval's upper bound is what the experiment can vouch for.\n");
    out
}
