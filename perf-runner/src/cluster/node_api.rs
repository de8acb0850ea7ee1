//! Client for the node contract's control API (see node/README.md).
//!
//! The runner knows nodes only through these calls, so any implementation that speaks the
//! contract can be measured. Types here mirror the contract's JSON and ignore extra fields.

use std::time::Duration;

use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};

/// A failed control call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No answer (connection refused, timeout). The message names the cause: reqwest's own
    /// says only "error sending request".
    #[error("{url}: {}", transport_cause(source))]
    Transport {
        /// The URL.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The node answered with an error status.
    #[error("{url}: HTTP {status}: {message}")]
    Status {
        /// The URL.
        url: String,
        /// Status code.
        status: u16,
        /// The node's `error` text, or the body.
        message: String,
    },
    /// The body did not have the contract's shape.
    #[error("{url}: unexpected body: {message}")]
    Body {
        /// The URL.
        url: String,
        /// Why.
        message: String,
    },
}

/// What went wrong with a request that got no answer: a timeout, or the innermost cause
/// (connection refused, reset).
fn transport_cause(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "no answer before the call's timeout".to_owned();
    }
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    format!("{error}: {cause}")
}

impl ApiError {
    /// The HTTP status, if the node answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the call got no answer before its timeout (the node may be slow, not gone).
    pub fn is_timeout(&self) -> bool {
        matches!(self, ApiError::Transport { source, .. } if source.is_timeout())
    }
}

/// `/health`.
#[derive(Debug, Clone, Deserialize)]
pub struct Health {
    /// Connected peers.
    pub connected_peers: usize,
    /// Routing table size.
    pub routing_table_size: usize,
    /// Gossip mesh size.
    pub mesh_size: usize,
}

/// One `/events` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct NodeEvent {
    /// Unix ns.
    pub ts_ns: u64,
    /// `connected`, `disconnected`, `routing_updated`, `mesh_changed`, or something newer.
    pub kind: String,
    /// Connected peers after the event (connection events).
    #[serde(default)]
    pub connected_peers: Option<usize>,
    /// Mesh size after the event (`mesh_changed`).
    #[serde(default)]
    pub mesh_size: Option<usize>,
    /// Dial-to-established time of an outbound connection, µs (`connected`, when known).
    #[serde(default)]
    pub established_in_us: Option<u64>,
}

/// `/gossip/received` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    /// Runner's message id.
    pub id: String,
    /// Publisher peer id.
    pub publisher: String,
    /// Publisher sequence number.
    pub seq: u64,
    /// Send time, unix ns.
    pub sent_ns: u64,
    /// Receive time, unix ns.
    pub received_ns: u64,
}

/// What `POST /gossip/publish` answers.
#[derive(Debug, Clone, Deserialize)]
pub struct Published {
    /// The publisher's sequence number carried in the payload.
    pub seq: u64,
    /// The send time carried in the payload, unix ns.
    pub sent_ns: u64,
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(alias = "events", alias = "messages")]
    items: Vec<T>,
    next: usize,
}

/// `/dht/get` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct DhtGet {
    /// Value found.
    pub value: String,
    /// The remote peer whose record answered. `None` (an implementation that answers from its
    /// own store) makes the get a local answer, which is not a lookup latency.
    pub from: Option<String>,
    /// Node-measured time from the request to the first remote record, µs.
    pub elapsed_us: u64,
    /// Whether the getter also held the record itself; optional in the contract.
    #[serde(default)]
    pub local_hit: Option<bool>,
    /// Kademlia requests sent when the first remote record arrived; optional in the contract.
    #[serde(default)]
    pub peers_queried: Option<u32>,
}

