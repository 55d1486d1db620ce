//! The order of hits: the settings' ranking rules with the request's `sort` in place of the
//! `sort` rule, and the values of sortable attributes, read from stored documents for
//! ranked candidates and from fast fields for placeholder searches.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::schema::Value as _;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, TantivyDocument};

use super::catalog::{Attribute, IndexCatalog, ValueKind};
use super::ids::SegmentIds;
use crate::params::Settings;
use crate::sort::{SortCriterion, SortOrder};

/// One step of the order of hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortRule {
    /// More query words matched first.
    Words,
    /// Fewer typos first.
    Typo,
    /// Query words closer together first.
    Proximity,
    /// Matches in more important attributes first, then earlier in them.
    Attribute,
    /// Matches in more important attributes first.
    AttributeRank,
    /// Matches earlier in their attribute first.
    WordPosition,
    /// Exact words, and attributes equal to the query, first.
    Exactness,
    /// The values of a sortable attribute.
    Value(ValueCriterion),
}

/// Ordering by a sortable attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueCriterion {
    /// The attribute.
    pub attribute: &'static Attribute,
    /// Largest first.
    pub descending: bool,
}

/// The whole order of one search.
#[derive(Debug, Clone)]
pub struct HitOrder {
    /// Rules, most significant first.
    pub rules: Vec<SortRule>,
    /// Whether the final tie-break on the id is newest (largest) first.
    pub id_descending: bool,
}

impl HitOrder {
    /// Returns the order of a search with words: the settings' rules, `sort` replaced by
    /// the request's criteria (appended when the rules have no `sort`).
    pub fn for_query(
        catalog: &'static IndexCatalog,
        settings: &Settings,
        sort: &[SortCriterion],
    ) -> HitOrder {
        let mut rules = Vec::new();
        let mut has_sort_rule = false;
        for rule in &settings.ranking_rules {
            match rule.as_str() {
                "words" => rules.push(SortRule::Words),
                "typo" => rules.push(SortRule::Typo),
                "proximity" => rules.push(SortRule::Proximity),
                "attribute" => rules.push(SortRule::Attribute),
                "attributeRank" => rules.push(SortRule::AttributeRank),
                "wordPosition" => rules.push(SortRule::WordPosition),
                "exactness" => rules.push(SortRule::Exactness),
                "sort" => {
                    has_sort_rule = true;
                    rules.extend(value_rules(catalog, sort));
                }
                custom => rules.extend(custom_rule(catalog, custom)),
            }
        }
        if !has_sort_rule {
            rules.extend(value_rules(catalog, sort));
        }
        HitOrder {
            rules,
            id_descending: false,
        }
    }

    /// Returns the order of a placeholder search: the custom rules of the settings and the
    /// request's criteria in the settings' order, or newest first when neither orders
    /// anything.
    pub fn for_placeholder(
        catalog: &'static IndexCatalog,
        settings: &Settings,
        sort: &[SortCriterion],
    ) -> HitOrder {
        // The value rules of a search with words, in the same order; the rules of words
        // have nothing to order.
        let mut rules: Vec<SortRule> = HitOrder::for_query(catalog, settings, sort)
            .rules
            .into_iter()
            .filter(|rule| matches!(rule, SortRule::Value(_)))
            .collect();
        let is_default = rules.is_empty();
        if is_default {
            rules.extend(catalog.default_order.iter().filter_map(|name| {
                Some(SortRule::Value(ValueCriterion {
                    attribute: catalog.attribute(name)?,
                    descending: true,
                }))
            }));
        }
        HitOrder {
            rules,
            id_descending: is_default,
        }
    }

    /// Returns the value criteria that come before every other rule: a search with words
    /// collects its candidates by them first when there are any.
    pub fn leading_value_criteria(&self) -> Vec<ValueCriterion> {
        self.rules
            .iter()
            .map_while(|rule| match rule {
                SortRule::Value(criterion) => Some(*criterion),
                _ => None,
            })
            .collect()
    }

    /// Returns the value criteria of the order, which placeholder searches collect by.
    pub fn value_criteria(&self) -> Vec<ValueCriterion> {
        self.rules
            .iter()
            .filter_map(|rule| match rule {
                SortRule::Value(criterion) => Some(*criterion),
                _ => None,
            })
            .collect()
    }
}

