//! The sticky-comment client against a local mock of GitHub's REST API (wiremock): the real
//! API is out of reach here, and a mock lets the tests plant pagination, failures and limits.

use std::time::Duration;

use perf_runner::github::{
    GithubError,
    client::{Client, Posted, RetryPolicy, Target, Token},
};
use serde_json::Value;
use wiremock::{
    Mock, MockServer, Request, ResponseTemplate,
    matchers::{body_string_contains, method, path, query_param},
};

const TOKEN: &str = "ghs_TestSecretToken0123456789";
const MARKER: &str = "<!-- swarmbench:perf-comment scenario=standard -->";

fn comment(id: u64, body: &str, login: &str) -> Value {
    let mut c: Value = serde_json::from_str(include_str!("fixtures/github-comment.json")).unwrap();
    c["id"] = id.into();
    c["body"] = body.into();
    c["user"]["login"] = login.into();
    c["html_url"] = format!("https://github.com/o/r/pull/7#issuecomment-{id}").into();
    c
}

fn client(server: &MockServer) -> Client {
    let retry = RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    };
    Client::new(&server.uri(), Token::new(TOKEN), retry).unwrap()
}

fn target() -> Target {
    Target {
        owner: "o".into(),
        repo: "r".into(),
        pr: 7,
    }
}

/// The token appears in the Authorization header of every request and nowhere else.
fn assert_token_only_in_authorization(requests: &[Request]) {
    assert!(!requests.is_empty());
    for r in requests {
        assert!(!r.url.as_str().contains(TOKEN), "token in URL {}", r.url);
        assert!(
            !String::from_utf8_lossy(&r.body).contains(TOKEN),
            "token in body"
        );
        for (name, value) in r.headers.iter() {
            let v = value.to_str().unwrap_or_default();
            if name.as_str() == "authorization" {
                assert!(v.ends_with(TOKEN), "authorization header carries the token");
            } else {
                assert!(!v.contains(TOKEN), "token in header {name}");
            }
        }
    }
}

#[tokio::test]
async fn creates_a_comment_when_none_is_marked() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(vec![comment(1, "LGTM", "alice")]))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/issues/7/comments"))
        .and(body_string_contains("swarmbench:perf-comment"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(
            55,
            "new",
            "github-actions[bot]",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let body = format!("{MARKER}\nhello");
    let posted = client(&server)
        .upsert_comment(&target(), MARKER, None, &body)
        .await
        .unwrap();
    assert!(
        matches!(posted, Posted::Created { id: 55, .. }),
        "{posted:?}"
    );
    let requests = server.received_requests().await.unwrap();
    let post: Value = serde_json::from_slice(&requests.last().unwrap().body).unwrap();
    assert_eq!(post["body"], body.as_str());
    assert_token_only_in_authorization(&requests);
}

#[tokio::test]
async fn updates_the_marked_comment_found_on_the_second_page() {
    let server = MockServer::start().await;
    let next = format!(
        "<{}/repos/o/r/issues/7/comments?per_page=100&page=2>; rel=\"next\", <{}/repos/o/r/issues/7/comments?per_page=100&page=2>; rel=\"last\"",
        server.uri(),
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/repos/o/r/issues/7/comments"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(vec![
            comment(98, &format!("quoting it: {MARKER}"), "mallory"),
            comment(99, &format!("{MARKER}\nold numbers"), "github-actions[bot]"),
        ]))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/issues/7/comments"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(
                    (1..=100)
                        .map(|i| comment(i, "chatter", "bob"))
                        .collect::<Vec<_>>(),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/o/r/issues/comments/99"))
        .and(body_string_contains("new numbers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment(
            99,
            "updated",
            "github-actions[bot]",
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let posted = client(&server)
        .upsert_comment(
            &target(),
            MARKER,
            Some("github-actions[bot]"),
            &format!("{MARKER}\nnew numbers"),
        )
        .await
        .unwrap();
    assert!(
        matches!(posted, Posted::Updated { id: 99, .. }),
        "{posted:?}"
    );
    assert_token_only_in_authorization(&server.received_requests().await.unwrap());
}

#[tokio::test]
async fn retries_a_502_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(5, "x", "bot")))
        .expect(1)
        .mount(&server)
        .await;
    let posted = client(&server)
        .upsert_comment(&target(), MARKER, None, MARKER)
        .await
        .unwrap();
    assert!(matches!(posted, Posted::Created { id: 5, .. }));
}

#[tokio::test]
async fn waits_out_a_secondary_rate_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).insert_header("retry-after", "0").set_body_json(
            serde_json::json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(6, "x", "bot")))
        .mount(&server)
        .await;
    let posted = client(&server)
        .upsert_comment(&target(), MARKER, None, MARKER)
        .await
        .unwrap();
    assert!(matches!(posted, Posted::Created { id: 6, .. }));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn gives_up_at_once_on_403_with_githubs_message_and_without_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "message": format!("Resource not accessible by integration (token {TOKEN})"),
            "documentation_url": "https://docs.github.com/rest"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .upsert_comment(&target(), MARKER, None, MARKER)
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, GithubError::Api { status: 403, .. }), "{e:?}");
    assert!(
        text.contains("Resource not accessible by integration"),
        "{text}"
    );
    assert!(
        !text.contains(TOKEN) && !format!("{e:?}").contains(TOKEN),
        "{text}"
    );
    assert_eq!(perf_runner::Error::from(e).exit_code(), 3);
}

#[tokio::test]
async fn persistent_5xx_gives_up_after_the_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let e = client(&server)
        .upsert_comment(&target(), MARKER, None, MARKER)
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("gave up after 3 attempts"), "{e}");
    assert_eq!(perf_runner::Error::from(e).exit_code(), 3);
}

#[tokio::test]
async fn unprocessable_and_not_found_fail_with_githubs_message() {
    for (status, message) in [
        (404, "Not Found"),
        (422, "Validation Failed"),
        (401, "Bad credentials"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(serde_json::json!({"message": message})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let e = client(&server)
            .upsert_comment(&target(), MARKER, None, MARKER)
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("GitHub answered {status}: {message}")),
            "{e}"
        );
        assert_eq!(perf_runner::Error::from(e).exit_code(), 3);
    }
}
