//! Precise ranking of a shard's candidates, Meilisearch's way: the stored values of the
//! searched attributes are analysed again with the index's analyzers, the query units are
//! found in them (which also gives the byte ranges to highlight), and each candidate gets
//! one value per ranking rule (words, typo, proximity, attribute, sort, exactness, custom
//! `attribute:asc|desc` tie-breakers), compared in the order of the settings' rules.
//!
//! The ranking score folds the same values into `[0, 1]`: each rule splits the range left
//! by the rules before it into as many buckets as it has values, so the score orders hits
//! as the rules do, and a hit matching every word exactly in an attribute that is exactly
//! the query scores 1.

use std::ops::Range;

use std::collections::HashSet;
use std::rc::Rc;

use analyzers::{
    agreement_of_keyed, name_tokens, name_tokens_at_least, stemmed_tokens, text_tokens,
    AnalyzedToken, GivenNameVariants, NameAgreement, NameProbe, PersonName, TokenKind,
};
use rustc_hash::FxHashMap;
use serde_json::{json, Map, Value};
use tantivy::{DocAddress, TantivyDocument};

use super::catalog::{Analysis, Attribute, IndexCatalog, ValueKind};
use super::documents::{attribute_value, id_of, texts};
use super::query::{match_millis, unit_weight, QueryPlan, SearchedAttribute, TokenMatch};
use super::rules::{sort_value, SortRule};
use super::tuning::{
    FIRST_LETTER_TYPO_EXTRA_COST_UNITS, MAX_PROXIMITY, NUM_WORD_POSITION_BUCKETS, STEM_COST_UNITS,
    TYPO_COST_UNITS,
};
use crate::params::MatchingStrategy;

/// Where a query unit was found in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldHit {
    /// The attribute (a field name) holding the value.
    pub attribute: &'static str,
    /// The value's position in a list attribute, 0 for a single value.
    pub value_index: usize,
    /// Byte range of the matched word(s) in the original value.
    pub byte_range: Range<usize>,
    /// Word position in the value, the first of the match's.
    pub position: usize,
    /// Word positions the match covers: more than one for the parts of a hyphenated word
    /// (`spatial merge` or the joined `spatialmerge` of `Spatial-Merge`) or a phrase.
    pub num_positions: usize,
    /// The unit found, an index into the plan's units.
    pub unit: usize,
    /// How well it matched.
    pub token_match: TokenMatch,
    /// Rank of the searched attribute, 0 for the most important.
    pub attribute_rank: usize,
}

/// Returns the tokens of a value as the field's analyzer indexed them.
pub fn analyse(analysis: Analysis, text: &str) -> Vec<AnalyzedToken> {
    match analysis {
        Analysis::Text | Analysis::Raw => text_tokens(text),
        Analysis::Name => name_tokens(text),
        Analysis::Keyword => {
            let trimmed = text.trim();
            let start = text.len() - text.trim_start().len();
            let folded = analyzers::fold(trimmed);
            if folded.is_empty() {
                return Vec::new();
            }
            vec![AnalyzedToken {
                text: folded,
                offset_from: start,
                offset_to: start + trimmed.len(),
                position: 0,
                position_length: 1,
                kind: TokenKind::Word,
            }]
        }
    }
}

/// Where to look for units in one value.
#[derive(Debug, Clone, Copy)]
pub struct ValueSite {
    /// The attribute holding the value.
    pub attribute: &'static str,
    /// The value's position in a list attribute.
    pub value_index: usize,
    /// How the value was indexed.
    pub analysis: Analysis,
    /// Rank of the searched attribute.
    pub attribute_rank: usize,
    /// Whether typos are forgiven in it.
    pub allows_typos: bool,
    /// Whether the value also has a stemmed twin to match stems in.
    pub has_stem: bool,
}

/// Finds every unit of `plan` in `text` and appends the hits to `hits`.
pub fn find_hits(plan: &QueryPlan, site: ValueSite, text: &str, hits: &mut Vec<FieldHit>) {
    let tokens = analyse(site.analysis, text);
    find_hits_in_tokens(plan, site, text, &tokens, hits);
}

/// Finds every unit of `plan` in `text`, analysed as `tokens`, and appends the hits.
fn find_hits_in_tokens(
    plan: &QueryPlan,
    site: ValueSite,
    text: &str,
    tokens: &[AnalyzedToken],
    hits: &mut Vec<FieldHit>,
) {
    let first_hit_of_value = hits.len();
    let push = |hits: &mut Vec<FieldHit>,
                unit: usize,
                token_match: TokenMatch,
                range: Range<usize>,
                (position, num_positions): (usize, usize)| {
        hits.push(FieldHit {
            attribute: site.attribute,
            value_index: site.value_index,
            byte_range: range,
            position,
            num_positions: num_positions.max(1),
            unit,
            token_match,
            attribute_rank: site.attribute_rank,
        });
    };
    for token in tokens {
        for (unit_index, unit) in plan.units.iter().enumerate() {
            if let Some(token_match) =
                unit.match_token(site.analysis, &token.text, site.allows_typos)
            {
                let range = match unit.prefix_num_chars(site.analysis, &token.text) {
                    Some(num_chars) if !token_match.is_exact => {
                        prefix_range(text, token, num_chars)
                    }
                    _ => token.offset_from..token.offset_to,
                };
                let positions = (token.position, token.position_length);
                push(hits, unit_index, token_match, range, positions);
            }
        }
    }
    if site.analysis != Analysis::Keyword {
        for (unit_index, unit) in plan.units.iter().enumerate() {
            for (sequence, token_match) in unit.sequences() {
                for (range, position) in find_sequence(tokens, sequence) {
                    let positions = (position, sequence.len());
                    push(hits, unit_index, token_match, range, positions);
                }
            }
        }
    }
    // Stemming a title means detecting its language first, the dearest step of ranking:
    // it is done only when a unit with a stem was not found as typed in this value, since
    // a stem match costs more than an exact one and so cannot improve the unit's best.
    let needs_stems = || {
        let value_hits = &hits[first_hit_of_value..];
        plan.units.iter().enumerate().any(|(unit_index, unit)| {
            unit.stem.is_some()
                && !value_hits
                    .iter()
                    .any(|hit| hit.unit == unit_index && hit.token_match.cost_units == 0)
        })
    };
    if site.has_stem && needs_stems() {
        let (_, stemmed) = stemmed_tokens(text);
        for token in &stemmed {
            for (unit_index, unit) in plan.units.iter().enumerate() {
                if let Some(token_match) = unit.match_stem(&token.text) {
                    push(
                        hits,
                        unit_index,
                        token_match,
                        token.offset_from..token.offset_to,
                        (token.position, token.position_length),
                    );
                }
            }
        }
    }
}

