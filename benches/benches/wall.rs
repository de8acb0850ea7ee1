//! Wall-time benchmarks (criterion) of the cases in `swarmbench_benches`. Every case runs its
//! setup outside the timed region (`iter_batched`). `cargo xtask bench` parses the results
//! from target/criterion/swarmbench/<case>/new/.

use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use swarmbench_benches as cases;

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("swarmbench");
    // Every sample runs the same number of iterations, so per-sample times are exchangeable
    // draws and the rank tests of the gate apply (linear sampling's growing batches give small
    // samples a systematic per-batch overhead that reads as noise).
    g.sampling_mode(SamplingMode::Flat);
    macro_rules! case {
        ($name:literal, $setup:expr, $run:expr) => {
            g.bench_function($name, |b| {
                b.iter_batched($setup, $run, BatchSize::SmallInput)
            });
        };
    }
    case!(
        "gossip_payload_encode",
        cases::setup_encode,
        cases::run_encode
    );
    case!(
        "gossip_payload_decode",
        cases::setup_decode,
        cases::run_decode
    );
    case!(
        "gossip_handle_message",
        cases::setup_handle,
        cases::run_handle
    );
    case!(
        "gossip_received_page_json",
        cases::setup_page,
        cases::run_page
    );
    case!("dht_record_put_get", cases::setup_dht, cases::run_dht);
    case!(
        "stats_bootstrap_1000",
        cases::setup_bootstrap,
        cases::run_bootstrap
    );
    case!(
        "stats_change_points_100",
        cases::setup_change_points,
        cases::run_change_points
    );
    case!(
        "report_markdown",
        cases::summary_with_comparison,
        cases::run_markdown
    );
    case!(
        "report_comment",
        cases::summary_with_comparison,
        cases::run_comment
    );
    case!("report_plots", cases::setup_plots, cases::run_plots);
    g.finish();
}

criterion_group!(wall, benches);
criterion_main!(wall);
