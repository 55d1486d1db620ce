//! One search on every shard at once: each shard retrieves its candidates, counts its
//! matches and facet values, and ranks its best candidates precisely; the caller merges the
//! shards' ranked lists into the global order, which is exact because every shard returns
//! at least the `offset + limit` best of its own documents.

use std::collections::{BTreeMap, BinaryHeap, HashSet, VecDeque};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use tantivy::collector::Count;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{AllQuery, Bm25StatisticsProvider, EnableScoring, Query};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, Term, TERMINATED,
};

use super::best_of::SegmentSet;
use super::catalog::{Attribute, IndexCatalog};
use super::documents;
use super::facets::{count_facets, distinct_values, FacetCounts, MatchingDocsCollector};
use super::filter::filter_query;
use super::filter_set::FilterSetQuery;
use super::ids::SegmentIds;
use super::query::QueryPlan;
use super::rank::{
    best_possible_key, exactness_at_most, rank_document, unranked_document, RankedDocument,
    RankingMemo, UnitPlaces,
};
use super::rules::{HitOrder, ValueOrderCollector};
use super::tuning::{MAX_TIED_CANDIDATES, RANK_ALL_MATCHES_UP_TO};
use super::workers;
use super::Deadline;
use crate::error::{ApiError, Result};
use crate::filter::FilterExpr;

/// What every shard runs.
#[derive(Debug, Clone, Copy)]
pub struct ShardSearch<'a> {
    /// The index.
    pub catalog: &'static IndexCatalog,
    /// The query; `None` for a placeholder search.
    pub plan: Option<&'a QueryPlan>,
    /// The filter.
    pub filter: Option<&'a FilterExpr>,
    /// The order of hits.
    pub order: &'a HitOrder,
    /// Candidates retrieved and ranked per shard.
    pub num_candidates: usize,
    /// Facets to count.
    pub facets: &'a [String],
    /// When to give up.
    pub deadline: &'a Deadline,
    /// The attribute of which one document per value is kept, if any.
    pub distinct: Option<&'static Attribute>,
    /// Where the page asked for ends (`offset + limit`): past the deadline, this many
    /// candidates are still shown, unranked, so a degraded search has hits.
    pub window_end: usize,
    /// Numbers of query units to require, most first, before requiring only the first:
    /// the first of them that a shard holds a page of documents for gives its candidates
    /// (see [`QueryPlan::selective_levels`]); empty unless the words rule orders hits
    /// first and no `distinct` applies.
    pub levels: &'a [usize],
    /// Matching documents worth counting: totals stop at `maxTotalHits`, so where no facet
    /// or distinct value needs every match, a shard stops counting there.
    pub count_cap: usize,
    /// Whether the ranked candidates are read past the page (a score threshold counts
    /// them, `distinct` pages through them): every candidate is then ranked, where
    /// otherwise ranking stops once the rest cannot reach the page.
    pub pool_spans_pages: bool,
}

/// What one shard found.
#[derive(Debug, Default)]
pub struct ShardResult {
    /// Documents matching the query and filter.
    pub num_matching: usize,
    /// Its best candidates, ranked, best first.
    pub ranked: Vec<RankedDocument>,
    /// Facet counts over all its matching documents.
    pub facets: BTreeMap<String, FacetCounts>,
    /// Every matching document with its values of the distinct attribute, when the
    /// search has one.
    pub distinct_values: Vec<(DocAddress, Vec<String>)>,
}

/// Runs `search` on every shard in parallel (see [`workers`]) and returns their results
/// in shard order.
///
/// # Errors
///
/// The first error of a shard: a budget exceeded, a filter refused, a read that failed.
pub fn search_shards(searchers: &[Searcher], search: ShardSearch<'_>) -> Result<Vec<ShardResult>> {
    if searchers.len() == 1 {
        return Ok(vec![search_shard(&searchers[0], search)?]);
    }
    workers::try_map(searchers, "a shard search panicked", |searcher| {
        search_shard(searcher, search)
    })
}