/// Returns the original bytes of `token` that fold to its first `num_chars` characters,
/// the whole token when its original does not fold character by character to its text.
fn prefix_range(text: &str, token: &AnalyzedToken, num_chars: usize) -> Range<usize> {
    let whole = token.offset_from..token.offset_to;
    let Some(original) = text.get(whole.clone()) else {
        return whole;
    };
    // A joined token (`streamdischarge` of `Stream-Discharge`) has dropped the connectors
    // its original holds: they count for nothing.
    let counts =
        |folded: char| !token.text.chars().all(char::is_alphanumeric) || folded.is_alphanumeric();
    let mut num_folded_chars = 0;
    let mut end = None;
    for (offset, character) in original.char_indices() {
        let mut buffer = [0; 4];
        num_folded_chars += analyzers::fold(character.encode_utf8(&mut buffer))
            .chars()
            .filter(|&folded| counts(folded))
            .count();
        if end.is_none() && num_folded_chars >= num_chars {
            end = Some(token.offset_from + offset + character.len_utf8());
        }
    }
    match end {
        Some(end) if num_folded_chars == token.text.chars().count() => token.offset_from..end,
        _ => whole,
    }
}

/// Returns the byte ranges and first positions where `sequence` occurs at consecutive
/// positions.
fn find_sequence(tokens: &[AnalyzedToken], sequence: &[String]) -> Vec<(Range<usize>, usize)> {
    let mut found = Vec::new();
    let Some(first) = sequence.first() else {
        return found;
    };
    for start in tokens.iter().filter(|token| &token.text == first) {
        let mut end = start.offset_to;
        let all_follow = sequence[1..].iter().enumerate().all(|(offset, word)| {
            let position = start.position + offset + 1;
            match tokens
                .iter()
                .find(|token| token.position == position && &token.text == word)
            {
                Some(token) => {
                    end = end.max(token.offset_to);
                    true
                }
                None => false,
            }
        });
        if all_follow {
            found.push((start.offset_from..end, start.position));
        }
    }
    found
}

/// Most values whose analyses one [`RankingMemo`] keeps: a record with thousands of
/// authors must not make one search hold every one of their analyses.
const MAX_MEMO_VALUES: usize = 20_000;

/// What ranking one shard's candidates for one plan computes once: the query's words
/// joined, and the analyses of the person names met. The same author strings recur across
/// the candidates of a name query (the person searched for, their frequent co-authors),
/// and analysing a name (its tokens, initials, parsed parts) is the dearest step of
/// ranking.
#[derive(Default)]
pub struct RankingMemo {
    joined_query: String,
    name_tokens: FxHashMap<String, Rc<[AnalyzedToken]>>,
    /// The fewest characters of a token that a unit matches in a person name: initials
    /// are found only in names that can have that many.
    shortest_name_match: usize,
    /// Tells the author names that hold no term a unit matches, left unanalysed.
    name_probe: NameProbe,
    /// The tokens of such a name as far as ranking goes: none.
    no_tokens: Rc<[AnalyzedToken]>,
    /// The surname keys of the query read as a name.
    query_surname_keys: Vec<String>,
    /// How the query, read as a name, agrees with each author string compared with it.
    name_agreements: FxHashMap<String, Rc<NameAgreement>>,
}

impl RankingMemo {
    /// Returns an empty memo for ranking by `plan`.
    pub fn new(plan: &QueryPlan) -> Self {
        RankingMemo {
            joined_query: plan
                .units
                .iter()
                .flat_map(|unit| unit.words.iter().map(String::as_str))
                .collect(),
            shortest_name_match: name_match_terms(plan)
                .map(|term| term.chars().count())
                .min()
                .unwrap_or(usize::MAX),
            name_probe: NameProbe::new(name_match_terms(plan).map(String::as_str)),
            no_tokens: Rc::from(Vec::new()),
            query_surname_keys: plan
                .query_name
                .as_ref()
                .map(PersonName::surname_keys)
                .unwrap_or_default(),
            ..RankingMemo::default()
        }
    }

    /// Returns the tokens of `text` analysed with `analysis`, from the memo for names.
    fn tokens(&mut self, analysis: Analysis, text: &str) -> Rc<[AnalyzedToken]> {
        if analysis != Analysis::Name {
            return analyse(analysis, text).into();
        }
        if !self.name_probe.may_hold(text) {
            return Rc::clone(&self.no_tokens);
        }
        let shortest = self.shortest_name_match;
        memoized(&mut self.name_tokens, text, || {
            name_tokens_at_least(text, shortest).into()
        })
    }

