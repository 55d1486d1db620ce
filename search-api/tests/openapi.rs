//! The served OpenAPI description matches what the service answers: real responses of the
//! main routes, successes and errors, validate against the response schemas the
//! description gives for their path, method and status.

mod common;

use axum::http::{Method, StatusCode};
use common::{Options, TestService, MASTER_KEY};
use serde_json::{json, Value};

/// Returns how `response` violates the schema the description gives for `path`, `method`
/// and its status; panics when the description has no such response.
fn violations(
    description: &Value,
    path: &str,
    method: &Method,
    response: &common::Response,
) -> Vec<String> {
    let status = response.status.as_u16().to_string();
    let operation = &description["paths"][path][method.as_str().to_lowercase()];
    assert!(operation.is_object(), "{method} {path} is not described");
    let schema = &operation["responses"][&status]["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} answered {status}, which is not described"
    );
    // The response schema, with the components its references point into.
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": description["components"],
        "allOf": [schema],
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|error| panic!("schema of {method} {path} {status}: {error}"));
    validator
        .iter_errors(&response.json)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

/// Checks `response` against its schema; panics naming every violation.
fn check(description: &Value, path: &str, method: &Method, response: &common::Response) {
    let status = response.status.as_u16();
    let violations = violations(description, path, method, response);
    assert!(
        violations.is_empty(),
        "{method} {path} {status} does not match its schema:\n{}\n{}",
        violations.join("\n"),
        response.json
    );
}

/// A request to check: the described path, the method, the URI, the body and the key.
type Call<'a> = (&'a str, Method, String, Option<Value>, Option<&'a str>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_match_the_served_description() {
    let test = TestService::start(Options {
        master_key: Some(MASTER_KEY),
        ..Options::default()
    })
    .await;
    let served = test.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    let description = served.json.clone();
    assert_eq!(description["info"]["version"], env!("CARGO_PKG_VERSION"));
    let mut wrong = test.call(Method::GET, "/health", None, None).await;
    wrong.json = json!({"status": "fine"});
    assert!(
        !violations(&description, "/health", &Method::GET, &wrong).is_empty(),
        "the check must catch a response that does not match"
    );

    let key = Some(MASTER_KEY);
    let document_id = {
        let page = test
            .call(Method::GET, "/indexes/records/documents?limit=1", None, key)
            .await;
        page.json["results"][0]["id"].as_str().unwrap().to_owned()
    };
    let calls: Vec<Call> = vec![
        (
            "/indexes/{uid}/search",
            Method::POST,
            "/indexes/records/search".into(),
            Some(
                json!({"q": "attention", "facets": ["year"], "attributesToHighlight": ["*"],
                        "showMatchesPosition": true, "showRankingScore": true}),
            ),
            key,
        ),
        (
            "/indexes/{uid}/search",
            Method::POST,
            "/indexes/records/search".into(),
            Some(json!({"q": "attention", "page": 1, "hitsPerPage": 1})),
            key,
        ),
        (
            "/indexes/{uid}/search",
            Method::POST,
            "/indexes/records/search".into(),
            Some(
                json!({"q": "atention", "sort": ["year:desc"], "distinct": "year",
                        "showRankingScoreDetails": true}),
            ),
            key,
        ),
        (
            "/indexes/{uid}/search",
            Method::GET,
            "/indexes/records/search?q=deep".into(),
            None,
            key,
        ),
        (
            "/indexes/{uid}/search",
            Method::POST,
            "/indexes/records/search".into(),
            Some(json!({"filter": "year >"})),
            key,
        ),
        (
            "/indexes/{uid}/search",
            Method::POST,
            "/indexes/none/search".into(),
            Some(json!({})),
            key,
        ),
        (
            "/indexes/{uid}/search",
            Method::POST,
            "/indexes/records/search".into(),
            Some(json!({})),
            None,
        ),
        (
            "/indexes/{uid}/facet-search",
            Method::POST,
            "/indexes/records/facet-search".into(),
            Some(json!({"facetName": "year", "q": "attention"})),
            key,
        ),
        (
            "/indexes/{uid}/facet-search",
            Method::POST,
            "/indexes/records/facet-search".into(),
            Some(json!({"facetName": "type", "facetQuery": "ART", "filter": "year > 2000"})),
            key,
        ),
        (
            "/indexes/{uid}/facet-search",
            Method::POST,
            "/indexes/records/facet-search".into(),
            Some(json!({"facetQuery": "a"})),
            key,
        ),
        (
            "/indexes/{uid}/facet-search",
            Method::POST,
            "/indexes/records/facet-search".into(),
            Some(json!({"facetName": "type"})),
            None,
        ),
        (
            "/multi-search",
            Method::POST,
            "/multi-search".into(),
            Some(json!({"queries": [{"indexUid": "records", "q": "attention"}]})),
            key,
        ),
        (
            "/multi-search",
            Method::POST,
            "/multi-search".into(),
            Some(json!({"federation": {"limit": 2},
                        "queries": [{"indexUid": "records", "q": "attention"}]})),
            key,
        ),
        ("/indexes", Method::GET, "/indexes".into(), None, key),
        (
            "/indexes/{uid}",
            Method::GET,
            "/indexes/records".into(),
            None,
            key,
        ),
        (
            "/indexes/{uid}/documents",
            Method::GET,
            "/indexes/records/documents?limit=2".into(),
            None,
            key,
        ),
        (
            "/indexes/{uid}/documents",
            Method::POST,
            "/indexes/records/documents".into(),
            Some(json!([{"id": "x"}])),
            key,
        ),
        (
            "/indexes/{uid}/documents/fetch",
            Method::POST,
            "/indexes/records/documents/fetch".into(),
            Some(json!({"limit": 2})),
            key,
        ),
        (
            "/indexes/{uid}/documents/{id}",
            Method::GET,
            format!("/indexes/records/documents/{document_id}"),
            None,
            key,
        ),
        (
            "/indexes/{uid}/settings",
            Method::GET,
            "/indexes/records/settings".into(),
            None,
            key,
        ),
        (
            "/indexes/{uid}/settings",
            Method::PATCH,
            "/indexes/records/settings".into(),
            Some(json!({"stopWords": ["the"]})),
            key,
        ),
        (
            "/tasks/{taskUid}",
            Method::GET,
            "/tasks/1".into(),
            None,
            key,
        ),
        ("/stats", Method::GET, "/stats".into(), None, key),
        (
            "/indexes/{uid}/stats",
            Method::GET,
            "/indexes/records/stats".into(),
            None,
            key,
        ),
        ("/health", Method::GET, "/health".into(), None, None),
        (
            "/health/ready",
            Method::GET,
            "/health/ready".into(),
            None,
            None,
        ),
        ("/version", Method::GET, "/version".into(), None, key),
        ("/keys", Method::GET, "/keys".into(), None, key),
        (
            "/keys",
            Method::POST,
            "/keys".into(),
            Some(json!({"actions": ["search"], "indexes": ["*"], "expiresAt": null})),
            key,
        ),
        (
            "/candidates",
            Method::POST,
            "/candidates".into(),
            Some(
                json!({"profiles": [{"id": "p1", "names": ["Ashish Vaswani"],
                        "titles": ["Attention is all you need"], "orcid": null}],
                        "limitPerProfile": 5}),
            ),
            key,
        ),
        ("/metrics", Method::GET, "/metrics".into(), None, None),
    ];
    for (path, method, uri, body, key) in calls {
        let response = test.call(method.clone(), &uri, body, key).await;
        check(&description, path, &method, &response);
    }
    test.stop().await;
}
