//! The entry points: one function per `cargo xtask` command, each taking a request struct and
//! returning data (or a [`crate::Error`] that knows its exit code). They compose the stages;
//! none holds a stage's logic.

pub mod perf;
pub mod bench;
pub mod suite;
pub mod validate;
pub mod bisect;
pub mod history;
pub mod comment;

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