/// Runs `search` on one shard.
///
/// # Errors
///
/// As [`search_shards`].
pub fn search_shard(searcher: &Searcher, search: ShardSearch<'_>) -> Result<ShardResult> {
    let filter = match search.filter {
        Some(filter) => Some(filter_query(search.catalog, filter, searcher)?),
        None => None,
    };
    let needs_matching = !search.facets.is_empty() || search.distinct.is_some();
    let facets = needs_matching.then_some(MatchingDocsCollector);

    let (num_matching, candidates, matching) = match search.plan.filter(|plan| !plan.is_empty()) {
        Some(plan) => word_candidates(searcher, &search, plan, filter.as_ref(), facets)?,
        None => {
            // Without words (or with exclusions only) every document passing the filter
            // matches, in the order of the sort values.
            let query: Box<dyn Query> = match (search.plan, &filter) {
                (Some(plan), filter) => plan.to_query(search.catalog, filter.as_ref()),
                (None, Some(filter)) => Box::new(filter.clone()),
                (None, None) => Box::new(AllQuery),
            };
            let top = ValueOrderCollector {
                criteria: search.order.value_criteria(),
                limit: search.num_candidates,
                then_score: false,
                id_descending: search.order.id_descending,
            };
            let (num_matching, top, matching) = searcher
                .search(&query, &(Count, top, facets))
                .map_err(ApiError::internal)?;
            let addresses: Vec<DocAddress> = top.into_iter().map(|(_, address)| address).collect();
            (num_matching, Candidates::untied(addresses), matching)
        }
    };

    let ranked = rank_candidates(searcher, &search, &candidates)?;
    tracing::debug!(num_matching, num_ranked = ranked.len(), "shard searched");
    let matching = matching.unwrap_or_default();
    let facets = count_facets(
        search.catalog,
        searcher,
        &matching,
        search.facets,
        search.deadline,
    )?;
    let distinct_values = match search.distinct {
        Some(attribute) => distinct_values(
            search.catalog,
            attribute,
            searcher,
            &matching,
            search.deadline,
        )?,
        None => Vec::new(),
    };
    Ok(ShardResult {
        num_matching,
        ranked,
        facets,
        distinct_values,
    })
}

/// The documents matching a search in one shard, per segment.
type MatchingDocs = Vec<(SegmentOrdinal, Vec<DocId>)>;

/// The candidates of one shard, best first.
#[derive(Debug, Default)]
pub struct Candidates {
    addresses: Vec<DocAddress>,
    /// How many of the first are better than the last in the first stage: the others tie
    /// with it, smallest ids first.
    num_untied: usize,
}

impl Candidates {
    /// Returns candidates of which none ties with another in a way ranking may use.
    fn untied(addresses: Vec<DocAddress>) -> Candidates {
        Candidates {
            num_untied: addresses.len(),
            addresses,
        }
    }
}

/// Returns, for a search with words, how many documents of the shard match, the
/// candidates to rank, and the matching documents when facets or distinct values need
/// them.
fn word_candidates(
    searcher: &Searcher,
    search: &ShardSearch<'_>,
    plan: &QueryPlan,
    filter: Option<&FilterSetQuery>,
    facets: Option<MatchingDocsCollector>,
) -> Result<(usize, Candidates, Option<MatchingDocs>)> {
    let leading_values = search.order.leading_value_criteria();
    let by_id_only = search.order.rules.is_empty();
    if !leading_values.is_empty() || by_id_only {
        // The ranking rules start with values: the candidates are the documents first in
        // them, then by words and typos. Without any rule, hits are in id order, and so
        // are the candidates.
        let top = ValueOrderCollector {
            criteria: leading_values,
            limit: search.num_candidates,
            then_score: !by_id_only,
            id_descending: search.order.id_descending,
        };
        let query = plan.to_query(search.catalog, filter);
        let (num_matching, top, matching) = searcher
            .search_with_statistics_provider(&query, &(Count, top, facets), &ConstantScores)
            .map_err(ApiError::internal)?;
        let addresses = top.into_iter().map(|(_, address)| address).collect();
        return Ok((num_matching, Candidates::untied(addresses), matching));
    }
    // Documents tied with the last candidate are collected too, in the same pass, so that
    // which of them are ranked does not depend on how documents are spread over shards.
    let best = TopWithTiesCollector::new(search.num_candidates, MAX_TIED_CANDIDATES)
        .keeping_all_up_to(RANK_ALL_MATCHES_UP_TO);
    for &num_required in search.levels {
        let level = plan.to_query_requiring(search.catalog, num_required, filter);
        let (num_in_level, addresses) = searcher
            .search_with_statistics_provider(&level, &(Count, best), &ConstantScores)
            .map_err(ApiError::internal)?;
        // Every document of a deeper bucket ranks after these under the words criterion,
        // so a page of them leaves the deeper ones out.
        if num_in_level >= search.window_end {
            let matching_query = plan.to_matching_query(search.catalog, filter);
            if facets.is_none() {
                let num_matching =
                    count_up_to(searcher, matching_query.as_ref(), search.count_cap)?;
                return Ok((num_matching, addresses, None));
            }
            let (num_matching, matching) = searcher
                .search(&matching_query, &(Count, facets))
                .map_err(ApiError::internal)?;
            return Ok((num_matching, addresses, matching));
        }
    }
    let query = plan.to_query(search.catalog, filter);
    searcher
        .search_with_statistics_provider(&query, &(Count, best, facets), &ConstantScores)
        .map_err(ApiError::internal)
}

