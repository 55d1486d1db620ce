//! The search view of a record: the values a search reads of every candidate it ranks
//! (the id, the searched texts and the sort values), kept in a fast field
//! ([`schema::SEARCH_VIEW`], a [`ViewColumn`]) rather than in the document store. A search
//! ranks up to a few thousand candidates and shows ten; read from the store, each
//! candidate decompressed a block holding its original JSON (most of a record's stored
//! bytes), which took a quarter of a search for a name. Hits shown and documents fetched
//! are read whole ([`read_document`]): the stored fields with the view's values added.
//!
//! The viewed fields ([`schema::search_view_fields`]) are indexed but not stored, so each
//! value is kept once. Layout: one entry per value, in the order the document holds them,
//! little endian:
//!
//! ```text
//! u16 field id, u8 kind (`s` text, `i` i64, `u` u64, `d` date),
//! then a text as u32 length and UTF-8, a number or a date (nanoseconds) as 8 bytes
//! ```

use tantivy::error::DataCorruption;
use tantivy::schema::{Field, Value};
use tantivy::{DateTime, DocAddress, Searcher, SegmentReader, TantivyDocument};

use super::schema;
use super::view_bytes::{push_str32, MalformedView, Reader, ViewColumn};
use super::IndexKind;

/// The view's name in errors.
const VIEW_NAME: &str = "search view";

const TEXT: u8 = b's';
const I64: u8 = b'i';
const U64: u8 = b'u';
const DATE: u8 = b'd';

/// Writes the view of `doc`, a document of `kind`'s index: the values of its viewed
/// fields. Values of other types than text, integers and dates are left out: no viewed
/// field has them.
pub fn encode(kind: IndexKind, doc: &TantivyDocument) -> Vec<u8> {
    let viewed = schema::search_view_fields(kind);
    let mut bytes = Vec::with_capacity(256);
    for (field, value) in doc.field_values() {
        if !viewed.contains(&field) {
            continue;
        }
        let Ok(field_id) = u16::try_from(field.field_id()) else {
            continue;
        };
        let header = |bytes: &mut Vec<u8>, tag: u8| {
            bytes.extend_from_slice(&field_id.to_le_bytes());
            bytes.push(tag);
        };
        if let Some(text) = value.as_str() {
            header(&mut bytes, TEXT);
            push_str32(&mut bytes, text);
        } else if let Some(number) = value.as_i64() {
            header(&mut bytes, I64);
            bytes.extend_from_slice(&number.to_le_bytes());
        } else if let Some(number) = value.as_u64() {
            header(&mut bytes, U64);
            bytes.extend_from_slice(&number.to_le_bytes());
        } else if let Some(date) = value.as_datetime() {
            header(&mut bytes, DATE);
            bytes.extend_from_slice(&date.into_timestamp_nanos().to_le_bytes());
        }
    }
    bytes
}

/// Adds the values of a view written by [`encode`] to `doc`.
///
/// # Errors
///
/// [`MalformedView`] when the bytes are not a view; `doc` then holds the values read
/// before the fault.
pub fn decode_into(bytes: &[u8], doc: &mut TantivyDocument) -> Result<(), MalformedView> {
    let mut reader = Reader::new(VIEW_NAME, bytes);
    while !reader.is_at_end() {
        let field = Field::from_field_id(u32::from(u16::from_le_bytes(reader.array::<2>()?)));
        match reader.byte()? {
            TEXT => doc.add_text(field, reader.str32()?),
            I64 => doc.add_i64(field, i64::from_le_bytes(reader.array::<8>()?)),
            U64 => doc.add_u64(field, u64::from_le_bytes(reader.array::<8>()?)),
            DATE => doc.add_date(
                field,
                DateTime::from_timestamp_nanos(i64::from_le_bytes(reader.array::<8>()?)),
            ),
            _ => return Err(reader.malformed_at(reader.offset() - 1)),
        }
    }
    Ok(())
}

/// Opens the view column of a segment of `kind`'s index; `None` when the index keeps no
/// view.
///
/// # Errors
///
/// A column that cannot be opened.
pub fn open_column(
    kind: IndexKind,
    segment: &SegmentReader,
) -> tantivy::Result<Option<ViewColumn>> {
    if schema::search_view_fields(kind).is_empty() {
        return Ok(None);
    }
    ViewColumn::open(segment, schema::SEARCH_VIEW, VIEW_NAME)
}

