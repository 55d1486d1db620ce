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
/// `bad_request` when a parameter is given twice; the parameter's code (`code_of`) when
/// its value, percent-decoded, is not UTF-8, rather than searching for replacement
/// characters the client never sent.
pub(crate) fn query_string_to_json(
    query_string: &str,
    kinds: &[(&str, GetValueKind)],
    code_of: fn(&str) -> Code,
) -> Result<Value> {
    let mut object = Map::new();
    for (name, text) in form_urlencoded::parse(query_string.as_bytes()) {
        if text.contains(char::REPLACEMENT_CHARACTER) {
            check_utf8(query_string, &name, code_of)?;
        }
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

/// Fails when a value of the parameter `name` in `query_string` is not UTF-8 once
/// percent-decoded; the lossy decoding replaced its invalid bytes.
fn check_utf8(query_string: &str, name: &str, code_of: fn(&str) -> Code) -> Result<()> {
    for pair in query_string.split('&') {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded_name: String = form_urlencoded::parse(raw_name.as_bytes())
            .map(|(decoded, _)| decoded.into_owned())
            .collect();
        if decoded_name != name {
            continue;
        }
        if String::from_utf8(percent_decoded(raw_value)).is_err() {
            return Err(ApiError::new(
                code_of(name),
                format!(
                    "invalid value for `{name}`: the percent-decoded query string is not \
                     valid UTF-8; encode the value as UTF-8"
                ),
            ));
        }
    }
    Ok(())
}

/// Returns the bytes of a query-string value: `+` as a space, `%XY` as the byte `XY`.
fn percent_decoded(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .filter(|_| bytes[index] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[index], hex) {
            (_, Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (b'+', None) => {
                decoded.push(b' ');
                index += 1;
            }
            (byte, None) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    decoded
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

    fn code_of(name: &str) -> Code {
        match name {
            "q" => Code::InvalidSearchQ,
            _ => Code::BadRequest,
        }
    }

    #[test]
    fn invalid_utf8_is_refused_with_the_parameter_code() {
        let error = query_string_to_json("limit=2&q=%FF%FE", KINDS, code_of).unwrap_err();
        assert_eq!(error.code(), Code::InvalidSearchQ);
        assert!(error.public_message().contains("`q`"));
        let value = query_string_to_json("q=%EF%BF%BD+a", KINDS, code_of).unwrap();
        assert_eq!(value, json!({"q": "\u{fffd} a"}));
    }

    #[test]
    fn kinds_become_json_types() {
        let value = query_string_to_json(
            "q=M%C3%BCller+J&limit=5&attributesToRetrieve=title,%20year,&showRankingScore=true\
             &filter=year%20%3D%202020",
            KINDS,
            code_of,
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
        let value =
            query_string_to_json("limit=-1&showRankingScore=yes&other=1", KINDS, code_of).unwrap();
        assert_eq!(
            value,
            json!({"limit": -1, "showRankingScore": "yes", "other": "1"})
        );
        let value = query_string_to_json("limit=ten", KINDS, code_of).unwrap();
        assert_eq!(value, json!({"limit": "ten"}));
    }

    #[test]
    fn filter_array_form_is_json() {
        let value = query_string_to_json(r#"filter=["a = 1", ["b = 2", "c = 3"]]"#, KINDS, code_of)
            .unwrap();
        assert_eq!(value, json!({"filter": ["a = 1", ["b = 2", "c = 3"]]}));
    }

    #[test]
    fn repeated_parameter_is_refused() {
        let error = query_string_to_json("limit=1&limit=2", KINDS, code_of).unwrap_err();
        assert_eq!(error.code(), Code::BadRequest);
        assert!(error.public_message().contains("`limit`"));
    }
}
