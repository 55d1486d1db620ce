//! The body of `POST /indexes/{uid}/facet-search`: the facet whose values are searched, the
//! text they must start with, and the search parameters that choose which documents count.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::capabilities::IndexCapabilities;
use super::decode::{self, from_json_value, unknown_parameter, ParameterTable};
use super::describe_json;
use super::search_query::{code_of_search_parameter, SearchQuery, SEARCH_PARAMETERS};
use super::validated::ValidatedSearch;
use crate::error::{ApiError, Code, Result};
use crate::filter::{attribute_is_allowed, not_allowed_message};
use crate::limits::MAX_FACET_QUERY_NUM_BYTES;
use crate::suggest::name_list;

/// Names a client may leave in a facet search built from a multi-search query (the index
/// is the path's), ignored as the search parameters are.
const IGNORED_QUERY_PARAMETERS: &[&str] = &["indexUid"];

/// The parameters a facet search has and a search has not.
const FACET_PARAMETERS: &[&str] = &["facetName", "facetQuery", "exhaustiveFacetCount"];

/// Every parameter a facet search reads, as written in JSON: Meilisearch's, then the Atlas
/// extension `timeBudgetMs`. The other search parameters are accepted and ignored, as
/// Meilisearch ignores them: instant-meilisearch sends its whole search with the facet.
pub const FACET_SEARCH_PARAMETERS: &[&str] = &[
    "facetName",
    "facetQuery",
    "q",
    "filter",
    "matchingStrategy",
    "attributesToSearchOn",
    "rankingScoreThreshold",
    "locales",
    "exhaustiveFacetCount",
    "vector",
    "hybrid",
    "timeBudgetMs",
];

/// Returns the error code of an invalid value of a facet search parameter: Meilisearch's
/// `invalid_facet_search_*` for its own, the search route's for the others.
fn code_of_facet_search_parameter(parameter: &str) -> Code {
    match parameter {
        "facetName" => Code::InvalidFacetSearchFacetName,
        "facetQuery" => Code::InvalidFacetSearchQuery,
        "exhaustiveFacetCount" => Code::InvalidFacetSearchExhaustiveFacetCount,
        other => code_of_search_parameter(other),
    }
}

const FACET_SEARCH_PARAMETER_TABLE: ParameterTable = ParameterTable {
    kind: "facet search parameter",
    names: FACET_SEARCH_PARAMETERS,
    code_of: code_of_facet_search_parameter,
};

/// A facet search as sent, before validation against an index. Absent and `null`
/// parameters are both `None`, except `facetName`, for which `null` is a wrong value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FacetSearchQuery {
    /// The filterable attribute whose values are searched; required.
    #[serde(default, deserialize_with = "decode::present_string")]
    pub facet_name: Option<String>,
    /// The text the values must start with, without regard to case or accents and with
    /// typos forgiven; every value of the facet when absent.
    #[serde(default, deserialize_with = "decode::string")]
    pub facet_query: Option<String>,
    /// Accepted for compatibility: counts are always exact here.
    #[serde(default, deserialize_with = "decode::boolean")]
    pub exhaustive_facet_count: Option<bool>,
    /// The search parameters choosing the documents counted (`q`, `filter`,
    /// `matchingStrategy`…), read by the search route's own decoding.
    #[serde(skip)]
    pub search: SearchQuery,
}

/// A facet search ready to run on one index.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedFacetSearch {
    /// The facet whose values are searched, a filterable attribute.
    pub facet_name: String,
    /// The text the values must start with, as sent, echoed in the response.
    pub facet_query: Option<String>,
    /// The search choosing the documents counted: no hits, the facet as its only facet,
    /// the tenant token's filter once applied.
    pub search: ValidatedSearch,
}

impl FacetSearchQuery {
    /// Returns the facet search of a body already read as JSON. Search parameters a facet
    /// search does not use (`limit`, `attributesToHighlight`…) are dropped unread.
    ///
    /// # Errors
    ///
    /// `bad_request` when the body is not an object or names a parameter that is neither a
    /// facet search nor a search parameter; the parameter's own code (such as
    /// `invalid_facet_search_facet_name`, `invalid_search_q`) for a value of the wrong type.
    pub fn from_json_value(value: Value) -> Result<FacetSearchQuery> {
        let Value::Object(object) = value else {
            return Err(ApiError::new(
                Code::BadRequest,
                format!(
                    "expected a JSON object with `facetName`, found {}",
                    describe_json(&value)
                ),
            ));
        };
        let mut facet = Map::new();
        let mut search = Map::new();
        for (name, value) in object {
            if FACET_PARAMETERS.contains(&name.as_str()) {
                facet.insert(name, value);
            } else if FACET_SEARCH_PARAMETERS.contains(&name.as_str()) {
                search.insert(name, value);
            } else if !(SEARCH_PARAMETERS.contains(&name.as_str())
                || IGNORED_QUERY_PARAMETERS.contains(&name.as_str()))
            {
                return Err(unknown_parameter(&name, &FACET_SEARCH_PARAMETER_TABLE));
            }
        }
        let mut query: FacetSearchQuery =
            from_json_value(Value::Object(facet), &FACET_SEARCH_PARAMETER_TABLE)?;
        query.search = SearchQuery::from_json_value(Value::Object(search))?;
        Ok(query)
    }

