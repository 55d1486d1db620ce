//! The `matcher` binary's configuration and commands.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use analyzers::GivenNameVariants;
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use matcher::group::{run_grouping, GroupSummary};
use matcher::jobs::MatcherJobs;
use matcher::metrics::{serve_metrics, WorkerMetrics};
use matcher::outbox::{run_relay, RelayOptions};
use matcher::pipeline::{
    run, RunOptions, RunSummary, DEFAULT_BATCH_NUM_PROFILES, DEFAULT_LIMIT_PER_PROFILE,
};
use matcher::queue::{enqueue, Job, QueueConfig, Worker};
use matcher::retrieve::{CandidateRequest, CandidateSource, SearchApiClient};
use sqlx::PgPool;
use uuid::Uuid;

/// Candidate generation, auto-confirmation and work grouping for Atlas.
#[derive(Debug, Parser)]
#[command(name = "matcher", version, about)]
pub struct Cli {
    /// PostgreSQL connection URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/atlas",
        global = true
    )]
    database_url: String,

    /// Log format: `text`, `json`, or `auto` (text on a terminal).
    #[arg(long, env = "ATLAS_LOG_FORMAT", default_value = "auto", global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    Auto,
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Groups works, then matches every profile (or those named) and auto-confirms.
    Run(RunArgs),
    /// Groups raw records into canonical works.
    Group(GroupArgs),
    /// Consumes matching jobs from the Redis stream until stopped.
    Worker(WorkerArgs),
    /// Adds jobs to the Redis stream.
    Enqueue(EnqueueArgs),
    /// Measures grouping and matching on the benchmark data sets in a throwaway database.
    Evaluate(EvaluateArgs),
}

#[derive(Debug, Clone, Args)]
struct SearchArgs {
    /// Base URL of the search API, whose `POST /candidates` retrieves candidates.
    #[arg(long, env = "ATLAS_SEARCH_URL")]
    search_url: Option<String>,

    /// The same as `--search-url`, under the name the Kubernetes config map uses.
    #[arg(long, env = "ATLAS_SEARCH_API_URL", hide = true)]
    search_api_url: Option<String>,

    /// API key sent as a bearer token to the search API; it needs the `search` action on
    /// the `records` index.
    #[arg(long, env = "ATLAS_SEARCH_API_KEY", hide_env_values = true)]
    search_api_key: Option<String>,

    /// The search API's master key, used as the bearer token when no API key is set.
    #[arg(long, env = "ATLAS_MASTER_KEY", hide = true, hide_env_values = true)]
    master_key: Option<String>,

    /// Longest wait for one candidate request, in seconds.
    #[arg(long, env = "ATLAS_SEARCH_TIMEOUT_SECS", default_value_t = 120)]
    search_timeout_secs: u64,

    /// Given-name variant tables, comma-separated files or directories holding them; the
    /// names data set in `../shared/data/names` when unset and present.
    #[arg(long, env = "ATLAS_NAME_VARIANTS", value_delimiter = ',')]
    name_variants: Vec<PathBuf>,
}

impl SearchArgs {
    fn client(&self) -> anyhow::Result<SearchApiClient> {
        let url = [&self.search_url, &self.search_api_url]
            .into_iter()
            .flatten()
            .find(|url| !url.is_empty())
            .cloned()
            .unwrap_or_else(|| "http://127.0.0.1:7700".to_owned());
        let key = self
            .search_api_key
            .clone()
            .or_else(|| self.master_key.clone());
        tracing::info!(search_url = %url, has_api_key = key.is_some(), "search api");
        SearchApiClient::new(&url, key, Duration::from_secs(self.search_timeout_secs))
            .context("failed to build the search api client")
    }

    fn variants(&self) -> anyhow::Result<GivenNameVariants> {
        let paths: Vec<PathBuf> = if self.name_variants.is_empty() {
            analyzers::default_variant_tables()
        } else {
            self.name_variants.clone()
        };
        if paths.is_empty() {
            tracing::warn!(
                "no given-name variant tables; only identical given names and initials agree"
            );
        }
        GivenNameVariants::load_all(&paths).context("failed to load the given-name variant tables")
    }
}

