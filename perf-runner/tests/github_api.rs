//! The sticky-comment client against a local mock of GitHub's REST API (wiremock): the real
//! API is out of reach here, and a mock lets the tests plant pagination, failures and limits.
//! [`FakeGithub`] keeps comments as state, so a create that fails after writing and two runs
//! at once can be played out; rate-limit waits are recorded by a stand-in sleeper, not slept.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use perf_runner::github::{
    GithubError,
    client::{Client, Posted, RetryPolicy, Sleeper, Target, Token},
};
use serde_json::Value;
use wiremock::{
    Mock, MockServer, Request, Respond, ResponseTemplate,
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

const BOT: &str = "github-actions[bot]";

/// The production policy with short backoffs (rate-limit waits are recorded, not slept).
fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_pages: 5,
        ..RetryPolicy::default()
    }
}

/// A sleeper that records each wait and returns at once.
fn recording() -> (Sleeper, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let w = waits.clone();
    let sleeper: Sleeper = Arc::new(move |d| {
        w.lock().unwrap().push(d);
        Box::pin(async {})
    });
    (sleeper, waits)
}

fn client_with(server: &MockServer, retry: RetryPolicy) -> (Client, Arc<Mutex<Vec<Duration>>>) {
    let (sleeper, waits) = recording();
    let c = Client::new(&server.uri(), Token::new(TOKEN), retry)
        .unwrap()
        .with_sleeper(sleeper);
    (c, waits)
}

fn client(server: &MockServer) -> Client {
    client_with(server, policy()).0
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
        assert!(
            r.headers.get("authorization").is_some(),
            "{} {} has no Authorization header",
            r.method,
            r.url
        );
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
        // Before creating, and after it to see whether a concurrent run created one too.
        .expect(2)
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
        .upsert_comment(&target(), MARKER, BOT, &body)
        .await
        .unwrap();
    assert!(
        matches!(posted, Posted::Created { id: 55, .. }),
        "{posted:?}"
    );
    let requests = server.received_requests().await.unwrap();
    let post = requests
        .iter()
        .find(|r| r.method.as_str() == "POST")
        .unwrap();
    let post: Value = serde_json::from_slice(&post.body).unwrap();
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
        .upsert_comment(&target(), MARKER, BOT, &format!("{MARKER}\nnew numbers"))
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
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(5, "x", "bot")))
        .expect(1)
        .mount(&server)
        .await;
    let posted = client(&server)
        .upsert_comment(&target(), MARKER, BOT, MARKER)
        .await
        .unwrap();
    assert!(matches!(posted, Posted::Created { id: 5, .. }));
}

#[tokio::test]
async fn a_secondary_rate_limit_without_retry_after_waits_a_minute_then_doubles() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            serde_json::json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
        ))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(6, "x", BOT)))
        .mount(&server)
        .await;
    let (c, waits) = client_with(&server, policy());
    let posted = c
        .upsert_comment(&target(), MARKER, BOT, MARKER)
        .await
        .unwrap();
    assert!(matches!(posted, Posted::Created { id: 6, .. }));
    // GitHub: "wait for at least one minute", then exponentially longer.
    assert_eq!(
        *waits.lock().unwrap(),
        [Duration::from_secs(60), Duration::from_secs(120)]
    );
}

#[tokio::test]
async fn retry_after_is_waited_in_full() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "300")
                .set_body_json(serde_json::json!({"message": "slow down"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(6, "x", BOT)))
        .mount(&server)
        .await;
    let (c, waits) = client_with(&server, policy());
    c.upsert_comment(&target(), MARKER, BOT, MARKER)
        .await
        .unwrap();
    assert_eq!(*waits.lock().unwrap(), [Duration::from_secs(300)]);
}

