//! Crossref work objects: one per line, a bare (possibly pretty-printed) object, or a REST API
//! response envelope holding one work (`message`) or a page of them (`message.items`).

use std::io;
use std::path::Path;

use serde_json::Value;

use super::json_records::{self, json_kind, Extracted};
use super::ReadOptions;
use crate::import::record::{ParseOutcome, SourceRecord};
use crate::index::schema::DOI_PREFIXES;

/// Source name of Crossref records.
pub(crate) const SOURCE: &str = "crossref";

/// Streams the works of a Crossref file.
///
/// # Errors
/// Fails when the file cannot be opened.
pub(crate) fn read(
    path: &Path,
    options: ReadOptions,
) -> io::Result<Box<dyn Iterator<Item = ParseOutcome> + Send>> {
    let layout = json_records::detect_layout(path, &["status", "message-type"])?;
    json_records::read(path, layout, options, extract)
}

/// Unwraps an API envelope (`status` and `message`) if there is one, and reads the works.
fn extract(value: Value) -> Extracted {
    let Value::Object(mut object) = value else {
        return Extracted::One(work(value));
    };
    let is_envelope = object.contains_key("message")
        && (object.contains_key("status") || object.contains_key("message-type"));
    if !is_envelope {
        return Extracted::One(work(Value::Object(object)));
    }

    let status = object.get("status").and_then(Value::as_str).unwrap_or("ok");
    if status != "ok" {
        let message = object
            .get("message")
            .map(Value::to_string)
            .unwrap_or_default();
        return Extracted::One(Err(format!(
            "api response has status `{status}` instead of `ok`: `{message}`"
        )));
    }
    match object.remove("message") {
        Some(Value::Object(mut message)) => match message.remove("items") {
            Some(Value::Array(items)) => Extracted::List(items.into_iter().map(work).collect()),
            Some(items) => {
                let kind = json_kind(&items);
                Extracted::One(Err(format!(
                    "api response's `message.items` is {kind}, not a list"
                )))
            }
            None => Extracted::One(work(Value::Object(message))),
        },
        other => {
            let kind = other.as_ref().map_or("absent", json_kind);
            Extracted::One(Err(format!(
                "api response's `message` is {kind}, not an object"
            )))
        }
    }
}

/// Turns one work object into a record keyed by its lowercased DOI.
fn work(value: Value) -> Result<SourceRecord, String> {
    let Value::Object(object) = &value else {
        return Err(format!(
            "record is {}, not a json object",
            json_kind(&value)
        ));
    };
    let doi = json_records::required_string(object, "DOI")?;
    let source_id =
        normalize_doi(doi).ok_or_else(|| format!("`DOI` field `{doi}` is not a doi"))?;
    json_records::new_record(SOURCE, source_id, value)
}

/// Returns the DOI lowercased (DOIs are case-insensitive) without a resolver prefix, or `None`
/// when it does not have the `10.<registrant>/<suffix>` shape.
fn normalize_doi(doi: &str) -> Option<String> {
    let lowercase = doi.trim().to_lowercase();
    let bare = DOI_PREFIXES
        .iter()
        .find_map(|prefix| lowercase.strip_prefix(prefix))
        .unwrap_or(&lowercase);
    let (registrant, suffix) = bare.split_once('/')?;
    let is_doi = registrant.starts_with("10.") && registrant.len() > 3 && !suffix.is_empty();
    is_doi.then(|| bare.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn source_ids(extracted: Extracted) -> Vec<Result<String, String>> {
        let records = match extracted {
            Extracted::One(record) => vec![record],
            Extracted::List(records) => records,
        };
        records
            .into_iter()
            .map(|record| record.map(|record| record.source_id))
            .collect()
    }

    #[test]
    fn dois_are_lowercased_and_lose_resolver_prefixes() {
        assert_eq!(
            normalize_doi("10.1371/JOURNAL.pone.0033693").as_deref(),
            Some("10.1371/journal.pone.0033693")
        );
        assert_eq!(
            normalize_doi(" https://doi.org/10.1/X ").as_deref(),
            Some("10.1/x")
        );
        assert_eq!(
            normalize_doi("doi:10.5555/abc").as_deref(),
            Some("10.5555/abc")
        );
        assert_eq!(normalize_doi("11.1/x"), None);
        assert_eq!(normalize_doi("10./x"), None);
        assert_eq!(normalize_doi("10.1000"), None);
    }

    #[test]
    fn bare_works_single_work_envelopes_and_pages_are_all_read() {
        let bare = json!({"DOI": "10.1/A"});
        assert_eq!(source_ids(extract(bare)), [Ok("10.1/a".to_string())]);

        let single = json!({"status": "ok", "message-type": "work", "message": {"DOI": "10.1/B"}});
        assert_eq!(source_ids(extract(single)), [Ok("10.1/b".to_string())]);

        let page = json!({"status": "ok", "message-type": "work-list",
            "message": {"total-results": 2, "items": [{"DOI": "10.1/C"}, {"title": ["x"]}]}});
        assert_eq!(
            source_ids(extract(page)),
            [
                Ok("10.1/c".to_string()),
                Err("record has no `DOI` field".to_string())
            ]
        );
    }

    #[test]
    fn error_envelopes_and_non_dois_are_refused() {
        let failed = json!({"status": "failed", "message": [{"type": "x"}]});
        assert_eq!(
            source_ids(extract(failed)),
            [Err(
                "api response has status `failed` instead of `ok`: `[{\"type\":\"x\"}]`"
                    .to_string()
            )]
        );
        let not_a_doi = json!({"DOI": "hello"});
        assert_eq!(
            source_ids(extract(not_a_doi)),
            [Err("`DOI` field `hello` is not a doi".to_string())]
        );
    }
}
