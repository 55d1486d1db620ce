//! The token produced by every analyzer, and the sinks analyzers write tokens into.

use std::ops::Range;

/// What produced a token; lets tests and the search API tell a word from a derived form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A whole word.
    Word,
    /// One part of a word split at an apostrophe, hyphen, underscore or period.
    Part,
    /// The parts of a split word written together: `o'brien` → `obrien`.
    Joined,
    /// One character of a Han, Kana or Hangul run.
    Unigram,
    /// Two consecutive characters of a Han, Kana or Hangul run.
    Bigram,
    /// A spelling variant at the same position: `müller` → `mueller`.
    Variant,
    /// A name particle written together with what follows: `van der berg` → `vanderberg`.
    ParticleJoined,
    /// The initial of a name, or the initials of all given names together.
    Initial,
}

/// A token with its folded text, its position and the byte range of the original text it
/// comes from; `offset_from..offset_to` always slices the original on character boundaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzedToken {
    /// Folded (and for the stemmed analyzer, stemmed) text.
    pub text: String,
    /// Byte offset of the first original byte.
    pub offset_from: usize,
    /// Byte offset one past the last original byte.
    pub offset_to: usize,
    /// Position in tokens; derived forms share the position of the word they come from.
    pub position: usize,
    /// Number of positions the token covers (a joined form covers all its parts).
    pub position_length: usize,
    /// What produced the token.
    pub kind: TokenKind,
}

/// Receives tokens from an analyzer; lets the tantivy glue reuse buffers while the public
/// functions collect owned tokens.
pub(crate) trait TokenSink {
    fn push_token(
        &mut self,
        kind: TokenKind,
        text: &str,
        span: Range<usize>,
        position: usize,
        position_length: usize,
    );
}

impl TokenSink for Vec<AnalyzedToken> {
    fn push_token(
        &mut self,
        kind: TokenKind,
        text: &str,
        span: Range<usize>,
        position: usize,
        position_length: usize,
    ) {
        self.push(AnalyzedToken {
            text: text.to_string(),
            offset_from: span.start,
            offset_to: span.end,
            position,
            position_length,
            kind,
        });
    }
}
