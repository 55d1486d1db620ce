//! Writes to every shard of a generation: one tantivy `IndexWriter` per shard.

use std::path::Path;

use tantivy::schema::Field;
use tantivy::{Index, IndexWriter, TantivyDocument, Term};
use uuid::Uuid;

use super::routing::shard_of;
use super::schema::id_field;
use super::sharded::{CommitPayload, ShardedIndex};
use super::{IndexKind, MIN_SHARD_HEAP_NUM_BYTES};
use crate::{Error, Result};

/// Replaces and deletes documents in the shards of one generation, and commits them with a
/// feed position.
///
/// Methods block: adding a document may wait for tantivy's indexing thread, committing
/// waits for every shard to write its segments. Call them off the async runtime.
pub struct ShardedWriter {
    kind: IndexKind,
    generation: String,
    id_field: Field,
    writers: Vec<IndexWriter<TantivyDocument>>,
}

impl std::fmt::Debug for ShardedWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedWriter")
            .field("kind", &self.kind)
            .field("generation", &self.generation)
            .field("num_shards", &self.writers.len())
            .finish()
    }
}

impl ShardedWriter {
    /// Opens a writer on every shard of `index`, sharing `heap_num_bytes` between them; each
    /// shard gets at least tantivy's minimum, [`MIN_SHARD_HEAP_NUM_BYTES`].
    ///
    /// # Errors
    /// Fails when a shard is already locked by another writer (another follower or build)
    /// or its files cannot be opened.
    pub fn open(index: &ShardedIndex, heap_num_bytes: usize) -> Result<ShardedWriter> {
        let indexes: Vec<&Index> = index.shards().iter().map(|shard| &shard.index).collect();
        Self::open_indexes(index.kind(), index.generation(), &indexes, heap_num_bytes)
    }

    /// Opens a writer on the current generation of `kind` under `dir`, or returns `None`
    /// when the index was never built.
    ///
    /// # Errors
    /// As [`ShardedIndex::open_current`] and [`ShardedWriter::open`].
    pub fn open_current(
        dir: &Path,
        kind: IndexKind,
        heap_num_bytes: usize,
    ) -> Result<Option<ShardedWriter>> {
        let Some(index) = ShardedIndex::open_current(dir, kind)? else {
            return Ok(None);
        };
        Self::open(&index, heap_num_bytes).map(Some)
    }

    pub(crate) fn open_indexes(
        kind: IndexKind,
        generation: &str,
        indexes: &[&Index],
        heap_num_bytes: usize,
    ) -> Result<ShardedWriter> {
        let shard_heap_num_bytes =
            (heap_num_bytes / indexes.len().max(1)).max(MIN_SHARD_HEAP_NUM_BYTES);
        let writers = indexes
            .iter()
            // One indexing thread per shard: shards are the parallelism.
            .map(|index| index.writer_with_num_threads(1, shard_heap_num_bytes))
            .collect::<tantivy::Result<Vec<_>>>()
            .map_err(|error| match error {
                tantivy::TantivyError::LockFailure(..) => Error::WriterBusy {
                    index: kind.name().to_owned(),
                    generation: generation.to_owned(),
                },
                other => other.into(),
            })?;
        Ok(ShardedWriter {
            kind,
            generation: generation.to_owned(),
            id_field: id_field(kind),
            writers,
        })
    }

    /// Returns the name of the generation written.
    pub fn generation(&self) -> &str {
        &self.generation
    }

    /// Returns the number of shards.
    pub fn num_shards(&self) -> usize {
        self.writers.len()
    }

    /// Replaces the document `doc_id` by `doc`, which must hold `doc_id` in its `id` field;
    /// visible to searches after the next commit.
    ///
    /// # Errors
    /// Fails when the shard's indexing thread has died.
    pub fn upsert(&mut self, doc_id: Uuid, doc: TantivyDocument) -> Result<()> {
        let writer = &self.writers[shard_of(doc_id, self.writers.len())];
        writer.delete_term(id_term(self.id_field, doc_id));
        writer.add_document(doc)?;
        Ok(())
    }

