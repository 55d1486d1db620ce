//! The body of `POST /multi-search`: several searches answered separately, or, with
//! `federation`, merged into one ranked list where each query's scores carry a weight.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::capabilities::IndexCapabilities;
use super::decode::{self, from_json_value, ParameterTable};
use super::describe_json;
use super::index_uid::IndexUid;
use super::search_query::SearchQuery;
use super::validated::{resolve_pagination, HitWindow, Pagination, ValidatedSearch};
use crate::error::{ApiError, Code, Result};
use crate::limits::{DEFAULT_MAX_TOTAL_HITS, MAX_MULTI_SEARCH_HITS, MAX_MULTI_SEARCH_QUERIES};

/// A multi-search as sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultiSearchRequest {
    /// The searches, in order; results come back in the same order.
    pub queries: Vec<MultiSearchQuery>,
    /// Present for a federated search: one merged list of hits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federation: Option<Federation>,
}

/// One search of a multi-search: an index, the search, and its federation options.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiSearchQuery {
    /// The index searched.
    pub index_uid: IndexUid,
    /// How this query's hits weigh in a federated search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federation_options: Option<FederationOptions>,
    /// The search parameters.
    #[serde(flatten)]
    pub search: SearchQuery,
}

/// The pagination of a federated search's merged hits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Federation {
    /// Merged hits to skip.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub offset: Option<usize>,
    /// Merged hits to return.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<usize>,
    /// The page of merged hits, selecting exhaustive pagination.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub page: Option<usize>,
    /// Merged hits per page, selecting exhaustive pagination.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub hits_per_page: Option<usize>,
}

/// Options of one query of a federated search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederationOptions {
    /// Factor applied to this query's ranking scores before merging; 1 when absent.
    #[serde(
        default,
        deserialize_with = "decode::number",
        skip_serializing_if = "Option::is_none"
    )]
    pub weight: Option<f64>,
}

const MULTI_SEARCH_TABLE: ParameterTable = ParameterTable {
    kind: "multi-search parameter",
    names: &["queries", "federation"],
    code_of: |_| Code::InvalidMultiSearchQueries,
};

const FEDERATION_TABLE: ParameterTable = ParameterTable {
    kind: "federation parameter",
    names: &["offset", "limit", "page", "hitsPerPage"],
    code_of: |_| Code::InvalidMultiSearchFederated,
};

const FEDERATION_OPTIONS_TABLE: ParameterTable = ParameterTable {
    kind: "federation option",
    names: &["weight"],
    code_of: |name| match name {
        "weight" => Code::InvalidMultiSearchWeight,
        _ => Code::InvalidMultiSearchFederationOptions,
    },
};

/// Pagination parameters a query of a federated search may not set.
const PER_QUERY_PAGINATION: &[&str] = &["offset", "limit", "page", "hitsPerPage"];

