//! The candidate view of a record: what candidate retrieval reads of each record it finds
//! by name, kept in a fast field ([`schema::CANDIDATE_VIEW`](super::schema::CANDIDATE_VIEW))
//! so that it needs neither the stored document (the original JSON makes it a few
//! kilobytes to decompress) nor a parse of every co-author.
//!
//! The view holds the record's id and each distinct author string, as written or as a
//! variant, with its surname keys as the indexer computed them. Layout, lengths little
//! endian:
//!
//! ```text
//! u32 id length, id
//! then for each author: u8 kind (0 author, 1 variant), u32 name length, name,
//!                       u8 number of keys, then each key: u16 length, key
//! ```

use std::fmt;

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
    /// Its surname keys.
    pub surname_keys: Vec<&'a str>,
}

/// A decoded candidate view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateView<'a> {
    /// The record version's id.
    pub id: &'a str,
    /// Its distinct author strings, authors first, in order.
    pub authors: Vec<ViewAuthor<'a>>,
}

/// A view that cannot be read: written by another version of the indexer, or damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedView {
    /// Byte offset where reading failed.
    pub offset: usize,
}

impl fmt::Display for MalformedView {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "candidate view malformed at byte {}; rebuild the index",
            self.offset
        )
    }
}

impl std::error::Error for MalformedView {}

/// Writes the view of a record: its `id` and its authors with their surname keys.
pub fn encode<'a>(
    id: &str,
    authors: impl IntoIterator<Item = (AuthorKind, &'a str, &'a [String])>,
) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64);
    push_str32(&mut bytes, id);
    for (kind, name, keys) in authors {
        bytes.push(match kind {
            AuthorKind::Author => 0,
            AuthorKind::Variant => 1,
        });
        push_str32(&mut bytes, name);
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
    bytes
}

fn push_str32(bytes: &mut Vec<u8>, text: &str) {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    bytes.extend_from_slice(&len.to_le_bytes());
    bytes.extend_from_slice(&text.as_bytes()[..len as usize]);
}

/// Reads a view written by [`encode`].
///
/// # Errors
///
/// [`MalformedView`] when the bytes are not a view.
pub fn decode(bytes: &[u8]) -> Result<CandidateView<'_>, MalformedView> {
    decode_authors_where(bytes, |_| true)
}

/// Reads a view written by [`encode`], keeping only the authors whose surname keys `keep`
/// accepts: a record of a thousand authors is read without building the author strings a
/// search does not compare. The skipped authors' names are not checked.
///
/// # Errors
///
/// [`MalformedView`] when the bytes are not a view.
pub fn decode_authors_where<'a>(
    bytes: &'a [u8],
    mut keep: impl FnMut(&[&'a str]) -> bool,
) -> Result<CandidateView<'a>, MalformedView> {
    let mut reader = Reader { bytes, offset: 0 };
    let id = reader.str32()?;
    let mut authors = Vec::new();
    let mut surname_keys = Vec::new();
    while reader.offset < bytes.len() {
        let kind = match reader.byte()? {
            0 => AuthorKind::Author,
            1 => AuthorKind::Variant,
            _ => return Err(reader.malformed()),
        };
        let name_start = reader.offset;
        let name_len = u32::from_le_bytes(reader.array::<4>()?);
        let name = reader.take(name_len as usize)?;
        let num_keys = reader.byte()?;
        surname_keys.clear();
        for _ in 0..num_keys {
            let len = u16::from_le_bytes(reader.array::<2>()?);
            surname_keys.push(reader.str(usize::from(len))?);
        }
        if !keep(&surname_keys) {
            continue;
        }
        let name = std::str::from_utf8(name).map_err(|_| MalformedView {
            offset: name_start + 4,
        })?;
        authors.push(ViewAuthor {
            kind,
            name,
            surname_keys: surname_keys.clone(),
        });
    }
    Ok(CandidateView { id, authors })
}

struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    fn malformed(&self) -> MalformedView {
        MalformedView {
            offset: self.offset,
        }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], MalformedView> {
        let end = self
            .offset
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.malformed())?;
        let slice = &self.bytes[self.offset..end];
        self.offset = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, MalformedView> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], MalformedView> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn str(&mut self, len: usize) -> Result<&'a str, MalformedView> {
        let start = self.offset;
        let slice = self.take(len)?;
        std::str::from_utf8(slice).map_err(|_| MalformedView { offset: start })
    }

    fn str32(&mut self) -> Result<&'a str, MalformedView> {
        let len = u32::from_le_bytes(self.array::<4>()?);
        self.str(len as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_read_back_as_written() {
        let smith = vec!["smith".to_owned()];
        let muller = vec!["muller".to_owned(), "mueller".to_owned()];
        let bytes = encode(
            "0190a1b2-0000-7000-8000-000000000001",
            [
                (AuthorKind::Author, "J. Smith", smith.as_slice()),
                (AuthorKind::Variant, "Hans Müller", muller.as_slice()),
                (AuthorKind::Author, "", &[][..]),
            ],
        );
        let view = decode(&bytes).unwrap();
        assert_eq!(view.id, "0190a1b2-0000-7000-8000-000000000001");
        assert_eq!(view.authors.len(), 3);
        assert_eq!(view.authors[1].kind, AuthorKind::Variant);
        assert_eq!(view.authors[1].name, "Hans Müller");
        assert_eq!(view.authors[1].surname_keys, ["muller", "mueller"]);
        assert!(view.authors[2].surname_keys.is_empty());

        let kept = decode_authors_where(&bytes, |keys| keys.contains(&"mueller")).unwrap();
        assert_eq!(kept.id, view.id);
        assert_eq!(kept.authors, [view.authors[1].clone()]);
        let none = decode_authors_where(&bytes, |_| false).unwrap();
        assert!(none.authors.is_empty());
    }

    #[test]
    fn truncated_views_are_refused() {
        let keys = vec!["smith".to_owned()];
        let bytes = encode("id", [(AuthorKind::Author, "J. Smith", keys.as_slice())]);
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