    /// Returns how `query_name`, the query of the memo's plan read as a name, agrees with
    /// the person name `text`.
    fn name_agreement(&mut self, query_name: &PersonName, text: &str) -> NameAgreement {
        let query_keys = &self.query_surname_keys;
        let agreement = memoized(&mut self.name_agreements, text, || {
            let name = PersonName::parse(text);
            let keys = name.surname_keys();
            let variants = GivenNameVariants::empty();
            Rc::new(agreement_of_keyed(
                query_name, query_keys, &name, &keys, &variants,
            ))
        });
        *agreement
    }
}

/// Returns the terms the units of `plan` match in a person-name field, alone or in a
/// sequence (a phrase, a hyphenated word's parts, a synonym).
fn name_match_terms(plan: &QueryPlan) -> impl Iterator<Item = &String> {
    plan.units.iter().flat_map(|unit| {
        let expansions = unit
            .expansions
            .get(&Analysis::Name)
            .into_iter()
            .flat_map(|expansions| expansions.keys());
        unit.words
            .iter()
            .chain(&unit.exact_forms)
            .chain(&unit.joined_forms)
            .chain(&unit.parts)
            .chain(unit.synonyms.iter().flatten())
            .chain(expansions)
    })
}

/// Returns what `memo` holds for `text`, computing and keeping it while the memo has room.
fn memoized<T: ?Sized>(
    memo: &mut FxHashMap<String, Rc<T>>,
    text: &str,
    compute: impl FnOnce() -> Rc<T>,
) -> Rc<T> {
    if let Some(found) = memo.get(text) {
        return Rc::clone(found);
    }
    let computed = compute();
    if memo.len() < MAX_MEMO_VALUES {
        memo.insert(text.to_owned(), Rc::clone(&computed));
    }
    computed
}

/// The hits of a plan's units in one stored document, and how exactly its best searched
/// value holds the query.
pub struct DocumentHits {
    /// Every hit, value by value.
    pub hits: Vec<FieldHit>,
    /// 2 when a searched text value holds exactly the query's words, 1 when one starts
    /// with them, 0 otherwise; meaningful when every unit is kept.
    pub exactness: u8,
}

/// Returns the hits of `plan`'s units in every searched attribute of a stored document.
/// `holds_stems` says whether the document's stemmed fields hold a stem of the plan; when
/// they do not, its values are not stemmed again to look for one. Only the attributes
/// whose bit (by rank) is set in `attributes_holding_units` are analysed: those where the
/// document holds a term of a unit. `memo` was made for `plan` ([`RankingMemo::new`]).
pub fn document_hits(
    plan: &QueryPlan,
    catalog: &IndexCatalog,
    stored: &TantivyDocument,
    holds_stems: bool,
    attributes_holding_units: u64,
    memo: &mut RankingMemo,
) -> DocumentHits {
    let mut hits = Vec::new();
    let mut exactness = 0;
    for (attribute, field_index, declared) in
        fields_holding_units(plan, catalog, attributes_holding_units)
    {
        let weighs_exactness = weighs_exactness(attribute.spec.analysis, declared.value);
        for (value_index, text) in texts(catalog, declared.name, stored).enumerate() {
            let site = ValueSite {
                attribute: declared.name,
                value_index,
                analysis: attribute.spec.analysis,
                attribute_rank: attribute.rank,
                allows_typos: attribute.allows_typos,
                has_stem: holds_stems && field_index == 0 && attribute.spec.stem_field.is_some(),
            };
            let tokens = memo.tokens(site.analysis, text);
            find_hits_in_tokens(plan, site, text, &tokens, &mut hits);
            if weighs_exactness && exactness < 2 {
                exactness = exactness.max(value_exactness(&tokens, &memo.joined_query));
            }
        }
    }
    DocumentHits { hits, exactness }
}

/// Returns the declared fields of the searched attributes whose bit (by rank) is set in
/// `attributes_holding_units`, each with its attribute and its place among its fields.
fn fields_holding_units<'p>(
    plan: &'p QueryPlan,
    catalog: &'p IndexCatalog,
    attributes_holding_units: u64,
) -> impl Iterator<Item = (&'p SearchedAttribute, usize, &'static Attribute)> + 'p {
    plan.attributes
        .iter()
        .filter(move |attribute| attributes_holding_units & (1 << attribute.rank) != 0)
        .flat_map(move |attribute| {
            attribute
                .spec
                .fields
                .iter()
                .enumerate()
                .filter_map(move |(field_index, field_name)| {
                    Some((attribute, field_index, catalog.attribute(field_name)?))
                })
        })
}

/// Whether the values of a field count for the exactness rule.
fn weighs_exactness(analysis: Analysis, value: ValueKind) -> bool {
    analysis != Analysis::Keyword && matches!(value, ValueKind::Text(_))
}

