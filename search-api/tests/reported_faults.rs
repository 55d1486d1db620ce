//! Reported faults, each checked over a real socket on 127.0.0.1:
//!
//! 1. `POST /candidates` weighs the one author of a record that agrees best with the
//!    profile's name forms, never a sum over the record's authors, names that author, and
//!    rounds its scores;
//! 2. the queries of a multi-search share one time budget, counted from the request's
//!    arrival, and a query that runs out names its position;
//! 3. creating an index, a facet far from every facetable attribute and a query string that
//!    is not UTF-8 are refused with messages that say what is wrong;
//! 4. a prefix match highlights only the typed prefix, a typo match the whole word;
//! 5. `POST /candidates` finds a person's records where either side writes the surname
//!    first without a comma (`Spinellis Diomidis`), and weighs an author sharing only part
//!    of a compound surname below one sharing all of it;
//! 6. a record with thousands of authors, longer than a fast-field value keeps, is
//!    searched, shown whole and found by `POST /candidates` by its last author;
//! 7. a record's id is its current version's, and its source's id finds whichever version
//!    is current.

mod common;

use std::time::Duration;

use common::served::{hold_engine_permits, Served};
use common::{insert_openalex, wait_until, Options};
use serde_json::{json, Value};
use sqlx::PgPool;

/// Inserts an OpenAlex-shaped record with several authors.
async fn insert_record_by(pool: &PgPool, source_id: &str, title: &str, authors: &[&str]) {
    let authorships: Vec<Value> = authors
        .iter()
        .map(|author| json!({"author": {"display_name": author}}))
        .collect();
    let data = json!({
        "id": format!("https://openalex.org/{source_id}"),
        "title": title,
        "publication_year": 2012,
        "type": "article",
        "authorships": authorships,
    });
    insert_openalex(pool, source_id, data).await;
}

