//! The body of `POST /indexes/{uid}/documents/fetch`, also read from the query string of
//! `GET /indexes/{uid}/documents`: a page of documents, chosen by filter or ids, unranked.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::capabilities::IndexCapabilities;
use super::decode::{self, from_json_value, ParameterTable};
use super::describe_json;
use super::query_string::{query_string_to_json, GetValueKind};
use super::validated::AttributeSelection;
use crate::error::{ApiError, Code, Result};
use crate::filter::{check_filterable, FilterExpr, FilterInput};
use crate::limits::{DEFAULT_DOCUMENTS_LIMIT, MAX_DOCUMENTS_FETCH_IDS, MAX_DOCUMENTS_LIMIT};

const DOCUMENTS_TABLE: ParameterTable = ParameterTable {
    kind: "documents parameter",
    names: &[
        "offset",
        "limit",
        "fields",
        "filter",
        "ids",
        "retrieveVectors",
    ],
    code_of: |name| match name {
        "offset" => Code::InvalidDocumentOffset,
        "limit" => Code::InvalidDocumentLimit,
        "fields" => Code::InvalidDocumentFields,
        "filter" => Code::InvalidDocumentFilter,
        "ids" => Code::InvalidDocumentIds,
        "retrieveVectors" => Code::InvalidDocumentRetrieveVectors,
        _ => Code::BadRequest,
    },
};

const GET_VALUE_KINDS: &[(&str, GetValueKind)] = &[
    ("offset", GetValueKind::Number),
    ("limit", GetValueKind::Number),
    ("fields", GetValueKind::List),
    ("filter", GetValueKind::Filter),
    ("ids", GetValueKind::List),
    ("retrieveVectors", GetValueKind::Boolean),
];

/// A documents fetch as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DocumentsFetchRequest {
    /// Documents to skip.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub offset: Option<usize>,
    /// Documents to return.
    #[serde(
        default,
        deserialize_with = "decode::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<usize>,
    /// Attributes returned per document; `*` or absent is all displayed attributes.
    #[serde(
        default,
        deserialize_with = "decode::string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub fields: Option<Vec<String>>,
    /// Only documents matching this filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterInput>,
    /// Only documents with these ids; ids given as numbers are read as their decimal text.
    #[serde(
        default,
        deserialize_with = "document_ids",
        skip_serializing_if = "Option::is_none"
    )]
    pub ids: Option<Vec<String>>,
    /// Accepted for compatibility; Atlas documents have no vectors to return.
    #[serde(
        default,
        deserialize_with = "decode::boolean",
        skip_serializing_if = "Option::is_none"
    )]
    pub retrieve_vectors: Option<bool>,
}

fn document_ids<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    let expected = |found: &Value| {
        serde::de::Error::custom(format!(
            "expected an array of document ids (strings or integers), found {}",
            describe_json(found)
        ))
    };
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(id) => Ok(id),
                Value::Number(number) if number.is_u64() || number.is_i64() => {
                    Ok(number.to_string())
                }
                other => Err(expected(&other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(expected(&other)),
    }
}

/// A documents fetch ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedDocumentsFetch {
    /// Documents skipped.
    pub offset: usize,
    /// Documents returned at most.
    pub limit: usize,
    /// Attributes returned.
    pub fields: AttributeSelection,
    /// The filter, attributes checked.
    pub filter: Option<FilterExpr>,
    /// Only these ids, when given.
    pub ids: Option<Vec<String>>,
}

impl DocumentsFetchRequest {
    /// Returns the fetch of a POST body already read as JSON.
    ///
    /// # Errors
    ///
    /// `bad_request` naming an unknown parameter; `invalid_document_*` for a value of the
    /// wrong type.
    pub fn from_json_value(value: Value) -> Result<DocumentsFetchRequest> {
        from_json_value(value, &DOCUMENTS_TABLE)
    }

    /// Returns the fetch of a GET query string such as `limit=5&fields=title,year`.
    ///
    /// # Errors
    ///
    /// As [`DocumentsFetchRequest::from_json_value`].
    pub fn from_query_string(query_string: &str) -> Result<DocumentsFetchRequest> {
        DocumentsFetchRequest::from_json_value(query_string_to_json(
            query_string,
            GET_VALUE_KINDS,
            DOCUMENTS_TABLE.code_of,
        )?)
    }

