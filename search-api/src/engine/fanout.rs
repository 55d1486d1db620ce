//! One search on every shard at once: each shard retrieves its candidates, counts its
//! matches and facet values, and ranks its best candidates precisely; the caller merges the
//! shards' ranked lists into the global order, which is exact because every shard returns
//! at least the `offset + limit` best of its own documents.

use std::collections::{BTreeMap, HashSet};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyDocument,
    Term,
};

use super::catalog::{Attribute, IndexCatalog};
use super::facets::{count_facets, distinct_values, FacetCounts, MatchingDocsCollector};
use super::filter::filter_query;
use super::query::QueryPlan;
use super::rank::{rank_document, unranked_document, RankedDocument};
use super::rules::{HitOrder, ValueOrderCollector};
use super::tuning::MAX_TIED_CANDIDATES;
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

/// Runs `search` on every shard in parallel, one thread per shard, and returns their
/// results in shard order.
///
/// # Errors
///
/// The first error of a shard: a budget exceeded, a filter refused, a read that failed.
pub fn search_shards(searchers: &[Searcher], search: ShardSearch<'_>) -> Result<Vec<ShardResult>> {
    if searchers.len() == 1 {
        return Ok(vec![search_shard(&searchers[0], search)?]);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = searchers
            .iter()
            .map(|searcher| scope.spawn(move || search_shard(searcher, search)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(ApiError::internal("a shard search panicked")))
            })
            .collect()
    })
}

/// Runs `search` on one shard.
///
/// # Errors
///
/// As [`search_shards`].
pub fn search_shard(searcher: &Searcher, search: ShardSearch<'_>) -> Result<ShardResult> {
    let query = shard_query(searcher, &search)?;
    let needs_matching = !search.facets.is_empty() || search.distinct.is_some();
    let facets = needs_matching.then_some(MatchingDocsCollector);

    let (num_matching, addresses, matching) = match search.plan.filter(|plan| !plan.is_empty()) {
        Some(_) => {
            let top = TopDocs::with_limit(search.num_candidates.max(1));
            let (num_matching, top, matching) = searcher
                .search(&query, &(Count, top, facets))
                .map_err(ApiError::internal)?;
            let mut addresses: Vec<DocAddress> = top.iter().map(|(_, address)| *address).collect();
            // Documents tied with the last candidate are ranked too, so that which of them
            // are ranked does not depend on how documents are spread over shards.
            // Past the deadline the candidates at hand fill the page unranked instead.
            let ties = top.last().filter(|_| num_matching > top.len());
            if let Some((last_score, _)) = ties.filter(|_| !search.deadline.is_exceeded()) {
                let ties = MinScoreCollector {
                    min_score: *last_score,
                    limit: MAX_TIED_CANDIDATES.max(search.num_candidates),
                };
                addresses = searcher.search(&query, &ties).map_err(ApiError::internal)?;
            }
            (num_matching, addresses, matching)
        }
        None => {
            let top = ValueOrderCollector {
                criteria: search.order.value_criteria(),
                limit: search.num_candidates,
            };
            let (num_matching, top, matching) = searcher
                .search(&query, &(Count, top, facets))
                .map_err(ApiError::internal)?;
            let addresses: Vec<DocAddress> = top.into_iter().map(|(_, address)| address).collect();
            (num_matching, addresses, matching)
        }
    };

    let ranked = rank_candidates(searcher, &search, &addresses)?;
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

/// Returns the documents of the shard matching the query words and the filter, without
/// the excluded words.
fn shard_query(searcher: &Searcher, search: &ShardSearch<'_>) -> Result<Box<dyn Query>> {
    let words: Box<dyn Query> = match search.plan {
        Some(plan) => plan.to_query(search.catalog),
        None => Box::new(AllQuery),
    };
    let Some(filter) = search.filter else {
        return Ok(words);
    };
    let filter = filter_query(search.catalog, filter, searcher)?;
    Ok(Box::new(BooleanQuery::new(vec![
        (Occur::Must, words),
        (Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))),
    ])))
}

/// Reads and ranks the candidates, best first.
fn rank_candidates(
    searcher: &Searcher,
    search: &ShardSearch<'_>,
    addresses: &[DocAddress],
) -> Result<Vec<RankedDocument>> {
    let mut ranked = Vec::with_capacity(addresses.len());
    let mut num_unranked = 0;
    let mut is_exceeded = false;
    let holding_stems = match search.plan {
        Some(plan) => candidates_holding_stems(searcher, search.catalog, plan, addresses)?,
        None => HashSet::new(),
    };
    for address in addresses {
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
        let stored: TantivyDocument = searcher.doc(*address).map_err(ApiError::internal)?;
        let mut document = match search.plan.filter(|plan| !plan.is_empty()) {
            Some(_) if is_exceeded => {
                num_unranked += 1;
                let mut document = unranked_document(search.catalog, &[], stored);
                document.key = vec![i128::MAX; search.order.rules.len()];
                document.score = 0.0;
                document
            }
            Some(plan) => rank_document(
                plan,
                search.catalog,
                &search.order.rules,
                stored,
                holding_stems.contains(address),
            ),
            None => {
                num_unranked += usize::from(is_exceeded);
                unranked_document(search.catalog, &search.order.rules, stored)
            }
        };
        document.address = Some(*address);
        ranked.push(document);
    }
    sort_ranked(&mut ranked, search.order);
    Ok(ranked)
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
        Some(filter) => filter_query(catalog, filter, searcher)?,
        None => Box::new(AllQuery),
    };
    searcher
        .search(&query, &MatchingDocsCollector)
        .map_err(ApiError::internal)
}

/// Collects the documents scoring at least `min_score`, the best `limit` of them.
#[derive(Debug, Clone, Copy)]
struct MinScoreCollector {
    min_score: Score,
    limit: usize,
}

/// The segment part of [`MinScoreCollector`].
struct MinScoreSegmentCollector {
    segment: SegmentOrdinal,
    min_score: Score,
    docs: Vec<(Score, DocId)>,
}

impl Collector for MinScoreCollector {
    type Fruit = Vec<DocAddress>;
    type Child = MinScoreSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(MinScoreSegmentCollector {
            segment,
            min_score: self.min_score,
            docs: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(Score, DocAddress)>>) -> tantivy::Result<Self::Fruit> {
        let mut all: Vec<(Score, DocAddress)> = fruits.into_iter().flatten().collect();
        all.sort_by(|first, second| second.0.total_cmp(&first.0).then(first.1.cmp(&second.1)));
        all.truncate(self.limit);
        Ok(all.into_iter().map(|(_, address)| address).collect())
    }
}

impl SegmentCollector for MinScoreSegmentCollector {
    type Fruit = Vec<(Score, DocAddress)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if score >= self.min_score {
            self.docs.push((score, doc));
        }
    }

    fn harvest(self) -> Self::Fruit {
        let segment = self.segment;
        self.docs
            .into_iter()
            .map(|(score, doc)| (score, DocAddress::new(segment, doc)))
            .collect()
    }
}
