//! The GET and POST forms of a search are the same request: they validate to the same
//! `ValidatedSearch`, and fail with the same code and message.

use search_api::limits::DEFAULT_MAX_TOTAL_HITS;
use search_api::params::{IndexCapabilities, SearchQuery};
use serde_json::json;

fn index() -> IndexCapabilities {
    IndexCapabilities {
        filterable_attributes: vec!["year".into(), "source".into(), "author".into()],
        sortable_attributes: vec!["year".into(), "title".into()],
        searchable_attributes: vec!["title".into(), "author.name".into()],
        displayed_attributes: vec!["*".into()],
        max_total_hits: DEFAULT_MAX_TOTAL_HITS,
        max_values_per_facet: 100,
    }
}

#[test]
fn get_and_post_validate_to_the_same_search() {
    // (query string, JSON body)
    let cases = [
        ("", json!({})),
        (
            "q=M%C3%BCller+attention&offset=10&limit=5\
             &filter=year%20%3E%3D%202017%20AND%20source%20%3D%20hal\
             &sort=year:desc,title:asc&facets=source,year&attributesToRetrieve=title,year\
             &attributesToHighlight=*&attributesToCrop=title:5,author.name&cropLength=7\
             &cropMarker=...&highlightPreTag=%3Cb%3E&highlightPostTag=%3C/b%3E\
             &showMatchesPosition=true&showRankingScore=true&showRankingScoreDetails=false\
             &rankingScoreThreshold=0.25&matchingStrategy=all&attributesToSearchOn=title\
             &distinct=source&locales=eng,fra&timeBudgetMs=3000",
            json!({
                "q": "Müller attention",
                "offset": 10,
                "limit": 5,
                "filter": "year >= 2017 AND source = hal",
                "sort": ["year:desc", "title:asc"],
                "facets": ["source", "year"],
                "attributesToRetrieve": ["title", "year"],
                "attributesToHighlight": ["*"],
                "attributesToCrop": ["title:5", "author.name"],
                "cropLength": 7,
                "cropMarker": "...",
                "highlightPreTag": "<b>",
                "highlightPostTag": "</b>",
                "showMatchesPosition": true,
                "showRankingScore": true,
                "showRankingScoreDetails": false,
                "rankingScoreThreshold": 0.25,
                "matchingStrategy": "all",
                "attributesToSearchOn": ["title"],
                "distinct": "source",
                "locales": ["eng", "fra"],
                "timeBudgetMs": 3000,
            }),
        ),
        (
            "q=smith&page=2&hitsPerPage=15&filter=%5B%22year%20%3D%202020%22%2C\
             %5B%22source%20%3D%20hal%22%2C%22source%20%3D%20dblp%22%5D%5D",
            json!({
                "q": "smith",
                "page": 2,
                "hitsPerPage": 15,
                "filter": ["year = 2020", ["source = hal", "source = dblp"]],
            }),
        ),
    ];
    for (query_string, body) in cases {
        let from_get = SearchQuery::from_query_string(query_string)
            .and_then(|query| query.validate(&index()))
            .unwrap_or_else(|error| panic!("GET `{query_string}`: {error}"));
        let from_post = SearchQuery::from_json_value(body.clone())
            .and_then(|query| query.validate(&index()))
            .unwrap_or_else(|error| panic!("POST {body}: {error}"));
        assert_eq!(
            from_get, from_post,
            "GET `{query_string}` and POST {body} differ"
        );
    }
}

#[test]
fn get_and_post_fail_the_same_way() {
    let cases = [
        ("limit=-1", json!({"limit": -1})),
        ("limit=5000", json!({"limit": 5000})),
        ("filter=year%20%3D", json!({"filter": "year ="})),
        ("filter=yeer%20%3D%201", json!({"filter": "yeer = 1"})),
        ("sort=year:up", json!({"sort": ["year:up"]})),
        ("matchingStrategy=most", json!({"matchingStrategy": "most"})),
        (
            "rankingScoreThreshold=2",
            json!({"rankingScoreThreshold": 2}),
        ),
        ("facets=title", json!({"facets": ["title"]})),
        ("limt=5", json!({"limt": 5})),
    ];
    for (query_string, body) in cases {
        let from_get = SearchQuery::from_query_string(query_string)
            .and_then(|query| query.validate(&index()))
            .expect_err(query_string);
        let from_post = SearchQuery::from_json_value(body.clone())
            .and_then(|query| query.validate(&index()))
            .expect_err("the POST form should fail too");
        assert_eq!(from_get.code(), from_post.code(), "`{query_string}`");
        assert_eq!(
            from_get.public_message(),
            from_post.public_message(),
            "`{query_string}`"
        );
    }
}
