//! `POST /multi-search`: several searches answered one by one, each cached like a single
//! search, or federated into one merged list of hits.
//!
//! Known shortcoming: federated searches are not cached; caching them needs a key that names
//! the generation of every index they merge.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::{Map, Value};

use super::search::{apply_tenant_filter, cached_search, record_degraded, with_degraded_header};
use super::{blocking, json_bytes};
use crate::auth::keys::Action;
use crate::auth::{Caller, Grant};
use crate::error::{ApiError, Result};
use crate::extract::JsonBody;
use crate::params::{
    IndexCapabilities, IndexUid, MultiSearchRequest, Settings, ValidatedMultiSearch,
};
use crate::state::AppState;

/// `POST /multi-search`.
pub async fn multi_search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(request): JsonBody<MultiSearchRequest>,
) -> Result<Response> {
    let engine = state.engine()?;
    let mut grants: HashMap<IndexUid, Grant> = HashMap::new();
    let mut settings: HashMap<IndexUid, Settings> = HashMap::new();
    for (position, query) in request.queries.iter().enumerate() {
        let uid = &query.index_uid;
        let grant = caller
            .authorize(Action::Search, Some(uid.as_str()))
            .map_err(|error| error.with_message_prefix(&format!("in `queries[{position}]`: ")))?;
        grants.insert(uid.clone(), grant);
        // An unknown index is reported by validation, with the query's position.
        if let Ok(index_settings) = state.index_settings(&engine, uid.as_str()) {
            settings.insert(uid.clone(), index_settings);
        }
    }
    let capabilities: HashMap<IndexUid, IndexCapabilities> = settings
        .iter()
        .map(|(uid, settings)| (uid.clone(), IndexCapabilities::from_settings(settings)))
        .collect();
    let mut validated = request.validate(|uid| capabilities.get(uid))?;

    match &mut validated {
        ValidatedMultiSearch::Separate(searches) => {
            for (position, (uid, search)) in searches.iter_mut().enumerate() {
                apply_tenant_filter(search, &grants[uid], &settings[uid], uid.as_str())
                    .map_err(|error| prefixed(error, position))?;
            }
        }
        ValidatedMultiSearch::Federated { queries, .. } => {
            for (position, query) in queries.iter_mut().enumerate() {
                let uid = &query.index_uid;
                apply_tenant_filter(
                    &mut query.search,
                    &grants[uid],
                    &settings[uid],
                    uid.as_str(),
                )
                .map_err(|error| prefixed(error, position))?;
            }
        }
    }

    let ValidatedMultiSearch::Separate(searches) = validated else {
        return federated(&state, engine, validated, settings).await;
    };
    let mut results = Vec::with_capacity(searches.len());
    let mut is_degraded = false;
    for (position, (uid, search)) in searches.into_iter().enumerate() {
        let answer = cached_search(
            &state,
            engine.clone(),
            uid.as_str(),
            settings[&uid].clone(),
            search,
            &grants[&uid],
        )
        .await
        .map_err(|error| prefixed(error, position))?;
        is_degraded |= answer.is_degraded;
        results.push(with_index_uid(uid.as_str(), &answer.bytes)?);
    }
    let body = serde_json::to_vec(&serde_json::json!({ "results": results }))
        .map_err(ApiError::internal)?;
    Ok(with_degraded_header(
        json_bytes(StatusCode::OK, body),
        is_degraded,
    ))
}

async fn federated(
    state: &AppState,
    engine: std::sync::Arc<crate::engine::Engine>,
    validated: ValidatedMultiSearch,
    settings: HashMap<IndexUid, Settings>,
) -> Result<Response> {
    let ValidatedMultiSearch::Federated { queries, .. } = &validated else {
        return Err(ApiError::internal("federated search without federation"));
    };
    let settings: HashMap<String, Settings> = settings
        .into_iter()
        .map(|(uid, settings)| (uid.as_str().to_owned(), settings))
        .collect();
    let time_budget = queries
        .iter()
        .filter_map(|query| {
            let settings = settings.get(query.index_uid.as_str())?;
            Some(query.search.time_budget_for(settings))
        })
        .max()
        .unwrap_or_default();
    let deadline = Instant::now() + time_budget;
    let response = blocking(state, move || {
        let settings_of = |uid: &str| settings.get(uid).cloned().unwrap_or_else(empty_settings);
        engine.federated_search(&validated, &settings_of, deadline)
    })
    .await?;
    let body = serde_json::to_vec(&response).map_err(ApiError::internal)?;
    if response.is_degraded {
        record_degraded(state, "federated", time_budget);
    }
    Ok(with_degraded_header(
        json_bytes(StatusCode::OK, body),
        response.is_degraded,
    ))
}

/// Settings for an index validation already proved to exist; never used in practice.
fn empty_settings() -> Settings {
    Settings::with_schema(Vec::new(), Vec::new(), Vec::new(), Vec::new())
}

fn prefixed(error: ApiError, position: usize) -> ApiError {
    error.with_message_prefix(&format!("in `queries[{position}]`: "))
}

/// Returns a serialized search response as an object led by its `indexUid`.
fn with_index_uid(uid: &str, bytes: &[u8]) -> Result<Value> {
    let response: Map<String, Value> = serde_json::from_slice(bytes).map_err(ApiError::internal)?;
    let mut result = Map::with_capacity(response.len() + 1);
    result.insert("indexUid".to_owned(), Value::from(uid));
    result.extend(response);
    Ok(Value::Object(result))
}
