//! The control API's HTTP/1.1 server: axum's router behind an accept loop with limits, so that
//! no client (a stuck one, a port scanner, a slowloris) can take the API away from the runner.
//!
//! `axum::serve` has no read timeouts and no connection limit: 1,100 half-open connections used
//! up the node's 1,024 file descriptors and `/health` went unanswered. This is the accept loop of
//! axum's `serve-with-hyper` example (hyper's HTTP/1 connection builder, graceful shutdown) plus:
//!
//! - **A cap of [`MAX_CONNECTIONS`] open connections**, well below the fd limit so that libp2p
//!   keeps its descriptors. A connection beyond the cap takes the place of the oldest one that is
//!   not serving a request (idle, or still sending its request head), which is closed: a new
//!   request always gets in, and slow clients push each other out. Only when every open
//!   connection is serving a request is the new one refused, with a `503` JSON answer.
//! - **Read deadlines** ([`Deadlines`]): a connection's first request head must arrive within
//!   [`HEADER_TIMEOUT`] of the accept, a later one within [`HEADER_TIMEOUT`] of its first byte,
//!   and an idle keep-alive connection is closed after [`KEEP_ALIVE_TIMEOUT`] (longer than the
//!   90 s idle timeout of reqwest's and hyper's client pools, so a pooled client always closes
//!   first and never races the server's close). A request head that started but did not finish in
//!   time gets a `408` JSON answer before the close. Request bodies have their own deadline,
//!   `control::BODY_TIMEOUT`, enforced by the router.
//! - **Lingering close**: a request answered before it was read to its end (a `413` or `408`
//!   from the router, which then says `Connection: close`, or a `408` for a head cut off by its
//!   deadline) leaves unread bytes, and closing a socket with unread bytes resets the
//!   connection, which can destroy the answer before the client reads it. So the server shuts
//!   down its side and reads and discards what the client still sends, for at most
//!   [`LINGER_TIMEOUT`], before it closes. Other closes (idle, shutdown) do not linger.

use std::{
    collections::BTreeMap,
    convert::Infallible,
    io,
    pin::{Pin, pin},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    http::{Request, Response, header},
};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Notify, OwnedSemaphorePermit, Semaphore, watch},
    time::{Instant, Sleep},
};
use tower_service::Service;

/// Most connections open at once; see the module documentation for what happens beyond.
/// The node's fd limit is typically 1,024, and a node of a 100-node TCP cluster holds ~100 for
/// libp2p, so 256 leaves ample room while being far more than the runner ever opens (a few).
pub const MAX_CONNECTIONS: usize = 256;
/// How long a client has to send a complete request head (request line and headers).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a keep-alive connection may sit idle between requests.
pub const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest a closing connection is drained of what its client still sends.
pub const LINGER_TIMEOUT: Duration = Duration::from_secs(2);
/// Most bytes drained from a closing connection.
const LINGER_BYTES: usize = 16 << 20;
/// How long a new connection waits for the one it displaced to close (milliseconds, unless the
/// machine is starved).
const ADMIT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after an accept error such as running out of file descriptors.
const ACCEPT_RETRY: Duration = Duration::from_millis(250);

/// Serves `router` on `listener` until `shutdown` turns `true`, then stops accepting and
/// waits for open connections to finish their requests (the caller bounds that wait).
pub async fn serve(listener: TcpListener, router: Router, shutdown: watch::Receiver<bool>) {
    let connections = Arc::new(Connections::new());
    let mut stop = shutdown.clone();
    let mut next_id: u64 = 0;
    let mut at_cap = false;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                tracing::warn!("control API: accept failed: {e}; retrying");
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        let permit = match connections.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                at_cap = false;
                permit
            }
            Err(_) => {
                if !at_cap {
                    // Once per overload, not once per connection: a flood must not flood the log.
                    tracing::warn!(
                        "control API: {MAX_CONNECTIONS} connections open; each new one now \
                         closes the oldest that is not serving a request"
                    );
                    at_cap = true;
                }
                match connections.make_room().await {
                    Some(permit) => permit,
                    None => {
                        refuse(&stream);
                        continue;
                    }
                }
            }
        };
        let slot = Slot::register(&connections, next_id, permit);
        next_id += 1;
        tokio::spawn(serve_connection(
            stream,
            router.clone(),
            slot,
            shutdown.clone(),
        ));
    }
    drop(listener);
    // Every connection holds a permit until it is closed.
    let _ = connections
        .permits
        .acquire_many(MAX_CONNECTIONS as u32)
        .await;
}

/// Errors of one incoming connection, not of the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Answers a connection that cannot be admitted with `503`, best effort (never waiting on the
/// client), and closes it.
fn refuse(stream: &TcpStream) {
    let body = format!(
        "all {MAX_CONNECTIONS} control API connections are serving requests; retry shortly"
    );
    let _ = stream.try_write(&canned_response(503, "Service Unavailable", &body));
}

