//! JSON bodies of the control API: the wire half of the node contract.
//!
//! **API Boundary.** The runner, and any other implementation of the contract, depend on these
//! field names and units. Add fields freely; never rename or change the unit of one.

use serde::{Deserialize, Serialize};

/// `GET /health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// This node's peer id.
    pub peer_id: String,
    /// Milliseconds since the node started.
    pub uptime_ms: u64,
    /// Peers with at least one open connection.
    pub connected_peers: usize,
    /// Peers in the Kademlia routing table.
    pub routing_table_size: usize,
    /// Peers in this node's gossipsub mesh for its topic.
    pub mesh_size: usize,
    /// The gossipsub topic.
    pub topic: String,
    /// Addresses the node listens on.
    pub listen_addrs: Vec<String>,
    /// Bootstrap dials that failed, one line each, oldest first.
    pub bootstrap_errors: Vec<String>,
    /// Gossip messages published by this node.
    pub gossip_published: u64,
    /// Gossip messages received by this node.
    pub gossip_received: u64,
}

/// One entry of `GET /peers`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The connected peer.
    pub peer_id: String,
    /// Remote address of each open connection to it.
    pub addresses: Vec<String>,
}

/// `POST /dht/put` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhtPutRequest {
    /// Record key (UTF-8).
    pub key: String,
    /// Record value (UTF-8).
    pub value: String,
}

/// `POST /dht/put` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DhtPutResponse {
    /// The key stored.
    pub key: String,
    /// Start of the put to the first remote peer confirming it (quorum one), microseconds.
    pub elapsed_us: u64,
}

/// `GET /dht/get/{key}` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DhtGetResponse {
    /// The key looked up.
    pub key: String,
    /// The value found.
    pub value: String,
    /// The remote peer whose record answered the lookup (never this node: the lookup skips
    /// the local store).
    pub from: String,
    /// Start of the lookup to the first record received from a remote peer, microseconds.
    pub elapsed_us: u64,
    /// Whether this node also held the record in its own store (not used for the answer).
    pub local_hit: bool,
    /// Kademlia requests the lookup had sent when the first remote record arrived: 1 to α (3)
    /// for a one-hop lookup, more as the lookup walks closer to the key.
    pub peers_queried: u32,
}

/// `POST /gossip/publish` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// Topic; must be the node's topic (default: it).
    #[serde(default)]
    pub topic: Option<String>,
    /// Payload size in bytes (padded; never smaller than the header).
    pub size: usize,
    /// The runner's message id, echoed by receivers.
    pub id: String,
}

/// `POST /gossip/publish` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishResponse {
    /// Gossipsub's message id.
    pub message_id: String,
    /// Per-publisher sequence number carried in the payload.
    pub seq: u64,
    /// Send time carried in the payload, unix nanoseconds.
    pub sent_ns: u64,
    /// Payload size actually sent, bytes.
    pub size: usize,
}

/// One gossip message as received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceivedMessage {
    /// The runner's message id from the payload.
    pub id: String,
    /// Publisher's peer id (gossipsub's verified source).
    pub publisher: String,
    /// Publisher's sequence number.
    pub seq: u64,
    /// Publisher's send time, unix nanoseconds.
    pub sent_ns: u64,
    /// This node's receive time, unix nanoseconds.
    pub received_ns: u64,
    /// Payload size, bytes.
    pub size: usize,
}

/// `GET /gossip/received?since=N` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceivedPage {
    /// Messages with index ≥ `since`, in receive order.
    pub messages: Vec<ReceivedMessage>,
    /// The `since` to pass next time.
    pub next: usize,
}

/// A timestamped change of the node's network state, for event-accurate timing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeEvent {
    /// When it happened, unix nanoseconds.
    pub ts_ns: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: NodeEventKind,
}

/// What a [`NodeEvent`] records.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeEventKind {
    /// First connection to a peer opened.
    Connected {
        /// The peer.
        peer: String,
        /// Total connected peers after this event.
        connected_peers: usize,
        /// Dial start to connection established, µs; only for connections this node dialed.
        #[serde(skip_serializing_if = "Option::is_none")]
        established_in_us: Option<u64>,
    },
    /// Last connection to a peer closed.
    Disconnected {
        /// The peer.
        peer: String,
        /// Total connected peers after this event.
        connected_peers: usize,
    },
    /// The routing table gained or refreshed a peer.
    RoutingUpdated {
        /// The peer.
        peer: String,
        /// Routing table size after this event.
        routing_table_size: usize,
    },
    /// The gossipsub mesh for the topic changed size.
    MeshChanged {
        /// Mesh size after this event.
        mesh_size: usize,
    },
}

/// `GET /events?since=N` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventPage {
    /// Events with index ≥ `since`, oldest first.
    pub events: Vec<NodeEvent>,
    /// The `since` to pass next time.
    pub next: usize,
}

/// `POST /perf` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerfRequest {
    /// The connected peer to measure against.
    pub peer: String,
    /// Bytes to send to the peer.
    pub upload_bytes: u64,
    /// Bytes to ask the peer to send back.
    pub download_bytes: u64,
}

/// `POST /perf` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PerfResponse {
    /// The peer measured against.
    pub peer: String,
    /// Bytes sent.
    pub upload_bytes: u64,
    /// Bytes received.
    pub download_bytes: u64,
    /// Stream open to last byte received, microseconds.
    pub elapsed_us: u64,
}

/// Body of every 4xx/5xx answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong and, where possible, what to do about it.
    pub error: String,
}
