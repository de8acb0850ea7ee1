//! The comparison section, shared by the markdown report and the terminal: rows of cells,
//! computed once from a finished [`Comparison`].

use crate::{
    compare::{Comparison, MetricComparison, Mode, Verdict},
    report::format_value,
};

/// Column headers of the comparison table.
pub const HEADERS: [&str; 8] = [
    "metric",
    "base",
    "head",
    "change",
    "95% CI",
    "p (Holm)",
    "threshold",
    "verdict",
];

/// One row of cells.
pub fn row(m: &MetricComparison) -> [String; 8] {
    let pct = |x: f64| format!("{:+.1}%", x * 100.0);
    [
        format!("{}{}", m.name, if m.gated { "" } else { " (info)" }),
        format!("{} {}", format_value(m.base_median, &m.unit), m.unit),
        format!("{} {}", format_value(m.head_median, &m.unit), m.unit),
        m.change.map_or("-".into(), pct),
        m.change_ci.map_or("-".into(), |ci| {
            format!("{} … {}", pct(ci.low), pct(ci.high))
        }),
        m.p_adjusted
            .or(m.p_regression)
            .map_or("-".into(), |p| format!("{p:.4}")),
        format!("±{:.1}%", m.threshold * 100.0),
        match (m.verdict, m.mde) {
            (Verdict::Unchanged, Some(mde)) => format!("unchanged (MDE {:.1}%)", mde * 100.0),
            (v, _) => v.to_string(),
        },
    ]
}

/// What was compared, how, and at what level, in a few sentences.
pub fn method(c: &Comparison) -> String {
    let gated = c.metrics.iter().filter(|m| m.gated).count();
    let how = match (c.mode, c.base_sessions) {
        (Mode::Paired, _) => {
            "paired: base and head interleaved in ABBA order on this machine; one-sided Wilcoxon signed-rank test on per-pair log-ratios; change = Hodges–Lehmann estimate".to_owned()
        }
        (Mode::Unpaired, Some(sessions)) => format!(
            "unpaired against {sessions} recorded session(s): this run's level (median) against the prediction interval of the sessions' levels, Student's t with {} degrees of freedom, so drift between sessions counts as noise; change = ratio of this run's median to the sessions' geometric mean",
            sessions.saturating_sub(1)
        ),
        (Mode::Unpaired, None) => {
            "unpaired: one-sided Mann–Whitney U test against the other run's samples; change = ratio of medians".to_owned()
        }
    };
    let mut text = format!(
        "Compared with {} ({how}). A regression needs Holm-adjusted p < {} across the {gated} gated metrics and a change beyond the threshold, the effect worth blocking for (5 % unless the scenario's [thresholds] or --threshold say otherwise). \"unchanged\" is claimed only when the minimal detectable effect (MDE, 80 % power) is within the threshold; otherwise the metric is \"inconclusive\".",
        c.base_label, c.alpha
    );
    if let Some(s) = &c.sequential {
        let pairs: Vec<String> = s.looks.iter().map(|l| l.pairs.to_string()).collect();
        text.push_str(&format!(
            " Sequential: looks at {} pairs (at most {} within the {:.0} s budget), each testing at its share of α = {} (Pocock-type alpha spending), so looking more than once keeps the false-alarm rate; the last look's share is the level above. Stopped: {}.",
            pairs.join(", "),
            s.max_pairs,
            s.budget_s,
            s.alpha,
            s.stopped
        ));
    }
    text
}

/// A Mermaid bar chart of the gated metrics' changes, which GitHub renders inline.
pub fn mermaid(c: &Comparison) -> String {
    let gated: Vec<&MetricComparison> = c
        .metrics
        .iter()
        .filter(|m| m.gated && m.change.is_some())
        .collect();
    if gated.is_empty() {
        return String::new();
    }
    let changes: Vec<f64> = gated
        .iter()
        .map(|m| (m.change.unwrap_or(0.0) * 1000.0).round() / 10.0)
        .collect();
    let bound = changes
        .iter()
        .fold(10.0f64, |acc, v| acc.max(v.abs()))
        .ceil();
    format!(
        "```mermaid\nxychart-beta\n    title \"Change of gated metrics vs base (%)\"\n    x-axis [{}]\n    y-axis \"change %\" {} --> {}\n    bar [{}]\n```\n",
        gated
            .iter()
            .map(|m| format!("\"{}\"", m.name))
            .collect::<Vec<_>>()
            .join(", "),
        -bound,
        bound,
        changes
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}
