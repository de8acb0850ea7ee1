//! Every call to `git`: resolving refs, listing commits, worktrees and the revision of a
//! checkout. Other modules ask this one instead of spawning git themselves.
//!
//! Errors name the git command that failed and carry git's own stderr, so a message never
//! has to guess what went wrong. This module knows nothing of builds or runs.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// Why a git command did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git itself could not be started.
    #[error("cannot run `git {command}` in {}: {source}; is git installed?", repo.display())]
    Spawn {
        /// The arguments, space-separated.
        command: String,
        /// The repository.
        repo: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The ref names no commit in the repository.
    #[error(
        "git ref {git_ref:?} does not exist in {}: `git {command}` found no commit; check the name or fetch it",
        repo.display()
    )]
    UnknownRef {
        /// The ref as given.
        git_ref: String,
        /// The repository.
        repo: PathBuf,
        /// The arguments, space-separated.
        command: String,
    },
    /// git ran and reported an error.
    #[error("`git {command}` failed in {}: {stderr}", repo.display())]
    Failed {
        /// The arguments, space-separated.
        command: String,
        /// The repository.
        repo: PathBuf,
        /// git's stderr, trimmed.
        stderr: String,
    },
}

/// Runs `git args` in `repo` and returns its output whatever the exit status.
fn output(repo: &Path, args: &[&str]) -> Result<Output, GitError> {
    Command::new("git")
        .current_dir(repo)
        .args(args)
        .output()
        .map_err(|source| GitError::Spawn {
            command: args.join(" "),
            repo: repo.to_path_buf(),
            source,
        })
}

