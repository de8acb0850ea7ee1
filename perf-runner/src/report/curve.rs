//! A scale curve's renderings: `report.md` (one row per size, one column per metric, with what a
//! curve from one machine cannot tell), `curve.csv`, and `curve.svg`/`curve.png`: small panels
//! (formation, DHT get, gossip, memory, CPU, …) over the number of nodes on a log axis.
//! [`write_files`] puts them on disk. Nothing here computes beyond layout: the medians come
//! from [`crate::tasks::scale_curve`].

use std::path::{Path, PathBuf};

use plotters::{
    coord::{
        Shift,
        combinators::BindKeyPoints,
        ranged1d::{AsRangedCoord, ValueFormatter},
    },
    prelude::*,
};

use crate::{
    Error,
    data::{
        curve::{Curve, Point, Status},
        output::{RunDir, write_atomic},
    },
    report::{
        escape::{code, markdown_text, truncate},
        format_value,
        plots::{BASE_COLOR, HEAD_COLOR, PlotError, both_formats, ensure_font},
    },
};

/// The plot's file stem: `curve.svg` and `curve.png`.
const PLOT: &str = "curve";

/// Writes `curve.json`, `curve.csv` and `report.md` atomically, then the plots. Plots never fail
/// the curve: a plot that cannot be drawn comes back as the message to warn with.
pub fn write_files(dir: &RunDir, curve: &Curve) -> Result<Option<String>, Error> {
    let io = |path: PathBuf| move |source| Error::Io { path, source };
    let json = serde_json::to_vec_pretty(curve).expect("a curve serializes");
    write_atomic(&dir.curve_json(), &json).map_err(io(dir.curve_json()))?;
    write_atomic(&dir.curve_csv(), csv(curve).as_bytes()).map_err(io(dir.curve_csv()))?;
    write_atomic(&dir.report_md(), markdown(curve).as_bytes()).map_err(io(dir.report_md()))?;
    Ok(plot(dir, curve).err().map(|e| e.to_string()))
}

/// What a cell shows for a size without a value of its metric.
fn missing(status: Status) -> &'static str {
    match status {
        Status::Ok => "not measured",
        Status::Failed => "failed",
        Status::Interrupted => "interrupted",
        Status::NotRun => "not run",
        Status::Pending => "pending",
    }
}

/// A size's value of `metric`, formatted, or why there is none. A failed size shows "failed"
/// even where its partial run had values: the curve does not draw a size that did not finish.
fn cell(point: &Point, metric: &str, unit: &str) -> String {
    match (point.status, point.median(metric)) {
        (Status::Ok | Status::Interrupted, Some(v)) => format_value(v, unit),
        (status, _) => missing(status).into(),
    }
}

