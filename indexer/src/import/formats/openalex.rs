//! OpenAlex work objects, one per line (the 2022 `host_venue` schema and today's
//! `primary_location` one alike), plain or gzip; an API page (`meta`, `results`) is read whole.

use std::io;
use std::path::Path;

use serde_json::Value;

use super::json_records::{self, json_kind, Extracted};
use super::ReadOptions;
use crate::import::record::{ParseOutcome, SourceRecord};

/// Source name of OpenAlex records.
pub(crate) const SOURCE: &str = "openalex";

/// Prefixes an OpenAlex id may carry before its `W…` key.
const ID_PREFIXES: [&str; 3] = [
    "https://openalex.org/",
    "http://openalex.org/",
    "openalex.org/",
];

/// Streams the works of an OpenAlex file.
///
/// # Errors
/// Fails when the file cannot be opened.
pub(crate) fn read(
    path: &Path,
    options: ReadOptions,
) -> io::Result<Box<dyn Iterator<Item = ParseOutcome> + Send>> {
    let layout = json_records::detect_layout(path, &["meta"])?;
    json_records::read(path, layout, options, extract)
}

fn extract(value: Value) -> Extracted {
    if let Value::Object(mut object) = value {
        if object.contains_key("meta") {
            if let Some(Value::Array(results)) = object.remove("results") {
                return Extracted::List(results.into_iter().map(work).collect());
            }
        }
        return Extracted::One(work(Value::Object(object)));
    }
    Extracted::One(work(value))
}

/// Turns one work object into a record keyed by its OpenAlex id, `W2741809807` form.
fn work(value: Value) -> Result<SourceRecord, String> {
    let Value::Object(object) = &value else {
        return Err(format!(
            "record is {}, not a json object",
            json_kind(&value)
        ));
    };
    let id = json_records::required_string(object, "id")?;
    let source_id = work_id(id).ok_or_else(|| format!("`id` `{id}` is not an openalex work id"))?;
    json_records::new_record(SOURCE, source_id, value)
}

/// Returns the `W…` key of an OpenAlex work id or URL, upper-cased.
fn work_id(id: &str) -> Option<String> {
    let key = ID_PREFIXES
        .iter()
        .find_map(|prefix| id.strip_prefix(prefix))
        .unwrap_or(id);
    let digits = key.strip_prefix(['W', 'w'])?;
    let is_work_key = !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit());
    is_work_key.then(|| format!("W{digits}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn work_ids_lose_their_prefix_and_other_entities_are_refused() {
        assert_eq!(
            work_id("https://openalex.org/W2741809807").as_deref(),
            Some("W2741809807")
        );
        assert_eq!(work_id("w123").as_deref(), Some("W123"));
        assert_eq!(work_id("https://openalex.org/A5023888391"), None);
        assert_eq!(work_id("https://openalex.org/W"), None);
    }

    #[test]
    fn records_without_a_usable_id_are_refused_with_the_field_named() {
        let reasons: Vec<_> = [
            json!({"title": "t"}),
            json!({"id": null}),
            json!({"id": 12}),
            json!({"id": " "}),
            json!({"id": "https://openalex.org/A1"}),
            json!(["W1"]),
        ]
        .into_iter()
        .map(|value| work(value).unwrap_err())
        .collect();
        assert_eq!(
            reasons,
            [
                "record has no `id` field",
                "record's `id` field is null",
                "record's `id` field is not a string: `12`",
                "record has an empty `id` field",
                "`id` `https://openalex.org/A1` is not an openalex work id",
                "record is an array, not a json object",
            ]
        );
    }

    #[test]
    fn the_whole_object_is_kept_as_data() {
        let value = json!({"id": "https://openalex.org/W1", "title": "T", "extra": {"a": [1]}});
        let record = work(value.clone()).unwrap();
        assert_eq!(record.source, "openalex");
        assert_eq!(record.source_id, "W1");
        assert_eq!(record.entity_type, "work");
        assert_eq!(record.data, value);
    }

    #[test]
    fn an_api_page_yields_each_result() {
        let page = json!({"meta": {"count": 2}, "results": [{"id": "W1"}, {"title": "no id"}]});
        let Extracted::List(records) = extract(page) else {
            panic!("a page is a list of records");
        };
        assert_eq!(records[0].as_ref().unwrap().source_id, "W1");
        assert_eq!(records[1], Err("record has no `id` field".to_string()));
    }
}
