//! The person-name analyzer: folded name words with their parts and joined forms, second
//! spellings (umlauts as digraphs, Greek and Cyrillic romanized) and particle joins at the
//! same position, and the initials of given names, so
//! that every written form of a name meets the others in the index. Never stemmed.

use std::collections::HashSet;
use std::ops::Range;

use super::parse::{is_particle, PersonName};
use crate::normalize::fold_respelled;
use crate::text::push_text_tokens;
use crate::token::{AnalyzedToken, TokenKind, TokenSink};

/// Returns the tokens of one person name, as indexed by [`crate::NAME_ANALYZER`]. A
/// multi-valued author field is analyzed one name at a time.
pub fn name_tokens(name: &str) -> Vec<AnalyzedToken> {
    let mut tokens = Vec::new();
    push_name_tokens(name, &mut tokens);
    tokens
}

/// Returns the tokens of [`name_tokens`] that can be `shortest` characters long or longer:
/// the same tokens, but for the initials when none of them can be that long. Finding
/// initials means parsing the name, the dearest step of analysing it; a search whose
/// words are all longer than the initials a name can have needs none of them. The
/// initials are left out when `shortest` is at least 2 and more than
/// [`max_num_initials`].
pub fn name_tokens_at_least(name: &str, shortest: usize) -> Vec<AnalyzedToken> {
    let mut tokens = Vec::new();
    let may_hold_initials = shortest <= 1 || max_num_initials(name) >= shortest;
    write_name_tokens(name, may_hold_initials, &mut tokens);
    tokens
}

/// Returns the most initials `name` can have: a given name starts a run of letters or
/// digits and each of its components (`Jean-Pierre`) another, and initials written
/// together (`JQ`, `JQR`) are a run of at most three letters without a lowercase one,
/// counted letter by letter.
fn max_num_initials(name: &str) -> usize {
    let mut num_initials = 0;
    let mut run_len = 0;
    let mut run_has_lowercase = false;
    let count_run = |run_len: usize, has_lowercase: bool| match run_len {
        0 => 0,
        1..=3 if !has_lowercase => run_len,
        _ => 1,
    };
    for character in name.chars() {
        if character.is_alphanumeric() {
            run_len += 1;
            run_has_lowercase |= character.is_lowercase();
        } else {
            num_initials += count_run(run_len, run_has_lowercase);
            run_len = 0;
            run_has_lowercase = false;
        }
    }
    num_initials + count_run(run_len, run_has_lowercase)
}

/// The terms a search looks for among the tokens of person names, to tell cheaply, without
/// analysing a name, that it holds none of them: a search for a name ranks thousands of
/// records, whose co-authors hold none of its words, and analysing every author name was
/// most of ranking. Only names written in ASCII are told apart; any other may hold any
/// term.
///
/// In an ASCII name, every token but the initials is a run of letters and digits, or
/// runs joined, lowercased: a substring of the name's letters and digits written together.
/// A one-letter token starts a run (or a digit run within one, or is a letter of a run of
/// at most three capitals, as initials written together are), and initials written
/// together are no more than [`max_num_initials`].
#[derive(Debug, Clone, Default)]
pub struct NameProbe {
    /// The first three bytes of each term of three bytes or more.
    trigrams: HashSet<[u8; 3]>,
    /// The terms of two bytes.
    pairs: HashSet<[u8; 2]>,
    /// The terms of one byte, as bits by byte value.
    letters: u128,
    /// The fewest bytes of a term of two bytes or more.
    shortest_multi: usize,
    /// Whether a term is not ASCII, in which case every name may hold a term.
    has_other: bool,
}

