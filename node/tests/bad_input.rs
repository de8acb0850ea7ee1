//! Every kind of bad input gets a clear error, and the node keeps serving afterwards.

mod common;

use std::process::{Command, Stdio};

use common::{Node, node_bin, serial, wait_until};
use serde_json::json;

/// Asserts an error status, that the message contains `needle`, and that /health still answers.
fn assert_rejected(
    node: &Node,
    (status, body): (u16, serde_json::Value),
    expected: u16,
    needle: &str,
) {
    assert_eq!(status, expected, "body: {body}");
    let message = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("error body must be JSON: {body}"));
    assert!(
        message.contains(needle),
        "{message:?} should mention {needle:?}"
    );
    node.health();
}

#[test]
fn control_api_rejects_bad_requests_and_keeps_serving() {
    let _serial = serial();
    let node = Node::start(&[]);

    assert_rejected(
        &node,
        node.post_raw("/dht/put", "application/json", b"{\"key\": ".to_vec()),
        400,
        "invalid JSON",
    );
    assert_rejected(
        &node,
        node.post("/dht/put", &json!({"key": "k"})),
        422,
        "value",
    );
    assert_rejected(
        &node,
        node.post("/dht/put", &json!({"key": "k", "value": "v", "ttl": 1})),
        422,
        "ttl",
    );
    assert_rejected(
        &node,
        node.post("/dht/put", &json!({"key": "", "value": "v"})),
        400,
        "key must not be empty",
    );
    assert_rejected(
        &node,
        node.post_raw("/dht/put", "text/plain", b"hi".to_vec()),
        415,
        "Content-Type",
    );
    assert_rejected(
        &node,
        node.get("/no/such/route"),
        404,
        "no route /no/such/route",
    );
    assert_rejected(&node, node.get("/dht/put"), 405, "GET is not allowed");
    // Percent-encoding that is not UTF-8: axum's Path rejection, JSON like every other error.
    assert_rejected(&node, node.get("/dht/get/%FF%FE"), 400, "invalid path");
    assert_rejected(
        &node,
        node.get("/gossip/received?since=minus-one"),
        400,
        "invalid query string",
    );

    let oversized = vec![b'a'; 2 * 1024 * 1024];
    assert_rejected(
        &node,
        node.post_raw("/dht/put", "application/json", oversized),
        413,
        "exceeds the limit",
    );

    let unknown_peer = "12D3KooWEWCDD5CbCAnRqEDxws1FdaeU3hnpe3goBD4Wh2MjfqX2";
    let perf = json!({"peer": unknown_peer, "upload_bytes": 1, "download_bytes": 1});
    assert_rejected(
        &node,
        node.post("/perf", &perf),
        404,
        "not connected to peer",
    );
    let perf = json!({"peer": "not-a-peer", "upload_bytes": 1, "download_bytes": 1});
    assert_rejected(&node, node.post("/perf", &perf), 400, "not a peer id");

    assert_rejected(
        &node,
        node.post(
            "/gossip/publish",
            &json!({"size": 10, "id": "x", "topic": "other"}),
        ),
        400,
        "topic",
    );
    assert_rejected(
        &node,
        node.post("/gossip/publish", &json!({"size": 10, "id": "x"})),
        503,
        "mesh_size",
    );
    assert_rejected(
        &node,
        node.post("/gossip/publish", &json!({"size": 1usize << 30, "id": "x"})),
        400,
        "exceeds",
    );
}

fn run_to_exit(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(node_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn invalid_multiaddr_on_command_line_exits_non_zero_naming_the_flag() {
    let (code, stdout, stderr) = run_to_exit(&["--listen", "/ip4/not-an-ip/udp/0"]);
    assert_ne!(code, 0);
    assert!(stdout.is_empty(), "no ready line on failure: {stdout}");
    assert!(stderr.contains("--listen"), "{stderr}");
}

#[test]
fn bootstrap_address_without_peer_id_exits_non_zero_in_one_line() {
    let (code, stdout, stderr) = run_to_exit(&["--bootstrap", "/ip4/127.0.0.1/udp/9/quic-v1"]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/p2p/<peer-id>"), "{stderr}");
}

#[test]
fn unlistenable_address_exits_non_zero() {
    let (code, _, stderr) = run_to_exit(&["--listen", "/ip4/192.0.2.1/tcp/0"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cannot listen on /ip4/192.0.2.1/tcp/0"),
        "{stderr}"
    );
}

#[test]
fn unreachable_bootstrap_is_reported_and_the_node_keeps_serving() {
    let _serial = serial();
    // A port nothing listens on: bind a TCP socket, note its port, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let peer = "12D3KooWEWCDD5CbCAnRqEDxws1FdaeU3hnpe3goBD4Wh2MjfqX2";
    let bootstrap = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{peer}");
    let node = Node::start(&["--transport", "tcp", "--bootstrap", &bootstrap]);
    wait_until("the failed bootstrap dial shows in /health", || {
        node.health()["bootstrap_errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    });
    let health = node.health();
    let error = health["bootstrap_errors"][0].as_str().unwrap();
    assert!(error.contains(&bootstrap), "{error}");
    assert_eq!(health["connected_peers"], 0);
}

#[test]
fn default_build_has_no_fault_injection_flag() {
    let (code, help, _) = run_to_exit(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        help.contains("--transport") && !help.contains("inject-delay"),
        "{help}"
    );
    let (code, _, stderr) = run_to_exit(&["--inject-delay-us", "5"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--inject-delay-us"), "{stderr}");
}
