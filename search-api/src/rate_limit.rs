//! Per-key rate limiting: a fixed window of one minute counted in Redis, so that every
//! replica counts against the same limit, or in process while Redis is down.
//!
//! A fixed window lets a key send up to twice its limit across a window boundary; in
//! exchange each request costs one `INCR`, and the limit only has to stop abuse, not meter.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::redis_conn::RedisConn;

/// Length of a window, in seconds.
const WINDOW_SECS: u64 = 60;

/// Subjects tracked in process past which the map is emptied; counting restarts, which
/// errs on the side of serving.
const MAX_LOCAL_NUM_SUBJECTS: usize = 100_000;

/// Whether a request may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Within the limit.
    Allowed,
    /// Over the limit until the window ends in `retry_after_secs`.
    Limited {
        /// Seconds until the next window.
        retry_after_secs: u64,
    },
}

/// The rate limiter.
#[derive(Debug)]
pub struct RateLimiter {
    redis: RedisConn,
    limit_per_window: u64,
    local: Mutex<HashMap<String, (u64, u64)>>,
}

impl RateLimiter {
    /// Returns a limiter of `limit_per_min` requests per subject and minute; 0 disables it.
    pub fn new(redis: RedisConn, limit_per_min: u32) -> Self {
        RateLimiter {
            redis,
            limit_per_window: u64::from(limit_per_min),
            local: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `subject` and says whether it may go on.
    pub async fn check(&self, subject: &str) -> Decision {
        if self.limit_per_window == 0 {
            return Decision::Allowed;
        }
        let now_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let window = now_secs / WINDOW_SECS;
        let retry_after_secs = WINDOW_SECS - now_secs % WINDOW_SECS;

        let count = match self.count_in_redis(subject, window).await {
            Some(count) => count,
            None => self.count_locally(subject, window),
        };
        if count > self.limit_per_window {
            Decision::Limited { retry_after_secs }
        } else {
            Decision::Allowed
        }
    }

    async fn count_in_redis(&self, subject: &str, window: u64) -> Option<u64> {
        // Subjects are hashed so that no key uid or address appears in Redis.
        let subject_hash = hex::encode(&Sha256::digest(subject.as_bytes())[..16]);
        let key = self
            .redis
            .key(&format!("ratelimit:{subject_hash}:{window}"));
        self.redis
            .run(|mut connection| async move {
                let (count,): (u64,) = redis::pipe()
                    .atomic()
                    .incr(&key, 1)
                    .expire(&key, (WINDOW_SECS + 1) as i64)
                    .ignore()
                    .query_async(&mut connection)
                    .await?;
                Ok(count)
            })
            .await
    }

    fn count_locally(&self, subject: &str, window: u64) -> u64 {
        let mut local = self
            .local
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if local.len() >= MAX_LOCAL_NUM_SUBJECTS {
            local.retain(|_, (entry_window, _)| *entry_window == window);
        }
        let entry = local.entry(subject.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 += 1;
        entry.1
    }
}
