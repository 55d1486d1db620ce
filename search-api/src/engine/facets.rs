//! Facet counts over the documents a search matched: values read from fast columns
//! (numbers, dates, labels) or, for identifiers, from the inverted index. Each shard counts
//! every value; the merge adds them up before cutting to `maxValuesPerFacet`, so the
//! counts are exact whatever the number of shards.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;

use rustc_hash::FxHashMap;
use tantivy::columnar::Column;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED,
};

use super::catalog::{Analysis, Attribute, IndexCatalog, ValueKind};
use super::documents::format_date;
use super::tuning::MAX_FACET_VALUES_COUNTED;
use super::Deadline;
use crate::error::{ApiError, Result};
use crate::response::{FacetDistribution, FacetStats};

/// Collects the matching documents of each segment, in order.
#[derive(Debug, Clone, Copy)]
pub struct MatchingDocsCollector;

/// The segment part of [`MatchingDocsCollector`].
#[derive(Debug)]
pub struct MatchingDocsSegmentCollector {
    segment: SegmentOrdinal,
    docs: Vec<DocId>,
}

impl Collector for MatchingDocsCollector {
    type Fruit = Vec<(SegmentOrdinal, Vec<DocId>)>;
    type Child = MatchingDocsSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(MatchingDocsSegmentCollector {
            segment,
            docs: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for MatchingDocsSegmentCollector {
    type Fruit = Vec<(SegmentOrdinal, Vec<DocId>)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.docs.push(doc);
    }

    fn harvest(self) -> Self::Fruit {
        vec![(self.segment, self.docs)]
    }
}

/// The counts of one facet on one shard, or merged.
#[derive(Debug, Clone, Default)]
pub struct FacetCounts {
    /// Documents per value.
    pub values: HashMap<String, u64>,
    /// The smallest and largest numeric value, for numeric facets.
    pub range: Option<(f64, f64)>,
}

impl FacetCounts {
    fn add(&mut self, value: String, num_docs: u64) {
        if self.values.len() < MAX_FACET_VALUES_COUNTED || self.values.contains_key(&value) {
            *self.values.entry(value).or_default() += num_docs;
        }
    }

    fn add_number(&mut self, number: f64) {
        self.range = Some(match self.range {
            None => (number, number),
            Some((min, max)) => (min.min(number), max.max(number)),
        });
    }

    /// Adds the counts of another shard.
    pub fn merge(&mut self, other: FacetCounts) {
        for (value, num_docs) in other.values {
            self.add(value, num_docs);
        }
        if let Some((min, max)) = other.range {
            self.add_number(min);
            self.add_number(max);
        }
    }
}

/// Counts the values of `facets` among `matching` documents of the shard read by
/// `searcher`.
///
/// # Errors
///
/// An internal error when a column or the index cannot be read. Past the deadline the
/// facets not counted yet are left out and the search is marked degraded.
pub fn count_facets(
    catalog: &IndexCatalog,
    searcher: &Searcher,
    matching: &[(SegmentOrdinal, Vec<DocId>)],
    facets: &[String],
    deadline: &Deadline,
) -> Result<BTreeMap<String, FacetCounts>> {
    let mut all = BTreeMap::new();
    for name in facets {
        let Some(attribute) = catalog.attribute(name) else {
            continue;
        };
        if deadline.is_exceeded() {
            break;
        }
        let mut counts = FacetCounts::default();
        for (segment, docs) in matching {
            // A facet cut short would show wrong counts: it is left out whole.
            if deadline.is_exceeded() {
                return Ok(all);
            }
            let reader = searcher.segment_reader(*segment);
            count_segment(catalog, attribute, reader, docs, &mut counts)
                .map_err(ApiError::internal)?;
        }
        all.insert(name.clone(), counts);
    }
    Ok(all)
}

fn count_segment(
    catalog: &IndexCatalog,
    attribute: &Attribute,
    reader: &SegmentReader,
    docs: &[DocId],
    counts: &mut FacetCounts,
) -> tantivy::Result<()> {
    let fast_fields = reader.fast_fields();
    let name = attribute.name;
    match attribute.value {
        ValueKind::I64 if attribute.is_fast => count_numbers(&fast_fields.i64(name)?, docs, counts),
        ValueKind::U64 if attribute.is_fast => count_numbers(&fast_fields.u64(name)?, docs, counts),
        ValueKind::Date if attribute.is_fast => {
            let column = fast_fields.date(name)?;
            for (value, num_docs) in num_docs_per_value(&column, docs) {
                counts.add(format_date(value), num_docs);
            }
        }
        ValueKind::Text(analysis) if attribute.is_fast && analysis == Analysis::Raw => {
            let Some(column) = fast_fields.str(name)? else {
                return Ok(());
            };
            let num_terms = column.num_terms();
            let num_docs_per_ordinal: Vec<(u64, u64)> = if num_terms as u64 <= MAX_DENSE_FACET_SLOTS
            {
                num_docs_per_slot(num_terms, docs, |doc| column.term_ords(doc))
            } else {
                let mut num_docs: FxHashMap<u64, u64> = FxHashMap::default();
                for &doc in docs {
                    for ordinal in column.term_ords(doc) {
                        *num_docs.entry(ordinal).or_default() += 1;
                    }
                }
                num_docs.into_iter().collect()
            };
            let mut value = String::new();
            for (ordinal, num_docs) in num_docs_per_ordinal {
                value.clear();
                if column.ord_to_str(ordinal, &mut value)? {
                    counts.add(value.clone(), num_docs);
                }
            }
        }
        _ => count_from_postings(catalog, attribute, reader, docs, counts)?,
    }
    Ok(())
}

/// Most values a column may span (numbers from its smallest to its largest, or terms of
/// its dictionary) to be counted in an array indexed by value, as years and labels are;
/// wider columns are counted in a hash map.
const MAX_DENSE_FACET_SLOTS: u64 = 4_096;

/// Counts the documents of `docs` per value of a numeric `column` into `counts`.
fn count_numbers<T>(column: &Column<T>, docs: &[DocId], counts: &mut FacetCounts)
where
    T: Into<i128> + PartialOrd + Copy + Eq + Hash + fmt::Debug + Send + Sync + 'static,
{
    let smallest: i128 = column.min_value().into();
    let span = column.max_value().into() - smallest + 1;
    let counted: Vec<(i128, u64)> = if (1..=i128::from(MAX_DENSE_FACET_SLOTS)).contains(&span) {
        // Every value lies between the column's smallest and largest.
        let slots_of = |doc| {
            column
                .values_for_doc(doc)
                .map(move |value| (value.into() - smallest) as u64)
        };
        num_docs_per_slot(span as usize, docs, slots_of)
            .into_iter()
            .map(|(slot, num_docs)| (smallest + i128::from(slot), num_docs))
            .collect()
    } else {
        num_docs_per_value(column, docs)
            .into_iter()
            .map(|(value, num_docs)| (value.into(), num_docs))
            .collect()
    };
    for (value, num_docs) in counted {
        counts.add(value.to_string(), num_docs);
        counts.add_number(value as f64);
    }
}

/// Returns, for each slot of `0..num_slots` some of `docs` are in (`slots_of` gives a
/// document's), that slot and how many documents are in it, in slot order.
fn num_docs_per_slot<I>(
    num_slots: usize,
    docs: &[DocId],
    slots_of: impl Fn(DocId) -> I,
) -> Vec<(u64, u64)>
where
    I: Iterator<Item = u64>,
{
    let mut num_docs = vec![0u64; num_slots];
    for &doc in docs {
        for slot in slots_of(doc) {
            debug_assert!((slot as usize) < num_slots, "slot {slot} of {num_slots}");
            if let Some(count) = num_docs.get_mut(slot as usize) {
                *count += 1;
            }
        }
    }
    num_docs
        .into_iter()
        .enumerate()
        .filter(|&(_, count)| count > 0)
        .map(|(slot, count)| (slot as u64, count))
        .collect()
}

/// Returns how many of `docs` hold each value of `column`. Values are counted as they are
/// stored and spelled once each: a facet over a large match set has few distinct values
/// (years, dates) and spelling each document's value cost more than reading it.
fn num_docs_per_value<T>(column: &Column<T>, docs: &[DocId]) -> FxHashMap<T, u64>
where
    T: PartialOrd + Copy + Eq + Hash + fmt::Debug + Send + Sync + 'static,
{
    let mut num_docs: FxHashMap<T, u64> = FxHashMap::default();
    for &doc in docs {
        for value in column.values_for_doc(doc) {
            *num_docs.entry(value).or_default() += 1;
        }
    }
    num_docs
}

/// Counts the values of an attribute without a usable column by walking its terms'
/// postings against the matching documents.
fn count_from_postings(
    catalog: &IndexCatalog,
    attribute: &Attribute,
    reader: &SegmentReader,
    docs: &[DocId],
    counts: &mut FacetCounts,
) -> tantivy::Result<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let max_doc = reader.max_doc() as usize;
    let mut is_matching = vec![0u64; max_doc.div_ceil(64)];
    for &doc in docs {
        is_matching[doc as usize / 64] |= 1 << (doc % 64);
    }
    let inverted_index = reader.inverted_index(catalog.field(attribute.name))?;
    let mut terms = inverted_index.terms().stream()?;
    while terms.advance() {
        let mut postings =
            inverted_index.read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
        let mut num_docs = 0;
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if is_matching[doc as usize / 64] & (1 << (doc % 64)) != 0 {
                num_docs += 1;
            }
            doc = postings.advance();
        }
        if num_docs > 0 {
            counts.add(String::from_utf8_lossy(terms.key()).into_owned(), num_docs);
        }
    }
    Ok(())
}