/// Asks `POST /candidates` for the best 3 records of `profile`, checking it answers 200.
async fn candidates_of(served: &Served, profile: Value) -> Value {
    let (status, _, answer) = served
        .post(
            "/candidates",
            json!({"profiles": [profile], "limitPerProfile": 3}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Returns the hits of the first profile of a `/candidates` answer.
fn candidate_hits(answer: &Value) -> &Vec<Value> {
    answer["results"][0]["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {answer}"))
}

/// Returns the author string each hit of the first profile was found by and how it
/// agrees, sorted.
fn name_matches(answer: &Value) -> Vec<(&str, &str)> {
    let mut found: Vec<(&str, &str)> = candidate_hits(answer)
        .iter()
        .map(|hit| {
            (
                hit["matches"][0]["matchedValue"].as_str().unwrap(),
                hit["matches"][0]["agreement"].as_str().unwrap(),
            )
        })
        .collect();
    found.sort_unstable();
    found
}

/// Returns the score of the hit of the first profile found by the author string `author`.
fn score_of(answer: &Value, author: &str) -> f64 {
    candidate_hits(answer)
        .iter()
        .find(|hit| hit["matches"][0]["matchedValue"] == author)
        .and_then(|hit| hit["score"].as_f64())
        .unwrap_or_else(|| panic!("no hit by `{author}` in {answer}"))
}

/// Inserts one record per `(source id, title, author)` and waits until a search for `q`
/// finds them all.
async fn insert_by_one_author(served: &Served, records: &[(&str, &str, &str)], q: &str) {
    for (source_id, title, author) in records {
        insert_record_by(&served.test.db.pool, source_id, title, &[author]).await;
    }
    wait_until("the records to be searchable", || async {
        let (_, _, body) = served
            .post("/indexes/records/search", json!({ "q": q }))
            .await;
        body["estimatedTotalHits"].as_u64() == Some(records.len() as u64)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_weigh_the_one_best_agreeing_author() {
    let served = Served::start(Options::default()).await;
    let many_smiths = [
        "N. J. Cooper-Smith",
        "N. A. Smith",
        "B. C. Smith",
        "Smith",
        "J. Smith",
        "R. Smith",
        "P. Q. Smith",
        "Ashish Vaswani",
    ];
    insert_record_by(
        &served.test.db.pool,
        "M1",
        "Observation of a new particle at a collider",
        &many_smiths,
    )
    .await;
    insert_record_by(
        &served.test.db.pool,
        "S1",
        "A study written by one person",
        &["John Smith"],
    )
    .await;
    wait_until("the Smith records to be searchable", || async {
        let (_, _, body) = served
            .post("/indexes/records/search", json!({"q": "Smith"}))
            .await;
        body["estimatedTotalHits"].as_u64() == Some(2)
    })
    .await;

    // A bare surname against a record with seven Smiths: one author, one match.
    let profile = json!({"id": "x", "names": ["Smith"], "titles": [], "orcid": null});
    let answer = candidates_of(&served, profile).await;
    let hits = candidate_hits(&answer);
    assert_eq!(hits.len(), 2, "{answer}");
    for hit in hits {
        assert_eq!(
            hit["score"],
            json!(0.4),
            "a bare surname weighs 0.4: {answer}"
        );
        assert_eq!(hit["matches"].as_array().unwrap().len(), 1, "{answer}");
    }

    // Titles and the ORCID iD may be left out, names and titles may be null.
    let answer = candidates_of(&served, json!({"id": "z", "names": ["Smith"]})).await;
    assert_eq!(candidate_hits(&answer).len(), 2, "{answer}");
    let answer = candidates_of(
        &served,
        json!({"id": "n", "names": null, "titles": null, "orcid": null}),
    )
    .await;
    assert!(candidate_hits(&answer).is_empty(), "{answer}");

    // A full name outranks the many-author record, whose evidence is its `J. Smith`.
    let profile = json!({"id": "y", "names": ["John Smith", "J. Smith"], "titles": [],
                         "orcid": null});
    let answer = candidates_of(&served, profile).await;
    let hits = candidate_hits(&answer);
    assert_eq!(hits.len(), 2, "{answer}");
    assert_eq!(hits[0]["matches"][0]["matchedValue"], "John Smith");
    assert_eq!(hits[0]["matches"][0]["agreement"], "full");
    assert_eq!(hits[0]["score"], json!(0.9), "{answer}");
    let matched: Vec<&str> = hits[1]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|found| found["matchedValue"].as_str().unwrap())
        .collect();
    assert_eq!(matched, ["J. Smith", "J. Smith"], "{answer}");
    assert_eq!(hits[1]["score"], json!(0.7), "{answer}");

    // Scores read as written, with four decimals at most.
    let profile = json!({"id": "z", "names": ["Vaswani, Ashish"],
                         "titles": ["Observation of a new particle at a collider"],
                         "orcid": null});
    let answer = candidates_of(&served, profile).await;
    for hit in candidate_hits(&answer) {
        let score = hit["score"].as_f64().unwrap();
        assert_eq!((score * 10_000.0).round() / 10_000.0, score, "{answer}");
    }
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_read_names_written_surname_first() {
    let served = Served::start(Options::default()).await;
    // `S. Diomidis` is another person, unless the surname is `Diomidis`: an initial is
    // never read as a surname.
    let records = [
        ("R1", "Code quality in open source", "Diomidis Spinellis"),
        ("R2", "Software tools for research", "Spinellis Diomidis"),
        ("R3", "Unrelated chemistry paper", "S. Diomidis"),
    ];
    insert_by_one_author(&served, &records, "Diomidis").await;

    for name in [
        "Diomidis Spinellis",
        "Spinellis Diomidis",
        "Spinellis, Diomidis",
    ] {
        let profile = json!({"id": "p", "names": [name], "titles": [], "orcid": null});
        let answer = candidates_of(&served, profile).await;
        let found = name_matches(&answer);
        let expected: Vec<(&str, &str)> = match name {
            "Diomidis Spinellis" => vec![
                ("Diomidis Spinellis", "full"),
                ("Spinellis Diomidis", "reordered"),
            ],
            // Read as written, given name first, the form agrees with `S. Diomidis`.
            "Spinellis Diomidis" => vec![
                ("Diomidis Spinellis", "reordered"),
                ("S. Diomidis", "initials"),
                ("Spinellis Diomidis", "full"),
            ],
            _ => vec![
                ("Diomidis Spinellis", "full"),
                ("Spinellis Diomidis", "reordered"),
            ],
        };
        assert_eq!(found, expected, "{name}: {answer}");
        // The same words in the other order weigh less than the name as written.
        let (written, reordered) = if name == "Spinellis Diomidis" {
            ("Spinellis Diomidis", "Diomidis Spinellis")
        } else {
            ("Diomidis Spinellis", "Spinellis Diomidis")
        };
        assert!(
            score_of(&answer, written) > score_of(&answer, reordered),
            "{name}: {answer}"
        );
    }
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_weigh_part_of_a_compound_surname_lower() {
    let served = Served::start(Options::default()).await;
    let pool = &served.test.db.pool;
    insert_record_by(pool, "K1", "Energy markets", &["Mueller-Kirchenbauer, J."]).await;
    insert_record_by(pool, "K2", "Energy grids", &["J. Mueller"]).await;
    wait_until("the two records to be searchable", || async {
        let (_, _, body) = served
            .post("/indexes/records/search", json!({"q": "energy"}))
            .await;
        body["estimatedTotalHits"].as_u64() == Some(2)
    })
    .await;
    let profile = json!({"id": "m", "names": ["James Mueller"], "titles": [], "orcid": null});
    let answer = candidates_of(&served, profile).await;
    let hits = candidate_hits(&answer);
    let found: Vec<(&str, f64)> = hits
        .iter()
        .map(|hit| {
            (
                hit["matches"][0]["matchedValue"].as_str().unwrap(),
                hit["score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found.len(), 2, "{answer}");
    assert_eq!(found[0], ("J. Mueller", 0.7), "{answer}");
    assert_eq!(found[1].0, "Mueller-Kirchenbauer, J.", "{answer}");
    assert!(found[1].1 < found[0].1, "{answer}");

    // The whole compound surname with a typo in one of its words: a typo, not an exact
    // agreement.
    let profile = json!({"id": "k", "names": ["J. Mueller-Kirchenbaur"], "titles": [],
                         "orcid": null});
    let answer = candidates_of(&served, profile).await;
    let misspelt = candidate_hits(&answer)
        .iter()
        .find(|hit| hit["matches"][0]["matchedValue"] == "Mueller-Kirchenbauer, J.")
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(misspelt["matches"][0]["typos"], 1, "{answer}");
    assert!(misspelt["score"].as_f64().unwrap() < 0.7, "{answer}");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_find_a_name_with_two_surnames_by_the_first_alone() {
    let served = Served::start(Options::default()).await;
    let records = [
        ("S1", "Marine sediments", "Victoriano Santana Sanjurjo"),
        ("S2", "Coastal erosion", "V. Santana"),
        ("S3", "Tidal flows", "Pedro Santana"),
    ];
    insert_by_one_author(&served, &records, "Santana").await;

    // The first surname alone finds the name with both, and the name with both the first
    // alone; `Pedro Santana` is another person. Only part of the surname weighs less than
    // the name as written.
    let expected = [
        ("V. Santana", "initials"),
        ("Victoriano Santana Sanjurjo", "full"),
    ];
    let profile = json!({"id": "v", "names": ["Victoriano Santana"], "titles": [], "orcid": null});
    let answer = candidates_of(&served, profile).await;
    assert_eq!(name_matches(&answer), expected, "{answer}");
    assert!(
        score_of(&answer, "Victoriano Santana Sanjurjo") < 0.9,
        "{answer}"
    );
    let profile =
        json!({"id": "v", "names": ["Victoriano Santana Sanjurjo"], "titles": [], "orcid": null});
    let answer = candidates_of(&served, profile).await;
    assert_eq!(name_matches(&answer), expected, "{answer}");
    assert_eq!(
        score_of(&answer, "Victoriano Santana Sanjurjo"),
        0.9,
        "{answer}"
    );

    // A search for the name with the first surname ranks the name with both as one name.
    let (status, _, body) = served
        .post(
            "/indexes/records/search",
            json!({"q": "Victoriano Santana", "attributesToRetrieve": ["authors"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["hits"][0]["authors"],
        json!(["Victoriano Santana Sanjurjo"]),
        "{body}"
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_search_queries_share_one_time_budget() {
    let served = Served::start(Options::default()).await;
    let hold = Duration::from_millis(600);
    let query = json!({"indexUid": "records", "q": "attention", "timeBudgetMs": 300});

    // Every query waited past its budget: each answers degraded, none starts afresh.
    let release = hold_engine_permits(&served.state, hold).await;
    let (status, headers, body) = served
        .post(
            "/multi-search",
            json!({"queries": [query.clone(), query.clone(), query.clone()]}),
        )
        .await;
    release.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["atlas-search-degraded"], "true");
    assert_eq!(body["results"].as_array().unwrap().len(), 3, "{body}");
    let metrics = served
        .http
        .get(format!("{}/metrics", served.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("atlas_degraded_searches_total 3"),
        "every query counts as degraded: {metrics}"
    );

    // A query that gathers nothing in the shared budget is named by its position.
    let distinct = json!({"indexUid": "records", "distinct": "year", "timeBudgetMs": 300});
    let release = hold_engine_permits(&served.state, hold).await;
    let (status, _, body) = served
        .post(
            "/multi-search",
            json!({"queries": [query.clone(), distinct]}),
        )
        .await;
    release.await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "search_time_budget_exceeded", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("in `queries[1]`"),
        "{body}"
    );

    // Federated, a query not started when the budget ran out is left out.
    let fossils = json!({"indexUid": "records", "q": "fossils", "timeBudgetMs": 300});
    let release = hold_engine_permits(&served.state, hold).await;
    let (status, headers, body) = served
        .post(
            "/multi-search",
            json!({"federation": {}, "queries": [query, fossils]}),
        )
        .await;
    release.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["atlas-search-degraded"], "true");
    let positions: Vec<u64> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_federation"]["queriesPosition"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, [0, 0], "{body}");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_an_index_says_the_indexes_are_fixed() {
    let served = Served::start(Options::default()).await;
    let (status, _, body) = served.post("/indexes", json!({"uid": "movies"})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "index_creation_failed", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("`movies`"), "{body}");
    assert!(
        message.contains("fixed") && message.contains("`records`, `works`, `profiles`"),
        "{body}"
    );
    assert!(!message.contains("`*`"), "{body}");
    let (status, _, body) = served.post("/indexes", json!({"uid": "records"})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "index_already_exists", "{body}");
    let (status, _, body) = served.post("/indexes", json!({"primaryKey": "id"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "missing_index_uid", "{body}");
    let (status, _, body) = served
        .call(reqwest::Method::DELETE, "/indexes/records", None)
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "immutable_index", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("fixed"),
        "{body}"
    );
    let (status, _, body) = served
        .call(reqwest::Method::DELETE, "/indexes/movies", None)
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "index_not_found", "{body}");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_near_miss_of_a_facet_is_suggested() {
    let served = Served::start(Options::default()).await;
    let (status, _, body) = served
        .post("/indexes/records/search", json!({"facets": ["nope"]}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_search_facets", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(!message.contains("did you mean"), "{body}");
    assert!(
        message.contains("`year`"),
        "the facetable attributes: {body}"
    );
    let (_, _, body) = served
        .post("/indexes/records/search", json!({"facets": ["yeer"]}))
        .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with("did you mean `year`?"),
        "{body}"
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_string_that_is_not_utf8_is_refused() {
    let served = Served::start(Options::default()).await;
    let (status, _, body) = served
        .call(
            reqwest::Method::GET,
            "/indexes/records/search?q=%FF%FE",
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_search_q", "{body}");
    assert!(body["message"].as_str().unwrap().contains("`q`"), "{body}");
    let (status, _, body) = served
        .call(
            reqwest::Method::GET,
            "/indexes/records/search?q=M%C3%BCller",
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["query"], "Müller", "{body}");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_match_highlights_the_typed_prefix() {
    let served = Served::start(Options::default()).await;
    let highlighted = |q: &str, attribute: &str| {
        json!({"q": q, "attributesToHighlight": [attribute], "showMatchesPosition": true,
               "attributesToRetrieve": [attribute], "limit": 1})
    };

    let (status, _, body) = served
        .post("/indexes/records/search", highlighted("Vaswan", "authors"))
        .await;
    assert_eq!(status, 200, "{body}");
    let hit = &body["hits"][0];
    assert_eq!(
        hit["_formatted"]["authors"],
        json!(["Ashish <em>Vaswan</em>i"]),
        "{body}"
    );
    assert_eq!(
        hit["_matchesPosition"]["authors"][0],
        json!({"start": 7, "length": 6, "indices": [0]}),
        "{body}"
    );

    // Folded characters count as typed: `mull` is the four letters of `Müll`.
    let (_, _, body) = served
        .post("/indexes/records/search", highlighted("mull", "authors"))
        .await;
    assert_eq!(
        body["hits"][0]["_formatted"]["authors"],
        json!(["Jean <em>Müll</em>er"]),
        "{body}"
    );
    assert_eq!(
        body["hits"][0]["_matchesPosition"]["authors"][0]["length"],
        "Müll".len(),
        "{body}"
    );

    // A typo marks the whole word, as in Meilisearch.
    let (_, _, body) = served
        .post(
            "/indexes/records/search",
            highlighted("Vaswabi ", "authors"),
        )
        .await;
    assert_eq!(
        body["hits"][0]["_formatted"]["authors"],
        json!(["Ashish <em>Vaswani</em>"]),
        "{body}"
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_with_thousands_of_authors_are_read_whole() {
    let served = Served::start(Options::default()).await;
    let mut authors: Vec<String> = (0..3_000)
        .map(|number| format!("Member{number} Collaborationist{number}"))
        .collect();
    authors.push("Zanzibar Quuxley".to_owned());
    let authors: Vec<&str> = authors.iter().map(String::as_str).collect();
    let title = "Combined measurement of a rare decay by a large collaboration";
    insert_record_by(&served.test.db.pool, "BIG1", title, &authors).await;
    wait_until("the large record to be searchable", || async {
        let (_, _, body) = served
            .post("/indexes/records/search", json!({"q": "Quuxley"}))
            .await;
        body["estimatedTotalHits"].as_u64() == Some(1)
    })
    .await;

    let (status, _, body) = served
        .post(
            "/indexes/records/search",
            json!({"q": "Zanzibar Quuxley", "attributesToHighlight": ["authors"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let hit = &body["hits"][0];
    assert_eq!(hit["title"], title);
    assert_eq!(hit["authors"].as_array().unwrap().len(), 3_001);
    assert_eq!(hit["authors"][3_000], "Zanzibar Quuxley");
    assert_eq!(
        hit["_formatted"]["authors"][3_000],
        "<em>Zanzibar</em> <em>Quuxley</em>"
    );
    assert_eq!(hit["data"]["authorships"].as_array().unwrap().len(), 3_001);

    let profile = json!({"id": "q", "names": ["Quuxley, Z."], "titles": [title],
                         "orcid": null});
    let answer = candidates_of(&served, profile).await;
    let hits = candidate_hits(&answer);
    assert_eq!(hits.len(), 1, "{answer}");
    let matched: Vec<&str> = hits[0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|found| found["matchedValue"].as_str().unwrap())
        .collect();
    assert_eq!(matched, ["Zanzibar Quuxley", title], "{answer}");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_id_finds_the_current_version_of_a_record() {
    let served = Served::start(Options::default()).await;
    insert_record_by(&served.test.db.pool, "W77", "Versioned first", &["Ann Lee"]).await;
    let search = json!({"q": "", "filter": "source_id = W77"});
    wait_until("the first version to be searchable", || async {
        let (_, _, body) = served.post("/indexes/records/search", search.clone()).await;
        body["hits"][0]["title"] == "Versioned first"
    })
    .await;
    let (_, _, body) = served.post("/indexes/records/search", search.clone()).await;
    let first_id = body["hits"][0]["id"].as_str().unwrap().to_owned();

    insert_record_by(
        &served.test.db.pool,
        "W77",
        "Versioned second",
        &["Ann Lee"],
    )
    .await;
    wait_until("the second version to replace the first", || async {
        let (_, _, body) = served.post("/indexes/records/search", search.clone()).await;
        body["hits"][0]["title"] == "Versioned second"
    })
    .await;
    let (status, _, body) = served.post("/indexes/records/search", search).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["estimatedTotalHits"], 1, "{body}");
    assert_eq!(body["hits"][0]["source_id"], "W77");
    assert_ne!(
        body["hits"][0]["id"],
        first_id.as_str(),
        "a version has its own id"
    );
    let path = format!("/indexes/records/documents/{first_id}");
    let (status, _, _) = served.call(reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 404, "the first version is no longer current");
    served.stop().await;
}
