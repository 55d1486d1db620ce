//! A recursive-descent parser for Meilisearch's filter expression language.
//!
//! Grammar, loosest binding first; keywords are case-insensitive:
//!
//! ```text
//! or        = and ("OR" and)*
//! and       = not ("AND" not)*
//! not       = "NOT" not | primary
//! primary   = "(" or ")" | condition
//! condition = attribute ( comparison value | value "TO" value | "IN" list | "NOT" "IN" list
//!           | "EXISTS" | "NOT" "EXISTS" | "IS" ["NOT"] ("NULL" | "EMPTY")
//!           | ["NOT"] "CONTAINS" value | ["NOT"] "STARTS" "WITH" value )
//! list      = "[" [value ("," value)* [","]] "]"
//! ```
//!
//! Each `(` and `NOT` costs one level of recursion and is counted against
//! [`MAX_FILTER_DEPTH`], so no input can exhaust the stack.

use super::ast::{
    has_number_shape, is_keyword, Condition, ConditionOperator, FilterExpr, FilterValue,
};
use super::error::{excerpt_head, FilterError};
use super::lexer::{tokenize, Token, TokenKind};
use crate::limits::{MAX_FILTER_DEPTH, MAX_FILTER_IN_NUM_VALUES};

/// What a condition may continue with after its attribute, for error messages.
const OPERATOR_CHOICES: &str = "an operator (`=`, `!=`, `>`, `>=`, `<`, `<=`, `TO`, `IN`, \
                                `NOT IN`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS EMPTY`, \
                                `CONTAINS`, `STARTS WITH`)";

/// Attributes Meilisearch gives a function-call syntax; Atlas documents have no `_geo` field.
const GEO_FUNCTIONS: &[&str] = &["_geoRadius", "_geoBoundingBox", "_geoPolygon"];

/// Returns the syntax tree of a filter expression, or `None` when it is blank.
///
/// # Errors
///
/// Fails with the column and an excerpt of the input when the expression does not parse or
/// nests deeper than [`MAX_FILTER_DEPTH`]. The length of the input is the caller's to check.
pub fn parse_filter(input: &str) -> Result<Option<FilterExpr>, FilterError> {
    let tokens = tokenize(input)?;
    if tokens.len() == 1 {
        return Ok(None);
    }
    let mut parser = FilterParser {
        input,
        tokens,
        position: 0,
        depth: 0,
        context_start: 0,
    };
    let expression = parser.parse_or()?;
    parser.expect_end()?;
    Ok(Some(expression))
}

struct FilterParser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    position: usize,
    /// Parentheses and `NOT`s currently open.
    depth: usize,
    /// Where the condition being parsed starts, for excerpts in messages.
    context_start: usize,
}