#[derive(Debug, Clone, Args)]
struct MatchArgs {
    /// Profiles per candidate request, 1 to 1,000.
    #[arg(long, env = "ATLAS_MATCHER_BATCH_PROFILES", default_value_t = DEFAULT_BATCH_NUM_PROFILES,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000))]
    batch_profiles: usize,

    /// Records asked of the search API per profile, 1 to 10,000.
    #[arg(long, env = "ATLAS_MATCHER_LIMIT_PER_PROFILE", default_value_t = DEFAULT_LIMIT_PER_PROFILE,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    limit_per_profile: usize,

    /// Auto-confirmation threshold of profiles whose settings set none.
    #[arg(long, env = "ATLAS_AUTO_CONFIRM_THRESHOLD", default_value_t = matcher::confirm::DEFAULT_AUTO_CONFIRM_THRESHOLD)]
    auto_confirm_threshold: f64,

    /// Write candidates only; confirm nothing automatically.
    #[arg(long, env = "ATLAS_MATCHER_NO_AUTO_CONFIRM")]
    no_auto_confirm: bool,
}

impl MatchArgs {
    fn options(&self) -> anyhow::Result<RunOptions> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.auto_confirm_threshold),
            "invalid value `{}` for `--auto-confirm-threshold`; give a number between 0 and 1",
            self.auto_confirm_threshold
        );
        Ok(RunOptions {
            batch_num_profiles: self.batch_profiles,
            limit_per_profile: self.limit_per_profile,
            default_threshold: self.auto_confirm_threshold,
            auto_confirm: !self.no_auto_confirm,
            ..RunOptions::default()
        })
    }
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Match only these profiles (repeat, or comma-separate); grouping is then skipped.
    #[arg(
        long = "profile",
        env = "ATLAS_MATCHER_PROFILES",
        value_delimiter = ','
    )]
    profiles: Vec<Uuid>,

    /// Only records imported at or after this instant (RFC 3339) become candidates.
    #[arg(long, env = "ATLAS_MATCHER_SINCE", value_parser = parse_instant)]
    since: Option<DateTime<Utc>>,

    /// Do not group works before matching.
    #[arg(long, env = "ATLAS_MATCHER_SKIP_GROUPING")]
    skip_grouping: bool,

    /// Do not apply migrations first.
    #[arg(long, env = "ATLAS_SKIP_MIGRATIONS")]
    skip_migrations: bool,

    #[command(flatten)]
    search: SearchArgs,

    #[command(flatten)]
    matching: MatchArgs,
}

#[derive(Debug, Args)]
struct GroupArgs {
    /// Do not apply migrations first.
    #[arg(long, env = "ATLAS_SKIP_MIGRATIONS")]
    skip_migrations: bool,
}

#[derive(Debug, Clone, Args)]
struct QueueArgs {
    /// Redis URL.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,

    /// Prefix of every Redis key, shared with the search API: deployments sharing one Redis
    /// keep their jobs apart by it. The streams below default to `{prefix}matcher:jobs` and
    /// `{prefix}matcher:dead`.
    #[arg(long, env = "ATLAS_REDIS_KEY_PREFIX", default_value = "atlas:")]
    redis_key_prefix: String,

    /// The job stream; `{prefix}matcher:jobs` when unset.
    #[arg(long, env = "ATLAS_MATCHER_STREAM")]
    stream: Option<String>,

    /// The dead-letter stream; `{prefix}matcher:dead` when unset.
    #[arg(long, env = "ATLAS_MATCHER_DEAD_STREAM")]
    dead_stream: Option<String>,

    /// The consumer group.
    #[arg(long, env = "ATLAS_MATCHER_GROUP", default_value = matcher::queue::DEFAULT_GROUP)]
    consumer_group: String,
}

impl QueueArgs {
    fn stream(&self) -> String {
        self.stream
            .clone()
            .filter(|stream| !stream.is_empty())
            .unwrap_or_else(|| format!("{}matcher:jobs", self.redis_key_prefix))
    }

