//! The comparison path `perf` and `bench` share: a head run against a base (the other arm of
//! a paired run, a separately measured run, or a committed baseline) through one gate, into a
//! [`Comparison`] with its base label and one warning per environment difference. A baseline's
//! sessions are fed as one sample, with each session's count kept alongside, so that the
//! statistics can account for the drift between sessions.
//!
//! The statistics are [`compare`]'s; this module only matches samples, names the base and adds
//! the warnings, and does no IO. Loading the baseline and writing the result stay with the
//! callers, which decide when each may fail.

use std::{borrow::Cow, collections::BTreeMap, path::Path};

use crate::{
    compare::{self, Comparison, GateConfig, MetricSamples, Mode},
    data::baseline::Baseline,
    data::env::{Fingerprint, short_commit},
    data::summary::{MetricResult, RunSummary},
    tasks::Common,
};

/// What the head run is compared with.
#[derive(Debug, Clone)]
pub enum Base<'a> {
    /// The base arm of the same paired run: samples matched by repetition index. Both arms
    /// ran on this machine, so there are no environment warnings.
    Arm {
        /// The base arm's summary.
        summary: &'a RunSummary,
        /// How the report names it.
        label: String,
    },
    /// A run measured separately (unpaired): `bench --against`.
    Run {
        /// Its summary.
        summary: &'a RunSummary,
        /// How the report names it.
        label: String,
    },
    /// A committed baseline (unpaired): every session's samples.
    Baseline {
        /// The baseline.
        stored: &'a Baseline,
        /// The file it was read from, for the label.
        path: &'a Path,
    },
}

/// How a comparison is gated.
#[derive(Debug, Clone)]
pub struct Gate<'a> {
    /// Thresholds and significance.
    pub config: GateConfig,
    /// Only this metric is compared (a bisection probe); Holm's family is then that metric
    /// alone.
    pub only: Option<&'a str>,
    /// The warning for one environment difference (`cores: 2 vs 4`): what a different machine
    /// means depends on what was measured.
    pub environment_warning: fn(&str) -> String,
}

/// The gate config of a request: its `--threshold` for every metric when given, else the
/// per-metric `overrides` (a scenario's `[thresholds]`) and the default rule.
pub fn config(common: &Common, overrides: BTreeMap<String, f64>) -> GateConfig {
    GateConfig {
        overrides,
        global: common.threshold,
        ..GateConfig::default()
    }
}

/// `revision <ref> (<short commit>)`: the label of a base built from a git ref.
pub fn revision_label(git_ref: &str, commit: &str) -> String {
    format!("revision {git_ref} ({})", short_commit(commit))
}

/// The notice when there is no baseline: `missing` says which, `create` is the command that
/// records one.
pub fn no_baseline_notice(missing: &str, create: &str) -> String {
    format!(
        "{missing}: nothing to compare with. Create one with `{create}`, or compare with a revision using --against <git-ref>"
    )
}

/// Compares `head` with `base` through `gate`.
pub fn compare(head: &RunSummary, base: Base, gate: &Gate) -> Comparison {
    let matched: Vec<Matched> = head
        .metrics
        .iter()
        .filter(|h| gate.only.is_none_or(|name| h.name == name))
        .filter_map(|h| matched(&base, h))
        .collect();
    let samples: Vec<MetricSamples> = matched
        .iter()
        .inspect(|m| {
            debug_assert!(
                m.base_sessions.is_empty() || m.base_sessions.iter().sum::<usize>() == m.base.len()
            )
        })
        .map(|m| MetricSamples {
            name: m.name,
            base: &m.base,
            head: &m.head,
            base_sessions: &m.base_sessions,
        })
        .collect();
    let environments: Vec<&Fingerprint> = match &base {
        Base::Arm { .. } => Vec::new(),
        Base::Run { summary, .. } => vec![&summary.environment],
        Base::Baseline { stored, .. } => stored.sessions().iter().map(|s| &s.environment).collect(),
    };
    let from_baseline = matches!(base, Base::Baseline { .. });
    let (mode, label) = match base {
        Base::Arm { label, .. } => (Mode::Paired, label),
        Base::Run { label, .. } => (Mode::Unpaired, label),
        Base::Baseline { stored, path } => (Mode::Unpaired, baseline_label(stored, path)),
    };
    let mut comparison = compare::compare(mode, label, &samples, &gate.config);
    if from_baseline {
        comparison.base_sessions = matched.iter().map(|m| m.base_sessions.len()).max();
    }
    let mut differences: Vec<String> = Vec::new();
    for environment in environments {
        for difference in head.environment.differences(environment) {
            if !differences.contains(&difference) {
                differences.push(difference);
            }
        }
    }
    comparison.warnings.extend(
        differences
            .iter()
            .map(|difference| (gate.environment_warning)(difference)),
    );
    comparison
}