/// Returns how many documents of a shard match `query`, counting no further than `cap`:
/// the matches of a common first word are most of the index, and counting them all took
/// longer than finding the candidates.
fn count_up_to(searcher: &Searcher, query: &dyn Query, cap: usize) -> Result<usize> {
    let weight = query
        .weight(EnableScoring::disabled_from_searcher(searcher))
        .map_err(ApiError::internal)?;
    let mut count = 0;
    for segment in searcher.segment_readers() {
        if count >= cap {
            break;
        }
        let mut scorer = weight.scorer(segment, 1.0).map_err(ApiError::internal)?;
        let alive = segment.alive_bitset();
        let mut doc = scorer.doc();
        while doc != TERMINATED && count < cap {
            if alive.is_none_or(|alive| alive.is_alive(doc)) {
                count += 1;
            }
            doc = scorer.advance();
        }
    }
    Ok(count)
}

/// Scores nothing from the index's statistics: every clause of a search scores a
/// constant, so the BM25 statistics tantivy gathers for each term (a dictionary lookup
/// per term and segment) would be read for nothing.
pub(super) struct ConstantScores;

impl Bm25StatisticsProvider for ConstantScores {
    fn total_num_tokens(&self, _field: Field) -> tantivy::Result<u64> {
        Ok(1)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(1)
    }

    fn doc_freq(&self, _term: &Term) -> tantivy::Result<u64> {
        Ok(1)
    }
}

