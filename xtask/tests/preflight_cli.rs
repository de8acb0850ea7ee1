//! Bad input is refused before anything is built or started: exit 2, a message naming what is
//! wrong, in well under a second of work. No test here builds or starts a node: `CARGO` points
//! at a program that does not exist (a build would fail with exit 3) and `--node-bin` at a path
//! that does not exist (checked after the preflight, also exit 3), so exit 2 shows that the
//! refusal came first. Not in the nextest `clusters` group: nothing here starts a cluster.

mod common;

use std::{
    os::unix::{fs::PermissionsExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::xtask;

/// Runs `xtask` with builds made impossible, and kills it if it takes longer than a refusal
/// can (a FIFO read that blocks, a build that starts): exit code and stderr.
fn refused(cmd: &mut Command) -> (i32, String) {
    let mut child = cmd
        .env("CARGO", "/nonexistent/cargo-must-not-run")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "not refused within 30 s: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Asserts exit 2 with `message` in stderr and no sign of a build.
fn assert_refused(what: &str, cmd: &mut Command, message: &str) {
    let (code, stderr) = refused(cmd);
    assert_eq!(code, 2, "{what}: {stderr}");
    assert!(
        stderr.contains(message),
        "{what}: {stderr:?} should contain {message:?}"
    );
    assert!(
        !stderr.contains("Compiling") && !stderr.contains("building"),
        "{what}: nothing may be built: {stderr}"
    );
}

/// `cargo xtask perf <scenario> --node-bin <missing> --out <out>` and `extra`.
fn perf(scenario: impl AsRef<std::ffi::OsStr>, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = xtask();
    cmd.arg("perf")
        .arg(scenario)
        .args(["--node-bin", "/nonexistent/swarm-node", "-q"])
        .arg("--out")
        .arg(out)
        .args(extra);
    cmd
}

fn write(path: PathBuf, text: &str) -> PathBuf {
    std::fs::write(&path, text).unwrap();
    path
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

#[test]
fn overrides_are_checked_by_the_scenario_files_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--nodes", "1"],
            "--nodes 1: workloads ([dht], [gossip], [throughput]) need at least 2 nodes",
        ),
        (
            &["--nodes", "1001"],
            "--nodes 1001 is out of range; allowed: 1 to 1000",
        ),
        (
            &["--warmup", "99999999999"],
            "--warmup 99999999999 is out of range; allowed: 0 to 1000",
        ),
        (
            &["--repetitions", "0"],
            "--repetitions 0 is out of range; allowed: 1 to 10000",
        ),
    ];
    for (args, message) in cases {
        assert_refused(&args.join(" "), &mut perf("small", &out, args), message);
    }
    // A relation the override breaks is reported where the file sets it, with the flag.
    let lossy = write(
        tmp.path().join("lossy.toml"),
        "name = \"lossy\"\nnodes = 3\n[network]\nloss_pct = 5\n",
    );
    assert_refused(
        "--transport tcp under loss",
        &mut perf(&lossy, &out, &["--transport", "tcp"]),
        &format!("{}:4:12: ", lossy.display()),
    );
    assert_refused(
        "--transport tcp under loss",
        &mut perf(&lossy, &out, &["--transport", "tcp"]),
        "(with --transport tcp)",
    );
    assert_eq!(entries(&out), 0, "nothing is written for bad input");
}

#[test]
fn scale_ups_beyond_the_node_maximum_are_refused_at_their_position() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = "name = \"grow\"\nnodes = 5\n[network]\n[chaos]\nduration_s = 60\n".to_owned();
    for at in 0..40 {
        text.push_str(&format!(
            "[[chaos.faults]]\nat_s = {at}\nkind = \"scale-up\"\ncount = 1000\n"
        ));
    }
    let scenario = write(tmp.path().join("grow.toml"), &text);
    assert_refused(
        "40 scale-ups of 1000",
        &mut perf(&scenario, &tmp.path().join("out"), &[]),
        &format!(
            "{}:9:9: scale-up of 1000 brings the scenario to 1005 nodes; allowed: at most 1000 nodes, counting every scale-up",
            scenario.display()
        ),
    );
}

#[test]
fn a_scenario_path_must_be_a_regular_file_of_bounded_size() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let fifo = tmp.path().join("scenario.toml");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // `refused` fails the test if the FIFO blocks the runner.
    assert_refused(
        "a FIFO",
        &mut perf(&fifo, &out, &[]),
        &format!(
            "{}: is a FIFO, not a regular file; pass a scenario .toml file",
            fifo.display()
        ),
    );
    let dir = tmp.path().join("dir.toml");
    std::fs::create_dir(&dir).unwrap();
    assert_refused(
        "a directory",
        &mut perf(&dir, &out, &[]),
        "is a directory, not a regular file",
    );
    let big = write(
        tmp.path().join("big.toml"),
        &format!("name = \"big\"\nnodes = 2\n{}", "#".repeat(2 << 20)),
    );
    assert_refused(
        "a 2 MiB file",
        &mut perf(&big, &out, &[]),
        "is larger than 1024 KiB",
    );
}

