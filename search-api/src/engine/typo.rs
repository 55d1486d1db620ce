//! Typo tolerance: how many typos a query word may have (Meilisearch's rule on word
//! length), the distance between a query word and an indexed term, and the Levenshtein
//! automaton that finds the indexed terms within that distance.
//!
//! A typo is an insertion, a deletion, a substitution or the transposition of two adjacent
//! letters. In titles a typo on the first letter counts twice, as in Meilisearch, because
//! people rarely mistype the letter they start with; names forgive it at a higher ranking
//! cost, because names are often spelled by ear (`Kristensen`, `Christensen`).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use analyzers::osa_distance;
use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder, DFA};
use tantivy::schema::Field;
use tantivy::SegmentReader;

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
///
/// Where a typo on the first letter counts as one more (titles and venues, see
/// [`TermDistance::cost_units`]), a term whose first letter differs is followed by the
/// automaton of one typo less, and by none under one typo: the walk of the dictionary
/// beyond the first letter then stays under the word's own letter, where a large
/// dictionary holds a small share of its terms, instead of visiting every term within
/// the full distance only for the typo rules to refuse it afterwards.
pub struct WordAutomaton {
    /// Terms within the word's distance.
    within: Arc<DFA>,
    /// Terms within one typo less, followed once a term's first letter differs from the
    /// word's; `None` when such a term is never accepted.
    other_first_letter: Option<Arc<DFA>>,
    /// The word's first letter, UTF-8 encoded; empty when its typos cost as any other.
    first_letter: Vec<u8>,
}

/// The Levenshtein automata of one word, each built once however many analyses walk
/// their dictionaries with it: building the automaton of two typos for a long word is
/// the dearest step of expanding it.
pub struct WordDfas<'w> {
    word: &'w str,
    max_typos: u8,
    as_prefix: bool,
    /// The automata built, by distance.
    built: [Option<Arc<DFA>>; 3],
}

impl<'w> WordDfas<'w> {
    /// Returns the automata of `word` within `max_typos`, and of one typo less, built as
    /// asked; with `as_prefix` they accept the terms starting with such a word.
    pub fn new(word: &'w str, max_typos: u8, as_prefix: bool) -> WordDfas<'w> {
        WordDfas {
            word,
            max_typos,
            as_prefix,
            built: [None, None, None],
        }
    }

    /// Returns the automaton within `distance` (at most 2), built on first use.
    fn within(&mut self, distance: u8) -> Arc<DFA> {
        static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let distance = usize::from(distance.min(2));
        let (word, as_prefix) = (self.word, self.as_prefix);
        let dfa = self.built[distance].get_or_insert_with(|| {
            let builder = BUILDERS[distance]
                .get_or_init(|| LevenshteinAutomatonBuilder::new(distance as u8, true));
            Arc::new(if as_prefix {
                builder.build_prefix_dfa(word)
            } else {
                builder.build_dfa(word)
            })
        });
        Arc::clone(dfa)
    }
}

/// Where a [`WordAutomaton`] is in a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordState {
    within: u32,
    other_first_letter: u32,
    first_letter: FirstLetter,
}

/// How a term's first letter compares with the word's, as far as it has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstLetter {
    /// This many bytes of the first letter match so far.
    Reading(u8),
    Same,
    Other,
}

impl std::fmt::Debug for WordAutomaton {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("WordAutomaton")
    }
}

impl WordAutomaton {
    /// Returns the automaton accepting terms within `max_typos` of `word`, or terms that
    /// start with such a word when `as_prefix`. With `first_letter_costs_more`, a term
    /// whose first letter differs is accepted within `max_typos - 1` only.
    pub fn new(
        word: &str,
        max_typos: u8,
        as_prefix: bool,
        first_letter_costs_more: bool,
    ) -> WordAutomaton {
        WordAutomaton::sharing(
            &mut WordDfas::new(word, max_typos, as_prefix),
            first_letter_costs_more,
        )
    }

