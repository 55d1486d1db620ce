//! The query plan: `q` analysed into units (words and phrases) with every form a document
//! may hold them in, and the tantivy query that retrieves candidates on one shard.
//!
//! A word matches its folded form, its second spelling (umlauts as digraphs, Greek and
//! Cyrillic romanized), its parts written apart
//! (`o'brien` → `o brien`), the join with its neighbour (`o brien` → `obrien`), its
//! synonyms, its stem in the stemmed title field, and the indexed terms within its typo
//! budget or, for the last word while typing, starting with it. Typo and prefix terms are
//! found once per query in the term dictionaries of every shard, so that all shards search
//! the same terms and rank alike.
//!
//! The first stage scores each unit by a constant per alternative, so a shard's top
//! candidates are ordered by the words and typo criteria; [`super::rank`] orders them
//! precisely.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

use analyzers::{fold, fold_respelled, parse_query, PersonName, QueryWord};
use rustc_hash::FxHashMap;
use tantivy::index::SegmentId;
use tantivy::query::{PhraseQuery, Query};
use tantivy::schema::Field;
use tantivy::{DocId, Searcher, Term};

use super::best_of::{Alternative, BestOfQuery, SegmentSet, SetsCache, UnitsQuery};
use super::catalog::{fields_by_analysis, Analysis, IndexCatalog, SearchableAttribute};
use super::filter_set::FilterSetQuery;
use super::memo::CommitCache;
use super::term_sets::TermSets;
use super::tuning::{
    ADJACENCY_BONUS, FIRST_STAGE_WORD_SCORE, MAX_EXPANSION_CANDIDATES_PER_WORD, MAX_LEVELS_TRIED,
    MAX_NAME_QUERY_UNITS, MAX_ORDERED_WORDS, MAX_PREFIX_EXPANSIONS_PER_WORD,
    MAX_TYPO_EXPANSIONS_PER_WORD, MIN_PREFIX_NUM_CHARS, STEM_COST_UNITS, SYNONYM_COST_UNITS,
};
use super::typo::{max_typos_for_word_len, term_distance, WordAutomaton, WordDfas};
use super::vocabulary::{terms_accepted, Vocabulary};
use super::workers;
use super::Deadline;
use crate::error::{ApiError, Result};
use crate::params::{MatchingStrategy, Settings};

/// A searchable attribute as one search uses it.
#[derive(Debug, Clone, Copy)]
pub struct SearchedAttribute {
    /// Its rank among the searched attributes, 0 for the most important.
    pub rank: usize,
    /// Its declaration.
    pub spec: &'static SearchableAttribute,
    /// Whether typos are forgiven in it (`disableOnAttributes` turns this off).
    pub allows_typos: bool,
}

/// An indexed term a word reaches through typos or as a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expansion {
    /// Ranking cost, in quarter typos.
    pub cost_units: u32,
    /// Typos counted.
    pub num_typos: u8,
    /// Whether the term completes the typed word.
    pub is_prefix: bool,
}

/// One unit of the query: a word, or a quoted phrase matched as a whole.
#[derive(Debug, Clone)]
pub struct QueryUnit {
    /// Where the unit is in the query.
    pub query_range: Range<usize>,
    /// The folded words: one for a word, several for a phrase.
    pub words: Vec<String>,
    /// Whether the unit is a quoted phrase (exact words at consecutive positions).
    pub is_phrase: bool,
    /// Single terms that match the word exactly: the folded word and its second spelling.
    pub exact_forms: Vec<String>,
    /// Terms that match it as written together with a neighbouring word.
    pub joined_forms: Vec<String>,
    /// The word's parts when it is written with an apostrophe or hyphen.
    pub parts: Vec<String>,
    /// Synonyms from the settings, each as folded words.
    pub synonyms: Vec<Vec<String>>,
    /// The stem, for the stemmed title field.
    pub stem: Option<String>,
    /// The query's whitespace-separated chunk holding the word, folded as identifiers are.
    pub keyword: Option<String>,
    /// Typos the word may have.
    pub max_typos: u8,
    /// Whether the word is matched as a prefix.
    pub is_prefix: bool,
    /// Terms reached through typos or as a prefix, per analysis.
    pub expansions: FxHashMap<Analysis, Arc<TermExpansions>>,
    /// Documents holding an exact form, summed over shards; orders `frequency` matching.
    pub num_docs: u64,
}

/// How a single indexed token relates to a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenMatch {
    /// Ranking cost, in quarter typos.
    pub cost_units: u32,
    /// Typos counted.
    pub num_typos: u8,
    /// Whether the token is the word itself, as typed.
    pub is_exact: bool,
}

const EXACT: TokenMatch = TokenMatch {
    cost_units: 0,
    num_typos: 0,
    is_exact: true,
};

