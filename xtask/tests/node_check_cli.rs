//! `cargo xtask node check` end to end: swarm-node passes every check on both transports;
//! nodes that break the contract fail with the rows that say so; exit codes 1, 2 and 3.

mod common;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use common::{node_bin, run, serial, xtask};

fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `cargo xtask node check --node-bin <bin> <extra…>`, logs in a temporary directory: exit
/// code, stdout, stderr.
fn check(bin: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = tempfile::tempdir().unwrap();
    run(xtask()
        .args(["node", "check", "--node-bin"])
        .arg(bin)
        .arg("--out")
        .arg(out.path())
        .args(extra))
}

/// The result column (`pass`, `FAIL`, `skipped`, `not run`) of the row named `name`.
fn result_of<'a>(table: &'a str, name: &str) -> &'a str {
    let line = table
        .lines()
        .find(|l| {
            l.get(9..)
                .is_some_and(|rest| rest.starts_with(&format!("{name} ")))
        })
        .unwrap_or_else(|| panic!("no row {name:?} in:\n{table}"));
    line[..8].trim()
}

#[test]
fn swarm_node_passes_every_check_over_quic_and_tcp() {
    let _serial = serial();
    for transport in ["quic", "tcp"] {
        let (code, stdout, stderr) = check(&node_bin(), &["--transport", transport]);
        assert_eq!(code, 0, "{transport}:\n{stdout}{stderr}");
        assert!(stdout.contains(&format!("over {transport}")), "{stdout}");
        assert!(
            stdout.contains("0 failed, 0 skipped (capability not declared), 0 not run"),
            "{stdout}"
        );
        for row in [
            "ready line",
            "one process",
            "POST /dht/put",
            "perf",
            "SIGTERM",
        ] {
            assert_eq!(result_of(&stdout, row), "pass", "{stdout}");
        }
    }
}

#[test]
fn a_wrapper_that_forks_the_node_fails_one_process_and_sigterm() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    // No `exec`: the shell stays the spawned process, swarm-node is its child.
    let wrapper = write_script(
        tmp.path(),
        "wrapped-node",
        &format!("{} \"$@\"", node_bin().display()),
    );
    let (code, stdout, stderr) = check(&wrapper, &["--peer-bin", node_bin().to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(result_of(&stdout, "one process"), "FAIL", "{stdout}");
    assert!(stdout.contains("exec your-node"), "{stdout}");
    assert_eq!(result_of(&stdout, "SIGTERM"), "FAIL", "{stdout}");
    // What the wrapped swarm-node does through the wrapper still passes.
    assert_eq!(
        result_of(&stdout, "GET /gossip/received"),
        "pass",
        "{stdout}"
    );
    assert_eq!(result_of(&stdout, "POST /shutdown"), "skipped", "{stdout}");
}

#[test]
fn a_ready_line_without_contract_fails_and_the_checks_that_need_it_do_not_run() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let old = write_script(
        tmp.path(),
        "old-node",
        "trap 'exit 0' TERM\n\
         echo '{\"event\":\"ready\",\"peer_id\":\"12D3KooWOld\",\"listen_addrs\":[\"/ip4/127.0.0.1/udp/9/quic-v1\"],\"control\":\"http://127.0.0.1:9\"}'\n\
         while :; do sleep 1; done",
    );
    let (code, stdout, stderr) = check(&old, &["--ready-timeout", "2"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(result_of(&stdout, "ready line"), "FAIL", "{stdout}");
    assert!(stdout.contains("\"contract\": 1"), "{stdout}");
    assert_eq!(result_of(&stdout, "connect"), "not run", "{stdout}");
    assert_eq!(result_of(&stdout, "metrics"), "not run", "{stdout}");
    // It ignores a bad --bootstrap instead of refusing it.
    assert_eq!(result_of(&stdout, "bad flags"), "FAIL", "{stdout}");
}

/// A control API that answers `/health` like a node and everything else with a plain-text
/// 404. Returns its port; the server lives as long as the test process.
fn serve_plain_text_errors() -> u16 {
    common::serve(answer)
}

/// Reads one request (head and declared body) and answers it, closing the connection.
fn answer(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut length = 0;
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 0) && header.trim() != "" {
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
        header.clear();
    }
    let _ = reader.take(length).read_to_end(&mut Vec::new());
    let path = request_line.split(' ').nth(1).unwrap_or("");
    let (status, body) = if path == "/health" {
        (
            "200 OK",
            r#"{"peer_id":"12D3KooWFake","uptime_ms":5,"connected_peers":0,"routing_table_size":0,"mesh_size":0,"topic":"swarmbench","listen_addrs":[],"bootstrap_errors":[],"gossip_published":0,"gossip_received":0}"#,
        )
    } else {
        ("404 Not Found", "not found")
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

#[test]
fn a_node_with_plain_text_errors_fails_those_rows_and_undeclared_capabilities_are_skipped() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let port = serve_plain_text_errors();
    let fake = write_script(
        tmp.path(),
        "fake-node",
        &format!(
            "trap 'kill $sleeper; exit 0' TERM\n\
             echo '{{\"event\":\"ready\",\"peer_id\":\"12D3KooWFake\",\"listen_addrs\":[\"/ip4/127.0.0.1/udp/9/quic-v1\"],\"control\":\"http://127.0.0.1:{port}\",\"contract\":1}}'\n\
             sleep 30 &\nsleeper=$!\nwait"
        ),
    );
    let (code, stdout, stderr) = check(
        &fake,
        &[
            "--peer-bin",
            node_bin().to_str().unwrap(),
            "--ready-timeout",
            "2",
        ],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(result_of(&stdout, "ready line"), "pass", "{stdout}");
    assert_eq!(result_of(&stdout, "GET /health"), "pass", "{stdout}");
    for row in [
        "error: unknown route",
        "error: wrong method",
        "one process",
        "connect",
    ] {
        assert_eq!(result_of(&stdout, row), "FAIL", "{row}:\n{stdout}");
    }
    assert!(stdout.contains("is not JSON {\"error\""), "{stdout}");
    assert_eq!(result_of(&stdout, "POST /dht/put"), "not run", "{stdout}");
    for capability in ["perf", "metrics", "events"] {
        assert_eq!(result_of(&stdout, capability), "skipped", "{stdout}");
    }
    assert_eq!(result_of(&stdout, "SIGTERM"), "pass", "{stdout}");
}

#[test]
fn bad_arguments_exit_2_and_a_binary_that_cannot_run_exits_3() {
    let (code, _, stderr) = run(xtask().args(["node", "check"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--node-bin"), "{stderr}");
    let (code, _, stderr) = check(Path::new("/bin/true"), &["--transport", "udp"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = check(Path::new("/bin/true"), &["--ready-timeout", "0"]);
    assert_eq!(code, 2, "{stderr}");
    let tmp = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = check(&tmp.path().join("no-such-node"), &[]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stderr.contains("no-such-node"), "{stderr}");
    let (code, _, stderr) = check(
        Path::new("/bin/true"),
        &["--peer-bin", tmp.path().join("no-peer").to_str().unwrap()],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("--peer-bin"), "{stderr}");
}
