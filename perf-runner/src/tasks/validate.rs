//! `cargo xtask perf validate`: measures the gate instead of assuming it works.
//!
//! Two experiments, each a series of complete paired runs (`--against`-style, ABBA):
//! - A/A: the same binary on both sides. Every "regressed" verdict is a false alarm.
//! - Injected: a fault-injection build with `--inject-delay-us=D` on the head side and
//!   `--inject-delay-us=0` on the base side (same build), so the only difference is the
//!   deliberate slowdown of message and DHT handling. Every "regressed" verdict on a gated
//!   latency metric is a detection.
//!
//! Rates are reported per metric comparison and per run, with Clopper–Pearson intervals.

use std::path::PathBuf;

use crate::{
    Error,
    compare::{Comparison, Verdict},
    data::{
        output::{RunDir, write_atomic},
        validation::{Rate, Validation, ValidationRun},
    },
    measure::build::{build_fault_injection_node, build_release_node},
    run::Outcome,
    stats::descriptive::quantile,
    tasks::{
        Common,
        perf::{PerfRequest, run_scenario},
    },
};

/// Gated latency metrics on the path the injected delay slows down (gossip message handling
/// and DHT request handling). Formation is not on it: a first validation run measured its
/// change under injection at −0.4 %, so counting it would understate detection.
pub const LATENCY_METRICS: &[&str] = &["dht_put_ms_p50", "dht_get_ms_p50", "gossip_latency_ms_p50"];

/// What to validate.
#[derive(Debug, Clone)]
pub struct ValidateRequest {
    /// Scenario and options, as for a perf run (node binaries are chosen here).
    pub perf: PerfRequest,
    /// Paired runs per experiment.
    pub runs: usize,
    /// Injected delay per handled message or DHT request, microseconds.
    pub inject_delay_us: u64,
    /// Run the A/A experiment.
    pub aa: bool,
    /// Run the injected-slowdown experiment.
    pub injected: bool,
}

/// Runs both experiments and writes `validation.json` and `validation.md`.
pub fn validate(request: &ValidateRequest) -> Result<(Validation, RunDir), Error> {
    let workspace = &request.perf.common.workspace;
    let root = request.perf.common.output_root().validate();
    let scenario = crate::scenario::resolve(&request.perf.scenario)?
        .with_overrides(&request.perf.overrides)?;
    let dir = root
        .create_run(&scenario.name)
        .map_err(|source| Error::Io {
            path: root.dir.clone(),
            source,
        })?;
    let plain = build_release_node(workspace, false)?.bin;
    let injected = build_fault_injection_node(workspace)?;

    let mut runs = Vec::new();
    let experiments: [(&str, PerfRequest); 2] = [
        (
            "aa",
            PerfRequest {
                node_bin: Some(plain.clone()),
                base_node_bin: Some(plain),
                ..request.perf.clone()
            },
        ),
        (
            "injected",
            PerfRequest {
                node_bin: Some(injected.clone()),
                node_args: vec![format!("--inject-delay-us={}", request.inject_delay_us)],
                base_node_bin: Some(injected),
                base_node_args: vec!["--inject-delay-us=0".into()],
                ..request.perf.clone()
            },
        ),
    ];
    let wanted =
        |name: &str| (name == "aa" && request.aa) || (name == "injected" && request.injected);
    for (name, perf) in experiments.into_iter().filter(|(name, _)| wanted(name)) {
        let perf = PerfRequest {
            common: Common {
                out: Some(dir.experiment_runs(name).dir),
                ..perf.common
            },
            against: None,
            ..perf
        };
        for _ in 0..request.runs {
            let outcome = run_scenario(&perf)?;
            completed(&outcome.result.outcome)?;
            let comparison = outcome.comparison.expect("paired runs always compare");
            runs.push(record(name, &outcome.result.dir.dir, &comparison));
        }
    }
    let validation = summarize(
        &scenario.name,
        scenario.repetitions,
        request.inject_delay_us,
        runs,
    );
    let io = |path: PathBuf| move |source| Error::Io { path, source };
    let json = serde_json::to_vec_pretty(&validation).expect("validation serializes");
    write_atomic(&dir.validation_json(), &json).map_err(io(dir.validation_json()))?;
    write_atomic(
        &dir.validation_md(),
        crate::report::validation::render(&validation).as_bytes(),
    )
    .map_err(io(dir.validation_md()))?;
    Ok((validation, dir))
}

/// A validation counts only complete runs: an interrupted one stops it (exit 130, as an
/// interrupted perf run), a failed one fails it (exit 3).
fn completed(outcome: &Outcome) -> Result<(), Error> {
    match outcome {
        Outcome::Complete => Ok(()),
        Outcome::Interrupted => Err(Error::Interrupted("validation interrupted".into())),
        Outcome::Failed(message) => Err(Error::RunFailed(format!(
            "a validation run failed: {message}"
        ))),
    }
}

