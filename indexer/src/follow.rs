//! The follower: keeps the indexes equal to PostgreSQL by applying the change feed.
//!
//! Each cycle opens one REPEATABLE READ snapshot, reads for every index the documents changed
//! since that index's position, re-reads them in the same snapshot and replaces them in the
//! shards. The new position goes into the tantivy commit itself, so index contents and
//! position move together: killed at any instant, the follower resumes from its last
//! commit, and re-applying a change it had already applied only re-reads a document.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::feed::{self, FeedPosition};
use crate::index::{self, BuildOptions, IndexKind, ShardedIndex, ShardedWriter};
use crate::{Error, Result};

/// The channel PostgreSQL notifies when the feed grows (see `0002_change_feed.sql`).
pub const NOTIFY_CHANNEL: &str = "atlas_index_changes";

/// Documents re-read from PostgreSQL per query.
const LOAD_CHUNK_NUM_DOCS: usize = 500;

/// How often a position alone, with no document changed, is committed: often enough that a
/// restart re-reads little of the feed, rarely enough that an idle follower on a busy
/// server (whose transaction ids move for other databases) does not commit at every poll.
const IDLE_POSITION_COMMIT_INTERVAL: Duration = Duration::from_secs(60);

/// Longest wait between two attempts to reach PostgreSQL.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// How the follower runs.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// The index directory.
    pub index_dir: PathBuf,
    /// The indexes to follow.
    pub kinds: Vec<IndexKind>,
    /// How often to look at the feed when no notification arrives.
    pub poll_interval: Duration,
    /// Longest time an applied change waits before it is committed and searchable.
    pub commit_interval: Duration,
    /// Applied documents that trigger a commit before `commit_interval` has passed.
    pub commit_num_docs: usize,
    /// Options of the build run when an index does not exist yet.
    pub build: BuildOptions,
}

/// What the follower reports about itself, for health checks and metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FollowerStatus {
    /// Whether the last attempt to reach PostgreSQL succeeded.
    pub reachable: bool,
    /// Whether every followed index is open and its position known, and the feed was looked
    /// at once (so that `reachable` says whether PostgreSQL answered).
    pub ready: bool,
    /// Seconds since the oldest change committed in PostgreSQL that is not yet searchable.
    pub lag_secs: f64,
    /// Documents applied since start.
    pub num_docs_applied: u64,
    /// Commits since start.
    pub num_commits: u64,
    /// Looks at the feed since start: one per poll interval, change notification or
    /// commit due, when PostgreSQL is reachable.
    pub num_cycles: u64,
    /// Times an index moved to another generation since start: rebuilt by another
    /// process, or by the follower itself when the feed was pruned past its position.
    pub num_generation_switches: u64,
}

/// Per followed index: its writer and how far it is.
struct FollowedIndex {
    kind: IndexKind,
    index: ShardedIndex,
    writer: ShardedWriter,
    position: FeedPosition,
    num_pending_docs: usize,
    oldest_pending_since: Option<Instant>,
    last_commit: Instant,
    committed_position: FeedPosition,
}

impl FollowedIndex {
    /// Returns how long until what the index applied since its last commit is due to be
    /// committed: documents after the commit interval (at once when they are many), a
    /// position alone after [`IDLE_POSITION_COMMIT_INTERVAL`]; `None` when nothing moved.
    fn commit_due_in(&self, options: &FollowOptions) -> Option<Duration> {
        if self.position == self.committed_position {
            return None;
        }
        if self.num_pending_docs >= options.commit_num_docs {
            return Some(Duration::ZERO);
        }
        let interval = if self.num_pending_docs > 0 {
            options.commit_interval
        } else {
            IDLE_POSITION_COMMIT_INTERVAL
        };
        Some(interval.saturating_sub(self.last_commit.elapsed()))
    }
}

