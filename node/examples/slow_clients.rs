//! Measures swarm-node's control API under a flood of slow clients: `/health` latency while
//! 2,000 connections trickle request headers, and how and when the node closes them.
//!
//! ```text
//! cargo build -p swarm-node --release
//! cargo run -p swarm-node --example slow_clients -- --node target/release/swarm-node
//!     [--clients 2000] [--requests 100]
//! ```
//!
//! The node runs with a file-descriptor limit of 1,024 (a common default, and the limit under
//! which 1,100 half-open connections once made `/health` unanswerable); this process raises its
//! own limit to hold all the clients. Each client sends a partial request head, then one more
//! header byte every second while its connection is open. Once all are connected, `--requests`
//! `GET /health` requests, one connection each, are timed one after another (each allowed
//! 10 s), then the clients are watched until the node has closed them all (or 30 s passed).
//! A baseline of the same requests without clients is measured first.
//!
//! The clients are non-blocking sockets watched by one thread with poll(2), which wakes at
//! least every 10 ms: close times have about that resolution.
//!
//! Connects stall for a second (a SYN retransmission) whenever this client outruns the node's
//! 128-entry listen backlog, so the time to connect all clients, and how long a displaced one
//! stayed open, vary from run to run with the machine's load.
//!
//! Measured on the 2-core dev machine (release build, three runs): `/health` p50 0.05–0.07 ms
//! and p99 0.15–0.47 ms with 2,000 slow clients (baseline without: p50 0.05–0.07 ms), 100 of 100
//! answered each time; 1,745 clients displaced by newer ones (median 0.01–0.02 s after
//! connecting), 255 closed with a 408 at 5.00 s, none left open; at most 271 fds open in the
//! node; SIGTERM exit 0 in 2–3 ms. The node before these limits, with 1,100 clients: its fds
//! hit 1,024, 5 of 5 `/health` requests went unanswered, no client was ever closed.

use std::{
    io::{ErrorKind, Read, Write},
    net::{SocketAddr, TcpStream},
    os::{fd::AsRawFd, unix::process::CommandExt},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

/// The start of a request head whose headers never end.
const PARTIAL_HEAD: &[u8] = b"GET /health HTTP/1.1\r\nHost: swarm-node\r\nX-Slow: ";
/// The node's file-descriptor limit.
const NODE_FD_LIMIT: u64 = 1024;
/// How long one `/health` request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the clients are watched after the requests.
const WATCH_LIMIT: Duration = Duration::from_secs(30);

struct Args {
    node: String,
    clients: usize,
    requests: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        node: "target/release/swarm-node".into(),
        clients: 2000,
        requests: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--node" => args.node = value,
            "--clients" => args.clients = value.parse().expect("--clients N"),
            "--requests" => args.requests = value.parse().expect("--requests N"),
            other => panic!("unknown flag {other}; see the doc comment of slow_clients.rs"),
        }
    }
    args
}