    fn dead_stream(&self) -> String {
        self.dead_stream
            .clone()
            .filter(|stream| !stream.is_empty())
            .unwrap_or_else(|| format!("{}matcher:dead", self.redis_key_prefix))
    }
}

#[derive(Debug, Args)]
struct WorkerArgs {
    #[command(flatten)]
    queue: QueueArgs,

    /// This worker's name in the consumer group; unique per worker (the pod name). The
    /// host name and process id when unset.
    #[arg(long, env = "ATLAS_MATCHER_CONSUMER")]
    consumer: Option<String>,

    /// Attempts before a job moves to the dead-letter stream.
    #[arg(long, env = "ATLAS_MATCHER_MAX_ATTEMPTS", default_value_t = 5)]
    max_attempts: u32,

    /// Wait before a failed job's second attempt, in milliseconds; doubled each time.
    #[arg(long, env = "ATLAS_MATCHER_RETRY_BASE_MS", default_value_t = 1_000)]
    retry_base_ms: u64,

    /// Longest wait between attempts, in milliseconds.
    #[arg(long, env = "ATLAS_MATCHER_RETRY_MAX_MS", default_value_t = 30_000)]
    retry_max_ms: u64,

    /// Idle time in milliseconds after which a job held by a silent worker is taken over.
    #[arg(long, env = "ATLAS_MATCHER_CLAIM_IDLE_MS", default_value_t = 60_000)]
    claim_idle_ms: u64,

    /// Address of the Prometheus `/metrics` endpoint.
    #[arg(long, env = "ATLAS_METRICS_ADDR", default_value = "127.0.0.1:9464")]
    metrics_addr: SocketAddr,

    /// Seconds imports must have been quiet before the records they added are matched
    /// (queued from the outbox PostgreSQL keeps of imports and profile changes).
    #[arg(long, env = "ATLAS_MATCHER_OUTBOX_QUIET_SECS", default_value_t = 30)]
    outbox_quiet_secs: u64,

    /// Milliseconds between two looks at the outbox.
    #[arg(
        long,
        env = "ATLAS_MATCHER_OUTBOX_INTERVAL_MS",
        default_value_t = 5_000
    )]
    outbox_interval_ms: u64,

    #[command(flatten)]
    search: SearchArgs,

    #[command(flatten)]
    matching: MatchArgs,
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("jobs")
        .required(true)
        .multiple(true)
        .args(["profiles", "all_profiles", "since", "group"])
))]
struct EnqueueArgs {
    #[command(flatten)]
    queue: QueueArgs,

    /// Enqueue matching these profiles (repeat, or comma-separate).
    #[arg(long = "profile", value_delimiter = ',')]
    profiles: Vec<Uuid>,

    /// Enqueue matching every profile.
    #[arg(long)]
    all_profiles: bool,

    /// Enqueue matching every profile against the records imported at or after this
    /// instant (RFC 3339): what to run after an import.
    #[arg(long, value_parser = parse_instant)]
    since: Option<DateTime<Utc>>,

    /// Enqueue work grouping.
    #[arg(long)]
    group: bool,
}

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// Which data set.
    #[arg(value_enum, default_value = "all")]
    dataset: Dataset,

    /// Where the real sample data lives.
    #[arg(long, env = "ATLAS_SAMPLES_DIR", default_value = "../shared/data")]
    samples_dir: PathBuf,

    /// The search-api binary the S2AND evaluation starts on its throwaway database.
    #[arg(
        long,
        env = "ATLAS_SEARCH_API_BIN",
        default_value = "target/release/search-api"
    )]
    search_api_bin: PathBuf,

    /// Share of each person's mentions that builds the profile (S2AND); the rest is
    /// matched.
    #[arg(long, default_value_t = 0.5)]
    profile_share: f64,

    /// Records asked of the search API per profile (S2AND), 1 to 10,000.
    #[arg(long, env = "ATLAS_MATCHER_LIMIT_PER_PROFILE", default_value_t = DEFAULT_LIMIT_PER_PROFILE,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    limit_per_profile: usize,

    #[command(flatten)]
    search: SearchArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Dataset {
    /// DBLP-ACM: work grouping.
    DblpAcm,
    /// S2AND Qian: candidate retrieval and auto-confirmation.
    S2and,
    /// Both.
    All,
}

