//! `cargo xtask perf validate`: measures the gate instead of assuming it works.
//!
//! Experiments, each a series of complete runs through the same code path as a user's:
//! - `aa`: paired runs (sequential, with the request's budget) of the same binary on both
//!   sides. Every "regressed" verdict is a false alarm.
//! - `sessions`: a baseline recorded over several sessions, then separate runs of the same
//!   binary compared with it. Every "regressed" verdict is a false alarm of the sessions test.
//! - `injected`: a fault-injection build with a delay on the head side and none on the base
//!   side (same build), so the only difference is the deliberate slowdown of gossip message and
//!   DHT request handling. The delay is calibrated to each target shift first; only the gated
//!   metrics the calibration run found shifted near the target (between half and twice it)
//!   count: a metric the delay does not touch cannot lower the rate, and one it shifts far
//!   beyond the target (a 1 µs DHT get answered from the local store that waits behind the
//!   busy event loop: +1000 % and more) cannot flatter it.
//!
//! Rates are reported per metric, per metric comparison and per run, each with its
//! Clopper–Pearson interval.

use std::{path::Path, time::Duration};

use crate::{
    Error,
    compare::{Comparison, Verdict},
    data::{
        baseline::{self, Baseline},
        metrics,
        output::{OutputRoot, RunDir, write_atomic},
        summary::RunSummary,
        validation::{Experiment, ExperimentKind, MetricRate, Rate, Validation, ValidationRun},
    },
    measure::build::{build_fault_injection_node, build_release_node},
    run::Outcome,
    stats::descriptive::quantile,
    tasks::{
        Common,
        perf::{self, PerfOutcome, PerfRequest, run_scenario},
    },
};

pub use crate::data::validation::CALIBRATION_METRIC;

/// First delay tried when calibrating, µs (a 30 µs delay moved gossip p50 by 6–13 % on the
/// 2-core dev machine).
const FIRST_GUESS_US: u64 = 30;

/// Pairs of a calibration run, at least. A 15-pair run's shift scattered by ±4 points around
/// the line through the others (30 µs → +12.9 %, 28 µs → +12.1 %, 23 µs → +6.4 %): too noisy
/// to aim at 5 % or 10 %.
const CALIBRATION_PAIRS: usize = 30;

/// Calibration runs per target shift, at most.
const CALIBRATION_RUNS: usize = 3;

/// Which experiments to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Paired A/A.
    Aa,
    /// Unpaired A/A against a baseline of several sessions.
    Sessions,
    /// Injected slowdown.
    Injected,
}

/// What to validate.
#[derive(Debug, Clone)]
pub struct ValidateRequest {
    /// Scenario and options, as for a perf run (node binaries are chosen here).
    pub perf: PerfRequest,
    /// Runs per experiment.
    pub runs: usize,
    /// Experiments to run, in this order.
    pub experiments: Vec<Which>,
    /// Target shifts the injected delay is calibrated to (0.10 = 10 %), one experiment each.
    pub shifts: Vec<f64>,
    /// A fixed delay instead of calibration (one injected experiment), µs.
    pub inject_delay_us: Option<u64>,
    /// Sessions of the baseline of the `sessions` experiment.
    pub sessions: usize,
}

/// Runs the experiments and writes `validation.json` and `validation.md`.
pub fn validate(request: &ValidateRequest) -> Result<(Validation, RunDir), Error> {
    let workspace = &request.perf.common.workspace;
    let root = request.perf.common.output_root().validate();
    let scenario = super::preflight::perf(&request.perf)?;
    let dir = root
        .create_run(&scenario.name)
        .map_err(|source| Error::Io {
            path: root.dir.clone(),
            source,
        })?;
    let plain = build_release_node(workspace, false)?.bin;
    let mut experiments = Vec::new();
    for which in &request.experiments {
        match which {
            Which::Aa => experiments.push(aa(request, &dir, &plain)?),
            Which::Sessions => experiments.push(sessions(request, &dir, &plain)?),
            Which::Injected => {
                let injected = build_fault_injection_node(workspace)?;
                experiments.extend(injected_experiments(
                    request,
                    &dir,
                    &injected,
                    scenario.repetitions,
                )?);
            }
        }
    }
    let validation = Validation {
        scenario: scenario.name.clone(),
        repetitions: scenario.repetitions,
        budget_s: request.perf.budget.as_secs_f64(),
        experiments,
    };
    let io = |path: std::path::PathBuf| move |source| Error::Io { path, source };
    let json = serde_json::to_vec_pretty(&validation).expect("validation serializes");
    write_atomic(&dir.validation_json(), &json).map_err(io(dir.validation_json()))?;
    write_atomic(
        &dir.validation_md(),
        crate::report::validation::render(&validation).as_bytes(),
    )
    .map_err(io(dir.validation_md()))?;
    Ok((validation, dir))
}

