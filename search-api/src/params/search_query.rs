//! The body of `POST /indexes/{uid}/search`, also read from the query string of the GET
//! route, with Meilisearch's parameter names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::decode::{self, from_json_value, ParameterTable};
use super::query_string::{query_string_to_json, GetValueKind};
use crate::error::{Code, Result};
use crate::filter::FilterInput;

/// Every parameter of a search, as written in JSON. Meilisearch's parameters, then the
/// Atlas extension `timeBudgetMs`.
pub const SEARCH_PARAMETERS: &[&str] = &[
    "q",
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "filter",
    "facets",
    "sort",
    "distinct",
    "attributesToRetrieve",
    "attributesToSearchOn",
    "attributesToHighlight",
    "highlightPreTag",
    "highlightPostTag",
    "attributesToCrop",
    "cropLength",
    "cropMarker",
    "showMatchesPosition",
    "showRankingScore",
    "showRankingScoreDetails",
    "rankingScoreThreshold",
    "matchingStrategy",
    "locales",
    "retrieveVectors",
    "vector",
    "hybrid",
    "timeBudgetMs",
];

/// How each parameter reads in the GET form; the others are text.
const GET_VALUE_KINDS: &[(&str, GetValueKind)] = &[
    ("offset", GetValueKind::Number),
    ("limit", GetValueKind::Number),
    ("page", GetValueKind::Number),
    ("hitsPerPage", GetValueKind::Number),
    ("cropLength", GetValueKind::Number),
    ("rankingScoreThreshold", GetValueKind::Number),
    ("timeBudgetMs", GetValueKind::Number),
    ("filter", GetValueKind::Filter),
    ("facets", GetValueKind::List),
    ("sort", GetValueKind::List),
    ("attributesToRetrieve", GetValueKind::List),
    ("attributesToSearchOn", GetValueKind::List),
    ("attributesToHighlight", GetValueKind::List),
    ("attributesToCrop", GetValueKind::List),
    ("locales", GetValueKind::List),
    ("showMatchesPosition", GetValueKind::Boolean),
    ("showRankingScore", GetValueKind::Boolean),
    ("showRankingScoreDetails", GetValueKind::Boolean),
    ("retrieveVectors", GetValueKind::Boolean),
];

/// Returns the error code of an invalid value of a search parameter.
pub(crate) fn code_of_search_parameter(parameter: &str) -> Code {
    match parameter {
        "q" => Code::InvalidSearchQ,
        "offset" => Code::InvalidSearchOffset,
        "limit" => Code::InvalidSearchLimit,
        "page" => Code::InvalidSearchPage,
        "hitsPerPage" => Code::InvalidSearchHitsPerPage,
        "filter" => Code::InvalidSearchFilter,
        "facets" => Code::InvalidSearchFacets,
        "sort" => Code::InvalidSearchSort,
        "distinct" => Code::InvalidSearchDistinct,
        "attributesToRetrieve" => Code::InvalidSearchAttributesToRetrieve,
        "attributesToSearchOn" => Code::InvalidSearchAttributesToSearchOn,
        "attributesToHighlight" => Code::InvalidSearchAttributesToHighlight,
        "highlightPreTag" => Code::InvalidSearchHighlightPreTag,
        "highlightPostTag" => Code::InvalidSearchHighlightPostTag,
        "attributesToCrop" => Code::InvalidSearchAttributesToCrop,
        "cropLength" => Code::InvalidSearchCropLength,
        "cropMarker" => Code::InvalidSearchCropMarker,
        "showMatchesPosition" => Code::InvalidSearchShowMatchesPosition,
        "showRankingScore" => Code::InvalidSearchShowRankingScore,
        "showRankingScoreDetails" => Code::InvalidSearchShowRankingScoreDetails,
        "rankingScoreThreshold" => Code::InvalidSearchRankingScoreThreshold,
        "matchingStrategy" => Code::InvalidSearchMatchingStrategy,
        "locales" => Code::InvalidSearchLocales,
        "retrieveVectors" => Code::InvalidSearchRetrieveVectors,
        "vector" => Code::InvalidSearchVector,
        "hybrid" => Code::InvalidSearchHybridQuery,
        "timeBudgetMs" => Code::InvalidSearchTimeBudget,
        _ => Code::BadRequest,
    }
}

pub(crate) const SEARCH_PARAMETER_TABLE: ParameterTable = ParameterTable {
    kind: "search parameter",
    names: SEARCH_PARAMETERS,
    code_of: code_of_search_parameter,
};