impl FilterParser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.position]
    }

    fn advance(&mut self) -> Token {
        let token = self.tokens[self.position].clone();
        if token.kind != TokenKind::End {
            self.position += 1;
        }
        token
    }

    /// Describes a token for the "found …" part of a message.
    fn describe(&self, token: &Token) -> String {
        match &token.kind {
            TokenKind::End => "the end of the filter".to_owned(),
            TokenKind::Word(word) if is_keyword(word) => format!("the keyword `{word}`"),
            _ => format!("`{}`", excerpt_head(&self.input[token.start..token.end])),
        }
    }

    /// Returns "was expecting `expectation` … found <the next token>".
    fn expected(&self, expectation: &str) -> FilterError {
        let token = self.peek();
        FilterError::expected(
            self.input,
            self.context_start,
            token.start,
            expectation,
            &self.describe(token),
        )
    }

    /// Counts one more level of nesting opened by `token`.
    fn enter(&mut self, token_start: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(FilterError::at(
                self.input,
                token_start,
                &format!(
                    "the filter nests parentheses and `NOT` more than `{MAX_FILTER_DEPTH}` \
                     levels deep; write it with fewer levels"
                ),
            ));
        }
        Ok(())
    }

    fn parse_or(&mut self) -> Result<FilterExpr, FilterError> {
        let mut children = vec![self.parse_and()?];
        while self.peek().is_keyword("OR") {
            self.advance();
            children.push(self.parse_and()?);
        }
        Ok(if children.len() == 1 {
            children.swap_remove(0)
        } else {
            FilterExpr::Or(children)
        })
    }

    fn parse_and(&mut self) -> Result<FilterExpr, FilterError> {
        let mut children = vec![self.parse_not()?];
        while self.peek().is_keyword("AND") {
            self.advance();
            children.push(self.parse_not()?);
        }
        Ok(if children.len() == 1 {
            children.swap_remove(0)
        } else {
            FilterExpr::And(children)
        })
    }

    fn parse_not(&mut self) -> Result<FilterExpr, FilterError> {
        if !self.peek().is_keyword("NOT") {
            return self.parse_primary();
        }
        let not_token = self.advance();
        self.enter(not_token.start)?;
        let inner = self.parse_not()?;
        self.depth -= 1;
        Ok(FilterExpr::Not(Box::new(inner)))
    }

    fn parse_primary(&mut self) -> Result<FilterExpr, FilterError> {
        self.context_start = self.peek().start;
        let attribute = match &self.peek().kind {
            TokenKind::OpenParenthesis => return self.parse_parenthesized(),
            TokenKind::Word(word) if !is_keyword(word) => word.clone(),
            TokenKind::Quoted(text) => text.clone(),
            _ => return Err(self.expected("an attribute, `NOT` or `(`")),
        };
        self.parse_condition(attribute)
    }

    fn parse_parenthesized(&mut self) -> Result<FilterExpr, FilterError> {
        let open = self.advance();
        self.enter(open.start)?;
        let inner = self.parse_or()?;
        if self.peek().kind != TokenKind::CloseParenthesis {
            let column = self.input[..open.start].chars().count() + 1;
            return Err(self.expected(&format!(
                "`AND`, `OR` or a `)` closing the `(` of column {column}"
            )));
        }
        self.advance();
        self.depth -= 1;
        Ok(inner)
    }

    /// Parses the rest of a condition whose attribute is the next token.
    fn parse_condition(&mut self, attribute: String) -> Result<FilterExpr, FilterError> {
        let attribute_token = self.advance();
        if self.peek().kind == TokenKind::OpenParenthesis && GEO_FUNCTIONS.contains(&&*attribute) {
            return Err(FilterError::at(
                self.input,
                attribute_token.start,
                &format!("`{attribute}` is not supported: Atlas documents have no `_geo` field"),
            ));
        }

        let operator = self.parse_operator(&attribute)?;
        Ok(FilterExpr::Condition(Condition {
            attribute,
            operator,
        }))
    }

    fn parse_operator(&mut self, attribute: &str) -> Result<ConditionOperator, FilterError> {
        let token = self.peek().clone();
        if let TokenKind::Comparison(comparison) = token.kind {
            self.advance();
            let value = self.parse_value(&format!("a value after `{}`", comparison.as_str()))?;
            return Ok(ConditionOperator::Compare(comparison, value));
        }
        if token.is_keyword("IN") {
            self.advance();
            return Ok(ConditionOperator::In(self.parse_list("IN")?));
        }
        if token.is_keyword("EXISTS") {
            self.advance();
            return Ok(ConditionOperator::Exists);
        }
        if token.is_keyword("CONTAINS") {
            self.advance();
            return Ok(ConditionOperator::Contains(
                self.parse_value("a value after `CONTAINS`")?,
            ));
        }
        if token.is_keyword("STARTS") {
            self.advance();
            return Ok(ConditionOperator::StartsWith(self.parse_starts_with()?));
        }
        if token.is_keyword("NOT") {
            self.advance();
            return self.parse_after_not();
        }
        if token.is_keyword("IS") {
            self.advance();
            return self.parse_after_is();
        }
        if self.starts_value() {
            let low = self.parse_value("a value")?;
            if !self.peek().is_keyword("TO") {
                return Err(self.expected(&format!("`TO` after `{attribute} {low}`")));
            }
            self.advance();
            let high = self.parse_value("a value after `TO`")?;
            return Ok(ConditionOperator::Range { low, high });
        }
        Err(self.expected(&format!(
            "{OPERATOR_CHOICES} after `{}`",
            excerpt_head(attribute)
        )))
    }

    fn parse_after_not(&mut self) -> Result<ConditionOperator, FilterError> {
        if self.peek().is_keyword("IN") {
            self.advance();
            return Ok(ConditionOperator::NotIn(self.parse_list("NOT IN")?));
        }
        if self.peek().is_keyword("EXISTS") {
            self.advance();
            return Ok(ConditionOperator::NotExists);
        }
        if self.peek().is_keyword("CONTAINS") {
            self.advance();
            return Ok(ConditionOperator::NotContains(
                self.parse_value("a value after `NOT CONTAINS`")?,
            ));
        }
        if self.peek().is_keyword("STARTS") {
            self.advance();
            return Ok(ConditionOperator::NotStartsWith(self.parse_starts_with()?));
        }
        Err(self.expected("`IN`, `EXISTS`, `CONTAINS` or `STARTS WITH` after `NOT`"))
    }

    /// Parses `WITH value` after `STARTS`.
    fn parse_starts_with(&mut self) -> Result<FilterValue, FilterError> {
        if !self.peek().is_keyword("WITH") {
            return Err(self.expected("`WITH` after `STARTS`"));
        }
        self.advance();
        self.parse_value("a value after `STARTS WITH`")
    }

    fn parse_after_is(&mut self) -> Result<ConditionOperator, FilterError> {
        let negated = self.peek().is_keyword("NOT");
        if negated {
            self.advance();
        }
        let operator = match (
            self.peek().is_keyword("NULL"),
            self.peek().is_keyword("EMPTY"),
        ) {
            (true, _) if negated => ConditionOperator::IsNotNull,
            (true, _) => ConditionOperator::IsNull,
            (_, true) if negated => ConditionOperator::IsNotEmpty,
            (_, true) => ConditionOperator::IsEmpty,
            _ if negated => return Err(self.expected("`NULL` or `EMPTY` after `IS NOT`")),
            _ => return Err(self.expected("`NULL`, `EMPTY` or `NOT` after `IS`")),
        };
        self.advance();
        Ok(operator)
    }

    /// Returns whether the next token can be read as a value.
    fn starts_value(&self) -> bool {
        match &self.peek().kind {
            TokenKind::Word(word) => !is_keyword(word),
            TokenKind::Quoted(_) => true,
            _ => false,
        }
    }

    fn parse_value(&mut self, expectation: &str) -> Result<FilterValue, FilterError> {
        match &self.peek().kind {
            TokenKind::Word(word) if !is_keyword(word) => {
                let value = value_of_word(word);
                self.advance();
                Ok(value)
            }
            TokenKind::Quoted(text) => {
                let value = FilterValue::String(text.clone());
                self.advance();
                Ok(value)
            }
            TokenKind::Word(_) => Err(self.expected(&format!(
                "{expectation} (a keyword used as a value must be quoted)"
            ))),
            _ => Err(self.expected(expectation)),
        }
    }

    fn parse_list(&mut self, operator: &str) -> Result<Vec<FilterValue>, FilterError> {
        if self.peek().kind != TokenKind::OpenBracket {
            return Err(self.expected(&format!("`[` after `{operator}`")));
        }
        self.advance();
        let mut values = Vec::new();
        loop {
            if self.peek().kind == TokenKind::CloseBracket {
                self.advance();
                return Ok(values);
            }
            if values.len() == MAX_FILTER_IN_NUM_VALUES {
                return Err(self.expected(&format!(
                    "`]` (a list holds at most `{MAX_FILTER_IN_NUM_VALUES}` values)"
                )));
            }
            values.push(self.parse_value("a value or `]` in the list")?);
            match self.peek().kind {
                TokenKind::Comma => {
                    self.advance();
                }
                TokenKind::CloseBracket => {}
                _ => return Err(self.expected("`,` or `]` in the list")),
            }
        }
    }

    fn expect_end(&mut self) -> Result<(), FilterError> {
        let token = self.peek();
        match token.kind {
            TokenKind::End => Ok(()),
            TokenKind::CloseParenthesis => Err(FilterError::at(
                self.input,
                token.start,
                "found a `)` that closes no `(`",
            )),
            _ => Err(self.expected("`AND`, `OR` or the end of the filter")),
        }
    }
}

