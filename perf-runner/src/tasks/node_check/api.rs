//! The required endpoints: `/health`, `/peers` (connect), `/dht/*`, `/gossip/*`.

use serde_json::{Value, json};

use super::{
    POLL, Rows, WAIT, retrying,
    shape::{Kind, short, verdict, wrong_fields},
    start::Started,
};
use crate::{
    cluster::{ClusterNode, node_api::ApiError},
    data::node_check::Status,
};

/// `GET /health` has every field of the contract, with the ready line's peer id.
pub(super) async fn health(started: &Started, rows: &mut Rows) {
    let node = &started.node;
    let status = match node.api.get_json("/health").await {
        Err(e) => Status::Failed(e.to_string()),
        Ok(v) => {
            let mut wrong = wrong_fields(
                &v,
                &[
                    ("peer_id", Kind::Str),
                    ("uptime_ms", Kind::Uint),
                    ("connected_peers", Kind::Uint),
                    ("routing_table_size", Kind::Uint),
                    ("mesh_size", Kind::Uint),
                    ("topic", Kind::Str),
                    ("listen_addrs", Kind::Array),
                    ("bootstrap_errors", Kind::Array),
                    ("gossip_published", Kind::Uint),
                    ("gossip_received", Kind::Uint),
                ],
            );
            if let Some(id) = v["peer_id"].as_str()
                && id != node.peer_id()
            {
                wrong.push(format!(
                    "\"peer_id\" is {id:?}, the ready line said {:?}",
                    node.peer_id()
                ));
            }
            verdict(wrong)
        }
    };
    rows.push("GET /health", status);
}

/// The node dials its `--bootstrap` peer: both list each other in `/peers`, and the node's
/// `/health` counts the connection. A malformed answer fails at once; a well-formed one that
/// does not show the connection yet is polled again until [`WAIT`].
pub(super) async fn connect(started: &Started, rows: &mut Rows) {
    if let Some(blocked) = rows.blocked(&["GET /health"]) {
        rows.push("connect", blocked);
        return;
    }
    let (node, peer) = (&started.node, &started.peer);
    let deadline = tokio::time::Instant::now() + WAIT;
    let status = loop {
        let seen = async {
            let node_peers = node.api.peer_addresses().await?;
            let peer_peers = peer.api.peer_addresses().await?;
            let health = node.api.health().await?;
            Ok::<_, ApiError>((node_peers, peer_peers, health.connected_peers))
        }
        .await;
        let (node_peers, peer_peers, connected) = match seen {
            Ok(seen) => seen,
            Err(e) => break Status::Failed(e.to_string()),
        };
        let listed = node_peers.iter().find(|(id, _)| id == peer.peer_id());
        let listed_back = peer_peers.iter().any(|(id, _)| id == node.peer_id());
        if let (Some((_, addresses)), true) = (listed, listed_back)
            && connected >= 1
        {
            break if addresses.is_empty() {
                Status::Failed(format!(
                    "GET /peers lists the peer {} without addresses: give the remote address of each connection",
                    peer.peer_id()
                ))
            } else {
                Status::Passed
            };
        }
        if tokio::time::Instant::now() >= deadline {
            break Status::Failed(format!(
                "after {WAIT:?}: the node's GET /peers {} the peer, the peer's {} the node, the node's /health says connected_peers {connected}: dial every --bootstrap address (see the node's log)",
                if listed.is_some() {
                    "lists"
                } else {
                    "does not list"
                },
                if listed_back {
                    "lists"
                } else {
                    "does not list"
                },
            ));
        }
        tokio::time::sleep(POLL).await;
    };
    rows.push("connect", status);
}

fn key(which: &str) -> String {
    format!("node-check-{}-{which}", std::process::id())
}

/// `POST /dht/put` on the node, found by the peer; the peer's record found by the node's
/// `GET /dht/get`; an unknown key is 404.
pub(super) async fn dht(started: &Started, rows: &mut Rows) {
    let (node, peer) = (&started.node, &started.peer);
    let status = match rows.blocked(&["connect"]) {
        Some(blocked) => blocked,
        None => put(node, peer).await,
    };
    rows.push("POST /dht/put", status);
    let status = match rows.blocked(&["connect"]) {
        Some(blocked) => blocked,
        None => get(node, peer).await,
    };
    rows.push("GET /dht/get", status);
    let status = match rows.blocked(&["connect"]) {
        Some(blocked) => blocked,
        None => {
            let path = format!("/dht/get/{}", key("unknown"));
            match node.api.raw(reqwest::Method::GET, &path, None).await {
                Ok((status, body)) => {
                    super::errors::json_error(status, &body, super::errors::Expect::OneOf(&[404]))
                }
                Err(e) => Status::Failed(e.to_string()),
            }
        }
    };
    rows.push("GET /dht/get unknown", status);
}

