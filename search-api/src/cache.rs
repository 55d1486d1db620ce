//! The search response cache in Redis.
//!
//! A key names the index, its generation, the settings in force, the validated search and
//! the tenant token's rules. A commit changes the generation, so entries written before it
//! are never read again and expire with their TTL; nothing has to be invalidated.

use std::time::Duration;

use redis::AsyncCommands;
use sha2::{Digest, Sha256};

use crate::redis_conn::RedisConn;

/// Bumped when the cached bytes change shape, so that old entries are not read.
const CACHE_FORMAT_VERSION: u32 = 1;

/// What identifies one cached search response.
#[derive(Debug, Clone, Copy)]
pub struct CacheKeyParts<'a> {
    /// The index searched.
    pub index_uid: &'a str,
    /// Its generation and commit, as the engine names them; changes at every commit.
    pub generation: &'a str,
    /// The settings in force, in a canonical text.
    pub settings: &'a str,
    /// The validated search in a canonical text.
    pub search: &'a str,
    /// The tenant token's rules in a canonical text, when a token asked.
    pub tenant_rules: Option<&'a str>,
}

/// The response cache: Redis with a TTL, or nothing when the TTL is zero.
#[derive(Debug, Clone)]
pub struct ResponseCache {
    redis: RedisConn,
    ttl: Duration,
}

impl ResponseCache {
    /// Returns a cache in `redis` whose entries live `ttl`; a zero TTL disables it.
    pub fn new(redis: RedisConn, ttl: Duration) -> Self {
        ResponseCache { redis, ttl }
    }

    /// Returns whether the cache is in use.
    pub fn is_enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// Returns the Redis key of a search.
    pub fn key(&self, parts: &CacheKeyParts<'_>) -> String {
        let mut hasher = Sha256::new();
        for part in [
            parts.settings,
            parts.search,
            parts.tenant_rules.unwrap_or("no tenant token"),
        ] {
            hasher.update(part.len().to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let digest = hex::encode(hasher.finalize());
        self.redis.key(&format!(
            "cache:v{CACHE_FORMAT_VERSION}:{}:{}:{digest}",
            parts.index_uid, parts.generation
        ))
    }

    /// Returns the cached response under `key`; `None` on a miss, when Redis is down, or
    /// when the entry is not a JSON object (written by something else or cut short), which
    /// is then deleted so that the search is answered afresh and cached again.
    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        if !self.is_enabled() {
            return None;
        }
        let bytes = self
            .redis
            .run(|mut connection| async move { connection.get::<_, Option<Vec<u8>>>(key).await })
            .await
            .flatten()?;
        if is_json_object(&bytes) {
            return Some(bytes);
        }
        tracing::warn!(
            key,
            num_bytes = bytes.len(),
            "a cached search response is not a JSON object; it is deleted and the search run again"
        );
        self.redis
            .run(|mut connection| async move { connection.del::<_, ()>(key).await })
            .await;
        None
    }

    /// Stores `response` under `key` with the TTL; does nothing when Redis is down.
    pub async fn put(&self, key: &str, response: &[u8]) {
        if !self.is_enabled() {
            return;
        }
        let ttl_secs = self.ttl.as_secs().max(1);
        self.redis
            .run(|mut connection| async move {
                connection.set_ex::<_, _, ()>(key, response, ttl_secs).await
            })
            .await;
    }
}

/// Returns a cached search response with its `processingTimeMs` set to `millis`, the time
/// answering from the cache took, instead of the time of the search that filled it. The
/// field is the first key of that name in the response, as the hits before it hold the
/// index's attributes, none of which is named so; a response without it is left as is.
pub fn with_processing_time(bytes: Vec<u8>, millis: u64) -> Vec<u8> {
    const KEY: &[u8] = b"\"processingTimeMs\":";
    let Some(start) = memchr::memmem::find(&bytes, KEY).map(|at| at + KEY.len()) else {
        return bytes;
    };
    let num_digits = bytes[start..]
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    if num_digits == 0 {
        return bytes;
    }
    let mut updated = Vec::with_capacity(bytes.len() + 20);
    updated.extend_from_slice(&bytes[..start]);
    updated.extend_from_slice(millis.to_string().as_bytes());
    updated.extend_from_slice(&bytes[start + num_digits..]);
    updated
}

/// Whether `bytes` hold one JSON object, as every search response is.
fn is_json_object(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().first() == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_response_tells_the_time_it_took_from_the_cache() {
        let cached = br#"{"hits":[{"title":"processingTimeMs: 12"}],"query":"x","processingTimeMs":1234,"limit":20}"#;
        let updated = with_processing_time(cached.to_vec(), 0);
        let response: serde_json::Value = serde_json::from_slice(&updated).unwrap();
        assert_eq!(response["processingTimeMs"], 0);
        assert_eq!(response["hits"][0]["title"], "processingTimeMs: 12");
        assert_eq!(response["limit"], 20);
        let without = br#"{"hits":[]}"#.to_vec();
        assert_eq!(with_processing_time(without.clone(), 3), without);
    }

    #[test]
    fn only_whole_json_objects_are_served_from_the_cache() {
        assert!(is_json_object(br#"{"hits":[],"query":"x"}"#));
        assert!(is_json_object(b" {}"));
        assert!(!is_json_object(br#"garbage{"hits":"#));
        assert!(!is_json_object(br#"{"hits":["#));
        assert!(!is_json_object(b"[1, 2]"));
        assert!(!is_json_object(b""));
        assert!(!is_json_object(br#"{"a":1} trailing"#));
    }
}
