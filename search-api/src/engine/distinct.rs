//! `distinct`: at most one hit per value of an attribute, counted exactly over every
//! matching document of every shard, as Meilisearch counts it.
//!
//! Documents are taken best first; a document is kept unless one of its values was seen
//! in a document kept before it, and a document without a value is always kept. The totals
//! and facet counts are those of the kept documents. A placeholder search orders every
//! matching document by its sort values (ties by id, as the page does), so its hits, totals
//! and facets are exact; a search with words keeps the ranked candidates first, in rank
//! order, then the matching documents beyond the ranking pool, whose order only matters
//! for a list attribute.

use std::collections::{BTreeMap, HashMap, HashSet};

use tantivy::{DocAddress, DocId, Searcher, SegmentOrdinal};

use super::catalog::IndexCatalog;
use super::documents::{self, id_of};
use super::facets::{count_facets, FacetCounts};
use super::rank::{unranked_document, RankedDocument};
use super::rules::{HitOrder, SegmentKeys};
use super::Deadline;
use crate::error::Result;

/// Stored documents read between two deadline checks while breaking ties by id.
const DOCS_BETWEEN_DEADLINE_CHECKS: usize = 64;

/// A matching document: its shard and address there.
pub type ShardAddress = (usize, DocAddress);

/// The values of the distinct attribute of every matching document, per shard.
pub type DistinctValues = Vec<Vec<(DocAddress, Vec<String>)>>;

/// The documents a distinct search keeps.
pub struct DistinctOutcome {
    /// The kept documents' count: the search's total.
    pub num_kept: usize,
    /// Every kept document, for facet counts.
    pub kept: Vec<ShardAddress>,
}

/// Keeps a document unless one of its values was seen before.
#[derive(Default)]
struct SeenValues<'a> {
    seen: HashSet<&'a str>,
}

impl<'a> SeenValues<'a> {
    fn keep(&mut self, values: &'a [String]) -> bool {
        if values
            .iter()
            .any(|value| self.seen.contains(value.as_str()))
        {
            return false;
        }
        self.seen.extend(values.iter().map(String::as_str));
        true
    }
}

/// Keeps the distinct documents of a search with words: `ranked` (best first) is cut to its
/// distinct documents, then the matching documents that were not ranked are counted.
pub fn keep_ranked(ranked: &mut Vec<RankedDocument>, values: &DistinctValues) -> DistinctOutcome {
    let values_of: HashMap<ShardAddress, &[String]> = values
        .iter()
        .enumerate()
        .flat_map(|(shard, docs)| {
            docs.iter()
                .map(move |(address, doc_values)| ((shard, *address), doc_values.as_slice()))
        })
        .collect();
    let ranked_addresses: HashSet<ShardAddress> = ranked.iter().filter_map(shard_address).collect();
    let mut seen = SeenValues::default();
    let mut kept = Vec::new();
    ranked.retain(|document| {
        let Some(address) = shard_address(document) else {
            return true;
        };
        let is_kept = seen.keep(values_of.get(&address).copied().unwrap_or_default());
        if is_kept {
            kept.push(address);
        }
        is_kept
    });
    let num_ranked_kept = ranked.len();
    let mut num_kept = num_ranked_kept;
    for (shard, docs) in values.iter().enumerate() {
        for (address, doc_values) in docs {
            if ranked_addresses.contains(&(shard, *address)) {
                continue;
            }
            if seen.keep(doc_values) {
                num_kept += 1;
                kept.push((shard, *address));
            }
        }
    }
    DistinctOutcome { num_kept, kept }
}

