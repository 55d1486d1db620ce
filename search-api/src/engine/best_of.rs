//! A query unit's alternatives read into one set of documents per segment.
//!
//! A query word matches through dozens of alternatives: its exact forms in every searched
//! field, each typo or prefix term, its stem. As a union of term queries, every seek of
//! the first stage to the next candidate seeks each of those posting lists, which made
//! the unions most of a search's work. Here each alternative's postings are read to the
//! end once per segment into a bitset, each document keeping the score of its best
//! alternative; seeking is then a lookup. One search reuses the sets of a segment across
//! the queries it runs (the buckets of the words criterion, the count of matches).

use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use rustc_hash::FxHashMap;
use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, TermQuery, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

use super::filter_set::{FilterSetQuery, FilterSetWeight};
use super::term_sets::{Bits, TermDocs, TermSets};

/// Best scores a set tells apart: more distinct alternatives' scores than this share the
/// lowest of them.
const MAX_SCORE_CLASSES: usize = 256;

/// A unit's key in a search's cache (see [`BestOfQuery::new`]) and a segment.
type SetKey = (usize, SegmentId);

/// The sets one search has read, by key (per unit and segment by default), shared by the
/// queries it builds and their clones, with the sets of frequent terms its index keeps
/// across searches.
pub struct SetsCache<K = SetKey> {
    sets: Arc<Mutex<FxHashMap<K, Arc<SegmentSet>>>>,
    terms: Arc<TermSets>,
}

impl<K> Clone for SetsCache<K> {
    fn clone(&self) -> Self {
        SetsCache {
            sets: Arc::clone(&self.sets),
            terms: Arc::clone(&self.terms),
        }
    }
}

impl<K> Default for SetsCache<K> {
    fn default() -> Self {
        SetsCache::with_terms(Arc::default())
    }
}

impl<K> SetsCache<K> {
    /// Returns an empty cache for one search, reading frequent terms from `terms`.
    pub fn with_terms(terms: Arc<TermSets>) -> Self {
        SetsCache {
            sets: Arc::default(),
            terms,
        }
    }

    /// Returns the sets of frequent terms.
    pub fn terms(&self) -> &TermSets {
        &self.terms
    }
}

impl<K> fmt::Debug for SetsCache<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetsCache")
    }
}

impl<K: Eq + Hash> SetsCache<K> {
    /// Returns the set kept under `key`, if a query of this search has read it.
    pub fn get(&self, key: &K) -> Option<Arc<SegmentSet>> {
        self.sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Keeps `set` under `key`.
    pub fn insert(&self, key: K, set: Arc<SegmentSet>) {
        self.sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, set);
    }
}

impl SetsCache {
    /// Returns the set read for the unit of `key` in segment `segment`, if a query of this
    /// search has read it.
    pub fn set_of(&self, key: usize, segment: SegmentId) -> Option<Arc<SegmentSet>> {
        self.get(&(key, segment))
    }
}

/// One way a document may match: a query, its score, and the searched attribute (by rank)
/// it looks in, if it is told apart.
pub struct Alternative {
    pub query: Box<dyn Query>,
    /// The term, when the query is one term's: its documents are then read through the
    /// sets of frequent terms.
    pub term: Option<Term>,
    pub score: Score,
    pub attribute: Option<usize>,
}

impl Alternative {
    /// Returns the alternative of the documents holding `term`.
    pub fn of_term(term: Term, score: Score, attribute: Option<usize>) -> Alternative {
        Alternative {
            query: Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic)),
            term: Some(term),
            score,
            attribute,
        }
    }
}

impl Clone for Alternative {
    fn clone(&self) -> Self {
        Alternative {
            query: self.query.box_clone(),
            term: self.term.clone(),
            score: self.score,
            attribute: self.attribute,
        }
    }
}

/// Documents matching any of several alternatives, each scoring as the best alternative
/// it matches, times a scale.
#[derive(Clone)]
pub struct BestOfQuery {
    /// Alternatives, best first.
    alternatives: Arc<Vec<Alternative>>,
    scale: Score,
    cache: SetsCache,
    /// The unit's key in the cache.
    key: usize,
    /// Whether, as an optional part of a [`UnitsQuery`], its documents are read only
    /// among those the query matches.
    scores_matching_only: bool,
}

impl fmt::Debug for BestOfQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BestOfQuery")
            .field("num_alternatives", &self.alternatives.len())
            .field("scale", &self.scale)
            .field("key", &self.key)
            .finish()
    }
}

impl BestOfQuery {
    /// Returns the query of `alternatives`, scores scaled by `scale`; the sets it reads
    /// are kept in `cache` under `key`, which must name these alternatives alone.
    pub fn new(
        mut alternatives: Vec<Alternative>,
        scale: Score,
        cache: SetsCache,
        key: usize,
    ) -> BestOfQuery {
        alternatives.sort_by(|left, right| right.score.total_cmp(&left.score));
        BestOfQuery {
            alternatives: Arc::new(alternatives),
            scale,
            cache,
            key,
            scores_matching_only: false,
        }
    }