#[test]
fn an_output_root_that_cannot_be_written_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path().join("a-file"), "not a directory");
    assert_refused(
        "--out on a file",
        &mut perf("small", &file, &[]),
        &format!(
            "--out {} is a file, not a directory; give a directory (it is created when missing)",
            file.display()
        ),
    );
    // A read-only directory; root writes through permission bits, but not into sysfs.
    let read_only = tmp.path().join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    let read_only = if root {
        PathBuf::from("/sys")
    } else {
        read_only
    };
    assert_refused(
        "--out on a read-only directory",
        &mut perf("small", &read_only, &[]),
        &format!("--out {} cannot be written (", read_only.display()),
    );
    // A missing directory passes (it can be created); the run then fails on the missing node
    // binary (exit 3), after the preflight, and the check has left nothing behind.
    let missing = tmp.path().join("new/out");
    let (code, stderr) = refused(&mut perf("small", &missing, &[]));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("/nonexistent/swarm-node"), "{stderr}");
    assert!(!tmp.path().join("new").exists());
}

#[test]
fn too_low_an_open_file_limit_is_refused_with_the_estimate_and_how_to_raise_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = perf("scale-100", &tmp.path().join("out"), &[]);
    // SAFETY: setrlimit(2) in the child before exec, async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 256,
                rlim_max: 256,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (code, stderr) = refused(&mut cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "scenario scale-100 needs about 672 open files in the runner (100 nodes × 6 + 72), but RLIMIT_NOFILE allows 256 (hard limit 256); raise it with `ulimit -n 1024`"
        ),
        "{stderr}"
    );
}

#[test]
fn every_command_that_runs_clusters_checks_before_it_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let file = write(tmp.path().join("a-file"), "x");
    let nodes = "--nodes 1: workloads ([dht], [gossip], [throughput]) need at least 2 nodes";
    let mut baseline = xtask();
    baseline
        .args(["perf", "baseline", "update", "small", "--nodes", "1", "-q"])
        .args(["--node-bin", "/nonexistent/swarm-node"])
        .arg("--baselines")
        .arg(tmp.path().join("baselines"))
        .arg("--out")
        .arg(&out);
    assert_refused("perf baseline update", &mut baseline, nodes);
    // validate always builds its own nodes: the build must not start.
    let mut validate = xtask();
    validate
        .args(["perf", "validate", "small", "--warmup", "99999999999", "-q"])
        .arg("--out")
        .arg(&out);
    assert_refused(
        "perf validate",
        &mut validate,
        "--warmup 99999999999 is out of range",
    );
    let mut validate = xtask();
    validate
        .args(["perf", "validate", "small", "-q"])
        .arg("--out")
        .arg(&file);
    assert_refused(
        "perf validate --out",
        &mut validate,
        "is a file, not a directory",
    );
    // A suite checks every scenario before the first runs.
    let mut suite = xtask();
    suite
        .args(["perf", "suite", "basic", "--repetitions", "0", "-q"])
        .args(["--node-bin", "/nonexistent/swarm-node"])
        .arg("--out")
        .arg(&out);
    assert_refused(
        "perf suite",
        &mut suite,
        "--repetitions 0 is out of range; allowed: 1 to 10000",
    );
    let mut suite = xtask();
    suite
        .args(["perf", "suite", "basic", "-q"])
        .args(["--node-bin", "/nonexistent/swarm-node"])
        .arg("--out")
        .arg(&file);
    assert_refused("perf suite --out", &mut suite, "is a file, not a directory");
    // bisect: refused before git is asked about the refs or anything is built.
    let mut bisect = xtask();
    bisect.args([
        "perf",
        "bisect",
        "--good",
        "no-such-ref",
        "--bad",
        "no-such-ref-either",
        "--metric",
        "formation_time_ms",
        "--scenario",
        "small",
        "--nodes",
        "1",
        "-q",
    ]);
    assert_refused("perf bisect", &mut bisect, nodes);
    assert_eq!(entries(&out), 0, "nothing is written for bad input");
}

#[test]
fn bad_scale_curve_sizes_are_refused_before_anything_is_built() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let file = write(tmp.path().join("a-file"), "x");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--sizes", "1,10"],
            "--sizes 1: a network needs at least 2 nodes; allowed: 2 to 1000",
        ),
        (
            &["--sizes", "10,1001"],
            "--sizes 1001: more than 1000 nodes; allowed: 2 to 1000",
        ),
        (
            &["--sizes", "10,5"],
            "--sizes must be strictly increasing, but 5 follows 10",
        ),
        (
            &["--sizes", "10,10"],
            "--sizes must be strictly increasing, but 10 follows 10",
        ),
        (&["--sizes", "ten"], "invalid value 'ten' for '--sizes"),
        (&["--sizes", ""], "invalid value '' for '--sizes"),
        // Every size is checked with the scenario's rules before the first runs.
        (
            &["--repetitions", "0"],
            "size 10: --repetitions 0 is out of range; allowed: 1 to 10000",
        ),
    ];
    // No --node-bin: a curve that got past its checks would start a build, which cannot run.
    for (args, message) in cases {
        let mut curve = xtask();
        curve
            .args(["perf", "scale-curve", "minimal", "-q"])
            .args(*args)
            .arg("--out")
            .arg(&out);
        assert_refused(
            &format!("scale-curve {}", args.join(" ")),
            &mut curve,
            message,
        );
    }
    let mut curve = xtask();
    curve
        .args(["perf", "scale-curve", "minimal", "--sizes", "2,3", "-q"])
        .arg("--out")
        .arg(&file);
    assert_refused(
        "scale-curve --out a file",
        &mut curve,
        "is a file, not a directory",
    );
    assert_eq!(entries(&out), 0, "nothing is written for bad input");
}
