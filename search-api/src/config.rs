//! The configuration of the `search-api` binary: one clap `Config`, each option a flag and
//! an environment variable, checked once at start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use indexer::follow::FollowOptions;
use indexer::index::{BuildOptions, IndexKind, MIN_SHARD_HEAP_NUM_BYTES};

use crate::auth::master_key::{MasterKey, MasterKeyError};
use crate::limits::{DEFAULT_HEADER_READ_TIMEOUT_MS, DEFAULT_REQUEST_BODY_TIMEOUT_MS};

/// Serves the Atlas indexes over Meilisearch's HTTP API, following PostgreSQL's change feed.
#[derive(Debug, Clone, Parser)]
#[command(name = "search-api", version, about)]
pub struct Config {
    /// Address the HTTP server listens on.
    #[arg(long, env = "ATLAS_HTTP_ADDR", default_value = "127.0.0.1:7700")]
    pub http_addr: SocketAddr,

    /// PostgreSQL connection URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/atlas"
    )]
    pub database_url: String,

    /// Connections to PostgreSQL kept by the API (keys, settings, readiness); the follower
    /// takes its own.
    #[arg(long, env = "ATLAS_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,

    /// Redis URL, for the response cache and the rate limits. Without Redis the API still
    /// serves, uncached and with per-process rate limits.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,

    /// Prefix of every Redis key the API writes, so that several deployments can share one
    /// Redis.
    #[arg(long, env = "ATLAS_REDIS_KEY_PREFIX", default_value = "atlas:")]
    pub redis_key_prefix: String,

    /// Longest wait for Redis in milliseconds, connecting or answering; past it the request
    /// goes on as if Redis were down.
    #[arg(long, env = "ATLAS_REDIS_TIMEOUT_MS", default_value_t = 250)]
    pub redis_timeout_ms: u64,

    /// Directory holding the indexes: {dir}/{index}/CURRENT, gen-{N}/…
    #[arg(long, env = "ATLAS_INDEX_DIR", default_value = "./data/indexes")]
    pub index_dir: PathBuf,

    /// Indexes to follow: records, works or profiles, comma-separated; all three when empty.
    #[arg(long = "index", env = "ATLAS_INDEXES", value_delimiter = ',')]
    pub indexes: Vec<IndexKind>,

    /// Shards of an index built at start because it did not exist; the number of cores
    /// when unset.
    #[arg(long, env = "ATLAS_SHARDS")]
    pub shards: Option<usize>,

    /// Writer memory per index in MB, shared by its shards (at least 15 MB per shard).
    #[arg(long, env = "ATLAS_WRITER_HEAP_MB", default_value_t = 128)]
    pub writer_heap_mb: usize,

    /// Rows read from PostgreSQL per query when an index is built at start.
    #[arg(long, env = "ATLAS_BUILD_PAGE_ROWS", default_value_t = 1_000)]
    pub build_page_rows: usize,

    /// Longest time in milliseconds an applied change waits before it is committed and
    /// searchable.
    #[arg(long, env = "ATLAS_COMMIT_INTERVAL_MS", default_value_t = 500)]
    pub commit_interval_ms: u64,

    /// Applied documents that trigger a commit before the interval has passed.
    #[arg(long, env = "ATLAS_COMMIT_DOCS", default_value_t = 10_000)]
    pub commit_docs: usize,

    /// How often in milliseconds the follower looks at the feed when no notification
    /// arrives.
    #[arg(long, env = "ATLAS_POLL_INTERVAL_MS", default_value_t = 1_000)]
    pub poll_interval_ms: u64,

    /// The master key. Without it (development only) every route is open; with it every
    /// request needs `Authorization: Bearer <key>`. At least 16 bytes.
    #[arg(long, env = "ATLAS_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// `development` or `production`; production refuses to start without a master key.
    #[arg(long = "env", env = "ATLAS_ENV", default_value = "development")]
    pub environment: Environment,

    /// Log format: `text` for people, `json` for log collectors, `auto` picks text on a
    /// terminal and JSON otherwise.
    #[arg(long, env = "ATLAS_LOG_FORMAT", default_value = "auto")]
    pub log_format: LogFormat,

    /// Log filter in tracing's EnvFilter syntax.
    #[arg(long, env = "ATLAS_LOG", default_value = "info,sqlx=warn,tantivy=warn")]
    pub log_filter: String,

    /// Seconds a search response stays in the Redis cache; 0 disables the cache. A commit
    /// changes the index generation in the key, so the cache never serves stale hits.
    #[arg(long, env = "ATLAS_CACHE_TTL_SECS", default_value_t = 60)]
    pub cache_ttl_secs: u64,

    /// Requests per minute allowed to one API key (or one client address when routes are
    /// open); 0 disables rate limiting.
    #[arg(long, env = "ATLAS_RATE_LIMIT_PER_MIN", default_value_t = 1_200)]
    pub rate_limit_per_min: u32,

    /// Largest follower lag, in seconds, at which `/health/ready` still answers ready.
    #[arg(long, env = "ATLAS_READY_MAX_LAG_SECS", default_value_t = 60.0)]
    pub ready_max_lag_secs: f64,

    /// Given-name variant tables for candidate retrieval, comma-separated files or
    /// directories holding them; the names data set in `../shared/data/names` when unset
    /// and present.
    #[arg(long, env = "ATLAS_NAME_VARIANTS", value_delimiter = ',')]
    pub name_variants: Vec<PathBuf>,

    /// Milliseconds a client has to send a request's headers before its connection is
    /// closed.
    #[arg(long, env = "ATLAS_HEADER_READ_TIMEOUT_MS", default_value_t = DEFAULT_HEADER_READ_TIMEOUT_MS)]
    pub header_read_timeout_ms: u64,

    /// Longest pause in milliseconds while a client sends a request body; past it the
    /// request is refused and its connection closed.
    #[arg(long, env = "ATLAS_REQUEST_BODY_TIMEOUT_MS", default_value_t = DEFAULT_REQUEST_BODY_TIMEOUT_MS)]
    pub request_body_timeout_ms: u64,

    /// Seconds given to requests in flight and to the follower's last commit at shutdown.
    #[arg(long, env = "ATLAS_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
}

