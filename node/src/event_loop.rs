//! The only owner of the `Swarm`: turns swarm events into state and answers [`Command`]s.
//!
//! Follows rust-libp2p's file-sharing example: HTTP handlers hold a [`Client`], which sends
//! commands with a oneshot reply over a channel; pending DHT queries wait in maps keyed by
//! query id. Nothing here blocks except the deliberate, feature-gated fault delay.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use futures::StreamExt;
use libp2p::{
    Multiaddr, PeerId, Swarm, gossipsub, identify, kad,
    multiaddr::Protocol,
    swarm::{
        ConnectionId, SwarmEvent,
        dial_opts::{DialOpts, PeerCondition},
    },
};
use libp2p_metrics::Recorder;
use tokio::sync::{mpsc, oneshot, watch};

use crate::{
    api::{
        DhtGetResponse, DhtPutResponse, EventPage, Health, NodeEvent, NodeEventKind, PeerInfo,
        PublishResponse, ReceivedMessage, ReceivedPage,
    },
    fault,
    gossip_payload::{self, GossipHeader},
    indexed_log::IndexedLog,
    metrics::NodeMetrics,
    network::{MAX_GOSSIP_MESSAGE_BYTES, NodeBehaviour, NodeBehaviourEvent},
    peer_bound,
    time::unix_ns,
};

use libp2p::metrics as libp2p_metrics;

/// Most events and received messages kept for the runner to read; older ones are dropped
/// (and counted) so a long-running node cannot grow without bound.
const LOG_CAPACITY: usize = 1_000_000;

/// Errors of control operations, mapped to HTTP statuses by the control API.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OpError {
    /// The key or peer is not there.
    #[error("{0}")]
    NotFound(String),
    /// The request cannot be served in the node's current state.
    #[error("{0}")]
    Unavailable(String),
    /// The request was malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The operation ran out of time.
    #[error("{0}")]
    Timeout(String),
    /// The event loop has stopped.
    #[error("node is shutting down")]
    ShuttingDown,
}

/// A request from the control API to the event loop.
pub enum Command {
    /// Node status.
    Health(oneshot::Sender<Health>),
    /// Connected peers.
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    /// Whether a peer is connected.
    IsConnected(PeerId, oneshot::Sender<bool>),
    /// Store a record in the DHT.
    DhtPut {
        /// Record key.
        key: String,
        /// Record value.
        value: Vec<u8>,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<DhtPutResponse, OpError>>,
    },
    /// Look a record up in the DHT.
    DhtGet {
        /// Record key.
        key: String,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<DhtGetResponse, OpError>>,
    },
    /// Publish a gossip message.
    Publish {
        /// Payload size, bytes.
        size: usize,
        /// Runner's message id.
        id: String,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<PublishResponse, OpError>>,
    },
    /// Received gossip messages from an index on.
    Received(usize, oneshot::Sender<ReceivedPage>),
    /// Node events from an index on.
    Events(usize, oneshot::Sender<EventPage>),
}

/// A cheap, cloneable handle to the event loop.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
}

impl Client {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, OpError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| OpError::ShuttingDown)?;
        rx.await.map_err(|_| OpError::ShuttingDown)
    }

    /// Node status.
    pub async fn health(&self) -> Result<Health, OpError> {
        self.ask(Command::Health).await
    }
    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, OpError> {
        self.ask(Command::Peers).await
    }
    /// Whether `peer` is connected.
    pub async fn is_connected(&self, peer: PeerId) -> Result<bool, OpError> {
        self.ask(|reply| Command::IsConnected(peer, reply)).await
    }
    /// Stores `value` under `key` in the DHT.
    pub async fn dht_put(&self, key: String, value: Vec<u8>) -> Result<DhtPutResponse, OpError> {
        self.ask(|reply| Command::DhtPut { key, value, reply })
            .await?
    }
    /// Looks `key` up in the DHT.
    pub async fn dht_get(&self, key: String) -> Result<DhtGetResponse, OpError> {
        self.ask(|reply| Command::DhtGet { key, reply }).await?
    }
    /// Publishes a gossip message of `size` bytes carrying `id`.
    pub async fn publish(&self, size: usize, id: String) -> Result<PublishResponse, OpError> {
        self.ask(|reply| Command::Publish { size, id, reply })
            .await?
    }
    /// Gossip messages received, from index `since`.
    pub async fn received(&self, since: usize) -> Result<ReceivedPage, OpError> {
        self.ask(|reply| Command::Received(since, reply)).await
    }
    /// Node events, from index `since`.
    pub async fn events(&self, since: usize) -> Result<EventPage, OpError> {
        self.ask(|reply| Command::Events(since, reply)).await
    }
}

