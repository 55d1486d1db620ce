//! Starting and stopping the whole service: migrations, keys, Redis, the embedded follower
//! (which owns the index writers and builds missing indexes), the engine opened once the
//! indexes exist and refreshed after each commit, the HTTP server, and a graceful stop.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use analyzers::GivenNameVariants;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use indexer::follow::{Follower, FollowerStatus};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::auth::keys::KeyStore;
use crate::auth::Auth;
use crate::cache::ResponseCache;
use crate::config::{Config, ConfigError};
use crate::engine::Engine;
use crate::error::ApiError;
use crate::rate_limit::RateLimiter;
use crate::redis_conn::RedisConn;
use crate::settings_store::{SettingsStore, SETTINGS_RELOAD_INTERVAL};
use crate::state::{AppState, StateParts};

/// First wait between attempts to prepare PostgreSQL at start, doubled at each failure.
const DATABASE_RETRY_MIN_DELAY: Duration = Duration::from_millis(100);
/// Longest wait between attempts to prepare PostgreSQL, as the follower waits it out.
const DATABASE_RETRY_MAX_DELAY: Duration = Duration::from_secs(30);

/// Wait after a failed accept before the next one.
const ACCEPT_ERROR_DELAY: Duration = Duration::from_millis(100);

/// Connections of the follower's own pool: its snapshot reads and its LISTEN connection.
const FOLLOWER_DB_MAX_CONNECTIONS: u32 = 4;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The configuration cannot run.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// PostgreSQL, the migrations, or the follower failed.
    #[error(transparent)]
    Indexer(#[from] indexer::Error),
    /// A given-name variant table could not be read.
    #[error("cannot load the given-name variants: {0}")]
    NameVariants(#[from] analyzers::Error),
    /// Setting up keys or settings failed.
    #[error("cannot start the api: {0}")]
    Api(#[from] ApiError),
    /// The HTTP server failed.
    #[error("http server failed: {0}")]
    Io(#[from] std::io::Error),
    /// A background task ended abnormally.
    #[error("background task failed: {0}")]
    Task(String),
}

/// The running service, before or while it serves HTTP.
#[derive(Debug)]
pub struct Service {
    state: AppState,
    shutdown: watch::Sender<bool>,
    follower: JoinHandle<indexer::Result<()>>,
    background: Vec<JoinHandle<()>>,
    shutdown_timeout: Duration,
    connection_timeouts: ConnectionTimeouts,
}

/// How long a client may take to send its request, so that slow or stalled clients do not
/// hold connections forever.
#[derive(Debug, Clone, Copy)]
struct ConnectionTimeouts {
    /// Time to send the headers of a request.
    header_read: Duration,
    /// Longest pause while sending a request body.
    request_body: Duration,
}

impl Service {
    /// Starts everything but the HTTP server: connects to Redis (or starts without it),
    /// starts the follower, which builds the indexes that do not exist (the engine is opened
    /// once they do), and prepares PostgreSQL in the background (migrations, default keys,
    /// stored settings), retrying until it is reachable. Indexes already on disk are served
    /// while PostgreSQL is down.
    ///
    /// # Errors
    ///
    /// An invalid configuration, a malformed database URL, an unreadable variant table.
    pub async fn start(config: &Config) -> Result<Service, ServiceError> {
        config.validate()?;
        let master_key = config.checked_master_key()?;
        let pool = indexer::db::connect_lazy(&config.database_url, config.db_max_connections)?;
        let keys = match master_key {
            Some(master_key) => Some(Arc::new(KeyStore::new(pool.clone(), master_key))),
            None => {
                tracing::warn!("no master key: every route is open; set ATLAS_MASTER_KEY");
                None
            }
        };
        let settings = SettingsStore::unloaded(pool.clone());
        let redis = RedisConn::connect(
            &config.redis_url,
            &config.redis_key_prefix,
            config.redis_timeout(),
        )
        .await;
        let name_variants = load_name_variants(config).await?;

        let follower_pool =
            indexer::db::connect_lazy(&config.database_url, FOLLOWER_DB_MAX_CONNECTIONS)?;
        let follower = Follower::new(follower_pool, config.follow_options());
        let follower_status = follower.status();

        let state = AppState::new(StateParts {
            pool,
            auth: Auth::new(keys),
            settings,
            cache: ResponseCache::new(redis.clone(), Duration::from_secs(config.cache_ttl_secs)),
            rate_limiter: RateLimiter::new(redis.clone(), config.rate_limit_per_min),
            redis,
            follower: follower_status.clone(),
            name_variants,
            ready_max_lag_secs: config.ready_max_lag_secs,
            index_dir: config.index_dir.clone(),
        });

        let (shutdown, shutdown_receiver) = watch::channel(false);
        let follower = tokio::spawn(follower.run(stopped(shutdown_receiver.clone())));
        let background = vec![
            tokio::spawn(follow_commits(
                state.clone(),
                follower_status,
                shutdown_receiver.clone(),
            )),
            tokio::spawn(prepare_database(
                state.clone(),
                indexer::db::redact_url(&config.database_url),
                shutdown_receiver.clone(),
            )),
            tokio::spawn(reload_settings(state.clone(), shutdown_receiver)),
        ];
        Ok(Service {
            state,
            shutdown,
            follower,
            background,
            shutdown_timeout: Duration::from_secs(config.shutdown_timeout_secs),
            connection_timeouts: ConnectionTimeouts {
                header_read: config.header_read_timeout(),
                request_body: config.request_body_timeout(),
            },
        })
    }

    /// Returns the shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Returns the router over the service's state.
    pub fn router(&self) -> Router {
        crate::app(self.state.clone())
    }

    /// Serves HTTP on `listener` until `signal` resolves or the follower fails, then stops
    /// accepting, lets requests in flight finish, and stops the follower after a final
    /// commit.
    ///
    /// # Errors
    ///
    /// The server failing, or the follower ending with an error (the indexes cannot be
    /// written, which a restart may cure).
    pub async fn serve(
        mut self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        let address = listener.local_addr()?;
        tracing::info!(%address, "listening");
        let (follower_failed_sender, follower_failed) = tokio::sync::oneshot::channel::<()>();
        let server = serve_connections(
            listener,
            self.router(),
            self.connection_timeouts,
            async move {
                tokio::select! {
                    () = signal => tracing::info!("shutdown requested; finishing requests"),
                    _ = follower_failed => tracing::error!("follower stopped; shutting down"),
                }
            },
        );

        let server = tokio::spawn(server);
        tokio::pin!(server);
        let follower_result = tokio::select! {
            served = &mut server => {
                served.map_err(|error| ServiceError::Task(error.to_string()))??;
                None
            }
            finished = &mut self.follower => {
                let _ = follower_failed_sender.send(());
                Some(finished)
            }
        };
        match follower_result {
            None => self.stop().await,
            Some(finished) => {
                let _ = self.shutdown.send(true);
                let _ = tokio::time::timeout(self.shutdown_timeout, server).await;
                match finished {
                    Ok(Ok(())) => Err(ServiceError::Task("the follower stopped".to_owned())),
                    Ok(Err(error)) => Err(error.into()),
                    Err(error) => Err(ServiceError::Task(error.to_string())),
                }
            }
        }
    }

    /// Stops the follower, which commits what it applied, and the background tasks.
    ///
    /// # Errors
    ///
    /// The follower's own error, or its not stopping within the shutdown timeout.
    pub async fn stop(self) -> Result<(), ServiceError> {
        let _ = self.shutdown.send(true);
        for task in self.background {
            task.abort();
        }
        match tokio::time::timeout(self.shutdown_timeout, self.follower).await {
            Ok(Ok(result)) => result.map_err(ServiceError::from),
            Ok(Err(error)) => Err(ServiceError::Task(error.to_string())),
            Err(_elapsed) => Err(ServiceError::Task(
                "the follower did not stop within the shutdown timeout".to_owned(),
            )),
        }
    }
}

/// Accepts connections on `listener` and serves `router` on each over HTTP/1, until
/// `signal` resolves; then stops accepting and waits for the connections to finish their
/// requests. `axum::serve` is not used because it has no header read timeout.
async fn serve_connections(
    listener: TcpListener,
    router: Router,
    timeouts: ConnectionTimeouts,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    let service = ServiceBuilder::new()
        .layer(RequestBodyTimeoutLayer::new(timeouts.request_body))
        .service(router);
    let graceful = GracefulShutdown::new();
    tokio::pin!(signal);
    loop {
        let (stream, remote_address) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before it was accepted:
                    // the listener itself is fine, so wait a moment and go on.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_ERROR_DELAY).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let with_address = service
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote_address));
                request
            });
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(with_address));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %remote_address, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Resolves when shutdown is signalled (or its sender is gone).
async fn stopped(mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow_and_update() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

async fn load_name_variants(config: &Config) -> Result<Arc<GivenNameVariants>, ServiceError> {
    let paths = config.name_variant_paths();
    if paths.is_empty() {
        tracing::warn!("no given-name variant table; candidates match identical names only");
        return Ok(Arc::new(GivenNameVariants::empty()));
    }
    let variants = tokio::task::spawn_blocking(move || GivenNameVariants::load_all(&paths))
        .await
        .map_err(|error| ServiceError::Task(error.to_string()))??;
    Ok(Arc::new(variants))
}

/// Opens the engine once the follower has every index open, then refreshes it after each
/// commit and each generation switch (a rebuild) so that searches see the changes, and
/// keeps the metrics up to date.
async fn follow_commits(
    state: AppState,
    mut status: watch::Receiver<FollowerStatus>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut refreshed = (0, 0);
    loop {
        let current = status.borrow_and_update().clone();
        state
            .metrics()
            .set_follower(current.lag_secs, current.num_commits);
        let seen = (current.num_commits, current.num_generation_switches);
        if current.ready {
            match state.loaded_engine() {
                None => open_engine(&state).await,
                Some(engine) if seen != refreshed => refresh_engine(&state, engine).await,
                Some(_) => {}
            }
            refreshed = seen;
        }
        tokio::select! {
            changed = status.changed() => if changed.is_err() { return },
            _ = shutdown.changed() => return,
        }
    }
}

async fn open_engine(state: &AppState) {
    let index_dir = state.index_dir().to_path_buf();
    match tokio::task::spawn_blocking(move || Engine::open(&index_dir)).await {
        Ok(Ok(engine)) => {
            let engine = Arc::new(engine);
            record_index_sizes(state, &engine);
            state.set_engine(engine);
            tracing::info!("indexes loaded; serving searches");
        }
        Ok(Err(error)) => tracing::error!(error = %error, "cannot open the indexes"),
        Err(error) => tracing::error!(%error, "opening the indexes panicked"),
    }
}

async fn refresh_engine(state: &AppState, engine: Arc<Engine>) {
    let refreshing = engine.clone();
    match tokio::task::spawn_blocking(move || refreshing.refresh()).await {
        Ok(Ok(())) => record_index_sizes(state, &engine),
        Ok(Err(error)) => tracing::error!(error = %error, "cannot reload the indexes"),
        Err(error) => tracing::error!(%error, "reloading the indexes panicked"),
    }
}

fn record_index_sizes(state: &AppState, engine: &Engine) {
    for index in engine.index_uids() {
        state
            .metrics()
            .set_index_documents(&index.uid, index.number_of_documents);
    }
}

/// Applies the migrations, creates the default keys and reads the stored settings, retrying
/// with backoff until all three succeed; logs once per change of state, not at each retry.
async fn prepare_database(
    state: AppState,
    redacted_database_url: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut retry_delay = DATABASE_RETRY_MIN_DELAY;
    let mut last_failure: Option<&'static str> = None;
    loop {
        match prepare_database_once(&state).await {
            Ok(()) => {
                state.set_database_prepared();
                tracing::info!(database = %redacted_database_url, "database prepared");
                return;
            }
            Err((failure, error)) => {
                if last_failure != Some(failure) {
                    tracing::warn!(
                        database = %redacted_database_url,
                        error = %error,
                        "{failure}; retrying with backoff"
                    );
                    last_failure = Some(failure);
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(retry_delay) => {}
            _ = shutdown.changed() => return,
        }
        retry_delay = (retry_delay * 2).min(DATABASE_RETRY_MAX_DELAY);
    }
}

/// One attempt of [`prepare_database`]; the failure names the step that failed.
async fn prepare_database_once(state: &AppState) -> Result<(), (&'static str, String)> {
    indexer::db::migrate(state.pool())
        .await
        .map_err(|error| ("cannot apply the migrations", error.to_string()))?;
    if let Some(keys) = state.auth().keys() {
        keys.ensure_default_keys()
            .await
            .map_err(|error| ("cannot create the default keys", error.to_string()))?;
    }
    state
        .settings()
        .reload()
        .await
        .map_err(|error| ("cannot load the stored settings", error.to_string()))
}

/// Reads settings changed through other replicas, every [`SETTINGS_RELOAD_INTERVAL`].
async fn reload_settings(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(SETTINGS_RELOAD_INTERVAL) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(error) = state.settings().reload().await {
            tracing::warn!(error = %error, "cannot reload settings; keeping the last ones read");
        }
    }
}
