//! Redis, present and absent:
//!
//! 1. a repeated search is served from the cache, and a commit of the follower changes the
//!    index generation so that the next search sees the new document; an entry that is not
//!    a response is searched afresh;
//! 2. a key over its rate limit gets 429 with `Retry-After`;
//! 3. with Redis unreachable, searches are still served, `/health` says degraded, and rate
//!    limiting goes on in process.

mod common;

use axum::http::{Method, StatusCode};
use common::{closed_redis_url, insert_record, wait_until, Options, TestService};
use serde_json::{json, Value};

/// Returns the value of an unlabelled counter in the metrics text.
async fn counter(test: &TestService, name: &str) -> f64 {
    let metrics = test.call(Method::GET, "/metrics", None, None).await;
    metrics
        .text
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{name}` in\n{}", metrics.text))
}

/// Imports a record and waits for the follower's commit to reach the engine.
async fn commit_a_record(test: &TestService, id: &str, title: &str) {
    let engine = test.service().state().loaded_engine().unwrap();
    let generation_before = engine.generation("records").unwrap();
    insert_record(&test.db.pool, id, title, 2021, "Ada Lovelace").await;
    wait_until("the commit to reach the engine", || {
        let engine = engine.clone();
        let before = generation_before.clone();
        async move {
            engine
                .generation("records")
                .is_some_and(|now| now != before)
        }
    })
    .await;
}

async fn search(test: &TestService, body: Value) -> Value {
    let response = test
        .call(Method::POST, "/indexes/records/search", Some(body), None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_serves_repeats_until_a_commit_changes_the_generation() {
    let test = TestService::start(Options::default()).await;
    let query = json!({"q": "attention", "limit": 10});
    let first = search(&test, query.clone()).await;
    assert_eq!(first["hits"].as_array().unwrap().len(), 2);
    assert_eq!(counter(&test, "atlas_cache_misses_total").await, 1.0);
    assert_eq!(counter(&test, "atlas_cache_hits_total").await, 0.0);

    let second = search(&test, query.clone()).await;
    assert_eq!(second["hits"], first["hits"]);
    assert_eq!(counter(&test, "atlas_cache_hits_total").await, 1.0);
    // The same search in the GET form is the same validated search, so the same entry.
    let get = test
        .call(
            Method::GET,
            "/indexes/records/search?q=attention&limit=10",
            None,
            None,
        )
        .await;
    assert_eq!(get.json["hits"], first["hits"]);
    assert_eq!(counter(&test, "atlas_cache_hits_total").await, 2.0);

    commit_a_record(&test, "W6", "Attention spans of readers").await;
    let third = search(&test, query).await;
    assert_eq!(third["hits"].as_array().unwrap().len(), 3, "{third}");
    assert_eq!(counter(&test, "atlas_cache_misses_total").await, 2.0);
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_entry_that_is_not_a_response_is_searched_afresh() {
    let test = TestService::start(Options::default()).await;
    let query = json!({"q": "attention", "limit": 10});
    let first = search(&test, query.clone()).await;
    overwrite_the_cache_entry(&test, r#"garbage{"hits":"#.as_bytes()).await;

    let second = search(&test, query.clone()).await;
    assert_eq!(second["hits"], first["hits"]);
    assert_eq!(counter(&test, "atlas_cache_hits_total").await, 0.0);
    assert_eq!(counter(&test, "atlas_cache_misses_total").await, 2.0);
    // Answered afresh and cached again: the next one is a hit.
    let third = search(&test, query).await;
    assert_eq!(third["hits"], first["hits"]);
    assert_eq!(counter(&test, "atlas_cache_hits_total").await, 1.0);
    test.stop().await;
}

/// A federated multi-search is cached whole: the same request again is a cache hit with
/// the same hits; another weight is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_federated_search_is_cached_whole() {
    let test = TestService::start(Options::default()).await;
    let body = |weight: f64| {
        json!({
            "federation": {"limit": 5},
            "queries": [
                {"indexUid": "records", "q": "attention", "federationOptions": {"weight": weight}},
                {"indexUid": "records", "q": "mueller"},
            ],
        })
    };
    let multi_search = |body: Value| {
        let test = &test;
        async move {
            let response = test
                .call(Method::POST, "/multi-search", Some(body), None)
                .await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.text);
            response.json
        }
    };
    let first = multi_search(body(1.0)).await;
    assert!(!first["hits"].as_array().unwrap().is_empty(), "{first}");
    assert_eq!(counter(&test, "atlas_cache_misses_total").await, 1.0);
    let again = multi_search(body(1.0)).await;
    assert_eq!(counter(&test, "atlas_cache_hits_total").await, 1.0);
    assert_eq!(again["hits"], first["hits"]);
    assert!(again["processingTimeMs"].is_u64(), "{again}");
    multi_search(body(2.0)).await;
    assert_eq!(counter(&test, "atlas_cache_misses_total").await, 2.0);
    assert_eq!(counter(&test, "atlas_cache_hits_total").await, 1.0);

    // A commit to a merged index changes the key: the search runs again and sees it.
    commit_a_record(&test, "W7", "Attention spans of listeners").await;
    let after = multi_search(body(1.0)).await;
    assert_eq!(counter(&test, "atlas_cache_misses_total").await, 3.0);
    assert_eq!(
        after["estimatedTotalHits"].as_u64().unwrap(),
        first["estimatedTotalHits"].as_u64().unwrap() + 1,
        "{after}"
    );
    test.stop().await;
}

/// Replicas sharing one Redis share cached answers only where their indexes hold the
/// same documents: two builds of as many records, one of them replaced by a new version
/// in between, never have the same key, though each replica counts its commits alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_holding_other_documents_never_share_a_cache_key() {
    use indexer::index::{self, BuildOptions, IndexKind, MIN_SHARD_HEAP_NUM_BYTES};
    use search_api::engine::Engine;
    let test = TestService::start(Options::default()).await;
    let key_of_a_build = |name: &'static str| {
        let dir = test.dir.path().join(name);
        let pool = test.db.pool.clone();
        async move {
            let options = BuildOptions {
                num_shards: 1,
                writer_heap_num_bytes: MIN_SHARD_HEAP_NUM_BYTES,
                page_num_rows: 500,
                progress_bar: false,
            };
            index::build(&pool, &dir, &[IndexKind::Records], &options)
                .await
                .expect("build");
            let engine = Engine::open(&dir).expect("open");
            let records = engine
                .index_uids()
                .into_iter()
                .find(|info| info.uid == "records")
                .expect("records open");
            (
                engine.generation("records").unwrap(),
                records.number_of_documents,
            )
        }
    };
    let (before, num_before) = key_of_a_build("replica-before").await;
    insert_record(
        &test.db.pool,
        "W1",
        "Attention was all we had",
        2018,
        "Ashish Vaswani",
    )
    .await;
    let (after, num_after) = key_of_a_build("replica-after").await;
    assert_eq!(num_before, num_after, "as many records");
    assert_ne!(before, after, "other documents, other key");
    test.stop().await;
}

/// Replaces the value of the one response cached in Redis, keeping its expiry.
async fn overwrite_the_cache_entry(test: &TestService, value: &[u8]) {
    let client = redis::Client::open(test.redis_url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}cache:*", test.redis_prefix))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let _: () = redis::cmd("SET")
        .arg(&keys[0])
        .arg(value)
        .arg("KEEPTTL")
        .query_async(&mut connection)
        .await
        .unwrap();
}

/// A response from the cache tells how long answering from the cache took, not how long
/// the search that filled it did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_response_tells_its_own_processing_time() {
    let test = TestService::start(Options::default()).await;
    let query = json!({"q": "attention", "limit": 10});
    let first = search(&test, query.clone()).await;
    // The entry as a slow search would have left it.
    let mut slow = first.clone();
    slow["processingTimeMs"] = json!(987_654);
    overwrite_the_cache_entry(&test, &serde_json::to_vec(&slow).unwrap()).await;

    let cached = search(&test, query).await;
    assert_eq!(counter(&test, "atlas_cache_hits_total").await, 1.0);
    assert_eq!(cached["hits"], first["hits"]);
    let millis = cached["processingTimeMs"].as_u64().expect("a number");
    assert!(millis < 60_000, "cached answer says {millis} ms");
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429_with_retry_after() {
    let test = TestService::start(Options {
        rate_limit_per_min: Some(3),
        ..Options::default()
    })
    .await;
    common::avoid_window_edge().await;
    for _ in 0..3 {
        search(&test, json!({})).await;
    }
    let limited = test
        .call(
            Method::POST,
            "/indexes/records/search",
            Some(json!({})),
            None,
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.json["code"], "too_many_requests");
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let health = test.call(Method::GET, "/health", None, None).await;
    assert_eq!(
        health.status,
        StatusCode::OK,
        "health is never rate limited"
    );
    assert_eq!(
        counter(&test, "atlas_rate_limited_requests_total").await,
        1.0
    );
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_searches_are_served_and_health_is_degraded() {
    let test = TestService::start(Options {
        redis_url: Some(closed_redis_url()),
        rate_limit_per_min: Some(5),
        ..Options::default()
    })
    .await;
    let health = test.call(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json, json!({"status": "degraded"}));

    common::avoid_window_edge().await;
    let started = std::time::Instant::now();
    for _ in 0..2 {
        let body = search(&test, json!({"q": "wärmeschutz"})).await;
        assert_eq!(body["hits"].as_array().unwrap().len(), 1);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(counter(&test, "atlas_cache_hits_total").await, 0.0);
    let metrics = test.call(Method::GET, "/metrics", None, None).await;
    assert!(metrics.text.contains("atlas_redis_available 0"));

    // Five requests per minute, counted in process: the two searches above and three more
    // pass; `/metrics` and `/health` are not limited.
    for _ in 0..3 {
        search(&test, json!({})).await;
    }
    let limited = test
        .call(
            Method::POST,
            "/indexes/records/search",
            Some(json!({})),
            None,
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let ready = test.call(Method::GET, "/health/ready", None, None).await;
    assert_eq!(
        ready.status,
        StatusCode::OK,
        "redis does not decide readiness"
    );
    test.stop().await;
}
