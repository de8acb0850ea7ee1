//! `/metrics` is valid Prometheus text: checked by the real `promtool check metrics`.

mod common;

use std::{
    io::Write,
    process::{Command, Stdio},
};

use common::{serial, start_cluster, wait_until};
use serde_json::json;

fn promtool_check(text: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool not found: run the tests with `cargo xtask test`, which installs it");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success() && report.trim().is_empty(), report)
}

#[test]
fn metrics_pass_promtool_after_real_traffic() {
    let _serial = serial();
    let nodes = start_cluster(2, &[]);
    let (status, _) = nodes[0].post("/gossip/publish", &json!({"size": 100, "id": "m"}));
    assert_eq!(status, 200);
    wait_until("the message arrives", || {
        nodes[1].health()["gossip_received"] == 1
    });
    let (status, _) = nodes[0].post("/dht/put", &json!({"key": "k", "value": "v"}));
    assert_eq!(status, 200);

    for node in &nodes {
        let (status, text) = node.get_text("/metrics");
        assert_eq!(status, 200);
        for name in [
            "p2p_connected_peers 1",
            "p2p_messages_sent_total",
            "p2p_messages_received_total",
            "p2p_message_latency_seconds_bucket",
            "libp2p_swarm_connections_established_total",
            "libp2p_bandwidth_bytes_total",
            "libp2p_gossipsub",
            "libp2p_kad",
        ] {
            assert!(text.contains(name), "/metrics lacks {name}:\n{text}");
        }
        let (ok, report) = promtool_check(&text);
        assert!(ok, "promtool check metrics failed:\n{report}");
    }
    let (_, putter_metrics) = nodes[0].get_text("/metrics");
    assert!(
        putter_metrics.contains("p2p_dht_operation_seconds_count{op=\"put\",outcome=\"ok\"} 1"),
        "{putter_metrics}"
    );
    let (_, receiver_metrics) = nodes[1].get_text("/metrics");
    assert!(
        receiver_metrics.contains("p2p_message_latency_seconds_count 1"),
        "{receiver_metrics}"
    );
}

#[test]
fn promtool_rejects_what_it_should() {
    // Guards the check itself: a broken exposition must fail, or the test above proves nothing.
    let (ok, _) = promtool_check("# TYPE x counter\nx_total{ 1\n");
    assert!(!ok);
}