/// Where the service runs, which decides what it refuses to start without.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Environment {
    /// Routes may be open when no master key is set.
    Development,
    /// A master key is required.
    Production,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    Auto,
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A configuration that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Production without a master key.
    #[error("`ATLAS_MASTER_KEY` is required when `ATLAS_ENV=production`")]
    MissingMasterKey,
    /// The master key is unusable.
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    /// A number out of its range.
    #[error("invalid value for `{option}`: {reason}")]
    OutOfRange {
        /// The option.
        option: &'static str,
        /// Why.
        reason: String,
    },
}

impl Config {
    /// Returns the master key, checked, or `None` in development without one.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingMasterKey`] in production without a key;
    /// [`ConfigError::MasterKey`] for a key shorter than 16 bytes.
    pub fn checked_master_key(&self) -> Result<Option<MasterKey>, ConfigError> {
        // An empty variable, as `.env.example` leaves it, is no master key.
        let master_key = self.master_key.as_deref().filter(|key| !key.is_empty());
        match (master_key, self.environment) {
            (None, Environment::Production) => Err(ConfigError::MissingMasterKey),
            (None, Environment::Development) => Ok(None),
            (Some(key), _) => Ok(Some(MasterKey::new(key)?)),
        }
    }

    /// Checks every option that clap cannot check alone.
    ///
    /// # Errors
    ///
    /// The first option out of its range, or an unusable master key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.checked_master_key()?;
        if !(self.ready_max_lag_secs.is_finite() && self.ready_max_lag_secs >= 0.0) {
            return Err(ConfigError::OutOfRange {
                option: "ATLAS_READY_MAX_LAG_SECS",
                reason: "expected a non-negative number of seconds".to_owned(),
            });
        }
        if self.shards == Some(0) {
            return Err(ConfigError::OutOfRange {
                option: "ATLAS_SHARDS",
                reason: "expected at least one shard".to_owned(),
            });
        }
        Ok(())
    }

    /// Returns the indexes to follow.
    pub fn index_kinds(&self) -> Vec<IndexKind> {
        if self.indexes.is_empty() {
            IndexKind::ALL.to_vec()
        } else {
            self.indexes.clone()
        }
    }

    /// Returns the follower's options.
    pub fn follow_options(&self) -> FollowOptions {
        let defaults = BuildOptions::default();
        let num_shards = self.shards.unwrap_or(defaults.num_shards);
        FollowOptions {
            index_dir: self.index_dir.clone(),
            kinds: self.index_kinds(),
            poll_interval: Duration::from_millis(self.poll_interval_ms),
            commit_interval: Duration::from_millis(self.commit_interval_ms),
            commit_num_docs: self.commit_docs,
            build: BuildOptions {
                num_shards,
                writer_heap_num_bytes: (self.writer_heap_mb * 1_000_000)
                    .max(num_shards * MIN_SHARD_HEAP_NUM_BYTES),
                page_num_rows: self.build_page_rows,
                progress_bar: false,
            },
        }
    }

    /// Returns the given-name variant tables to load: the configured ones, or the default
    /// files of the names data set that exist.
    pub fn name_variant_paths(&self) -> Vec<PathBuf> {
        let configured: Vec<PathBuf> = self
            .name_variants
            .iter()
            .filter(|path| !path.as_os_str().is_empty())
            .cloned()
            .collect();
        if !configured.is_empty() {
            return configured;
        }
        analyzers::default_variant_tables()
    }

    /// Returns the time a client has to send a request's headers.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms.max(1))
    }

    /// Returns the longest pause while a client sends a request body.
    pub fn request_body_timeout(&self) -> Duration {
        Duration::from_millis(self.request_body_timeout_ms.max(1))
    }

    /// Returns the Redis timeout.
    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let mut argv = vec!["search-api"];
        argv.extend_from_slice(args);
        Config::try_parse_from(argv).unwrap()
    }

    #[test]
    fn production_needs_a_long_enough_master_key() {
        let config = parse(&["--env", "production"]);
        assert!(matches!(
            config.validate(),
            Err(ConfigError::MissingMasterKey)
        ));
        let config = parse(&["--env", "production", "--master-key", "short"]);
        assert!(matches!(config.validate(), Err(ConfigError::MasterKey(_))));
        let config = parse(&["--env", "production", "--master-key", "0123456789abcdef"]);
        assert!(config.validate().is_ok());
        let config = parse(&[]);
        assert!(config.checked_master_key().unwrap().is_none());
        let config = parse(&["--env", "production", "--master-key", ""]);
        assert!(matches!(
            config.validate(),
            Err(ConfigError::MissingMasterKey)
        ));
    }

    #[test]
    fn follower_heap_covers_every_shard() {
        let config = parse(&["--shards", "4", "--writer-heap-mb", "10"]);
        let options = config.follow_options();
        assert_eq!(options.build.num_shards, 4);
        assert!(options.build.writer_heap_num_bytes >= 4 * MIN_SHARD_HEAP_NUM_BYTES);
        assert_eq!(options.kinds, IndexKind::ALL.to_vec());
    }
}