/// Returns every `matching` document of the shard with its values of `attribute`, as
/// facet values are spelled, for `distinct`: an empty list for a document without one.
///
/// # Errors
///
/// `search_time_budget_exceeded` past the deadline, as a distinct count cut short would
/// be wrong rather than degraded; an internal error when the index cannot be read.
pub fn distinct_values(
    catalog: &IndexCatalog,
    attribute: &Attribute,
    searcher: &Searcher,
    matching: &[(SegmentOrdinal, Vec<DocId>)],
    deadline: &Deadline,
) -> Result<Vec<(DocAddress, Vec<String>)>> {
    let mut all = Vec::with_capacity(matching.iter().map(|(_, docs)| docs.len()).sum());
    for (segment, docs) in matching {
        deadline.check()?;
        let reader = searcher.segment_reader(*segment);
        let values =
            segment_values(catalog, attribute, reader, docs).map_err(ApiError::internal)?;
        for (&doc, doc_values) in docs.iter().zip(values) {
            all.push((DocAddress::new(*segment, doc), doc_values));
        }
    }
    Ok(all)
}

/// Returns the values of `attribute` of each of `docs` (in the same order) in one segment.
fn segment_values(
    catalog: &IndexCatalog,
    attribute: &Attribute,
    reader: &SegmentReader,
    docs: &[DocId],
) -> tantivy::Result<Vec<Vec<String>>> {
    let fast_fields = reader.fast_fields();
    let name = attribute.name;
    let values = match attribute.value {
        ValueKind::I64 if attribute.is_fast => {
            let column = fast_fields.i64(name)?;
            docs.iter()
                .map(|&doc| column.values_for_doc(doc).map(|v| v.to_string()).collect())
                .collect()
        }
        ValueKind::U64 if attribute.is_fast => {
            let column = fast_fields.u64(name)?;
            docs.iter()
                .map(|&doc| column.values_for_doc(doc).map(|v| v.to_string()).collect())
                .collect()
        }
        ValueKind::Date if attribute.is_fast => {
            let column = fast_fields.date(name)?;
            docs.iter()
                .map(|&doc| column.values_for_doc(doc).map(format_date).collect())
                .collect()
        }
        ValueKind::Text(Analysis::Raw) if attribute.is_fast => {
            let Some(column) = fast_fields.str(name)? else {
                return Ok(vec![Vec::new(); docs.len()]);
            };
            let mut text_of_ordinal: HashMap<u64, String> = HashMap::new();
            let mut values = Vec::with_capacity(docs.len());
            for &doc in docs {
                let mut doc_values = Vec::new();
                for ordinal in column.term_ords(doc) {
                    if let std::collections::hash_map::Entry::Vacant(entry) =
                        text_of_ordinal.entry(ordinal)
                    {
                        let mut text = String::new();
                        column.ord_to_str(ordinal, &mut text)?;
                        entry.insert(text);
                    }
                    doc_values.push(text_of_ordinal[&ordinal].clone());
                }
                values.push(doc_values);
            }
            values
        }
        _ => values_from_postings(catalog, attribute, reader, docs)?,
    };
    Ok(values)
}

