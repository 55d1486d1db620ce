//! Checksums of records in canonical form, so that key order and whitespace in a source
//! file never create a new version of a record.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Returns the hex SHA-256 of `value` serialized with object keys sorted and no whitespace.
pub fn canonical_checksum(value: &Value) -> String {
    let mut hasher = Sha256::new();
    write_canonical(value, &mut hasher);
    hex::encode(hasher.finalize())
}

fn write_canonical(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|left, right| left.0.cmp(right.0));
            hasher.update(b"{");
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    hasher.update(b",");
                }
                write_scalar(&Value::String(key.clone()), hasher);
                hasher.update(b":");
                write_canonical(item, hasher);
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    hasher.update(b",");
                }
                write_canonical(item, hasher);
            }
            hasher.update(b"]");
        }
        scalar => write_scalar(scalar, hasher),
    }
}

fn write_scalar(value: &Value, hasher: &mut Sha256) {
    // Serializing a scalar cannot fail; an empty update would only weaken the checksum.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    hasher.update(&bytes);
}

#[cfg(test)]
mod tests {
    use super::canonical_checksum;
    use serde_json::json;

    #[test]
    fn key_order_and_whitespace_do_not_change_the_checksum() {
        let compact: serde_json::Value =
            serde_json::from_str(r#"{"b":[1,{"y":2,"x":1}],"a":"é"}"#).unwrap();
        let spaced: serde_json::Value =
            serde_json::from_str("{ \"a\" : \"é\",\n \"b\": [1, {\"x\": 1, \"y\": 2}] }").unwrap();
        assert_eq!(canonical_checksum(&compact), canonical_checksum(&spaced));
    }

    #[test]
    fn any_change_of_content_changes_the_checksum() {
        let base = canonical_checksum(&json!({"title": "A", "year": 2020}));
        assert_ne!(
            base,
            canonical_checksum(&json!({"title": "A", "year": 2021}))
        );
        assert_ne!(
            base,
            canonical_checksum(&json!({"title": "A", "year": "2020"}))
        );
        assert_ne!(base, canonical_checksum(&json!({"title": "A"})));
        assert_ne!(
            canonical_checksum(&json!([1, 2])),
            canonical_checksum(&json!([2, 1]))
        );
    }
}
