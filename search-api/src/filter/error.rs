//! The error of parsing and checking a filter, with the column it points at. The caller
//! turns it into an [`ApiError`](crate::ApiError) with the code of its route.

/// Longest excerpt of the input quoted in a message, in characters.
const MAX_EXCERPT_NUM_CHARS: usize = 40;

/// A filter that does not parse or names an attribute that cannot be filtered on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    message: String,
    column: Option<usize>,
}

impl FilterError {
    /// Returns an error with no position, for problems of the whole filter.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        FilterError {
            message: message.into(),
            column: None,
        }
    }

    /// Returns an error pointing at byte `offset` of `input`: "`what`, at column N".
    pub(crate) fn at(input: &str, offset: usize, what: &str) -> Self {
        let column = column_of(input, offset);
        FilterError {
            message: format!("{what}, at column {column}"),
            column: Some(column),
        }
    }

    /// Returns "was expecting `expectation` at `excerpt`, column N; found `found`", where the
    /// excerpt is the input from `context_start` (the start of the current condition) up to
    /// byte `offset`, where the error is.
    pub(crate) fn expected(
        input: &str,
        context_start: usize,
        offset: usize,
        expectation: &str,
        found: &str,
    ) -> Self {
        let column = column_of(input, offset);
        let excerpt = excerpt(&input[context_start.min(offset)..offset]);
        let message = if excerpt.trim().is_empty() {
            format!("was expecting {expectation} at column {column}; found {found}")
        } else {
            format!("was expecting {expectation} at `{excerpt}`, column {column}; found {found}")
        };
        FilterError {
            message,
            column: Some(column),
        }
    }

    /// Returns the same error located inside a larger parameter, such as `filter[1][0]`.
    pub(crate) fn in_location(self, location: &str) -> Self {
        FilterError {
            message: format!("in `{location}`: {}", self.message),
            column: self.column,
        }
    }

    /// Returns the 1-based column, in characters, the error points at, if it has one.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// Returns the message, lowercase, with offending text in backticks.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Returns the 1-based character column of byte `offset` in `input`.
fn column_of(input: &str, offset: usize) -> usize {
    input[..offset].chars().count() + 1
}

/// Returns `text`, keeping only its last characters if it is long.
pub(crate) fn excerpt(text: &str) -> String {
    let num_chars = text.chars().count();
    if num_chars <= MAX_EXCERPT_NUM_CHARS {
        return text.to_owned();
    }
    let kept: String = text
        .chars()
        .skip(num_chars - MAX_EXCERPT_NUM_CHARS)
        .collect();
    format!("…{kept}")
}

/// Returns `text` for a message, keeping only its first characters if it is long.
pub(crate) fn excerpt_head(text: &str) -> String {
    if text.chars().count() <= MAX_EXCERPT_NUM_CHARS {
        return text.to_owned();
    }
    let kept: String = text.chars().take(MAX_EXCERPT_NUM_CHARS).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_quotes_the_condition_so_far() {
        let error = FilterError::expected("year = ", 0, 7, "a value after `=`", "the end");
        assert_eq!(
            error.message(),
            "was expecting a value after `=` at `year = `, column 8; found the end"
        );
        assert_eq!(error.column(), Some(8));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let error = FilterError::at("é = ", 4, "x");
        assert_eq!(error.column(), Some(4));
    }

    #[test]
    fn long_excerpts_keep_their_end() {
        let long = "a".repeat(100) + "END";
        assert!(excerpt(&long).starts_with('…'));
        assert!(excerpt(&long).ends_with("END"));
        assert!(excerpt_head(&long).ends_with('…'));
    }
}