impl MultiSearchRequest {
    /// Returns the multi-search of a body already read as JSON.
    ///
    /// # Errors
    ///
    /// `bad_request` for unknown parameters; `missing_index_uid` and `invalid_index_uid`;
    /// `invalid_multi_search_*` for more than [`MAX_MULTI_SEARCH_QUERIES`] queries, a
    /// federated query with its own pagination or facets, or `federationOptions` outside a
    /// federated search; a search parameter's own code, the message prefixed with the
    /// query's position (`in `queries[2]`: …`).
    pub fn from_json_value(value: Value) -> Result<MultiSearchRequest> {
        let Value::Object(mut object) = value else {
            return Err(ApiError::new(
                Code::BadRequest,
                format!(
                    "expected a JSON object with `queries`, found {}",
                    describe_json(&value)
                ),
            ));
        };
        if let Some(unknown) = object
            .keys()
            .find(|key| !MULTI_SEARCH_TABLE.names.contains(&key.as_str()))
        {
            return Err(decode::unknown_parameter(unknown, &MULTI_SEARCH_TABLE));
        }

        let federation = match object.remove("federation") {
            None | Some(Value::Null) => None,
            Some(federation) => Some(
                from_json_value::<Federation>(federation, &FEDERATION_TABLE)
                    .map_err(|error| error.with_message_prefix("in `federation`: "))?,
            ),
        };
        let queries = match object.remove("queries") {
            Some(Value::Array(queries)) => queries,
            None => {
                return Err(ApiError::new(
                    Code::BadRequest,
                    "missing `queries`; send `{\"queries\": [{\"indexUid\": …}]}`",
                ))
            }
            Some(other) => {
                return Err(ApiError::new(
                    Code::InvalidMultiSearchQueries,
                    format!(
                        "invalid value for `queries`: expected an array, found {}",
                        describe_json(&other)
                    ),
                ))
            }
        };
        if queries.len() > MAX_MULTI_SEARCH_QUERIES {
            return Err(ApiError::new(
                Code::InvalidMultiSearchQueries,
                format!(
                    "`queries` has `{}` queries; at most `{MAX_MULTI_SEARCH_QUERIES}` are \
                     allowed; split the request",
                    queries.len()
                ),
            ));
        }

        let is_federated = federation.is_some();
        let queries = queries
            .into_iter()
            .enumerate()
            .map(|(position, query)| {
                read_query(query, is_federated).map_err(|error| {
                    error.with_message_prefix(&format!("in `queries[{position}]`: "))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(MultiSearchRequest {
            queries,
            federation,
        })
    }

    /// Returns the multi-search checked against the indexes; `index_of` gives the
    /// capabilities of an index, or `None` when it does not exist.
    ///
    /// # Errors
    ///
    /// `index_not_found`, or the first invalid parameter of a query, its message prefixed
    /// with the query's position; `invalid_multi_search_queries` when the queries of a
    /// multi-search that is not federated ask for more than [`MAX_MULTI_SEARCH_HITS`] hits
    /// in all.
    pub fn validate<'a>(
        self,
        index_of: impl Fn(&IndexUid) -> Option<&'a IndexCapabilities>,
    ) -> Result<ValidatedMultiSearch> {
        let mut validated = Vec::with_capacity(self.queries.len());
        for (position, query) in self.queries.into_iter().enumerate() {
            let prefix = format!("in `queries[{position}]`: ");
            let index = index_of(&query.index_uid)
                .ok_or_else(|| ApiError::index_not_found(query.index_uid.as_str()))
                .map_err(|error| error.with_message_prefix(&prefix))?;
            let search = query
                .search
                .validate(index)
                .map_err(|error| error.with_message_prefix(&prefix))?;
            let weight = query
                .federation_options
                .and_then(|options| options.weight)
                .unwrap_or(1.0);
            validated.push((query.index_uid, weight, search));
        }

        let Some(federation) = self.federation else {
            let num_hits: usize = validated
                .iter()
                .map(|(_, _, search)| search.hit_window.take)
                .sum();
            if num_hits > MAX_MULTI_SEARCH_HITS {
                return Err(ApiError::new(
                    Code::InvalidMultiSearchQueries,
                    format!(
                        "the queries ask for up to `{num_hits}` hits in all (their `limit` or \
                         `hitsPerPage` summed); one multi-search returns at most \
                         `{MAX_MULTI_SEARCH_HITS}`: lower the limits or split the request"
                    ),
                ));
            }
            return Ok(ValidatedMultiSearch::Separate(
                validated
                    .into_iter()
                    .map(|(index_uid, _, search)| (index_uid, search))
                    .collect(),
            ));
        };
        let pagination = resolve_pagination(
            federation.offset,
            federation.limit,
            federation.page,
            federation.hits_per_page,
        )
        .map_err(|error| {
            ApiError::new(
                Code::InvalidMultiSearchFederated,
                format!("in `federation`: {}", error.public_message()),
            )
        })?;
        let max_total_hits = validated
            .iter()
            .map(|(_, _, search)| search.max_total_hits)
            .min()
            .unwrap_or(DEFAULT_MAX_TOTAL_HITS);
        let hit_window = pagination.hit_window(max_total_hits);
        let queries = validated
            .into_iter()
            .map(|(index_uid, weight, mut search)| {
                // Each query ranks enough hits to fill the merged window on its own.
                search.hit_window = HitWindow {
                    skip: 0,
                    take: hit_window.skip + hit_window.take,
                };
                ValidatedFederatedQuery {
                    index_uid,
                    weight,
                    search,
                }
            })
            .collect();
        Ok(ValidatedMultiSearch::Federated {
            pagination,
            hit_window,
            queries,
        })
    }
}

/// Reads one query object: its `indexUid`, its `federationOptions`, then the search.
fn read_query(query: Value, is_federated: bool) -> Result<MultiSearchQuery> {
    let Value::Object(mut object) = query else {
        return Err(ApiError::new(
            Code::InvalidMultiSearchQueries,
            format!("expected a JSON object, found {}", describe_json(&query)),
        ));
    };
    let index_uid = match object.remove("indexUid") {
        None | Some(Value::Null) => {
            return Err(ApiError::new(
                Code::MissingIndexUid,
                "missing `indexUid`; name the index to search",
            ))
        }
        Some(Value::String(uid)) => IndexUid::parse(&uid)?,
        Some(other) => {
            return Err(ApiError::new(
                Code::InvalidIndexUid,
                format!(
                    "invalid value for `indexUid`: expected a string, found {}",
                    describe_json(&other)
                ),
            ))
        }
    };
    let federation_options = match object.remove("federationOptions") {
        None | Some(Value::Null) => None,
        Some(_) if !is_federated => {
            return Err(ApiError::new(
                Code::InvalidMultiSearchFederationOptions,
                "`federationOptions` is only allowed in a federated search; add `federation` \
                 to the request or remove it",
            ))
        }
        Some(options) => Some(read_federation_options(options)?),
    };
    if is_federated {
        check_federated_query(&object)?;
    }
    let search = SearchQuery::from_json_value(Value::Object(object))?;
    Ok(MultiSearchQuery {
        index_uid,
        federation_options,
        search,
    })
}

fn read_federation_options(options: Value) -> Result<FederationOptions> {
    let options: FederationOptions = from_json_value(options, &FEDERATION_OPTIONS_TABLE)
        .map_err(|error| error.with_message_prefix("in `federationOptions`: "))?;
    if let Some(weight) = options.weight {
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(ApiError::new(
                Code::InvalidMultiSearchWeight,
                format!(
                    "invalid value for `federationOptions.weight`: expected a non-negative \
                     number, found `{}`",
                    Value::from(weight)
                ),
            ));
        }
    }
    Ok(options)
}

fn check_federated_query(object: &Map<String, Value>) -> Result<()> {
    let is_set = |name: &str| object.get(name).is_some_and(|value| !value.is_null());
    if let Some(parameter) = PER_QUERY_PAGINATION.iter().find(|name| is_set(name)) {
        return Err(ApiError::new(
            Code::InvalidMultiSearchQueryPagination,
            format!(
                "`{parameter}` is not allowed on a query of a federated search; page the merged \
                 hits with `federation.{parameter}`"
            ),
        ));
    }
    if is_set("facets") {
        return Err(ApiError::new(
            Code::InvalidMultiSearchQueryFacets,
            "`facets` is not allowed on a query of a federated search",
        ));
    }
    Ok(())
}

/// A multi-search ready to run.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidatedMultiSearch {
    /// Each search answered on its own, in order.
    Separate(Vec<(IndexUid, ValidatedSearch)>),
    /// The hits of every search merged by weighted ranking score.
    Federated {
        /// How the caller pages the merged hits.
        pagination: Pagination,
        /// The merged hits to return.
        hit_window: HitWindow,
        /// The searches; each ranks the top `hit_window.skip + hit_window.take` hits.
        queries: Vec<ValidatedFederatedQuery>,
    },
}

/// One search of a federated multi-search.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedFederatedQuery {
    /// The index searched.
    pub index_uid: IndexUid,
    /// Factor applied to the query's ranking scores.
    pub weight: f64,
    /// The search.
    pub search: ValidatedSearch,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn capabilities() -> IndexCapabilities {
        IndexCapabilities {
            filterable_attributes: vec!["year".into()],
            sortable_attributes: vec![],
            searchable_attributes: vec!["title".into()],
            displayed_attributes: vec!["*".into()],
            max_total_hits: 1_000,
            max_values_per_facet: 100,
        }
    }

