//! Starts real swarm-node processes on loopback and talks to their control API.
//!
//! Every wait polls a condition against a generous deadline: these tests must pass on a
//! loaded 2-core machine, so they never assume how long anything takes.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, MutexGuard, mpsc},
    time::{Duration, Instant},
};

use serde_json::Value;

/// Generous upper bound for anything a cluster must reach on a loaded machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Cluster tests run one at a time even within a test binary.
static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the serial lock for the duration of a cluster test.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The swarm-node binary cargo built for these tests.
pub fn node_bin() -> &'static str {
    env!("CARGO_BIN_EXE_swarm-node")
}

/// A running node, killed when dropped.
pub struct Node {
    pub child: Child,
    pub peer_id: String,
    pub listen_addrs: Vec<String>,
    pub control: String,
    http: reqwest::blocking::Client,
}

impl Node {
    /// Starts a node with `args` and waits for its ready line.
    pub fn start(args: &[&str]) -> Node {
        Self::try_start(args).unwrap_or_else(|e| panic!("node with {args:?} did not start: {e}"))
    }

    /// Starts a node, returning the error text if it exits or stays silent.
    pub fn try_start(args: &[&str]) -> Result<Node, String> {
        let mut command = Command::new(node_bin());
        command.args(args).stderr(Stdio::piped());
        Self::launch(command)
    }

    /// Starts a node that logs to the file `log` at its default log level (`RUST_LOG` unset),
    /// as the runner starts nodes.
    pub fn start_logging_to(args: &[&str], log: &Path) -> Node {
        let file = std::fs::File::create(log).expect("create log file");
        let mut command = Command::new(node_bin());
        command.args(args).env_remove("RUST_LOG").stderr(file);
        Self::launch(command).unwrap_or_else(|e| panic!("node with {args:?} did not start: {e}"))
    }

    fn launch(mut command: Command) -> Result<Node, String> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        // A piped stderr is read all along, so that a node that logs a lot never blocks on it.
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stderr_reader = child.stderr.take().map(|mut pipe| {
            let stderr = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                    stderr.lock().unwrap().extend_from_slice(&chunk[..n]);
                }
            })
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // Anything after the ready line breaks the contract; surface it loudly.
            for line in lines.map_while(Result::ok) {
                eprintln!("UNEXPECTED STDOUT FROM NODE: {line}");
            }
        });
        let line = match rx.recv_timeout(DEADLINE) {
            Ok(Some(Ok(line))) => line,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                if let Some(reader) = stderr_reader {
                    let _ = reader.join();
                }
                let stderr = stderr.lock().unwrap();
                return Err(String::from_utf8_lossy(&stderr).into_owned());
            }
        };
        let ready: Value =
            serde_json::from_str(&line).map_err(|e| format!("ready line {line:?}: {e}"))?;
        assert_eq!(
            ready["event"], "ready",
            "first stdout line must be the ready event: {line}"
        );
        Ok(Node {
            child,
            peer_id: ready["peer_id"].as_str().expect("peer_id").to_owned(),
            listen_addrs: ready["listen_addrs"]
                .as_array()
                .expect("listen_addrs")
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            control: ready["control"].as_str().expect("control").to_owned(),
            // No pooled connections: after a 413 the server closes a connection whose body it
            // did not read, and a pooled client could race that close on its next request.
            http: reqwest::blocking::Client::builder()
                .timeout(DEADLINE)
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
        })
    }

    /// The control API's socket address (`127.0.0.1:<port>`), for raw TCP clients.
    pub fn control_addr(&self) -> &str {
        self.control.trim_start_matches("http://")
    }

    /// This node's first listen address with its peer id, to bootstrap others from.
    pub fn bootstrap_addr(&self) -> String {
        format!("{}/p2p/{}", self.listen_addrs[0], self.peer_id)
    }

    /// GET `path`, returning status and JSON body.
    pub fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.control))
            .send()
            .expect("GET");
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    }

    /// GET `path` as text.
    pub fn get_text(&self, path: &str) -> (u16, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.control))
            .send()
            .expect("GET");
        (resp.status().as_u16(), resp.text().unwrap())
    }

    /// POST a JSON body to `path`.
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, "application/json", body.to_string().into_bytes())
    }

    /// POST raw bytes with a content type.
    pub fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.control))
            .header("content-type", content_type)
            .body(body)
            .send()
            .expect("POST");
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    }

    /// `/health`, asserting it answers 200.
    pub fn health(&self) -> Value {
        let (status, body) = self.get("/health");
        assert_eq!(status, 200, "health: {body}");
        body
    }

    /// Sends SIGTERM and waits for the exit, returning the status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        signal(self.child.id(), libc::SIGTERM);
        wait_exit(&mut self.child, DEADLINE).expect("node did not exit after SIGTERM")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `sig` to `pid`.
pub fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) with a pid we spawned; no memory is shared.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// Whether a process with `pid` still exists (zombies count as gone).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Waits for a child to exit, up to `limit`.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Polls `condition` until it holds, panicking with `what` after [`DEADLINE`].
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {DEADLINE:?} waiting for: {what}");
}

/// Starts `n` nodes in a star around the first, waiting until all are fully connected with
/// gossip meshes formed.
pub fn start_cluster(n: usize, extra: &[&str]) -> Vec<Node> {
    let first = Node::start(extra);
    let bootstrap = first.bootstrap_addr();
    let mut nodes = vec![first];
    for _ in 1..n {
        let mut args = vec!["--bootstrap", bootstrap.as_str()];
        args.extend_from_slice(extra);
        nodes.push(Node::start(&args));
    }
    wait_until(
        "every node connected to every other with a gossip mesh",
        || {
            nodes.iter().all(|node| {
                let h = node.health();
                h["connected_peers"].as_u64() == Some(n as u64 - 1)
                    && h["mesh_size"].as_u64() == Some(n as u64 - 1)
            })
        },
    );
    nodes
}
