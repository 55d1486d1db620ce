//! `POST /multi-search`: several searches answered together, each cached like a single
//! search, or federated into one merged list of hits.
//!
//! The whole request has one time budget, as a single search has: every query's budget
//! runs from the moment the request arrived, and the queries run a few at once on the
//! blocking pool, so a query that waits for the others finds its remaining time shortened
//! rather than starting a full budget of its own. A query past its budget answers degraded, as a
//! single search does, or with `search_time_budget_exceeded` naming its position; a
//! federated search leaves out the queries not started when the budget ran out. A
//! federated search is cached whole, under the generations of every index it merges.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::{Map, Value};
use tracing::Instrument;

use super::search::{
    apply_tenant_filter, cached_answer, cached_search, record_degraded, with_degraded_header,
    SearchAnswer,
};
use super::{blocking, json_bytes};
use crate::auth::keys::Action;
use crate::auth::{Caller, Grant};
use crate::cache::{CacheKeyParts, ResponseCache};
use crate::error::{ApiError, Result};
use crate::extract::JsonBody;
use crate::limits::MAX_CONCURRENT_MULTI_SEARCH_QUERIES;
use crate::params::{
    IndexCapabilities, IndexUid, MultiSearchRequest, Settings, ValidatedFederatedQuery,
    ValidatedMultiSearch,
};
use crate::state::AppState;

/// `POST /multi-search`.
pub async fn multi_search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(request): JsonBody<MultiSearchRequest>,
) -> Result<Response> {
    let started = Instant::now();
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
        let mut tenant_rules: Vec<(&str, Option<&str>)> = grants
            .iter()
            .map(|(uid, grant)| (uid.as_str(), grant.tenant_rules.as_deref()))
            .collect();
        tenant_rules.sort_unstable();
        let tenant_rules = format!("{tenant_rules:?}");
        return federated(&state, engine, validated, settings, &tenant_rules, started).await;
    };
    let num_searches = searches.len();
    let mut pending = searches.into_iter().enumerate();
    let mut running = tokio::task::JoinSet::new();
    let mut answers: Vec<Option<(IndexUid, Result<SearchAnswer>)>> =
        (0..num_searches).map(|_| None).collect();
    loop {
        while running.len() < MAX_CONCURRENT_MULTI_SEARCH_QUERIES {
            let Some((position, (uid, search))) = pending.next() else {
                break;
            };
            let state = state.clone();
            let engine = engine.clone();
            let settings = settings[&uid].clone();
            let grant = grants[&uid].clone();
            let query = async move {
                let answer = cached_search(
                    &state,
                    engine,
                    uid.as_str(),
                    settings,
                    search,
                    &grant,
                    started,
                )
                .await;
                (position, uid, answer)
            };
            running.spawn(query.instrument(tracing::Span::current()));
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (position, uid, answer) = joined.map_err(ApiError::internal)?;
        answers[position] = Some((uid, answer));
    }

    let mut results = Vec::with_capacity(num_searches);
    let mut is_degraded = false;
    for (position, answer) in answers.into_iter().enumerate() {
        let (uid, answer) =
            answer.ok_or_else(|| ApiError::internal("a multi-search query did not answer"))?;
        let answer = answer.map_err(|error| prefixed(error, position))?;
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

/// Answers a federated search from the cache, or runs it on the blocking pool and caches
/// it unless degraded. `tenant_rules` are the tenant token's rules for each index, in a
/// canonical text.
async fn federated(
    state: &AppState,
    engine: std::sync::Arc<crate::engine::Engine>,
    validated: ValidatedMultiSearch,
    settings: HashMap<IndexUid, Settings>,
    tenant_rules: &str,
    started: Instant,
) -> Result<Response> {
    let ValidatedMultiSearch::Federated { queries, .. } = &validated else {
        return Err(ApiError::internal("federated search without federation"));
    };
    let settings: HashMap<String, Settings> = settings
        .into_iter()
        .map(|(uid, settings)| (uid.as_str().to_owned(), settings))
        .collect();
    let cache = state.cache();
    let cache_key = if cache.is_enabled() {
        // The Debug text of a validated search spells out every field, defaults applied.
        let search_text = format!("{validated:?}");
        federated_cache_key(
            cache,
            &engine,
            queries,
            &search_text,
            &settings,
            tenant_rules,
        )?
    } else {
        None
    };
    if let Some(bytes) = cached_answer(state, cache_key.as_deref(), started).await {
        return Ok(json_bytes(StatusCode::OK, bytes));
    }
    let time_budget = queries
        .iter()
        .filter_map(|query| {
            let settings = settings.get(query.index_uid.as_str())?;
            Some(query.search.time_budget_for(settings))
        })
        .max()
        .unwrap_or_default();
    let deadline = started + time_budget;
    let response = blocking(state, move || {
        let settings_of = |uid: &str| settings.get(uid).cloned().unwrap_or_else(empty_settings);
        engine.federated_search(&validated, &settings_of, deadline)
    })
    .await?;
    let body = serde_json::to_vec(&response).map_err(ApiError::internal)?;
    if response.is_degraded {
        record_degraded(state, "federated", time_budget);
    } else if let Some(key) = &cache_key {
        cache.put(key, &body).await;
    }
    Ok(with_degraded_header(
        json_bytes(StatusCode::OK, body),
        response.is_degraded,
    ))
}

/// Returns the cache key of a federated search: the generations and settings of every
/// index its `queries` merge, the validated search's text (tenant filters applied) and
/// the tenant rules; `None` when an index has no generation yet.
fn federated_cache_key(
    cache: &ResponseCache,
    engine: &crate::engine::Engine,
    queries: &[ValidatedFederatedQuery],
    search_text: &str,
    settings: &HashMap<String, Settings>,
    tenant_rules: &str,
) -> Result<Option<String>> {
    let mut uids: Vec<&str> = queries
        .iter()
        .map(|query| query.index_uid.as_str())
        .collect();
    uids.sort_unstable();
    uids.dedup();
    let mut generations = Vec::with_capacity(uids.len());
    let mut settings_of = Vec::with_capacity(uids.len());
    for uid in uids {
        let Some(generation) = engine.generation(uid) else {
            return Ok(None);
        };
        generations.push(format!("{uid}={generation}"));
        settings_of.push((uid, settings.get(uid)));
    }
    let settings_text = serde_json::to_string(&settings_of).map_err(ApiError::internal)?;
    Ok(Some(cache.key(&CacheKeyParts {
        index_uid: "federated",
        generation: &generations.join(","),
        settings: &settings_text,
        search: search_text,
        tenant_rules: Some(tenant_rules),
    })))
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