    fn read(body: Value) -> Result<MultiSearchRequest> {
        MultiSearchRequest::from_json_value(body)
    }

    #[test]
    fn plain_multi_search_validates_each_query() {
        let index = capabilities();
        let request = read(json!({"queries": [
            {"indexUid": "works", "q": "smith", "limit": 5},
            {"indexUid": "profiles", "q": "smith", "filter": "year = 2020"},
        ]}))
        .unwrap();
        let ValidatedMultiSearch::Separate(searches) = request.validate(|_| Some(&index)).unwrap()
        else {
            panic!("expected separate searches");
        };
        assert_eq!(searches.len(), 2);
        assert_eq!(searches[0].0.as_str(), "works");
        assert_eq!(searches[0].1.hit_window.take, 5);
    }

    #[test]
    fn federated_search_merges_windows_and_weights() {
        let index = capabilities();
        let request = read(json!({
            "federation": {"offset": 10, "limit": 5},
            "queries": [
                {"indexUid": "works", "q": "smith", "federationOptions": {"weight": 2.0}},
                {"indexUid": "profiles", "q": "smith"},
            ],
        }))
        .unwrap();
        let validated = request.validate(|_| Some(&index)).unwrap();
        let ValidatedMultiSearch::Federated {
            hit_window,
            queries,
            ..
        } = validated
        else {
            panic!("expected a federated search");
        };
        assert_eq!(hit_window, HitWindow { skip: 10, take: 5 });
        assert_eq!(queries[0].weight, 2.0);
        assert_eq!(queries[1].weight, 1.0);
        assert_eq!(
            queries[1].search.hit_window,
            HitWindow { skip: 0, take: 15 }
        );
    }