/// Runs the command.
///
/// # Errors
/// Whatever made it fail, with context.
pub async fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run_command(&cli.database_url, args).await,
        Command::Group(args) => {
            let pool = connect(&cli.database_url, !args.skip_migrations).await?;
            let summary = run_grouping(&pool).await.context("failed to group works")?;
            print_group_summary(&summary);
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker(args) => worker_command(&cli.database_url, args).await,
        Command::Enqueue(args) => enqueue_command(&cli.database_url, args).await,
        Command::Evaluate(args) => evaluate_command(args).await,
    }
}

async fn connect(database_url: &str, migrate: bool) -> anyhow::Result<PgPool> {
    let pool = indexer::db::connect(database_url, 8)
        .await
        .with_context(|| {
            format!(
                "failed to connect to `{}`",
                indexer::db::redact_url(database_url)
            )
        })?;
    if migrate {
        indexer::db::migrate(&pool)
            .await
            .context("failed to apply migrations")?;
    }
    Ok(pool)
}

/// Parses an RFC 3339 instant, naming the expected form when the text is not one.
fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|error| {
            format!("`{text}` is not an RFC 3339 instant such as 2026-12-01T00:00:00Z ({error})")
        })
}

/// Refuses `--profile` ids that name no profile, all of them in one message.
async fn ensure_profiles_exist(pool: &PgPool, profile_ids: &[Uuid]) -> anyhow::Result<()> {
    if profile_ids.is_empty() {
        return Ok(());
    }
    let known: Vec<Uuid> = sqlx::query_scalar("select id from author_profiles where id = any($1)")
        .bind(profile_ids)
        .fetch_all(pool)
        .await
        .context("failed to look the profiles up")?;
    let unknown: Vec<String> = profile_ids
        .iter()
        .filter(|id| !known.contains(id))
        .map(Uuid::to_string)
        .collect();
    anyhow::ensure!(
        unknown.is_empty(),
        "invalid `--profile`: no profile {} in the database",
        unknown.join(", ")
    );
    Ok(())
}