fn value_rules(catalog: &IndexCatalog, sort: &[SortCriterion]) -> Vec<SortRule> {
    sort.iter()
        .filter_map(|criterion| {
            Some(SortRule::Value(ValueCriterion {
                attribute: catalog.attribute(&criterion.attribute)?,
                descending: criterion.order == SortOrder::Desc,
            }))
        })
        .collect()
}

fn custom_rule(catalog: &IndexCatalog, rule: &str) -> Option<SortRule> {
    let (name, descending) = match rule.rsplit_once(':')? {
        (name, "asc") => (name, false),
        (name, "desc") => (name, true),
        _ => return None,
    };
    Some(SortRule::Value(ValueCriterion {
        attribute: catalog.attribute(name)?,
        descending,
    }))
}

/// Returns the comparable value of `raw` under `criterion`: lower is better, documents
/// without a value last whatever the direction, as Meilisearch sorts them.
pub fn encode(raw: Option<i128>, criterion: &ValueCriterion) -> i128 {
    match raw {
        None => i128::MAX,
        Some(value) if criterion.descending => -value,
        Some(value) => value,
    }
}

/// Returns the comparable value of a stored document under `criterion`.
pub fn sort_value(
    catalog: &IndexCatalog,
    criterion: &ValueCriterion,
    stored: &TantivyDocument,
) -> i128 {
    let field = catalog.field(criterion.attribute.name);
    let raw = stored
        .get_first(field)
        .and_then(|value| match criterion.attribute.value {
            ValueKind::I64 => value.as_i64().map(i128::from),
            ValueKind::U64 => value.as_u64().map(i128::from),
            ValueKind::Date => value
                .as_datetime()
                .map(|date| i128::from(date.into_timestamp_micros())),
            ValueKind::Text(_) | ValueKind::JsonText => None,
        });
    encode(raw, criterion)
}

/// Collects the `limit` documents first in value order (placeholder searches, and
/// searches whose ranking rules start with values), by fast fields, documents of equal
/// values ordered by id as the hits are: which documents of a tie group are kept does not
/// depend on how documents are spread over shards and segments.
#[derive(Debug)]
pub struct ValueOrderCollector {
    /// The criteria, most significant first.
    pub criteria: Vec<ValueCriterion>,
    /// Documents kept per shard.
    pub limit: usize,
    /// Whether documents of equal values are ordered by their first-stage score, best
    /// first, before their ids.
    pub then_score: bool,
    /// Whether the final tie-break on the id is largest first.
    pub id_descending: bool,
}

/// Scale of first-stage scores in a value key: scores differ by far more than this
/// resolution.
const SCORE_KEY_SCALE: f32 = 1_048_576.0;

/// The fast column of one criterion in one segment.
enum KeyColumn {
    Signed(Column<i64>),
    Unsigned(Column<u64>),
    Date(Column<tantivy::DateTime>),
    Missing,
}

impl KeyColumn {
    fn value(&self, doc: DocId) -> Option<i128> {
        match self {
            KeyColumn::Signed(column) => column.first(doc).map(i128::from),
            KeyColumn::Unsigned(column) => column.first(doc).map(i128::from),
            KeyColumn::Date(column) => column
                .first(doc)
                .map(|date| i128::from(date.into_timestamp_micros())),
            KeyColumn::Missing => None,
        }
    }
}

/// The sort keys of the documents of one segment, read from fast columns.
pub struct SegmentKeys {
    columns: Vec<(KeyColumn, ValueCriterion)>,
}

impl SegmentKeys {
    /// Returns the keys of `criteria` in the segment read by `reader`; a criterion whose
    /// column is missing sorts every document last.
    pub fn new(criteria: &[ValueCriterion], reader: &SegmentReader) -> SegmentKeys {
        let fast_fields = reader.fast_fields();
        let mut columns = Vec::with_capacity(criteria.len());
        for criterion in criteria {
            let name = criterion.attribute.name;
            let column = match criterion.attribute.value {
                ValueKind::I64 => fast_fields
                    .i64(name)
                    .map(KeyColumn::Signed)
                    .unwrap_or(KeyColumn::Missing),
                ValueKind::U64 => fast_fields
                    .u64(name)
                    .map(KeyColumn::Unsigned)
                    .unwrap_or(KeyColumn::Missing),
                ValueKind::Date => fast_fields
                    .date(name)
                    .map(KeyColumn::Date)
                    .unwrap_or(KeyColumn::Missing),
                ValueKind::Text(_) | ValueKind::JsonText => KeyColumn::Missing,
            };
            columns.push((column, *criterion));
        }
        SegmentKeys { columns }
    }

