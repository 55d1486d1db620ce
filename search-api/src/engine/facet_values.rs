//! Facet search: which values of one facet, counted over the documents a search matched,
//! match a `facetQuery`, and the page of them returned, as Meilisearch's facet search finds
//! and orders them.
//!
//! The query is taken whole, as one word, and a value matches when its folded form starts
//! with the folded query within the typos the query's length allows (`harry pot` finds
//! `Harry Potter`, `potter` does not). As in Meilisearch, a facet in `disableOnAttributes`
//! or typo tolerance disabled leaves a plain prefix match, and a query listed in
//! `disableOnWords` matches only the values equal to it.

use super::facets::FacetCounts;
use super::typo::{max_typos_for_word_len, WordAutomaton};
use super::Deadline;
use crate::error::Result;
use crate::params::TypoTolerance;
use crate::response::FacetHit;

/// Values matched between two looks at the deadline: a facet of identifiers holds up to a
/// million values, each folded and walked through the automaton.
const VALUES_PER_DEADLINE_CHECK: usize = 4_096;

/// Which folded facet values a `facetQuery` accepts.
pub(crate) struct FacetQueryMatcher {
    rule: MatchRule,
}

enum MatchRule {
    /// No query, or an empty one: every value.
    Every,
    /// A query typos are disabled on: the values equal to it.
    Equal(String),
    /// The values starting with the query, within its typos.
    Prefix(WordAutomaton),
}

impl FacetQueryMatcher {
    /// Returns the matcher of `facet_query` on the facet `facet_name` under the index's
    /// typo `tolerance`.
    pub(crate) fn new(
        facet_query: Option<&str>,
        facet_name: &str,
        tolerance: &TypoTolerance,
    ) -> FacetQueryMatcher {
        let folded = analyzers::fold(facet_query.unwrap_or_default());
        if folded.is_empty() {
            return FacetQueryMatcher {
                rule: MatchRule::Every,
            };
        }
        let allows_typos =
            tolerance.enabled && !tolerance.disable_on_attributes.contains(facet_name);
        let is_exact_word = tolerance
            .disable_on_words
            .iter()
            .any(|word| analyzers::fold(word) == folded);
        let rule = if allows_typos && is_exact_word {
            MatchRule::Equal(folded)
        } else {
            let max_typos = match allows_typos {
                true => max_typos_for_word_len(folded.chars().count(), tolerance),
                false => 0,
            };
            MatchRule::Prefix(WordAutomaton::new(&folded, max_typos, true, false))
        };
        FacetQueryMatcher { rule }
    }

    /// Returns whether the value whose folded form is `folded_value` matches.
    pub(crate) fn matches(&self, folded_value: &str) -> bool {
        use tantivy_fst::Automaton;

        let automaton = match &self.rule {
            MatchRule::Every => return true,
            MatchRule::Equal(folded_query) => return folded_value == folded_query,
            MatchRule::Prefix(automaton) => automaton,
        };
        // A prefix automaton keeps accepting once a prefix of the value is within the
        // typos, so the first accepting state decides.
        let mut state = automaton.start();
        for &byte in folded_value.as_bytes() {
            if automaton.is_match(&state) {
                return true;
            }
            state = automaton.accept(&state, byte);
            if !automaton.can_match(&state) {
                return false;
            }
        }
        automaton.is_match(&state)
    }
}

/// Returns the values of `counts` that `matcher` accepts with their counts, at most
/// `max_values` of them, in the alphabetical order of their folded forms (then of the
/// values): Meilisearch's default order of facet values, `sortFacetValuesBy` `alpha`,
/// which keeps the first values in that order when more match.
///
/// # Errors
///
/// `search_time_budget_exceeded` past the deadline: a page of values cut short would leave
/// out values that match.
pub(crate) fn facet_hits(
    counts: FacetCounts,
    matcher: &FacetQueryMatcher,
    max_values: usize,
    deadline: &Deadline,
) -> Result<Vec<FacetHit>> {
    let mut matching: Vec<(String, FacetHit)> = Vec::new();
    let mut folded = String::new();
    for (position, (value, count)) in counts.values.into_iter().enumerate() {
        if position % VALUES_PER_DEADLINE_CHECK == 0 {
            deadline.check()?;
        }
        folded.clear();
        analyzers::fold_into(&value, &mut folded);
        if matcher.matches(&folded) {
            matching.push((folded.clone(), FacetHit { value, count }));
        }
    }

    let alphabetical = |first: &(String, FacetHit), second: &(String, FacetHit)| {
        first
            .0
            .cmp(&second.0)
            .then_with(|| first.1.value.cmp(&second.1.value))
    };
    if matching.len() > max_values {
        if max_values == 0 {
            return Ok(Vec::new());
        }
        matching.select_nth_unstable_by(max_values - 1, alphabetical);
        matching.truncate(max_values);
    }
    matching.sort_unstable_by(alphabetical);
    Ok(matching.into_iter().map(|(_, hit)| hit).collect())
}

