//! The service on a real socket, as the binary runs it:
//!
//! 1. it answers over HTTP with a request id, allows cross-origin calls, and rate limits by
//!    client address when routes are open;
//! 2. stopped, it finishes, and the follower commits what it applied but had not committed
//!    yet, so nothing is lost.

mod common;

use std::time::Duration;

use common::{insert_record, wait_until, Options, TestService, RECORDS};
use indexer::index::{IndexKind, ShardedIndex};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_http_and_commits_on_shutdown() {
    let mut test = TestService::start(Options {
        // No commit but the last one: the change below is committed only by the shutdown.
        commit_interval_ms: Some(3_600_000),
        rate_limit_per_min: Some(4),
        ..Options::default()
    })
    .await;
    let service = test.service.take().unwrap();
    let state = service.state().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service.serve(listener, async {
        let _ = stopped.await;
    }));

    common::avoid_window_edge().await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let health: Value = http
        .get(format!("{url}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "available"}));
    let response = http
        .post(format!("{url}/indexes/records/search"))
        .header("x-request-id", "e2e-request-1")
        .json(&json!({"q": "residual"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "e2e-request-1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["hits"].as_array().unwrap().len(), 1);
    let preflight = http
        .request(
            reqwest::Method::OPTIONS,
            format!("{url}/indexes/records/search"),
        )
        .header("origin", "https://ui.example.org")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200, "browsers may call the API");
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let generated = http.get(format!("{url}/version")).send().await.unwrap();
    assert!(!generated.headers()["x-request-id"].is_empty());

    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = http.get(format!("{url}/version")).send().await.unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        vec![200, 200, 429, 429],
        "4 a minute from one address"
    );

    // A declared length over the limit is refused before the body is read; the request
    // is written by hand so that no body races the early answer.
    let address = url.trim_start_matches("http://");
    let mut connection = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /indexes/records/search HTTP/1.1\r\nhost: {address}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        3 * 1024 * 1024
    );
    connection.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ =
        tokio::time::timeout(Duration::from_secs(10), connection.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""code":"payload_too_large""#), "{answer}");

    insert_record(
        &test.db.pool,
        "W7",
        "Written before the shutdown",
        2024,
        "Ada Lovelace",
    )
    .await;
    wait_until("the follower to apply the change", || {
        let state = state.clone();
        async move { state.follower_status().num_docs_applied >= 1 }
    })
    .await;
    let _ = stop.send(());
    server.await.unwrap().expect("the service stops cleanly");
    assert!(
        http.get(format!("{url}/health")).send().await.is_err(),
        "the listener is closed"
    );

    let index = ShardedIndex::open_current(test.dir.path(), IndexKind::Records)
        .unwrap()
        .unwrap();
    assert_eq!(
        index.num_docs(),
        RECORDS.len() as u64 + 1,
        "the last change was committed"
    );
}