async fn run_command(database_url: &str, args: RunArgs) -> anyhow::Result<ExitCode> {
    let pool = connect(database_url, !args.skip_migrations).await?;
    let variants = args.search.variants()?;
    let client = args.search.client()?;
    let mut options = args.matching.options()?;
    ensure_profiles_exist(&pool, &args.profiles).await?;
    options.profile_ids = args.profiles.clone();
    options.since = args.since;
    options.progress_bar = std::io::stderr().is_terminal();

    let is_subset = !args.profiles.is_empty() || args.since.is_some();
    let is_full = !args.skip_grouping && !is_subset;
    // What the outbox asks for now, a full run does; rows committed during the run stay.
    let outbox_ids = if is_full {
        matcher::outbox::pending_ids(&pool).await?
    } else {
        Vec::new()
    };
    if is_full {
        // Grouping takes minutes on a large database: a search API that cannot answer is
        // named before it, not after.
        let probe = CandidateRequest {
            profiles: Vec::new(),
            limit_per_profile: 1,
            show_matches: false,
        };
        client.candidates(&probe).await.context(
            "the search API cannot answer for candidates (ATLAS_SEARCH_URL); nothing was \
             grouped or matched",
        )?;
        let summary = run_grouping(&pool).await.context("failed to group works")?;
        print_group_summary(&summary);
    }
    let summary = run(&pool, &client, &variants, &options)
        .await
        .context("failed to match profiles")?;
    print_run_summary(&summary);
    if !outbox_ids.is_empty() {
        let num_cleared = matcher::outbox::delete(&pool, &outbox_ids).await?;
        tracing::debug!(num_cleared, "outbox rows done by this run");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_run_summary(summary: &RunSummary) {
    println!(
        "matched {} profiles in {:.1} s: {} records retrieved, {} already verified, {} without evidence",
        summary.num_profiles,
        summary.elapsed_secs,
        summary.num_hits,
        summary.num_known,
        summary.num_dropped
    );
    println!(
        "candidates: {} new, {} updated, {} unchanged or already decided, {} pending on an \
         older version removed",
        summary.write.num_inserted,
        summary.write.num_updated,
        summary.write.num_unchanged,
        summary.write.num_superseded
    );
    println!(
        "auto-confirmed: {} ({} canonical works created)",
        summary.num_auto_confirmed, summary.num_works_created
    );
    let stages = &summary.stages;
    println!(
        "seconds: {:.1} retrieving candidates, {:.1} reading records, {:.1} scoring, {:.1} \
         writing, {:.1} auto-confirming",
        stages.retrieve, stages.load, stages.score, stages.write, stages.confirm
    );
}

fn print_group_summary(summary: &GroupSummary) {
    println!(
        "grouped {} record versions in {:.1} s: {} pairs compared, {} joined by title",
        summary.num_records,
        summary.elapsed_secs,
        summary.num_candidate_pairs,
        summary.num_fuzzy_joins
    );
    println!(
        "works: {} groups, {} created, {} updated, {} merged away, {} unchanged",
        summary.num_groups,
        summary.num_works_created,
        summary.num_works_updated,
        summary.num_works_merged,
        summary.num_works_unchanged
    );
}

/// How long the matcher waits for Redis to accept a connection.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the matcher waits for an answer from Redis: far longer than a worker's
/// blocking read of the job stream.
const REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to Redis, failing within seconds when nothing answers at `url` rather than
/// retrying without a word (a worker's supervisor restarts it and shows why).
async fn redis_connection(url: &str) -> anyhow::Result<redis::aio::ConnectionManager> {
    let client = redis::Client::open(url).context("invalid redis url (REDIS_URL)")?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(REDIS_CONNECT_TIMEOUT)
        .set_response_timeout(REDIS_RESPONSE_TIMEOUT)
        .set_number_of_retries(2)
        .set_max_delay(1_000);
    let connecting = redis::aio::ConnectionManager::new_with_config(client, config);
    tokio::time::timeout(REDIS_CONNECT_TIMEOUT * 3, connecting)
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "redis (REDIS_URL) did not answer within {} s",
                (REDIS_CONNECT_TIMEOUT * 3).as_secs()
            )
        })?
        .context("cannot connect to redis (REDIS_URL)")
}

async fn worker_command(database_url: &str, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    // Workers reach PostgreSQL through the transaction pooler, where migrations' session
    // locks do not hold; the migration job applies them.
    let pool = connect(database_url, false).await?;
    let variants = args.search.variants()?;
    let client = args.search.client()?;
    let options = args.matching.options()?;
    let consumer = args
        .consumer
        .clone()
        .filter(|consumer| !consumer.is_empty())
        .unwrap_or_else(default_consumer_name);
    let config = QueueConfig {
        stream: args.queue.stream(),
        dead_stream: args.queue.dead_stream(),
        group: args.queue.consumer_group.clone(),
        consumer,
        max_attempts: args.max_attempts.max(1),
        retry_base: Duration::from_millis(args.retry_base_ms),
        retry_max: Duration::from_millis(args.retry_max_ms),
        claim_idle: Duration::from_millis(args.claim_idle_ms),
        ..QueueConfig::new("")
    };
    let metrics = Arc::new(WorkerMetrics::new());
    let metrics_server = serve_metrics(args.metrics_addr, Arc::clone(&metrics))
        .await
        .with_context(|| format!("failed to serve metrics on `{}`", args.metrics_addr))?;
    let redis = redis_connection(&args.queue.redis_url).await?;
    let handler = MatcherJobs {
        pool,
        source: client,
        variants,
        options,
        redis: redis.clone(),
        stream: config.stream.clone(),
    };
    let relay_options = RelayOptions {
        stream: config.stream.clone(),
        quiet: Duration::from_secs(args.outbox_quiet_secs),
        interval: Duration::from_millis(args.outbox_interval_ms.max(1)),
        ..RelayOptions::default()
    };
    let (stop_relay, relay_stopped) = tokio::sync::oneshot::channel::<()>();
    let relay = tokio::spawn(run_relay(
        handler.pool.clone(),
        redis.clone(),
        relay_options,
        async move {
            let _ = relay_stopped.await;
        },
    ));
    tracing::info!(consumer = %config.consumer, stream = %config.stream, "worker started");
    let mut worker = Worker::new(redis, config, handler, metrics)
        .await
        .context("failed to join the consumer group")?;
    let result = worker.run(indexer::shutdown::signal()).await;
    let _ = stop_relay.send(());
    let _ = relay.await;
    result.context("the worker stopped")?;
    metrics_server.abort();
    tracing::info!("worker stopped");
    Ok(ExitCode::SUCCESS)
}

