//! The response bodies of the search, facet search, multi-search and documents routes, in
//! Meilisearch's shapes, and how their pagination fields follow from the request.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::params::{Pagination, ValidatedSearch};

/// A document as returned: attribute names to values.
pub type Document = Map<String, Value>;

/// Counts of each value of each requested facet.
pub type FacetDistribution = BTreeMap<String, BTreeMap<String, u64>>;

/// The answer to one search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResponse {
    /// The hits, best first.
    pub hits: Vec<SearchHit>,
    /// The query as sent.
    pub query: String,
    /// Time spent, in whole milliseconds.
    pub processing_time_ms: u64,
    /// `limit`/`offset`/`estimatedTotalHits` or `hitsPerPage`/`page`/`totalPages`/`totalHits`.
    #[serde(flatten)]
    pub hits_info: HitsInfo,
    /// Counts per facet value, when `facets` was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facet_distribution: Option<FacetDistribution>,
    /// Minimum and maximum of numeric facets, when `facets` was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facet_stats: Option<BTreeMap<String, FacetStats>>,
    /// Whether the time budget cut the search short: the hits are those gathered by then.
    /// Not part of the body, which Meilisearch's clients read; the route says it in the
    /// [`DEGRADED_SEARCH_HEADER`] header.
    #[serde(skip)]
    pub is_degraded: bool,
}

/// The response header set to `true` on a search answered with the hits gathered before
/// its time budget ran out.
pub const DEGRADED_SEARCH_HEADER: &str = "atlas-search-degraded";

impl SearchResponse {
    /// Returns the response to `search`, given its hits, the number of documents that
    /// matched (`num_candidates`) and the time it took.
    pub fn new(
        search: &ValidatedSearch,
        hits: Vec<SearchHit>,
        num_candidates: usize,
        processing_time: Duration,
    ) -> Self {
        SearchResponse {
            hits,
            query: search.query.clone(),
            processing_time_ms: u64::try_from(processing_time.as_millis()).unwrap_or(u64::MAX),
            hits_info: HitsInfo::new(&search.pagination, num_candidates, search.max_total_hits),
            facet_distribution: None,
            facet_stats: None,
            is_degraded: false,
        }
    }
}

/// The pagination fields of a response, depending on how the search paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HitsInfo {
    /// For `page`/`hitsPerPage`: exact counts.
    #[serde(rename_all = "camelCase")]
    Pages {
        /// Hits per page, as asked.
        hits_per_page: usize,
        /// The page, as asked.
        page: usize,
        /// Pages needed for `total_hits`.
        total_pages: usize,
        /// Matching documents, at most `maxTotalHits`.
        total_hits: usize,
    },
    /// For `offset`/`limit`: an estimate of the count.
    #[serde(rename_all = "camelCase")]
    OffsetLimit {
        /// Hits asked for.
        limit: usize,
        /// Hits skipped.
        offset: usize,
        /// About how many documents match.
        estimated_total_hits: usize,
    },
}

impl HitsInfo {
    /// Returns the fields for `pagination` when `num_candidates` documents matched; the
    /// count stops at `max_total_hits`, as Meilisearch's does: no hit past it can be shown.
    pub fn new(pagination: &Pagination, num_candidates: usize, max_total_hits: usize) -> Self {
        match *pagination {
            Pagination::Estimated { offset, limit } => HitsInfo::OffsetLimit {
                limit,
                offset,
                estimated_total_hits: num_candidates.min(max_total_hits),
            },
            Pagination::Exhaustive {
                page,
                hits_per_page,
            } => {
                let total_hits = num_candidates.min(max_total_hits);
                let total_pages = if hits_per_page == 0 {
                    0
                } else {
                    total_hits.div_ceil(hits_per_page)
                };
                HitsInfo::Pages {
                    hits_per_page,
                    page,
                    total_pages,
                    total_hits,
                }
            }
        }
    }
}

/// One hit: the document's retrieved attributes, and what the search was asked to add.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The retrieved attributes.
    #[serde(flatten)]
    pub document: Document,
    /// Highlighted and cropped attributes.
    #[serde(
        rename = "_formatted",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub formatted: Option<Document>,
    /// Where the query matched, per attribute.
    #[serde(
        rename = "_matchesPosition",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub matches_position: Option<BTreeMap<String, Vec<MatchBounds>>>,
    /// Relevancy between 0 and 1.
    #[serde(
        rename = "_rankingScore",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ranking_score: Option<f64>,
    /// Relevancy per ranking rule.
    #[serde(
        rename = "_rankingScoreDetails",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ranking_score_details: Option<Map<String, Value>>,
}

/// Where a match lies in an attribute's value, in bytes of its UTF-8 text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchBounds {
    /// First byte of the match.
    pub start: usize,
    /// Length of the match in bytes.
    pub length: usize,
    /// For a match inside an array, the positions leading to the matched element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indices: Option<Vec<usize>>,
}

/// Minimum and maximum of a numeric facet among the matching documents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FacetStats {
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

/// The answer to a facet search: the matching values of the facet with their counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FacetSearchResponse {
    /// The values matching `facetQuery`, in Meilisearch's default order.
    pub facet_hits: Vec<FacetHit>,
    /// The `facetQuery` as sent, `null` when none was.
    pub facet_query: Option<String>,
    /// Time spent, in whole milliseconds.
    pub processing_time_ms: u64,
}

/// One value of a facet and the number of counted documents holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetHit {
    /// The value, spelled as in `facetDistribution`.
    pub value: String,
    /// Documents matching the search that hold the value.
    pub count: u64,
}

