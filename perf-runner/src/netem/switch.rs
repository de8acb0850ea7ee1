//! The userspace UDP switch (DESIGN.md "Network conditions and faults").
//!
//! Node k listens privately on Q_k and announces only the switch's public socket P_k. A
//! datagram arriving at P_x from Q_y is traffic y → x: the y → x rules decide its fate, and
//! it is sent on from P_y to Q_x, so x sees its peer at P_y and replies there. QUIC works
//! unchanged. Each directed link has one FIFO task, so release times (monotonic per link)
//! never reorder packets.
//!
//! The switch runs on its own thread and current-thread runtime: its timers are not delayed
//! by the runner's work, and its CPU time can be read on its own. Datagrams from a source
//! that is not registered yet (a node that dials before the runner has read its ready line)
//! wait up to [`PENDING_FOR`] for the registration instead of being dropped.
//!
//! P_k is also a TCP port: the [`super::proxy`] on the same thread forwards TCP connections
//! with the same rules table (delay, jitter, rate, partition).

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    collections::HashSet,
    net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener, UdpSocket as StdUdpSocket},
    rc::Rc,
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use tokio::{
    net::UdpSocket,
    sync::{mpsc, oneshot},
};

use super::{
    proxy,
    rules::{Fate, LinkRules, LinkState},
    shared::{PENDING_FOR, Shared, SwitchStats, Table},
};

/// Largest datagram forwarded (QUIC stays far below).
const MAX_DATAGRAM: usize = 65_535;

enum Command {
    Register(usize, SocketAddr),
    SetLink(usize, usize, LinkRules),
    Stats(oneshot::Sender<SwitchStats>),
}

/// A running switch. Dropping it stops the thread.
pub struct Switch {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    thread: Option<JoinHandle<()>>,
}

/// How many times to look for a port number free for both UDP and TCP.
const PORT_ATTEMPTS: usize = 64;

