//! A filter evaluated into one set of documents per segment.
//!
//! A filter is a tree of `AND`, `OR` and `NOT` over conditions, each condition a query on
//! one attribute (a range of years, a verification state, a source). Combined by
//! tantivy's boolean scorers, a librarian's filter spanning a hundred thousand records
//! was intersected document by document, each condition seeking the others. Here each
//! condition is read to the end once into a bitset, and the tree is combined a machine
//! word at a time; a search's queries (the buckets of the words criterion, the count of
//! matches) share the set a segment's filter made.

use std::fmt;
use std::sync::Arc;

use tantivy::index::SegmentId;
use tantivy::query::{ConstScorer, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, Term};

use super::best_of::{all_bits, clear_past, explain_score, SegmentSet, SetScorer, SetsCache};

/// A filter's tree: conditions combined by `AND`, `OR` and `NOT`.
#[derive(Debug)]
pub enum Tree<C> {
    /// Every document.
    All,
    /// No document.
    Nothing,
    /// The documents a condition selects.
    Condition(C),
    And(Vec<Tree<C>>),
    Or(Vec<Tree<C>>),
    Not(Box<Tree<C>>),
}

/// A filter's tree of queries.
pub type FilterNode = Tree<Box<dyn Query>>;

/// A filter's tree of weights.
type WeightNode = Tree<Box<dyn Weight>>;

impl<C> Tree<C> {
    /// Returns the documents `self` does not select.
    pub fn negated(self) -> Tree<C> {
        match self {
            Tree::All => Tree::Nothing,
            Tree::Nothing => Tree::All,
            Tree::Not(inner) => *inner,
            node => Tree::Not(Box::new(node)),
        }
    }

    /// Returns the documents any of `nodes` selects.
    pub fn any(mut nodes: Vec<Tree<C>>) -> Tree<C> {
        match nodes.len() {
            0 => Tree::Nothing,
            1 => nodes.pop().unwrap_or(Tree::Nothing),
            _ => Tree::Or(nodes),
        }
    }

    /// Returns the same tree with each condition mapped by `map`.
    fn try_map<D>(&self, map: &dyn Fn(&C) -> tantivy::Result<D>) -> tantivy::Result<Tree<D>> {
        let children = |nodes: &[Tree<C>]| {
            nodes
                .iter()
                .map(|node| node.try_map(map))
                .collect::<tantivy::Result<Vec<_>>>()
        };
        Ok(match self {
            Tree::All => Tree::All,
            Tree::Nothing => Tree::Nothing,
            Tree::Condition(condition) => Tree::Condition(map(condition)?),
            Tree::And(nodes) => Tree::And(children(nodes)?),
            Tree::Or(nodes) => Tree::Or(children(nodes)?),
            Tree::Not(node) => Tree::Not(Box::new(node.try_map(map)?)),
        })
    }

    /// Calls `visit` with each condition of the tree.
    fn for_each_condition<'a>(&'a self, visit: &mut dyn FnMut(&'a C)) {
        match self {
            Tree::All | Tree::Nothing => {}
            Tree::Condition(condition) => visit(condition),
            Tree::And(nodes) | Tree::Or(nodes) => {
                for node in nodes {
                    node.for_each_condition(visit);
                }
            }
            Tree::Not(node) => node.for_each_condition(visit),
        }
    }
}

/// The documents a filter selects, each scoring 1 (times the boost). Clones share the
/// sets already made, so one search evaluates its filter once per segment.
#[derive(Clone)]
pub struct FilterSetQuery {
    root: Arc<FilterNode>,
    /// The sets the filter has made, per segment.
    sets: SetsCache<SegmentId>,
}

impl fmt::Debug for FilterSetQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilterSetQuery")
            .field("root", &self.root)
            .finish()
    }
}

