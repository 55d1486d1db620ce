//! Delay from a committed change in PostgreSQL to a searchable document, at a steady rate:
//! the follower runs in this process over an existing index directory while records are
//! inserted one transaction each, and after every follower commit the inserted records
//! are looked up by id. Shared by the `follow_latency` program and the scale harness.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use indexer::follow::{FollowOptions, Follower};
use indexer::index::{self, BuildOptions, IndexKind, ShardedIndex};
use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};
use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::Term;
use uuid::Uuid;

/// How the delay is measured.
#[derive(Debug, Clone)]
pub struct FollowBench {
    /// Changes per second.
    pub rate: u32,
    /// Seconds of changes.
    pub secs: u64,
    /// The follower's commit interval.
    pub commit_interval: Duration,
    /// Shards of indexes the follower would build (the `records` index exists already).
    pub num_shards: usize,
    /// Prefix of the probe records' ids, so that they cannot collide with real ones.
    pub probe_prefix: String,
}

/// The measured delays.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FollowFigures {
    /// Changes made.
    pub num_changes: u64,
    /// Changes never seen searchable before the wait ended.
    pub num_unseen: u64,
    /// Median delay in milliseconds.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Longest delay.
    pub max_ms: f64,
}

/// Measures the change-to-searchable delay on the `records` index in `index_dir`, which
/// must exist and must not be followed by another process meanwhile.
///
/// # Errors
/// Fails when PostgreSQL or the index fails.
pub async fn measure(
    pool: &PgPool,
    database_url: &str,
    index_dir: &Path,
    bench: &FollowBench,
) -> anyhow::Result<FollowFigures> {
    let options = FollowOptions {
        index_dir: index_dir.to_owned(),
        kinds: vec![IndexKind::Records],
        poll_interval: Duration::from_secs(1),
        commit_interval: bench.commit_interval,
        commit_num_docs: 10_000,
        build: BuildOptions {
            num_shards: bench.num_shards,
            ..BuildOptions::default()
        },
    };
    let follower = Follower::new(pool.clone(), options);
    let mut status = follower.status();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let follower_task = tokio::spawn(follower.run(async move {
        let _ = stopped.await;
    }));

    let (inserted_sender, mut inserted) = tokio::sync::mpsc::unbounded_channel();
    let writer = tokio::spawn(write_steadily(
        database_url.to_owned(),
        bench.clone(),
        inserted_sender,
    ));
    let mut index = ShardedIndex::open_current(index_dir, IndexKind::Records)?
        .ok_or_else(|| anyhow::anyhow!("no records index in `{}`", index_dir.display()))?;
    let mut pending: HashMap<Uuid, Instant> = HashMap::new();
    let mut delays = Vec::new();
    let mut num_changes = 0;
    let mut writes_done = false;
    let give_up_at = Instant::now() + Duration::from_secs(bench.secs + 60);
    while !(writes_done && pending.is_empty()) && Instant::now() < give_up_at {
        tokio::select! {
            changed = status.changed() => {
                if changed.is_err() {
                    break;
                }
                index.reload()?;
                let seen_at = Instant::now();
                pending.retain(|id, committed_at| {
                    let searchable = is_searchable(&index, *id);
                    if searchable {
                        delays.push(seen_at - *committed_at);
                    }
                    !searchable
                });
            }
            received = inserted.recv(), if !writes_done => match received {
                Some((id, committed_at)) => {
                    num_changes += 1;
                    pending.insert(id, committed_at);
                }
                None => writes_done = true,
            },
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    writer.await??;
    let _ = stop.send(());
    follower_task.await??;
    Ok(figures(num_changes, pending.len() as u64, &mut delays))
}

/// Inserts `rate` records per second for `secs` seconds, one transaction each, sending
/// every record's id with the instant its commit returned.
async fn write_steadily(
    url: String,
    bench: FollowBench,
    inserted: tokio::sync::mpsc::UnboundedSender<(Uuid, Instant)>,
) -> anyhow::Result<()> {
    let mut connection = PgConnection::connect(&url).await?;
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / bench.rate.max(1));
    for number in 0..u64::from(bench.rate) * bench.secs {
        ticker.tick().await;
        let id: Uuid = sqlx::query_scalar(
            "insert into raw_records (source, source_id, entity_type, data, checksum)
             values ('openalex', $1, 'work', jsonb_build_object('id', $1::text, 'title', 'latency probe ' || $1), md5($1))
             returning id",
        )
        .bind(format!("{}{number}", bench.probe_prefix))
        .fetch_one(&mut connection)
        .await?;
        let _ = inserted.send((id, Instant::now()));
    }
    Ok(())
}

fn is_searchable(index: &ShardedIndex, id: Uuid) -> bool {
    let shard = &index.shards()[index::shard_of(id, index.num_shards())];
    let schema = shard.index.schema();
    let Ok(id_field) = schema.get_field(index::schema::ID) else {
        return false;
    };
    let query = TermQuery::new(
        Term::from_field_text(id_field, &id.to_string()),
        IndexRecordOption::Basic,
    );
    shard
        .reader
        .searcher()
        .search(&query, &Count)
        .is_ok_and(|count| count > 0)
}

fn figures(num_changes: u64, num_unseen: u64, delays: &mut [Duration]) -> FollowFigures {
    delays.sort_unstable();
    let millis: Vec<f64> = delays
        .iter()
        .map(|delay| delay.as_secs_f64() * 1000.0)
        .collect();
    FollowFigures {
        num_changes,
        num_unseen,
        p50_ms: percentile(&millis, 0.5),
        p90_ms: percentile(&millis, 0.9),
        p99_ms: percentile(&millis, 0.99),
        max_ms: percentile(&millis, 1.0),
    }
}

/// Returns the `p` quantile (nearest rank) of sorted `values`, NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
