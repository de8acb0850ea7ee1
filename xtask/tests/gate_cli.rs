//! The regression gate through the real CLI: baselines, paired runs and exit codes 0/1/2/3.

mod common;

use std::path::Path;

use common::{node_bin, run, serial, xtask};
use serde_json::{Value, json};

/// `cargo xtask perf <args> --node-bin <debug node> -q --warmup 0 --out <tmp>/out`.
fn perf(tmp: &Path, args: &[&str]) -> (i32, String, String) {
    run(xtask()
        .arg("perf")
        .args(args)
        .args(["-q", "--warmup", "0", "--node-bin"])
        .arg(node_bin())
        .arg("--out")
        .arg(tmp.join("out")))
}

fn latest_summary(tmp: &Path) -> Value {
    let text = std::fs::read_to_string(tmp.join("out/small/latest/summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn missing_baseline_is_neutral_and_says_how_to_make_one() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let baselines = tmp.path().join("baselines");
    let (code, _, stderr) = perf(
        tmp.path(),
        &[
            "small",
            "--repetitions",
            "2",
            "--baselines",
            baselines.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("no baseline") && stderr.contains("cargo xtask perf baseline update small"),
        "{stderr}"
    );
    assert!(latest_summary(tmp.path()).get("comparison").is_none());
    assert!(!baselines.exists(), "a normal run never writes baselines");
}

#[test]
fn baseline_update_round_trips_and_later_runs_compare_without_touching_it() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let baselines = tmp.path().join("baselines");
    let dir = baselines.to_str().unwrap();
    let output = xtask()
        .args([
            "perf",
            "baseline",
            "update",
            "small",
            "--repetitions",
            "3",
            "--warmup",
            "0",
            "-q",
            "--baselines",
            dir,
        ])
        .arg("--node-bin")
        .arg(node_bin())
        .arg("--out")
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file = baselines.join("small.json");
    let stored_text = std::fs::read_to_string(&file).unwrap();
    let stored: Value = serde_json::from_str(&stored_text).unwrap();
    assert_eq!(stored["kind"], "swarmbench-baseline");
    assert_eq!(stored["scenario"], "small");
    assert_eq!(stored["repetitions"], 3);
    let run_summary = latest_summary(tmp.path());
    let formation = |v: &Value| {
        v["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "formation_time_ms")
            .unwrap()["samples"]
            .clone()
    };
    assert_eq!(
        formation(&stored),
        formation(&run_summary),
        "the baseline holds the run's raw samples"
    );

    let (code, _, stderr) = perf(
        tmp.path(),
        &["small", "--repetitions", "3", "--baselines", dir],
    );
    assert_eq!(
        code, 0,
        "3 vs 3 samples cannot show a significant regression: {stderr}"
    );
    let comparison = &latest_summary(tmp.path())["comparison"];
    assert_eq!(comparison["mode"], "unpaired");
    assert!(
        comparison["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "formation_time_ms")
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        stored_text,
        "comparing never modifies the baseline"
    );
}

/// A baseline whose every sample is half the fixture's value, twenty times over, so the
/// current run is clearly slower on every lower-is-better metric.
fn write_fast_baseline(dir: &Path) {
    let fixture: Value = serde_json::from_str(include_str!(
        "../../perf-runner/tests/fixtures/summary-small.json"
    ))
    .unwrap();
    let metrics: Vec<Value> = fixture["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut m = m.clone();
            let median = m["summary"]["median"].as_f64().unwrap();
            let samples: Vec<f64> = (0..20)
                .map(|k| median * 0.5 * (1.0 + 0.001 * k as f64))
                .collect();
            m["samples"] = json!(samples);
            m["repetitions"] = json!((0..20).collect::<Vec<_>>());
            m
        })
        .collect();
    let baseline = json!({
        "schema_version": 1, "kind": "swarmbench-baseline", "scenario": "small",
        "recorded_at": "2026-11-23T00:00:00Z", "revision": fixture["revision"],
        "environment": fixture["environment"], "node_bin": "fabricated", "repetitions": 20, "metrics": metrics,
    });
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("small.json"),
        serde_json::to_string_pretty(&baseline).unwrap(),
    )
    .unwrap();
}

#[test]
fn a_clearly_slower_run_than_the_baseline_exits_1() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let baselines = tmp.path().join("baselines");
    write_fast_baseline(&baselines);
    let (code, stdout, stderr) = perf(
        tmp.path(),
        &[
            "small",
            "--repetitions",
            "3",
            "--baselines",
            baselines.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("REGRESSION") && stdout.contains("formation_time_ms"),
        "{stdout}"
    );
    let comparison = &latest_summary(tmp.path())["comparison"];
    let formation = comparison["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "formation_time_ms")
        .unwrap();
    assert_eq!(formation["verdict"], "regressed");
    let report = std::fs::read_to_string(tmp.path().join("out/small/latest/report.md")).unwrap();
    assert!(
        report.contains("## Verdict")
            && report.contains("```mermaid")
            && report.contains("| formation_time_ms |"),
        "{report}"
    );
}

#[test]
fn bad_baselines_exit_2_before_running_and_stay_untouched() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let baselines = tmp.path().join("baselines");
    std::fs::create_dir_all(&baselines).unwrap();
    let file = baselines.join("small.json");
    let cases = [
        ("{broken", "not a valid swarmbench baseline"),
        (
            "{\"kind\": \"swarmbench-baseline\", \"schema_version\": 7}",
            "newer than this swarmbench",
        ),
    ];
    for (text, needle) in cases {
        std::fs::write(&file, text).unwrap();
        let (code, _, stderr) = perf(
            tmp.path(),
            &["small", "--baselines", baselines.to_str().unwrap()],
        );
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(needle) && stderr.contains(&file.display().to_string()),
            "{stderr}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    }
    write_fast_baseline(&baselines);
    std::fs::rename(&file, baselines.join("minimal.json")).unwrap();
    let (code, _, stderr) = perf(
        tmp.path(),
        &["minimal", "--baselines", baselines.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is for scenario \"small\""), "{stderr}");
    assert!(
        !tmp.path().join("out").exists(),
        "nothing ran, nothing was written"
    );
}

#[test]
fn against_a_ref_that_does_not_exist_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = perf(tmp.path(), &["small", "--against", "no-such-ref-4a1b"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("git ref \"no-such-ref-4a1b\" does not exist"),
        "{stderr}"
    );
}

#[test]
fn paired_run_against_the_same_binary_finds_no_regression() {
    let _s = serial();
    let tmp = tempfile::tempdir().unwrap();
    let bin = node_bin();
    let (code, stdout, stderr) = perf(
        tmp.path(),
        &[
            "small",
            "--repetitions",
            "3",
            "--base-node-bin",
            bin.to_str().unwrap(),
            // Room for a second look on an idle machine; how many looks fit is the machine's
            // business, what the looks must satisfy is this test's.
            "--budget",
            "40s",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let summary = latest_summary(tmp.path());
    assert_eq!(summary["comparison"]["mode"], "paired");
    let sequential = &summary["comparison"]["sequential"];
    let looks = sequential["looks"]
        .as_array()
        .expect("a paired run records its looks");
    assert_eq!(
        looks[0]["pairs"], 3,
        "the first look is at the scenario's repetitions"
    );
    let pairs = looks.last().unwrap()["pairs"].as_u64().unwrap();
    assert_eq!(summary["repetitions_done"].as_u64(), Some(pairs));
    let spent: f64 = looks.iter().map(|l| l["level"].as_f64().unwrap()).sum();
    assert!(spent <= 0.01 + 1e-12, "the looks spend at most α: {spent}");
    assert!(
        sequential["stopped"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{sequential}"
    );
    let base: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/small/latest/base/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        base["repetitions_done"].as_u64(),
        Some(pairs),
        "the base arm ran as many repetitions"
    );
    assert!(
        summary["comparison"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["verdict"] != "regressed")
    );
}
