//! `cargo xtask perf comment`: renders the sticky PR comment of an untrusted report directory
//! and posts or updates it.
//!
//! The GitHub Actions environment is read here, not by the caller: the token only from
//! `GITHUB_TOKEN`, the API from `GITHUB_API_URL` (GitHub Enterprise, default
//! `https://api.github.com`; https unless loopback), and the body also goes to
//! `$GITHUB_STEP_SUMMARY` when that is set, before anything is posted, so a run whose token
//! cannot comment still shows it.
//!
//! Every argument is checked before anything is read or sent. When the workflow names the
//! scenario (`--scenario`), a run that left no report, or an artifact that is refused, still
//! updates the comment, to "no report for <commit>", so an old verdict never stands for a new
//! commit. The comment updated is the one of the token's own login (`GET /user`) unless an
//! author is given; a token that cannot read its login (a GitHub App's, the workflow's
//! `GITHUB_TOKEN`) needs the author given.

use std::path::PathBuf;

use crate::{
    Error,
    github::{
        self, GithubError, artifact,
        client::{self, Posted},
    },
    report::{
        comment::{self, Links, NoReport},
        escape::{is_identifier, truncate},
    },
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
    /// What the trusted workflow says: links, the check's conclusion, the commit.
    pub links: Links,
    /// The scenario the comment is for, from the trusted workflow: it names the marker when
    /// the artifact has no usable summary, and the summary's must be the same.
    pub scenario: Option<String>,
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
    /// Only update a marked comment written by this login; default: the token's own login.
    pub author: Option<String>,
    /// Refuse unless the PR's head commit is this one.
    pub expect_head_sha: Option<String>,
}

/// What was done.
#[derive(Debug, Clone)]
pub enum Done {
    /// A dry run: the body, not posted.
    Rendered(String),
    /// The comment was created or updated.
    Posted(Posted),
}

/// What the comment could say about the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportState {
    /// The report was read and rendered.
    Rendered,
    /// The comment says there is no report (see [`NoReport`]).
    Absent(NoReport),
}

/// What happened.
#[derive(Debug, Clone)]
pub struct CommentOutcome {
    /// Rendered or posted.
    pub done: Done,
    /// Whether the report was there.
    pub report: ReportState,
}

/// Renders the comment, writes it to the step summary, and posts it unless this is a dry run.
pub fn comment(request: &CommentRequest) -> Result<CommentOutcome, Error> {
    check_arguments(request)?;
    let (marker_scenario, body, report) = render(request)?;
    super::write_step_summary(&body);
    let Some(post) = &request.post else {
        return Ok(CommentOutcome {
            done: Done::Rendered(body),
            report,
        });
    };
    let (owner, repo) = github::parse_repo(&post.repo)?;
    let token = client::Token::from_env(TOKEN_VAR)?;
    let api = std::env::var("GITHUB_API_URL").unwrap_or_else(|_| DEFAULT_API_URL.into());
    client::check_api_url(&api)?;
    let target = client::Target {
        owner,
        repo,
        pr: post.pr,
    };
    let marker = comment::marker(&marker_scenario);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| GithubError::Transport(format!("tokio runtime: {e}")))?;
    let posted = runtime.block_on(async {
        let c = client::Client::new(&api, token, client::RetryPolicy::default())?;
        if let Some(expected) = &post.expect_head_sha {
            check_head(&c.pull_request_head(&target).await?, expected, target.pr)?;
        }
        let author = match &post.author {
            Some(a) => a.clone(),
            None => c.authenticated_login().await?,
        };
        c.upsert_comment(&target, &marker, &author, &body).await
    })?;
    Ok(CommentOutcome {
        done: Done::Posted(posted),
        report,
    })
}