/// Returns an upper bound of the exactness [`rank_document`] finds in `stored` when it
/// keeps every unit: 2 when a value of an attribute holding units has the query's words,
/// else 1 (a person name agreeing in full counts as 1 whatever its value). Cheaper than
/// ranking: values are split into words as plain text, not analysed as names, which
/// yields the same word and joined tokens.
pub fn exactness_at_most(
    plan: &QueryPlan,
    catalog: &IndexCatalog,
    stored: &TantivyDocument,
    attributes_holding_units: u64,
    memo: &RankingMemo,
) -> u8 {
    let holds_query = fields_holding_units(plan, catalog, attributes_holding_units)
        .filter(|(attribute, _, declared)| {
            weighs_exactness(attribute.spec.analysis, declared.value)
        })
        .flat_map(|(_, _, declared)| texts(catalog, declared.name, stored))
        .any(|text| value_exactness(&text_tokens(text), &memo.joined_query) == 2);
    if holds_query {
        2
    } else {
        1
    }
}

/// Returns 2 when the words of a value (its word and joined tokens, which every analyzer
/// but the keyword one emits alike) are the query's words, 1 when they start with them.
fn value_exactness(tokens: &[AnalyzedToken], joined_query: &str) -> u8 {
    if joined_query.is_empty() {
        return 0;
    }
    let mut joined_value = String::new();
    for token in tokens {
        if matches!(token.kind, TokenKind::Word | TokenKind::Joined) {
            joined_value.push_str(&token.text);
            // Past the query's length the value can still start with it, but not equal it.
            if joined_value.len() > joined_query.len() {
                break;
            }
        }
    }
    if joined_value == joined_query {
        2
    } else {
        u8::from(joined_value.starts_with(joined_query))
    }
}

/// One candidate with its ranking values.
#[derive(Debug, Clone)]
pub struct RankedDocument {
    /// The ranking values, lower is better, in the order of the rules.
    pub key: Vec<i128>,
    /// The document's id, the last tie-breaker.
    pub id: String,
    /// The ranking score in `[0, 1]`.
    pub score: f64,
    /// Where the units were found, for highlighting.
    pub hits: Vec<FieldHit>,
    /// The stored document.
    pub stored: TantivyDocument,
    /// The criteria it was ranked by; `None` in a placeholder search.
    pub criteria: Option<Criteria>,
    /// Where it is in its shard, once read from one.
    pub address: Option<DocAddress>,
    /// The shard it was read from.
    pub shard: usize,
}

/// The criteria of one candidate, computed from its hits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Criteria {
    num_units: usize,
    num_kept: usize,
    /// How well the candidate holds the units past the kept ones ([`later_weights`]).
    later_weight: u32,
    /// The most `later_weight` can be for a candidate keeping `num_kept` units.
    max_later_weight: u32,
    typo_cost: u32,
    num_typos: u32,
    max_num_typos: u32,
    proximity: u32,
    attribute_rank_sum: usize,
    first_position: usize,
    num_searched_attributes: usize,
    num_exact: usize,
    attribute_exactness: u8,
    name_agreement: Option<NameAgreement>,
}

impl Criteria {
    /// Returns the position of the first kept word in its attribute, positions from the
    /// last bucket on counted alike: the order of hits and their score both use it, so
    /// that a later hit never scores higher.
    fn position_bucket(&self) -> usize {
        self.first_position.min(NUM_WORD_POSITION_BUCKETS - 1)
    }
}

/// Ranks one candidate of a text search; `holds_stems` and `attributes_holding_units` as
/// for [`document_hits`].
pub fn rank_document(
    plan: &QueryPlan,
    catalog: &IndexCatalog,
    rules: &[SortRule],
    stored: TantivyDocument,
    holds_stems: bool,
    attributes_holding_units: u64,
    memo: &mut RankingMemo,
) -> RankedDocument {
    let DocumentHits { hits, exactness } = document_hits(
        plan,
        catalog,
        &stored,
        holds_stems,
        attributes_holding_units,
        memo,
    );
    let criteria = criteria(plan, catalog, &hits, &stored, exactness, memo);
    let key = rules
        .iter()
        .map(|rule| match rule {
            SortRule::Value(criterion) => sort_value(catalog, criterion, &stored),
            relevancy => relevancy_key(&criteria, relevancy),
        })
        .collect();
    RankedDocument {
        key,
        id: id_of(catalog, &stored),
        score: ranking_score(&criteria, rules),
        hits,
        stored,
        criteria: Some(criteria),
        address: None,
        shard: 0,
    }
}

/// Returns a candidate's value under a relevancy rule, lower is better; 0 for a value rule.
fn relevancy_key(criteria: &Criteria, rule: &SortRule) -> i128 {
    match rule {
        SortRule::Words => {
            -(((criteria.num_kept as i128) << 32) | i128::from(criteria.later_weight))
        }
        SortRule::Typo => i128::from(criteria.typo_cost),
        SortRule::Proximity => i128::from(criteria.proximity),
        SortRule::Attribute => {
            criteria.attribute_rank_sum as i128 * NUM_WORD_POSITION_BUCKETS as i128
                + criteria.position_bucket() as i128
        }
        SortRule::AttributeRank => criteria.attribute_rank_sum as i128,
        SortRule::WordPosition => criteria.position_bucket() as i128,
        SortRule::Exactness => {
            -(i128::from(criteria.attribute_exactness) * 1_000 + criteria.num_exact as i128)
        }
        SortRule::Value(_) => 0,
    }
}

/// What the first stage tells of where a candidate holds a plan's units: bounds on the
/// criteria ranking can find for it when it keeps them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitPlaces {
    /// The fewest units of the plan.
    pub num_units: usize,
    /// The least sum over units of the rank of an attribute holding each.
    pub min_attribute_rank_sum: usize,
    /// The least proximity: adjacent units held in no common attribute are never near.
    pub min_proximity: u32,
    /// The most exactness (see [`exactness_at_most`]); 2 when unknown.
    pub max_attribute_exactness: u8,
}

