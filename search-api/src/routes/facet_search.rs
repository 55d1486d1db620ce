//! `POST /indexes/{uid}/facet-search`: the values of one facet matching a `facetQuery`,
//! counted over the documents a search matches. Authorized, filtered by tenant tokens,
//! cached and bounded as the search route is.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;

use super::search::{apply_tenant_filter, cached_answer, index_cache_key};
use super::{blocking, json_bytes};
use crate::auth::keys::Action;
use crate::auth::Caller;
use crate::error::{ApiError, Result};
use crate::extract::JsonBody;
use crate::params::{FacetSearchQuery, IndexCapabilities, IndexUid};
use crate::state::AppState;

/// `POST /indexes/{uid}/facet-search`.
pub async fn facet_search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
    JsonBody(query): JsonBody<FacetSearchQuery>,
) -> Result<Response> {
    let started = Instant::now();
    let uid = IndexUid::parse(&uid)?;
    let grant = caller.authorize(Action::Search, Some(uid.as_str()))?;
    let engine = state.engine()?;
    let settings = state.index_settings(&engine, uid.as_str())?;
    let mut validated = query.validate(&IndexCapabilities::from_settings(&settings))?;
    apply_tenant_filter(&mut validated.search, &grant, &settings, uid.as_str())?;

    let cache_key = index_cache_key(&state, &engine, uid.as_str(), &settings, &validated, &grant)?;
    if let Some(bytes) = cached_answer(&state, cache_key.as_deref(), started).await {
        return Ok(json_bytes(StatusCode::OK, bytes));
    }

    // The budget runs from the request's arrival, as a search's does.
    let deadline = started + validated.search.time_budget_for(&settings);
    let owned_uid = uid.as_str().to_owned();
    let response = blocking(&state, move || {
        engine.facet_search(&owned_uid, &validated, &settings, deadline)
    })
    .await?;
    let bytes = serde_json::to_vec(&response).map_err(ApiError::internal)?;
    if let Some(key) = &cache_key {
        state.cache().put(key, &bytes).await;
    }
    Ok(json_bytes(StatusCode::OK, bytes))
}
