//! The benchmark cases, shared by both harnesses so that criterion's wall times and
//! iai-callgrind's instruction counts measure exactly the same code on the same inputs.
//!
//! Each case is a `setup` (not measured) that builds the input and a `run` (measured) that
//! consumes it. Inputs are fixed and seeded: instruction counts must not depend on the machine.
//!
//! Validation hook: the setup of `gossip_payload_decode` reads `SWARMBENCH_BENCH_EXTRA_WORK`
//! (a loop count, default 0) and its run spins that many iterations first. `cargo xtask bench`
//! tests use it to plant a regression and check that the compare path reports it; unset, it
//! costs one comparison.

use std::{hint::black_box, path::PathBuf};

use libp2p::{
    PeerId, identity,
    kad::{
        Record, RecordKey,
        store::{MemoryStore, RecordStore},
    },
};
use perf_runner::{
    compare::{self, GateConfig, MetricSamples, Mode},
    data::summary::RunSummary,
    report::{comment, markdown, plots},
    stats::{bootstrap, change_point},
};
use swarm_node::{
    api::{ReceivedMessage, ReceivedPage},
    gossip_payload::{self, GossipHeader},
    indexed_log::IndexedLog,
};

/// Every case, in report order. `cargo xtask bench --filter` matches these.
pub const CASES: &[&str] = &[
    "gossip_payload_encode",
    "gossip_payload_decode",
    "gossip_handle_message",
    "gossip_received_page_json",
    "dht_record_put_get",
    "stats_bootstrap_1000",
    "stats_change_points_100",
    "report_markdown",
    "report_comment",
    "report_plots",
];

/// The environment variable of the validation hook.
pub const EXTRA_WORK_ENV: &str = "SWARMBENCH_BENCH_EXTRA_WORK";

/// Gossip payload size the runner publishes by default.
const PAYLOAD_BYTES: usize = 1024;

fn header(seq: u64) -> GossipHeader {
    GossipHeader {
        seq,
        sent_ns: 1_763_900_000_000_000_000 + seq,
        id: format!("r3-n2-m{seq}"),
    }
}

fn publisher() -> String {
    let key = identity::Keypair::ed25519_from_bytes([7u8; 32]).expect("32 bytes");
    PeerId::from(key.public()).to_string()
}

/// Deterministic pseudo-random numbers (SplitMix64): inputs without a rand dependency.
fn splitmix(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// A latency-like sample (log-normal-ish) of `n` values.
fn latencies(n: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| scale * (1.0 + splitmix(&mut s) + splitmix(&mut s).powi(4) * 3.0))
        .collect()
}

/// The committed real `summary.json` of a 3-node run, with a paired comparison added.
pub fn summary_with_comparison() -> RunSummary {
    let mut summary: RunSummary = serde_json::from_str(include_str!(
        "../../perf-runner/tests/fixtures/summary-small.json"
    ))
    .expect("fixture parses");
    let samples: Vec<(String, Vec<f64>, Vec<f64>)> = summary
        .metrics
        .iter()
        .map(|m| {
            let head = m.samples.clone();
            let base = head.iter().map(|v| v * 0.97).collect();
            (m.name.clone(), base, head)
        })
        .collect();
    let views: Vec<MetricSamples> = samples
        .iter()
        .map(|(name, base, head)| MetricSamples {
            name,
            base,
            head,
            base_sessions: &[],
        })
        .collect();
    summary.comparison = Some(compare::compare(
        Mode::Paired,
        "revision main (commit 0123456789ab)".into(),
        &views,
        &GateConfig::default(),
    ));
    summary
}

