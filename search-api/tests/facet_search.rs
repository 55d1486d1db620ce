//! `POST /indexes/{uid}/facet-search` over a real socket, real indexes built from
//! PostgreSQL and a database of its own per test:
//!
//! 1. a facet's hits are the `facetDistribution` of the same search, whatever `q`,
//!    `filter` and `matchingStrategy` narrow it to, in alphabetical order;
//! 2. `facetQuery` keeps the values starting with it, without regard to case or accents,
//!    the query taken whole, a typo forgiven from five letters; at most
//!    `maxValuesPerFacet` values come back;
//! 3. keys and tenant tokens apply as to searches: the `search` action, the index patterns,
//!    the token's filter on the counts;
//! 4. mistakes answer Meilisearch's codes, naming the parameter; the search parameters
//!    instant-meilisearch sends along are ignored.

mod common;

use common::served::Served;
use common::{insert_openalex, wait_until, Options, MASTER_KEY, RECORDS};
use search_api::auth::tenant_token::sign;
use serde_json::{json, Map, Value};

/// Records added to the five every test starts with, all articles: (source id, title,
/// year, type).
const TYPED_RECORDS: &[(&str, &str, i64, &str)] = &[
    (
        "T1",
        "Cellules souches et thérapie",
        2018,
        "Thèse de doctorat",
    ),
    ("T2", "Attention in the visual cortex", 2019, "thesis"),
    ("T3", "Attention please: a reader", 2016, "Book chapter"),
    ("T4", "Coelacanth genomes", 2021, "thesis"),
    ("T5", "Attention heads explained", 2022, "Thèse de doctorat"),
];

/// Adds [`TYPED_RECORDS`] and waits until they are searchable.
async fn add_typed_records(served: &Served, key: Option<&str>) {
    for (source_id, title, year, work_type) in TYPED_RECORDS {
        let data = json!({
            "id": format!("https://openalex.org/{source_id}"),
            "title": title,
            "publication_year": year,
            "type": work_type,
            "authorships": [{"author": {"display_name": "Ada Typed"}}],
        });
        insert_openalex(&served.test.db.pool, source_id, data).await;
    }
    let expected = RECORDS.len() + TYPED_RECORDS.len();
    wait_until("the typed records to be searchable", || async {
        let (_, _, body, _) = served
            .send(
                reqwest::Method::POST,
                "/indexes/records/search",
                Some(json!({"limit": 0})),
                key,
            )
            .await;
        body["estimatedTotalHits"] == json!(expected)
    })
    .await;
}

/// Posts a facet search of the `records` index with `key`, returning status and body.
async fn facet_search(served: &Served, body: Value, key: Option<&str>) -> (u16, Value) {
    let (status, _, json, text) = served
        .send(
            reqwest::Method::POST,
            "/indexes/records/facet-search",
            Some(body),
            key,
        )
        .await;
    assert!(!json.is_null(), "not JSON: {text}");
    (status, json)
}

/// Returns the `(value, count)` pairs of a facet search answer, in its order.
fn hits(body: &Value) -> Vec<(String, u64)> {
    body["facetHits"]
        .as_array()
        .unwrap_or_else(|| panic!("no facetHits in {body}"))
        .iter()
        .map(|hit| {
            let value = hit["value"].as_str().unwrap_or_else(|| panic!("{hit}"));
            (value.to_owned(), hit["count"].as_u64().unwrap())
        })
        .collect()
}

/// Returns `pairs` as owned pairs, for comparisons with [`hits`].
fn pairs(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs
        .iter()
        .map(|(value, count)| ((*value).to_owned(), *count))
        .collect()
}

