//! The byte layout shared by the views kept in bytes fast fields
//! ([`super::candidate_view`], [`super::search_view`]): little-endian lengths and numbers,
//! strings as UTF-8, read back with the offset of the first byte that does not fit.

use std::collections::HashMap;
use std::fmt;

use tantivy::columnar::BytesColumn;
use tantivy::schema::Field;
use tantivy::TantivyDocument;

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

/// Longest value a bytes fast field keeps: longer ones are cut (tantivy keys its values
/// with a 16-bit length). A view longer than this, a record with a few thousand authors,
/// is kept as several values.
const MAX_VALUE_LEN: usize = u16::MAX as usize;

/// Most values one view is kept as: a view longer than about 16 MiB is cut, and reads
/// back as malformed.
const MAX_NUM_PARTS: usize = u8::MAX as usize + 1;

/// Adds `view` to `doc` as the values of the bytes fast field `field`: parts of at most
/// [`MAX_VALUE_LEN`] bytes, each starting with its number, as a document's values may come
/// back in any order.
pub(crate) fn add_view(doc: &mut TantivyDocument, field: Field, view: &[u8]) {
    let part_len = MAX_VALUE_LEN - 1;
    let mut part = Vec::with_capacity(view.len().min(part_len) + 1);
    for (number, payload) in view.chunks(part_len).take(MAX_NUM_PARTS).enumerate() {
        part.clear();
        part.push(number as u8);
        part.extend_from_slice(payload);
        doc.add_bytes(field, &part);
    }
    if view.is_empty() {
        doc.add_bytes(field, &[0]);
    }
}

/// Reads the view of each document `(position, doc_id)` of one segment from `column`, in
/// the order of the column's dictionary (one walk over its blocks rather than a lookup from
/// a block's start per document), and gives it to `each` with the document's position.
/// A document without a view is given nothing.
///
/// # Errors
///
/// A failed read, or the first error of `each`.
pub(crate) fn read_views<E: From<std::io::Error>>(
    column: &BytesColumn,
    docs: impl IntoIterator<Item = (usize, u32)>,
    mut each: impl FnMut(usize, &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut located: Vec<(u64, usize)> = Vec::new();
    let mut num_parts: HashMap<usize, usize> = HashMap::new();
    for (position, doc_id) in docs {
        let start = located.len();
        located.extend(column.term_ords(doc_id).map(|ord| (ord, position)));
        if located.len() - start > 1 {
            num_parts.insert(position, located.len() - start);
        }
    }
    located.sort_unstable();
    let mut parts: HashMap<usize, Vec<Vec<u8>>> = HashMap::new();
    let mut fault = None;
    let mut positions = located.iter().map(|&(_, position)| position);
    column
        .dictionary()
        .sorted_ords_to_term_cb(located.iter().map(|&(ord, _)| ord), |value| {
            let Some(position) = positions.next() else {
                return Ok(());
            };
            if fault.is_some() {
                return Ok(());
            }
            let result = match num_parts.get(&position) {
                None => each(position, value.get(1..).unwrap_or_default()),
                Some(&expected) => {
                    let gathered = parts.entry(position).or_default();
                    gathered.push(value.to_vec());
                    if gathered.len() < expected {
                        return Ok(());
                    }
                    let view = join(parts.remove(&position).unwrap_or_default());
                    each(position, &view)
                }
            };
            if let Err(error) = result {
                fault = Some(error);
            }
            Ok(())
        })
        .map_err(E::from)?;
    fault.map_or(Ok(()), Err)
}

/// Reads the view of one document from `column`, `None` when it has none.
///
/// # Errors
///
/// A failed read.
pub(crate) fn read_view(column: &BytesColumn, doc_id: u32) -> std::io::Result<Option<Vec<u8>>> {
    let mut parts = Vec::new();
    for ord in column.term_ords(doc_id) {
        let mut value = Vec::new();
        column.ord_to_bytes(ord, &mut value)?;
        parts.push(value);
    }
    Ok((!parts.is_empty()).then(|| join(parts)))
}

/// Joins the parts of a view, given in any order, each without its number.
fn join(mut parts: Vec<Vec<u8>>) -> Vec<u8> {
    parts.sort_unstable_by_key(|part| part.first().copied());
    let mut view = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in &parts {
        view.extend_from_slice(part.get(1..).unwrap_or_default());
    }
    view
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{Schema, FAST};
    use tantivy::{Index, IndexWriter};

    use super::*;

    #[test]
    fn views_longer_than_a_fast_value_read_back_whole() {
        let mut builder = Schema::builder();
        let field = builder.add_bytes_field("view", FAST);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        let long: Vec<u8> = (0..3 * MAX_VALUE_LEN + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        let views: [&[u8]; 4] = [b"short", &long, b"", b"other"];
        for view in views {
            let mut doc = TantivyDocument::new();
            add_view(&mut doc, field, view);
            writer.add_document(doc).unwrap();
        }
        writer.add_document(TantivyDocument::new()).unwrap();
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let segment = &searcher.segment_readers()[0];
        let column = segment.fast_fields().bytes("view").unwrap().unwrap();

        let mut read: Vec<Option<Vec<u8>>> = vec![None; 5];
        read_views::<std::io::Error>(
            &column,
            (0..5).map(|doc| (doc, doc as u32)),
            |position, view| {
                read[position] = Some(view.to_vec());
                Ok(())
            },
        )
        .unwrap();
        for (doc, view) in views.iter().enumerate() {
            assert_eq!(read[doc].as_deref(), Some(*view), "document {doc}, batch");
            assert_eq!(
                read_view(&column, doc as u32).unwrap().as_deref(),
                Some(*view)
            );
        }
        assert_eq!(read[4], None, "a document without a view");
        assert_eq!(read_view(&column, 4).unwrap(), None);
    }
}
