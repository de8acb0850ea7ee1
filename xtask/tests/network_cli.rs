//! Network emulation and faults end to end: real nodes whose traffic goes through the
//! userspace switch, a partition that really drops packets, recovery after the heal, and the
//! exactly-once check over every message published meanwhile.

mod common;

use std::path::Path;

use common::{median, node_bin, run, serial, xtask};
use serde_json::Value;

fn summary(out: &Path, scenario: &str) -> Value {
    let path = out.join(scenario).join("latest/summary.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Runs `text` as a scenario file with the debug node, asserts exit 0, returns the output root.
fn run_ok(tmp: &Path, text: &str, extra: &[&str]) -> std::path::PathBuf {
    let scenario = tmp.join("scenario.toml");
    std::fs::write(&scenario, text).unwrap();
    let out = tmp.join("out");
    let (code, stdout, err) = run(xtask()
        .args(["perf", "-q", "--baselines"])
        .arg(tmp)
        .arg("--out")
        .arg(&out)
        .arg("--node-bin")
        .arg(node_bin())
        .args(extra)
        .arg(&scenario));
    assert_eq!(code, 0, "{stdout}{err}");
    out
}

/// Every raw record of a phase in the latest run's metrics.jsonl.
fn raw_records(out: &Path, scenario: &str, phase: &str) -> Vec<Value> {
    std::fs::read_to_string(out.join(scenario).join("latest/metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["phase"] == phase)
        .collect()
}

#[test]
fn a_partitioned_network_recovers_and_loses_nothing() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(
        tmp.path(),
        r#"name = "split"
nodes = 3
repetitions = 1
warmup = 0
[formation]
timeout_s = 60
[network]
delay_ms = 2
[chaos]
duration_s = 6
publish_rate_per_s = 10
recovery_timeout_s = 60
[[chaos.faults]]
at_s = 1
kind = "partition"
groups = [[0], [1, 2]]
[[chaos.faults]]
at_s = 3
kind = "heal"
[idle]
seconds = 0.2
"#,
        &[],
    );
    let s = summary(&out, "split");
    assert_eq!(s["environment"]["network_backend"], "userspace-switch");
    assert!(median(&s, "recovery_time_ms") > 0.0);
    assert_eq!(
        median(&s, "fault_delivery_ratio_during"),
        1.0,
        "nothing lost across the partition"
    );
    assert_eq!(median(&s, "fault_delivery_ratio_after"), 1.0);
    // The partition was real: the switch dropped datagrams on the cut links.
    let switch = raw_records(&out, "split", "chaos")
        .into_iter()
        .find(|v| v.get("switch").is_some())
        .expect("switch counters recorded");
    assert!(
        switch["switch"]["partitioned"].as_u64().unwrap() > 0,
        "{switch}"
    );
}

#[test]
fn a_crashed_node_restarts_another_leaves_and_no_live_node_misses_a_message() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(
        tmp.path(),
        r#"name = "churn"
nodes = 3
repetitions = 1
warmup = 0
[formation]
timeout_s = 60
[network]
delay_ms = 1
[chaos]
duration_s = 6
publish_rate_per_s = 10
recovery_timeout_s = 60
[[chaos.faults]]
at_s = 1
kind = "crash"
node = 0
[[chaos.faults]]
at_s = 3
kind = "restart"
node = 0
[[chaos.faults]]
at_s = 4.5
kind = "leave"
node = 2
[idle]
seconds = 0.2
"#,
        &["--keep-logs"],
    );
    let s = summary(&out, "churn");
    assert!(median(&s, "recovery_time_ms") > 0.0);
    assert_eq!(median(&s, "fault_delivery_ratio_during"), 1.0);
    assert_eq!(median(&s, "fault_delivery_ratio_after"), 1.0);
    let reports: Vec<Value> = raw_records(&out, "churn", "chaos")
        .into_iter()
        .filter(|v| v.get("report").is_some())
        .collect();
    assert_eq!(reports.len(), 2, "during and after");
    for r in &reports {
        assert!(r["report"]["lost"].as_array().unwrap().is_empty(), "{r}");
        assert!(
            r["report"]["duplicated"].as_array().unwrap().is_empty(),
            "{r}"
        );
        assert!(r["report"]["expected"].as_u64().unwrap() > 0, "{r}");
    }
    // The restart really happened: the node's second life has its own log.
    let logs = out.join("churn/latest/nodes/rep0");
    assert!(
        logs.join("node0.restart1.log").is_file(),
        "{}",
        logs.display()
    );
}

#[test]
fn lossy_links_are_measured_through_the_switch() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(
        tmp.path(),
        "name = \"lossy\"\nnodes = 3\nrepetitions = 1\nwarmup = 0\n[formation]\ntimeout_s = 60\n[network]\ndelay_ms = 5\nloss_pct = 5\n[gossip]\nmessages = 30\nrate_per_s = 50\n[idle]\nseconds = 0.2\n",
        &[],
    );
    let s = summary(&out, "lossy");
    // Every connection went through the switch (the run fails otherwise), which dropped
    // packets, and gossip still arrived exactly once.
    assert!(median(&s, "netem_loss_ratio") > 0.0);
    assert_eq!(median(&s, "gossip_exactly_once_ratio"), 1.0);
    // Two 5 ms hops at least: publish → receive cannot be faster than the emulated delay.
    assert!(median(&s, "gossip_latency_ms_p50") >= 5.0);
}

#[test]
fn corruption_a_flapping_link_and_scaling_lose_nothing_among_live_nodes() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(
        tmp.path(),
        r#"name = "flux"
nodes = 3
repetitions = 1
warmup = 0
[formation]
timeout_s = 60
[network]
delay_ms = 1
[chaos]
duration_s = 8
publish_rate_per_s = 10
recovery_timeout_s = 60
[[chaos.faults]]
at_s = 0.5
kind = "corrupt"
pct = 20
[[chaos.faults]]
at_s = 1.5
kind = "intermittent"
node = 1
down_s = 0.3
up_s = 0.4
[[chaos.faults]]
at_s = 4
kind = "heal"
[[chaos.faults]]
at_s = 4.5
kind = "scale-up"
count = 2
[[chaos.faults]]
at_s = 6
kind = "scale-down"
count = 1
[idle]
seconds = 0.2
"#,
        &[],
    );
    let s = summary(&out, "flux");
    assert!(median(&s, "recovery_time_ms") > 0.0);
    assert_eq!(median(&s, "fault_delivery_ratio_during"), 1.0);
    assert_eq!(median(&s, "fault_delivery_ratio_after"), 1.0);
    let chaos = raw_records(&out, "flux", "chaos");
    // The corruption and the flapping were real ...
    let switch = chaos
        .iter()
        .find(|v| v.get("switch").is_some())
        .expect("switch counters recorded");
    assert!(
        switch["switch"]["corrupted"].as_u64().unwrap() > 0,
        "{switch}"
    );
    let flips = chaos
        .iter()
        .filter(|v| v.get("intermittent_link_down").is_some())
        .count();
    assert!(
        flips >= 1,
        "the link went up again at least once: {chaos:?}"
    );
    // ... and so were the newcomers, nodes 3 and 4: the scale-down took the highest-numbered
    // one away again, and node 3, live at the end, is among the nodes whose deliveries the
    // ratios above checked.
    let down = chaos
        .iter()
        .find(|v| v["fault"]["kind"]["kind"] == "scale_down")
        .expect("scale-down recorded");
    assert_eq!(down["fault"]["kind"]["nodes"], serde_json::json!([4]));
    let after = chaos
        .iter()
        .find(|v| v["window"] == "after")
        .expect("after-window report");
    assert!(after["report"]["expected"].as_u64().unwrap() > 0, "{after}");
}

