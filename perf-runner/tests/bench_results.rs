//! The micro-benchmark result parsers on files from real runs (see fixtures/README.md), and
//! the summary and comparison they feed.

use std::path::Path;

use perf_runner::{
    compare::{self, GateConfig, MetricSamples, Mode, Verdict},
    data::env::Revision,
    data::metrics::Kind,
    tasks::bench::{self, criterion, iai},
};

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bench")
}

#[test]
fn criterion_samples_are_time_per_iteration() {
    let results = criterion::read(&fixtures().join("criterion"), "swarmbench").unwrap();
    let names: Vec<&str> = results.iter().map(|r| r.case.as_str()).collect();
    assert_eq!(names, ["gossip_payload_decode", "gossip_payload_encode"]);
    let decode = &results[0];
    assert_eq!(decode.samples_ns.len(), 100);
    // sample.json (flat sampling): 19,833 iterations took 1,015,936 ns in the second sample.
    assert!((decode.samples_ns[1] - 1_015_936.0 / 19_833.0).abs() < 1e-9);
    assert!((decode.mean_ns - 51.225_360_762_365_746).abs() < 1e-9);
    assert!(decode.mean_ci_ns.0 < decode.mean_ns && decode.mean_ns < decode.mean_ci_ns.1);
    assert!(
        criterion::read(&fixtures().join("nowhere"), "swarmbench")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn iai_summaries_of_a_first_and_a_second_run() {
    // Instructions repeat exactly; the cycle estimate (a cache simulation) moved between runs,
    // which is why it is reported but not gated.
    for (file, expected, cycles) in [
        ("iai-summary-first-run.json", 382, 803),
        ("iai-summary-second-run.json", 382, 769),
    ] {
        let path = fixtures().join(file);
        let r = iai::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(r.case, "gossip_payload_decode");
        assert_eq!(r.instructions, expected, "{file}");
        assert_eq!(r.estimated_cycles, Some(cycles), "{file}");
    }
    let e = iai::parse(
        Path::new("x.json"),
        "{\"function_name\": \"f\", \"profiles\": []}",
    )
    .unwrap_err();
    assert!(e.to_string().contains("no Callgrind profile"), "{e}");
}

#[test]
fn results_become_a_summary_that_gates_like_a_run() {
    let wall = criterion::read(&fixtures().join("criterion"), "swarmbench").unwrap();
    let path = fixtures().join("iai-summary-first-run.json");
    let counts = vec![iai::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()];
    let revision = Revision {
        commit: "abc".into(),
        dirty: false,
    };
    let head = bench::to_summary(&wall, &counts, revision, "2026-11-23T00:00:00Z".into());
    assert_eq!(head.scenario.name, "bench");
    let names: Vec<&str> = head.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "bench.gossip_payload_decode.instructions",
            "bench.gossip_payload_decode.estimated_cycles",
            "bench.gossip_payload_decode.time_ns",
            "bench.gossip_payload_encode.time_ns",
        ]
    );
    assert_eq!(head.metrics[0].kind, Kind::Deterministic);
    assert_eq!(head.metrics[2].kind, Kind::Timing);

    // 382 → 390 instructions (+2.1 %) is over the 1 % threshold; 382 → 384 (+0.5 %) is not.
    let verdict = |base: f64, headv: f64| {
        let c = compare::compare(
            Mode::Unpaired,
            "baseline".into(),
            &[MetricSamples {
                name: "bench.gossip_payload_decode.instructions",
                base: &[base],
                head: &[headv],
                base_sessions: &[],
            }],
            &GateConfig::default(),
        );
        c.metrics[0].verdict
    };
    assert_eq!(verdict(382.0, 390.0), Verdict::Regressed);
    assert_eq!(verdict(382.0, 384.0), Verdict::Unchanged);
    assert_eq!(verdict(390.0, 382.0), Verdict::Improved);

    // Wall times: the real samples against themselves slowed by 30 % regress.
    let samples = &head.metrics[2].samples;
    let slower: Vec<f64> = samples.iter().map(|v| v * 1.3).collect();
    let c = compare::compare(
        Mode::Unpaired,
        "baseline".into(),
        &[MetricSamples {
            name: "bench.gossip_payload_decode.time_ns",
            base: samples,
            head: &slower,
            base_sessions: &[],
        }],
        &GateConfig::default(),
    );
    assert_eq!(
        c.metrics[0].verdict,
        Verdict::Regressed,
        "{}",
        c.metrics[0].reason
    );
}
