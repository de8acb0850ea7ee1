//! `cargo xtask bench` end to end on the real benchmarks: instruction counts are identical
//! from run to run, a planted extra loop is a regression, unknown names are listed.
//!
//! They build `benches/` with `--cargo-profile dev`, which reuses the dependencies `cargo test`
//! already built (the shipped bench profile is a second optimised build of libp2p and every
//! dependency, about 700 s of CPU on this machine), and run iai-callgrind under valgrind
//! (installed by `cargo xtask test`). What they check does not depend on the profile: counts
//! repeat exactly for one binary, a planted loop fails the gate, unknown names are listed.
//! They run one at a time.

mod common;

use std::path::Path;

use common::{run, serial, xtask};
use perf_runner::data::summary::RunSummary;

fn latest(out: &Path) -> RunSummary {
    RunSummary::read(&out.join("bench/latest/summary.json")).unwrap()
}

fn instructions(s: &RunSummary, case: &str) -> f64 {
    s.metric(&format!("bench.{case}.instructions"))
        .unwrap_or_else(|| panic!("no instructions for {case}"))
        .samples[0]
}

#[test]
fn instruction_counts_repeat_exactly_and_an_extra_loop_is_a_regression() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (baselines, out) = (tmp.path().join("baselines"), tmp.path().join("out"));
    let bench = |extra: Option<&str>, more: &[&str]| {
        let mut cmd = xtask();
        cmd.args([
            "bench",
            "--kind",
            "instructions",
            "--filter",
            "gossip_payload",
            "--quiet",
            "--cargo-profile",
            "dev",
        ])
        .arg("--baselines")
        .arg(&baselines)
        .arg("--out")
        .arg(&out)
        .args(more)
        .env_remove("SWARMBENCH_BENCH_EXTRA_WORK");
        if let Some(n) = extra {
            cmd.env("SWARMBENCH_BENCH_EXTRA_WORK", n);
        }
        run(&mut cmd)
    };

    let (code, stdout, err) = bench(None, &["--update-baseline"]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(baselines.join("bench.json").is_file());
    let first = latest(&out);

    let (code, stdout, err) = bench(None, &[]);
    assert_eq!(code, 0, "an unchanged build passes: {stdout}{err}");
    let second = latest(&out);
    for case in ["gossip_payload_encode", "gossip_payload_decode"] {
        let (a, b) = (instructions(&first, case), instructions(&second, case));
        assert!(a > 100.0, "{case}: {a} instructions");
        assert_eq!(a, b, "{case}: instruction counts differ between two runs");
    }
    let c = second
        .comparison
        .as_ref()
        .expect("compared with the baseline");
    assert!(c.regressions().is_empty());

    // 1000 extra loop iterations in the decode path: several thousand instructions more.
    let (code, stdout, err) = bench(Some("1000"), &[]);
    assert_eq!(code, 1, "the planted loop fails the gate: {stdout}{err}");
    let third = latest(&out);
    let regressed: Vec<&str> = third
        .comparison
        .as_ref()
        .unwrap()
        .regressions()
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(regressed, ["bench.gossip_payload_decode.instructions"]);
    assert!(stdout.contains("REGRESSION"), "{stdout}");
    assert!(
        instructions(&third, "gossip_payload_decode")
            > instructions(&first, "gossip_payload_decode") + 1000.0
    );
    assert_eq!(
        instructions(&third, "gossip_payload_encode"),
        instructions(&first, "gossip_payload_encode"),
        "the other case is untouched"
    );
}

#[test]
fn an_unknown_benchmark_name_exits_2_with_the_list() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run(xtask()
        .args([
            "bench",
            "--kind",
            "wall",
            "--filter",
            "no_such_bench",
            "--quiet",
            "--cargo-profile",
            "dev",
            "--out",
        ])
        .arg(tmp.path())
        .arg("--baselines")
        .arg(tmp.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no benchmark matches \"no_such_bench\""),
        "{err}"
    );
    assert!(
        err.contains("gossip_payload_decode") && err.contains("report_plots"),
        "{err}"
    );
}