/// Returns the `facetDistribution` of `facet` for the search `search` (without a facet
/// name), as a JSON object of counts.
async fn distribution(served: &Served, facet: &str, search: &Value) -> Value {
    let mut body = search.as_object().cloned().unwrap_or_default();
    body.insert("facets".into(), json!([facet]));
    body.insert("limit".into(), json!(0));
    let (status, _, answer) = served.search(Value::Object(body)).await;
    assert_eq!(status, 200, "{answer}");
    answer["facetDistribution"][facet].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facet_hits_are_the_facet_distribution_of_the_same_search() {
    let served = Served::start(Options::default()).await;
    add_typed_records(&served, None).await;

    let (status, body) = facet_search(&served, json!({"facetName": "type"}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["facetQuery"], Value::Null);
    assert!(body["processingTimeMs"].is_u64(), "{body}");
    // Alphabetical by the folded value, as Meilisearch orders facet values by default.
    assert_eq!(
        hits(&body),
        pairs(&[
            ("article", 5),
            ("Book chapter", 1),
            ("Thèse de doctorat", 2),
            ("thesis", 2),
        ])
    );

    let searches = [
        ("type", json!({})),
        ("year", json!({})),
        ("source", json!({})),
        ("type", json!({"q": "attention"})),
        ("type", json!({"q": "attention", "filter": "year >= 2019"})),
        (
            "year",
            json!({"q": "attention", "filter": ["year >= 2017", "type != thesis"]}),
        ),
        (
            "type",
            json!({"q": "attention heads", "matchingStrategy": "all"}),
        ),
        ("year", json!({"filter": "type = thesis OR type = article"})),
    ];
    for (facet, search) in &searches {
        let expected = distribution(&served, facet, search).await;
        let mut body = search.clone();
        body["facetName"] = json!(facet);
        let (status, answer) = facet_search(&served, body, None).await;
        assert_eq!(status, 200, "{answer}");
        let counted: Map<String, Value> = hits(&answer)
            .into_iter()
            .map(|(value, count)| (value, json!(count)))
            .collect();
        assert!(!counted.is_empty(), "`{facet}` for {search}: no values");
        assert_eq!(
            Value::Object(counted),
            expected,
            "`{facet}` for {search}: facet hits against facetDistribution"
        );
    }

    // What the searches above were compared on, spelled out.
    let narrowed = json!({"facetName": "type", "q": "attention", "filter": "year >= 2019"});
    let (_, body) = facet_search(&served, narrowed, None).await;
    assert_eq!(
        hits(&body),
        pairs(&[("article", 1), ("Thèse de doctorat", 1), ("thesis", 1)])
    );
    let every_word =
        json!({"facetName": "type", "q": "attention heads", "matchingStrategy": "all"});
    let (_, body) = facet_search(&served, every_word, None).await;
    assert_eq!(hits(&body), pairs(&[("Thèse de doctorat", 1)]));
    let (_, body) = facet_search(&served, json!({"facetName": "type", "q": "zzzqqq"}), None).await;
    assert_eq!(hits(&body), pairs(&[]), "no document, no value");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facet_query_keeps_the_values_starting_with_it() {
    let served = Served::start(Options::default()).await;
    add_typed_records(&served, None).await;

    let cases: [(&str, &[(&str, u64)]); 8] = [
        ("THE", &[("Thèse de doctorat", 2), ("thesis", 2)]),
        ("thèse de", &[("Thèse de doctorat", 2)]),
        ("these de doc", &[("Thèse de doctorat", 2)]),
        ("ARTI", &[("article", 5)]),
        ("b", &[("Book chapter", 1)]),
        // One typo from five letters.
        ("tesis", &[("thesis", 2)]),
        // The query is matched whole, from the start of the value.
        ("doctorat", &[]),
        ("chapter", &[]),
    ];
    for (facet_query, expected) in cases {
        let body = json!({"facetName": "type", "facetQuery": facet_query});
        let (status, answer) = facet_search(&served, body, None).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["facetQuery"], facet_query);
        assert_eq!(hits(&answer), pairs(expected), "facetQuery `{facet_query}`");
    }
    let body = json!({"facetName": "type", "facetQuery": "th", "q": "attention"});
    let (_, answer) = facet_search(&served, body, None).await;
    assert_eq!(
        hits(&answer),
        pairs(&[("Thèse de doctorat", 1), ("thesis", 1)]),
        "facetQuery and q together"
    );

    let (status, _, task, _) = served
        .send(
            reqwest::Method::PATCH,
            "/indexes/records/settings",
            Some(json!({"faceting": {"maxValuesPerFacet": 2}})),
            None,
        )
        .await;
    assert_eq!(status, 202, "{task}");
    let (_, answer) = facet_search(&served, json!({"facetName": "type"}), None).await;
    assert_eq!(
        hits(&answer),
        pairs(&[("article", 5), ("Book chapter", 1)]),
        "the first `maxValuesPerFacet` values"
    );
    let (_, answer) = facet_search(
        &served,
        json!({"facetName": "type", "facetQuery": "t"}),
        None,
    )
    .await;
    assert_eq!(
        hits(&answer),
        pairs(&[("Thèse de doctorat", 2), ("thesis", 2)])
    );
    served.stop().await;
}

/// Creates an API key with the master key and returns the answer, its plain key included.
async fn create_key(served: &Served, actions: Value, indexes: Value) -> Value {
    let (status, _, created, _) = served
        .send(
            reqwest::Method::POST,
            "/keys",
            Some(json!({"actions": actions, "indexes": indexes, "expiresAt": null})),
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facet_search_applies_keys_and_tenant_tokens_as_searches_do() {
    let served = Served::start(Options {
        master_key: Some(MASTER_KEY),
        ..Options::default()
    })
    .await;
    add_typed_records(&served, Some(MASTER_KEY)).await;
    let body = json!({"facetName": "type"});

    let (status, answer) = facet_search(&served, body.clone(), None).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["code"], "missing_authorization_header");
    let (status, answer) = facet_search(&served, body.clone(), Some("not-a-key")).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["code"], "invalid_api_key");

    let searcher = create_key(&served, json!(["search"]), json!(["rec*"])).await;
    let searcher_key = searcher["key"].as_str().unwrap();
    let (status, answer) = facet_search(&served, body.clone(), Some(searcher_key)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        hits(&answer),
        pairs(&[
            ("article", 5),
            ("Book chapter", 1),
            ("Thèse de doctorat", 2),
            ("thesis", 2),
        ])
    );
    let reader = create_key(&served, json!(["documents.get"]), json!(["*"])).await;
    let (status, answer) = facet_search(&served, body.clone(), reader["key"].as_str()).await;
    assert_eq!(status, 403, "the `search` action is needed: {answer}");
    let works_only = create_key(&served, json!(["search"]), json!(["works"])).await;
    let (status, answer) = facet_search(&served, body.clone(), works_only["key"].as_str()).await;
    assert_eq!(status, 403, "the key's indexes apply: {answer}");

    let header = json!({"alg": "HS256", "typ": "JWT"});
    let claims = json!({
        "apiKeyUid": searcher["uid"],
        "searchRules": {"records": {"filter": "year < 2017"}},
        "exp": chrono::Utc::now().timestamp() + 3600,
    });
    let token = sign(&header, &claims, searcher_key);
    // Before 2017: three of the first five articles and the book chapter.
    let (status, answer) = facet_search(&served, body.clone(), Some(&token)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(hits(&answer), pairs(&[("article", 3), ("Book chapter", 1)]));
    let own_filter = json!({"facetName": "year", "filter": "type = article"});
    let (_, answer) = facet_search(&served, own_filter, Some(&token)).await;
    assert_eq!(
        hits(&answer),
        pairs(&[("2001", 1), ("2010", 1), ("2016", 1)]),
        "the token's filter and the request's are both applied"
    );
    let other_index = sign(
        &header,
        &json!({"apiKeyUid": searcher["uid"], "searchRules": {"works": {}}}),
        searcher_key,
    );
    let (status, answer) = facet_search(&served, body, Some(&other_index)).await;
    assert_eq!(status, 403, "a token for other indexes: {answer}");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facet_search_mistakes_answer_meilisearch_codes() {
    let served = Served::start(Options::default()).await;

    let cases = [
        (
            json!({"facetQuery": "a"}),
            "missing_facet_search_facet_name",
            "`facetName`",
        ),
        (
            json!({"facetName": "title"}),
            "invalid_facet_search_facet_name",
            "attribute `title` is not filterable; filterable attributes are `year`, `source`",
        ),
        (
            json!({"facetName": 7}),
            "invalid_facet_search_facet_name",
            "invalid value for `facetName`: expected a string, found `7`",
        ),
        (
            json!({"facetName": "type", "facetQuery": 7}),
            "invalid_facet_search_query",
            "invalid value for `facetQuery`",
        ),
        (
            json!({"facetName": "type", "exhaustiveFacetCount": "yes"}),
            "invalid_facet_search_exhaustive_facet_count",
            "`exhaustiveFacetCount`",
        ),
        (
            json!({"facetName": "type", "q": ["attention"]}),
            "invalid_search_q",
            "invalid value for `q`",
        ),
        (
            json!({"facetName": "type", "filter": "year >"}),
            "invalid_search_filter",
            "`year >`",
        ),
        (
            json!({"facetName": "type", "rankingScoreThreshold": "high"}),
            "invalid_search_ranking_score_threshold",
            "`rankingScoreThreshold`",
        ),
        (
            json!({"facetName": "type", "facetNmae": "type"}),
            "bad_request",
            "unknown facet search parameter `facetNmae`",
        ),
    ];
    for (body, code, message) in cases {
        let (status, answer) = facet_search(&served, body.clone(), None).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["code"], code, "{body}: {answer}");
        assert_eq!(answer["type"], "invalid_request", "{body}: {answer}");
        let text = answer["message"].as_str().unwrap();
        assert!(text.contains(message), "{body}: {text}");
    }

    let (status, _, answer, _) = served
        .send(
            reqwest::Method::POST,
            "/indexes/nothing/facet-search",
            Some(json!({"facetName": "type"})),
            None,
        )
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (404, json!("index_not_found"))
    );
    let (status, _, answer, _) = served
        .send(
            reqwest::Method::GET,
            "/indexes/records/facet-search",
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (405, json!("method_not_allowed"))
    );

    // The body instant-meilisearch sends for a searchable refinement list.
    let from_instant_meilisearch = json!({
        "q": "",
        "facetName": "type",
        "facetQuery": "art",
        "filter": [["year = 2017", "year = 2020"]],
        "attributesToHighlight": ["*"],
        "highlightPreTag": "__ais-highlight__",
        "highlightPostTag": "__/ais-highlight__",
        "limit": 21,
        "offset": 0,
        "facets": ["type", "year"],
        "sort": [],
        "indexUid": "records",
    });
    let (status, answer) = facet_search(&served, from_instant_meilisearch, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(hits(&answer), pairs(&[("article", 2)]));
    served.stop().await;
}