    /// Adds a document known not to be in the index yet (a fresh build), skipping the
    /// delete of [`ShardedWriter::upsert`].
    pub(crate) fn add_new(&mut self, doc_id: Uuid, doc: TantivyDocument) -> Result<()> {
        self.writers[shard_of(doc_id, self.writers.len())].add_document(doc)?;
        Ok(())
    }

    /// Deletes the document `doc_id`, if present; visible after the next commit.
    ///
    /// # Errors
    /// Never fails today; the result leaves room for writers that can.
    pub fn delete(&mut self, doc_id: Uuid) -> Result<()> {
        let writer = &self.writers[shard_of(doc_id, self.writers.len())];
        writer.delete_term(id_term(self.id_field, doc_id));
        Ok(())
    }

    /// Commits every shard, in parallel, with the payload `{"position": "<position>"}`.
    ///
    /// Shards commit one by one on disk: after a crash in the middle some shards have the
    /// new position and some the old one, which is why positions are per shard and a
    /// follower resumes from the earliest.
    ///
    /// # Errors
    /// Fails when a shard cannot write its segments or meta file; that shard keeps its
    /// previous commit.
    pub fn commit(&mut self, position: &str) -> Result<()> {
        let payload = serde_json::to_string(&CommitPayload {
            position: position.to_owned(),
        })
        .map_err(|error| Error::Task(format!("cannot encode commit payload: {error}")))?;
        let results: Vec<tantivy::Result<u64>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .writers
                .iter_mut()
                .map(|writer| {
                    let payload = payload.as_str();
                    scope.spawn(move || {
                        let mut prepared = writer.prepare_commit()?;
                        prepared.set_payload(payload);
                        prepared.commit()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(tantivy::TantivyError::InternalError(
                            "commit thread panicked".into(),
                        ))
                    })
                })
                .collect()
        });
        for result in results {
            result?;
        }
        let (index, generation) = (self.kind, &self.generation);
        tracing::debug!(%index, %generation, position, "committed shards");
        Ok(())
    }

    /// Stops tantivy from merging segments on its own while a fresh build writes, so that
    /// [`ShardedWriter::merge_into_one_segment`] finds no merge running.
    pub(crate) fn without_background_merges(self) -> Self {
        for writer in &self.writers {
            writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        }
        self
    }

    /// Merges the committed segments of every shard into one, shards in parallel, keeping
    /// the commit's payload. A search walks the term dictionaries and postings of every
    /// segment, so one segment per shard answers a fifth faster than the few a build
    /// leaves.
    ///
    /// # Errors
    /// Fails when a merge fails; the shard keeps its segments.
    pub fn merge_into_one_segment(&mut self) -> Result<()> {
        let mut merges = Vec::new();
        for writer in &mut self.writers {
            let segments = writer.index().searchable_segment_ids()?;
            if segments.len() > 1 {
                merges.push(writer.merge(&segments));
            }
        }
        for merge in merges {
            merge.wait()?;
        }
        let (index, generation) = (self.kind, &self.generation);
        tracing::debug!(%index, %generation, "merged each shard into one segment");
        Ok(())
    }

    /// Discards every change since the last commit.
    ///
    /// # Errors
    /// Fails when a shard's writer cannot be reset.
    pub fn rollback(&mut self) -> Result<()> {
        for writer in &mut self.writers {
            writer.rollback()?;
        }
        Ok(())
    }

    /// Waits for the merges running in every shard and closes the writers.
    ///
    /// # Errors
    /// Fails when a merge failed.
    pub fn wait_merging_threads(self) -> Result<()> {
        for writer in self.writers {
            writer.wait_merging_threads()?;
        }
        Ok(())
    }
}

/// Returns the term of `doc_id` in the `id` field.
pub(crate) fn id_term(id_field: Field, doc_id: Uuid) -> Term {
    let mut buffer = Uuid::encode_buffer();
    Term::from_field_text(id_field, doc_id.hyphenated().encode_lower(&mut buffer))
}
