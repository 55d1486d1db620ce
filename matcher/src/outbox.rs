//! Relays the matching that imports and profile changes call for from PostgreSQL's
//! `matcher_outbox` (written by triggers in the changing transaction, see
//! `migrations/0006_matcher_outbox.sql`) into the Redis job stream.
//!
//! Rows are locked with `for update skip locked`, the jobs added to the stream, and the rows
//! deleted in the same transaction, so several workers relay without taking the same rows,
//! and a relay that dies between the two steps leaves its rows to the next one: jobs may be
//! queued twice, never lost. Profile changes become one profile job per profile. Imported
//! records become one grouping job and one "records since" job, but only once imports have
//! been quiet for a while: an import commits a batch every second or so, and fanning out
//! every profile after each batch would match everyone thousands of times.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use uuid::Uuid;

use crate::queue::{enqueue_all, Job};
use crate::Result;

/// How the relay runs.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// The job stream.
    pub stream: String,
    /// How long imports must have been quiet before their records are matched.
    pub quiet: Duration,
    /// Outbox rows moved per transaction.
    pub batch_num_rows: i64,
    /// Pause between two looks at an empty or not yet quiet outbox.
    pub interval: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            stream: crate::queue::DEFAULT_STREAM.to_owned(),
            quiet: Duration::from_secs(30),
            batch_num_rows: 10_000,
            interval: Duration::from_secs(5),
        }
    }
}

/// What one relay step queued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelaySummary {
    /// Outbox rows deleted.
    pub num_rows: u64,
    /// Profile jobs queued.
    pub num_profile_jobs: u64,
    /// The instant of the "records since" job queued, if one was.
    pub records_since: Option<DateTime<Utc>>,
}

/// Moves what is due in the outbox into the job stream, in one transaction; returns what
/// it queued.
///
/// # Errors
/// Fails when PostgreSQL or Redis does; the rows then stay for the next attempt.
pub async fn relay_once(
    pool: &PgPool,
    redis: &mut ConnectionManager,
    options: &RelayOptions,
) -> Result<RelaySummary> {
    let mut transaction = pool.begin().await?;
    let profile_rows: Vec<(i64, Uuid)> = sqlx::query_as(
        "select id, profile_id from matcher_outbox
         where kind = 'profile_changed'
         order by id
         limit $1
         for update skip locked",
    )
    .bind(options.batch_num_rows)
    .fetch_all(&mut *transaction)
    .await?;
    let quiet_secs = options.quiet.as_secs_f64();
    let record_rows: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "select id, since from matcher_outbox
         where kind = 'records_imported'
           and not exists (
               select 1 from matcher_outbox recent
               where recent.kind = 'records_imported'
                 and recent.created_at > now() - make_interval(secs => $1)
           )
         order by id
         for update skip locked",
    )
    .bind(quiet_secs)
    .fetch_all(&mut *transaction)
    .await?;
    if profile_rows.is_empty() && record_rows.is_empty() {
        transaction.rollback().await?;
        return Ok(RelaySummary::default());
    }

    let mut profile_ids: Vec<Uuid> = profile_rows.iter().map(|(_, id)| *id).collect();
    profile_ids.sort_unstable();
    profile_ids.dedup();
    let records_since = record_rows.iter().map(|(_, since)| *since).min();
    let mut jobs: Vec<Job> = profile_ids
        .iter()
        .map(|&profile_id| Job::Profile {
            profile_id,
            since: None,
        })
        .collect();
    if let Some(since) = records_since {
        // Grouping first, so that records of one work are one work when matched.
        jobs.push(Job::Group);
        jobs.push(Job::RecordsSince { since });
    }
    if let Err(error) = enqueue_all(redis, &options.stream, &jobs).await {
        // Unlock the rows at once: a dropped transaction is rolled back only when its
        // connection is next used, and until then every relay skips the rows it locked.
        transaction.rollback().await?;
        return Err(error);
    }

    let ids: Vec<i64> = profile_rows
        .iter()
        .map(|(id, _)| *id)
        .chain(record_rows.iter().map(|(id, _)| *id))
        .collect();
    sqlx::query("delete from matcher_outbox where id = any($1)")
        .bind(&ids)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    let summary = RelaySummary {
        num_rows: ids.len() as u64,
        num_profile_jobs: profile_ids.len() as u64,
        records_since,
    };
    tracing::info!(
        num_rows = summary.num_rows,
        num_profile_jobs = summary.num_profile_jobs,
        records_since = ?summary.records_since,
        "matching queued from the outbox"
    );
    Ok(summary)
}

/// Relays until `shutdown` resolves. Failures are logged once per outage and retried at
/// the next interval; the rows wait in PostgreSQL meanwhile.
pub async fn run_relay(
    pool: PgPool,
    mut redis: ConnectionManager,
    options: RelayOptions,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut failing = false;
    loop {
        let result = relay_once(&pool, &mut redis, &options).await;
        let more = match result {
            Ok(summary) => {
                if failing {
                    tracing::info!("outbox relay working again");
                    failing = false;
                }
                summary.num_rows as i64 >= options.batch_num_rows
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, "outbox relay failed; retrying");
                    failing = true;
                }
                false
            }
        };
        let pause = if more {
            Duration::ZERO
        } else {
            options.interval
        };
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Returns the ids of the outbox rows committed now. A full `matcher run` reads them before
/// it starts and deletes exactly them when it is done ([`delete`]): it has done what they
/// ask, while rows committed meanwhile, whatever their id, stay for the workers.
///
/// # Errors
/// Fails when PostgreSQL does.
pub async fn pending_ids(pool: &PgPool) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("select id from matcher_outbox")
        .fetch_all(pool)
        .await?)
}

/// Deletes the outbox rows `ids`; returns how many went.
///
/// # Errors
/// Fails when PostgreSQL does.
pub async fn delete(pool: &PgPool, ids: &[i64]) -> Result<u64> {
    let result = sqlx::query("delete from matcher_outbox where id = any($1)")
        .bind(ids)
        .execute(pool)
        .await?;
    Ok(result.rows_affected())
}
