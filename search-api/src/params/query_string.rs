//! The GET form of a request: a query string turned into the JSON object the POST body would
//! hold, so both forms go through the same decoding and validation.
//!
//! As in Meilisearch's GET routes, lists are comma-separated (`attributesToRetrieve=title,year`),
//! booleans and numbers are written as text, and `filter` is an expression, or the array form
//! written as JSON (`filter=["year = 2020", ["a = 1", "a = 2"]]`).

use serde_json::{Map, Number, Value};

use crate::error::{ApiError, Code, Result};

/// How the text of one query-string parameter becomes JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GetValueKind {
    /// Kept as a string.
    Text,
    /// Split at commas into an array of trimmed, non-empty strings.
    List,
    /// `true` or `false`.
    Boolean,
    /// An integer or a decimal number.
    Number,
    /// An expression string, or a JSON array of expressions.
    Filter,
}

/// Returns the JSON object of a query string; `kinds` says how each parameter is read.
/// Parameters not in `kinds` are kept as strings, for the model to refuse by name; a value
/// that does not read as its kind is kept as a string, for the model to refuse with the
/// parameter's own code.
///
/// # Errors
///
/// `bad_request` when a parameter is given twice.
pub(crate) fn query_string_to_json(
    query_string: &str,
    kinds: &[(&str, GetValueKind)],
) -> Result<Value> {
    let mut object = Map::new();
    for (name, text) in form_urlencoded::parse(query_string.as_bytes()) {
        let kind = kinds
            .iter()
            .find(|(known, _)| *known == name)
            .map_or(GetValueKind::Text, |&(_, kind)| kind);
        let value = value_of(&text, kind);
        if object.insert(name.to_string(), value).is_some() {
            return Err(ApiError::new(
                Code::BadRequest,
                format!("parameter `{name}` is given more than once; give it once"),
            ));
        }
    }
    Ok(Value::Object(object))
}

fn value_of(text: &str, kind: GetValueKind) -> Value {
    match kind {
        GetValueKind::Text => Value::String(text.to_owned()),
        GetValueKind::List => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_owned()))
                .collect(),
        ),
        GetValueKind::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.to_owned()),
        },
        GetValueKind::Number => number_of(text).unwrap_or_else(|| Value::String(text.to_owned())),
        GetValueKind::Filter => match serde_json::from_str::<Value>(text) {
            Ok(array @ Value::Array(_)) => array,
            _ => Value::String(text.to_owned()),
        },
    }
}

fn number_of(text: &str) -> Option<Value> {
    if let Ok(unsigned) = text.parse::<u64>() {
        return Some(Value::Number(unsigned.into()));
    }
    if let Ok(signed) = text.parse::<i64>() {
        return Some(Value::Number(signed.into()));
    }
    let float = text.parse::<f64>().ok()?;
    Number::from_f64(float).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const KINDS: &[(&str, GetValueKind)] = &[
        ("q", GetValueKind::Text),
        ("limit", GetValueKind::Number),
        ("attributesToRetrieve", GetValueKind::List),
        ("showRankingScore", GetValueKind::Boolean),
        ("filter", GetValueKind::Filter),
    ];

    #[test]
    fn kinds_become_json_types() {
        let value = query_string_to_json(
            "q=M%C3%BCller+J&limit=5&attributesToRetrieve=title,%20year,&showRankingScore=true\
             &filter=year%20%3D%202020",
            KINDS,
        )
        .unwrap();
        assert_eq!(
            value,
            json!({
                "q": "Müller J",
                "limit": 5,
                "attributesToRetrieve": ["title", "year"],
                "showRankingScore": true,
                "filter": "year = 2020",
            })
        );
    }

    #[test]
    fn values_that_do_not_read_stay_strings() {
        let value = query_string_to_json("limit=-1&showRankingScore=yes&other=1", KINDS).unwrap();
        assert_eq!(
            value,
            json!({"limit": -1, "showRankingScore": "yes", "other": "1"})
        );
        let value = query_string_to_json("limit=ten", KINDS).unwrap();
        assert_eq!(value, json!({"limit": "ten"}));
    }

    #[test]
    fn filter_array_form_is_json() {
        let value = query_string_to_json(r#"filter=["a = 1", ["b = 2", "c = 3"]]"#, KINDS).unwrap();
        assert_eq!(value, json!({"filter": ["a = 1", ["b = 2", "c = 3"]]}));
    }

    #[test]
    fn repeated_parameter_is_refused() {
        let error = query_string_to_json("limit=1&limit=2", KINDS).unwrap_err();
        assert_eq!(error.code(), Code::BadRequest);
        assert!(error.public_message().contains("`limit`"));
    }
}
