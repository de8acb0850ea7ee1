//! The js-libp2p reference node (`nodes/js-libp2p`) under `cargo xtask perf minimal` over TCP:
//! it speaks node contract v1 well enough for a run to measure formation, DHT and gossip.
//!
//! Its npm dependencies come from `cargo xtask test`'s tool installer (`npm ci`). Without them
//! the test is skipped with a message on a developer's machine, and fails under CI, where the
//! installer must have put them there.

mod common;

use common::{js_node_dir, median, read_summary, run, serial, xtask};

#[test]
fn the_js_node_passes_node_check_over_tcp() {
    let Some(node_dir) = js_node_dir() else {
        return;
    };
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(xtask()
        .args(["node", "check", "--transport", "tcp", "--node-bin"])
        .arg(node_dir.join("bin/js-libp2p-node"))
        .arg("--out")
        .arg(tmp.path()));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

#[test]
fn the_js_node_runs_perf_minimal_over_tcp_with_sane_metrics() {
    let Some(node_dir) = js_node_dir() else {
        return;
    };
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = run(xtask()
        .args(["perf", "minimal", "--transport", "tcp", "--node-bin"])
        .arg(node_dir.join("bin/js-libp2p-node"))
        .args(["--repetitions", "1", "--warmup", "0", "-q", "--out"])
        .arg(&out)
        .arg("--baselines")
        .arg(tmp.path().join("none")));
    assert_eq!(code, 0, "{stderr}");

    let summary = read_summary(&out.join("minimal/latest/summary.json"));
    assert_eq!(summary["complete"], true);
    let sane = [
        ("formation_time_ms", 1.0, 10_000.0),
        ("gossip_latency_ms_p50", 0.01, 500.0),
        ("gossip_delivery_ratio", 1.0, 1.0),
        ("gossip_exactly_once_ratio", 1.0, 1.0),
        ("dht_get_success_ratio", 1.0, 1.0),
        ("dht_get_ms_p50", 0.01, 1_000.0),
        ("dht_put_ms_p50", 0.01, 1_000.0),
        ("uss_idle_mb_mean", 1.0, 1_000.0),
    ];
    for (name, low, high) in sane {
        let value = median(&summary, name);
        assert!(
            (low..=high).contains(&value),
            "{name} = {value}, expected {low} to {high}"
        );
    }
    // Only what the node declares is measured: no perf, no metrics capability.
    let notes = summary["notes"].to_string();
    assert!(
        notes.contains("throughput is not measured") && notes.contains("bandwidth is not measured"),
        "{notes}"
    );
}
