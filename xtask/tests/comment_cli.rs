//! `cargo xtask perf comment` end to end: argument and artifact checks that stop before
//! anything is sent, and the real binary against a local mock of GitHub's REST API.

mod common;

use std::path::{Path, PathBuf};

use common::{run, xtask};
use serde_json::Value;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

const TOKEN: &str = "ghs_CliSecretToken9876543210";

fn report_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../perf-runner/tests/fixtures/summary-small.json");
    std::fs::copy(fixture, dir.path().join("summary.json")).unwrap();
    dir
}

fn comment_json(id: u64) -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../perf-runner/tests/fixtures/github-comment.json"),
    )
    .unwrap();
    let mut c: Value = serde_json::from_str(&text).unwrap();
    c["id"] = id.into();
    c
}

fn comment_cmd(report: &Path, api: &str) -> std::process::Command {
    let mut cmd = xtask();
    cmd.args(["perf", "comment", "--repo", "o/r", "--pr", "7", "--report"])
        .arg(report)
        .env("GITHUB_API_URL", api)
        .env("GITHUB_TOKEN", TOKEN)
        .env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

#[test]
fn dry_run_prints_the_body_without_a_token() {
    let report = report_dir();
    let (code, out, err) = run(xtask()
        .args(["perf", "comment", "--dry-run", "--report"])
        .arg(report.path())
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_STEP_SUMMARY"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("<!-- swarmbench:perf-comment scenario=small -->"),
        "{out}"
    );
    assert!(out.contains("measured, not compared"), "{out}");
}

#[test]
fn bad_input_exits_2_before_anything_is_sent() {
    let report = report_dir();
    // No server listens here: any request would fail with exit 3, not 2.
    let nowhere = "http://127.0.0.1:9";
    let (code, _, err) = run(comment_cmd(report.path(), nowhere).env_remove("GITHUB_TOKEN"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("GITHUB_TOKEN is not set"), "{err}");
    for pr in ["0", "-3", "seven", "7; rm -rf /"] {
        let (code, _, err) = run(xtask()
            .args(["perf", "comment", "--repo", "o/r", "--report"])
            .arg(report.path())
            .arg(format!("--pr={pr}"))
            .env("GITHUB_API_URL", nowhere)
            .env("GITHUB_TOKEN", TOKEN));
        assert_eq!(code, 2, "--pr {pr}: {err}");
        assert!(err.contains("--pr"), "{err}");
    }
    let (code, _, err) = run(&mut comment_cmd(&report.path().join("missing"), nowhere));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no such report directory"), "{err}");
    std::fs::write(report.path().join("huge.png"), vec![0u8; 2 * 1024 * 1024]).unwrap();
    let (code, _, err) = run(comment_cmd(report.path(), nowhere).args(["--max-artifact-mib", "1"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("larger than the 1 MiB cap"), "{err}");
    let fresh = report_dir();
    let (code, _, err) = run(xtask()
        .args([
            "perf", "comment", "--repo", "../etc", "--pr", "7", "--report",
        ])
        .arg(fresh.path())
        .env("GITHUB_API_URL", nowhere)
        .env("GITHUB_TOKEN", TOKEN));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not of the form owner/name"), "{err}");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn creates_the_comment_via_github_api_url_and_writes_the_step_summary() {
    let rt = runtime();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/repos/o/r/issues/7/comments"))
            .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/repos/o/r/issues/7/comments"))
            .respond_with(ResponseTemplate::new(201).set_body_json(comment_json(77)))
            .expect(1)
            .mount(&server)
            .await;
        server
    });
    let report = report_dir();
    let step_summary: PathBuf = report.path().join("step-summary.md");
    let (code, out, err) =
        run(comment_cmd(report.path(), &server.uri()).env("GITHUB_STEP_SUMMARY", &step_summary));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("created https://github.com/"), "{out}");
    assert!(!out.contains(TOKEN) && !err.contains(TOKEN));
    let summary = std::fs::read_to_string(step_summary).unwrap();
    assert!(summary.contains("swarmbench:perf-comment scenario=small"));
    let requests = rt.block_on(server.received_requests()).unwrap();
    let posted: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert!(posted["body"].as_str().unwrap().contains("### swarmbench"));
    for r in &requests {
        let auth = r.headers.get("authorization").unwrap().to_str().unwrap();
        assert!(auth.ends_with(TOKEN));
    }
}

#[test]
fn github_errors_exit_3_with_the_message_and_never_the_token() {
    let rt = runtime();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
                "message": format!("Bad credentials: {TOKEN}")
            })))
            .mount(&server)
            .await;
        server
    });
    let report = report_dir();
    let (code, out, err) = run(&mut comment_cmd(report.path(), &server.uri()));
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("GitHub answered 401: Bad credentials"),
        "{err}"
    );
    assert!(!out.contains(TOKEN) && !err.contains(TOKEN), "{err}");
}

#[test]
fn an_artifact_for_another_pull_request_is_refused() {
    let rt = runtime();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/repos/o/r/pulls/7"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "number": 7, "head": {"sha": "1111111111111111111111111111111111111111"}
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(comment_json(1)))
            .expect(0)
            .mount(&server)
            .await;
        server
    });
    let report = report_dir();
    let (code, _, err) = run(comment_cmd(report.path(), &server.uri()).args([
        "--expect-head-sha",
        "2222222222222222222222222222222222222222",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("refusing to comment on another pull request"),
        "{err}"
    );
    rt.block_on(server.verify());
}