    /// Returns the fetch checked against `index`.
    ///
    /// # Errors
    ///
    /// `invalid_document_limit` above [`MAX_DOCUMENTS_LIMIT`], `invalid_document_ids` above
    /// [`MAX_DOCUMENTS_FETCH_IDS`] ids, `invalid_document_filter` for a filter that does not
    /// parse or names an attribute that is not filterable.
    pub fn validate(self, index: &IndexCapabilities) -> Result<ValidatedDocumentsFetch> {
        let limit = self.limit.unwrap_or(DEFAULT_DOCUMENTS_LIMIT);
        if limit > MAX_DOCUMENTS_LIMIT {
            return Err(ApiError::new(
                Code::InvalidDocumentLimit,
                format!(
                    "invalid value for `limit`: expected at most `{MAX_DOCUMENTS_LIMIT}`, \
                     found `{limit}`"
                ),
            ));
        }
        if let Some(ids) = &self.ids {
            if ids.len() > MAX_DOCUMENTS_FETCH_IDS {
                return Err(ApiError::new(
                    Code::InvalidDocumentIds,
                    format!(
                        "invalid value for `ids`: expected at most \
                         `{MAX_DOCUMENTS_FETCH_IDS}` ids, found `{}`",
                        ids.len()
                    ),
                ));
            }
        }
        let filter = match &self.filter {
            None => None,
            Some(input) => {
                let to_api_error = |error: crate::filter::FilterError| {
                    ApiError::new(Code::InvalidDocumentFilter, error.message())
                };
                let parsed = input.parse("filter").map_err(to_api_error)?;
                if let Some(expression) = &parsed {
                    check_filterable(expression, &index.filterable_attributes)
                        .map_err(to_api_error)?;
                }
                parsed
            }
        };
        let fields = match self.fields {
            Some(fields) if !fields.iter().any(|field| field == "*") => {
                AttributeSelection::Only(fields)
            }
            _ => AttributeSelection::All,
        };
        Ok(ValidatedDocumentsFetch {
            offset: self.offset.unwrap_or(0),
            limit,
            fields,
            filter,
            ids: self.ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn index() -> IndexCapabilities {
        IndexCapabilities {
            filterable_attributes: vec!["source".into()],
            sortable_attributes: vec![],
            searchable_attributes: vec![],
            displayed_attributes: vec!["*".into()],
            max_total_hits: 1_000,
            max_values_per_facet: 100,
        }
    }

    #[test]
    fn fetch_with_filter_ids_and_fields() {
        let request = DocumentsFetchRequest::from_json_value(json!({
            "limit": 3,
            "fields": ["title"],
            "filter": "source = hal",
            "ids": ["w1", 42],
        }))
        .unwrap();
        let fetch = request.validate(&index()).unwrap();
        assert_eq!(fetch.limit, 3);
        assert_eq!(fetch.offset, 0);
        assert_eq!(fetch.fields, AttributeSelection::Only(vec!["title".into()]));
        assert_eq!(fetch.ids, Some(vec!["w1".to_owned(), "42".to_owned()]));
        assert!(fetch.filter.is_some());
    }

    #[test]
    fn get_and_post_forms_agree() {
        let from_get =
            DocumentsFetchRequest::from_query_string("limit=3&fields=title,year&ids=a,b").unwrap();
        let from_post = DocumentsFetchRequest::from_json_value(json!({
            "limit": 3, "fields": ["title", "year"], "ids": ["a", "b"],
        }))
        .unwrap();
        assert_eq!(from_get, from_post);
    }

    #[test]
    fn refusals_use_document_codes() {
        let cases = [
            (json!({"limit": -2}), Code::InvalidDocumentLimit),
            (
                json!({"limit": MAX_DOCUMENTS_LIMIT + 1}),
                Code::InvalidDocumentLimit,
            ),
            (json!({"offset": "x"}), Code::InvalidDocumentOffset),
            (json!({"fields": "title"}), Code::InvalidDocumentFields),
            (json!({"ids": [1.5]}), Code::InvalidDocumentIds),
            (json!({"filter": "year = 1"}), Code::InvalidDocumentFilter),
            (json!({"filter": "source ="}), Code::InvalidDocumentFilter),
            (json!({"sort": ["a:asc"]}), Code::BadRequest),
        ];
        for (body, code) in cases {
            let error = DocumentsFetchRequest::from_json_value(body.clone())
                .and_then(|request| request.validate(&index()))
                .unwrap_err();
            assert_eq!(error.code(), code, "{body}: {}", error.public_message());
        }
    }
}
