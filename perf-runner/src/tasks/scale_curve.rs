//! `cargo xtask perf scale-curve`: how formation, lookup and gossip latency, memory and CPU
//! grow with network size. One scenario is run at each size in turn, changed by `--nodes` only
//! (so any scenario works), each size an ordinary run through [`run_scenario`] with its own run
//! directory; the curve takes each size's per-metric medians into `curve.json`, `curve.csv`,
//! `report.md` and a plot, rewritten after every size.
//!
//! A curve compares nothing: its runs read baselines from a directory that does not exist, so
//! each takes `perf`'s no-baseline path (no comparison, never a gate), and no baseline is read
//! or written. The first size that fails ends the curve (a network that cannot form at one size
//! will not form at a larger one); the sizes after it are "not run".

use std::path::PathBuf;

use crate::{
    Error, Exit,
    cluster::check_node_bin,
    data::{
        curve::{Column, Curve, FOLLOWED, Median, Point, SCHEMA_VERSION, Status},
        metrics,
        output::RunDir,
        summary::RunSummary,
    },
    measure::build::build_release_node,
    run::Outcome,
    scenario::{MAX_NODES, Overrides},
    tasks::{
        Common,
        perf::{self, PerfOutcome, PerfRequest, run_scenario},
        preflight,
    },
};

/// The scenario of a curve when none is named: a shipped 100-node scenario that every size
/// rescales.
pub const DEFAULT_SCENARIO: &str = "scale-100";

/// The sizes of a curve when none are given: a minute each. `scale-1000` goes on to 1,000 nodes
/// on a 2-core machine (about 12 minutes from 10 to 1,000).
pub const DEFAULT_SIZES: &[usize] = &[10, 30, 100];

/// Measured repetitions per size when none are given: a curve is a picture, not a gate.
pub const DEFAULT_REPETITIONS: usize = 1;

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct CurveRequest {
    /// The scenario and the options every size runs with (`overrides.repetitions` among them);
    /// its node count is replaced by each size, and it is never compared.
    pub perf: PerfRequest,
    /// Network sizes, nodes, strictly increasing.
    pub sizes: Vec<usize>,
}

/// A finished (or stopped) curve.
pub struct CurveOutcome {
    /// What was measured.
    pub curve: Curve,
    /// Where it was written.
    pub dir: RunDir,
    /// Why the plot is missing, if it is: plots never fail a curve.
    pub plot_error: Option<String>,
}

impl CurveOutcome {
    /// 0 when every size ran, 3 when one failed, 130 when interrupted.
    pub fn exit(&self) -> Exit {
        self.curve.exit()
    }
}

/// Refuses sizes a curve cannot run: none, fewer than 2 nodes (no workload runs on one), more
/// than [`MAX_NODES`], or not strictly increasing.
pub fn check_sizes(sizes: &[usize]) -> Result<(), Error> {
    let usage = |m: String| Err(Error::Usage(m));
    if sizes.is_empty() {
        return usage("--sizes is empty; give network sizes, e.g. --sizes 10,30,100".into());
    }
    for &n in sizes {
        if n < 2 {
            return usage(format!(
                "--sizes {n}: a network needs at least 2 nodes; allowed: 2 to {MAX_NODES}"
            ));
        }
        if n as i64 > MAX_NODES {
            return usage(format!(
                "--sizes {n}: more than {MAX_NODES} nodes; allowed: 2 to {MAX_NODES}"
            ));
        }
    }
    if let Some(w) = sizes.windows(2).find(|w| w[1] <= w[0]) {
        return usage(format!(
            "--sizes must be strictly increasing, but {} follows {}; e.g. --sizes 10,30,100",
            w[1], w[0]
        ));
    }
    Ok(())
}

/// `template` at `nodes` nodes.
fn at_size(template: &PerfRequest, nodes: usize) -> PerfRequest {
    PerfRequest {
        overrides: Overrides {
            nodes: Some(nodes),
            ..template.overrides.clone()
        },
        ..template.clone()
    }
}