/// Applies the change feed to the indexes until told to stop.
#[derive(Debug)]
pub struct Follower {
    pool: PgPool,
    options: FollowOptions,
    status: Arc<watch::Sender<FollowerStatus>>,
    reachability: AtomicU8,
}

const REACHABILITY_UNKNOWN: u8 = 0;
const REACHABLE: u8 = 1;
const UNREACHABLE: u8 = 2;

impl Follower {
    /// Creates a follower; nothing runs until [`Follower::run`].
    pub fn new(pool: PgPool, options: FollowOptions) -> Self {
        let (status, _) = watch::channel(FollowerStatus::default());
        Self {
            pool,
            options,
            status: Arc::new(status),
            reachability: AtomicU8::new(REACHABILITY_UNKNOWN),
        }
    }

    /// Returns a receiver of the follower's status.
    pub fn status(&self) -> watch::Receiver<FollowerStatus> {
        self.status.subscribe()
    }

    /// Follows the feed until `shutdown` resolves, then commits what it applied and returns.
    /// PostgreSQL going away is waited out with backoff, not returned as an error.
    ///
    /// # Errors
    /// Fails when an index cannot be opened, built or written.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
        tokio::pin!(shutdown);
        let mut followed = Vec::new();
        let mut retry_delay = Duration::from_millis(100);
        while followed.is_empty() {
            match self.open_all().await {
                Ok(opened) => followed = opened,
                Err(Error::Database(error)) => {
                    self.mark_unreachable(&error);
                    tokio::select! {
                        () = &mut shutdown => return Ok(()),
                        () = tokio::time::sleep(retry_delay) => {}
                    }
                    retry_delay = (retry_delay * 2).min(MAX_RETRY_DELAY);
                }
                Err(error) => return Err(error),
            }
        }

        let mut listener: Option<PgListener> = None;
        loop {
            if listener.is_none() {
                listener = self.listen().await;
            }
            match self.cycle(&mut followed).await {
                Ok(()) => {
                    retry_delay = Duration::from_millis(100);
                    self.mark_reachable();
                    self.status.send_modify(|status| status.num_cycles += 1);
                    self.mark_ready();
                }
                Err(Error::Database(error)) => {
                    self.mark_unreachable(&error);
                    self.mark_ready();
                    listener = None;
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(retry_delay) => {}
                    }
                    retry_delay = (retry_delay * 2).min(MAX_RETRY_DELAY);
                    continue;
                }
                Err(error) => return Err(error),
            }
            self.commit_due(&mut followed, false)?;
            self.publish_lag(&followed);

