//! The per-connection TCP proxy (DESIGN.md "Network conditions and faults"): P_k is also a
//! TCP listener. A connection accepted at P_x from Q_y (swarm-node, like rust-libp2p's TCP
//! transport, dials from its listen port) is traffic y ↔ x: the proxy opens its own connection
//! to Q_x *from P_y*, so x sees its peer at P_y as it would with QUIC, and copies both
//! directions through the link rules.
//!
//! What applies to a stream: delay and jitter (each chunk is released that long after it was
//! read, never before an earlier one), the rate cap (a token bucket shared by every
//! connection on the directed link; the bounded queue of chunks in flight pushes back on the
//! sender instead of dropping) and partitions (data is held, not dropped, until the heal, as
//! the sender's TCP would keep retransmitting it; a connection opened during a partition
//! hangs in its handshake). Loss and corruption do not apply: the proxy terminates TCP, and
//! TCP under it would retransmit; the scenario parser refuses them for TCP.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use rand::{SeedableRng, rngs::StdRng};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpListener, TcpSocket, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::mpsc,
};

use super::{
    rules::{LinkRules, LinkState},
    shared::{PENDING_FOR, Shared},
};

/// Largest chunk read from a connection at once.
const CHUNK: usize = 16 * 1024;
/// Chunks in flight per direction: up to 1 MiB waits for its release time before the proxy
/// stops reading and TCP's flow control pushes back on the sender.
const CHUNKS_IN_FLIGHT: usize = 64;

/// A listener for P_k that lets the proxy open outgoing connections from the same port.
pub(super) fn reusable_listener(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Accepts the connections for node `to` at P_to.
pub(super) async fn accept(listener: TcpListener, to: usize, shared: Arc<Shared>) {
    let mut accepted = 0u64;
    while let Ok((inbound, source)) = listener.accept().await {
        accepted += 1;
        // Every connection gets its own reproducible jitter stream.
        let seed = shared.seed ^ ((to as u64) << 40) ^ accepted;
        tokio::spawn(connection(inbound, source, to, shared.clone(), seed));
    }
}

/// Waits (up to [`PENDING_FOR`]) until the source and the destination are registered: a
/// node may dial before the runner has read its ready line.
async fn endpoints(shared: &Shared, source: SocketAddr, to: usize) -> Option<(usize, SocketAddr)> {
    let deadline = Instant::now() + PENDING_FOR;
    loop {
        let changed = shared.changed.notified();
        {
            let table = shared.table.lock().expect("table");
            if let (Some(from), Some(destination)) = (table.node_at(source), table.private_of(to)) {
                return Some((from, destination));
            }
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        let _ = tokio::time::timeout(left, changed).await;
    }
}

/// Connects to `destination` from `from` (P_y), falling back to a fresh port when that
/// exact pair of addresses is taken (a second connection between the same two nodes).
async fn connect_from(
    shared: &Shared,
    from: SocketAddr,
    destination: SocketAddr,
) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(from)?;
    match socket.connect(destination).await {
        Ok(stream) => Ok(stream),
        Err(e)
            if e.kind() == std::io::ErrorKind::AddrNotAvailable
                || e.kind() == std::io::ErrorKind::AddrInUse =>
        {
            let stream = TcpStream::connect(destination).await?;
            shared
                .fallback_ports
                .lock()
                .expect("fallback ports")
                .insert(stream.local_addr()?.port());
            Ok(stream)
        }
        Err(e) => Err(e),
    }
}

async fn connection(
    inbound: TcpStream,
    source: SocketAddr,
    to: usize,
    shared: Arc<Shared>,
    seed: u64,
) {
    let Some((from, destination)) = endpoints(&shared, source, to).await else {
        // A dial from a port we do not know: a node's second connection to the same peer
        // (rust-libp2p then dials from a fresh port), or a stranger. Refused, and counted.
        shared.stats.lock().expect("stats").unknown_source += 1;
        return;
    };
    let Ok(outbound) = connect_from(&shared, shared.public_addr(from), destination).await else {
        return;
    };
    shared.stats.lock().expect("stats").tcp_connections += 1;
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let (inbound_read, inbound_write) = inbound.into_split();
    let (outbound_read, outbound_write) = outbound.into_split();
    tokio::join!(
        pump(from, to, inbound_read, outbound_write, &shared, seed),
        pump(to, from, outbound_read, inbound_write, &shared, !seed),
    );
}

/// The rules of `from` → `to` once the link is not partitioned; counts a hold.
async fn unpartitioned(shared: &Shared, from: usize, to: usize) -> LinkRules {
    let mut held = false;
    loop {
        let changed = shared.changed.notified();
        let rules = shared.table.lock().expect("table").rules(from, to);
        if !rules.partitioned {
            return rules;
        }
        if !held {
            held = true;
            shared.with_link(from, to, |l| l.partitioned += 1);
        }
        changed.await;
    }
}

/// Copies one direction of a connection through the `from` → `to` rules. End of stream is
/// passed on after the data before it; so is an error, as an end of stream.
async fn pump(
    from: usize,
    to: usize,
    mut reader: OwnedReadHalf,
    mut writer: OwnedWriteHalf,
    shared: &Shared,
    seed: u64,
) {
    let (queue, mut released) = mpsc::channel::<(Instant, Vec<u8>)>(CHUNKS_IN_FLIGHT);
    let write = async move {
        while let Some((at, bytes)) = released.recv().await {
            if at > Instant::now() {
                tokio::time::sleep_until(at.into()).await;
            }
            if writer.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = writer.shutdown().await;
    };
    let read = async move {
        let mut rng = StdRng::seed_from_u64(seed);
        loop {
            let mut bytes = vec![0u8; CHUNK];
            let n = match reader.read(&mut bytes).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            bytes.truncate(n);
            let rules = unpartitioned(shared, from, to).await;
            let at = link_state(shared, from, to, |state| {
                state.release_chunk(&rules, n, Instant::now(), &mut rng)
            });
            shared.with_link(from, to, |l| {
                l.packets += 1;
                l.bytes += n as u64;
                l.delivered += 1;
            });
            if queue.send((at, bytes)).await.is_err() {
                break;
            }
        }
    };
    tokio::join!(read, write);
}

/// Runs `f` on the directed link's TCP state, shared by all its connections so that the rate
/// cap holds for the link, not per connection.
fn link_state<T>(
    shared: &Shared,
    from: usize,
    to: usize,
    f: impl FnOnce(&mut LinkState) -> T,
) -> T {
    f(shared
        .tcp_links
        .lock()
        .expect("tcp links")
        .entry((from, to))
        .or_default())
}
