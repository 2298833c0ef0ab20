//! Shutdown: requests in flight finish; a client that never finishes its request cannot hold
//! the server open past the grace period.

use std::sync::Arc;
use std::time::Duration;

use rehook_mock::config::Config;
use rehook_mock::{Store, Timeouts, run_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A complete `GET /__admin/health` on a fresh connection; the whole answer.
async fn health_on_a_new_connection(addr: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answer");
    answer
}

/// Wait (within the guard) for the serve loop to end, and check it ended well.
async fn server_ends(task: tokio::task::JoinHandle<std::io::Result<()>>) {
    let ended = tokio::time::timeout(HANG_GUARD, task).await;
    let result = ended
        .expect("the server ended within the guard")
        .expect("task");
    assert!(result.is_ok(), "{result:?}");
}

/// Everything the server still sends on `stream` until it closes it (within the guard).
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    let read = tokio::time::timeout(HANG_GUARD, stream.read_to_end(&mut rest)).await;
    read.expect("closed within the guard").expect("read");
    rest
}

/// An upper bound for awaiting the server's end, so a regression fails instead of hanging.
const HANG_GUARD: Duration = Duration::from_secs(60);

async fn serve(
    grace: Duration,
    header_read: Duration,
) -> (
    std::net::SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let store = Arc::new(Store::new(Config::default()));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(run_with(
        listener,
        store,
        async move {
            let _ = rx.await;
        },
        Timeouts {
            shutdown_grace: grace,
            header_read,
        },
    ));
    (addr, tx, task)
}

#[tokio::test]
async fn a_half_sent_request_does_not_hold_the_server_open_after_the_grace_period() {
    let (addr, stop, task) = serve(Duration::from_millis(100), HANG_GUARD).await;
    let mut stalled = TcpStream::connect(addr).await.expect("connect");
    stalled
        .write_all(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("half a request");
    // A complete request on another connection proves the server took the stalled one in.
    let answer = health_on_a_new_connection(addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    stop.send(()).expect("server still running");
    server_ends(task).await;
    // Nothing of the server outlives it: the stalled connection has been closed.
    read_until_closed(&mut stalled).await;
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_gets_its_answer() {
    let (addr, stop, task) = serve(Duration::from_secs(30), HANG_GUARD).await;
    let mut client = TcpStream::connect(addr).await.expect("connect");
    let body = br#"{"source_id": "u-1"}"#;
    let head = format!(
        "POST /customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Basic cmtfdGVzdF9rZXk6cmtfdGVzdF9zZWNyZXQ=\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    client.write_all(head.as_bytes()).await.expect("head");
    // `100 Continue` comes once the server reads the body: the request is in flight.
    let mut interim = [0u8; 25];
    client
        .read_exact(&mut interim)
        .await
        .expect("interim answer");
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stop.send(()).expect("server still running");
    client.write_all(body).await.expect("the body");
    let mut answer = String::new();
    client.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    server_ends(task).await;
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_disconnected_after_the_header_timeout() {
    // Regression: hyper times out a request head only after its first byte; a silent client
    // kept its connection (and the server's shutdown) open for ever.
    let (addr, stop, task) = serve(HANG_GUARD, Duration::from_millis(100)).await;
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    let rest = read_until_closed(&mut silent).await;
    assert!(rest.is_empty());
    stop.send(()).expect("server still running");
    server_ends(task).await;
}

#[tokio::test]
async fn a_client_that_has_sent_nothing_does_not_delay_shutdown() {
    // Regression: a connection still waiting for its first byte was watched like a request in
    // flight, so shutdown waited the whole grace period for it.
    let long = Duration::from_secs(600);
    let (addr, stop, task) = serve(long, long).await;
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    // A complete exchange on another connection proves the silent one was accepted first.
    let answer = health_on_a_new_connection(addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    stop.send(()).expect("server still running");
    // Within the guard, that is long before the ten-minute grace period.
    server_ends(task).await;
    assert!(read_until_closed(&mut silent).await.is_empty());
}

#[tokio::test]
async fn http2_prior_knowledge_is_not_served() {
    // Regression: the upgrade-capable serve path sniffed the protocol and served HTTP/2.
    let (addr, _stop, _task) = serve(HANG_GUARD, HANG_GUARD).await;
    let mut client = TcpStream::connect(addr).await.expect("connect");
    client
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .expect("preface");
    let answer = read_until_closed(&mut client).await;
    // Closed without a word, or an HTTP/1.1 refusal: never an HTTP/2 frame.
    let text = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || text.starts_with("HTTP/1.1 4"),
        "not HTTP/2: {text:?}"
    );
}
