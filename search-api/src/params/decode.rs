//! Reading a request model from JSON with errors Meilisearch clients expect: an unknown
//! parameter is `bad_request` and named, a value of the wrong type gets the code of its
//! parameter (`invalid_search_limit`) and a message naming both.
//!
//! The field functions here are used with `#[serde(deserialize_with)]`; each reads any JSON
//! value so that the message says what was found, not what serde expected.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::describe_json;
use crate::error::{ApiError, Code, Result};
use crate::suggest::{did_you_mean, name_list};

/// The parameters of one request model and the code of each.
#[derive(Debug)]
pub(crate) struct ParameterTable {
    /// What the parameters are called in messages, such as `search parameter`.
    pub kind: &'static str,
    /// Every accepted name, as written in JSON.
    pub names: &'static [&'static str],
    /// The code of an invalid value of a parameter.
    pub code_of: fn(&str) -> Code,
}

/// Returns the model `T` read from a JSON object.
///
/// # Errors
///
/// `bad_request` when `value` is not an object or has a key that is not in `table`; the
/// parameter's own code when a value has the wrong type or shape.
pub(crate) fn from_json_value<T: DeserializeOwned>(
    value: Value,
    table: &ParameterTable,
) -> Result<T> {
    let Value::Object(object) = &value else {
        return Err(ApiError::new(
            Code::BadRequest,
            format!(
                "expected a JSON object of {}s, found {}",
                table.kind,
                describe_json(&value)
            ),
        ));
    };
    if let Some(unknown) = object
        .keys()
        .find(|key| !table.names.contains(&key.as_str()))
    {
        return Err(unknown_parameter(unknown, table));
    }

    serde_path_to_error::deserialize(value).map_err(|error| {
        let parameter = match error.path().iter().next() {
            Some(serde_path_to_error::Segment::Map { key }) => key.clone(),
            _ => String::new(),
        };
        let code = (table.code_of)(&parameter);
        ApiError::new(
            code,
            format!("invalid value for `{}`: {}", error.path(), error.inner()),
        )
    })
}

/// Returns the `bad_request` error for a parameter the model does not have.
pub(crate) fn unknown_parameter(name: &str, table: &ParameterTable) -> ApiError {
    ApiError::new(
        Code::BadRequest,
        format!(
            "unknown {} `{name}`; expected one of {}{}",
            table.kind,
            name_list(table.names),
            did_you_mean(name, table.names)
        ),
    )
}

fn invalid<E: serde::de::Error>(expected: &str, found: &Value) -> E {
    E::custom(format!(
        "expected {expected}, found {}",
        describe_json(found)
    ))
}

/// Reads an optional string.
pub(crate) fn string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(invalid("a string", &other)),
    }
}

/// Reads a string that may be absent but not `null`, for a required parameter: absent is
/// `None`, refused later as missing; `null` is a value of the wrong type, as in Meilisearch.
pub(crate) fn present_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(text) => Ok(Some(text)),
        other => Err(invalid("a string", &other)),
    }
}

/// Reads an optional non-negative integer (Meilisearch's "positive integer").
pub(crate) fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) if number.as_u64().is_some() => {
            let value = number.as_u64().unwrap_or_default();
            usize::try_from(value)
                .map(Some)
                .map_err(|_| invalid("a positive integer", &Value::Number(number)))
        }
        Some(other) => Err(invalid("a positive integer", &other)),
    }
}

/// Reads an optional non-negative integer as `u64`.
pub(crate) fn count_u64<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    Ok(count(deserializer)?.map(|value| value as u64))
}

/// Reads an optional boolean.
pub(crate) fn boolean<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(flag)),
        Some(other) => Err(invalid("a boolean", &other)),
    }
}

/// Reads an optional number.
pub(crate) fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => Ok(number.as_f64()),
        Some(other) => Err(invalid("a number", &other)),
    }
}

/// Reads an optional array of strings.
pub(crate) fn string_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                other => Err(invalid("an array of strings", &other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(invalid("an array of strings", &other)),
    }
}

/// Reads an optional value of a type parsed from a string, such as `matchingStrategy`.
pub(crate) fn parsed<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr<Err = String>,
{
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => text.parse().map(Some).map_err(D::Error::custom),
        Some(other) => Err(invalid("a string", &other)),
    }
}

/// Reads an optional value kept as raw JSON, refused later with a specific message.
pub(crate) fn raw<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(value) => Ok(Some(value)),
    }
}
