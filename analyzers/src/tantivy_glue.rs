//! The analyzers as tantivy tokenizers, registered under stable names.
//!
//! Each tokenizer analyzes a whole value into a reused buffer, then streams it: analysis
//! needs the whole value (language detection, name parsing), and the buffer keeps token
//! strings allocated across values.

use std::collections::HashMap;
use std::ops::Range;

use rust_stemmers::{Algorithm, Stemmer};

use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer, TokenizerManager};

use crate::language::detect_language_of_tokens;
use crate::name::push_name_tokens;
use crate::normalize::fold_into;
use crate::text::{push_text_tokens, stem_in_place};
use crate::token::{TokenKind, TokenSink};

/// Name of the exact text analyzer: folded, unstemmed words, their parts and joined forms,
/// bigrams of Han, Kana and Hangul runs.
pub const TEXT_ANALYZER: &str = "atlas_text";
/// Name of the stemmed text analyzer: the tokens of [`TEXT_ANALYZER`] stemmed in the
/// language detected for each value. Index it in a separate field and boost the exact one.
pub const TEXT_STEM_ANALYZER: &str = "atlas_text_stem";
/// Name of the person-name analyzer: folded name words, joined forms, second spellings,
/// particle joins and initials; never stemmed.
pub const NAME_ANALYZER: &str = "atlas_name";
/// Name of the keyword analyzer: the whole value trimmed and folded as one token, for
/// identifiers (DOI, ORCID, ISSN).
pub const KEYWORD_ANALYZER: &str = "atlas_keyword";

/// Registers the four analyzers in `manager` under [`TEXT_ANALYZER`],
/// [`TEXT_STEM_ANALYZER`], [`NAME_ANALYZER`] and [`KEYWORD_ANALYZER`].
pub fn register(manager: &TokenizerManager) {
    manager.register(TEXT_ANALYZER, text_analyzer());
    manager.register(TEXT_STEM_ANALYZER, text_stem_analyzer());
    manager.register(NAME_ANALYZER, name_analyzer());
    manager.register(KEYWORD_ANALYZER, keyword_analyzer());
}

/// Returns the analyzer registered as [`TEXT_ANALYZER`].
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(AtlasTokenizer::new(AnalyzerKind::Text))
}

/// Returns the analyzer registered as [`TEXT_STEM_ANALYZER`].
pub fn text_stem_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(AtlasTokenizer::new(AnalyzerKind::TextStem))
}

/// Returns the analyzer registered as [`NAME_ANALYZER`].
pub fn name_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(AtlasTokenizer::new(AnalyzerKind::Name))
}

/// Returns the analyzer registered as [`KEYWORD_ANALYZER`].
pub fn keyword_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(AtlasTokenizer::new(AnalyzerKind::Keyword))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnalyzerKind {
    Text,
    TextStem,
    Name,
    Keyword,
}

/// A tantivy tokenizer running one of the crate's analyzers.
#[derive(Debug, Clone)]
pub struct AtlasTokenizer {
    kind: AnalyzerKind,
    buffer: TokenBuffer,
}

impl AtlasTokenizer {
    fn new(kind: AnalyzerKind) -> Self {
        AtlasTokenizer {
            kind,
            buffer: TokenBuffer::default(),
        }
    }
}

impl Tokenizer for AtlasTokenizer {
    type TokenStream<'a> = BufferedTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BufferedTokenStream<'a> {
        self.buffer.clear();
        match self.kind {
            AnalyzerKind::Text => {
                push_text_tokens(text, &mut self.buffer);
            }
            AnalyzerKind::TextStem => {
                push_text_tokens(text, &mut self.buffer);
                self.buffer.stem(text);
            }
            AnalyzerKind::Name => push_name_tokens(text, &mut self.buffer),
            AnalyzerKind::Keyword => {
                let trimmed = text.trim();
                let token = self.buffer.next_slot(0, TokenKind::Word);
                fold_into(trimmed, &mut token.text);
                let start = text.len() - text.trim_start().len();
                token.offset_from = start;
                token.offset_to = start + trimmed.len();
                if token.text.is_empty() {
                    self.buffer.clear();
                }
            }
        }
        BufferedTokenStream {
            tokens: &mut self.buffer.tokens[..self.buffer.num_tokens],
            kinds: &self.buffer.kinds[..self.buffer.num_tokens],
            current: None,
            placeholder: Token::default(),
        }
    }
}

