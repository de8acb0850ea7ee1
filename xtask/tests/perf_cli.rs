//! `cargo xtask perf` end to end: the real binary, real node processes on loopback, exit codes.

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpStream,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use common::{alive, children_of, node_bin, read_summary, run, serial, xtask};

use serde_json::Value;

fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn write_scenario(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A quick two-node scenario with a short ready timeout, for the failure cases.
const QUICK: &str = "name = \"quick\"\nnodes = 2\nrepetitions = 1\nwarmup = 0\n[formation]\nready_timeout_s = 3.0\n[idle]\nseconds = 0.2\n";

fn files_under(dir: &Path) -> usize {
    walk(dir).len()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() { walk(&p) } else { vec![p] }
        })
        .collect()
}

#[test]
fn list_shows_the_shipped_scenarios() {
    let (code, stdout, _) = run(xtask().args(["perf", "list"]));
    assert_eq!(code, 0);
    for name in [
        "minimal",
        "small",
        "standard",
        "large",
        "scale-100",
        "scale-1000",
    ] {
        assert!(stdout.contains(name), "{stdout}");
    }
}

#[test]
fn bad_scenario_exits_2_with_position_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let cases = [
        ("name = \"x\"\nnodes = [\n", ":2:", "unclosed array"),
        (
            "name = \"x\"\nnodes = 3\ncolour = \"red\"\n",
            ":3:1:",
            "unknown field `colour`",
        ),
        (
            "name = \"x\"\nnodes = \"3\"\n",
            ":2:9:",
            "expected an integer",
        ),
        ("name = \"x\"\nnodes = 0\n", ":2:9:", "allowed: 1 to 1000"),
        (
            "name = \"x\"\nnodes = 3\ntopology = \"random\"\ndegree = 3\n",
            ":4:10:",
            "must be less than nodes",
        ),
        (
            "name = \"x\"\nnodes = 3\n[idle]\nseconds = -2\n",
            ":4:11:",
            "idle.seconds = -2",
        ),
    ];
    for (text, position, message) in cases {
        let path = write_scenario(tmp.path(), text);
        let (code, _, stderr) = run(xtask()
            .arg("perf")
            .arg(&path)
            .arg("--out")
            .arg(&out)
            .arg("--node-bin")
            .arg(node_bin()));
        assert_eq!(code, 2, "{text:?}: {stderr}");
        let expected = format!("{}{position}", path.display());
        assert!(
            stderr.contains(&expected),
            "{text:?}: {stderr:?} should contain {expected:?}"
        );
        assert!(
            stderr.contains(message),
            "{text:?}: {stderr:?} should contain {message:?}"
        );
    }
    assert_eq!(files_under(&out), 0, "nothing is written for bad input");
}

#[test]
fn unknown_scenario_name_exits_2_listing_the_shipped_ones() {
    let (code, _, stderr) = run(xtask().args(["perf", "no-such-scenario"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no scenario named \"no-such-scenario\"") && stderr.contains("standard"),
        "{stderr}"
    );
}

#[test]
fn unusable_node_binaries_exit_3_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), QUICK);
    let out = tmp.path().join("out");
    let missing = tmp.path().join("missing-node");
    let not_executable = tmp.path().join("plain-file");
    std::fs::write(&not_executable, "not a program").unwrap();
    for (bin, message) in [
        (&missing, "cannot be used"),
        (&not_executable, "is not executable"),
    ] {
        let (code, _, stderr) = run(xtask()
            .arg("perf")
            .arg(&scenario)
            .arg("--node-bin")
            .arg(bin)
            .arg("--out")
            .arg(&out));
        assert_eq!(code, 3, "{stderr}");
        assert!(
            stderr.contains(message) && stderr.contains(&bin.display().to_string()),
            "{stderr}"
        );
    }
}

