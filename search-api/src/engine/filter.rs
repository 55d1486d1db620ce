//! The filter syntax tree as a tantivy query on one shard: ranges on fast numbers and dates,
//! terms on strings and identifiers, with Meilisearch's semantics for `!=`, `NOT`,
//! `EXISTS`, `IS NULL`, `IS EMPTY`, and its experimental `CONTAINS` and `STARTS WITH`.
//!
//! Meilisearch compares a number with a string that reads as one (`year = "2020"`) as
//! numbers, and compares strings without regard to case; attributes with few values
//! (`source`, `state`) are compared that way by reading their term dictionary, identifiers
//! are folded as they were indexed.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::ops::Bound;

use tantivy::query::{
    EnableScoring, ExistsQuery, Explanation, InvertedIndexRangeQuery, Query, RangeQuery, Scorer,
    TermSetQuery, Weight,
};
use tantivy::schema::Field;
use tantivy::{DocId, Score, Searcher, SegmentReader, Term};

use super::catalog::{Analysis, Attribute, IndexCatalog, ValueKind};
use super::filter_set::{FilterNode, FilterSetQuery, TermFilter};
use crate::error::{ApiError, Code, Result};
use crate::filter::{Comparison, Condition, ConditionOperator, FilterExpr, FilterValue};
use crate::limits::{MAX_FILTER_PATTERN_CONDITIONS, MAX_FILTER_PATTERN_NUM_TERMS};

/// Returns the query matching the documents `expression` selects, for the shard read by
/// `searcher` (values of small-vocabulary attributes are looked up in its dictionaries).
///
/// # Errors
///
/// `invalid_search_filter` for an attribute the index does not have (validation normally
/// refuses it first); an internal error when a term dictionary cannot be read.
pub fn filter_query(
    catalog: &IndexCatalog,
    expression: &FilterExpr,
    searcher: &Searcher,
) -> Result<FilterSetQuery> {
    let compiler = FilterCompiler {
        catalog,
        searcher,
        num_patterns: Cell::new(0),
    };
    Ok(FilterSetQuery::new(compiler.compile(expression)?))
}

struct FilterCompiler<'a> {
    catalog: &'a IndexCatalog,
    searcher: &'a Searcher,
    /// `CONTAINS` and `STARTS WITH` conditions compiled so far.
    num_patterns: Cell<usize>,
}

/// How a `CONTAINS` or `STARTS WITH` condition compares a value with the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    Contains,
    StartsWith,
}

/// A filter value as the attribute compares it.
enum Operand {
    /// A number of an integer attribute, or a date in microseconds.
    Number(f64),
    /// A term of a text attribute.
    Text(String),
    /// A value the attribute can never hold (text compared with a number field).
    Unmatchable,
}

