//! Typo tolerance: how many typos a query word may have (Meilisearch's rule on word
//! length), the distance between a query word and an indexed term, and the Levenshtein
//! automaton that finds the indexed terms within that distance.
//!
//! A typo is an insertion, a deletion, a substitution or the transposition of two adjacent
//! letters. In titles a typo on the first letter counts twice, as in Meilisearch, because
//! people rarely mistype the letter they start with; names forgive it at a higher ranking
//! cost, because names are often spelled by ear (`Kristensen`, `Christensen`).

use std::collections::HashMap;
use std::sync::OnceLock;

use analyzers::osa_distance;
use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder, DFA};
use tantivy::schema::Field;
use tantivy::Searcher;

use super::catalog::Analysis;
use super::tuning::{FIRST_LETTER_TYPO_EXTRA_COST_UNITS, TYPO_COST_UNITS};
use crate::error::{ApiError, Result};
use crate::params::TypoTolerance;

/// The number of typos a word of `num_chars` characters may have under `tolerance`.
pub fn max_typos_for_word_len(num_chars: usize, tolerance: &TypoTolerance) -> u8 {
    if !tolerance.enabled {
        return 0;
    }
    let sizes = tolerance.min_word_size_for_typos;
    if num_chars >= usize::from(sizes.two_typos) {
        2
    } else if num_chars >= usize::from(sizes.one_typo) {
        1
    } else {
        0
    }
}

/// How an indexed term relates to a query word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermDistance {
    /// Typos between the word and the term (or the term's prefix, for a prefix word).
    pub num_typos: u8,
    /// Whether the first letters differ.
    pub is_first_letter_typo: bool,
    /// Whether the term is longer than the word and matched as its completion.
    pub is_prefix: bool,
}

impl TermDistance {
    /// Returns the ranking cost of the match in the units of
    /// [`TYPO_COST_UNITS`], or `None` when `analysis` does not forgive it within
    /// `max_typos`.
    pub fn cost_units(&self, analysis: Analysis, max_typos: u8) -> Option<u32> {
        let counted_typos = match (analysis, self.is_first_letter_typo) {
            (Analysis::Name, _) | (_, false) => self.num_typos,
            (_, true) => self.num_typos + 1,
        };
        if counted_typos > max_typos {
            return None;
        }
        let mut cost = u32::from(self.num_typos) * TYPO_COST_UNITS;
        if self.is_first_letter_typo {
            cost += FIRST_LETTER_TYPO_EXTRA_COST_UNITS;
        }
        Some(cost)
    }
}

/// Returns how `term` relates to `word` within `max_typos`, or `None` when it is further.
/// With `as_prefix`, `term` may continue past the word (`attention` for `atten`).
pub fn term_distance(
    word: &str,
    term: &str,
    max_typos: u8,
    as_prefix: bool,
) -> Option<TermDistance> {
    let word: Vec<char> = word.chars().collect();
    let term: Vec<char> = term.chars().collect();
    let is_first_letter_typo = word.first() != term.first();
    if !as_prefix || term.len() <= word.len() {
        let num_typos = osa_distance(&word, &term);
        if num_typos <= usize::from(max_typos) {
            return Some(TermDistance {
                num_typos: num_typos as u8,
                is_first_letter_typo: is_first_letter_typo && num_typos > 0,
                is_prefix: false,
            });
        }
        if !as_prefix {
            return None;
        }
    }
    // A completion: the closest prefix of the term, within the typos allowed.
    let max_typos = usize::from(max_typos);
    let shortest = word.len().saturating_sub(max_typos).max(1);
    let longest = (word.len() + max_typos).min(term.len());
    (shortest..=longest)
        .map(|length| osa_distance(&word, &term[..length]))
        .min()
        .filter(|num_typos| *num_typos <= max_typos)
        .map(|num_typos| TermDistance {
            num_typos: num_typos as u8,
            is_first_letter_typo: is_first_letter_typo && num_typos > 0,
            is_prefix: term.len() > word.len() || num_typos > 0,
        })
}

/// A Levenshtein automaton over UTF-8 bytes, to stream the terms of a tantivy term
/// dictionary within a distance of a word.
pub struct WordAutomaton(DFA);

impl std::fmt::Debug for WordAutomaton {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("WordAutomaton")
    }
}

