//! Building the libp2p swarm: identity, transports, and the composed behaviour.
//!
//! QUIC and TCP+noise+yamux are both compiled in; which one listens is the caller's choice.
//! Bandwidth counters wrap both transports so protocol chattiness shows up in `/metrics`.

use std::time::Duration;

use libp2p::{
    Swarm, SwarmBuilder, gossipsub, identify, identity, kad, noise, ping, swarm::NetworkBehaviour,
    tcp, yamux,
};
use prometheus_client::registry::Registry;

/// Protocol version announced by identify; peers with another version are still accepted.
pub const IDENTIFY_PROTOCOL: &str = "/swarmbench/1.0.0";
/// Largest gossip message accepted or published, bytes.
pub const MAX_GOSSIP_MESSAGE_BYTES: usize = 1 << 20;
/// Largest DHT value stored, bytes.
pub const MAX_DHT_VALUE_BYTES: usize = 1 << 20;

/// Every protocol the node speaks.
#[derive(NetworkBehaviour)]
pub struct NodeBehaviour {
    /// Kademlia DHT in server mode.
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    /// Gossipsub with signed messages.
    pub gossipsub: gossipsub::Behaviour,
    /// Identify; announces only external addresses when listen addresses are hidden.
    pub identify: identify::Behaviour,
    /// Ping keeps liveness and reports RTT.
    pub ping: ping::Behaviour,
    /// Raw streams, used for the `/perf/1.0.0` protocol.
    pub stream: libp2p_stream::Behaviour,
}

/// Options that shape the swarm.
#[derive(Debug, Clone)]
pub struct SwarmOptions {
    /// Seed for a reproducible identity; random when `None`.
    pub key_seed: Option<u64>,
    /// Hide listen addresses from identify (only external addresses are announced).
    pub hide_listen_addrs: bool,
    /// Close connections idle this long.
    pub idle_timeout: Duration,
    /// Kademlia's replication factor: how many of the closest peers store a record and how
    /// many a lookup seeks.
    pub kad_replication: std::num::NonZeroUsize,
}

/// Why the swarm could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The transport stack failed to initialise.
    #[error("transport setup failed: {0}")]
    Transport(String),
    /// A behaviour rejected its configuration.
    #[error("behaviour setup failed: {0}")]
    Behaviour(String),
}

/// Derives an ed25519 keypair from a seed, or makes a random one.
pub fn keypair(seed: Option<u64>) -> identity::Keypair {
    match seed {
        Some(seed) => {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            identity::Keypair::ed25519_from_bytes(bytes)
                .expect("32 bytes is a valid ed25519 secret")
        }
        None => identity::Keypair::generate_ed25519(),
    }
}

/// Pays the TLS stack's one-time initialisation (aws-lc-rs, which libp2p-tls and quinn use)
/// by building a throwaway client session: certificate generation, signing, key shares.
///
/// Measured on the 2-core dev machine: the first QUIC handshake of a fresh process otherwise
/// spends about 22 ms per side in this initialisation, which put 44 ms on the critical path of
/// every node's first connection. Run on a background thread at start, it overlaps with startup.
pub fn warm_up_tls() {
    let keypair = identity::Keypair::generate_ed25519();
    if let Ok(config) = libp2p::tls::make_client_config(&keypair, None) {
        let name = rustls::pki_types::ServerName::try_from("l").expect("static server name");
        let _ = rustls::ClientConnection::new(std::sync::Arc::new(config), name);
    }
}

/// Builds the swarm and registers libp2p's metrics (bandwidth included) in `registry`.
pub fn build_swarm(
    options: &SwarmOptions,
    registry: &mut Registry,
) -> Result<Swarm<NodeBehaviour>, BuildError> {
    let swarm = SwarmBuilder::with_existing_identity(keypair(options.key_seed))
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| BuildError::Transport(e.to_string()))?
        .with_quic()
        .with_bandwidth_metrics(registry)
        .with_behaviour(|key| behaviour(key, options))
        .map_err(|e| BuildError::Behaviour(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(options.idle_timeout))
        .build();
    Ok(swarm)
}

fn behaviour(
    key: &identity::Keypair,
    options: &SwarmOptions,
) -> Result<NodeBehaviour, Box<dyn std::error::Error + Send + Sync>> {
    let peer_id = key.public().to_peer_id();
    let hide_listen_addrs = options.hide_listen_addrs;

    let mut kad_config = kad::Config::new(kad::PROTOCOL_NAME);
    kad_config.set_query_timeout(Duration::from_secs(10));
    kad_config.set_replication_factor(options.kad_replication);
    let store_config = kad::store::MemoryStoreConfig {
        max_records: 100_000,
        max_value_bytes: MAX_DHT_VALUE_BYTES,
        ..Default::default()
    };
    let mut kad = kad::Behaviour::with_config(
        peer_id,
        kad::store::MemoryStore::with_config(peer_id, store_config),
        kad_config,
    );
    // Server mode always: loopback nodes have no confirmed external address, and every node
    // must answer DHT queries for the network to form.
    kad.set_mode(Some(kad::Mode::Server));

    let gossipsub_config = gossipsub::ConfigBuilder::default()
        .max_transmit_size(MAX_GOSSIP_MESSAGE_BYTES + 1024)
        .validation_mode(gossipsub::ValidationMode::Strict)
        .build()?;
    let gossipsub = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(key.clone()),
        gossipsub_config,
    )?;

    let identify = identify::Behaviour::new(
        identify::Config::new(IDENTIFY_PROTOCOL.to_owned(), key.public())
            .with_agent_version(format!("swarm-node/{}", env!("CARGO_PKG_VERSION")))
            .with_hide_listen_addrs(hide_listen_addrs),
    );

    Ok(NodeBehaviour {
        kad,
        gossipsub,
        identify,
        ping: ping::Behaviour::default(),
        stream: libp2p_stream::Behaviour::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_peer_id_different_seed_different_id() {
        let a = keypair(Some(1)).public().to_peer_id();
        let b = keypair(Some(1)).public().to_peer_id();
        let c = keypair(Some(2)).public().to_peer_id();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