    /// Returns the facet search checked against `index`.
    ///
    /// # Errors
    ///
    /// `missing_facet_search_facet_name` without `facetName`;
    /// `invalid_facet_search_facet_name` naming the filterable attributes when it is not
    /// one; `invalid_facet_search_query` for a `facetQuery` over
    /// [`MAX_FACET_QUERY_NUM_BYTES`]; the search route's refusals of the other parameters.
    pub fn validate(self, index: &IndexCapabilities) -> Result<ValidatedFacetSearch> {
        let facet_name = validate_facet_name(self.facet_name, index)?;
        let facet_query = validate_facet_query(self.facet_query)?;
        let search = SearchQuery {
            facets: Some(vec![facet_name.clone()]),
            // The documents are counted, never shown.
            limit: Some(0),
            ..self.search
        }
        .validate(index)?;
        Ok(ValidatedFacetSearch {
            facet_name,
            facet_query,
            search,
        })
    }
}

fn validate_facet_name(facet_name: Option<String>, index: &IndexCapabilities) -> Result<String> {
    let filterable = &index.filterable_attributes;
    let Some(facet_name) = facet_name else {
        return Err(ApiError::new(
            Code::MissingFacetSearchFacetName,
            format!(
                "missing `facetName`: name the filterable attribute whose values to search, \
                 one of {}",
                name_list(filterable)
            ),
        ));
    };
    if !attribute_is_allowed(&facet_name, filterable) {
        return Err(ApiError::new(
            Code::InvalidFacetSearchFacetName,
            format!(
                "invalid value for `facetName`: {}",
                not_allowed_message(&facet_name, "filterable", filterable)
            ),
        ));
    }
    Ok(facet_name)
}