#[test]
fn node_that_crashes_or_stays_silent_fails_the_run_with_exit_3_and_its_stderr() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), QUICK);
    let crashing = write_script(
        tmp.path(),
        "crashing-node",
        "echo 'fatal: simulated crash in the fake node' >&2\nexit 1",
    );
    let silent = write_script(tmp.path(), "silent-node", "exec sleep 30");
    let ready_then_dies = write_script(
        tmp.path(),
        "dying-node",
        "echo '{\"event\":\"ready\",\"peer_id\":\"x\",\"listen_addrs\":[\"/ip4/127.0.0.1/udp/9/quic-v1\"],\"control\":\"http://127.0.0.1:9\",\"contract\":1}'\n\
         echo 'panic: lost my marbles' >&2\nexit 7",
    );
    for (bin, expected) in [
        (&crashing, "fatal: simulated crash in the fake node"),
        (&silent, "printed no ready line within"),
        (&ready_then_dies, "panic: lost my marbles"),
    ] {
        let out = tmp.path().join(format!(
            "out-{}",
            bin.file_name().unwrap().to_string_lossy()
        ));
        let (code, _, stderr) = run(xtask()
            .arg("perf")
            .arg(&scenario)
            .arg("--node-bin")
            .arg(bin)
            .arg("--out")
            .arg(&out)
            .arg("-q"));
        assert_eq!(code, 3, "{}: {stderr}", bin.display());
        assert!(stderr.contains(expected), "{}: {stderr}", bin.display());
        let summary = read_summary(&out.join("quick/latest/summary.json"));
        assert_eq!(summary["complete"], false);
        assert!(
            summary["failures"][0]["message"]
                .as_str()
                .unwrap()
                .contains(expected)
        );
    }
}

#[test]
fn a_real_cluster_run_writes_every_metric_with_sane_values() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = run(xtask()
        .args([
            "perf",
            "small",
            "--repetitions",
            "2",
            "--warmup",
            "0",
            "--json",
            "-q",
        ])
        .arg("--node-bin")
        .arg(node_bin())
        .arg("--out")
        .arg(&out)
        // The committed baselines are release-build numbers; this test measures a debug node.
        .arg("--baselines")
        .arg(tmp.path().join("no-baselines")));
    assert_eq!(code, 0, "{stderr}");
    let printed: Value = serde_json::from_str(&stdout).expect("--json prints the summary");
    let summary = read_summary(&out.join("small/latest/summary.json"));
    assert_eq!(printed, summary);
    assert_eq!(summary["schema_version"], 1);
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["repetitions_done"], 2);
    assert!(summary["environment"]["cores"].as_u64().unwrap() >= 1);

    let metric = |name: &str| -> Vec<f64> {
        let m = summary["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name);
        let m = m.unwrap_or_else(|| panic!("summary lacks {name}"));
        assert!(
            m["unit"].as_str().is_some_and(|u| !u.is_empty()) && m["definition"].as_str().is_some()
        );
        m["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let all = |name: &str, ok: &dyn Fn(f64) -> bool| {
        let samples = metric(name);
        assert_eq!(samples.len(), 2, "{name}: one sample per repetition");
        assert!(samples.iter().all(|&v| ok(v)), "{name}: {samples:?}");
    };
    all("formation_time_ms", &|v| v > 0.0);
    all("convergence_time_ms", &|v| v > 0.0);
    all("connect_time_ms_p50", &|v| v > 0.0);
    all("connect_time_ms_p95", &|v| v > 0.0);
    all("discovery_ratio", &|v| v == 1.0);
    all("avg_peers", &|v| v == 2.0);
    for name in [
        "dht_put_ms_p50",
        "dht_put_ms_p95",
        "dht_put_ms_p99",
        "dht_get_ms_p50",
        "dht_get_ms_p95",
        "dht_get_ms_p99",
    ] {
        all(name, &|v| v >= 0.0);
    }
    all("dht_get_success_ratio", &|v| v == 1.0);
    all("dht_get_local_ratio", &|v| (0.0..=1.0).contains(&v));
    for name in [
        "gossip_latency_ms_p50",
        "gossip_latency_ms_p95",
        "gossip_latency_ms_p99",
    ] {
        all(name, &|v| v > 0.0);
    }
    all("gossip_delivery_ratio", &|v| v == 1.0);
    all("gossip_duplicate_ratio", &|v| v == 0.0);
    all("throughput_mbit_s", &|v| v > 0.0);
    all("tcp_loopback_mbit_s", &|v| v > 0.0);
    all("throughput_share_of_tcp", &|v| v > 0.0);
    all("rss_idle_mb_mean", &|v| v > 1.0);
    all("rss_idle_mb_max", &|v| v > 1.0);
    all("rss_peak_mb", &|v| v > 1.0);
    all("uss_idle_mb_mean", &|v| v > 0.0);
    let (uss, rss) = (metric("uss_idle_mb_mean"), metric("rss_idle_mb_mean"));
    assert!(
        uss.iter().zip(&rss).all(|(u, r)| u <= r),
        "private memory is part of the resident set: {uss:?} {rss:?}"
    );
    all("cpu_idle_pct", &|v| v >= 0.0);
    all("cpu_load_pct", &|v| v >= 0.0);
    all("bandwidth_sent_bytes_per_node", &|v| v > 0.0);
    all("bandwidth_received_bytes_per_node", &|v| v > 0.0);
    let size = std::fs::metadata(node_bin()).unwrap().len() as f64;
    all("binary_size_bytes", &|v| v == size);

    let run_dir = std::fs::canonicalize(out.join("small/latest")).unwrap();
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        report.contains("| `formation_time_ms` |") && report.contains("Metric definitions"),
        "{report}"
    );
    let csv = std::fs::read_to_string(run_dir.join("samples.csv")).unwrap();
    assert!(
        csv.starts_with("repetition,metric,value,unit\n0,formation_time_ms,"),
        "{csv}"
    );
    let jsonl = std::fs::read_to_string(run_dir.join("metrics.jsonl")).unwrap();
    assert!(
        jsonl
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
            && jsonl.contains("\"phase\":\"gossip\"")
    );
    assert!(
        !run_dir.join("nodes").exists(),
        "logs of successful repetitions are removed without --keep-logs"
    );
}

