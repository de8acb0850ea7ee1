//! The userspace switch is faithful, measured through it with real UDP sockets on loopback:
//! round-trip time against the configured delay, loss against its binomial interval, a rate
//! cap that holds, a partition that blocks one direction only and heals.

use std::{
    net::{Ipv4Addr, SocketAddr, UdpSocket},
    time::{Duration, Instant},
};

use perf_runner::{
    netem::{LinkRules, Loss, Switch},
    stats::{descriptive::quantile, proportion::clopper_pearson},
};

/// Two "nodes" (plain sockets standing for Q_0 and Q_1) registered with a switch.
struct Pair {
    switch: Switch,
    a: UdpSocket,
    b: UdpSocket,
    runtime: tokio::runtime::Runtime,
}

impl Pair {
    /// Sends from A to B's public address in windows, each only after the switch has taken
    /// in the previous one: on a loaded machine a burst could otherwise overflow the switch's
    /// socket buffer, a loss that the switch never decided and that would blur the test.
    fn send_paced(&self, payloads: impl IntoIterator<Item = Vec<u8>>) {
        let to_b = self.switch.public_addr(1);
        let mut sent = 0u64;
        for payload in payloads {
            self.a.send_to(&payload, to_b).unwrap();
            sent += 1;
            if sent.is_multiple_of(25) {
                let deadline = Instant::now() + Duration::from_secs(30);
                while self.seen() < sent {
                    assert!(
                        Instant::now() < deadline,
                        "the switch took in {} of {sent}",
                        self.seen()
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }

    /// Datagrams the switch has taken in on all links.
    fn seen(&self) -> u64 {
        self.runtime.block_on(self.switch.stats()).total().packets
    }
}

fn pair(rules: LinkRules) -> Pair {
    let switch = Switch::start(2, rules, 7).unwrap();
    let a = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let b = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    switch.register(0, a.local_addr().unwrap());
    switch.register(1, b.local_addr().unwrap());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    Pair {
        switch,
        a,
        b,
        runtime,
    }
}

/// Receives until `timeout` passes without a datagram; returns (payload, sender) pairs.
fn drain(socket: &UdpSocket, timeout: Duration) -> Vec<(Vec<u8>, SocketAddr)> {
    socket.set_read_timeout(Some(timeout)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok((n, from)) = socket.recv_from(&mut buf) {
        out.push((buf[..n].to_vec(), from));
    }
    out
}

#[test]
fn round_trip_time_matches_the_configured_delay() {
    let p = pair(LinkRules {
        delay: Duration::from_millis(20),
        ..Default::default()
    });
    let to_b = p.switch.public_addr(1);
    let mut rtts = Vec::new();
    let mut buf = [0u8; 64];
    for i in 0..20u8 {
        let start = Instant::now();
        p.a.send_to(&[i], to_b).unwrap();
        let (_, seen_as) = p.b.recv_from(&mut buf).unwrap();
        // B sees A at A's public port and answers there, as a QUIC peer would.
        assert_eq!(seen_as, p.switch.public_addr(0));
        p.b.send_to(&buf[..1], seen_as).unwrap();
        let (_, from) = p.a.recv_from(&mut buf).unwrap();
        assert_eq!(from, to_b);
        rtts.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let median = quantile(&rtts, 0.5).unwrap();
    // DESIGN: within 10 % + 0.5 ms of 2 × 20 ms.
    assert!(
        (median - 40.0).abs() <= 4.0 + 0.5,
        "median RTT {median:.2} ms: {rtts:?}"
    );
}

#[test]
fn observed_loss_is_within_the_binomial_interval_of_the_configured_rate() {
    let p = pair(LinkRules {
        loss: Loss::Uniform(0.05),
        ..Default::default()
    });
    let n = 3000;
    // Receive while sending: a socket buffer holds only a few hundred small datagrams.
    let b = p.b.try_clone().unwrap();
    let receiver = std::thread::spawn(move || drain(&b, Duration::from_millis(1000)).len());
    p.send_paced((0..n as u32).map(|i| i.to_be_bytes().to_vec()));
    let received = receiver.join().unwrap();
    let lost = n - received;
    let ci = clopper_pearson(lost, n, 0.999).unwrap();
    assert!(
        ci.low <= 0.05 && 0.05 <= ci.high,
        "{lost} of {n} lost: {ci:?}"
    );
    let stats = p.runtime.block_on(p.switch.stats());
    assert_eq!(
        stats.links[&(0, 1)].lost as usize,
        lost,
        "every loss was the switch's decision"
    );
}

#[test]
fn the_rate_cap_holds() {
    // 2 Mbit/s: 100 datagrams of 1000 bytes (800 kbit) take at least 0.4 s to get through.
    let p = pair(LinkRules {
        rate_bps: Some(2_000_000),
        ..Default::default()
    });
    let start = Instant::now();
    p.send_paced((0..100).map(|_| vec![0u8; 1000]));
    let mut buf = [0u8; 2048];
    let mut got = 0;
    while got < 100 {
        p.b.recv_from(&mut buf).unwrap();
        got += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rate = 100.0 * 1000.0 * 8.0 / elapsed;
    assert!(
        rate <= 2_000_000.0 * 1.05,
        "{rate:.0} bit/s through a 2 Mbit/s cap"
    );
    assert!(
        rate >= 2_000_000.0 * 0.5,
        "{rate:.0} bit/s: the cap should not starve the link"
    );
}

#[test]
fn a_partition_blocks_one_direction_only_and_heals() {
    let p = pair(LinkRules::default());
    p.switch.set_link(
        0,
        1,
        LinkRules {
            partitioned: true,
            ..Default::default()
        },
    );
    let (to_a, to_b) = (p.switch.public_addr(0), p.switch.public_addr(1));
    // Let the command reach the switch before traffic does: send B → A first and wait for it.
    p.b.send_to(b"b->a", to_a).unwrap();
    assert_eq!(
        drain(&p.a, Duration::from_millis(300)).len(),
        1,
        "b → a still flows"
    );
    for _ in 0..10 {
        p.a.send_to(b"a->b", to_b).unwrap();
    }
    assert!(
        drain(&p.b, Duration::from_millis(300)).is_empty(),
        "a → b is partitioned"
    );
    p.switch.set_link(0, 1, LinkRules::default());
    p.b.send_to(b"sync", to_a).unwrap();
    drain(&p.a, Duration::from_millis(300));
    p.a.send_to(b"a->b", to_b).unwrap();
    assert_eq!(drain(&p.b, Duration::from_millis(300)).len(), 1, "healed");
}

#[test]
fn datagrams_from_a_node_not_yet_registered_wait_for_its_registration() {
    let switch = Switch::start(2, LinkRules::default(), 1).unwrap();
    let a = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let b = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    switch.register(1, b.local_addr().unwrap());
    a.send_to(b"early", switch.public_addr(1)).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    switch.register(0, a.local_addr().unwrap());
    let got = drain(&b, Duration::from_millis(500));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, b"early");
}

#[test]
fn a_node_that_registers_again_gets_its_traffic_at_the_new_address() {
    let p = pair(LinkRules::default());
    let to_b = p.switch.public_addr(1);
    p.a.send_to(b"one", to_b).unwrap();
    assert_eq!(drain(&p.b, Duration::from_millis(300)).len(), 1);
    // B "restarts": a new socket, registered under the same node index.
    let b2 = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    p.switch.register(1, b2.local_addr().unwrap());
    b2.send_to(b"hello from the new b", p.switch.public_addr(0))
        .unwrap();
    assert_eq!(drain(&p.a, Duration::from_millis(300)).len(), 1);
    p.a.send_to(b"two", to_b).unwrap();
    let got = drain(&b2, Duration::from_millis(300));
    assert_eq!(got.len(), 1, "delivered to the new address");
    assert_eq!(got[0].0, b"two");
    assert!(
        drain(&p.b, Duration::from_millis(100)).is_empty(),
        "not to the old one"
    );
}