impl UnitPlaces {
    /// Returns the bounds for a candidate holding each unit in the attributes whose bits
    /// (by rank) `unit_attributes` gives, unit by unit: ranking finds a unit only where
    /// the first stage found one of its terms.
    pub fn of(unit_attributes: &[u64]) -> UnitPlaces {
        let lowest = |bits: u64| {
            if bits == 0 {
                0
            } else {
                bits.trailing_zeros() as usize
            }
        };
        UnitPlaces {
            num_units: unit_attributes.len(),
            min_attribute_rank_sum: unit_attributes.iter().map(|&bits| lowest(bits)).sum(),
            min_proximity: unit_attributes
                .windows(2)
                .map(|pair| {
                    if pair[0] & pair[1] != 0 {
                        1
                    } else {
                        MAX_PROXIMITY
                    }
                })
                .sum(),
            max_attribute_exactness: 2,
        }
    }

    /// Returns the same places with the exactness bound lowered to `exactness`.
    pub fn with_exactness_at_most(self, exactness: u8) -> UnitPlaces {
        UnitPlaces {
            max_attribute_exactness: self.max_attribute_exactness.min(exactness),
            ..self
        }
    }
}

/// Returns a key that [`rank_document`] never ranks before for a candidate whose units
/// are where `places` says: under each rule the best value such a candidate can have, the
/// rules after `words` counting every unit kept, as a candidate keeping fewer already
/// ranks after under `words`. Value rules are unbounded.
pub fn best_possible_key(rules: &[SortRule], places: UnitPlaces) -> Vec<i128> {
    let num_units = places.num_units;
    let before_words = Criteria {
        num_units,
        num_kept: num_units,
        num_exact: num_units,
        attribute_exactness: places.max_attribute_exactness,
        ..Criteria::default()
    };
    let after_words = Criteria {
        proximity: places.min_proximity,
        attribute_rank_sum: places.min_attribute_rank_sum,
        ..before_words
    };
    let mut is_after_words = false;
    rules
        .iter()
        .map(|rule| match rule {
            SortRule::Value(_) => i128::MIN,
            SortRule::Words => {
                is_after_words = true;
                relevancy_key(&before_words, rule)
            }
            _ if is_after_words => relevancy_key(&after_words, rule),
            _ => relevancy_key(&before_words, rule),
        })
        .collect()
}

/// Returns a placeholder hit: sorted by its values only, with a score of 1.
pub fn unranked_document(
    catalog: &IndexCatalog,
    rules: &[SortRule],
    stored: TantivyDocument,
) -> RankedDocument {
    let key = rules
        .iter()
        .filter_map(|rule| match rule {
            SortRule::Value(criterion) => Some(sort_value(catalog, criterion, &stored)),
            _ => None,
        })
        .collect();
    RankedDocument {
        key,
        id: id_of(catalog, &stored),
        score: 1.0,
        hits: Vec::new(),
        stored,
        criteria: None,
        address: None,
        shard: 0,
    }
}

fn criteria(
    plan: &QueryPlan,
    catalog: &IndexCatalog,
    hits: &[FieldHit],
    stored: &TantivyDocument,
    exactness: u8,
    memo: &mut RankingMemo,
) -> Criteria {
    let num_units = plan.units.len();
    let best: Vec<Option<&FieldHit>> = (0..num_units)
        .map(|unit| {
            hits.iter()
                .filter(|hit| hit.unit == unit)
                .min_by_key(|hit| {
                    (
                        hit.token_match.cost_units,
                        !hit.token_match.is_exact,
                        hit.attribute_rank,
                        hit.position,
                    )
                })
        })
        .collect();

    let num_kept = match plan.strategy {
        MatchingStrategy::All if best.iter().all(Option::is_some) => num_units,
        _ => plan
            .keep_order
            .iter()
            .take_while(|&&unit| best[unit].is_some())
            .count(),
    };
    let mut kept: Vec<usize> = plan.keep_order[..num_kept].to_vec();
    kept.sort_unstable();
    let (later_weight, max_later_weight) = later_weights(plan, hits, num_kept);

    let mut criteria = Criteria {
        num_units,
        num_kept,
        later_weight,
        max_later_weight,
        num_searched_attributes: plan.attributes.len(),
        ..Criteria::default()
    };
    for &unit in &kept {
        let Some(hit) = best[unit] else { continue };
        criteria.typo_cost += hit.token_match.cost_units;
        criteria.num_typos += u32::from(hit.token_match.num_typos);
        criteria.max_num_typos += u32::from(plan.units[unit].max_typos);
        criteria.attribute_rank_sum += hit.attribute_rank;
        criteria.num_exact += usize::from(hit.token_match.is_exact);
    }
    let names = name_agreements(plan, catalog, hits, stored, &kept, memo);
    criteria.name_agreement = names.best;
    criteria.first_position = kept
        .first()
        .and_then(|&unit| best[unit])
        .map_or(0, |hit| hit.position);
    criteria.proximity = if names.best.is_some_and(NameAgreement::is_compatible) {
        // The words are one name of the document, in whatever order it is written.
        (kept.len().saturating_sub(1)) as u32
    } else {
        kept.windows(2)
            .map(|pair| pair_proximity(hits, pair[0], pair[1], &names.conflicting))
            .sum()
    };
    criteria.attribute_exactness = if kept.len() == num_units && num_units > 0 {
        exactness
    } else {
        0
    };
    if criteria.name_agreement == Some(NameAgreement::Full) {
        // A name with the query's given names and surname, in any order and with more
        // initials, is as good as a value that starts with the query.
        criteria.attribute_exactness = criteria.attribute_exactness.max(1);
    }
    criteria
}