/// Starts a long run and waits until its nodes are up; returns the runner and node pids.
// The runner is handed to the caller, which reaps it; clippy cannot see across the return.
#[allow(clippy::zombie_processes)]
fn start_long_run(out: &Path) -> (Child, Vec<u32>) {
    let mut runner = xtask()
        .args([
            "perf",
            "small",
            "--repetitions",
            "50",
            "--warmup",
            "0",
            "-q",
        ])
        .arg("--node-bin")
        .arg(node_bin())
        .arg("--out")
        .arg(out)
        .arg("--baselines")
        .arg(out.join("no-baselines"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let nodes = children_of(runner.id());
        if nodes.len() >= 3 {
            return (runner, nodes);
        }
        if Instant::now() > deadline {
            let _ = runner.kill();
            let _ = runner.wait();
            panic!("the runner never started its nodes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_gone(pids: &[u32], limit: Duration) -> Vec<u32> {
    let deadline = Instant::now() + limit;
    loop {
        let survivors: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
        if survivors.is_empty() || Instant::now() > deadline {
            return survivors;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until the latest run of scenario directory `dir` has measured `n` repetitions (its
/// `summary.json` exists from the start, with 0).
fn wait_for_repetitions(dir: &Path, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_to_string(dir.join("latest/summary.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .is_none_or(|s| s["repetitions_done"].as_u64() < Some(n))
    {
        assert!(Instant::now() < deadline, "{n} repetitions did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sigkill_of_the_runner_leaves_no_node_behind() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (mut runner, nodes) = start_long_run(tmp.path());
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(runner.id() as i32, libc::SIGKILL) };
    runner.wait().unwrap();
    let survivors = wait_gone(&nodes, Duration::from_secs(2));
    assert!(
        survivors.is_empty(),
        "nodes outlived the SIGKILLed runner: {survivors:?}"
    );
}

#[test]
fn ctrl_c_stops_every_node_and_keeps_what_was_measured() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (mut runner, _) = start_long_run(tmp.path());
    // Let at least one repetition finish, so there is something to keep.
    wait_for_repetitions(&tmp.path().join("small"), 1);
    let nodes = children_of(runner.id());
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(runner.id() as i32, libc::SIGINT) };
    let status = runner.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        wait_gone(&nodes, Duration::from_secs(10)).is_empty(),
        "nodes survived Ctrl-C"
    );
    let summary = read_summary(&tmp.path().join("small/latest/summary.json"));
    assert_eq!(summary["complete"], false);
    assert!(summary["repetitions_done"].as_u64().unwrap() >= 1);
    let formation = summary["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "formation_time_ms")
        .unwrap();
    assert_eq!(
        formation["samples"].as_array().unwrap().len() as u64,
        summary["repetitions_done"].as_u64().unwrap()
    );
}

/// A control API shared by fake nodes: `/health` says formed (one peer, a mesh of one),
/// everything else answers 404: no `/events` (allowed by the node contract) and no `/metrics`.
/// Returns its port; the server lives as long as the test process.
fn serve_control_api_without_metrics() -> u16 {
    common::serve(answer)
}

/// Answers one HTTP request and closes the connection.
fn answer(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // The runner's calls here are GETs: the head ends at the first empty line.
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 0) && header.trim() != "" {
        header.clear();
    }
    let path = request_line.split(' ').nth(1).unwrap_or("");
    let (status, body) = if path == "/health" {
        (
            "200 OK",
            r#"{"connected_peers":1,"routing_table_size":1,"mesh_size":1}"#,
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

/// A fake node, a shell script named like ours (so it is the same node implementation), that
/// prints a ready line pointing at the control API on `port` and exits 0 on SIGTERM.
fn fake_node(dir: &Path, port: u16) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    write_script(
        dir,
        "swarm-node",
        &format!(
            "trap 'kill $sleeper; exit 0' TERM\n\
             echo '{{\"event\":\"ready\",\"peer_id\":\"12D3KooWFake\",\"listen_addrs\":[\"/ip4/127.0.0.1/udp/9/quic-v1\"],\"control\":\"http://127.0.0.1:{port}\",\"contract\":1}}'\n\
             sleep 30 &\nsleeper=$!\nwait"
        ),
    )
}

fn metric_names(summary: &Value) -> Vec<String> {
    strings_of_each(&summary["metrics"], "name")
}

/// The string `field` of every object of the array `array`, in order.
fn strings_of_each(array: &Value, field: &str) -> Vec<String> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_node_without_capabilities_has_no_bandwidth_nor_throughput_and_a_script_has_no_binary_size() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    // The fake node declares no capability: neither `metrics` (bandwidth) nor `perf`
    // (throughput) may fail the run or read as 0.
    let scenario = write_scenario(
        tmp.path(),
        &format!("{QUICK}[throughput]\npairs = 1\nbytes = 1024\n"),
    );
    let node = fake_node(
        &tmp.path().join("fake"),
        serve_control_api_without_metrics(),
    );
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = run(xtask()
        .arg("perf")
        .arg(&scenario)
        .arg("--node-bin")
        .arg(&node)
        .arg("--out")
        .arg(&out)
        .arg("--baselines")
        .arg(tmp.path().join("no-baselines"))
        .arg("-q"));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let summary = read_summary(&out.join("quick/latest/summary.json"));
    assert_eq!(summary["complete"], true);
    assert!(
        summary["failures"].as_array().unwrap().is_empty(),
        "{summary}"
    );
    let names = metric_names(&summary);
    assert!(
        names.iter().any(|n| n == "formation_time_ms") && names.iter().any(|n| n == "avg_peers"),
        "{names:?}"
    );
    // An undeclared capability is no counter of 0 bytes, and a script's size is not a node's.
    for absent in [
        "bandwidth_sent_bytes_per_node",
        "bandwidth_received_bytes_per_node",
        "throughput_mbit_s",
        "throughput_share_of_tcp",
        "binary_size_bytes",
    ] {
        assert!(!names.iter().any(|n| n == absent), "{absent}: {names:?}");
    }
    let notes = summary["notes"].to_string();
    for capability in ["\\\"metrics\\\"", "\\\"perf\\\""] {
        assert!(notes.contains(capability), "{capability}: {notes}");
    }
}

#[test]
fn a_node_of_another_contract_version_is_refused_with_what_to_do() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), QUICK);
    for (contract, expected) in [
        (
            ",\"contract\":2",
            "speaks node contract 2, this runner speaks v1",
        ),
        ("", "without \"contract\": 1"),
    ] {
        let node = write_script(
            tmp.path(),
            "versioned-node",
            &format!(
                "echo '{{\"event\":\"ready\",\"peer_id\":\"x\",\"listen_addrs\":[\"/ip4/127.0.0.1/udp/9/quic-v1\"],\"control\":\"http://127.0.0.1:9\"{contract}}}'\nexec sleep 30"
            ),
        );
        let (code, _, stderr) = run(xtask()
            .arg("perf")
            .arg(&scenario)
            .arg("--node-bin")
            .arg(&node)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .arg("--baselines")
            .arg(tmp.path().join("no-baselines"))
            .arg("-q"));
        assert_eq!(code, 3, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}

/// `perf comment --dry-run` of a run directory: exit code and body.
fn comment_body(run_dir: &Path) -> String {
    let (code, body, stderr) = run(xtask()
        .args(["perf", "comment", "--dry-run", "--report"])
        .arg(run_dir)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_STEP_SUMMARY"));
    assert_eq!(code, 0, "{stderr}");
    body
}

/// What no report of a run without a verdict may say.
fn assert_never_green(what: &str, text: &str) {
    assert!(
        !text.to_lowercase().contains("no regression")
            && !text.contains('✅')
            && !text.contains("all 0 gated"),
        "{what} reads green:\n{text}"
    );
}

#[test]
fn runs_without_a_verdict_exit_3_and_no_report_reads_green() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), QUICK);
    let baselines = tmp.path().join("baselines");
    let perf = |node: &Path, baselines: &Path, out: &Path| {
        run(xtask()
            .arg("perf")
            .arg(&scenario)
            .arg("--node-bin")
            .arg(node)
            .arg("--out")
            .arg(out)
            .arg("--baselines")
            .arg(baselines)
            .arg("-q"))
    };
    // The baseline: our node, which measures everything a verdict needs.
    let (code, _, stderr) = run(xtask()
        .args(["perf", "baseline", "update"])
        .arg(&scenario)
        .arg("--node-bin")
        .arg(node_bin())
        .arg("--out")
        .arg(tmp.path().join("out-baseline"))
        .arg("--baselines")
        .arg(&baselines)
        .arg("-q"));
    assert_eq!(code, 0, "{stderr}");

    // A node that runs fine but provides no binary size (a gated metric) and no bandwidth.
    let fake = fake_node(
        &tmp.path().join("fake"),
        serve_control_api_without_metrics(),
    );
    let out = tmp.path().join("out-fake");
    let (code, stdout, stderr) = perf(&fake, &baselines, &out);
    assert_eq!(code, 3, "{stdout}{stderr}");
    let verdict = "NO VERDICT: gated metric(s) the base has were not measured: binary_size_bytes";
    assert!(stdout.contains(verdict), "{stdout}");
    let run_dir = out.join("quick/latest");
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains(&format!("**{verdict}**")), "{report}");
    for missing in ["binary_size_bytes", "bandwidth_sent_bytes_per_node (info)"] {
        let row = report
            .lines()
            .find(|l| l.starts_with(&format!("| {missing} |")))
            .unwrap_or_else(|| panic!("no row for {missing}:\n{report}"));
        assert!(row.contains("| not measured |"), "{row}");
    }
    assert_never_green("report.md", &report);
    let comment = comment_body(&run_dir);
    assert!(comment.contains("⛔ **no verdict**"), "{comment}");
    assert_never_green("the comment", &comment);

    // A node that crashes: nothing measured, with the baseline and without one.
    let crash_dir = tmp.path().join("crashing");
    std::fs::create_dir_all(&crash_dir).unwrap();
    let crashing = write_script(
        &crash_dir,
        "swarm-node",
        "echo 'fatal: simulated crash' >&2\nexit 1",
    );
    for (with, baselines) in [
        ("with a baseline", baselines.clone()),
        ("without a baseline", tmp.path().join("no-baselines")),
    ] {
        let out = tmp
            .path()
            .join(format!("out-crash-{}", with.replace(' ', "-")));
        let (code, stdout, stderr) = perf(&crashing, &baselines, &out);
        assert_eq!(code, 3, "{with}: {stdout}{stderr}");
        assert!(stdout.contains("NO VERDICT: the run "), "{with}: {stdout}");
        assert_never_green(&format!("the terminal {with}"), &stdout);
        let run_dir = out.join("quick/latest");
        let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
        assert!(
            report.contains("**NO VERDICT: the run "),
            "{with}: {report}"
        );
        assert_never_green(&format!("report.md {with}"), &report);
        let comment = comment_body(&run_dir);
        assert!(
            comment.contains("⛔ **no verdict**: the run "),
            "{with}: {comment}"
        );
        assert_never_green(&format!("the comment {with}"), &comment);
        let summary = read_summary(&run_dir.join("summary.json"));
        assert_eq!(
            summary["comparison"]["no_verdict"].is_string(),
            with == "with a baseline",
            "{summary}"
        );
    }
}

/// Every path under `dir`, symlinks not followed.
fn walk_no_links(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .flat_map(|e| {
            let e = e.unwrap();
            let mut paths = vec![e.path()];
            if e.file_type().unwrap().is_dir() {
                paths.extend(walk_no_links(&e.path()));
            }
            paths
        })
        .collect()
}

/// The distinct values of a CSV column or a JSON field, one per line.
fn distinct(values: impl Iterator<Item = String>) -> std::collections::BTreeSet<String> {
    values.collect()
}

/// The repetitions `summary.json`, `samples.csv` and `metrics.jsonl` of a run directory hold.
fn repetitions_held(run: &Path) -> (u64, usize, usize) {
    let summary = read_summary(&run.join("summary.json"));
    let csv = std::fs::read_to_string(run.join("samples.csv")).unwrap();
    let jsonl = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let in_csv = distinct(
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_owned()),
    );
    let in_jsonl = distinct(
        jsonl
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["repetition"].to_string()),
    );
    (
        summary["repetitions_done"].as_u64().unwrap(),
        in_csv.len(),
        in_jsonl.len(),
    )
}

#[test]
fn a_sigkilled_run_leaves_a_consistent_set_found_by_latest_and_the_next_run_cleans_up() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    let (mut runner, _) = start_long_run(tmp.path());
    // The run is latest from its start, before anything is measured.
    let run_name = std::fs::read_link(small.join("latest")).unwrap();
    wait_for_repetitions(&small, 2);
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(runner.id() as i32, libc::SIGKILL) };
    runner.wait().unwrap();

    assert_eq!(std::fs::read_link(small.join("latest")).unwrap(), run_name);
    let killed = small.join(&run_name);
    let (summary, csv, jsonl) = repetitions_held(&killed);
    assert!(summary >= 2, "{summary}");
    assert_eq!(
        (summary as usize, summary as usize),
        (csv, jsonl),
        "summary.json, samples.csv and metrics.jsonl hold the same repetitions"
    );

    // What a kill mid-write leaves: a temp file and an unlinked round of a process that is gone.
    let dead = i32::MAX - 1;
    let round = std::fs::canonicalize(&killed).unwrap();
    let store = round.parent().unwrap().to_path_buf();
    let stale = [
        round.join(format!(".summary.json.tmp-{dead}-0")),
        small.join(format!(".latest.tmp-{dead}")),
    ];
    for path in &stale {
        std::fs::write(path, "x").unwrap();
    }
    std::fs::create_dir(store.join(format!("r99-{dead}"))).unwrap();
    let leftovers = || -> Vec<PathBuf> {
        walk_no_links(&small)
            .into_iter()
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.contains(".tmp-") || name.starts_with("r99-")
            })
            .collect()
    };
    assert_eq!(leftovers().len(), 3);

    // The next run of the scenario (here one whose node crashes at once) removes them.
    let crashing = write_script(tmp.path(), "crashing-node", "exit 1");
    let (code, _, stderr) = run(xtask()
        .args(["perf", "small", "--repetitions", "1", "--warmup", "0", "-q"])
        .arg("--node-bin")
        .arg(&crashing)
        .arg("--out")
        .arg(tmp.path())
        .arg("--baselines")
        .arg(tmp.path().join("no-baselines")));
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(leftovers(), Vec::<PathBuf>::new());
    assert_ne!(std::fs::read_link(small.join("latest")).unwrap(), run_name);
    assert_eq!(
        repetitions_held(&killed),
        (summary, csv, jsonl),
        "the killed run's record stays"
    );
}

