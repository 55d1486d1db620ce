//! The master key: checked at start, and the secret every API key is derived from.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Shortest master key accepted, in bytes; Meilisearch's minimum for production.
pub const MIN_MASTER_KEY_NUM_BYTES: usize = 16;

/// A master key too short to protect anything.
#[derive(Debug, thiserror::Error)]
#[error(
    "`ATLAS_MASTER_KEY` is {num_bytes} bytes long; use at least {MIN_MASTER_KEY_NUM_BYTES} \
     bytes, for example `openssl rand -hex 32`"
)]
pub struct MasterKeyError {
    num_bytes: usize,
}

/// The master key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey(Arc<str>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// Returns the master key `key`.
    ///
    /// # Errors
    ///
    /// [`MasterKeyError`] when it is shorter than [`MIN_MASTER_KEY_NUM_BYTES`].
    pub fn new(key: &str) -> Result<MasterKey, MasterKeyError> {
        if key.len() < MIN_MASTER_KEY_NUM_BYTES {
            return Err(MasterKeyError {
                num_bytes: key.len(),
            });
        }
        Ok(MasterKey(Arc::from(key)))
    }

    /// Returns whether `candidate` is the master key, in time independent of where they
    /// differ.
    pub fn matches(&self, candidate: &str) -> bool {
        // Comparing the hashes keeps the comparison's time independent of the key's bytes.
        let expected = Sha256::digest(self.0.as_bytes());
        let given = Sha256::digest(candidate.as_bytes());
        expected
            .iter()
            .zip(given.iter())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
    }

    /// Returns the plain API key of the key `uid`: the HMAC-SHA256 of its hyphenated uid
    /// keyed by the master key, in lowercase hex, as Meilisearch derives its keys. The key
    /// is never stored; changing the master key changes every key.
    pub fn derive_api_key(&self, uid: Uuid) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(uid.hyphenated().to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Returns the SHA-256 of `key` in lowercase hex: what is stored of an API key.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_refused() {
        assert!(MasterKey::new("fifteen bytes!!").is_err());
        assert!(MasterKey::new("sixteen bytes!!!").is_ok());
    }

    #[test]
    fn derived_keys_depend_on_uid_and_master_key() {
        let master = MasterKey::new("a master key of some length").unwrap();
        let other = MasterKey::new("another master key entirely").unwrap();
        let uid = Uuid::from_u128(7);
        let key = master.derive_api_key(uid);
        assert_eq!(key.len(), 64);
        assert_eq!(key, master.derive_api_key(uid));
        assert_ne!(key, master.derive_api_key(Uuid::from_u128(8)));
        assert_ne!(key, other.derive_api_key(uid));
        assert!(master.matches("a master key of some length"));
        assert!(!master.matches("a master key of some lengtH"));
        assert_eq!(format!("{master:?}"), "MasterKey(***)");
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
