//! The documents holding a frequent term, kept as one bit per document across searches.
//!
//! The first stage reads every alternative of every query word to the end of its
//! postings. For a word in a large share of the documents (`the`, `data`, a common
//! initial in author names) decoding those postings, search after search, was a large part
//! of the stage; a bitset of the same documents is read a machine word at a time. Segments
//! never change once written, so a set stays true for as long as its segment exists:
//! the cache is keyed by segment and term, outlives commits, and forgets the sets of
//! segments no longer searched. Deleted documents are in the sets, as in the postings;
//! the collectors leave them out.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use rustc_hash::FxHashMap;
use tantivy::index::SegmentId;
use tantivy::postings::BlockSegmentPostings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, SegmentReader, Term};

use super::tuning::{MAX_TERM_SET_BYTES, MIN_DOCS_PER_TERM_SET_WORD};

/// One bit per document of a segment.
pub type Bits = Arc<[u64]>;

/// The sets of frequent terms, by segment and term, within a memory budget, the least
/// recently used forgotten first.
#[derive(Debug)]
pub struct TermSets {
    budget_bytes: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: FxHashMap<(SegmentId, Term), Entry>,
    num_bytes: usize,
    /// Ticks once per lookup that finds a set; orders the entries by last use.
    clock: u64,
}

#[derive(Debug)]
struct Entry {
    bits: Bits,
    last_used: u64,
}

impl Default for TermSets {
    fn default() -> Self {
        TermSets::with_budget(MAX_TERM_SET_BYTES)
    }
}

/// How the documents of a term in a segment are read.
pub enum TermDocs {
    /// As a set, for a frequent term.
    Set(Bits),
    /// From its postings, block by block, for the others.
    Postings(Box<BlockSegmentPostings>),
    /// No document of the segment holds it.
    Absent,
}

impl TermSets {
    /// Returns an empty cache holding at most `budget_bytes` of sets.
    pub fn with_budget(budget_bytes: usize) -> TermSets {
        TermSets {
            budget_bytes,
            inner: Mutex::default(),
        }
    }

    /// Returns how to read the documents of `reader`'s segment holding `term`: its set when
    /// the term is frequent enough for a set to be cheaper than its postings (read and
    /// kept now if it was not), else its postings.
    ///
    /// # Errors
    ///
    /// When the term dictionary or the postings cannot be read.
    pub fn docs(&self, reader: &SegmentReader, term: &Term) -> tantivy::Result<TermDocs> {
        // Most terms a search reads are typo and prefix terms absent from a segment or in
        // few of its documents: the dictionary tells so before the shared cache is locked.
        let inverted_index = reader.inverted_index(term.field())?;
        let Some(term_info) = inverted_index.get_term_info(term)? else {
            return Ok(TermDocs::Absent);
        };
        if !is_frequent(term_info.doc_freq, reader.max_doc()) {
            let postings = inverted_index
                .read_block_postings_from_terminfo(&term_info, IndexRecordOption::Basic)?;
            return Ok(TermDocs::Postings(Box::new(postings)));
        }
        let key = (reader.segment_id(), term.clone());
        if let Some(bits) = self.get(&key) {
            return Ok(TermDocs::Set(bits));
        }
        let mut postings = inverted_index
            .read_block_postings_from_terminfo(&term_info, IndexRecordOption::Basic)?;
        let mut bits = vec![0u64; reader.max_doc().div_ceil(64) as usize];
        loop {
            let docs = postings.docs();
            if docs.is_empty() {
                break;
            }
            for &doc in docs {
                bits[(doc / 64) as usize] |= 1u64 << (doc % 64);
            }
            postings.advance();
        }
        let bits: Bits = bits.into();
        self.insert(key, Arc::clone(&bits));
        Ok(TermDocs::Set(bits))
    }

    /// Forgets the sets of every segment not in `segments`.
    pub fn retain_segments(&self, segments: &HashSet<SegmentId>) {
        let mut inner = self.lock();
        let mut num_bytes = inner.num_bytes;
        inner.entries.retain(|(segment, _), entry| {
            let keep = segments.contains(segment);
            if !keep {
                num_bytes -= size_of_bits(&entry.bits);
            }
            keep
        });
        inner.num_bytes = num_bytes;
    }

    /// Returns the bytes of sets held.
    #[cfg(test)]
    pub(super) fn num_bytes(&self) -> usize {
        self.lock().num_bytes
    }

