//! The GitHub writes swarmbench makes: create or update a sticky PR comment, via octocrab.
//!
//! The token lives in a [`Token`] whose `Debug` prints `***`; it goes to octocrab's
//! `Authorization` header and nowhere else, any error text is scrubbed of it before it reaches
//! a log, and it only ever travels over https (plain http only to a loopback address, for
//! tests: [`check_api_url`]).
//!
//! Requests are octocrab's raw ones (`_get`, `_post`, …) with paths relative to the API base,
//! so every status and header is ours to read:
//! - Pagination follows `Link: rel="next"` only to the API's own origin and base path, at most
//!   [`RetryPolicy::max_pages`] pages and [`RetryPolicy::max_listing_time`]; past either it
//!   fails rather than create a comment that may already exist further on.
//! - Rate limits, as GitHub's REST documentation ("Rate limits for the REST API", "Handle rate
//!   limit errors appropriately") asks: with `retry-after`, wait that many seconds; else with
//!   `x-ratelimit-remaining: 0`, wait until `x-ratelimit-reset` (epoch seconds); else, for a
//!   secondary rate limit, wait at least one minute, doubling on each repeat. A wait longer
//!   than [`RetryPolicy::max_wait`] is not shortened: the command gives up and says when
//!   GitHub will answer again. 5xx answers and connection failures back off exponentially.
//!   One line on stderr per wait.
//! - Creating is idempotent: a POST that fails may still have created the comment (a 502 from
//!   a proxy after GitHub wrote it), so before it is retried the comments are listed again and
//!   what exists is updated. Runs that raced anyway (each found nothing, each created one)
//!   converge: after a create the oldest marked comment of the author is kept, updated with
//!   this body if it is not ours, and the author's other marked comments are deleted.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use octocrab::Octocrab;
use serde_json::Value;

use super::GithubError;

/// A GitHub token. Never printed.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Reads the token from `var`; a missing or empty variable is an error naming it.
    pub fn from_env(var: &str) -> Result<Self, GithubError> {
        match std::env::var(var) {
            Ok(t) if !t.trim().is_empty() => Ok(Self(t.trim().to_owned())),
            _ => Err(GithubError::MissingToken(var.to_owned())),
        }
    }

    /// Wraps a token (tests).
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// Removes the token from `text`.
    fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// How often and how patiently to retry, and how far to page.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included, for one request (and for creating the comment).
    pub attempts: u32,
    /// Wait before the first retry of a 5xx or a connection failure; doubled each time.
    pub initial_backoff: Duration,
    /// Longest wait after a 5xx or a connection failure.
    pub max_backoff: Duration,
    /// Wait after a secondary rate limit that names none (GitHub: "at least one minute");
    /// doubled on each repeat.
    pub secondary_wait: Duration,
    /// Longest wait GitHub may ask for (`retry-after`, `x-ratelimit-reset`); a longer one
    /// gives up instead of retrying early.
    pub max_wait: Duration,
    /// Pages of comments read at most (100 comments a page).
    pub max_pages: u32,
    /// Time spent listing comments at most, waits included.
    pub max_listing_time: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            secondary_wait: Duration::from_secs(60),
            // The comment job has 30 minutes; a primary limit resets within the hour.
            max_wait: Duration::from_secs(15 * 60),
            max_pages: 50,
            max_listing_time: Duration::from_secs(10 * 60),
        }
    }
}

/// How the client waits: `tokio::time::sleep`, or a test's stand-in.
pub type Sleeper = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Where the comment goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// Pull request number.
    pub pr: u64,
}

/// What was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// A new comment.
    Created {
        /// Comment id.
        id: u64,
        /// Its URL.
        url: String,
    },
    /// The marked comment, edited in place.
    Updated {
        /// Comment id.
        id: u64,
        /// Its URL.
        url: String,
    },
}

/// The API base URL, checked: http(s) only, https unless the host is a loopback address (the
/// token would otherwise cross the network in clear), no credentials, query or fragment.
pub fn check_api_url(api_base: &str) -> Result<reqwest::Url, GithubError> {
    let bad = |why: &str| {
        GithubError::BadInput(format!(
            "GitHub API URL {:?}: {why}",
            crate::report::escape::truncate(api_base, 200)
        ))
    };
    let url = reqwest::Url::parse(api_base).map_err(|e| bad(&e.to_string()))?;
    let loopback = url.host_str().is_some_and(|h| {
        h.eq_ignore_ascii_case("localhost")
            || h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(bad(
                "plain http would send the token in clear; use https (http is accepted for a loopback address only)",
            ));
        }
        other => return Err(bad(&format!("scheme {other} is not https"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials in the URL; the token comes from GITHUB_TOKEN",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a query or fragment has no place in an API base URL"));
    }
    Ok(url)
}

/// An HTTP method we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

/// An answer: status, the headers we read, and the body.
#[derive(Debug)]
struct Reply {
    status: u16,
    retry_after: Option<String>,
    remaining: Option<String>,
    reset: Option<String>,
    link: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self, what: &str) -> Result<Value, GithubError> {
        serde_json::from_str(&self.body).map_err(|e| {
            GithubError::Transport(format!("{what}: GitHub's answer is not JSON: {e}"))
        })
    }
}

