//! The candidate view of a record: what candidate retrieval reads of each record it finds
//! by name, kept in a fast field ([`schema::CANDIDATE_VIEW`](super::schema::CANDIDATE_VIEW))
//! so that it needs neither the stored document (the original JSON makes it a few
//! kilobytes to decompress) nor a parse of every co-author.
//!
//! The view holds the record's id and each distinct author string, as written or as a
//! variant, with its surname keys as the indexer computed them: those of the name as
//! parsed, then those only its second surname reading has. Layout, lengths little endian:
//!
//! ```text
//! u32 id length, id
//! then for each author: u8 kind (0 author, 1 variant), u32 name length, name,
//!                       u8 number of keys, then each key: u16 length, key,
//!                       u8 number of keys of the second reading, then each as above
//! ```

use tantivy::SegmentReader;

use super::schema;
pub use super::view_bytes::MalformedView;
pub use super::view_bytes::ViewColumn;
use super::view_bytes::{push_str32, Reader};

/// The view's name in errors.
const VIEW_NAME: &str = "candidate view";

/// Whether an author string of the view is one of the record's authors or a variant of
/// their names given by the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorKind {
    /// An author as the record lists it ([`schema::AUTHORS`](super::schema::AUTHORS)).
    Author,
    /// Another form of an author's name
    /// ([`schema::AUTHOR_NAME_VARIANTS`](super::schema::AUTHOR_NAME_VARIANTS)).
    Variant,
}

/// One author string of a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewAuthor<'a> {
    /// Author or variant.
    pub kind: AuthorKind,
    /// The author string as the record writes it.
    pub name: &'a str,
    /// Its surname keys (`PersonName::surname_keys`).
    pub surname_keys: Vec<&'a str>,
    /// The surname keys only its second surname reading has
    /// (`PersonName::second_surname_reading`).
    pub read_surname_keys: Vec<&'a str>,
}

/// A decoded candidate view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateView<'a> {
    /// The record version's id.
    pub id: &'a str,
    /// Its distinct author strings, authors first, in order.
    pub authors: Vec<ViewAuthor<'a>>,
}

/// One author of a view to write: kind, name, its surname keys, and those only its second
/// surname reading has.
pub type AuthorToWrite<'a> = (AuthorKind, &'a str, &'a [String], &'a [String]);

/// Writes the view of a record: its `id` and its authors with their surname keys.
pub fn encode<'a>(id: &str, authors: impl IntoIterator<Item = AuthorToWrite<'a>>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64);
    push_str32(&mut bytes, id);
    for (kind, name, keys, read_keys) in authors {
        bytes.push(match kind {
            AuthorKind::Author => 0,
            AuthorKind::Variant => 1,
        });
        push_str32(&mut bytes, name);
        push_keys(&mut bytes, keys);
        push_keys(&mut bytes, read_keys);
    }
    bytes
}

/// Writes a count and the keys, at most 255 of at most 65,535 bytes.
fn push_keys(bytes: &mut Vec<u8>, keys: &[String]) {
    let keys: Vec<&String> = keys
        .iter()
        .filter(|key| key.len() <= usize::from(u16::MAX))
        .take(usize::from(u8::MAX))
        .collect();
    bytes.push(keys.len() as u8);
    for key in keys {
        bytes.extend_from_slice(&(key.len() as u16).to_le_bytes());
        bytes.extend_from_slice(key.as_bytes());
    }
}

/// Reads a count and the keys written by [`push_keys`] into `keys`, as bytes: most
/// authors are skipped on their keys, so a key is checked to be UTF-8 only when its
/// author is kept ([`keys_as_str`]).
fn read_keys<'a>(reader: &mut Reader<'a>, keys: &mut Vec<&'a [u8]>) -> Result<(), MalformedView> {
    keys.clear();
    let num_keys = reader.byte()?;
    for _ in 0..num_keys {
        let len = u16::from_le_bytes(reader.array::<2>()?);
        keys.push(reader.take(usize::from(len))?);
    }
    Ok(())
}

/// Returns the keys read by [`read_keys`] as text; `start` is where they were read, for
/// the error.
fn keys_as_str<'a>(
    reader: &Reader<'a>,
    keys: &[&'a [u8]],
    start: usize,
) -> Result<Vec<&'a str>, MalformedView> {
    keys.iter()
        .map(|key| std::str::from_utf8(key).map_err(|_| reader.malformed_at(start)))
        .collect()
}

/// Opens the candidate-view column of a segment of the records index; `None` when no
/// document of the segment has a view.
///
/// # Errors
///
/// A column that cannot be opened.
pub fn open_column(segment: &SegmentReader) -> tantivy::Result<Option<ViewColumn>> {
    ViewColumn::open(segment, schema::CANDIDATE_VIEW, VIEW_NAME)
}

