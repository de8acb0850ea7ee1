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
    // No argument panics (101) or overflows; every one is refused with exit 2.
    for (args, says) in [
        (
            vec!["--max-artifact-mib", "18446744073709551615"],
            "--max-artifact-mib",
        ),
        (vec!["--max-artifact-mib", "0"], "--max-artifact-mib"),
        (vec!["--author", "<script>"], "--author"),
        (vec!["--head-sha", "main"], "--head-sha"),
        (vec!["--expect-head-sha", "1234"], "--expect-head-sha"),
        (vec!["--scenario", "a b"], "--scenario"),
        (vec!["--artifact", "x`y"], "--artifact"),
        (vec!["--run-url", "javascript:alert(1)"], "--run-url"),
        (vec!["--conclusion", "green"], "--conclusion"),
        (vec!["--pr", "18446744073709551616"], "--pr"),
    ] {
        let (code, _, err) = run(comment_cmd(fresh.path(), nowhere).args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // The token never crosses the network in clear.
    let (code, _, err) = run(&mut comment_cmd(fresh.path(), "http://api.github.com"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("plain http would send the token in clear"),
        "{err}"
    );
}

#[test]
fn dry_run_states_the_checks_conclusion_and_a_disagreement() {
    let report = report_dir();
    let (code, out, err) = run(xtask()
        .args([
            "perf",
            "comment",
            "--dry-run",
            "--conclusion",
            "failure",
            "--report",
        ])
        .arg(report.path())
        .env_remove("GITHUB_STEP_SUMMARY"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("**Check:** ❌ `failure`"), "{out}");
    assert!(
        out.contains("the check failed, but the report shows no regression"),
        "{out}"
    );
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
        // Without --author, the comment's author is the token's own login.
        Mock::given(method("GET"))
            .and(path("/user"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"login": "octocat"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/repos/o/r/issues/7/comments"))
            .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
            .expect(2)
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
    let post = requests
        .iter()
        .find(|r| r.method.as_str() == "POST")
        .unwrap();
    let posted: Value = serde_json::from_slice(&post.body).unwrap();
    assert!(posted["body"].as_str().unwrap().contains("### swarmbench"));
    for r in &requests {
        let auth = r.headers.get("authorization").unwrap().to_str().unwrap();
        assert!(auth.ends_with(TOKEN));
    }
    rt.block_on(server.verify());
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

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// A server with the bot's marked comment holding an old verdict; PATCHes are recorded.
fn server_with_old_comment(rt: &tokio::runtime::Runtime, scenario: &str) -> MockServer {
    rt.block_on(async {
        let server = MockServer::start().await;
        let mut old = comment_json(5);
        old["body"] =
            format!("<!-- swarmbench:perf-comment scenario={scenario} -->\n✅ no regression")
                .into();
        old["user"]["login"] = "github-actions[bot]".into();
        Mock::given(method("GET"))
            .and(path("/repos/o/r/issues/7/comments"))
            .respond_with(ResponseTemplate::new(200).set_body_json(vec![old.clone()]))
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path("/repos/o/r/issues/comments/5"))
            .respond_with(ResponseTemplate::new(200).set_body_json(old))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(comment_json(9)))
            .expect(0)
            .mount(&server)
            .await;
        server
    })
}

fn patched_body(rt: &tokio::runtime::Runtime, server: &MockServer) -> String {
    let requests = rt.block_on(server.received_requests()).unwrap();
    let patch = requests
        .iter()
        .find(|r| r.method.as_str() == "PATCH")
        .expect("a PATCH");
    let v: Value = serde_json::from_slice(&patch.body).unwrap();
    v["body"].as_str().unwrap().to_owned()
}

#[test]
fn a_run_without_a_report_replaces_the_old_verdict() {
    let rt = runtime();
    let server = server_with_old_comment(&rt, "standard");
    let empty = tempfile::tempdir().unwrap();
    let (code, out, err) = run(comment_cmd(empty.path(), &server.uri()).args([
        "--scenario",
        "standard",
        "--conclusion",
        "failure",
        "--head-sha",
        SHA,
        "--author",
        "github-actions[bot]",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("updated "), "{out}");
    let body = patched_body(&rt, &server);
    assert!(
        body.starts_with(&format!(
            "<!-- swarmbench:perf-comment scenario=standard -->\n### swarmbench · `standard` · ⛔ no report for `{SHA}`"
        )),
        "{body}"
    );
    assert!(body.contains("**Check:** ❌ `failure`"), "{body}");
    assert!(!body.contains("✅"), "{body}");
    rt.block_on(server.verify());
}

#[test]
fn a_refused_report_replaces_the_old_verdict_and_exits_2() {
    let rt = runtime();
    let server = server_with_old_comment(&rt, "standard");
    // The artifact says it is another scenario's report.
    let report = report_dir();
    let (code, out, err) = run(comment_cmd(report.path(), &server.uri()).args([
        "--scenario",
        "standard",
        "--conclusion",
        "success",
        "--author",
        "github-actions[bot]",
    ]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("the report was refused"), "{err}");
    let body = patched_body(&rt, &server);
    assert!(body.contains("⛔ no report for this commit"), "{body}");
    assert!(
        body.contains("its summary is for scenario small, not standard"),
        "{body}"
    );
    rt.block_on(server.verify());
}

#[test]
fn a_token_that_cannot_read_its_login_needs_author() {
    let rt = runtime();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/user"))
            .respond_with(ResponseTemplate::new(403).set_body_json(
                serde_json::json!({"message": "Resource not accessible by integration"}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        server
    });
    let report = report_dir();
    let (code, _, err) = run(&mut comment_cmd(report.path(), &server.uri()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pass --author LOGIN"), "{err}");
    rt.block_on(server.verify());
}

#[test]
fn a_5xx_is_retried_with_one_progress_line_and_never_the_token() {
    let rt = runtime();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(502).set_body_string(format!("Bad Gateway {TOKEN}")),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<Value>::new()))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(comment_json(3)))
            .mount(&server)
            .await;
        server
    });
    let report = report_dir();
    let (code, out, err) =
        run(comment_cmd(report.path(), &server.uri()).args(["--author", "github-actions[bot]"]));
    assert_eq!(code, 0, "{out}{err}");
    let waits: Vec<&str> = err.lines().filter(|l| l.starts_with("github: ")).collect();
    assert_eq!(waits.len(), 1, "{err}");
    assert!(waits[0].contains("GitHub answered 502"), "{err}");
    assert!(
        waits[0].contains("waiting 2.0 s (backing off) before attempt 2 of 5"),
        "{err}"
    );
    assert!(!err.contains(TOKEN) && !out.contains(TOKEN), "{err}");
}

/// A report whose summary a hostile pull request wrote: a regression with a 1 MB metric name,
/// 20,000 regressed metrics (40,000 do not fit the 16 MiB cap on summary.json; the renderer's
/// own test takes 40,000), a 1 MB transport, bare URLs, bidi controls and impossible numbers.
fn hostile_report() -> tempfile::TempDir {
    use perf_runner::{
        compare::{self, GateConfig, MetricSamples, Mode},
        data::summary::RunSummary,
    };
    let dir = report_dir();
    let path = dir.path().join("summary.json");
    let mut s = RunSummary::read(&path).unwrap();
    let base: Vec<f64> = (0..12).map(|i| 1.0 + 0.01 * (i % 4) as f64).collect();
    let head: Vec<f64> = base.iter().map(|v| v * 1.2).collect();
    let mut c = compare::compare(
        Mode::Paired,
        "main http://intranet/x www.evil.example \u{202E}gnp.exe".into(),
        &[MetricSamples {
            name: "gossip_latency_ms_p50",
            base: &base,
            head: &head,
            base_sessions: &[],
        }],
        &GateConfig::default(),
    );
    let template = c.metrics[0].clone();
    c.metrics = (0..20_000)
        .map(|i| {
            let mut m = template.clone();
            m.name = if i == 0 {
                "n".repeat(1 << 20)
            } else {
                format!("m{i}")
            };
            m.p_adjusted = Some(-5.0);
            m.threshold = 1e300;
            // Small, so that 20,000 of them pass the 16 MiB cap on summary.json.
            m.reason = String::new();
            m.unit = String::new();
            m
        })
        .collect();
    s.comparison = Some(c);
    s.scenario.transport = "t".repeat(1 << 20);
    std::fs::write(&path, serde_json::to_vec(&s).unwrap()).unwrap();
    dir
}

#[test]
fn a_hostile_report_cannot_cut_the_marker_or_the_verdict() {
    let rt = runtime();
    let server = server_with_old_comment(&rt, "small");
    let report = hostile_report();
    let (code, out, err) = run(comment_cmd(report.path(), &server.uri()).args([
        "--conclusion",
        "success",
        "--author",
        "github-actions[bot]",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let body = patched_body(&rt, &server);
    assert!(
        body.starts_with("<!-- swarmbench:perf-comment scenario=small -->\n### swarmbench · `small` · ❌ **regression** in 20000 of 20000 gated metrics: `nnnn"),
        "{}",
        &body[..300]
    );
    let head: String = body.lines().take(6).collect::<Vec<_>>().join("\n");
    assert!(head.contains(", and 19995 more"), "{head}");
    assert!(
        head.contains("**The report and the check disagree**"),
        "{head}"
    );
    assert!(body.chars().count() < 65_536, "{}", body.len());
    assert!(
        !body.contains("http://") && !body.contains("www.evil"),
        "autolinks"
    );
    assert!(!body.contains('\u{202E}'), "bidi control");
    assert!(
        !body.contains("00000000") && !body.contains("-5.0000"),
        "impossible numbers"
    );
    assert!(
        body.contains("| invalid | invalid | ❌ regressed |"),
        "impossible numbers are said to be invalid"
    );
    rt.block_on(server.verify());
}