impl QueryUnit {
    /// Returns how `token`, a term of a field of `analysis`, matches this unit alone.
    /// Phrases, parts and multi-word synonyms span several tokens and are matched by
    /// [`super::rank`].
    pub fn match_token(
        &self,
        analysis: Analysis,
        token: &str,
        allows_typos: bool,
    ) -> Option<TokenMatch> {
        if analysis == Analysis::Keyword {
            return (self.keyword.as_deref() == Some(token)).then_some(EXACT);
        }
        if self.is_phrase {
            return (self.words.len() == 1 && self.words[0] == token).then_some(EXACT);
        }
        if self.exact_forms.iter().any(|form| form == token)
            || self.joined_forms.iter().any(|form| form == token)
        {
            return Some(EXACT);
        }
        if self
            .synonyms
            .iter()
            .any(|synonym| synonym.len() == 1 && synonym[0] == token)
        {
            return Some(TokenMatch {
                cost_units: SYNONYM_COST_UNITS,
                num_typos: 0,
                is_exact: false,
            });
        }
        let expansion = self.expansions.get(&analysis)?.get(token)?;
        if !allows_typos && expansion.num_typos > 0 {
            return None;
        }
        Some(TokenMatch {
            cost_units: expansion.cost_units,
            num_typos: expansion.num_typos,
            is_exact: false,
        })
    }

    /// Returns how many leading characters of `token` the unit matched when `token`, a
    /// term of a field of `analysis`, completes the typed word without a typo; `None` for
    /// any other match. Meilisearch highlights only the typed part of such a completion.
    pub fn prefix_num_chars(&self, analysis: Analysis, token: &str) -> Option<usize> {
        let expansion = self.expansions.get(&analysis)?.get(token)?;
        if !expansion.is_prefix || expansion.num_typos > 0 {
            return None;
        }
        self.words
            .iter()
            .chain(&self.exact_forms)
            .filter(|form| !form.is_empty() && token.starts_with(form.as_str()))
            .map(|form| form.chars().count())
            .max()
    }

    /// Returns whether a stemmed token matches the unit's stem.
    pub fn match_stem(&self, stemmed_token: &str) -> Option<TokenMatch> {
        let stem = self.stem.as_deref()?;
        (stem == stemmed_token).then_some(TokenMatch {
            cost_units: STEM_COST_UNITS,
            num_typos: 0,
            is_exact: false,
        })
    }

    /// Returns the token sequences that match the unit at consecutive positions: the
    /// phrase, the parts, multi-word synonyms (with their cost).
    pub fn sequences(&self) -> Vec<(&[String], TokenMatch)> {
        let mut sequences: Vec<(&[String], TokenMatch)> = Vec::new();
        if self.is_phrase {
            if self.words.len() > 1 {
                sequences.push((&self.words, EXACT));
            }
            return sequences;
        }
        if self.parts.len() > 1 {
            sequences.push((&self.parts, EXACT));
        }
        for synonym in self.synonyms.iter().filter(|synonym| synonym.len() > 1) {
            let cost = TokenMatch {
                cost_units: SYNONYM_COST_UNITS,
                num_typos: 0,
                is_exact: false,
            };
            sequences.push((synonym, cost));
        }
        sequences
    }
}

/// The analysed query, ready to retrieve and rank candidates.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// The units that documents should match, in query order.
    pub units: Vec<QueryUnit>,
    /// Units documents must not match (`-word`, `-"a phrase"`), exact forms only.
    pub excluded: Vec<QueryUnit>,
    /// Unit indexes from the last to be dropped to the first: query order for `last` and
    /// `all`, rarest first for `frequency`.
    pub keep_order: Vec<usize>,
    /// How many units documents must match at least: all for `all`, one otherwise.
    pub strategy: MatchingStrategy,
    /// The attributes searched, most important first.
    pub attributes: Vec<SearchedAttribute>,
    /// The query read as a person's name, to compare with author names as a librarian
    /// does; `None` for queries that cannot be a name (phrases, long queries).
    pub query_name: Option<PersonName>,
    /// The units' documents per segment, read once per search.
    pub sets: SetsCache,
}