impl FilterCompiler<'_> {
    fn compile(&self, expression: &FilterExpr) -> Result<FilterNode> {
        match expression {
            FilterExpr::Condition(condition) => self.condition(condition),
            FilterExpr::Not(inner) => Ok(self.compile(inner)?.negated()),
            FilterExpr::And(children) => {
                // The bounds on one single-valued number or date combine into one range:
                // `year >= 2010 AND year <= 2012` reads the documents of three years, not
                // those after 2010 and those before 2012.
                let mut ranges: Vec<(&Attribute, Option<IntegerBounds>)> = Vec::new();
                let mut clauses = Vec::new();
                for child in children {
                    match self.numeric_bounds_of(child) {
                        Some((attribute, bounds)) => {
                            match ranges
                                .iter_mut()
                                .find(|(existing, _)| existing.name == attribute.name)
                            {
                                Some((_, existing)) => {
                                    *existing = existing.zip(bounds).map(both_bounds);
                                }
                                None => ranges.push((attribute, bounds)),
                            }
                        }
                        None => clauses.push(self.compile(child)?),
                    }
                }
                for (attribute, bounds) in ranges {
                    clauses.push(match bounds {
                        Some((low, high)) => {
                            numeric_range(attribute, self.catalog.field(attribute.name), low, high)
                        }
                        None => FilterNode::Nothing,
                    });
                }
                Ok(FilterNode::And(clauses))
            }
            FilterExpr::Or(children) => {
                let clauses = children
                    .iter()
                    .map(|child| self.compile(child))
                    .collect::<Result<Vec<_>>>()?;
                Ok(FilterNode::any(clauses))
            }
        }
    }

    fn condition(&self, condition: &Condition) -> Result<FilterNode> {
        let attribute = self
            .catalog
            .attribute(&condition.attribute)
            .ok_or_else(|| {
                ApiError::new(
                    Code::InvalidSearchFilter,
                    format!(
                        "attribute `{}` is not filterable in index `{}`",
                        condition.attribute, self.catalog.kind
                    ),
                )
            })?;
        let field = self.catalog.field(attribute.name);
        match &condition.operator {
            ConditionOperator::Compare(Comparison::Equal, value) => {
                self.equal(attribute, field, value)
            }
            ConditionOperator::Compare(Comparison::NotEqual, value) => {
                Ok(FilterNode::negated(self.equal(attribute, field, value)?))
            }
            ConditionOperator::Compare(comparison, value) => {
                let (low, high) = comparison_bounds(*comparison, value);
                Ok(self.range(attribute, field, low, high))
            }
            ConditionOperator::Range { low, high } => Ok(self.range(
                attribute,
                field,
                Bound::Included(low),
                Bound::Included(high),
            )),
            ConditionOperator::In(values) => self.any_of(attribute, field, values),
            ConditionOperator::NotIn(values) => {
                Ok(FilterNode::negated(self.any_of(attribute, field, values)?))
            }
            ConditionOperator::Exists => Ok(self.exists(attribute, field)),
            ConditionOperator::NotExists => Ok(FilterNode::negated(self.exists(attribute, field))),
            // Documents never hold `null`: an absent single value is left out of the
            // document, an absent list is `[]`.
            ConditionOperator::IsNull => Ok(FilterNode::Nothing),
            ConditionOperator::IsNotNull => Ok(FilterNode::All),
            ConditionOperator::IsEmpty => Ok(self.is_empty(attribute, field)),
            ConditionOperator::IsNotEmpty => {
                Ok(FilterNode::negated(self.is_empty(attribute, field)))
            }
            ConditionOperator::Contains(value) => {
                self.pattern(condition, attribute, field, value, Pattern::Contains)
            }
            ConditionOperator::NotContains(value) => Ok(FilterNode::negated(self.pattern(
                condition,
                attribute,
                field,
                value,
                Pattern::Contains,
            )?)),
            ConditionOperator::StartsWith(value) => {
                self.pattern(condition, attribute, field, value, Pattern::StartsWith)
            }
            ConditionOperator::NotStartsWith(value) => Ok(FilterNode::negated(self.pattern(
                condition,
                attribute,
                field,
                value,
                Pattern::StartsWith,
            )?)),
        }
    }

    /// Returns the documents with a string value of the attribute that contains or starts
    /// with `value`, without regard to case or diacritics: the field's terms are read from
    /// each segment's dictionary (a range of it for a prefix of a folded field, all of it
    /// otherwise) and the matching ones, at most [`MAX_FILTER_PATTERN_NUM_TERMS`], are
    /// searched for. Numbers and dates hold no strings, so never match.
    ///
    /// # Errors
    ///
    /// `invalid_search_filter` when more terms match than the bound or the filter has more
    /// such conditions than [`MAX_FILTER_PATTERN_CONDITIONS`]; an internal error when a
    /// dictionary cannot be read.
    fn pattern(
        &self,
        condition: &Condition,
        attribute: &Attribute,
        field: Field,
        value: &FilterValue,
        pattern: Pattern,
    ) -> Result<FilterNode> {
        self.num_patterns.set(self.num_patterns.get() + 1);
        if self.num_patterns.get() > MAX_FILTER_PATTERN_CONDITIONS {
            return Err(ApiError::new(
                Code::InvalidSearchFilter,
                format!(
                    "the filter has more than `{MAX_FILTER_PATTERN_CONDITIONS}` `CONTAINS` or \
                     `STARTS WITH` conditions, at `{condition}`: each reads all the values of \
                     its attribute; combine them into fewer"
                ),
            ));
        }
        let ValueKind::Text(analysis) = attribute.value else {
            return Ok(FilterNode::Nothing);
        };
        let wanted = analyzers::fold(text_of(attribute, value).trim());
        if wanted.is_empty() {
            return Ok(self.exists(attribute, field));
        }
        // Terms of analysed fields are folded already; raw terms are folded to compare.
        let terms_are_folded = analysis != Analysis::Raw;
        let matches = |term: &str| {
            let folded;
            let term = if terms_are_folded {
                term
            } else {
                folded = analyzers::fold(term);
                folded.as_str()
            };
            match pattern {
                Pattern::Contains => term.contains(wanted.as_str()),
                Pattern::StartsWith => term.starts_with(wanted.as_str()),
            }
        };
        let mut values = BTreeSet::new();
        for segment in self.searcher.segment_readers() {
            let inverted_index = segment.inverted_index(field).map_err(ApiError::internal)?;
            let dictionary = inverted_index.terms();
            let mut stream = match (pattern, terms_are_folded) {
                (Pattern::StartsWith, true) => {
                    dictionary.range().ge(wanted.as_bytes()).into_stream()
                }
                _ => dictionary.stream(),
            }
            .map_err(ApiError::internal)?;
            while stream.advance() {
                let Ok(term) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                if pattern == Pattern::StartsWith
                    && terms_are_folded
                    && !term.starts_with(wanted.as_str())
                {
                    break;
                }
                if !matches(term) || values.contains(term) {
                    continue;
                }
                if values.len() == MAX_FILTER_PATTERN_NUM_TERMS {
                    return Err(ApiError::new(
                        Code::InvalidSearchFilter,
                        format!(
                            "`{condition}` matches more than `{MAX_FILTER_PATTERN_NUM_TERMS}` \
                             values of `{}`; give a longer value",
                            attribute.name
                        ),
                    ));
                }
                values.insert(term.to_owned());
            }
        }
        Ok(terms_query(
            values
                .iter()
                .map(|value| Term::from_field_text(field, value))
                .collect(),
        ))
    }

    fn equal(
        &self,
        attribute: &Attribute,
        field: Field,
        value: &FilterValue,
    ) -> Result<FilterNode> {
        match operand(attribute, value) {
            Operand::Unmatchable => Ok(FilterNode::Nothing),
            Operand::Number(_) => Ok(self.range(
                attribute,
                field,
                Bound::Included(value),
                Bound::Included(value),
            )),
            Operand::Text(text) => {
                let terms = self.text_terms(attribute, field, &text)?;
                Ok(terms_query(terms))
            }
        }
    }

    fn any_of(
        &self,
        attribute: &Attribute,
        field: Field,
        values: &[FilterValue],
    ) -> Result<FilterNode> {
        let mut clauses = Vec::new();
        let mut terms = Vec::new();
        for value in values {
            match operand(attribute, value) {
                Operand::Unmatchable => {}
                Operand::Text(text) => terms.extend(self.text_terms(attribute, field, &text)?),
                Operand::Number(_) => clauses.push(self.equal(attribute, field, value)?),
            }
        }
        if !terms.is_empty() {
            clauses.push(terms_query(terms));
        }
        Ok(FilterNode::any(clauses))
    }

    fn range(
        &self,
        attribute: &Attribute,
        field: Field,
        low: Bound<&FilterValue>,
        high: Bound<&FilterValue>,
    ) -> FilterNode {
        match attribute.value {
            ValueKind::I64 | ValueKind::U64 | ValueKind::Date => {
                match numeric_bounds(attribute, low, high) {
                    Some((low, high)) => numeric_range(attribute, field, low, high),
                    None => FilterNode::Nothing,
                }
            }
            ValueKind::Text(_) | ValueKind::JsonText => {
                let bound = |bound: Bound<&FilterValue>| -> Bound<Term> {
                    match bound {
                        Bound::Unbounded => Bound::Unbounded,
                        Bound::Included(value) => Bound::Included(Term::from_field_text(
                            field,
                            &text_of(attribute, value),
                        )),
                        Bound::Excluded(value) => Bound::Excluded(Term::from_field_text(
                            field,
                            &text_of(attribute, value),
                        )),
                    }
                };
                let (low, high) = (bound(low), bound(high));
                if matches!((&low, &high), (Bound::Unbounded, Bound::Unbounded)) {
                    return self.exists(attribute, field);
                }
                let low = match low {
                    Bound::Unbounded => Bound::Included(Term::from_field_text(field, "")),
                    bound => bound,
                };
                FilterNode::Condition(Box::new(RangeQuery::new(low, high)))
            }
        }
    }

    /// Returns, for a comparison or `TO` range on a single-valued number or date, its
    /// attribute and inclusive integer bounds (`None` when no value can satisfy it);
    /// `None` for any other expression.
    fn numeric_bounds_of(
        &self,
        expression: &FilterExpr,
    ) -> Option<(&'static Attribute, Option<IntegerBounds>)> {
        let FilterExpr::Condition(condition) = expression else {
            return None;
        };
        let attribute = self.catalog.attribute(&condition.attribute)?;
        let is_number = matches!(
            attribute.value,
            ValueKind::I64 | ValueKind::U64 | ValueKind::Date
        );
        if !is_number || attribute.is_array {
            return None;
        }
        let (low, high) = match &condition.operator {
            ConditionOperator::Compare(Comparison::Equal | Comparison::NotEqual, _) => return None,
            ConditionOperator::Compare(comparison, value) => comparison_bounds(*comparison, value),
            ConditionOperator::Range { low, high } => (Bound::Included(low), Bound::Included(high)),
            _ => return None,
        };
        Some((attribute, numeric_bounds(attribute, low, high)))
    }

    /// Returns the terms equal to `text` in a text attribute: the folded term for analysed
    /// fields, every term that folds alike for small vocabularies, the text itself otherwise.
    fn text_terms(&self, attribute: &Attribute, field: Field, text: &str) -> Result<Vec<Term>> {
        let ValueKind::Text(analysis) = attribute.value else {
            return Ok(vec![Term::from_field_text(field, text)]);
        };
        if analysis != Analysis::Raw {
            return Ok(vec![Term::from_field_text(
                field,
                &analyzers::fold(text.trim()),
            )]);
        }
        if !attribute.is_small_vocabulary {
            return Ok(vec![Term::from_field_text(field, text)]);
        }
        let wanted = analyzers::fold(text);
        let mut values = BTreeSet::new();
        for segment in self.searcher.segment_readers() {
            let inverted_index = segment.inverted_index(field).map_err(ApiError::internal)?;
            let mut stream = inverted_index
                .terms()
                .stream()
                .map_err(ApiError::internal)?;
            while stream.advance() {
                let Ok(term) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                if analyzers::fold(term) == wanted {
                    values.insert(term.to_owned());
                }
            }
        }
        Ok(values
            .iter()
            .map(|value| Term::from_field_text(field, value))
            .collect())
    }

    fn exists(&self, attribute: &Attribute, field: Field) -> FilterNode {
        if attribute.is_array {
            return FilterNode::All;
        }
        has_value(attribute, field)
    }

    fn is_empty(&self, attribute: &Attribute, field: Field) -> FilterNode {
        if attribute.is_array {
            return has_value(attribute, field).negated();
        }
        FilterNode::Nothing
    }
}