#[tokio::test]
async fn a_primary_rate_limit_waits_until_the_reset() {
    let server = MockServer::start().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", (now + 120).to_string().as_str())
                .set_body_json(serde_json::json!({"message": "API rate limit exceeded"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(6, "x", BOT)))
        .mount(&server)
        .await;
    let (c, waits) = client_with(&server, policy());
    c.upsert_comment(&target(), MARKER, BOT, MARKER)
        .await
        .unwrap();
    let waits = waits.lock().unwrap();
    assert_eq!(waits.len(), 1);
    assert!(
        (Duration::from_secs(118)..=Duration::from_secs(122)).contains(&waits[0]),
        "{waits:?}"
    );
}

#[tokio::test]
async fn a_wait_beyond_the_cap_gives_up_instead_of_retrying_early() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3600")
                .set_body_json(serde_json::json!({"message": "slow down"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (c, waits) = client_with(&server, policy());
    let e = c
        .upsert_comment(&target(), MARKER, BOT, MARKER)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("GitHub asks to wait 3600 s, longer than the 900 s"),
        "{e}"
    );
    assert!(waits.lock().unwrap().is_empty());
    assert_eq!(perf_runner::Error::from(e).exit_code(), 3);
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
        .upsert_comment(&target(), MARKER, BOT, MARKER)
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
        .upsert_comment(&target(), MARKER, BOT, MARKER)
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
            .upsert_comment(&target(), MARKER, BOT, MARKER)
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

/// A stateful stand-in for GitHub's issue-comment endpoints of PR o/r#7 and `GET /user`.
#[derive(Clone)]
struct FakeGithub {
    state: Arc<Mutex<State>>,
}

struct State {
    base: String,
    comments: Vec<Value>,
    next_id: u64,
    /// POSTs that write the comment, then answer 502 (a proxy timing out after GitHub did it).
    fail_after_create: u32,
    /// Comments a page.
    page_size: usize,
    /// Delay of every answer to a list request.
    list_delay: Duration,
    /// What `GET /user` answers.
    user: Option<String>,
}

impl FakeGithub {
    async fn start(fail_after_create: u32) -> (MockServer, Self) {
        let server = MockServer::start().await;
        let fake = Self {
            state: Arc::new(Mutex::new(State {
                base: server.uri(),
                comments: Vec::new(),
                next_id: 100,
                fail_after_create,
                page_size: 2,
                list_delay: Duration::ZERO,
                user: Some(BOT.into()),
            })),
        };
        Mock::given(wiremock::matchers::any())
            .respond_with(fake.clone())
            .mount(&server)
            .await;
        (server, fake)
    }

    fn add(&self, body: &str, login: &str) -> u64 {
        let mut st = self.state.lock().unwrap();
        st.next_id += 1;
        let id = st.next_id;
        st.comments.push(comment(id, body, login));
        id
    }

    fn marked(&self) -> Vec<(u64, String, String)> {
        self.state
            .lock()
            .unwrap()
            .comments
            .iter()
            .filter(|c| c["body"].as_str().unwrap().starts_with(MARKER))
            .map(|c| {
                (
                    c["id"].as_u64().unwrap(),
                    c["user"]["login"].as_str().unwrap().to_owned(),
                    c["body"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

impl Respond for FakeGithub {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut st = self.state.lock().unwrap();
        let p = request.url.path().to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match (request.method.as_str(), p.as_str()) {
            ("GET", "/user") => match &st.user {
                Some(login) => {
                    ResponseTemplate::new(200).set_body_json(serde_json::json!({ "login": login }))
                }
                None => ResponseTemplate::new(403).set_body_json(
                    serde_json::json!({ "message": "Resource not accessible by integration" }),
                ),
            },
            ("GET", "/repos/o/r/issues/7/comments") => {
                let page: usize = request
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "page")
                    .map_or(1, |(_, v)| v.parse().unwrap());
                let start = (page - 1) * st.page_size;
                let items: Vec<Value> = st
                    .comments
                    .iter()
                    .skip(start)
                    .take(st.page_size)
                    .cloned()
                    .collect();
                let mut t = ResponseTemplate::new(200)
                    .set_body_json(items)
                    .set_delay(st.list_delay);
                if start + st.page_size < st.comments.len() {
                    t = t.insert_header(
                        "link",
                        format!(
                            "<{}/repos/o/r/issues/7/comments?per_page=100&page={}>; rel=\"next\"",
                            st.base,
                            page + 1
                        )
                        .as_str(),
                    );
                }
                t
            }
            ("POST", "/repos/o/r/issues/7/comments") => {
                st.next_id += 1;
                let id = st.next_id;
                let c = comment(id, body["body"].as_str().unwrap(), BOT);
                st.comments.push(c.clone());
                if st.fail_after_create > 0 {
                    st.fail_after_create -= 1;
                    return ResponseTemplate::new(502).set_body_string("Bad Gateway");
                }
                ResponseTemplate::new(201).set_body_json(c)
            }
            (m, p) if p.starts_with("/repos/o/r/issues/comments/") => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                let Some(i) = st.comments.iter().position(|c| c["id"] == id) else {
                    return ResponseTemplate::new(404)
                        .set_body_json(serde_json::json!({"message": "Not Found"}));
                };
                match m {
                    "PATCH" => {
                        st.comments[i]["body"] = body["body"].clone();
                        ResponseTemplate::new(200).set_body_json(st.comments[i].clone())
                    }
                    "DELETE" => {
                        st.comments.remove(i);
                        ResponseTemplate::new(204)
                    }
                    _ => ResponseTemplate::new(405),
                }
            }
            _ => ResponseTemplate::new(404)
                .set_body_json(serde_json::json!({"message": "Not Found"})),
        }
    }
}

#[tokio::test]
async fn a_create_that_fails_after_writing_is_not_duplicated() {
    let (server, fake) = FakeGithub::start(1).await;
    fake.add("LGTM", "alice");
    let body = format!("{MARKER}\nnumbers");
    let (c, waits) = client_with(&server, policy());
    let posted = c
        .upsert_comment(&target(), MARKER, BOT, &body)
        .await
        .unwrap();
    // The 502 was retried by listing again, which found the comment the POST had written.
    assert!(
        matches!(posted, Posted::Updated { id: 102, .. }),
        "{posted:?}"
    );
    assert_eq!(fake.marked(), [(102, BOT.to_owned(), body)]);
    assert_eq!(waits.lock().unwrap().len(), 1);
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 1, "the create was not sent again");
}

#[tokio::test]
async fn two_runs_at_once_leave_one_comment() {
    let (server, fake) = FakeGithub::start(0).await;
    // Both runs list before either creates.
    fake.state.lock().unwrap().list_delay = Duration::from_millis(300);
    let (a, _) = client_with(&server, policy());
    let (b, _) = client_with(&server, policy());
    let (body_a, body_b) = (format!("{MARKER}\nrun a"), format!("{MARKER}\nrun b"));
    let t = target();
    let (ra, rb) = tokio::join!(
        a.upsert_comment(&t, MARKER, BOT, &body_a),
        b.upsert_comment(&t, MARKER, BOT, &body_b),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 2, "the race really happened: {ra:?} {rb:?}");
    let marked = fake.marked();
    assert_eq!(marked.len(), 1, "{marked:?}");
    assert_eq!(marked[0].0, 101, "the oldest is kept");
    assert!(marked[0].2 == body_a || marked[0].2 == body_b);
    assert_token_only_in_authorization(&server.received_requests().await.unwrap());
}

#[tokio::test]
async fn only_the_authors_comments_are_touched_and_earlier_duplicates_go() {
    let (server, fake) = FakeGithub::start(0).await;
    let mallory = fake.add(&format!("{MARKER}\nfake verdict"), "mallory");
    fake.add("chatter", "bob");
    let oldest = fake.add(&format!("{MARKER}\nold"), BOT);
    fake.add("more chatter", "bob");
    let duplicate = fake.add(&format!("{MARKER}\nold duplicate"), BOT);
    let body = format!("{MARKER}\nnew");
    let posted = client(&server)
        .upsert_comment(&target(), MARKER, BOT, &body)
        .await
        .unwrap();
    assert!(
        matches!(posted, Posted::Updated { id, .. } if id == oldest),
        "{posted:?}"
    );
    let marked = fake.marked();
    assert_eq!(
        marked,
        [
            (
                mallory,
                "mallory".to_owned(),
                format!("{MARKER}\nfake verdict")
            ),
            (oldest, BOT.to_owned(), body)
        ],
        "mallory's comment untouched, the duplicate ({duplicate}) deleted"
    );
}

#[tokio::test]
async fn the_author_is_the_tokens_login_or_must_be_given() {
    let (server, fake) = FakeGithub::start(0).await;
    assert_eq!(client(&server).authenticated_login().await.unwrap(), BOT);
    fake.state.lock().unwrap().user = None;
    let e = client(&server).authenticated_login().await.unwrap_err();
    assert!(e.to_string().contains("pass --author"), "{e}");
    assert!(!e.to_string().contains(TOKEN));
    assert_eq!(perf_runner::Error::from(e).exit_code(), 2);
}

#[tokio::test]
async fn endless_pagination_stops_at_the_page_cap() {
    let server = MockServer::start().await;
    let next = format!(
        "<{}/repos/o/r/issues/7/comments?per_page=100&page=2>; rel=\"next\"",
        server.uri()
    );
    // Every page, whatever its number, says there is another (a fresh URL each time would
    // also be capped; this one also repeats).
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", next.as_str())
                .set_body_json(vec![comment(1, "x", "bob")]),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(2, "x", BOT)))
        .expect(0)
        .mount(&server)
        .await;
    let e = client(&server)
        .upsert_comment(&target(), MARKER, BOT, MARKER)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("repeats a page"), "{e}");
    assert_eq!(perf_runner::Error::from(e).exit_code(), 3);

    // Fresh page numbers without end: the page cap.
    let server = MockServer::start().await;
    let fake = EndlessPages { base: server.uri() };
    Mock::given(method("GET"))
        .respond_with(fake)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(2, "x", BOT)))
        .expect(0)
        .mount(&server)
        .await;
    let e = client(&server)
        .upsert_comment(&target(), MARKER, BOT, MARKER)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("stopped after 5 pages"), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 5);

    // And the time cap, with slow pages.
    let server = MockServer::start().await;
    let fake = EndlessPages { base: server.uri() };
    Mock::given(method("GET"))
        .respond_with(move |r: &Request| fake.respond(r).set_delay(Duration::from_millis(100)))
        .mount(&server)
        .await;
    let retry = RetryPolicy {
        max_pages: 1000,
        max_listing_time: Duration::from_millis(250),
        ..policy()
    };
    let (c, _) = client_with(&server, retry);
    let e = c
        .upsert_comment(&target(), MARKER, BOT, MARKER)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("without reaching the last"), "{e}");
    assert!(server.received_requests().await.unwrap().len() <= 4);
}

