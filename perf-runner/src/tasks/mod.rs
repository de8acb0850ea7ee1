//! The entry points: one function per `cargo xtask` command, each taking a request struct and
//! returning data (or a [`crate::Error`] that knows its exit code). They compose the stages;
//! none holds a stage's logic. [`Common`] holds the request fields the gated commands share,
//! [`gate`] their one comparison path, and [`no_verdict`] says when a comparison is none;
//! [`preflight`] is what the commands that run clusters check before building anything.

pub mod gate;
pub mod sequential;
pub mod no_verdict;
pub mod preflight;
pub mod perf;
pub mod bench;
pub mod suite;
pub mod scale_curve;
pub mod validate;
pub mod bisect;
pub mod history;
pub mod comment;
pub mod node_check;

use std::path::PathBuf;

use crate::data::output::OutputRoot;

/// The request fields `perf` and `bench` share.
#[derive(Debug, Clone)]
pub struct Common {
    /// The swarmbench repository.
    pub workspace: PathBuf,
    /// Directory of committed baselines.
    pub baselines: PathBuf,
    /// Output root; default `<workspace>/target/perf`.
    pub out: Option<PathBuf>,
    /// One fixed threshold for every metric (`--threshold`).
    pub threshold: Option<f64>,
    /// Less output: no progress bar (perf), no cargo or harness output (bench).
    pub quiet: bool,
}

impl Common {
    /// `out`, or the workspace's default output root.
    pub fn output_root(&self) -> OutputRoot {
        OutputRoot::chosen(self.out.as_deref(), &self.workspace)
    }
}

/// Appends `text` to the job summary when running in GitHub Actions (`GITHUB_STEP_SUMMARY`).
/// A summary that cannot be written is worth a warning, never a failed command.
fn write_step_summary(text: &str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return;
    };
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{text}\n").as_bytes()));
    if let Err(e) = appended {
        eprintln!("warning: cannot write GITHUB_STEP_SUMMARY: {e}");
    }
}
