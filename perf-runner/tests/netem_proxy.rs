//! The switch's TCP proxy is faithful, measured through it with real TCP sockets on loopback:
//! the peer is seen at the switch port, round-trip time against the configured delay, a rate
//! cap that holds, a partition that holds one direction only and delivers everything, in
//! order, after the heal.

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    time::{Duration, Instant},
};

use perf_runner::{
    netem::{LinkRules, Switch},
    stats::descriptive::quantile,
};

/// Node 0 is a client socket bound before it connects (so its address can be registered),
/// node 1 a listener. Returns (client side, server side) of one proxied connection.
fn connected(switch: &Switch) -> (TcpStream, TcpStream) {
    let server = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    switch.register(1, server.local_addr().unwrap());
    let client = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    client
        .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .unwrap();
    let local = client.local_addr().unwrap().as_socket().unwrap();
    switch.register(0, local);
    client
        .connect(&switch.public_addr(1).into())
        .expect("the proxy accepts at P_1");
    let client: TcpStream = client.into();
    let (accepted, seen_as) = server.accept().unwrap();
    // Node 1 sees node 0 at P_0, as it would with QUIC: the bypass check relies on it.
    assert_eq!(seen_as, switch.public_addr(0));
    for s in [&client, &accepted] {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
    }
    (client, accepted)
}

fn read_exactly(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn round_trip_time_matches_the_configured_delay() {
    let switch = Switch::start(
        2,
        LinkRules {
            delay: Duration::from_millis(20),
            ..Default::default()
        },
        3,
    )
    .unwrap();
    let (mut a, mut b) = connected(&switch);
    let mut rtts = Vec::new();
    for i in 0..20u8 {
        let start = Instant::now();
        a.write_all(&[i]).unwrap();
        let got = read_exactly(&mut b, 1);
        b.write_all(&got).unwrap();
        assert_eq!(read_exactly(&mut a, 1), [i]);
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
fn the_rate_cap_holds_and_every_byte_arrives_in_order() {
    // 8 Mbit/s = 1 MB/s: 1.5 MB take at least 1.5 s; the proxy's own queue (1 MiB) cannot
    // hide that, because the reader below only counts what came out of the far end.
    let switch = Switch::start(
        2,
        LinkRules {
            rate_bps: Some(8_000_000),
            ..Default::default()
        },
        4,
    )
    .unwrap();
    let (mut a, mut b) = connected(&switch);
    let total = 1_500_000usize;
    let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
    let sent = data.clone();
    let start = Instant::now();
    let writer = std::thread::spawn(move || a.write_all(&sent).map(|_| a));
    let got = read_exactly(&mut b, total);
    let elapsed = start.elapsed().as_secs_f64();
    let _a = writer.join().unwrap().unwrap();
    assert!(got == data, "bytes changed or reordered on the way");
    let rate = total as f64 * 8.0 / elapsed;
    assert!(
        rate <= 8_000_000.0 * 1.05,
        "{rate:.0} bit/s through an 8 Mbit/s cap"
    );
    assert!(
        rate >= 8_000_000.0 * 0.5,
        "{rate:.0} bit/s: the cap should not starve the link"
    );
}

#[test]
fn a_partition_holds_one_direction_only_and_the_heal_delivers_it_all() {
    let switch = Switch::start(2, LinkRules::default(), 5).unwrap();
    let (mut a, mut b) = connected(&switch);
    a.write_all(b"before").unwrap();
    assert_eq!(read_exactly(&mut b, 6), b"before");
    switch.set_link(
        0,
        1,
        LinkRules {
            partitioned: true,
            ..Default::default()
        },
    );
    // Commands are handled in order: once the stats come back, the partition is in force.
    let (runtime, stats) = stats_reader(&switch);
    stats(&runtime);
    b.write_all(b"b->a").unwrap();
    assert_eq!(read_exactly(&mut a, 4), b"b->a");
    for i in 0..10u8 {
        a.write_all(&[b'0' + i]).unwrap();
    }
    b.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 16];
    let blocked = b.read(&mut buf);
    assert!(
        blocked.is_err(),
        "a → b is partitioned, yet b read {blocked:?}"
    );
    assert!(stats(&runtime).links[&(0, 1)].partitioned >= 1);
    switch.set_link(0, 1, LinkRules::default());
    b.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(
        read_exactly(&mut b, 10),
        b"0123456789",
        "the heal delivers what was held, in order"
    );
}

#[test]
fn a_connection_from_a_node_not_yet_registered_waits_for_its_registration() {
    let switch = Switch::start(2, LinkRules::default(), 6).unwrap();
    let server = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    switch.register(1, server.local_addr().unwrap());
    let mut client = TcpStream::connect(switch.public_addr(1)).unwrap();
    client.write_all(b"early").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    switch.register(0, client.local_addr().unwrap());
    let (mut accepted, _) = server.accept().unwrap();
    accepted
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(read_exactly(&mut accepted, 5), b"early");
    let (runtime, stats) = stats_reader(&switch);
    assert_eq!(stats(&runtime).tcp_connections, 1);
}

/// A runtime to await the switch's stats from a plain test thread.
fn stats_reader(
    switch: &Switch,
) -> (
    tokio::runtime::Runtime,
    impl Fn(&tokio::runtime::Runtime) -> perf_runner::netem::SwitchStats + '_,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (runtime, move |rt: &tokio::runtime::Runtime| {
        rt.block_on(switch.stats())
    })
}
