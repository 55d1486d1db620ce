//! The terms of an index's searchable fields across all its shards in one dictionary.
//!
//! A query word of five letters or more, and the last word as a prefix, is expanded by
//! walking term dictionaries with a Levenshtein automaton. Every segment of every shard
//! has a dictionary per field, so a word's walk was one walk per segment and field, each
//! visiting much the same terms. A vocabulary merges the dictionaries of some segments
//! into one, field by field counting the documents holding each term, so that a word is
//! walked once per analysis and vocabulary. An index keeps two: one of its large
//! segments, which are rarely merged, and one of the small segments a follower's commits
//! write and merge, rebuilt as they change. Both are built on a thread of their own
//! (except when an index opens); meanwhile a search uses those still describing
//! segments it searches, and walks the other segments one by one.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::schema::Field;
use tantivy::{Searcher, SegmentReader};
use tantivy_fst::{IntoStreamer, Map, MapBuilder, Streamer};

use super::catalog::{fields_by_analysis, IndexCatalog};
use super::tuning::MIN_VOCABULARY_SEGMENT_SHARE;
use super::typo::{accept_terms, WordAutomaton};
use crate::error::{ApiError, Result};

/// The terms of the searchable fields of some segments, one dictionary per analysis.
pub struct Vocabulary {
    /// The segments whose terms it holds.
    segments: HashSet<SegmentId>,
    groups: Vec<FieldGroup>,
}

/// The terms of the fields one analysis reads, with the documents holding each term in
/// each field.
struct FieldGroup {
    fields: Vec<Field>,
    /// Each term's ordinal, in term order.
    terms: Map<Vec<u8>>,
    /// Documents holding each term, `fields.len()` counts per ordinal, in `fields` order.
    doc_freqs: Vec<u32>,
}

impl std::fmt::Debug for Vocabulary {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Vocabulary")
            .field("segments", &self.segments.len())
            .field("terms", &self.num_terms())
            .finish()
    }
}

impl Vocabulary {
    /// Merges the term dictionaries of `searchers`' large segments (see [`large_segments`]),
    /// one dictionary per group of `field_groups`.
    ///
    /// # Errors
    ///
    /// An internal error when a term dictionary cannot be read.
    pub fn build(field_groups: &[Vec<Field>], searchers: &[Searcher]) -> Result<Vocabulary> {
        let segments: Vec<&SegmentReader> = large_segments(searchers).collect();
        Vocabulary::of_segments(field_groups, &segments)
    }

    /// Merges the term dictionaries of `segments`, one dictionary per group of
    /// `field_groups`.
    ///
    /// # Errors
    ///
    /// An internal error when a term dictionary cannot be read.
    pub fn of_segments(
        field_groups: &[Vec<Field>],
        segments: &[&SegmentReader],
    ) -> Result<Vocabulary> {
        let groups = field_groups
            .iter()
            .map(|fields| FieldGroup::merge(fields.clone(), segments))
            .collect::<Result<Vec<_>>>()?;
        Ok(Vocabulary {
            segments: segments.iter().map(|reader| reader.segment_id()).collect(),
            groups,
        })
    }

    /// Returns the terms it holds, counted once per dictionary holding them.
    pub fn num_terms(&self) -> usize {
        self.groups.iter().map(|group| group.terms.len()).sum()
    }

    /// Returns the memory its dictionaries and counts take.
    pub fn num_bytes(&self) -> usize {
        self.groups
            .iter()
            .map(|group| group.terms.as_fst().size() + size_of_val(&*group.doc_freqs))
            .sum()
    }

