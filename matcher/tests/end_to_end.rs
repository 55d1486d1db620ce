//! The matcher against the real search API, on the real samples: ORCID profiles with their
//! works, OpenAlex and Crossref records, served by `search_api`'s own service on a
//! 127.0.0.1 port with a master key.
//!
//! Properties checked:
//! 1. Every ORCID profile whose iD a record lists gets candidates, with `orcid_claimed`
//!    and `name_agrees` reasons derived from the records.
//! 2. Such pairs are auto-confirmed into works with authorships.
//! 3. A second run changes nothing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use analyzers::GivenNameVariants;
use clap::Parser;
use indexer::import::formats::Format;
use indexer::import::{import_files, ImportOptions};
use indexer::testing::TestDatabase;
use matcher::pipeline::{run, RunOptions};
use matcher::retrieve::SearchApiClient;
use serde_json::Value;
use uuid::Uuid;

const MASTER_KEY: &str = "matcher-test-master-key-0123456789";

fn samples_dir() -> PathBuf {
    std::env::var("ATLAS_SAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

fn redis_url() -> String {
    std::env::var("ATLAS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orcid_profiles_of_the_samples_get_explained_candidates() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let samples = samples_dir();
    let imports = [
        (Format::Orcid, vec![samples.join("orcid/summaries")]),
        (
            Format::Openalex,
            vec![
                samples.join("openalex/works-2022-schema.jsonl"),
                samples.join("openalex/works-2024-schema.jsonl"),
            ],
        ),
        (
            Format::Crossref,
            vec![
                samples.join("crossref/works-a.jsonl"),
                samples.join("crossref/works-b.jsonl"),
            ],
        ),
    ];
    for (format, paths) in imports {
        import_files(pool, format, &paths, &ImportOptions::default())
            .await
            .expect("import the samples");
    }

    let index_dir = tempfile::tempdir().unwrap();
    let redis_prefix = format!("atlas-test:{}:", Uuid::now_v7().simple());
    let config = search_api::config::Config::try_parse_from([
        "search-api".to_owned(),
        format!("--database-url={}", database.url),
        format!("--redis-url={}", redis_url()),
        format!("--redis-key-prefix={redis_prefix}"),
        format!("--index-dir={}", index_dir.path().display()),
        "--shards=2".to_owned(),
        "--writer-heap-mb=30".to_owned(),
        "--env=development".to_owned(),
        "--cache-ttl-secs=0".to_owned(),
        "--rate-limit-per-min=0".to_owned(),
        format!("--master-key={MASTER_KEY}"),
        format!(
            "--name-variants={}",
            samples.join("names/given-name-variants.csv").display()
        ),
    ])
    .expect("search-api configuration parses");
    let service = search_api::service::Service::start(&config)
        .await
        .expect("search api starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service.serve(listener, async move {
        let _ = stopped.await;
    }));

    let client = SearchApiClient::new(
        &format!("http://{address}"),
        Some(MASTER_KEY.to_owned()),
        Duration::from_secs(120),
    )
    .unwrap();
    let unauthorized =
        SearchApiClient::new(&format!("http://{address}"), None, Duration::from_secs(10)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while client.probe().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the search api did not load its indexes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        unauthorized.probe().await.is_err(),
        "the key must be sent and required"
    );

    let variants = GivenNameVariants::load(samples.join("names/given-name-variants.csv")).unwrap();
    let first = run(pool, &client, &variants, &RunOptions::default())
        .await
        .expect("matching runs");
    assert!(first.write.num_inserted > 0, "{first:?}");

    let claimed_profiles: Vec<(Uuid, String)> = sqlx::query_as(
        "select p.id, p.primary_orcid from author_profiles p
         where exists (select 1 from raw_records r where r.data::text like '%' || p.primary_orcid || '%')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(!claimed_profiles.is_empty());
    for (profile_id, orcid) in &claimed_profiles {
        let reasons: Vec<Value> =
            sqlx::query_scalar("select match_reasons from candidate_matches where profile_id = $1")
                .bind(profile_id)
                .fetch_all(pool)
                .await
                .unwrap();
        let kinds: Vec<&str> = reasons
            .iter()
            .flat_map(|reasons| reasons.as_array().unwrap())
            .map(|reason| reason["type"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"orcid_claimed"),
            "profile {orcid}: {kinds:?}"
        );
        assert!(kinds.contains(&"name_agrees"), "profile {orcid}: {kinds:?}");
    }
    assert!(first.num_auto_confirmed > 0, "{first:?}");
    let num_authorships: i64 = sqlx::query_scalar("select count(*) from work_authorships")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        num_authorships as u64,
        first.num_auto_confirmed - count_second_versions(pool).await
    );

    let second = run(pool, &client, &variants, &RunOptions::default())
        .await
        .expect("matching runs again");
    assert_eq!(
        (
            second.write.num_inserted,
            second.write.num_updated,
            second.num_auto_confirmed
        ),
        (0, 0, 0),
        "{second:?}"
    );

    let _ = stop.send(());
    server.await.unwrap().expect("search api stops cleanly");
    clean_redis(&redis_prefix);
}

/// Confirmations that joined a work the profile already had (another version of it).
async fn count_second_versions(pool: &sqlx::PgPool) -> u64 {
    let extra: i64 = sqlx::query_scalar(
        "select coalesce(sum(jsonb_array_length(raw_contributions) - 1), 0)::bigint from work_authorships",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    extra as u64
}

fn clean_redis(prefix: &str) {
    let Ok(mut connection) =
        redis::Client::open(redis_url().as_str()).and_then(|client| client.get_connection())
    else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut connection)
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut connection);
    }
}