async fn put(node: &ClusterNode, peer: &ClusterNode) -> Status {
    let (key, value) = (key("node"), "put by the node under test");
    let body = json!({"key": key, "value": value});
    let answer = match retrying(503, || node.api.post_json("/dht/put", body.clone())).await {
        Ok(answer) => answer,
        Err(e) => {
            return Status::Failed(format!(
                "{e} (503 until {WAIT:?} passed: no remote peer stored it)"
            ));
        }
    };
    let mut wrong = wrong_fields(&answer, &[("key", Kind::Str), ("elapsed_us", Kind::Uint)]);
    if !wrong.is_empty() {
        return verdict(wrong);
    }
    match retrying(404, || peer.api.dht_get(&key)).await {
        Err(e) => wrong.push(format!(
            "the put answered, but the peer's lookup of {key:?} failed: {e}: store the record on remote peers (Kademlia PUT_VALUE to the closest peers) under /swarmbench/<key>, and answer their GET_VALUE requests"
        )),
        Ok(got) if got.value != value => wrong.push(format!(
            "the peer found {:?} under {key:?}, not the value put",
            got.value
        )),
        Ok(got) if got.from.as_deref() != Some(node.peer_id()) => wrong.push(format!(
            "the peer's lookup was answered by {:?}, not by this node ({}), the only other peer",
            got.from,
            node.peer_id()
        )),
        Ok(_) => {}
    }
    verdict(wrong)
}

async fn get(node: &ClusterNode, peer: &ClusterNode) -> Status {
    let (key, value) = (key("peer"), "put by the peer");
    let body = json!({"key": key, "value": value});
    if let Err(e) = retrying(503, || peer.api.post_json("/dht/put", body.clone())).await {
        return Status::Failed(format!(
            "the peer could not put {key:?}: {e}: store records other peers put (Kademlia PUT_VALUE) under /swarmbench/<key>"
        ));
    }
    let path = format!("/dht/get/{key}");
    let answer = match retrying(404, || node.api.get_json(&path)).await {
        Ok(answer) => answer,
        Err(e) => {
            return Status::Failed(format!(
                "{e}: look the key up on the network (the record is stored on the peer under /swarmbench/<key>)"
            ));
        }
    };
    let mut wrong = wrong_fields(
        &answer,
        &[
            ("key", Kind::Str),
            ("value", Kind::Str),
            ("elapsed_us", Kind::Uint),
        ],
    );
    if answer["value"].is_string() && answer["value"] != value {
        wrong.push(format!("\"value\" is {}, not {value:?}", answer["value"]));
    }
    match answer.get("from") {
        None => wrong.push("no \"from\"".into()),
        Some(Value::Null) => wrong.push(
            "\"from\" is null, an answer from the node's own store: look up over the network, skip the own store, and name the remote peer whose record answered (the runner leaves local answers out of dht_get_ms)".into(),
        ),
        Some(Value::String(from)) if from == node.peer_id() => wrong.push(
            "\"from\" is the node's own peer id: name the remote peer whose record answered".into(),
        ),
        Some(Value::String(_)) => {}
        Some(other) => wrong.push(format!("\"from\" is {}, not a peer id", short(other))),
    }
    verdict(wrong)
}

const GOSSIP_SIZE: u64 = 256;

