//! The state every handler shares: the engine once the indexes are open, PostgreSQL, the
//! key and settings stores, Redis (cache and rate limits), metrics and the follower status.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use analyzers::GivenNameVariants;
use indexer::follow::FollowerStatus;
use sqlx::PgPool;
use tokio::sync::{watch, Semaphore};

use crate::auth::Auth;
use crate::cache::ResponseCache;
use crate::engine::Engine;
use crate::error::{ApiError, Code, Result};
use crate::limits::MAX_CONCURRENT_ENGINE_CALLS_PER_CORE;
use crate::metrics::Metrics;
use crate::params::Settings;
use crate::rate_limit::RateLimiter;
use crate::redis_conn::RedisConn;
use crate::settings_store::SettingsStore;

/// What [`AppState::new`] is made of.
#[derive(Debug)]
pub struct StateParts {
    /// PostgreSQL.
    pub pool: PgPool,
    /// Authentication.
    pub auth: Auth,
    /// The stored settings.
    pub settings: SettingsStore,
    /// Redis, shared by the cache and the rate limiter.
    pub redis: RedisConn,
    /// The response cache.
    pub cache: ResponseCache,
    /// The rate limiter.
    pub rate_limiter: RateLimiter,
    /// The follower's status.
    pub follower: watch::Receiver<FollowerStatus>,
    /// Given-name variants for candidate retrieval.
    pub name_variants: Arc<GivenNameVariants>,
    /// Largest follower lag at which the replica is ready.
    pub ready_max_lag_secs: f64,
    /// The index directory, measured by `GET /stats`.
    pub index_dir: PathBuf,
}

/// The shared state, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    parts: StateParts,
    engine: RwLock<Option<Arc<Engine>>>,
    database_prepared: AtomicBool,
    metrics: Metrics,
    engine_permits: Arc<Semaphore>,
}

impl AppState {
    /// Returns the state; the engine is set later, once the indexes are open.
    pub fn new(parts: StateParts) -> Self {
        AppState {
            inner: Arc::new(Inner {
                parts,
                engine: RwLock::new(None),
                database_prepared: AtomicBool::new(false),
                metrics: Metrics::new(),
                engine_permits: Arc::new(Semaphore::new(
                    std::thread::available_parallelism().map_or(1, usize::from)
                        * MAX_CONCURRENT_ENGINE_CALLS_PER_CORE,
                )),
            }),
        }
    }

    /// Returns the engine.
    ///
    /// # Errors
    ///
    /// `indexes_not_loaded` (503) while the indexes are being built or opened.
    pub fn engine(&self) -> Result<Arc<Engine>> {
        self.loaded_engine().ok_or_else(|| {
            ApiError::new(
                Code::IndexesNotLoaded,
                "the indexes are not loaded yet: this replica is building or opening them, \
                 or cannot reach PostgreSQL to learn which to open (`GET /health/ready` \
                 says which); retry in a moment",
            )
        })
    }

    /// Returns the engine when the indexes are open.
    pub fn loaded_engine(&self) -> Option<Arc<Engine>> {
        self.inner
            .engine
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Makes `engine` the one requests use.
    pub fn set_engine(&self, engine: Arc<Engine>) {
        *self
            .inner
            .engine
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(engine);
    }

    /// Returns whether the migrations, the default keys and the stored settings have been
    /// read from or written to PostgreSQL since start.
    pub fn database_prepared(&self) -> bool {
        self.inner.database_prepared.load(Ordering::Acquire)
    }

    /// Records that the migrations, default keys and settings are in place.
    pub fn set_database_prepared(&self) {
        self.inner.database_prepared.store(true, Ordering::Release);
    }

    /// Returns the settings in force for the index `uid`.
    ///
    /// # Errors
    ///
    /// `index_not_found` when the engine has no such index open.
    pub fn index_settings(&self, engine: &Engine, uid: &str) -> Result<Settings> {
        let schema = schema_settings(engine, uid)?;
        Ok(self.inner.parts.settings.effective(uid, &schema))
    }

    /// Returns PostgreSQL.
    pub fn pool(&self) -> &PgPool {
        &self.inner.parts.pool
    }

    /// Returns authentication.
    pub fn auth(&self) -> &Auth {
        &self.inner.parts.auth
    }

    /// Returns the stored settings.
    pub fn settings(&self) -> &SettingsStore {
        &self.inner.parts.settings
    }

    /// Returns Redis.
    pub fn redis(&self) -> &RedisConn {
        &self.inner.parts.redis
    }

    /// Returns the response cache.
    pub fn cache(&self) -> &ResponseCache {
        &self.inner.parts.cache
    }

    /// Returns the rate limiter.
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.inner.parts.rate_limiter
    }

    /// Returns the metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Returns the follower's latest status.
    pub fn follower_status(&self) -> FollowerStatus {
        self.inner.parts.follower.borrow().clone()
    }

    /// Returns the given-name variants.
    pub fn name_variants(&self) -> &Arc<GivenNameVariants> {
        &self.inner.parts.name_variants
    }

    /// Returns the largest follower lag at which the replica is ready.
    pub fn ready_max_lag_secs(&self) -> f64 {
        self.inner.parts.ready_max_lag_secs
    }

    /// Returns the permits that bound the engine calls running at once.
    pub fn engine_permits(&self) -> &Arc<Semaphore> {
        &self.inner.engine_permits
    }

    /// Returns the index directory.
    pub fn index_dir(&self) -> &Path {
        &self.inner.parts.index_dir
    }
}

/// Returns the settings of the index `uid` as its schema gives them, before stored changes.
///
/// # Errors
///
/// `index_not_found` when the engine has no such index open.
pub fn schema_settings(engine: &Engine, uid: &str) -> Result<Settings> {
    if engine.generation(uid).is_none() {
        return Err(ApiError::index_not_found(uid));
    }
    Engine::default_settings(uid).ok_or_else(|| ApiError::index_not_found(uid))
}