/// A handle on one node's control API.
#[derive(Clone)]
pub struct NodeApi {
    base: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Elapsed {
    elapsed_us: u64,
}

impl NodeApi {
    /// A client for the node whose ready line named `base` (e.g. `http://127.0.0.1:4000`).
    pub fn new(base: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .expect("static client config");
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        url: String,
    ) -> Result<T, ApiError> {
        let response = request.send().await.map_err(|source| ApiError::Transport {
            url: url.clone(),
            source,
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|source| ApiError::Transport {
                url: url.clone(),
                source,
            })?;
        if !status.is_success() {
            let message = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            return Err(ApiError::Status {
                url,
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_slice(&body).map_err(|e| ApiError::Body {
            url,
            message: e.to_string(),
        })
    }

    /// A GET, sent a second time when the first found its pooled connection closed under it
    /// (the node closed an idle keep-alive connection as the request went out: a race every
    /// HTTP client meets, frequent when a starved node's request deadline fires before it
    /// reads a request that had arrived). A GET is safe to repeat; a timeout is not retried.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let url = format!("{}{path}", self.base);
        match self.call(self.http.get(&url), url.clone()).await {
            Err(ApiError::Transport { source, .. }) if !source.is_timeout() => {
                self.call(self.http.get(&url), url).await
            }
            result => result,
        }
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: Value) -> Result<T, ApiError> {
        let url = format!("{}{path}", self.base);
        self.call(self.http.post(&url).json(&body), url).await
    }

    /// `GET path` as untyped JSON, for checking a node's answers against the contract.
    pub async fn get_json(&self, path: &str) -> Result<Value, ApiError> {
        self.get(path).await
    }

    /// `POST path` with a JSON body, the answer as untyped JSON.
    pub async fn post_json(&self, path: &str, body: Value) -> Result<Value, ApiError> {
        self.post(path, body).await
    }

    /// Any request, sent as given (`body` with its content type), answered by status and body
    /// whatever they are: for checking how a node answers requests it must refuse.
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<(u16, Vec<u8>), ApiError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url);
        if let Some((content_type, bytes)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        let transport = |source| ApiError::Transport {
            url: url.clone(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(transport)?;
        Ok((status, bytes.to_vec()))
    }

    /// `GET /health`.
    pub async fn health(&self) -> Result<Health, ApiError> {
        self.get("/health").await
    }

    /// `GET /peers`: ids of connected peers.
    pub async fn peers(&self) -> Result<Vec<String>, ApiError> {
        #[derive(Deserialize)]
        struct Peer {
            peer_id: String,
        }
        let peers: Vec<Peer> = self.get("/peers").await?;
        Ok(peers.into_iter().map(|p| p.peer_id).collect())
    }

    /// `GET /peers` with the remote address of each connection: (peer id, addresses).
    pub async fn peer_addresses(&self) -> Result<Vec<(String, Vec<String>)>, ApiError> {
        #[derive(Deserialize)]
        struct Peer {
            peer_id: String,
            addresses: Vec<String>,
        }
        let peers: Vec<Peer> = self.get("/peers").await?;
        Ok(peers
            .into_iter()
            .map(|p| (p.peer_id, p.addresses))
            .collect())
    }

    /// `GET /events?since=N`, all pages.
    pub async fn events(&self) -> Result<Vec<NodeEvent>, ApiError> {
        self.all_pages("/events").await
    }

    /// `GET /gossip/received?since=N`, all pages.
    pub async fn received(&self) -> Result<Vec<Received>, ApiError> {
        self.all_pages("/gossip/received").await
    }

    async fn all_pages<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ApiError> {
        let mut all = Vec::new();
        loop {
            let page: Page<T> = self.get(&format!("{path}?since={}", all.len())).await?;
            let done = page.items.is_empty() || page.next <= all.len() + page.items.len();
            all.extend(page.items);
            if done {
                return Ok(all);
            }
        }
    }

    /// `POST /dht/put`: node-measured µs.
    pub async fn dht_put(&self, key: &str, value: &str) -> Result<u64, ApiError> {
        let r: Elapsed = self
            .post("/dht/put", json!({"key": key, "value": value}))
            .await?;
        Ok(r.elapsed_us)
    }

    /// `GET /dht/get/{key}`.
    pub async fn dht_get(&self, key: &str) -> Result<DhtGet, ApiError> {
        self.get(&format!("/dht/get/{key}")).await
    }

    /// `POST /gossip/publish`.
    pub async fn publish(&self, size: usize, id: &str) -> Result<Published, ApiError> {
        self.post("/gossip/publish", json!({"size": size, "id": id}))
            .await
    }

    /// `POST /perf`: node-measured µs for an upload of `bytes`.
    pub async fn perf_upload(&self, peer: &str, bytes: u64) -> Result<u64, ApiError> {
        let r: Elapsed = self
            .post(
                "/perf",
                json!({"peer": peer, "upload_bytes": bytes, "download_bytes": 0}),
            )
            .await?;
        Ok(r.elapsed_us)
    }

    /// `GET /metrics` as text. An error status is an error, never a body to parse: a node
    /// without the endpoint answers 404, and its page says nothing about its counters.
    pub async fn metrics_text(&self) -> Result<String, ApiError> {
        let url = format!("{}/metrics", self.base);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|source| ApiError::Transport {
                url: url.clone(),
                source,
            })?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|source| ApiError::Transport {
                url: url.clone(),
                source,
            })?;
        if !status.is_success() {
            return Err(ApiError::Status {
                url,
                status: status.as_u16(),
                message: text.chars().take(200).collect(),
            });
        }
        Ok(text)
    }
}

/// Sums every sample of a Prometheus counter family whose labels contain `label_match`;
/// `None` when no sample matches (the node does not expose it, which is not a count of 0).
pub fn sum_metric(text: &str, family: &str, label_match: &str) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(family) && l[family.len()..].starts_with(['{', ' ']))
        .filter(|l| l.contains(label_match))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_counter_samples_by_label() {
        let text = "# TYPE libp2p_bandwidth_bytes_total counter\n\
            libp2p_bandwidth_bytes_total{protocols=\"/ip4/udp/quic-v1/p2p\",direction=\"Inbound\"} 100\n\
            libp2p_bandwidth_bytes_total{protocols=\"/ip4/tcp/p2p\",direction=\"Inbound\"} 20\n\
            libp2p_bandwidth_bytes_total{protocols=\"/ip4/udp/quic-v1/p2p\",direction=\"Outbound\"} 7\n\
            libp2p_bandwidth_bytes_totalx 99\n";
        assert_eq!(
            sum_metric(text, "libp2p_bandwidth_bytes_total", "Inbound"),
            Some(120.0)
        );
        assert_eq!(
            sum_metric(text, "libp2p_bandwidth_bytes_total", "Outbound"),
            Some(7.0)
        );
    }

    #[test]
    fn a_family_without_a_matching_sample_is_none_not_zero() {
        let counted_zero = "libp2p_bandwidth_bytes_total{direction=\"Inbound\"} 0\n";
        assert_eq!(
            sum_metric(counted_zero, "libp2p_bandwidth_bytes_total", "Inbound"),
            Some(0.0)
        );
        for text in [
            "",
            "<html><body>404 Not Found</body></html>",
            "# TYPE libp2p_bandwidth_bytes_total counter\n",
            "libp2p_bandwidth_bytes_totalx{direction=\"Inbound\"} 5\n",
            counted_zero,
        ] {
            assert_eq!(
                sum_metric(text, "libp2p_bandwidth_bytes_total", "Outbound"),
                None,
                "{text:?}"
            );
        }
    }
}
