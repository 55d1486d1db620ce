//! Slow clients over a real socket on 127.0.0.1:
//!
//! 1. a client that sends part of its headers and stops is disconnected after the header
//!    read timeout;
//! 2. a client that sends part of its body and stops is answered and disconnected after the
//!    request body timeout;
//! 3. a client that sends a whole request within the timeouts is answered as usual;
//! 4. a body whose chunked encoding is broken is a malformed payload, not a large one.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Options, TestService};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The timeouts the service runs with in these tests.
const TIMEOUT_MS: u64 = 300;

/// Longest wait for the server to close a connection: the timeout and ample slack.
const CLOSE_DEADLINE: Duration = Duration::from_secs(5);

/// Serves `test`'s service on a new socket and returns its address and the stop signal.
async fn serve(test: &mut TestService) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = test.service.take().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(service.serve(listener, async move {
        let _ = stopped.await;
    }));
    (address, stop)
}

/// Writes `partial` and returns what the server sent before closing the connection, and
/// how long it took; panics when the server keeps it open past [`CLOSE_DEADLINE`].
async fn send_and_wait_for_close(address: SocketAddr, partial: &str) -> (String, Duration) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(partial.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let read = tokio::time::timeout(CLOSE_DEADLINE, async {
        let mut buffer = [0_u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(num_bytes) => received.extend_from_slice(&buffer[..num_bytes]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server kept the connection open after {partial:?}"
    );
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_clients_are_disconnected() {
    // Failed: half a request kept its connection open forever; expected it closed within
    // the timeouts.
    let mut test = TestService::start(Options {
        header_read_timeout_ms: Some(TIMEOUT_MS),
        request_body_timeout_ms: Some(TIMEOUT_MS),
        ..Options::default()
    })
    .await;
    let (address, stop) = serve(&mut test).await;

    let (_, elapsed) =
        send_and_wait_for_close(address, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n").await;
    assert!(
        elapsed >= Duration::from_millis(TIMEOUT_MS / 2),
        "{elapsed:?}"
    );

    let (answer, elapsed) = send_and_wait_for_close(
        address,
        "POST /indexes/records/search HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"q\": \"att",
    )
    .await;
    assert!(
        elapsed >= Duration::from_millis(TIMEOUT_MS / 2),
        "{elapsed:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");

    let (answer, _) = send_and_wait_for_close(
        address,
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_chunked_body_is_a_malformed_payload() {
    // Failed: answered 413 payload_too_large, as any body that could not be read.
    let mut test = TestService::start(Options::default()).await;
    let (address, stop) = serve(&mut test).await;
    let (answer, _) = send_and_wait_for_close(
        address,
        "POST /indexes/records/search HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("\"code\":\"malformed_payload\""),
        "{answer}"
    );
    let _ = stop.send(());
}
