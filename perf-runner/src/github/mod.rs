//! GitHub integration: the sticky PR comment.
//!
//! Split so that the trust boundary is visible: [`artifact`] reads an *untrusted* report
//! directory (an artifact that a fork's pull request produced) with size caps and identifier
//! checks, [`crate::report::comment`] renders it into a capped, escaped body, and [`client`]
//! posts it with the only credential involved. None of them ever runs code from the artifact.

pub mod artifact;
pub mod client;

/// Why a GitHub step failed.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// No token in the environment.
    #[error(
        "{0} is not set: the comment needs a token with pull-requests: write (in Actions: env: {0}: ${{{{ secrets.GITHUB_TOKEN }}}})"
    )]
    MissingToken(String),
    /// Arguments or the artifact are not usable.
    #[error("{0}")]
    BadInput(String),
    /// GitHub answered with an error.
    #[error("{what}: GitHub answered {status}: {message}")]
    Api {
        /// What was being done.
        what: String,
        /// HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// The request did not get an answer.
    #[error("{0}")]
    Transport(String),
    /// GitHub's answers were not safe to act on (a next-page link to another origin, paging
    /// without end): nothing was posted.
    #[error("{0}")]
    Refused(String),
    /// Transient failures did not stop.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: Box<GithubError>,
    },
}

/// `owner/name`, checked against GitHub's alphabet for both.
pub fn parse_repo(s: &str) -> Result<(String, String), GithubError> {
    let valid = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && part != "."
            && part != ".."
    };
    match s.split_once('/') {
        Some((owner, name)) if valid(owner) && valid(name) => Ok((owner.into(), name.into())),
        _ => Err(GithubError::BadInput(format!(
            "--repo {s:?} is not of the form owner/name"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repos() {
        assert_eq!(
            parse_repo("libp2p/rust-libp2p").unwrap(),
            ("libp2p".into(), "rust-libp2p".into())
        );
        for bad in ["", "x", "a/b/c", "../x", "a/..", "a b/c", "a/"] {
            assert_eq!(
                crate::Error::from(parse_repo(bad).unwrap_err()).exit_code(),
                2,
                "{bad}"
            );
        }
    }

    #[test]
    fn missing_token_names_the_variable() {
        let e = GithubError::MissingToken("GITHUB_TOKEN".into());
        assert!(e.to_string().starts_with("GITHUB_TOKEN is not set"), "{e}");
        assert!(e.to_string().contains("${{ secrets.GITHUB_TOKEN }}"), "{e}");
    }
}
