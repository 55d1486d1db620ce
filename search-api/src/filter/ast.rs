//! The filter syntax tree, and its printing back to the expression language: printing then
//! parsing gives the same tree, which the property tests check.

use std::fmt;

/// A parsed filter: conditions combined with `NOT`, `AND` and `OR`.
///
/// The parser builds `And` and `Or` with at least two children and keeps explicit
/// parentheses as nesting, so `a AND (b AND c)` stays two levels deep.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterExpr {
    /// One `attribute OPERATOR value` condition.
    Condition(Condition),
    /// Documents that do not match the inner expression, including those without the field.
    Not(Box<FilterExpr>),
    /// Documents that match every child.
    And(Vec<FilterExpr>),
    /// Documents that match at least one child.
    Or(Vec<FilterExpr>),
}

/// One condition on one attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The attribute, possibly a dotted path into nested objects (`author.orcid`).
    pub attribute: String,
    /// What the attribute must satisfy.
    pub operator: ConditionOperator,
}

/// What a condition asks of its attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionOperator {
    /// `=`, `!=`, `>`, `>=`, `<`, `<=` against one value.
    Compare(Comparison, FilterValue),
    /// `low TO high`: both bounds included.
    Range {
        /// The lower bound.
        low: FilterValue,
        /// The upper bound.
        high: FilterValue,
    },
    /// `IN [a, b]`: equal to one of the values.
    In(Vec<FilterValue>),
    /// `NOT IN [a, b]`: equal to none of the values.
    NotIn(Vec<FilterValue>),
    /// `EXISTS`: the field is present, whatever its value.
    Exists,
    /// `NOT EXISTS`.
    NotExists,
    /// `IS NULL`: the field is present and `null`.
    IsNull,
    /// `IS NOT NULL`.
    IsNotNull,
    /// `IS EMPTY`: the field is `""`, `[]` or `{}`.
    IsEmpty,
    /// `IS NOT EMPTY`.
    IsNotEmpty,
    /// `CONTAINS value`: a string value holding the text, without regard to case
    /// (Meilisearch's experimental operator).
    Contains(FilterValue),
    /// `NOT CONTAINS value`.
    NotContains(FilterValue),
    /// `STARTS WITH value`: a string value starting with the text, without regard to case.
    StartsWith(FilterValue),
    /// `NOT STARTS WITH value`.
    NotStartsWith(FilterValue),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `>`
    GreaterThan,
    /// `>=`
    GreaterThanOrEqual,
    /// `<`
    LessThan,
    /// `<=`
    LessThanOrEqual,
}

impl Comparison {
    /// Returns the operator as written in a filter.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Equal => "=",
            Comparison::NotEqual => "!=",
            Comparison::GreaterThan => ">",
            Comparison::GreaterThanOrEqual => ">=",
            Comparison::LessThan => "<",
            Comparison::LessThanOrEqual => "<=",
        }
    }
}

/// A value in a condition: an unquoted token that reads as a finite decimal number is a
/// number, anything else (and anything quoted) is a string.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    /// A finite number, such as `2020` or `-1.5e3`.
    Number(f64),
    /// Text, such as `openalex` or `'Jordan Peele'`.
    String(String),
}

/// Words with a meaning in the filter language; as attributes or values they must be quoted.
pub(crate) const KEYWORDS: &[&str] = &[
    "AND", "OR", "NOT", "TO", "IN", "EXISTS", "IS", "NULL", "EMPTY", "CONTAINS", "STARTS",
];

/// Returns whether `word` is a keyword, compared without regard to case.
pub(crate) fn is_keyword(word: &str) -> bool {
    KEYWORDS
        .iter()
        .any(|keyword| keyword.eq_ignore_ascii_case(word))
}

/// Returns whether `c` ends an unquoted word.
pub(crate) fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ',' | '=' | '!' | '<' | '>')
}

