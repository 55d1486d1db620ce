//! What the views kept in fast fields ([`super::candidate_view`], [`super::search_view`])
//! share: their byte layout (little-endian lengths and numbers, strings as UTF-8, read back
//! with the offset of the first byte that does not fit) and their column of words
//! ([`ViewColumn`]).

use std::fmt;

use tantivy::columnar::Column;
use tantivy::schema::Field;
use tantivy::{SegmentReader, TantivyDocument};

/// A view that cannot be read: written by another version of the indexer, or damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedView {
    /// Which view.
    pub view: &'static str,
    /// Byte offset where reading failed.
    pub offset: usize,
}

impl fmt::Display for MalformedView {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} malformed at byte {}; rebuild the index",
            self.view, self.offset
        )
    }
}

impl std::error::Error for MalformedView {}

/// Appends `text` with its length as a `u32`; a text longer than 4 GiB is cut.
pub(crate) fn push_str32(bytes: &mut Vec<u8>, text: &str) {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    bytes.extend_from_slice(&len.to_le_bytes());
    bytes.extend_from_slice(&text.as_bytes()[..len as usize]);
}

/// Reads a view from its first byte.
pub(crate) struct Reader<'a> {
    view: &'static str,
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(view: &'static str, bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            view,
            bytes,
            offset: 0,
        }
    }

    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    pub(crate) fn is_at_end(&self) -> bool {
        self.offset >= self.bytes.len()
    }

    pub(crate) fn malformed(&self) -> MalformedView {
        self.malformed_at(self.offset)
    }

    pub(crate) fn malformed_at(&self, offset: usize) -> MalformedView {
        MalformedView {
            view: self.view,
            offset,
        }
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], MalformedView> {
        let end = self
            .offset
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.malformed())?;
        let slice = &self.bytes[self.offset..end];
        self.offset = end;
        Ok(slice)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, MalformedView> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], MalformedView> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    pub(crate) fn str(&mut self, len: usize) -> Result<&'a str, MalformedView> {
        let start = self.offset;
        let slice = self.take(len)?;
        std::str::from_utf8(slice).map_err(|_| self.malformed_at(start))
    }

    pub(crate) fn str32(&mut self) -> Result<&'a str, MalformedView> {
        let len = u32::from_le_bytes(self.array::<4>()?);
        self.str(len as usize)
    }
}

/// The views of one segment, kept in a multi-valued `u64` fast field: a view is written
/// as one byte counting the zero bytes padded at its end, its bytes, then the padding, read
/// as little-endian words. A bytes fast field would keep each view as a term of the
/// column's dictionary, found by decoding its block from the start (half a block, a few
/// dozen views, per view read); a word column reaches a document's words directly.
#[derive(Clone)]
pub struct ViewColumn {
    view: &'static str,
    words: Column<u64>,
}

impl fmt::Debug for ViewColumn {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ViewColumn")
            .field("view", &self.view)
            .field("num_docs", &self.words.num_docs())
            .finish()
    }
}

impl ViewColumn {
    /// Opens the view field `field_name` of `segment`, whose views are called `view` in
    /// errors; `None` when no document of the segment has a value in that field.
    ///
    /// # Errors
    ///
    /// A column that cannot be opened, or a field of another type.
    pub fn open(
        segment: &SegmentReader,
        field_name: &str,
        view: &'static str,
    ) -> tantivy::Result<Option<ViewColumn>> {
        let words = segment.fast_fields().column_opt::<u64>(field_name)?;
        Ok(words.map(|words| ViewColumn { view, words }))
    }

    /// Reads the view of document `doc_id` into `view` (cleared first); `false` when the
    /// document has none.
    ///
    /// # Errors
    ///
    /// [`MalformedView`] when the words are not a padded view.
    pub fn read(&self, doc_id: u32, view: &mut Vec<u8>) -> Result<bool, MalformedView> {
        view.clear();
        self.append(doc_id, view)
    }