    /// Returns the query reading its documents, as an optional part of a [`UnitsQuery`],
    /// only among those the units query matches: for a bonus whose alternatives are
    /// phrases, which are read position by position, of words common enough that most
    /// of their documents would be read for nothing.
    pub fn scoring_matching_only(mut self) -> BestOfQuery {
        self.scores_matching_only = true;
        self
    }
}

impl Query for BestOfQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.best_of_weight(enable_scoring)?))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for alternative in self.alternatives.iter() {
            alternative.query.query_terms(visitor);
        }
    }
}

impl BestOfQuery {
    fn best_of_weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<BestOfWeight> {
        let unscored = EnableScoring::disabled_from_schema(enable_scoring.schema());
        let mut sources = Vec::with_capacity(self.alternatives.len());
        let mut class_scores: Vec<Score> = Vec::new();
        let mut classes = Vec::with_capacity(self.alternatives.len());
        let mut attributes = Vec::with_capacity(self.alternatives.len());
        for alternative in self.alternatives.iter() {
            sources.push(match &alternative.term {
                Some(term) => Source::Term(term.clone()),
                None => Source::Query(alternative.query.weight(unscored)?),
            });
            if class_scores.last() != Some(&alternative.score)
                && class_scores.len() < MAX_SCORE_CLASSES
            {
                class_scores.push(alternative.score);
            }
            classes.push((class_scores.len() - 1) as u8);
            attributes.push(alternative.attribute);
        }
        Ok(BestOfWeight {
            sources,
            classes,
            attributes,
            class_scores,
            scale: if enable_scoring.is_scoring_enabled() {
                self.scale
            } else {
                0.0
            },
            cache: self.cache.clone(),
            key: self.key,
            scores_matching_only: self.scores_matching_only,
        })
    }
}

/// Documents matching every required unit and no excluded one, scored by the sum of the
/// required units' scores and those of the optional units they match. The units' sets
/// are combined a machine word at a time, and each document's score is a lookup per
/// unit, where tantivy's intersection and union scorers seek every unit's set in turn.
#[derive(Clone, Debug)]
pub struct UnitsQuery {
    /// Units a document must match; with none, every document passing the filter
    /// matches.
    pub required: Vec<BestOfQuery>,
    /// Units that only add to the score.
    pub optional: Vec<BestOfQuery>,
    /// Units a document must not match.
    pub excluded: Vec<BestOfQuery>,
    /// The filter documents must pass, if any.
    pub filter: Option<FilterSetQuery>,
}

