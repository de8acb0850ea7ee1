//! Plots with plotters, each written as SVG and PNG: per-metric distributions (base vs head)
//! and the gossip latency CDF. Plots show data they are given; they compute only layout.
//!
//! Text is rendered with DejaVu Sans embedded in the binary (assets/, with its licence), so
//! plots look the same on every machine and need no system fonts.

use std::path::{Path, PathBuf};

use plotters::{
    coord::Shift,
    prelude::*,
    style::{FontStyle, register_font},
};

use crate::data::summary::RunSummary;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
pub(super) const HEAD_COLOR: RGBColor = RGBColor(31, 119, 180);
pub(super) const BASE_COLOR: RGBColor = RGBColor(255, 127, 14);

/// Why a plot could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("plot {path}: {message}")]
pub struct PlotError {
    /// The file.
    pub path: PathBuf,
    /// What failed.
    pub message: String,
}

/// Everything the plots show.
pub struct PlotData<'a> {
    /// The measured run.
    pub head: &'a RunSummary,
    /// The base run or baseline samples, when comparing.
    pub base: Option<&'a RunSummary>,
    /// Gossip publish-to-receive latencies in ms, every delivery, per arm (head first).
    pub gossip_latencies_ms: &'a [(String, Vec<f64>)],
}

pub(super) fn ensure_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Draws every plot into `dir` as SVG and PNG; returns the files written.
pub fn render(dir: &Path, data: &PlotData) -> Result<Vec<PathBuf>, PlotError> {
    ensure_font();
    std::fs::create_dir_all(dir).map_err(|e| PlotError {
        path: dir.into(),
        message: e.to_string(),
    })?;
    let mut written = both_formats(
        dir,
        "distributions",
        (1200, 900),
        |a| draw_distributions(a, data),
        |a| draw_distributions(a, data),
    )?;
    if data.gossip_latencies_ms.iter().any(|(_, v)| !v.is_empty()) {
        written.extend(both_formats(
            dir,
            "gossip_latency_cdf",
            (900, 600),
            |a| draw_cdf(a, data),
            |a| draw_cdf(a, data),
        )?);
    }
    Ok(written)
}

/// Renders one figure as `name.svg` and `name.png`.
pub(super) fn both_formats(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    svg: impl Fn(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
    png: impl Fn(&DrawingArea<BitMapBackend, Shift>) -> Result<(), String>,
) -> Result<Vec<PathBuf>, PlotError> {
    let svg_path = dir.join(format!("{name}.svg"));
    let png_path = dir.join(format!("{name}.png"));
    let fail = |path: &Path, message: String| PlotError {
        path: path.to_path_buf(),
        message,
    };
    {
        let area = SVGBackend::new(&svg_path, size).into_drawing_area();
        svg(&area).map_err(|m| fail(&svg_path, m))?;
        area.present().map_err(|e| fail(&svg_path, e.to_string()))?;
    }
    {
        let area = BitMapBackend::new(&png_path, size).into_drawing_area();
        png(&area).map_err(|m| fail(&png_path, m))?;
        area.present().map_err(|e| fail(&png_path, e.to_string()))?;
    }
    Ok(vec![svg_path, png_path])
}

/// Small multiples: one panel per gated metric, base samples left, head samples right.
fn draw_distributions<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    area.fill(&WHITE).map_err(|e| e.to_string())?;
    let metrics: Vec<_> = data
        .head
        .metrics
        .iter()
        .filter(|m| crate::data::metrics::definition(&m.name).is_some_and(|d| d.gated))
        .take(12)
        .collect();
    let title = match data.base {
        Some(_) => format!(
            "{}: base (orange) vs head (blue), one point per repetition",
            data.head.scenario.name
        ),
        None => format!("{}: one point per repetition", data.head.scenario.name),
    };
    let area = area
        .titled(&title, ("sans-serif", 22))
        .map_err(|e| e.to_string())?;
    let panels = area.split_evenly((3, 4));
    for (panel, metric) in panels.iter().zip(metrics) {
        let base: Vec<f64> = data
            .base
            .and_then(|b| b.metric(&metric.name))
            .map(|m| m.samples.clone())
            .unwrap_or_default();
        let all: Vec<f64> = metric
            .samples
            .iter()
            .chain(&base)
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let (lo, hi) = all
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        if all.is_empty() {
            continue;
        }
        let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.01).max(1e-9);
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("{} ({})", metric.name, metric.unit),
                ("sans-serif", 14),
            )
            .margin(8)
            .x_label_area_size(20)
            .y_label_area_size(55)
            .build_cartesian_2d(-0.5f64..1.5f64, (lo - pad)..(hi + pad))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_labels(2)
            .x_label_formatter(&|x| {
                if *x < 0.5 {
                    "base".into()
                } else {
                    "head".into()
                }
            })
            .y_labels(5)
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(|e| e.to_string())?;
        let spread = |i: usize, n: usize| {
            if n <= 1 {
                0.0
            } else {
                (i as f64 / (n - 1) as f64 - 0.5) * 0.4
            }
        };
        chart
            .draw_series(
                base.iter()
                    .enumerate()
                    .map(|(i, v)| Circle::new((spread(i, base.len()), *v), 3, BASE_COLOR.filled())),
            )
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(metric.samples.iter().enumerate().map(|(i, v)| {
                Circle::new(
                    (1.0 + spread(i, metric.samples.len()), *v),
                    3,
                    HEAD_COLOR.filled(),
                )
            }))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Empirical CDF of every gossip delivery's latency, per arm.
fn draw_cdf<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    area.fill(&WHITE).map_err(|e| e.to_string())?;
    let max = data
        .gossip_latencies_ms
        .iter()
        .flat_map(|(_, v)| v.iter())
        .fold(0.0f64, |m, v| m.max(*v))
        .max(1e-3);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{}: gossip publish-to-receive latency, every delivery",
                data.head.scenario.name
            ),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..max * 1.05, 0.0..1.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("latency (ms)")
        .y_desc("share of deliveries ≤ x")
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, (label, values)) in data.gossip_latencies_ms.iter().enumerate() {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let color = if i == 0 { HEAD_COLOR } else { BASE_COLOR };
        chart
            .draw_series(LineSeries::new(
                sorted
                    .iter()
                    .enumerate()
                    .map(|(k, v)| (*v, (k + 1) as f64 / n)),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_svg_and_png_for_each_plot() {
        let head: RunSummary =
            serde_json::from_str(include_str!("../../tests/fixtures/summary-small.json")).unwrap();
        let latencies = vec![
            ("head".to_owned(), vec![0.3, 0.4, 0.5, 0.9]),
            ("base".to_owned(), vec![0.2, 0.3, 0.6]),
        ];
        let dir = tempfile::tempdir().unwrap();
        let files = render(
            dir.path(),
            &PlotData {
                head: &head,
                base: Some(&head),
                gossip_latencies_ms: &latencies,
            },
        )
        .unwrap();
        assert_eq!(files.len(), 4);
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            assert!(bytes.len() > 1000, "{} is suspiciously small", f.display());
        }
        let svg = std::fs::read_to_string(dir.path().join("distributions.svg")).unwrap();
        assert!(
            svg.contains("formation_time_ms") && svg.contains("<circle"),
            "the SVG names the metric and draws points"
        );
        assert_eq!(
            &std::fs::read(dir.path().join("gossip_latency_cdf.png")).unwrap()[1..4],
            b"PNG"
        );
    }
}
