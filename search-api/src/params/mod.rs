//! The request models of the search, facet search, multi-search, documents and settings
//! routes, how they are read from a JSON body or a query string, and their validation
//! against an index.

mod capabilities;
mod decode;
mod documents;
mod facet_search;
mod index_uid;
mod multi_search;
mod query_string;
mod search_query;
mod settings;
mod validated;

pub use capabilities::IndexCapabilities;
pub use documents::{DocumentsFetchRequest, ValidatedDocumentsFetch};
pub use facet_search::{FacetSearchQuery, ValidatedFacetSearch, FACET_SEARCH_PARAMETERS};
pub use index_uid::IndexUid;
pub use multi_search::{
    Federation, FederationOptions, MultiSearchQuery, MultiSearchRequest, ValidatedFederatedQuery,
    ValidatedMultiSearch,
};
pub use search_query::{MatchingStrategy, SearchQuery, SEARCH_PARAMETERS};
pub use settings::{
    Faceting, FacetingUpdate, MinWordSizeForTypos, MinWordSizeForTyposUpdate, PaginationSettings,
    PaginationUpdate, Setting, Settings, SettingsUpdate, TypoTolerance, TypoToleranceUpdate,
};
pub use validated::{AttributeSelection, CropAttribute, HitWindow, Pagination, ValidatedSearch};

use serde_json::Value;

/// Longest JSON text quoted in a message, in characters.
const MAX_QUOTED_JSON_NUM_CHARS: usize = 40;

/// Describes a JSON value for the "found …" part of a message: scalars as JSON in
/// backticks (`` `-1` ``, `` `"ten"` ``), containers by their kind.
pub(crate) fn describe_json(value: &Value) -> String {
    match value {
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        scalar => {
            let text = scalar.to_string();
            if text.chars().count() <= MAX_QUOTED_JSON_NUM_CHARS {
                format!("`{text}`")
            } else {
                let kept: String = text.chars().take(MAX_QUOTED_JSON_NUM_CHARS).collect();
                format!("`{kept}…`")
            }
        }
    }
}