/// Returns documents holding at least one value of the attribute.
fn has_value(attribute: &Attribute, field: Field) -> FilterNode {
    if attribute.is_fast && !matches!(attribute.value, ValueKind::Text(Analysis::Keyword)) {
        return FilterNode::Condition(Box::new(ExistsQuery::new(attribute.name.to_owned(), false)));
    }
    let first = Term::from_field_text(field, "");
    FilterNode::Condition(Box::new(RangeQuery::new(
        Bound::Included(first),
        Bound::Unbounded,
    )))
}

/// Returns the documents holding any of `terms`: a union of term queries for a few, a
/// `TermSetQuery` (which builds an FST first) for long `IN` lists.
fn terms_query(terms: Vec<Term>) -> FilterNode {
    let term_query =
        |term: Term| -> FilterNode { FilterNode::Condition(Box::new(TermFilter::new(term))) };
    match terms.len() {
        0 => FilterNode::Nothing,
        1 => term_query(terms.into_iter().next().unwrap_or_else(|| unreachable!())),
        num_terms if num_terms <= MAX_UNION_TERMS => {
            FilterNode::Or(terms.into_iter().map(term_query).collect())
        }
        _ => FilterNode::Condition(Box::new(TermSetQuery::new(terms))),
    }
}

/// Most terms matched as a union of term queries; more are matched through an FST.
const MAX_UNION_TERMS: usize = 64;