    /// Returns the comparable key of `doc`, lower first.
    pub fn key(&self, doc: DocId) -> Vec<i128> {
        let mut key = Vec::with_capacity(self.columns.len());
        self.push_key(doc, &mut key);
        key
    }

    /// Returns the first part of `doc`'s key, or `None` when the order has no criterion.
    fn first_part(&self, doc: DocId) -> Option<i128> {
        let (column, criterion) = self.columns.first()?;
        Some(encode(column.value(doc), criterion))
    }

    /// Appends the comparable key of `doc` to `key`.
    fn push_key(&self, doc: DocId, key: &mut Vec<i128>) {
        self.push_key_after(self.first_part(doc), doc, key);
    }

    /// Appends the comparable key of `doc` to `key`, its first part already read.
    fn push_key_after(&self, first: Option<i128>, doc: DocId, key: &mut Vec<i128>) {
        key.extend(first);
        key.extend(
            self.columns
                .iter()
                .skip(1)
                .map(|(column, criterion)| encode(column.value(doc), criterion)),
        );
    }
}

/// The segment part of [`ValueOrderCollector`].
pub struct ValueOrderSegmentCollector {
    segment: SegmentOrdinal,
    keys: SegmentKeys,
    ids: SegmentIds,
    limit: usize,
    then_score: bool,
    id_descending: bool,
    /// The documents kept, the last in order on top: `(key, id ordinal in the order's
    /// direction, document)`.
    kept: BinaryHeap<(Vec<i128>, u64, DocId)>,
    /// The key of the document being collected.
    key: Vec<i128>,
    /// Once `limit` documents are kept, the first part of the last one's key: a document
    /// whose first part is greater cannot be kept, and is passed over without building its
    /// whole key (most matches of a placeholder search fall behind the page).
    last_first_part: Option<i128>,
}

impl Collector for ValueOrderCollector {
    type Fruit = Vec<(Vec<i128>, DocAddress)>;
    type Child = ValueOrderSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(ValueOrderSegmentCollector {
            segment,
            keys: SegmentKeys::new(&self.criteria, reader),
            ids: SegmentIds::new(reader)?,
            limit: self.limit,
            then_score: self.then_score,
            id_descending: self.id_descending,
            kept: BinaryHeap::new(),
            key: Vec::new(),
            last_first_part: None,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.then_score
    }

    fn merge_fruits(
        &self,
        fruits: Vec<tantivy::Result<Vec<(Vec<i128>, String, DocAddress)>>>,
    ) -> tantivy::Result<Self::Fruit> {
        let mut all = Vec::new();
        for fruit in fruits {
            all.extend(fruit?);
        }
        all.sort_by(|first, second| {
            first.0.cmp(&second.0).then_with(|| {
                if self.id_descending {
                    second.1.cmp(&first.1)
                } else {
                    first.1.cmp(&second.1)
                }
            })
        });
        all.truncate(self.limit);
        Ok(all
            .into_iter()
            .map(|(key, _, address)| (key, address))
            .collect())
    }
}

impl SegmentCollector for ValueOrderSegmentCollector {
    type Fruit = tantivy::Result<Vec<(Vec<i128>, String, DocAddress)>>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.limit == 0 {
            return;
        }
        let first = self.keys.first_part(doc);
        if let (Some(first), Some(last)) = (first, self.last_first_part) {
            if first > last {
                return;
            }
        }
        // The key is built in a buffer and copied only for a document kept.
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        self.keys.push_key_after(first, doc, &mut key);
        if self.then_score {
            key.push(-((score * SCORE_KEY_SCALE) as i128));
        }
        if self.kept.len() < self.limit {
            let ordinal = directed(self.ids.ordinal(doc), self.id_descending);
            self.kept.push((key.clone(), ordinal, doc));
        } else if let Some(mut worst) = self.kept.peek_mut() {
            let ordinal = match key.cmp(&worst.0) {
                Ordering::Less => Some(directed(self.ids.ordinal(doc), self.id_descending)),
                Ordering::Greater => None,
                Ordering::Equal => Some(directed(self.ids.ordinal(doc), self.id_descending))
                    .filter(|&ordinal| ordinal < worst.1),
            };
            // The last kept document gives its place, and its key's allocation, to this
            // one; the heap is put back in order when `worst` is dropped.
            if let Some(ordinal) = ordinal {
                worst.0.clone_from(&key);
                worst.1 = ordinal;
                worst.2 = doc;
            }
        }
        if self.kept.len() >= self.limit {
            self.last_first_part = self
                .kept
                .peek()
                .and_then(|(last, _, _)| last.first().copied());
        }
        self.key = key;
    }