impl Query for UnitsQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = |queries: &[BestOfQuery]| {
            queries
                .iter()
                .map(|query| query.best_of_weight(enable_scoring))
                .collect::<tantivy::Result<Vec<_>>>()
        };
        Ok(Box::new(UnitsWeight {
            required: weights(&self.required)?,
            optional: if enable_scoring.is_scoring_enabled() {
                weights(&self.optional)?
            } else {
                Vec::new()
            },
            excluded: weights(&self.excluded)?,
            filter: self
                .filter
                .as_ref()
                .map(|filter| filter.filter_weight(enable_scoring))
                .transpose()?,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for query in self.required.iter().chain(&self.optional) {
            query.query_terms(visitor);
        }
    }
}

struct UnitsWeight {
    required: Vec<BestOfWeight>,
    optional: Vec<BestOfWeight>,
    excluded: Vec<BestOfWeight>,
    filter: Option<FilterSetWeight>,
}

impl Weight for UnitsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let scored = |weight: &BestOfWeight| -> tantivy::Result<ScoredSet> {
            Ok((weight.read_set(reader)?, weight.scaled_scores(boost)))
        };
        let required = self
            .required
            .iter()
            .map(scored)
            .collect::<tantivy::Result<Vec<_>>>()?;
        let excluded = self
            .excluded
            .iter()
            .map(|weight| weight.read_set(reader))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let filter = self
            .filter
            .as_ref()
            .map(|filter| filter.read_set(reader))
            .transpose()?;
        // Without a required unit nor a filter, every document matches.
        let mut sets = required.iter().map(|(set, _)| set).chain(&filter);
        let mut matching = match sets.next() {
            Some(set) => set.buckets.clone(),
            None => all_bits(reader.max_doc()),
        };
        for set in sets {
            for (bits, other) in matching.iter_mut().zip(&set.buckets) {
                *bits &= other;
            }
        }
        for set in &excluded {
            for (bits, other) in matching.iter_mut().zip(&set.buckets) {
                *bits &= !other;
            }
        }
        let matching = Arc::new(SegmentSet::of_bits(matching));
        let optional = self
            .optional
            .iter()
            .map(|weight| {
                let set = match weight.scores_matching_only {
                    true => weight.read_set_among(reader, &matching)?,
                    false => weight.read_set(reader)?,
                };
                Ok((set, weight.scaled_scores(boost)))
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(UnitsScorer {
            docs: BestOfScorer::new(matching, Vec::new()),
            required,
            optional,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        explain_score(self, reader, doc, "units")
    }
}

/// Returns the score of `doc` under `weight`, named `what`; an error when it does not
/// match.
pub fn explain_score(
    weight: &dyn Weight,
    reader: &SegmentReader,
    doc: DocId,
    what: &'static str,
) -> tantivy::Result<Explanation> {
    let mut scorer = weight.scorer(reader, 1.0)?;
    if scorer.seek(doc) != doc {
        return Err(tantivy::TantivyError::InvalidArgument(format!(
            "document {doc} does not match"
        )));
    }
    Ok(Explanation::new(what, scorer.score()))
}

/// A unit's set in a segment with the scores of its classes, scaled.
type ScoredSet = (Arc<SegmentSet>, Vec<Score>);

/// Walks the documents of a [`UnitsQuery`] in a segment.
struct UnitsScorer {
    docs: BestOfScorer,
    required: Vec<ScoredSet>,
    optional: Vec<ScoredSet>,
}

/// Implements `DocSet` for a scorer by walking the documents of its field `docs`.
macro_rules! doc_set_of_docs {
    ($scorer:ty) => {
        impl DocSet for $scorer {
            fn advance(&mut self) -> DocId {
                self.docs.advance()
            }

            fn seek(&mut self, target: DocId) -> DocId {
                self.docs.seek(target)
            }

            fn doc(&self) -> DocId {
                self.docs.doc()
            }

            fn size_hint(&self) -> u32 {
                self.docs.size_hint()
            }
        }
    };
}

doc_set_of_docs!(UnitsScorer);

impl Scorer for UnitsScorer {
    fn score(&mut self) -> Score {
        let doc = self.docs.doc();
        let mut score = 0.0;
        for (set, scores) in &self.required {
            score += scores[set.class_of(doc)];
        }
        for (set, scores) in &self.optional {
            if set.contains(doc) {
                score += scores[set.class_of(doc)];
            }
        }
        score
    }
}

/// Where the documents of an alternative are read from.
enum Source {
    /// A term, through the sets of frequent terms.
    Term(Term),
    /// Any other query.
    Query(Box<dyn Weight>),
}

struct BestOfWeight {
    /// Where the alternatives' documents are read from, best first.
    sources: Vec<Source>,
    /// Each alternative's score class, an index into `class_scores`.
    classes: Vec<u8>,
    /// Each alternative's attribute.
    attributes: Vec<Option<usize>>,
    class_scores: Vec<Score>,
    scale: Score,
    cache: SetsCache,
    key: usize,
    scores_matching_only: bool,
}

/// One segment's documents matching a unit.
pub struct SegmentSet {
    /// One bit per document of the segment.
    buckets: Vec<u64>,
    /// The score class of each document's best alternative (meaningful where its bit is
    /// set), bit by bit: bit `i` of a document's class is its bit in the `i`th plane. A
    /// set of `k` classes has `log2(k)` planes, none for one, where a byte per document
    /// would be zeroed for every word of every search (a fifth of a new query's work).
    class_planes: Vec<Vec<u64>>,
    num_docs: u32,
    /// Per attribute rank, one bit per document holding one of its alternatives; empty
    /// when none does.
    by_attribute: Vec<Vec<u64>>,
    /// The documents its queries' alternatives were read among, when not all: it holds
    /// exactly the matching ones of these.
    read_among: Option<Arc<SegmentSet>>,
}

impl SegmentSet {
    /// Returns the set of the documents whose bits are set in `buckets`, one bit per
    /// document, with no score classes nor attributes.
    pub fn of_bits(buckets: Vec<u64>) -> SegmentSet {
        let num_docs = buckets.iter().map(|bits| bits.count_ones()).sum();
        SegmentSet {
            buckets,
            class_planes: Vec::new(),
            num_docs,
            by_attribute: Vec::new(),
            read_among: None,
        }
    }

    /// Adds the documents of `other`, read among other documents than its own, with
    /// their classes and attributes.
    fn add_disjoint(&mut self, other: &SegmentSet) {
        for (bits, other) in self.buckets.iter_mut().zip(&other.buckets) {
            *bits |= other;
        }
        for (plane, other) in self.class_planes.iter_mut().zip(&other.class_planes) {
            for (bits, other) in plane.iter_mut().zip(other) {
                *bits |= other;
            }
        }
        if self.by_attribute.len() < other.by_attribute.len() {
            self.by_attribute
                .resize_with(other.by_attribute.len(), Vec::new);
        }
        let num_buckets = self.buckets.len();
        for (held, other) in self.by_attribute.iter_mut().zip(&other.by_attribute) {
            if other.is_empty() {
                continue;
            }
            for (bits, other) in sized(held, num_buckets).iter_mut().zip(other) {
                *bits |= other;
            }
        }
        self.num_docs += other.num_docs;
        self.read_among = match (&self.read_among, &other.read_among) {
            (Some(own), Some(other)) => {
                let both = own
                    .buckets
                    .iter()
                    .zip(&other.buckets)
                    .map(|(own, other)| own | other)
                    .collect();
                Some(Arc::new(SegmentSet::of_bits(both)))
            }
            _ => None,
        };
    }

    /// Returns the score class of `doc`, which must be in the set.
    fn class_of(&self, doc: DocId) -> usize {
        let mut class = 0;
        for (bit, plane) in self.class_planes.iter().enumerate() {
            if holds(plane, doc) {
                class |= 1 << bit;
            }
        }
        class
    }

    /// Returns how many documents of the set are not deleted in `reader`'s segment.
    pub fn count_alive(self: &Arc<Self>, reader: &SegmentReader) -> u32 {
        match reader.alive_bitset() {
            None => self.num_docs,
            Some(alive) => BestOfScorer::new(Arc::clone(self), Vec::new()).count(alive),
        }
    }

    /// Returns whether `doc` is in the set.
    fn contains(&self, doc: DocId) -> bool {
        holds(&self.buckets, doc)
    }

    /// Returns whether `doc` holds one of the alternatives of the attribute of `rank`.
    pub fn attribute_holds(&self, rank: usize, doc: DocId) -> bool {
        self.by_attribute
            .get(rank)
            .is_some_and(|buckets| holds(buckets, doc))
    }
}

/// Returns one bit per document of a segment of `max_doc` documents, every one set.
pub fn all_bits(max_doc: DocId) -> Vec<u64> {
    let mut bits = vec![u64::MAX; max_doc.div_ceil(64) as usize];
    clear_past(&mut bits, max_doc);
    bits
}

/// Clears the bits past the last of `max_doc` documents.
pub fn clear_past(bits: &mut [u64], max_doc: DocId) {
    if !max_doc.is_multiple_of(64) {
        if let Some(last) = bits.last_mut() {
            *last &= (1u64 << (max_doc % 64)) - 1;
        }
    }
}

/// Returns whether the bit of `doc` is set in `buckets`, one bit per document.
fn holds(buckets: &[u64], doc: DocId) -> bool {
    buckets
        .get((doc / 64) as usize)
        .is_some_and(|bits| bits & (1u64 << (doc % 64)) != 0)
}

/// Returns `buckets`, one bit per document of a segment of `num_buckets` machine words,
/// zeroed to that length when it was left empty (no document of its attribute yet).
fn sized(buckets: &mut Vec<u64>, num_buckets: usize) -> &mut Vec<u64> {
    if buckets.is_empty() {
        buckets.resize(num_buckets, 0);
    }
    buckets
}

/// Adds the documents of `bits` not in `buckets` yet to it, with `class` in
/// `class_planes`, and returns how many it added.
fn add_bits(buckets: &mut [u64], class_planes: &mut [Vec<u64>], class: u8, bits: &[u64]) -> u32 {
    let mut num_added = 0;
    for (index, (held, &term_bits)) in buckets.iter_mut().zip(bits).enumerate() {
        let added = term_bits & !*held;
        if added == 0 {
            continue;
        }
        *held |= added;
        num_added += added.count_ones();
        for (plane_index, plane) in class_planes.iter_mut().enumerate() {
            if class & (1 << plane_index) != 0 {
                plane[index] |= added;
            }
        }
    }
    num_added
}

impl BestOfWeight {
    /// Returns the score of each class, scaled by the query's scale and `boost`.
    fn scaled_scores(&self, boost: Score) -> Vec<Score> {
        self.class_scores
            .iter()
            .map(|score| score * self.scale * boost)
            .collect()
    }

    fn read_set(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentSet>> {
        let segment = reader.segment_id();
        if let Some(set) = self
            .cache
            .set_of(self.key, segment)
            .filter(|set| set.read_among.is_none())
        {
            return Ok(set);
        }
        let set = Arc::new(self.read_among(reader, None)?);
        self.cache.insert((self.key, segment), Arc::clone(&set));
        Ok(set)
    }

    /// Returns the set holding exactly the matching documents of `among` (and perhaps
    /// others). A search reads a query at several levels, each matching more documents:
    /// a set read among fewer is completed with the documents it was not read among.
    fn read_set_among(
        &self,
        reader: &SegmentReader,
        among: &Arc<SegmentSet>,
    ) -> tantivy::Result<Arc<SegmentSet>> {
        let segment = reader.segment_id();
        let previous = self.cache.set_of(self.key, segment);
        let unread = match &previous {
            None => Arc::clone(among),
            Some(set) => {
                let Some(read) = &set.read_among else {
                    return Ok(Arc::clone(set));
                };
                let unread: Vec<u64> = among
                    .buckets
                    .iter()
                    .zip(&read.buckets)
                    .map(|(wanted, read)| wanted & !read)
                    .collect();
                if unread.iter().all(|bits| *bits == 0) {
                    return Ok(Arc::clone(set));
                }
                Arc::new(SegmentSet::of_bits(unread))
            }
        };
        let mut set = self.read_among(reader, Some(&unread))?;
        if let Some(previous) = &previous {
            set.add_disjoint(previous);
        }
        let set = Arc::new(set);
        self.cache.insert((self.key, segment), Arc::clone(&set));
        Ok(set)
    }

    /// Reads the alternatives' documents into a set, only among `among` when given.
    fn read_among(
        &self,
        reader: &SegmentReader,
        among: Option<&Arc<SegmentSet>>,
    ) -> tantivy::Result<SegmentSet> {
        let max_doc = reader.max_doc();
        let mut buckets = vec![0u64; max_doc.div_ceil(64) as usize];
        let num_planes =
            (usize::BITS - (self.class_scores.len().max(1) - 1).leading_zeros()) as usize;
        let mut class_planes = vec![vec![0u64; buckets.len()]; num_planes];
        let mut num_docs = 0u32;
        let mut by_attribute: Vec<Vec<u64>> = Vec::new();
        for ((source, &class), &attribute) in
            self.sources.iter().zip(&self.classes).zip(&self.attributes)
        {
            let mut attribute_buckets = attribute.map(|rank| {
                if by_attribute.len() <= rank {
                    by_attribute.resize_with(rank + 1, Vec::new);
                }
                std::mem::take(&mut by_attribute[rank])
            });
            // Alternatives come best first, so the first to reach a document is its best.
            let num_buckets = buckets.len();
            let mut add_docs = |docs: &[DocId]| {
                if let Some(attribute_buckets) = &mut attribute_buckets {
                    let attribute_buckets = sized(attribute_buckets, num_buckets);
                    for &doc in docs {
                        attribute_buckets[(doc / 64) as usize] |= 1u64 << (doc % 64);
                    }
                }
                for &doc in docs {
                    let bucket = &mut buckets[(doc / 64) as usize];
                    let bit = 1u64 << (doc % 64);
                    if *bucket & bit == 0 {
                        *bucket |= bit;
                        let mut rest = class;
                        let mut plane = 0;
                        while rest != 0 {
                            if rest & 1 != 0 {
                                class_planes[plane][(doc / 64) as usize] |= bit;
                            }
                            rest >>= 1;
                            plane += 1;
                        }
                        num_docs += 1;
                    }
                }
            };
            match source {
                Source::Query(weight) => match among {
                    None => weight.for_each_no_score(reader, &mut add_docs)?,
                    Some(among) => {
                        let docs = matching_among(weight.scorer(reader, 1.0)?, among);
                        add_docs(&docs);
                    }
                },
                Source::Term(term) => match self.cache.terms().docs(reader, term)? {
                    TermDocs::Absent => {}
                    TermDocs::Postings(mut postings) => loop {
                        let docs = postings.docs();
                        if docs.is_empty() {
                            break;
                        }
                        match among {
                            None => add_docs(docs),
                            Some(among) => {
                                let wanted: Vec<DocId> = docs
                                    .iter()
                                    .copied()
                                    .filter(|&doc| among.contains(doc))
                                    .collect();
                                add_docs(&wanted);
                            }
                        }
                        postings.advance();
                    },
                    TermDocs::Set(bits) => {
                        let bits: Bits = match among {
                            None => bits,
                            Some(among) => bits
                                .iter()
                                .zip(&among.buckets)
                                .map(|(term, wanted)| term & wanted)
                                .collect(),
                        };
                        if let Some(attribute_buckets) = &mut attribute_buckets {
                            let attribute_buckets = sized(attribute_buckets, num_buckets);
                            for (held, term_bits) in attribute_buckets.iter_mut().zip(&*bits) {
                                *held |= term_bits;
                            }
                        }
                        num_docs += add_bits(&mut buckets, &mut class_planes, class, &bits);
                    }
                },
            }
            if let (Some(rank), Some(attribute_buckets)) = (attribute, attribute_buckets) {
                by_attribute[rank] = attribute_buckets;
            }
        }
        Ok(SegmentSet {
            buckets,
            class_planes,
            num_docs,
            by_attribute,
            read_among: among.cloned(),
        })
    }
}

/// Returns the documents of `among` that `scorer` matches, in order, each side skipping
/// to the other's next document: `among` is the few documents a search matches, the
/// scorer a phrase whose words may be in many more.
fn matching_among(mut scorer: Box<dyn Scorer>, among: &Arc<SegmentSet>) -> Vec<DocId> {
    let mut docs = Vec::new();
    let mut wanted = BestOfScorer::new(Arc::clone(among), Vec::new());
    let mut doc = scorer.doc();
    while doc != TERMINATED {
        let next_wanted = wanted.seek(doc);
        if next_wanted == TERMINATED {
            break;
        }
        if next_wanted == doc {
            docs.push(doc);
            doc = scorer.advance();
        } else {
            doc = scorer.seek(next_wanted);
        }
    }
    docs
}

impl Weight for BestOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let set = self.read_set(reader)?;
        Ok(Box::new(BestOfScorer::new(set, self.scaled_scores(boost))))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        explain_score(self, reader, doc, "best alternative")
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        Ok(self.read_set(reader)?.count_alive(reader))
    }
}

/// Walks the documents of a set, each scoring the same.
pub struct SetScorer {
    docs: BestOfScorer,
    score: Score,
}

impl SetScorer {
    /// Returns the scorer of the documents of `set`, each scoring `score`.
    pub fn new(set: Arc<SegmentSet>, score: Score) -> SetScorer {
        SetScorer {
            docs: BestOfScorer::new(set, Vec::new()),
            score,
        }
    }
}

doc_set_of_docs!(SetScorer);

impl Scorer for SetScorer {
    fn score(&mut self) -> Score {
        self.score
    }
}

/// Walks a [`SegmentSet`] in document order.
struct BestOfScorer {
    set: Arc<SegmentSet>,
    /// Score per class, scaled.
    scores: Vec<Score>,
    /// Index of the bucket holding `doc`.
    bucket: usize,
    /// Bits of the current bucket above `doc`.
    rest: u64,
    doc: DocId,
}

impl BestOfScorer {
    fn new(set: Arc<SegmentSet>, scores: Vec<Score>) -> BestOfScorer {
        let rest = set.buckets.first().copied().unwrap_or(0);
        let mut scorer = BestOfScorer {
            set,
            scores,
            bucket: 0,
            rest,
            doc: 0,
        };
        scorer.advance();
        scorer
    }
}

impl DocSet for BestOfScorer {
    fn advance(&mut self) -> DocId {
        loop {
            if self.rest != 0 {
                let low = self.rest.trailing_zeros();
                self.rest &= self.rest - 1;
                self.doc = self.bucket as DocId * 64 + low;
                return self.doc;
            }
            self.bucket += 1;
            match self.set.buckets.get(self.bucket) {
                Some(&bits) => self.rest = bits,
                None => {
                    self.bucket = self.set.buckets.len();
                    self.doc = TERMINATED;
                    return TERMINATED;
                }
            }
        }
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        let bucket = (target / 64) as usize;
        let Some(&bits) = self.set.buckets.get(bucket) else {
            self.bucket = self.set.buckets.len();
            self.rest = 0;
            self.doc = TERMINATED;
            return TERMINATED;
        };
        if bucket != self.bucket {
            self.bucket = bucket;
            self.rest = bits;
        }
        self.rest &= u64::MAX << (target % 64);
        self.advance()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.set.num_docs
    }
}

impl Scorer for BestOfScorer {
    fn score(&mut self) -> Score {
        self.scores[self.set.class_of(self.doc)]
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::TermQuery;
    use tantivy::schema::{IndexRecordOption, Schema, TEXT};
    use tantivy::{doc, Index};

    use super::super::filter_set::FilterNode;
    use super::*;

    fn index_of(texts: &[&str]) -> (Index, tantivy::schema::Field) {
        let mut builder = Schema::builder();
        let field = builder.add_text_field("text", TEXT);
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for text in texts {
            writer.add_document(doc!(field => *text)).unwrap();
        }
        writer.commit().unwrap();
        (index, field)
    }

    fn term(field: tantivy::schema::Field, word: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, word),
            IndexRecordOption::Basic,
        ))
    }

    fn alternative(query: Box<dyn Query>, score: f32, attribute: Option<usize>) -> Alternative {
        Alternative {
            query,
            term: None,
            score,
            attribute,
        }
    }

    /// Returns the documents `query` matches with their scores, in document order.
    fn scores_by_doc(searcher: &tantivy::Searcher, query: &dyn Query) -> Vec<(u32, f32)> {
        let top = searcher.search(query, &TopDocs::with_limit(10)).unwrap();
        let mut scores: Vec<(u32, f32)> = top
            .into_iter()
            .map(|(score, address)| (address.doc_id, score))
            .collect();
        scores.sort_by_key(|&(doc, _)| doc);
        scores
    }

    #[test]
    fn each_document_scores_its_best_alternative() {
        let (index, field) = index_of(&["cell", "cells", "cell cells", "other"]);
        let searcher = index.reader().unwrap().searcher();
        let cache = SetsCache::default();
        let query = BestOfQuery::new(
            vec![
                alternative(term(field, "cells"), 0.5, Some(1)),
                alternative(term(field, "cell"), 1.0, None),
            ],
            2.0,
            cache.clone(),
            0,
        );
        assert_eq!(
            scores_by_doc(&searcher, &query),
            vec![(0, 2.0), (1, 1.0), (2, 2.0)]
        );
        assert_eq!(searcher.search(&query, &Count).unwrap(), 3);
        assert_eq!(cache.sets.lock().unwrap().len(), 1, "the set is read once");
        let set = cache
            .set_of(0, searcher.segment_reader(0).segment_id())
            .unwrap();
        let holding: Vec<u32> = (0..4).filter(|&doc| set.attribute_holds(1, doc)).collect();
        assert_eq!(holding, [1, 2], "documents holding `cells`");
        assert!(
            !set.attribute_holds(0, 0),
            "`cell` is told apart by no attribute"
        );
    }

    #[test]
    fn documents_keep_their_best_class_among_many() {
        // Document `d` holds the words from the `d`th on: its best alternative is its first
        // word, when that is one of the alternatives.
        let words = ["a", "b", "c", "d", "e", "f"];
        let texts: Vec<String> = (0..words.len()).map(|doc| words[doc..].join(" ")).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let (index, field) = index_of(&texts);
        let searcher = index.reader().unwrap().searcher();
        for num_words in 1..=words.len() {
            let alternatives = words[..num_words]
                .iter()
                .enumerate()
                .map(|(rank, word)| {
                    Alternative::of_term(
                        Term::from_field_text(field, word),
                        10.0 - rank as f32,
                        None,
                    )
                })
                .collect();
            let query = BestOfQuery::new(alternatives, 1.0, SetsCache::default(), 0);
            let expected: Vec<(u32, f32)> = (0..num_words as u32)
                .map(|doc| (doc, 10.0 - doc as f32))
                .collect();
            assert_eq!(
                scores_by_doc(&searcher, &query),
                expected,
                "{num_words} classes"
            );
        }
    }

    #[test]
    fn terms_read_as_sets_or_postings_give_the_documents_of_their_queries() {
        // Over 2,000 documents, `common` is in every one, `even` in every other one (both
        // read as sets), `rare` in one in a hundred (read from its postings).
        let texts: Vec<String> = (0..2_000)
            .map(|doc| {
                let mut text = String::from("common");
                if doc % 2 == 0 {
                    text.push_str(" even");
                }
                if doc % 100 == 3 {
                    text.push_str(" rare");
                }
                text
            })
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let (index, field) = index_of(&texts);
        let searcher = index.reader().unwrap().searcher();
        let reader = searcher.segment_reader(0);
        let words = [
            ("rare", 3.0, Some(0)),
            ("even", 2.0, Some(1)),
            ("common", 1.0, None),
        ];
        let terms = Arc::new(TermSets::default());
        let read = |by_term: bool| {
            let cache = SetsCache::with_terms(Arc::clone(&terms));
            let alternatives = words
                .iter()
                .map(|&(word, score, attribute)| {
                    if by_term {
                        Alternative::of_term(Term::from_field_text(field, word), score, attribute)
                    } else {
                        alternative(term(field, word), score, attribute)
                    }
                })
                .collect();
            let query = BestOfQuery::new(alternatives, 1.0, cache, 0);
            let weight = query
                .best_of_weight(EnableScoring::disabled_from_searcher(&searcher))
                .unwrap();
            let set = weight.read_set(reader).unwrap();
            let classes: Vec<Option<usize>> = (0..2_000)
                .map(|doc| set.contains(doc).then(|| set.class_of(doc)))
                .collect();
            let attributes: Vec<(bool, bool)> = (0..2_000)
                .map(|doc| (set.attribute_holds(0, doc), set.attribute_holds(1, doc)))
                .collect();
            (set.num_docs, classes, attributes)
        };
        let by_query = read(false);
        let by_term = read(true);
        assert_eq!(by_term, by_query);
        let (num_docs, classes, attributes) = by_term;
        assert_eq!(num_docs, 2_000);
        for doc in 0..2_000 {
            let class = if doc % 100 == 3 {
                0
            } else if doc % 2 == 0 {
                1
            } else {
                2
            };
            assert_eq!(classes[doc], Some(class), "document {doc}");
            assert_eq!(
                attributes[doc],
                (doc % 100 == 3, doc % 2 == 0),
                "document {doc}"
            );
        }
        let segment_words = 2_000usize.div_ceil(64);
        assert_eq!(
            terms.num_bytes(),
            2 * segment_words * 8,
            "`common` and `even` kept as sets, `rare` not"
        );
    }

    #[test]
    fn units_are_required_optional_or_excluded() {
        let (index, field) = index_of(&["a b", "a", "a c", "b", "a b c"]);
        let searcher = index.reader().unwrap().searcher();
        let cache = SetsCache::default();
        let unit = |word: &str, scale: f32, key: usize| {
            BestOfQuery::new(
                vec![alternative(term(field, word), 1.0, None)],
                scale,
                cache.clone(),
                key,
            )
        };
        let query = UnitsQuery {
            required: vec![unit("a", 2.0, 0)],
            optional: vec![unit("b", 1.0, 1)],
            excluded: vec![unit("c", 0.0, 2)],
            filter: None,
        };
        assert_eq!(scores_by_doc(&searcher, &query), vec![(0, 3.0), (1, 2.0)]);
        assert_eq!(searcher.search(&query, &Count).unwrap(), 2);

        // A filter removes documents without adding to the scores.
        let filter = |word: &str| {
            Some(FilterSetQuery::new(FilterNode::Condition(term(
                field, word,
            ))))
        };
        let filtered = UnitsQuery {
            filter: filter("b"),
            ..query
        };
        assert_eq!(scores_by_doc(&searcher, &filtered), vec![(0, 3.0)]);
        assert_eq!(searcher.search(&filtered, &Count).unwrap(), 1);

        // Without a required unit, every document the filter passes matches, but the
        // excluded ones; with no filter either, every document but the excluded ones.
        let excluding = |filter| UnitsQuery {
            required: Vec::new(),
            optional: Vec::new(),
            excluded: vec![unit("c", 0.0, 2)],
            filter,
        };
        assert_eq!(
            scores_by_doc(&searcher, &excluding(filter("a"))),
            vec![(0, 0.0), (1, 0.0)]
        );
        assert_eq!(
            scores_by_doc(&searcher, &excluding(None)),
            vec![(0, 0.0), (1, 0.0), (3, 0.0)]
        );
    }

    #[test]
    fn a_bonus_read_among_the_matching_documents_scores_them_as_one_read_whole() {
        // Documents of three to six words drawn from four, in a fixed pseudo-random order.
        let mut state = 7u32;
        let mut next = |bound: u32| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) % bound
        };
        let texts: Vec<String> = (0..400)
            .map(|_| {
                let num_words = 3 + next(4);
                (0..num_words)
                    .map(|_| ["a", "b", "c", "d"][next(4) as usize])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let (index, field) = index_of(&texts);
        let searcher = index.reader().unwrap().searcher();
        let phrase = |left: &str, right: &str| -> Box<dyn Query> {
            Box::new(tantivy::query::PhraseQuery::new(vec![
                Term::from_field_text(field, left),
                Term::from_field_text(field, right),
            ]))
        };
        let all_scores = |query: &UnitsQuery| {
            let top = searcher.search(query, &TopDocs::with_limit(1_000)).unwrap();
            let mut scores: Vec<(u32, f32)> = top
                .into_iter()
                .map(|(score, address)| (address.doc_id, score))
                .collect();
            scores.sort_by_key(|(doc, _)| *doc);
            scores
        };
        let query_of = |cache: &SetsCache, required: &[&str], among_matching: bool| {
            let unit = |word: &str, key: usize| {
                BestOfQuery::new(
                    vec![Alternative::of_term(
                        Term::from_field_text(field, word),
                        1.0,
                        None,
                    )],
                    4.0,
                    cache.clone(),
                    key,
                )
            };
            let bonus = BestOfQuery::new(
                vec![
                    alternative(phrase("a", "b"), 1.0, Some(0)),
                    alternative(phrase("c", "d"), 0.5, Some(1)),
                    alternative(term(field, "d"), 0.25, Some(1)),
                ],
                1.0,
                cache.clone(),
                10,
            );
            let bonus = match among_matching {
                true => bonus.scoring_matching_only(),
                false => bonus,
            };
            let keys = ["a", "b", "c"];
            UnitsQuery {
                required: required
                    .iter()
                    .map(|word| unit(word, keys.iter().position(|key| key == word).unwrap()))
                    .collect(),
                optional: vec![bonus],
                excluded: Vec::new(),
                filter: None,
            }
        };
        // One search's levels share a cache: each level matches more documents than the
        // one before, then fewer, then others.
        let shared = SetsCache::default();
        let levels: [&[&str]; 6] = [
            &["a", "b", "c"],
            &["a", "b"],
            &["a"],
            &["a", "b"],
            &["c"],
            &[],
        ];
        for required in levels {
            let among = all_scores(&query_of(&shared, required, true));
            let whole = all_scores(&query_of(&SetsCache::default(), required, false));
            assert!(!whole.is_empty());
            assert_eq!(among, whole, "required {required:?}");
        }
    }

    #[test]
    fn seeking_finds_the_next_document_across_buckets() {
        let texts: Vec<String> = (0..300)
            .map(|doc| {
                if doc % 70 == 3 {
                    "rare".into()
                } else {
                    "common".into()
                }
            })
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let (index, field) = index_of(&texts);
        let searcher = index.reader().unwrap().searcher();
        let query = BestOfQuery::new(
            vec![alternative(term(field, "rare"), 1.0, None)],
            1.0,
            SetsCache::default(),
            0,
        );
        let weight = query
            .weight(EnableScoring::disabled_from_searcher(&searcher))
            .unwrap();
        let mut scorer = weight.scorer(searcher.segment_reader(0), 1.0).unwrap();
        assert_eq!(scorer.doc(), 3);
        assert_eq!(scorer.seek(3), 3);
        assert_eq!(scorer.seek(4), 73);
        assert_eq!(scorer.seek(140), 143);
        assert_eq!(scorer.advance(), 213);
        assert_eq!(scorer.seek(283), 283);
        assert_eq!(scorer.seek(284), TERMINATED);
    }
}