/// Every page links to the next number.
#[derive(Clone)]
struct EndlessPages {
    base: String,
}

impl Respond for EndlessPages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let page: u64 = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "page")
            .map_or(1, |(_, v)| v.parse().unwrap());
        ResponseTemplate::new(200)
            .insert_header(
                "link",
                format!(
                    "<{}/repos/o/r/issues/7/comments?per_page=100&page={}>; rel=\"next\"",
                    self.base,
                    page + 1
                )
                .as_str(),
            )
            .set_body_json(vec![comment(page, "x", "bob")])
    }
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused() {
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    let port = server.address().port();
    for link in [
        format!("{}/repos/o/r/issues/7/comments?page=2", elsewhere.uri()),
        format!("http://localhost:{port}/repos/o/r/issues/7/comments?page=2"),
        format!("https://127.0.0.1:{port}/repos/o/r/issues/7/comments?page=2"),
        format!("http://user@127.0.0.1:{port}/repos/o/r/issues/7/comments?page=2"),
    ] {
        server.reset().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("link", format!("<{link}>; rel=\"next\"").as_str())
                    .set_body_json(vec![comment(1, "x", "bob")]),
            )
            .mount(&server)
            .await;
        let e = client(&server)
            .upsert_comment(&target(), MARKER, BOT, MARKER)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("leaves the API"), "{link}: {e}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "{link}");
    }
    elsewhere.verify().await;
}