/// Paired A/A: the plain binary on both sides.
fn aa(request: &ValidateRequest, dir: &RunDir, plain: &Path) -> Result<Experiment, Error> {
    let perf = PerfRequest {
        node_bin: Some(plain.to_owned()),
        base_node_bin: Some(plain.to_owned()),
        against: None,
        common: experiment_common(request, dir, "aa"),
        ..request.perf.clone()
    };
    let runs = (0..request.runs)
        .map(|_| paired_run(&perf))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(summarize(
        "A/A paired",
        ExperimentKind::AaPaired,
        None,
        runs,
    ))
}

/// Unpaired A/A: a baseline of `request.sessions` sessions of the plain binary, then separate
/// runs of it compared with that baseline.
fn sessions(request: &ValidateRequest, dir: &RunDir, plain: &Path) -> Result<Experiment, Error> {
    let empty = dir.dir.join("no-baselines");
    let common = |name: &str| Common {
        baselines: empty.clone(),
        ..experiment_common(request, dir, name)
    };
    let plain_run = |name: &str| PerfRequest {
        node_bin: Some(plain.to_owned()),
        base_node_bin: None,
        against: None,
        common: common(name),
        ..request.perf.clone()
    };
    let key = perf::key_of(&plain_run("sessions-baseline"))?;
    let wanted = request.sessions.max(2);
    let mut recorded = Vec::new();
    // A failed session is replaced, up to as many times as sessions are wanted.
    for _ in 0..wanted * 2 {
        if recorded.len() == wanted {
            break;
        }
        match complete(run_scenario(&plain_run("sessions-baseline"))?) {
            Ok((summary, _)) => recorded.push(baseline::session(&summary)?),
            Err(Error::RunFailed(why)) => {
                eprintln!("validate: a baseline session failed, replaced: {why}")
            }
            Err(e) => return Err(e),
        }
    }
    if recorded.len() < 2 {
        return Err(Error::RunFailed(
            "validate: fewer than two baseline sessions finished".into(),
        ));
    }
    let baseline = Baseline::new(&key, recorded);
    let path = key.path(&dir.dir.join("in-memory-baseline"));
    let mut runs = Vec::new();
    for _ in 0..request.runs {
        let run = complete(run_scenario(&plain_run("sessions"))?).and_then(|(summary, run_dir)| {
            let comparison =
                perf::compare_with_baseline(&request.perf, &summary, &baseline, &path)?;
            verdict_of(&run_dir, summary.repetitions_done, &comparison)
        });
        runs.push(tolerate(run)?);
    }
    Ok(summarize(
        "A/A across sessions",
        ExperimentKind::AaSessions {
            sessions: baseline.sessions().len(),
        },
        None,
        runs,
    ))
}

/// The injected experiments: one per target shift (calibrated), or one at the fixed delay.
/// `repetitions`: the scenario's, after the request's overrides.
fn injected_experiments(
    request: &ValidateRequest,
    dir: &RunDir,
    injected: &Path,
    repetitions: usize,
) -> Result<Vec<Experiment>, Error> {
    let mut out = Vec::new();
    let pairs = repetitions.max(CALIBRATION_PAIRS);
    let targets: Vec<Option<f64>> = match request.inject_delay_us {
        Some(_) => vec![None],
        None => request.shifts.iter().copied().map(Some).collect(),
    };
    // Every calibration run so far, (delay µs, achieved shift): the next target's first guess
    // comes from all of them.
    let mut points = Vec::new();
    for target in targets {
        let (delay_us, slowed) = match (request.inject_delay_us, target) {
            (Some(delay), _) => (
                delay,
                fixed_delay_slowed(request, dir, injected, pairs, delay)?,
            ),
            (None, Some(target)) => calibrate(request, dir, injected, pairs, target, &mut points)?,
            (None, None) => unreachable!("targets are given without a fixed delay"),
        };
        let perf = injected_request(request, dir, injected, delay_us, "injected");
        let runs = (0..request.runs)
            .map(|_| tolerate(paired_run(&perf)))
            .collect::<Result<Vec<_>, _>>()?;
        let counted: Vec<String> = slowed.iter().map(|(m, _)| m.clone()).collect();
        let name = match target {
            Some(t) => format!("injected {:.0} %", t * 100.0),
            None => format!("injected {delay_us} µs"),
        };
        out.push(summarize(
            &name,
            ExperimentKind::Injected {
                target_shift: target,
                delay_us,
                slowed,
            },
            Some(&counted),
            runs,
        ));
    }
    Ok(out)
}