/// `curve.json` of the latest scale curve under `out`, parsed.
fn latest_curve(out: &Path) -> Value {
    read_summary(&out.join("scale-curve/latest/curve.json"))
}

/// The status of every point of a curve, in order.
fn curve_statuses(curve: &Value) -> Vec<String> {
    strings_of_each(&curve["points"], "status")
}

#[test]
fn a_scale_curve_runs_each_size_and_writes_a_row_and_a_status_per_size() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = run(xtask()
        .args(["perf", "scale-curve", "minimal", "--sizes", "2,3"])
        .args(["--repetitions", "1", "-q"])
        .arg("--node-bin")
        .arg(node_bin())
        .arg("--out")
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("scale-curve: 2 nodes (1/2)…")
            && stderr.contains("scale-curve: 3 nodes (2/2)…"),
        "one line per size: {stderr}"
    );
    let curve = latest_curve(&out);
    assert_eq!(curve["scenario"], "minimal");
    assert_eq!(curve["sizes"], serde_json::json!([2, 3]));
    assert_eq!(curve["repetitions"], 1);
    assert_eq!(curve_statuses(&curve), ["ok", "ok"]);
    for (point, nodes) in curve["points"].as_array().unwrap().iter().zip([2, 3]) {
        assert_eq!(point["nodes"], nodes);
        let formation = point["medians"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == "formation_time_ms")
            .unwrap_or_else(|| panic!("no formation median: {point}"));
        assert!(formation["median"].as_f64().unwrap() > 0.0);
        assert_eq!(formation["unit"], "ms");
        // Each size is an ordinary run of its own, at its size, compared with nothing (the
        // committed minimal baseline is not read).
        let summary =
            read_summary(&PathBuf::from(point["run_dir"].as_str().unwrap()).join("summary.json"));
        assert_eq!(summary["scenario"]["nodes"], nodes);
        assert_eq!(summary["complete"], true);
        assert!(summary.get("comparison").is_none(), "{summary}");
    }
    let dir = std::fs::canonicalize(out.join("scale-curve/latest")).unwrap();
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("| nodes | status | `formation_time_ms` (ms) |")
            && report.contains("\n| 2 | ok | ")
            && report.contains("\n| 3 | ok | ")
            && report.contains("not how the protocol scales"),
        "{report}"
    );
    assert!(
        stdout.contains("\n| 3 | ok | "),
        "the table is printed: {stdout}"
    );
    let csv = std::fs::read_to_string(dir.join("curve.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "a header and one row per size: {csv}");
    assert!(
        rows[0].starts_with("nodes,status,formation_time_ms,")
            && rows[1].starts_with("2,ok,")
            && rows[2].starts_with("3,ok,"),
        "{csv}"
    );
    let svg = std::fs::read_to_string(dir.join("curve.svg")).unwrap();
    assert!(
        svg.contains("nodes (log scale)") && svg.contains("formation time (ms"),
        "{svg}"
    );
    assert_eq!(&std::fs::read(dir.join("curve.png")).unwrap()[1..4], b"PNG");
}

#[test]
fn a_scale_curve_stops_at_the_first_failed_size_and_exits_3_with_the_rest_not_run() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), QUICK);
    let crashing = write_script(
        tmp.path(),
        "crashing-node",
        "echo 'fatal: simulated crash in the fake node' >&2\nexit 1",
    );
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = run(xtask()
        .args(["perf", "scale-curve"])
        .arg(&scenario)
        .args(["--sizes", "2,3,5", "-q"])
        .arg("--node-bin")
        .arg(&crashing)
        .arg("--out")
        .arg(&out));
    assert_eq!(code, 3, "{stderr}");
    assert!(!stderr.contains("scale-curve: 3 nodes"), "{stderr}");
    let curve = latest_curve(&out);
    assert_eq!(curve_statuses(&curve), ["failed", "not_run", "not_run"]);
    assert!(
        curve["points"][0]["error"]
            .as_str()
            .unwrap()
            .contains("fatal: simulated crash in the fake node"),
        "{curve}"
    );
    assert!(
        stdout.contains("| 2 | failed | failed |") && stdout.contains("| 5 | not run | not run |"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(out.join("scale-curve/latest/report.md")).unwrap();
    assert!(report.contains("## Where the curve stopped"), "{report}");
}

#[test]
fn ctrl_c_ends_a_scale_curve_and_keeps_what_it_measured() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut runner = xtask()
        .args(["perf", "scale-curve", "small", "--sizes", "2,3"])
        .args(["--repetitions", "50", "-q"])
        .arg("--node-bin")
        .arg(node_bin())
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_repetitions(&out.join("small"), 1);
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(runner.id() as i32, libc::SIGINT) };
    let status = runner.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let curve = latest_curve(&out);
    assert_eq!(curve_statuses(&curve), ["interrupted", "not_run"]);
    let first = &curve["points"][0];
    assert!(first["repetitions_done"].as_u64().unwrap() >= 1, "{curve}");
    assert!(
        first["medians"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["metric"] == "formation_time_ms"),
        "what finished is kept: {curve}"
    );
}