/// A search request as sent, before validation against an index. Absent and `null`
/// parameters are both `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchQuery {
    /// The words to search; absent or empty is a placeholder search over every document.
    #[serde(
        default,
        deserialize_with = "decode::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub q: Option<String>,
    /// Hits to skip, with `limit`.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub offset: Option<usize>,
    /// Hits to return, with `offset`.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<usize>,
    /// The page to return, counted from 1; selects exhaustive pagination.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub page: Option<usize>,
    /// Hits per page; selects exhaustive pagination.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub hits_per_page: Option<usize>,
    /// A filter expression or its array form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterInput>,
    /// Attributes whose value counts are returned in `facetDistribution`; `*` is all.
    #[serde(
        default,
        deserialize_with = "decode::string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub facets: Option<Vec<String>>,
    /// Sort criteria such as `year:desc`, applied before relevancy.
    #[serde(
        default,
        deserialize_with = "decode::string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub sort: Option<Vec<String>>,
    /// An attribute of which only one hit per value is returned.
    #[serde(
        default,
        deserialize_with = "decode::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub distinct: Option<String>,
    /// Attributes returned in each hit; `*` is all displayed attributes.
    #[serde(
        default,
        deserialize_with = "decode::string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub attributes_to_retrieve: Option<Vec<String>>,
    /// Attributes the words are searched in; all searchable attributes when absent.
    #[serde(
        default,
        deserialize_with = "decode::string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub attributes_to_search_on: Option<Vec<String>>,
    /// Attributes returned highlighted in `_formatted`; `*` is all.
    #[serde(
        default,
        deserialize_with = "decode::string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub attributes_to_highlight: Option<Vec<String>>,
    /// Text put before each highlighted match; `<em>` when absent.
    #[serde(
        default,
        deserialize_with = "decode::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub highlight_pre_tag: Option<String>,
    /// Text put after each highlighted match; `</em>` when absent.
    #[serde(
        default,
        deserialize_with = "decode::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub highlight_post_tag: Option<String>,
    /// Attributes returned cropped around their matches in `_formatted`, each `attribute`
    /// or `attribute:length` (length in words).
    #[serde(
        default,
        deserialize_with = "decode::string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub attributes_to_crop: Option<Vec<String>>,
    /// Words kept by a crop that gives no length of its own.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub crop_length: Option<usize>,
    /// Text marking where a crop cut the value; `…` when absent.
    #[serde(
        default,
        deserialize_with = "decode::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub crop_marker: Option<String>,
    /// Whether hits carry `_matchesPosition`.
    #[serde(
        default,
        deserialize_with = "decode::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub show_matches_position: Option<bool>,
    /// Whether hits carry `_rankingScore`.
    #[serde(
        default,
        deserialize_with = "decode::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub show_ranking_score: Option<bool>,
    /// Whether hits carry `_rankingScoreDetails`.
    #[serde(
        default,
        deserialize_with = "decode::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub show_ranking_score_details: Option<bool>,
    /// Hits scoring below this, between 0 and 1, are left out.
    #[serde(
        default,
        deserialize_with = "decode::number",
        skip_serializing_if = "Option::is_none"
    )]
    pub ranking_score_threshold: Option<f64>,
    /// Which query words may be dropped when too few documents match them all.
    #[serde(
        default,
        deserialize_with = "decode::parsed",
        skip_serializing_if = "Option::is_none"
    )]
    pub matching_strategy: Option<MatchingStrategy>,
    /// Languages of the query, as ISO 639 codes, steering analysis.
    #[serde(
        default,
        deserialize_with = "decode::string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub locales: Option<Vec<String>>,
    /// Accepted for compatibility; Atlas documents have no vectors to return.
    #[serde(
        default,
        deserialize_with = "decode::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub retrieve_vectors: Option<bool>,
    /// Meilisearch's vector search; refused by validation, since Atlas has no embeddings.
    #[serde(
        default,
        deserialize_with = "decode::raw",
        skip_serializing_if = "Option::is_none"
    )]
    pub vector: Option<Value>,
    /// Meilisearch's hybrid search; refused by validation, since Atlas has no embeddings.
    #[serde(
        default,
        deserialize_with = "decode::raw",
        skip_serializing_if = "Option::is_none"
    )]
    pub hybrid: Option<Value>,
    /// Atlas: the time this search may take, in milliseconds, instead of the default budget.
    #[serde(
        default,
        deserialize_with = "decode::count_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub time_budget_ms: Option<u64>,
}

impl SearchQuery {
    /// Returns the search of a POST body already read as JSON.
    ///
    /// # Errors
    ///
    /// `bad_request` naming an unknown parameter; the parameter's own code (such as
    /// `invalid_search_limit`) for a value of the wrong type.
    pub fn from_json_value(value: Value) -> Result<SearchQuery> {
        from_json_value(value, &SEARCH_PARAMETER_TABLE)
    }

    /// Returns the search of a GET query string such as `q=smith&limit=5&sort=year:desc`.
    ///
    /// # Errors
    ///
    /// As [`SearchQuery::from_json_value`], and `bad_request` for a repeated parameter.
    pub fn from_query_string(query_string: &str) -> Result<SearchQuery> {
        let value = query_string_to_json(query_string, GET_VALUE_KINDS, code_of_search_parameter)?;
        SearchQuery::from_json_value(value)
    }
}

/// Which query words a document must contain, as Meilisearch's `matchingStrategy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MatchingStrategy {
    /// Drop words from the end of the query until enough documents match.
    #[default]
    Last,
    /// Every word must match.
    All,
    /// Drop the most frequent words first.
    Frequency,
}

