//! `cargo xtask perf suite basic|comprehensive|stress`: sets of scenarios at rising
//! resilience levels (after seed 000's suites and intensities), run one after another, with
//! one combined report. Each scenario still writes its own run directory and is compared
//! with its baseline when one exists.

use std::path::PathBuf;

use crate::data::suite::{Entry, Status, Suite};
use crate::{
    Error, Exit,
    data::output::write_atomic,
    run::Outcome,
    tasks::{
        perf::{PerfRequest, run_scenario},
        preflight,
    },
};

/// The shipped suites.
pub const SUITES: &[Suite] = &[
    Suite {
        name: "basic",
        level: "low",
        description: "small quiet networks, 5 % loss and one partition: a few minutes",
        scenarios: &["minimal", "small", "lossy-5pct", "partition-recovery"],
    },
    Suite {
        name: "comprehensive",
        level: "medium to high",
        description: "the gate scenario, a larger network, loss, WAN latency over QUIC and TCP, partition, churn, flaky links and a failed bootstrap node",
        scenarios: &[
            "standard",
            "large",
            "lossy-5pct",
            "wan-50ms",
            "wan-tcp",
            "partition-recovery",
            "churn",
            "flaky-links",
            "bootstrap-failure",
        ],
    },
    Suite {
        name: "stress",
        level: "extreme",
        description: "100 nodes, churn, flaky links and loss",
        scenarios: &["scale-100", "churn", "flaky-links", "lossy-5pct"],
    },
];

/// The suite called `name`.
pub fn find(name: &str) -> Result<&'static Suite, Error> {
    SUITES.iter().find(|s| s.name == name).ok_or_else(|| {
        Error::Usage(format!(
            "no suite named {name:?}; suites: {}",
            SUITES.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
        ))
    })
}

/// The status of a scenario whose run ended with `exit`: a comparison that is no verdict
/// fails the scenario as it fails `perf`.
fn status_of(exit: Exit) -> Status {
    match exit {
        Exit::Success => Status::Ok,
        Exit::Regressed => Status::Regressed,
        Exit::Interrupted => Status::Interrupted,
        Exit::Usage | Exit::Failed => Status::Failed,
    }
}

/// Metrics shown in the combined table, when a scenario measured them.
const KEY_METRICS: &[&str] = &[
    "formation_time_ms",
    "gossip_latency_ms_p50",
    "gossip_exactly_once_ratio",
    "recovery_time_ms",
    "fault_delivery_ratio_during",
    "netem_loss_ratio",
];

/// The request of one scenario of a suite.
fn request_for(scenario: &str, template: &PerfRequest) -> PerfRequest {
    PerfRequest {
        scenario: scenario.to_owned(),
        ..template.clone()
    }
}

/// Runs every scenario of `suite` with `template`'s options; a failed scenario is recorded
/// and the suite goes on. Returns the entries and where the combined report went.
pub fn run(suite: &Suite, template: &PerfRequest) -> Result<(Vec<Entry>, PathBuf), Error> {
    // Every scenario is checked with the suite's options before the first one is built or run:
    // a bad option is one usage error, not a failed entry per scenario.
    for scenario in suite.scenarios {
        preflight::perf(&request_for(scenario, template)).map_err(|e| match e {
            Error::Usage(message) => Error::Usage(format!("{scenario}: {message}")),
            other => other,
        })?;
    }
    let mut entries = Vec::new();
    for scenario in suite.scenarios {
        eprintln!("suite {}: {scenario}", suite.name);
        let entry = match run_scenario(&request_for(scenario, template)) {
            Ok(outcome) => {
                let summary = &outcome.result.summaries[0];
                let status = status_of(outcome.exit());
                let detail = match &outcome.result.outcome {
                    Outcome::Complete => outcome
                        .comparison
                        .as_ref()
                        .map(|c| c.headline())
                        .unwrap_or_else(|| "measured; no baseline to compare with".into()),
                    Outcome::Interrupted => "interrupted".into(),
                    Outcome::Failed(m) => m.clone(),
                };
                Entry {
                    scenario: (*scenario).to_owned(),
                    status,
                    detail,
                    metrics: KEY_METRICS
                        .iter()
                        .filter_map(|name| {
                            let m = summary.metric(name)?;
                            Some((m.name.clone(), m.summary.as_ref()?.median, m.unit.clone()))
                        })
                        .collect(),
                    report: Some(outcome.result.dir.report_md()),
                }
            }
            Err(e) => Entry {
                scenario: (*scenario).to_owned(),
                status: Status::Failed,
                detail: e.to_string(),
                metrics: Vec::new(),
                report: None,
            },
        };
        let stop = entry.status == Status::Interrupted;
        entries.push(entry);
        if stop {
            break;
        }
    }
    let root = template.common.output_root();
    let dir = root.create_suite(suite.name).map_err(|source| Error::Io {
        path: root.dir.clone(),
        source,
    })?;
    let md = dir.suite_md();
    let io = |path: PathBuf| move |source| Error::Io { path, source };
    write_atomic(
        &md,
        crate::report::suite::render(suite, &entries).as_bytes(),
    )
    .map_err(io(md.clone()))?;
    let json = dir.suite_json();
    write_atomic(
        &json,
        &serde_json::to_vec_pretty(&serde_json::json!({"suite": suite, "entries": entries}))
            .expect("serializes"),
    )
    .map_err(io(json.clone()))?;
    let _ = dir.mark_latest();
    Ok((entries, md))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_names_shipped_scenarios() {
        let shipped = crate::scenario::shipped_names();
        for suite in SUITES {
            for s in suite.scenarios {
                assert!(
                    shipped.iter().any(|n| n == s),
                    "suite {} names {s}",
                    suite.name
                );
                crate::scenario::resolve(s).unwrap();
            }
        }
        assert!(
            find("nope")
                .unwrap_err()
                .to_string()
                .contains("basic, comprehensive, stress")
        );
    }
}