/// Keeps the distinct documents of a placeholder search over every matching document, and
/// returns the outcome with the page `skip..skip + take` of the kept documents.
///
/// # Errors
///
/// `search_time_budget_exceeded` past the deadline while ordering tied documents; an
/// internal error when a document cannot be read.
pub fn keep_placeholder(
    catalog: &'static IndexCatalog,
    searchers: &[Searcher],
    order: &HitOrder,
    values: &DistinctValues,
    (skip, take): (usize, usize),
    deadline: &Deadline,
) -> Result<(DistinctOutcome, Vec<RankedDocument>)> {
    let criteria = order.value_criteria();
    let mut entries: Vec<(Vec<i128>, ShardAddress, &[String])> = Vec::new();
    for (shard, docs) in values.iter().enumerate() {
        let mut keys_of_segment: HashMap<SegmentOrdinal, SegmentKeys> = HashMap::new();
        for (address, doc_values) in docs {
            let keys = keys_of_segment
                .entry(address.segment_ord)
                .or_insert_with(|| {
                    SegmentKeys::new(
                        &criteria,
                        searchers[shard].segment_reader(address.segment_ord),
                    )
                });
            entries.push((
                keys.key(address.doc_id),
                (shard, *address),
                doc_values.as_slice(),
            ));
        }
    }
    entries.sort_by(|first, second| first.0.cmp(&second.0).then(first.1.cmp(&second.1)));
    order_ties_by_id(catalog, searchers, order, &mut entries, deadline)?;

    let mut seen = SeenValues::default();
    let kept: Vec<ShardAddress> = entries
        .iter()
        .filter(|(_, _, doc_values)| seen.keep(doc_values))
        .map(|(_, address, _)| *address)
        .collect();
    let mut page = Vec::with_capacity(take.min(kept.len()));
    for &(shard, address) in kept.iter().skip(skip).take(take) {
        // What the order needs; the search reads the hits it shows whole.
        let searched = documents::read_searched(catalog, &searchers[shard], &[address])?;
        let stored = searched.into_iter().next().unwrap_or_default();
        let mut document = unranked_document(catalog, &order.rules, stored);
        document.address = Some(address);
        document.shard = shard;
        page.push(document);
    }
    let outcome = DistinctOutcome {
        num_kept: kept.len(),
        kept,
    };
    Ok((outcome, page))
}

/// Orders each run of documents with equal sort keys by id, as the hits are ordered, so
/// which document of a value is kept does not depend on the shard layout.
fn order_ties_by_id(
    catalog: &IndexCatalog,
    searchers: &[Searcher],
    order: &HitOrder,
    entries: &mut [(Vec<i128>, ShardAddress, &[String])],
    deadline: &Deadline,
) -> Result<()> {
    let mut num_read = 0;
    let mut start = 0;
    while start < entries.len() {
        let mut end = start + 1;
        while end < entries.len() && entries[end].0 == entries[start].0 {
            end += 1;
        }
        if end - start > 1 {
            let mut with_ids = Vec::with_capacity(end - start);
            for entry in &entries[start..end] {
                if num_read % DOCS_BETWEEN_DEADLINE_CHECKS == 0 {
                    deadline.check()?;
                }
                num_read += 1;
                let (shard, address) = entry.1;
                let searched = documents::read_searched(catalog, &searchers[shard], &[address])?;
                let id = searched.first().map(|stored| id_of(catalog, stored));
                with_ids.push((id.unwrap_or_default(), entry.clone()));
            }
            with_ids.sort_by(|first, second| {
                if order.id_descending {
                    second.0.cmp(&first.0)
                } else {
                    first.0.cmp(&second.0)
                }
            });
            for (slot, (_, entry)) in entries[start..end].iter_mut().zip(with_ids) {
                *slot = entry;
            }
        }
        start = end;
    }
    Ok(())
}

/// Counts `facets` over the kept documents only, so each distinct value counts once.
///
/// # Errors
///
/// An internal error when a column or the index cannot be read.
pub fn count_kept_facets(
    catalog: &IndexCatalog,
    searchers: &[Searcher],
    kept: &[ShardAddress],
    facets: &[String],
    deadline: &Deadline,
) -> Result<BTreeMap<String, FacetCounts>> {
    let mut by_shard: BTreeMap<usize, BTreeMap<SegmentOrdinal, Vec<DocId>>> = BTreeMap::new();
    for (shard, address) in kept {
        by_shard
            .entry(*shard)
            .or_default()
            .entry(address.segment_ord)
            .or_default()
            .push(address.doc_id);
    }
    let mut merged: BTreeMap<String, FacetCounts> = BTreeMap::new();
    for (shard, segments) in by_shard {
        let matching: Vec<(SegmentOrdinal, Vec<DocId>)> = segments
            .into_iter()
            .map(|(segment, mut docs)| {
                docs.sort_unstable();
                (segment, docs)
            })
            .collect();
        let counts = count_facets(catalog, &searchers[shard], &matching, facets, deadline)?;
        for (name, facet) in counts {
            merged.entry(name).or_default().merge(facet);
        }
    }
    if kept.is_empty() {
        for name in facets {
            if catalog.attribute(name).is_some() {
                merged.entry(name.clone()).or_default();
            }
        }
    }
    Ok(merged)
}

fn shard_address(document: &RankedDocument) -> Option<ShardAddress> {
    document.address.map(|address| (document.shard, address))
}