    /// Returns the segments of `searchers` it does not hold, or `None` when it holds one
    /// they no longer have (its counts would include documents gone).
    pub fn segments_left_out<'s>(
        &self,
        searchers: &'s [Searcher],
    ) -> Option<Vec<&'s SegmentReader>> {
        let mut num_held = 0;
        let mut left_out = Vec::new();
        for reader in searchers.iter().flat_map(Searcher::segment_readers) {
            if self.segments.contains(&reader.segment_id()) {
                num_held += 1;
            } else {
                left_out.push(reader);
            }
        }
        (num_held == self.segments.len()).then_some(left_out)
    }

    /// Whether it serves `searchers` as well as one built from them would: it holds no
    /// segment gone and every large segment.
    fn fits(&self, searchers: &[Searcher]) -> bool {
        self.segments_left_out(searchers).is_some()
            && large_segments(searchers).all(|reader| self.segments.contains(&reader.segment_id()))
    }

    /// Whether every segment it holds is one of `segments`.
    fn holds_only(&self, segments: &[&SegmentReader]) -> bool {
        let num_held = segments
            .iter()
            .filter(|reader| self.segments.contains(&reader.segment_id()))
            .count();
        num_held == self.segments.len()
    }

    /// Adds the terms of `fields` that `automaton` accepts, with the documents holding
    /// each summed over the fields, to `frequencies`, until it holds `max_terms`; `false`
    /// when no dictionary of it holds all of `fields`.
    fn accept_terms(
        &self,
        fields: &[Field],
        automaton: &WordAutomaton,
        frequencies: &mut HashMap<String, u64>,
        max_terms: usize,
    ) -> bool {
        let Some((group, positions)) = self.groups.iter().find_map(|group| {
            let positions: Option<Vec<usize>> = fields
                .iter()
                .map(|field| group.fields.iter().position(|held| held == field))
                .collect();
            positions.map(|positions| (group, positions))
        }) else {
            return false;
        };
        let num_fields = group.fields.len();
        let mut stream = group.terms.search(automaton).into_stream();
        while frequencies.len() < max_terms {
            let Some((key, ordinal)) = stream.next() else {
                break;
            };
            let counts = &group.doc_freqs[ordinal as usize * num_fields..][..num_fields];
            let num_docs: u64 = positions
                .iter()
                .map(|&position| u64::from(counts[position]))
                .sum();
            if num_docs == 0 {
                continue;
            }
            let Ok(term) = std::str::from_utf8(key) else {
                continue;
            };
            *frequencies.entry(term.to_owned()).or_default() += num_docs;
        }
        true
    }
}

impl FieldGroup {
    /// Merges the dictionaries of `fields` in `segments`, in term order.
    fn merge(fields: Vec<Field>, segments: &[&SegmentReader]) -> Result<FieldGroup> {
        let mut dictionaries = Vec::with_capacity(segments.len() * fields.len());
        for segment in segments {
            for (position, field) in fields.iter().enumerate() {
                let inverted_index = segment.inverted_index(*field).map_err(ApiError::internal)?;
                dictionaries.push((position, inverted_index));
            }
        }
        let mut streams = Vec::with_capacity(dictionaries.len());
        for (position, inverted_index) in &dictionaries {
            let mut stream = inverted_index
                .terms()
                .stream()
                .map_err(ApiError::internal)?;
            if stream.advance() {
                streams.push((*position, stream));
            }
        }
        let num_fields = fields.len();
        let mut builder = MapBuilder::memory();
        let mut doc_freqs: Vec<u32> = Vec::new();
        let mut term: Vec<u8> = Vec::new();
        while let Some(smallest) = streams.iter().map(|(_, stream)| stream.key()).min() {
            term.clear();
            term.extend_from_slice(smallest);
            let ordinal = doc_freqs.len() / num_fields;
            doc_freqs.resize(doc_freqs.len() + num_fields, 0);
            let counts = &mut doc_freqs[ordinal * num_fields..];
            streams.retain_mut(|(position, stream)| {
                if stream.key() != term.as_slice() {
                    return true;
                }
                counts[*position] = counts[*position].saturating_add(stream.value().doc_freq);
                stream.advance()
            });
            builder
                .insert(&term, ordinal as u64)
                .map_err(ApiError::internal)?;
        }
        let bytes = builder.into_inner().map_err(ApiError::internal)?;
        Ok(FieldGroup {
            fields,
            terms: Map::from_bytes(bytes).map_err(ApiError::internal)?,
            doc_freqs,
        })
    }
}

/// Returns the fields of `catalog`'s searchable attributes grouped by analysis, keywords
/// left out (they are never expanded): the dictionaries a vocabulary of the index merges.
pub fn field_groups(catalog: &IndexCatalog) -> Vec<Vec<Field>> {
    fields_by_analysis(catalog.searchable)
        .into_iter()
        .map(|(_, names)| names.iter().map(|name| catalog.field(name)).collect())
        .collect()
}

