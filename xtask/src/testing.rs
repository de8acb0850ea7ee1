//! `cargo xtask test`: installs what the tests need, builds everything once, runs every test.
//!
//! The order is chosen for the time a fresh clone takes on two cores:
//! - the tools (Debian packages, an npm package, one `cargo install`) install while the tests
//!   compile, instead of before;
//! - the benchmark harnesses that the bench CLI test runs through a nested
//!   `cargo bench --profile dev` are built in the same step, so no test compiles while the
//!   cluster tests run;
//! - with cargo-nextest (on this project's machines), the tests that start node clusters run
//!   one at a time and everything else runs beside them (`.config/nextest.toml`); without it,
//!   `cargo test` runs one test binary after another.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    thread,
};

use anyhow::{Context, bail};

use crate::tools;

/// What `cargo xtask test` was asked.
pub struct TestRequest {
    /// The workspace root.
    pub root: PathBuf,
    /// Install the tools and stop.
    pub tools_only: bool,
    /// Arguments for the test runner (test name filters, `--no-capture`, …).
    pub runner_args: Vec<String>,
}

/// Runs the test suite; the exit code is the runner's verdict.
pub fn run(request: &TestRequest) -> anyhow::Result<ExitCode> {
    if request.tools_only {
        tools::ensure_installed(&request.root)?;
        return Ok(ExitCode::SUCCESS);
    }
    let installing = {
        let root = request.root.clone();
        thread::spawn(move || tools::ensure_installed(&root))
    };
    let built = build(&request.root);
    let installed = installing
        .join()
        .unwrap_or_else(|_| bail!("installing the test tools panicked"));
    built?;
    installed?;

    // Doc tests first: nextest does not run them, and the suite's closing summary line should be
    // the main runner's.
    if !cargo(&request.root, &["test", "--workspace", "--doc", "--quiet"])?.success() {
        return Ok(ExitCode::FAILURE);
    }
    let status = if nextest_available(&request.root) {
        cargo_with(
            &request.root,
            &["nextest", "run", "--workspace"],
            &request.runner_args,
        )?
    } else {
        eprintln!(
            "xtask: cargo-nextest not found; running `cargo test` (one test binary at a time, slower)"
        );
        cargo_with(
            &request.root,
            &["test", "--workspace"],
            &request.runner_args,
        )?
    };
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Builds the test binaries and the benchmark harnesses the bench CLI test runs.
fn build(root: &Path) -> anyhow::Result<()> {
    for args in [
        &["test", "--workspace", "--no-run"][..],
        // Exactly the command perf-runner's bench task runs with `--cargo-profile dev`.
        &[
            "bench",
            "--profile",
            "dev",
            "--package",
            perf_runner::tasks::bench::PACKAGE,
            "--no-run",
        ],
    ] {
        let status = cargo(root, args)?;
        if !status.success() {
            bail!("`cargo {}` failed with {status}", args.join(" "));
        }
    }
    Ok(())
}

/// Whether `cargo nextest` runs here.
fn nextest_available(root: &Path) -> bool {
    perf_runner::cargo::command()
        .current_dir(root)
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|out| out.status.success())
}

fn cargo(root: &Path, args: &[&str]) -> anyhow::Result<std::process::ExitStatus> {
    cargo_with(root, args, &[])
}

fn cargo_with(
    root: &Path,
    args: &[&str],
    more: &[String],
) -> anyhow::Result<std::process::ExitStatus> {
    perf_runner::cargo::command()
        .current_dir(root)
        .args(args)
        .args(more)
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))
}
