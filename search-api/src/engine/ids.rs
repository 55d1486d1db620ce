//! Documents' ids read from the id's fast column, to order documents that every other
//! criterion leaves equal. Within a segment the column's term ordinals follow the ids'
//! order, so collectors compare ordinals and turn only the documents they keep into ids.

use tantivy::columnar::StrColumn;
use tantivy::{DocId, SegmentReader, TantivyError};

/// The id column of one segment.
#[derive(Clone)]
pub struct SegmentIds {
    column: StrColumn,
}

impl SegmentIds {
    /// Returns the id column of the segment read by `reader`.
    ///
    /// # Errors
    ///
    /// When the segment has no id column (an index built by an older schema, which
    /// opening refuses) or it cannot be read.
    pub fn new(reader: &SegmentReader) -> tantivy::Result<SegmentIds> {
        let name = indexer::index::schema::ID;
        let column = reader.fast_fields().str(name)?.ok_or_else(|| {
            TantivyError::SchemaError(format!("the segment has no fast column `{name}`"))
        })?;
        Ok(SegmentIds { column })
    }

    /// Returns the ordinal of `doc`'s id: ordinals compare as the ids do, within the
    /// segment only.
    pub fn ordinal(&self, doc: DocId) -> u64 {
        self.column.ords().first(doc).unwrap_or(u64::MAX)
    }

    /// Returns the ids of `ordinals`, in their order.
    ///
    /// # Errors
    ///
    /// When the column's dictionary cannot be read.
    pub fn ids(&self, ordinals: &[u64]) -> tantivy::Result<Vec<String>> {
        let mut sorted: Vec<(u64, usize)> = ordinals
            .iter()
            .enumerate()
            .map(|(position, &ordinal)| (ordinal, position))
            .collect();
        sorted.sort_unstable();
        let mut found = Vec::with_capacity(sorted.len());
        let known: Vec<u64> = sorted
            .iter()
            .map(|&(ordinal, _)| ordinal)
            .filter(|&ordinal| ordinal != u64::MAX)
            .collect();
        // The dictionary is walked once, block by block, for ordinals in increasing order.
        self.column
            .dictionary()
            .sorted_ords_to_term_cb(known.iter().copied(), |bytes| {
                found.push(String::from_utf8_lossy(bytes).into_owned());
                Ok(())
            })?;
        let mut ids = vec![String::new(); ordinals.len()];
        for ((_, position), id) in sorted.into_iter().zip(found) {
            ids[position] = id;
        }
        Ok(ids)
    }
}