impl QueryPlan {
    /// Analyses `query` for `catalog`'s index under `settings`, expanding typo and prefix
    /// terms in the dictionaries of every shard.
    ///
    /// # Errors
    ///
    /// An internal error when a term dictionary cannot be read. Past the deadline the words
    /// not expanded yet keep their exact forms only, and the search is marked degraded.
    pub fn build(
        catalog: &'static IndexCatalog,
        query: &str,
        attributes_to_search_on: Option<&[String]>,
        strategy: MatchingStrategy,
        settings: &Settings,
        dictionaries: Dictionaries<'_>,
        deadline: &Deadline,
    ) -> Result<QueryPlan> {
        let attributes = searched_attributes(catalog, attributes_to_search_on, settings);
        let analysed = parse_query(query);
        let stop_words: BTreeSet<String> =
            settings.stop_words.iter().map(|word| fold(word)).collect();
        let disabled_words: BTreeSet<String> = settings
            .typo_tolerance
            .disable_on_words
            .iter()
            .map(|word| fold(word))
            .collect();
        let synonyms = folded_synonyms(settings);

        let mut units: Vec<QueryUnit> = Vec::new();
        let mut excluded: Vec<QueryUnit> = Vec::new();
        let mut phrase_units: HashMap<(usize, bool), usize> = HashMap::new();
        for (index, word) in analysed.words.iter().enumerate() {
            let target = if word.is_excluded {
                &mut excluded
            } else {
                &mut units
            };
            if let Some(phrase_id) = word.phrase_id {
                match phrase_units.get(&(phrase_id, word.is_excluded)) {
                    Some(&unit_index) => {
                        let unit = &mut target[unit_index];
                        unit.words.extend(phrase_words(word));
                        unit.query_range.end = word.original.end;
                    }
                    None => {
                        phrase_units.insert((phrase_id, word.is_excluded), target.len());
                        target.push(phrase_unit(word));
                    }
                }
                continue;
            }
            if !word.is_excluded && stop_words.contains(&word.folded) && !word.is_prefix {
                continue;
            }
            if labels_a_doi(query, word) {
                continue;
            }
            let previous = index
                .checked_sub(1)
                .map(|previous| &analysed.words[previous]);
            let unit = word_unit(
                query,
                word,
                previous,
                &disabled_words,
                &synonyms,
                &settings.typo_tolerance,
            );
            target.push(unit);
        }

        let term_sets = Arc::clone(dictionaries.term_sets);
        expand_all(&mut units, &attributes, catalog, dictionaries, deadline)?;
        let keep_order = keep_order(&units, strategy);
        let could_be_a_name = !units.is_empty()
            && units.len() <= MAX_NAME_QUERY_UNITS
            && units.iter().all(|unit| !unit.is_phrase);
        let query_name = could_be_a_name
            .then(|| PersonName::parse(query))
            .filter(|name| !name.surname.is_empty());
        Ok(QueryPlan {
            units,
            excluded,
            keep_order,
            strategy,
            attributes,
            query_name,
            sets: SetsCache::with_terms(term_sets),
        })
    }

    /// Returns the sets of documents the first stage read for every unit in `segment`;
    /// `None` when one was not read there.
    pub fn unit_sets(&self, segment: SegmentId) -> Option<Vec<Arc<SegmentSet>>> {
        (0..self.units.len())
            .map(|key| self.sets.set_of(key, segment))
            .collect()
    }

    /// Returns the searched attributes, a bit per rank, where `doc` holds one of the
    /// units' alternatives, given the units' sets of its segment: ranking finds the units
    /// only in those (it looks for the same terms), so it need not analyse the others.
    pub fn attributes_holding_units(&self, sets: &[Arc<SegmentSet>], doc: DocId) -> u64 {
        sets.iter()
            .fold(0, |bits, set| bits | self.attributes_holding(set, doc))
    }

    /// Returns, unit by unit, the searched attributes (a bit per rank) where `doc` holds one
    /// of the unit's alternatives, given the units' sets of its segment.
    pub fn unit_attributes(&self, sets: &[Arc<SegmentSet>], doc: DocId) -> Vec<u64> {
        sets.iter()
            .map(|set| self.attributes_holding(set, doc))
            .collect()
    }

    /// Returns the searched attributes, a bit per rank, where `doc` holds one of the
    /// alternatives of the unit whose set is `set`.
    fn attributes_holding(&self, set: &SegmentSet, doc: DocId) -> u64 {
        self.attributes
            .iter()
            .filter(|attribute| set.attribute_holds(attribute.rank, doc))
            .fold(0, |bits, attribute| bits | 1 << attribute.rank)
    }

    /// Returns whether the plan has no unit to match: every document matching the filter is
    /// a hit, as in a placeholder search.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Returns the query retrieving candidates: the units combined per the matching
    /// strategy and scored by their first-stage weights, the exclusions and the documents
    /// `filter` leaves out removed.
    pub fn to_query(
        &self,
        catalog: &IndexCatalog,
        filter: Option<&FilterSetQuery>,
    ) -> Box<dyn Query> {
        self.to_query_requiring(catalog, 1, filter)
    }

    /// Returns [`QueryPlan::to_query`] requiring the first `num_required` units in keep
    /// order (every unit under `all`): the candidates of the words criterion's buckets
    /// from all the units down to `num_required` of them, scored alike.
    pub fn to_query_requiring(
        &self,
        catalog: &IndexCatalog,
        num_required: usize,
        filter: Option<&FilterSetQuery>,
    ) -> Box<dyn Query> {
        self.units_query(catalog, num_required, true, filter)
    }

    /// Returns the query of the documents that match, for counting them and their facet
    /// values: the units a document must match and the exclusions, without the units and
    /// adjacency that only score.
    pub fn to_matching_query(
        &self,
        catalog: &IndexCatalog,
        filter: Option<&FilterSetQuery>,
    ) -> Box<dyn Query> {
        self.units_query(catalog, 1, false, filter)
    }