/// A UDP socket and a TCP listener on the same port of 127.0.0.1: node k's P_k for both
/// transports. The listener allows port reuse so that the proxy can open its connections to
/// other nodes from P_k too.
fn public_sockets() -> std::io::Result<(StdUdpSocket, StdTcpListener)> {
    let mut last = None;
    for _ in 0..PORT_ATTEMPTS {
        let udp = StdUdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = udp.local_addr()?.port();
        match proxy::reusable_listener(SocketAddr::from((Ipv4Addr::LOCALHOST, port))) {
            Ok(tcp) => {
                udp.set_nonblocking(true)?;
                grow_receive_buffer(&udp);
                return Ok((udp, tcp));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port free for UDP and TCP")))
}

impl Switch {
    /// Opens one public port (UDP and TCP) per node on 127.0.0.1 and starts forwarding with
    /// `rules` on every link. `seed` makes loss, jitter and corruption decisions reproducible.
    pub fn start(nodes: usize, rules: LinkRules, seed: u64) -> std::io::Result<Switch> {
        let (sockets, listeners): (Vec<StdUdpSocket>, Vec<StdTcpListener>) = (0..nodes)
            .map(|_| public_sockets())
            .collect::<std::io::Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        let ports = sockets
            .iter()
            .map(|s| s.local_addr().map(|a| a.port()))
            .collect::<std::io::Result<_>>()?;
        let shared = Arc::new(Shared {
            table: Mutex::new(Table {
                default_rules: rules,
                rules: HashMap::new(),
                private: HashMap::new(),
                private_of: vec![None; nodes],
            }),
            changed: tokio::sync::Notify::new(),
            stats: Mutex::new(SwitchStats::default()),
            ports,
            fallback_ports: Mutex::new(HashSet::new()),
            tcp_links: Mutex::new(HashMap::new()),
            seed,
        });
        let (commands, receiver) = mpsc::unbounded_channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("netem-switch".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("switch runtime");
                // Local tasks: the UDP path's state is shared by the socket tasks of this one
                // thread without locks.
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, run(sockets, listeners, thread_shared, receiver));
            })?;
        Ok(Switch {
            shared,
            commands,
            thread: Some(thread),
        })
    }

    /// Node k's public port P_k (UDP and TCP).
    pub fn public_port(&self, node: usize) -> u16 {
        self.shared.ports[node]
    }

    /// Node k's public address P_k.
    pub fn public_addr(&self, node: usize) -> SocketAddr {
        self.shared.public_addr(node)
    }

    /// Whether a node that sees a peer at local port `port` sees it through the switch: a
    /// public port, or the port of a proxy connection that could not be opened from one.
    pub fn forwards_from(&self, port: u16) -> bool {
        self.shared.ports.contains(&port)
            || self
                .shared
                .fallback_ports
                .lock()
                .expect("fallback ports")
                .contains(&port)
    }

    /// Tells the switch where node k listens (Q_k).
    pub fn register(&self, node: usize, private: SocketAddr) {
        let _ = self.commands.send(Command::Register(node, private));
    }

    /// Replaces the rules of the directed link `from` → `to`.
    pub fn set_link(&self, from: usize, to: usize, rules: LinkRules) {
        let _ = self.commands.send(Command::SetLink(from, to, rules));
    }

    /// The counters so far.
    pub async fn stats(&self) -> SwitchStats {
        let (tx, rx) = oneshot::channel();
        let _ = self.commands.send(Command::Stats(tx));
        rx.await.unwrap_or_default()
    }
}

impl std::fmt::Debug for Switch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Switch")
            .field("ports", &self.shared.ports)
            .finish()
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        // Closing the command channel ends the switch's main loop.
        let (closed, _) = mpsc::unbounded_channel();
        self.commands = closed;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Asks for a 4 MiB receive buffer (the kernel caps it at net.core.rmem_max): a burst that
/// arrives while the switch thread waits for a core is then queued, not dropped unseen.
fn grow_receive_buffer(socket: &StdUdpSocket) {
    let _ = socket2::SockRef::from(socket).set_recv_buffer_size(4 << 20);
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

struct Datagram {
    /// Public socket index it arrived at (the destination node).
    to: usize,
    bytes: Vec<u8>,
    arrived: Instant,
}

/// A directed link: its rule state, and the FIFO of (release time, datagram) that its
/// `deliver` task drains, with the number of datagrams in it.
struct Link {
    state: LinkState,
    queue: mpsc::UnboundedSender<(Instant, Vec<u8>)>,
    queued: Rc<Cell<usize>>,
}

/// The UDP path's own state (the rules and registrations live in [`Shared`]). Each public
/// socket's receive task calls [`Udp::handle`] directly: one wake-up per datagram instead of
/// a hop through a channel to a central task (on this kind of sandboxed VM every wake-up is
/// an `epoll_wait` costing tens of microseconds).
struct Udp {
    sockets: Vec<Rc<UdpSocket>>,
    links: HashMap<(usize, usize), Link>,
    pending: HashMap<SocketAddr, Vec<Datagram>>,
    shared: Arc<Shared>,
    rng: StdRng,
}

impl Udp {
    fn handle(&mut self, source: SocketAddr, d: Datagram) {
        let to = d.to;
        let (from, destination, rules) = {
            let table = self.shared.table.lock().expect("table");
            let Some(from) = table.node_at(source) else {
                drop(table);
                let queue = self.pending.entry(source).or_default();
                queue.retain(|p| p.arrived.elapsed() < PENDING_FOR);
                if queue.len() < 256 {
                    queue.push(d);
                } else {
                    self.shared.stats.lock().expect("stats").unknown_source += 1;
                }
                return;
            };
            (from, table.private_of(to), table.rules(from, to))
        };
        let Some(destination) = destination else {
            // The destination has not registered: it cannot have sent anything the sender
            // could be answering, so this is a stray; count it.
            self.shared.stats.lock().expect("stats").unknown_source += 1;
            return;
        };
        let socket = self.sockets[from].clone();
        let link = self.links.entry((from, to)).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let queued = Rc::new(Cell::new(0));
            tokio::task::spawn_local(deliver(rx, socket.clone(), destination, queued.clone()));
            Link {
                state: LinkState::default(),
                queue: tx,
                queued,
            }
        });
        let len = d.bytes.len();
        let fate = link.state.decide(&rules, len, d.arrived, &mut self.rng);
        let mut stats = self.shared.stats.lock().expect("stats");
        let counters = stats.links.entry((from, to)).or_default();
        counters.packets += 1;
        counters.bytes += len as u64;
        match fate {
            Fate::Partitioned => counters.partitioned += 1,
            Fate::Lost => counters.lost += 1,
            Fate::QueueFull => counters.queue_full += 1,
            Fate::Deliver { at, corrupt } => {
                let mut bytes = d.bytes;
                if corrupt && !bytes.is_empty() {
                    let i = self.rng.random_range(0..bytes.len());
                    bytes[i] ^= 0xff;
                    counters.corrupted += 1;
                }
                counters.delivered += 1;
                // Due now and nothing queued before it on the link: send at once (order is
                // kept); otherwise the link's task sends it at its time.
                let sent_now = at <= Instant::now()
                    && link.queued.get() == 0
                    && self.sockets[from].try_send_to(&bytes, destination).is_ok();
                if !sent_now {
                    link.queued.set(link.queued.get() + 1);
                    let _ = link.queue.send((at, bytes));
                }
            }
        }
    }

    fn register(&mut self, node: usize, private: SocketAddr) {
        {
            let mut table = self.shared.table.lock().expect("table");
            // A restarted node listens somewhere new: forget the old address, and end the
            // link tasks that deliver to it (they are recreated, with the new destination, on
            // the next datagram; their link state, i.e. the rate limiter's queue, starts
            // afresh).
            if let Some(old) = table.private_of[node].replace(private) {
                table.private.remove(&old);
                self.links.retain(|&(_, to), _| to != node);
            }
            table.private.insert(private, node);
        }
        self.shared.changed.notify_waiters();
        for d in self.pending.remove(&private).unwrap_or_default() {
            if d.arrived.elapsed() < PENDING_FOR {
                self.handle(private, d);
            }
        }
    }
}