/// Returns the segments of `searchers` large enough among their shard's for the
/// vocabulary to hold them: small segments come and go as a follower commits and merges
/// them.
fn large_segments(searchers: &[Searcher]) -> impl Iterator<Item = &SegmentReader> {
    searchers.iter().flat_map(|searcher| {
        let readers = searcher.segment_readers();
        let num_shard_docs: u64 = readers
            .iter()
            .map(|reader| u64::from(reader.max_doc()))
            .sum();
        readers.iter().filter(move |reader| {
            u64::from(reader.max_doc()) * MIN_VOCABULARY_SEGMENT_SHARE >= num_shard_docs
        })
    })
}

/// Returns the terms of `fields` in every shard of `searchers` that `automaton` accepts,
/// with the documents holding each summed over fields and shards; the first `max_terms`
/// found when there are more. The terms of the segments a vocabulary of `vocabularies`
/// holds are read from it, in turn, when every segment it holds is still searched and
/// none was read through an earlier one; those of the other segments from their own
/// dictionaries.
///
/// # Errors
///
/// An internal error when a term dictionary cannot be read.
pub fn terms_accepted(
    vocabularies: &[&Vocabulary],
    searchers: &[Searcher],
    fields: &[Field],
    automaton: &WordAutomaton,
    max_terms: usize,
) -> Result<HashMap<String, u64>> {
    let mut frequencies = HashMap::new();
    let mut segments: Vec<&SegmentReader> = searchers
        .iter()
        .flat_map(Searcher::segment_readers)
        .collect();
    for vocabulary in vocabularies {
        if vocabulary.holds_only(&segments)
            && vocabulary.accept_terms(fields, automaton, &mut frequencies, max_terms)
        {
            segments.retain(|reader| !vocabulary.segments.contains(&reader.segment_id()));
        }
    }
    accept_terms(
        segments.into_iter(),
        fields,
        automaton,
        &mut frequencies,
        max_terms,
    )?;
    Ok(frequencies)
}

/// The vocabularies of one index's segments: of its large ones, and of the others.
#[derive(Debug, Clone, Default)]
pub struct Vocabularies {
    pub large: Option<Arc<Vocabulary>>,
    /// Of the segments `large` leaves out, when there are some.
    pub small: Option<Arc<Vocabulary>>,
}

impl Vocabularies {
    /// Returns the vocabularies built, the large segments' first.
    pub fn held(&self) -> Vec<&Vocabulary> {
        self.large
            .iter()
            .chain(&self.small)
            .map(Arc::as_ref)
            .collect()
    }

    /// Whether they serve `searchers` as well as vocabularies built from them would.
    fn fit(&self, searchers: &[Searcher]) -> bool {
        let Some(large) = self.large.as_deref().filter(|large| large.fits(searchers)) else {
            return false;
        };
        let left_out = large.segments_left_out(searchers).unwrap_or_default();
        self.small_fits(&left_out)
    }

    /// Whether the small segments' vocabulary holds exactly `left_out`, the segments the
    /// large one leaves out (none when there are none).
    fn small_fits(&self, left_out: &[&SegmentReader]) -> bool {
        match &self.small {
            None => left_out.is_empty(),
            Some(small) => small.segments.len() == left_out.len() && small.holds_only(left_out),
        }
    }
}

/// Fields grouped by analysis and the searchers whose segments' terms they are merged from.
type Wanted = (Vec<Vec<Field>>, Vec<Searcher>);

/// The vocabularies of one index, kept across loads and built again, on a thread of their
/// own, when the searchers outgrow them.
#[derive(Debug, Default)]
pub struct VocabularySlot {
    current: Mutex<Vocabularies>,
    /// The searchers of the latest load the vocabularies do not fit yet, with the fields
    /// to merge, left for the thread building them.
    wanted: Mutex<Option<Wanted>>,
    is_building: AtomicBool,
}

impl VocabularySlot {
    /// Returns the vocabularies last built; they may no longer fit the searchers, which
    /// [`terms_accepted`] checks.
    pub fn get(&self) -> Vocabularies {
        self.lock().clone()
    }

