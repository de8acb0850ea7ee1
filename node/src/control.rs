//! The HTTP control API: the runner's only way into a node.
//!
//! Handlers hold a [`Client`] and never touch the swarm. Every failure is a JSON
//! `{"error": "..."}` with a 4xx/5xx status, extractor rejections included; a malformed request
//! never takes the node down. [`read_body`] reads every request body up front, within
//! [`MAX_BODY_BYTES`] and [`BODY_TIMEOUT`]; `serve.rs` serves the router with the connection
//! limits and header deadlines.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::Body,
    extract::{
        DefaultBodyLimit, Path, Query, Request, State,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures::StreamExt;
use libp2p::PeerId;
use prometheus_client::registry::Registry;
use serde::Deserialize;
use tokio::sync::watch;

use crate::{
    api::{DhtPutRequest, ErrorBody, PerfRequest, PerfResponse, PublishRequest},
    event_loop::{Client, OpError},
    metrics::{OPENMETRICS_TEXT, PROMETHEUS_TEXT, openmetrics_to_prometheus},
    network::MAX_DHT_VALUE_BYTES,
    perf_protocol,
};

/// Largest request body accepted; larger ones get 413. DHT values up to the store's limit fit.
pub const MAX_BODY_BYTES: usize = MAX_DHT_VALUE_BYTES + 4096;
/// How long a client has to send a whole request body (from the end of its head); a slower one
/// gets 408 and the connection is closed. A body of [`MAX_BODY_BYTES`] takes milliseconds.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a perf transfer may take before the request fails.
const PERF_TIMEOUT: Duration = Duration::from_secs(300);

/// What every handler can reach.
#[derive(Clone)]
pub struct ControlState {
    /// Handle to the event loop.
    pub client: Client,
    /// Opens perf streams; cloned per request because one control opens one stream at a time.
    pub streams: libp2p_stream::Control,
    /// The metrics registry served at `/metrics`.
    pub registry: Arc<Registry>,
    /// The gossipsub topic, to validate publish requests.
    pub topic: String,
    /// Set to `true` to stop the node.
    pub shutdown: watch::Sender<bool>,
}

/// An error answer: status plus message.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        let status = match &e {
            OpError::NotFound(_) => StatusCode::NOT_FOUND,
            OpError::Unavailable(_) | OpError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            OpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            OpError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        };
        ApiError(status, e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        // Keeps axum's status (400, 415, 422, 413) and its precise message.
        ApiError(
            rejection.status(),
            format!("invalid JSON body: {}", rejection.body_text()),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError(
            rejection.status(),
            format!("invalid path: {}", rejection.body_text()),
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("invalid query string: {}", rejection.body_text()),
        )
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Builds the router.
pub fn router(state: ControlState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/peers", get(peers))
        .route("/events", get(events))
        .route("/dht/put", post(dht_put))
        .route("/dht/get/{key}", get(dht_get))
        .route("/gossip/publish", post(publish))
        .route("/gossip/received", get(received))
        .route("/perf", post(perf))
        .route("/metrics", get(metrics))
        .route("/shutdown", post(shutdown))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(read_body))
        .with_state(state)
}

/// Reads the whole request body before routing, so that no handler ever waits on a client:
/// a declared `Content-Length` over [`MAX_BODY_BYTES`] gets 413 at once, without reading the
/// body; a body that turns out larger gets 413 as soon as it does; one not received within
/// [`BODY_TIMEOUT`] gets 408. These answers close the connection (its unread rest cannot be
/// told from a next request).
async fn read_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(declared) = declared
        && declared > MAX_BODY_BYTES as u64
    {
        return closing(ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request body of {declared} bytes (Content-Length) exceeds the limit of {MAX_BODY_BYTES} bytes"
            ),
        ));
    }
    let (parts, body) = request.into_parts();
    let body = match tokio::time::timeout(BODY_TIMEOUT, collect_body(body)).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return closing(e),
        Err(_) => {
            return closing(ApiError(
                StatusCode::REQUEST_TIMEOUT,
                format!("request body not received within {BODY_TIMEOUT:?}"),
            ));
        }
    };
    next.run(Request::from_parts(parts, body)).await
}

/// The whole body, at most [`MAX_BODY_BYTES`].
async fn collect_body(body: Body) -> Result<Body, ApiError> {
    let mut chunks = body.into_data_stream();
    let mut whole = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {e}"),
            )
        })?;
        if whole.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body exceeds the limit of {MAX_BODY_BYTES} bytes"),
            ));
        }
        whole.extend_from_slice(&chunk);
    }
    Ok(Body::from(whole))
}