/// Runs the curve: checks every size before anything is built (exit 2), builds or checks the
/// node once, then runs the sizes in order, rewriting the curve's files after each.
pub fn run(request: &CurveRequest) -> Result<CurveOutcome, Error> {
    check_sizes(&request.sizes)?;
    // Every size is checked before the first is built or run: a size the scenario refuses is
    // one usage error, not a failed point.
    let mut checked = Vec::new();
    for &size in &request.sizes {
        let scenario = preflight::perf(&at_size(&request.perf, size)).map_err(|e| {
            if e.exit() == Exit::Usage {
                Error::Usage(format!("size {size}: {e}"))
            } else {
                e
            }
        })?;
        checked.push(scenario);
    }
    let scenario = &checked[0];
    // The testbed name (--testbed, SWARMBENCH_TESTBED) is checked here too, not at the first size.
    perf::key_of(&at_size(&request.perf, request.sizes[0]))?;
    let workspace = &request.perf.common.workspace;
    let node_bin = match &request.perf.node_bin {
        Some(bin) => {
            check_node_bin(bin).map_err(Error::NodeBin)?;
            bin.clone()
        }
        None => build_release_node(workspace, false)?.bin,
    };
    let root = request.perf.common.output_root();
    let dir = root.create_scale_curve().map_err(|source| Error::Io {
        path: root.dir.clone(),
        source,
    })?;
    let _ = dir.mark_latest();
    let template = PerfRequest {
        node_bin: Some(node_bin.clone()),
        against: None,
        base_node_bin: None,
        measure_build: false,
        common: Common {
            // Never created: every size takes perf's no-baseline path.
            baselines: dir.dir.join("no-baselines"),
            ..request.perf.common.clone()
        },
        ..request.perf.clone()
    };
    let mut curve = Curve {
        schema_version: SCHEMA_VERSION,
        scenario: scenario.name.clone(),
        source: scenario.source.display().to_string(),
        repetitions: scenario.repetitions,
        sizes: request.sizes.clone(),
        node_bin: node_bin.display().to_string(),
        environment: None,
        started_at: chrono::Utc::now().to_rfc3339(),
        finished_at: None,
        columns: columns(&[]),
        points: request.sizes.iter().map(|&n| Point::pending(n)).collect(),
    };
    let mut plot_error = crate::report::curve::write_files(&dir, &curve)?;
    let total = request.sizes.len();
    measure_sizes(
        &mut curve,
        |index, nodes| {
            eprintln!("scale-curve: {nodes} nodes ({}/{total})…", index + 1);
            size_run(run_scenario(&at_size(&template, nodes)))
        },
        |curve| {
            plot_error = crate::report::curve::write_files(&dir, curve)?;
            Ok(())
        },
    )?;
    Ok(CurveOutcome {
        curve,
        dir,
        plot_error,
    })
}

/// How one size's run ended, before its medians are taken.
struct SizeRun {
    status: Status,
    error: Option<String>,
    run_dir: Option<PathBuf>,
    summary: Option<RunSummary>,
}

/// A size's run: complete, interrupted (what finished is kept) or failed (with the run's error);
/// an error before or outside the run fails the size too.
fn size_run(result: Result<PerfOutcome, Error>) -> SizeRun {
    match result {
        Ok(outcome) => {
            let (status, error) = match &outcome.result.outcome {
                Outcome::Complete => (Status::Ok, None),
                Outcome::Interrupted => (Status::Interrupted, None),
                Outcome::Failed(message) => (Status::Failed, Some(message.clone())),
            };
            SizeRun {
                status,
                error,
                run_dir: Some(outcome.result.dir.dir.clone()),
                summary: outcome.result.summaries.into_iter().next(),
            }
        }
        Err(e) => SizeRun {
            status: if e.exit() == Exit::Interrupted {
                Status::Interrupted
            } else {
                Status::Failed
            },
            error: Some(e.to_string()),
            run_dir: None,
            summary: None,
        },
    }
}

