//! Command-line configuration of swarm-node: the "Start" part of the node contract.
//!
//! Everything defaults to port 0 on 127.0.0.1, so the runner never picks ports and parallel
//! runs never collide. Validation that clap cannot express (a bootstrap address must name its
//! peer) lives in [`NodeConfig::validate`].

use std::net::SocketAddr;

use clap::{Parser, ValueEnum};
use libp2p::{Multiaddr, PeerId, multiaddr::Protocol};

/// Transport stack a node listens on. Both are compiled in; this picks the default listen address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportKind {
    /// QUIC v1 over UDP (TLS 1.3 built in).
    Quic,
    /// TCP with the noise handshake and the yamux multiplexer.
    Tcp,
}

impl TransportKind {
    /// The loopback listen address on an OS-assigned port for this transport.
    pub fn default_listen_addr(self) -> Multiaddr {
        match self {
            TransportKind::Quic => "/ip4/127.0.0.1/udp/0/quic-v1"
                .parse()
                .expect("valid multiaddr"),
            TransportKind::Tcp => "/ip4/127.0.0.1/tcp/0".parse().expect("valid multiaddr"),
        }
    }

    /// The name used in the ready line and `/health`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Quic => "quic",
            TransportKind::Tcp => "tcp",
        }
    }
}

/// swarm-node: a lean headless libp2p node driven over an HTTP control API.
///
/// Prints one JSON ready line on stdout, logs to stderr (RUST_LOG), exits 0 on SIGTERM.
/// See the node contract in node/README.md.
#[derive(Debug, Clone, Parser)]
#[command(name = "swarm-node", version, about, long_about = None)]
pub struct NodeConfig {
    /// Address to listen on (repeatable). Default: 127.0.0.1 on port 0 for the chosen transport
    #[arg(long = "listen", value_name = "MULTIADDR")]
    pub listen: Vec<Multiaddr>,

    /// Peer to join through, ending in /p2p/<peer-id> (repeatable)
    #[arg(long = "bootstrap", value_name = "MULTIADDR")]
    pub bootstrap: Vec<Multiaddr>,

    /// Address to announce instead of the listen addresses (repeatable). When given, identify
    /// hides the listen addresses, so peers only ever learn these (needed by network emulation)
    #[arg(long = "external", value_name = "MULTIADDR")]
    pub external: Vec<Multiaddr>,

    /// Address of the HTTP control API
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    pub control: SocketAddr,

    /// Derive the ed25519 identity from this seed, for a reproducible peer id
    #[arg(long, value_name = "U64")]
    pub key_seed: Option<u64>,

    /// Gossipsub topic to subscribe to and publish on
    #[arg(long, value_name = "NAME", default_value = "swarmbench")]
    pub topic: String,

    /// Transport used for the default listen address
    #[arg(long, value_enum, default_value_t = TransportKind::Quic)]
    pub transport: TransportKind,

    /// Dial peers found in the routing table until this many are connected
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub target_peers: usize,

    /// Keep at most this many peers connected: surplus connections (those a lookup opened)
    /// are closed once 10 s old, gossip mesh peers never. Default: no bound
    #[arg(long, value_name = "N")]
    pub max_peers: Option<usize>,

    /// Kademlia replication factor: the closest peers that store a record, and that a lookup
    /// seeks (libp2p's default 20). A small value in a small network makes lookups walk
    /// several hops, as they would among thousands of nodes
    #[arg(long, value_name = "N", default_value = "20")]
    pub kad_replication_factor: std::num::NonZeroUsize,

    /// Run everything on one thread (smaller, and fairer when many nodes share few cores)
    #[arg(long)]
    pub current_thread: bool,

    /// Close connections that have had no open stream for this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub idle_timeout_s: u64,

    /// Busy-wait this many microseconds in the handling of every gossip message and DHT
    /// request (fault-injection builds only; validates the regression gate)
    #[cfg(feature = "fault-injection")]
    #[arg(long, value_name = "MICROSECONDS", default_value_t = 0)]
    pub inject_delay_us: u64,
}

/// A configuration that parsed but cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A bootstrap address must say which peer it reaches.
    #[error(
        "bootstrap address {0} does not end in /p2p/<peer-id>; append the peer id printed in that node's ready line"
    )]
    BootstrapWithoutPeerId(Multiaddr),
    /// The topic name must not be empty.
    #[error("--topic must not be empty")]
    EmptyTopic,
    /// The bound would close connections that `--target-peers` then dials again.
    #[error(
        "--max-peers {max} is below --target-peers {target}: the node would close connections only to dial them again"
    )]
    MaxBelowTarget {
        /// `--max-peers`.
        max: usize,
        /// `--target-peers`.
        target: usize,
    },
}

impl NodeConfig {
    /// Checks what clap cannot: returns the bootstrap peers with their addresses.
    pub fn validate(&self) -> Result<Vec<(PeerId, Multiaddr)>, ConfigError> {
        if self.topic.is_empty() {
            return Err(ConfigError::EmptyTopic);
        }
        if let Some(max) = self.max_peers
            && max < self.target_peers
        {
            return Err(ConfigError::MaxBelowTarget {
                max,
                target: self.target_peers,
            });
        }
        self.bootstrap
            .iter()
            .map(|addr| match addr.iter().last() {
                Some(Protocol::P2p(peer)) => Ok((peer, addr.clone())),
                _ => Err(ConfigError::BootstrapWithoutPeerId(addr.clone())),
            })
            .collect()
    }

    /// The listen addresses to use: the given ones, or the transport's loopback default.
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        if self.listen.is_empty() {
            vec![self.transport.default_listen_addr()]
        } else {
            self.listen.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<NodeConfig, clap::Error> {
        NodeConfig::try_parse_from(std::iter::once("swarm-node").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_listen_on_loopback_quic_port_zero() {
        let config = parse(&[]).unwrap();
        assert_eq!(
            config.listen_addrs(),
            vec!["/ip4/127.0.0.1/udp/0/quic-v1".parse::<Multiaddr>().unwrap()]
        );
        assert_eq!(config.control.port(), 0);
    }

    #[test]
    fn tcp_transport_changes_default_listen_addr() {
        let config = parse(&["--transport", "tcp"]).unwrap();
        assert_eq!(
            config.listen_addrs(),
            vec!["/ip4/127.0.0.1/tcp/0".parse::<Multiaddr>().unwrap()]
        );
    }

    #[test]
    fn invalid_multiaddr_is_rejected_naming_the_flag() {
        let err = parse(&["--listen", "not-an-addr"]).unwrap_err().to_string();
        assert!(err.contains("--listen"), "{err}");
    }

    #[test]
    fn bootstrap_without_peer_id_is_rejected() {
        let config = parse(&["--bootstrap", "/ip4/127.0.0.1/udp/4001/quic-v1"]).unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("/p2p/<peer-id>"), "{err}");
    }

    #[test]
    fn max_peers_below_target_peers_is_refused_naming_both() {
        let config = parse(&["--target-peers", "8", "--max-peers", "4"]).unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains("--max-peers 4") && err.contains("--target-peers 8"),
            "{err}"
        );
        let config = parse(&["--target-peers", "8", "--max-peers", "8"]).unwrap();
        assert!(config.validate().is_ok());
    }

    #[test]
    fn bootstrap_with_peer_id_yields_the_peer() {
        let peer = PeerId::random();
        let addr = format!("/ip4/127.0.0.1/udp/4001/quic-v1/p2p/{peer}");
        let config = parse(&["--bootstrap", &addr]).unwrap();
        let peers = config.validate().unwrap();
        assert_eq!(peers[0].0, peer);
    }
}
