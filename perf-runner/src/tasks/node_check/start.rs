//! The process side of the contract: flags, the ready line, one process, SIGTERM, stdout.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket},
    path::Path,
    time::Duration,
};

use super::{NodeCheckRequest, Rows};
use crate::{
    Error,
    cluster::{
        API_TIMEOUT, ClusterNode, STOP_GRACE,
        node_api::NodeApi,
        process::{SpawnError, kill_group, run_to_exit, spawn_node},
        socket_of,
    },
    data::node_check::Status,
    scenario::Transport,
};

/// The two running nodes. Dropping it kills both process groups.
pub(super) struct Started {
    /// The node under test.
    pub node: ClusterNode,
    /// Its peer, started first; the node bootstrapped from it.
    pub peer: ClusterNode,
    /// Whether the peer is a second instance of the node under test.
    pub peer_is_node: bool,
    /// The socket whose address the node announces with `--external`, held so that no one
    /// else takes the port.
    _external: Held,
    /// Process groups to kill on drop.
    groups: Vec<u32>,
}

impl Drop for Started {
    fn drop(&mut self) {
        for pid in &self.groups {
            kill_group(*pid);
        }
    }
}

#[allow(dead_code)] // held, never read
enum Held {
    Udp(UdpSocket),
    Tcp(TcpListener),
}

