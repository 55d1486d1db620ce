//! The `filter` parameter as sent: one expression, or Meilisearch's array form, where the
//! outer array is an AND and an inner array an OR. Both become one [`FilterExpr`].

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::ast::FilterExpr;
use super::error::FilterError;
use super::parser::parse_filter;
use crate::limits::MAX_FILTER_NUM_BYTES;
use crate::params::describe_json;

/// The `filter` parameter before parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FilterInput {
    /// `"year > 2000 AND source = hal"`
    Expression(String),
    /// `["year > 2000", ["source = hal", "source = crossref"]]`: every item must match.
    All(Vec<FilterArrayItem>),
}

/// One item of the array form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FilterArrayItem {
    /// An expression that must match.
    Expression(String),
    /// Expressions of which at least one must match.
    AnyOf(Vec<String>),
}

const EXPECTED_SHAPE: &str = "expected a string, or an array of strings and arrays of strings";

impl FilterInput {
    /// Returns the filter of a JSON value; `null` is no filter.
    ///
    /// # Errors
    ///
    /// Fails with a message naming the expected shape when `value` has another one.
    pub fn from_json(value: &Value) -> Result<Option<FilterInput>, String> {
        let items = match value {
            Value::Null => return Ok(None),
            Value::String(expression) => {
                return Ok(Some(FilterInput::Expression(expression.clone())))
            }
            Value::Array(items) => items,
            other => return Err(format!("{EXPECTED_SHAPE}, found {}", describe_json(other))),
        };
        let mut all = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            all.push(match item {
                Value::String(expression) => FilterArrayItem::Expression(expression.clone()),
                Value::Array(inner) => FilterArrayItem::AnyOf(strings_of(inner, index)?),
                other => {
                    return Err(format!(
                        "{EXPECTED_SHAPE}, found {} at index `{index}`",
                        describe_json(other)
                    ))
                }
            });
        }
        Ok(Some(FilterInput::All(all)))
    }

    /// Returns the total length in bytes of the expressions.
    pub fn num_bytes(&self) -> usize {
        match self {
            FilterInput::Expression(expression) => expression.len(),
            FilterInput::All(items) => items
                .iter()
                .map(|item| match item {
                    FilterArrayItem::Expression(expression) => expression.len(),
                    FilterArrayItem::AnyOf(expressions) => {
                        expressions.iter().map(String::len).sum()
                    }
                })
                .sum(),
        }
    }

    /// Returns the syntax tree of the whole filter, or `None` when every expression is blank.
    /// `parameter` names the parameter in messages, such as `filter`.
    ///
    /// # Errors
    ///
    /// Fails when the filter is longer than [`MAX_FILTER_NUM_BYTES`] or an expression does
    /// not parse; an error in the array form names the item, such as `filter[1][0]`.
    pub fn parse(&self, parameter: &str) -> Result<Option<FilterExpr>, FilterError> {
        let num_bytes = self.num_bytes();
        if num_bytes > MAX_FILTER_NUM_BYTES {
            return Err(FilterError::new(format!(
                "`{parameter}` is `{num_bytes}` bytes long; the limit is \
                 `{MAX_FILTER_NUM_BYTES}` bytes"
            )));
        }
        let items = match self {
            FilterInput::Expression(expression) => return parse_filter(expression),
            FilterInput::All(items) => items,
        };

        let mut conjuncts = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let parsed = match item {
                FilterArrayItem::Expression(expression) => parse_filter(expression)
                    .map_err(|error| error.in_location(&format!("{parameter}[{index}]")))?,
                FilterArrayItem::AnyOf(expressions) => {
                    parse_any_of(expressions, &format!("{parameter}[{index}]"))?
                }
            };
            conjuncts.extend(parsed);
        }
        Ok(combine(conjuncts, FilterExpr::And))
    }
}

