//! Verification of the indexes against PostgreSQL: per shard, document counts and an
//! order-independent checksum, and the ids that are missing, extra or different.
//!
//! Both sides are fingerprinted the same way: the index side from the stored fields and
//! the search view read back from each shard, the PostgreSQL side from documents built by the code that builds
//! them for indexing and routed to their shard. Memory: the index side holds 24 bytes per
//! indexed document (its id and fingerprint), sorted, while PostgreSQL is scanned in pages.

use std::path::Path;

use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, PgPool};
use tantivy::schema::Value;
use tantivy::{Searcher, TantivyDocument};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::documents;
use super::fingerprint::fingerprint;
use super::progress::DocumentProgress;
use super::routing::shard_of;
use super::schema;
use super::search_view;
use super::sharded::ShardedIndex;
use super::IndexKind;
use crate::{Error, Result};

/// Blocks of the document store cached while reading a segment sequentially.
const STORE_CACHE_NUM_BLOCKS: usize = 4;

/// Pages fetched ahead of the comparing thread.
const PAGES_IN_FLIGHT: usize = 2;

/// How a verification runs.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Ids listed per index and kind of drift (missing, extra, differing); counts are
    /// always complete.
    pub max_listed_ids: usize,
    /// Rows fetched from PostgreSQL per query.
    pub page_num_rows: usize,
    /// Whether to draw a progress bar (on a terminal) rather than log lines.
    pub progress_bar: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            max_listed_ids: 100,
            page_num_rows: super::build::DEFAULT_PAGE_NUM_ROWS,
            progress_bar: false,
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// The PostgreSQL snapshot (`pg_current_snapshot()`) the indexes were compared with.
    pub position: String,
    /// One entry per index verified.
    pub indexes: Vec<IndexVerifyReport>,
}

impl VerifyReport {
    /// Returns whether any index differs from PostgreSQL.
    pub fn has_drift(&self) -> bool {
        self.indexes.iter().any(IndexVerifyReport::has_drift)
    }
}

/// What the verification of one index found.
#[derive(Debug, Clone)]
pub struct IndexVerifyReport {
    /// The index.
    pub kind: IndexKind,
    /// The generation verified; `None` when the index was never built.
    pub generation: Option<String>,
    /// The feed position of each shard's last commit.
    pub positions: Vec<Option<String>>,
    /// One entry per shard.
    pub shards: Vec<ShardVerifyReport>,
    /// Documents in PostgreSQL and not in the index.
    pub num_missing: u64,
    /// Documents in the index and not in PostgreSQL.
    pub num_extra: u64,
    /// Documents in both whose stored fields differ.
    pub num_differing: u64,
    /// The first missing ids, in id order.
    pub missing: Vec<Uuid>,
    /// The first extra ids, in id order per shard.
    pub extra: Vec<Uuid>,
    /// The first differing ids, in id order.
    pub differing: Vec<Uuid>,
}

impl IndexVerifyReport {
    fn new(kind: IndexKind) -> Self {
        Self {
            kind,
            generation: None,
            positions: Vec::new(),
            shards: Vec::new(),
            num_missing: 0,
            num_extra: 0,
            num_differing: 0,
            missing: Vec::new(),
            extra: Vec::new(),
            differing: Vec::new(),
        }
    }

    /// Returns whether the index differs from PostgreSQL.
    pub fn has_drift(&self) -> bool {
        self.num_missing + self.num_extra + self.num_differing > 0
            || self.shards.iter().any(|shard| !shard.matches())
    }
}

/// Counts and checksums of one shard on both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardVerifyReport {
    /// The shard's number.
    pub shard: usize,
    /// Live documents in the shard.
    pub num_docs_index: u64,
    /// Documents PostgreSQL routes to the shard.
    pub num_docs_database: u64,
    /// Wrapping sum of the fingerprints of the shard's documents.
    pub checksum_index: u64,
    /// Wrapping sum of the fingerprints of the documents built from PostgreSQL.
    pub checksum_database: u64,
}

impl ShardVerifyReport {
    /// Returns whether counts and checksums agree.
    pub fn matches(&self) -> bool {
        self.num_docs_index == self.num_docs_database
            && self.checksum_index == self.checksum_database
    }
}

