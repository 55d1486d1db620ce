//! A PostgreSQL outage, made by refusing connections to the test's own database:
//!
//! 1. searches with an API key or a tenant token seen before the outage keep working from
//!    the last known key state, however old; a key never seen before gets 503
//!    `database_unavailable`, never 500, and so do the `/keys` routes;
//! 2. readiness says the database is unreachable, and the follower not ready while it
//!    cannot reach PostgreSQL (it reported ready with lag 0 before);
//! 3. the service starts while PostgreSQL refuses connections: it serves the indexes on disk,
//!    or waits for PostgreSQL to build them (`/health` degraded meanwhile), and is ready
//!    once PostgreSQL is back.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::{config, insert_record, wait_until, Options, TestService, MASTER_KEY, RECORDS};
use indexer::testing::TestDatabase;
use search_api::auth::tenant_token::sign;
use search_api::service::Service;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, PgPool};

/// Longer than the key cache's lifetime, so that lookups during the outage go to PostgreSQL.
const PAST_KEY_CACHE_TTL: Duration = Duration::from_secs(6);

async fn admin_connection() -> PgConnection {
    let url = std::env::var("ATLAS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| indexer::testing::DEFAULT_TEST_SERVER_URL.to_owned());
    PgConnection::connect(&url).await.unwrap()
}

async fn database_name(pool: &PgPool) -> String {
    sqlx::query_scalar("select current_database()")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Refuses new connections to the database `name` and ends the open ones.
pub async fn refuse_connections(name: &str) {
    let mut admin = admin_connection().await;
    sqlx::query(&format!(
        "alter database {name} with allow_connections false"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1")
        .bind(name)
        .execute(&mut admin)
        .await
        .unwrap();
}

/// Accepts connections to the database `name` again.
pub async fn allow_connections(name: &str) {
    let mut admin = admin_connection().await;
    sqlx::query(&format!(
        "alter database {name} with allow_connections true"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
}

async fn create_search_key(test: &TestService) -> Value {
    let created = test
        .call(
            Method::POST,
            "/keys",
            Some(json!({"actions": ["search"], "indexes": ["*"], "expiresAt": null})),
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.json
}

async fn search(test: &TestService, key: &str) -> common::Response {
    test.call(
        Method::POST,
        "/indexes/records/search",
        Some(json!({})),
        Some(key),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_seen_before_an_outage_keep_searching_through_it() {
    // Failed: API keys and tenant tokens answered 500 `internal` while PostgreSQL was down;
    // expected the last known key state, and 503 for keys never seen.
    let test = TestService::start(Options {
        master_key: Some(MASTER_KEY),
        ..Options::default()
    })
    .await;
    let known = create_search_key(&test).await;
    let known_key = known["key"].as_str().unwrap().to_owned();
    let never_seen = create_search_key(&test).await;
    let never_seen_key = never_seen["key"].as_str().unwrap().to_owned();
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let claims = json!({
        "apiKeyUid": known["uid"],
        "searchRules": {"records": {"filter": "year < 2017"}},
        "exp": chrono::Utc::now().timestamp() + 3600,
    });
    let token = sign(&header, &claims, &known_key);
    assert_eq!(search(&test, &known_key).await.status, StatusCode::OK);
    assert_eq!(search(&test, &token).await.status, StatusCode::OK);
    let name = database_name(&test.db.pool).await;

    refuse_connections(&name).await;
    tokio::time::sleep(PAST_KEY_CACHE_TTL).await;
    let by_key = search(&test, &known_key).await;
    let by_token = search(&test, &token).await;
    let by_new_key = search(&test, &never_seen_key).await;
    let keys = test
        .call(Method::GET, "/keys", None, Some(MASTER_KEY))
        .await;
    let ready = test.call(Method::GET, "/health/ready", None, None).await;
    wait_until("readiness to see the follower cut off", || {
        let test = &test;
        async move {
            let ready = test.call(Method::GET, "/health/ready", None, None).await;
            ready.json["followerReady"] == false && ready.json["followerReachable"] == false
        }
    })
    .await;
    let health = test.call(Method::GET, "/health", None, None).await;
    allow_connections(&name).await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text);
    assert_eq!(
        health.json,
        json!({"status": "degraded"}),
        "{}",
        health.text
    );

    assert_eq!(by_key.status, StatusCode::OK, "{}", by_key.text);
    assert_eq!(by_key.json["hits"].as_array().unwrap().len(), RECORDS.len());
    assert_eq!(by_token.status, StatusCode::OK, "{}", by_token.text);
    let filtered = by_token.json["hits"].as_array().unwrap().len();
    assert!(filtered < RECORDS.len(), "{}", by_token.text);
    assert_eq!(
        by_new_key.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        by_new_key.text
    );
    assert_eq!(by_new_key.json["code"], "database_unavailable");
    assert_eq!(by_new_key.json["type"], "system");
    assert!(by_new_key.json["link"].is_string(), "{}", by_new_key.text);
    assert_eq!(
        keys.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        keys.text
    );
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text
    );
    assert_eq!(ready.json["databaseReachable"], false, "{}", ready.text);

    wait_until("the new key to search once postgresql is back", || {
        let test = &test;
        let never_seen_key = never_seen_key.clone();
        async move { search(test, &never_seen_key).await.status == StatusCode::OK }
    })
    .await;
    test.stop().await;
}

async fn ready(router: &axum::Router) -> common::Response {
    common::send(router, Method::GET, "/health/ready", None, None).await
}

async fn wait_until_ready(router: &axum::Router) {
    wait_until("the service to be ready", || async {
        ready(router).await.status == StatusCode::OK
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_during_an_outage_serves_the_indexes_on_disk() {
    // Failed: the service exited at start when PostgreSQL refused connections; expected it to
    // serve the complete indexes on disk and become ready once PostgreSQL is back.
    let mut test = TestService::start(Options {
        master_key: Some(MASTER_KEY),
        ..Options::default()
    })
    .await;
    test.service.take().unwrap().stop().await.unwrap();
    let name = database_name(&test.db.pool).await;
    let options = Options {
        master_key: Some(MASTER_KEY),
        ..Options::default()
    };
    let config = config(
        &test.db,
        test.dir.path(),
        &test.redis_prefix,
        &test.redis_url,
        &options,
    );

    refuse_connections(&name).await;
    let started = Service::start(&config).await;
    let service = match started {
        Ok(service) => service,
        Err(error) => {
            allow_connections(&name).await;
            panic!("the service did not start during the outage: {error}");
        }
    };
    let router = service.router();
    let state = service.state().clone();
    wait_until("the indexes on disk to load", || {
        let state = state.clone();
        async move { state.loaded_engine().is_some() }
    })
    .await;
    let searched = common::send(
        &router,
        Method::POST,
        "/indexes/records/search",
        Some(json!({}).to_string()),
        Some(MASTER_KEY),
    )
    .await;
    let not_ready = ready(&router).await;
    allow_connections(&name).await;

    assert_eq!(searched.status, StatusCode::OK, "{}", searched.text);
    assert_eq!(
        searched.json["hits"].as_array().unwrap().len(),
        RECORDS.len()
    );
    assert_eq!(not_ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        not_ready.json["databaseReachable"], false,
        "{}",
        not_ready.text
    );
    wait_until_ready(&router).await;
    service.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_without_indexes_during_an_outage_waits_for_postgresql() {
    // Failed: the service exited at start when PostgreSQL refused connections; expected it to
    // wait, not ready, and build the indexes once PostgreSQL is back.
    let db = TestDatabase::create().await;
    for (source_id, title, year, author) in RECORDS {
        insert_record(&db.pool, source_id, title, *year, author).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("atlas-test:{}:", uuid::Uuid::now_v7().simple());
    let config = config(
        &db,
        dir.path(),
        &prefix,
        &common::redis_url(),
        &Options::default(),
    );
    let name = database_name(&db.pool).await;

    refuse_connections(&name).await;
    let started = Service::start(&config).await;
    let service = match started {
        Ok(service) => service,
        Err(error) => {
            allow_connections(&name).await;
            panic!("the service did not start during the outage: {error}");
        }
    };
    let router = service.router();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let not_ready = ready(&router).await;
    let searched = common::send(
        &router,
        Method::POST,
        "/indexes/records/search",
        Some(json!({}).to_string()),
        None,
    )
    .await;
    let health = common::send(&router, Method::GET, "/health", None, None).await;
    allow_connections(&name).await;

    // Redis is up: it is the indexes not loaded that make the replica degraded.
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json, json!({"status": "degraded"}));

    assert_eq!(not_ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(not_ready.json["indexesLoaded"], false, "{}", not_ready.text);
    assert_eq!(
        not_ready.json["databaseReachable"], false,
        "{}",
        not_ready.text
    );
    assert_eq!(searched.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(searched.json["code"], "indexes_not_loaded");
    wait_until_ready(&router).await;
    let health = common::send(&router, Method::GET, "/health", None, None).await;
    assert_eq!(health.json, json!({"status": "available"}));
    service.stop().await.unwrap();
}