impl NameProbe {
    /// Returns the probe of `terms`, lowercase as name tokens are.
    pub fn new<'t>(terms: impl IntoIterator<Item = &'t str>) -> NameProbe {
        let mut probe = NameProbe {
            shortest_multi: usize::MAX,
            ..NameProbe::default()
        };
        for term in terms {
            let bytes = term.as_bytes();
            if !term.is_ascii() || bytes.iter().any(u8::is_ascii_uppercase) {
                probe.has_other = true;
                continue;
            }
            match bytes {
                [] => {}
                [letter] => probe.letters |= 1u128 << letter,
                [first, second] => {
                    probe.pairs.insert([*first, *second]);
                }
                [first, second, third, ..] => {
                    probe.trigrams.insert([*first, *second, *third]);
                }
            }
            if bytes.len() >= 2 {
                probe.shortest_multi = probe.shortest_multi.min(bytes.len());
            }
        }
        probe
    }

    /// Returns `false` only when no token of `name` can be one of the probe's terms.
    pub fn may_hold(&self, name: &str) -> bool {
        if self.has_other || !name.is_ascii() {
            return true;
        }
        let mut joined: Vec<u8> = Vec::with_capacity(name.len());
        let mut single_letters = 0u128;
        let mut run_start = 0;
        let mut previous_is_digit: Option<bool> = None;
        let mut run_has_lowercase = false;
        let end_run =
            |joined: &[u8], run_start: usize, has_lowercase: bool, single_letters: &mut u128| {
                let run = &joined[run_start..];
                if run.len() <= 3 && !has_lowercase {
                    for &letter in run {
                        *single_letters |= 1u128 << letter;
                    }
                }
            };
        for &byte in name.as_bytes() {
            if byte.is_ascii_alphanumeric() {
                let is_digit = byte.is_ascii_digit();
                let lower = byte.to_ascii_lowercase();
                if previous_is_digit.is_none() {
                    run_start = joined.len();
                    run_has_lowercase = false;
                }
                run_has_lowercase |= byte.is_ascii_lowercase();
                if previous_is_digit != Some(is_digit) {
                    single_letters |= 1u128 << lower;
                }
                joined.push(lower);
                previous_is_digit = Some(is_digit);
                continue;
            }
            if !is_name_separator(byte) {
                // A symbol some analysis may keep in a token.
                return true;
            }
            if previous_is_digit.is_some() {
                end_run(&joined, run_start, run_has_lowercase, &mut single_letters);
            }
            previous_is_digit = None;
        }
        if previous_is_digit.is_some() {
            end_run(&joined, run_start, run_has_lowercase, &mut single_letters);
        }
        if single_letters & self.letters != 0 {
            return true;
        }
        if self.shortest_multi <= max_num_initials(name) {
            return true;
        }
        (!self.pairs.is_empty()
            && joined
                .windows(2)
                .any(|pair| self.pairs.contains(&[pair[0], pair[1]])))
            || (!self.trigrams.is_empty()
                && joined.windows(3).any(|trigram| {
                    self.trigrams
                        .contains(&[trigram[0], trigram[1], trigram[2]])
                }))
    }
}

/// Returns whether `byte` only separates the words of a name: whitespace and the
/// punctuation of written names.
fn is_name_separator(byte: u8) -> bool {
    byte.is_ascii_whitespace() || b".,-'()[];:/\"".contains(&byte)
}

/// Writes the name tokens of `name` into `sink`, in position order (tantivy records the
/// positions of a term as increasing deltas).
pub(crate) fn push_name_tokens(name: &str, sink: &mut impl TokenSink) {
    write_name_tokens(name, true, sink);
}

/// Writes the name tokens of `name` into `sink`, the initials only when `with_initials`.
fn write_name_tokens(name: &str, with_initials: bool, sink: &mut impl TokenSink) {
    let mut tokens: Vec<AnalyzedToken> = Vec::new();
    let mut recorder = WordRecorder {
        name,
        sink: &mut tokens,
        words: Vec::new(),
    };
    push_text_tokens(name, &mut recorder);
    let words = recorder.words;

    push_particle_joins(&words, &mut tokens);
    if with_initials {
        push_initials(name, &words, &mut tokens);
    }
    tokens.sort_by_key(|token| token.position);
    for token in tokens {
        let span = token.offset_from..token.offset_to;
        sink.push_token(
            token.kind,
            &token.text,
            span,
            token.position,
            token.position_length,
        );
    }
}

/// Longest value parsed as a person name for initials; a longer value is not one name
/// (an affiliation or a whole author list in one field) and gets word tokens only.
const MAX_PARSED_NAME_NUM_BYTES: usize = 512;