    #[test]
    fn refusals() {
        let negative_weight = json!({"indexUid": "w", "federationOptions": {"weight": -1}});
        let cases = [
            (
                json!({"queries": [{"q": "x"}]}),
                Code::MissingIndexUid,
                "in `queries[0]`: missing `indexUid`",
            ),
            (
                json!({"queries": [{"indexUid": "a b"}]}),
                Code::InvalidIndexUid,
                "not a valid index uid",
            ),
            (
                json!({"queries": [{"indexUid": "w", "limit": -1}]}),
                Code::InvalidSearchLimit,
                "in `queries[0]`: invalid value for `limit`: expected a positive integer, \
                 found `-1`",
            ),
            (
                json!({"queries": [{"indexUid": "w", "federationOptions": {"weight": 2}}]}),
                Code::InvalidMultiSearchFederationOptions,
                "only allowed in a federated search",
            ),
            (
                json!({"federation": {}, "queries": [{"indexUid": "w", "limit": 5}]}),
                Code::InvalidMultiSearchQueryPagination,
                "`federation.limit`",
            ),
            (
                json!({"federation": {}, "queries": [{"indexUid": "w", "facets": ["year"]}]}),
                Code::InvalidMultiSearchQueryFacets,
                "`facets`",
            ),
            (
                json!({"federation": {}, "queries": [negative_weight]}),
                Code::InvalidMultiSearchWeight,
                "found `-1.0`",
            ),
            (
                json!({"federation": {"limit": "x"}, "queries": []}),
                Code::InvalidMultiSearchFederated,
                "in `federation`: invalid value for `limit`",
            ),
            (
                json!({"queries": [], "other": 1}),
                Code::BadRequest,
                "unknown multi-search parameter `other`",
            ),
            (json!({}), Code::BadRequest, "missing `queries`"),
        ];
        for (body, code, expected) in cases {
            let error = read(body.clone()).unwrap_err();
            assert_eq!(error.code(), code, "code for {body}");
            assert!(
                error.public_message().contains(expected),
                "{body}: {}",
                error.public_message()
            );
        }
    }

    #[test]
    fn too_many_queries() {
        let queries: Vec<Value> = (0..=MAX_MULTI_SEARCH_QUERIES)
            .map(|_| json!({"indexUid": "w"}))
            .collect();
        let error = read(json!({ "queries": queries })).unwrap_err();
        assert_eq!(error.code(), Code::InvalidMultiSearchQueries);
    }

    #[test]
    fn too_many_hits_in_all() {
        let index = IndexCapabilities {
            max_total_hits: 100_000,
            ..capabilities()
        };
        let queries = |num_queries: usize, limit: usize| -> Value {
            let queries: Vec<Value> = (0..num_queries)
                .map(|_| json!({"indexUid": "w", "q": "x", "limit": limit}))
                .collect();
            json!({ "queries": queries })
        };
        let at_most = MAX_MULTI_SEARCH_HITS / 1_000;
        let request = read(queries(at_most, 1_000)).unwrap();
        assert!(request.validate(|_| Some(&index)).is_ok());
        let request = read(queries(at_most + 1, 1_000)).unwrap();
        let error = request.validate(|_| Some(&index)).unwrap_err();
        assert_eq!(error.code(), Code::InvalidMultiSearchQueries);
        assert!(
            error
                .public_message()
                .contains(&format!("`{}` hits", (at_most + 1) * 1_000)),
            "{}",
            error.public_message()
        );
        // A federated search returns one page, whatever its queries rank.
        let mut federated = queries(at_most + 1, 1_000);
        for query in federated["queries"].as_array_mut().unwrap() {
            query.as_object_mut().unwrap().remove("limit");
        }
        federated["federation"] = json!({"limit": 1_000});
        let request = read(federated).unwrap();
        assert!(request.validate(|_| Some(&index)).is_ok());
    }

    #[test]
    fn unknown_index_is_named_with_its_position() {
        let request = read(json!({"queries": [{"indexUid": "wroks"}]})).unwrap();
        let error = request.validate(|_| None).unwrap_err();
        assert_eq!(error.code(), Code::IndexNotFound);
        assert!(error
            .public_message()
            .starts_with("in `queries[0]`: index `wroks` not found"));
    }

    #[test]
    fn serializes_flat_like_meilisearch() {
        let body = json!({
            "federation": {"limit": 5},
            "queries": [{"indexUid": "works", "federationOptions": {"weight": 0.5}, "q": "x"}],
        });
        let request = read(body.clone()).unwrap();
        assert_eq!(serde_json::to_value(&request).unwrap(), body);
    }
}
