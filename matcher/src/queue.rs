//! Matching jobs through a Redis stream with a consumer group: each job is delivered to one
//! worker at a time, acknowledged only after its database work committed, retried with
//! backoff when it fails, and moved to a dead-letter stream after its last attempt.
//!
//! A failed job is put back as a new entry (attempt + 1) in the same transaction that
//! acknowledges the old one, so it is never lost and never held twice. A worker that dies
//! holding a job leaves it pending; another worker claims it (XAUTOCLAIM) once it has been
//! idle for [`QueueConfig::claim_idle`], while a live worker keeps its job's idle time
//! low. Jobs are idempotent, so the rare double delivery only repeats work.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use redis::AsyncCommands;
use uuid::Uuid;

use crate::metrics::{JobOutcome, WorkerMetrics};
use crate::{Error, Result};

/// The job stream the deployment uses.
pub const DEFAULT_STREAM: &str = "atlas:matcher:jobs";
/// Where jobs go after their last attempt.
pub const DEFAULT_DEAD_STREAM: &str = "atlas:matcher:dead";
/// The consumer group every worker joins.
pub const DEFAULT_GROUP: &str = "matcher";

/// Where the queue lives and how jobs are retried.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// The job stream.
    pub stream: String,
    /// The dead-letter stream.
    pub dead_stream: String,
    /// The consumer group.
    pub group: String,
    /// This worker's name in the group; unique per worker.
    pub consumer: String,
    /// Attempts before a job is dead-lettered.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub retry_base: Duration,
    /// Longest wait between attempts.
    pub retry_max: Duration,
    /// Idle time after which another worker's pending job is taken over.
    pub claim_idle: Duration,
    /// Longest wait for a new job in one read.
    pub block: Duration,
}

impl QueueConfig {
    /// Returns the deployment's defaults for consumer `consumer`.
    pub fn new(consumer: impl Into<String>) -> Self {
        QueueConfig {
            stream: DEFAULT_STREAM.to_owned(),
            dead_stream: DEFAULT_DEAD_STREAM.to_owned(),
            group: DEFAULT_GROUP.to_owned(),
            consumer: consumer.into(),
            max_attempts: 5,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(30),
            claim_idle: Duration::from_secs(60),
            block: Duration::from_secs(5),
        }
    }

    /// Returns the wait after failed attempt number `attempt` (from 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }
}

/// What a job asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Match one profile, against records imported since an instant when given.
    Profile {
        /// The profile.
        profile_id: Uuid,
        /// Only records imported at or after this instant.
        since: Option<DateTime<Utc>>,
    },
    /// Match every profile against the records imported since an instant: fans out one
    /// profile job per profile.
    RecordsSince {
        /// The instant.
        since: DateTime<Utc>,
    },
    /// Group raw records into canonical works.
    Group,
}

impl Job {
    /// Returns the stream fields of the job.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Job::Profile { profile_id, since } => {
                let mut fields = vec![
                    ("kind", "profile".to_owned()),
                    ("profile_id", profile_id.to_string()),
                ];
                fields.extend(since.map(|since| ("since", since.to_rfc3339())));
                fields
            }
            Job::RecordsSince { since } => {
                vec![
                    ("kind", "records_since".to_owned()),
                    ("since", since.to_rfc3339()),
                ]
            }
            Job::Group => vec![("kind", "group".to_owned())],
        }
    }

    /// Reads a job from stream fields.
    ///
    /// # Errors
    /// [`Error::InvalidJob`] when the kind is unknown or a field is missing or malformed.
    pub fn from_fields(id: &str, fields: &HashMap<String, String>) -> Result<Job> {
        let invalid = |reason: String| Error::InvalidJob {
            id: id.to_owned(),
            reason,
        };
        let since = |required: bool| -> Result<Option<DateTime<Utc>>> {
            match fields.get("since") {
                Some(text) => DateTime::parse_from_rfc3339(text)
                    .map(|since| Some(since.with_timezone(&Utc)))
                    .map_err(|error| {
                        invalid(format!("`since` is not an RFC 3339 instant: {error}"))
                    }),
                None if required => Err(invalid("`since` is missing".to_owned())),
                None => Ok(None),
            }
        };
        match fields.get("kind").map(String::as_str) {
            Some("profile") => {
                let profile_id = fields
                    .get("profile_id")
                    .ok_or_else(|| invalid("`profile_id` is missing".to_owned()))?
                    .parse()
                    .map_err(|error| invalid(format!("`profile_id` is not a uuid: {error}")))?;
                Ok(Job::Profile {
                    profile_id,
                    since: since(false)?,
                })
            }
            Some("records_since") => Ok(Job::RecordsSince {
                since: since(true)?.unwrap_or_default(),
            }),
            Some("group") => Ok(Job::Group),
            Some(other) => Err(invalid(format!(
                "unknown kind `{other}`; kinds are `profile`, `records_since`, `group`"
            ))),
            None => Err(invalid("`kind` is missing".to_owned())),
        }
    }
}