/// Reads and ranks the candidates, best first.
///
/// The candidates tying with the last in the first stage (up to
/// [`MAX_TIED_CANDIDATES`] of a common name) are ranked in id order, the order that
/// every rule leaves to, and ranking stops once the page is full of documents that no
/// candidate left can rank before: the best key a candidate can have is bounded by the
/// attributes the first stage found its units in ([`best_possible_key`]), and those left
/// come after in id order. The shard's best `window_end` documents are the same as when
/// every candidate is ranked; when the ranked pool is read past the page, every candidate
/// is.
fn rank_candidates(
    searcher: &Searcher,
    search: &ShardSearch<'_>,
    candidates: &Candidates,
) -> Result<Vec<RankedDocument>> {
    let addresses = &candidates.addresses;
    let mut ranked = Vec::with_capacity(addresses.len());
    let mut memo = search.plan.map(RankingMemo::new).unwrap_or_default();
    let mut num_unranked = 0;
    let mut is_exceeded = false;
    let holding_stems = match search.plan {
        Some(plan) => candidates_holding_stems(searcher, search.catalog, plan, addresses)?,
        None => HashSet::new(),
    };
    let mut unit_sets: FxHashMap<SegmentOrdinal, Option<Vec<Arc<SegmentSet>>>> =
        FxHashMap::default();
    let word_plan = search.plan.filter(|plan| !plan.is_empty());
    let mut sets_of = |plan: &QueryPlan, segment: SegmentOrdinal| {
        unit_sets
            .entry(segment)
            .or_insert_with(|| plan.unit_sets(searcher.segment_reader(segment).segment_id()))
            .clone()
    };
    let stops_early = word_plan.is_some()
        && !search.pool_spans_pages
        && search.window_end > 0
        && candidates.num_untied < addresses.len();
    let mut addresses = candidates.addresses.clone();
    // Where each tied candidate holds the units, and the best key it can have, at most
    // that of every candidate after it, so a bound for all of them.
    let mut tied_places: Vec<UnitPlaces> = Vec::new();
    let mut bounds_from: Vec<Vec<i128>> = Vec::new();
    if let (Some(plan), true) = (word_plan, stops_early) {
        let tied = &mut addresses[candidates.num_untied..];
        sort_by_id(searcher, tied, search.order.id_descending)?;
        tied_places = tied
            .iter()
            .map(|address| {
                let unit_attributes = match sets_of(plan, address.segment_ord) {
                    Some(sets) => plan.unit_attributes(&sets, address.doc_id),
                    None => vec![u64::MAX; plan.units.len()],
                };
                UnitPlaces::of(&unit_attributes)
            })
            .collect();
        bounds_from = tied_places
            .iter()
            .map(|&places| best_possible_key(&search.order.rules, places))
            .collect();
        for index in (1..bounds_from.len()).rev() {
            if bounds_from[index] < bounds_from[index - 1] {
                bounds_from[index - 1] = bounds_from[index].clone();
            }
        }
    }
    // Candidates that ranking may never reach are read as it goes, a few at a time.
    let mut next_read = 0;
    let mut read = VecDeque::new();
    // The best `window_end` ranked so far, the last of them on top.
    let mut best: BinaryHeap<Placed> = BinaryHeap::new();
    for (index, &address) in addresses.iter().enumerate() {
        if read.is_empty() {
            let end = if stops_early {
                (index.max(candidates.num_untied) + READ_AHEAD).min(addresses.len())
            } else {
                addresses.len()
            };
            read.extend(documents::read_searched(
                search.catalog,
                searcher,
                &addresses[next_read..end],
            )?);
            next_read = end;
        }
        let Some(stored) = read.pop_front() else {
            break;
        };
        // Checked before every document: one with thousands of authors takes milliseconds
        // to rank, so a check every few dozen documents let searches overshoot by seconds.
        if !is_exceeded {
            is_exceeded = search.deadline.is_exceeded();
        }
        // Past the deadline the next candidates, in the first stage's order, fill the page
        // unranked after the ranked ones: the search answers degraded rather than empty.
        if is_exceeded && num_unranked == search.window_end {
            break;
        }
        if let Some(last) = best.peek().filter(|_| best.len() == search.window_end) {
            if let Some(bound) = index
                .checked_sub(candidates.num_untied)
                .and_then(|tied_index| bounds_from.get_mut(tied_index))
            {
                let bound = Placed {
                    key: std::mem::take(bound),
                    id: documents::id_of(search.catalog, &stored),
                    id_descending: search.order.id_descending,
                };
                if bound > *last {
                    break;
                }
            }
        }
        let mut document = match word_plan {
            Some(_) if is_exceeded => {
                num_unranked += 1;
                let mut document = unranked_document(search.catalog, &[], stored);
                document.key = vec![i128::MAX; search.order.rules.len()];
                document.score = 0.0;
                document
            }
            Some(plan) => {
                let attributes_holding_units = match sets_of(plan, address.segment_ord) {
                    Some(sets) => plan.attributes_holding_units(&sets, address.doc_id),
                    None => u64::MAX,
                };
                // A tied candidate's own bound, closer than the one shared with those
                // after it: when it cannot reach the page unless a value holds exactly
                // the query's words, its values are read as plain text to see, far more
                // cheaply than ranking it.
                let own_places = index
                    .checked_sub(candidates.num_untied)
                    .and_then(|tied_index| tied_places.get(tied_index));
                let last = best.peek().filter(|_| best.len() == search.window_end);
                if let (Some(&places), Some(last)) = (own_places, last) {
                    let id = documents::id_of(search.catalog, &stored);
                    let ranks_after = |places: UnitPlaces| {
                        let bound = Placed {
                            key: best_possible_key(&search.order.rules, places),
                            id: id.clone(),
                            id_descending: search.order.id_descending,
                        };
                        bound > *last
                    };
                    if ranks_after(places.with_exactness_at_most(1))
                        && (ranks_after(places)
                            || exactness_at_most(
                                plan,
                                search.catalog,
                                &stored,
                                attributes_holding_units,
                                &memo,
                            ) < 2)
                    {
                        continue;
                    }
                }
                let document = rank_document(
                    plan,
                    search.catalog,
                    &search.order.rules,
                    stored,
                    holding_stems.contains(&address),
                    attributes_holding_units,
                    &mut memo,
                );
                if stops_early {
                    best.push(Placed {
                        key: document.key.clone(),
                        id: document.id.clone(),
                        id_descending: search.order.id_descending,
                    });
                    if best.len() > search.window_end {
                        best.pop();
                    }
                }
                document
            }
            None => {
                num_unranked += usize::from(is_exceeded);
                unranked_document(search.catalog, &search.order.rules, stored)
            }
        };
        document.address = Some(address);
        ranked.push(document);
    }
    sort_ranked(&mut ranked, search.order);
    Ok(ranked)
}

/// A ranked document's place in the order of hits, for keeping the best few.
#[derive(Debug, PartialEq, Eq)]
struct Placed {
    key: Vec<i128>,
    id: String,
    id_descending: bool,
}

impl Ord for Placed {
    /// Earlier in the order of hits is less.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key).then_with(|| {
            if self.id_descending {
                other.id.cmp(&self.id)
            } else {
                self.id.cmp(&other.id)
            }
        })
    }
}

impl PartialOrd for Placed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Candidates read at a time once ranking may stop before the last: a few times what a
/// page holds, so that a stop leaves most of a large tie group unread.
const READ_AHEAD: usize = 64;

