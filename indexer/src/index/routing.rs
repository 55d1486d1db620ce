//! Which shard holds a document.

use uuid::Uuid;

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Returns the shard, in `0..num_shards`, that holds the document `doc_id`.
///
/// The function is 64-bit FNV-1a over the uuid's 16 bytes in their RFC 9562 (network)
/// order, modulo `num_shards`. It is written out here, depends on nothing but those bytes,
/// and so gives the same shard in every process, on every platform and with every Rust
/// version, which the indexes on disk rely on. Hashing all bytes (rather than taking the low
/// ones) keeps shards balanced for any uuid version, not only the random tail of UUIDv7.
///
/// # Panics
/// Panics when `num_shards` is zero.
pub fn shard_of(doc_id: Uuid, num_shards: usize) -> usize {
    assert!(num_shards > 0, "an index has at least one shard");
    let hash = doc_id
        .as_bytes()
        .iter()
        .fold(FNV_OFFSET_BASIS, |hash, &byte| {
            (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
        });
    (hash % num_shards as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_is_pinned_to_known_values() {
        // Changing these values moves documents between shards of existing indexes.
        let doc_id = Uuid::parse_str("0190b6a4-5f3e-7c1a-9b2d-3e4f5a6b7c8d").unwrap();
        assert_eq!(shard_of(doc_id, 1), 0);
        assert_eq!(
            shard_of(Uuid::nil(), 7),
            (0x8820_1fb9_60ff_6465_u64 % 7) as usize
        );
        let pinned: Vec<usize> = (2..=8)
            .map(|num_shards| shard_of(doc_id, num_shards))
            .collect();
        assert_eq!(pinned, PINNED_SHARDS);
    }

    const PINNED_SHARDS: [usize; 7] = [0, 2, 2, 4, 2, 3, 2];
}
