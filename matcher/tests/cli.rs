//! The `matcher` binary's commands refuse at once, naming Redis, when Redis cannot be
//! reached, instead of retrying without a word.

use std::process::Command;

use indexer::testing::TestDatabase;

#[tokio::test]
async fn enqueue_names_an_unreachable_redis() {
    let database = TestDatabase::create().await;
    // Nothing listens on port 1 of the loopback address.
    let output = Command::new(env!("CARGO_BIN_EXE_matcher"))
        .args(["enqueue", "--all-profiles"])
        .env("DATABASE_URL", &database.url)
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .output()
        .expect("the matcher binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "enqueue succeeded: {stderr}");
    assert!(stderr.contains("redis"), "{stderr}");
}
