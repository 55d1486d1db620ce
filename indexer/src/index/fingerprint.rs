//! Fingerprints of documents, computed the same way on a document read back from a shard
//! and on one just built from PostgreSQL, so the two can be compared without moving them.

use sha2::{Digest, Sha256};
use tantivy::schema::OwnedValue;
use tantivy::TantivyDocument;

use super::{schema, IndexKind};

/// Returns a 64-bit fingerprint of the kept fields of `doc`, a document of `kind`'s index:
/// the first eight bytes of the SHA-256 of its stored values and those of its search view
/// ([`super::search_view`]) in field order, values of one field in the order added.
///
/// Other fields, indexed only, are left out (a shard cannot give them back), so a
/// difference that only touches them goes unseen.
pub(crate) fn fingerprint(kind: IndexKind, doc: &TantivyDocument) -> u64 {
    let schema = schema::schema(kind);
    let viewed = schema::search_view_fields(kind);
    let mut values: Vec<(u32, OwnedValue)> = doc
        .field_values()
        .filter(|(field, _)| schema.get_field_entry(*field).is_stored() || viewed.contains(field))
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
    use super::*;

    #[test]
    fn stored_and_viewed_fields_count_and_value_order_within_a_field_matters() {
        let fields = schema::records();
        let doc = |authors: &[&str], title: &str, stem: &str| {
            let mut doc = TantivyDocument::new();
            doc.add_text(fields.source, "crossref");
            for author in authors {
                doc.add_text(fields.authors, author);
            }
            doc.add_text(fields.title, title);
            doc.add_text(fields.title_stem, stem);
            fingerprint(IndexKind::Records, &doc)
        };
        let first = doc(&["A", "B"], "Cells", "cell");
        assert_eq!(first, doc(&["A", "B"], "Cells", "other stem"));
        assert_ne!(first, doc(&["B", "A"], "Cells", "cell"));
        assert_ne!(first, doc(&["A", "B"], "Cell", "cell"));
    }
}