/// Settings the event loop needs beyond the swarm itself.
pub struct EventLoopConfig {
    /// Gossipsub topic.
    pub topic: String,
    /// Peers to join through.
    pub bootstrap: Vec<(PeerId, Multiaddr)>,
    /// Dial routing-table peers until this many are connected.
    pub target_peers: usize,
    /// Close surplus connections above this many peers (see [`peer_bound`]); `None`: no bound.
    pub max_peers: Option<usize>,
}

/// Delays after the first Kademlia bootstrap at which the node looks up its neighbourhood
/// again. The first lookup finds only the peers the bootstrap node had identified at that
/// moment: nodes that start together (or on a loaded machine, whose identify exchanges lag)
/// can miss each other, and libp2p's own periodic bootstrap is five minutes away. Four more
/// lookups of the node's own id within 15 s close that gap at a bounded cost: one lookup each,
/// not a full bootstrap (which also looks up a random key in every bucket and, in a network of
/// hundreds, dialed hundreds of peers per node).
const REDISCOVERY_DELAYS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::from_secs(7),
    Duration::from_secs(15),
];

/// First and largest pause before a node that has not reached a bootstrap peer (or has lost
/// every peer) dials its bootstrap peers again, doubling in between. Without it a node whose
/// bootstrap dial failed (a handshake that timed out on a loaded machine: measured, 61 of 250
/// nodes started at once) stayed alone for good, its routing table empty. Peers that dialed
/// the node do not count as having joined: at 1,000 nodes a bootstrap node whose own dial had
/// failed was found by the 30 nodes joining through it, and the 31 formed an island that no
/// message from the other 969 reached.
const REJOIN_FIRST: Duration = Duration::from_secs(1);
const REJOIN_MAX: Duration = Duration::from_secs(30);

/// Failed bootstrap dials kept for `/health`, the most recent.
const BOOTSTRAP_ERRORS_KEPT: usize = 32;

/// Pause between further neighbourhood lookups while a node has fewer than its target peers
/// after [`REDISCOVERY_DELAYS`].
const REDISCOVERY_RETRY: Duration = Duration::from_secs(10);

/// Owns the swarm and all node state.
pub struct EventLoop {
    swarm: Swarm<NodeBehaviour>,
    commands: mpsc::Receiver<Command>,
    topic: gossipsub::IdentTopic,
    bootstrap: Vec<(PeerId, Multiaddr)>,
    bootstrapped: bool,
    /// When to look up the neighbourhood again (see [`REDISCOVERY_DELAYS`]), earliest first.
    rediscovery: Vec<tokio::time::Instant>,
    bootstrap_errors: Vec<String>,
    target_peers: usize,
    max_peers: Option<usize>,
    /// When each connected peer's first open connection was established, and whether this
    /// node dialed it.
    peer_since: HashMap<PeerId, (tokio::time::Instant, bool)>,
    /// When to apply `max_peers` again (a spared peer's grace ends).
    trim_at: Option<tokio::time::Instant>,
    /// When to hand the memory of closed surplus connections back to the system.
    release_memory_at: Option<tokio::time::Instant>,
    /// While no peer is connected: when to dial the bootstrap peers again, and the pause
    /// after that (see [`REJOIN_FIRST`]).
    rejoin: Option<(tokio::time::Instant, Duration)>,
    started: Instant,
    listen_addrs: Vec<Multiaddr>,
    connections: HashMap<PeerId, Vec<(ConnectionId, Multiaddr)>>,
    dialing: HashSet<PeerId>,
    mesh_size: usize,
    /// Milestones already logged (see [`EventLoop::log_milestones`]).
    logged: Milestones,
    next_seq: u64,
    published: u64,
    received: IndexedLog<ReceivedMessage>,
    events: IndexedLog<NodeEvent>,
    pending_puts:
        HashMap<kad::QueryId, (Instant, oneshot::Sender<Result<DhtPutResponse, OpError>>)>,
    pending_gets: HashMap<kad::QueryId, PendingGet>,
    metrics: NodeMetrics,
    libp2p_metrics: libp2p_metrics::Metrics,
}

/// The namespace every implementation puts contract keys under (node contract v1): some DHTs
/// (js-libp2p's kad-dht) accept only `/<namespace>/<key>` records, and one shared mapping is
/// what lets implementations read each other's records in a mixed network.
pub const RECORD_NAMESPACE: &str = "/swarmbench/";

