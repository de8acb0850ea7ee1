//! The one GitHub write swarmbench makes: create or update a sticky PR comment, via octocrab.
//!
//! The token lives in a [`Token`] whose `Debug` and `Display` print `***`; it goes to octocrab's
//! `Authorization` header and nowhere else, and any error text is scrubbed of it before it
//! reaches a log. Transient failures (5xx, 429, secondary rate limits, connection errors) are
//! retried with exponential backoff; everything else fails at once with GitHub's message.

use std::{future::Future, time::Duration};

use octocrab::{Octocrab, models::issues::Comment};

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

/// How often and how patiently to retry transient failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Wait before the first retry; doubled each time.
    pub initial_backoff: Duration,
    /// Longest wait, also the cap on a server's `Retry-After`.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
        }
    }
}

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

/// A client for one API base URL (`https://api.github.com` or a GitHub Enterprise one).
pub struct Client {
    octocrab: Octocrab,
    token: Token,
    retry: RetryPolicy,
}

impl Client {
    /// A client authenticating with `token` against `api_base`.
    pub fn new(api_base: &str, token: Token, retry: RetryPolicy) -> Result<Self, GithubError> {
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
        })
    }

    /// Creates the comment, or updates the first one whose body starts with `marker` (and,
    /// when `author` is given, was written by that login). Every page of comments is read.
    pub async fn upsert_comment(
        &self,
        target: &Target,
        marker: &str,
        author: Option<&str>,
        body: &str,
    ) -> Result<Posted, GithubError> {
        let existing = self.find_marked(target, marker, author).await?;
        match existing {
            Some(id) => {
                let c = self
                    // PATCH, as GitHub documents it (octocrab's update_comment sends POST).
                    .retrying("updating the comment", || async move {
                        let route = format!(
                            "/repos/{}/{}/issues/comments/{id}",
                            target.owner, target.repo
                        );
                        self.octocrab
                            .patch::<Comment, _, _>(
                                route,
                                Some(&serde_json::json!({ "body": body })),
                            )
                            .await
                    })
                    .await?;
                Ok(Posted::Updated {
                    id,
                    url: c.html_url.to_string(),
                })
            }
            None => {
                let c = self
                    .retrying("creating the comment", || async move {
                        self.octocrab
                            .issues(&target.owner, &target.repo)
                            .create_comment(target.pr, body)
                            .await
                    })
                    .await?;
                Ok(Posted::Created {
                    id: c.id.into_inner(),
                    url: c.html_url.to_string(),
                })
            }
        }
    }

    /// The head commit of the pull request, to check that an artifact belongs to it.
    pub async fn pull_request_head(&self, target: &Target) -> Result<String, GithubError> {
        let route = format!(
            "/repos/{}/{}/pulls/{}",
            target.owner, target.repo, target.pr
        );
        let pr: serde_json::Value = self
            .retrying("reading the pull request", || {
                self.octocrab.get(&route, None::<&()>)
            })
            .await?;
        pr["head"]["sha"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| GithubError::Transport("the pull request has no head.sha".into()))
    }

    async fn find_marked(
        &self,
        target: &Target,
        marker: &str,
        author: Option<&str>,
    ) -> Result<Option<u64>, GithubError> {
        let is_ours = |c: &Comment| {
            c.body
                .as_deref()
                .is_some_and(|b| b.trim_start().starts_with(marker))
                && author.is_none_or(|a| c.user.login == a)
        };
        let mut page = self
            .retrying("listing the PR's comments", || async move {
                self.octocrab
                    .issues(&target.owner, &target.repo)
                    .list_comments(target.pr)
                    .per_page(100)
                    .send()
                    .await
            })
            .await?;
        loop {
            if let Some(c) = page.items.iter().find(|c| is_ours(c)) {
                return Ok(Some(c.id.into_inner()));
            }
            let next = page.next.clone();
            if next.is_none() {
                return Ok(None);
            }
            match self
                .retrying("listing the PR's comments", || {
                    self.octocrab.get_page::<Comment>(&next)
                })
                .await?
            {
                Some(p) => page = p,
                None => return Ok(None),
            }
        }
    }

    /// Runs `call` until it succeeds, fails permanently, or the attempts run out.
    async fn retrying<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, GithubError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = octocrab::Result<T>>,
    {
        let mut backoff = self.retry.initial_backoff;
        let mut attempt = 1;
        loop {
            let error = match call().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let transient = classify(&error);
            let error = self.describe(what, &error);
            match transient {
                Some(wait) if attempt < self.retry.attempts => {
                    let wait = wait.unwrap_or(backoff).min(self.retry.max_backoff);
                    tracing::warn!("{error}; retrying in {wait:?} (attempt {attempt})");
                    eprintln!(
                        "github: {error}; retrying in {:.1} s (attempt {attempt} of {})",
                        wait.as_secs_f64(),
                        self.retry.attempts
                    );
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(self.retry.max_backoff);
                    attempt += 1;
                }
                Some(_) => {
                    return Err(GithubError::GaveUp {
                        attempts: attempt,
                        last: Box::new(error),
                    });
                }
                None => return Err(error),
            }
        }
    }

    /// The error as ours, with GitHub's status and message and without the token.
    fn describe(&self, what: &str, error: &octocrab::Error) -> GithubError {
        match error {
            octocrab::Error::GitHub { source, .. } => GithubError::Api {
                what: what.to_owned(),
                status: source.status_code.as_u16(),
                message: self.token.scrub(&source.message),
            },
            other => {
                GithubError::Transport(format!("{what}: {}", self.token.scrub(&other.to_string())))
            }
        }
    }
}

/// `None`: permanent. `Some(wait)`: transient, with the server's requested wait if it gave one.
fn classify(error: &octocrab::Error) -> Option<Option<Duration>> {
    match error {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code.as_u16();
            let header = |name: &str| {
                source
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(name))
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let retry_after = header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            // GitHub's secondary rate limits answer 403 (or 429) with this wording and often
            // a Retry-After; primary limits say x-ratelimit-remaining: 0.
            let secondary = source
                .message
                .to_ascii_lowercase()
                .contains("secondary rate limit")
                || header("x-ratelimit-remaining").as_deref() == Some("0");
            match status {
                500..=599 | 429 => Some(retry_after),
                403 if secondary || retry_after.is_some() => Some(retry_after),
                _ => None,
            }
        }
        octocrab::Error::Hyper { .. }
        | octocrab::Error::Service { .. }
        | octocrab::Error::Http { .. } => Some(None),
        _ => None,
    }
}
