//! What the integration tests share: a service over a throwaway PostgreSQL database, a
//! temporary index directory and a Redis key prefix of its own, and requests through the
//! router without a socket.

#![allow(dead_code)]

pub mod served;

use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use clap::Parser;
use indexer::testing::TestDatabase;
use search_api::config::Config;
use search_api::service::Service;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

/// A master key for the tests that need one.
pub const MASTER_KEY: &str = "test-master-key-0123456789";

/// Longest wait for the follower to build, commit or catch up.
pub const FOLLOW_TIMEOUT: Duration = Duration::from_secs(60);

/// The records every test starts with: (source id, title, year, author).
pub const RECORDS: &[(&str, &str, i64, &str)] = &[
    ("W1", "Attention is all you need", 2017, "Ashish Vaswani"),
    (
        "W2",
        "Cœlacanthe fossils of Madagascar",
        2001,
        "Jean Müller",
    ),
    (
        "W3",
        "Deep residual learning for image recognition",
        2016,
        "Kaiming He",
    ),
    ("W4", "Wärmeschutz im Hochbau", 2010, "Hans Linßen"),
    (
        "W5",
        "Attention mechanisms in neural networks: a survey",
        2020,
        "María Durán",
    ),
];

/// Returns the Redis URL tests use.
pub fn redis_url() -> String {
    std::env::var("ATLAS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Returns a `redis://` URL on which nothing listens.
pub fn closed_redis_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("redis://127.0.0.1:{port}")
}

/// Inserts an OpenAlex-shaped record.
pub async fn insert_record(pool: &PgPool, source_id: &str, title: &str, year: i64, author: &str) {
    let data = serde_json::json!({
        "id": format!("https://openalex.org/{source_id}"),
        "title": title,
        "publication_year": year,
        "type": "article",
        "authorships": [{"author": {"display_name": author}, "raw_author_name": author}],
    });
    insert_openalex(pool, source_id, data).await;
}

/// Inserts the OpenAlex work `data` as the raw record `source_id`.
pub async fn insert_openalex(pool: &PgPool, source_id: &str, data: Value) {
    sqlx::query(
        "insert into raw_records (source, source_id, entity_type, data, checksum) \
         values ('openalex', $1, 'work', $2, md5($2::text))",
    )
    .bind(source_id)
    .bind(data)
    .execute(pool)
    .await
    .expect("insert a raw record");
}

/// A running service with everything it owns.
pub struct TestService {
    pub db: TestDatabase,
    pub dir: tempfile::TempDir,
    pub redis_prefix: String,
    pub redis_url: String,
    pub service: Option<Service>,
    pub router: Router,
}

/// How a test service is configured beyond the defaults.
#[derive(Clone, Default)]
pub struct Options {
    pub master_key: Option<&'static str>,
    pub redis_url: Option<String>,
    pub rate_limit_per_min: Option<u32>,
    pub cache_ttl_secs: Option<u64>,
    pub commit_interval_ms: Option<u64>,
    pub header_read_timeout_ms: Option<u64>,
    pub request_body_timeout_ms: Option<u64>,
}

/// Returns the configuration of a test service.
pub fn config(
    db: &TestDatabase,
    dir: &Path,
    prefix: &str,
    redis_url: &str,
    options: &Options,
) -> Config {
    let mut args = vec![
        "search-api".to_owned(),
        "--http-addr=127.0.0.1:0".to_owned(),
        format!("--database-url={}", db.url),
        format!("--redis-url={redis_url}"),
        format!("--redis-key-prefix={prefix}"),
        format!("--index-dir={}", dir.display()),
        "--shards=2".to_owned(),
        "--writer-heap-mb=30".to_owned(),
        format!(
            "--commit-interval-ms={}",
            options.commit_interval_ms.unwrap_or(50)
        ),
        "--poll-interval-ms=50".to_owned(),
        "--env=development".to_owned(),
        format!("--cache-ttl-secs={}", options.cache_ttl_secs.unwrap_or(60)),
        format!(
            "--rate-limit-per-min={}",
            options.rate_limit_per_min.unwrap_or(100_000)
        ),
        "--shutdown-timeout-secs=20".to_owned(),
    ];
    if let Some(timeout_ms) = options.header_read_timeout_ms {
        args.push(format!("--header-read-timeout-ms={timeout_ms}"));
    }
    if let Some(timeout_ms) = options.request_body_timeout_ms {
        args.push(format!("--request-body-timeout-ms={timeout_ms}"));
    }
    if let Some(key) = options.master_key {
        args.push(format!("--master-key={key}"));
    }
    Config::try_parse_from(args).expect("test configuration parses")
}

impl TestService {
    /// Starts a service over a new database holding [`RECORDS`], and waits until its
    /// indexes are loaded and its default keys and settings are in place.
    pub async fn start(options: Options) -> TestService {
        let db = TestDatabase::create().await;
        for (source_id, title, year, author) in RECORDS {
            insert_record(&db.pool, source_id, title, *year, author).await;
        }
        let dir = tempfile::tempdir().unwrap();
        let redis_prefix = format!("atlas-test:{}:", Uuid::now_v7().simple());
        let redis_url = options.redis_url.clone().unwrap_or_else(redis_url);
        let config = config(&db, dir.path(), &redis_prefix, &redis_url, &options);
        let service = Service::start(&config).await.expect("service starts");
        let router = service.router();
        let test = TestService {
            db,
            dir,
            redis_prefix,
            redis_url,
            service: Some(service),
            router,
        };
        test.wait_until_loaded().await;
        test
    }

    /// Stops the service and starts another over the same database and index directory.
    pub async fn restart(&mut self, options: Options) {
        if let Some(service) = self.service.take() {
            service.stop().await.expect("service stops cleanly");
        }
        let config = config(
            &self.db,
            self.dir.path(),
            &self.redis_prefix,
            &self.redis_url,
            &options,
        );
        let service = Service::start(&config).await.expect("service restarts");
        self.router = service.router();
        self.service = Some(service);
        self.wait_until_loaded().await;
    }

    /// Returns the service.
    pub fn service(&self) -> &Service {
        self.service.as_ref().expect("service running")
    }

    async fn wait_until_loaded(&self) {
        let state = self.service().state().clone();
        wait_until("the indexes to load", || {
            let state = state.clone();
            async move {
                state.database_prepared()
                    && state
                        .loaded_engine()
                        .is_some_and(|engine| engine.index_uids().len() == 3)
            }
        })
        .await;
    }

    /// Sends a request through the router and returns its status, headers and JSON body
    /// (`Value::Null` when the body is empty or not JSON).
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Response {
        send(
            &self.router,
            method,
            uri,
            body.map(|body| body.to_string()),
            key,
        )
        .await
    }

    /// Deletes the Redis keys the service wrote.
    pub fn clean_redis(&self) {
        let Ok(client) = redis::Client::open(self.redis_url.as_str()) else {
            return;
        };
        let Ok(mut connection) = client.get_connection_with_timeout(Duration::from_secs(1)) else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.redis_prefix))
            .query(&mut connection)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut connection);
        }
    }

    /// Stops the service cleanly.
    pub async fn stop(mut self) {
        if let Some(service) = self.service.take() {
            service.stop().await.expect("service stops cleanly");
        }
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        self.clean_redis();
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

/// Sends a request with a raw body through `router`.
pub async fn send(
    router: &Router,
    method: Method,
    uri: &str,
    body: Option<String>,
    key: Option<&str>,
) -> Response {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    let request = request
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Response {
        status,
        headers,
        text,
        json,
    }
}

/// Waits until `condition` holds, or panics naming `what` after [`FOLLOW_TIMEOUT`].
pub async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !condition().await {
        assert!(
            started.elapsed() < FOLLOW_TIMEOUT,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Returns the ids of a search response's hits, sorted.
pub fn hit_titles(body: &Value) -> Vec<String> {
    let mut titles: Vec<String> = body["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {body}"))
        .iter()
        .map(|hit| hit["title"].as_str().unwrap_or_default().to_owned())
        .collect();
    titles.sort();
    titles
}

/// Waits, when the current rate-limit window (a minute) ends in under 15 seconds, for the
/// next one, so that a test counting requests never straddles two windows.
pub async fn avoid_window_edge() {
    let now_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let into_window = now_secs % 60;
    if into_window >= 45 {
        tokio::time::sleep(Duration::from_secs(61 - into_window)).await;
    }
}