/// The Kademlia record key of a contract key: its UTF-8 bytes after [`RECORD_NAMESPACE`].
fn record_key(key: &str) -> kad::RecordKey {
    kad::RecordKey::new(&format!("{RECORD_NAMESPACE}{key}"))
}

/// The contract key of a Kademlia record key (the namespace removed).
fn contract_key(key: &kad::RecordKey) -> String {
    let text = String::from_utf8_lossy(key.as_ref());
    text.strip_prefix(RECORD_NAMESPACE)
        .unwrap_or(&text)
        .to_owned()
}

/// A `/dht/get` waiting for a record from a remote peer.
struct PendingGet {
    started: Instant,
    /// Whether this node held the record itself when the lookup began.
    local_hit: bool,
    reply: oneshot::Sender<Result<DhtGetResponse, OpError>>,
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listen address was refused.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// The topic could not be joined.
    #[error("cannot subscribe to topic {0}")]
    Subscribe(String),
}

impl EventLoop {
    /// Creates the event loop and its client.
    pub fn new(
        mut swarm: Swarm<NodeBehaviour>,
        config: EventLoopConfig,
        metrics: NodeMetrics,
        libp2p_metrics: libp2p_metrics::Metrics,
    ) -> Result<(Self, Client), StartError> {
        let topic = gossipsub::IdentTopic::new(config.topic);
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic)
            .map_err(|e| StartError::Subscribe(e.to_string()))?;
        let (tx, rx) = mpsc::channel(256);
        let event_loop = Self {
            swarm,
            commands: rx,
            topic,
            bootstrap: config.bootstrap,
            bootstrapped: false,
            rediscovery: Vec::new(),
            bootstrap_errors: Vec::new(),
            target_peers: config.target_peers,
            max_peers: config.max_peers,
            peer_since: HashMap::new(),
            trim_at: None,
            release_memory_at: None,
            rejoin: None,
            started: Instant::now(),
            listen_addrs: Vec::new(),
            connections: HashMap::new(),
            dialing: HashSet::new(),
            mesh_size: 0,
            logged: Milestones::default(),
            next_seq: 0,
            published: 0,
            received: IndexedLog::new(LOG_CAPACITY),
            events: IndexedLog::new(LOG_CAPACITY),
            pending_puts: HashMap::new(),
            pending_gets: HashMap::new(),
            metrics,
            libp2p_metrics,
        };
        Ok((event_loop, Client { commands: tx }))
    }

    /// A handle for opening and accepting raw protocol streams (used by `/perf/1.0.0`).
    pub fn stream_control(&self) -> libp2p_stream::Control {
        self.swarm.behaviour().stream.new_control()
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// Starts listening and waits until every listener reports an address.
    pub async fn listen(
        &mut self,
        addrs: &[Multiaddr],
        timeout: Duration,
    ) -> Result<Vec<Multiaddr>, StartError> {
        let mut waiting = HashSet::new();
        for addr in addrs {
            let id = self
                .swarm
                .listen_on(addr.clone())
                .map_err(|e| StartError::Listen {
                    addr: addr.clone(),
                    reason: e.to_string(),
                })?;
            waiting.insert((id, addr.clone()));
        }
        let deadline = tokio::time::Instant::now() + timeout;
        while !waiting.is_empty() {
            let event = tokio::time::timeout_at(deadline, self.swarm.select_next_some()).await;
            let Ok(event) = event else {
                let (_, addr) = waiting.into_iter().next().expect("non-empty");
                return Err(StartError::Listen {
                    addr,
                    reason: "no address reported in time".into(),
                });
            };
            match &event {
                SwarmEvent::NewListenAddr { listener_id, .. } => {
                    waiting.retain(|(id, _)| id != listener_id)
                }
                SwarmEvent::ListenerClosed {
                    listener_id,
                    reason: Err(e),
                    ..
                } => {
                    if let Some((_, addr)) = waiting.iter().find(|(id, _)| id == listener_id) {
                        return Err(StartError::Listen {
                            addr: addr.clone(),
                            reason: e.to_string(),
                        });
                    }
                }
                SwarmEvent::ListenerError { listener_id, error } => {
                    if let Some((_, addr)) = waiting.iter().find(|(id, _)| id == listener_id) {
                        return Err(StartError::Listen {
                            addr: addr.clone(),
                            reason: error.to_string(),
                        });
                    }
                }
                _ => {}
            }
            self.handle_swarm_event(event);
        }
        Ok(self.listen_addrs.clone())
    }

    /// Announces `--external` addresses and dials the bootstrap peers.
    pub fn join(&mut self, external: &[Multiaddr]) {
        for addr in external {
            self.swarm.add_external_address(addr.clone());
        }
        if self.bootstrap.is_empty() {
            tracing::info!("no bootstrap peers: waiting to be dialed");
        } else {
            tracing::info!(count = self.bootstrap.len(), "dialing bootstrap peers");
        }
        self.dial_bootstrap();
    }

    /// Dials every bootstrap peer (and puts it back in the routing table, which a failed
    /// dial removes it from).
    fn dial_bootstrap(&mut self) {
        for (peer, addr) in self.bootstrap.clone() {
            self.swarm
                .behaviour_mut()
                .kad
                .add_address(&peer, without_p2p(&addr));
            let opts = DialOpts::peer_id(peer)
                .addresses(vec![addr.clone()])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                self.record_bootstrap_error(&addr, &e.to_string());
            }
        }
    }

    /// Schedules dialing the bootstrap peers again while none has been reached.
    fn schedule_rejoin(&mut self) {
        if self.rejoin.is_none() && !self.bootstrapped && !self.bootstrap.is_empty() {
            self.rejoin = Some((tokio::time::Instant::now() + REJOIN_FIRST, REJOIN_FIRST));
        }
    }

    /// Dials the bootstrap peers again if none has been reached yet; the next attempt waits
    /// twice as long.
    fn rejoin(&mut self) {
        let Some((_, pause)) = self.rejoin.take() else {
            return;
        };
        if self.bootstrapped {
            return;
        }
        tracing::info!(
            after_s = pause.as_secs(),
            connected_peers = self.connections.len(),
            "not joined yet: dialing the bootstrap peers again"
        );
        self.dial_bootstrap();
        let next = (pause * 2).min(REJOIN_MAX);
        self.rejoin = Some((tokio::time::Instant::now() + next, next));
    }

    /// Runs until shutdown is signalled or every client is gone.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            // While the swarm always has an event ready, `select!` never returns to the runtime:
            // with `--current-thread` the control API's tasks would wait until the swarm went
            // quiet, which in a network forming on a saturated machine is minutes. Spending the
            // cooperative budget makes the loop yield every 128 rounds.
            tokio::task::consume_budget().await;
            let rediscover_at = self.rediscovery.first().copied();
            let trim_at = self.trim_at;
            let release_memory_at = self.release_memory_at;
            let rejoin_at = self.rejoin.map(|(at, _)| at);
            tokio::select! {
                event = self.swarm.select_next_some() => self.handle_swarm_event(event),
                () = tokio::time::sleep_until(rediscover_at.unwrap_or_else(tokio::time::Instant::now)),
                    if rediscover_at.is_some() => self.rediscover(),
                () = tokio::time::sleep_until(trim_at.unwrap_or_else(tokio::time::Instant::now)),
                    if trim_at.is_some() => self.trim_peers(),
                () = tokio::time::sleep_until(release_memory_at.unwrap_or_else(tokio::time::Instant::now)),
                    if release_memory_at.is_some() => {
                        self.release_memory_at = None;
                        peer_bound::release_freed_memory();
                    }
                () = tokio::time::sleep_until(rejoin_at.unwrap_or_else(tokio::time::Instant::now)),
                    if rejoin_at.is_some() => self.rejoin(),
                command = self.commands.recv() => match command {
                    Some(command) => self.handle_command(command),
                    None => break,
                },
                _ = shutdown.changed() => break,
            }
        }
        tracing::info!(
            uptime_s = self.started.elapsed().as_secs(),
            connected_peers = self.connections.len(),
            gossip_published = self.published,
            gossip_received = self.metrics.messages_received.get(),
            "event loop stopped"
        );
    }

    /// One scheduled neighbourhood lookup (see [`REDISCOVERY_DELAYS`]).
    fn rediscover(&mut self) {
        self.rediscovery.remove(0);
        let local = self.peer_id();
        self.swarm.behaviour_mut().kad.get_closest_peers(local);
        // Still short of peers after the schedule (its lookups failed on a loaded machine,
        // measured: 10 of 250 nodes kept only their bootstrap peer): go on looking.
        if self.rediscovery.is_empty() && self.connections.len() < self.target_peers {
            self.rediscovery
                .push(tokio::time::Instant::now() + REDISCOVERY_RETRY);
        }
    }

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::Health(reply) => {
                let _ = reply.send(self.health());
            }
            Command::Peers(reply) => {
                let peers = self
                    .connections
                    .iter()
                    .map(|(peer, conns)| PeerInfo {
                        peer_id: peer.to_string(),
                        addresses: conns.iter().map(|(_, a)| a.to_string()).collect(),
                    })
                    .collect();
                let _ = reply.send(peers);
            }
            Command::IsConnected(peer, reply) => {
                let _ = reply.send(self.connections.contains_key(&peer));
            }
            Command::DhtPut { key, value, reply } => {
                let record = kad::Record::new(record_key(&key), value);
                match self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .put_record(record, kad::Quorum::One)
                {
                    Ok(id) => {
                        self.pending_puts.insert(id, (Instant::now(), reply));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(OpError::Unavailable(format!(
                            "local store refused the record: {e}"
                        ))));
                    }
                }
            }
            Command::DhtGet { key, reply } => {
                let key = record_key(&key);
                let kad = &mut self.swarm.behaviour_mut().kad;
                let local_hit = kad::store::RecordStore::get(kad.store_mut(), &key).is_some();
                // libp2p-kad reports a record in the local store as the query's first result
                // and goes on to ask the closest peers: the answer waits for theirs.
                let started = Instant::now();
                let id = kad.get_record(key);
                self.pending_gets.insert(
                    id,
                    PendingGet {
                        started,
                        local_hit,
                        reply,
                    },
                );
            }
            Command::Publish { size, id, reply } => {
                let _ = reply.send(self.publish(size, id));
            }
            Command::Received(since, reply) => {
                let (messages, next) = self.received.since(since);
                let _ = reply.send(ReceivedPage { messages, next });
            }
            Command::Events(since, reply) => {
                let (events, next) = self.events.since(since);
                let _ = reply.send(EventPage { events, next });
            }
        }
    }

    fn health(&mut self) -> Health {
        let routing_table_size = self.routing_table_size();
        Health {
            peer_id: self.peer_id().to_string(),
            uptime_ms: self.started.elapsed().as_millis() as u64,
            connected_peers: self.connections.len(),
            routing_table_size,
            mesh_size: self.mesh_size,
            topic: self.topic.to_string(),
            listen_addrs: self.listen_addrs.iter().map(ToString::to_string).collect(),
            bootstrap_errors: self.bootstrap_errors.clone(),
            gossip_published: self.published,
            gossip_received: self.metrics.messages_received.get(),
        }
    }

    fn publish(&mut self, size: usize, id: String) -> Result<PublishResponse, OpError> {
        if size > MAX_GOSSIP_MESSAGE_BYTES {
            return Err(OpError::BadRequest(format!(
                "size {size} exceeds the largest gossip message, {MAX_GOSSIP_MESSAGE_BYTES} bytes"
            )));
        }
        let header = GossipHeader {
            seq: self.next_seq,
            sent_ns: unix_ns(),
            id,
        };
        let payload = header
            .encode(size)
            .map_err(|e| OpError::BadRequest(e.to_string()))?;
        let size = payload.len();
        let message_id = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(self.topic.clone(), payload)
            .map_err(|e| match e {
                gossipsub::PublishError::NoPeersSubscribedToTopic
                | gossipsub::PublishError::AllQueuesFull(_) => OpError::Unavailable(format!(
                    "cannot publish yet: {e}; wait until /health shows mesh_size > 0"
                )),
                other => OpError::BadRequest(format!("publish failed: {other}")),
            })?;
        self.next_seq += 1;
        self.published += 1;
        self.metrics.messages_sent.inc();
        Ok(PublishResponse {
            message_id: message_id.to_string(),
            seq: header.seq,
            sent_ns: header.sent_ns,
            size,
        })
    }

    fn handle_swarm_event(&mut self, event: SwarmEvent<NodeBehaviourEvent>) {
        self.libp2p_metrics.record(&event);
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                self.listen_addrs.push(address);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                established_in,
                ..
            } => {
                self.dialing.remove(&peer_id);
                let conns = self.connections.entry(peer_id).or_default();
                conns.push((connection_id, endpoint.get_remote_address().clone()));
                if conns.len() == 1 {
                    self.peer_since
                        .insert(peer_id, (tokio::time::Instant::now(), endpoint.is_dialer()));
                    let connected_peers = self.connections.len();
                    self.metrics.peer_count.set(connected_peers as i64);
                    let established_in_us = endpoint
                        .is_dialer()
                        .then_some(established_in.as_micros() as u64);
                    self.log_event(NodeEventKind::Connected {
                        peer: peer_id.to_string(),
                        connected_peers,
                        established_in_us,
                    });
                    self.log_milestones(peer_id);
                    self.bound_peers();
                }
                if !self.bootstrapped && self.bootstrap.iter().any(|(p, _)| *p == peer_id) {
                    self.bootstrapped = true;
                    self.rejoin = None;
                    if let Err(e) = self.swarm.behaviour_mut().kad.bootstrap() {
                        tracing::warn!("kademlia bootstrap not started: {e}");
                    }
                    let now = tokio::time::Instant::now();
                    self.rediscovery = REDISCOVERY_DELAYS.iter().map(|d| now + *d).collect();
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                if let Some(conns) = self.connections.get_mut(&peer_id) {
                    conns.retain(|(id, _)| *id != connection_id);
                }
                if num_established == 0 {
                    self.connections.remove(&peer_id);
                    self.peer_since.remove(&peer_id);
                    let connected_peers = self.connections.len();
                    self.metrics.peer_count.set(connected_peers as i64);
                    self.log_event(NodeEventKind::Disconnected {
                        peer: peer_id.to_string(),
                        connected_peers,
                    });
                    if connected_peers == 0 {
                        tracing::info!(last = %peer_id, "no peers connected any more");
                        // Join again from scratch when a bootstrap peer is back: the lookups
                        // of the first join may have failed with the connection.
                        self.bootstrapped = false;
                    }
                    self.top_up_connections();
                    self.schedule_rejoin();
                }
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                ..
            } => {
                self.dialing.remove(&peer);
                if let Some((_, addr)) = self.bootstrap.iter().find(|(p, _)| *p == peer).cloned() {
                    self.record_bootstrap_error(&addr, &error.to_string());
                }
                self.schedule_rejoin();
            }
            SwarmEvent::Behaviour(event) => self.handle_behaviour_event(event),
            _ => {}
        }
        self.track_mesh();
    }

    fn handle_behaviour_event(&mut self, event: NodeBehaviourEvent) {
        match event {
            NodeBehaviourEvent::Gossipsub(event) => {
                self.libp2p_metrics.record(&event);
                if let gossipsub::Event::Message { message, .. } = event {
                    self.on_gossip_message(message);
                }
            }
            NodeBehaviourEvent::Kad(event) => {
                self.libp2p_metrics.record(&event);
                self.on_kad_event(event);
            }
            NodeBehaviourEvent::Identify(event) => {
                self.libp2p_metrics.record(&event);
                if let identify::Event::Received { peer_id, info, .. } = event {
                    // Kademlia learns addresses only from identify's listen list and bootstrap,
                    // never from observed addresses (those bypass network emulation).
                    if info.protocols.contains(&kad::PROTOCOL_NAME) {
                        for addr in info.listen_addrs {
                            self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                        }
                    }
                }
            }
            NodeBehaviourEvent::Ping(event) => self.libp2p_metrics.record(&event),
            NodeBehaviourEvent::Stream(()) => {}
        }
    }

    fn on_gossip_message(&mut self, message: gossipsub::Message) {
        fault::inject_delay();
        let received_ns = unix_ns();
        let publisher = message.source.map(|p| p.to_string()).unwrap_or_default();
        match gossip_payload::received(&message.data, publisher, received_ns) {
            Ok(received) => {
                let latency_ns = received_ns.saturating_sub(received.sent_ns);
                self.metrics.messages_received.inc();
                self.metrics
                    .message_latency
                    .observe(latency_ns as f64 / 1e9);
                self.received.push(received);
            }
            Err(e) => tracing::warn!(source = ?message.source, "ignoring gossip message: {e}"),
        }
    }

    fn on_kad_event(&mut self, event: kad::Event) {
        match event {
            kad::Event::RoutingUpdated { peer, .. } => {
                let routing_table_size = self.routing_table_size();
                self.log_event(NodeEventKind::RoutingUpdated {
                    peer: peer.to_string(),
                    routing_table_size,
                });
                self.top_up_connections();
            }
            kad::Event::InboundRequest { .. } => fault::inject_delay(),
            kad::Event::OutboundQueryProgressed {
                id, result, stats, ..
            } => self.on_query_progress(id, result, &stats),
            _ => {}
        }
    }

    fn on_query_progress(
        &mut self,
        id: kad::QueryId,
        result: kad::QueryResult,
        stats: &kad::QueryStats,
    ) {
        match result {
            kad::QueryResult::PutRecord(result) => {
                let Some((started, reply)) = self.pending_puts.remove(&id) else {
                    return;
                };
                fault::inject_delay();
                let elapsed = started.elapsed();
                let answer = match result {
                    Ok(ok) => {
                        self.metrics.observe_dht("put", "ok", elapsed.as_secs_f64());
                        Ok(DhtPutResponse {
                            key: contract_key(&ok.key),
                            elapsed_us: elapsed.as_micros() as u64,
                        })
                    }
                    Err(e) => {
                        self.metrics
                            .observe_dht("put", "failed", elapsed.as_secs_f64());
                        Err(match e {
                            kad::PutRecordError::Timeout { .. } => {
                                OpError::Timeout(format!("dht put timed out: {e}"))
                            }
                            _ => OpError::Unavailable(format!(
                                "dht put failed: {e}; are any peers connected?"
                            )),
                        })
                    }
                };
                let _ = reply.send(answer);
            }
            kad::QueryResult::GetRecord(result) => self.on_get_progress(id, result, stats),
            _ => {}
        }
    }

    /// A `/dht/get` is answered by the first record a remote peer returns; the local store's
    /// copy (reported first by libp2p-kad, with no peer) only sets `local_hit`. A lookup that
    /// ends without a remote record is 404 even when the record is held locally: the request
    /// measures a lookup over the network, never a hash-map hit.
    fn on_get_progress(
        &mut self,
        id: kad::QueryId,
        result: Result<kad::GetRecordOk, kad::GetRecordError>,
        stats: &kad::QueryStats,
    ) {
        if let Ok(kad::GetRecordOk::FoundRecord(kad::PeerRecord { peer: None, .. })) = &result {
            return;
        }
        let Some(pending) = self.pending_gets.remove(&id) else {
            return;
        };
        fault::inject_delay();
        let elapsed = pending.started.elapsed();
        let answer = match result {
            Ok(kad::GetRecordOk::FoundRecord(kad::PeerRecord {
                peer: Some(peer),
                record,
            })) => {
                self.metrics.observe_dht("get", "ok", elapsed.as_secs_f64());
                // The first remote record answers the request; stop querying further peers.
                if let Some(mut query) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                    query.finish();
                }
                Ok(DhtGetResponse {
                    key: contract_key(&record.key),
                    value: String::from_utf8_lossy(&record.value).into_owned(),
                    from: peer.to_string(),
                    elapsed_us: elapsed.as_micros() as u64,
                    local_hit: pending.local_hit,
                    peers_queried: stats.num_requests(),
                })
            }
            Ok(kad::GetRecordOk::FoundRecord(kad::PeerRecord { peer: None, .. })) => {
                unreachable!("local records return above")
            }
            Ok(kad::GetRecordOk::FinishedWithNoAdditionalRecord { .. })
            | Err(kad::GetRecordError::NotFound { .. }) => {
                self.metrics
                    .observe_dht("get", "not_found", elapsed.as_secs_f64());
                Err(OpError::NotFound(if pending.local_hit {
                    "no remote peer returned the record (this node holds it, which a lookup does not count)".into()
                } else {
                    "no record under this key in the DHT".into()
                }))
            }
            Err(e @ kad::GetRecordError::Timeout { .. }) => {
                self.metrics
                    .observe_dht("get", "failed", elapsed.as_secs_f64());
                Err(OpError::Timeout(format!("dht get failed: {e}")))
            }
        };
        let _ = pending.reply.send(answer);
    }

    /// Dials routing-table peers until `target_peers` are connected or being dialed.
    fn top_up_connections(&mut self) {
        let mut budget = self
            .target_peers
            .saturating_sub(self.connections.len() + self.dialing.len());
        if budget == 0 {
            return;
        }
        let local = self.peer_id();
        let mut candidates = Vec::new();
        for bucket in self.swarm.behaviour_mut().kad.kbuckets() {
            for entry in bucket.iter() {
                let peer = *entry.node.key.preimage();
                if peer != local
                    && !self.connections.contains_key(&peer)
                    && !self.dialing.contains(&peer)
                {
                    candidates.push((peer, entry.node.value.clone().into_vec()));
                }
            }
        }
        for (peer, addrs) in candidates {
            if budget == 0 {
                break;
            }
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if self.swarm.dial(opts).is_ok() {
                self.dialing.insert(peer);
                budget -= 1;
            }
        }
    }

    /// Applies `--max-peers` now unless a later look is already scheduled.
    fn bound_peers(&mut self) {
        if self.trim_at.is_none()
            && self
                .max_peers
                .is_some_and(|max| self.connections.len() > max)
        {
            self.trim_peers();
        }
    }

    /// Closes the surplus peers [`peer_bound::trim`] picks and schedules the next look.
    fn trim_peers(&mut self) {
        self.trim_at = None;
        let Some(max) = self.max_peers else { return };
        let mesh: HashSet<PeerId> = self
            .swarm
            .behaviour()
            .gossipsub
            .mesh_peers(&self.topic.hash())
            .copied()
            .collect();
        let local = kad::KBucketKey::from(self.peer_id());
        let peers: Vec<peer_bound::Peer> = self
            .peer_since
            .iter()
            .map(|(id, &(since, dialed))| peer_bound::Peer {
                id: *id,
                since,
                in_mesh: mesh.contains(id),
                dialed,
                bucket: local
                    .distance(&kad::KBucketKey::from(*id))
                    .ilog2()
                    .unwrap_or(0),
            })
            .collect();
        let trim = peer_bound::trim(&peers, max, tokio::time::Instant::now());
        for peer in &trim.close {
            tracing::debug!(%peer, max_peers = max, "closing a surplus peer");
            self.metrics.peers_trimmed.inc();
            let _ = self.swarm.disconnect_peer_id(*peer);
        }
        if !trim.close.is_empty() {
            // Connections close over the next moments (their handlers finish first); one
            // release after the last batch.
            self.release_memory_at =
                Some(tokio::time::Instant::now() + peer_bound::RELEASE_MEMORY_AFTER);
        }
        self.trim_at = trim.again_at;
    }

    fn track_mesh(&mut self) {
        let mesh_size = self
            .swarm
            .behaviour()
            .gossipsub
            .mesh_peers(&self.topic.hash())
            .count();
        if mesh_size != self.mesh_size {
            self.mesh_size = mesh_size;
            // A peer that left the mesh may now be closable.
            self.bound_peers();
            self.log_event(NodeEventKind::MeshChanged { mesh_size });
            if mesh_size > 0 && !self.logged.mesh_formed {
                self.logged.mesh_formed = true;
                tracing::info!(
                    mesh_size,
                    after_ms = self.started.elapsed().as_millis() as u64,
                    "gossip mesh formed"
                );
            }
        }
    }

    fn routing_table_size(&mut self) -> usize {
        self.swarm
            .behaviour_mut()
            .kad
            .kbuckets()
            .map(|b| b.num_entries())
            .sum()
    }

    /// Logs the milestones of forming the network, each once (and the return of peers after
    /// all were lost): a few lines per node however many connections come and go.
    fn log_milestones(&mut self, peer: PeerId) {
        let connected_peers = self.connections.len();
        let after_ms = self.started.elapsed().as_millis() as u64;
        if connected_peers == 1 {
            if self.logged.first_peer {
                tracing::info!(%peer, "a peer connected again after all were lost");
            } else {
                tracing::info!(%peer, after_ms, "first peer connected");
            }
            self.logged.first_peer = true;
        }
        if connected_peers >= self.target_peers && !self.logged.target_peers {
            self.logged.target_peers = true;
            tracing::info!(connected_peers, after_ms, "target peer count reached");
        }
    }

    fn log_event(&mut self, kind: NodeEventKind) {
        self.events.push(NodeEvent {
            ts_ns: unix_ns(),
            kind,
        });
    }

    fn record_bootstrap_error(&mut self, addr: &Multiaddr, error: &str) {
        let line = format!(
            "bootstrap dial to {addr} failed: {}",
            error.replace('\n', " ")
        );
        tracing::error!("{line}");
        if self.bootstrap_errors.len() == BOOTSTRAP_ERRORS_KEPT {
            self.bootstrap_errors.remove(0);
        }
        self.bootstrap_errors.push(line);
    }
}

/// Which once-per-run lifecycle lines were logged.
#[derive(Debug, Default)]
struct Milestones {
    first_peer: bool,
    target_peers: bool,
    mesh_formed: bool,
}

/// `addr` without a trailing `/p2p/<peer-id>`.
fn without_p2p(addr: &Multiaddr) -> Multiaddr {
    addr.iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_peer_id_from_bootstrap_address() {
        let peer = PeerId::random();
        let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/1/p2p/{peer}").parse().unwrap();
        assert_eq!(
            without_p2p(&addr),
            "/ip4/127.0.0.1/tcp/1".parse::<Multiaddr>().unwrap()
        );
    }
}
