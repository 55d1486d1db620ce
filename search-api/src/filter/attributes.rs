//! Checks that a filter only names attributes the index can filter on.

use super::ast::FilterExpr;
use super::error::FilterError;
use crate::suggest::{did_you_mean, name_list};

/// Returns whether `attribute` is one of `allowed`, or a field nested inside one of them
/// (`author.orcid` when `author` is allowed), as Meilisearch treats nested objects.
pub fn attribute_is_allowed<S: AsRef<str>>(attribute: &str, allowed: &[S]) -> bool {
    allowed.iter().any(|allowed| {
        let allowed = allowed.as_ref();
        allowed == "*"
            || attribute == allowed
            || attribute
                .strip_prefix(allowed)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// Returns the error for an attribute that is not in `allowed`, naming what is: `what` is
/// the capability, such as `filterable`.
pub(crate) fn not_allowed_message<S: AsRef<str>>(
    attribute: &str,
    what: &str,
    allowed: &[S],
) -> String {
    if allowed.is_empty() {
        return format!(
            "attribute `{attribute}` is not {what}; this index has no {what} attributes"
        );
    }
    format!(
        "attribute `{attribute}` is not {what}; {what} attributes are {}{}",
        name_list(allowed),
        did_you_mean(attribute, allowed)
    )
}

/// Checks every condition of `filter` against the filterable attributes.
///
/// # Errors
///
/// Fails on the first attribute, left to right, that is not filterable.
pub fn check_filterable<S: AsRef<str>>(
    filter: &FilterExpr,
    filterable_attributes: &[S],
) -> Result<(), FilterError> {
    let mut first_refused = None;
    filter.for_each_condition(&mut |condition| {
        if first_refused.is_none()
            && !attribute_is_allowed(&condition.attribute, filterable_attributes)
        {
            first_refused = Some(condition.attribute.clone());
        }
    });
    match first_refused {
        None => Ok(()),
        Some(attribute) => Err(FilterError::new(not_allowed_message(
            &attribute,
            "filterable",
            filterable_attributes,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_filter;
    use super::*;

    const FILTERABLE: &[&str] = &["year", "source", "author"];

    fn check(input: &str) -> Result<(), FilterError> {
        check_filterable(&parse_filter(input).unwrap().unwrap(), FILTERABLE)
    }

    #[test]
    fn accepts_filterable_and_nested_attributes() {
        check("year > 2000 AND (source = hal OR author.orcid EXISTS)").unwrap();
    }

    #[test]
    fn names_the_refused_attribute_and_the_allowed_ones() {
        let error = check("source = hal AND NOT yeer = 2020").unwrap_err();
        assert_eq!(
            error.message(),
            "attribute `yeer` is not filterable; filterable attributes are `year`, `source`, \
             `author`; did you mean `year`?"
        );
    }

    #[test]
    fn prefix_without_dot_is_not_nested() {
        assert!(check("authors = x").is_err());
    }

    #[test]
    fn index_without_filterable_attributes() {
        let filter = parse_filter("year = 1").unwrap().unwrap();
        let error = check_filterable::<&str>(&filter, &[]).unwrap_err();
        assert!(
            error.message().contains("no filterable attributes"),
            "{error}"
        );
    }
}
