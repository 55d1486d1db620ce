//! What the worker does with each kind of job: match a profile, fan a "records imported
//! since" job out into profile jobs, or group works.

use analyzers::GivenNameVariants;
use redis::aio::ConnectionManager;
use sqlx::PgPool;

use crate::group::run_grouping;
use crate::pipeline::{run, RunOptions};
use crate::profile::all_profile_ids;
use crate::queue::{enqueue, enqueue_all, Job, JobHandler};
use crate::retrieve::CandidateSource;
use crate::Result;

/// Profile jobs added per Redis round trip when fanning out.
const FAN_OUT_BATCH_NUM_JOBS: usize = 1_000;

/// Runs matcher jobs against PostgreSQL and a candidate source.
pub struct MatcherJobs<S> {
    /// PostgreSQL.
    pub pool: PgPool,
    /// Where candidates come from.
    pub source: S,
    /// Given-name variants.
    pub variants: GivenNameVariants,
    /// How profiles are matched (the profile list and `since` are set per job).
    pub options: RunOptions,
    /// Redis, for fanning out.
    pub redis: ConnectionManager,
    /// The job stream fanned-out jobs go to.
    pub stream: String,
}

impl<S> std::fmt::Debug for MatcherJobs<S> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MatcherJobs")
            .field("options", &self.options)
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl<S: CandidateSource> JobHandler for MatcherJobs<S> {
    async fn handle(&self, job: &Job) -> Result<()> {
        match job {
            Job::Profile { profile_id, since } => {
                let options = RunOptions {
                    profile_ids: vec![*profile_id],
                    since: *since,
                    progress_bar: false,
                    ..self.options.clone()
                };
                let summary = run(&self.pool, &self.source, &self.variants, &options).await?;
                tracing::info!(
                    %profile_id,
                    num_inserted = summary.write.num_inserted,
                    num_updated = summary.write.num_updated,
                    num_superseded = summary.write.num_superseded,
                    num_auto_confirmed = summary.num_auto_confirmed,
                    "profile matched"
                );
            }
            Job::RecordsSince { since } => {
                let profile_ids = all_profile_ids(&self.pool).await?;
                let mut redis = self.redis.clone();
                for chunk in profile_ids.chunks(FAN_OUT_BATCH_NUM_JOBS) {
                    let jobs: Vec<Job> = chunk
                        .iter()
                        .map(|profile_id| Job::Profile {
                            profile_id: *profile_id,
                            since: Some(*since),
                        })
                        .collect();
                    enqueue_all(&mut redis, &self.stream, &jobs).await?;
                }
                tracing::info!(num_jobs = profile_ids.len(), %since, "profile jobs enqueued");
            }
            Job::Group => {
                let summary = run_grouping(&self.pool).await?;
                tracing::info!(?summary, "records grouped");
            }
        }
        Ok(())
    }
}

/// Enqueues `job` on `stream`; a thin wrapper for callers holding only a URL.
///
/// # Errors
/// Fails when Redis cannot be reached or refuses the job.
pub async fn enqueue_with_url(redis_url: &str, stream: &str, job: &Job) -> Result<String> {
    let client = redis::Client::open(redis_url)?;
    let mut connection = ConnectionManager::new(client).await?;
    enqueue(&mut connection, stream, job).await
}