/// An error answer that also closes the connection.
fn closing(error: ApiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

async fn health(State(s): State<ControlState>) -> ApiResult<crate::api::Health> {
    Ok(Json(s.client.health().await?))
}

async fn peers(State(s): State<ControlState>) -> ApiResult<Vec<crate::api::PeerInfo>> {
    Ok(Json(s.client.peers().await?))
}

/// `?since=N` of the paged endpoints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Since {
    #[serde(default)]
    since: usize,
}

async fn events(
    State(s): State<ControlState>,
    q: Result<Query<Since>, QueryRejection>,
) -> ApiResult<crate::api::EventPage> {
    Ok(Json(s.client.events(q?.since).await?))
}

async fn received(
    State(s): State<ControlState>,
    q: Result<Query<Since>, QueryRejection>,
) -> ApiResult<crate::api::ReceivedPage> {
    Ok(Json(s.client.received(q?.since).await?))
}

async fn dht_put(
    State(s): State<ControlState>,
    body: Result<Json<DhtPutRequest>, JsonRejection>,
) -> ApiResult<crate::api::DhtPutResponse> {
    let Json(req) = body?;
    if req.key.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "key must not be empty".into(),
        ));
    }
    Ok(Json(
        s.client.dht_put(req.key, req.value.into_bytes()).await?,
    ))
}

async fn dht_get(
    State(s): State<ControlState>,
    key: Result<Path<String>, PathRejection>,
) -> ApiResult<crate::api::DhtGetResponse> {
    let Path(key) = key?;
    Ok(Json(s.client.dht_get(key).await?))
}

async fn publish(
    State(s): State<ControlState>,
    body: Result<Json<PublishRequest>, JsonRejection>,
) -> ApiResult<crate::api::PublishResponse> {
    let Json(req) = body?;
    if let Some(topic) = req.topic.as_deref()
        && topic != s.topic
    {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "this node publishes only on topic {:?} (set with --topic), not {topic:?}",
                s.topic
            ),
        ));
    }
    Ok(Json(s.client.publish(req.size, req.id).await?))
}

async fn perf(
    State(s): State<ControlState>,
    body: Result<Json<PerfRequest>, JsonRejection>,
) -> ApiResult<PerfResponse> {
    let Json(req) = body?;
    let peer: PeerId = req.peer.parse().map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("peer {:?} is not a peer id: {e}", req.peer),
        )
    })?;
    if !s.client.is_connected(peer).await? {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("not connected to peer {peer}; GET /peers lists the connected ones"),
        ));
    }
    let mut control = s.streams.clone();
    let run = tokio::time::timeout(
        PERF_TIMEOUT,
        perf_protocol::run_client(&mut control, peer, req.upload_bytes, req.download_bytes),
    )
    .await
    .map_err(|_| {
        ApiError(
            StatusCode::GATEWAY_TIMEOUT,
            format!("perf transfer did not finish in {PERF_TIMEOUT:?}"),
        )
    })?
    .map_err(|e| ApiError(StatusCode::BAD_GATEWAY, e.to_string()))?;
    Ok(Json(PerfResponse {
        peer: peer.to_string(),
        upload_bytes: run.uploaded,
        download_bytes: run.downloaded,
        elapsed_us: run.elapsed.as_micros() as u64,
    }))
}

/// Serves Prometheus text format, or OpenMetrics when the scraper asks for it (as Prometheus does).
async fn metrics(State(s): State<ControlState>, headers: HeaderMap) -> Response {
    let wants_openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/openmetrics-text"));
    let mut body = String::new();
    match prometheus_client::encoding::text::encode(&mut body, &s.registry) {
        Ok(()) if wants_openmetrics => {
            ([(header::CONTENT_TYPE, OPENMETRICS_TEXT)], body).into_response()
        }
        Ok(()) => (
            [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
            openmetrics_to_prometheus(&body),
        )
            .into_response(),
        Err(e) => ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics failed: {e}"),
        )
        .into_response(),
    }
}

async fn shutdown(State(s): State<ControlState>) -> StatusCode {
    tracing::info!("POST /shutdown: shutting down");
    let _ = s.shutdown.send(true);
    StatusCode::ACCEPTED
}

async fn unknown_route(uri: axum::http::Uri) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        format!(
            "no route {}; routes: /health /peers /events /dht/put /dht/get/{{key}} /gossip/publish /gossip/received /perf /metrics /shutdown",
            uri.path()
        ),
    )
}

async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}