/// Sorts `addresses` by their documents' ids, descending if asked, read from the id
/// column: ordinals where the documents share a segment, the ids themselves otherwise.
fn sort_by_id(searcher: &Searcher, addresses: &mut [DocAddress], descending: bool) -> Result<()> {
    let mut columns: FxHashMap<SegmentOrdinal, SegmentIds> = FxHashMap::default();
    for address in addresses.iter() {
        if let std::collections::hash_map::Entry::Vacant(slot) = columns.entry(address.segment_ord)
        {
            let reader = searcher.segment_reader(address.segment_ord);
            slot.insert(SegmentIds::new(reader).map_err(ApiError::internal)?);
        }
    }
    if columns.len() == 1 {
        let ids = columns.values().next().unwrap_or_else(|| unreachable!());
        addresses.sort_by_cached_key(|address| ids.ordinal(address.doc_id));
    } else {
        let mut keyed: Vec<(String, DocAddress)> = Vec::with_capacity(addresses.len());
        for (segment, ids) in &columns {
            let of_segment: Vec<DocAddress> = addresses
                .iter()
                .filter(|address| address.segment_ord == *segment)
                .copied()
                .collect();
            let ordinals: Vec<u64> = of_segment
                .iter()
                .map(|address| ids.ordinal(address.doc_id))
                .collect();
            let names = ids.ids(&ordinals).map_err(ApiError::internal)?;
            keyed.extend(names.into_iter().zip(of_segment));
        }
        keyed.sort_unstable();
        for (slot, (_, address)) in addresses.iter_mut().zip(keyed) {
            *slot = address;
        }
    }
    if descending {
        addresses.reverse();
    }
    Ok(())
}

/// Returns the candidates whose stemmed fields hold the stem of a query word, read from
/// the postings: ranking stems a title (detecting its language first) only for them.
fn candidates_holding_stems(
    searcher: &Searcher,
    catalog: &IndexCatalog,
    plan: &QueryPlan,
    addresses: &[DocAddress],
) -> Result<HashSet<DocAddress>> {
    let mut holding = HashSet::new();
    let stem_fields: Vec<&str> = plan
        .attributes
        .iter()
        .filter_map(|attribute| attribute.spec.stem_field)
        .collect();
    let stems: Vec<&str> = plan
        .units
        .iter()
        .filter_map(|unit| unit.stem.as_deref())
        .collect();
    if stem_fields.is_empty() || stems.is_empty() {
        return Ok(holding);
    }
    let mut by_segment: BTreeMap<SegmentOrdinal, Vec<DocId>> = BTreeMap::new();
    for address in addresses {
        by_segment
            .entry(address.segment_ord)
            .or_default()
            .push(address.doc_id);
    }
    for (segment_ord, mut doc_ids) in by_segment {
        doc_ids.sort_unstable();
        let segment = searcher.segment_reader(segment_ord);
        for field_name in &stem_fields {
            let field = catalog.field(field_name);
            let inverted_index = segment.inverted_index(field).map_err(ApiError::internal)?;
            for stem in &stems {
                let term = Term::from_field_text(field, stem);
                let Some(mut postings) = inverted_index
                    .read_postings(&term, IndexRecordOption::Basic)
                    .map_err(ApiError::internal)?
                else {
                    continue;
                };
                for &doc_id in &doc_ids {
                    // The postings may already stand past this candidate: seeking backwards
                    // is not allowed.
                    let at = match postings.doc() {
                        current if current < doc_id => postings.seek(doc_id),
                        current => current,
                    };
                    if at == doc_id {
                        holding.insert(DocAddress::new(segment_ord, doc_id));
                    }
                }
            }
        }
    }
    Ok(holding)
}

/// Sorts documents best first under `order`.
pub fn sort_ranked(documents: &mut [RankedDocument], order: &HitOrder) {
    documents.sort_by(|first, second| {
        first.key.cmp(&second.key).then_with(|| {
            if order.id_descending {
                second.id.cmp(&first.id)
            } else {
                first.id.cmp(&second.id)
            }
        })
    });
}

/// Returns the matching documents of a shard for a filter alone, in segment order.
///
/// # Errors
///
/// A filter that cannot be compiled, or a failed read.
pub fn filtered_docs(
    catalog: &'static IndexCatalog,
    searcher: &Searcher,
    filter: Option<&FilterExpr>,
) -> Result<Vec<(SegmentOrdinal, Vec<DocId>)>> {
    let query: Box<dyn Query> = match filter {
        Some(filter) => Box::new(filter_query(catalog, filter, searcher)?),
        None => Box::new(AllQuery),
    };
    searcher
        .search(&query, &MatchingDocsCollector)
        .map_err(ApiError::internal)
}

/// Collects the `num_best` best scoring documents and every document tied with the last
/// of them, at most `limit` in all, best first; among equal scores the smallest ids are
/// kept, as text searches order hits that every rule leaves equal. One pass over the
/// matches, where asking for the best and then for their ties would evaluate the query
/// twice.
#[derive(Debug, Clone, Copy)]
struct TopWithTiesCollector {
    num_best: usize,
    limit: usize,
    /// Up to this many matches in all, every one is kept.
    keep_all_up_to: usize,
}