/// Returns how well a candidate keeping `num_kept` units holds the units after the first
/// one it lacks, and the most it could: each unit held counts as the first stage scores
/// it, its weight there (each unit outweighing those kept after it) times how well its
/// best match counts ([`match_millis`]). Under the words rule, candidates keeping the
/// same units rank by it, so that a candidate holding the first and third of three words
/// ranks before one holding the first alone, and the pool the first stage cuts by the
/// same score holds the same best hits whatever the page size.
fn later_weights(plan: &QueryPlan, hits: &[FieldHit], num_kept: usize) -> (u32, u32) {
    let num_units = plan.units.len();
    let mut later_weight = 0;
    let mut max_later_weight = 0;
    for (keep_position, &unit) in plan.keep_order.iter().enumerate().skip(num_kept + 1) {
        let weight = unit_weight(keep_position, num_units) as u32;
        max_later_weight += weight * 1_000;
        let best_millis = hits
            .iter()
            .filter(|hit| hit.unit == unit)
            .map(|hit| match_millis(hit.token_match.cost_units, hit.attribute_rank))
            .max();
        later_weight += weight * best_millis.unwrap_or(0);
    }
    (later_weight, max_later_weight)
}

/// Returns how close two units are: 1 when adjacent in order, more when apart or
/// reversed, [`MAX_PROXIMITY`] when they never share a value.
fn pair_proximity(
    hits: &[FieldHit],
    first_unit: usize,
    second_unit: usize,
    conflicting: &HashSet<(&str, usize)>,
) -> u32 {
    let mut best = MAX_PROXIMITY;
    let usable = |hit: &&FieldHit| !conflicting.contains(&(hit.attribute, hit.value_index));
    for first in hits
        .iter()
        .filter(|hit| hit.unit == first_unit)
        .filter(usable)
    {
        for second in hits.iter().filter(|hit| {
            hit.unit == second_unit
                && hit.attribute == first.attribute
                && hit.value_index == first.value_index
        }) {
            // Measured from the end of a match covering several positions (the parts
            // of a hyphenated word) to the start of the next, or back.
            let first_end = first.position + first.num_positions - 1;
            let second_end = second.position + second.num_positions - 1;
            let distance = if second.position > first_end {
                second.position - first_end
            } else if second_end < first.position {
                first.position - second_end + 1
            } else {
                1
            };
            best = best.min(u32::try_from(distance).unwrap_or(MAX_PROXIMITY));
        }
    }
    best
}

/// How the query, read as a name, relates to the author names holding all its words.
struct NameAgreements<'h> {
    /// The best agreement over those names.
    best: Option<NameAgreement>,
    /// Names whose given names conflict with the query's: their words are not near.
    conflicting: HashSet<(&'h str, usize)>,
}

/// Compares the query, read as a name, with each person-name value that holds every kept
/// unit: an initial agrees with a given name, different full given names conflict.
fn name_agreements<'h>(
    plan: &QueryPlan,
    catalog: &IndexCatalog,
    hits: &'h [FieldHit],
    stored: &TantivyDocument,
    kept: &[usize],
    memo: &mut RankingMemo,
) -> NameAgreements<'h> {
    let mut agreements = NameAgreements {
        best: None,
        conflicting: HashSet::new(),
    };
    let Some(query_name) = &plan.query_name else {
        return agreements;
    };
    if kept.len() < 2 {
        return agreements;
    }
    let mut values: Vec<(&'h str, usize)> = hits
        .iter()
        .filter(|hit| {
            catalog
                .attribute(hit.attribute)
                .is_some_and(|attribute| attribute.value == ValueKind::Text(Analysis::Name))
        })
        .map(|hit| (hit.attribute, hit.value_index))
        .collect();
    values.sort_unstable();
    values.dedup();
    for (attribute, value_index) in values {
        let holds_all = kept.iter().all(|unit| {
            hits.iter().any(|hit| {
                hit.unit == *unit && hit.attribute == attribute && hit.value_index == value_index
            })
        });
        let Some(text) = texts(catalog, attribute, stored).nth(value_index) else {
            continue;
        };
        if !holds_all {
            continue;
        }
        let agreement = memo.name_agreement(query_name, text);
        if !agreement.is_compatible() {
            agreements.conflicting.insert((attribute, value_index));
        }
        if agreements
            .best
            .is_none_or(|best| agreement.rank() < best.rank())
        {
            agreements.best = Some(agreement);
        }
    }
    agreements
}

/// Folds the criteria into `[0, 1]`, each rule splitting what the previous ones left.
fn ranking_score(criteria: &Criteria, rules: &[SortRule]) -> f64 {
    if criteria.num_units == 0 {
        return 1.0;
    }
    // Counted down from 1 by what each bucket below the best loses, so that a hit in the
    // best bucket of every rule scores exactly 1, which summing up the buckets' shares
    // missed by a rounding error on long queries.
    let mut lost = 0.0;
    let mut width = 1.0;
    let mut split = |bucket: usize, num_buckets: usize| {
        width /= num_buckets as f64;
        lost += bucket as f64 * width;
    };
    for rule in rules {
        let Some((bucket, num_buckets)) = rule_bucket(criteria, rule) else {
            continue;
        };
        split(bucket, num_buckets);
        if *rule == SortRule::Words {
            // Within a bucket of kept words, by the words held after them, as ordered.
            let max = criteria.max_later_weight as usize;
            split(max - criteria.later_weight as usize, max + 1);
        }
    }
    (1.0 - lost).clamp(0.0, 1.0)
}