/// Finds the delay that shifts [`CALIBRATION_METRIC`] by `target`. The shift grows linearly
/// with a spin delay on the handling path, so the delay comes from the least-squares line
/// through the origin fitted to every calibration point so far (`points`, shared between
/// targets): a guess, a run, a refit, until a run lands within a quarter of the target or
/// [`CALIBRATION_RUNS`] runs are spent (then the last run's delay is used, and the report shows
/// the shift it achieved). Returns the delay and the gated metrics its run found shifted near
/// the target.
fn calibrate(
    request: &ValidateRequest,
    dir: &RunDir,
    injected: &Path,
    pairs: usize,
    target: f64,
    points: &mut Vec<(f64, f64)>,
) -> Result<(u64, Vec<(String, f64)>), Error> {
    let mut delay = slope_through_origin(points).map_or(FIRST_GUESS_US, |s| delay_for(target, s));
    let mut last = None;
    for _ in 0..CALIBRATION_RUNS {
        let shifts = calibration_run(request, dir, injected, pairs, delay)?;
        let achieved = shifts
            .iter()
            .find(|(m, _)| m == CALIBRATION_METRIC)
            .map_or(0.0, |(_, s)| *s);
        points.push((delay as f64, achieved));
        if (achieved - target).abs() <= target / 4.0 {
            return Ok((delay, slowed(&shifts, target)));
        }
        last = Some((delay, slowed(&shifts, target)));
        let next = match slope_through_origin(points) {
            // No measurable effect yet: a much longer delay.
            None => delay * 4,
            Some(slope) => delay_for(target, slope),
        };
        if next == delay {
            break;
        }
        delay = next;
    }
    match last {
        Some((delay, slowed)) if points.iter().any(|&(_, s)| s >= MEASURABLE_SHIFT) => {
            Ok((delay, slowed))
        }
        _ => Err(Error::RunFailed(format!(
            "calibration: a delay of {delay} µs still does not slow {CALIBRATION_METRIC}; is the fault-injection build measuring the right node?"
        ))),
    }
}

/// A shift below this is noise, not an effect of the delay.
const MEASURABLE_SHIFT: f64 = 0.005;

/// Least-squares slope of shift over delay through the origin, Σ d·s / Σ d², over the points
/// with a measurable shift; `None` before there is one.
fn slope_through_origin(points: &[(f64, f64)]) -> Option<f64> {
    let measurable = points.iter().filter(|&&(_, s)| s >= MEASURABLE_SHIFT);
    let (dot, square) = measurable.fold((0.0, 0.0), |(dot, square), &(d, s)| {
        (dot + d * s, square + d * d)
    });
    (square > 0.0).then(|| dot / square)
}

/// With a fixed delay: the metrics one calibration-sized run finds shifted between 2.5 % and 10 %.
fn fixed_delay_slowed(
    request: &ValidateRequest,
    dir: &RunDir,
    injected: &Path,
    pairs: usize,
    delay: u64,
) -> Result<Vec<(String, f64)>, Error> {
    Ok(slowed(
        &calibration_run(request, dir, injected, pairs, delay)?,
        0.05,
    ))
}

/// The delay that shifts by `target` at `slope` (shift per µs), at least 1 µs.
fn delay_for(target: f64, slope: f64) -> u64 {
    ((target / slope).round() as u64).max(1)
}