impl TopWithTiesCollector {
    /// Returns the collector of the `num_best` best (at least one) and their ties, at
    /// most `tie_limit` documents unless `num_best` is more.
    fn new(num_best: usize, tie_limit: usize) -> TopWithTiesCollector {
        let num_best = num_best.max(1);
        TopWithTiesCollector {
            num_best,
            limit: tie_limit.max(num_best),
            keep_all_up_to: 0,
        }
    }

    /// Returns the same collector keeping every match, as candidates none of which ties,
    /// when they are `num_matches` or fewer in all segments.
    fn keeping_all_up_to(self, num_matches: usize) -> TopWithTiesCollector {
        TopWithTiesCollector {
            keep_all_up_to: num_matches.min(self.limit),
            ..self
        }
    }
}

/// A collected document: its score, the ordinal of its id in its segment, the document.
type Collected = (Score, u64, DocId);

/// The documents a segment may still keep, compacted as they come.
#[derive(Debug)]
struct TiesBuffer {
    num_best: usize,
    limit: usize,
    /// Documents that may still be kept, in collection order between compactions.
    docs: Vec<Collected>,
    /// Score of the `num_best`-th document at the last compaction: lower scores are out.
    floor: Score,
    /// When `limit` documents scoring at least `floor` are kept, the id ordinal of the
    /// last of them: documents scoring `floor` with a larger id are out too.
    floor_ordinal: Option<u64>,
    /// Whether every document offered is still in `docs`.
    holds_all: bool,
    /// Up to this many documents offered, all are kept at the harvest.
    keep_all_up_to: usize,
}

impl TiesBuffer {
    fn new(collector: &TopWithTiesCollector) -> TiesBuffer {
        TiesBuffer {
            num_best: collector.num_best,
            limit: collector.limit,
            docs: Vec::new(),
            floor: Score::NEG_INFINITY,
            floor_ordinal: None,
            holds_all: true,
            keep_all_up_to: collector.keep_all_up_to,
        }
    }

    /// Whether a document scoring `score` may be kept, before its id is known.
    fn may_keep(&self, score: Score) -> bool {
        score >= self.floor
    }

    /// Offers a document.
    fn offer(&mut self, score: Score, ordinal: u64, doc: DocId) {
        if score < self.floor
            || (score == self.floor && self.floor_ordinal.is_some_and(|last| ordinal > last))
        {
            return;
        }
        self.docs.push((score, ordinal, doc));
        // Compacting when the buffer doubles keeps the work per document constant.
        if self.docs.len() >= 2 * self.limit {
            self.compact();
        }
    }

    /// Compacts the buffer a last time, unless it holds every document offered and few
    /// enough to keep them all, should the other segments hold few too.
    fn finish(&mut self) {
        if !self.holds_all || self.docs.len() > self.keep_all_up_to {
            self.compact();
        }
    }

    /// Keeps the documents scoring at least the `num_best`-th score, at most `limit`.
    fn compact(&mut self) {
        let num_offered = self.docs.len();
        self.docs = best_with_ties(std::mem::take(&mut self.docs), self.num_best, self.limit);
        self.holds_all &= self.docs.len() == num_offered;
        if self.docs.len() >= self.num_best {
            self.floor = self.docs[self.num_best - 1].0;
            self.floor_ordinal = (self.docs.len() >= self.limit)
                .then(|| self.docs.last().map(|&(_, ordinal, _)| ordinal))
                .flatten();
        }
    }
}

/// The segment part of [`TopWithTiesCollector`].
struct TopWithTiesSegmentCollector {
    segment: SegmentOrdinal,
    ids: SegmentIds,
    buffer: TiesBuffer,
}

/// Sorts `docs` best first (smallest id ordinal first among equal scores) and keeps those
/// scoring at least the `num_best`-th score, at most `limit`.
fn best_with_ties(mut docs: Vec<Collected>, num_best: usize, limit: usize) -> Vec<Collected> {
    docs.sort_unstable_by(|first, second| {
        second.0.total_cmp(&first.0).then(first.1.cmp(&second.1))
    });
    if let Some(&(last_score, _, _)) = docs.get(num_best.saturating_sub(1)) {
        let num_kept = docs.partition_point(|(score, _, _)| *score >= last_score);
        docs.truncate(num_kept);
    }
    docs.truncate(limit);
    docs
}

/// What one segment kept, with the ids to tell its ties from other segments' apart.
struct SegmentBest {
    segment: SegmentOrdinal,
    ids: SegmentIds,
    docs: Vec<Collected>,
    /// Whether `docs` holds every match of the segment.
    holds_all: bool,
}