/// Returns the bucket a candidate falls in under `rule`, 0 the best, and the number of
/// buckets; `None` for the rules that order by a value rather than by relevancy.
fn rule_bucket(criteria: &Criteria, rule: &SortRule) -> Option<(usize, usize)> {
    let kept = criteria.num_kept.max(1);
    let max_cost_per_unit =
        2 * TYPO_COST_UNITS + FIRST_LETTER_TYPO_EXTRA_COST_UNITS.max(STEM_COST_UNITS);
    let (bucket, num_buckets) = match rule {
        SortRule::Words => (criteria.num_units - criteria.num_kept, criteria.num_units),
        SortRule::Typo => {
            let num_buckets = kept * max_cost_per_unit as usize + 1;
            (criteria.typo_cost as usize, num_buckets)
        }
        SortRule::Proximity => {
            let min = kept - 1;
            let num_buckets = (kept - 1) * (MAX_PROXIMITY as usize - 1) + 1;
            (
                (criteria.proximity as usize).saturating_sub(min),
                num_buckets,
            )
        }
        SortRule::Attribute => {
            // Ordered by attribute, then by the first word's position: so is the score,
            // or a hit could score above the one before it.
            let num_rank_buckets = kept * criteria.num_searched_attributes.max(1);
            (
                criteria.attribute_rank_sum.min(num_rank_buckets - 1) * NUM_WORD_POSITION_BUCKETS
                    + criteria.position_bucket(),
                num_rank_buckets * NUM_WORD_POSITION_BUCKETS,
            )
        }
        SortRule::AttributeRank => {
            let num_buckets = kept * criteria.num_searched_attributes.max(1);
            (criteria.attribute_rank_sum, num_buckets)
        }
        SortRule::WordPosition => (criteria.position_bucket(), NUM_WORD_POSITION_BUCKETS),
        SortRule::Exactness => {
            let bucket = usize::from(2 - criteria.attribute_exactness) * (kept + 1)
                + (kept - criteria.num_exact.min(kept));
            (bucket, 3 * (kept + 1))
        }
        SortRule::Value(_) => return None,
    };
    let num_buckets = num_buckets.max(1);
    Some((bucket.min(num_buckets - 1), num_buckets))
}