fn validate_facet_query(facet_query: Option<String>) -> Result<Option<String>> {
    match facet_query {
        Some(text) if text.len() > MAX_FACET_QUERY_NUM_BYTES => Err(ApiError::new(
            Code::InvalidFacetSearchQuery,
            format!(
                "invalid value for `facetQuery`: it is `{}` bytes long; the limit is \
                 `{MAX_FACET_QUERY_NUM_BYTES}` bytes; type the start of the value",
                text.len()
            ),
        )),
        facet_query => Ok(facet_query),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::limits::DEFAULT_MAX_TOTAL_HITS;
    use crate::params::HitWindow;
    use crate::params::MatchingStrategy;

    fn index() -> IndexCapabilities {
        IndexCapabilities {
            filterable_attributes: vec!["year".into(), "source".into(), "type".into()],
            sortable_attributes: vec!["year".into()],
            searchable_attributes: vec!["title".into(), "authors".into()],
            displayed_attributes: vec!["*".into()],
            max_total_hits: DEFAULT_MAX_TOTAL_HITS,
            max_values_per_facet: 100,
        }
    }

    fn validate(body: Value) -> Result<ValidatedFacetSearch> {
        FacetSearchQuery::from_json_value(body)?.validate(&index())
    }

    #[test]
    fn every_listed_parameter_is_a_field_with_a_code_of_its_own() {
        for name in FACET_SEARCH_PARAMETERS {
            let value = if *name == "facetName" {
                json!("type")
            } else {
                Value::Null
            };
            let query = FacetSearchQuery::from_json_value(json!({ *name: value }));
            assert!(query.is_ok(), "`{name}`: {:?}", query.err());
            assert_ne!(
                code_of_facet_search_parameter(name),
                Code::BadRequest,
                "`{name}` has no code of its own"
            );
        }
    }

    #[test]
    fn search_narrows_the_counted_documents_and_shows_no_hits() {
        let search = validate(json!({
            "facetName": "type",
            "facetQuery": "Thè",
            "q": "attention",
            "filter": "year >= 2017",
            "matchingStrategy": "all",
            "attributesToSearchOn": ["title"],
            "exhaustiveFacetCount": true,
        }))
        .unwrap();
        assert_eq!(search.facet_name, "type");
        assert_eq!(search.facet_query.as_deref(), Some("Thè"));
        assert_eq!(search.search.query, "attention");
        assert!(search.search.filter.is_some());
        assert_eq!(search.search.matching_strategy, MatchingStrategy::All);
        assert_eq!(search.search.facets, vec!["type".to_owned()]);
        assert_eq!(search.search.hit_window, HitWindow { skip: 0, take: 0 });
    }

    #[test]
    fn search_parameters_a_facet_search_does_not_read_are_ignored() {
        // What instant-meilisearch sends along with the facet of a searchable list.
        let search = validate(json!({
            "facetName": "source",
            "facetQuery": "op",
            "q": "",
            "limit": 20,
            "offset": "not even a number",
            "attributesToHighlight": ["*"],
            "highlightPreTag": "__ais-highlight__",
            "facets": ["year", "title"],
            "sort": ["nothing:asc"],
        }))
        .unwrap();
        assert_eq!(search.search.facets, vec!["source".to_owned()]);
        assert_eq!(search.search.hit_window.take, 0);
        assert!(search.search.sort.is_empty());
    }

    #[test]
    fn refusals_name_the_parameter_and_use_meilisearch_codes() {
        let cases = [
            (
                json!({"facetQuery": "a"}),
                Code::MissingFacetSearchFacetName,
                "missing `facetName`",
            ),
            (
                json!({"facetName": "title"}),
                Code::InvalidFacetSearchFacetName,
                "invalid value for `facetName`: attribute `title` is not filterable; \
                 filterable attributes are `year`, `source`, `type`",
            ),
            (
                json!({"facetName": "tipe"}),
                Code::InvalidFacetSearchFacetName,
                "did you mean `type`?",
            ),
            (
                json!({"facetName": null}),
                Code::InvalidFacetSearchFacetName,
                "invalid value for `facetName`: expected a string, found `null`",
            ),
            (
                json!({"facetName": 5}),
                Code::InvalidFacetSearchFacetName,
                "expected a string, found `5`",
            ),
            (
                json!({"facetName": "type", "facetQuery": ["a"]}),
                Code::InvalidFacetSearchQuery,
                "invalid value for `facetQuery`: expected a string, found an array",
            ),
            (
                json!({
                    "facetName": "type",
                    "facetQuery": "a".repeat(MAX_FACET_QUERY_NUM_BYTES + 1),
                }),
                Code::InvalidFacetSearchQuery,
                "the limit is `256` bytes",
            ),
            (
                json!({"facetName": "type", "exhaustiveFacetCount": "yes"}),
                Code::InvalidFacetSearchExhaustiveFacetCount,
                "invalid value for `exhaustiveFacetCount`: expected a boolean",
            ),
            (
                json!({"facetName": "type", "q": 5}),
                Code::InvalidSearchQ,
                "invalid value for `q`",
            ),
            (
                json!({"facetName": "type", "filter": "yeer = 1"}),
                Code::InvalidSearchFilter,
                "attribute `yeer` is not filterable",
            ),
            (
                json!({"facetName": "type", "matchingStrategy": "most"}),
                Code::InvalidSearchMatchingStrategy,
                "`matchingStrategy`",
            ),
            (
                json!({"facetName": "type", "attributesToSearchOn": ["venue"]}),
                Code::InvalidSearchAttributesToSearchOn,
                "attribute `venue` is not searchable",
            ),
            (
                json!({"facetName": "type", "rankingScoreThreshold": 2}),
                Code::InvalidSearchRankingScoreThreshold,
                "`rankingScoreThreshold`",
            ),
            (
                json!({"facetName": "type", "locales": ["xx"]}),
                Code::InvalidSearchLocales,
                "found `xx`",
            ),
            (
                json!({"facetName": "type", "vector": [0.5]}),
                Code::InvalidSearchVector,
                "no embeddings",
            ),
            (
                json!({"facetName": "type", "facetNam": "type"}),
                Code::BadRequest,
                "unknown facet search parameter `facetNam`",
            ),
            (json!(["type"]), Code::BadRequest, "expected a JSON object"),
        ];
        for (body, code, expected) in cases {
            let error = validate(body.clone()).unwrap_err();
            assert_eq!(error.code(), code, "code for {body}");
            assert!(
                error.public_message().contains(expected),
                "message for {body}: {}",
                error.public_message()
            );
        }
    }
}
