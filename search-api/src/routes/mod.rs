//! The HTTP routes, with Meilisearch's paths and shapes, and the middleware around them:
//! request id, one span and one log line per request, metrics, the body limit, and
//! authentication with rate limiting on every route but health, metrics and the OpenAPI
//! description. `/metrics` is authenticated without a rate limit, and needs a key with
//! `metrics.get` under a master key, as Meilisearch's does.

mod candidates;
mod documents;
mod facet_search;
mod health;
mod indexes;
mod keys;
mod multi_search;
mod search;
mod settings;
mod stats;
mod version;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tracing::Instrument;

use crate::error::{ApiError, Code, Result};
use crate::limits::{DEFAULT_LIST_LIMIT, MAX_BODY_NUM_BYTES};
use crate::rate_limit::Decision;
use crate::state::AppState;

/// The header carrying the request id, set when the client sent none.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Returns the service's router over `state`.
pub fn app(state: AppState) -> Router {
    let protected = Router::new()
        .route(
            "/indexes/{uid}/search",
            get(search::search_get).post(search::search_post),
        )
        .route(
            "/indexes/{uid}/facet-search",
            post(facet_search::facet_search),
        )
        .route("/multi-search", post(multi_search::multi_search))
        .route(
            "/indexes",
            get(indexes::list_indexes).post(documents::refuse_index_creation),
        )
        .route(
            "/indexes/{uid}",
            get(indexes::get_index)
                .patch(documents::refuse_index_write)
                .delete(documents::refuse_index_write),
        )
        .route("/swap-indexes", post(documents::refuse_index_write))
        .route(
            "/indexes/{uid}/documents",
            get(documents::list_documents)
                .post(documents::refuse_document_write)
                .put(documents::refuse_document_write)
                .delete(documents::refuse_document_write),
        )
        .route(
            "/indexes/{uid}/documents/fetch",
            post(documents::fetch_documents),
        )
        .route(
            "/indexes/{uid}/documents/delete-batch",
            post(documents::refuse_document_write),
        )
        .route(
            "/indexes/{uid}/documents/delete",
            post(documents::refuse_document_write),
        )
        .route(
            "/indexes/{uid}/documents/{id}",
            get(documents::get_document).delete(documents::refuse_document_write),
        )
        .route(
            "/indexes/{uid}/settings",
            get(settings::get_settings)
                .patch(settings::update_settings)
                .delete(settings::reset_settings),
        )
        .route(
            "/indexes/{uid}/settings/{name}",
            get(settings::get_setting)
                .put(settings::update_setting)
                .patch(settings::update_setting)
                .delete(settings::reset_setting),
        )
        .route("/tasks/{task_uid}", get(settings::get_task))
        .route("/stats", get(stats::all_stats))
        .route("/indexes/{uid}/stats", get(stats::index_stats))
        .route("/version", get(version::version))
        .route("/keys", get(keys::list_keys).post(keys::create_key))
        .route(
            "/keys/{key}",
            get(keys::get_key)
                .patch(keys::update_key)
                .delete(keys::delete_key),
        )
        .route("/candidates", post(candidates::candidates))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            authenticate_and_limit,
        ));

    // Scrapers are authenticated but never rate limited: a refused scrape is a gap in
    // every graph.
    let scraped = Router::new()
        .route("/metrics", get(health::metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));

    let public = Router::new()
        .route("/health", get(health::health))
        .route("/health/ready", get(health::ready))
        .route("/openapi.json", get(crate::openapi::openapi));

    let request_id_header = HeaderName::from_static(REQUEST_ID_HEADER);
    protected
        .merge(scraped)
        .merge(public)
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_NUM_BYTES))
        .layer(middleware::map_response(payload_too_large_as_meilisearch))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(PropagateRequestIdLayer::new(request_id_header.clone()))
        .layer(SetRequestIdLayer::new(request_id_header, MakeRequestUuid))
        .layer(cors())
        .with_state(state)
}

/// Answers a path no route has with Meilisearch's error shape rather than an empty body.
async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::new(
        Code::NotFound,
        format!(
            "no route at `{}`; see `GET /openapi.json` for the routes",
            uri.path()
        ),
    )
}

/// Answers a known path called with the wrong method with Meilisearch's error shape.
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        format!(
            "`{method}` is not allowed on `{}`; see `GET /openapi.json` for its methods",
            uri.path()
        ),
    )
}

/// Cross-origin requests are allowed from anywhere, as Meilisearch allows them: search UIs
/// call the API from the browser with a search key or tenant token, which is what protects
/// it. Preflight requests are answered here, before authentication.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers([
            HeaderName::from_static(REQUEST_ID_HEADER),
            HeaderName::from_static(crate::response::DEGRADED_SEARCH_HEADER),
        ])
        .max_age(CORS_MAX_AGE)
}

/// How long browsers may cache a preflight answer; Meilisearch's value.
const CORS_MAX_AGE: Duration = Duration::from_secs(86_400);

/// Request ids are UUIDv7: unique and sortable by time in logs.
#[derive(Debug, Clone, Copy)]
struct MakeRequestUuid;

impl MakeRequestId for MakeRequestUuid {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Uuid::now_v7().to_string();
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Runs a request inside its span, then logs it and counts it.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        request_id = %request_id,
        status = tracing::field::Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;

    let status = response.status().as_u16();
    let elapsed_secs = started.elapsed().as_secs_f64();
    span.record("status", status);
    span.in_scope(|| {
        tracing::info!(status, latency_ms = elapsed_secs * 1_000.0, "request");
    });
    state
        .metrics()
        .observe_request(&route, status, elapsed_secs);
    response
}

/// Gives the body limit's own 413 Meilisearch's error body.
async fn payload_too_large_as_meilisearch(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return ApiError::payload_too_large(MAX_BODY_NUM_BYTES).into_response();
    }
    response
}

/// Finds the caller and hands it to the handler, which checks what it may do.
async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    match state.auth().authenticate(request.headers()).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

/// Finds the caller, counts the request against its rate limit, and hands the caller to
/// the handler, which checks what it may do.
async fn authenticate_and_limit(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match state.auth().authenticate(request.headers()).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let subject = caller.rate_limit_subject().unwrap_or_else(|| {
        let address = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip().to_string());
        format!("address:{}", address.as_deref().unwrap_or("unknown"))
    });
    if let Decision::Limited { retry_after_secs } = state.rate_limiter().check(&subject).await {
        state.metrics().rate_limited();
        let mut response = ApiError::too_many_requests(retry_after_secs).into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
        return response;
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Runs blocking engine work on the blocking pool, off the async runtime, once one of the
/// state's engine permits is free.
async fn blocking<T, F>(state: &AppState, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let permit = state
        .engine_permits()
        .clone()
        .acquire_owned()
        .await
        .map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(ApiError::internal)?
}

/// Returns a JSON response of already serialized bytes.
fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        bytes,
    )
        .into_response()
}

/// Reads `offset` and `limit` from a query string for the list routes, with their codes.
fn offset_and_limit(
    query: Option<&str>,
    offset_code: Code,
    limit_code: Code,
) -> Result<(usize, usize)> {
    let mut offset = 0;
    let mut limit = DEFAULT_LIST_LIMIT;
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let (target, code) = match name.as_ref() {
            "offset" => (&mut offset, offset_code),
            "limit" => (&mut limit, limit_code),
            _ => continue,
        };
        *target = value.parse().map_err(|_| {
            ApiError::new(
                code,
                format!(
                    "invalid value for `{name}`: expected a non-negative integer, found `{value}`"
                ),
            )
        })?;
    }
    Ok((offset, limit))
}