/// Tokens of one value; slots past `num_tokens` keep their allocations for the next value.
#[derive(Debug, Clone, Default)]
struct TokenBuffer {
    tokens: Vec<Token>,
    kinds: Vec<TokenKind>,
    num_tokens: usize,
    stem_cache: StemCache,
}

/// Entries a stem cache holds before it starts over; word frequencies follow Zipf's law, so
/// a few ten thousand words cover most tokens of a corpus.
const MAX_STEM_CACHE_ENTRIES: usize = 32_768;

/// Stems of recently seen words per algorithm: Snowball stemming costs about a microsecond
/// a word and dominates stemmed analysis without it.
#[derive(Debug, Clone, Default)]
struct StemCache {
    algorithm: Option<Algorithm>,
    stems: HashMap<String, String>,
}

impl StemCache {
    fn stem_in_place(&mut self, algorithm: Algorithm, stemmer: &Stemmer, text: &mut String) {
        if self.algorithm != Some(algorithm) || self.stems.len() >= MAX_STEM_CACHE_ENTRIES {
            self.algorithm = Some(algorithm);
            self.stems.clear();
        }
        if let Some(stem) = self.stems.get(text.as_str()) {
            text.clear();
            text.push_str(stem);
            return;
        }
        let word = text.clone();
        stem_in_place(stemmer, TokenKind::Word, text);
        self.stems.insert(word, text.clone());
    }
}

impl TokenBuffer {
    fn clear(&mut self) {
        self.num_tokens = 0;
    }

    fn next_slot(&mut self, position: usize, kind: TokenKind) -> &mut Token {
        if self.num_tokens == self.tokens.len() {
            self.tokens.push(Token::default());
            self.kinds.push(kind);
        }
        self.kinds[self.num_tokens] = kind;
        let token = &mut self.tokens[self.num_tokens];
        self.num_tokens += 1;
        token.text.clear();
        token.position = position;
        token.position_length = 1;
        token
    }

    /// Stems the buffered tokens in the language detected for `text`.
    fn stem(&mut self, text: &str) {
        let tokens = &self.tokens[..self.num_tokens];
        let language =
            detect_language_of_tokens(text, tokens.iter().map(|token| token.text.as_str()));
        let Some(algorithm) = language.stem_algorithm else {
            return;
        };
        let stemmer = Stemmer::create(algorithm);
        for (token, kind) in self.tokens[..self.num_tokens].iter_mut().zip(&self.kinds) {
            if matches!(kind, TokenKind::Unigram | TokenKind::Bigram) {
                continue;
            }
            self.stem_cache
                .stem_in_place(algorithm, &stemmer, &mut token.text);
        }
    }
}

impl TokenSink for TokenBuffer {
    fn push_token(
        &mut self,
        kind: TokenKind,
        text: &str,
        span: Range<usize>,
        position: usize,
        position_length: usize,
    ) {
        let token = self.next_slot(position, kind);
        token.text.push_str(text);
        token.offset_from = span.start;
        token.offset_to = span.end;
        token.position_length = position_length;
    }
}

/// Streams the tokens an [`AtlasTokenizer`] buffered for one value.
#[derive(Debug)]
pub struct BufferedTokenStream<'a> {
    tokens: &'a mut [Token],
    kinds: &'a [TokenKind],
    current: Option<usize>,
    /// Returned by `token()` before the first or after the last `advance()`.
    placeholder: Token,
}

impl BufferedTokenStream<'_> {
    /// Returns what produced the current token.
    pub fn kind(&self) -> Option<TokenKind> {
        self.current
            .and_then(|index| self.kinds.get(index).copied())
    }
}

impl TokenStream for BufferedTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let next = self.current.map_or(0, |index| index + 1);
        if next >= self.tokens.len() {
            self.current = Some(self.tokens.len());
            return false;
        }
        self.current = Some(next);
        true
    }

    fn token(&self) -> &Token {
        self.current
            .and_then(|index| self.tokens.get(index))
            .unwrap_or(&self.placeholder)
    }

    fn token_mut(&mut self) -> &mut Token {
        match self.current {
            Some(index) if index < self.tokens.len() => &mut self.tokens[index],
            _ => &mut self.placeholder,
        }
    }
}
