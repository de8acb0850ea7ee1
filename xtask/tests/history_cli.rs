//! `cargo xtask perf record` and `perf trend`: a history built from real summary files, a
//! planted step in one metric, and the change point, plots and alert that come out.

mod common;

use std::path::Path;

use common::{run, xtask};
use serde_json::Value;

fn fixture() -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../perf-runner/tests/fixtures/summary-small.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A run directory whose gossip p50 median is `value`.
fn run_dir(root: &Path, i: usize, value: f64) -> std::path::PathBuf {
    let mut s = fixture();
    s["revision"]["commit"] = format!("{i:040x}").into();
    s["started_at"] = format!("2026-02-{:02}T06:00:00Z", i + 1).into();
    for m in s["metrics"].as_array_mut().unwrap() {
        if m["name"] == "gossip_latency_ms_p50" {
            m["summary"]["median"] = value.into();
        }
    }
    let dir = root.join(format!("run-{i}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("summary.json"), serde_json::to_vec(&s).unwrap()).unwrap();
    dir
}

#[test]
fn record_then_trend_finds_the_planted_step() {
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history");
    for i in 0..24 {
        let value = if i < 21 { 0.60 } else { 0.80 } + [0.0, 0.01, -0.01][i % 3];
        let dir = run_dir(tmp.path(), i, value);
        let (code, out, err) = run(xtask()
            .args(["perf", "record"])
            .arg(&dir)
            .arg("--history")
            .arg(&history));
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("recorded as run {}", i + 1)), "{out}");
    }
    // Recording the same run again changes nothing.
    let (code, out, _) = run(xtask()
        .args(["perf", "record"])
        .arg(tmp.path().join("run-3/summary.json"))
        .arg("--history")
        .arg(&history));
    assert_eq!(code, 0);
    assert!(out.contains("already recorded"), "{out}");
    assert_eq!(
        std::fs::read_to_string(history.join("small.jsonl"))
            .unwrap()
            .lines()
            .count(),
        24
    );

    let out_dir = tmp.path().join("trend");
    let (code, out, err) = run(xtask()
        .args([
            "perf",
            "trend",
            "small",
            "--fail-on-regression",
            "--history",
        ])
        .arg(&history)
        .arg("--out")
        .arg(&out_dir)
        .env_remove("GITHUB_STEP_SUMMARY"));
    assert_eq!(
        code, 1,
        "a recent regression change point fails with --fail-on-regression: {out}{err}"
    );
    let md = std::fs::read_to_string(out_dir.join("trend.md")).unwrap();
    let planted = format!("{:040x}", 21);
    assert!(md.contains("`gossip_latency_ms_p50` +33"), "{md}");
    assert!(
        md.contains(&format!("from commit `{}`", &planted[..12])),
        "{md}"
    );
    assert!(out_dir.join("alert.md").is_file());
    assert!(
        out_dir
            .join("plots/trend-gossip_latency_ms_p50.svg")
            .is_file()
    );
    assert!(
        out_dir
            .join("plots/trend-gossip_latency_ms_p50.png")
            .is_file()
    );
    let json: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("trend.json")).unwrap()).unwrap();
    assert_eq!(json["recent_regressions"].as_array().unwrap().len(), 1);
}

#[test]
fn trend_without_history_and_record_of_garbage_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run(xtask()
        .args(["perf", "trend", "standard", "--history"])
        .arg(tmp.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no history for scenario \"standard\""),
        "{err}"
    );
    let bad = tmp.path().join("summary.json");
    std::fs::write(&bad, "{\"schema_version\": 1}").unwrap();
    let (code, _, err) = run(xtask()
        .args(["perf", "record"])
        .arg(&bad)
        .arg("--history")
        .arg(tmp.path().join("h")));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a swarmbench summary"), "{err}");
    assert!(!tmp.path().join("h").exists(), "nothing written");
}