fn main() {
    let args = parse_args();
    raise_fd_limit(args.clients as u64 + 1024);
    let (mut node, control) = start_node(&args.node);
    let pid = node.id();
    println!("node {} (pid {pid}), control {control}", args.node);

    let baseline = time_health(control, args.requests);
    report_latency("baseline, no slow clients", &baseline);

    let (new_clients, arrivals) = mpsc::channel();
    let watched = Arc::new(Watched::default());
    let watcher = {
        let watched = watched.clone();
        std::thread::spawn(move || watch(&arrivals, &watched, pid))
    };

    let connecting = Instant::now();
    let mut refused = 0;
    for _ in 0..args.clients {
        match TcpStream::connect(control) {
            Ok(mut stream) => {
                let opened = Instant::now();
                let _ = stream.write_all(PARTIAL_HEAD);
                stream.set_nonblocking(true).expect("non-blocking");
                new_clients
                    .send(Client {
                        stream,
                        opened,
                        closed: None,
                        answered: false,
                    })
                    .expect("watcher is running");
            }
            Err(_) => refused += 1,
        }
    }
    println!(
        "{} slow clients connected in {:.2} s ({refused} connects failed)",
        args.clients - refused,
        connecting.elapsed().as_secs_f64()
    );
    drop(new_clients);
    let open_before = watched.open_after(args.clients - refused);

    let under_load = time_health(control, args.requests);
    let open_after = watched.open.load(Ordering::Relaxed);
    report_latency(
        &format!(
            "with {} slow clients ({open_before} still open before the requests, {open_after} after)",
            args.clients - refused
        ),
        &under_load,
    );

    let watch_start = Instant::now();
    while watched.open.load(Ordering::Relaxed) > 0 && watch_start.elapsed() < WATCH_LIMIT {
        std::thread::sleep(Duration::from_millis(50));
    }
    watched.stop.store(true, Ordering::Relaxed);
    let clients = watcher.join().unwrap();
    report_closes(&clients);
    println!(
        "node's open fds, peak while watched: {}",
        watched.peak_fds.load(Ordering::Relaxed)
    );

    let stopping = Instant::now();
    // SAFETY: kill(2) on the child this process started.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let status = node.wait().expect("wait for the node");
    println!(
        "SIGTERM: node exited with {status} after {} ms",
        stopping.elapsed().as_millis()
    );
}

/// One slow client.
struct Client {
    stream: TcpStream,
    opened: Instant,
    /// When the node closed the connection.
    closed: Option<Instant>,
    /// Whether the node answered before closing (a 408).
    answered: bool,
}

/// What the watcher shares with the main thread.
#[derive(Default)]
struct Watched {
    /// Clients handed to the watcher.
    seen: AtomicUsize,
    /// Of those, how many the node has not closed yet.
    open: AtomicUsize,
    /// The node's open file descriptors, highest sample.
    peak_fds: AtomicUsize,
    /// Tells the watcher to stop.
    stop: AtomicBool,
}

impl Watched {
    /// The open count once the watcher has taken in `n` clients.
    fn open_after(&self, n: usize) -> usize {
        while self.seen.load(Ordering::Relaxed) < n {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.open.load(Ordering::Relaxed)
    }
}

/// Owns the clients. Notices closed connections as they close (poll(2), at least every
/// 10 ms, taking in new clients each time); every second trickles one header byte on each open
/// one; samples the node's open file descriptors.
fn watch(arrivals: &mpsc::Receiver<Client>, watched: &Watched, pid: u32) -> Vec<Client> {
    let mut clients: Vec<Client> = Vec::new();
    let mut last_trickle = Instant::now();
    let mut buf = [0u8; 1024];
    let mut fds: Vec<libc::pollfd> = Vec::new();
    let mut index: Vec<usize> = Vec::new();
    while !watched.stop.load(Ordering::Relaxed) {
        clients.extend(arrivals.try_iter());
        fds.clear();
        index.clear();
        for (i, client) in clients.iter().enumerate() {
            if client.closed.is_none() {
                fds.push(libc::pollfd {
                    fd: client.stream.as_raw_fd(),
                    events: libc::POLLIN | libc::POLLRDHUP,
                    revents: 0,
                });
                index.push(i);
            }
        }
        // SAFETY: poll(2) on a valid, exclusively borrowed array of pollfd.
        unsafe {
            libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 10);
        }
        for (pollfd, &i) in fds.iter().zip(&index) {
            if pollfd.revents == 0 {
                continue;
            }
            let client = &mut clients[i];
            loop {
                match client.stream.read(&mut buf) {
                    Ok(0) => {
                        client.closed = Some(Instant::now());
                        break;
                    }
                    Ok(_) => client.answered = true,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => {
                        client.closed = Some(Instant::now());
                        break;
                    }
                }
            }
        }
        if last_trickle.elapsed() >= Duration::from_secs(1) {
            last_trickle = Instant::now();
            for client in clients.iter_mut().filter(|c| c.closed.is_none()) {
                if client.stream.write(b"a").is_err() {
                    client.closed = Some(Instant::now());
                }
            }
        }
        let open = clients.iter().filter(|c| c.closed.is_none()).count();
        watched.open.store(open, Ordering::Relaxed);
        watched.seen.store(clients.len(), Ordering::Relaxed);
        if let Ok(node_fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            watched
                .peak_fds
                .fetch_max(node_fds.count(), Ordering::Relaxed);
        }
    }
    clients
}

