//! How much CPU the userspace switch spends per forwarded datagram, without nodes: a client
//! socket sends `--datagrams` 1200-byte datagrams (QUIC-sized) through a rule-less switch
//! (or with `--delay-ms`) to a receiver, in windows of 64 so that no socket buffer
//! overflows, or `--gap-us` apart (sparse traffic, as between nodes), and the switch thread's
//! CPU time is divided by what it forwarded.
//!
//! ```sh
//! cargo run --release -p perf-runner --example switch_cpu -- --datagrams 200000
//! ```
//!
//! A measurement tool for work on the switch, not a test: the number depends on the machine
//! and its load.

use std::{
    net::{Ipv4Addr, UdpSocket},
    time::{Duration, Instant},
};

use perf_runner::netem::{LinkRules, Switch};

fn main() {
    let mut datagrams = 100_000u64;
    let mut delay_ms = 0u64;
    let mut gap_us = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match (a.as_str(), value) {
            ("--datagrams", Some(v)) => datagrams = v,
            ("--delay-ms", Some(v)) => delay_ms = v,
            ("--gap-us", Some(v)) => gap_us = v,
            _ => {
                eprintln!("usage: switch_cpu [--datagrams N] [--delay-ms MS] [--gap-us US]");
                std::process::exit(2);
            }
        }
    }
    let rules = LinkRules {
        delay: Duration::from_millis(delay_ms),
        ..Default::default()
    };
    let switch = Switch::start(2, rules, 1).expect("switch");
    let a = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let b = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    switch.register(0, a.local_addr().unwrap());
    switch.register(1, b.local_addr().unwrap());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let before = runtime.block_on(switch.stats()).cpu;
    let payload = [7u8; 1200];
    let mut buf = [0u8; 2048];
    let start = Instant::now();
    let mut received = 0u64;
    for sent in 1..=datagrams {
        a.send_to(&payload, switch.public_addr(1)).unwrap();
        if gap_us > 0 {
            // Sparse traffic, as between nodes: every datagram wakes the switch on its own.
            std::thread::sleep(Duration::from_micros(gap_us));
        }
        // Receive as we go, a window behind, so that buffers never overflow.
        if sent % 64 == 0 {
            while received + 64 < sent || (sent == datagrams && received < sent) {
                if b.recv_from(&mut buf).is_err() {
                    break;
                }
                received += 1;
            }
        }
    }
    while received < datagrams && b.recv_from(&mut buf).is_ok() {
        received += 1;
    }
    let wall = start.elapsed();
    let stats = runtime.block_on(switch.stats());
    let cpu = stats.cpu - before;
    let forwarded = stats.total().delivered;
    println!(
        "{forwarded} of {datagrams} datagrams forwarded ({received} received) in {:.2} s: switch CPU {:.1} µs per datagram ({:.0} µs per 1000), {:.0} datagrams/s",
        wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / forwarded.max(1) as f64,
        cpu.as_secs_f64() * 1e9 / forwarded.max(1) as f64,
        forwarded as f64 / wall.as_secs_f64()
    );
}
