//! Instruction counts (iai-callgrind under valgrind's callgrind) of the cases in
//! `swarmbench_benches`. `#[bench::input(setup())]` evaluates the setup outside the
//! measured region. Results land in
//! target/iai/swarmbench-benches/instructions/swarmbench/<case>/summary.json, which
//! `cargo xtask bench` reads. Needs valgrind and iai-callgrind-runner 0.16.1 (README).

use std::hint::black_box;

use iai_callgrind::{LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main};
use swarmbench_benches as cases;

#[library_benchmark]
#[bench::input(cases::setup_encode())]
fn gossip_payload_encode(input: libp2p_header::GossipHeader) -> Vec<u8> {
    black_box(cases::run_encode(input))
}

/// Re-exported input types, so the signatures above stay readable.
mod libp2p_header {
    pub use swarm_node::gossip_payload::GossipHeader;
}

#[library_benchmark]
#[bench::input(cases::setup_decode())]
fn gossip_payload_decode(input: (Vec<u8>, u64)) -> libp2p_header::GossipHeader {
    black_box(cases::run_decode(input))
}

type HandleInput = (
    swarm_node::indexed_log::IndexedLog<swarm_node::api::ReceivedMessage>,
    Vec<u8>,
    String,
);

#[library_benchmark]
#[bench::input(cases::setup_handle())]
fn gossip_handle_message(
    input: HandleInput,
) -> swarm_node::indexed_log::IndexedLog<swarm_node::api::ReceivedMessage> {
    black_box(cases::run_handle(input))
}

#[library_benchmark]
#[bench::input(cases::setup_page())]
fn gossip_received_page_json(input: swarm_node::api::ReceivedPage) -> Vec<u8> {
    black_box(cases::run_page(input))
}

#[library_benchmark]
#[bench::input(cases::setup_dht())]
fn dht_record_put_get(input: (libp2p::kad::store::MemoryStore, Vec<libp2p::kad::Record>)) -> usize {
    black_box(cases::run_dht(input))
}

#[library_benchmark]
#[bench::input(cases::setup_bootstrap())]
fn stats_bootstrap_1000(
    input: (Vec<f64>, Vec<f64>),
) -> Option<perf_runner::stats::bootstrap::Interval> {
    black_box(cases::run_bootstrap(input))
}

#[library_benchmark]
#[bench::input(cases::setup_change_points())]
fn stats_change_points_100(input: Vec<f64>) -> Vec<perf_runner::stats::change_point::ChangePoint> {
    black_box(cases::run_change_points(input))
}

#[library_benchmark]
#[bench::input(cases::summary_with_comparison())]
fn report_markdown(input: perf_runner::data::summary::RunSummary) -> String {
    black_box(cases::run_markdown(input))
}

#[library_benchmark]
#[bench::input(cases::summary_with_comparison())]
fn report_comment(input: perf_runner::data::summary::RunSummary) -> String {
    black_box(cases::run_comment(input))
}

#[library_benchmark]
#[bench::input(cases::setup_plots())]
fn report_plots(
    input: (perf_runner::data::summary::RunSummary, tempfile::TempDir),
) -> Vec<std::path::PathBuf> {
    black_box(cases::run_plots(input))
}

library_benchmark_group!(
    name = swarmbench;
    benchmarks =
        gossip_payload_encode,
        gossip_payload_decode,
        gossip_handle_message,
        gossip_received_page_json,
        dht_record_put_get,
        stats_bootstrap_1000,
        stats_change_points_100,
        report_markdown,
        report_comment,
        report_plots
);

main!(
    // The validation hook's variable survives iai-callgrind's environment clearing.
    config = LibraryBenchmarkConfig::default().pass_through_env(cases::EXTRA_WORK_ENV);
    library_benchmark_groups = swarmbench
);
