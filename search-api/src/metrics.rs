//! Prometheus metrics of the service, served at `/metrics`.
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client: it writes the
//! text exposition format (OpenMetrics), escaping and `_total`/`_bucket` suffixes included,
//! without a global registry, so each test's service has metrics of its own.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`]'s text.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the latency buckets, in seconds: a cached search answers in a
/// millisecond, a slow federated search in seconds.
const LATENCY_BUCKETS_SECS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatusLabels {
    route: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IndexLabels {
    index: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS_SECS)
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<RouteStatusLabels, Counter>,
    http_request_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    follower_lag_seconds: Gauge<f64, AtomicU64>,
    follower_commits: Gauge,
    index_documents: Family<IndexLabels, Gauge>,
    cache_hits: Counter,
    cache_misses: Counter,
    rate_limited: Counter,
    degraded_searches: Counter,
    redis_available: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Returns the metrics, registered under the `atlas_` names the monitoring rules use.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("atlas");
        let http_requests = Family::<RouteStatusLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by matched route and status",
            http_requests.clone(),
        );
        let http_request_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by matched route",
            http_request_duration.clone(),
        );
        let follower_lag_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "follower_lag_seconds",
            "Age of the oldest change committed in PostgreSQL not yet searchable",
            follower_lag_seconds.clone(),
        );
        let follower_commits = Gauge::default();
        registry.register(
            "follower_commits",
            "Index commits made by the follower since start",
            follower_commits.clone(),
        );
        let index_documents = Family::<IndexLabels, Gauge>::default();
        registry.register(
            "index_documents",
            "Documents in each index, as of its last loaded commit",
            index_documents.clone(),
        );
        let cache_hits = Counter::default();
        registry.register(
            "cache_hits",
            "Search responses served from the cache",
            cache_hits.clone(),
        );
        let cache_misses = Counter::default();
        registry.register(
            "cache_misses",
            "Cacheable searches not found in the cache",
            cache_misses.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited_requests",
            "Requests refused with 429 by the rate limiter",
            rate_limited.clone(),
        );
        let degraded_searches = Counter::default();
        registry.register(
            "degraded_searches",
            "Searches answered with the hits gathered before their time budget ran out",
            degraded_searches.clone(),
        );
        let redis_available = Gauge::default();
        registry.register(
            "redis_available",
            "1 when Redis answers, 0 when the service runs without it",
            redis_available.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_request_duration,
            follower_lag_seconds,
            follower_commits,
            index_documents,
            cache_hits,
            cache_misses,
            rate_limited,
            degraded_searches,
            redis_available,
        }
    }

    /// Counts a finished request.
    pub fn observe_request(&self, route: &str, status: u16, elapsed_secs: f64) {
        self.http_requests
            .get_or_create(&RouteStatusLabels {
                route: route.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.http_request_duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed_secs);
    }

    /// Records the follower's lag and commit count.
    pub fn set_follower(&self, lag_secs: f64, num_commits: u64) {
        self.follower_lag_seconds.set(lag_secs);
        self.follower_commits
            .set(i64::try_from(num_commits).unwrap_or(i64::MAX));
    }

    /// Records the number of documents of an index.
    pub fn set_index_documents(&self, index: &str, num_docs: u64) {
        self.index_documents
            .get_or_create(&IndexLabels {
                index: index.to_owned(),
            })
            .set(i64::try_from(num_docs).unwrap_or(i64::MAX));
    }

    /// Counts a cache hit.
    pub fn cache_hit(&self) {
        self.cache_hits.inc();
    }

    /// Counts a cache miss.
    pub fn cache_miss(&self) {
        self.cache_misses.inc();
    }

    /// Counts a request refused by the rate limiter.
    pub fn rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// Counts a search answered with the hits gathered before its time budget ran out.
    pub fn degraded_search(&self) {
        self.degraded_searches.inc();
    }

    /// Records whether Redis is available.
    pub fn set_redis_available(&self, available: bool) {
        self.redis_available.set(i64::from(available));
    }

    /// Returns every metric in the text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_names_the_monitoring_rules_use() {
        let metrics = Metrics::new();
        metrics.observe_request("/indexes/{uid}/search", 200, 0.003);
        metrics.set_follower(1.5, 3);
        metrics.set_index_documents("records", 42);
        metrics.cache_hit();
        let text = metrics.render();
        for expected in [
            r#"atlas_http_requests_total{route="/indexes/{uid}/search",status="200"} 1"#,
            r#"atlas_http_request_duration_seconds_bucket{le="0.005",route="/indexes/{uid}/search"} 1"#,
            "atlas_follower_lag_seconds 1.5",
            r#"atlas_index_documents{index="records"} 42"#,
            "atlas_cache_hits_total 1",
            "atlas_rate_limited_requests_total 0",
        ] {
            assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
        }
    }
}