/// The node publishes and the peer receives; the peer publishes and the node's
/// `/gossip/received` lists it; a wrong topic is refused.
pub(super) async fn gossip(started: &Started, rows: &mut Rows) {
    let (node, peer) = (&started.node, &started.peer);
    if let Some(blocked) = rows.blocked(&["connect"]) {
        rows.push("POST /gossip/publish", blocked.clone());
        rows.push("GET /gossip/received", blocked);
    } else {
        let node_id = key("gossip-node");
        let peer_id = key("gossip-peer");
        let published = publish(node, &node_id).await;
        let peer_published = publish(peer, &peer_id).await;
        let status = match published {
            Err(wrong) => Status::Failed(wrong),
            Ok(sent) => received(peer, node, &node_id, &sent, "the peer")
                .await
                .map_or(Status::Passed, |wrong| {
                    Status::Failed(format!(
                        "{wrong} (payload format: node/README.md, Gossip payloads; the publisher is gossipsub's signed source)"
                    ))
                }),
        };
        rows.push("POST /gossip/publish", status);
        let status = match peer_published {
            Err(wrong) => Status::Failed(format!("the peer could not publish: {wrong}")),
            Ok(sent) => received(node, peer, &peer_id, &sent, "the node")
                .await
                .map_or(Status::Passed, Status::Failed),
        };
        rows.push("GET /gossip/received", status);
    }
    let body = json!({"size": 64, "id": key("topic"), "topic": "node-check-not-a-topic"});
    let status = match node
        .api
        .raw(
            reqwest::Method::POST,
            "/gossip/publish",
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    {
        Ok((status, body)) => {
            super::errors::json_error(status, &body, super::errors::Expect::ClientError)
        }
        Err(e) => Status::Failed(e.to_string()),
    };
    rows.push("publish, wrong topic", status);
}

/// `POST /gossip/publish` until no longer 503; the answer's `seq` and `sent_ns`.
async fn publish(by: &ClusterNode, id: &str) -> Result<Value, String> {
    let body = json!({"size": GOSSIP_SIZE, "id": id});
    let answer = retrying(503, || by.api.post_json("/gossip/publish", body.clone()))
        .await
        .map_err(|e| format!("{e} (503 for {WAIT:?}: no peer subscribed to the topic?)"))?;
    let mut wrong = wrong_fields(
        &answer,
        &[
            ("message_id", Kind::Str),
            ("seq", Kind::Uint),
            ("sent_ns", Kind::Uint),
            ("size", Kind::Uint),
        ],
    );
    if answer["size"].as_u64().is_some_and(|s| s != GOSSIP_SIZE) {
        wrong.push(format!("\"size\" is {}, not {GOSSIP_SIZE}", answer["size"]));
    }
    if wrong.is_empty() {
        Ok(answer)
    } else {
        Err(format!(
            "POST /gossip/publish answered: {}",
            wrong.join("; ")
        ))
    }
}

/// Polls `receiver`'s `/gossip/received` until message `id` is there; a complaint if it never
/// is, or not exactly once with `sent`'s fields.
async fn received(
    receiver: &ClusterNode,
    publisher: &ClusterNode,
    id: &str,
    sent: &Value,
    who: &str,
) -> Option<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let copies = loop {
        let page = match receiver.api.get_json("/gossip/received?since=0").await {
            Ok(page) => page,
            Err(e) => return Some(format!("{who}'s {e}")),
        };
        let wrong = wrong_fields(&page, &[("messages", Kind::Array), ("next", Kind::Uint)]);
        if !wrong.is_empty() {
            return Some(format!(
                "{who}'s GET /gossip/received answered: {}",
                wrong.join("; ")
            ));
        }
        let copies: Vec<Value> = page["messages"]
            .as_array()
            .expect("checked")
            .iter()
            .filter(|m| m["id"] == id)
            .cloned()
            .collect();
        if !copies.is_empty() {
            break copies;
        }
        if tokio::time::Instant::now() >= deadline {
            return Some(format!(
                "{who}'s GET /gossip/received has no message {id:?} after {WAIT:?}"
            ));
        }
        tokio::time::sleep(POLL).await;
    };
    let message = &copies[0];
    let mut wrong = wrong_fields(
        message,
        &[
            ("id", Kind::Str),
            ("publisher", Kind::Str),
            ("seq", Kind::Uint),
            ("sent_ns", Kind::Uint),
            ("received_ns", Kind::Uint),
            ("size", Kind::Uint),
        ],
    );
    if copies.len() > 1 {
        wrong.push(format!("listed {} times, not once", copies.len()));
    }
    if message["publisher"].is_string() && message["publisher"] != publisher.peer_id() {
        wrong.push(format!(
            "\"publisher\" is {}, not the publisher's peer id {}",
            message["publisher"],
            publisher.peer_id()
        ));
    }
    for field in ["seq", "sent_ns"] {
        if message[field].is_u64() && message[field] != sent[field] {
            wrong.push(format!(
                "\"{field}\" is {}, the publish answered {}",
                message[field], sent[field]
            ));
        }
    }
    if message["size"].is_u64() && message["size"] != GOSSIP_SIZE {
        wrong.push(format!(
            "\"size\" is {}, not {GOSSIP_SIZE}",
            message["size"]
        ));
    }
    (!wrong.is_empty()).then(|| format!("{who}'s message {id:?}: {}", wrong.join("; ")))
}