/// A complete `Connection: close` response with a JSON error body, for the places that answer
/// outside of the router.
fn canned_response(status: u16, reason: &str, error: &str) -> Vec<u8> {
    let body = serde_json::json!({ "error": error }).to_string();
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The open connections and the permits that cap them.
struct Connections {
    permits: Arc<Semaphore>,
    /// By id, which grows with accept order: the first entry is the oldest.
    open: Mutex<BTreeMap<u64, Arc<ConnState>>>,
}

impl Connections {
    fn new() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            open: Mutex::new(BTreeMap::new()),
        }
    }

    fn open(&self) -> MutexGuard<'_, BTreeMap<u64, Arc<ConnState>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// At the cap: closes the oldest connection that is not serving a request and waits for its
    /// permit. `None` when every connection is serving one.
    async fn make_room(&self) -> Option<OwnedSemaphorePermit> {
        let victim = {
            let open = self.open();
            let mut victim = None;
            for conn in open.values() {
                if !conn.busy() && !conn.evicted.swap(true, Ordering::Relaxed) {
                    victim = Some(Arc::clone(conn));
                    break;
                }
            }
            victim
        };
        victim?.evict.notify_one();
        tokio::time::timeout(ADMIT_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }
}

/// What a connection's task, its IO and its service share.
#[derive(Default)]
struct ConnState {
    /// Requests handed to the router.
    started: AtomicU64,
    /// Requests the router has answered.
    finished: AtomicU64,
    /// Set once the accept loop picked this connection to close.
    evicted: AtomicBool,
    /// Set when the router answered with `Connection: close` (`408`, `413`): the request was not
    /// read to its end, so the close lingers.
    linger: AtomicBool,
    /// Set once the connection has answered for the last time and is only draining.
    lingering: AtomicBool,
    /// Tells the connection's task to close it.
    evict: Notify,
}

impl ConnState {
    /// Whether the router is working on a request of this connection.
    fn busy(&self) -> bool {
        self.started.load(Ordering::Acquire) != self.finished.load(Ordering::Acquire)
    }
}

/// A connection's place among the open ones: its permit and its registry entry, both given
/// back when the connection's task ends.
struct Slot {
    id: u64,
    conn: Arc<ConnState>,
    connections: Arc<Connections>,
    _permit: OwnedSemaphorePermit,
}

impl Slot {
    fn register(connections: &Arc<Connections>, id: u64, permit: OwnedSemaphorePermit) -> Self {
        let conn = Arc::new(ConnState::default());
        connections.open().insert(id, Arc::clone(&conn));
        Self {
            id,
            conn,
            connections: Arc::clone(connections),
            _permit: permit,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connections.open().remove(&self.id);
    }
}

/// Counts a request as served from the router's call until its answer (or the connection's
/// end, if the request is abandoned).
struct Serving(Arc<ConnState>);

impl Serving {
    fn start(conn: &Arc<ConnState>) -> Self {
        conn.started.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(conn))
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::AcqRel);
    }
}

/// Serves one connection until it closes, is displaced, or the node shuts down.
async fn serve_connection(
    stream: TcpStream,
    router: Router,
    slot: Slot,
    mut shutdown: watch::Receiver<bool>,
) {
    let conn = Arc::clone(&slot.conn);
    let io = TokioIo::new(Deadlines::new(stream, Arc::clone(&conn)));
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let serving = Serving::start(&conn);
        let answer = router.clone().call(request.map(Body::new));
        let conn = Arc::clone(&conn);
        async move {
            let response: Result<Response<Body>, Infallible> = answer.await;
            if let Ok(response) = &response
                && response
                    .headers()
                    .get(header::CONNECTION)
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
            {
                conn.linger.store(true, Ordering::Release);
            }
            drop(serving);
            response
        }
    });
    let mut builder = http1::Builder::new();
    // `Deadlines` times request heads itself: hyper's own timeout would also close idle
    // keep-alive connections after the same few seconds, racing pooled clients.
    builder.header_read_timeout(None).keep_alive(true);
    let mut connection = pin!(builder.serve_connection(io, service));
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("control API connection closed: {e}");
                }
                break;
            }
            () = slot.conn.evict.notified() => {
                tracing::debug!("control API connection closed to admit a newer one");
                break;
            }
            _ = shutdown.wait_for(|stop| *stop), if !stopping => {
                if slot.conn.lingering.load(Ordering::Acquire)
                    || slot.conn.started.load(Ordering::Acquire) == 0
                {
                    // Its last answer is out and only its client's rest was being drained,
                    // or no request ever came (hyper would wait for one).
                    break;
                }
                // Finishes the request in progress, if any, then closes.
                connection.as_mut().graceful_shutdown();
                stopping = true;
            }
        }
    }
}

/// Where a connection is between requests, for its read deadline.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request; `served` once one was answered on this connection.
    Idle { since: Instant, served: bool },
    /// Some bytes of a request head arrived; the head must be complete by `deadline`.
    Head { deadline: Instant },
    /// The router has the request; its body has the router's deadline.
    Busy,
}