    /// Returns the automaton of the word of `dfas`, as [`WordAutomaton::new`], built from
    /// the automata `dfas` holds or builds and keeps for the word's other automata.
    pub fn sharing(dfas: &mut WordDfas<'_>, first_letter_costs_more: bool) -> WordAutomaton {
        let max_typos = dfas.max_typos;
        let first_letter = match dfas.word.chars().next() {
            Some(first) if first_letter_costs_more => {
                first.encode_utf8(&mut [0; 4]).as_bytes().to_vec()
            }
            _ => Vec::new(),
        };
        let other_first_letter = if first_letter.is_empty() || max_typos == 0 {
            None
        } else {
            Some(dfas.within(max_typos - 1))
        };
        WordAutomaton {
            within: dfas.within(max_typos),
            other_first_letter,
            first_letter,
        }
    }

    fn other_state(&self, state: u32, byte: u8) -> u32 {
        match &self.other_first_letter {
            Some(dfa) => dfa.transition(state, byte),
            None => levenshtein_automata::SINK_STATE,
        }
    }

    fn is_other_match(&self, state: u32) -> bool {
        self.other_first_letter
            .as_ref()
            .is_some_and(|dfa| matches!(dfa.distance(state), Distance::Exact(_)))
    }
}

impl tantivy_fst::Automaton for WordAutomaton {
    type State = WordState;

    fn start(&self) -> WordState {
        WordState {
            within: self.within.initial_state(),
            other_first_letter: self
                .other_first_letter
                .as_ref()
                .map_or(levenshtein_automata::SINK_STATE, |dfa| dfa.initial_state()),
            first_letter: if self.first_letter.is_empty() {
                FirstLetter::Same
            } else {
                FirstLetter::Reading(0)
            },
        }
    }

    fn is_match(&self, state: &WordState) -> bool {
        match state.first_letter {
            FirstLetter::Same => matches!(self.within.distance(state.within), Distance::Exact(_)),
            // A term that ends within the word's first letter starts with another one.
            FirstLetter::Other | FirstLetter::Reading(_) => {
                self.is_other_match(state.other_first_letter)
            }
        }
    }

    fn can_match(&self, state: &WordState) -> bool {
        let sink = levenshtein_automata::SINK_STATE;
        match state.first_letter {
            FirstLetter::Same => state.within != sink,
            FirstLetter::Other => state.other_first_letter != sink,
            FirstLetter::Reading(_) => state.within != sink || state.other_first_letter != sink,
        }
    }

    fn accept(&self, state: &WordState, byte: u8) -> WordState {
        let sink = levenshtein_automata::SINK_STATE;
        let first_letter = match state.first_letter {
            FirstLetter::Reading(num_read) => {
                let num_read = usize::from(num_read);
                if self.first_letter[num_read] != byte {
                    FirstLetter::Other
                } else if num_read + 1 == self.first_letter.len() {
                    FirstLetter::Same
                } else {
                    FirstLetter::Reading(num_read as u8 + 1)
                }
            }
            settled => settled,
        };
        WordState {
            within: if first_letter == FirstLetter::Other {
                sink
            } else {
                self.within.transition(state.within, byte)
            },
            other_first_letter: if first_letter == FirstLetter::Same {
                sink
            } else {
                self.other_state(state.other_first_letter, byte)
            },
            first_letter,
        }
    }
}

