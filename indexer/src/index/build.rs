//! The bulk build: every document of an index, from one PostgreSQL snapshot, into a new
//! generation that becomes current when complete.

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};
use tantivy::store::Compressor;
use tantivy::{Index, IndexSettings};
use tokio::sync::mpsc;

use super::documents;
use super::layout::{self, GenerationMeta};
use super::progress::DocumentProgress;
use super::schema::{self, SCHEMA_VERSION};
use super::writer::ShardedWriter;
use super::IndexKind;
use crate::{Error, Result};

/// The smallest writer heap tantivy accepts per indexing thread, so per shard.
pub const MIN_SHARD_HEAP_NUM_BYTES: usize = 15_000_000;

/// Default writer heap of a build, shared by its shards.
pub const DEFAULT_WRITER_HEAP_NUM_BYTES: usize = 128 * 1024 * 1024;

/// Default rows per page of the keyset scan.
pub const DEFAULT_PAGE_NUM_ROWS: usize = 1_000;

/// Pages fetched ahead of the indexing thread; bounds a build's memory with the heap.
const PAGES_IN_FLIGHT: usize = 2;

/// How a build runs.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Shards of the new generations.
    pub num_shards: usize,
    /// Writer heap shared by the shards of one index; each shard gets at least
    /// [`MIN_SHARD_HEAP_NUM_BYTES`].
    pub writer_heap_num_bytes: usize,
    /// Rows fetched from PostgreSQL per query.
    pub page_num_rows: usize,
    /// Whether to draw a progress bar (on a terminal) rather than log lines.
    pub progress_bar: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            num_shards: std::thread::available_parallelism().map_or(1, usize::from),
            writer_heap_num_bytes: DEFAULT_WRITER_HEAP_NUM_BYTES,
            page_num_rows: DEFAULT_PAGE_NUM_ROWS,
            progress_bar: false,
        }
    }
}

/// What a build did.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The change-feed position (`pg_current_snapshot()`) every built index is consistent
    /// with.
    pub position: String,
    /// One entry per index built.
    pub indexes: Vec<IndexBuildReport>,
}

/// What the build of one index did.
#[derive(Debug, Clone)]
pub struct IndexBuildReport {
    /// The index.
    pub kind: IndexKind,
    /// The new current generation.
    pub generation: String,
    /// Its shards.
    pub num_shards: usize,
    /// Documents written.
    pub num_docs: u64,
    /// Bytes of the generation on disk, merges finished.
    pub size_num_bytes: u64,
    /// Wall time of this index's build.
    pub elapsed: Duration,
    /// Generations removed after the switch.
    pub removed_generations: Vec<String>,
}

impl IndexBuildReport {
    /// Returns documents written per second.
    pub fn docs_per_sec(&self) -> f64 {
        self.num_docs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Builds a new generation of each of `kinds` under `dir` from one REPEATABLE READ
/// snapshot and makes it current; a rebuild never interrupts searches of the previous one.
///
/// Rows are read by keyset pages in key order, documents are built on a blocking thread
/// and written by one tantivy writer per shard, each on its own thread. Every shard is
/// committed with the snapshot as its feed position, then `meta.json` is written and
/// `CURRENT` switched. Generations older than the previous one are removed.
///
/// One build of an index runs at a time: the build holds a lock file in each index's
/// directory from before its snapshot until `CURRENT` is switched, so a second build fails at
/// once instead of switching `CURRENT` back to an older snapshot.
///
/// # Errors
/// Fails with [`Error::BuildBusy`](crate::Error::BuildBusy) when another build of one of
/// `kinds` holds its lock; fails when PostgreSQL or the index directory fails, the generation
/// being built is then removed and the current one stays current.
pub async fn build(
    pool: &PgPool,
    dir: &Path,
    kinds: &[IndexKind],
    options: &BuildOptions,
) -> Result<BuildReport> {
    let mut kinds = kinds.to_vec();
    kinds.sort_unstable();
    kinds.dedup();
    let _build_locks = kinds
        .iter()
        .map(|&kind| layout::lock_build(dir, kind))
        .collect::<Result<Vec<_>>>()?;

    let mut transaction = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *transaction)
        .await?;
    let position: String = sqlx::query_scalar("select pg_current_snapshot()::text")
        .fetch_one(&mut *transaction)
        .await?;

    let mut indexes = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let report = build_index(&mut transaction, dir, kind, &position, options).await?;
        tracing::info!(
            index = %kind,
            generation = %report.generation,
            num_docs = report.num_docs,
            docs_per_sec = report.docs_per_sec().round(),
            size_num_bytes = report.size_num_bytes,
            "index built"
        );
        indexes.push(report);
    }
    transaction.commit().await?;
    Ok(BuildReport { position, indexes })
}