/// Reads a filter value the way `attribute` compares it.
fn operand(attribute: &Attribute, value: &FilterValue) -> Operand {
    match (attribute.value, value) {
        (ValueKind::I64 | ValueKind::U64, FilterValue::Number(number)) => Operand::Number(*number),
        (ValueKind::I64 | ValueKind::U64, FilterValue::String(text)) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|number| number.is_finite())
            .map_or(Operand::Unmatchable, Operand::Number),
        (ValueKind::Date, value) => date_micros(value).map_or(Operand::Unmatchable, |micros| {
            Operand::Number(micros as f64)
        }),
        (ValueKind::Text(_) | ValueKind::JsonText, value) => {
            Operand::Text(text_of(attribute, value))
        }
    }
}

/// Returns a value as the text it is compared as: numbers without a fractional part are
/// written without one, as they would be typed.
fn text_of(_attribute: &Attribute, value: &FilterValue) -> String {
    match value {
        FilterValue::String(text) => text.clone(),
        FilterValue::Number(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
            format!("{}", *number as i64)
        }
        FilterValue::Number(number) => number.to_string(),
    }
}

/// Returns a date filter value in microseconds since the epoch: a number is seconds, as
/// Meilisearch users store timestamps; text is RFC 3339 or a plain `YYYY-MM-DD` day.
fn date_micros(value: &FilterValue) -> Option<i64> {
    match value {
        FilterValue::Number(seconds) => {
            let micros = seconds * 1e6;
            (micros.is_finite() && micros.abs() < 9.0e18).then_some(micros as i64)
        }
        FilterValue::String(text) => {
            let text = text.trim();
            if let Ok(date) = chrono::DateTime::parse_from_rfc3339(text) {
                return Some(date.timestamp_micros());
            }
            if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                return day
                    .and_hms_opt(0, 0, 0)
                    .map(|midnight| midnight.and_utc().timestamp_micros());
            }
            text.parse::<f64>()
                .ok()
                .and_then(|seconds| date_micros(&FilterValue::Number(seconds)))
        }
    }
}