#[test]
fn tcp_goes_through_the_proxy_with_its_delay_and_partitions() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(
        tmp.path(),
        r#"name = "tcp-split"
nodes = 3
transport = "tcp"
repetitions = 1
warmup = 0
[formation]
timeout_s = 60
[network]
delay_ms = 5
[gossip]
messages = 20
rate_per_s = 50
[chaos]
duration_s = 6
publish_rate_per_s = 10
recovery_timeout_s = 60
[[chaos.faults]]
at_s = 1
kind = "isolate"
node = 2
[[chaos.faults]]
at_s = 3
kind = "heal"
[idle]
seconds = 0.2
"#,
        &[],
    );
    let s = summary(&out, "tcp-split");
    // Every connection went through the proxy (the run fails otherwise) ...
    assert_eq!(s["scenario"]["transport"], "tcp");
    assert_eq!(s["environment"]["network_backend"], "userspace-switch");
    // ... with its delay: publish → receive takes at least one 5 ms hop ...
    assert!(median(&s, "gossip_latency_ms_p50") >= 5.0);
    assert_eq!(median(&s, "gossip_exactly_once_ratio"), 1.0);
    // ... and its partition, which held data that the heal then delivered.
    let switch = raw_records(&out, "tcp-split", "chaos")
        .into_iter()
        .find(|v| v.get("switch").is_some())
        .expect("switch counters recorded");
    assert!(
        switch["switch"]["partitioned"].as_u64().unwrap() > 0,
        "{switch}"
    );
    assert_eq!(median(&s, "fault_delivery_ratio_during"), 1.0);
    assert_eq!(median(&s, "fault_delivery_ratio_after"), 1.0);
}

#[test]
fn a_fault_after_the_end_of_the_phase_is_located() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("bad.toml");
    std::fs::write(
        &scenario,
        "name = \"bad\"\nnodes = 3\n[network]\n[chaos]\nduration_s = 5\n[[chaos.faults]]\nat_s = 9\nkind = \"partition\"\ngroups = [[0]]\n",
    )
    .unwrap();
    let (code, _, err) = run(xtask().args(["perf", "-q"]).arg(&scenario));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad.toml:7:8: fault at_s = 9 is outside the chaos phase"),
        "{err}"
    );
}

#[test]
fn an_unknown_suite_exits_2_with_the_list() {
    let (code, _, err) = run(xtask().args(["perf", "suite", "heavy"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no suite named \"heavy\"; suites: basic, comprehensive, stress"),
        "{err}"
    );
}
