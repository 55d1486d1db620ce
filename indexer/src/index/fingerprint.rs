//! Fingerprints of documents, computed the same way on a document read back from a shard
//! and on one just built from PostgreSQL, so the two can be compared without moving them.

use sha2::{Digest, Sha256};
use tantivy::schema::{OwnedValue, Schema};
use tantivy::TantivyDocument;

/// Returns a 64-bit fingerprint of the stored fields of `doc`: the first eight bytes of the
/// SHA-256 of its stored values in field order, values of one field in the order added.
///
/// Fields that are indexed but not stored are left out (a shard cannot give them back), so
/// a difference that only touches them goes unseen.
pub(crate) fn fingerprint(schema: &Schema, doc: &TantivyDocument) -> u64 {
    let mut values: Vec<(u32, OwnedValue)> = doc
        .field_values()
        .filter(|(field, _)| schema.get_field_entry(*field).is_stored())
        .map(|(field, value)| (field.field_id(), OwnedValue::from(value)))
        .collect();
    // Stable: keeps the order of a multi-valued field's values.
    values.sort_by_key(|(field_id, _)| *field_id);

    let mut hasher = Sha256::new();
    for (field_id, value) in &values {
        hasher.update(field_id.to_le_bytes());
        hash_value(&mut hasher, value);
    }
    let digest = hasher.finalize();
    let mut first_bytes = [0; 8];
    first_bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first_bytes)
}

/// Feeds one value to `hasher`, tagged by type and length-prefixed so that distinct value
/// sequences never feed the same bytes.
fn hash_value(hasher: &mut Sha256, value: &OwnedValue) {
    let mut tagged = |tag: u8, bytes: &[u8]| {
        hasher.update([tag]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    match value {
        OwnedValue::Str(text) => tagged(b's', text.as_bytes()),
        OwnedValue::U64(number) => tagged(b'u', &number.to_le_bytes()),
        OwnedValue::I64(number) => tagged(b'i', &number.to_le_bytes()),
        OwnedValue::F64(number) => tagged(b'f', &number.to_bits().to_le_bytes()),
        OwnedValue::Bool(flag) => tagged(b'b', &[u8::from(*flag)]),
        OwnedValue::Date(date) => tagged(b'd', &date.into_timestamp_nanos().to_le_bytes()),
        OwnedValue::Bytes(bytes) => tagged(b'y', bytes),
        other => {
            let json = serde_json::to_vec(other).unwrap_or_default();
            tagged(b'j', &json);
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{STORED, STRING, TEXT};

    use super::*;

    #[test]
    fn only_stored_fields_count_and_value_order_within_a_field_matters() {
        let mut builder = Schema::builder();
        let stored = builder.add_text_field("stored", STRING | STORED);
        let indexed_only = builder.add_text_field("indexed_only", TEXT);
        let schema = builder.build();

        let mut first = TantivyDocument::new();
        first.add_text(stored, "a");
        first.add_text(indexed_only, "x");
        first.add_text(stored, "b");
        let mut same_stored = TantivyDocument::new();
        same_stored.add_text(stored, "a");
        same_stored.add_text(stored, "b");
        let mut reordered = TantivyDocument::new();
        reordered.add_text(stored, "b");
        reordered.add_text(stored, "a");

        assert_eq!(
            fingerprint(&schema, &first),
            fingerprint(&schema, &same_stored)
        );
        assert_ne!(
            fingerprint(&schema, &first),
            fingerprint(&schema, &reordered)
        );
    }
}
