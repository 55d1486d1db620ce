//! Stored tantivy documents as the JSON objects hits and the documents routes return: keys
//! are the schema's field names, lists are arrays (empty when the document has none),
//! absent single values are left out, dates are RFC 3339 and the original record is parsed
//! back into an object.

use indexer::index::search_view;
use serde_json::{Map, Value};
use tantivy::schema::Value as _;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use super::catalog::{Attribute, IndexCatalog, ValueKind};
use crate::error::{ApiError, Result};
use crate::params::AttributeSelection;
use crate::response::Document;

/// Reads a whole document of `catalog`'s index, as hits shown and the documents routes
/// return it.
///
/// # Errors
///
/// An internal error when the shard cannot be read.
pub fn read_whole(
    catalog: &IndexCatalog,
    searcher: &Searcher,
    address: DocAddress,
) -> Result<TantivyDocument> {
    search_view::read_document(catalog.kind, searcher, address).map_err(ApiError::internal)
}

/// Reads what a search needs of the documents at `addresses` of one shard to rank them, in
/// that order: their id, searched texts and sort values. An index with a search view gives
/// only those, from the view, without the original record; the others give every stored
/// value.
///
/// # Errors
///
/// An internal error when the shard cannot be read.
pub fn read_searched(
    catalog: &IndexCatalog,
    searcher: &Searcher,
    addresses: &[DocAddress],
) -> Result<Vec<TantivyDocument>> {
    if !is_searched_partial(catalog) {
        return addresses
            .iter()
            .map(|address| searcher.doc(*address).map_err(ApiError::internal))
            .collect();
    }
    search_view::read_views(catalog.kind, searcher, addresses).map_err(ApiError::internal)
}

/// Returns whether documents read by [`read_searched`] lack values hits show, and must be
/// read again with [`read_whole`] to be shown.
pub fn is_searched_partial(catalog: &IndexCatalog) -> bool {
    !indexer::index::schema::search_view_fields(catalog.kind).is_empty()
}

/// Returns the JSON object of a stored document of `catalog`'s index, with every displayed
/// attribute.
pub fn to_json(catalog: &IndexCatalog, stored: &TantivyDocument) -> Document {
    let mut object = Map::new();
    for attribute in catalog.attributes {
        if let Some(value) = attribute_value(catalog, attribute, stored) {
            object.insert(attribute.name.to_owned(), value);
        }
    }
    object
}

/// Returns the value of one attribute of a stored document, `None` when a single value is
/// absent.
pub fn attribute_value(
    catalog: &IndexCatalog,
    attribute: &Attribute,
    stored: &TantivyDocument,
) -> Option<Value> {
    let field = catalog.field(attribute.name);
    let mut values = stored
        .get_all(field)
        .filter_map(|value| match attribute.value {
            ValueKind::Text(_) => value.as_str().map(|text| Value::from(text.to_owned())),
            ValueKind::I64 => value.as_i64().map(Value::from),
            ValueKind::U64 => value.as_u64().map(Value::from),
            ValueKind::Date => value
                .as_datetime()
                .map(|date| Value::from(format_date(date))),
            ValueKind::JsonText => value.as_str().map(parse_json_text),
        });
    if attribute.is_array {
        return Some(Value::Array(values.collect()));
    }
    values.next()
}

/// Returns the stored texts of a text attribute, in order.
pub fn texts<'d>(
    catalog: &IndexCatalog,
    name: &str,
    stored: &'d TantivyDocument,
) -> impl Iterator<Item = &'d str> + 'd {
    stored
        .get_all(catalog.field(name))
        .filter_map(|value| value.as_str())
}

/// Returns the document's id.
pub fn id_of(catalog: &IndexCatalog, stored: &TantivyDocument) -> String {
    texts(catalog, indexer::index::schema::ID, stored)
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Returns `document` reduced to the selected attributes; the id is always kept, as
/// Meilisearch keeps the primary key.
pub fn select(document: Document, selection: &AttributeSelection) -> Document {
    let AttributeSelection::Only(names) = selection else {
        return document;
    };
    let mut selected = Map::new();
    for (name, value) in document {
        let is_selected = name == indexer::index::schema::ID
            || names.iter().any(|wanted| {
                wanted == &name
                    || wanted
                        .strip_prefix(&name)
                        .is_some_and(|rest| rest.starts_with('.'))
            });
        if is_selected {
            selected.insert(name, value);
        }
    }
    selected
}

/// Formats a date as RFC 3339 in UTC with the precision it has.
pub fn format_date(date: tantivy::DateTime) -> String {
    let micros = date.into_timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).map_or_else(
        || micros.to_string(),
        |date| date.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

/// Parses JSON stored as text; text that is not JSON is shown as a string rather than lost.
fn parse_json_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::from(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dates_are_rfc_3339_in_utc() {
        let date = tantivy::DateTime::from_timestamp_micros(1_700_000_000_123_456);
        assert_eq!(format_date(date), "2023-11-14T22:13:20.123456Z");
        let date = tantivy::DateTime::from_timestamp_secs(0);
        assert_eq!(format_date(date), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn selection_keeps_the_id() {
        let document = json!({"id": "a", "title": "t", "year": 2020, "data": {"x": 1}});
        let Value::Object(document) = document else {
            unreachable!()
        };
        let selected = select(
            document,
            &AttributeSelection::Only(vec!["year".into(), "data.x".into()]),
        );
        assert_eq!(
            Value::Object(selected),
            json!({"id": "a", "year": 2020, "data": {"x": 1}})
        );
    }
}
