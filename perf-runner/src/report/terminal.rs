//! The table printed at the end of a run.

use crate::{report::format_value, summary::RunSummary};

/// A plain-text table: metric, median, range, noise, unit.
pub fn render(summary: &RunSummary) -> String {
    let mut rows = vec![[
        "metric".to_owned(),
        "median".into(),
        "min … max".into(),
        "noise".into(),
        "unit".into(),
    ]];
    for m in &summary.metrics {
        let Some(s) = &m.summary else { continue };
        rows.push([
            m.name.clone(),
            format_value(s.median, &m.unit),
            format!(
                "{} … {}",
                format_value(s.min, &m.unit),
                format_value(s.max, &m.unit)
            ),
            if s.n > 1 {
                format!("±{:.1}%", s.rel_mad * 100.0)
            } else {
                "-".into()
            },
            m.unit.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "{} · {} nodes · {} · {} · {} of {} repetitions{}\n",
        summary.scenario.name,
        summary.scenario.nodes,
        summary.scenario.topology,
        summary.scenario.transport,
        summary.repetitions_done,
        summary.scenario.repetitions,
        if summary.complete {
            ""
        } else {
            " · INCOMPLETE"
        }
    );
    for (i, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c == 0 || c == 4 {
                    format!("{cell:<w$}", w = widths[c])
                } else {
                    format!("{cell:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 8));
            out.push('\n');
        }
    }
    out.push_str("noise = median absolute deviation / median over repetitions\n");
    for f in &summary.failures {
        out.push_str(&format!(
            "FAILURE (repetition {}): {}\n",
            f.repetition, f.message
        ));
    }
    out
}
