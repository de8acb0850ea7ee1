//! Stopping: SIGTERM and POST /shutdown exit 0; a node dies with its parent.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{DEADLINE, Node, alive, node_bin, serial, signal, wait_until};

#[test]
fn sigterm_exits_zero() {
    let _serial = serial();
    let mut node = Node::start(&[]);
    assert_eq!(node.terminate().code(), Some(0));
}

#[test]
fn sigterm_exits_zero_while_connected() {
    let _serial = serial();
    let mut nodes = common::start_cluster(2, &[]);
    assert_eq!(nodes[1].terminate().code(), Some(0));
    assert_eq!(nodes[0].terminate().code(), Some(0));
}

#[test]
fn post_shutdown_exits_zero() {
    let _serial = serial();
    let mut node = Node::start(&[]);
    let (status, _) = node.post_raw("/shutdown", "application/json", Vec::new());
    assert_eq!(status, 202);
    let status = common::wait_exit(&mut node.child, DEADLINE).expect("exit after /shutdown");
    assert_eq!(status.code(), Some(0));
}

/// The parent (a shell) arms the parent-death signal with setpriv(1), as the runner does with
/// prctl(PR_SET_PDEATHSIG) before exec; SIGKILL of the parent must take the node down.
#[test]
fn node_dies_when_its_parent_is_killed() {
    let _serial = serial();
    let script = format!("setpriv --pdeathsig TERM -- {} & echo $!; wait", node_bin());
    let mut parent = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh");
    let mut lines = BufReader::new(parent.stdout.take().unwrap()).lines();
    let node_pid: u32 = lines.next().unwrap().unwrap().trim().parse().unwrap();
    let ready = lines.next().unwrap().unwrap();
    assert!(ready.contains("\"ready\""), "{ready}");
    assert!(alive(node_pid));

    signal(parent.id(), libc::SIGKILL);
    let _ = parent.wait();
    wait_until("the orphaned node exits", || !alive(node_pid));
}

/// Logged to a file at the default level, as the runner runs nodes: plain text (no ANSI colour
/// codes, which used to end up in the runner's errors and reports), and enough lifecycle lines
/// that the tail of a crashed node's log says where it was.
#[test]
fn default_logs_are_plain_text_and_trace_the_lifecycle() {
    let _serial = serial();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (log_a, log_b) = (dir.join("a.log"), dir.join("b.log"));
    let mut a = Node::start_logging_to(&[], &log_a);
    let bootstrap = a.bootstrap_addr();
    let mut b = Node::start_logging_to(&["--bootstrap", &bootstrap], &log_b);
    wait_until("the two nodes form a gossip mesh", || {
        a.health()["mesh_size"] == 1 && b.health()["mesh_size"] == 1
    });
    assert_eq!(b.terminate().code(), Some(0));
    assert_eq!(a.terminate().code(), Some(0));

    for (log, joining) in [
        (&log_a, "no bootstrap peers"),
        (&log_b, "dialing bootstrap peers"),
    ] {
        let bytes = std::fs::read(log).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !bytes.contains(&0x1b),
            "ANSI escape in {}:\n{text}",
            log.display()
        );
        for line in [
            "starting",
            "listening",
            "ready",
            joining,
            "first peer connected",
            "gossip mesh formed",
            "SIGTERM: shutting down",
            "event loop stopped",
            "stopped",
        ] {
            assert!(
                text.contains(line),
                "{} lacks {line:?}:\n{text}",
                log.display()
            );
        }
        assert!(
            text.lines().count() < 30,
            "a few lines per node, not one per event:\n{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