/// One paired run of `pairs` pairs (no sequential looks) at `delay` µs; the worsening of every
/// gated metric (negative: better).
fn calibration_run(
    request: &ValidateRequest,
    dir: &RunDir,
    injected: &Path,
    pairs: usize,
    delay: u64,
) -> Result<Vec<(String, f64)>, Error> {
    let base = injected_request(request, dir, injected, delay, "calibration");
    let perf = PerfRequest {
        // A zero budget takes exactly the first look: a fixed-size paired run.
        budget: Duration::ZERO,
        overrides: crate::scenario::Overrides {
            repetitions: Some(pairs),
            ..base.overrides.clone()
        },
        ..base
    };
    // A failed calibration run is repeated once: the delay is what is being measured.
    let run = match paired_run(&perf) {
        Err(Error::RunFailed(why)) => {
            eprintln!("calibration: a run failed, repeated: {why}");
            paired_run(&perf)?
        }
        other => other?,
    };
    eprintln!(
        "calibration: {delay} µs → {CALIBRATION_METRIC} {}",
        run.verdicts
            .iter()
            .find(|(m, ..)| m == CALIBRATION_METRIC)
            .and_then(|(_, _, c)| *c)
            .map_or("not measured".into(), |c| format!("{:+.1} %", c * 100.0))
    );
    Ok(run
        .verdicts
        .iter()
        .filter_map(|(name, _, change)| {
            let def = metrics::definition(name)?;
            Some((name.clone(), def.direction.worse_by((*change)?)))
        })
        .collect())
}

/// Gated metrics worsened near `target`: by at least half of it and at most twice it.
fn slowed(shifts: &[(String, f64)], target: f64) -> Vec<(String, f64)> {
    shifts
        .iter()
        .filter(|(_, worse)| (target / 2.0..=target * 2.0).contains(worse))
        .cloned()
        .collect()
}

/// A paired request with `delay` µs injected on the head side of the fault-injection build.
fn injected_request(
    request: &ValidateRequest,
    dir: &RunDir,
    injected: &Path,
    delay: u64,
    experiment: &str,
) -> PerfRequest {
    PerfRequest {
        node_bin: Some(injected.to_owned()),
        node_args: vec![format!("--inject-delay-us={delay}")],
        base_node_bin: Some(injected.to_owned()),
        base_node_args: vec!["--inject-delay-us=0".into()],
        against: None,
        common: experiment_common(request, dir, experiment),
        ..request.perf.clone()
    }
}

/// The request's common options with the output under `runs/<experiment>/`.
fn experiment_common(request: &ValidateRequest, dir: &RunDir, experiment: &str) -> Common {
    Common {
        out: Some(dir.experiment_runs(experiment).dir),
        ..request.perf.common.clone()
    }
}

/// Runs a paired request to completion and records its verdicts.
fn paired_run(perf: &PerfRequest) -> Result<ValidationRun, Error> {
    let outcome = run_scenario(perf)?;
    let comparison = outcome.comparison.clone();
    let (summary, dir) = complete(outcome)?;
    let comparison = comparison.ok_or_else(|| {
        Error::RunFailed("a paired validation run ended without a comparison".into())
    })?;
    verdict_of(&dir, summary.repetitions_done, &comparison)
}

/// A run's verdicts for the record; a comparison that is no verdict (a gated metric not
/// measured) fails the validation rather than counting as "not regressed".
fn verdict_of(
    dir: &OutputRoot,
    pairs: usize,
    comparison: &Comparison,
) -> Result<ValidationRun, Error> {
    match &comparison.no_verdict {
        Some(why) => Err(Error::RunFailed(format!(
            "a validation run in {} has no verdict: {why}",
            dir.dir.display()
        ))),
        None => Ok(record(dir, pairs, comparison)),
    }
}

/// A validation counts only complete runs: an interrupted one stops it (exit 130, as an
/// interrupted perf run), a failed one fails it (exit 3).
fn complete(outcome: PerfOutcome) -> Result<(RunSummary, OutputRoot), Error> {
    match &outcome.result.outcome {
        Outcome::Complete => {}
        Outcome::Interrupted => return Err(Error::Interrupted("validation interrupted".into())),
        Outcome::Failed(message) => {
            return Err(Error::RunFailed(format!(
                "a validation run failed: {message}"
            )));
        }
    }
    let dir = OutputRoot::at(outcome.result.dir.dir.clone());
    let summary = outcome
        .result
        .summaries
        .into_iter()
        .next()
        .expect("a head summary");
    Ok((summary, dir))
}

