//! Connecting: a server that cannot be reached is reported with the cause, not only with
//! the pool's timeout.

#[tokio::test]
async fn an_unreachable_server_is_reported_with_its_cause() {
    // Nothing listens on port 1 of the loopback address.
    let error = indexer::db::connect("postgres://postgres@127.0.0.1:1/atlas", 1)
        .await
        .expect_err("nothing listens on port 1");
    let message = error.to_string();
    assert!(message.to_lowercase().contains("refused"), "{message}");
}