    /// Returns the query requiring the first `num_required` units in keep order (every
    /// unit under `all`) and none of the exclusions, with `scoring` the other units and
    /// the adjacency bonus as optional parts that only add to the score.
    fn units_query(
        &self,
        catalog: &IndexCatalog,
        num_required: usize,
        scoring: bool,
        filter: Option<&FilterSetQuery>,
    ) -> Box<dyn Query> {
        let num_units = self.units.len();
        let mut required = Vec::new();
        let mut optional = Vec::new();
        for (keep_position, &unit_index) in self.keep_order.iter().enumerate() {
            let is_required =
                self.strategy == MatchingStrategy::All || keep_position < num_required.max(1);
            if !is_required && !scoring {
                continue;
            }
            let weight = unit_weight(keep_position, num_units);
            let query = self.unit_query(catalog, &self.units[unit_index], weight, unit_index);
            if is_required {
                required.push(query);
            } else {
                optional.push(query);
            }
        }
        let excluded: Vec<BestOfQuery> = self
            .excluded
            .iter()
            .enumerate()
            .map(|(index, unit)| self.unit_query(catalog, unit, 0.0, num_units + index))
            .collect();
        if scoring && !required.is_empty() {
            optional.extend(self.adjacency_queries(catalog));
        }
        Box::new(UnitsQuery {
            required,
            optional,
            excluded,
            filter: filter.cloned(),
        })
    }

    /// Returns the numbers of units to require, most first, at which a shard of
    /// `num_shard_docs` documents (of `num_index_docs` in all shards) is expected to hold
    /// at least `num_wanted` candidates, judging by how many documents hold each word as
    /// typed and supposing words independent; empty when requiring only the first unit is
    /// expected, or under `all`, which requires every unit anyway. Retrieving from such a
    /// bucket avoids scoring every document that holds the first word, which for a common
    /// first word is most of the index.
    pub fn selective_levels(
        &self,
        num_index_docs: u64,
        num_shard_docs: u64,
        num_wanted: usize,
    ) -> Vec<usize> {
        if self.strategy == MatchingStrategy::All || self.units.len() < 2 || num_index_docs == 0 {
            return Vec::new();
        }
        let mut expected = num_shard_docs as f64;
        let mut deepest = 0;
        for (keep_position, &unit_index) in
            self.keep_order.iter().take(MAX_ORDERED_WORDS).enumerate()
        {
            let unit = &self.units[unit_index];
            // A word typed as a prefix is completed by terms not counted: taken as
            // holding no information, which errs towards trying a level too deep.
            let share = if unit.is_prefix {
                1.0
            } else {
                (unit.num_docs as f64 / num_index_docs as f64).min(1.0)
            };
            expected *= share;
            if expected < num_wanted as f64 {
                break;
            }
            deepest = keep_position + 1;
        }
        (2..=deepest).rev().take(MAX_LEVELS_TRIED).collect()
    }

    /// Returns the first stage's proximity clauses: each pair of consecutive query words
    /// found next to each other, as typed, in one searched attribute adds a bonus smaller
    /// than the cheapest typo, so that among candidates matching the same words alike the
    /// pool ranked precisely holds those where the words stand together (`V. Luna` in one
    /// author rather than a `V.` and a `Luna` in two). Names also count the reverse order,
    /// as they are written `Luna, V.` as often. The phrases are read only among the
    /// documents the required words match.
    fn adjacency_queries(&self, catalog: &IndexCatalog) -> Vec<BestOfQuery> {
        let pairs: Vec<(&str, &str)> = self
            .units
            .windows(2)
            .take(MAX_ORDERED_WORDS)
            .filter(|pair| !pair[0].is_phrase && !pair[1].is_phrase)
            .map(|pair| (pair[0].words[0].as_str(), pair[1].words[0].as_str()))
            .filter(|(first, second)| first != second)
            .collect();
        if pairs.is_empty() {
            return Vec::new();
        }
        let bonus = ADJACENCY_BONUS / pairs.len() as f32;
        let mut queries = Vec::new();
        for (pair_index, &(first, second)) in pairs.iter().enumerate() {
            let mut phrases: Vec<Alternative> = Vec::new();
            for attribute in &self.attributes {
                let analysis = attribute.spec.analysis;
                if analysis == Analysis::Keyword {
                    continue;
                }
                for field_name in attribute.spec.fields {
                    let field = catalog.field(field_name);
                    let mut orders = vec![[first, second]];
                    if analysis == Analysis::Name {
                        orders.push([second, first]);
                    }
                    for [left, right] in orders {
                        let terms = vec![
                            Term::from_field_text(field, left),
                            Term::from_field_text(field, right),
                        ];
                        phrases.push(Alternative {
                            query: Box::new(PhraseQuery::new(terms)),
                            term: None,
                            score: 1.0,
                            attribute: None,
                        });
                    }
                }
            }
            let key = self.units.len() + self.excluded.len() + pair_index;
            queries.push(
                BestOfQuery::new(phrases, bonus, self.sets.clone(), key).scoring_matching_only(),
            );
        }
        queries
    }