/// `baseline <file> (testbed <t>, <n> session(s), commit <c>, recorded <when>)`: which machine
/// class and how many independent sessions the base stands for.
fn baseline_label(stored: &Baseline, path: &Path) -> String {
    let sessions = stored.sessions();
    let (first, last) = (&sessions[0], &sessions[sessions.len() - 1]);
    let recorded = if sessions.len() == 1 {
        format!(
            "1 session, commit {}, recorded {}",
            short_commit(&last.revision.commit),
            last.recorded_at
        )
    } else {
        format!(
            "{} sessions, latest commit {}, recorded {} … {}",
            sessions.len(),
            short_commit(&last.revision.commit),
            first.recorded_at,
            last.recorded_at
        )
    };
    format!(
        "baseline {} (testbed {}, {recorded})",
        path.display(),
        stored.testbed
    )
}

/// One metric's samples on both sides: borrowed when unpaired, matched copies when paired.
struct Matched<'a> {
    name: &'a str,
    base: Cow<'a, [f64]>,
    head: Cow<'a, [f64]>,
    /// How many of `base` each independent session contributed, in order (a baseline's
    /// sessions); empty when the base is one session (an arm or a run).
    base_sessions: Vec<usize>,
}

/// The samples of one head metric and its base, `None` when the base lacks the metric.
/// Paired samples are matched by repetition index; a repetition only one arm has is dropped.
fn matched<'a>(base: &Base<'a>, head: &'a MetricResult) -> Option<Matched<'a>> {
    let mut base_sessions = Vec::new();
    let (base, head_samples) = match base {
        Base::Arm { summary, .. } => {
            let b = summary.metric(&head.name)?;
            let (mut bs, mut hs) = (Vec::new(), Vec::new());
            for (rep, hv) in head.repetitions.iter().zip(&head.samples) {
                if let Some(i) = b.repetitions.iter().position(|r| r == rep) {
                    bs.push(b.samples[i]);
                    hs.push(*hv);
                }
            }
            (Cow::Owned(bs), Cow::Owned(hs))
        }
        Base::Run { summary, .. } => (
            Cow::Borrowed(summary.metric(&head.name)?.samples.as_slice()),
            Cow::Borrowed(head.samples.as_slice()),
        ),
        Base::Baseline { stored, .. } => {
            let (samples, counts) = stored.samples_by_session(&head.name)?;
            base_sessions = counts;
            (Cow::Owned(samples), Cow::Borrowed(head.samples.as_slice()))
        }
    };
    Some(Matched {
        name: &head.name,
        base,
        head: head_samples,
        base_sessions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{baseline, env::Testbed};

    fn summary() -> RunSummary {
        serde_json::from_str(include_str!("../../tests/fixtures/summary-small.json")).unwrap()
    }

    fn common(threshold: Option<f64>) -> Common {
        Common {
            workspace: "/ws".into(),
            baselines: "/ws/baselines".into(),
            out: None,
            threshold,
            quiet: true,
        }
    }

    fn gate(only: Option<&str>) -> Gate<'_> {
        Gate {
            config: config(&common(None), BTreeMap::new()),
            only,
            environment_warning: |d| format!("different: {d}"),
        }
    }

    #[test]
    fn arms_pair_by_repetition_and_share_the_machine() {
        let head = summary();
        let mut base = summary();
        base.environment.cores += 2;
        let formation = base
            .metrics
            .iter_mut()
            .find(|m| m.name == "formation_time_ms")
            .unwrap();
        // The base lost repetition 1: only repetitions 0 and 2 pair up.
        formation.repetitions = vec![0, 2];
        formation.samples = vec![formation.samples[0], formation.samples[2]];
        let arm = Base::Arm {
            summary: &base,
            label: "binary b".into(),
        };
        let c = compare(&head, arm, &gate(Some("formation_time_ms")));
        assert_eq!(c.mode, Mode::Paired);
        assert_eq!(c.base_label, "binary b");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.metrics.len(), 1);
        assert_eq!(c.metrics[0].name, "formation_time_ms");
        assert_eq!((c.metrics[0].n_base, c.metrics[0].n_head), (2, 2));
    }

    /// A baseline of `head`'s samples in two sessions, the second from another kernel.
    fn two_session_baseline(head: &RunSummary) -> Baseline {
        let key = baseline::BaselineKey {
            testbed: Testbed::named("box-2c", "test").unwrap(),
            implementation: "swarm-node".into(),
            transport: "quic".into(),
            scenario: head.scenario.name.clone(),
        };
        let mut first = baseline::session(head).unwrap();
        first.revision.commit = "fedcba9876543210".into();
        first.recorded_at = "2026-01-01T00:00:00Z".into();
        first.environment.cores += 2;
        let mut second = first.clone();
        second.revision.commit = "0123456789abcdef".into();
        second.recorded_at = "2026-01-02T00:00:00Z".into();
        second.environment.kernel = "other".into();
        for m in &mut second.metrics {
            m.samples.truncate(2);
            m.repetitions.truncate(2);
        }
        Baseline::new(&key, vec![first, second])
    }

    #[test]
    fn baselines_feed_every_session_and_name_testbed_and_sessions() {
        let head = summary();
        let stored = two_session_baseline(&head);
        let path = Path::new("/ws/baselines/box-2c/swarm-node-quic/small.json");
        let base = Base::Baseline {
            stored: &stored,
            path,
        };
        let formation = head.metric("formation_time_ms").unwrap();
        let m = matched(&base, formation).unwrap();
        assert_eq!(m.base_sessions, vec![formation.samples.len(), 2]);
        assert_eq!(m.base.len(), formation.samples.len() + 2);
        assert_eq!(
            &m.base[..formation.samples.len()],
            formation.samples.as_slice()
        );

        let c = compare(&head, base, &gate(None));
        assert_eq!(c.mode, Mode::Unpaired);
        assert_eq!(
            c.base_label,
            format!(
                "baseline {} (testbed box-2c, 2 sessions, latest commit {}, recorded 2026-01-01T00:00:00Z … 2026-01-02T00:00:00Z)",
                path.display(),
                short_commit("0123456789abcdef")
            )
        );
        let n_base = c
            .metrics
            .iter()
            .find(|m| m.name == "formation_time_ms")
            .unwrap()
            .n_base;
        assert_eq!(n_base, formation.samples.len() + 2);
        // One warning per difference, however many sessions share it.
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(
            c.warnings[0].starts_with("different: cores: "),
            "{:?}",
            c.warnings
        );
        assert!(c.warnings[1].starts_with("different: kernel: "));
        assert!(c.metrics.len() > 1);
    }

    #[test]
    fn a_one_session_baseline_names_its_commit_and_date() {
        let head = summary();
        let mut stored = two_session_baseline(&head);
        stored.sessions.truncate(1);
        let c = compare(
            &head,
            Base::Baseline {
                stored: &stored,
                path: Path::new("b.json"),
            },
            &gate(None),
        );
        assert_eq!(
            c.base_label,
            format!(
                "baseline b.json (testbed box-2c, 1 session, commit {}, recorded 2026-01-01T00:00:00Z)",
                short_commit("fedcba9876543210")
            )
        );
    }

    #[test]
    fn runs_compare_unpaired_and_thresholds_come_from_the_request() {
        let head = summary();
        let mut base = summary();
        base.metrics.retain(|m| m.name == "formation_time_ms");
        let run = Base::Run {
            summary: &base,
            label: revision_label("main", "0123456789abcdef"),
        };
        let gate = Gate {
            config: config(
                &common(Some(0.25)),
                BTreeMap::from([("formation_time_ms".into(), 0.5)]),
            ),
            ..gate(None)
        };
        let c = compare(&head, run, &gate);
        assert_eq!(c.mode, Mode::Unpaired);
        assert!(
            c.base_label.starts_with("revision main ("),
            "{}",
            c.base_label
        );
        assert!(c.warnings.is_empty());
        // Only the metric the base has is compared, and --threshold wins over the override.
        assert_eq!(c.metrics.len(), 1);
        assert_eq!(c.metrics[0].threshold, 0.25);
    }
}
