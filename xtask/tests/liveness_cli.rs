//! Fault injection into `cargo xtask perf`: a node killed (SIGKILL) or stopped (SIGSTOP) in each
//! phase ends the run with exit 3, the node named and its log tail shown, and no node left
//! behind, long before the phase would have ended by itself.
//!
//! Each scenario makes its phase last minutes (1,000,000 DHT puts, a 600 s idle window, 64 GiB
//! of throughput, a 3 s one-way delay during formation …), so a run that ends within the
//! test's deadline was cut short by the liveness watch, not by the phase finishing. The time
//! from the signal to the runner's exit is printed (`--no-capture`) for the record, not asserted.

mod common;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use common::{alive, children_of, node_bin, read_summary, serial, xtask};

/// How long a cut-short run may take to exit after the fault: generous for a loaded machine,
/// far below every phase's own length.
const EXIT_DEADLINE: Duration = Duration::from_secs(60);

const HEADER: &str = r#"
nodes = 3
topology = "star"
transport = "quic"
repetitions = 1
warmup = 0

[formation]
timeout_s = 900
"#;

/// The scenario text whose `phase` lasts minutes while every other phase is short.
fn scenario_for(phase: &str) -> String {
    let body = match phase {
        // Handshakes over a 3 s one-way delay: formation takes tens of seconds.
        "formation" => "[network]\ndelay_ms = 3000\n\n[idle]\nseconds = 0\n",
        "idle" => "[idle]\nseconds = 600\n",
        "dht" => "[idle]\nseconds = 0\n\n[dht]\nputs = 1000000\ngets = 0\nconcurrency = 1\n",
        "gossip" => "[idle]\nseconds = 0\n\n[gossip]\nmessages = 1000000\nrate_per_s = 100\n",
        "throughput" => "[idle]\nseconds = 0\n\n[throughput]\npairs = 1\nbytes = 68719476736\n",
        "chaos" => {
            "[idle]\nseconds = 0\n\n[network]\ndelay_ms = 0\n\n[chaos]\nduration_s = 600\npublish_rate_per_s = 10\n\n[[chaos.faults]]\nat_s = 580\nkind = \"partition\"\ngroups = [[0], [1, 2]]\n\n[[chaos.faults]]\nat_s = 590\nkind = \"heal\"\n"
        }
        other => panic!("no scenario for phase {other}"),
    };
    format!("name = \"liveness-{phase}\"\n{HEADER}\n{body}")
}