impl Collector for TopWithTiesCollector {
    type Fruit = Candidates;
    type Child = TopWithTiesSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(TopWithTiesSegmentCollector {
            segment,
            ids: SegmentIds::new(reader)?,
            buffer: TiesBuffer::new(self),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<SegmentBest>) -> tantivy::Result<Self::Fruit> {
        let mut all: Vec<(Score, usize, u64, DocId)> = fruits
            .iter()
            .enumerate()
            .flat_map(|(fruit, best)| {
                best.docs
                    .iter()
                    .map(move |&(score, ordinal, doc)| (score, fruit, ordinal, doc))
            })
            .collect();
        all.sort_unstable_by(|first, second| {
            second
                .0
                .total_cmp(&first.0)
                .then((first.1, first.2).cmp(&(second.1, second.2)))
        });
        let holds_all = fruits.iter().all(|fruit| fruit.holds_all);
        if holds_all && all.len() <= self.keep_all_up_to {
            // Every match, each ranked.
            return Ok(Candidates::untied(
                all.into_iter()
                    .map(|(_, fruit, _, doc)| DocAddress::new(fruits[fruit].segment, doc))
                    .collect(),
            ));
        }
        if let Some(&(last_score, ..)) = all.get(self.num_best - 1) {
            all.truncate(all.partition_point(|(score, ..)| *score >= last_score));
            if all.len() > self.limit {
                // More documents tie with the last of the best than there is room for:
                // the smallest ids are kept, whichever segments hold them.
                let first_tied = all.partition_point(|(score, ..)| *score > last_score);
                let mut tied: Vec<(String, (Score, usize, u64, DocId))> =
                    Vec::with_capacity(all.len() - first_tied);
                for (fruit, best) in fruits.iter().enumerate() {
                    let of_fruit: Vec<_> = all[first_tied..]
                        .iter()
                        .filter(|entry| entry.1 == fruit)
                        .copied()
                        .collect();
                    let ordinals: Vec<u64> = of_fruit.iter().map(|entry| entry.2).collect();
                    tied.extend(best.ids.ids(&ordinals)?.into_iter().zip(of_fruit));
                }
                tied.sort_unstable_by(|first, second| first.0.cmp(&second.0));
                all.truncate(first_tied);
                all.extend(
                    tied.into_iter()
                        .take(self.limit - first_tied)
                        .map(|(_, entry)| entry),
                );
            }
        }
        all.truncate(self.limit);
        let num_untied = match all.get(self.num_best - 1) {
            Some(&(last_score, ..)) => all.partition_point(|(score, ..)| *score > last_score),
            None => all.len(),
        };
        Ok(Candidates {
            addresses: all
                .into_iter()
                .map(|(_, fruit, _, doc)| DocAddress::new(fruits[fruit].segment, doc))
                .collect(),
            num_untied,
        })
    }
}

impl SegmentCollector for TopWithTiesSegmentCollector {
    type Fruit = SegmentBest;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.buffer.may_keep(score) {
            self.buffer.offer(score, self.ids.ordinal(doc), doc);
        }
    }

