//! The title, abstract and venue analyzers: folded words with their parts and joined forms,
//! bigrams for scripts without spaces, and the stemmed variant in the value's language.

use std::ops::Range;

use rust_stemmers::Stemmer;

use crate::cjk;
use crate::language::{detect_language_of_tokens, DetectedLanguage};
use crate::normalize::fold_into;
use crate::token::{AnalyzedToken, TokenKind, TokenSink};
use crate::tokenize::{segment, Segment};

/// Returns the exact (unstemmed) tokens of `text`, as indexed by
/// [`crate::TEXT_ANALYZER`].
pub fn text_tokens(text: &str) -> Vec<AnalyzedToken> {
    let mut tokens = Vec::new();
    push_text_tokens(text, &mut tokens);
    tokens
}

/// Returns the stemmed tokens of `text` and the language they were stemmed for, as indexed
/// by [`crate::TEXT_STEM_ANALYZER`].
pub fn stemmed_tokens(text: &str) -> (DetectedLanguage, Vec<AnalyzedToken>) {
    let mut tokens = text_tokens(text);
    let language = detect_language_of_tokens(text, tokens.iter().map(|token| token.text.as_str()));
    if let Some(stemmer) = language.stemmer() {
        for token in &mut tokens {
            stem_in_place(&stemmer, token.kind, &mut token.text);
        }
    }
    (language, tokens)
}

/// Replaces `text` by its stem when the token is a word or a part of one.
pub(crate) fn stem_in_place(stemmer: &Stemmer, kind: TokenKind, text: &mut String) {
    if matches!(kind, TokenKind::Unigram | TokenKind::Bigram) {
        return;
    }
    if let std::borrow::Cow::Owned(stem) = stemmer.stem(text) {
        *text = stem;
    }
}

/// Writes the exact tokens of `text` into `sink`, returning the next free position.
pub(crate) fn push_text_tokens(text: &str, sink: &mut impl TokenSink) -> usize {
    let mut writer = TextTokenWriter {
        text,
        position: 0,
        folded: String::new(),
        units: Vec::new(),
    };
    segment(text, |segment| match segment {
        Segment::Word { span, parts } => writer.push_word(span, parts, sink),
        Segment::BigramRun { span } => writer.push_bigram_run(span, sink),
    });
    writer.position
}

struct TextTokenWriter<'t> {
    text: &'t str,
    position: usize,
    folded: String,
    units: Vec<Range<usize>>,
}

impl TextTokenWriter<'_> {
    fn push_word(&mut self, span: Range<usize>, parts: &[Range<usize>], sink: &mut impl TokenSink) {
        if let [only_part] = parts {
            self.folded.clear();
            fold_into(&self.text[only_part.clone()], &mut self.folded);
            if !self.folded.is_empty() {
                sink.push_token(TokenKind::Word, &self.folded, span, self.position, 1);
                self.position += 1;
            }
            return;
        }

        // Fold every part once into one buffer: the joined form is the buffer itself.
        self.folded.clear();
        let mut part_ends: Vec<(Range<usize>, usize)> = Vec::with_capacity(parts.len());
        for part in parts {
            let before = self.folded.len();
            fold_into(&self.text[part.clone()], &mut self.folded);
            if self.folded.len() > before {
                part_ends.push((part.clone(), before));
            }
        }
        let num_parts = part_ends.len();
        let first_position = self.position;
        for (index, (part_span, part_start)) in part_ends.iter().enumerate() {
            let part_end = part_ends
                .get(index + 1)
                .map_or(self.folded.len(), |next| next.1);
            let part_text = &self.folded[*part_start..part_end];
            let kind = if num_parts == 1 {
                TokenKind::Word
            } else {
                TokenKind::Part
            };
            sink.push_token(kind, part_text, part_span.clone(), self.position, 1);
            if index == 0 && num_parts > 1 {
                let joined = &self.folded;
                sink.push_token(
                    TokenKind::Joined,
                    joined,
                    span.clone(),
                    first_position,
                    num_parts,
                );
            }
            self.position += 1;
        }
    }

    fn push_bigram_run(&mut self, span: Range<usize>, sink: &mut impl TokenSink) {
        cjk::units(&self.text[span.clone()], span.start, &mut self.units);
        for (index, unit) in self.units.iter().enumerate() {
            self.folded.clear();
            fold_into(&self.text[unit.clone()], &mut self.folded);
            if self.folded.is_empty() {
                continue;
            }
            sink.push_token(
                TokenKind::Unigram,
                &self.folded,
                unit.clone(),
                self.position,
                1,
            );
            if let Some(next_unit) = self.units.get(index + 1) {
                fold_into(&self.text[next_unit.clone()], &mut self.folded);
                let bigram_span = unit.start..next_unit.end;
                sink.push_token(
                    TokenKind::Bigram,
                    &self.folded,
                    bigram_span,
                    self.position,
                    2,
                );
            }
            self.position += 1;
        }
    }
}
