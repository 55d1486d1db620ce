//! Query-side analysis: a small Meilisearch-style query parser (words, `"quoted phrases"`,
//! leading `-` exclusion) whose words go through the same folding as indexed text, with what
//! the search API needs for typo tolerance, prefix search and stemming.

use std::ops::Range;

use crate::cjk;
use crate::language::{detect_language_of_tokens, DetectedLanguage};
use crate::normalize::fold_into;
use crate::tokenize::{segment, Segment};

/// One query word after analysis.
///
/// A document matches the word when its field holds `folded` as a token, or holds `parts`
/// at consecutive positions: `o'brien` has the parts `o`, `brien`; a Han or Kana run of
/// three characters or more has its bigrams as parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    /// Byte range of the word in the query, for highlighting the query itself.
    pub original: Range<usize>,
    /// The folded word, written together when it had parts.
    pub folded: String,
    /// The folded parts when the word is split (see above); empty for a simple word.
    pub parts: Vec<String>,
    /// Length of `folded` in characters, which decides how many typos it may have.
    pub num_chars: usize,
    /// True for the last word of the query.
    pub is_last: bool,
    /// True when the word is matched as a prefix: the last word, typed without a following
    /// space, outside quotes and not excluded.
    pub is_prefix: bool,
    /// The quoted phrase the word belongs to, numbered from 0 in query order.
    pub phrase_id: Option<usize>,
    /// True for words that documents must not contain (`-word`, `-"a phrase"`).
    pub is_excluded: bool,
    /// True for a run of Han, Kana or Hangul characters, where typos make no sense.
    pub is_bigram_run: bool,
    /// The stem of `folded` in the query's language, for the stemmed field; `None` when the
    /// query's script has no stemmer.
    pub stem: Option<String>,
    /// This word and the next written together (`o brien` → `obrien`), to match a document
    /// that writes them as one word; only between two plain words.
    pub joined_with_next: Option<String>,
}

/// An analyzed query: its words in order, the number of quoted phrases, its language.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzedQuery {
    /// The words, in query order, excluded ones included.
    pub words: Vec<QueryWord>,
    /// Number of quoted phrases; `phrase_id` is below it.
    pub num_phrases: usize,
    /// The language the stems were computed for.
    pub language: DetectedLanguage,
}

/// Returns the analyzed words of `query`; see [`parse_query`] for the whole analysis.
pub fn analyze_query(query: &str) -> Vec<QueryWord> {
    parse_query(query).words
}

/// Parses and analyzes `query`. Never fails: an unclosed quote runs to the end of the query,
/// a lone `-` is a separator.
pub fn parse_query(query: &str) -> AnalyzedQuery {
    let chunks = query_chunks(query);
    let num_phrases = chunks.iter().filter_map(|chunk| chunk.phrase_id).count();
    let mut words: Vec<QueryWord> = Vec::new();
    for chunk in &chunks {
        push_chunk_words(query, chunk, &mut words);
    }

    let num_words = words.len();
    let ends_with_word = words
        .last()
        .is_some_and(|word| word.original.end == query.len());
    for (index, word) in words.iter_mut().enumerate() {
        word.is_last = index + 1 == num_words;
        word.is_prefix = word.is_last
            && ends_with_word
            && word.phrase_id.is_none()
            && !word.is_excluded
            && !word.is_bigram_run;
    }
    for index in 1..num_words {
        let (previous, next) = (&words[index - 1], &words[index]);
        let joinable =
            |word: &QueryWord| word.phrase_id.is_none() && !word.is_excluded && !word.is_bigram_run;
        if joinable(previous) && joinable(next) {
            words[index - 1].joined_with_next = Some(format!("{}{}", previous.folded, next.folded));
        }
    }

    let language = detect_language_of_tokens(query, words.iter().map(|word| word.folded.as_str()));
    if let Some(stemmer) = language.stemmer() {
        for word in words.iter_mut().filter(|word| !word.is_bigram_run) {
            word.stem = Some(stemmer.stem(&word.folded).into_owned());
        }
    }
    AnalyzedQuery {
        words,
        num_phrases,
        language,
    }
}

#[derive(Debug)]
struct QueryChunk {
    span: Range<usize>,
    phrase_id: Option<usize>,
    is_excluded: bool,
}

/// Splits a query into plain chunks and quoted phrases, each possibly excluded.
fn query_chunks(query: &str) -> Vec<QueryChunk> {
    let bytes = query.as_bytes();
    let mut chunks = Vec::new();
    let mut num_phrases = 0;
    let mut index = 0;
    while index < bytes.len() {
        let rest = &query[index..];
        let trimmed = rest.trim_start();
        index += rest.len() - trimmed.len();
        if index >= bytes.len() {
            break;
        }
        let is_excluded = bytes[index] == b'-'
            && query[index + 1..]
                .chars()
                .next()
                .is_some_and(|next| !next.is_whitespace());
        if is_excluded {
            index += 1;
        }
        if bytes[index] == b'"' {
            let start = index + 1;
            let end = query[start..]
                .find('"')
                .map_or(query.len(), |offset| start + offset);
            chunks.push(QueryChunk {
                span: start..end,
                phrase_id: Some(num_phrases),
                is_excluded,
            });
            num_phrases += 1;
            index = (end + 1).min(query.len());
            continue;
        }
        let end = query[index..]
            .find(|ch: char| ch.is_whitespace() || ch == '"')
            .map_or(query.len(), |offset| index + offset);
        chunks.push(QueryChunk {
            span: index..end,
            phrase_id: None,
            is_excluded,
        });
        index = end;
    }
    chunks
}

fn push_chunk_words(query: &str, chunk: &QueryChunk, words: &mut Vec<QueryWord>) {
    let chunk_text = &query[chunk.span.clone()];
    let chunk_start = chunk.span.start;
    let mut units = Vec::new();
    segment(chunk_text, |segment| {
        let (span, folded, parts, is_bigram_run) = match segment {
            Segment::Word { span, parts } => {
                let folded_parts: Vec<String> = parts
                    .iter()
                    .map(|part| crate::normalize::fold(&chunk_text[part.clone()]))
                    .filter(|part| !part.is_empty())
                    .collect();
                let folded = folded_parts.concat();
                let parts = if folded_parts.len() > 1 {
                    folded_parts
                } else {
                    Vec::new()
                };
                (span, folded, parts, false)
            }
            Segment::BigramRun { span } => {
                cjk::units(&chunk_text[span.clone()], span.start, &mut units);
                let folded = crate::normalize::fold(&chunk_text[span.clone()]);
                let parts = if units.len() > 2 {
                    units
                        .windows(2)
                        .map(|pair| {
                            let mut bigram = String::new();
                            fold_into(&chunk_text[pair[0].start..pair[1].end], &mut bigram);
                            bigram
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                (span, folded, parts, true)
            }
        };
        if folded.is_empty() {
            return;
        }
        words.push(QueryWord {
            original: chunk_start + span.start..chunk_start + span.end,
            num_chars: folded.chars().count(),
            folded,
            parts,
            is_last: false,
            is_prefix: false,
            phrase_id: chunk.phrase_id,
            is_excluded: chunk.is_excluded,
            is_bigram_run,
            stem: None,
            joined_with_next: None,
        });
    });
}