/// The answer to a multi-search without federation: one response per query, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiSearchResponse {
    /// The responses.
    pub results: Vec<IndexSearchResponse>,
}

/// A search response with the index it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexSearchResponse {
    /// The index searched.
    pub index_uid: String,
    /// The response.
    #[serde(flatten)]
    pub response: SearchResponse,
}

/// The answer to a federated multi-search: one list of hits merged across queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedSearchResponse {
    /// The merged hits, best weighted score first.
    pub hits: Vec<FederatedHit>,
    /// Time spent, in whole milliseconds.
    pub processing_time_ms: u64,
    /// The pagination fields of the merged hits.
    #[serde(flatten)]
    pub hits_info: HitsInfo,
    /// Whether the time budget cut a query short, as [`SearchResponse::is_degraded`].
    #[serde(skip)]
    pub is_degraded: bool,
}

/// A hit of a federated search and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FederatedHit {
    /// The hit.
    #[serde(flatten)]
    pub hit: SearchHit,
    /// Its index, query and weighted score.
    #[serde(rename = "_federation")]
    pub federation: FederationHitInfo,
}

/// Where a federated hit comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederationHitInfo {
    /// The index of the query that found it.
    pub index_uid: String,
    /// The position of that query in `queries`.
    pub queries_position: usize,
    /// Its ranking score times the query's weight, which orders the merged hits.
    pub weighted_ranking_score: f64,
}

/// The answer to a documents fetch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentsResponse {
    /// The documents.
    pub results: Vec<Document>,
    /// Documents skipped.
    pub offset: usize,
    /// Documents asked for.
    pub limit: usize,
    /// Documents matching the filter and ids.
    pub total: usize,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn estimated_response_has_meilisearch_fields() {
        let mut document = Document::new();
        document.insert("id".into(), json!("w1"));
        let response = SearchResponse {
            hits: vec![SearchHit {
                document,
                ranking_score: Some(0.5),
                ..SearchHit::default()
            }],
            query: "smith".into(),
            processing_time_ms: 3,
            hits_info: HitsInfo::new(
                &Pagination::Estimated {
                    offset: 0,
                    limit: 20,
                },
                1234,
                1000,
            ),
            facet_distribution: Some(BTreeMap::from([(
                "source".into(),
                BTreeMap::from([("hal".into(), 3)]),
            )])),
            facet_stats: None,
            is_degraded: false,
        };
        let value = serde_json::to_value(&response).unwrap();
        assert_eq!(
            value,
            json!({
                "hits": [{"id": "w1", "_rankingScore": 0.5}],
                "query": "smith",
                "processingTimeMs": 3,
                "limit": 20,
                "offset": 0,
                // 1,234 matched; the count stops at `maxTotalHits`.
                "estimatedTotalHits": 1000,
                "facetDistribution": {"source": {"hal": 3}},
            })
        );
        let read_back: SearchResponse = serde_json::from_value(value).unwrap();
        assert_eq!(read_back, response);
    }

    #[test]
    fn exhaustive_counts_pages_within_max_total_hits() {
        let pages = Pagination::Exhaustive {
            page: 2,
            hits_per_page: 20,
        };
        assert_eq!(
            HitsInfo::new(&pages, 41, 1000),
            HitsInfo::Pages {
                hits_per_page: 20,
                page: 2,
                total_pages: 3,
                total_hits: 41
            }
        );
        assert_eq!(
            HitsInfo::new(&pages, 5000, 1000),
            HitsInfo::Pages {
                hits_per_page: 20,
                page: 2,
                total_pages: 50,
                total_hits: 1000
            }
        );
        let empty_pages = Pagination::Exhaustive {
            page: 1,
            hits_per_page: 0,
        };
        assert!(matches!(
            HitsInfo::new(&empty_pages, 7, 1000),
            HitsInfo::Pages { total_pages: 0, .. }
        ));
        let value = serde_json::to_value(HitsInfo::new(&pages, 41, 1000)).unwrap();
        assert_eq!(
            value,
            json!({"hitsPerPage": 20, "page": 2, "totalPages": 3, "totalHits": 41})
        );
    }

    #[test]
    fn facet_search_response_has_meilisearch_fields() {
        let response = FacetSearchResponse {
            facet_hits: vec![FacetHit {
                value: "article".into(),
                count: 5,
            }],
            facet_query: None,
            processing_time_ms: 2,
        };
        let text = serde_json::to_string(&response).unwrap();
        assert_eq!(
            text,
            r#"{"facetHits":[{"value":"article","count":5}],"facetQuery":null,"processingTimeMs":2}"#
        );
        let read_back: FacetSearchResponse = serde_json::from_str(&text).unwrap();
        assert_eq!(read_back, response);
    }

    #[test]
    fn federated_hit_carries_its_origin() {
        let mut document = Document::new();
        document.insert("id".into(), json!(7));
        let hit = FederatedHit {
            hit: SearchHit {
                document,
                ..SearchHit::default()
            },
            federation: FederationHitInfo {
                index_uid: "works".into(),
                queries_position: 1,
                weighted_ranking_score: 0.75,
            },
        };
        let value = serde_json::to_value(&hit).unwrap();
        assert_eq!(
            value,
            json!({
                "id": 7,
                "_federation": {
                    "indexUid": "works",
                    "queriesPosition": 1,
                    "weightedRankingScore": 0.75,
                },
            })
        );
        assert_eq!(serde_json::from_value::<FederatedHit>(value).unwrap(), hit);
    }
}