#[cfg(test)]
mod tests {
    //! Properties checked:
    //!
    //! 1. without a query every value matches; with one, the values starting with it,
    //!    without regard to case or accents, the query taken whole;
    //! 2. typos as in a search: none under 5 characters, one from 5, two from 9, none at
    //!    all when typo tolerance is disabled or the facet is in `disableOnAttributes`;
    //! 3. a query in `disableOnWords` matches only the values equal to it;
    //! 4. hits come in alphabetical order of the folded values, at most `max_values`, the
    //!    first ones in that order.

    use std::collections::BTreeSet;
    use std::time::{Duration, Instant};

    use super::*;

    fn matches(query: Option<&str>, value: &str, tolerance: &TypoTolerance) -> bool {
        let matcher = FacetQueryMatcher::new(query, "type", tolerance);
        matcher.matches(&analyzers::fold(value))
    }

    #[test]
    fn values_starting_with_the_whole_query_match_whatever_case_and_accents() {
        let tolerance = TypoTolerance::default();
        let cases = [
            (None, "article", true),
            (Some(""), "article", true),
            (Some("ART"), "Article", true),
            (Some("the"), "Thèse de doctorat", true),
            (Some("thèse de d"), "These de doctorat", true),
            (Some("thèse de d"), "Thesis", false),
            (Some("doctorat"), "Thèse de doctorat", false),
            (Some("article"), "art", false),
            (Some("warme"), "Wärmeschutz", true),
        ];
        for (query, value, expected) in cases {
            assert_eq!(
                matches(query, value, &tolerance),
                expected,
                "`{query:?}` against `{value}`"
            );
        }
    }

    #[test]
    fn typos_follow_the_query_length_and_the_typo_settings() {
        let tolerance = TypoTolerance::default();
        // Four letters: no typo.
        assert!(!matches(Some("artx"), "article", &tolerance));
        // Five letters: one typo, a transposition counting as one.
        assert!(matches(Some("artilce"), "article", &tolerance));
        assert!(matches(Some("tesis"), "thesis", &tolerance));
        assert!(!matches(Some("tesys"), "thesis", &tolerance));
        // Nine letters: two typos.
        assert!(matches(Some("docturatt"), "doctorate thesis", &tolerance));

        let disabled = TypoTolerance {
            enabled: false,
            ..TypoTolerance::default()
        };
        assert!(!matches(Some("tesis"), "thesis", &disabled));
        assert!(matches(Some("thes"), "thesis", &disabled));
        let exact_facet = TypoTolerance {
            disable_on_attributes: BTreeSet::from(["type".to_owned()]),
            ..TypoTolerance::default()
        };
        assert!(!matches(Some("tesis"), "thesis", &exact_facet));
        let exact_word = TypoTolerance {
            disable_on_words: BTreeSet::from(["Thesis".to_owned()]),
            ..TypoTolerance::default()
        };
        assert!(matches(Some("thesis"), "Thesis", &exact_word));
        assert!(!matches(Some("thesis"), "thesis chapter", &exact_word));
    }

    fn counts(values: &[(&str, u64)]) -> FacetCounts {
        FacetCounts {
            values: values
                .iter()
                .map(|(value, count)| ((*value).to_owned(), *count))
                .collect(),
            range: None,
        }
    }

    fn deadline() -> Deadline {
        Deadline::new(
            Instant::now() + Duration::from_secs(60),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn hits_are_alphabetical_by_folded_value_and_cut_at_max_values() {
        let values = counts(&[
            ("thesis", 1),
            ("article", 5),
            ("Thèse de doctorat", 2),
            ("book chapter", 3),
            ("Article", 1),
        ]);
        let every = FacetQueryMatcher::new(None, "type", &TypoTolerance::default());
        let hits = facet_hits(values.clone(), &every, 100, &deadline()).unwrap();
        let listed: Vec<(&str, u64)> = hits
            .iter()
            .map(|hit| (hit.value.as_str(), hit.count))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("Article", 1),
                ("article", 5),
                ("book chapter", 3),
                ("Thèse de doctorat", 2),
                ("thesis", 1),
            ]
        );

        let the = FacetQueryMatcher::new(Some("THE"), "type", &TypoTolerance::default());
        let hits = facet_hits(values.clone(), &the, 1, &deadline()).unwrap();
        assert_eq!(
            hits,
            vec![FacetHit {
                value: "Thèse de doctorat".to_owned(),
                count: 2
            }]
        );
        assert!(facet_hits(values, &every, 0, &deadline())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_deadline_passed_refuses_rather_than_cuts_the_values() {
        let passed = Deadline::new(Instant::now(), Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(2));
        let every = FacetQueryMatcher::new(None, "type", &TypoTolerance::default());
        let error = facet_hits(counts(&[("article", 1)]), &every, 10, &passed).unwrap_err();
        assert_eq!(error.code(), crate::error::Code::SearchTimeBudgetExceeded);
    }
}