impl FilterSetQuery {
    /// Returns the query of the documents `root` selects.
    pub fn new(root: FilterNode) -> FilterSetQuery {
        FilterSetQuery {
            root: Arc::new(root),
            sets: SetsCache::default(),
        }
    }

    /// Returns the filter's weight, which reads its set of a segment.
    pub fn filter_weight(
        &self,
        enable_scoring: EnableScoring<'_>,
    ) -> tantivy::Result<FilterSetWeight> {
        // Conditions only select: their scores are never read.
        let unscored = EnableScoring::disabled_from_schema(enable_scoring.schema());
        let root = self.root.try_map(&|query| query.weight(unscored))?;
        Ok(FilterSetWeight {
            root,
            sets: self.sets.clone(),
        })
    }
}

impl Query for FilterSetQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.filter_weight(enable_scoring)?))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.root
            .for_each_condition(&mut |query| query.query_terms(visitor));
    }
}

impl WeightNode {
    /// Returns one bit per document of `reader`'s segment, set for those selected; no bit
    /// is set past the segment's last document.
    fn evaluate(&self, reader: &SegmentReader) -> tantivy::Result<Vec<u64>> {
        let max_doc = reader.max_doc();
        let num_buckets = max_doc.div_ceil(64) as usize;
        Ok(match self {
            Tree::All => all_bits(max_doc),
            Tree::Nothing => vec![0; num_buckets],
            Tree::Condition(weight) => bits_of(weight.as_ref(), reader, num_buckets)?,
            Tree::And(nodes) => and_of(nodes, reader)?,
            Tree::Or(nodes) => {
                let mut bits = vec![0u64; num_buckets];
                for node in nodes {
                    let other = node.evaluate(reader)?;
                    for (word, other) in bits.iter_mut().zip(other) {
                        *word |= other;
                    }
                }
                bits
            }
            Tree::Not(node) => {
                let mut bits = node.evaluate(reader)?;
                for word in &mut bits {
                    *word = !*word;
                }
                clear_past(&mut bits, max_doc);
                bits
            }
        })
    }
}

/// Returns the documents of a segment every one of `nodes` selects. The conditions are
/// applied fewest documents first: once few documents are left, a condition holding many
/// more is asked about each of them (a seek in its postings) rather than read whole, as a
/// verification state or a source holds most of an index.
fn and_of(nodes: &[WeightNode], reader: &SegmentReader) -> tantivy::Result<Vec<u64>> {
    let max_doc = reader.max_doc();
    let num_buckets = max_doc.div_ceil(64) as usize;
    let mut conditions = Vec::new();
    let mut others = Vec::new();
    for node in nodes {
        match node {
            Tree::Condition(weight) => {
                conditions.push((weight.as_ref(), weight.scorer(reader, 1.0)?));
            }
            Tree::All => {}
            node => others.push(node),
        }
    }
    conditions.sort_by_key(|(_, scorer)| scorer.size_hint());
    let mut conditions = conditions.into_iter();
    let mut bits = match conditions.next() {
        Some((first, _)) => bits_of(first, reader, num_buckets)?,
        None => all_bits(max_doc),
    };
    let mut num_left: u64 = bits.iter().map(|word| u64::from(word.count_ones())).sum();
    for (weight, mut scorer) in conditions {
        if num_left == 0 {
            return Ok(bits);
        }
        if num_left * SEEK_COST < u64::from(scorer.size_hint()) {
            keep_held(&mut bits, scorer.as_mut());
        } else {
            let other = bits_of(weight, reader, num_buckets)?;
            for (word, other) in bits.iter_mut().zip(other) {
                *word &= other;
            }
        }
        num_left = bits.iter().map(|word| u64::from(word.count_ones())).sum();
    }
    for node in others {
        if num_left == 0 {
            break;
        }
        match node {
            // `A AND NOT B` clears B's bits without making NOT B's set.
            Tree::Not(inner) => {
                let other = inner.evaluate(reader)?;
                for (word, other) in bits.iter_mut().zip(other) {
                    *word &= !other;
                }
            }
            node => {
                let other = node.evaluate(reader)?;
                for (word, other) in bits.iter_mut().zip(other) {
                    *word &= other;
                }
            }
        }
        num_left = bits.iter().map(|word| u64::from(word.count_ones())).sum();
    }
    Ok(bits)
}