impl WordAutomaton {
    /// Returns the automaton accepting terms within `max_typos` of `word`, or terms that
    /// start with such a word when `as_prefix`.
    pub fn new(word: &str, max_typos: u8, as_prefix: bool) -> WordAutomaton {
        static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let distance = max_typos.min(2);
        let builder = BUILDERS[usize::from(distance)]
            .get_or_init(|| LevenshteinAutomatonBuilder::new(distance, true));
        let dfa = if as_prefix {
            builder.build_prefix_dfa(word)
        } else {
            builder.build_dfa(word)
        };
        WordAutomaton(dfa)
    }
}

impl tantivy_fst::Automaton for WordAutomaton {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// Returns the terms of `fields` in every shard of `searchers` that `automaton` accepts,
/// with the number of documents holding each, summed over shards; the first `max_terms`
/// found (in term order, shard by shard) when there are more.
///
/// # Errors
///
/// An internal error when a term dictionary cannot be read.
pub fn terms_accepted(
    searchers: &[Searcher],
    fields: &[Field],
    automaton: &WordAutomaton,
    max_terms: usize,
) -> Result<HashMap<String, u64>> {
    let mut frequencies: HashMap<String, u64> = HashMap::new();
    for searcher in searchers {
        for segment in searcher.segment_readers() {
            for field in fields {
                let inverted_index = segment.inverted_index(*field).map_err(ApiError::internal)?;
                let mut stream = inverted_index
                    .terms()
                    .search(automaton)
                    .into_stream()
                    .map_err(ApiError::internal)?;
                while stream.advance() {
                    let Ok(term) = std::str::from_utf8(stream.key()) else {
                        continue;
                    };
                    let num_docs = u64::from(stream.value().doc_freq);
                    *frequencies.entry(term.to_owned()).or_default() += num_docs;
                    if frequencies.len() >= max_terms {
                        return Ok(frequencies);
                    }
                }
            }
        }
    }
    Ok(frequencies)
}

#[cfg(test)]
mod tests {
    //! Properties checked:
    //!
    //! 1. no typo under 5 characters, one from 5, two from 9 (Meilisearch's defaults);
    //! 2. a transposition is one typo;
    //! 3. a first-letter typo counts twice in titles and is forgiven in names at a cost
    //!    above an ordinary typo;
    //! 4. a prefix word matches its completions, with typos in the typed part only.

    use super::*;

    fn distance(word: &str, term: &str) -> usize {
        let word: Vec<char> = word.chars().collect();
        let term: Vec<char> = term.chars().collect();
        osa_distance(&word, &term)
    }

    #[test]
    fn typo_budget_follows_word_length() {
        let tolerance = TypoTolerance::default();
        let budgets: Vec<u8> = (1..=10)
            .map(|len| max_typos_for_word_len(len, &tolerance))
            .collect();
        assert_eq!(budgets, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
        let disabled = TypoTolerance {
            enabled: false,
            ..TypoTolerance::default()
        };
        assert_eq!(max_typos_for_word_len(12, &disabled), 0);
    }

    #[test]
    fn transposition_is_one_typo() {
        assert_eq!(distance("thoery", "theory"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("muller", "muller"), 0);
    }

    #[test]
    fn first_letter_typo_counts_twice_in_titles_only() {
        let found = term_distance("kowalski", "cowalski", 1, false).unwrap();
        assert!(found.is_first_letter_typo);
        assert_eq!(found.cost_units(Analysis::Text, 1), None);
        let name_cost = found.cost_units(Analysis::Name, 1).unwrap();
        let ordinary = term_distance("kowalski", "kowalsky", 1, false).unwrap();
        assert!(name_cost > ordinary.cost_units(Analysis::Name, 1).unwrap());
        assert_eq!(found.cost_units(Analysis::Text, 2), Some(name_cost));
    }

    #[test]
    fn prefix_words_match_completions() {
        let completion = term_distance("atten", "attention", 1, true).unwrap();
        assert_eq!(completion.num_typos, 0);
        assert!(completion.is_prefix);
        let mistyped = term_distance("atetn", "attention", 1, true).unwrap();
        assert_eq!(mistyped.num_typos, 1);
        assert_eq!(term_distance("atten", "attention", 1, false), None);
        assert!(term_distance("y", "you", 0, true).is_some());
    }
}