fn flag(transport: Transport, target_peers: &str, key_seed: &str) -> Vec<String> {
    [
        "--transport",
        transport.as_str(),
        "--target-peers",
        target_peers,
        "--key-seed",
        key_seed,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// `--bootstrap` with an address that has no `/p2p/<id>`: the contract's example of a bad flag.
pub(super) async fn refuses_bad_flags(request: &NodeCheckRequest, rows: &mut Rows) {
    let mut args = flag(request.transport, "1", "7");
    args.extend(["--bootstrap".into(), "/ip4/127.0.0.1/tcp/9".into()]);
    let status = match run_to_exit(&request.node_bin, &args, request.ready_timeout).await {
        Err(e) => Status::Failed(format!("cannot run it: {e}")),
        Ok(exited) if exited.timed_out => Status::Failed(format!(
            "still running {:?} after `{}`: refuse a --bootstrap address without /p2p/<peer-id> at once, exit 1 or 2 with one line on stderr",
            request.ready_timeout,
            args.join(" ")
        )),
        Ok(exited) => {
            let mut wrong = Vec::new();
            if !matches!(exited.code, Some(1 | 2)) {
                wrong.push(match exited.code {
                    Some(code) => format!("exited with code {code}, not 1 or 2"),
                    None => "was killed by a signal instead of exiting 1 or 2".to_owned(),
                });
            }
            if !exited.stdout.trim().is_empty() {
                wrong.push(format!(
                    "printed on stdout ({:?}): stdout carries only the ready line",
                    first_line(&exited.stdout)
                ));
            }
            if exited.stderr.trim().is_empty() {
                wrong.push("said nothing on stderr: say what is wrong in one line".to_owned());
            }
            if wrong.is_empty() {
                Status::Passed
            } else {
                Status::Failed(format!(
                    "given `--bootstrap /ip4/127.0.0.1/tcp/9` (no /p2p/<peer-id>) it {}",
                    wrong.join("; ")
                ))
            }
        }
    };
    rows.push("bad flags", status);
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    crate::cluster::process::clean_line(line)
}

/// Starts the node alone with `--kad-replication-factor 3` and stops it.
pub(super) async fn accepts_replication_factor(request: &NodeCheckRequest, rows: &mut Rows) {
    let mut args = flag(request.transport, "1", "8");
    args.extend(["--kad-replication-factor".into(), "3".into()]);
    let log = request.log_dir.join("replication-factor.log");
    let status = match start(&request.node_bin, 2, &args, &log, request.ready_timeout).await {
        Ok(mut node) => {
            let pid = node.pid();
            let _ = node.process.child.start_kill();
            let _ = node.process.child.wait().await;
            kill_group(pid);
            Status::Passed
        }
        Err(e) => Status::Failed(format!(
            "`{}` did not start: {e}\nAccept --kad-replication-factor <n> (Kademlia's k) to run scenarios that set [dht] replication_factor",
            args.join(" ")
        )),
    };
    rows.push("--kad-replication-factor", status);
}

async fn start(
    bin: &Path,
    index: usize,
    args: &[String],
    log: &Path,
    ready_timeout: Duration,
) -> Result<ClusterNode, SpawnError> {
    let process = spawn_node(index, bin, args, log, ready_timeout, 0)?.await?;
    let api = NodeApi::new(&process.ready.control, API_TIMEOUT);
    Ok(ClusterNode { process, api })
}

/// Starts the peer, then the node under test bootstrapping from it; adds the rows of the
/// ready line, the flags and the listen addresses. `None` when the node under test did not
/// start; an error when a peer of another implementation did not.
pub(super) async fn start_pair(
    request: &NodeCheckRequest,
    rows: &mut Rows,
) -> Result<Option<Started>, Error> {
    let peer_is_node = request.peer_bin.is_none();
    let peer_bin = request.peer_bin.as_deref().unwrap_or(&request.node_bin);
    let peer_args = flag(request.transport, "1", "1");
    let peer = match start(
        peer_bin,
        1,
        &peer_args,
        &request.log_dir.join("peer.log"),
        request.ready_timeout,
    )
    .await
    {
        Ok(peer) => peer,
        Err(e) if peer_is_node => {
            rows.push(
                "ready line",
                Status::Failed(format!(
                    "started as `{}`, the node {}",
                    peer_args.join(" "),
                    describe(&e)
                )),
            );
            return Ok(None);
        }
        Err(e) => {
            return Err(Error::RunFailed(format!(
                "the peer (--peer-bin {}) did not start, so nothing could be checked: {e}",
                peer_bin.display()
            )));
        }
    };
    let peer_pid = peer.pid();
    let (held, external) = hold_external(request.transport).map_err(|source| Error::Io {
        path: "(a port for --external)".into(),
        source,
    })?;
    let mut args = flag(request.transport, "1", "2");
    args.extend([
        "--bootstrap".into(),
        bootstrap_addr(&peer, request.transport),
    ]);
    args.extend(["--external".into(), external]);
    let node = match start(
        &request.node_bin,
        0,
        &args,
        &request.log_dir.join("node.log"),
        request.ready_timeout,
    )
    .await
    {
        Ok(node) => node,
        Err(e) => {
            let hint = if peer_is_node {
                format!(
                    "\n(The same binary did start as the peer with only `{}`: check --bootstrap and --external.)",
                    peer_args.join(" ")
                )
            } else {
                String::new()
            };
            rows.push(
                "ready line",
                Status::Failed(format!(
                    "started as `{}`, the node {}{hint}",
                    args.join(" "),
                    describe(&e)
                )),
            );
            kill_group(peer_pid);
            return Ok(None);
        }
    };
    rows.push("ready line", Status::Passed);
    rows.push("flags", Status::Passed);
    rows.push(
        "listen_addrs",
        listen_addrs(&node.process.ready.listen_addrs, request.transport),
    );
    let node_pid = node.pid();
    Ok(Some(Started {
        node,
        peer,
        peer_is_node,
        _external: held,
        groups: vec![node_pid, peer_pid],
    }))
}

/// A spawn error as the rest of a sentence, with what to fix for the ready line's rules.
fn describe(e: &SpawnError) -> String {
    let text = e.to_string();
    let fix = if text.contains("contract") {
        "\nPrint \"contract\": 1 in the ready line once the node speaks node contract v1 (node/README.md)."
    } else if text.contains("missing a field") {
        "\nThe ready line needs event, peer_id, listen_addrs (an array of multiaddrs), control (http://127.0.0.1:<port>) and contract."
    } else if text.contains("where the ready line was expected") {
        "\nThe first line on stdout must be the JSON ready line: send logs to stderr."
    } else if text.contains("printed no ready line") {
        "\nPrint the ready line (and flush stdout) once the node listens and its control API is bound."
    } else {
        ""
    };
    let text = text.strip_prefix("node 0 ").unwrap_or(&text);
    let text = text.strip_prefix("node 1 ").unwrap_or(text);
    format!("{text}{fix}")
}

/// The peer's address for `--bootstrap`: its first listen address of the transport (the first
/// one, as the runner does, when none parses), with its peer id.
fn bootstrap_addr(peer: &ClusterNode, transport: Transport) -> String {
    let addrs = &peer.process.ready.listen_addrs;
    let addr = addrs
        .iter()
        .find(|a| socket_of(a).is_some() && of_transport(a, transport))
        .or(addrs.first())
        .cloned()
        .unwrap_or_default();
    format!("{addr}/p2p/{}", peer.peer_id())
}

fn of_transport(multiaddr: &str, transport: Transport) -> bool {
    match transport {
        Transport::Quic => multiaddr.contains("/udp/") && multiaddr.contains("/quic-v1"),
        Transport::Tcp => multiaddr.contains("/tcp/"),
    }
}

/// A port on 127.0.0.1 held for the check's duration, as the node's `--external` address.
fn hold_external(transport: Transport) -> std::io::Result<(Held, String)> {
    let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    Ok(match transport {
        Transport::Quic => {
            let socket = UdpSocket::bind(any)?;
            let port = socket.local_addr()?.port();
            (
                Held::Udp(socket),
                format!("/ip4/127.0.0.1/udp/{port}/quic-v1"),
            )
        }
        Transport::Tcp => {
            let listener = TcpListener::bind(any)?;
            let port = listener.local_addr()?.port();
            (Held::Tcp(listener), format!("/ip4/127.0.0.1/tcp/{port}"))
        }
    })
}

fn listen_addrs(addrs: &[String], transport: Transport) -> Status {
    let mut wrong = Vec::new();
    match addrs.first() {
        None => wrong.push("the list is empty: list the addresses the node listens on".to_owned()),
        Some(first) if socket_of(first).is_none() || !of_transport(first, transport) => {
            wrong.push(format!(
                "the first one, {first:?}, is not a {} address on 127.0.0.1 (the runner bootstraps peers to it): list {} first",
                transport.as_str(),
                match transport {
                    Transport::Quic => "/ip4/127.0.0.1/udp/<port>/quic-v1",
                    Transport::Tcp => "/ip4/127.0.0.1/tcp/<port>",
                }
            ))
        }
        Some(_) => {}
    }
    for addr in addrs.iter().filter(|a| a.contains("/p2p/")) {
        wrong.push(format!(
            "{addr:?} includes /p2p/: list bare addresses, the runner appends /p2p/<peer_id>"
        ));
    }
    if wrong.is_empty() {
        Status::Passed
    } else {
        Status::Failed(wrong.join("; "))
    }
}

/// The spawned pid must be the node: the runner signals it, reads its memory and CPU from
/// /proc and watches it for crashes. A wrapper that forks the node breaks all three.
pub(super) async fn one_process(started: &Started, rows: &mut Rows) {
    let pid = started.node.pid();
    let control = &started.node.process.ready.control;
    let status = match control_port(control) {
        None => Status::Failed(format!(
            "control {control:?} is not http://127.0.0.1:<port>"
        )),
        Some(port) => match listening_inodes(port) {
            inodes if inodes.is_empty() => Status::Failed(format!(
                "nothing listens on TCP port {port} of {control:?} (read from /proc/net/tcp)"
            )),
            inodes if holds_any(pid, &inodes) => Status::Passed,
            inodes => {
                let held_by = match holder_of(&inodes) {
                    Some(other) => format!(
                        "by pid {other} ({}), {}",
                        comm(other),
                        if parent_of(other) == Some(pid) {
                            "a child of the spawned process"
                        } else {
                            "another process"
                        }
                    ),
                    None => "by another process".to_owned(),
                };
                Status::Failed(format!(
                    "the control port {port} is held {held_by}, not by the spawned pid {pid} ({}): the runner signals, measures (/proc/<pid>) and watches the pid it spawned. Start the node itself, or exec it from a wrapper script (`exec your-node \"$@\"`)",
                    comm(pid)
                ))
            }
        },
    };
    rows.push("one process", status);
}

fn control_port(control: &str) -> Option<u16> {
    let rest = control.strip_prefix("http://")?.trim_end_matches('/');
    let (_, port) = rest.rsplit_once(':')?;
    port.parse().ok()
}

/// Socket inodes listening on `port` (any address), from /proc/net/tcp and tcp6.
fn listening_inodes(port: u16) -> Vec<u64> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            let local_port = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port)
                && *state == "0A"
                && let Ok(inode) = inode.parse()
            {
                out.push(inode);
            }
        }
    }
    out
}

