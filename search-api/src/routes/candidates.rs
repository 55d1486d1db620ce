//! `POST /candidates`, an Atlas extension for the matcher: a batch of profiles in, the
//! records that may belong to each out, retrieved with given-name variants.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use indexer::index::IndexKind;

use super::settings::AnyJson;
use super::{blocking, json_bytes};
use crate::auth::keys::Action;
use crate::auth::Caller;
use crate::engine::CandidateRequest;
use crate::error::{ApiError, Code, Result};
use crate::extract::JsonBody;
use crate::limits::MAX_SEARCH_TIME_BUDGET_MILLIS;
use crate::state::AppState;

/// `POST /candidates`. Candidates are records, so the key must allow searching `records`;
/// tenant tokens, whose filters could not apply, are refused.
pub async fn candidates(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(AnyJson(body)): JsonBody<AnyJson>,
) -> Result<Response> {
    if matches!(caller, Caller::Tenant { .. }) {
        return Err(ApiError::invalid_api_key());
    }
    caller.authorize(Action::Search, Some(IndexKind::Records.name()))?;
    let engine = state.engine()?;
    let request: CandidateRequest = serde_json::from_value(body).map_err(|error| {
        ApiError::new(
            Code::BadRequest,
            format!("invalid candidate request: {error}"),
        )
    })?;
    let deadline = Instant::now() + Duration::from_millis(MAX_SEARCH_TIME_BUDGET_MILLIS);
    let variants = state.name_variants().clone();
    let response = blocking(&state, move || {
        engine.candidates(&request, &variants, deadline)
    })
    .await?;
    let bytes = serde_json::to_vec(&response).map_err(ApiError::internal)?;
    Ok(json_bytes(StatusCode::OK, bytes))
}
