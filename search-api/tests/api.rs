//! The routes through the router, over real indexes built from PostgreSQL:
//!
//! 1. searches answer in Meilisearch's shape, GET and POST alike, with filter, facets, sort;
//! 2. mistakes answer Meilisearch's error shapes, codes and statuses;
//! 3. document writes and index changes are refused with `immutable_index`;
//! 4. settings changes answer a succeeded task, persist in PostgreSQL across a restart, and
//!    reset;
//! 5. indexes, documents, stats and version answer;
//! 6. readiness is false until the indexes are loaded and the follower reaches PostgreSQL
//!    and is caught up;
//! 7. the metrics name requests by route and status;
//! 8. unknown routes and methods answer Meilisearch's error shape.

mod common;

use std::sync::Arc;

use analyzers::GivenNameVariants;
use axum::http::{Method, StatusCode};
use common::{hit_titles, send, Options, TestService};
use indexer::follow::FollowerStatus;
use search_api::auth::Auth;
use search_api::cache::ResponseCache;
use search_api::engine::Engine;
use search_api::rate_limit::RateLimiter;
use search_api::redis_conn::RedisConn;
use search_api::settings_store::SettingsStore;
use search_api::state::{AppState, StateParts};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_post_and_get_answer_meilisearch_shapes() {
    let test = TestService::start(Options::default()).await;
    let body = json!({
        "q": "attention",
        "filter": "year >= 2017",
        "facets": ["year"],
        "sort": ["year:desc"],
        "attributesToHighlight": ["title"],
    });
    let post = test
        .call(Method::POST, "/indexes/records/search", Some(body), None)
        .await;
    assert_eq!(post.status, StatusCode::OK, "{}", post.text);
    assert_eq!(
        hit_titles(&post.json),
        vec![
            "Attention is all you need",
            "Attention mechanisms in neural networks: a survey"
        ]
    );
    assert_eq!(
        post.json["hits"][0]["title"],
        "Attention mechanisms in neural networks: a survey"
    );
    assert_eq!(post.json["estimatedTotalHits"], 2);
    assert_eq!(post.json["facetDistribution"]["year"]["2017"], 1);
    assert!(post.json["hits"][0]["_formatted"]["title"]
        .as_str()
        .unwrap()
        .contains("<em>Attention</em>"));
    assert!(post.headers.contains_key("x-request-id"));

    let get = test
        .call(
            Method::GET,
            "/indexes/records/search?q=attention&filter=year%20%3E%3D%202017&facets=year&sort=year:desc&attributesToHighlight=title",
            None,
            None,
        )
        .await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.json["hits"], post.json["hits"]);
    assert_eq!(
        get.json["facetDistribution"],
        post.json["facetDistribution"]
    );
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mistakes_answer_meilisearch_errors() {
    let test = TestService::start(Options::default()).await;
    let search = "/indexes/records/search";
    let cases = [
        (
            "/indexes/nothing/search",
            Some(json!({"q": "a"}).to_string()),
            StatusCode::NOT_FOUND,
            "index_not_found",
            "`nothing`",
        ),
        (
            search,
            Some(json!({"filter": "year >"}).to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_search_filter",
            "column",
        ),
        (
            search,
            Some(json!({"qq": "a"}).to_string()),
            StatusCode::BAD_REQUEST,
            "bad_request",
            "`qq`",
        ),
        (
            search,
            Some(r#"{"q": "a",}"#.to_owned()),
            StatusCode::BAD_REQUEST,
            "malformed_payload",
            "line 1",
        ),
        (
            search,
            Some(json!({"sort": ["title:asc"]}).to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_search_sort",
            "`title`",
        ),
        (
            "/indexes/bad%20uid/search",
            Some("{}".to_owned()),
            StatusCode::BAD_REQUEST,
            "invalid_index_uid",
            "`bad uid`",
        ),
    ];
    for (uri, body, status, code, message_part) in cases {
        let response = send(&test.router, Method::POST, uri, body.clone(), None).await;
        assert_eq!(response.status, status, "{uri} {body:?}: {}", response.text);
        assert_eq!(response.json["code"], code, "{uri} {body:?}");
        assert_eq!(
            response.json["link"],
            format!("https://docs.meilisearch.com/errors#{code}")
        );
        assert!(response.json["type"].is_string());
        let message = response.json["message"].as_str().unwrap();
        assert!(message.contains(message_part), "{message}");
    }

    let filter = test
        .call(
            Method::POST,
            search,
            Some(json!({"filter": "year = 1 AND"})),
            None,
        )
        .await;
    assert!(
        filter.json["message"]
            .as_str()
            .unwrap()
            .contains("column 13"),
        "the position of a filter error is named: {}",
        filter.json["message"]
    );

    let too_large = format!(r#"{{"q": "{}"}}"#, "a".repeat(3 * 1024 * 1024));
    let response = send(&test.router, Method::POST, search, Some(too_large), None).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.json["code"], "payload_too_large");

    let no_type = send(&test.router, Method::POST, search, None, None).await;
    assert_eq!(no_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(no_type.json["code"], "missing_content_type");
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_writes_are_refused() {
    let test = TestService::start(Options::default()).await;
    let writes = [
        (Method::POST, "/indexes/records/documents"),
        (Method::PUT, "/indexes/records/documents"),
        (Method::DELETE, "/indexes/records/documents"),
        (Method::DELETE, "/indexes/records/documents/W1"),
        (Method::POST, "/indexes/records/documents/delete-batch"),
    ];
    for (method, uri) in writes {
        let response = test
            .call(method.clone(), uri, Some(json!([{"id": 1}])), None)
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{method} {uri}");
        assert_eq!(response.json["code"], "immutable_index", "{method} {uri}");
        assert!(response.json["message"]
            .as_str()
            .unwrap()
            .contains("indexer import"));
    }
    for (method, uri) in [
        (Method::DELETE, "/indexes/records"),
        (Method::PATCH, "/indexes/works"),
    ] {
        let response = test
            .call(method.clone(), uri, Some(json!({"primaryKey": "id"})), None)
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{method} {uri}");
        assert_eq!(response.json["code"], "immutable_index", "{method} {uri}");
        assert!(response.json["message"]
            .as_str()
            .unwrap()
            .contains("indexer build"));
    }
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_changes_are_tasks_persisted_across_restarts() {
    let mut test = TestService::start(Options::default()).await;
    let patch = test
        .call(
            Method::PATCH,
            "/indexes/records/settings",
            Some(json!({
                "synonyms": {"nn": ["neural networks"]},
                "stopWords": ["the"],
                "pagination": {"maxTotalHits": 500},
            })),
            None,
        )
        .await;
    assert_eq!(patch.status, StatusCode::ACCEPTED, "{}", patch.text);
    assert_eq!(patch.json["status"], "succeeded");
    assert_eq!(patch.json["type"], "settingsUpdate");
    let task_uid = patch.json["taskUid"].as_i64().unwrap();

    let task = test
        .call(Method::GET, &format!("/tasks/{task_uid}"), None, None)
        .await;
    assert_eq!(task.status, StatusCode::OK);
    assert_eq!(task.json["status"], "succeeded");
    assert_eq!(task.json["details"]["stopWords"], json!(["the"]));
    let missing = test.call(Method::GET, "/tasks/999999", None, None).await;
    assert_eq!(missing.json["code"], "task_not_found");

    let refused = test
        .call(
            Method::PATCH,
            "/indexes/records/settings",
            Some(json!({"filterableAttributes": ["title"]})),
            None,
        )
        .await;
    assert_eq!(
        refused.json["code"],
        "invalid_settings_filterable_attributes"
    );

    test.restart(Options::default()).await;
    let settings = test
        .call(Method::GET, "/indexes/records/settings", None, None)
        .await;
    assert_eq!(
        settings.json["synonyms"],
        json!({"nn": ["neural networks"]})
    );
    assert_eq!(settings.json["pagination"]["maxTotalHits"], 500);
    let stop_words = test
        .call(
            Method::GET,
            "/indexes/records/settings/stop-words",
            None,
            None,
        )
        .await;
    assert_eq!(stop_words.json, json!(["the"]));

    let put = test
        .call(
            Method::PUT,
            "/indexes/records/settings/stop-words",
            Some(json!(["of"])),
            None,
        )
        .await;
    assert_eq!(put.status, StatusCode::ACCEPTED);
    let reset = test
        .call(Method::DELETE, "/indexes/records/settings", None, None)
        .await;
    assert_eq!(reset.status, StatusCode::ACCEPTED);
    let settings = test
        .call(Method::GET, "/indexes/records/settings", None, None)
        .await;
    assert_eq!(settings.json["synonyms"], json!({}));
    assert_eq!(settings.json["stopWords"], json!([]));
    assert_eq!(settings.json["pagination"]["maxTotalHits"], 1000);
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_documents_stats_and_version_answer() {
    let test = TestService::start(Options::default()).await;
    let indexes = test.call(Method::GET, "/indexes?limit=2", None, None).await;
    assert_eq!(indexes.status, StatusCode::OK);
    assert_eq!(indexes.json["total"], 3);
    assert_eq!(indexes.json["limit"], 2);
    assert_eq!(indexes.json["results"].as_array().unwrap().len(), 2);
    let records = test.call(Method::GET, "/indexes/records", None, None).await;
    assert_eq!(records.json["numberOfDocuments"], 5);
    assert_eq!(records.json["primaryKey"], "id");
    let bad_limit = test.call(Method::GET, "/indexes?limit=x", None, None).await;
    assert_eq!(bad_limit.json["code"], "invalid_index_limit");

    let page = test
        .call(
            Method::GET,
            "/indexes/records/documents?limit=2&fields=title,id",
            None,
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.json["total"], 5);
    assert_eq!(page.json["results"].as_array().unwrap().len(), 2);
    let id = page.json["results"][0]["id"].as_str().unwrap().to_owned();
    let document = test
        .call(
            Method::GET,
            &format!("/indexes/records/documents/{id}"),
            None,
            None,
        )
        .await;
    assert_eq!(document.status, StatusCode::OK);
    assert_eq!(document.json["id"], id.as_str());
    let fetched = test
        .call(
            Method::POST,
            "/indexes/records/documents/fetch",
            Some(json!({"filter": "year < 2011", "fields": ["title"]})),
            None,
        )
        .await;
    assert_eq!(fetched.json["total"], 2, "{}", fetched.text);
    let missing = test
        .call(Method::GET, "/indexes/records/documents/nope", None, None)
        .await;
    assert_eq!(missing.json["code"], "document_not_found");

    let stats = test.call(Method::GET, "/stats", None, None).await;
    assert_eq!(stats.json["indexes"]["records"]["numberOfDocuments"], 5);
    assert!(stats.json["databaseSize"].as_u64().unwrap() > 0);
    let index_stats = test
        .call(Method::GET, "/indexes/records/stats", None, None)
        .await;
    assert_eq!(index_stats.json["numberOfDocuments"], 5);
    let version = test.call(Method::GET, "/version", None, None).await;
    assert_eq!(version.json["pkgVersion"], env!("CARGO_PKG_VERSION"));

    let multi = test
        .call(
            Method::POST,
            "/multi-search",
            Some(json!({"queries": [
                {"indexUid": "records", "q": "attention"},
                {"indexUid": "records", "q": "wärmeschutz"},
            ]})),
            None,
        )
        .await;
    assert_eq!(multi.status, StatusCode::OK, "{}", multi.text);
    assert_eq!(multi.json["results"][0]["indexUid"], "records");
    assert_eq!(
        multi.json["results"][1]["hits"].as_array().unwrap().len(),
        1
    );
    let federated = test
        .call(
            Method::POST,
            "/multi-search",
            Some(json!({"federation": {}, "queries": [
                {"indexUid": "records", "q": "attention"},
                {"indexUid": "records", "q": "learning"},
            ]})),
            None,
        )
        .await;
    assert_eq!(federated.status, StatusCode::OK, "{}", federated.text);
    assert_eq!(federated.json["hits"].as_array().unwrap().len(), 3);
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_waits_for_indexes_and_follower() {
    let test = TestService::start(Options::default()).await;
    common::wait_until("the replica to be ready", || async {
        test.call(Method::GET, "/health/ready", None, None)
            .await
            .status
            == StatusCode::OK
    })
    .await;
    let ready = test.call(Method::GET, "/health/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.json["status"], "ready");

    // A state whose engine is not loaded yet, as while a replica builds its indexes.
    let (follower, follower_status) = tokio::sync::watch::channel(FollowerStatus::default());
    let redis = RedisConn::connect(
        &common::redis_url(),
        "atlas-test-ready:",
        std::time::Duration::from_millis(200),
    )
    .await;
    let state = AppState::new(StateParts {
        pool: test.db.pool.clone(),
        auth: Auth::new(None),
        settings: SettingsStore::load(test.db.pool.clone()).await.unwrap(),
        cache: ResponseCache::new(redis.clone(), std::time::Duration::ZERO),
        rate_limiter: RateLimiter::new(redis.clone(), 0),
        redis,
        follower: follower_status,
        name_variants: Arc::new(GivenNameVariants::empty()),
        ready_max_lag_secs: 5.0,
        index_dir: test.dir.path().to_owned(),
    });
    let router = search_api::app(state.clone());
    let not_loaded = send(&router, Method::GET, "/health/ready", None, None).await;
    assert_eq!(not_loaded.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(not_loaded.json["indexesLoaded"], false);
    let search = send(
        &router,
        Method::POST,
        "/indexes/records/search",
        Some("{}".into()),
        None,
    )
    .await;
    assert_eq!(search.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(search.json["code"], "indexes_not_loaded");

    state.set_engine(Arc::new(Engine::open(test.dir.path()).unwrap()));
    state.set_database_prepared();
    follower.send_modify(|status| {
        status.ready = true;
        status.lag_secs = 0.0;
    });
    // Failed: a follower that could not reach PostgreSQL counted as ready with lag 0.
    let cut_off = send(&router, Method::GET, "/health/ready", None, None).await;
    assert_eq!(cut_off.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(cut_off.json["followerReady"], false, "{}", cut_off.text);
    follower.send_modify(|status| {
        status.reachable = true;
        status.lag_secs = 30.0;
    });
    let lagging = send(&router, Method::GET, "/health/ready", None, None).await;
    assert_eq!(
        lagging.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "lag over the threshold"
    );
    follower.send_modify(|status| status.lag_secs = 0.5);
    let ready = send(&router, Method::GET, "/health/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_status() {
    let test = TestService::start(Options::default()).await;
    test.call(
        Method::POST,
        "/indexes/records/search",
        Some(json!({"q": "deep"})),
        None,
    )
    .await;
    test.call(
        Method::POST,
        "/indexes/nothing/search",
        Some(json!({})),
        None,
    )
    .await;
    let metrics = test.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    for expected in [
        r#"atlas_http_requests_total{route="/indexes/{uid}/search",status="200"} 1"#,
        r#"atlas_http_requests_total{route="/indexes/{uid}/search",status="404"} 1"#,
        "atlas_http_request_duration_seconds_bucket",
        r#"atlas_index_documents{index="records"} 5"#,
        "atlas_follower_lag_seconds",
        "atlas_cache_hits_total",
        "atlas_cache_misses_total",
        "atlas_rate_limited_requests_total",
    ] {
        assert!(
            metrics.text.contains(expected),
            "missing `{expected}` in\n{}",
            metrics.text
        );
    }
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_methods_answer_meilisearch_errors() {
    // Failed: an unknown path and a known path with the wrong method answered an empty body;
    // expected `{"message", "code", "type", "link"}`.
    let test = TestService::start(Options::default()).await;
    let unknown = test.call(Method::GET, "/no-such-route", None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json["code"], "not_found", "{}", unknown.text);
    assert_eq!(unknown.json["type"], "invalid_request");
    assert!(unknown.json["message"]
        .as_str()
        .unwrap()
        .contains("`/no-such-route`"));
    assert!(unknown.json["link"].is_string());

    let wrong_method = test.call(Method::DELETE, "/health", None, None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong_method.json["code"], "method_not_allowed",
        "{}",
        wrong_method.text
    );
    assert_eq!(wrong_method.json["type"], "invalid_request");
    let protected_wrong_method = test
        .call(Method::PUT, "/indexes/records/search", None, None)
        .await;
    assert_eq!(
        protected_wrong_method.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(protected_wrong_method.json["code"], "method_not_allowed");

    // Failed: a setting route of no setting answered 404 with an empty body.
    for method in [Method::GET, Method::PATCH, Method::PUT, Method::DELETE] {
        let body = (method == Method::PATCH || method == Method::PUT).then(|| json!(["a"]));
        let unknown_setting = test
            .call(
                method.clone(),
                "/indexes/records/settings/nosuch",
                body,
                None,
            )
            .await;
        assert_eq!(unknown_setting.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(
            unknown_setting.json["code"], "not_found",
            "{}",
            unknown_setting.text
        );
        let message = unknown_setting.json["message"].as_str().unwrap();
        assert!(
            message.contains("`nosuch`") && message.contains("`stop-words`"),
            "{message}"
        );
    }
    test.stop().await;
}