fn socket_inodes(pid: u32) -> Vec<u64> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            target
                .to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

fn holds_any(pid: u32, inodes: &[u64]) -> bool {
    socket_inodes(pid).iter().any(|i| inodes.contains(i))
}

/// The process holding one of `inodes`, if this user can see it.
fn holder_of(inodes: &[u64]) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|&pid| holds_any(pid, inodes))
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_owned())
        .unwrap_or_else(|_| "?".into())
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid …; comm may hold spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(1)?.parse().ok()
}

/// SIGTERM to the node (exit 0 within the stop grace), then what it printed on stdout, then
/// `POST /shutdown` to the peer when it is the same binary.
pub(super) async fn stop(started: &mut Started, rows: &mut Rows) {
    let pid = started.node.pid();
    // SAFETY: kill(2) on a child we spawned and have not reaped.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let child = &mut started.node.process.child;
    let status = match tokio::time::timeout(STOP_GRACE, child.wait()).await {
        Ok(Ok(exit)) if exit.success() => Status::Passed,
        Ok(Ok(exit)) => Status::Failed(format!(
            "SIGTERM ended it with {exit}: handle SIGTERM with a graceful shutdown and exit code 0"
        )),
        Ok(Err(e)) => Status::Failed(format!("cannot wait for it: {e}")),
        Err(_) => {
            let _ = child.kill().await;
            Status::Failed(format!(
                "still running {STOP_GRACE:?} after SIGTERM (then killed): exit promptly, with code 0"
            ))
        }
    };
    rows.push("SIGTERM", status);
    // The stdout reader task sees the end of the pipe once the node is gone.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stray = started
        .node
        .process
        .stray_stdout
        .lock()
        .expect("not poisoned")
        .clone();
    rows.push(
        "stdout",
        if stray.is_empty() {
            Status::Passed
        } else {
            Status::Failed(format!(
                "printed after its ready line: {stray:?}: stdout carries the ready line only, send logs to stderr"
            ))
        },
    );
    rows.push("POST /shutdown", shutdown(started).await);
}