/// The marker's scenario, the body, and whether the report was there.
fn render(request: &CommentRequest) -> Result<(String, String, ReportState), Error> {
    let no_report = |scenario: &str, why: NoReport| {
        (
            scenario.to_owned(),
            comment::render_no_report(scenario, &request.links, &why),
            ReportState::Absent(why),
        )
    };
    let loaded = artifact::load_report(&request.report, request.max_artifact_bytes);
    Ok(match (loaded, request.scenario.as_deref()) {
        (Ok(summary), Some(expected)) if summary.scenario.name != expected => no_report(
            expected,
            NoReport::Refused(format!(
                "its summary is for scenario {}, not {expected}",
                truncate(&summary.scenario.name, 80)
            )),
        ),
        (Ok(summary), _) => (
            summary.scenario.name.clone(),
            comment::render(&summary, &request.links, comment::DEFAULT_MAX_CHARS),
            ReportState::Rendered,
        ),
        (Err(_), Some(expected)) if !artifact::has_summary(&request.report) => {
            no_report(expected, NoReport::Missing)
        }
        (Err(e), Some(expected)) => no_report(expected, NoReport::Refused(e.to_string())),
        (Err(e), None) => return Err(e.into()),
    })
}

/// Every argument, checked before anything is read or sent.
fn check_arguments(request: &CommentRequest) -> Result<(), GithubError> {
    let bad = |s: String| Err(GithubError::BadInput(s));
    if let Some(s) = &request.scenario
        && !is_identifier(s)
    {
        return bad(format!(
            "--scenario {:?} is not a plain identifier (letters, digits, _ - .)",
            truncate(s, 100)
        ));
    }
    if let Some(sha) = &request.links.head_sha
        && !is_commit(sha)
    {
        return bad(format!(
            "--head-sha {:?} is not a commit id (40 or 64 hex digits)",
            truncate(sha, 100)
        ));
    }
    if let Some(a) = &request.links.artifact
        && !is_identifier(a)
    {
        return bad(format!(
            "--artifact {:?} is not a plain artifact name (letters, digits, _ - ., at most 100)",
            truncate(a, 100)
        ));
    }
    if let Some(u) = &request.links.run_url
        && (!u.starts_with("https://") || u.len() > 500)
    {
        return bad(format!(
            "--run-url {:?} is not an https URL of at most 500 characters",
            truncate(u, 100)
        ));
    }
    if let Some(post) = &request.post {
        if let Some(sha) = &post.expect_head_sha
            && !is_commit(sha.trim())
        {
            return bad(format!(
                "--expect-head-sha {:?} is not a commit id (40 or 64 hex digits)",
                truncate(sha, 100)
            ));
        }
        if let Some(a) = &post.author
            && !is_login(a)
        {
            return bad(format!(
                "--author {:?} is not a GitHub login (letters, digits and -, at most 39, or an app's NAME[bot])",
                truncate(a, 100)
            ));
        }
    }
    Ok(())
}

/// A full commit id: 40 (SHA-1) or 64 (SHA-256) hex digits.
fn is_commit(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// A GitHub login: a user's (alphanumerics and single hyphens, at most 39) or an app's bot
/// (`name[bot]`).
fn is_login(s: &str) -> bool {
    let name = s.strip_suffix("[bot]").unwrap_or(s);
    !name.is_empty()
        && name.len() <= 39
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
}

/// The PR's head must be the commit the report was made for: this ties an untrusted
/// artifact's PR number to the workflow run that produced it.
fn check_head(head: &str, expected: &str, pr: u64) -> Result<(), GithubError> {
    if head.eq_ignore_ascii_case(expected.trim()) {
        Ok(())
    } else {
        Err(GithubError::BadInput(format!(
            "PR #{pr} has head {}, but the report was made for {}: refusing to comment on another pull request",
            truncate(head, 64),
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

    #[test]
    fn logins_and_commits() {
        for ok in ["octocat", "github-actions[bot]", "a-b-1"] {
            assert!(is_login(ok), "{ok}");
        }
        for bad in ["", "-x", "a b", "x[bot][bot]", "<script>", &"x".repeat(40)] {
            assert!(!is_login(bad), "{bad}");
        }
        assert!(is_commit(&"a".repeat(40)) && is_commit(&"F".repeat(64)));
        assert!(!is_commit("abc") && !is_commit(&"g".repeat(40)));
    }
}