/// A word token as emitted, kept to derive particle joins and initials.
struct RecordedWord {
    folded: String,
    span: Range<usize>,
    position: usize,
}

/// Passes word tokens through, adds their second spellings, and records whole words.
struct WordRecorder<'n, S> {
    name: &'n str,
    sink: &'n mut S,
    words: Vec<RecordedWord>,
}

impl<S: TokenSink> TokenSink for WordRecorder<'_, S> {
    fn push_token(
        &mut self,
        kind: TokenKind,
        text: &str,
        span: Range<usize>,
        position: usize,
        position_length: usize,
    ) {
        self.sink
            .push_token(kind, text, span.clone(), position, position_length);
        if !matches!(kind, TokenKind::Word | TokenKind::Part | TokenKind::Joined) {
            return;
        }
        let original = &self.name[span.clone()];
        if let Some(mut respelled) = fold_respelled(original) {
            respelled.retain(char::is_alphanumeric);
            if !respelled.is_empty() && respelled != text {
                let variant_span = span.clone();
                self.sink.push_token(
                    TokenKind::Variant,
                    &respelled,
                    variant_span,
                    position,
                    position_length,
                );
            }
        }
        if matches!(kind, TokenKind::Word | TokenKind::Joined) {
            self.words.push(RecordedWord {
                folded: text.to_string(),
                span,
                position,
            });
        }
    }
}

/// Emits `vanderberg` and `derberg` for `van der Berg`, `obrien` for `O Brien`: a particle
/// written apart is also indexed attached to the word that follows it.
fn push_particle_joins(words: &[RecordedWord], sink: &mut impl TokenSink) {
    for (start, word) in words.iter().enumerate() {
        if !is_particle(&word.folded) && !matches!(word.folded.as_str(), "o" | "d" | "l") {
            continue;
        }
        let mut joined = word.folded.clone();
        for next in &words[start + 1..] {
            joined.push_str(&next.folded);
            if is_particle(&next.folded) {
                continue;
            }
            let span = word.span.start..next.span.end;
            let position_length = next.position + 1 - word.position;
            sink.push_token(
                TokenKind::ParticleJoined,
                &joined,
                span,
                word.position,
                position_length,
            );
            break;
        }
    }
}

/// Emits the initial of each full given name at its position, and the initials of all given
/// names together (`jq` for `John Q. Smith`) at the first one's position.
fn push_initials(name: &str, words: &[RecordedWord], sink: &mut impl TokenSink) {
    if name.len() > MAX_PARSED_NAME_NUM_BYTES {
        return;
    }
    let parsed = PersonName::parse(name);
    let mut initials = String::new();
    let mut initials_span: Option<Range<usize>> = None;
    let mut first_position = None;
    for given in &parsed.given {
        let Some(word) = words
            .iter()
            .find(|word| word.span.start == given.part.span.start)
        else {
            continue;
        };
        first_position.get_or_insert(word.position);
        let span = initials_span.get_or_insert(given.part.span.clone());
        span.end = given.part.span.end.max(span.end);
        for (component, respelled) in given.components().zip(given.respelled_components()) {
            let Some(initial) = component.chars().next() else {
                continue;
            };
            initials.push(initial);
            if given.is_initial {
                continue;
            }
            // A given name in another script also has the initial of its romanized
            // spelling (`g` for `Γεώργιος`).
            let other = respelled
                .and_then(|respelled| respelled.chars().next())
                .filter(|other| *other != initial);
            for letter in std::iter::once(initial).chain(other) {
                let mut buffer = [0u8; 4];
                sink.push_token(
                    TokenKind::Initial,
                    letter.encode_utf8(&mut buffer),
                    given.part.span.clone(),
                    word.position,
                    1,
                );
            }
        }
    }
    let (Some(span), Some(position)) = (initials_span, first_position) else {
        return;
    };
    if initials.chars().count() >= 2 && !words.iter().any(|word| word.folded == initials) {
        sink.push_token(TokenKind::Initial, &initials, span, position, 1);
    }
}
