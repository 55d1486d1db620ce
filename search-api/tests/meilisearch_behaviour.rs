//! Behaviours Meilisearch's clients rely on, over a real socket on 127.0.0.1:
//!
//! 1. `distinct` (the parameter and the `distinctAttribute` setting) keeps one document per
//!    value across every shard: hits, `totalHits`, `totalPages`, `estimatedTotalHits` and
//!    facet counts count each value once;
//! 2. `showRankingScoreDetails` gives each hit `_rankingScoreDetails`, one entry per rule
//!    with its `order` and the rule's own fields;
//! 3. a search whose time budget runs out answers with the hits gathered so far, marked by
//!    the `atlas-search-degraded` header and counted in the metrics, and names the budget it
//!    was given when it could gather nothing; `searchCutoffMs` sets an index's budget;
//! 4. `CONTAINS` and `STARTS WITH` (and their `NOT` forms) filter string values;
//! 5. `/metrics` needs a key with `metrics.get` under a master key;
//! 6. `POST /candidates` reads and answers camelCase, and still reads snake_case; it leaves
//!    out what each hit was found by when asked to.

mod common;

use std::time::Duration;

use common::served::{hold_engine_permits, Served};
use common::{insert_record, wait_until, Options, MASTER_KEY};
use serde_json::{json, Value};

/// Records added to the five every test starts with: five per year of 2000 to 2004.
const NUM_EXTRA_RECORDS: usize = 25;

/// Adds [`NUM_EXTRA_RECORDS`] records and waits until they are searchable.
async fn add_records_per_year(served: &Served) {
    for index in 0..NUM_EXTRA_RECORDS {
        let year = 2000 + (index % 5) as i64;
        insert_record(
            &served.test.db.pool,
            &format!("X{index}"),
            &format!("Extra record {index}"),
            year,
            "Extra Author",
        )
        .await;
    }
    let expected = common::RECORDS.len() + NUM_EXTRA_RECORDS;
    wait_until("the extra records to be searchable", || async {
        let (_, _, body) = served.search(json!({"limit": 0})).await;
        body["estimatedTotalHits"] == json!(expected)
    })
    .await;
}

