//! The `sort` parameter: `attribute:asc` or `attribute:desc` criteria, checked against the
//! index's sortable attributes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Code, Result};
use crate::filter::{attribute_is_allowed, not_allowed_message};
use crate::limits::MAX_SORT_NUM_CRITERIA;

/// The direction of one sort criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest value first.
    Asc,
    /// Largest value first.
    Desc,
}

/// One sort criterion, such as `year:desc`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    /// The sortable attribute.
    pub attribute: String,
    /// The direction.
    pub order: SortOrder,
}

impl fmt::Display for SortCriterion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let order = match self.order {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        };
        write!(formatter, "{}:{order}", self.attribute)
    }
}

impl SortCriterion {
    /// Returns the criterion written as `attribute:asc` or `attribute:desc`; the attribute
    /// is everything before the last colon, so nested paths work.
    ///
    /// # Errors
    ///
    /// `invalid_search_sort` when the text has another shape.
    pub fn parse(text: &str) -> Result<SortCriterion> {
        let invalid = |reason: &str| {
            ApiError::new(
                Code::InvalidSearchSort,
                format!("invalid sort criterion `{text}`: {reason}"),
            )
        };
        if text.starts_with("_geoPoint(") {
            return Err(invalid(
                "`_geoPoint` is not supported: Atlas documents have no `_geo` field",
            ));
        }
        let Some((attribute, order)) = text.rsplit_once(':') else {
            return Err(invalid("expected `attribute:asc` or `attribute:desc`"));
        };
        let order = match order {
            "asc" => SortOrder::Asc,
            "desc" => SortOrder::Desc,
            _ => {
                return Err(invalid(&format!(
                    "expected `asc` or `desc` after `:`, found `{order}`"
                )))
            }
        };
        if attribute.trim().is_empty() {
            return Err(invalid("the attribute before `:` is empty"));
        }
        Ok(SortCriterion {
            attribute: attribute.to_owned(),
            order,
        })
    }
}

/// Returns the criteria of `sort`, each checked against `sortable_attributes`.
///
/// # Errors
///
/// `invalid_search_sort` for a malformed criterion, an attribute that is not sortable (the
/// message lists the sortable ones), a repeated attribute, or more than
/// [`MAX_SORT_NUM_CRITERIA`] criteria.
pub fn parse_sort<S: AsRef<str>>(
    sort: &[String],
    sortable_attributes: &[S],
) -> Result<Vec<SortCriterion>> {
    if sort.len() > MAX_SORT_NUM_CRITERIA {
        return Err(ApiError::new(
            Code::InvalidSearchSort,
            format!(
                "`sort` has `{}` criteria; at most `{MAX_SORT_NUM_CRITERIA}` are allowed",
                sort.len()
            ),
        ));
    }
    let mut criteria: Vec<SortCriterion> = Vec::with_capacity(sort.len());
    for text in sort {
        let criterion = SortCriterion::parse(text)?;
        if !attribute_is_allowed(&criterion.attribute, sortable_attributes) {
            return Err(ApiError::new(
                Code::InvalidSearchSort,
                not_allowed_message(&criterion.attribute, "sortable", sortable_attributes),
            ));
        }
        if criteria
            .iter()
            .any(|earlier| earlier.attribute == criterion.attribute)
        {
            return Err(ApiError::new(
                Code::InvalidSearchSort,
                format!(
                    "attribute `{}` appears twice in `sort`; keep one",
                    criterion.attribute
                ),
            ));
        }
        criteria.push(criterion);
    }
    Ok(criteria)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SORTABLE: &[&str] = &["year", "title", "author"];

    fn sort(texts: &[&str]) -> Result<Vec<SortCriterion>> {
        let texts: Vec<String> = texts.iter().map(|text| (*text).to_owned()).collect();
        parse_sort(&texts, SORTABLE)
    }

    #[test]
    fn parses_criteria_in_order() {
        let criteria = sort(&["year:desc", "title:asc", "author.name:asc"]).unwrap();
        let printed: Vec<String> = criteria.iter().map(ToString::to_string).collect();
        assert_eq!(printed, ["year:desc", "title:asc", "author.name:asc"]);
    }

    #[test]
    fn refusals_have_the_sort_code_and_say_why() {
        let cases = [
            (
                &["year"][..],
                "expected `attribute:asc` or `attribute:desc`",
            ),
            (
                &["year:down"],
                "expected `asc` or `desc` after `:`, found `down`",
            ),
            (&[":asc"], "the attribute before `:` is empty"),
            (
                &["yeer:asc"],
                "attribute `yeer` is not sortable; sortable attributes are `year`",
            ),
            (&["year:asc", "year:desc"], "appears twice"),
            (&["_geoPoint(1,2):asc"], "`_geoPoint` is not supported"),
        ];
        for (texts, expected) in cases {
            let error = sort(texts).unwrap_err();
            assert_eq!(error.code(), Code::InvalidSearchSort);
            assert!(
                error.public_message().contains(expected),
                "{texts:?}: {}",
                error.public_message()
            );
        }
    }

    #[test]
    fn too_many_criteria() {
        let texts: Vec<String> = (0..=MAX_SORT_NUM_CRITERIA)
            .map(|i| format!("a{i}:asc"))
            .collect();
        let error = parse_sort(&texts, &["*"]).unwrap_err();
        assert!(error.public_message().contains("criteria"));
    }
}
