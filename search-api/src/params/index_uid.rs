//! Index uids, checked as Meilisearch checks them.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{ApiError, Code, Result};
use crate::limits::MAX_INDEX_UID_NUM_BYTES;

/// The uid of an index: ASCII letters, digits, `-` and `_`, at most
/// [`MAX_INDEX_UID_NUM_BYTES`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexUid(String);

impl IndexUid {
    /// Returns the uid of `text`.
    ///
    /// # Errors
    ///
    /// `invalid_index_uid` when `text` is empty, too long or has other characters.
    pub fn parse(text: &str) -> Result<IndexUid> {
        let is_valid = !text.is_empty()
            && text.len() <= MAX_INDEX_UID_NUM_BYTES
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !is_valid {
            return Err(ApiError::new(
                Code::InvalidIndexUid,
                format!(
                    "`{}` is not a valid index uid; an index uid has 1 to \
                     `{MAX_INDEX_UID_NUM_BYTES}` ASCII letters, digits, `-` and `_`",
                    crate::filter::excerpt_head(text)
                ),
            ));
        }
        Ok(IndexUid(text.to_owned()))
    }

    /// Returns the uid as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IndexUid {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl Serialize for IndexUid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_meilisearch_uids_only() {
        for uid in ["works", "raw-records", "profiles_2024", "42"] {
            assert_eq!(IndexUid::parse(uid).unwrap().as_str(), uid);
        }
        for uid in [
            "",
            "a b",
            "wörks",
            "a/b",
            &"a".repeat(MAX_INDEX_UID_NUM_BYTES + 1),
        ] {
            let error = IndexUid::parse(uid).unwrap_err();
            assert_eq!(error.code(), Code::InvalidIndexUid, "`{uid}`");
        }
    }
}
