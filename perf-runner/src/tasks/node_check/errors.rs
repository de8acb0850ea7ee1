//! Error answers: each is a `4xx` with `{"error": "<what went wrong>"}`, the runner quotes it.

use super::{Rows, start::Started};
use crate::data::node_check::Status;

/// Which statuses a refusal may have.
pub(super) enum Expect {
    /// Exactly one of these.
    OneOf(&'static [u16]),
    /// Any 4xx.
    ClientError,
}

impl Expect {
    fn allows(&self, status: u16) -> bool {
        match self {
            Expect::OneOf(allowed) => allowed.contains(&status),
            Expect::ClientError => (400..500).contains(&status),
        }
    }

    fn describe(&self) -> String {
        match self {
            Expect::OneOf(allowed) => allowed
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
            Expect::ClientError => "a 4xx status".into(),
        }
    }
}

/// Whether an answer is the refusal the contract asks for: an allowed status and a JSON body
/// `{"error": "<non-empty text>"}`.
pub(super) fn json_error(status: u16, body: &[u8], expect: Expect) -> Status {
    let mut wrong = Vec::new();
    if !expect.allows(status) {
        wrong.push(format!("answered {status}, not {}", expect.describe()));
    }
    let error = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error")?.as_str().map(str::to_owned));
    match error {
        Some(text) if !text.trim().is_empty() => {}
        _ => {
            let shown: String = String::from_utf8_lossy(body).chars().take(80).collect();
            wrong.push(format!(
                "the body {shown:?} is not JSON {{\"error\": \"<what went wrong>\"}}: every error answer is one (the runner quotes \"error\")"
            ));
        }
    }
    if wrong.is_empty() {
        Status::Passed
    } else {
        Status::Failed(wrong.join("; "))
    }
}

/// Unknown route, wrong method, malformed JSON, an undecodable path.
pub(super) async fn all(started: &Started, rows: &mut Rows) {
    use reqwest::Method;
    let api = &started.node.api;
    let json = |text: &str| Some(("application/json", text.as_bytes().to_vec()));
    let probes = [
        (
            "error: unknown route",
            Method::GET,
            "/node-check/no-such-route",
            None,
            Expect::OneOf(&[404]),
        ),
        (
            "error: wrong method",
            Method::GET,
            "/dht/put",
            None,
            Expect::OneOf(&[405]),
        ),
        (
            "error: malformed JSON",
            Method::POST,
            "/dht/put",
            json("{\"key\": \"node-check\", \"value\": "),
            Expect::OneOf(&[400, 422]),
        ),
        (
            "error: undecodable path",
            Method::GET,
            "/dht/get/%FF%FE",
            None,
            Expect::OneOf(&[400]),
        ),
    ];
    for (name, method, path, body, expect) in probes {
        let status = match api.raw(method.clone(), path, body).await {
            Ok((status, body)) => match json_error(status, &body, expect) {
                Status::Failed(why) => Status::Failed(format!("{method} {path}: {why}")),
                other => other,
            },
            Err(e) => Status::Failed(e.to_string()),
        };
        rows.push(name, status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_needs_the_status_and_a_json_error_body() {
        let json = br#"{"error":"no such route"}"#;
        assert_eq!(json_error(404, json, Expect::OneOf(&[404])), Status::Passed);
        assert_eq!(json_error(409, json, Expect::ClientError), Status::Passed);
        let cases: [(u16, &[u8], Expect, &str); 4] = [
            (200, json, Expect::OneOf(&[404]), "answered 200, not 404"),
            (500, json, Expect::ClientError, "not a 4xx status"),
            (404, b"not found", Expect::OneOf(&[404]), "is not JSON"),
            (
                400,
                br#"{"error":""}"#,
                Expect::OneOf(&[400, 422]),
                "is not JSON",
            ),
        ];
        for (status, body, expect, says) in cases {
            let Status::Failed(why) = json_error(status, body, expect) else {
                panic!("{status} passed");
            };
            assert!(why.contains(says), "{why}");
        }
    }
}
