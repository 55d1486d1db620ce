//! Imports and profile changes reach the job stream through PostgreSQL's outbox, on a real
//! PostgreSQL and Redis (`ATLAS_TEST_REDIS_URL`), each test with a database and streams of
//! its own.
//!
//! Properties checked:
//! 1. records inserted and a profile created or renamed become one grouping job, one
//!    "records since" job from the earliest import time, and one job per changed profile;
//!    the outbox is then empty, and a profile change that matching does not read (last
//!    login) writes nothing;
//! 2. records wait until imports have been quiet, while profile jobs go at once;
//! 3. when Redis refuses the jobs, the outbox rows stay and the next relay queues them;
//! 4. two relays at once queue every profile exactly once.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{insert_profile, insert_record};
use indexer::testing::TestDatabase;
use matcher::outbox::{relay_once, RelayOptions};
use matcher::queue::Job;
use redis::aio::ConnectionManager;
use redis::streams::StreamRangeReply;
use redis::AsyncCommands;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

async fn redis() -> ConnectionManager {
    let url = std::env::var("ATLAS_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let client = redis::Client::open(url.as_str()).unwrap();
    ConnectionManager::new(client)
        .await
        .unwrap_or_else(|error| panic!("tests need Redis at `{url}`: {error}"))
}

fn options(quiet: Duration) -> RelayOptions {
    RelayOptions {
        stream: format!("atlas-test-{}:matcher:jobs", Uuid::now_v7().simple()),
        quiet,
        batch_num_rows: 1_000,
        interval: Duration::from_millis(10),
    }
}

async fn queued_jobs(redis: &mut ConnectionManager, stream: &str) -> Vec<Job> {
    let reply: StreamRangeReply = redis.xrange_all(stream).await.unwrap();
    reply
        .ids
        .iter()
        .map(|entry| {
            let fields: HashMap<String, String> = entry
                .map
                .iter()
                .map(|(key, value)| {
                    (
                        key.clone(),
                        redis::from_redis_value::<String>(value).unwrap(),
                    )
                })
                .collect();
            Job::from_fields(&entry.id, &fields).unwrap()
        })
        .collect()
}

async fn num_outbox_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from matcher_outbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

fn profile_jobs(jobs: &[Job]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = jobs
        .iter()
        .filter_map(|job| match job {
            Job::Profile { profile_id, since } => {
                assert_eq!(
                    *since, None,
                    "a changed profile is matched against everything"
                );
                Some(*profile_id)
            }
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn imports_and_profile_changes_become_jobs_once() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let mut redis = redis().await;
    let options = options(Duration::ZERO);

    let before_import: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("select now()")
        .fetch_one(pool)
        .await
        .unwrap();
    insert_record(pool, "openalex", "W1", &json!({"id": "W1", "title": "a"})).await;
    insert_record(pool, "crossref", "10.1/x", &json!({"DOI": "10.1/x"})).await;
    let renamed = insert_profile(pool, "Jane Doe", None, &["J. Doe"]).await;
    let created = insert_profile(pool, "Ana Lima", None, &[]).await;
    sqlx::query("update author_profiles set display_name = 'Jane Q. Doe' where id = $1")
        .bind(renamed)
        .execute(pool)
        .await
        .unwrap();

    let summary = relay_once(pool, &mut redis, &options).await.unwrap();
    assert_eq!(summary.num_profile_jobs, 2);
    let since = summary.records_since.expect("records were imported");
    assert!(since >= before_import, "{since} before {before_import}");
    let jobs = queued_jobs(&mut redis, &options.stream).await;
    let mut expected_profiles = vec![renamed, created];
    expected_profiles.sort_unstable();
    assert_eq!(profile_jobs(&jobs), expected_profiles);
    assert_eq!(
        jobs.iter().filter(|job| **job == Job::Group).count(),
        1,
        "{jobs:?}"
    );
    assert_eq!(
        jobs.iter()
            .filter(|job| matches!(job, Job::RecordsSince { since: s } if *s == since))
            .count(),
        1,
        "{jobs:?}"
    );
    assert_eq!(num_outbox_rows(pool).await, 0);

    // Nothing new: nothing queued. A change matching does not read: nothing written.
    sqlx::query("update author_profiles set last_login_at = now()")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(num_outbox_rows(pool).await, 0);
    let summary = relay_once(pool, &mut redis, &options).await.unwrap();
    assert_eq!(summary.num_rows, 0);
    assert_eq!(
        queued_jobs(&mut redis, &options.stream).await.len(),
        jobs.len()
    );
    let _: () = redis.del(&options.stream).await.unwrap();
}

#[tokio::test]
async fn records_wait_for_imports_to_be_quiet_but_profiles_do_not() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let mut redis = redis().await;
    let options = options(Duration::from_secs(3_600));

    insert_record(pool, "openalex", "W1", &json!({"id": "W1"})).await;
    let profile = insert_profile(pool, "Jane Doe", None, &[]).await;
    let summary = relay_once(pool, &mut redis, &options).await.unwrap();
    assert_eq!(summary.records_since, None, "the import is not quiet yet");
    let jobs = queued_jobs(&mut redis, &options.stream).await;
    assert_eq!(profile_jobs(&jobs), vec![profile]);
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(num_outbox_rows(pool).await, 1, "the records row waits");

    let quiet_now = RelayOptions {
        quiet: Duration::ZERO,
        ..options.clone()
    };
    let summary = relay_once(pool, &mut redis, &quiet_now).await.unwrap();
    assert!(summary.records_since.is_some());
    assert_eq!(num_outbox_rows(pool).await, 0);
    let _: () = redis.del(&options.stream).await.unwrap();
}

#[tokio::test]
async fn rows_stay_when_redis_refuses_the_jobs() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let mut redis = redis().await;
    let options = options(Duration::ZERO);
    let profile = insert_profile(pool, "Jane Doe", None, &[]).await;

    // A key of another type where the stream should be: Redis refuses XADD (WRONGTYPE).
    let _: () = redis.set(&options.stream, "not a stream").await.unwrap();
    let refused = relay_once(pool, &mut redis, &options).await.unwrap_err();
    assert!(matches!(refused, matcher::Error::Redis(_)), "{refused}");
    assert_eq!(
        num_outbox_rows(pool).await,
        1,
        "the row waits for the next relay"
    );

    let _: () = redis.del(&options.stream).await.unwrap();
    let summary = relay_once(pool, &mut redis, &options).await.unwrap();
    assert_eq!(summary.num_profile_jobs, 1);
    assert_eq!(
        profile_jobs(&queued_jobs(&mut redis, &options.stream).await),
        vec![profile]
    );
    assert_eq!(num_outbox_rows(pool).await, 0);
    let _: () = redis.del(&options.stream).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_at_once_queue_each_profile_once() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let redis = redis().await;
    let options = RelayOptions {
        batch_num_rows: 7,
        ..options(Duration::ZERO)
    };
    let mut profiles = Vec::new();
    for number in 0..60 {
        profiles.push(insert_profile(pool, &format!("Person {number}"), None, &[]).await);
    }
    profiles.sort_unstable();

    let relay = |mut redis: ConnectionManager| {
        let pool = pool.clone();
        let options = options.clone();
        async move {
            loop {
                let summary = relay_once(&pool, &mut redis, &options).await.unwrap();
                if summary.num_rows == 0 {
                    break;
                }
            }
        }
    };
    tokio::join!(relay(redis.clone()), relay(redis.clone()));

    let mut redis = redis;
    assert_eq!(
        profile_jobs(&queued_jobs(&mut redis, &options.stream).await),
        profiles
    );
    assert_eq!(num_outbox_rows(pool).await, 0);
    let _: () = redis.del(&options.stream).await.unwrap();
}