/// `nodes, …` in words: "10, 30 and 100".
fn listed(sizes: &[usize]) -> String {
    match sizes {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!(
            "{} and {last}",
            init.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `report.md`.
pub fn markdown(curve: &Curve) -> String {
    let mut out = format!(
        "# swarmbench scale curve: {}\n\n\
         How cost grows with network size: scenario {} run at {} nodes (`--nodes`), {} per size, \
         each a fresh cluster. Every value is the median over a size's repetitions; memory and CPU \
         are per node. A curve compares nothing and never gates: each size is an ordinary run with \
         its own report (below), and no baseline is read or written.\n\n",
        code(&curve.scenario),
        code(&curve.scenario),
        listed(&curve.sizes),
        match curve.repetitions {
            1 => "1 measured repetition".to_owned(),
            n => format!("{n} measured repetitions"),
        },
    );
    if let Some(env) = &curve.environment {
        out.push_str(&format!(
            "Machine: {} ({} cores), {}, kernel {}; network: {}. Node binary: {}.\n\n",
            env.cpu_model,
            env.cores,
            env.os,
            env.kernel,
            env.network_backend,
            code(&curve.node_bin),
        ));
    }
    if curve.points.iter().any(|p| p.status == Status::Pending) {
        out.push_str(
            "**Unfinished: sizes marked pending have not run (the curve is still running, or its runner was killed).**\n\n",
        );
    }
    write_table(curve, &mut out);
    out.push_str(&format!(
        "\n![how each metric grows with the number of nodes]({PLOT}.svg)\n\n"
    ));
    out.push_str(&cannot_tell(curve));
    stopped(curve, &mut out);
    runs(curve, &mut out);
    definitions(curve, &mut out);
    out
}

/// The table: one row per size, one column per metric with its unit in the header.
pub fn table(curve: &Curve) -> String {
    let mut out = String::new();
    write_table(curve, &mut out);
    out
}

fn write_table(curve: &Curve, out: &mut String) {
    out.push_str("| nodes | status |");
    for c in &curve.columns {
        out.push_str(&format!(" {} ({}) |", code(&c.metric), c.unit));
    }
    out.push_str("\n|---:|---|");
    out.push_str(&"---:|".repeat(curve.columns.len()));
    out.push('\n');
    for p in &curve.points {
        out.push_str(&format!("| {} | {} |", p.nodes, p.status));
        for c in &curve.columns {
            out.push_str(&format!(" {} |", cell(p, &c.metric, &c.unit)));
        }
        out.push('\n');
    }
}

/// What a curve measured on one machine cannot tell.
fn cannot_tell(curve: &Curve) -> String {
    let machine = curve.environment.as_ref().map_or_else(
        || "this one machine".to_owned(),
        |env| format!("this one machine's {} cores", env.cores),
    );
    format!(
        "**What this curve cannot tell.** Every node of every size ran on {machine}, beside the \
         runner. As the network grows, the nodes compete for those cores: CPU contention inflates \
         formation time and lookup and gossip latencies at large sizes, and idle CPU per node \
         includes waiting for a core. The curve shows where this machine's limits are, not how \
         the protocol scales; that needs the nodes on separate machines.\n"
    )
}

/// Why the curve stopped early, when it did.
fn stopped(curve: &Curve, out: &mut String) {
    let ended: Vec<&Point> = curve
        .points
        .iter()
        .filter(|p| matches!(p.status, Status::Failed | Status::Interrupted))
        .collect();
    if ended.is_empty() {
        return;
    }
    out.push_str("\n## Where the curve stopped\n\n");
    for p in ended {
        let why = p
            .error
            .as_deref()
            .and_then(|e| e.lines().next())
            .unwrap_or("");
        out.push_str(&format!(
            "- {} nodes: {}{}\n",
            p.nodes,
            p.status,
            if why.is_empty() {
                String::new()
            } else {
                format!(": {}", markdown_text(&truncate(why, 500)))
            }
        ));
    }
    out.push_str(
        "\nLarger sizes were not run: a network that failed at this size would fail at a larger one too.\n",
    );
}

/// Where each size's own run went.
fn runs(curve: &Curve, out: &mut String) {
    let with_dir: Vec<&Point> = curve
        .points
        .iter()
        .filter(|p| p.run_dir.is_some())
        .collect();
    if with_dir.is_empty() {
        return;
    }
    out.push_str("\n## Each size's run\n\n");
    for p in with_dir {
        let dir = p.run_dir.as_deref().unwrap_or(Path::new(""));
        out.push_str(&format!(
            "- {} nodes: {}\n",
            p.nodes,
            code(&dir.display().to_string())
        ));
    }
}

/// Every column's definition (our own text, like a run report's).
fn definitions(curve: &Curve, out: &mut String) {
    out.push_str("\n## Metric definitions\n\n");
    for c in &curve.columns {
        out.push_str(&format!(
            "- {} ({}): {}\n",
            code(&c.metric),
            c.unit,
            c.definition
        ));
    }
}

/// `curve.csv`: `nodes,status,<metric>…,error`, one row per size; an empty cell is a value the
/// size does not have (its status says why).
pub fn csv(curve: &Curve) -> String {
    let mut out = String::from("nodes,status");
    for c in &curve.columns {
        // Metric names are fixed identifiers without commas or quotes.
        out.push(',');
        out.push_str(&c.metric);
    }
    out.push_str(",error\n");
    for p in &curve.points {
        out.push_str(&format!("{},{}", p.nodes, p.status));
        for c in &curve.columns {
            out.push(',');
            if let (Status::Ok | Status::Interrupted, Some(v)) = (p.status, p.median(&c.metric)) {
                out.push_str(&v.to_string());
            }
        }
        out.push(',');
        if let Some(e) = &p.error {
            let flat: String = e
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            out.push_str(&format!("\"{}\"", flat.replace('"', "\"\"")));
        }
        out.push('\n');
    }
    out
}

/// One panel of the plot: a title and the metrics it draws, with their legend labels.
struct Panel {
    title: &'static str,
    series: &'static [(&'static str, &'static str)],
}

/// The panels, in reading order. A panel none of whose metrics is a column of the curve is
/// left out; one whose metrics no size measured says so.
const PANELS: &[Panel] = &[
    Panel {
        title: "formation time",
        series: &[("formation_time_ms", "formation")],
    },
    Panel {
        title: "DHT get latency",
        series: &[("dht_get_ms_p50", "p50"), ("dht_get_ms_p95", "p95")],
    },
    Panel {
        title: "gossip latency",
        series: &[
            ("gossip_latency_ms_p50", "p50"),
            ("gossip_latency_ms_p99", "p99"),
        ],
    },
    Panel {
        title: "idle memory per node",
        series: &[
            ("uss_idle_mb_mean", "USS (private)"),
            ("rss_idle_mb_mean", "RSS"),
        ],
    },
    Panel {
        title: "idle CPU per node",
        series: &[("cpu_idle_pct", "idle CPU")],
    },
    Panel {
        title: "DHT requests per lookup",
        series: &[("dht_get_peers_queried_p50", "p50")],
    },
    Panel {
        title: "runner CPU",
        series: &[("runner_cpu_pct", "runner")],
    },
    Panel {
        title: "load average",
        series: &[("load_avg_1m", "1 min")],
    },
];

/// Panels per row.
const COLUMNS: usize = 3;

/// The panels this curve has columns for.
fn panels(curve: &Curve) -> Vec<&'static Panel> {
    PANELS
        .iter()
        .filter(|p| p.series.iter().any(|(m, _)| curve.unit(m).is_some()))
        .collect()
}

/// Draws `curve.svg` and `curve.png` into `dir`: first into a stage directory, then each file
/// renamed into place, so a reader never sees half a plot.
pub fn plot(dir: &RunDir, curve: &Curve) -> Result<Vec<PathBuf>, PlotError> {
    ensure_font();
    let stage = dir.plot_stage();
    let fail = |path: &Path, e: std::io::Error| PlotError {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(&stage).map_err(|e| fail(&stage, e))?;
    let rows = panels(curve).len().div_ceil(COLUMNS).max(1) as u32;
    let drawn = both_formats(
        &stage,
        PLOT,
        (1350, 70 + 380 * rows),
        |a| draw(a, curve),
        |a| draw(a, curve),
    );
    let placed = drawn.and_then(|files| {
        files
            .iter()
            .map(|staged| {
                let name = staged.file_name().expect("a plot file has a name");
                let target = dir.dir.join(name);
                std::fs::rename(staged, &target).map_err(|e| fail(&target, e))?;
                Ok(target)
            })
            .collect()
    });
    let _ = std::fs::remove_dir_all(&stage);
    placed
}

/// The whole figure: a title, then the panels in a grid.
fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, curve: &Curve) -> Result<(), String> {
    area.fill(&WHITE).map_err(|e| e.to_string())?;
    let title = format!(
        "{}: median per size over {} repetition{}, one machine",
        curve.scenario,
        curve.repetitions,
        if curve.repetitions == 1 { "" } else { "s" }
    );
    let area = area
        .titled(&title, ("sans-serif", 22))
        .map_err(|e| e.to_string())?;
    let panels = panels(curve);
    let rows = panels.len().div_ceil(COLUMNS).max(1);
    let cells = area.split_evenly((rows, COLUMNS));
    let sizes: Vec<f64> = curve.sizes.iter().map(|&n| n as f64).collect();
    let (lo, hi) = sizes
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &n| (lo.min(n), hi.max(n)));
    if sizes.is_empty() {
        return Ok(());
    }
    // A margin on either side in log space, so the first and last sizes are not on the frame.
    let x = (lo / 1.3, hi * 1.3);
    for (cell, panel) in cells.iter().zip(panels) {
        draw_panel(cell, curve, panel, x, &sizes)?;
    }
    Ok(())
}

/// One series: its legend label, its points (nodes, median) and colour.
type Series = (&'static str, Vec<(f64, f64)>, RGBColor);

/// Colours of a panel's series, in order.
const COLORS: [RGBColor; 2] = [HEAD_COLOR, BASE_COLOR];

/// One panel: the sizes with a value of its metrics, on a log axis of nodes. The value axis
/// starts at 0, unless the values span two decades or more: then it is logarithmic, so the
/// small sizes do not vanish at the bottom.
fn draw_panel<DB: DrawingBackend>(
    cell: &DrawingArea<DB, Shift>,
    curve: &Curve,
    panel: &Panel,
    x: (f64, f64),
    sizes: &[f64],
) -> Result<(), String> {
    let series: Vec<Series> = panel
        .series
        .iter()
        .zip(COLORS.iter().cycle())
        .map(|((metric, label), color)| {
            let points = curve
                .points
                .iter()
                .filter(|p| matches!(p.status, Status::Ok | Status::Interrupted))
                .filter_map(|p| Some((p.nodes as f64, p.median(metric)?)))
                .filter(|(_, v)| v.is_finite())
                .collect();
            (*label, points, *color)
        })
        .collect();
    let unit = panel
        .series
        .iter()
        .find_map(|(m, _)| curve.unit(m))
        .unwrap_or("");
    let values: Vec<f64> = series
        .iter()
        .flat_map(|(_, points, _)| points.iter().map(|(_, v)| *v))
        .collect();
    if values.is_empty() {
        let caption = format!("{}: not measured", panel.title);
        cell.titled(&caption, ("sans-serif", 15))
            .map_err(|e| e.to_string())?;
        return Ok(());
    }
    let (min, max) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let keys = sizes.to_vec();
    let xs = (x.0..x.1).log_scale().with_key_points(keys);
    if min > 0.0 && max / min >= 100.0 {
        let caption = format!("{} ({unit}, log scale)", panel.title);
        let ys = (min / 1.5..max * 1.5).log_scale();
        chart(cell, &caption, xs, ys, unit, &series)
    } else {
        let caption = format!("{} ({unit})", panel.title);
        let top = if max > 0.0 { max * 1.15 } else { 1.0 };
        chart(cell, &caption, xs, 0.0..top, unit, &series)
    }
}

/// Draws `series` on the axes `x` and `y`.
fn chart<DB, X, Y>(
    cell: &DrawingArea<DB, Shift>,
    caption: &str,
    x: X,
    y: Y,
    unit: &str,
    series: &[Series],
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(cell)
        .caption(caption, ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(38)
        .y_label_area_size(60)
        .build_cartesian_2d(x, y)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("nodes (log scale)")
        .y_desc(unit)
        .x_label_formatter(&|n| format!("{n:.0}"))
        .y_label_formatter(&|v| format_value(*v, unit))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(|e| e.to_string())?;
    for (label, points, color) in series {
        if points.is_empty() {
            continue;
        }
        let color = *color;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(*label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(n, v)| Circle::new((n, v), 4, color.filled())),
            )
            .map_err(|e| e.to_string())?;
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::curve::{Column, FOLLOWED, Median, SCHEMA_VERSION};

    /// A curve of 10, 30, 100, 250 and 500 nodes: 10 and 30 measured (30 without gossip), 100
    /// failed, the rest not run.
    fn curve() -> Curve {
        let column = |metric: &str, unit: &str| Column {
            metric: metric.into(),
            unit: unit.into(),
            definition: format!("what {metric} is"),
        };
        let median = |metric: &str, median: f64, unit: &str| Median {
            metric: metric.into(),
            median,
            unit: unit.into(),
        };
        let measured = |nodes: usize, medians: Vec<Median>| Point {
            status: Status::Ok,
            repetitions_done: 1,
            run_dir: Some(format!("out/scale-100/run-{nodes}").into()),
            medians,
            ..Point::pending(nodes)
        };
        Curve {
            schema_version: SCHEMA_VERSION,
            scenario: "scale-100".into(),
            source: "scale-100.toml".into(),
            repetitions: 1,
            sizes: vec![10, 30, 100, 250, 500],
            node_bin: "target/release/swarm-node".into(),
            environment: None,
            started_at: "2026-12-01T10:00:00Z".into(),
            finished_at: Some("2026-12-01T10:09:00Z".into()),
            columns: vec![
                column("formation_time_ms", "ms"),
                column("gossip_latency_ms_p50", "ms"),
                column("uss_idle_mb_mean", "MiB"),
                column("cpu_idle_pct", "% of a core"),
            ],
            points: vec![
                measured(
                    10,
                    vec![
                        median("formation_time_ms", 48.2, "ms"),
                        median("gossip_latency_ms_p50", 0.61, "ms"),
                        median("uss_idle_mb_mean", 3.1, "MiB"),
                        median("cpu_idle_pct", 0.4, "% of a core"),
                    ],
                ),
                measured(
                    30,
                    vec![
                        median("formation_time_ms", 5400.0, "ms"),
                        median("uss_idle_mb_mean", 4.0, "MiB"),
                        median("cpu_idle_pct", 1.2, "% of a core"),
                    ],
                ),
                Point {
                    status: Status::Failed,
                    error: Some(
                        "formation timed out after 120 s: 3 of 100 nodes had no mesh\nlog tail"
                            .into(),
                    ),
                    run_dir: Some("out/scale-100/run-100".into()),
                    ..Point::pending(100)
                },
                Point {
                    status: Status::NotRun,
                    ..Point::pending(250)
                },
                Point {
                    status: Status::NotRun,
                    ..Point::pending(500)
                },
            ],
        }
    }

    #[test]
    fn the_table_has_a_row_per_size_units_in_the_header_and_says_why_a_value_is_missing() {
        let md = markdown(&curve());
        assert!(
            md.contains(
                "| nodes | status | `formation_time_ms` (ms) | `gossip_latency_ms_p50` (ms) | `uss_idle_mb_mean` (MiB) | `cpu_idle_pct` (% of a core) |\n|---:|---|---:|---:|---:|---:|\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("| 10 | ok | 48.2 | 0.61 | 3.10 | 0.40 |\n"),
            "{md}"
        );
        assert!(
            md.contains("| 30 | ok | 5400 | not measured | 4.00 | 1.20 |\n"),
            "{md}"
        );
        assert!(
            md.contains("| 100 | failed | failed | failed | failed | failed |\n"),
            "{md}"
        );
        assert!(
            md.contains("| 250 | not run | not run | not run | not run | not run |\n")
                && md.contains("| 500 | not run |"),
            "{md}"
        );
        assert!(
            md.contains(
                "- 100 nodes: failed: formation timed out after 120 s: 3 of 100 nodes had no mesh\n"
            ) && !md.contains("log tail"),
            "the error's first line: {md}"
        );
        assert!(
            md.contains("CPU contention inflates")
                && md.contains("this machine's limits are, not how the protocol scales"),
            "{md}"
        );
        assert!(
            md.contains("run at 10, 30, 100, 250 and 500 nodes")
                && md.contains("- 30 nodes: `out/scale-100/run-30`")
                && md.contains("![how each metric grows with the number of nodes](curve.svg)")
                && md.contains("- `uss_idle_mb_mean` (MiB): what uss_idle_mb_mean is"),
            "{md}"
        );
        assert!(!md.contains("Unfinished"), "{md}");
    }

    #[test]
    fn an_unfinished_curve_says_so_and_pending_sizes_are_pending() {
        let mut c = curve();
        c.points[2] = Point::pending(100);
        c.points[3] = Point::pending(250);
        let md = markdown(&c);
        assert!(md.contains("**Unfinished: sizes marked pending"), "{md}");
        assert!(md.contains("| 100 | pending | pending |"), "{md}");
        assert!(!md.contains("Where the curve stopped"), "{md}");
    }

    #[test]
    fn the_csv_has_a_row_per_size_and_empty_cells_for_missing_values() {
        let csv = csv(&curve());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines,
            [
                "nodes,status,formation_time_ms,gossip_latency_ms_p50,uss_idle_mb_mean,cpu_idle_pct,error",
                "10,ok,48.2,0.61,3.1,0.4,",
                "30,ok,5400,,4,1.2,",
                "100,failed,,,,,\"formation timed out after 120 s: 3 of 100 nodes had no mesh log tail\"",
                "250,not run,,,,,",
                "500,not run,,,,,",
            ]
        );
    }

    #[test]
    fn the_plot_is_svg_and_png_on_a_log_axis_of_nodes_with_units() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir {
            dir: tmp.path().to_path_buf(),
        };
        let files = plot(&dir, &curve()).unwrap();
        assert_eq!(
            files,
            [tmp.path().join("curve.svg"), tmp.path().join("curve.png")]
        );
        let svg = std::fs::read_to_string(tmp.path().join("curve.svg")).unwrap();
        for text in [
            "nodes (log scale)",
            // 48 ms at 10 nodes and 5.4 s at 30 span two decades: a log value axis.
            "formation time (ms, log scale)",
            "gossip latency (ms)",
            "idle memory per node (MiB)",
            "idle CPU per node (% of a core)",
            // Panels of columns the curve has, and only those.
            "DHT get latency",
        ] {
            assert_eq!(
                svg.contains(text),
                text != "DHT get latency",
                "{text:?} in the SVG"
            );
        }
        // A tick at each size, drawn on the log axis.
        for size in ["10", "30", "100", "250", "500"] {
            assert!(svg.contains(&format!(">\n{size}\n</text>")), "tick {size}");
        }
        assert!(svg.contains("<circle"), "points are drawn");
        let png = std::fs::read(tmp.path().join("curve.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 2, "no stage directory left: {left:?}");
    }

    #[test]
    fn a_curve_without_any_measured_size_still_draws_its_panels() {
        let mut c = curve();
        for p in &mut c.points {
            p.status = Status::Failed;
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir {
            dir: tmp.path().to_path_buf(),
        };
        plot(&dir, &c).unwrap();
        let svg = std::fs::read_to_string(tmp.path().join("curve.svg")).unwrap();
        assert!(svg.contains("formation time: not measured"), "{svg}");
        assert!(FOLLOWED.iter().any(|f| f.name == "formation_time_ms"));
    }
}