fn years(body: &Value) -> Vec<i64> {
    body["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {body}"))
        .iter()
        .map(|hit| hit["year"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_counts_each_value_once_across_shards() {
    let served = Served::start(Options::default()).await;
    add_records_per_year(&served).await;
    // Years: 2000…2004 five times each, and 2001, 2010, 2016, 2017, 2020 once: 9 values.
    let distinct_years = [2000, 2001, 2002, 2003, 2004, 2010, 2016, 2017, 2020];

    let paged = json!({"distinct": "year", "sort": ["year:asc"], "hitsPerPage": 4, "page": 2,
                       "facets": ["year", "source"]});
    let (status, _, body) = served.search(paged).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(years(&body), [2004, 2010, 2016, 2017], "{body}");
    assert_eq!(body["totalHits"], 9, "{body}");
    assert_eq!(body["totalPages"], 3, "{body}");
    let expected_years: serde_json::Map<String, Value> = distinct_years
        .iter()
        .map(|year| (year.to_string(), json!(1)))
        .collect();
    assert_eq!(
        body["facetDistribution"]["year"],
        Value::Object(expected_years)
    );
    assert_eq!(body["facetDistribution"]["source"], json!({"openalex": 9}));

    let (_, _, body) = served
        .search(json!({"distinct": "year", "limit": 3, "offset": 7}))
        .await;
    assert_eq!(body["estimatedTotalHits"], 9, "{body}");
    assert_eq!(body["hits"].as_array().unwrap().len(), 2, "{body}");

    // With words: `extra` matches the 25 added records, 5 distinct years.
    let (_, _, body) = served
        .search(json!({"q": "extra", "distinct": "year", "facets": ["year"]}))
        .await;
    let mut found = years(&body);
    found.sort_unstable();
    assert_eq!(found, [2000, 2001, 2002, 2003, 2004], "{body}");
    assert_eq!(body["estimatedTotalHits"], 5, "{body}");
    assert_eq!(
        body["facetDistribution"]["year"],
        json!({"2000": 1, "2001": 1, "2002": 1, "2003": 1, "2004": 1})
    );

    // The setting gives the same answer as the parameter.
    let (status, _, task, _) = served
        .send(
            reqwest::Method::PATCH,
            "/indexes/records/settings",
            Some(json!({"distinctAttribute": "year"})),
            None,
        )
        .await;
    assert_eq!(status, 202, "{task}");
    let (_, _, body) = served.search(json!({"hitsPerPage": 20, "page": 1})).await;
    assert_eq!(body["totalHits"], 9, "{body}");
    assert_eq!(years(&body).len(), 9, "{body}");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranking_score_details_name_each_rule() {
    let served = Served::start(Options::default()).await;
    let (status, _, body) = served
        .search(
            json!({"q": "attention is all you need", "showRankingScoreDetails": true,
                       "showRankingScore": true, "sort": ["year:desc"],
                       "filter": "year = 2017"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let hit = &body["hits"][0];
    let details = &hit["_rankingScoreDetails"];
    assert_eq!(
        details["words"],
        json!({"order": 0, "matchingWords": 5, "maxMatchingWords": 5, "score": 1.0}),
        "{details}"
    );
    assert_eq!(details["typo"]["order"], 1);
    assert_eq!(details["typo"]["typoCount"], 0);
    assert_eq!(details["typo"]["score"], 1.0);
    assert_eq!(details["proximity"], json!({"order": 2, "score": 1.0}));
    assert_eq!(details["attribute"]["order"], 3);
    assert_eq!(details["year:desc"], json!({"order": 4, "value": 2017}));
    assert_eq!(
        details["exactness"],
        json!({"order": 5, "matchType": "exactMatch", "score": 1.0})
    );
    assert_eq!(hit["_rankingScore"], 1.0, "{hit}");

    // A typo and a missing word show in their rules and lower the score.
    let (_, _, body) = served
        .search(
            json!({"q": "atention mechanisms zebra", "showRankingScoreDetails": true,
                       "showRankingScore": true}),
        )
        .await;
    let hit = &body["hits"][0];
    let details = &hit["_rankingScoreDetails"];
    assert_eq!(
        hit["title"],
        "Attention mechanisms in neural networks: a survey"
    );
    assert_eq!(details["words"]["matchingWords"], 2, "{details}");
    assert_eq!(details["words"]["maxMatchingWords"], 3, "{details}");
    assert_eq!(details["typo"]["typoCount"], 1, "{details}");
    assert!(details["typo"]["maxTypoCount"].as_u64().unwrap() >= 1);
    assert!(details["typo"]["score"].as_f64().unwrap() < 1.0);
    assert_eq!(details["exactness"]["matchType"], "noExactMatch");
    assert!(hit["_rankingScore"].as_f64().unwrap() < 1.0);

    // A placeholder search is ordered by its sort only.
    let (_, _, body) = served
        .search(json!({"sort": ["year:asc"], "showRankingScoreDetails": true, "limit": 1}))
        .await;
    assert_eq!(
        body["hits"][0]["_rankingScoreDetails"],
        json!({"year:asc": {"order": 0, "value": 2001}})
    );
    let (_, _, body) = served.search(json!({"q": "attention"})).await;
    assert!(body["hits"][0].get("_rankingScoreDetails").is_none());
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exceeded_budget_answers_what_was_gathered() {
    let served = Served::start(Options::default()).await;
    let hold = Duration::from_millis(400);

    let release = hold_engine_permits(&served.state, hold).await;
    let (status, headers, body) = served
        .search(json!({"q": "attention", "timeBudgetMs": 50}))
        .await;
    release.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["atlas-search-degraded"], "true");
    let mut titles = common::hit_titles(&body);
    titles.sort();
    assert_eq!(
        titles,
        [
            "Attention is all you need",
            "Attention mechanisms in neural networks: a survey"
        ]
    );
    let (_, _, metrics, text) = served
        .send(reqwest::Method::GET, "/metrics", None, None)
        .await;
    assert!(
        text.contains("atlas_degraded_searches_total 1"),
        "{metrics}{text}"
    );

    // Nothing to gather in time: the error names the budget asked for, not what was left.
    let release = hold_engine_permits(&served.state, hold).await;
    let (status, headers, body) = served
        .search(json!({"distinct": "year", "timeBudgetMs": 50}))
        .await;
    release.await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(headers.get("atlas-search-degraded").is_none());
    assert_eq!(body["code"], "search_time_budget_exceeded");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("time budget of `50` ms"),
        "{body}"
    );

    // `searchCutoffMs` is the index's budget, under Meilisearch's name.
    let (status, _, _, text) = served
        .send(
            reqwest::Method::PATCH,
            "/indexes/records/settings",
            Some(json!({"searchCutoffMs": 60})),
            None,
        )
        .await;
    assert_eq!(status, 202, "{text}");
    let (_, _, settings, _) = served
        .send(
            reqwest::Method::GET,
            "/indexes/records/settings/search-cutoff-ms",
            None,
            None,
        )
        .await;
    assert_eq!(settings, json!(60));
    let release = hold_engine_permits(&served.state, hold).await;
    let (status, _, body) = served.search(json!({"distinct": "year"})).await;
    release.await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("`60` ms"),
        "{body}"
    );
    let (status, _, body, _) = served
        .send(
            reqwest::Method::PATCH,
            "/indexes/records/settings",
            Some(json!({"searchCutoffMs": 0})),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_settings_search_cutoff_ms");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contains_and_starts_with_filter_strings() {
    let served = Served::start(Options::default()).await;
    let count = |body: &Value| body["estimatedTotalHits"].as_u64().unwrap();

    let (status, _, body) = served
        .search(json!({"filter": "source STARTS WITH OPEN"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(count(&body), 5);
    let (_, _, body) = served
        .search(json!({"filter": "source NOT STARTS WITH open"}))
        .await;
    assert_eq!(count(&body), 0, "{body}");
    let (_, _, body) = served
        .search(json!({"filter": "source CONTAINS 'nale'"}))
        .await;
    assert_eq!(count(&body), 5, "{body}");
    let (_, _, body) = served
        .search(json!({"filter": "source CONTAINS crossref OR year = 2017"}))
        .await;
    assert_eq!(count(&body), 1, "{body}");
    let (_, _, body) = served
        .search(json!({"filter": "state NOT CONTAINS pend"}))
        .await;
    assert_eq!(count(&body), 5, "{body}");
    let (_, _, body) = served.search(json!({"filter": "year CONTAINS 20"})).await;
    assert_eq!(count(&body), 0, "numbers hold no strings: {body}");

    assert_filter_refused(
        &served,
        "source STARTS open",
        "was expecting `WITH` after `STARTS`",
    )
    .await;

    // Each pattern reads an attribute's whole dictionary: a filter holds a few of them.
    let patterns = |num: usize| vec!["id CONTAINS '0'"; num].join(" OR ");
    let (status, _, body) = served.search(json!({"filter": patterns(8)})).await;
    assert_eq!(status, 200, "{body}");
    assert_filter_refused(
        &served,
        &patterns(9),
        "more than `8` `CONTAINS` or `STARTS WITH` conditions",
    )
    .await;
    served.stop().await;
}

/// Asserts that a search with `filter` is refused as `invalid_search_filter` with a
/// message holding `fragment`.
async fn assert_filter_refused(served: &Served, filter: &str, fragment: &str) {
    let (status, _, body) = served.search(json!({ "filter": filter })).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_search_filter");
    assert!(
        body["message"].as_str().unwrap().contains(fragment),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_a_key_allowing_metrics_get() {
    let served = Served::start(Options {
        master_key: Some(MASTER_KEY),
        ..Options::default()
    })
    .await;
    let get = reqwest::Method::GET;
    let (status, _, body, _) = served.send(get.clone(), "/metrics", None, None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "missing_authorization_header");

    let (_, _, keys, _) = served
        .send(get.clone(), "/keys", None, Some(MASTER_KEY))
        .await;
    let search_key = keys["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["name"] == "Default Search API Key")
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, body, _) = served
        .send(get.clone(), "/metrics", None, Some(&search_key))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "invalid_api_key");

    let (status, _, created, _) = served
        .send(
            reqwest::Method::POST,
            "/keys",
            Some(json!({"actions": ["metrics.get"], "indexes": ["*"], "expiresAt": null})),
            Some(MASTER_KEY),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let metrics_key = created["key"].as_str().unwrap();
    for key in [metrics_key, MASTER_KEY] {
        let (status, headers, _, text) =
            served.send(get.clone(), "/metrics", None, Some(key)).await;
        assert_eq!(status, 200, "{text}");
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"));
        assert!(text.contains("atlas_http_requests_total"), "{text}");
    }
    let (status, _, _, _) = served
        .send(
            reqwest::Method::POST,
            "/indexes/records/search",
            Some(json!({})),
            Some(metrics_key),
        )
        .await;
    assert_eq!(status, 403, "a metrics key does not search");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_speak_camel_case_and_read_snake_case() {
    let served = Served::start(Options::default()).await;
    let profile = json!({"id": "p1", "names": ["Ashish Vaswani"],
                         "titles": ["Attention is all you need"], "orcid": null});
    for body in [
        json!({"profiles": [profile.clone()], "limitPerProfile": 5}),
        json!({"profiles": [profile.clone()], "limit_per_profile": 5}),
    ] {
        let (status, _, answer, _) = served
            .send(reqwest::Method::POST, "/candidates", Some(body), None)
            .await;
        assert_eq!(status, 200, "{answer}");
        let result = &answer["results"][0];
        assert_eq!(result["profileId"], "p1", "{answer}");
        assert!(result.get("profile_id").is_none(), "{answer}");
        let hit = &result["hits"][0];
        assert!(hit["recordId"].is_string(), "{answer}");
        assert!(hit.get("record_id").is_none(), "{answer}");
        let found = &hit["matches"][0];
        assert!(found["matchedValue"].is_string(), "{answer}");
        assert!(found.get("matched_value").is_none(), "{answer}");
    }
    // Without the matches: the same records and scores, each with an empty list.
    let mut answers = Vec::new();
    for show in [true, false] {
        let body = json!({"profiles": [profile.clone()], "limitPerProfile": 5,
                          "showMatches": show});
        let (status, _, answer, _) = served
            .send(reqwest::Method::POST, "/candidates", Some(body), None)
            .await;
        assert_eq!(status, 200, "{answer}");
        answers.push(answer["results"][0]["hits"].as_array().unwrap().clone());
    }
    let ids_and_scores = |hits: &[Value]| -> Vec<(Value, Value)> {
        hits.iter()
            .map(|hit| (hit["recordId"].clone(), hit["score"].clone()))
            .collect()
    };
    assert!(!answers[0].is_empty());
    assert_eq!(ids_and_scores(&answers[0]), ids_and_scores(&answers[1]));
    assert!(answers[0]
        .iter()
        .all(|hit| !hit["matches"].as_array().unwrap().is_empty()));
    assert!(answers[1].iter().all(|hit| hit["matches"] == json!([])));
    // A misspelt or unknown field is refused rather than ignored.
    for (body, field) in [
        (
            json!({"profiles": [profile.clone()], "limitPerProfile": 5, "showmatches": false}),
            "showmatches",
        ),
        (
            json!({"profiles": [{"id": "p", "names": ["Ann Lee"], "titles": [], "orcid": null,
                                 "nickname": "Annie"}],
                   "limitPerProfile": 5}),
            "nickname",
        ),
    ] {
        let (status, _, answer, _) = served
            .send(reqwest::Method::POST, "/candidates", Some(body), None)
            .await;
        assert_eq!(status, 400, "{field}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{field}`")), "{field}: {answer}");
        assert_eq!(answer["code"], "bad_request", "{field}: {answer}");
    }
    let (status, _, answer, _) = served
        .send(
            reqwest::Method::POST,
            "/candidates",
            Some(json!({"profiles": [profile]})),
            None,
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("limitPerProfile"),
        "{answer}"
    );
    assert_eq!(answer["code"], "missing_candidates_limit_per_profile");

    // A list is not a request, though serde would read it as the fields in order.
    let (status, _, answer, _) = served
        .send(
            reqwest::Method::POST,
            "/candidates",
            Some(json!([[profile.clone()], 5])),
            None,
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["code"], "bad_request", "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("JSON object"),
        "{answer}"
    );

    // Out of bounds or of the wrong type: a 400 naming the place.
    let long_name = "K".repeat(3_000);
    let many: Vec<Value> = (0..1_001).map(|_| profile.clone()).collect();
    for (body, place, code) in [
        (
            json!({"profiles": [{"id": "p", "names": [42], "titles": [], "orcid": null}],
                   "limitPerProfile": 5}),
            "profiles[0].names[0]",
            "invalid_candidates_profiles",
        ),
        (
            json!({"profiles": [profile.clone()], "limitPerProfile": 0}),
            "limitPerProfile",
            "invalid_candidates_limit_per_profile",
        ),
        (
            json!({"profiles": [profile.clone()], "limitPerProfile": 5, "showMatches": "no"}),
            "showMatches",
            "invalid_candidates_show_matches",
        ),
        (
            json!({"profiles": "Ann Lee", "limitPerProfile": 5}),
            "profiles",
            "invalid_candidates_profiles",
        ),
        (
            json!({"profiles": many, "limitPerProfile": 5}),
            "profiles",
            "invalid_candidates_profiles",
        ),
        (
            json!({"profiles": [profile.clone(),
                                {"id": "q", "names": [long_name], "titles": [], "orcid": null}],
                   "limitPerProfile": 5}),
            "profiles[1].names[0]",
            "invalid_candidates_profiles",
        ),
        (
            json!({"profiles": [{"id": "p".repeat(600), "names": [], "titles": [],
                                 "orcid": null}],
                   "limitPerProfile": 5}),
            "profiles[0].id",
            "invalid_candidates_profiles",
        ),
        (
            json!({"profiles": [{"id": "p", "names": [], "titles": [],
                                 "orcid": "0".repeat(3_000)}],
                   "limitPerProfile": 5}),
            "profiles[0].orcid",
            "invalid_candidates_profiles",
        ),
        (
            json!({"profiles": [profile.clone(),
                                {"id": "q", "names": [], "titles": [],
                                 "orcid": "0000-0002-1825"}],
                   "limitPerProfile": 5}),
            "profiles[1].orcid",
            "invalid_candidates_profiles",
        ),
        (
            json!({"profiles": [{"id": "q", "names": [], "titles": [],
                                 "orcid": "0000-0002-1825-0098"}],
                   "limitPerProfile": 5}),
            "profiles[0].orcid",
            "invalid_candidates_profiles",
        ),
        // Results are told apart by id: two profiles may not share one.
        (
            json!({"profiles": [profile.clone(), profile.clone()], "limitPerProfile": 5}),
            "profiles[1].id",
            "invalid_candidates_profiles",
        ),
        (
            json!({"profiles": [profile.clone()], "limitPerProfile": 5,
                   "limit_per_profile": 6}),
            "limitPerProfile",
            "invalid_candidates_limit_per_profile",
        ),
        (
            json!({"profiles": [profile.clone()], "limitPerProfile": 1e23}),
            "limitPerProfile",
            "invalid_candidates_limit_per_profile",
        ),
    ] {
        let (status, _, answer, _) = served
            .send(reqwest::Method::POST, "/candidates", Some(body), None)
            .await;
        assert_eq!(status, 400, "{place}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{place}`")), "{place}: {answer}");
        assert_eq!(answer["code"], code, "{place}: {answer}");
        if place == "limitPerProfile" {
            assert!(message.contains("1 to"), "{answer}");
        }
    }
    served.stop().await;
}