/// Returns the bounds `attribute COMPARISON value` puts on an attribute, for the ordering
/// comparisons (`>`, `>=`, `<`, `<=`).
fn comparison_bounds(
    comparison: Comparison,
    value: &FilterValue,
) -> (Bound<&FilterValue>, Bound<&FilterValue>) {
    match comparison {
        Comparison::GreaterThan => (Bound::Excluded(value), Bound::Unbounded),
        Comparison::GreaterThanOrEqual => (Bound::Included(value), Bound::Unbounded),
        Comparison::LessThan => (Bound::Unbounded, Bound::Excluded(value)),
        _ => (Bound::Unbounded, Bound::Included(value)),
    }
}

/// The inclusive low and high bounds of a range on a number or date, `None` for a side
/// without one.
type IntegerBounds = (Option<i128>, Option<i128>);

/// Returns the inclusive integer bounds of a range on a number or date attribute, `None`
/// for each side without one; `None` when a bound is not a number the attribute can hold.
fn numeric_bounds(
    attribute: &Attribute,
    low: Bound<&FilterValue>,
    high: Bound<&FilterValue>,
) -> Option<IntegerBounds> {
    let bound = |bound: Bound<&FilterValue>, is_low: bool| match bound {
        Bound::Unbounded => Some(None),
        Bound::Included(value) | Bound::Excluded(value) => match operand(attribute, value) {
            Operand::Number(number) => {
                let excluded = matches!(bound, Bound::Excluded(_));
                Some(Some(integer_bound(number, is_low, excluded)))
            }
            _ => None,
        },
    };
    Some((bound(low, true)?, bound(high, false)?))
}

/// Returns the bounds both of two inclusive ranges require: the larger low bound and the
/// smaller high bound.
fn both_bounds((first, second): (IntegerBounds, IntegerBounds)) -> IntegerBounds {
    let low = match (first.0, second.0) {
        (Some(one), Some(other)) => Some(one.max(other)),
        (one, other) => one.or(other),
    };
    let high = match (first.1, second.1) {
        (Some(one), Some(other)) => Some(one.min(other)),
        (one, other) => one.or(other),
    };
    (low, high)
}

/// Returns the inclusive integer bound of a numeric comparison: `> 2020.5` is `>= 2021`,
/// `<= 2020.5` is `<= 2020`.
fn integer_bound(number: f64, is_low: bool, excluded: bool) -> i128 {
    let clamp = |value: f64| value.clamp(-1.0e30, 1.0e30) as i128;
    if is_low {
        if excluded && number.fract() == 0.0 {
            clamp(number) + 1
        } else {
            clamp(number.ceil())
        }
    } else if excluded && number.fract() == 0.0 {
        clamp(number) - 1
    } else {
        clamp(number.floor())
    }
}

