//! The trend report: `trend.md` and one plot per metric (per-run medians over time, segment
//! medians, change points marked).

use std::path::{Path, PathBuf};

use plotters::{coord::Shift, prelude::*};

use crate::{
    data::env::short_commit,
    history::{MetricTrend, Trend},
    report::{
        escape::{code, markdown_text},
        format_value,
        plots::{BASE_COLOR, HEAD_COLOR, PlotError, both_formats, ensure_font},
    },
};

/// Renders `trend.md`. `plots` are the plot files relative to where the markdown will live.
pub fn markdown(trend: &Trend, plots: &[String]) -> String {
    let scenario = markdown_text(&trend.scenario);
    let mut out = format!("# swarmbench trend: {scenario}\n\n");
    out.push_str(&format!(
        "{} recorded runs. Change points by E-divisive means (Matteson & James 2014) on the per-run medians, \
         each kept only if a seeded permutation test gives p ≤ {}. A change point says the level of the series \
         moved at that record; it cannot tell whether the code or the machine moved it (records where the \
         machine fingerprint changed are marked).\n\n",
        trend.records, trend.alpha
    ));
    if trend.recent_regressions.is_empty() {
        out.push_str(&format!(
            "**No regression change point among the newest {} runs.**\n\n",
            trend.recent
        ));
    } else {
        out.push_str(&format!(
            "**{} regression change point(s) among the newest {} runs:**\n\n",
            trend.recent_regressions.len(),
            trend.recent
        ));
        for (name, c) in &trend.recent_regressions {
            out.push_str(&format!(
                "- {} {:+.1}% from commit {} ({}), p = {:.3}{}\n",
                code(name),
                c.change * 100.0,
                code(short_commit(&c.commit)),
                markdown_text(&c.started_at),
                c.p_value,
                if c.environment_changed {
                    " — the machine changed at this run"
                } else {
                    ""
                }
            ));
        }
        out.push('\n');
    }
    out.push_str("| metric | runs | latest | change points (commit: before → after) |\n|---|---:|---:|---|\n");
    for m in &trend.metrics {
        let latest = m.points.last().map_or("-".into(), |p| {
            format!("{} {}", format_value(p.1, &m.unit), m.unit)
        });
        let changes = if m.changes.is_empty() {
            "none".to_owned()
        } else {
            m.changes
                .iter()
                .map(|c| {
                    format!(
                        "{}: {} → {} ({:+.1}%{})",
                        code(short_commit(&c.commit)),
                        format_value(c.before, &m.unit),
                        format_value(c.after, &m.unit),
                        c.change * 100.0,
                        if c.regression { ", worse" } else { ", better" }
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            code(&m.name),
            m.points.len(),
            latest,
            changes
        ));
    }
    if !plots.is_empty() {
        out.push_str("\n## Plots\n\n");
        for p in plots.iter().filter(|p| p.ends_with(".svg")) {
            out.push_str(&format!("![{p}]({p})\n\n"));
        }
    }
    out
}

/// A file-name-safe form of a metric name.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Draws `trend-<metric>.svg/.png` for every gated metric, and every metric with a change
/// point, that has at least two points.
pub fn plots(dir: &Path, trend: &Trend) -> Result<Vec<PathBuf>, PlotError> {
    ensure_font();
    std::fs::create_dir_all(dir).map_err(|e| PlotError {
        path: dir.into(),
        message: e.to_string(),
    })?;
    let mut written = Vec::new();
    let worth_a_plot = |m: &&MetricTrend| {
        m.points.len() >= 2
            && (!m.changes.is_empty()
                || crate::data::metrics::definition(&m.name).is_some_and(|d| d.gated))
    };
    for m in trend.metrics.iter().filter(worth_a_plot) {
        written.extend(both_formats(
            dir,
            &format!("trend-{}", file_stem(&m.name)),
            (1000, 500),
            |a| draw(a, &trend.scenario, m),
            |a| draw(a, &trend.scenario, m),
        )?);
    }
    Ok(written)
}

fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scenario: &str,
    m: &MetricTrend,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    area.fill(&WHITE).map_err(|e| err(&e))?;
    let (lo, hi) = m.points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.01).max(1e-9);
    let last = m.points.last().map_or(1, |p| p.0) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{scenario}: {} ({}), per-run median; red lines: change points",
                m.name, m.unit
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5..last + 0.5, (lo - pad)..(hi + pad))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("recorded run (oldest → newest)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc(&m.unit)
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(LineSeries::new(
            m.points.iter().map(|p| (p.0 as f64, p.1)),
            HEAD_COLOR.stroke_width(1),
        ))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(
            m.points
                .iter()
                .map(|p| Circle::new((p.0 as f64, p.1), 3, HEAD_COLOR.filled())),
        )
        .map_err(|e| err(&e))?;
    // Segment medians: a flat line per segment between change points.
    let mut segments = Vec::new();
    let mut x0 = -0.5;
    for c in &m.changes {
        let x1 = c.index as f64 - 0.5;
        segments.push((x0, x1, c.before));
        x0 = x1;
    }
    if let Some(c) = m.changes.last() {
        segments.push((x0, last + 0.5, c.after));
    }
    for (x0, x1, level) in segments {
        chart
            .draw_series(LineSeries::new(
                [(x0, level), (x1, level)],
                BASE_COLOR.stroke_width(2),
            ))
            .map_err(|e| err(&e))?;
    }
    for c in &m.changes {
        let x = c.index as f64 - 0.5;
        chart
            .draw_series(LineSeries::new(
                [(x, lo - pad), (x, hi + pad)],
                RED.stroke_width(2),
            ))
            .map_err(|e| err(&e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        data::metrics::Direction,
        history::{MetricChange, MetricTrend},
    };

    fn trend() -> Trend {
        let change = MetricChange {
            index: 5,
            commit: "0123456789abcdef".into(),
            started_at: "2026-01-06T00:00:00Z".into(),
            before: 1.0,
            after: 1.3,
            change: 0.3,
            regression: true,
            p_value: 0.002,
            environment_changed: false,
        };
        Trend {
            scenario: "standard".into(),
            records: 8,
            commits: (0..8).map(|i| format!("c{i}")).collect(),
            alpha: 0.01,
            metrics: vec![MetricTrend {
                name: "gossip_latency_ms_p50".into(),
                unit: "ms".into(),
                direction: Direction::LowerIsBetter,
                points: (0..8).map(|i| (i, if i < 5 { 1.0 } else { 1.3 })).collect(),
                changes: vec![change.clone()],
            }],
            recent_regressions: vec![("gossip_latency_ms_p50".into(), change)],
            recent: 4,
        }
    }

    #[test]
    fn markdown_names_the_change_and_its_commit() {
        let md = markdown(&trend(), &["plots/trend-gossip_latency_ms_p50.svg".into()]);
        assert!(md.contains("1 regression change point(s)"), "{md}");
        assert!(
            md.contains("`gossip_latency_ms_p50` +30.0% from commit `0123456789ab`"),
            "{md}"
        );
        assert!(md.contains("1.00 → 1.30 (+30.0%, worse)"), "{md}");
        assert!(
            md.contains("![plots/trend-gossip_latency_ms_p50.svg]"),
            "{md}"
        );
    }

    #[test]
    fn plots_mark_the_change_point() {
        let dir = tempfile::tempdir().unwrap();
        let files = plots(dir.path(), &trend()).unwrap();
        assert_eq!(files.len(), 2);
        let svg =
            std::fs::read_to_string(dir.path().join("trend-gossip_latency_ms_p50.svg")).unwrap();
        assert!(svg.contains("gossip_latency_ms_p50") && svg.contains("<circle"));
        assert!(svg.contains("#FF0000"), "the change point is drawn in red");
    }
}