    /// Returns the query of one unit: every alternative a document may hold it in (forms,
    /// typo and prefix terms, stem, in every searched field), scored by the best, times
    /// `weight`. `key` names the unit among the plan's units and exclusions.
    fn unit_query(
        &self,
        catalog: &IndexCatalog,
        unit: &QueryUnit,
        weight: f32,
        key: usize,
    ) -> BestOfQuery {
        let mut alternatives: Vec<Alternative> = Vec::new();
        for attribute in &self.attributes {
            let score = |cost_units: u32| {
                FIRST_STAGE_WORD_SCORE * match_millis(cost_units, attribute.rank) as f32 / 1000.0
            };
            for field_name in attribute.spec.fields {
                let field = catalog.field(field_name);
                let mut push_terms = |terms: &mut dyn Iterator<Item = &str>, cost_units: u32| {
                    for term in terms {
                        alternatives.push(Alternative::of_term(
                            Term::from_field_text(field, term),
                            score(cost_units),
                            Some(attribute.rank),
                        ));
                    }
                };
                if attribute.spec.analysis == Analysis::Keyword {
                    if let Some(keyword) = &unit.keyword {
                        push_terms(&mut std::iter::once(keyword.as_str()), 0);
                    }
                    continue;
                }
                let single_word =
                    (unit.is_phrase && unit.words.len() == 1).then(|| unit.words[0].as_str());
                push_terms(
                    &mut unit
                        .exact_forms
                        .iter()
                        .chain(&unit.joined_forms)
                        .map(String::as_str)
                        .chain(single_word),
                    0,
                );
                push_terms(
                    &mut unit
                        .synonyms
                        .iter()
                        .filter(|synonym| synonym.len() == 1)
                        .map(|synonym| synonym[0].as_str()),
                    SYNONYM_COST_UNITS,
                );
                if let Some(expansions) = unit.expansions.get(&attribute.spec.analysis) {
                    for (term, expansion) in expansions.iter() {
                        if expansion.num_typos > 0 && !attribute.allows_typos {
                            continue;
                        }
                        push_terms(&mut std::iter::once(term.as_str()), expansion.cost_units);
                    }
                }
                for (sequence, token_match) in unit.sequences() {
                    let terms = sequence
                        .iter()
                        .map(|word| Term::from_field_text(field, word))
                        .collect();
                    alternatives.push(Alternative {
                        query: Box::new(PhraseQuery::new(terms)),
                        term: None,
                        score: score(token_match.cost_units),
                        attribute: Some(attribute.rank),
                    });
                }
            }
            if let (Some(stem_field), Some(stem)) = (attribute.spec.stem_field, &unit.stem) {
                let term = Term::from_field_text(catalog.field(stem_field), stem);
                alternatives.push(Alternative::of_term(
                    term,
                    score(STEM_COST_UNITS),
                    Some(attribute.rank),
                ));
            }
        }
        BestOfQuery::new(alternatives, weight, self.sets.clone(), key)
    }
}

/// Returns how well a unit matched with `cost_units` in the searched attribute of rank
/// `attribute_rank` counts in the first stage, in thousandths of an exact match in the
/// first attribute: ten fewer per cost unit, one fewer per rank, at least one.
pub(super) fn match_millis(cost_units: u32, attribute_rank: usize) -> u32 {
    let penalty = cost_units as usize * 10 + attribute_rank;
    1_000usize.saturating_sub(penalty).max(1) as u32
}

/// Returns the first-stage weight of the unit kept at `keep_position`: each unit outweighs
/// all the units kept after it together, so a shard's best candidates match the longest
/// run of kept units. Ranking weighs the units a candidate holds past that run alike.
pub(super) fn unit_weight(keep_position: usize, num_units: usize) -> f32 {
    let num_ordered = num_units.min(MAX_ORDERED_WORDS);
    let exponent = num_ordered.saturating_sub(keep_position.min(num_ordered - 1) + 1);
    (1u32 << exponent) as f32
}

/// Returns the attributes searched: `attributesToSearchOn` when given, else all, in the
/// index's order of importance.
fn searched_attributes(
    catalog: &'static IndexCatalog,
    attributes_to_search_on: Option<&[String]>,
    settings: &Settings,
) -> Vec<SearchedAttribute> {
    let disabled = &settings.typo_tolerance.disable_on_attributes;
    catalog
        .searchable
        .iter()
        .filter(|spec| {
            attributes_to_search_on.is_none_or(|names| names.iter().any(|name| name == spec.name))
        })
        .enumerate()
        .map(|(rank, spec)| SearchedAttribute {
            rank,
            spec,
            allows_typos: !disabled.contains(spec.name),
        })
        .collect()
}

/// Returns the synonyms of the settings with keys and values folded; values split into
/// words.
fn folded_synonyms(settings: &Settings) -> HashMap<String, Vec<Vec<String>>> {
    let mut synonyms: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    for (key, values) in &settings.synonyms {
        let key = fold(key.trim());
        for value in values {
            let words: Vec<String> = analyzers::analyze_query(value)
                .into_iter()
                .map(|word| word.folded)
                .collect();
            if !words.is_empty() && words != [key.clone()] {
                synonyms.entry(key.clone()).or_default().push(words);
            }
        }
    }
    synonyms
}

/// Returns the words a phrase holds for `word`: its parts when it has some (`data-stream`
/// is `data` then `stream`, as documents are indexed), else the word.
fn phrase_words(word: &QueryWord) -> Vec<String> {
    if word.parts.is_empty() {
        vec![word.folded.clone()]
    } else {
        word.parts.clone()
    }
}

