//! Authentication and authorization with a master key:
//!
//! 1. no key is 401, an unknown key 403, the master key opens everything, health stays open;
//! 2. the default Search key searches but is refused on settings; the Admin key changes
//!    settings;
//! 3. a key created through `/keys` is shown once, stored only as a hash, and follows its
//!    actions, index patterns and expiry;
//! 4. a tenant token's filter restricts results, and a tampered or foreign token is refused.

mod common;

use axum::http::{Method, StatusCode};
use common::{hit_titles, Options, TestService, MASTER_KEY, RECORDS};
use search_api::auth::tenant_token::sign;
use serde_json::{json, Value};

async fn start() -> TestService {
    TestService::start(Options {
        master_key: Some(MASTER_KEY),
        ..Options::default()
    })
    .await
}

/// Returns the plain value of the default key named `name`.
async fn default_key(test: &TestService, name: &str) -> String {
    let keys = test
        .call(Method::GET, "/keys", None, Some(MASTER_KEY))
        .await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.text);
    keys.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["name"] == name)
        .and_then(|key| key["key"].as_str())
        .unwrap_or_else(|| panic!("no key `{name}` in {}", keys.json))
        .to_owned()
}

async fn create_key(test: &TestService, body: Value) -> Value {
    let created = test
        .call(Method::POST, "/keys", Some(body), Some(MASTER_KEY))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_gate_every_route_but_health() {
    let test = start().await;
    let search = Some(json!({"q": "attention"}));
    let uri = "/indexes/records/search";

    let anonymous = test.call(Method::POST, uri, search.clone(), None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.json["code"], "missing_authorization_header");
    assert_eq!(anonymous.json["type"], "auth");
    let wrong = test
        .call(Method::POST, uri, search.clone(), Some("not-a-key-at-all"))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.json["code"], "invalid_api_key");
    let master = test
        .call(Method::POST, uri, search.clone(), Some(MASTER_KEY))
        .await;
    assert_eq!(master.status, StatusCode::OK);
    let health = test.call(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);

    let search_key = default_key(&test, "Default Search API Key").await;
    let admin_key = default_key(&test, "Default Admin API Key").await;
    let searched = test
        .call(Method::POST, uri, search.clone(), Some(&search_key))
        .await;
    assert_eq!(searched.status, StatusCode::OK);
    let settings = Some(json!({"stopWords": ["the"]}));
    let refused = test
        .call(
            Method::PATCH,
            "/indexes/records/settings",
            settings.clone(),
            Some(&search_key),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let read_refused = test
        .call(
            Method::GET,
            "/indexes/records/settings",
            None,
            Some(&search_key),
        )
        .await;
    assert_eq!(read_refused.status, StatusCode::FORBIDDEN);
    let changed = test
        .call(
            Method::PATCH,
            "/indexes/records/settings",
            settings,
            Some(&admin_key),
        )
        .await;
    assert_eq!(changed.status, StatusCode::ACCEPTED, "{}", changed.text);
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_keys_are_stored_hashed_and_scoped() {
    let test = start().await;
    let created = create_key(
        &test,
        json!({
            "name": "records reader",
            "actions": ["search", "documents.get"],
            "indexes": ["rec*"],
            "expiresAt": null,
        }),
    )
    .await;
    let plain = created["key"].as_str().unwrap().to_owned();
    let uid = created["uid"].as_str().unwrap().to_owned();
    assert_eq!(plain.len(), 64);

    let rows: Vec<(String,)> = sqlx::query_as("select row_to_json(api_keys)::text from api_keys")
        .fetch_all(&test.db.pool)
        .await
        .unwrap();
    assert!(rows.len() >= 3);
    for (row,) in &rows {
        assert!(!row.contains(&plain), "plain key stored: {row}");
        assert!(!row.contains(MASTER_KEY), "master key stored: {row}");
    }
    let shown = test
        .call(Method::GET, &format!("/keys/{uid}"), None, Some(MASTER_KEY))
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_ne!(
        shown.json["key"],
        plain.as_str(),
        "a created key is shown once"
    );
    assert_eq!(shown.json["name"], "records reader");
    let by_key = test
        .call(
            Method::GET,
            &format!("/keys/{plain}"),
            None,
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(by_key.json["uid"], uid.as_str());

    let records = test
        .call(
            Method::POST,
            "/indexes/records/search",
            Some(json!({"q": "attention"})),
            Some(&plain),
        )
        .await;
    assert_eq!(records.status, StatusCode::OK, "{}", records.text);
    let works = test
        .call(
            Method::POST,
            "/indexes/works/search",
            Some(json!({})),
            Some(&plain),
        )
        .await;
    assert_eq!(
        works.status,
        StatusCode::FORBIDDEN,
        "the key covers `rec*` only"
    );
    let indexes = test.call(Method::GET, "/indexes", None, Some(&plain)).await;
    assert_eq!(
        indexes.status,
        StatusCode::FORBIDDEN,
        "no `indexes.get` action"
    );

    let renamed = test
        .call(
            Method::PATCH,
            &format!("/keys/{uid}"),
            Some(json!({"name": "renamed"})),
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(renamed.json["name"], "renamed");
    let immutable = test
        .call(
            Method::PATCH,
            &format!("/keys/{uid}"),
            Some(json!({"actions": ["*"]})),
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(immutable.json["code"], "immutable_api_key_actions");
    let deleted = test
        .call(
            Method::DELETE,
            &format!("/keys/{uid}"),
            None,
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = test
        .call(
            Method::POST,
            "/indexes/records/search",
            Some(json!({})),
            Some(&plain),
        )
        .await;
    assert_eq!(
        gone.status,
        StatusCode::FORBIDDEN,
        "a deleted key stops working"
    );
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_keys_are_refused() {
    let test = start().await;
    let created = create_key(
        &test,
        json!({"actions": ["*"], "indexes": ["*"], "expiresAt": "2999-01-01T00:00:00Z"}),
    )
    .await;
    let plain = created["key"].as_str().unwrap();
    // Expire the key in PostgreSQL before its first use, as time passing would.
    sqlx::query(
        "update api_keys set expires_at = now() - interval '1 second' where uid = $1::uuid",
    )
    .bind(created["uid"].as_str().unwrap())
    .execute(&test.db.pool)
    .await
    .unwrap();
    let refused = test.call(Method::GET, "/indexes", None, Some(plain)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json["code"], "invalid_api_key");
    let past = test
        .call(
            Method::POST,
            "/keys",
            Some(json!({"actions": ["*"], "indexes": ["*"], "expiresAt": "2000-01-01"})),
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(past.json["code"], "invalid_api_key_expires_at");
    test.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_tokens_restrict_searches_to_their_filter() {
    let test = start().await;
    let created = create_key(
        &test,
        json!({"actions": ["search"], "indexes": ["*"], "expiresAt": null}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let key_uid = created["uid"].as_str().unwrap();
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let claims = json!({
        "apiKeyUid": key_uid,
        "searchRules": {"records": {"filter": "year < 2017"}},
        "exp": chrono::Utc::now().timestamp() + 3600,
    });
    let token = sign(&header, &claims, key);

    let all = test
        .call(
            Method::POST,
            "/indexes/records/search",
            Some(json!({})),
            Some(key),
        )
        .await;
    assert_eq!(all.json["hits"].as_array().unwrap().len(), RECORDS.len());
    let restricted = test
        .call(
            Method::POST,
            "/indexes/records/search",
            Some(json!({})),
            Some(&token),
        )
        .await;
    assert_eq!(restricted.status, StatusCode::OK, "{}", restricted.text);
    assert_eq!(
        hit_titles(&restricted.json),
        vec![
            "Cœlacanthe fossils of Madagascar",
            "Deep residual learning for image recognition",
            "Wärmeschutz im Hochbau",
        ]
    );
    let narrowed = test
        .call(
            Method::POST,
            "/indexes/records/search",
            Some(json!({"filter": "year > 2005"})),
            Some(&token),
        )
        .await;
    assert_eq!(
        narrowed.json["hits"].as_array().unwrap().len(),
        2,
        "filters are ANDed"
    );
    let other_index = test
        .call(
            Method::POST,
            "/indexes/works/search",
            Some(json!({})),
            Some(&token),
        )
        .await;
    assert_eq!(other_index.status, StatusCode::FORBIDDEN);
    let settings = test
        .call(Method::GET, "/indexes/records/settings", None, Some(&token))
        .await;
    assert_eq!(settings.status, StatusCode::FORBIDDEN, "tokens only search");

    let widened = json!({"apiKeyUid": key_uid, "searchRules": ["*"]});
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = sign(&header, &widened, key)
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let tampered = parts.join(".");
    let refused = test
        .call(
            Method::POST,
            "/indexes/records/search",
            Some(json!({})),
            Some(&tampered),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let foreign = sign(&header, &claims, "a key this service never issued");
    let refused = test
        .call(
            Method::POST,
            "/indexes/records/search",
            Some(json!({})),
            Some(&foreign),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let expired = sign(
        &header,
        &json!({"apiKeyUid": key_uid, "searchRules": ["*"], "exp": 1}),
        key,
    );
    let refused = test
        .call(
            Method::POST,
            "/indexes/records/search",
            Some(json!({})),
            Some(&expired),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    test.stop().await;
}