/// Adds `job` to `stream` at attempt 1 and returns its entry id.
///
/// # Errors
/// Fails when Redis does.
pub async fn enqueue(
    connection: &mut ConnectionManager,
    stream: &str,
    job: &Job,
) -> Result<String> {
    Ok(connection
        .xadd(stream, "*", &first_attempt_fields(job))
        .await?)
}

/// Adds `jobs` to `stream` at attempt 1 in one round trip.
///
/// # Errors
/// Fails when Redis does.
pub async fn enqueue_all(
    connection: &mut ConnectionManager,
    stream: &str,
    jobs: &[Job],
) -> Result<()> {
    let mut pipe = redis::pipe();
    for job in jobs {
        pipe.xadd(stream, "*", &first_attempt_fields(job)).ignore();
    }
    let () = pipe.query_async(connection).await?;
    Ok(())
}

/// The stream fields of `job` at its first attempt.
fn first_attempt_fields(job: &Job) -> Vec<(&'static str, String)> {
    let mut fields = job.fields();
    fields.push(("attempt", "1".to_owned()));
    fields
}

/// Enqueues a matching job for one profile.
///
/// # Errors
/// Fails when Redis does.
pub async fn enqueue_profile(
    connection: &mut ConnectionManager,
    stream: &str,
    profile_id: Uuid,
) -> Result<String> {
    enqueue(
        connection,
        stream,
        &Job::Profile {
            profile_id,
            since: None,
        },
    )
    .await
}

/// Enqueues matching every profile against the records imported since `since`: what an
/// import runs when it is done.
///
/// # Errors
/// Fails when Redis does.
pub async fn enqueue_records_since(
    connection: &mut ConnectionManager,
    stream: &str,
    since: DateTime<Utc>,
) -> Result<String> {
    enqueue(connection, stream, &Job::RecordsSince { since }).await
}

/// Runs jobs.
pub trait JobHandler: Send + Sync {
    /// Does what `job` asks; an error makes the queue retry it.
    ///
    /// # Errors
    /// Whatever made the job fail.
    fn handle(&self, job: &Job) -> impl Future<Output = Result<()>> + Send;
}

/// A consumer of the job stream.
pub struct Worker<H> {
    connection: ConnectionManager,
    config: QueueConfig,
    handler: H,
    metrics: Arc<WorkerMetrics>,
}

impl<H> std::fmt::Debug for Worker<H> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<H: JobHandler> Worker<H> {
    /// Returns a worker; creates the stream and the consumer group when missing.
    ///
    /// # Errors
    /// Fails when Redis does.
    pub async fn new(
        mut connection: ConnectionManager,
        config: QueueConfig,
        handler: H,
        metrics: Arc<WorkerMetrics>,
    ) -> Result<Self> {
        let created: redis::RedisResult<()> = connection
            .xgroup_create_mkstream(&config.stream, &config.group, "0")
            .await;
        if let Err(error) = created {
            if error.code() != Some("BUSYGROUP") {
                return Err(error.into());
            }
        }
        Ok(Worker {
            connection,
            config,
            handler,
            metrics,
        })
    }