fn numeric_range(
    attribute: &Attribute,
    field: Field,
    low: Option<i128>,
    high: Option<i128>,
) -> FilterNode {
    if let (Some(low), Some(high)) = (low, high) {
        if low > high {
            return FilterNode::Nothing;
        }
    }
    let (min, max) = match attribute.value {
        ValueKind::U64 => (0, i128::from(u64::MAX)),
        _ => (i128::from(i64::MIN), i128::from(i64::MAX)),
    };
    if low.is_some_and(|low| low > max) || high.is_some_and(|high| high < min) {
        return FilterNode::Nothing;
    }
    let low = low.map(|low| low.clamp(min, max));
    let high = high.map(|high| high.clamp(min, max));
    let term = |value: i128| match attribute.value {
        ValueKind::U64 => Term::from_field_u64(field, value as u64),
        ValueKind::Date => Term::from_field_date(
            field,
            tantivy::DateTime::from_timestamp_micros(value as i64),
        ),
        _ => Term::from_field_i64(field, value as i64),
    };
    let bound =
        |value: Option<i128>| value.map_or(Bound::Unbounded, |value| Bound::Included(term(value)));
    match (low, high) {
        (None, None) => {
            FilterNode::Condition(Box::new(ExistsQuery::new(attribute.name.to_owned(), false)))
        }
        // Dates are indexed at a precision the bounds would need truncating to: their
        // column compares them.
        _ if attribute.value == ValueKind::Date => {
            FilterNode::Condition(Box::new(RangeQuery::new(bound(low), bound(high))))
        }
        _ => FilterNode::Condition(Box::new(NumberRangeQuery {
            low: bound(low),
            high: bound(high),
        })),
    }
}

/// Most distinct values a segment's number field may have for a range on it to be read
/// from the postings of the values in range rather than from its column.
const MAX_VALUES_READ_FROM_POSTINGS: u64 = 4_096;

/// A range on an indexed and fast number or date field. A field of few distinct values
/// (years) is read from the postings of the values in range, which hold exactly the
/// documents wanted; a column scan reads every document's value, and on a sparse column
/// locates each row first, which made it most of a librarian's search. Fields of many
/// values are read from their column, as opening thousands of postings costs more.
#[derive(Debug, Clone)]
struct NumberRangeQuery {
    low: Bound<Term>,
    high: Bound<Term>,
}

impl Query for NumberRangeQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let field = match (&self.low, &self.high) {
            (Bound::Included(term) | Bound::Excluded(term), _)
            | (_, Bound::Included(term) | Bound::Excluded(term)) => term.field(),
            (Bound::Unbounded, Bound::Unbounded) => {
                return Err(tantivy::TantivyError::InvalidArgument(
                    "a number range needs a bound".to_owned(),
                ))
            }
        };
        Ok(Box::new(NumberRangeWeight {
            field,
            postings: InvertedIndexRangeQuery::new(self.low.clone(), self.high.clone())
                .weight(enable_scoring)?,
            column: RangeQuery::new(self.low.clone(), self.high.clone()).weight(enable_scoring)?,
        }))
    }
}

struct NumberRangeWeight {
    field: Field,
    postings: Box<dyn Weight>,
    column: Box<dyn Weight>,
}

impl NumberRangeWeight {
    fn chosen(&self, reader: &SegmentReader) -> tantivy::Result<&dyn Weight> {
        let num_values = reader.inverted_index(self.field)?.terms().num_terms() as u64;
        Ok(if num_values <= MAX_VALUES_READ_FROM_POSTINGS {
            self.postings.as_ref()
        } else {
            self.column.as_ref()
        })
    }
}

impl Weight for NumberRangeWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        self.chosen(reader)?.scorer(reader, boost)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.chosen(reader)?.explain(reader, doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_bounds_round_toward_the_inside() {
        assert_eq!(integer_bound(2020.0, true, true), 2021);
        assert_eq!(integer_bound(2020.0, true, false), 2020);
        assert_eq!(integer_bound(2020.5, true, true), 2021);
        assert_eq!(integer_bound(2020.5, false, false), 2020);
        assert_eq!(integer_bound(2020.0, false, true), 2019);
    }

    #[test]
    fn dates_read_as_rfc_3339_days_or_seconds() {
        let day = date_micros(&FilterValue::String("2024-01-02".into())).unwrap();
        let instant = date_micros(&FilterValue::String("2024-01-02T00:00:00Z".into())).unwrap();
        assert_eq!(day, instant);
        assert_eq!(
            date_micros(&FilterValue::Number(1.5)),
            Some(1_500_000),
            "numbers are seconds"
        );
        assert_eq!(date_micros(&FilterValue::String("yesterday".into())), None);
    }
}
