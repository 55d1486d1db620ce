//! The `matcher` binary's commands refuse at once, naming what is wrong: Redis that cannot
//! be reached (instead of retrying without a word), a profile that does not exist.

use std::process::Command;

use indexer::testing::TestDatabase;

/// Runs the matcher binary; returns whether it succeeded and what it wrote to stderr.
fn run_matcher(args: &[&str], database_url: &str, redis_url: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_matcher"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("REDIS_URL", redis_url)
        .output()
        .expect("the matcher binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn enqueue_names_an_unreachable_redis() {
    let database = TestDatabase::create().await;
    // Nothing listens on port 1 of the loopback address.
    let (succeeded, stderr) = run_matcher(
        &["enqueue", "--all-profiles"],
        &database.url,
        "redis://127.0.0.1:1",
    );
    assert!(!succeeded, "enqueue succeeded: {stderr}");
    assert!(stderr.contains("redis"), "{stderr}");
}

#[tokio::test]
async fn enqueue_refuses_a_profile_that_does_not_exist() {
    let database = TestDatabase::create().await;
    let missing = "6f1c1d52-8f0e-4a4b-9a57-0d5c3a1e2b47";
    // The profile is checked first: were it not, the closed port would be named instead.
    let (succeeded, stderr) = run_matcher(
        &["enqueue", "--profile", missing],
        &database.url,
        "redis://127.0.0.1:1",
    );
    assert!(!succeeded, "enqueue succeeded: {stderr}");
    assert!(stderr.contains("--profile"), "{stderr}");
    assert!(stderr.contains(missing), "{stderr}");
}

#[tokio::test]
async fn enqueue_names_the_form_of_since() {
    let database = TestDatabase::create().await;
    let (succeeded, stderr) = run_matcher(
        &["enqueue", "--since", "yesterday"],
        &database.url,
        "redis://127.0.0.1:1",
    );
    assert!(!succeeded, "enqueue succeeded: {stderr}");
    assert!(stderr.contains("--since"), "{stderr}");
    assert!(stderr.contains("RFC 3339"), "{stderr}");
}

#[tokio::test]
async fn enqueue_without_a_job_is_a_mistaken_command_line() {
    let database = TestDatabase::create().await;
    let output = Command::new(env!("CARGO_BIN_EXE_matcher"))
        .arg("enqueue")
        .env("DATABASE_URL", &database.url)
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .output()
        .expect("the matcher binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // clap's status for a mistaken command line, naming what to give.
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--profile"), "{stderr}");
}

#[tokio::test]
async fn run_names_an_unreachable_search_api_before_grouping() {
    let database = TestDatabase::create().await;
    // A record with no work yet: grouping would create one for it.
    sqlx::query(
        "insert into raw_records (source, source_id, entity_type, data, checksum) \
         values ('openalex', 'W1', 'work', '{\"id\": \"W1\", \"title\": \"A title\"}', 'c1')",
    )
    .execute(&database.pool)
    .await
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_matcher"))
        .args(["run"])
        .env("DATABASE_URL", &database.url)
        // Nothing listens on port 1 of the loopback address.
        .env("ATLAS_SEARCH_URL", "http://127.0.0.1:1")
        .env_remove("ATLAS_SEARCH_API_URL")
        .output()
        .expect("the matcher binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "run succeeded: {stderr}");
    assert!(stderr.contains("search API cannot answer"), "{stderr}");
    assert!(
        stderr.to_lowercase().contains("refused"),
        "the cause is not named: {stderr}"
    );
    let num_works: i64 = sqlx::query_scalar("select count(*) from canonical_works")
        .fetch_one(&database.pool)
        .await
        .unwrap();
    assert_eq!(num_works, 0, "grouping ran before the search API was asked");
}
