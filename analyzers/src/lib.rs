//! Text analysis shared by indexing and querying: what a field value becomes in the index
//! decides what people can find, so the indexer and the search API both go through this
//! crate and the same input always yields the same tokens.
//!
//! It folds Unicode (NFKC, case, diacritics, letters such as ß, æ, ł), splits words at
//! Unicode word boundaries with their parts and joined forms (`o'brien` → `o`, `brien`,
//! `obrien`), indexes Han, Kana and Hangul runs as bigrams, stems per detected language,
//! parses person names and judges whether two name forms agree. It registers four tantivy
//! analyzers by stable name ([`register`]) and analyzes queries ([`parse_query`]). It leaves
//! schemas, ranking, typo budgets and retrieval to the indexer and the search API.
//!
//! The design choice that matters: every token carries the byte range of the *original*
//! text it comes from, and folding happens per word after segmentation, so highlighting
//! marks whole words even where normalization changed lengths (`ﬁeld`, `Wärmeschutz`).
//! Exact and stemmed tokens go to separate fields so an exact word can outrank a stemmed one.
//!
//! # Entry points
//!
//! - [`fold`]: the normalization, idempotent.
//! - [`text_tokens`], [`stemmed_tokens`], [`name_tokens`]: tokens with original offsets and
//!   positions, as the registered analyzers produce them.
//! - [`register`] with [`TEXT_ANALYZER`], [`TEXT_STEM_ANALYZER`], [`NAME_ANALYZER`],
//!   [`KEYWORD_ANALYZER`].
//! - [`parse_query`] / [`analyze_query`]: query words with `folded`, `num_chars`,
//!   `is_last`, `is_prefix`, phrases and exclusions.
//! - [`PersonName::parse`], [`PersonName::keys`], [`GivenNameVariants::load`],
//!   [`compatibility`].
//!
//! Known shortcomings: Thai, Lao, Khmer and Myanmar runs stay one token each, since
//! splitting them needs a dictionary segmenter. A two-letter surname written in capitals
//! before the given name (`LI Wei`) is read as initials, because `JQ Smith` is written the
//! same way; the comma form `LI, Wei` parses correctly.

mod cjk;
mod distance;
mod error;
mod language;
mod name;
mod normalize;
mod query;
mod tantivy_glue;
mod text;
mod token;
mod tokenize;

pub use cjk::is_bigram_script;
pub use distance::{max_surname_typos, osa_distance};
pub use error::{Error, Result};
pub use language::{
    detect_language, detect_language_with_whatlang, language_of_code, stem_algorithm,
    DetectedLanguage, DetectionMethod, FALLBACK_LATIN_STEMMER, MAX_DETECTION_NUM_BYTES,
    MIN_WHATLANG_CONFIDENCE,
};
pub use name::{
    agreement_of_keyed, author_pair, compatibility, default_variant_tables, is_particle,
    name_tokens, name_tokens_at_least, surname_agrees_in_part, surname_word_typos, AuthorKeys,
    AuthorLookup, GivenName, GivenNameVariants, NameAgreement, NameCompatibility, NameKeys,
    NamePart, NameProbe, PersonName, PAIR_SEPARATOR,
};
pub use normalize::{fold, fold_into, fold_respelled, is_diacritic_mark};
pub use query::{analyze_query, parse_query, AnalyzedQuery, QueryWord};
pub use rust_stemmers::Algorithm;
pub use tantivy_glue::{
    keyword_analyzer, name_analyzer, register, text_analyzer, text_stem_analyzer, AtlasTokenizer,
    BufferedTokenStream, KEYWORD_ANALYZER, NAME_ANALYZER, TEXT_ANALYZER, TEXT_STEM_ANALYZER,
};
pub use text::{stemmed_tokens, text_tokens};
pub use token::{AnalyzedToken, TokenKind};
pub use tokenize::{segment, Segment};
pub use whatlang::Lang;