fn record(experiment: &str, dir: &std::path::Path, comparison: &Comparison) -> ValidationRun {
    ValidationRun {
        experiment: experiment.into(),
        dir: dir.display().to_string(),
        verdicts: comparison
            .metrics
            .iter()
            .filter(|m| m.gated)
            .map(|m| (m.name.clone(), m.verdict, m.change))
            .collect(),
    }
}

/// Rates from the runs of both experiments.
pub fn summarize(
    scenario: &str,
    repetitions: usize,
    inject_delay_us: u64,
    runs: Vec<ValidationRun>,
) -> Validation {
    let of = |experiment: &'static str| runs.iter().filter(move |r| r.experiment == experiment);
    let regressed = |v: &&(String, Verdict, Option<f64>)| v.1 == Verdict::Regressed;
    let aa_metrics: usize = of("aa").map(|r| r.verdicts.len()).sum();
    let aa_alarms: usize = of("aa")
        .map(|r| r.verdicts.iter().filter(regressed).count())
        .sum();
    let aa_runs = of("aa").count();
    let aa_failed_runs = of("aa")
        .filter(|r| r.verdicts.iter().any(|v| v.1 == Verdict::Regressed))
        .count();
    let is_latency = |v: &&(String, Verdict, Option<f64>)| LATENCY_METRICS.contains(&v.0.as_str());
    let inj_metrics: usize = of("injected")
        .map(|r| r.verdicts.iter().filter(is_latency).count())
        .sum();
    let inj_detected: usize = of("injected")
        .map(|r| {
            r.verdicts
                .iter()
                .filter(is_latency)
                .filter(regressed)
                .count()
        })
        .sum();
    let inj_runs = of("injected").count();
    let inj_failed_runs = of("injected")
        .filter(|r| r.verdicts.iter().any(|v| v.1 == Verdict::Regressed))
        .count();
    let injected_change = LATENCY_METRICS
        .iter()
        .map(|name| {
            let changes: Vec<f64> = of("injected")
                .flat_map(|r| r.verdicts.iter())
                .filter(|v| v.0 == *name)
                .filter_map(|v| v.2)
                .collect();
            (name.to_string(), quantile(&changes, 0.5))
        })
        .collect();
    Validation {
        scenario: scenario.into(),
        repetitions,
        inject_delay_us,
        false_alarms_per_metric: Rate::of(aa_alarms, aa_metrics),
        false_alarms_per_run: Rate::of(aa_failed_runs, aa_runs),
        detections_per_metric: Rate::of(inj_detected, inj_metrics),
        detections_per_run: Rate::of(inj_failed_runs, inj_runs),
        injected_change,
        runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(experiment: &str, verdicts: &[(&str, Verdict, f64)]) -> ValidationRun {
        ValidationRun {
            experiment: experiment.into(),
            dir: String::new(),
            verdicts: verdicts
                .iter()
                .map(|(n, v, c)| (n.to_string(), *v, Some(*c)))
                .collect(),
        }
    }

    #[test]
    fn rates_count_the_right_comparisons() {
        use Verdict::*;
        let runs = vec![
            run(
                "aa",
                &[
                    ("formation_time_ms", Unchanged, 0.0),
                    ("discovery_ratio", Unchanged, 0.0),
                ],
            ),
            run(
                "aa",
                &[
                    ("formation_time_ms", Regressed, 0.1),
                    ("discovery_ratio", Unchanged, 0.0),
                ],
            ),
            run(
                "injected",
                &[
                    ("gossip_latency_ms_p50", Regressed, 0.12),
                    ("discovery_ratio", Unchanged, 0.0),
                ],
            ),
            run(
                "injected",
                &[
                    ("gossip_latency_ms_p50", Inconclusive, 0.08),
                    ("formation_time_ms", Unchanged, 0.0),
                ],
            ),
        ];
        let v = summarize("s", 10, 50, runs);
        assert_eq!(
            (v.false_alarms_per_metric.k, v.false_alarms_per_metric.n),
            (1, 4)
        );
        assert_eq!((v.false_alarms_per_run.k, v.false_alarms_per_run.n), (1, 2));
        assert_eq!(
            (v.detections_per_metric.k, v.detections_per_metric.n),
            (1, 2),
            "only latency metrics count"
        );
        assert_eq!((v.detections_per_run.k, v.detections_per_run.n), (1, 2));
        let gossip = v
            .injected_change
            .iter()
            .find(|(n, _)| n == "gossip_latency_ms_p50")
            .unwrap();
        assert!((gossip.1.unwrap() - 0.10).abs() < 1e-12);
        assert!(crate::report::validation::render(&v).contains("1 / 4 = 25.0%"));
    }

    #[test]
    fn an_interrupted_validation_exits_130_like_an_interrupted_run() {
        let e = completed(&Outcome::Interrupted).unwrap_err();
        assert_eq!(e.to_string(), "validation interrupted");
        assert_eq!(e.exit_code(), 130);
        let e = completed(&Outcome::Failed("node 2 crashed".into())).unwrap_err();
        assert_eq!(e.to_string(), "a validation run failed: node 2 crashed");
        assert_eq!(e.exit_code(), 3);
        assert!(completed(&Outcome::Complete).is_ok());
    }
}