    /// Appends the view of document `doc_id` to `out`; `false` when the document has
    /// none. On an error `out` may hold part of the view.
    ///
    /// # Errors
    ///
    /// [`MalformedView`] when the words are not a padded view.
    pub fn append(&self, doc_id: u32, out: &mut Vec<u8>) -> Result<bool, MalformedView> {
        let rows = self.words.index.value_row_ids(doc_id);
        if rows.is_empty() {
            return Ok(false);
        }
        let start = out.len();
        out.reserve((rows.end - rows.start) as usize * 8);
        let mut words = [0u64; 32];
        let mut row = u64::from(rows.start);
        let end = u64::from(rows.end);
        let mut num_padded = None;
        while row < end {
            let num_read = (end - row).min(words.len() as u64) as usize;
            self.words.values.get_range(row, &mut words[..num_read]);
            for word in &words[..num_read] {
                let bytes = word.to_le_bytes();
                // The first byte counts the padding; it is not part of the view.
                match num_padded {
                    None => {
                        num_padded = Some(usize::from(bytes[0]));
                        out.extend_from_slice(&bytes[1..]);
                    }
                    Some(_) => out.extend_from_slice(&bytes),
                }
            }
            row += num_read as u64;
        }
        let num_padded = num_padded.unwrap_or_default();
        if num_padded > 7 || out.len() - start < num_padded {
            return Err(MalformedView {
                view: self.view,
                offset: 0,
            });
        }
        out.truncate(out.len() - num_padded);
        Ok(true)
    }
}

/// Adds `view` to `doc` as the words of the view field `field` (see [`ViewColumn`]).
pub(crate) fn add_view(doc: &mut TantivyDocument, field: Field, view: &[u8]) {
    let num_padded = (8 - (1 + view.len()) % 8) % 8;
    let mut padded = Vec::with_capacity(1 + view.len() + num_padded);
    padded.push(num_padded as u8);
    padded.extend_from_slice(view);
    padded.resize(padded.len() + num_padded, 0);
    for word in padded.chunks_exact(8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        doc.add_u64(field, u64::from_le_bytes(bytes));
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{Schema, FAST};
    use tantivy::{Index, IndexWriter};

    use super::*;

    /// Views of every length modulo a word, a long one, and documents without a view,
    /// written over three commits and merged into one segment (in any order of segments:
    /// each document carries its number).
    #[test]
    fn views_read_back_whole_after_segments_merge() {
        let mut builder = Schema::builder();
        let field = builder.add_u64_field("view", FAST);
        let number_field = builder.add_u64_field("number", FAST);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        let mut views: Vec<Option<Vec<u8>>> = (0..20u8)
            .map(|len| {
                Some(
                    (0..len)
                        .map(|i| i.wrapping_mul(37).wrapping_add(len))
                        .collect(),
                )
            })
            .collect();
        views.push(Some((0..200_017).map(|i| (i % 251) as u8).collect()));
        views.push(None);
        views.push(Some(vec![0; 9]));
        views.push(Some(vec![255; 16]));
        for (number, view) in views.iter().enumerate() {
            let mut document = TantivyDocument::new();
            document.add_u64(number_field, number as u64);
            if let Some(view) = view {
                add_view(&mut document, field, view);
            }
            writer.add_document(document).unwrap();
            if number % 9 == 8 {
                writer.commit().unwrap();
            }
        }
        writer.commit().unwrap();
        let segments = index.searchable_segment_ids().unwrap();
        assert!(segments.len() > 1);
        writer.merge(&segments).wait().unwrap();
        writer.wait_merging_threads().unwrap();

        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 1);
        let segment = &searcher.segment_readers()[0];
        assert_eq!(segment.num_docs() as usize, views.len());
        let numbers = segment.fast_fields().u64("number").unwrap();
        let column = ViewColumn::open(segment, "view", "test view")
            .unwrap()
            .unwrap();
        let mut read = Vec::new();
        for doc in 0..segment.num_docs() {
            let number = numbers.first(doc).unwrap() as usize;
            let has_view = column.read(doc, &mut read).unwrap();
            assert_eq!(
                has_view.then_some(&read),
                views[number].as_ref(),
                "document {number}"
            );
        }
    }

    #[test]
    fn words_that_are_not_a_padded_view_are_malformed() {
        let mut builder = Schema::builder();
        let field = builder.add_u64_field("view", FAST);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        let mut document = TantivyDocument::new();
        document.add_u64(field, 9);
        writer.add_document(document).unwrap();
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let column = ViewColumn::open(&searcher.segment_readers()[0], "view", "test view")
            .unwrap()
            .unwrap();
        let error = column.read(0, &mut Vec::new()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "test view malformed at byte 0; rebuild the index"
        );
    }
}