fn phrase_unit(word: &QueryWord) -> QueryUnit {
    QueryUnit {
        query_range: word.original.clone(),
        words: phrase_words(word),
        is_phrase: true,
        exact_forms: Vec::new(),
        joined_forms: Vec::new(),
        parts: Vec::new(),
        synonyms: Vec::new(),
        stem: None,
        keyword: None,
        max_typos: 0,
        is_prefix: false,
        expansions: FxHashMap::default(),
        num_docs: 0,
    }
}

fn word_unit(
    query: &str,
    word: &QueryWord,
    previous: Option<&QueryWord>,
    disabled_words: &BTreeSet<String>,
    synonyms: &HashMap<String, Vec<Vec<String>>>,
    tolerance: &crate::params::TypoTolerance,
) -> QueryUnit {
    let original = &query[word.original.clone()];
    let mut exact_forms = vec![word.folded.clone()];
    if let Some(mut respelled) = fold_respelled(original) {
        respelled.retain(char::is_alphanumeric);
        if !exact_forms.contains(&respelled) {
            exact_forms.push(respelled);
        }
    }
    let joined_forms = word
        .joined_with_next
        .iter()
        .chain(previous.and_then(|previous| previous.joined_with_next.as_ref()))
        .cloned()
        .collect();
    let has_digits = word.folded.chars().any(|ch| ch.is_ascii_digit());
    let max_typos = if word.is_bigram_run || has_digits || disabled_words.contains(&word.folded) {
        0
    } else {
        max_typos_for_word_len(word.num_chars, tolerance)
    };
    QueryUnit {
        query_range: word.original.clone(),
        words: vec![word.folded.clone()],
        is_phrase: false,
        exact_forms,
        joined_forms,
        parts: word.parts.clone(),
        synonyms: synonyms.get(&word.folded).cloned().unwrap_or_default(),
        // A stem equal to the word adds nothing to the exact match.
        stem: word
            .stem
            .clone()
            .filter(|stem| !stem.is_empty() && *stem != word.folded),
        keyword: Some(keyword_of(chunk_around(query, word.original.start))),
        max_typos,
        is_prefix: word.is_prefix && word.num_chars >= MIN_PREFIX_NUM_CHARS,
        expansions: FxHashMap::default(),
        num_docs: 0,
    }
}

/// Returns the identifier a whitespace-separated chunk of the query may be, as identifier
/// fields hold them: folded, without quotes, a DOI without its resolver.
fn keyword_of(chunk: &str) -> String {
    let folded = fold(chunk.trim_matches('"'));
    doi_of(&folded).unwrap_or(folded)
}

/// Returns the DOI a whitespace-separated chunk of the query is, if it is one.
fn chunk_doi(chunk: &str) -> Option<String> {
    doi_of(&fold(chunk.trim_matches('"')))
}

/// Returns the DOI a folded chunk of the query is, as cited too: followed by a period or
/// a comma, or inside parentheses or brackets (a DOI ending with one of those is
/// read without it).
fn doi_of(folded: &str) -> Option<String> {
    let cited = folded.trim_matches(|c| matches!(c, '(' | ')' | '[' | ']' | '.' | ',' | ';'));
    indexer::index::extract::normalize_doi(cited)
}

/// Returns whether `word` only labels a DOI elsewhere in `query` (`DOI: 10.1000/x`,
/// `doi 10.1000/x`): it is not a word documents must hold.
fn labels_a_doi(query: &str, word: &QueryWord) -> bool {
    if word.folded != "doi" || word.is_excluded || word.phrase_id.is_some() {
        return false;
    }
    let label = fold(chunk_around(query, word.original.start));
    label.trim_end_matches(':') == "doi"
        && query
            .split_whitespace()
            .any(|chunk| chunk_doi(chunk).is_some())
}

/// Returns the whitespace-separated chunk of `query` that holds byte `offset`.
fn chunk_around(query: &str, offset: usize) -> &str {
    let start = query[..offset]
        .rfind(char::is_whitespace)
        .map_or(0, |index| {
            index + query[index..].chars().next().map_or(1, char::len_utf8)
        });
    let end = query[offset..]
        .find(char::is_whitespace)
        .map_or(query.len(), |index| offset + index);
    &query[start..end]
}

/// Where a plan's words are expanded: the term dictionaries of every shard, and the
/// expansions already found in them.
#[derive(Debug, Clone, Copy)]
pub struct Dictionaries<'a> {
    /// One searcher per shard.
    pub searchers: &'a [Searcher],
    /// The words already expanded in them.
    pub cache: &'a ExpansionCache,
    /// The sets of frequent terms of their segments.
    pub term_sets: &'a Arc<TermSets>,
    /// Their segments' terms merged into few dictionaries, those built.
    pub vocabularies: &'a [&'a Vocabulary],
}