async fn shutdown(started: &mut Started) -> Status {
    if !started.peer_is_node {
        return Status::Skipped(
            "checked on the second instance, and the peer is --peer-bin".into(),
        );
    }
    let answer = started
        .peer
        .api
        .raw(reqwest::Method::POST, "/shutdown", None)
        .await;
    let child = &mut started.peer.process.child;
    let status = match answer {
        Ok((202, _)) => match tokio::time::timeout(STOP_GRACE, child.wait()).await {
            Ok(Ok(exit)) if exit.success() => Status::Passed,
            Ok(Ok(exit)) => Status::Failed(format!(
                "answered 202, then ended with {exit}: exit with code 0"
            )),
            Ok(Err(e)) => Status::Failed(format!("cannot wait for it: {e}")),
            Err(_) => Status::Failed(format!(
                "answered 202 but was still running {STOP_GRACE:?} later: exit after answering"
            )),
        },
        Ok((status, body)) => Status::Failed(format!(
            "answered {status} {}: answer 202 Accepted, then shut down gracefully",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        )),
        Err(e) => Status::Failed(format!("no answer: {e}")),
    };
    let _ = child.start_kill();
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addrs_must_start_with_a_dialable_one_of_the_transport_and_carry_no_peer_id() {
        let quic = "/ip4/127.0.0.1/udp/4001/quic-v1".to_owned();
        let tcp = "/ip4/127.0.0.1/tcp/4001".to_owned();
        assert_eq!(
            listen_addrs(std::slice::from_ref(&quic), Transport::Quic),
            Status::Passed
        );
        assert_eq!(
            listen_addrs(&[tcp.clone(), quic.clone()], Transport::Tcp),
            Status::Passed
        );
        for (addrs, transport, says) in [
            (vec![], Transport::Quic, "empty"),
            (vec![tcp.clone()], Transport::Quic, "not a quic address"),
            (
                vec![format!("{quic}/p2p/12D3KooWX")],
                Transport::Quic,
                "includes /p2p/",
            ),
            (
                vec!["/dns4/localhost/tcp/1".into()],
                Transport::Tcp,
                "not a tcp address",
            ),
        ] {
            let Status::Failed(why) = listen_addrs(&addrs, transport) else {
                panic!("{addrs:?} passed");
            };
            assert!(why.contains(says), "{addrs:?}: {why}");
        }
    }

    #[test]
    fn the_control_port_comes_from_the_ready_lines_url() {
        assert_eq!(control_port("http://127.0.0.1:38179"), Some(38179));
        assert_eq!(control_port("http://127.0.0.1:38179/"), Some(38179));
        assert_eq!(control_port("127.0.0.1:38179"), None);
    }

    #[test]
    fn this_process_holds_the_socket_it_listens_on() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let inodes = listening_inodes(listener.local_addr().unwrap().port());
        assert_eq!(inodes.len(), 1);
        assert!(holds_any(std::process::id(), &inodes));
        assert_eq!(
            parent_of(std::process::id()),
            Some(std::os::unix::process::parent_id())
        );
    }
}
