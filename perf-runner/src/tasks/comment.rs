//! `cargo xtask perf comment`: renders the sticky PR comment of an untrusted report directory
//! and posts or updates it.
//!
//! The GitHub Actions environment is read here, not by the caller: the token only from
//! `GITHUB_TOKEN`, the API from `GITHUB_API_URL` (GitHub Enterprise, default
//! `https://api.github.com`), and the body also goes to `$GITHUB_STEP_SUMMARY` when that is
//! set, before anything is posted, so a run whose token cannot comment still shows it.

use std::path::PathBuf;

use crate::{
    Error,
    github::{
        self, GithubError, artifact,
        client::{self, Posted},
    },
    report::comment::{self, Links},
};

/// The variable the token is read from.
pub const TOKEN_VAR: &str = "GITHUB_TOKEN";
/// The API used when `GITHUB_API_URL` is not set.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// What to comment and where.
#[derive(Debug, Clone)]
pub struct CommentRequest {
    /// The run's report directory (holding summary.json).
    pub report: PathBuf,
    /// Largest report directory accepted, bytes.
    pub max_artifact_bytes: u64,
    /// What the comment links to (from the trusted workflow).
    pub links: Links,
    /// Where to post; `None` renders only (a dry run, no token needed).
    pub post: Option<PostTo>,
}

/// The pull request to comment on.
#[derive(Debug, Clone)]
pub struct PostTo {
    /// Repository, `owner/name` (checked here).
    pub repo: String,
    /// Pull request number.
    pub pr: u64,
    /// Only update a marked comment written by this login.
    pub author: Option<String>,
    /// Refuse unless the PR's head commit is this one.
    pub expect_head_sha: Option<String>,
}

/// What happened.
#[derive(Debug, Clone)]
pub enum CommentOutcome {
    /// A dry run: the body, not posted.
    Rendered(String),
    /// The comment was created or updated.
    Posted(Posted),
}

/// Renders the comment, writes it to the step summary, and posts it unless this is a dry run.
pub fn comment(request: &CommentRequest) -> Result<CommentOutcome, Error> {
    let summary = artifact::load_report(&request.report, request.max_artifact_bytes)?;
    let body = comment::render(&summary, &request.links, comment::DEFAULT_MAX_CHARS);
    super::write_step_summary(&body);
    let Some(post) = &request.post else {
        return Ok(CommentOutcome::Rendered(body));
    };
    let (owner, repo) = github::parse_repo(&post.repo)?;
    let token = client::Token::from_env(TOKEN_VAR)?;
    let api = std::env::var("GITHUB_API_URL").unwrap_or_else(|_| DEFAULT_API_URL.into());
    let target = client::Target {
        owner,
        repo,
        pr: post.pr,
    };
    let marker = comment::marker(&summary.scenario.name);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| GithubError::Transport(format!("tokio runtime: {e}")))?;
    let posted = runtime.block_on(async {
        let c = client::Client::new(&api, token, client::RetryPolicy::default())?;
        if let Some(expected) = &post.expect_head_sha {
            check_head(&c.pull_request_head(&target).await?, expected, target.pr)?;
        }
        c.upsert_comment(&target, &marker, post.author.as_deref(), &body)
            .await
    })?;
    Ok(CommentOutcome::Posted(posted))
}

/// The PR's head must be the commit the report was made for: this ties an untrusted
/// artifact's PR number to the workflow run that produced it.
fn check_head(head: &str, expected: &str, pr: u64) -> Result<(), GithubError> {
    if head.eq_ignore_ascii_case(expected.trim()) {
        Ok(())
    } else {
        Err(GithubError::BadInput(format!(
            "PR #{pr} has head {head}, but the report was made for {}: refusing to comment on another pull request",
            expected.trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_head_is_bad_input() {
        assert!(check_head("ABC123", " abc123\n", 7).is_ok());
        let e = Error::from(check_head("abc123", "def456", 7).unwrap_err());
        assert!(
            e.to_string()
                .starts_with("PR #7 has head abc123, but the report was made for def456"),
            "{e}"
        );
        assert_eq!(e.exit_code(), 2);
    }
}