            let wait = self.next_wait(&followed);
            tokio::select! {
                () = &mut shutdown => break,
                notified = wait_for_notification(listener.as_mut(), wait) => {
                    if !notified {
                        listener = None;
                    }
                }
            }
        }
        self.commit_due(&mut followed, true)?;
        tracing::info!("follower stopped");
        Ok(())
    }

    /// Opens every followed index, building the ones that do not exist yet.
    async fn open_all(&self) -> Result<Vec<FollowedIndex>> {
        let mut followed = Vec::with_capacity(self.options.kinds.len());
        for &kind in &self.options.kinds {
            followed.push(self.open(kind).await?);
        }
        Ok(followed)
    }

    async fn open(&self, kind: IndexKind) -> Result<FollowedIndex> {
        let dir = &self.options.index_dir;
        let current = match ShardedIndex::open_current(dir, kind) {
            // Indexes derive from PostgreSQL: one an older binary built is built again.
            Err(Error::SchemaVersion {
                generation,
                found,
                expected,
                ..
            }) => {
                tracing::warn!(
                    index = kind.name(),
                    %generation,
                    found,
                    expected,
                    "the current generation has another schema version; rebuilding"
                );
                None
            }
            other => other?,
        };
        let index = match current {
            Some(index) => index,
            None => {
                tracing::info!(index = kind.name(), "building the index");
                index::build(&self.pool, dir, &[kind], &self.options.build).await?;
                ShardedIndex::open_current(dir, kind)?.ok_or_else(|| {
                    Error::Task(format!("index `{}` missing after build", kind.name()))
                })?
            }
        };
        let positions: Vec<FeedPosition> = index
            .positions()
            .into_iter()
            .map(|position| {
                let position = position.ok_or_else(|| {
                    Error::Task(format!(
                        "a shard of `{}` has no feed position; rebuild it",
                        kind.name()
                    ))
                })?;
                FeedPosition::parse(&position).map_err(Error::Task)
            })
            .collect::<Result<_>>()?;
        let position = FeedPosition::earliest(&positions)
            .ok_or_else(|| Error::Task(format!("index `{}` has no shards", kind.name())))?;
        let writer = ShardedWriter::open(&index, self.options.build.writer_heap_num_bytes)?;
        tracing::info!(index = kind.name(), generation = %index.generation(), %position, "following");
        Ok(FollowedIndex {
            kind,
            index,
            writer,
            committed_position: position.clone(),
            position,
            num_pending_docs: 0,
            oldest_pending_since: None,
            last_commit: Instant::now(),
        })
    }

    /// Applies everything committed since each index's position, in one snapshot.
    async fn cycle(&self, followed: &mut [FollowedIndex]) -> Result<()> {
        self.switch_generations(followed).await?;
        self.rebuild_pruned(followed).await?;
        let mut transaction = feed::begin_snapshot(&self.pool).await?;
        let snapshot = feed::current_position(&mut transaction).await?;
        for state in followed.iter_mut() {
            let mut changes =
                feed::read_changes(&mut transaction, state.kind.name(), &state.position).await?;
            if state.kind == IndexKind::Works {
                let of_profiles =
                    feed::read_works_of_changed_profiles(&mut transaction, &state.position).await?;
                changes.merge(of_profiles);
            }
            let ids: Vec<uuid::Uuid> = changes.by_index.into_values().flatten().collect();
            for chunk in ids.chunks(LOAD_CHUNK_NUM_DOCS) {
                let documents = index::load_documents(&mut transaction, state.kind, chunk).await?;
                for (doc_id, document) in documents {
                    match document {
                        Some(document) => state.writer.upsert(doc_id, document)?,
                        None => state.writer.delete(doc_id)?,
                    }
                }
            }
            if !ids.is_empty() {
                let read_at = Instant::now();
                let committed_at = read_at
                    .checked_sub(Duration::from_secs_f64(changes.oldest_age_secs.max(0.0)))
                    .unwrap_or(read_at);
                state.oldest_pending_since = Some(
                    state
                        .oldest_pending_since
                        .map_or(committed_at, |since| since.min(committed_at)),
                );
                state.num_pending_docs += ids.len();
                self.status
                    .send_modify(|status| status.num_docs_applied += ids.len() as u64);
                tracing::debug!(
                    index = state.kind.name(),
                    num_docs = ids.len(),
                    "applied changes"
                );
            }
            state.position = snapshot.clone();
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Rebuilds each index whose position is older than what pruning removed from the feed:
    /// the changes it has not applied are gone from the feed, but not from the tables.
    async fn rebuild_pruned(&self, followed: &mut [FollowedIndex]) -> Result<()> {
        let Some(pruned_through) = feed::pruned_through(&self.pool).await? else {
            return Ok(());
        };
        for state in followed.iter_mut() {
            if !state.position.may_miss_pruned(pruned_through) {
                continue;
            }
            tracing::warn!(
                index = state.kind.name(),
                position = %state.position,
                "the change feed was pruned past this index's position; rebuilding it"
            );
            index::build(
                &self.pool,
                &self.options.index_dir,
                &[state.kind],
                &self.options.build,
            )
            .await?;
            *state = self.open(state.kind).await?;
            self.status
                .send_modify(|status| status.num_generation_switches += 1);
        }
        Ok(())
    }

    /// Moves to a new generation when a rebuild switched one in.
    async fn switch_generations(&self, followed: &mut [FollowedIndex]) -> Result<()> {
        for state in followed.iter_mut() {
            let current = index::current_generation(&self.options.index_dir, state.kind)?;
            if current.as_deref() == Some(state.index.generation()) {
                continue;
            }
            tracing::info!(index = state.kind.name(), from = %state.index.generation(), "generation switched");
            *state = self.open(state.kind).await?;
            self.status
                .send_modify(|status| status.num_generation_switches += 1);
        }
        Ok(())
    }

    /// Commits each index whose pending changes are old or many enough, or all when `force`.
    fn commit_due(&self, followed: &mut [FollowedIndex], force: bool) -> Result<()> {
        for state in followed.iter_mut() {
            let Some(due_in) = state.commit_due_in(&self.options) else {
                continue;
            };
            if !force && !due_in.is_zero() {
                continue;
            }
            let position = state.position.clone();
            tokio::task::block_in_place(|| state.writer.commit(position.as_str()))?;
            if state.num_pending_docs > 0 {
                tracing::info!(
                    index = state.kind.name(),
                    num_docs = state.num_pending_docs,
                    %position,
                    "commit"
                );
            } else {
                tracing::debug!(index = state.kind.name(), %position, "position commit");
            }
            state.committed_position = position;
            state.num_pending_docs = 0;
            state.oldest_pending_since = None;
            state.last_commit = Instant::now();
            self.status.send_modify(|status| status.num_commits += 1);
        }
        Ok(())
    }

    /// Returns how long to sleep: until the next commit is due, at most a poll interval.
    /// The commits due now were just made, so a position that moved with no document
    /// changed waits for its own, later, commit rather than waking the loop at once.
    fn next_wait(&self, followed: &[FollowedIndex]) -> Duration {
        followed
            .iter()
            .filter_map(|state| state.commit_due_in(&self.options))
            .fold(self.options.poll_interval, Duration::min)
    }

    fn publish_lag(&self, followed: &[FollowedIndex]) {
        let lag_secs = followed
            .iter()
            .filter_map(|state| state.oldest_pending_since)
            .map(|since| since.elapsed().as_secs_f64())
            .fold(0.0, f64::max);
        self.status.send_modify(|status| status.lag_secs = lag_secs);
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await.ok()?;
        listener.listen(NOTIFY_CHANNEL).await.ok()?;
        Some(listener)
    }

    /// Publishes that every index is open and its position known, once the first look at
    /// the feed said whether PostgreSQL is reachable: a health check in between would read
    /// a ready follower as cut off from it.
    fn mark_ready(&self) {
        self.status
            .send_if_modified(|status| !std::mem::replace(&mut status.ready, true));
    }

    /// Logs once when PostgreSQL becomes unreachable, not at every retry.
    fn mark_unreachable(&self, error: &sqlx::Error) {
        let previous = self.reachability.swap(UNREACHABLE, Ordering::Relaxed);
        self.status.send_modify(|status| status.reachable = false);
        if previous != UNREACHABLE {
            tracing::warn!(%error, "postgresql unreachable; retrying with backoff");
        }
    }

    fn mark_reachable(&self) {
        let previous = self.reachability.swap(REACHABLE, Ordering::Relaxed);
        self.status.send_modify(|status| status.reachable = true);
        if previous == UNREACHABLE {
            tracing::info!("postgresql reachable again; following");
        }
    }
}

/// Waits for a notification or `timeout`; returns false when the listener broke.
async fn wait_for_notification(listener: Option<&mut PgListener>, timeout: Duration) -> bool {
    let Some(listener) = listener else {
        tokio::time::sleep(timeout).await;
        return false;
    };
    match tokio::time::timeout(timeout, listener.recv()).await {
        Ok(Ok(_)) => true,
        Ok(Err(_)) => false,
        Err(_elapsed) => true,
    }
}