/// Documents read from a condition's postings for about the cost of one seek in them.
const SEEK_COST: u64 = 16;

/// Returns the documents `weight` selects in `reader`'s segment, one bit per document,
/// taken a buffer of documents at a time (a [`TermFilter`] hands over whole blocks of its
/// postings).
fn bits_of(
    weight: &dyn Weight,
    reader: &SegmentReader,
    num_buckets: usize,
) -> tantivy::Result<Vec<u64>> {
    let mut bits = vec![0u64; num_buckets];
    weight.for_each_no_score(reader, &mut |docs| {
        for &doc in docs {
            bits[(doc / 64) as usize] |= 1u64 << (doc % 64);
        }
    })?;
    Ok(bits)
}

/// The documents holding one term, for filters: as tantivy's `TermQuery` without scores,
/// except that reading them all (a filter's set) decodes whole blocks of postings rather
/// than stepping through the documents one by one, which for a verification state or a
/// source held by most of an index was most of a filter's cost.
#[derive(Debug, Clone)]
pub struct TermFilter {
    term: Term,
}

impl TermFilter {
    /// Returns the filter of the documents holding `term`.
    pub fn new(term: Term) -> TermFilter {
        TermFilter { term }
    }
}

impl Query for TermFilter {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        visitor(&self.term, false);
    }
}

impl Weight for TermFilter {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let postings = reader
            .inverted_index(self.term.field())?
            .read_postings(&self.term, IndexRecordOption::Basic)?;
        Ok(match postings {
            Some(postings) => Box::new(ConstScorer::new(postings, boost)),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not hold the filter's term"
            )));
        }
        Ok(Explanation::new("term filter", 1.0))
    }

    fn for_each_no_score(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(&[DocId]),
    ) -> tantivy::Result<()> {
        let Some(mut block) = reader
            .inverted_index(self.term.field())?
            .read_block_postings(&self.term, IndexRecordOption::Basic)?
        else {
            return Ok(());
        };
        loop {
            let docs = block.docs();
            if docs.is_empty() {
                return Ok(());
            }
            callback(docs);
            block.advance();
        }
    }
}

/// Clears the bits of the documents `scorer` does not hold, seeking it to each set bit
/// it has not passed yet (a scorer never seeks backwards).
fn keep_held(bits: &mut [u64], scorer: &mut dyn Scorer) {
    for (bucket, word) in bits.iter_mut().enumerate() {
        let mut rest = *word;
        while rest != 0 {
            let low = rest.trailing_zeros();
            rest &= rest - 1;
            let doc = bucket as DocId * 64 + low;
            let at = match scorer.doc() {
                current if current < doc => scorer.seek(doc),
                current => current,
            };
            if at != doc {
                *word &= !(1u64 << low);
            }
        }
    }
}

/// A filter's weight; see [`FilterSetQuery`].
pub struct FilterSetWeight {
    root: WeightNode,
    sets: SetsCache<SegmentId>,
}