/// Compares the current generation of each of `kinds` under `dir` with PostgreSQL.
///
/// PostgreSQL is read as it is now, so an index that a follower has not caught up with yet
/// shows the changes it has still to apply as drift; verify a stopped or idle follower.
///
/// # Errors
/// Fails when PostgreSQL or an index cannot be read; drift is not an error.
pub async fn verify(
    pool: &PgPool,
    dir: &Path,
    kinds: &[IndexKind],
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    // A connection of its own: one snapshot held for the whole comparison, and no state
    // left on a pooled connection by a task cancelled mid-transaction (whose rollback
    // sqlx runs lazily, turning the next `begin` into a savepoint where the isolation
    // level can no longer be set).
    let mut connection = PgConnection::connect_with(&pool.connect_options()).await?;
    let mut transaction = connection.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *transaction)
        .await?;
    let position: String = sqlx::query_scalar("select pg_current_snapshot()::text")
        .fetch_one(&mut *transaction)
        .await?;

    let mut indexes = Vec::with_capacity(kinds.len());
    for &kind in kinds {
        let report = verify_index(&mut transaction, dir, kind, options).await?;
        tracing::info!(
            index = %kind,
            generation = report.generation.as_deref().unwrap_or("none"),
            num_missing = report.num_missing,
            num_extra = report.num_extra,
            num_differing = report.num_differing,
            "index verified"
        );
        indexes.push(report);
    }
    transaction.commit().await?;
    connection.close().await?;
    Ok(VerifyReport { position, indexes })
}

async fn verify_index(
    conn: &mut PgConnection,
    dir: &Path,
    kind: IndexKind,
    options: &VerifyOptions,
) -> Result<IndexVerifyReport> {
    let total_num_docs = documents::count(conn, kind).await?;
    let Some(index) = ShardedIndex::open_current(dir, kind)? else {
        return Ok(IndexVerifyReport {
            num_missing: total_num_docs,
            ..IndexVerifyReport::new(kind)
        });
    };

    let searchers = index.searchers();
    let indexed = tokio::task::spawn_blocking(move || read_shards(kind, &searchers))
        .await
        .map_err(|error| task_error(&error))??;
    let mut comparison = Comparison::new(kind, indexed, options.max_listed_ids);
    comparison.report.generation = Some(index.generation().to_owned());
    comparison.report.positions = index.positions();

    let (sender, mut receiver) = mpsc::channel::<Vec<PgRow>>(PAGES_IN_FLIGHT);
    let comparing = tokio::task::spawn_blocking(move || -> Result<Comparison> {
        while let Some(rows) = receiver.blocking_recv() {
            for row in &rows {
                let (doc_id, document) = documents::document_from_row(kind, row)?;
                comparison.compare(doc_id, fingerprint(kind, &document));
            }
        }
        Ok(comparison)
    });

    let mut progress =
        DocumentProgress::new(kind, "verifying", total_num_docs, options.progress_bar);
    documents::send_all_pages(conn, kind, options.page_num_rows, &sender, &mut progress).await?;
    drop(sender);
    progress.finish();
    Ok(comparing
        .await
        .map_err(|error| task_error(&error))??
        .finish())
}

/// One shard's indexed documents as `(id, fingerprint)`, sorted by id.
type ShardFingerprints = Vec<(Uuid, u64)>;

/// Reads every live document of every shard, one thread per shard.
fn read_shards(kind: IndexKind, searchers: &[Searcher]) -> Result<Vec<ShardFingerprints>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = searchers
            .iter()
            .map(|searcher| scope.spawn(move || read_shard(kind, searcher)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(Error::Task("shard reader panicked".into())))
            })
            .collect()
    })
}