/// Adds the view of document `doc_id` of the column's segment to `doc`.
///
/// # Errors
///
/// A failed read, or a view that is missing or cannot be decoded.
pub fn add_view(
    column: &ViewColumn,
    doc_id: u32,
    doc: &mut TantivyDocument,
) -> tantivy::Result<()> {
    let mut view = Vec::new();
    if !column.read(doc_id, &mut view).map_err(corrupt)? {
        return Err(missing_view());
    }
    decode_into(&view, doc).map_err(corrupt)
}

/// Reads a whole document of `kind`'s index: its stored fields and its view's values.
///
/// # Errors
///
/// A failed read, or a view that is missing or cannot be decoded.
pub fn read_document(
    kind: IndexKind,
    searcher: &Searcher,
    address: DocAddress,
) -> tantivy::Result<TantivyDocument> {
    let mut doc: TantivyDocument = searcher.doc(address)?;
    if let Some(column) = open_column(kind, searcher.segment_reader(address.segment_ord))? {
        add_view(&column, address.doc_id, &mut doc)?;
    }
    Ok(doc)
}

/// Reads the views alone of the documents at `addresses`, in that order, each as a document
/// holding only the viewed values.
///
/// # Errors
///
/// A failed read, or a view that is missing or cannot be decoded.
pub fn read_views(
    kind: IndexKind,
    searcher: &Searcher,
    addresses: &[DocAddress],
) -> tantivy::Result<Vec<TantivyDocument>> {
    let mut docs = Vec::with_capacity(addresses.len());
    let mut columns: Vec<Option<Option<ViewColumn>>> = vec![None; searcher.segment_readers().len()];
    let mut view = Vec::new();
    for address in addresses {
        let column = match &mut columns[address.segment_ord as usize] {
            Some(column) => column,
            slot => slot.insert(open_column(
                kind,
                searcher.segment_reader(address.segment_ord),
            )?),
        };
        let column = column.as_ref().ok_or_else(missing_view)?;
        let mut doc = TantivyDocument::new();
        if !column.read(address.doc_id, &mut view).map_err(corrupt)? {
            return Err(missing_view());
        }
        decode_into(&view, &mut doc).map_err(corrupt)?;
        docs.push(doc);
    }
    Ok(docs)
}

fn missing_view() -> tantivy::TantivyError {
    tantivy::TantivyError::DataCorruption(DataCorruption::comment_only(
        "a document has no search view; rebuild the index",
    ))
}

fn corrupt(malformed: MalformedView) -> tantivy::TantivyError {
    tantivy::TantivyError::DataCorruption(DataCorruption::comment_only(malformed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records_doc() -> TantivyDocument {
        let fields = schema::records();
        let mut doc = TantivyDocument::new();
        doc.add_text(fields.id, "0190a1b2-0000-7000-8000-000000000001");
        doc.add_text(fields.title, "Über Wärme");
        doc.add_text(fields.authors, "J. Smith");
        doc.add_text(fields.authors, "Zoë Ng");
        doc.add_i64(fields.year, -12);
        doc.add_date(
            fields.fetched_at,
            DateTime::from_timestamp_nanos(1_733_000_000_123_456_000),
        );
        doc.add_text(fields.data, "{\"not\": \"viewed\"}");
        doc
    }

    #[test]
    fn views_read_back_the_viewed_values_in_order() {
        let doc = records_doc();
        let bytes = encode(IndexKind::Records, &doc);
        let mut read = TantivyDocument::new();
        decode_into(&bytes, &mut read).unwrap();
        let fields = schema::records();
        let expected: Vec<_> = doc
            .field_values()
            .filter(|(field, _)| *field != fields.data)
            .map(|(field, value)| (field, tantivy::schema::OwnedValue::from(value)))
            .collect();
        let found: Vec<_> = read
            .field_values()
            .map(|(field, value)| (field, tantivy::schema::OwnedValue::from(value)))
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn truncated_or_unknown_views_are_refused() {
        let bytes = encode(IndexKind::Records, &records_doc());
        let mut num_whole = 0;
        for len in 0..bytes.len() {
            if decode_into(&bytes[..len], &mut TantivyDocument::new()).is_ok() {
                num_whole += 1;
            }
        }
        // Cut between two values, a view is shorter but whole: the empty one and one per
        // value before the last.
        assert_eq!(num_whole, 6);
        let mut unknown = bytes;
        unknown[2] = b'x';
        let error = decode_into(&unknown, &mut TantivyDocument::new()).unwrap_err();
        assert_eq!(error.offset, 2);
        assert!(error
            .to_string()
            .contains("search view malformed at byte 2"));
    }
}
