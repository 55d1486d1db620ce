//! The Redis connection shared by the response cache and the rate limiter: short timeouts,
//! reconnection in the background, and whether Redis is available, logged once per change.
//!
//! Redis is an optimisation here, never a dependency: every caller has an answer for
//! "Redis did not answer in time", and no request waits for a connection to be made.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::RwLock;

/// Pause between two attempts to connect while Redis is unreachable.
const RECONNECT_INTERVAL: Duration = Duration::from_secs(1);

const STATE_UNKNOWN: u8 = 0;
const STATE_AVAILABLE: u8 = 1;
const STATE_UNAVAILABLE: u8 = 2;

/// A connection to Redis that may be down.
#[derive(Debug, Clone)]
pub struct RedisConn {
    inner: Arc<Inner>,
}

struct Inner {
    client: Option<redis::Client>,
    manager: RwLock<Option<ConnectionManager>>,
    state: AtomicU8,
    timeout: Duration,
    key_prefix: String,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RedisConn")
            .field("state", &self.state.load(Ordering::Relaxed))
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

impl RedisConn {
    /// Connects to `url` within `timeout`, or starts unavailable and keeps trying in the
    /// background; every key written starts with `key_prefix`.
    pub async fn connect(url: &str, key_prefix: &str, timeout: Duration) -> RedisConn {
        let client = match redis::Client::open(url) {
            Ok(client) => Some(client),
            Err(error) => {
                tracing::warn!(%error, "invalid REDIS_URL; running without redis");
                None
            }
        };
        let inner = Arc::new(Inner {
            client,
            manager: RwLock::new(None),
            state: AtomicU8::new(STATE_UNKNOWN),
            timeout,
            key_prefix: key_prefix.to_owned(),
        });
        if !inner.try_connect().await {
            inner.mark(false);
        }
        tokio::spawn(reconnect_loop(Arc::downgrade(&inner)));
        RedisConn { inner }
    }

    /// Returns whether the last use of Redis succeeded.
    pub fn is_available(&self) -> bool {
        self.inner.state.load(Ordering::Relaxed) == STATE_AVAILABLE
    }

    /// Returns `name` with the key prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.inner.key_prefix)
    }

    /// Runs `operation` on the connection within the timeout; returns `None` when Redis is
    /// down, fails or is too slow, and records the outcome.
    pub async fn run<T, F, Fut>(&self, operation: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        // While Redis is known to be down, requests do not wait for it; the background
        // ping notices when it is back.
        if self.inner.state.load(Ordering::Relaxed) == STATE_UNAVAILABLE {
            return None;
        }
        let manager = self.inner.manager.read().await.clone()?;
        match tokio::time::timeout(self.inner.timeout, operation(manager)).await {
            Ok(Ok(value)) => {
                self.inner.mark(true);
                Some(value)
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "redis operation failed");
                self.inner.mark(false);
                None
            }
            Err(_elapsed) => {
                self.inner.mark(false);
                None
            }
        }
    }
}

impl Inner {
    /// Makes a connection manager; returns whether one exists afterwards.
    async fn try_connect(&self) -> bool {
        if self.manager.read().await.is_some() {
            return true;
        }
        let Some(client) = self.client.clone() else {
            return false;
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout)
            .set_number_of_retries(1)
            .set_max_delay(RECONNECT_INTERVAL.as_millis() as u64);
        let connecting = ConnectionManager::new_with_config(client, config);
        match tokio::time::timeout(self.timeout * 2, connecting).await {
            Ok(Ok(manager)) => {
                *self.manager.write().await = Some(manager);
                self.mark(true);
                true
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "cannot connect to redis");
                false
            }
            Err(_elapsed) => false,
        }
    }

    /// Records whether Redis answered, logging only changes of state.
    fn mark(&self, available: bool) {
        let state = if available {
            STATE_AVAILABLE
        } else {
            STATE_UNAVAILABLE
        };
        let previous = self.state.swap(state, Ordering::Relaxed);
        if previous == state {
            return;
        }
        if available {
            tracing::info!("redis available; caching responses and rate limiting in redis");
        } else {
            tracing::warn!(
                "redis unavailable; serving searches uncached and rate limiting in process"
            );
        }
    }
}

/// Connects in the background while no connection exists, and pings once one does, so
/// that availability is known even when no request uses Redis. Ends when the connection is
/// dropped.
async fn reconnect_loop(inner: Weak<Inner>) {
    loop {
        tokio::time::sleep(RECONNECT_INTERVAL).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let manager = inner.manager.read().await.clone();
        let available = match manager {
            None => inner.try_connect().await,
            Some(mut manager) => {
                let command = redis::cmd("PING");
                let ping = command.query_async::<String>(&mut manager);
                matches!(tokio::time::timeout(inner.timeout, ping).await, Ok(Ok(_)))
            }
        };
        inner.mark(available);
    }
}