fn read_shard(kind: IndexKind, searcher: &Searcher) -> Result<ShardFingerprints> {
    let id_field = schema::id_field(kind);
    let mut fingerprints =
        Vec::with_capacity(usize::try_from(searcher.num_docs()).unwrap_or_default());
    for segment_reader in searcher.segment_readers() {
        let store = segment_reader
            .get_store_reader(STORE_CACHE_NUM_BLOCKS)
            .map_err(tantivy::TantivyError::from)?;
        let view = search_view::open_column(kind, segment_reader)?;
        for doc_id in segment_reader.doc_ids_alive() {
            let mut document: TantivyDocument = store.get(doc_id)?;
            if let Some(view) = &view {
                search_view::add_view(view, doc_id, &mut document)?;
            }
            let id = document
                .get_first(id_field)
                .and_then(|value| value.as_str());
            let doc_id =
                id.and_then(|id| Uuid::parse_str(id).ok())
                    .ok_or_else(|| Error::IndexDocument {
                        index: kind.name().to_owned(),
                        reason: format!("`id` is `{}`, not a uuid", id.unwrap_or_default()),
                    })?;
            fingerprints.push((doc_id, fingerprint(kind, &document)));
        }
    }
    fingerprints.sort_unstable();
    Ok(fingerprints)
}

/// Merges the PostgreSQL documents, arriving in id order, with each shard's sorted
/// fingerprints.
struct Comparison {
    shards: Vec<ShardCursor>,
    report: IndexVerifyReport,
    max_listed_ids: usize,
}

struct ShardCursor {
    indexed: ShardFingerprints,
    next: usize,
}

impl Comparison {
    fn new(kind: IndexKind, indexed: Vec<ShardFingerprints>, max_listed_ids: usize) -> Self {
        let shard_reports = indexed
            .iter()
            .enumerate()
            .map(|(shard, fingerprints)| ShardVerifyReport {
                shard,
                num_docs_index: fingerprints.len() as u64,
                checksum_index: fingerprints
                    .iter()
                    .fold(0, |sum, (_, print)| sum.wrapping_add(*print)),
                ..ShardVerifyReport::default()
            })
            .collect();
        let shards = indexed
            .into_iter()
            .map(|indexed| ShardCursor { indexed, next: 0 })
            .collect();
        let report = IndexVerifyReport {
            shards: shard_reports,
            ..IndexVerifyReport::new(kind)
        };
        Self {
            shards,
            report,
            max_listed_ids,
        }
    }

    /// Takes the next PostgreSQL document, which has a larger id than every one before.
    fn compare(&mut self, doc_id: Uuid, print: u64) {
        let shard = shard_of(doc_id, self.shards.len());
        let shard_report = &mut self.report.shards[shard];
        shard_report.num_docs_database += 1;
        shard_report.checksum_database = shard_report.checksum_database.wrapping_add(print);

        let cursor = &mut self.shards[shard];
        while let Some(&(indexed_id, _)) = cursor
            .indexed
            .get(cursor.next)
            .filter(|(id, _)| *id < doc_id)
        {
            cursor.next += 1;
            push_bounded(
                &mut self.report.extra,
                &mut self.report.num_extra,
                indexed_id,
                self.max_listed_ids,
            );
        }
        match cursor.indexed.get(cursor.next) {
            Some(&(indexed_id, indexed_print)) if indexed_id == doc_id => {
                cursor.next += 1;
                if indexed_print != print {
                    push_bounded(
                        &mut self.report.differing,
                        &mut self.report.num_differing,
                        doc_id,
                        self.max_listed_ids,
                    );
                }
            }
            _ => push_bounded(
                &mut self.report.missing,
                &mut self.report.num_missing,
                doc_id,
                self.max_listed_ids,
            ),
        }
    }

    /// Counts what is left in the shards as extra and returns the report.
    fn finish(mut self) -> IndexVerifyReport {
        for cursor in &self.shards {
            for &(indexed_id, _) in &cursor.indexed[cursor.next..] {
                push_bounded(
                    &mut self.report.extra,
                    &mut self.report.num_extra,
                    indexed_id,
                    self.max_listed_ids,
                );
            }
        }
        self.report
    }
}

fn push_bounded(listed: &mut Vec<Uuid>, count: &mut u64, doc_id: Uuid, max_listed: usize) {
    *count += 1;
    if listed.len() < max_listed {
        listed.push(doc_id);
    }
}

fn task_error(error: &tokio::task::JoinError) -> Error {
    Error::Task(format!("index verification thread failed: {error}"))
}