/// The terms words expanded to in one set of searchers (one commit of every shard), so that
/// a word typed again (the words before the last while someone types, frequent title
/// words) is not looked up in every term dictionary again. A new commit opens new
/// searchers and so starts an empty cache.
pub type ExpansionCache = CommitCache<ExpansionKey, Arc<TermExpansions>>;

/// The terms one word reaches, with how. Looked up for every word of every candidate
/// ranked, so hashed with a fast non-cryptographic hasher: the keys are index terms, not
/// attacker-chosen in bulk, and the maps hold at most a few hundred entries.
pub type TermExpansions = FxHashMap<String, Expansion>;

/// What a word's expansions depend on besides the searchers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExpansionKey {
    analysis: Analysis,
    fields: Vec<&'static str>,
    word: String,
    exact_forms: Vec<String>,
    max_typos: u8,
    is_prefix: bool,
}

/// Finds the terms a word reaches through typos or as a prefix in every shard, keeping
/// the cheapest and most frequent, and counts the documents holding its exact forms. A
/// stem no shard holds is dropped, so that ranking does not stem titles to look for it.
/// Expands every unit's word in parallel (see [`workers`]): walking large term
/// dictionaries is most of the planning of a query, and a query waits for it before any
/// shard starts. Past the deadline the remaining words match as typed only: the search
/// goes on, degraded, rather than answering nothing.
fn expand_all(
    units: &mut [QueryUnit],
    attributes: &[SearchedAttribute],
    catalog: &IndexCatalog,
    dictionaries: Dictionaries<'_>,
    deadline: &Deadline,
) -> Result<()> {
    workers::try_for_each_mut(units, "a word's expansion panicked", |unit| {
        if deadline.is_exceeded() {
            return Ok(());
        }
        expand(unit, attributes, catalog, dictionaries)
    })
}

fn expand(
    unit: &mut QueryUnit,
    attributes: &[SearchedAttribute],
    catalog: &IndexCatalog,
    dictionaries: Dictionaries<'_>,
) -> Result<()> {
    let Dictionaries {
        searchers,
        cache,
        vocabularies,
        ..
    } = dictionaries;
    if unit.is_phrase {
        return Ok(());
    }
    let word = unit.words[0].clone();
    let analyses = fields_by_analysis(attributes.iter().map(|attribute| attribute.spec));

    let stem_fields: Vec<&'static str> = attributes
        .iter()
        .filter_map(|attribute| attribute.spec.stem_field)
        .collect();
    let mut is_stem_indexed = false;
    for searcher in searchers {
        for (_, fields) in &analyses {
            for field_name in fields {
                let field = catalog.field(field_name);
                for form in &unit.exact_forms {
                    let num_docs = searcher
                        .doc_freq(&Term::from_field_text(field, form))
                        .map_err(ApiError::internal)?;
                    unit.num_docs += num_docs;
                }
            }
        }
        if let Some(stem) = unit.stem.as_deref().filter(|_| !is_stem_indexed) {
            for field_name in &stem_fields {
                let term = Term::from_field_text(catalog.field(field_name), stem);
                if searcher.doc_freq(&term).map_err(ApiError::internal)? > 0 {
                    is_stem_indexed = true;
                }
            }
        }
    }
    if !is_stem_indexed {
        unit.stem = None;
    }
    if unit.max_typos == 0 && !unit.is_prefix {
        return Ok(());
    }

    let mut dfas = WordDfas::new(&word, unit.max_typos, unit.is_prefix);
    for (analysis, fields) in analyses {
        let key = ExpansionKey {
            analysis,
            fields,
            word: word.clone(),
            exact_forms: unit.exact_forms.clone(),
            max_typos: unit.max_typos,
            is_prefix: unit.is_prefix,
        };
        if let Some(expansions) = cache.get(&key) {
            unit.expansions.insert(analysis, expansions);
            continue;
        }
        let automaton = WordAutomaton::sharing(&mut dfas, analysis != Analysis::Name);
        let fields: Vec<Field> = key.fields.iter().map(|name| catalog.field(name)).collect();
        let frequencies = terms_accepted(
            vocabularies,
            searchers,
            &fields,
            &automaton,
            MAX_EXPANSION_CANDIDATES_PER_WORD,
        )?;
        let expansions = Arc::new(select_expansions(&word, unit, analysis, frequencies));
        cache.insert(key, Arc::clone(&expansions));
        unit.expansions.insert(analysis, expansions);
    }
    Ok(())
}

/// Keeps the expansions the typo rules allow, cheapest then most frequent first, within
/// the caps.
fn select_expansions(
    word: &str,
    unit: &QueryUnit,
    analysis: Analysis,
    frequencies: HashMap<String, u64>,
) -> TermExpansions {
    let mut typo_terms = Vec::new();
    let mut prefix_terms = Vec::new();
    for (term, num_docs) in frequencies {
        if unit.exact_forms.contains(&term) {
            continue;
        }
        let Some(distance) = term_distance(word, &term, unit.max_typos, unit.is_prefix) else {
            continue;
        };
        let Some(cost_units) = distance.cost_units(analysis, unit.max_typos) else {
            continue;
        };
        let expansion = Expansion {
            cost_units,
            num_typos: distance.num_typos,
            is_prefix: distance.is_prefix,
        };
        let entry = (cost_units, std::cmp::Reverse(num_docs), term, expansion);
        if distance.is_prefix {
            prefix_terms.push(entry);
        } else {
            typo_terms.push(entry);
        }
    }
    typo_terms.sort();
    prefix_terms.sort();
    typo_terms.truncate(MAX_TYPO_EXPANSIONS_PER_WORD);
    prefix_terms.truncate(MAX_PREFIX_EXPANSIONS_PER_WORD);
    typo_terms
        .into_iter()
        .chain(prefix_terms)
        .map(|(_, _, term, expansion)| (term, expansion))
        .collect()
}