impl FilterSetWeight {
    /// Returns the set of documents of `reader`'s segment the filter selects, made once.
    pub fn read_set(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentSet>> {
        let segment = reader.segment_id();
        if let Some(set) = self.sets.get(&segment) {
            return Ok(set);
        }
        let set = Arc::new(SegmentSet::of_bits(self.root.evaluate(reader)?));
        self.sets.insert(segment, Arc::clone(&set));
        Ok(set)
    }
}

impl Weight for FilterSetWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(SetScorer::new(self.read_set(reader)?, boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        explain_score(self, reader, doc, "filter")
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        let set = self.read_set(reader)?;
        Ok(set.count_alive(reader))
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::{Count, DocSetCollector};
    use tantivy::query::TermQuery;
    use tantivy::schema::{IndexRecordOption, Schema, STRING};
    use tantivy::{doc, Index, Searcher};

    use super::*;

    /// Returns an index of one segment whose documents hold the given tags, the documents
    /// of `deleted` tags deleted.
    fn searcher_of(tags: &[&str], deleted: &str) -> (Searcher, tantivy::schema::Field) {
        let mut builder = Schema::builder();
        let field = builder.add_text_field("tag", STRING);
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for tag in tags {
            writer.add_document(doc!(field => *tag)).unwrap();
        }
        writer.commit().unwrap();
        writer.delete_term(Term::from_field_text(field, deleted));
        writer.commit().unwrap();
        (index.reader().unwrap().searcher(), field)
    }

    fn tag(field: tantivy::schema::Field, value: &str) -> FilterNode {
        FilterNode::Condition(Box::new(TermFilter::new(Term::from_field_text(
            field, value,
        ))))
    }

    #[test]
    fn a_term_filter_selects_what_a_term_query_does_block_by_block_or_sought() {
        // Over seven blocks of postings, the last one partly filled.
        let tags: Vec<&str> = (0..1_000u32)
            .map(|doc| match doc % 7 == 0 || doc % 3 == 1 {
                true => "kept",
                false => "other",
            })
            .collect();
        let (searcher, field) = searcher_of(&tags, "none");
        let term = Term::from_field_text(field, "kept");
        let mut expected: Vec<DocId> = searcher
            .search(
                &TermQuery::new(term.clone(), IndexRecordOption::Basic),
                &DocSetCollector,
            )
            .unwrap()
            .into_iter()
            .map(|address| address.doc_id)
            .collect();
        expected.sort_unstable();
        assert!(expected.len() > 3 * 128, "{}", expected.len());
        assert_eq!(docs_of(&searcher, tag(field, "kept")), expected);

        // Sought document by document, as when few documents are left to ask about.
        let reader = searcher.segment_reader(0);
        let mut scorer = TermFilter::new(term).scorer(reader, 1.0).unwrap();
        assert_eq!(scorer.size_hint() as usize, expected.len());
        for &doc in expected.iter().step_by(41) {
            assert_eq!(scorer.seek(doc), doc);
        }
        assert_eq!(scorer.seek(999), tantivy::TERMINATED, "999 is not kept");
        let missing = Term::from_field_text(field, "missing");
        assert_eq!(
            docs_of(&searcher, tag(field, "missing")),
            Vec::<DocId>::new()
        );
        assert_eq!(
            TermFilter::new(missing).scorer(reader, 1.0).unwrap().doc(),
            tantivy::TERMINATED
        );
    }

    fn docs_of(searcher: &Searcher, root: FilterNode) -> Vec<DocId> {
        let query = FilterSetQuery::new(root);
        let mut docs: Vec<DocId> = searcher
            .search(&query, &DocSetCollector)
            .unwrap()
            .into_iter()
            .map(|address| address.doc_id)
            .collect();
        docs.sort_unstable();
        assert_eq!(searcher.search(&query, &Count).unwrap(), docs.len());
        docs
    }

    #[test]
    fn a_filter_tree_selects_what_its_conditions_combine_to() {
        // 70 documents, so that a segment's last machine word is partly used.
        let tags: Vec<&str> = (0..70)
            .map(|doc| match doc % 3 {
                0 => "a",
                1 => "b",
                _ => "c",
            })
            .collect();
        let (searcher, field) = searcher_of(&tags, "none");
        let with = |wanted: &[&str]| -> Vec<DocId> {
            (0..70)
                .filter(|&doc| wanted.contains(&tags[doc as usize]))
                .collect()
        };
        assert_eq!(docs_of(&searcher, tag(field, "a")), with(&["a"]));
        assert_eq!(
            docs_of(
                &searcher,
                FilterNode::any(vec![tag(field, "a"), tag(field, "b")])
            ),
            with(&["a", "b"])
        );
        // NOT selects no document past the segment's last.
        assert_eq!(
            docs_of(&searcher, tag(field, "a").negated()),
            with(&["b", "c"])
        );
        assert_eq!(
            docs_of(
                &searcher,
                FilterNode::And(vec![
                    FilterNode::any(vec![tag(field, "a"), tag(field, "b")]),
                    tag(field, "b").negated(),
                ])
            ),
            with(&["a"])
        );
        assert_eq!(
            docs_of(
                &searcher,
                FilterNode::And(vec![tag(field, "a"), tag(field, "b")])
            ),
            Vec::<DocId>::new()
        );
        assert_eq!(docs_of(&searcher, FilterNode::All), with(&["a", "b", "c"]));
        assert_eq!(docs_of(&searcher, FilterNode::Nothing), Vec::<DocId>::new());
        assert_eq!(
            docs_of(&searcher, FilterNode::And(Vec::new())),
            with(&["a", "b", "c"])
        );
        assert_eq!(
            docs_of(&searcher, FilterNode::any(Vec::new())),
            Vec::<DocId>::new()
        );
    }

    #[test]
    fn a_condition_holding_many_more_documents_is_asked_about_the_few_left() {
        let mut builder = Schema::builder();
        let field = builder.add_text_field("tag", STRING);
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for doc in 0..200u32 {
            let common = if doc % 50 == 0 { "other" } else { "common" };
            let mut document = doc!(field => common);
            if doc >= 90 {
                document.add_text(field, "late");
            }
            if doc % 47 == 3 {
                document.add_text(field, "rare");
            }
            writer.add_document(document).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        // "rare" is on 3, 50, 97, 144, 191; 50 is not "common".
        let both = FilterNode::And(vec![tag(field, "common"), tag(field, "rare")]);
        assert_eq!(docs_of(&searcher, both), vec![3, 97, 144, 191]);
        // A condition whose first document comes after the first ones left, and which
        // passes some of them: it is never sought backwards.
        let late = FilterNode::And(vec![tag(field, "late"), tag(field, "rare")]);
        assert_eq!(docs_of(&searcher, late), vec![97, 144, 191]);
        let rare_not_common = FilterNode::And(vec![
            tag(field, "rare"),
            FilterNode::any(vec![tag(field, "other"), tag(field, "none")]),
        ]);
        assert_eq!(docs_of(&searcher, rare_not_common), vec![50]);
    }

    #[test]
    fn deleted_documents_pass_no_filter() {
        let (searcher, field) = searcher_of(&["a", "b", "a", "c", "b"], "b");
        assert_eq!(docs_of(&searcher, tag(field, "b").negated()), vec![0, 2, 3]);
        assert_eq!(docs_of(&searcher, FilterNode::All), vec![0, 2, 3]);
        assert_eq!(docs_of(&searcher, tag(field, "b")), Vec::<DocId>::new());
    }

    #[test]
    fn clones_of_a_filter_share_the_set_of_a_segment() {
        let (searcher, field) = searcher_of(&["a", "b", "a"], "none");
        let query = FilterSetQuery::new(tag(field, "a"));
        let clone = query.clone();
        assert_eq!(searcher.search(&query, &Count).unwrap(), 2);
        let reader = searcher.segment_reader(0);
        let first = query
            .filter_weight(EnableScoring::disabled_from_searcher(&searcher))
            .unwrap()
            .read_set(reader)
            .unwrap();
        let second = clone
            .filter_weight(EnableScoring::disabled_from_searcher(&searcher))
            .unwrap()
            .read_set(reader)
            .unwrap();
        assert!(Arc::ptr_eq(&first, &second));
    }
}