    /// Builds the vocabularies of `searchers` unless the current ones fit them: now when
    /// `wait` (an index opened, which serves no search yet), otherwise on a thread of its
    /// own while searches go on with the ones they have. A thread already building takes
    /// the latest searchers it is given once it is done.
    pub fn refresh(
        self: &Arc<Self>,
        index: &'static str,
        field_groups: Vec<Vec<Field>>,
        searchers: &[Searcher],
        wait: bool,
    ) {
        if self.get().fit(searchers) {
            return;
        }
        *lock(&self.wanted) = Some((field_groups, searchers.to_vec()));
        if self.is_building.swap(true, Ordering::AcqRel) {
            return;
        }
        if wait {
            self.build_wanted(index);
            return;
        }
        let slot = Arc::clone(self);
        if let Err(error) = std::thread::Builder::new()
            .name("vocabulary".to_owned())
            .spawn(move || slot.build_wanted(index))
        {
            self.is_building.store(false, Ordering::Release);
            tracing::warn!(index, %error, "cannot start merging the term dictionaries");
        }
    }

    /// Builds the vocabularies of the searchers wanted until none are left; called by the
    /// one caller that set `is_building`.
    fn build_wanted(&self, index: &'static str) {
        loop {
            while let Some((field_groups, searchers)) = lock(&self.wanted).take() {
                if let Err(error) = self.build(index, &field_groups, &searchers) {
                    tracing::warn!(
                        index,
                        %error,
                        "cannot merge the term dictionaries; words are looked up segment by segment"
                    );
                }
            }
            self.is_building.store(false, Ordering::Release);
            // Searchers wanted after the last look and before the flag was cleared would
            // otherwise wait for the next load.
            if lock(&self.wanted).is_none() || self.is_building.swap(true, Ordering::AcqRel) {
                return;
            }
        }
    }