fn strings_of(items: &[Value], outer_index: usize) -> Result<Vec<String>, String> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(expression) => Ok(expression.clone()),
            other => Err(format!(
                "{EXPECTED_SHAPE}, found {} at index `{outer_index}.{index}`{}",
                describe_json(other),
                if other.is_array() {
                    "; arrays nest only once"
                } else {
                    ""
                }
            )),
        })
        .collect()
}

fn parse_any_of(expressions: &[String], location: &str) -> Result<Option<FilterExpr>, FilterError> {
    let mut disjuncts = Vec::new();
    for (index, expression) in expressions.iter().enumerate() {
        let parsed = parse_filter(expression)
            .map_err(|error| error.in_location(&format!("{location}[{index}]")))?;
        disjuncts.extend(parsed);
    }
    Ok(combine(disjuncts, FilterExpr::Or))
}

/// Returns nothing for no expressions, the expression itself for one, `join` for several.
fn combine(
    mut expressions: Vec<FilterExpr>,
    join: fn(Vec<FilterExpr>) -> FilterExpr,
) -> Option<FilterExpr> {
    match expressions.len() {
        0 => None,
        1 => expressions.pop(),
        _ => Some(join(expressions)),
    }
}

impl<'de> Deserialize<'de> for FilterInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match FilterInput::from_json(&value) {
            Ok(Some(input)) => Ok(input),
            Ok(None) => Err(serde::de::Error::custom(format!(
                "{EXPECTED_SHAPE}, found `null`"
            ))),
            Err(message) => Err(serde::de::Error::custom(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse_json(value: &Value) -> Result<Option<FilterExpr>, FilterError> {
        FilterInput::from_json(value)
            .unwrap()
            .unwrap()
            .parse("filter")
    }

    fn parse_text(input: &str) -> FilterExpr {
        parse_filter(input).unwrap().unwrap()
    }

    #[test]
    fn array_form_is_an_and_of_ors() {
        let from_array = parse_json(&json!([
            "year > 2000",
            ["source = hal", "source = crossref"]
        ]))
        .unwrap()
        .unwrap();
        let expected = FilterExpr::And(vec![
            parse_text("year > 2000"),
            parse_text("source = hal OR source = crossref"),
        ]);
        assert_eq!(from_array, expected);
    }

    #[test]
    fn single_items_and_blank_strings_collapse() {
        assert_eq!(
            parse_json(&json!([["year = 1"]])).unwrap(),
            Some(parse_text("year = 1"))
        );
        assert_eq!(parse_json(&json!(["", [" "]])).unwrap(), None);
        assert_eq!(parse_json(&json!([])).unwrap(), None);
    }

    #[test]
    fn errors_name_the_item() {
        let error = parse_json(&json!(["year = 1", ["source = hal", "year ="]])).unwrap_err();
        assert!(
            error
                .message()
                .starts_with("in `filter[1][1]`: was expecting a value after `=`"),
            "{error}"
        );
    }

    #[test]
    fn shapes_other_than_strings_and_arrays_are_refused() {
        for value in [
            json!(5),
            json!({"a": 1}),
            json!([1]),
            json!([["a = 1", ["b = 2"]]]),
        ] {
            assert!(
                FilterInput::from_json(&value).is_err(),
                "{value} should be refused"
            );
        }
        assert_eq!(FilterInput::from_json(&json!(null)).unwrap(), None);
        // Only an array nested too deep is told that arrays nest once.
        let message = |value: Value| FilterInput::from_json(&value).unwrap_err();
        assert!(message(json!([["a = 1", ["b = 2"]]])).ends_with("arrays nest only once"));
        let null_inside = message(json!([[null]]));
        assert!(null_inside.contains("at index `0.0`"), "{null_inside}");
        assert!(!null_inside.contains("nest"), "{null_inside}");
    }

    #[test]
    fn length_is_limited_across_items() {
        let half = "a".repeat(MAX_FILTER_NUM_BYTES / 2 + 1);
        let error = parse_json(&json!([half.clone(), [half]])).unwrap_err();
        assert!(error.message().contains("bytes long"), "{error}");
    }
}