    fn get(&self, key: &(SegmentId, Term)) -> Option<Bits> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.entries.get_mut(key)?;
        entry.last_used = now;
        Some(Arc::clone(&entry.bits))
    }

    fn insert(&self, key: (SegmentId, Term), bits: Bits) {
        let size = size_of_bits(&bits);
        if size > self.budget_bytes {
            return;
        }
        let mut inner = self.lock();
        while inner.num_bytes + size > self.budget_bytes {
            // The budget holds a few thousand sets at most, and a search adds a few: a scan
            // for the least recently used costs less than keeping them ordered.
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            if let Some(entry) = inner.entries.remove(&oldest) {
                inner.num_bytes -= size_of_bits(&entry.bits);
            }
        }
        let last_used = inner.clock;
        if let Some(previous) = inner.entries.insert(key, Entry { bits, last_used }) {
            inner.num_bytes -= size_of_bits(&previous.bits);
        }
        inner.num_bytes += size;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether a term held by `doc_freq` of a segment's `max_doc` documents is read faster as
/// a set than from its postings.
fn is_frequent(doc_freq: u32, max_doc: DocId) -> bool {
    doc_freq > 0
        && u64::from(doc_freq) >= u64::from(max_doc.div_ceil(64)) * MIN_DOCS_PER_TERM_SET_WORD
}

fn size_of_bits(bits: &[u64]) -> usize {
    size_of_val(bits)
}

#[cfg(test)]
mod tests {
    //! Properties checked: a frequent term's set holds exactly its documents and is read
    //! once per segment; a rare term is read from its postings; the budget forgets the
    //! least recently used set; sets of segments no longer searched are forgotten.

    use super::*;
    use tantivy::schema::{Schema, STRING};
    use tantivy::{doc, Index, IndexWriter};

    /// Returns an index of one segment of `num_docs` documents: every one holds `every`,
    /// the even ones `even`, and document 7 `one`.
    fn index(num_docs: u32) -> (Index, tantivy::schema::Field) {
        let mut builder = Schema::builder();
        let field = builder.add_text_field("word", STRING);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for doc in 0..num_docs {
            let mut document = doc!(field => "every");
            if doc % 2 == 0 {
                document.add_text(field, "even");
            }
            if doc == 7 {
                document.add_text(field, "one");
            }
            writer.add_document(document).unwrap();
        }
        writer.commit().unwrap();
        (index, field)
    }

    fn docs_of(term_docs: TermDocs) -> Vec<DocId> {
        match term_docs {
            TermDocs::Set(bits) => (0..bits.len() as u32 * 64)
                .filter(|doc| bits[(doc / 64) as usize] & (1 << (doc % 64)) != 0)
                .collect(),
            TermDocs::Postings(mut postings) => {
                let mut docs = Vec::new();
                while !postings.docs().is_empty() {
                    docs.extend_from_slice(postings.docs());
                    postings.advance();
                }
                docs
            }
            TermDocs::Absent => Vec::new(),
        }
    }

    #[test]
    fn frequent_terms_are_kept_as_sets_of_exactly_their_documents() {
        let (index, field) = index(1_000);
        let searcher = index.reader().unwrap().searcher();
        let reader = searcher.segment_reader(0);
        let sets = TermSets::default();
        let even = Term::from_field_text(field, "even");
        let first = sets.docs(reader, &even).unwrap();
        assert!(matches!(first, TermDocs::Set(_)));
        let expected: Vec<DocId> = (0..1_000).step_by(2).collect();
        assert_eq!(docs_of(first), expected);
        let size = sets.num_bytes();
        assert_eq!(size, 1_000usize.div_ceil(64) * 8);
        // Read again: the same set, nothing added.
        assert_eq!(docs_of(sets.docs(reader, &even).unwrap()), expected);
        assert_eq!(sets.num_bytes(), size);

        let one = sets
            .docs(reader, &Term::from_field_text(field, "one"))
            .unwrap();
        assert!(matches!(one, TermDocs::Postings(_)));
        assert_eq!(docs_of(one), vec![7]);
        assert_eq!(sets.num_bytes(), size);
        let absent = sets
            .docs(reader, &Term::from_field_text(field, "none"))
            .unwrap();
        assert!(matches!(absent, TermDocs::Absent));
    }

    #[test]
    fn the_budget_forgets_the_least_recently_used_set() {
        let (index, field) = index(1_000);
        let searcher = index.reader().unwrap().searcher();
        let reader = searcher.segment_reader(0);
        let one_set = 1_000usize.div_ceil(64) * 8;
        let sets = TermSets::with_budget(one_set * 2);
        let every = Term::from_field_text(field, "every");
        let even = Term::from_field_text(field, "even");
        sets.docs(reader, &every).unwrap();
        sets.docs(reader, &even).unwrap();
        assert_eq!(sets.num_bytes(), one_set * 2);
        // `every` used last: a third set pushes `even` out.
        sets.docs(reader, &every).unwrap();
        let key = |term: &Term| (reader.segment_id(), term.clone());
        let other = Term::from_field_text(field, "other");
        sets.insert(key(&other), vec![0u64; one_set / 8].into());
        assert_eq!(sets.num_bytes(), one_set * 2);
        assert!(sets.get(&key(&every)).is_some());
        assert!(sets.get(&key(&even)).is_none());
        assert!(sets.get(&key(&other)).is_some());

        sets.retain_segments(&HashSet::new());
        assert_eq!(sets.num_bytes(), 0);
        assert!(sets.get(&key(&every)).is_none());
    }

    #[test]
    fn a_term_is_frequent_from_one_document_per_word_of_its_set() {
        let per_word = MIN_DOCS_PER_TERM_SET_WORD as u32;
        assert!(is_frequent(per_word * 10, 640));
        assert!(!is_frequent(per_word * 10 - 1, 640));
        assert!(!is_frequent(0, 0));
    }
}
