//! Stopping: SIGTERM and POST /shutdown exit 0; a node dies with its parent.

mod common;

use std::io::{BufRead, BufReader};
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