/// Returns the values of an attribute without a usable column by walking its terms'
/// postings against `docs`.
fn values_from_postings(
    catalog: &IndexCatalog,
    attribute: &Attribute,
    reader: &SegmentReader,
    docs: &[DocId],
) -> tantivy::Result<Vec<Vec<String>>> {
    let mut values = vec![Vec::new(); docs.len()];
    if docs.is_empty() {
        return Ok(values);
    }
    let mut position_of_doc = vec![u32::MAX; reader.max_doc() as usize];
    for (position, &doc) in docs.iter().enumerate() {
        position_of_doc[doc as usize] = position as u32;
    }
    let inverted_index = reader.inverted_index(catalog.field(attribute.name))?;
    let mut terms = inverted_index.terms().stream()?;
    while terms.advance() {
        let mut postings =
            inverted_index.read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
        let mut term_text: Option<String> = None;
        let mut doc = postings.doc();
        while doc != TERMINATED {
            let position = position_of_doc[doc as usize];
            if position != u32::MAX {
                let text = term_text
                    .get_or_insert_with(|| String::from_utf8_lossy(terms.key()).into_owned());
                values[position as usize].push(text.clone());
            }
            doc = postings.advance();
        }
    }
    Ok(values)
}

/// Returns `facetDistribution` and `facetStats` from the merged counts: the values with
/// the most documents (ties by value), at most `max_values_per_facet` per facet.
pub fn facet_response(
    counts: BTreeMap<String, FacetCounts>,
    max_values_per_facet: usize,
) -> (FacetDistribution, BTreeMap<String, FacetStats>) {
    let mut distribution = FacetDistribution::new();
    let mut stats = BTreeMap::new();
    for (name, facet) in counts {
        let mut values: Vec<(String, u64)> = facet.values.into_iter().collect();
        values.sort_by(|first, second| second.1.cmp(&first.1).then_with(|| first.0.cmp(&second.0)));
        values.truncate(max_values_per_facet);
        distribution.insert(name.clone(), values.into_iter().collect());
        if let Some((min, max)) = facet.range {
            stats.insert(name, FacetStats { min, max });
        }
    }
    (distribution, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Narrow columns are counted in an array by value, wide ones in a hash map; both must
    /// give every value's exact count, negative and missing values included.
    #[test]
    fn numbers_and_labels_are_counted_alike_whether_narrow_or_wide() {
        use tantivy::schema::{Schema, FAST, INDEXED, STRING};
        use tantivy::{doc, Index, TantivyDocument};

        let mut builder = Schema::builder();
        let narrow = builder.add_i64_field("narrow", FAST | INDEXED);
        let wide = builder.add_u64_field("wide", FAST | INDEXED);
        let label = builder.add_text_field("label", STRING | FAST);
        let index = Index::create_in_ram(builder.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut expected_narrow: BTreeMap<String, u64> = BTreeMap::new();
        let mut expected_wide: BTreeMap<String, u64> = BTreeMap::new();
        let mut expected_label: BTreeMap<String, u64> = BTreeMap::new();
        let labels = ["crossref", "openalex", "dblp"];
        for number in 0..500i64 {
            let mut document = TantivyDocument::default();
            if number % 11 != 0 {
                let value = -3 + number % 7;
                document.add_i64(narrow, value);
                *expected_narrow.entry(value.to_string()).or_default() += 1;
            }
            let value = (number as u64 % 4) * 1_000_000;
            document.add_u64(wide, value);
            *expected_wide.entry(value.to_string()).or_default() += 1;
            let value = labels[number as usize % 3];
            document.add_text(label, value);
            *expected_label.entry(value.to_owned()).or_default() += 1;
            writer.add_document(document).unwrap();
        }
        writer.add_document(doc!()).unwrap();
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let reader = searcher.segment_reader(0);
        let docs: Vec<DocId> = (0..reader.max_doc()).collect();
        let fast_fields = reader.fast_fields();

        let mut counts = FacetCounts::default();
        count_numbers(&fast_fields.i64("narrow").unwrap(), &docs, &mut counts);
        assert_eq!(counts.values, expected_narrow.into_iter().collect());
        assert_eq!(counts.range, Some((-3.0, 3.0)));

        let mut counts = FacetCounts::default();
        count_numbers(&fast_fields.u64("wide").unwrap(), &docs, &mut counts);
        assert_eq!(counts.values, expected_wide.into_iter().collect());

        let column = fast_fields.str("label").unwrap().unwrap();
        let counted = num_docs_per_slot(column.num_terms(), &docs, |doc| column.term_ords(doc));
        let mut value = String::new();
        let counted: BTreeMap<String, u64> = counted
            .into_iter()
            .map(|(ordinal, num_docs)| {
                value.clear();
                assert!(column.ord_to_str(ordinal, &mut value).unwrap());
                (value.clone(), num_docs)
            })
            .collect();
        assert_eq!(counted, expected_label);
    }

    #[test]
    fn merged_counts_are_cut_by_count_then_value() {
        let mut first = FacetCounts::default();
        first.add("hal".into(), 3);
        first.add("crossref".into(), 1);
        first.add_number(2019.0);
        let mut second = FacetCounts::default();
        second.add("crossref".into(), 3);
        second.add("openalex".into(), 2);
        second.add_number(2021.0);
        first.merge(second);
        let counts = BTreeMap::from([("source".to_owned(), first)]);
        let (distribution, stats) = facet_response(counts, 2);
        assert_eq!(
            distribution["source"],
            BTreeMap::from([("crossref".to_owned(), 4), ("hal".to_owned(), 3)])
        );
        assert_eq!(stats["source"].min, 2019.0);
        assert_eq!(stats["source"].max, 2021.0);
    }
}
