//! Wiring: build the swarm, listen, serve the control API, print the ready line, run until stopped.
//!
//! The ready line is the only thing the node ever writes to stdout; it is printed after both
//! the swarm listeners and the control socket are bound, so a runner may use them at once.

use std::{io::Write, sync::Arc, time::Duration};

use prometheus_client::registry::Registry;
use serde_json::json;
use tokio::{net::TcpListener, sync::watch};

use crate::{
    config::{ConfigError, NodeConfig},
    control::{self, ControlState},
    event_loop::{EventLoop, EventLoopConfig, StartError},
    metrics::NodeMetrics,
    network::{self, BuildError, SwarmOptions},
    perf_protocol, serve,
};

/// How long listeners get to report their addresses at start.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// The node contract version this node speaks (node/README.md).
pub const CONTRACT_VERSION: u32 = 1;
/// The contract's optional parts this node implements.
pub const CAPABILITIES: [&str; 3] = ["perf", "metrics", "events"];

/// Why the node stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The swarm could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Listening or subscribing failed.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The control API socket could not be bound or served.
    #[error("control API on {addr}: {source}")]
    Control {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// stdout is gone, so the ready line cannot be delivered.
    #[error("cannot write the ready line to stdout: {0}")]
    Stdout(std::io::Error),
}

/// Runs a node until SIGTERM, SIGINT or `POST /shutdown`.
pub async fn run(config: NodeConfig) -> Result<(), NodeError> {
    let bootstrap = config.validate()?;
    #[cfg(feature = "fault-injection")]
    crate::fault::set_delay_us(config.inject_delay_us);

    let mut registry = Registry::default();
    let options = SwarmOptions {
        key_seed: config.key_seed,
        hide_listen_addrs: !config.external.is_empty(),
        idle_timeout: Duration::from_secs(config.idle_timeout_s),
        kad_replication: config.kad_replication_factor,
    };
    let swarm = network::build_swarm(&options, &mut registry)?;
    tracing::info!(
        peer_id = %swarm.local_peer_id(),
        transport = config.transport.as_str(),
        version = env!("CARGO_PKG_VERSION"),
        "starting"
    );
    let libp2p_metrics = libp2p::metrics::Metrics::new(&mut registry);
    let node_metrics = NodeMetrics::register(&mut registry);

    let loop_config = EventLoopConfig {
        topic: config.topic.clone(),
        bootstrap,
        target_peers: config.target_peers,
        max_peers: config.max_peers,
    };
    let (mut event_loop, client) =
        EventLoop::new(swarm, loop_config, node_metrics, libp2p_metrics)?;
    let listen_addrs = event_loop
        .listen(&config.listen_addrs(), LISTEN_TIMEOUT)
        .await?;
    let streams = event_loop.stream_control();
    tokio::spawn(perf_protocol::serve(streams.clone()));

    let listener =
        TcpListener::bind(config.control)
            .await
            .map_err(|source| NodeError::Control {
                addr: config.control,
                source,
            })?;
    let control_addr = listener.local_addr().map_err(|source| NodeError::Control {
        addr: config.control,
        source,
    })?;

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    spawn_signal_handler(shutdown_tx.clone());
    let state = ControlState {
        client,
        streams,
        registry: Arc::new(registry),
        topic: config.topic.clone(),
        shutdown: shutdown_tx,
    };
    let http = tokio::spawn(serve::serve(
        listener,
        control::router(state),
        shutdown_rx.clone(),
    ));

    let ready = json!({
        "event": "ready",
        "peer_id": event_loop.peer_id().to_string(),
        "listen_addrs": listen_addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "control": format!("http://{control_addr}"),
        "transport": config.transport.as_str(),
        "version": env!("CARGO_PKG_VERSION"),
        "contract": CONTRACT_VERSION,
        "capabilities": CAPABILITIES,
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{ready}")
        .and_then(|()| stdout.flush())
        .map_err(NodeError::Stdout)?;
    drop(stdout);
    tracing::info!(control = %format!("http://{control_addr}"), "ready");

    event_loop.join(&config.external);
    event_loop.run(shutdown_rx).await;
    // In-flight HTTP requests get a moment to finish; the contract allows 2 s for the whole exit.
    let _ = tokio::time::timeout(Duration::from_millis(500), http).await;
    tracing::info!("stopped");
    Ok(())
}

/// Installs the SIGTERM/SIGINT handlers *now*, before the ready line is printed, and spawns
/// the task that waits on them. (Installing them inside the task left a window after the
/// ready line in which a SIGTERM still killed the node with the default action: a runner
/// stopping a node right after start saw a signal death instead of exit 0.)
fn spawn_signal_handler(shutdown: watch::Sender<bool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the node with POST /shutdown");
        return;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
        let _ = shutdown.send(true);
    });
}