/// One directed link's FIFO: waits for each release time, then sends.
async fn deliver(
    mut queue: mpsc::UnboundedReceiver<(Instant, Vec<u8>)>,
    socket: Rc<UdpSocket>,
    destination: SocketAddr,
    queued: Rc<Cell<usize>>,
) {
    while let Some((at, bytes)) = queue.recv().await {
        if at > Instant::now() {
            tokio::time::sleep_until(at.into()).await;
        }
        let _ = socket.send_to(&bytes, destination).await;
        queued.set(queued.get() - 1);
    }
}

async fn run(
    sockets: Vec<StdUdpSocket>,
    listeners: Vec<StdTcpListener>,
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let sockets: Vec<Rc<UdpSocket>> = sockets
        .into_iter()
        .map(|s| Rc::new(UdpSocket::from_std(s).expect("tokio socket")))
        .collect();
    for (to, listener) in listeners.into_iter().enumerate() {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        tokio::task::spawn_local(proxy::accept(listener, to, shared.clone()));
    }
    let udp = Rc::new(RefCell::new(Udp {
        sockets: sockets.clone(),
        links: HashMap::new(),
        pending: HashMap::new(),
        rng: StdRng::seed_from_u64(shared.seed),
        shared: shared.clone(),
    }));
    for (to, socket) in sockets.into_iter().enumerate() {
        let udp = udp.clone();
        tokio::task::spawn_local(async move {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            while let Ok((len, source)) = socket.recv_from(&mut buf).await {
                let d = Datagram {
                    to,
                    bytes: buf[..len].to_vec(),
                    arrived: Instant::now(),
                };
                udp.borrow_mut().handle(source, d);
            }
        });
    }
    while let Some(command) = commands.recv().await {
        match command {
            Command::Register(node, addr) => udp.borrow_mut().register(node, addr),
            Command::SetLink(from, to, rules) => {
                shared
                    .table
                    .lock()
                    .expect("table")
                    .rules
                    .insert((from, to), rules);
                shared.changed.notify_waiters();
            }
            Command::Stats(reply) => {
                let mut snapshot = shared.stats.lock().expect("stats").clone();
                snapshot.cpu = thread_cpu();
                let _ = reply.send(snapshot);
            }
        }
    }
}