/// Returns the order in which units are kept when documents match only some: query order,
/// or rarest first for `frequency`.
fn keep_order(units: &[QueryUnit], strategy: MatchingStrategy) -> Vec<usize> {
    let mut order: Vec<usize> = (0..units.len()).collect();
    if strategy == MatchingStrategy::Frequency {
        order.sort_by_key(|&index| (units[index].num_docs, index));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_whitespace_separated() {
        let query = "doi 10.1017/jfm.2018.1024 x";
        assert_eq!(chunk_around(query, 4), "10.1017/jfm.2018.1024");
        assert_eq!(chunk_around(query, 12), "10.1017/jfm.2018.1024");
        assert_eq!(chunk_around(query, 0), "doi");
        assert_eq!(chunk_around("é x", 0), "é");
        assert_eq!(chunk_around("a é", 2), "é");
    }

    #[test]
    fn each_unit_outweighs_all_later_units() {
        for num_units in 1..=MAX_ORDERED_WORDS {
            let weights: Vec<f32> = (0..num_units)
                .map(|position| unit_weight(position, num_units))
                .collect();
            for position in 0..num_units {
                let later: f32 = weights[position + 1..].iter().sum();
                assert!(weights[position] > later, "{weights:?}");
            }
        }
        assert_eq!(unit_weight(40, 40), 1.0);
    }

    fn plan_of(words: &[(&str, u64, bool)], strategy: MatchingStrategy) -> QueryPlan {
        let units: Vec<QueryUnit> = words
            .iter()
            .map(|&(word, num_docs, is_prefix)| QueryUnit {
                query_range: 0..word.len(),
                words: vec![word.to_owned()],
                is_phrase: false,
                exact_forms: vec![word.to_owned()],
                joined_forms: Vec::new(),
                parts: Vec::new(),
                synonyms: Vec::new(),
                stem: None,
                keyword: None,
                max_typos: 0,
                is_prefix,
                expansions: FxHashMap::default(),
                num_docs,
            })
            .collect();
        QueryPlan {
            keep_order: keep_order(&units, strategy),
            units,
            excluded: Vec::new(),
            strategy,
            attributes: Vec::new(),
            query_name: None,
            sets: SetsCache::default(),
        }
    }

    #[test]
    fn levels_stop_where_too_few_documents_are_expected() {
        // 1,000,000 documents in 2 shards; a page of 10 wanted per shard.
        let plan = plan_of(
            &[
                ("the", 400_000, false),
                ("data", 50_000, false),
                ("backup", 2_000, false),
                ("alg", 0, true),
            ],
            MatchingStrategy::Last,
        );
        // Per shard: 500,000 x 0.4 x 0.05 = 10,000 with two words, x 0.002 = 20 with
        // three, and the prefix is taken as telling nothing: all four are tried first.
        assert_eq!(plan.selective_levels(1_000_000, 500_000, 10), vec![4, 3]);
        // Wanting 100 per shard stops at two words.
        assert_eq!(plan.selective_levels(1_000_000, 500_000, 100), vec![2]);
        // A first word too rare for a page leaves only the whole scoring.
        let rare = plan_of(
            &[("zygote", 3, false), ("data", 50_000, false)],
            MatchingStrategy::Last,
        );
        assert!(rare.selective_levels(1_000_000, 500_000, 10).is_empty());
    }

    #[test]
    fn all_and_single_words_have_no_levels() {
        let words = [("data", 50_000, false), ("base", 40_000, false)];
        let all = plan_of(&words, MatchingStrategy::All);
        assert!(all.selective_levels(1_000_000, 500_000, 1).is_empty());
        let one = plan_of(&words[..1], MatchingStrategy::Last);
        assert!(one.selective_levels(1_000_000, 500_000, 1).is_empty());
    }

    #[test]
    fn frequency_strategy_requires_the_rarest_words_first() {
        let plan = plan_of(
            &[
                ("the", 400_000, false),
                ("sensor", 5_000, false),
                ("array", 20_000, false),
            ],
            MatchingStrategy::Frequency,
        );
        assert_eq!(plan.keep_order, vec![1, 2, 0]);
        // 500,000 x 0.005 = 2,500 with `sensor`, x 0.02 = 50 with `array`, x 0.4 = 20
        // with all three.
        assert_eq!(plan.selective_levels(1_000_000, 500_000, 10), vec![3, 2]);
    }
}