    fn build(
        &self,
        index: &'static str,
        field_groups: &[Vec<Field>],
        searchers: &[Searcher],
    ) -> Result<()> {
        let mut vocabularies = self.get();
        if !vocabularies
            .large
            .as_ref()
            .is_some_and(|large| large.fits(searchers))
        {
            let started = std::time::Instant::now();
            let large = Vocabulary::build(field_groups, searchers)?;
            tracing::info!(
                index,
                segments = large.segments.len(),
                terms = large.num_terms(),
                bytes = large.num_bytes(),
                millis = started.elapsed().as_millis(),
                "term dictionaries merged"
            );
            vocabularies = Vocabularies {
                large: Some(Arc::new(large)),
                small: None,
            };
            *self.lock() = vocabularies.clone();
        }
        let Some(left_out) = vocabularies
            .large
            .as_ref()
            .and_then(|large| large.segments_left_out(searchers))
        else {
            return Ok(());
        };
        if !vocabularies.small_fits(&left_out) {
            let started = std::time::Instant::now();
            let small = match left_out.is_empty() {
                true => None,
                false => Some(Arc::new(Vocabulary::of_segments(field_groups, &left_out)?)),
            };
            tracing::debug!(
                index,
                segments = left_out.len(),
                terms = small.as_ref().map_or(0, |small| small.num_terms()),
                millis = started.elapsed().as_millis(),
                "small segments' term dictionaries merged"
            );
            self.lock().small = small;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vocabularies> {
        lock(&self.current)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    //! Properties checked: the terms a word reaches, and the documents counted for each,
    //! are the same through the vocabularies as through every segment's own dictionaries,
    //! for any field subset, typo budget and prefix, with segments written since they were
    //! built; one holding a segment merged away, or one already read, is not used; a
    //! reload builds those that no longer fit again, at once or on a thread of its own,
    //! and keeps those that fit; small segments are left out of the large segments' one.

    use super::*;
    use proptest::prelude::*;
    use tantivy::indexer::NoMergePolicy;
    use tantivy::schema::{Schema, STRING};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    const LETTERS: &[u8] = b"abcde";

    /// A shard with fields `a`, `b` (one group) and `c` (another), written in batches of
    /// documents, one segment per batch; each document holds one or two words per field
    /// drawn from `words`.
    struct Shard {
        index: Index,
        writer: IndexWriter,
        fields: [Field; 3],
    }

    impl Shard {
        fn new() -> Shard {
            let mut builder = Schema::builder();
            let fields = ["a", "b", "c"].map(|name| builder.add_text_field(name, STRING));
            let index = Index::create_in_ram(builder.build());
            let writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
            writer.set_merge_policy(Box::new(NoMergePolicy));
            Shard {
                index,
                writer,
                fields,
            }
        }

        fn write(&mut self, documents: &[[Vec<String>; 3]]) {
            for document in documents {
                let mut doc = TantivyDocument::default();
                for (field, words) in self.fields.iter().zip(document) {
                    for word in words {
                        doc.add_text(*field, word);
                    }
                }
                self.writer.add_document(doc).unwrap();
            }
            self.writer.commit().unwrap();
        }

        fn searcher(&self) -> Searcher {
            self.index.reader().unwrap().searcher()
        }
    }

    fn word() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(LETTERS), 1..7)
            .prop_map(|letters| String::from_utf8(letters).unwrap())
    }

    fn document() -> impl Strategy<Value = [Vec<String>; 3]> {
        let words = || proptest::collection::vec(word(), 0..3);
        (words(), words(), words()).prop_map(|(a, b, c)| [a, b, c])
    }

    fn batch(max_len: usize) -> impl Strategy<Value = Vec<[Vec<String>; 3]>> {
        proptest::collection::vec(document(), 1..max_len)
    }

    fn groups(shard: &Shard) -> Vec<Vec<Field>> {
        let [a, b, c] = shard.fields;
        vec![vec![a, b], vec![c]]
    }

    fn field_subsets(shard: &Shard) -> Vec<Vec<Field>> {
        let [a, b, c] = shard.fields;
        vec![vec![a], vec![b], vec![a, b], vec![b, a], vec![c]]
    }

    /// Every word of every field subset reaches the same terms, with the same counts,
    /// through `vocabularies` as without them.
    fn assert_same_terms(
        vocabularies: &[&Vocabulary],
        searchers: &[Searcher],
        subsets: &[Vec<Field>],
        words: &[String],
    ) -> std::result::Result<(), TestCaseError> {
        for word in words {
            for (max_typos, as_prefix, first_letter_costs_more) in [
                (0, true, false),
                (1, false, true),
                (1, true, false),
                (2, false, false),
            ] {
                let automaton =
                    WordAutomaton::new(word, max_typos, as_prefix, first_letter_costs_more);
                for fields in subsets {
                    let merged =
                        terms_accepted(vocabularies, searchers, fields, &automaton, usize::MAX)
                            .unwrap();
                    let separate =
                        terms_accepted(&[], searchers, fields, &automaton, usize::MAX).unwrap();
                    prop_assert_eq!(merged, separate, "word {:?}, fields {:?}", word, fields);
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn words_reach_the_same_terms_through_the_vocabulary_as_through_each_segment(
            first in proptest::collection::vec(batch(60), 1..3),
            second in proptest::collection::vec(batch(60), 1..3),
            later in batch(8),
            words in proptest::collection::vec(word(), 1..6),
        ) {
            let mut shards = [Shard::new(), Shard::new()];
            for (shard, batches) in shards.iter_mut().zip([&first, &second]) {
                for documents in batches {
                    shard.write(documents);
                }
            }
            let searchers: Vec<Searcher> = shards.iter().map(Shard::searcher).collect();
            let vocabulary = Vocabulary::build(&groups(&shards[0]), &searchers).unwrap();
            let subsets = field_subsets(&shards[0]);
            let left_out = vocabulary.segments_left_out(&searchers).unwrap();
            let large: HashSet<SegmentId> =
                large_segments(&searchers).map(SegmentReader::segment_id).collect();
            let all_small = searchers.iter().flat_map(Searcher::segment_readers).all(|reader| {
                let is_left_out = left_out
                    .iter()
                    .any(|other| other.segment_id() == reader.segment_id());
                is_left_out != large.contains(&reader.segment_id())
            });
            prop_assert!(all_small, "the vocabulary holds exactly the large segments");
            assert_same_terms(&[&vocabulary], &searchers, &subsets, &words)?;

            // A segment written since: read from its own dictionary.
            shards[1].write(&later);
            let searchers: Vec<Searcher> = shards.iter().map(Shard::searcher).collect();
            let left_out = vocabulary.segments_left_out(&searchers).unwrap();
            assert_same_terms(&[&vocabulary], &searchers, &subsets, &words)?;

            // The segments left out merged into a vocabulary of their own.
            let small = Vocabulary::of_segments(&groups(&shards[0]), &left_out).unwrap();
            assert_same_terms(&[&vocabulary, &small], &searchers, &subsets, &words)?;
            assert_same_terms(&[&small, &vocabulary], &searchers, &subsets, &words)?;
        }
    }

    #[test]
    fn a_vocabulary_holding_a_segment_merged_away_is_not_used_and_is_built_again() {
        let mut shard = Shard::new();
        let words =
            |first: &str, second: &str| [vec![first.to_owned()], vec![second.to_owned()], vec![]];
        shard.write(&[words("abcde", "abcdd"), words("abcdd", "bbbbb")]);
        shard.write(&[words("abcde", "edcba")]);
        let searchers = vec![shard.searcher()];
        let slot = Arc::new(VocabularySlot::default());
        slot.refresh("test", groups(&shard), &searchers, true);
        let vocabulary = slot.get().large.unwrap();
        assert_eq!(vocabulary.segments.len(), 2);
        assert!(vocabulary.fits(&searchers));

        let segment_ids = shard.index.searchable_segment_ids().unwrap();
        shard.writer.merge(&segment_ids).wait().unwrap();
        shard.writer.commit().unwrap();
        let searchers = vec![shard.searcher()];
        assert_eq!(searchers[0].segment_readers().len(), 1);
        assert!(vocabulary.segments_left_out(&searchers).is_none());
        assert!(!vocabulary.fits(&searchers));
        let [a, b, _] = shard.fields;
        let automaton = WordAutomaton::new("abcde", 1, false, false);
        let expected: HashMap<String, u64> =
            [("abcde".to_owned(), 2), ("abcdd".to_owned(), 2)].into();
        assert_eq!(
            terms_accepted(&[&vocabulary], &searchers, &[a, b], &automaton, usize::MAX).unwrap(),
            expected
        );

        slot.refresh("test", groups(&shard), &searchers, true);
        let rebuilt = slot.get().large.unwrap();
        assert!(rebuilt.fits(&searchers));
        assert_eq!(rebuilt.segments_left_out(&searchers).unwrap().len(), 0);
        assert_eq!(
            terms_accepted(&[&rebuilt], &searchers, &[a, b], &automaton, usize::MAX).unwrap(),
            expected
        );
    }

    #[test]
    fn a_reload_builds_the_vocabulary_again_on_a_thread_of_its_own() {
        let mut shard = Shard::new();
        let document = [vec!["abcde".to_owned()], vec![], vec![]];
        shard.write(std::slice::from_ref(&document));
        let slot = Arc::new(VocabularySlot::default());
        slot.refresh("test", groups(&shard), &[shard.searcher()], true);
        let first = slot.get().large.unwrap();

        // A segment as large as the first: the vocabulary no longer holds every large one.
        shard.write(std::slice::from_ref(&document));
        let searchers = vec![shard.searcher()];
        assert!(!first.fits(&searchers));
        slot.refresh("test", groups(&shard), &searchers, false);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !slot.get().large.unwrap().fits(&searchers) {
            assert!(std::time::Instant::now() < deadline, "no vocabulary built");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let [a, ..] = shard.fields;
        let automaton = WordAutomaton::new("abcde", 0, false, false);
        let rebuilt = slot.get().large.unwrap();
        assert_eq!(rebuilt.segments_left_out(&searchers).unwrap().len(), 0);
        assert_eq!(
            terms_accepted(&[&rebuilt], &searchers, &[a], &automaton, usize::MAX).unwrap(),
            [("abcde".to_owned(), 2)].into()
        );
        // Nothing left to build: a refresh keeps the same vocabulary.
        slot.refresh("test", groups(&shard), &searchers, false);
        assert!(Arc::ptr_eq(&rebuilt, &slot.get().large.unwrap()));
    }

    /// Returns a shard of a segment of 100 documents holding `abcde` in field `a` and one
    /// of 5.
    fn one_large_one_small_segment() -> Shard {
        let mut shard = Shard::new();
        let document = [vec!["abcde".to_owned()], vec![], vec![]];
        shard.write(&vec![document.clone(); 100]);
        shard.write(&vec![document; 5]);
        shard
    }

    #[test]
    fn small_segments_are_left_to_their_own_dictionaries() {
        let shard = one_large_one_small_segment();
        let searchers = vec![shard.searcher()];
        let vocabulary = Vocabulary::build(&groups(&shard), &searchers).unwrap();
        assert_eq!(vocabulary.segments.len(), 1);
        let left_out = vocabulary.segments_left_out(&searchers).unwrap();
        assert_eq!(left_out.len(), 1);
        assert_eq!(left_out[0].max_doc(), 5);
        assert!(vocabulary.fits(&searchers));
        let [a, ..] = shard.fields;
        let automaton = WordAutomaton::new("abcde", 0, false, false);
        let found =
            terms_accepted(&[&vocabulary], &searchers, &[a], &automaton, usize::MAX).unwrap();
        assert_eq!(found, [("abcde".to_owned(), 105)].into());
    }

    /// Waits for `slot`'s vocabularies to fit `searchers`, built on their own thread.
    fn wait_for_fit(slot: &VocabularySlot, searchers: &[Searcher]) -> Vocabularies {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let vocabularies = slot.get();
            if vocabularies.fit(searchers) {
                return vocabularies;
            }
            assert!(std::time::Instant::now() < deadline, "no vocabulary built");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn a_reload_merges_the_small_segments_again_and_keeps_the_large_ones() {
        let mut shard = Shard::new();
        let document = |word: &str| [vec![word.to_owned()], vec![], vec![word.to_owned()]];
        shard.write(&vec![document("abcde"); 100]);
        let slot = Arc::new(VocabularySlot::default());
        slot.refresh("test", groups(&shard), &[shard.searcher()], true);
        let first = slot.get();
        assert!(first.small.is_none());
        let large = first.large.unwrap();

        let [a, _, c] = shard.fields;
        let automaton = WordAutomaton::new("abcde", 1, false, false);
        for (num_small, word) in [(1, "abcdf"), (2, "abcdd")] {
            shard.write(&vec![document(word); 3]);
            let searchers = vec![shard.searcher()];
            slot.refresh("test", groups(&shard), &searchers, false);
            let vocabularies = wait_for_fit(&slot, &searchers);
            assert!(Arc::ptr_eq(&large, vocabularies.large.as_ref().unwrap()));
            let small = vocabularies.small.as_ref().unwrap();
            assert_eq!(small.segments.len(), num_small);
            for fields in [vec![a], vec![c]] {
                assert_eq!(
                    terms_accepted(&vocabularies.held(), &searchers, &fields, &automaton, 9)
                        .unwrap(),
                    terms_accepted(&[], &searchers, &fields, &automaton, 9).unwrap()
                );
            }
        }
        let vocabularies = slot.get();
        let found = terms_accepted(
            &vocabularies.held(),
            &[shard.searcher()],
            &[a],
            &automaton,
            usize::MAX,
        )
        .unwrap();
        let expected: HashMap<String, u64> = [
            ("abcde".to_owned(), 100),
            ("abcdf".to_owned(), 3),
            ("abcdd".to_owned(), 3),
        ]
        .into();
        assert_eq!(found, expected);

        // The small segments merged into one: that vocabulary is unused until built again.
        let small_ids: Vec<SegmentId> = shard
            .searcher()
            .segment_readers()
            .iter()
            .filter(|reader| reader.max_doc() == 3)
            .map(SegmentReader::segment_id)
            .collect();
        shard.writer.merge(&small_ids).wait().unwrap();
        shard.writer.commit().unwrap();
        let searchers = vec![shard.searcher()];
        assert!(!vocabularies.fit(&searchers));
        let found = terms_accepted(
            &vocabularies.held(),
            &searchers,
            &[a],
            &automaton,
            usize::MAX,
        )
        .unwrap();
        assert_eq!(found, expected);
        slot.refresh("test", groups(&shard), &searchers, false);
        let rebuilt = wait_for_fit(&slot, &searchers);
        assert_eq!(rebuilt.small.as_ref().unwrap().segments.len(), 1);
        assert!(Arc::ptr_eq(&large, rebuilt.large.as_ref().unwrap()));
    }

    #[test]
    fn a_vocabulary_holding_segments_already_read_is_not_used() {
        let shard = one_large_one_small_segment();
        let searchers = vec![shard.searcher()];
        let large = Vocabulary::build(&groups(&shard), &searchers).unwrap();
        let readers: Vec<&SegmentReader> = searchers[0].segment_readers().iter().collect();
        let all = Vocabulary::of_segments(&groups(&shard), &readers).unwrap();
        let [a, ..] = shard.fields;
        let automaton = WordAutomaton::new("abcde", 0, false, false);
        let expected: HashMap<String, u64> = [("abcde".to_owned(), 105)].into();
        for vocabularies in [vec![&large, &all], vec![&all, &large], vec![&all, &all]] {
            let found =
                terms_accepted(&vocabularies, &searchers, &[a], &automaton, usize::MAX).unwrap();
            assert_eq!(found, expected);
        }
    }
}