fn default_consumer_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "matcher".to_owned());
    format!("{host}-{}", std::process::id())
}

async fn enqueue_command(database_url: &str, args: EnqueueArgs) -> anyhow::Result<ExitCode> {
    // A job for a profile that does not exist would be consumed and do nothing.
    if !args.profiles.is_empty() {
        let pool = connect(database_url, false).await?;
        ensure_profiles_exist(&pool, &args.profiles).await?;
    }
    let mut jobs: Vec<Job> = args
        .profiles
        .iter()
        .map(|profile_id| Job::Profile {
            profile_id: *profile_id,
            since: None,
        })
        .collect();
    if let Some(since) = args.since {
        jobs.push(Job::RecordsSince { since });
    }
    if args.all_profiles {
        jobs.push(Job::RecordsSince {
            since: DateTime::<Utc>::UNIX_EPOCH,
        });
    }
    if args.group {
        jobs.push(Job::Group);
    }
    let mut redis = redis_connection(&args.queue.redis_url).await?;
    for job in &jobs {
        let id = enqueue(&mut redis, &args.queue.stream(), job)
            .await
            .context("failed to enqueue")?;
        println!("enqueued {id} {job:?}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn evaluate_command(args: EvaluateArgs) -> anyhow::Result<ExitCode> {
    let variants = args.search.variants()?;
    if matches!(args.dataset, Dataset::DblpAcm | Dataset::All) {
        let report = matcher::evaluate::dblp_acm::evaluate(&args.samples_dir.join("dblp-acm"))
            .await
            .context("failed to evaluate on DBLP-ACM")?;
        println!("{}", report.to_markdown());
    }
    if matches!(args.dataset, Dataset::S2and | Dataset::All) {
        let options = matcher::evaluate::s2and::S2andOptions {
            data_dir: args.samples_dir.join("s2and-qian"),
            search_api_bin: args.search_api_bin.clone(),
            name_variant_paths: args.search.name_variants.clone(),
            profile_share: args.profile_share,
            limit_per_profile: args.limit_per_profile,
        };
        let report = matcher::evaluate::s2and::evaluate(&options, &variants)
            .await
            .context("failed to evaluate on S2AND")?;
        println!("{}", report.to_markdown());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    fn queue_of(args: &[&str]) -> super::QueueArgs {
        let cli = <Cli as clap::Parser>::try_parse_from(args).unwrap();
        match cli.command {
            super::Command::Enqueue(enqueue) => enqueue.queue,
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn the_streams_follow_the_redis_key_prefix_unless_named() {
        let queue = queue_of(&[
            "matcher",
            "enqueue",
            "--group",
            "--redis-key-prefix=site-b:",
        ]);
        assert_eq!(queue.stream(), "site-b:matcher:jobs");
        assert_eq!(queue.dead_stream(), "site-b:matcher:dead");

        let queue = queue_of(&[
            "matcher",
            "enqueue",
            "--group",
            "--redis-key-prefix=site-b:",
            "--stream=jobs",
            "--dead-stream=dead",
        ]);
        assert_eq!(queue.stream(), "jobs");
        assert_eq!(queue.dead_stream(), "dead");
    }
}
