//! `POST` and `GET /indexes/{uid}/search`, the cached search both forms and the
//! multi-search share, and the tenant filter and cache key the facet search shares too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;

use super::{blocking, json_bytes};
use crate::auth::keys::Action;
use crate::auth::{Caller, Grant};
use crate::cache::{with_processing_time, CacheKeyParts};
use crate::engine::Engine;
use crate::error::{ApiError, Code, Result};
use crate::extract::JsonBody;
use crate::filter::{check_filterable, FilterExpr};
use crate::params::{IndexCapabilities, IndexUid, SearchQuery, Settings, ValidatedSearch};
use crate::response::DEGRADED_SEARCH_HEADER;
use crate::state::AppState;

/// `POST /indexes/{uid}/search`.
pub async fn search_post(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
    JsonBody(query): JsonBody<SearchQuery>,
) -> Result<Response> {
    search(&state, &caller, &uid, query).await
}

/// `GET /indexes/{uid}/search`: the same search from the query string.
pub async fn search_get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
    RawQuery(query_string): RawQuery,
) -> Result<Response> {
    let query = SearchQuery::from_query_string(query_string.as_deref().unwrap_or_default())?;
    search(&state, &caller, &uid, query).await
}

async fn search(
    state: &AppState,
    caller: &Caller,
    uid: &str,
    query: SearchQuery,
) -> Result<Response> {
    let started = Instant::now();
    let uid = IndexUid::parse(uid)?;
    let grant = caller.authorize(Action::Search, Some(uid.as_str()))?;
    let engine = state.engine()?;
    let settings = state.index_settings(&engine, uid.as_str())?;
    let mut validated = query.validate(&IndexCapabilities::from_settings(&settings))?;
    apply_tenant_filter(&mut validated, &grant, &settings, uid.as_str())?;
    let answer = cached_search(
        state,
        engine,
        uid.as_str(),
        settings,
        validated,
        &grant,
        started,
    )
    .await?;
    Ok(with_degraded_header(
        json_bytes(StatusCode::OK, answer.bytes),
        answer.is_degraded,
    ))
}

/// A serialized search response, and whether the time budget cut it short.
pub(crate) struct SearchAnswer {
    /// The response body.
    pub bytes: Vec<u8>,
    /// Whether the hits are only those gathered before the time budget ran out.
    pub is_degraded: bool,
}

/// Marks a response answered with the hits gathered before the time budget ran out.
pub(crate) fn with_degraded_header(mut response: Response, is_degraded: bool) -> Response {
    if is_degraded {
        response.headers_mut().insert(
            HeaderName::from_static(DEGRADED_SEARCH_HEADER),
            HeaderValue::from_static("true"),
        );
    }
    response
}

/// Logs and counts a search answered with the hits gathered before its time budget ran
/// out, as Meilisearch counts its degraded searches.
pub(crate) fn record_degraded(state: &AppState, uid: &str, time_budget: Duration) {
    state.metrics().degraded_search();
    tracing::warn!(
        index = uid,
        time_budget_ms = u64::try_from(time_budget.as_millis()).unwrap_or(u64::MAX),
        "search cut short by its time budget; answered with the hits gathered so far"
    );
}

/// ANDs the filter of a tenant token's rules into `search`, after checking it against the
/// index like any filter.
///
/// # Errors
///
/// `invalid_search_filter` when the token's filter does not parse or names an attribute
/// that is not filterable.
pub(crate) fn apply_tenant_filter(
    search: &mut ValidatedSearch,
    grant: &Grant,
    settings: &Settings,
    uid: &str,
) -> Result<()> {
    let Some(input) = &grant.tenant_filter else {
        return Ok(());
    };
    let refused = |message: &str| {
        ApiError::new(
            Code::InvalidSearchFilter,
            format!("the tenant token's filter for index `{uid}` is invalid: {message}"),
        )
    };
    let Some(tenant_filter) = input
        .parse("searchRules filter")
        .map_err(|error| refused(error.message()))?
    else {
        return Ok(());
    };
    check_filterable(&tenant_filter, &settings.filterable_attributes)
        .map_err(|error| refused(error.message()))?;
    search.filter = Some(match search.filter.take() {
        None => tenant_filter,
        Some(own_filter) => FilterExpr::And(vec![own_filter, tenant_filter]),
    });
    Ok(())
}

/// Returns the response cached under `key`, if any, telling the time answering it took
/// since `started`; counts the cache hit or miss.
pub(crate) async fn cached_answer(
    state: &AppState,
    key: Option<&str>,
    started: Instant,
) -> Option<Vec<u8>> {
    let key = key?;
    let Some(bytes) = state.cache().get(key).await else {
        state.metrics().cache_miss();
        return None;
    };
    state.metrics().cache_hit();
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Some(with_processing_time(bytes, millis))
}

/// Returns the response cache key of `request` on the index `uid` under `settings` for the
/// caller holding `grant`, or `None` when the cache is off or the index not open. The
/// request's Debug text stands for it: a validated request spells out every field, defaults
/// applied, so equal requests give equal text whatever form they were sent in, and its
/// type's name keeps the requests of different routes apart.
///
/// # Errors
///
/// An internal error when the settings cannot be serialized.
pub(crate) fn index_cache_key(
    state: &AppState,
    engine: &Engine,
    uid: &str,
    settings: &Settings,
    request: &impl std::fmt::Debug,
    grant: &Grant,
) -> Result<Option<String>> {
    let cache = state.cache();
    let Some(generation) = engine.generation(uid).filter(|_| cache.is_enabled()) else {
        return Ok(None);
    };
    let settings_text = serde_json::to_string(settings).map_err(ApiError::internal)?;
    Ok(Some(cache.key(&CacheKeyParts {
        index_uid: uid,
        generation: &generation,
        settings: &settings_text,
        search: &format!("{request:?}"),
        tenant_rules: grant.tenant_rules.as_deref(),
    })))
}

/// Returns the serialized response of a validated search, from the cache when an entry for
/// the index's current generation exists, otherwise from the engine on the blocking pool.
/// The search's time budget runs from `started`, when its request arrived, so that the
/// queries of one multi-search share it. A degraded response is not cached: the same
/// search may finish in time next.
pub(crate) async fn cached_search(
    state: &AppState,
    engine: Arc<Engine>,
    uid: &str,
    settings: Settings,
    search: ValidatedSearch,
    grant: &Grant,
    started: Instant,
) -> Result<SearchAnswer> {
    let cache = state.cache();
    let cache_key = index_cache_key(state, &engine, uid, &settings, &search, grant)?;
    if let Some(bytes) = cached_answer(state, cache_key.as_deref(), started).await {
        return Ok(SearchAnswer {
            bytes,
            is_degraded: false,
        });
    }

    let time_budget = search.time_budget_for(&settings);
    let deadline = started + time_budget;
    let owned_uid = uid.to_owned();
    let response = blocking(state, move || {
        engine.search(&owned_uid, &search, &settings, deadline)
    })
    .await?;
    let bytes = serde_json::to_vec(&response).map_err(ApiError::internal)?;
    if response.is_degraded {
        record_degraded(state, uid, time_budget);
    } else if let Some(key) = &cache_key {
        cache.put(key, &bytes).await;
    }
    Ok(SearchAnswer {
        bytes,
        is_degraded: response.is_degraded,
    })
}
