//! The worker's Prometheus metrics and the `/metrics` endpoint that serves them, named as
//! the alerting rules in `k8s/base/monitoring` expect.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::Result;

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobOutcome {
    /// Done and acknowledged.
    Succeeded,
    /// Failed and put back for another attempt.
    Retried,
    /// Failed every attempt and moved to the dead-letter stream.
    DeadLettered,
}

impl JobOutcome {
    fn label(self) -> &'static str {
        match self {
            JobOutcome::Succeeded => "succeeded",
            JobOutcome::Retried => "retried",
            JobOutcome::DeadLettered => "dead_lettered",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The worker's counters: `atlas_matcher_jobs_total{outcome}` and
/// `atlas_matcher_jobs_dead_lettered_total`.
#[derive(Debug)]
pub struct WorkerMetrics {
    registry: Registry,
    jobs: Family<OutcomeLabels, Counter>,
    dead_lettered: Counter,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        WorkerMetrics::new()
    }
}

impl WorkerMetrics {
    /// Returns zeroed counters, registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let jobs = Family::<OutcomeLabels, Counter>::default();
        let dead_lettered = Counter::default();
        registry.register(
            "atlas_matcher_jobs",
            "Matcher jobs by outcome",
            jobs.clone(),
        );
        registry.register(
            "atlas_matcher_jobs_dead_lettered",
            "Matcher jobs moved to the dead-letter stream after their last attempt",
            dead_lettered.clone(),
        );
        for outcome in [
            JobOutcome::Succeeded,
            JobOutcome::Retried,
            JobOutcome::DeadLettered,
        ] {
            drop(jobs.get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            }));
        }
        WorkerMetrics {
            registry,
            jobs,
            dead_lettered,
        }
    }

    /// Counts a finished job.
    pub fn record(&self, outcome: JobOutcome) {
        self.jobs
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
        if outcome == JobOutcome::DeadLettered {
            self.dead_lettered.inc();
        }
    }

    /// Returns how many jobs ended with `outcome`.
    pub fn count(&self, outcome: JobOutcome) -> u64 {
        self.jobs
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .get()
    }

    /// Returns the metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// Serves `GET /metrics` on `address` until the task is dropped.
///
/// # Errors
/// Fails when the address cannot be bound.
pub async fn serve_metrics(
    address: SocketAddr,
    metrics: Arc<WorkerMetrics>,
) -> Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = Arc::clone(&metrics);
            async move {
                (
                    [(
                        CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.encode(),
                )
                    .into_response()
            }
        }),
    );
    tracing::info!(address = %listener.local_addr()?, "serving metrics");
    Ok(tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "metrics server stopped");
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_have_the_names_the_alerts_use() {
        let metrics = WorkerMetrics::new();
        metrics.record(JobOutcome::DeadLettered);
        let text = metrics.encode();
        assert!(
            text.contains("atlas_matcher_jobs_total{outcome=\"dead_lettered\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("atlas_matcher_jobs_dead_lettered_total 1"),
            "{text}"
        );
    }
}