/// Runs `curve`'s sizes in order through `measure` (given the size's index and nodes), calling
/// `written` after each; the first size that fails or is interrupted ends the curve, and the
/// sizes after it are not run.
fn measure_sizes(
    curve: &mut Curve,
    mut measure: impl FnMut(usize, usize) -> SizeRun,
    mut written: impl FnMut(&Curve) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut known = Vec::new();
    let last = curve.points.len().saturating_sub(1);
    for index in 0..curve.points.len() {
        let nodes = curve.points[index].nodes;
        let run = measure(index, nodes);
        if let Some(summary) = &run.summary {
            learn_columns(summary, &mut known);
            if curve.environment.is_none() {
                curve.environment = Some(summary.environment.clone());
            }
        }
        let point = point_of(nodes, run);
        let stop = matches!(point.status, Status::Failed | Status::Interrupted);
        curve.points[index] = point;
        if stop {
            for later in &mut curve.points[index + 1..] {
                later.status = Status::NotRun;
            }
        }
        curve.columns = columns(&known);
        if stop || index == last {
            curve.finished_at = Some(chrono::Utc::now().to_rfc3339());
        }
        written(curve)?;
        if stop {
            break;
        }
    }
    Ok(())
}

/// A size's point: its status, and for a run that finished (or was interrupted) the median of
/// every followed metric it measured. A metric it did not measure is absent, never 0.
fn point_of(nodes: usize, run: SizeRun) -> Point {
    let keep = matches!(run.status, Status::Ok | Status::Interrupted);
    let medians = match (&run.summary, keep) {
        (Some(summary), true) => FOLLOWED
            .iter()
            .filter_map(|f| {
                let m = summary.metric(f.name)?;
                Some(Median {
                    metric: m.name.clone(),
                    median: m.summary.as_ref()?.median,
                    unit: m.unit.clone(),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    Point {
        nodes,
        status: run.status,
        error: run.error,
        run_dir: run.run_dir,
        repetitions_done: run.summary.as_ref().map_or(0, |s| s.repetitions_done),
        medians,
    }
}

/// Records the unit and definition of every followed metric `summary` measured.
fn learn_columns(summary: &RunSummary, known: &mut Vec<Column>) {
    for f in FOLLOWED {
        let Some(m) = summary.metric(f.name).filter(|m| m.summary.is_some()) else {
            continue;
        };
        if !known.iter().any(|c| c.metric == f.name) {
            known.push(Column {
                metric: m.name.clone(),
                unit: m.unit.clone(),
                definition: m.definition.clone(),
            });
        }
    }
}

/// The curve's columns in [`FOLLOWED`] order: every metric that is not optional (as some size
/// measured it, else as defined), and an optional one only once some size measured it.
fn columns(known: &[Column]) -> Vec<Column> {
    FOLLOWED
        .iter()
        .filter_map(|f| {
            if let Some(c) = known.iter().find(|c| c.metric == f.name) {
                return Some(c.clone());
            }
            if f.optional {
                return None;
            }
            let def = metrics::definition(f.name);
            Some(Column {
                metric: f.name.into(),
                unit: def.map_or("", |d| d.unit).into(),
                definition: def.map_or("", |d| d.definition).into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> RunSummary {
        serde_json::from_str(include_str!("../../tests/fixtures/summary-small.json")).unwrap()
    }

    #[test]
    fn sizes_must_be_given_between_2_and_the_node_maximum_and_strictly_increasing() {
        check_sizes(DEFAULT_SIZES).unwrap();
        check_sizes(&[2]).unwrap();
        check_sizes(&[2, 3, 1000]).unwrap();
        let refused = |sizes: &[usize]| {
            let e = check_sizes(sizes).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{sizes:?}: {e}");
            e.to_string()
        };
        assert_eq!(
            refused(&[]),
            "--sizes is empty; give network sizes, e.g. --sizes 10,30,100"
        );
        assert_eq!(
            refused(&[10, 1]),
            "--sizes 1: a network needs at least 2 nodes; allowed: 2 to 1000"
        );
        assert_eq!(
            refused(&[0]),
            "--sizes 0: a network needs at least 2 nodes; allowed: 2 to 1000"
        );
        assert_eq!(
            refused(&[10, 1001]),
            "--sizes 1001: more than 1000 nodes; allowed: 2 to 1000"
        );
        assert_eq!(
            refused(&[10, 30, 30]),
            "--sizes must be strictly increasing, but 30 follows 30; e.g. --sizes 10,30,100"
        );
        assert!(refused(&[100, 10]).contains("but 10 follows 100"));
    }

    #[test]
    fn every_size_is_checked_before_anything_is_built() {
        let request = CurveRequest {
            perf: PerfRequest {
                scenario: "minimal".into(),
                overrides: Overrides::default(),
                node_bin: Some("/nonexistent/swarm-node".into()),
                node_args: Vec::new(),
                against: None,
                base_node_bin: None,
                base_node_args: Vec::new(),
                budget: crate::tasks::sequential::DEFAULT_BUDGET,
                common: Common {
                    workspace: "/nonexistent-workspace".into(),
                    baselines: "/nonexistent-baselines".into(),
                    out: Some(std::env::temp_dir().join("swarmbench-curve-never-written")),
                    threshold: None,
                    quiet: true,
                },
                keep_logs: false,
                measure_build: false,
                testbed: None,
            },
            sizes: vec![2, 3],
        };
        // A missing node binary is found after every size passed the preflight (exit 3).
        let e = run(&request).err().unwrap();
        assert_eq!(e.exit(), Exit::Failed, "{e}");
        // A size the scenario refuses is a usage error naming the size, before the binary.
        let bad = CurveRequest {
            perf: PerfRequest {
                overrides: Overrides {
                    repetitions: Some(0),
                    ..Overrides::default()
                },
                ..request.perf.clone()
            },
            ..request.clone()
        };
        let e = run(&bad).err().unwrap();
        assert_eq!(e.exit(), Exit::Usage, "{e}");
        assert!(e.to_string().starts_with("size 2: --repetitions 0"), "{e}");
        assert!(
            !std::env::temp_dir()
                .join("swarmbench-curve-never-written")
                .exists()
        );
    }

    fn ok_run() -> SizeRun {
        SizeRun {
            status: Status::Ok,
            error: None,
            run_dir: Some("out/small/run".into()),
            summary: Some(fixture()),
        }
    }

    fn curve_of(sizes: &[usize]) -> Curve {
        Curve {
            schema_version: SCHEMA_VERSION,
            scenario: "small".into(),
            source: "small.toml".into(),
            repetitions: 3,
            sizes: sizes.to_vec(),
            node_bin: "swarm-node".into(),
            environment: None,
            started_at: "2026-12-01T10:00:00Z".into(),
            finished_at: None,
            columns: columns(&[]),
            points: sizes.iter().map(|&n| Point::pending(n)).collect(),
        }
    }

    #[test]
    fn a_finished_size_gives_the_medians_it_measured_and_nothing_it_did_not() {
        let summary = fixture();
        let point = point_of(3, ok_run());
        assert_eq!(point.status, Status::Ok);
        assert_eq!(point.repetitions_done, summary.repetitions_done);
        let formation = summary.metric("formation_time_ms").unwrap();
        assert_eq!(
            point.median("formation_time_ms"),
            Some(formation.summary.as_ref().unwrap().median)
        );
        for f in FOLLOWED {
            assert_eq!(
                point.median(f.name).is_some(),
                summary.metric(f.name).is_some_and(|m| m.summary.is_some()),
                "{}",
                f.name
            );
        }
        assert_eq!(point.median("runner_cpu_pct"), None, "not in the fixture");
        // A failed size keeps its error and no medians.
        let failed = point_of(
            5,
            SizeRun {
                status: Status::Failed,
                error: Some("formation timed out".into()),
                ..ok_run()
            },
        );
        assert!(failed.medians.is_empty());
        assert_eq!(failed.error.as_deref(), Some("formation timed out"));
    }

    #[test]
    fn the_first_failed_size_ends_the_curve_and_the_rest_are_not_run() {
        let mut curve = curve_of(&[10, 30, 100, 250]);
        let mut asked = Vec::new();
        let mut writes = Vec::new();
        measure_sizes(
            &mut curve,
            |index, nodes| {
                asked.push((index, nodes));
                if nodes < 100 {
                    ok_run()
                } else {
                    SizeRun {
                        status: Status::Failed,
                        error: Some("formation timed out after 120 s".into()),
                        run_dir: None,
                        summary: None,
                    }
                }
            },
            |c| {
                writes.push(c.points.iter().map(|p| p.status).collect::<Vec<_>>());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(asked, [(0, 10), (1, 30), (2, 100)]);
        let (ok, pending) = (Status::Ok, Status::Pending);
        assert_eq!(
            writes,
            [
                vec![ok, pending, pending, pending],
                vec![ok, ok, pending, pending],
                vec![ok, ok, Status::Failed, Status::NotRun],
            ],
            "rewritten after every size"
        );
        assert_eq!(curve.exit(), Exit::Failed);
        assert!(curve.finished_at.is_some() && curve.environment.is_some());
    }

    #[test]
    fn an_interrupted_size_keeps_what_it_measured_and_ends_the_curve() {
        let mut curve = curve_of(&[2, 3, 5]);
        measure_sizes(
            &mut curve,
            |_, nodes| SizeRun {
                status: if nodes == 3 {
                    Status::Interrupted
                } else {
                    Status::Ok
                },
                ..ok_run()
            },
            |_| Ok(()),
        )
        .unwrap();
        let statuses: Vec<Status> = curve.points.iter().map(|p| p.status).collect();
        assert_eq!(statuses, [Status::Ok, Status::Interrupted, Status::NotRun]);
        assert!(curve.points[1].median("formation_time_ms").is_some());
        assert_eq!(curve.exit(), Exit::Interrupted);
    }

    #[test]
    fn optional_metrics_are_columns_only_once_measured_with_the_measured_unit() {
        let required: Vec<String> = columns(&[]).into_iter().map(|c| c.metric).collect();
        assert_eq!(
            required,
            FOLLOWED
                .iter()
                .filter(|f| !f.optional)
                .map(|f| f.name)
                .collect::<Vec<_>>()
        );
        assert!(columns(&[]).iter().all(|c| !c.unit.is_empty()));
        let mut summary = fixture();
        let mut load = summary.metrics[0].clone();
        load.name = "load_avg_1m".into();
        load.unit = "runnable tasks".into();
        summary.metrics.push(load);
        let mut known = Vec::new();
        learn_columns(&summary, &mut known);
        let cols = columns(&known);
        assert_eq!(cols.last().unwrap().metric, "load_avg_1m");
        assert_eq!(cols.last().unwrap().unit, "runnable tasks");
        assert!(!cols.iter().any(|c| c.metric == "runner_cpu_pct"));
    }

    #[test]
    fn an_error_outside_the_run_fails_the_size_and_an_interrupt_interrupts_it() {
        let failed = size_run(Err(Error::RunFailed("the switch could not start".into())));
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(failed.error.as_deref(), Some("the switch could not start"));
        let interrupted = size_run(Err(Error::Interrupted("interrupted".into())));
        assert_eq!(interrupted.status, Status::Interrupted);
    }
}