/// The validation hook's loop count (0 unless the variable is set).
pub fn extra_work() -> u64 {
    std::env::var(EXTRA_WORK_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Spins `n` iterations that the optimiser cannot remove.
#[inline(never)]
fn spin(n: u64) {
    for i in 0..n {
        black_box(i);
    }
}

// ---- gossip ----

/// Input of `gossip_payload_encode`.
pub fn setup_encode() -> GossipHeader {
    header(42)
}
/// Encodes a 1 KiB payload: what a node does per publish.
pub fn run_encode(h: GossipHeader) -> Vec<u8> {
    h.encode(PAYLOAD_BYTES).expect("id fits")
}

/// Input of `gossip_payload_decode`: the payload and the validation hook's loop count.
pub fn setup_decode() -> (Vec<u8>, u64) {
    (run_encode(header(42)), extra_work())
}
/// Decodes a 1 KiB payload's header.
pub fn run_decode((payload, extra): (Vec<u8>, u64)) -> GossipHeader {
    spin(extra);
    GossipHeader::decode(&payload).expect("valid payload")
}

/// Input of `gossip_handle_message`: a full log (so the push also evicts), a payload, the
/// publisher's id.
pub fn setup_handle() -> (IndexedLog<ReceivedMessage>, Vec<u8>, String) {
    let mut log = IndexedLog::new(1000);
    let publisher = publisher();
    for seq in 0..1000 {
        let payload = run_encode(header(seq));
        log.push(gossip_payload::received(&payload, publisher.clone(), seq).expect("valid"));
    }
    (log, run_encode(header(1000)), publisher)
}
/// What a node does per received gossip message after gossipsub: read the payload, record it.
pub fn run_handle(
    (mut log, payload, publisher): (IndexedLog<ReceivedMessage>, Vec<u8>, String),
) -> IndexedLog<ReceivedMessage> {
    let received =
        gossip_payload::received(&payload, publisher, 1_763_900_000_000_500_000).expect("valid");
    log.push(received);
    log
}

/// Input of `gossip_received_page_json`: a page of 100 received messages.
pub fn setup_page() -> ReceivedPage {
    let publisher = publisher();
    let messages = (0..100)
        .map(|seq| {
            gossip_payload::received(&run_encode(header(seq)), publisher.clone(), seq + 500)
                .expect("valid")
        })
        .collect();
    ReceivedPage {
        messages,
        next: 100,
    }
}
/// Serialises a page for `GET /gossip/received`: what the runner polls.
pub fn run_page(page: ReceivedPage) -> Vec<u8> {
    serde_json::to_vec(&page).expect("serialises")
}

// ---- DHT ----

/// Input of `dht_record_put_get`: an empty store and 100 records of 1 KiB.
pub fn setup_dht() -> (MemoryStore, Vec<Record>) {
    let key = identity::Keypair::ed25519_from_bytes([9u8; 32]).expect("32 bytes");
    let store = MemoryStore::new(PeerId::from(key.public()));
    let records = (0..100)
        .map(|i| {
            Record::new(
                RecordKey::new(&format!("bench-key-{i}")),
                vec![i as u8; 1024],
            )
        })
        .collect();
    (store, records)
}
/// Stores 100 records and reads each back from the node's local record store.
pub fn run_dht((mut store, records): (MemoryStore, Vec<Record>)) -> usize {
    let keys: Vec<RecordKey> = records.iter().map(|r| r.key.clone()).collect();
    for r in records {
        store.put(r).expect("within limits");
    }
    keys.iter().filter(|k| store.get(k).is_some()).count()
}

// ---- the runner's statistics ----

/// Input of `stats_bootstrap_1000`: two samples of 1000.
pub fn setup_bootstrap() -> (Vec<f64>, Vec<f64>) {
    (latencies(1000, 1.0, 1), latencies(1000, 1.1, 2))
}
/// Seeded percentile bootstrap of the ratio of medians, 200 resamples.
pub fn run_bootstrap((base, head): (Vec<f64>, Vec<f64>)) -> Option<bootstrap::Interval> {
    bootstrap::ratio_of_medians(&base, &head, 0.95, 200, 7)
}

/// Input of `stats_change_points_100`: 100 points with a step (×2) at 60.
pub fn setup_change_points() -> Vec<f64> {
    let mut v = latencies(60, 1.0, 3);
    v.extend(latencies(40, 2.0, 4));
    v
}
/// E-divisive means with 199 permutations.
pub fn run_change_points(series: Vec<f64>) -> Vec<change_point::ChangePoint> {
    let config = change_point::Config {
        permutations: 199,
        ..Default::default()
    };
    change_point::e_divisive(&series, &config)
}

// ---- reports ----

/// `report.md` of a compared run.
pub fn run_markdown(summary: RunSummary) -> String {
    markdown::render(&summary)
}

/// The PR comment of a compared run.
pub fn run_comment(summary: RunSummary) -> String {
    comment::render(
        &summary,
        &comment::Links::default(),
        comment::DEFAULT_MAX_CHARS,
    )
}

/// Input of `report_plots`: a compared run and a fresh directory.
pub fn setup_plots() -> (RunSummary, tempfile::TempDir) {
    (
        summary_with_comparison(),
        tempfile::tempdir().expect("temp dir"),
    )
}
/// Draws the run's plots (SVG and PNG).
pub fn run_plots((summary, dir): (RunSummary, tempfile::TempDir)) -> Vec<PathBuf> {
    let latencies = vec![
        ("head".to_owned(), latencies(500, 0.6, 5)),
        ("base".to_owned(), latencies(500, 0.58, 6)),
    ];
    let data = plots::PlotData {
        head: &summary,
        base: Some(&summary),
        gossip_latencies_ms: &latencies,
    };
    plots::render(dir.path(), &data).expect("plots render")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_runs_and_produces_what_it_claims() {
        assert_eq!(run_encode(setup_encode()).len(), 1024);
        assert_eq!(run_decode(setup_decode()).seq, 42);
        let log = run_handle(setup_handle());
        assert_eq!(log.since(0).1, 1001);
        assert!(run_page(setup_page()).starts_with(b"{\"messages\":["));
        assert_eq!(run_dht(setup_dht()), 100);
        let ci = run_bootstrap(setup_bootstrap()).unwrap();
        assert!(ci.low < 1.1 && ci.high > 1.0, "{ci:?}");
        let cps = run_change_points(setup_change_points());
        assert!(cps.iter().any(|c| (55..=65).contains(&c.index)), "{cps:?}");
        assert!(run_markdown(summary_with_comparison()).contains("## Verdict"));
        assert!(run_comment(summary_with_comparison()).contains("swarmbench:perf-comment"));
        assert_eq!(run_plots(setup_plots()).len(), 4);
    }

    #[test]
    fn the_hook_spins_only_when_asked() {
        // The variable is read in setup; the run itself only loops `extra` times.
        let (payload, _) = setup_decode();
        assert_eq!(run_decode((payload, 3)).seq, 42);
    }
}
