//! A mixed network under `cargo xtask perf interop`: swarm-node (the debug build) and the
//! js-libp2p reference node in one network over TCP. Gossip must reach every node exactly once
//! across implementations, DHT gets must succeed, and the summary must break gossip latency down
//! per implementation pair.
//!
//! The js node's npm dependencies come from `cargo xtask test`'s tool installer (`npm ci`).
//! Without them the test is skipped with a message on a developer's machine, and fails under CI.

mod common;

use common::{js_node_dir, median, node_bin, read_summary, run, serial, xtask};

#[test]
fn swarm_node_and_js_libp2p_gossip_exactly_once_and_answer_each_others_gets() {
    if js_node_dir().is_none() {
        return;
    }
    let node = node_bin();
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = run(xtask()
        .args([
            "perf",
            "interop",
            "--repetitions",
            "1",
            "--warmup",
            "0",
            "-q",
        ])
        .arg("--node-bin")
        .arg(&node)
        .arg("--out")
        .arg(&out)
        .arg("--baselines")
        .arg(tmp.path().join("none")));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("by implementation pair"), "{stdout}");

    let summary = read_summary(&out.join("interop/latest/summary.json"));
    assert_eq!(summary["complete"], true);
    assert_eq!(median(&summary, "gossip_delivery_ratio"), 1.0);
    assert_eq!(median(&summary, "gossip_duplicate_ratio"), 0.0);
    assert_eq!(median(&summary, "gossip_exactly_once_ratio"), 1.0);
    assert_eq!(median(&summary, "dht_get_success_ratio"), 1.0);

    let rows = summary["breakdown"].as_array().expect("a breakdown");
    let row = |metric: &str, from: &str, to: &str| {
        rows.iter()
            .find(|r| r["metric"] == metric && r["from"] == from && r["to"] == to)
            .unwrap_or_else(|| panic!("no {metric} {from} → {to} row: {rows:?}"))
    };
    // The debug node's file name is its implementation, as for any --node-bin.
    for (from, to) in [("swarm-node", "js-libp2p"), ("js-libp2p", "swarm-node")] {
        let r = row("gossip_latency_ms", from, to);
        assert!(r["n"].as_u64().unwrap() > 0, "{r}");
        assert!(r["p50"].as_f64().unwrap() > 0.0, "{r}");
    }
    let report = std::fs::read_to_string(out.join("interop/latest/report.md")).unwrap();
    assert!(report.contains("## By implementation pair"), "{report}");
}

#[test]
fn an_unknown_implementation_is_refused_up_front_at_its_position() {
    // A scenario naming an implementation the registry does not know: exit 2 with file:line:col.
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("mixed.toml");
    std::fs::write(
        &scenario,
        "name = \"mixed\"\nnodes = 3\ntransport = \"tcp\"\n[[node_groups]]\nimplementation = \"go-libp2p\"\nnodes = [2]\n",
    )
    .unwrap();
    let (code, _, stderr) = run(xtask()
        .arg("perf")
        .arg(&scenario)
        .arg("--node-bin")
        .arg("/bin/true")
        .arg("--out")
        .arg(tmp.path().join("out")));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "mixed.toml:5:18: unknown implementation \"go-libp2p\"; known: \"js-libp2p\""
        ),
        "{stderr}"
    );
}