    /// Processes jobs until `shutdown` resolves; the job in hand is finished first, so a
    /// stop waits at most for it and one [`QueueConfig::block`].
    ///
    /// # Errors
    /// Fails only when the worker cannot go on; a failing job is retried, not returned.
    pub async fn run(&mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        tokio::pin!(shutdown);
        let mut redis_down_since: Option<std::time::Instant> = None;
        while (&mut shutdown).now_or_never().is_none() {
            match self.step().await {
                Ok(_) => {
                    if redis_down_since.take().is_some() {
                        tracing::info!("redis reachable again");
                    }
                }
                Err(Error::Redis(error)) => {
                    if redis_down_since.is_none() {
                        tracing::warn!(%error, "redis unreachable; retrying");
                        redis_down_since = Some(std::time::Instant::now());
                    }
                    tokio::time::sleep(self.config.retry_base).await;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Processes at most one job: a stale one of another worker first, else a new one,
    /// waiting up to [`QueueConfig::block`]. Returns whether a job was processed.
    ///
    /// # Errors
    /// Fails when Redis does.
    pub async fn step(&mut self) -> Result<bool> {
        if let Some(entry) = self.claim_stale().await? {
            self.process(entry).await?;
            return Ok(true);
        }
        let options = redis::streams::StreamReadOptions::default()
            .group(&self.config.group, &self.config.consumer)
            .count(1)
            .block(self.config.block.as_millis() as usize);
        let reply: Option<StreamReadReply> = self
            .connection
            .xread_options(&[&self.config.stream], &[">"], &options)
            .await?;
        let entry = reply
            .into_iter()
            .flat_map(|reply| reply.keys)
            .flat_map(|key| key.ids)
            .next();
        match entry {
            Some(entry) => {
                self.process(entry).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn claim_stale(&mut self) -> Result<Option<StreamId>> {
        let options = redis::streams::StreamAutoClaimOptions::default().count(1);
        let reply: StreamAutoClaimReply = self
            .connection
            .xautoclaim_options(
                &self.config.stream,
                &self.config.group,
                &self.config.consumer,
                self.config.claim_idle.as_millis() as usize,
                "0-0",
                options,
            )
            .await?;
        Ok(reply.claimed.into_iter().next())
    }

    /// Returns how often the entry was delivered, counting this delivery.
    async fn times_delivered(&mut self, entry_id: &str) -> Result<u32> {
        let reply: StreamPendingCountReply = self
            .connection
            .xpending_count(
                &self.config.stream,
                &self.config.group,
                entry_id,
                entry_id,
                1,
            )
            .await?;
        Ok(reply
            .ids
            .first()
            .map_or(1, |pending| pending.times_delivered as u32))
    }

    async fn process(&mut self, entry: StreamId) -> Result<()> {
        let fields: HashMap<String, String> = entry
            .map
            .iter()
            .filter_map(|(key, value)| {
                redis::from_redis_value::<String>(value)
                    .ok()
                    .map(|text| (key.clone(), text))
            })
            .collect();
        let queued_attempt: u32 = fields
            .get("attempt")
            .and_then(|attempt| attempt.parse().ok())
            .unwrap_or(1);
        // A delivery beyond the first of the same entry means a worker died holding it.
        let attempt = queued_attempt + self.times_delivered(&entry.id).await?.saturating_sub(1);

        let job = match Job::from_fields(&entry.id, &fields) {
            Ok(job) => job,
            Err(error) => {
                tracing::error!(entry = %entry.id, %error, "invalid job; dead-lettering");
                return self
                    .dead_letter(&entry.id, &fields, attempt, &error.to_string())
                    .await;
            }
        };
        if attempt > self.config.max_attempts {
            let reason = "the job was delivered more often than allowed; workers died running it";
            return self.dead_letter(&entry.id, &fields, attempt, reason).await;
        }

        tracing::debug!(entry = %entry.id, ?job, attempt, "job started");
        let heartbeat = self.start_heartbeat(&entry.id);
        let outcome = self.handler.handle(&job).await;
        match outcome {
            Ok(()) => {
                heartbeat.abort();
                let _: u64 = self
                    .connection
                    .xack(&self.config.stream, &self.config.group, &[&entry.id])
                    .await?;
                self.metrics.record(JobOutcome::Succeeded);
                tracing::info!(entry = %entry.id, ?job, attempt, "job done");
                Ok(())
            }
            Err(error) if attempt >= self.config.max_attempts => {
                heartbeat.abort();
                tracing::error!(entry = %entry.id, ?job, attempt, %error, "job failed its last attempt; dead-lettering");
                self.dead_letter(&entry.id, &fields, attempt, &error.to_string())
                    .await
            }
            Err(error) => {
                let backoff = self.config.backoff(attempt);
                tracing::warn!(entry = %entry.id, ?job, attempt, %error, backoff_ms = backoff.as_millis() as u64, "job failed; retrying");
                tokio::time::sleep(backoff).await;
                heartbeat.abort();
                self.requeue(&entry.id, &fields, attempt + 1).await
            }
        }
    }

    /// Keeps the entry's idle time low while this worker holds it, so that no other
    /// worker takes over a job that is still running.
    fn start_heartbeat(&self, entry_id: &str) -> tokio::task::JoinHandle<()> {
        let mut connection = self.connection.clone();
        let config = self.config.clone();
        let entry_id = entry_id.to_owned();
        let interval = (config.claim_idle / 3).max(Duration::from_millis(10));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let claimed: redis::RedisResult<redis::Value> = redis::cmd("XCLAIM")
                    .arg(&config.stream)
                    .arg(&config.group)
                    .arg(&config.consumer)
                    .arg(0)
                    .arg(&entry_id)
                    .arg("JUSTID")
                    .query_async(&mut connection)
                    .await;
                if let Err(error) = claimed {
                    tracing::warn!(entry = %entry_id, %error, "heartbeat failed");
                }
            }
        })
    }

    async fn requeue(
        &mut self,
        entry_id: &str,
        fields: &HashMap<String, String>,
        attempt: u32,
    ) -> Result<()> {
        let mut new_fields: Vec<(String, String)> = fields
            .iter()
            .filter(|(key, _)| key.as_str() != "attempt")
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        new_fields.sort();
        new_fields.push(("attempt".to_owned(), attempt.to_string()));
        let _: () = redis::pipe()
            .atomic()
            .xadd(&self.config.stream, "*", &new_fields)
            .ignore()
            .xack(&self.config.stream, &self.config.group, &[entry_id])
            .ignore()
            .query_async(&mut self.connection)
            .await?;
        self.metrics.record(JobOutcome::Retried);
        Ok(())
    }

    async fn dead_letter(
        &mut self,
        entry_id: &str,
        fields: &HashMap<String, String>,
        attempt: u32,
        error: &str,
    ) -> Result<()> {
        let mut dead_fields: Vec<(String, String)> = fields
            .iter()
            .filter(|(key, _)| key.as_str() != "attempt")
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        dead_fields.sort();
        dead_fields.extend([
            ("attempt".to_owned(), attempt.to_string()),
            ("error".to_owned(), error.to_owned()),
            ("original_id".to_owned(), entry_id.to_owned()),
            ("failed_at".to_owned(), Utc::now().to_rfc3339()),
        ]);
        let _: () = redis::pipe()
            .atomic()
            .xadd(&self.config.dead_stream, "*", &dead_fields)
            .ignore()
            .xack(&self.config.stream, &self.config.group, &[entry_id])
            .ignore()
            .query_async(&mut self.connection)
            .await?;
        self.metrics.record(JobOutcome::DeadLettered);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_through_fields() {
        let jobs = [
            Job::Profile {
                profile_id: Uuid::nil(),
                since: None,
            },
            Job::RecordsSince {
                since: DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc),
            },
            Job::Group,
        ];
        for job in jobs {
            let fields: HashMap<String, String> = job
                .fields()
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect();
            assert_eq!(Job::from_fields("1-0", &fields).unwrap(), job);
        }
        let unknown: HashMap<String, String> = [("kind".to_owned(), "reindex".to_owned())].into();
        assert!(Job::from_fields("1-0", &unknown).is_err());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = QueueConfig::new("test");
        assert_eq!(config.backoff(1), Duration::from_secs(1));
        assert_eq!(config.backoff(3), Duration::from_secs(4));
        assert_eq!(config.backoff(10), Duration::from_secs(30));
    }
}