/// Times `n` `GET /health` requests, one connection each; `None` for a failed one.
fn time_health(control: SocketAddr, n: usize) -> Vec<Option<Duration>> {
    (0..n)
        .map(|_| {
            let start = Instant::now();
            health_once(control).then(|| start.elapsed())
        })
        .collect()
}

/// One `GET /health` on a new connection: whether it answered 200 in time.
fn health_once(control: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&control, REQUEST_TIMEOUT) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(REQUEST_TIMEOUT));
    if stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: swarm-node\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    response.starts_with(b"HTTP/1.1 200 ")
}

fn report_latency(what: &str, samples: &[Option<Duration>]) {
    let mut ok: Vec<Duration> = samples.iter().flatten().copied().collect();
    ok.sort();
    let failed = samples.len() - ok.len();
    if ok.is_empty() {
        println!("/health {what}: all {failed} requests failed");
        return;
    }
    let rank = |p: f64| ok[((p * ok.len() as f64).ceil() as usize).clamp(1, ok.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "/health {what}: {} of {} answered 200, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ok.len(),
        samples.len(),
        ms(rank(0.50)),
        ms(rank(0.99)),
        ms(*ok.last().unwrap()),
    );
}

/// How many clients the node closed, how (silently or after an answer), and how long after
/// they connected.
fn report_closes(clients: &[Client]) {
    for (what, answered) in [
        ("closed silently (displaced by newer connections)", false),
        ("closed after a 408 answer (head deadline)", true),
    ] {
        let mut after: Vec<f64> = clients
            .iter()
            .filter(|c| c.answered == answered)
            .filter_map(|c| c.closed.map(|t| (t - c.opened).as_secs_f64()))
            .collect();
        after.sort_by(f64::total_cmp);
        if after.is_empty() {
            println!("0 {what}");
            continue;
        }
        println!(
            "{} {what}: after {:.2} s (min) / {:.2} s (median) / {:.2} s (max)",
            after.len(),
            after[0],
            after[after.len() / 2],
            after[after.len() - 1]
        );
    }
    let open = clients.iter().filter(|c| c.closed.is_none()).count();
    println!(
        "{open} of {} still open after {} s of watching",
        clients.len(),
        WATCH_LIMIT.as_secs()
    );
}

/// Raises this process's soft limit on open files to `want` (at most the hard limit).
fn raise_fd_limit(want: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid, exclusively borrowed struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        if limit.rlim_cur < want {
            limit.rlim_cur = want.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    assert!(
        limit.rlim_cur >= want,
        "cannot hold {want} open files (hard limit {}); raise it with ulimit -Hn",
        limit.rlim_max
    );
}

/// Starts the node with a file-descriptor limit of [`NODE_FD_LIMIT`] and reads its ready line.
fn start_node(bin: &str) -> (Child, SocketAddr) {
    let mut command = Command::new(bin);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // SAFETY: only setrlimit(2), which is async-signal-safe, runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: NODE_FD_LIMIT,
                rlim_max: NODE_FD_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        match stdout.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => panic!("{bin} exited before its ready line"),
        }
    }
    let ready: serde_json::Value = serde_json::from_slice(&line).expect("ready line is JSON");
    let control = ready["control"]
        .as_str()
        .and_then(|c| c.strip_prefix("http://"))
        .and_then(|c| c.parse().ok())
        .expect("control address in the ready line");
    (child, control)
}