/// Returns whether an unquoted `word` has the shape of a decimal number:
/// `-?digits(.digits)?([eE][+-]?digits)?`.
pub(crate) fn has_number_shape(word: &str) -> bool {
    fn skip_digits(bytes: &[u8], mut index: usize) -> (usize, bool) {
        let start = index;
        while index < bytes.len() && bytes[index].is_ascii_digit() {
            index += 1;
        }
        (index, index > start)
    }

    let bytes = word.as_bytes();
    let mut index = usize::from(bytes.first() == Some(&b'-'));
    let (after_integer, has_integer) = skip_digits(bytes, index);
    if !has_integer {
        return false;
    }
    index = after_integer;
    if bytes.get(index) == Some(&b'.') {
        let (after_fraction, has_fraction) = skip_digits(bytes, index + 1);
        if !has_fraction {
            return false;
        }
        index = after_fraction;
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        index += 1;
        if matches!(bytes.get(index), Some(b'+' | b'-')) {
            index += 1;
        }
        let (after_exponent, has_exponent) = skip_digits(bytes, index);
        if !has_exponent {
            return false;
        }
        index = after_exponent;
    }
    index == bytes.len()
}

/// Returns whether text must be quoted to read back as the same string.
fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text.starts_with(['\'', '"'])
        || text.contains(|c: char| is_delimiter(c) || c == '\\')
        || is_keyword(text)
        || has_number_shape(text)
}

/// Writes text as an attribute or string value, quoted only where needed.
fn write_text(formatter: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    if !needs_quotes(text) {
        return formatter.write_str(text);
    }
    formatter.write_str("\"")?;
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            formatter.write_str("\\")?;
        }
        write!(formatter, "{c}")?;
    }
    formatter.write_str("\"")
}

impl fmt::Display for FilterValue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `f64`'s `Display` prints the shortest digits that read back as the same number.
            FilterValue::Number(number) => write!(formatter, "{number}"),
            FilterValue::String(text) => write_text(formatter, text),
        }
    }
}

fn write_list(formatter: &mut fmt::Formatter<'_>, values: &[FilterValue]) -> fmt::Result {
    formatter.write_str("[")?;
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            formatter.write_str(", ")?;
        }
        write!(formatter, "{value}")?;
    }
    formatter.write_str("]")
}

impl fmt::Display for Condition {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_text(formatter, &self.attribute)?;
        match &self.operator {
            ConditionOperator::Compare(comparison, value) => {
                write!(formatter, " {} {value}", comparison.as_str())
            }
            ConditionOperator::Range { low, high } => write!(formatter, " {low} TO {high}"),
            ConditionOperator::In(values) => {
                formatter.write_str(" IN ")?;
                write_list(formatter, values)
            }
            ConditionOperator::NotIn(values) => {
                formatter.write_str(" NOT IN ")?;
                write_list(formatter, values)
            }
            ConditionOperator::Exists => formatter.write_str(" EXISTS"),
            ConditionOperator::NotExists => formatter.write_str(" NOT EXISTS"),
            ConditionOperator::IsNull => formatter.write_str(" IS NULL"),
            ConditionOperator::IsNotNull => formatter.write_str(" IS NOT NULL"),
            ConditionOperator::IsEmpty => formatter.write_str(" IS EMPTY"),
            ConditionOperator::IsNotEmpty => formatter.write_str(" IS NOT EMPTY"),
            ConditionOperator::Contains(value) => write!(formatter, " CONTAINS {value}"),
            ConditionOperator::NotContains(value) => write!(formatter, " NOT CONTAINS {value}"),
            ConditionOperator::StartsWith(value) => write!(formatter, " STARTS WITH {value}"),
            ConditionOperator::NotStartsWith(value) => {
                write!(formatter, " NOT STARTS WITH {value}")
            }
        }
    }
}

impl FilterExpr {
    /// Writes a child of `NOT`, `AND` or `OR`, in parentheses where it has to be to parse
    /// back as the same tree: every `OR`, and an `AND` except directly under an `OR`.
    fn write_child(&self, formatter: &mut fmt::Formatter<'_>, parent_is_or: bool) -> fmt::Result {
        let needs_parentheses = match self {
            FilterExpr::Or(_) => true,
            FilterExpr::And(_) => !parent_is_or,
            FilterExpr::Condition(_) | FilterExpr::Not(_) => false,
        };
        if needs_parentheses {
            write!(formatter, "({self})")
        } else {
            write!(formatter, "{self}")
        }
    }