/// Why a retry waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pause {
    /// A 5xx or a connection failure: exponential backoff.
    Backoff,
    /// GitHub said how long (`retry-after`, or until `x-ratelimit-reset`).
    Asked(Duration),
    /// A secondary rate limit that named no time: at least a minute, doubling.
    Secondary,
}

/// One attempt's failure.
enum Failure {
    /// Worth retrying after the pause.
    Transient(GithubError, Pause),
    /// Not worth retrying.
    Permanent(GithubError),
}

/// A marked comment of the author.
#[derive(Debug, Clone)]
struct Marked {
    id: u64,
    url: String,
}

/// The waits of one retried operation.
struct Waits {
    backoff: Duration,
    secondary: Duration,
}

/// A client for one API base URL (`https://api.github.com` or a GitHub Enterprise one).
pub struct Client {
    octocrab: Octocrab,
    token: Token,
    retry: RetryPolicy,
    base: reqwest::Url,
    sleeper: Sleeper,
}

impl Client {
    /// A client authenticating with `token` against `api_base` (checked by [`check_api_url`]).
    pub fn new(api_base: &str, token: Token, retry: RetryPolicy) -> Result<Self, GithubError> {
        let base = check_api_url(api_base)?;
        let octocrab = Octocrab::builder()
            .base_uri(api_base)
            .map_err(|e| GithubError::BadInput(format!("GitHub API URL {api_base:?}: {e}")))?
            .personal_token(token.0.clone())
            .set_connect_timeout(Some(Duration::from_secs(15)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .build()
            .map_err(|e| GithubError::Transport(token.scrub(&e.to_string())))?;
        Ok(Self {
            octocrab,
            token,
            retry,
            base,
            sleeper: Arc::new(|d| Box::pin(tokio::time::sleep(d))),
        })
    }

    /// The same client waiting through `sleeper` (tests: record the waits, skip the time).
    pub fn with_sleeper(mut self, sleeper: Sleeper) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// The login the token acts as (`GET /user`). A GitHub App's token, the workflow's
    /// `GITHUB_TOKEN` included, may not read it (403): then the author must be given.
    pub async fn authenticated_login(&self) -> Result<String, GithubError> {
        let reply = match self
            .call(
                "reading the token's login (GET /user)",
                Method::Get,
                "/user",
                None,
            )
            .await
        {
            Err(GithubError::Api {
                status: 403 | 404,
                message,
                ..
            }) => {
                return Err(GithubError::BadInput(format!(
                    "cannot tell whose comment to update: GET /user answered \"{message}\" (a GitHub App token, such as the workflow's GITHUB_TOKEN, cannot read it); pass --author LOGIN (for GITHUB_TOKEN: --author 'github-actions[bot]')"
                )));
            }
            other => other?,
        };
        reply.json("reading the token's login")?["login"]
            .as_str()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| GithubError::Transport("GET /user answered without a login".into()))
    }

    /// Creates the comment, or updates the oldest comment whose body starts with `marker` and
    /// whose author is `author` (deleting that author's other marked comments). Every page of
    /// comments is read, within the policy's caps.
    pub async fn upsert_comment(
        &self,
        target: &Target,
        marker: &str,
        author: &str,
        body: &str,
    ) -> Result<Posted, GithubError> {
        let what = "creating the comment";
        let route = format!(
            "/repos/{}/{}/issues/{}/comments",
            target.owner, target.repo, target.pr
        );
        let payload = serde_json::json!({ "body": body });
        let mut waits = self.waits();
        let mut attempt = 1;
        let created = loop {
            let marked = self.marked(target, marker, author).await?;
            if let Some((oldest, others)) = marked.split_first() {
                let url = self.update(target, oldest.id, body).await?;
                self.delete(target, others).await?;
                return Ok(Posted::Updated { id: oldest.id, url });
            }
            match self
                .attempt(what, Method::Post, &route, Some(&payload))
                .await
            {
                Ok(reply) => break comment_of(&reply.json(what)?, what)?,
                // The POST may have created the comment all the same: list again first.
                Err(Failure::Transient(e, pause)) if attempt < self.retry.attempts => {
                    self.wait(&mut waits, pause, &e, attempt).await?;
                    attempt += 1;
                }
                Err(Failure::Transient(e, _)) => {
                    return Err(GithubError::GaveUp {
                        attempts: attempt,
                        last: Box::new(e),
                    });
                }
                Err(Failure::Permanent(e)) => return Err(e),
            }
        };
        // Runs that raced both found nothing and created one each: converge on the oldest.
        let marked = self.marked(target, marker, author).await?;
        match marked.split_first() {
            Some((oldest, others)) if oldest.id != created.id => {
                let url = self.update(target, oldest.id, body).await?;
                self.delete(target, others).await?;
                Ok(Posted::Updated { id: oldest.id, url })
            }
            Some((_, others)) => {
                self.delete(target, others).await?;
                Ok(Posted::Created {
                    id: created.id,
                    url: created.url,
                })
            }
            None => Ok(Posted::Created {
                id: created.id,
                url: created.url,
            }),
        }
    }

    /// The head commit of the pull request, to check that an artifact belongs to it.
    pub async fn pull_request_head(&self, target: &Target) -> Result<String, GithubError> {
        let route = format!(
            "/repos/{}/{}/pulls/{}",
            target.owner, target.repo, target.pr
        );
        let pr = self
            .call("reading the pull request", Method::Get, &route, None)
            .await?
            .json("reading the pull request")?;
        pr["head"]["sha"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| GithubError::Transport("the pull request has no head.sha".into()))
    }

    async fn update(&self, target: &Target, id: u64, body: &str) -> Result<String, GithubError> {
        let what = "updating the comment";
        let route = format!(
            "/repos/{}/{}/issues/comments/{id}",
            target.owner, target.repo
        );
        // PATCH, as GitHub documents it; repeating it is harmless.
        let reply = self
            .call(
                what,
                Method::Patch,
                &route,
                Some(&serde_json::json!({ "body": body })),
            )
            .await?;
        Ok(comment_of(&reply.json(what)?, what)?.url)
    }

    /// Deletes duplicates; one already gone (404) is fine.
    async fn delete(&self, target: &Target, comments: &[Marked]) -> Result<(), GithubError> {
        for c in comments {
            let route = format!(
                "/repos/{}/{}/issues/comments/{}",
                target.owner, target.repo, c.id
            );
            match self
                .call("deleting a duplicate comment", Method::Delete, &route, None)
                .await
            {
                Ok(_) | Err(GithubError::Api { status: 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The author's comments that start with the marker, oldest first, over every page.
    async fn marked(
        &self,
        target: &Target,
        marker: &str,
        author: &str,
    ) -> Result<Vec<Marked>, GithubError> {
        let what = "listing the PR's comments";
        let started = tokio::time::Instant::now();
        let mut next = Some(format!(
            "/repos/{}/{}/issues/{}/comments?per_page=100",
            target.owner, target.repo, target.pr
        ));
        let mut seen = std::collections::HashSet::new();
        let mut found = Vec::new();
        let mut pages = 0u32;
        while let Some(route) = next.take() {
            if pages >= self.retry.max_pages {
                return Err(GithubError::Refused(format!(
                    "{what}: stopped after {pages} pages without reaching the last; refusing to post a comment that may already exist further on"
                )));
            }
            if started.elapsed() > self.retry.max_listing_time {
                return Err(GithubError::Refused(format!(
                    "{what}: stopped after {:.0} s and {pages} pages without reaching the last; refusing to post a comment that may already exist further on",
                    started.elapsed().as_secs_f64()
                )));
            }
            if !seen.insert(route.clone()) {
                return Err(GithubError::Refused(format!(
                    "{what}: the next-page link repeats a page already read"
                )));
            }
            pages += 1;
            let reply = self.call(what, Method::Get, &route, None).await?;
            let page = reply.json(what)?;
            let Some(items) = page.as_array() else {
                return Err(GithubError::Transport(format!(
                    "{what}: GitHub's answer is not a list"
                )));
            };
            for c in items {
                let ours = c["body"]
                    .as_str()
                    .is_some_and(|b| b.trim_start().starts_with(marker))
                    && c["user"]["login"].as_str() == Some(author);
                if ours {
                    found.push(comment_of(c, what)?);
                }
            }
            next = match reply.link.as_deref().and_then(next_link) {
                Some(url) => Some(self.same_origin(&url, what)?),
                None => None,
            };
        }
        found.sort_by_key(|c| c.id);
        Ok(found)
    }

    /// The path and query of a `next` link, if it points into the API base; else an error.
    fn same_origin(&self, link: &str, what: &str) -> Result<String, GithubError> {
        let refuse = || {
            GithubError::Refused(format!(
                "{what}: the next-page link {:?} leaves the API ({}); refusing to follow it",
                crate::report::escape::truncate(link, 200),
                self.base.origin().ascii_serialization()
            ))
        };
        let url = reqwest::Url::parse(link).map_err(|_| refuse())?;
        let base_path = self.base.path().trim_end_matches('/');
        let inside = url.origin() == self.base.origin()
            && url.username().is_empty()
            && url.password().is_none()
            && (url.path() == base_path || url.path().starts_with(&format!("{base_path}/")));
        if !inside {
            return Err(refuse());
        }
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }

    fn waits(&self) -> Waits {
        Waits {
            backoff: self.retry.initial_backoff,
            secondary: self.retry.secondary_wait,
        }
    }

    /// Sleeps as `pause` asks, with one line on stderr; a wait beyond the cap gives up.
    async fn wait(
        &self,
        waits: &mut Waits,
        pause: Pause,
        error: &GithubError,
        attempt: u32,
    ) -> Result<(), GithubError> {
        let (wait, why) = match pause {
            Pause::Backoff => {
                let w = waits.backoff.min(self.retry.max_backoff);
                waits.backoff = (waits.backoff * 2).min(self.retry.max_backoff);
                (w, "backing off")
            }
            Pause::Asked(w) => (w, "as GitHub asks"),
            Pause::Secondary => {
                let w = waits.secondary;
                waits.secondary = waits.secondary.saturating_mul(2);
                (w, "secondary rate limit, no time named: at least a minute")
            }
        };
        if wait > self.retry.max_wait {
            return Err(GithubError::GaveUp {
                attempts: attempt,
                last: Box::new(GithubError::Transport(format!(
                    "{error}; GitHub asks to wait {} s, longer than the {} s this command waits: run it again later",
                    wait.as_secs(),
                    self.retry.max_wait.as_secs()
                ))),
            });
        }
        tracing::warn!("{error}; retrying in {wait:?}");
        eprintln!(
            "github: {error}; waiting {:.1} s ({why}) before attempt {} of {}",
            wait.as_secs_f64(),
            attempt + 1,
            self.retry.attempts
        );
        (self.sleeper)(wait).await;
        Ok(())
    }

    /// Sends until it succeeds, fails permanently, or the attempts run out. Only for
    /// requests that may be repeated (GET, PATCH, DELETE).
    async fn call(
        &self,
        what: &str,
        method: Method,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Reply, GithubError> {
        debug_assert_ne!(method, Method::Post, "a POST is not retried blindly");
        let mut waits = self.waits();
        let mut attempt = 1;
        loop {
            match self.attempt(what, method, route, body).await {
                Ok(reply) => return Ok(reply),
                Err(Failure::Transient(e, pause)) if attempt < self.retry.attempts => {
                    self.wait(&mut waits, pause, &e, attempt).await?;
                    attempt += 1;
                }
                Err(Failure::Transient(e, _)) => {
                    return Err(GithubError::GaveUp {
                        attempts: attempt,
                        last: Box::new(e),
                    });
                }
                Err(Failure::Permanent(e)) => return Err(e),
            }
        }
    }

    /// One request, its failure classified.
    async fn attempt(
        &self,
        what: &str,
        method: Method,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Reply, Failure> {
        let transport = |e: octocrab::Error| {
            let transient = matches!(
                e,
                octocrab::Error::Hyper { .. }
                    | octocrab::Error::Service { .. }
                    | octocrab::Error::Http { .. }
            );
            let error =
                GithubError::Transport(format!("{what}: {}", self.token.scrub(&e.to_string())));
            if transient {
                Failure::Transient(error, Pause::Backoff)
            } else {
                Failure::Permanent(error)
            }
        };
        let response = match method {
            Method::Get => self.octocrab._get(route).await,
            Method::Post => self.octocrab._post(route, body).await,
            Method::Patch => self.octocrab._patch(route, body).await,
            Method::Delete => self.octocrab._delete(route, body).await,
        }
        .map_err(transport)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let (retry_after, remaining, reset, link) = (
            header("retry-after"),
            header("x-ratelimit-remaining"),
            header("x-ratelimit-reset"),
            header("link"),
        );
        let body = self
            .octocrab
            .body_to_string(response)
            .await
            .map_err(transport)?;
        let reply = Reply {
            status,
            retry_after,
            remaining,
            reset,
            link,
            body,
        };
        if (200..300).contains(&status) {
            return Ok(reply);
        }
        let message = serde_json::from_str::<Value>(&reply.body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| {
                let text = reply.body.trim();
                if text.is_empty() {
                    format!("HTTP {status}")
                } else {
                    crate::report::escape::truncate(text, 300)
                }
            });
        let error = GithubError::Api {
            what: what.to_owned(),
            status,
            message: self.token.scrub(&message),
        };
        match classify(&reply, &message, unix_now()) {
            Some(pause) => Err(Failure::Transient(error, pause)),
            None => Err(Failure::Permanent(error)),
        }
    }
}

/// Seconds since the epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `None`: permanent. `Some(pause)`: transient, per GitHub's rules for rate limits (see the
/// module's documentation).
fn classify(reply: &Reply, message: &str, now: u64) -> Option<Pause> {
    let retry_after = reply
        .retry_after
        .as_deref()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let exhausted = reply.remaining.as_deref().map(str::trim) == Some("0");
    let until_reset = reply
        .reset
        .as_deref()
        .and_then(|v| v.trim().parse::<u64>().ok())
        // One second past the reset, so the retry lands after it.
        .map(|reset| Duration::from_secs(reset.saturating_sub(now) + 1));
    let secondary = message
        .to_ascii_lowercase()
        .contains("secondary rate limit");
    let rate_limited = match reply.status {
        429 => true,
        403 => secondary || exhausted || retry_after.is_some(),
        _ => false,
    };
    if rate_limited {
        return Some(match (retry_after, until_reset) {
            (Some(wait), _) => Pause::Asked(wait),
            (None, Some(wait)) if exhausted => Pause::Asked(wait),
            _ => Pause::Secondary,
        });
    }
    match reply.status {
        500..=599 => Some(retry_after.map_or(Pause::Backoff, Pause::Asked)),
        _ => None,
    }
}

/// The next-page URL of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// The id and URL of a comment in GitHub's JSON.
fn comment_of(c: &Value, what: &str) -> Result<Marked, GithubError> {
    match (c["id"].as_u64(), c["html_url"].as_str()) {
        (Some(id), Some(url)) => Ok(Marked {
            id,
            url: url.to_owned(),
        }),
        _ => Err(GithubError::Transport(format!(
            "{what}: GitHub's answer has no comment id and html_url"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&str, &str)]) -> Reply {
        let h = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        };
        Reply {
            status,
            retry_after: h("retry-after"),
            remaining: h("x-ratelimit-remaining"),
            reset: h("x-ratelimit-reset"),
            link: None,
            body: String::new(),
        }
    }

    #[test]
    fn rate_limits_follow_githubs_rules() {
        let now = 1_000_000;
        // Primary: remaining 0 → until the reset.
        let primary = reply(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1000120"),
            ],
        );
        assert_eq!(
            classify(&primary, "API rate limit exceeded", now),
            Some(Pause::Asked(Duration::from_secs(121)))
        );
        // Retry-After wins, in full.
        let asked = reply(429, &[("retry-after", "300")]);
        assert_eq!(
            classify(&asked, "", now),
            Some(Pause::Asked(Duration::from_secs(300)))
        );
        // Secondary without a time: at least a minute (the policy's).
        let secondary = reply(403, &[]);
        assert_eq!(
            classify(&secondary, "You have exceeded a secondary rate limit", now),
            Some(Pause::Secondary)
        );
        // A 403 that is no limit is permanent; 5xx backs off.
        assert_eq!(
            classify(&reply(403, &[]), "Resource not accessible", now),
            None
        );
        assert_eq!(classify(&reply(502, &[]), "", now), Some(Pause::Backoff));
        assert_eq!(classify(&reply(422, &[]), "", now), None);
    }

    #[test]
    fn next_links() {
        let h = "<https://api.github.com/x?page=2>; rel=\"next\", <https://api.github.com/x?page=9>; rel=\"last\"";
        assert_eq!(next_link(h).unwrap(), "https://api.github.com/x?page=2");
        assert_eq!(next_link("<https://a/x?page=9>; rel=\"last\""), None);
    }

    #[test]
    fn api_urls_need_https_unless_loopback() {
        for ok in [
            "https://api.github.com",
            "https://ghe.example/api/v3",
            "http://127.0.0.1:8080",
            "http://[::1]:9",
            "http://localhost:1",
        ] {
            assert!(check_api_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.github.com",
            "http://10.0.0.1",
            "ftp://x",
            "https://user:pw@x",
            "https://x/?q=1",
            "not a url",
            "",
        ] {
            let e = check_api_url(bad).unwrap_err();
            assert_eq!(crate::Error::from(e).exit_code(), 2, "{bad}");
        }
    }
}
