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

/// The comparison table, with verdicts coloured when `color` is set.
pub fn render_comparison(c: &crate::compare::Comparison, color: bool) -> String {
    use crate::{compare::Verdict, report::comparison};
    let rows: Vec<[String; 8]> = c.metrics.iter().map(comparison::row).collect();
    let widths: Vec<usize> = (0..8)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([comparison::HEADERS[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let headers: Vec<String> = comparison::HEADERS.iter().map(|h| h.to_string()).collect();
    let mut out = format!(
        "\n{}\n{}\n",
        line(&headers),
        "-".repeat(widths.iter().sum::<usize>() + 14)
    );
    for (m, row) in c.metrics.iter().zip(&rows) {
        let text = line(row);
        let code = match m.verdict {
            Verdict::Regressed => "31",
            Verdict::Improved => "32",
            Verdict::Inconclusive => "33",
            Verdict::Unchanged => "",
        };
        if color && !code.is_empty() {
            out.push_str(&format!("\x1b[{code}m{text}\x1b[0m\n"));
        } else {
            out.push_str(&text);
            out.push('\n');
        }
    }
    for w in &c.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out.push_str(&format!("{}\n", c.headline()));
    out
}