/// Returns `_rankingScoreDetails` of a ranked document in Meilisearch's shape: one entry
/// per rule, in the order the rules apply, each with its `order`; relevancy rules with the
/// `score` of the bucket the document fell in (the same buckets `_rankingScore` folds),
/// sort rules with the document's `value`.
pub fn score_details(
    catalog: &IndexCatalog,
    rules: &[SortRule],
    document: &RankedDocument,
) -> Map<String, Value> {
    let mut details = Map::new();
    for (order, rule) in rules.iter().enumerate() {
        if let SortRule::Value(criterion) = rule {
            let direction = if criterion.descending { "desc" } else { "asc" };
            let value = attribute_value(catalog, criterion.attribute, &document.stored);
            details.insert(
                format!("{}:{direction}", criterion.attribute.name),
                json!({"order": order, "value": value.unwrap_or(Value::Null)}),
            );
            continue;
        }
        let Some(criteria) = &document.criteria else {
            continue;
        };
        let Some((bucket, num_buckets)) = rule_bucket(criteria, rule) else {
            continue;
        };
        let score = (num_buckets - bucket) as f64 / num_buckets as f64;
        let (name, detail) = match rule {
            SortRule::Words => (
                "words",
                json!({
                    "order": order,
                    "matchingWords": criteria.num_kept,
                    "maxMatchingWords": criteria.num_units,
                    "score": score,
                }),
            ),
            SortRule::Typo => (
                "typo",
                json!({
                    "order": order,
                    "typoCount": criteria.num_typos,
                    "maxTypoCount": criteria.max_num_typos,
                    "score": score,
                }),
            ),
            SortRule::Proximity => ("proximity", json!({"order": order, "score": score})),
            SortRule::Attribute => (
                "attribute",
                json!({"order": order, "attributeRankingOrderScore": score, "score": score}),
            ),
            SortRule::AttributeRank => ("attributeRank", json!({"order": order, "score": score})),
            SortRule::WordPosition => ("wordPosition", json!({"order": order, "score": score})),
            SortRule::Exactness => {
                let match_type = match criteria.attribute_exactness {
                    2 => "exactMatch",
                    1 => "matchesStart",
                    _ => "noExactMatch",
                };
                (
                    "exactness",
                    json!({"order": order, "matchType": match_type, "score": score}),
                )
            }
            SortRule::Value(_) => continue,
        };
        details.insert(name.to_owned(), detail);
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<SortRule> {
        vec![
            SortRule::Words,
            SortRule::Typo,
            SortRule::Proximity,
            SortRule::Attribute,
            SortRule::Exactness,
        ]
    }

    fn perfect(num_units: usize) -> Criteria {
        Criteria {
            num_units,
            num_kept: num_units,
            proximity: num_units.saturating_sub(1) as u32,
            num_searched_attributes: 3,
            num_exact: num_units,
            attribute_exactness: 2,
            ..Criteria::default()
        }
    }

    #[test]
    fn a_perfect_match_scores_one_and_worse_matches_less() {
        assert!((ranking_score(&perfect(3), &rules()) - 1.0).abs() < 1e-9);
        let with_typo = Criteria {
            typo_cost: TYPO_COST_UNITS,
            ..perfect(3)
        };
        let missing_word = Criteria {
            num_kept: 2,
            ..perfect(3)
        };
        let typo_score = ranking_score(&with_typo, &rules());
        let missing_score = ranking_score(&missing_word, &rules());
        assert!(typo_score < 1.0);
        assert!(missing_score < typo_score, "{missing_score} < {typo_score}");
        assert!(missing_score > 0.0);
    }

    #[test]
    fn no_candidate_ranks_before_the_best_possible_key() {
        // Criteria as ranking computes them for a candidate holding each unit in the
        // attributes the first stage found it in: every kept unit's best hit is in one of
        // them, adjacent kept units held in no common attribute are never near, no more
        // exact units than kept ones.
        let catalog = IndexCatalog::of(indexer::index::IndexKind::Records);
        let value = SortRule::Value(super::super::rules::ValueCriterion {
            attribute: catalog.attribute("year").unwrap(),
            descending: true,
        });
        let orders = [
            rules(),
            vec![
                SortRule::Typo,
                SortRule::Attribute,
                SortRule::Words,
                SortRule::Proximity,
            ],
            vec![
                SortRule::Words,
                SortRule::AttributeRank,
                SortRule::WordPosition,
                value,
                SortRule::Exactness,
            ],
            vec![value, SortRule::Words, SortRule::Attribute],
        ];
        let mut seed = 7u64;
        let mut next = |bound: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize % bound.max(1)
        };
        for _ in 0..20_000 {
            let num_units = 1 + next(4);
            let unit_attributes: Vec<u64> = (0..num_units).map(|_| next(8) as u64).collect();
            let max_exactness = next(3) as u8;
            let places = UnitPlaces::of(&unit_attributes).with_exactness_at_most(max_exactness);
            let num_kept = next(num_units + 1);
            let all_kept = num_kept == num_units;
            let min_sum = if all_kept {
                places.min_attribute_rank_sum
            } else {
                0
            };
            let min_proximity = if all_kept {
                places.min_proximity
            } else {
                num_kept.saturating_sub(1) as u32
            };
            let criteria = Criteria {
                num_units,
                num_kept,
                typo_cost: next(3) as u32 * TYPO_COST_UNITS,
                proximity: min_proximity + next(3) as u32,
                attribute_rank_sum: min_sum + next(3),
                first_position: next(12),
                num_searched_attributes: 4,
                num_exact: next(num_kept + 1),
                attribute_exactness: next(usize::from(max_exactness) + 1) as u8,
                ..Criteria::default()
            };
            for order in &orders {
                let key: Vec<i128> = order
                    .iter()
                    .map(|rule| match rule {
                        SortRule::Value(_) => next(5) as i128 - 2,
                        relevancy => relevancy_key(&criteria, relevancy),
                    })
                    .collect();
                let bound = best_possible_key(order, places);
                assert!(
                    key >= bound,
                    "{criteria:?} under {order:?}: {key:?} < {bound:?}"
                );
            }
        }
        // The bound is reached: a candidate with every unit, exact, adjacent, in the
        // lowest attribute holding them, at its start.
        let places = UnitPlaces::of(&[0b10, 0b110, 0b11]);
        assert_eq!(
            places,
            UnitPlaces {
                num_units: 3,
                min_attribute_rank_sum: 2,
                min_proximity: 2,
                max_attribute_exactness: 2,
            }
        );
        let best = Criteria {
            attribute_rank_sum: 2,
            ..perfect(3)
        };
        let key: Vec<i128> = rules()
            .iter()
            .map(|rule| relevancy_key(&best, rule))
            .collect();
        assert_eq!(key, best_possible_key(&rules(), places));
        // Units held in no common attribute are apart.
        assert_eq!(UnitPlaces::of(&[0b1, 0b10]).min_proximity, MAX_PROXIMITY);
    }

    /// The exactness bound reads values as plain text where ranking analyses names: both
    /// must give the same word and joined tokens.
    #[test]
    fn names_and_plain_text_have_the_same_words() {
        let words = |tokens: Vec<AnalyzedToken>| -> Vec<String> {
            tokens
                .into_iter()
                .filter(|token| matches!(token.kind, TokenKind::Word | TokenKind::Joined))
                .map(|token| token.text)
                .collect()
        };
        for name in [
            "Smith A",
            "A. Smith",
            "Smith, J.Q.",
            "van der Berg, J.",
            "Jean-Pierre Dupont",
            "O'Brien, Mary",
            "María José García-López",
            "J.R.R. Tolkien",
            "Müller-Lüdenscheidt, H.-J.",
            "de la Cruz Ortega, Maria",
            "Nguyễn Thị Minh Khai",
            "李小龙",
            "Σωκράτης Παπαδόπουλος",
            "Ivanov I. I.",
            "McDonald-O'Neill, Anne-Marie",
            "Smith Jr., John",
            "d'Alembert, Jean le Rond",
        ] {
            assert_eq!(words(name_tokens(name)), words(text_tokens(name)), "{name}");
            for shortest in 1..4 {
                assert_eq!(
                    words(name_tokens_at_least(name, shortest)),
                    words(text_tokens(name)),
                    "{name}, at least {shortest}"
                );
            }
        }
    }

    #[test]
    fn sequences_are_found_at_consecutive_positions() {
        let tokens = text_tokens("Mary O Brien and O'Brien");
        let sequence = vec!["o".to_owned(), "brien".to_owned()];
        let found = find_sequence(&tokens, &sequence);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, 5..12);
        assert_eq!(found[1].0, 17..24);
    }
}