impl FromStr for MatchingStrategy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "last" => Ok(MatchingStrategy::Last),
            "all" => Ok(MatchingStrategy::All),
            "frequency" => Ok(MatchingStrategy::Frequency),
            other => Err(format!(
                "expected one of `last`, `all`, `frequency`, found `{other}`"
            )),
        }
    }
}

impl fmt::Display for MatchingStrategy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            MatchingStrategy::Last => "last",
            MatchingStrategy::All => "all",
            MatchingStrategy::Frequency => "frequency",
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_listed_parameter_is_a_field() {
        for name in SEARCH_PARAMETERS {
            let query = SearchQuery::from_json_value(json!({ *name: null }));
            assert!(query.is_ok(), "`{name}`: {:?}", query.err());
            assert_ne!(
                code_of_search_parameter(name),
                Code::BadRequest,
                "`{name}` has no code of its own"
            );
        }
    }

    #[test]
    fn unknown_parameter_is_named_with_a_suggestion() {
        let error = SearchQuery::from_json_value(json!({"q": "x", "limt": 5})).unwrap_err();
        assert_eq!(error.code(), Code::BadRequest);
        let message = error.public_message();
        assert!(
            message.starts_with("unknown search parameter `limt`"),
            "{message}"
        );
        assert!(message.ends_with("did you mean `limit`?"), "{message}");
    }

    #[test]
    fn wrong_types_get_the_parameter_code_and_name() {
        let cases = [
            (
                json!({"limit": -1}),
                Code::InvalidSearchLimit,
                "invalid value for `limit`: expected a positive integer, found `-1`",
            ),
            (
                json!({"offset": "ten"}),
                Code::InvalidSearchOffset,
                "invalid value for `offset`: expected a positive integer, found `\"ten\"`",
            ),
            (
                json!({"q": 5}),
                Code::InvalidSearchQ,
                "invalid value for `q`: expected a string, found `5`",
            ),
            (
                json!({"showRankingScore": "yes"}),
                Code::InvalidSearchShowRankingScore,
                "invalid value for `showRankingScore`: expected a boolean, found `\"yes\"`",
            ),
            (
                json!({"attributesToCrop": ["title", 3]}),
                Code::InvalidSearchAttributesToCrop,
                "invalid value for `attributesToCrop`: expected an array of strings, found `3`",
            ),
            (
                json!({"matchingStrategy": "most"}),
                Code::InvalidSearchMatchingStrategy,
                "invalid value for `matchingStrategy`: expected one of `last`, `all`, \
              `frequency`, found `most`",
            ),
            (
                json!({"filter": 2020}),
                Code::InvalidSearchFilter,
                "invalid value for `filter`: expected a string, or an array of strings and \
              arrays of strings, found `2020`",
            ),
        ];
        for (body, code, message) in cases {
            let error = SearchQuery::from_json_value(body.clone()).unwrap_err();
            assert_eq!(error.code(), code, "code for {body}");
            assert_eq!(error.public_message(), message, "message for {body}");
        }
    }

    #[test]
    fn body_must_be_an_object() {
        let error = SearchQuery::from_json_value(json!(["q"])).unwrap_err();
        assert_eq!(error.code(), Code::BadRequest);
    }

    #[test]
    fn serializes_back_to_the_same_body() {
        let body = json!({
            "q": "smith",
            "limit": 5,
            "filter": ["year > 2000", ["source = hal", "source = dblp"]],
            "sort": ["year:desc"],
            "matchingStrategy": "all",
            "showRankingScore": true,
        });
        let query = SearchQuery::from_json_value(body.clone()).unwrap();
        assert_eq!(serde_json::to_value(&query).unwrap(), body);
    }

    #[test]
    fn get_form_reads_lists_booleans_and_numbers() {
        let query = SearchQuery::from_query_string(
            "q=smith&limit=5&attributesToRetrieve=title,year&showMatchesPosition=true\
             &rankingScoreThreshold=0.5",
        )
        .unwrap();
        assert_eq!(query.q.as_deref(), Some("smith"));
        assert_eq!(query.limit, Some(5));
        assert_eq!(
            query.attributes_to_retrieve,
            Some(vec!["title".to_owned(), "year".to_owned()])
        );
        assert_eq!(query.show_matches_position, Some(true));
        assert_eq!(query.ranking_score_threshold, Some(0.5));
    }

    #[test]
    fn get_form_errors_match_post_errors() {
        let error = SearchQuery::from_query_string("limit=-1").unwrap_err();
        assert_eq!(error.code(), Code::InvalidSearchLimit);
        assert_eq!(
            error.public_message(),
            "invalid value for `limit`: expected a positive integer, found `-1`"
        );
        let error = SearchQuery::from_query_string("showRankingScore=yes").unwrap_err();
        assert_eq!(error.code(), Code::InvalidSearchShowRankingScore);
        let error = SearchQuery::from_query_string("qq=x").unwrap_err();
        assert_eq!(error.code(), Code::BadRequest);
    }
}
