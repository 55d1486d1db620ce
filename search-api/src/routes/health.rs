//! `GET /health` (liveness: the process answers; degraded without indexes loaded, Redis or
//! PostgreSQL), `GET /health/ready` (readiness: indexes loaded, PostgreSQL reachable,
//! follower caught up) and `GET /metrics`.

use std::time::Duration;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use crate::auth::keys::Action;
use crate::auth::Caller;
use crate::error::Result;
use crate::metrics::METRICS_CONTENT_TYPE;
use crate::state::AppState;

/// Longest wait for PostgreSQL's answer in a readiness check.
const READY_DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health`: `available`, or `degraded` while the indexes are not loaded yet (being
/// built or opened, or waiting to reach PostgreSQL), Redis is down or the follower has lost
/// PostgreSQL (searches are still served in the last two). Always 200, so that liveness
/// never restarts a replica for any of them.
pub async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    let follower = state.follower_status();
    // A follower that was following and has lost PostgreSQL serves searches from indexes
    // that no longer take in changes.
    let has_lost_database = follower.ready && !follower.reachable;
    // Without loaded indexes every search answers 503 `indexes_not_loaded`.
    let status =
        if state.loaded_engine().is_some() && state.redis().is_available() && !has_lost_database {
            "available"
        } else {
            "degraded"
        };
    Json(json!({ "status": status }))
}

/// `GET /health/ready`: 200 when the indexes are loaded, PostgreSQL answers and has been
/// prepared (migrations, default keys, settings), and the follower reaches PostgreSQL with
/// a lag under `ATLAS_READY_MAX_LAG_SECS`; 503 naming what is not.
pub async fn ready(State(state): State<AppState>) -> Response {
    let indexes_loaded = state.loaded_engine().is_some();
    let database = tokio::time::timeout(
        READY_DATABASE_TIMEOUT,
        sqlx::query("select 1").execute(state.pool()),
    )
    .await;
    let database_reachable = matches!(database, Ok(Ok(_)));
    let follower = state.follower_status();
    // A follower that cannot reach PostgreSQL does not know how far behind it is: its lag
    // is not measured, so it is neither ready nor caught up.
    let follower_ready = follower.ready && follower.reachable;
    let follower_caught_up = follower_ready && follower.lag_secs <= state.ready_max_lag_secs();
    let database_prepared = state.database_prepared();
    let is_ready = indexes_loaded && database_reachable && database_prepared && follower_caught_up;
    let body = json!({
        "status": if is_ready { "ready" } else { "unavailable" },
        "indexesLoaded": indexes_loaded,
        "databaseReachable": database_reachable,
        "databasePrepared": database_prepared,
        "followerReady": follower_ready,
        "followerReachable": follower.reachable,
        "followerLagSecs": follower.lag_secs,
        "maxLagSecs": state.ready_max_lag_secs(),
    });
    let status = if is_ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// `GET /metrics`, in the Prometheus text format. Under a master key the caller needs a
/// key allowing `metrics.get` (or the master key), as Meilisearch asks: the metrics name
/// routes, index sizes and error rates, which are not for anonymous callers.
///
/// # Errors
///
/// `missing_authorization_header` or `invalid_api_key` when the caller may not read them.
pub async fn metrics(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response> {
    caller.authorize(Action::MetricsGet, None)?;
    state
        .metrics()
        .set_redis_available(state.redis().is_available());
    let follower = state.follower_status();
    state
        .metrics()
        .set_follower(follower.lag_secs, follower.num_commits);
    Ok((
        [(CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        state.metrics().render(),
    )
        .into_response())
}
