//! A cache of lookups in one set of searchers (one commit of every shard): a new commit
//! opens new searchers and starts an empty cache, so entries never go stale.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use super::tuning::MAX_CACHED_EXPANSIONS;

/// Values by key, at most [`MAX_CACHED_EXPANSIONS`] at a time.
#[derive(Debug)]
pub struct CommitCache<K, V> {
    entries: Mutex<HashMap<K, V>>,
}

impl<K, V> Default for CommitCache<K, V> {
    fn default() -> Self {
        CommitCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> CommitCache<K, V> {
    /// Returns the value of `key`, if cached.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.get(key).cloned()
    }

    /// Caches `value` under `key`.
    pub fn insert(&self, key: K, value: V) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Emptied rather than evicted one by one: a full cache is rare (a commit empties
        // it first) and its entries are as likely to come back as any.
        if entries.len() >= MAX_CACHED_EXPANSIONS {
            entries.clear();
        }
        entries.insert(key, value);
    }
}
