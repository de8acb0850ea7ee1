//! The control API's limits: slow or silent clients are answered and disconnected, they cannot
//! crowd out `/health`, and a declared oversized body is refused without being read.
//!
//! These tests talk raw TCP, since an HTTP client library would not misbehave on purpose. None
//! needs more file descriptors than the default limit of 1,024.

mod common;

use std::{
    io::{ErrorKind, Read, Write},
    net::TcpStream,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use common::{DEADLINE, Node, serial};
use serde_json::Value;

/// More slow clients than the node's connection cap (256), well within 1,024 descriptors.
const SLOW_CLIENTS: usize = 400;

/// A request head cut off before its end: the server waits for more headers.
const PARTIAL_HEAD: &[u8] = b"GET /health HTTP/1.1\r\nHost: swarm-node\r\nX-Slow: ";

#[test]
fn health_answers_through_400_slow_clients_and_every_one_is_disconnected() {
    let _serial = serial();
    let node = Node::start(&[]);
    // Half send a partial request head, half send nothing at all (half-open connections).
    let mut slow: Vec<TcpStream> = (0..SLOW_CLIENTS)
        .map(|i| {
            let mut stream = TcpStream::connect(node.control_addr()).expect("connect");
            if i % 2 == 0 {
                stream
                    .write_all(PARTIAL_HEAD)
                    .expect("write a partial head");
            }
            stream
        })
        .collect();

    // All 400 are still open on this side; the node answers /health regardless.
    for _ in 0..10 {
        let (status, body) = node.get("/health");
        assert_eq!(status, 200, "{body}");
    }

    let deadline = Instant::now() + DEADLINE;
    let mut timed_out = 0;
    for (i, stream) in slow.iter_mut().enumerate() {
        let received = read_until_closed(stream, deadline)
            .unwrap_or_else(|e| panic!("slow client {i} was not disconnected: {e}"));
        if received.is_empty() {
            // Displaced by a newer connection, or silent and timed out: closed without a word.
            continue;
        }
        assert_eq!(i % 2, 0, "a client that sent nothing got an answer");
        let (status, body) = parse_response(&received);
        assert_eq!(status, 408, "{body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("request head")),
            "{body}"
        );
        timed_out += 1;
    }
    assert!(
        timed_out > 0,
        "the newest slow clients, which nothing displaced, time out with 408"
    );
    node.health();
}

#[test]
fn a_client_trickling_its_request_head_gets_408_json_and_is_disconnected() {
    let _serial = serial();
    let node = Node::start(&[]);
    let mut stream = TcpStream::connect(node.control_addr()).expect("connect");
    stream.write_all(PARTIAL_HEAD).expect("write");
    let trickle = Trickle::start(&stream, b"a");
    let received = read_until_closed(&mut stream, Instant::now() + DEADLINE)
        .expect("the node closes the connection");
    drop(trickle);
    let (status, body) = parse_response(&received);
    assert_eq!(status, 408, "{body}");
    assert!(body["error"].as_str().unwrap().contains("request head"));
    node.health();
}

#[test]
fn a_client_trickling_its_body_gets_408_json_and_is_disconnected() {
    let _serial = serial();
    let node = Node::start(&[]);
    let mut stream = TcpStream::connect(node.control_addr()).expect("connect");
    stream
        .write_all(
            b"POST /dht/put HTTP/1.1\r\nHost: swarm-node\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{",
        )
        .expect("write");
    let trickle = Trickle::start(&stream, b" ");
    let received = read_until_closed(&mut stream, Instant::now() + DEADLINE)
        .expect("the node closes the connection");
    drop(trickle);
    let (status, body) = parse_response(&received);
    assert_eq!(status, 408, "{body}");
    assert!(body["error"].as_str().unwrap().contains("request body"));
    node.health();
}

#[test]
fn a_declared_10_gb_body_gets_413_json_without_being_sent() {
    let _serial = serial();
    let node = Node::start(&[]);
    let mut stream = TcpStream::connect(node.control_addr()).expect("connect");
    stream
        .write_all(
            b"POST /dht/put HTTP/1.1\r\nHost: swarm-node\r\nContent-Type: application/json\r\n\
              Content-Length: 10000000000\r\n\r\n{\"",
        )
        .expect("write");
    // The answer and the close come without the body: 10 s is generous.
    let received = read_until_closed(&mut stream, Instant::now() + Duration::from_secs(10))
        .expect("413 and close before the body is sent");
    let (status, body) = parse_response(&received);
    assert_eq!(status, 413, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("10000000000") && error.contains("exceeds the limit"),
        "{error}"
    );
    node.health();
}

/// The head deadline must not close idle keep-alive connections after the same few seconds:
/// a pooled client reusing one would race the close.
#[test]
fn an_idle_keep_alive_connection_outlives_the_header_timeout() {
    let _serial = serial();
    let node = Node::start(&[]);
    let mut stream = TcpStream::connect(node.control_addr()).expect("connect");
    stream
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
    let request = b"GET /health HTTP/1.1\r\nHost: swarm-node\r\n\r\n";
    stream.write_all(request).expect("first request");
    assert_eq!(read_one_response(&mut stream).0, 200);
    // Idle for longer than the 5 s head deadline (the behaviour under test, not a wait).
    std::thread::sleep(Duration::from_secs(7));
    stream.write_all(request).expect("second request");
    let (status, body) = read_one_response(&mut stream);
    assert_eq!(status, 200, "{body}");
}

/// Writes `byte` every 100 ms on a clone of a stream until the write fails or it is dropped.
struct Trickle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Trickle {
    fn start(stream: &TcpStream, byte: &'static [u8]) -> Self {
        let mut stream = stream.try_clone().expect("clone stream");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) && stream.write_all(byte).is_ok() {
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Trickle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Everything the server sends until it closes the connection, or an error if it is still
/// open at `deadline`.
fn read_until_closed(stream: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, String> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(received),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(received),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!(
                    "still open at the deadline, after receiving {:?}",
                    String::from_utf8_lossy(&received)
                ));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Status and JSON body of one complete HTTP response.
fn parse_response(received: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(received);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("body {body:?}: {e}"));
    (status, body)
}

/// Reads one response with a `Content-Length` from a kept-alive connection.
fn read_one_response(stream: &mut TcpStream) -> (u16, Value) {
    let mut received = Vec::new();
    let mut byte = [0u8; 1];
    while !received.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("response head");
        received.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&received).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no content-length in {head:?}"));
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("response body");
    received.extend_from_slice(&body);
    parse_response(&received)
}
