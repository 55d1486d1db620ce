//! One generation of one index, opened for reading: its shards and their feed positions.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher};

use super::layout::{self, GenerationMeta};
use super::schema::SCHEMA_VERSION;
use super::IndexKind;
use crate::{Error, Result};

/// Attempts of [`ShardedIndex::reopen_if_switched`] when generations are removed under it.
const MAX_REOPEN_ATTEMPTS: u32 = 3;

/// One shard of a generation: a tantivy index and a reader on it.
#[derive(Clone)]
pub struct Shard {
    /// The tantivy index, with the analyzers registered.
    pub index: Index,
    /// A reader reloaded only by [`ShardedIndex::reload`].
    pub reader: IndexReader,
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard")
            .field("num_docs", &self.reader.searcher().num_docs())
            .finish()
    }
}

/// The commit payload a shard carries: the feed position its content is consistent with.
#[derive(Debug, serde::Serialize, Deserialize)]
pub(crate) struct CommitPayload {
    pub(crate) position: String,
}

/// Returns the feed position a shard commit's payload names, `None` when it names none.
/// Shards at the same position hold the same documents, whichever replica wrote them.
pub fn position_of_payload(payload: &str) -> Option<String> {
    serde_json::from_str::<CommitPayload>(payload)
        .ok()
        .map(|payload| payload.position)
}

/// The current generation of one index, opened for searching.
///
/// The generation stays open as long as this value lives, even when a rebuild makes another
/// generation current and later removes this one from disk: on Linux, files already open
/// or mapped stay readable after removal. [`ShardedIndex::reload`] only picks up new
/// commits of the same generation; [`ShardedIndex::reopen_if_switched`] moves to the
/// current one.
#[derive(Debug, Clone)]
pub struct ShardedIndex {
    kind: IndexKind,
    dir: PathBuf,
    generation: String,
    meta: GenerationMeta,
    shards: Vec<Shard>,
    positions: Vec<Option<String>>,
}

impl ShardedIndex {
    /// Opens the current generation of `kind` under `dir`, or returns `None` when the index
    /// was never built.
    ///
    /// # Errors
    /// Fails when the generation's files cannot be read, or when it was built with another
    /// [`SCHEMA_VERSION`] (it must be rebuilt).
    pub fn open_current(dir: &Path, kind: IndexKind) -> Result<Option<ShardedIndex>> {
        match layout::current_generation_number(dir, kind)? {
            Some(generation) => Self::open_generation(dir, kind, generation).map(Some),
            None => Ok(None),
        }
    }

    /// Opens generation `generation` of `kind`, current or not.
    ///
    /// # Errors
    /// As [`ShardedIndex::open_current`].
    pub fn open_generation(dir: &Path, kind: IndexKind, generation: u64) -> Result<ShardedIndex> {
        let generation_dir = layout::generation_dir(dir, kind, generation);
        let meta = layout::read_meta(&generation_dir)?;
        let generation_name = layout::generation_name(generation);
        if meta.schema_version != SCHEMA_VERSION {
            return Err(Error::SchemaVersion {
                index: kind.name().to_owned(),
                generation: generation_name,
                found: meta.schema_version,
                expected: SCHEMA_VERSION,
            });
        }

        let shards = (0..meta.num_shards)
            .map(|shard| open_shard(&layout::shard_dir(&generation_dir, shard)))
            .collect::<Result<Vec<_>>>()?;
        let mut index = ShardedIndex {
            kind,
            dir: dir.to_path_buf(),
            generation: generation_name,
            meta,
            shards,
            positions: Vec::new(),
        };
        index.positions = index.read_positions()?;
        Ok(index)
    }

    /// Returns which index this is.
    pub fn kind(&self) -> IndexKind {
        self.kind
    }

    /// Returns the name of the generation held (`gen-3`), as
    /// [`current_generation`](super::current_generation) names it.
    pub fn generation(&self) -> &str {
        &self.generation
    }

    /// Returns the generation's `meta.json`.
    pub fn meta(&self) -> &GenerationMeta {
        &self.meta
    }

    /// Returns the number of shards.
    pub fn num_shards(&self) -> usize {
        self.shards.len()
    }

    /// Returns the shards, in shard order.
    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// Returns a searcher per shard, each on the commit last loaded.
    pub fn searchers(&self) -> Vec<Searcher> {
        self.shards
            .iter()
            .map(|shard| shard.reader.searcher())
            .collect()
    }

    /// Returns the number of documents in the commits last loaded.
    pub fn num_docs(&self) -> u64 {
        self.shards
            .iter()
            .map(|shard| shard.reader.searcher().num_docs())
            .sum()
    }

    /// Returns, per shard, the feed position of its last commit as of the open or the last
    /// [`ShardedIndex::reload`]; `None` for a shard committed without one.
    pub fn positions(&self) -> Vec<Option<String>> {
        self.positions.clone()
    }

    /// Loads the latest commit of every shard of the generation held, and their positions.
    ///
    /// # Errors
    /// Fails when a shard's files cannot be read, for instance when the generation was
    /// removed from disk since it was opened.
    pub fn reload(&mut self) -> Result<()> {
        for shard in &self.shards {
            shard.reader.reload()?;
        }
        self.positions = self.read_positions()?;
        Ok(())
    }

    /// Opens the current generation if a rebuild switched to another one since this was
    /// opened, returning whether it did.
    ///
    /// # Errors
    /// As [`ShardedIndex::open_current`]; this value is left unchanged on error.
    pub fn reopen_if_switched(&mut self) -> Result<bool> {
        let mut attempt = 1;
        loop {
            let Some(current) = layout::current_generation_number(&self.dir, self.kind)? else {
                return Ok(false);
            };
            if layout::generation_name(current) == self.generation {
                return Ok(false);
            }
            match Self::open_generation(&self.dir, self.kind, current) {
                Ok(reopened) => {
                    *self = reopened;
                    return Ok(true);
                }
                // Two more rebuilds finished between reading `CURRENT` and opening the
                // generation it named, which removed it: read `CURRENT` again.
                Err(error) if attempt < MAX_REOPEN_ATTEMPTS => {
                    let index = self.kind;
                    tracing::debug!(%index, %error, attempt, "generation vanished while opening");
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn read_positions(&self) -> Result<Vec<Option<String>>> {
        let mut positions = Vec::with_capacity(self.shards.len());
        for (shard, Shard { index, .. }) in self.shards.iter().enumerate() {
            let Some(payload) = index.load_metas()?.payload else {
                positions.push(None);
                continue;
            };
            let position = position_of_payload(&payload);
            if position.is_none() {
                let index = self.kind;
                tracing::warn!(%index, shard, %payload, "commit payload without a position");
            }
            positions.push(position);
        }
        Ok(positions)
    }
}

/// Opens the tantivy index of one shard with the analyzers and a manually reloaded reader.
pub(crate) fn open_shard(path: &Path) -> Result<Shard> {
    let index = Index::open_in_dir(path)?;
    analyzers::register(index.tokenizers());
    // Manual reloads: a reader watching files would fail once its generation is removed.
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    Ok(Shard { index, reader })
}