    fn harvest(self) -> Self::Fruit {
        let kept = self.kept.into_vec();
        let ordinals: Vec<u64> = kept
            .iter()
            .map(|&(_, ordinal, _)| directed(ordinal, self.id_descending))
            .collect();
        let ids = self.ids.ids(&ordinals)?;
        let segment = self.segment;
        Ok(kept
            .into_iter()
            .zip(ids)
            .map(|((key, _, doc), id)| (key, id, DocAddress::new(segment, doc)))
            .collect())
    }
}

/// Returns an id ordinal that sorts first when its id comes first in the order: itself, or
/// reversed for largest ids first. Applied twice it gives the ordinal back.
fn directed(ordinal: u64, descending: bool) -> u64 {
    if descending {
        u64::MAX - ordinal
    } else {
        ordinal
    }
}

#[cfg(test)]
mod tests {
    use tantivy::query::AllQuery;
    use tantivy::schema::{Schema, FAST, INDEXED, STORED, STRING};
    use tantivy::{doc, Index};

    use super::*;
    use indexer::index::schema::{self as fields, ID};
    use indexer::index::IndexKind;

    /// The kept documents must be those of a whole sort, whatever the documents passed
    /// over by their first value alone: ties on it are broken by the next criterion and
    /// then the id, and documents without a value come last.
    #[test]
    fn the_first_in_value_order_are_kept_as_a_whole_sort_would_keep_them() {
        let mut builder = Schema::builder();
        let id = builder.add_text_field(ID, STRING | FAST | STORED);
        let year = builder.add_i64_field(fields::YEAR, FAST | INDEXED);
        let count = builder.add_u64_field(fields::MERGED_FROM_COUNT, FAST | INDEXED);
        let index = Index::create_in_ram(builder.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut all = Vec::new();
        for batch in 0..2u64 {
            for number in 0..300u64 {
                let doc_id = format!("w{:04}", (number * 7919 + batch * 13) % 10_000);
                let mut document = doc!(id => doc_id.clone(), count => number % 5);
                let value = (number % 17 != 0).then(|| 1990 + ((number * 31 + batch) % 23) as i64);
                if let Some(value) = value {
                    document.add_i64(year, value);
                }
                writer.add_document(document).unwrap();
                all.push((value, number % 5, doc_id));
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let catalog = IndexCatalog::of(IndexKind::Works);
        let criteria = vec![
            ValueCriterion {
                attribute: catalog.attribute(fields::YEAR).unwrap(),
                descending: true,
            },
            ValueCriterion {
                attribute: catalog.attribute(fields::MERGED_FROM_COUNT).unwrap(),
                descending: false,
            },
        ];
        // Largest year first, missing years last; then smallest count; then id.
        all.sort_by(|a, b| {
            let year_key = |year: Option<i64>| year.map_or(i128::MAX, |y| -i128::from(y));
            year_key(a.0)
                .cmp(&year_key(b.0))
                .then(a.1.cmp(&b.1))
                .then(a.2.cmp(&b.2))
        });
        for limit in [1, 7, 40, 600, 700] {
            let collector = ValueOrderCollector {
                criteria: criteria.clone(),
                limit,
                then_score: false,
                id_descending: false,
            };
            let kept = searcher.search(&AllQuery, &collector).unwrap();
            let ids: Vec<String> = kept
                .iter()
                .map(|(_, address)| {
                    let stored: TantivyDocument = searcher.doc(*address).unwrap();
                    stored.get_first(id).unwrap().as_str().unwrap().to_owned()
                })
                .collect();
            let expected: Vec<String> = all
                .iter()
                .take(limit)
                .map(|(_, _, doc_id)| doc_id.clone())
                .collect();
            assert_eq!(ids, expected, "limit {limit}");
        }
    }
}