/// The runner, with each stderr line sent to the returned channel as it comes.
fn start(scenario: &Path, out: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut runner = xtask()
        .arg("perf")
        .arg(scenario)
        .arg("--node-bin")
        .arg(node_bin())
        .arg("--out")
        .arg(out)
        .arg("--baselines")
        .arg(out.join("no-baselines"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start xtask");
    let stderr = runner.stderr.take().expect("piped");
    let (lines, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (runner, receiver)
}

/// Waits for the progress line announcing `phase`; returns the lines seen so far.
fn wait_for_phase(runner: &mut Child, lines: &mpsc::Receiver<String>, phase: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut seen = Vec::new();
    let marker = format!(" · {phase} (");
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(&marker);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(_) => {
                let _ = runner.kill();
                let _ = runner.wait();
                panic!(
                    "phase {phase} never began; stderr so far:\n{}",
                    seen.join("\n")
                );
            }
        }
    }
}

/// Waits up to [`EXIT_DEADLINE`] for the runner to exit; its exit code.
fn wait_exit(runner: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + EXIT_DEADLINE;
    loop {
        if let Some(status) = runner.try_wait().expect("wait") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = runner.kill();
            let _ = runner.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends `signal` to one node while `phase` runs and checks how the run ends.
fn fault_in_phase(phase: &str, signal: libc::c_int) {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let scenario: PathBuf = tmp.path().join(format!("liveness-{phase}.toml"));
    std::fs::write(&scenario, scenario_for(phase)).unwrap();
    let out = tmp.path().join("out");
    let (mut runner, lines) = start(&scenario, &out);
    let mut seen = wait_for_phase(&mut runner, &lines, phase);
    let nodes = children_of(runner.id());
    assert_eq!(nodes.len(), 3, "three nodes run: {nodes:?}");
    let victim = nodes[2];
    let signalled = Instant::now();
    // SAFETY: kill(2) on a grandchild that is alive (its parent has not reaped it).
    unsafe { libc::kill(victim as i32, signal) };
    let code = wait_exit(&mut runner);
    let took = signalled.elapsed();
    // The reader thread forwards what is left and ends at the pipe's end: wait for that, or
    // the last lines (the error) may still be on their way.
    let drained = Instant::now() + Duration::from_secs(30);
    while let Ok(line) = lines.recv_timeout(drained.saturating_duration_since(Instant::now())) {
        seen.push(line);
    }
    let stderr = seen.join("\n");
    let what = if signal == libc::SIGKILL {
        "SIGKILL"
    } else {
        "SIGSTOP"
    };
    eprintln!("{what} of node 2 in phase {phase}: runner exited after {took:.2?}");
    assert_eq!(
        code,
        Some(3),
        "{what} in {phase}: the run must fail with exit 3 well before its phase ends\n{stderr}"
    );
    let expected = if signal == libc::SIGKILL {
        "node 2 exited unexpectedly"
    } else {
        "node 2 was stopped"
    };
    assert!(stderr.contains(expected), "{what} in {phase}:\n{stderr}");
    assert!(stderr.contains("last lines of"), "{stderr}");
    // Nothing survives the run, the stopped node included.
    let deadline = Instant::now() + Duration::from_secs(30);
    while nodes.iter().any(|&p| alive(p)) {
        assert!(
            Instant::now() < deadline,
            "nodes outlived the run: {nodes:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The failure and the node's log tail are in the run's files.
    let run_dir = out.join(format!("liveness-{phase}/latest"));
    let summary = read_summary(&run_dir.join("summary.json"));
    assert_eq!(summary["complete"], false);
    let message = summary["failures"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains(expected), "{message}");
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains(expected), "{report}");
    assert!(!report.contains('\u{1b}'), "no colour codes in report.md");
}

macro_rules! fault_tests {
    ($($kill:ident, $stop:ident: $phase:literal;)*) => {$(
        #[test]
        fn $kill() {
            fault_in_phase($phase, libc::SIGKILL);
        }
        #[test]
        fn $stop() {
            fault_in_phase($phase, libc::SIGSTOP);
        }
    )*};
}

fault_tests! {
    sigkill_during_formation_fails_the_run_at_once, sigstop_during_formation_fails_the_run_at_once: "formation";
    sigkill_during_idle_fails_the_run_at_once, sigstop_during_idle_fails_the_run_at_once: "idle";
    sigkill_during_dht_fails_the_run_at_once, sigstop_during_dht_fails_the_run_at_once: "dht";
    sigkill_during_gossip_fails_the_run_at_once, sigstop_during_gossip_fails_the_run_at_once: "gossip";
    sigkill_during_throughput_fails_the_run_at_once, sigstop_during_throughput_fails_the_run_at_once: "throughput";
    sigkill_during_chaos_fails_the_run_at_once, sigstop_during_chaos_fails_the_run_at_once: "chaos";
}

/// A control API that accepts connections and never answers, like a node whose event loop is
/// stuck. Returns its port; connections are held for the life of the test process.
fn serve_silent_control_api() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            held.push(stream);
        }
    });
    port
}

#[test]
fn a_node_that_runs_but_never_answers_fails_the_run_as_unresponsive() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let port = serve_silent_control_api();
    let node = tmp.path().join("hung-node");
    std::fs::write(
        &node,
        format!(
            "#!/bin/sh\n\
             echo '{{\"event\":\"ready\",\"peer_id\":\"x\",\"listen_addrs\":[\"/ip4/127.0.0.1/udp/9/quic-v1\"],\"control\":\"http://127.0.0.1:{port}\",\"contract\":1}}'\n\
             sleep 600 &\nsleeper=$!\n\
             trap 'kill $sleeper; exit 0' TERM\n\
             wait $sleeper\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755)).unwrap();
    let scenario = tmp.path().join("hung.toml");
    std::fs::write(
        &scenario,
        format!("name = \"hung\"\n{HEADER}\n[idle]\nseconds = 0\n"),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let started = Instant::now();
    let mut runner = xtask()
        .arg("perf")
        .arg(&scenario)
        .arg("--node-bin")
        .arg(&node)
        .arg("--out")
        .arg(&out)
        .arg("--baselines")
        .arg(out.join("no-baselines"))
        .arg("-q")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(runner.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let code = runner.wait().unwrap().code();
    eprintln!("a hung node failed the run after {:.2?}", started.elapsed());
    assert_eq!(code, Some(3), "{stderr}");
    // Not the 30 s timeout of the formation poll's own request: the liveness watch.
    assert!(
        stderr.contains("has not answered GET /health for"),
        "{stderr}"
    );
}