/// A run that failed (a node crashed, the network did not form) is data too: recorded with why
/// and left out of the rates, so one bad run does not throw the rest of a long validation
/// away. An interruption, a build or a usage error still ends the validation.
fn tolerate(run: Result<ValidationRun, Error>) -> Result<ValidationRun, Error> {
    match run {
        Err(Error::RunFailed(why)) => {
            eprintln!("validate: a run failed and is reported, not counted: {why}");
            Ok(ValidationRun {
                dir: String::new(),
                pairs: 0,
                verdicts: Vec::new(),
                failed: Some(why),
            })
        }
        other => other,
    }
}

fn record(dir: &OutputRoot, pairs: usize, comparison: &Comparison) -> ValidationRun {
    ValidationRun {
        failed: None,
        dir: dir.dir.display().to_string(),
        pairs,
        verdicts: comparison
            .metrics
            .iter()
            .filter(|m| m.gated)
            .map(|m| (m.name.clone(), m.verdict, m.change))
            .collect(),
    }
}

/// An experiment's rates from its runs. `counted`: the metrics whose "regressed" verdicts are
/// the events (`None`: every gated metric).
pub fn summarize(
    name: &str,
    kind: ExperimentKind,
    counted: Option<&[String]>,
    runs: Vec<ValidationRun>,
) -> Experiment {
    let counts = |metric: &str| counted.is_none_or(|c| c.iter().any(|m| m == metric));
    let mut names: Vec<String> = Vec::new();
    for run in &runs {
        for (metric, ..) in &run.verdicts {
            if counts(metric) && !names.contains(metric) {
                names.push(metric.clone());
            }
        }
    }
    let metrics: Vec<MetricRate> = names
        .iter()
        .map(|metric| {
            let seen: Vec<&(String, Verdict, Option<f64>)> = runs
                .iter()
                .flat_map(|r| r.verdicts.iter())
                .filter(|v| &v.0 == metric)
                .collect();
            let regressed = seen.iter().filter(|v| v.1 == Verdict::Regressed).count();
            let changes: Vec<f64> = seen.iter().filter_map(|v| v.2).collect();
            MetricRate {
                metric: metric.clone(),
                rate: Rate::of(regressed, seen.len()),
                median_change: quantile(&changes, 0.5),
            }
        })
        .collect();
    let per_comparison = Rate::of(
        metrics.iter().map(|m| m.rate.k).sum(),
        metrics.iter().map(|m| m.rate.n).sum(),
    );
    let finished = runs.iter().filter(|r| r.failed.is_none()).count();
    let gate_failed = runs
        .iter()
        .filter(|r| r.verdicts.iter().any(|v| v.1 == Verdict::Regressed))
        .count();
    Experiment {
        name: name.to_owned(),
        kind,
        metrics,
        per_comparison,
        per_run: Rate::of(gate_failed, finished),
        runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(verdicts: &[(&str, Verdict, f64)]) -> ValidationRun {
        ValidationRun {
            failed: None,
            dir: String::new(),
            pairs: 15,
            verdicts: verdicts
                .iter()
                .map(|(n, v, c)| (n.to_string(), *v, Some(*c)))
                .collect(),
        }
    }

    #[test]
    fn rates_count_only_the_counted_metrics_but_runs_count_any_regression() {
        use Verdict::*;
        let runs = vec![
            run(&[
                ("gossip_latency_ms_p50", Regressed, 0.12),
                ("dht_get_ms_p50", Regressed, 0.5),
                ("formation_time_ms", Unchanged, 0.0),
            ]),
            run(&[
                ("gossip_latency_ms_p50", Inconclusive, 0.08),
                ("dht_get_ms_p50", Unchanged, 0.0),
                ("formation_time_ms", Regressed, 0.1),
            ]),
        ];
        let counted = vec!["gossip_latency_ms_p50".to_owned()];
        let kind = ExperimentKind::Injected {
            target_shift: Some(0.1),
            delay_us: 30,
            slowed: vec![("gossip_latency_ms_p50".into(), 0.1)],
        };
        let e = summarize("injected 10 %", kind, Some(&counted), runs.clone());
        assert_eq!(
            e.metrics.len(),
            1,
            "dht_get is not counted: {:?}",
            e.metrics
        );
        assert_eq!((e.metrics[0].rate.k, e.metrics[0].rate.n), (1, 2));
        assert!((e.metrics[0].median_change.unwrap() - 0.10).abs() < 1e-12);
        assert_eq!((e.per_comparison.k, e.per_comparison.n), (1, 2));
        assert_eq!(
            (e.per_run.k, e.per_run.n),
            (2, 2),
            "the gate failed in both runs"
        );

        let aa = summarize("A/A paired", ExperimentKind::AaPaired, None, runs);
        assert_eq!(aa.metrics.len(), 3);
        assert_eq!((aa.per_comparison.k, aa.per_comparison.n), (3, 6));
        let text = crate::report::validation::render(&Validation {
            scenario: "standard".into(),
            repetitions: 15,
            budget_s: 300.0,
            experiments: vec![aa],
        });
        assert!(text.contains("3 / 6 = 50.0%"), "{text}");
    }

    #[test]
    fn failed_runs_are_reported_and_left_out_of_the_rates() {
        let failed = tolerate(Err(Error::RunFailed("rep9: network did not form".into()))).unwrap();
        assert_eq!(failed.failed.as_deref(), Some("rep9: network did not form"));
        let runs = vec![
            run(&[("formation_time_ms", Verdict::Unchanged, 0.0)]),
            failed,
        ];
        let e = summarize("A/A paired", ExperimentKind::AaPaired, None, runs);
        assert_eq!((e.per_run.k, e.per_run.n), (0, 1));
        assert_eq!((e.per_comparison.k, e.per_comparison.n), (0, 1));
        let text = crate::report::validation::render(&Validation {
            scenario: "standard".into(),
            repetitions: 15,
            budget_s: 60.0,
            experiments: vec![e],
        });
        assert!(
            text.contains("failed, reported and not counted (1)")
                && text.contains("- rep9: network did not form"),
            "{text}"
        );
        assert!(matches!(
            tolerate(Err(Error::Interrupted("validation interrupted".into()))),
            Err(Error::Interrupted(_))
        ));
    }

    #[test]
    fn no_trials_is_not_a_rate_of_zero() {
        let e = summarize("A/A paired", ExperimentKind::AaPaired, None, Vec::new());
        assert_eq!(e.per_run.rate, None);
        assert_eq!(e.per_comparison.ci95, None);
    }

    #[test]
    fn the_calibration_slope_is_the_least_squares_line_through_the_origin() {
        assert_eq!(slope_through_origin(&[]), None);
        assert_eq!(
            slope_through_origin(&[(30.0, 0.001)]),
            None,
            "no effect yet"
        );
        // Σ d·s / Σ d² = (10·0.03 + 20·0.05) / (100 + 400) = 1.3 / 500.
        let slope = slope_through_origin(&[(10.0, 0.03), (20.0, 0.05), (5.0, 0.0)]).unwrap();
        assert!((slope - 1.3 / 500.0).abs() < 1e-15, "{slope}");
        assert_eq!(
            delay_for(0.10, slope),
            38,
            "0.10 / 0.0026 = 38.5 µs, rounded"
        );
    }

    #[test]
    fn slowed_metrics_are_those_shifted_near_the_target() {
        let shifts = vec![
            ("gossip_latency_ms_p50".to_owned(), 0.11),
            ("dht_put_ms_p50".to_owned(), 0.06),
            ("dht_get_ms_p50".to_owned(), 15.0),
            ("formation_time_ms".to_owned(), 0.01),
            ("throughput_mbit_s".to_owned(), -0.02),
        ];
        let names: Vec<String> = slowed(&shifts, 0.10).into_iter().map(|(m, _)| m).collect();
        assert_eq!(names, ["gossip_latency_ms_p50", "dht_put_ms_p50"]);
        assert_eq!(delay_for(0.10, 0.003), 33);
        assert_eq!(delay_for(0.10, 1.0), 1);
    }

    #[test]
    fn an_interrupted_validation_exits_130_like_an_interrupted_run() {
        let e = Error::Interrupted("validation interrupted".into());
        assert_eq!(e.exit_code(), 130);
        let e = Error::RunFailed("a validation run failed: node 2 crashed".into());
        assert_eq!(e.exit_code(), 3);
    }
}