    fn write_joined(
        formatter: &mut fmt::Formatter<'_>,
        children: &[FilterExpr],
        keyword: &str,
    ) -> fmt::Result {
        let parent_is_or = keyword == "OR";
        for (index, child) in children.iter().enumerate() {
            if index > 0 {
                write!(formatter, " {keyword} ")?;
            }
            child.write_child(formatter, parent_is_or)?;
        }
        Ok(())
    }

    /// Returns the number of nesting levels: 1 for a condition.
    pub fn depth(&self) -> usize {
        match self {
            FilterExpr::Condition(_) => 1,
            FilterExpr::Not(inner) => 1 + inner.depth(),
            FilterExpr::And(children) | FilterExpr::Or(children) => {
                1 + children.iter().map(FilterExpr::depth).max().unwrap_or(0)
            }
        }
    }

    /// Calls `visit` on every condition, left to right.
    pub fn for_each_condition<'a>(&'a self, visit: &mut impl FnMut(&'a Condition)) {
        match self {
            FilterExpr::Condition(condition) => visit(condition),
            FilterExpr::Not(inner) => inner.for_each_condition(visit),
            FilterExpr::And(children) | FilterExpr::Or(children) => {
                for child in children {
                    child.for_each_condition(visit);
                }
            }
        }
    }
}

impl fmt::Display for FilterExpr {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterExpr::Condition(condition) => write!(formatter, "{condition}"),
            FilterExpr::Not(inner) => {
                formatter.write_str("NOT ")?;
                inner.write_child(formatter, false)
            }
            FilterExpr::And(children) => FilterExpr::write_joined(formatter, children, "AND"),
            FilterExpr::Or(children) => FilterExpr::write_joined(formatter, children, "OR"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn equal(attribute: &str, value: FilterValue) -> FilterExpr {
        FilterExpr::Condition(Condition {
            attribute: attribute.to_owned(),
            operator: ConditionOperator::Compare(Comparison::Equal, value),
        })
    }

    #[test]
    fn number_shape() {
        for word in ["0", "2020", "-1", "1.5", "-1.5e3", "2E+10", "007"] {
            assert!(has_number_shape(word), "`{word}` should read as a number");
        }
        for word in [
            "",
            "-",
            "1.",
            ".5",
            "1e",
            "inf",
            "NaN",
            "2020-01-01",
            "1_000",
            "0x10",
        ] {
            assert!(!has_number_shape(word), "`{word}` should read as a string");
        }
    }

    #[test]
    fn strings_are_quoted_only_where_needed() {
        let cases = [
            ("openalex", "source = openalex"),
            ("Jordan Peele", r#"source = "Jordan Peele""#),
            ("2020", r#"source = "2020""#),
            ("and", r#"source = "and""#),
            ("", r#"source = """#),
            (r#"say "hi"\"#, r#"source = "say \"hi\"\\""#),
            ("O'Brien", "source = O'Brien"),
            ("'quoted", r#"source = "'quoted""#),
        ];
        for (text, expected) in cases {
            let printed = equal("source", FilterValue::String(text.to_owned())).to_string();
            assert_eq!(printed, expected, "printing `{text}`");
        }
    }

    #[test]
    fn nesting_is_parenthesized_where_needed() {
        let a = equal("a", FilterValue::Number(1.0));
        let b = equal("b", FilterValue::Number(2.0));
        let c = equal("c", FilterValue::Number(3.0));
        let or = FilterExpr::Or(vec![a.clone(), b.clone()]);
        let and = FilterExpr::And(vec![a, b]);
        assert_eq!(
            FilterExpr::And(vec![or.clone(), c.clone()]).to_string(),
            "(a = 1 OR b = 2) AND c = 3"
        );
        assert_eq!(
            FilterExpr::Or(vec![and.clone(), c.clone()]).to_string(),
            "a = 1 AND b = 2 OR c = 3"
        );
        assert_eq!(
            FilterExpr::And(vec![and, c.clone()]).to_string(),
            "(a = 1 AND b = 2) AND c = 3"
        );
        assert_eq!(
            FilterExpr::Not(Box::new(or)).to_string(),
            "NOT (a = 1 OR b = 2)"
        );
        assert_eq!(FilterExpr::Not(Box::new(c)).to_string(), "NOT c = 3");
    }
}