/// Reads a view written by [`encode`].
///
/// # Errors
///
/// [`MalformedView`] when the bytes are not a view.
pub fn decode(bytes: &[u8]) -> Result<CandidateView<'_>, MalformedView> {
    decode_authors_where(bytes, |_, _| true)
}

/// Reads a view written by [`encode`], keeping only the authors whose surname keys `keep`
/// accepts (given the keys and those of the second reading, as bytes): a record of a
/// thousand authors is read without building the author strings a search does not
/// compare. The skipped authors' names and keys are not checked to be UTF-8.
///
/// # Errors
///
/// [`MalformedView`] when the bytes are not a view.
pub fn decode_authors_where<'a>(
    bytes: &'a [u8],
    mut keep: impl FnMut(&[&'a [u8]], &[&'a [u8]]) -> bool,
) -> Result<CandidateView<'a>, MalformedView> {
    let mut reader = Reader::new(VIEW_NAME, bytes);
    let id = reader.str32()?;
    let mut authors = Vec::new();
    let mut surname_keys = Vec::new();
    let mut read_surname_keys = Vec::new();
    while !reader.is_at_end() {
        let kind = match reader.byte()? {
            0 => AuthorKind::Author,
            1 => AuthorKind::Variant,
            _ => return Err(reader.malformed()),
        };
        let name_start = reader.offset();
        let name_len = u32::from_le_bytes(reader.array::<4>()?);
        let name = reader.take(name_len as usize)?;
        let keys_start = reader.offset();
        read_keys(&mut reader, &mut surname_keys)?;
        read_keys(&mut reader, &mut read_surname_keys)?;
        if !keep(&surname_keys, &read_surname_keys) {
            continue;
        }
        let name = std::str::from_utf8(name).map_err(|_| reader.malformed_at(name_start + 4))?;
        authors.push(ViewAuthor {
            kind,
            name,
            surname_keys: keys_as_str(&reader, &surname_keys, keys_start)?,
            read_surname_keys: keys_as_str(&reader, &read_surname_keys, keys_start)?,
        });
    }
    Ok(CandidateView { id, authors })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_read_back_as_written() {
        let smith = vec!["smith".to_owned()];
        let muller = vec!["muller".to_owned(), "mueller".to_owned()];
        let sanjurjo = vec!["sanjurjo".to_owned()];
        let santana = vec!["santanasanjurjo".to_owned(), "santana".to_owned()];
        let bytes = encode(
            "0190a1b2-0000-7000-8000-000000000001",
            [
                (AuthorKind::Author, "J. Smith", smith.as_slice(), &[][..]),
                (
                    AuthorKind::Variant,
                    "Hans Müller",
                    muller.as_slice(),
                    &[][..],
                ),
                (AuthorKind::Author, "", &[][..], &[][..]),
                (
                    AuthorKind::Author,
                    "Victoriano Santana Sanjurjo",
                    sanjurjo.as_slice(),
                    santana.as_slice(),
                ),
            ],
        );
        let view = decode(&bytes).unwrap();
        assert_eq!(view.id, "0190a1b2-0000-7000-8000-000000000001");
        assert_eq!(view.authors.len(), 4);
        assert_eq!(view.authors[3].surname_keys, ["sanjurjo"]);
        assert_eq!(
            view.authors[3].read_surname_keys,
            ["santanasanjurjo", "santana"]
        );
        assert_eq!(view.authors[1].kind, AuthorKind::Variant);
        assert_eq!(view.authors[1].name, "Hans Müller");
        assert_eq!(view.authors[1].surname_keys, ["muller", "mueller"]);
        assert!(view.authors[2].surname_keys.is_empty());

        let kept = decode_authors_where(&bytes, |keys, _| keys.contains(&&b"mueller"[..])).unwrap();
        assert_eq!(kept.id, view.id);
        assert_eq!(kept.authors, [view.authors[1].clone()]);
        let read = decode_authors_where(&bytes, |_, read| read.contains(&&b"santana"[..])).unwrap();
        assert_eq!(read.authors, [view.authors[3].clone()]);
        let none = decode_authors_where(&bytes, |_, _| false).unwrap();
        assert!(none.authors.is_empty());
    }

    #[test]
    fn truncated_views_are_refused() {
        let keys = vec!["smith".to_owned()];
        let bytes = encode(
            "id",
            [(AuthorKind::Author, "J. Smith", keys.as_slice(), &[][..])],
        );
        for len in 0..bytes.len() {
            if len == 6 {
                // The id alone is a view without authors.
                assert!(decode(&bytes[..len]).is_ok());
                continue;
            }
            assert!(decode(&bytes[..len]).is_err(), "{len} bytes read as a view");
        }
    }
}
