//! The optional parts of the contract, checked only when the ready line declares them:
//! `perf`, `metrics`, `events`. An undeclared one is skipped, never failed.

use serde_json::json;

use super::{
    Rows,
    shape::{Kind, verdict, wrong_fields},
    start::Started,
};
use crate::{cluster::node_api::sum_metric, data::node_check::Status};

/// `Some(skipped or not run)` when `capability` is not to be checked.
fn not_checked(started: &Started, rows: &Rows, capability: &str, needs: &[&str]) -> Option<Status> {
    if !started.node.process.ready.has(capability) {
        return Some(Status::Skipped(format!(
            "not declared (\"capabilities\" lacks \"{capability}\")"
        )));
    }
    rows.blocked(needs)
}

/// Bytes each way of the perf check: enough to cross several stream windows, small enough
/// for a debug build on a loaded machine.
const PERF_BYTES: u64 = 1 << 20;

/// `POST /perf` to the peer moves the bytes each way.
pub(super) async fn perf(started: &Started, rows: &mut Rows) {
    let status = match not_checked(started, rows, "perf", &["connect"]) {
        Some(status) => status,
        None if !started.peer.process.ready.has("perf") => Status::Skipped(
            "the peer (--peer-bin) does not declare perf: check against one that does".into(),
        ),
        None => {
            let peer = started.peer.peer_id();
            let body =
                json!({"peer": peer, "upload_bytes": PERF_BYTES, "download_bytes": PERF_BYTES});
            match started.node.api.post_json("/perf", body).await {
                Err(e) => Status::Failed(format!("{e}: run /perf/1.0.0 with the peer")),
                Ok(answer) => {
                    let mut wrong = wrong_fields(
                        &answer,
                        &[
                            ("peer", Kind::Str),
                            ("upload_bytes", Kind::Uint),
                            ("download_bytes", Kind::Uint),
                            ("elapsed_us", Kind::Uint),
                        ],
                    );
                    for field in ["upload_bytes", "download_bytes"] {
                        if answer[field].as_u64().is_some_and(|b| b != PERF_BYTES) {
                            wrong.push(format!(
                                "\"{field}\" is {}, {PERF_BYTES} were asked for",
                                answer[field]
                            ));
                        }
                    }
                    if answer["peer"].is_string() && answer["peer"] != peer {
                        wrong.push(format!("\"peer\" is {}, not {peer}", answer["peer"]));
                    }
                    verdict(wrong)
                }
            }
        }
    };
    rows.push("perf", status);
}

/// The bandwidth counters the runner reads (`run/phases.rs`).
const BANDWIDTH_FAMILY: &str = "libp2p_bandwidth_bytes_total";

/// `GET /metrics` is Prometheus text with the bandwidth counters in both directions.
pub(super) async fn metrics(started: &Started, rows: &mut Rows) {
    let status = match not_checked(started, rows, "metrics", &[]) {
        Some(status) => status,
        None => match started.node.api.metrics_text().await {
            Err(e) => Status::Failed(e.to_string()),
            Ok(text) => {
                let missing: Vec<&str> = ["Inbound", "Outbound"]
                    .into_iter()
                    .filter(|d| {
                        sum_metric(&text, BANDWIDTH_FAMILY, &format!("direction=\"{d}\"")).is_none()
                    })
                    .collect();
                if missing.is_empty() {
                    Status::Passed
                } else {
                    Status::Failed(format!(
                        "no {BANDWIDTH_FAMILY}{{direction=\"{}\"}} sample: expose libp2p's bandwidth counters (bytes, labelled direction=\"Inbound\"/\"Outbound\"), or do not declare \"metrics\" (bandwidth is then not measured)",
                        missing.join("\"/\"")
                    ))
                }
            }
        },
    };
    rows.push("metrics", status);
}

/// `GET /events?since=0` is a page of timestamped events with a `connected` one.
pub(super) async fn events(started: &Started, rows: &mut Rows) {
    let status = match not_checked(started, rows, "events", &["connect"]) {
        Some(status) => status,
        None => match started.node.api.get_json("/events?since=0").await {
            Err(e) => Status::Failed(e.to_string()),
            Ok(page) => {
                let mut wrong =
                    wrong_fields(&page, &[("events", Kind::Array), ("next", Kind::Uint)]);
                let events = page["events"].as_array().cloned().unwrap_or_default();
                for (i, event) in events.iter().enumerate() {
                    let bad = wrong_fields(event, &[("ts_ns", Kind::Uint), ("kind", Kind::Str)]);
                    if !bad.is_empty() {
                        wrong.push(format!("event {i}: {}", bad.join(", ")));
                        break;
                    }
                }
                if wrong.is_empty()
                    && !events
                        .iter()
                        .any(|e| e["kind"] == "connected" && e["connected_peers"].is_u64())
                {
                    wrong.push(
                        "no \"connected\" event with \"connected_peers\", though the node is connected to its peer".into(),
                    );
                }
                verdict(wrong)
            }
        },
    };
    rows.push("events", status);
}