/// A TCP stream with the read deadlines of a request head and of an idle connection (see the
/// module documentation), and a lingering close.
struct Deadlines {
    stream: TcpStream,
    conn: Arc<ConnState>,
    phase: Phase,
    /// `ConnState::started` when last looked at.
    seen_started: u64,
    timer: Pin<Box<Sleep>>,
    /// The deadline `timer` is set to.
    armed: Option<Instant>,
    /// Whether everything written has been flushed, so an answer can be written here without
    /// interleaving with one of hyper's.
    flushed: bool,
    /// Bytes drained once closing (lingering); `None` before.
    drained: Option<usize>,
    /// Why reads fail once the lingering after a deadline is over.
    timed_out: Option<&'static str>,
}

impl Deadlines {
    fn new(stream: TcpStream, conn: Arc<ConnState>) -> Self {
        let now = Instant::now();
        Self {
            stream,
            conn,
            phase: Phase::Idle {
                since: now,
                served: false,
            },
            seen_started: 0,
            timer: Box::pin(tokio::time::sleep_until(now + HEADER_TIMEOUT)),
            armed: None,
            flushed: true,
            drained: None,
            timed_out: None,
        }
    }

    /// Catches up with the requests the router started and finished since the last read.
    fn sync(&mut self) {
        let started = self.conn.started.load(Ordering::Acquire);
        let finished = self.conn.finished.load(Ordering::Acquire);
        if started != finished {
            self.phase = Phase::Busy;
        } else if started != self.seen_started || matches!(self.phase, Phase::Busy) {
            self.phase = Phase::Idle {
                since: Instant::now(),
                served: true,
            };
        }
        self.seen_started = started;
    }

    /// Bytes arrived: a waiting connection now has a request head under way.
    fn on_bytes(&mut self) {
        if let Phase::Idle { since, served } = self.phase {
            // The first request's head is timed from the accept: a client must not gain time
            // by waiting before its first byte.
            let start = if served { Instant::now() } else { since };
            self.phase = Phase::Head {
                deadline: start + HEADER_TIMEOUT,
            };
        }
    }

    fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Idle {
                since,
                served: false,
            } => Some(since + HEADER_TIMEOUT),
            Phase::Idle {
                since,
                served: true,
            } => Some(since + KEEP_ALIVE_TIMEOUT),
            Phase::Head { deadline } => Some(deadline),
            Phase::Busy => None,
        }
    }

    /// `Ready` with the error to fail reads with once the deadline passed (after lingering, if
    /// the client was sending), else `Pending` with the timer armed.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if self.timed_out.is_none() {
            let Some(deadline) = self.deadline() else {
                return Poll::Pending;
            };
            if self.armed != Some(deadline) {
                self.timer.as_mut().reset(deadline);
                self.armed = Some(deadline);
            }
            ready!(self.timer.as_mut().poll(cx));
            let Phase::Head { .. } = self.phase else {
                // Nothing was sent, so nothing is left unread: just close.
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection idle too long",
                ));
            };
            // A request head under way: answer 408 (unless one of hyper's answers is still
            // being written), then linger, because the client is probably still sending.
            if self.flushed {
                let error = format!(
                    "request head (request line and headers) not received within \
                     {HEADER_TIMEOUT:?}; closing the connection"
                );
                let _ = self
                    .stream
                    .try_write(&canned_response(408, "Request Timeout", &error));
            }
            self.timed_out = Some("request head not complete in time");
            let _ = self.start_linger(cx);
        }
        ready!(self.poll_drain(cx));
        let what = self.timed_out.unwrap_or("timed out");
        Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, what))
    }

    /// Closes the sending side (FIN) and starts the lingering drain.
    fn start_linger(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(Pin::new(&mut self.stream).poll_shutdown(cx))?;
        self.drained = Some(0);
        self.conn.lingering.store(true, Ordering::Release);
        self.timer.as_mut().reset(Instant::now() + LINGER_TIMEOUT);
        self.armed = None;
        Poll::Ready(Ok(()))
    }

    /// Reads and discards what the client still sends until it closes, [`LINGER_BYTES`] were
    /// read or [`LINGER_TIMEOUT`] passed.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut scratch = [0u8; 8192];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(()),
                Poll::Ready(Ok(())) => {
                    let drained = self.drained.get_or_insert(0);
                    *drained += buf.filled().len();
                    if *drained > LINGER_BYTES {
                        return Poll::Ready(());
                    }
                }
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => return self.timer.as_mut().poll(cx),
            }
        }
    }
}

impl AsyncRead for Deadlines {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.timed_out.is_some() {
            return this.poll_deadline(cx).map(Err);
        }
        this.sync();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.on_bytes();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            // Data that is there always wins over an expired deadline: a node resumed after a
            // pause reads the requests that queued up meanwhile.
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }
}

impl AsyncWrite for Deadlines {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.flushed = false;
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.flushed = false;
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.stream).poll_flush(cx))?;
        this.flushed = true;
        Poll::Ready(Ok(()))
    }

    /// Hyper's close after its last answer: send FIN, then linger if the last request was
    /// answered before it was read to its end (see the module docs).
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.drained.is_none() {
            if !this.conn.linger.load(Ordering::Acquire) {
                return Pin::new(&mut this.stream).poll_shutdown(cx);
            }
            ready!(this.start_linger(cx))?;
        }
        this.poll_drain(cx).map(Ok)
    }
}