/// Runs `git args` in `repo`; its trimmed stdout on success, its stderr in the error otherwise.
fn git(repo: &Path, args: &[&str]) -> Result<String, GitError> {
    let out = output(repo, args)?;
    if !out.status.success() {
        return Err(GitError::Failed {
            command: args.join(" "),
            repo: repo.to_path_buf(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The commit id `git_ref` names in `repo`.
pub fn resolve_commit(repo: &Path, git_ref: &str) -> Result<String, GitError> {
    let spec = format!("{git_ref}^{{commit}}");
    let args = ["rev-parse", "--verify", "--quiet", &spec];
    let out = output(repo, &args)?;
    if !out.status.success() {
        return Err(GitError::UnknownRef {
            git_ref: git_ref.to_owned(),
            repo: repo.to_path_buf(),
            command: args.join(" "),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Whether commit `ancestor` is an ancestor of (or equal to) commit `descendant`.
pub fn is_ancestor(repo: &Path, ancestor: &str, descendant: &str) -> Result<bool, GitError> {
    let args = ["merge-base", "--is-ancestor", ancestor, descendant];
    let out = output(repo, &args)?;
    // git documents exit 1 as "not an ancestor"; anything else non-zero is an error.
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(GitError::Failed {
            command: args.join(" "),
            repo: repo.to_path_buf(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }),
    }
}

/// Commits from `from` (exclusive) to `to` (inclusive) along the ancestry path, oldest first.
pub fn ancestry_path(repo: &Path, from: &str, to: &str) -> Result<Vec<String>, GitError> {
    let range = format!("{from}..{to}");
    let list = git(repo, &["rev-list", "--ancestry-path", "--reverse", &range])?;
    Ok(list.lines().map(str::to_owned).collect())
}

/// `HEAD`'s commit id in the checkout at `dir`.
pub fn head_commit(dir: &Path) -> Result<String, GitError> {
    git(dir, &["rev-parse", "HEAD"])
}

/// Whether tracked files in the checkout at `dir` have uncommitted changes.
pub fn is_dirty(dir: &Path) -> Result<bool, GitError> {
    git(dir, &["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty())
}

/// A detached git worktree of one commit, removed on drop.
#[derive(Debug)]
pub struct Worktree {
    /// Its directory.
    pub path: PathBuf,
    repo: PathBuf,
}

impl Worktree {
    /// Checks `commit` out into a fresh worktree at `path`, replacing whatever was there
    /// (a worktree left behind by an interrupted run).
    pub fn add(repo: &Path, path: &Path, commit: &str) -> Result<Self, GitError> {
        let path_arg = path.display().to_string();
        // A stale worktree at this path may or may not exist: failing to remove it is normal.
        let _ = output(repo, &["worktree", "remove", "--force", &path_arg]);
        let _ = std::fs::remove_dir_all(path);
        git(
            repo,
            &["worktree", "add", "--detach", "--force", &path_arg, commit],
        )?;
        Ok(Self {
            path: path.to_path_buf(),
            repo: repo.to_path_buf(),
        })
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        // Nothing to report from a destructor; a leftover worktree is replaced by the next add.
        let _ = output(
            &self.repo,
            &[
                "worktree",
                "remove",
                "--force",
                &self.path.display().to_string(),
            ],
        );
    }
}

/// A git runner for tests that build throwaway repositories (here and in `tasks::bisect`).
#[cfg(test)]
pub(crate) mod testing {
    use std::{path::Path, process::Command};

    /// Runs git in `dir` with a fixed identity, asserts it succeeded and returns its stdout,
    /// trimmed.
    pub(crate) fn git_in(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository with one commit on `main`.
    fn repo() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            testing::git_in(dir.path(), args);
        };
        run(&["init", "-q", "-b", "main"]);
        std::fs::write(dir.path().join("f"), "1\n").unwrap();
        run(&["add", "f"]);
        run(&["commit", "-q", "-m", "one"]);
        let head = head_commit(dir.path()).unwrap();
        (dir, head)
    }

    #[test]
    fn an_unknown_ref_names_the_ref_and_the_command() {
        let (dir, head) = repo();
        assert_eq!(resolve_commit(dir.path(), "main").unwrap(), head);
        let e = resolve_commit(dir.path(), "no-such-ref").unwrap_err();
        assert!(matches!(e, GitError::UnknownRef { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.starts_with("git ref \"no-such-ref\" does not exist in "),
            "{text}"
        );
        assert!(
            text.contains("`git rev-parse --verify --quiet no-such-ref^{commit}`"),
            "{text}"
        );
    }

    #[test]
    fn a_failed_command_carries_the_command_and_gits_stderr() {
        let (dir, _) = repo();
        let e = ancestry_path(dir.path(), "main", "nope").unwrap_err();
        let GitError::Failed { stderr, .. } = &e else {
            panic!("{e:?}")
        };
        assert!(!stderr.is_empty());
        let text = e.to_string();
        assert!(
            text.starts_with("`git rev-list --ancestry-path --reverse main..nope` failed in "),
            "{text}"
        );
        assert!(text.ends_with(stderr.as_str()), "{text}");
    }

    #[test]
    fn outside_a_repository_git_fails_with_its_own_words() {
        let dir = tempfile::tempdir().unwrap();
        let e = head_commit(dir.path()).unwrap_err();
        assert!(e.to_string().contains("not a git repository"), "{e}");
    }

    #[test]
    fn dirty_state_and_worktrees() {
        let (dir, head) = repo();
        assert!(!is_dirty(dir.path()).unwrap());
        std::fs::write(dir.path().join("f"), "2\n").unwrap();
        assert!(is_dirty(dir.path()).unwrap());
        let path = dir.path().join("wt");
        let worktree = Worktree::add(dir.path(), &path, &head).unwrap();
        assert_eq!(head_commit(&worktree.path).unwrap(), head);
        assert_eq!(std::fs::read_to_string(path.join("f")).unwrap(), "1\n");
        drop(worktree);
        assert!(!path.exists());
        let e = Worktree::add(dir.path(), &path, "0000000").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("`git worktree add --detach --force "),
            "{e}"
        );
    }
}