    fn harvest(mut self) -> Self::Fruit {
        self.buffer.finish();
        SegmentBest {
            segment: self.segment,
            ids: self.ids,
            docs: self.buffer.docs,
            holds_all: self.buffer.holds_all,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_sorted_by_id_within_and_across_segments() {
        use tantivy::schema::{Schema, FAST, STORED, STRING};
        let mut builder = Schema::builder();
        let field = builder.add_text_field(indexer::index::schema::ID, STRING | FAST | STORED);
        let index = tantivy::Index::create_in_ram(builder.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        // Two segments, each with ids out of document order.
        for batch in [["m", "b", "x"], ["a", "z", "c"]] {
            for id in batch {
                writer.add_document(tantivy::doc!(field => id)).unwrap();
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let id_of = |address: &DocAddress| -> String {
            let doc: tantivy::TantivyDocument = searcher.doc(*address).unwrap();
            doc.get_first(field)
                .and_then(|value| tantivy::schema::Value::as_str(&value).map(str::to_owned))
                .unwrap()
        };
        let all: Vec<DocAddress> = (0..2)
            .flat_map(|segment| (0..3).map(move |doc| DocAddress::new(segment, doc)))
            .collect();
        for descending in [false, true] {
            let mut addresses = all.clone();
            sort_by_id(&searcher, &mut addresses, descending).unwrap();
            let ids: Vec<String> = addresses.iter().map(id_of).collect();
            let mut expected = vec!["a", "b", "c", "m", "x", "z"];
            if descending {
                expected.reverse();
            }
            assert_eq!(ids, expected, "across segments, descending {descending}");
            // Whichever batch the first segment holds, its ids come out sorted.
            let mut one_segment: Vec<DocAddress> = all[..3].to_vec();
            let mut expected: Vec<String> = one_segment.iter().map(id_of).collect();
            expected.sort_unstable();
            if descending {
                expected.reverse();
            }
            sort_by_id(&searcher, &mut one_segment, descending).unwrap();
            let ids: Vec<String> = one_segment.iter().map(id_of).collect();
            assert_eq!(ids, expected, "within a segment, descending {descending}");
        }
    }

    #[test]
    fn the_best_are_kept_with_their_ties_smallest_id_first() {
        let docs = vec![
            (1.0, 50, 5),
            (3.0, 90, 9),
            (2.0, 10, 1),
            (2.0, 7, 70),
            (2.0, 30, 3),
            (0.5, 20, 2),
        ];
        // The second best scores 2.0: every document at 2.0 is kept with the best.
        assert_eq!(
            best_with_ties(docs.clone(), 2, 10),
            vec![(3.0, 90, 9), (2.0, 7, 70), (2.0, 10, 1), (2.0, 30, 3)]
        );
        // At most `limit`, the ties of smallest id.
        assert_eq!(
            best_with_ties(docs.clone(), 2, 3),
            vec![(3.0, 90, 9), (2.0, 7, 70), (2.0, 10, 1)]
        );
        // Fewer documents than asked: all of them.
        assert_eq!(best_with_ties(docs, 10, 10).len(), 6);
    }

    #[test]
    fn few_matches_are_all_kept_untied_and_many_cut_to_the_best() {
        use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
        use tantivy::schema::{IndexRecordOption, Schema, FAST, STORED, STRING};
        let mut builder = Schema::builder();
        let id = builder.add_text_field(indexer::index::schema::ID, STRING | FAST | STORED);
        let tag = builder.add_text_field("tag", STRING);
        let index = tantivy::Index::create_in_ram(builder.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        // Twelve matches in two segments: two score 3, four 2, six 1; one more matches not.
        let batches: [&[&str]; 2] = [
            &["a", "b", "c", "c", "b", "x", "c"],
            &["c", "b", "a", "c", "b", "c"],
        ];
        for (batch, tags) in batches.iter().enumerate() {
            for (position, value) in tags.iter().enumerate() {
                let doc_id = format!("{batch}-{position}");
                writer
                    .add_document(tantivy::doc!(id => doc_id, tag => *value))
                    .unwrap();
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        let scored = |value: &str, score: f32| -> (Occur, Box<dyn Query>) {
            let term = Term::from_field_text(tag, value);
            let query = TermQuery::new(term, IndexRecordOption::Basic);
            (
                Occur::Should,
                Box::new(ConstScoreQuery::new(Box::new(query), score)),
            )
        };
        let query = BooleanQuery::new(vec![scored("a", 3.0), scored("b", 2.0), scored("c", 1.0)]);
        let collect = |keep_all_up_to: usize| -> Candidates {
            let collector = TopWithTiesCollector::new(3, 100).keeping_all_up_to(keep_all_up_to);
            searcher.search(&query, &collector).unwrap()
        };
        // Every match, the best first, none tied.
        let all = collect(12);
        assert_eq!(all.addresses.len(), 12);
        assert_eq!(all.num_untied, 12);
        // More matches than kept whole: the best three and those tying with the third.
        let best = collect(11);
        assert_eq!(best.addresses.len(), 6);
        assert_eq!(best.num_untied, 2);
        assert_eq!(collect(0).addresses, best.addresses);
    }

    #[test]
    fn a_buffer_compacts_to_the_same_documents_as_sorting_all() {
        let num_docs: DocId = 20_000;
        // Scores repeat in runs so that large tie groups straddle every compaction, and
        // id ordinals run against document order.
        let score_of = |doc: DocId| ((doc * 7919) % 13) as Score;
        let ordinal_of = |doc: DocId| u64::from((doc * 104_729) % 20_011);
        let collector = TopWithTiesCollector::new(50, 300);
        let mut buffer = TiesBuffer::new(&collector);
        for doc in 0..num_docs {
            if buffer.may_keep(score_of(doc)) {
                buffer.offer(score_of(doc), ordinal_of(doc), doc);
            }
        }
        buffer.compact();
        let all: Vec<Collected> = (0..num_docs)
            .map(|doc| (score_of(doc), ordinal_of(doc), doc))
            .collect();
        assert_eq!(buffer.docs, best_with_ties(all, 50, 300));
        assert_eq!(buffer.docs.len(), 300);
        assert!(buffer.docs.iter().all(|(score, ..)| *score == 12.0));
        assert!(buffer.docs.windows(2).all(|pair| pair[0].1 < pair[1].1));
    }
}