/// Reads an unquoted word as a number when it has the shape of one and is finite.
fn value_of_word(word: &str) -> FilterValue {
    if has_number_shape(word) {
        if let Ok(number) = word.parse::<f64>() {
            if number.is_finite() {
                return FilterValue::Number(number);
            }
        }
    }
    FilterValue::String(word.to_owned())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::ast::Comparison;
    use super::*;

    fn number(value: f64) -> FilterValue {
        FilterValue::Number(value)
    }

    fn text(value: &str) -> FilterValue {
        FilterValue::String(value.to_owned())
    }

    fn condition(attribute: &str, operator: ConditionOperator) -> FilterExpr {
        FilterExpr::Condition(Condition {
            attribute: attribute.to_owned(),
            operator,
        })
    }

    fn compare(attribute: &str, comparison: Comparison, value: FilterValue) -> FilterExpr {
        condition(attribute, ConditionOperator::Compare(comparison, value))
    }

    fn not(inner: FilterExpr) -> FilterExpr {
        FilterExpr::Not(Box::new(inner))
    }

    fn parse(input: &str) -> FilterExpr {
        match parse_filter(input) {
            Ok(Some(expression)) => expression,
            other => panic!("`{input}` should parse, got {other:?}"),
        }
    }

    #[test]
    fn valid_expressions() {
        use Comparison::*;
        let cases: Vec<(&str, FilterExpr)> = vec![
            ("year = 2020", compare("year", Equal, number(2020.0))),
            ("year != 2020", compare("year", NotEqual, number(2020.0))),
            ("year > -1.5", compare("year", GreaterThan, number(-1.5))),
            (
                "year >= 2e3",
                compare("year", GreaterThanOrEqual, number(2000.0)),
            ),
            ("year<2020", compare("year", LessThan, number(2020.0))),
            (
                "year <= 2020",
                compare("year", LessThanOrEqual, number(2020.0)),
            ),
            (
                "source = openalex",
                compare("source", Equal, text("openalex")),
            ),
            ("source = '2020'", compare("source", Equal, text("2020"))),
            (
                r#"name = "Jordan Peele""#,
                compare("name", Equal, text("Jordan Peele")),
            ),
            (
                r"name = 'O\'Brien'",
                compare("name", Equal, text("O'Brien")),
            ),
            ("name = O'Brien", compare("name", Equal, text("O'Brien"))),
            (
                r#"name = "a \"b\" \\""#,
                compare("name", Equal, text(r#"a "b" \"#)),
            ),
            (
                "date = 2020-01-01",
                compare("date", Equal, text("2020-01-01")),
            ),
            ("value = inf", compare("value", Equal, text("inf"))),
            ("value = 1e999", compare("value", Equal, text("1e999"))),
            (
                r#""release date" = 1"#,
                compare("release date", Equal, number(1.0)),
            ),
            (
                "author.orcid EXISTS",
                condition("author.orcid", ConditionOperator::Exists),
            ),
            (
                "year 1990 TO 2000",
                condition(
                    "year",
                    ConditionOperator::Range {
                        low: number(1990.0),
                        high: number(2000.0),
                    },
                ),
            ),
            (
                "source IN [hal, 'dblp', 3]",
                condition(
                    "source",
                    ConditionOperator::In(vec![text("hal"), text("dblp"), number(3.0)]),
                ),
            ),
            (
                "source IN []",
                condition("source", ConditionOperator::In(vec![])),
            ),
            (
                "source IN [hal,]",
                condition("source", ConditionOperator::In(vec![text("hal")])),
            ),
            (
                "source not in [hal]",
                condition("source", ConditionOperator::NotIn(vec![text("hal")])),
            ),
            (
                "orcid NOT EXISTS",
                condition("orcid", ConditionOperator::NotExists),
            ),
            (
                "orcid is null",
                condition("orcid", ConditionOperator::IsNull),
            ),
            (
                "orcid IS NOT NULL",
                condition("orcid", ConditionOperator::IsNotNull),
            ),
            (
                "tags IS EMPTY",
                condition("tags", ConditionOperator::IsEmpty),
            ),
            (
                "tags Is Not Empty",
                condition("tags", ConditionOperator::IsNotEmpty),
            ),
            (
                "doi CONTAINS '10.1145'",
                condition("doi", ConditionOperator::Contains(text("10.1145"))),
            ),
            (
                "doi not contains arxiv",
                condition("doi", ConditionOperator::NotContains(text("arxiv"))),
            ),
            (
                "source STARTS WITH open",
                condition("source", ConditionOperator::StartsWith(text("open"))),
            ),
            (
                "source NOT starts with 'cross'",
                condition("source", ConditionOperator::NotStartsWith(text("cross"))),
            ),
            ("NOT year = 1", not(compare("year", Equal, number(1.0)))),
            (
                "NOT NOT year = 1",
                not(not(compare("year", Equal, number(1.0)))),
            ),
            ("((year = 1))", compare("year", Equal, number(1.0))),
            (
                "a = 1 OR b = 2 AND c = 3",
                FilterExpr::Or(vec![
                    compare("a", Equal, number(1.0)),
                    FilterExpr::And(vec![
                        compare("b", Equal, number(2.0)),
                        compare("c", Equal, number(3.0)),
                    ]),
                ]),
            ),
            (
                "(a = 1 or b = 2) and not c = 3",
                FilterExpr::And(vec![
                    FilterExpr::Or(vec![
                        compare("a", Equal, number(1.0)),
                        compare("b", Equal, number(2.0)),
                    ]),
                    not(compare("c", Equal, number(3.0))),
                ]),
            ),
            (
                "a = 1 AND b = 2 AND c = 3",
                FilterExpr::And(vec![
                    compare("a", Equal, number(1.0)),
                    compare("b", Equal, number(2.0)),
                    compare("c", Equal, number(3.0)),
                ]),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input), expected, "parsing `{input}`");
        }
    }

    #[test]
    fn blank_input_is_no_filter() {
        assert_eq!(parse_filter("").unwrap(), None);
        assert_eq!(parse_filter("  \t").unwrap(), None);
    }

    #[test]
    fn invalid_expressions_name_the_column_and_what_was_found() {
        // (input, column, expected part of the message)
        let cases = [
            (
                "year = ",
                8,
                "a value after `=` at `year = `, column 8; found the end of the filter",
            ),
            (
                "year = )",
                8,
                "was expecting a value after `=` at `year = `, column 8; found `)`",
            ),
            ("year", 5, "was expecting an operator (`=`, `!=`"),
            (
                "year 2020",
                10,
                "was expecting `TO` after `year 2020` at `year 2020`, column 10",
            ),
            ("year 1 TO", 10, "was expecting a value after `TO`"),
            (
                "year = 1 AND",
                13,
                "an attribute, `NOT` or `(` at column 13; found the end of the filter",
            ),
            ("AND year = 1", 1, "found the keyword `AND`"),
            (
                "year = 1 year = 2",
                10,
                "was expecting `AND`, `OR` or the end of the filter",
            ),
            ("(year = 1", 10, "a `)` closing the `(` of column 1"),
            ("year = 1)", 9, "found a `)` that closes no `(`"),
            ("source IN hal", 11, "was expecting `[` after `IN`"),
            (
                "source IN [a b]",
                14,
                "was expecting `,` or `]` in the list",
            ),
            (
                "source IN [a,",
                14,
                "was expecting a value or `]` in the list",
            ),
            (
                "source NOT = 1",
                12,
                "was expecting `IN`, `EXISTS`, `CONTAINS` or `STARTS WITH` after `NOT`",
            ),
            (
                "source STARTS open",
                15,
                "was expecting `WITH` after `STARTS` at `source STARTS `, column 15; found `open`",
            ),
            ("doi CONTAINS", 13, "was expecting a value after `CONTAINS`"),
            (
                "orcid IS",
                9,
                "was expecting `NULL`, `EMPTY` or `NOT` after `IS`",
            ),
            (
                "orcid IS NOT 1",
                14,
                "was expecting `NULL` or `EMPTY` after `IS NOT`",
            ),
            (
                "source = OR",
                10,
                "a keyword used as a value must be quoted",
            ),
            (
                "title = 'abc",
                9,
                "found a quoted value with no closing `'`, at column 9",
            ),
            ("year ! 1", 6, "write `!=` to compare"),
            ("_geoRadius(1, 2, 3)", 1, "`_geoRadius` is not supported"),
            ("dé = ", 6, "at `dé = `, column 6"),
        ];
        for (input, column, expected) in cases {
            let error = parse_filter(input).expect_err(input);
            assert_eq!(
                error.column(),
                Some(column),
                "column for `{input}`: {error}"
            );
            assert!(error.message().contains(expected), "`{input}`: {error}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for input in [
            "(".repeat(100_000),
            "NOT ".repeat(100_000),
            "(".repeat(50_000) + "a = 1" + &")".repeat(50_000),
        ] {
            let error = parse_filter(&input).unwrap_err();
            assert!(error.message().contains("more than `64` levels"), "{error}");
        }
        let at_limit = "(".repeat(MAX_FILTER_DEPTH) + "a = 1" + &")".repeat(MAX_FILTER_DEPTH);
        parse_filter(&at_limit).unwrap();
    }

    #[test]
    fn in_lists_are_limited() {
        let values: Vec<String> = (0..=MAX_FILTER_IN_NUM_VALUES)
            .map(|i| i.to_string())
            .collect();
        let error = parse_filter(&format!("id IN [{}]", values.join(","))).unwrap_err();
        assert!(error.message().contains("at most `1000` values"), "{error}");
    }

    fn attribute_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_][a-z0-9_.]{0,8}",
            "[a-zA-Z0-9 '\"\\\\()=!<>,\\[\\]é-]{0,8}",
            Just("and".to_owned()),
            Just("NOT".to_owned()),
        ]
    }

    fn value_strategy() -> impl Strategy<Value = FilterValue> {
        prop_oneof![
            (-1.0e12f64..1.0e12).prop_map(FilterValue::Number),
            (-1_000_000i64..1_000_000).prop_map(|n| FilterValue::Number(n as f64)),
            attribute_strategy().prop_map(FilterValue::String),
            Just(FilterValue::String("12".to_owned())),
            Just(FilterValue::String("to".to_owned())),
        ]
    }

    fn operator_strategy() -> impl Strategy<Value = ConditionOperator> {
        use Comparison::*;
        let comparison = prop_oneof![
            Just(Equal),
            Just(NotEqual),
            Just(GreaterThan),
            Just(GreaterThanOrEqual),
            Just(LessThan),
            Just(LessThanOrEqual),
        ];
        prop_oneof![
            (comparison, value_strategy()).prop_map(|(c, v)| ConditionOperator::Compare(c, v)),
            (value_strategy(), value_strategy())
                .prop_map(|(low, high)| ConditionOperator::Range { low, high }),
            prop::collection::vec(value_strategy(), 0..4).prop_map(ConditionOperator::In),
            prop::collection::vec(value_strategy(), 0..4).prop_map(ConditionOperator::NotIn),
            Just(ConditionOperator::Exists),
            Just(ConditionOperator::NotExists),
            Just(ConditionOperator::IsNull),
            Just(ConditionOperator::IsNotNull),
            Just(ConditionOperator::IsEmpty),
            Just(ConditionOperator::IsNotEmpty),
            value_strategy().prop_map(ConditionOperator::Contains),
            value_strategy().prop_map(ConditionOperator::NotContains),
            value_strategy().prop_map(ConditionOperator::StartsWith),
            value_strategy().prop_map(ConditionOperator::NotStartsWith),
        ]
    }

    fn expression_strategy() -> impl Strategy<Value = FilterExpr> {
        let leaf = (attribute_strategy(), operator_strategy()).prop_map(|(attribute, operator)| {
            FilterExpr::Condition(Condition {
                attribute,
                operator,
            })
        });
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(|e| FilterExpr::Not(Box::new(e))),
                prop::collection::vec(inner.clone(), 2..4).prop_map(FilterExpr::And),
                prop::collection::vec(inner, 2..4).prop_map(FilterExpr::Or),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn never_panics_on_any_input(input in "\\PC{0,64}") {
            let _ = parse_filter(&input);
        }

        #[test]
        fn never_panics_on_filter_like_input(
            input in prop_oneof![
                "[a-z =!<>()\\[\\],'\"\\\\0-9.-]{0,24}",
                "((NOT|AND|OR|TO|IN|IS|NULL|EMPTY|EXISTS|a|1|=|\\(|\\)|\\[|\\]|,| )){0,16}",
            ]
        ) {
            let _ = parse_filter(&input);
        }

        #[test]
        fn printing_then_parsing_gives_the_same_tree(expression in expression_strategy()) {
            let printed = expression.to_string();
            let parsed = parse_filter(&printed);
            prop_assert_eq!(parsed, Ok(Some(expression)), "printed as `{}`", printed);
        }
    }
}
