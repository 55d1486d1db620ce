//! Splits a filter expression into tokens with their byte spans, so that errors can point
//! at a column.

use super::error::FilterError;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// An unquoted run of characters up to whitespace or punctuation; may be a keyword.
    Word(String),
    /// A single- or double-quoted string, escapes resolved.
    Quoted(String),
    /// `(`
    OpenParenthesis,
    /// `)`
    CloseParenthesis,
    /// `[`
    OpenBracket,
    /// `]`
    CloseBracket,
    /// `,`
    Comma,
    /// `=`, `!=`, `>`, `>=`, `<`, `<=`
    Comparison(super::ast::Comparison),
    /// The end of the input.
    End,
}

/// A token and the bytes of the input it covers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// Returns whether the token is the unquoted keyword `keyword`, in any case.
    pub fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.kind, TokenKind::Word(word) if word.eq_ignore_ascii_case(keyword))
    }
}

/// Returns the tokens of `input`, ending with [`TokenKind::End`].
///
/// # Errors
///
/// Fails on an unterminated quoted string and on a `!` not followed by `=`.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    use super::ast::Comparison;

    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let single = match c {
            '(' => Some(TokenKind::OpenParenthesis),
            ')' => Some(TokenKind::CloseParenthesis),
            '[' => Some(TokenKind::OpenBracket),
            ']' => Some(TokenKind::CloseBracket),
            ',' => Some(TokenKind::Comma),
            _ => None,
        };
        if let Some(kind) = single {
            chars.next();
            tokens.push(Token {
                kind,
                start,
                end: start + 1,
            });
            continue;
        }
        if matches!(c, '=' | '!' | '<' | '>') {
            chars.next();
            let followed_by_equal = chars.peek().is_some_and(|&(_, next)| next == '=');
            if followed_by_equal {
                chars.next();
            }
            let comparison = match (c, followed_by_equal) {
                ('=', false) => Comparison::Equal,
                ('=', true) => {
                    return Err(FilterError::at(
                        input,
                        start,
                        "found `==`; the filter language compares with a single `=`",
                    ))
                }
                ('!', true) => Comparison::NotEqual,
                ('!', false) => {
                    return Err(FilterError::at(
                        input,
                        start,
                        "found `!` alone; write `!=` to compare, or `NOT` to negate",
                    ))
                }
                ('<', true) => Comparison::LessThanOrEqual,
                ('<', false) => Comparison::LessThan,
                ('>', true) => Comparison::GreaterThanOrEqual,
                _ => Comparison::GreaterThan,
            };
            let end = start + if followed_by_equal { 2 } else { 1 };
            tokens.push(Token {
                kind: TokenKind::Comparison(comparison),
                start,
                end,
            });
            continue;
        }
        if matches!(c, '\'' | '"') {
            chars.next();
            let (text, end) = read_quoted(input, start, c, &mut chars)?;
            tokens.push(Token {
                kind: TokenKind::Quoted(text),
                start,
                end,
            });
            continue;
        }
        let mut end = start;
        while let Some(&(index, next)) = chars.peek() {
            if super::ast::is_delimiter(next) {
                break;
            }
            end = index + next.len_utf8();
            chars.next();
        }
        tokens.push(Token {
            kind: TokenKind::Word(input[start..end].to_owned()),
            start,
            end,
        });
    }
    tokens.push(Token {
        kind: TokenKind::End,
        start: input.len(),
        end: input.len(),
    });
    Ok(tokens)
}

/// Reads a quoted string whose opening `quote` is at `start`; a backslash takes the next
/// character literally, so `\'`, `\"` and `\\` work in either kind of quotes.
fn read_quoted(
    input: &str,
    start: usize,
    quote: char,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<(String, usize), FilterError> {
    let mut text = String::new();
    while let Some((index, c)) = chars.next() {
        if c == quote {
            return Ok((text, index + 1));
        }
        if c == '\\' {
            match chars.next() {
                Some((_, escaped)) => text.push(escaped),
                None => break,
            }
            continue;
        }
        text.push(c);
    }
    Err(FilterError::at(
        input,
        start,
        &format!("found a quoted value with no closing `{quote}`"),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::ast::Comparison;
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|token| token.kind)
            .collect()
    }

    fn word(text: &str) -> TokenKind {
        TokenKind::Word(text.to_owned())
    }

    #[test]
    fn operators_need_no_spaces() {
        assert_eq!(
            kinds("year>=2020"),
            vec![
                word("year"),
                TokenKind::Comparison(Comparison::GreaterThanOrEqual),
                word("2020"),
                TokenKind::End
            ]
        );
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            kinds(r#"'it\'s' "a \"b\" \\ c""#),
            vec![
                TokenKind::Quoted("it's".to_owned()),
                TokenKind::Quoted(r#"a "b" \ c"#.to_owned()),
                TokenKind::End
            ]
        );
    }

    #[test]
    fn apostrophe_inside_a_word_is_part_of_it() {
        assert_eq!(kinds("O'Brien"), vec![word("O'Brien"), TokenKind::End]);
    }

    #[test]
    fn spans_are_bytes_of_the_input() {
        let tokens = tokenize("näme = 'x'").unwrap();
        assert_eq!((tokens[0].start, tokens[0].end), (0, 5));
        assert_eq!((tokens[1].start, tokens[1].end), (6, 7));
        assert_eq!((tokens[2].start, tokens[2].end), (8, 11));
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let error = tokenize("title = 'abc").unwrap_err();
        assert_eq!(error.column(), Some(9));
        assert!(error.to_string().contains("no closing `'`"), "{error}");
    }

    #[test]
    fn lone_bang_and_double_equal_are_errors() {
        assert!(tokenize("a ! b").is_err());
        assert!(tokenize("a == b").is_err());
    }
}