/// Adds the terms of `fields` in `segments` that `automaton` accepts, with the documents
/// holding each, to `frequencies`, until it holds `max_terms`.
///
/// # Errors
///
/// An internal error when a term dictionary cannot be read.
pub fn accept_terms<'s>(
    segments: impl Iterator<Item = &'s SegmentReader>,
    fields: &[Field],
    automaton: &WordAutomaton,
    frequencies: &mut HashMap<String, u64>,
    max_terms: usize,
) -> Result<()> {
    for segment in segments {
        for field in fields {
            if frequencies.len() >= max_terms {
                return Ok(());
            }
            let inverted_index = segment.inverted_index(*field).map_err(ApiError::internal)?;
            let mut stream = inverted_index
                .terms()
                .search(automaton)
                .into_stream()
                .map_err(ApiError::internal)?;
            while frequencies.len() < max_terms && stream.advance() {
                let Ok(term) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                let num_docs = u64::from(stream.value().doc_freq);
                *frequencies.entry(term.to_owned()).or_default() += num_docs;
            }
        }
    }
    Ok(())
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

    /// Returns the terms of `vocabulary` the automaton of `word` accepts.
    fn accepted(
        vocabulary: &[&str],
        word: &str,
        max_typos: u8,
        as_prefix: bool,
        analysis: Analysis,
    ) -> Vec<String> {
        use tantivy_fst::{IntoStreamer, Streamer};
        let mut sorted = vocabulary.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let map = tantivy_fst::Map::from_iter(sorted.into_iter().map(|term| (term, 0))).unwrap();
        let automaton = WordAutomaton::new(word, max_typos, as_prefix, analysis != Analysis::Name);
        let mut stream = map.search(automaton).into_stream();
        let mut found = Vec::new();
        while let Some((term, _)) = stream.next() {
            found.push(String::from_utf8(term.to_vec()).unwrap());
        }
        found
    }

    #[test]
    fn the_automaton_walks_to_the_terms_the_typo_rules_accept() {
        let vocabulary = [
            "cowalski",
            "kowalski",
            "kowalsky",
            "kowalskii",
            "owalski",
            "ckowalski",
            "kovalsky",
            "zowalsky",
            "olcek",
            "ölçek",
            "ölcek",
            "élan",
            "elan",
            "alan",
            "eland",
            "élans",
            "theory",
            "thoery",
            "teory",
            "sheory",
            "sheorys",
            "theoretical",
            "theorem",
            "atten",
            "attention",
            "attentive",
            "btten",
            "bttention",
            "atetntion",
        ];
        let words = [
            "kowalski",
            "kowalsky",
            "ölçek",
            "élan",
            "theory",
            "atten",
            "thoery",
            "attention",
        ];
        for word in words {
            for max_typos in 0..=2 {
                for as_prefix in [false, true] {
                    for analysis in [Analysis::Text, Analysis::Name] {
                        let expected: Vec<&str> = {
                            let mut terms: Vec<&str> = vocabulary
                                .iter()
                                .copied()
                                .filter(|term| {
                                    term_distance(word, term, max_typos, as_prefix)
                                        .and_then(|distance| {
                                            distance.cost_units(analysis, max_typos)
                                        })
                                        .is_some()
                                })
                                .collect();
                            terms.sort_unstable();
                            terms.dedup();
                            terms
                        };
                        let found = accepted(&vocabulary, word, max_typos, as_prefix, analysis);
                        // The automaton may walk to terms the rules then refuse (a prefix
                        // within the distance of a longer cut), never miss one they accept.
                        for term in &expected {
                            assert!(
                                found.iter().any(|found| found == term),
                                "{word} ({max_typos} typos, prefix {as_prefix}, {analysis:?}) \
                                 misses {term}; found {found:?}"
                            );
                        }
                        if analysis == Analysis::Text {
                            // Terms of another first letter are walked to only within
                            // one typo less.
                            for term in &found {
                                let first_differs = term.chars().next() != word.chars().next();
                                assert!(
                                    !first_differs
                                        || max_typos > 0
                                            && term_distance(word, term, max_typos - 1, as_prefix)
                                                .is_some(),
                                    "{word} ({max_typos} typos) walked to {term}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn automata_sharing_their_dfas_walk_as_automata_built_alone() {
        let vocabulary = ["theory", "thoery", "sheory", "theorem", "teory", "theories"];
        let walk = |automaton: WordAutomaton| -> Vec<String> {
            use tantivy_fst::{IntoStreamer, Streamer};
            let mut sorted = vocabulary.to_vec();
            sorted.sort_unstable();
            let map =
                tantivy_fst::Map::from_iter(sorted.into_iter().map(|term| (term, 0))).unwrap();
            let mut stream = map.search(automaton).into_stream();
            let mut found = Vec::new();
            while let Some((term, _)) = stream.next() {
                found.push(String::from_utf8(term.to_vec()).unwrap());
            }
            found
        };
        for max_typos in 0..=2 {
            for as_prefix in [false, true] {
                let mut dfas = WordDfas::new("theory", max_typos, as_prefix);
                let titles = WordAutomaton::sharing(&mut dfas, true);
                let names = WordAutomaton::sharing(&mut dfas, false);
                assert!(Arc::ptr_eq(&titles.within, &names.within));
                assert_eq!(
                    walk(titles),
                    walk(WordAutomaton::new("theory", max_typos, as_prefix, true))
                );
                assert_eq!(
                    walk(names),
                    walk(WordAutomaton::new("theory", max_typos, as_prefix, false))
                );
            }
        }
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