async fn build_index(
    conn: &mut PgConnection,
    dir: &Path,
    kind: IndexKind,
    position: &str,
    options: &BuildOptions,
) -> Result<IndexBuildReport> {
    let started = Instant::now();
    let num_shards = options.num_shards.max(1);
    let total_num_docs = documents::count(conn, kind).await?;
    let (generation, generation_dir) = layout::create_generation(dir, kind, num_shards)?;
    let generation_name = layout::generation_name(generation);
    tracing::info!(
        index = %kind,
        generation = %generation_name,
        num_shards,
        total_num_docs,
        "building"
    );

    let written = write_generation(
        conn,
        &generation_dir,
        kind,
        &generation_name,
        position,
        options,
        total_num_docs,
    )
    .await;
    let num_docs = match written {
        Ok(num_docs) => num_docs,
        Err(error) => {
            if let Err(cleanup_error) = std::fs::remove_dir_all(&generation_dir) {
                let path = generation_dir.display();
                tracing::warn!(%path, %cleanup_error, "cannot remove failed build");
            }
            return Err(error);
        }
    };

    let meta = GenerationMeta {
        index: kind.name().to_owned(),
        generation,
        num_shards,
        schema_version: SCHEMA_VERSION,
        created_at: chrono::Utc::now(),
        position: position.to_owned(),
        num_docs,
    };
    layout::write_meta(&generation_dir, &meta)?;
    let previous = layout::switch_current(dir, kind, generation)?;
    let oldest_kept = previous.unwrap_or(generation).min(generation);
    let removed = layout::remove_generations_before(dir, kind, oldest_kept, generation)?;
    tracing::info!(
        index = %kind,
        generation = %generation_name,
        ?previous,
        ?removed,
        "switched generation"
    );

    Ok(IndexBuildReport {
        kind,
        generation: generation_name,
        num_shards,
        num_docs,
        size_num_bytes: layout::size_on_disk(&generation_dir),
        elapsed: started.elapsed(),
        removed_generations: removed.into_iter().map(layout::generation_name).collect(),
    })
}

/// Streams every document of `kind` into the fresh shards of `generation_dir` and commits
/// them with `position`; returns the number of documents written.
async fn write_generation(
    conn: &mut PgConnection,
    generation_dir: &Path,
    kind: IndexKind,
    generation_name: &str,
    position: &str,
    options: &BuildOptions,
    total_num_docs: u64,
) -> Result<u64> {
    let num_shards = options.num_shards.max(1);
    let indexes = (0..num_shards)
        .map(|shard| create_shard(&layout::shard_dir(generation_dir, shard), kind))
        .collect::<Result<Vec<Index>>>()?;
    let index_refs: Vec<&Index> = indexes.iter().collect();
    let writer = ShardedWriter::open_indexes(
        kind,
        generation_name,
        &index_refs,
        options.writer_heap_num_bytes,
    )?
    .without_background_merges();

    let (sender, receiver) = mpsc::channel::<Vec<PgRow>>(PAGES_IN_FLIGHT);
    let indexing = tokio::task::spawn_blocking(move || index_pages(kind, writer, receiver));

    let mut progress =
        DocumentProgress::new(kind, "building", total_num_docs, options.progress_bar);
    documents::send_all_pages(conn, kind, options.page_num_rows, &sender, &mut progress).await?;
    drop(sender);
    progress.finish();

    let (mut writer, num_docs) = indexing.await.map_err(|error| task_error(&error))??;
    let position = position.to_owned();
    tokio::task::spawn_blocking(move || {
        writer.commit(&position)?;
        writer.merge_into_one_segment()?;
        writer.wait_merging_threads()
    })
    .await
    .map_err(|error| task_error(&error))??;
    Ok(num_docs)
}

/// Builds documents from the pages received and adds them to their shards, until the
/// sender is dropped; returns the writer and the number of documents added.
fn index_pages(
    kind: IndexKind,
    mut writer: ShardedWriter,
    mut receiver: mpsc::Receiver<Vec<PgRow>>,
) -> Result<(ShardedWriter, u64)> {
    let mut num_docs = 0;
    while let Some(rows) = receiver.blocking_recv() {
        for row in &rows {
            let (doc_id, document) = documents::document_from_row(kind, row)?;
            writer.add_new(doc_id, document)?;
            num_docs += 1;
        }
    }
    Ok((writer, num_docs))
}

/// Bytes of stored documents compressed together. Searches read a few hundred stored
/// documents each to rank them, and reading one decompresses its whole block: at 4 KiB a
/// block holds about one record (tantivy's default of 16 KiB holds four), which took an
/// eighth off the search time for 15 % more disk.
const DOCSTORE_BLOCK_SIZE: usize = 4_096;

/// Creates an empty shard with `kind`'s schema and the analyzers registered.
fn create_shard(path: &Path, kind: IndexKind) -> Result<Index> {
    let settings = IndexSettings {
        docstore_blocksize: DOCSTORE_BLOCK_SIZE,
        docstore_compression: Compressor::Lz4,
        ..IndexSettings::default()
    };
    let index = Index::builder()
        .schema(schema::schema(kind).clone())
        .settings(settings)
        .create_in_dir(path)?;
    analyzers::register(index.tokenizers());
    Ok(index)
}

fn task_error(error: &tokio::task::JoinError) -> Error {
    Error::Task(format!("index build thread failed: {error}"))
}
