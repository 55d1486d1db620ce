//! The documents routes: one document, a page of documents (`GET` with a query string or
//! `POST …/fetch` with a body), and the refusal of every write, since documents come from
//! PostgreSQL.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;

use super::{blocking, json_bytes};
use crate::auth::keys::Action;
use crate::auth::Caller;
use crate::engine::Engine;
use crate::error::{ApiError, Code, Result};
use crate::extract::JsonBody;
use crate::params::{DocumentsFetchRequest, IndexCapabilities, IndexUid};
use crate::state::AppState;
use serde_json::Value;

/// `GET /indexes/{uid}/documents/{id}?fields=…`.
pub async fn get_document(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((uid, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let uid = IndexUid::parse(&uid)?;
    caller.authorize(Action::DocumentsGet, Some(uid.as_str()))?;
    let fields = fields_of(query.as_deref());
    let engine = state.engine()?;
    let document = blocking(&state, move || {
        engine.document(uid.as_str(), &id, fields.as_deref())
    })
    .await?;
    let bytes = serde_json::to_vec(&document).map_err(ApiError::internal)?;
    Ok(json_bytes(StatusCode::OK, bytes))
}

/// `GET /indexes/{uid}/documents?offset=&limit=&fields=&filter=&ids=`.
pub async fn list_documents(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let request = DocumentsFetchRequest::from_query_string(query.as_deref().unwrap_or_default())?;
    fetch(&state, &caller, &uid, request).await
}

/// `POST /indexes/{uid}/documents/fetch`.
pub async fn fetch_documents(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
    JsonBody(request): JsonBody<DocumentsFetchRequest>,
) -> Result<Response> {
    fetch(&state, &caller, &uid, request).await
}

async fn fetch(
    state: &AppState,
    caller: &Caller,
    uid: &str,
    request: DocumentsFetchRequest,
) -> Result<Response> {
    let uid = IndexUid::parse(uid)?;
    caller.authorize(Action::DocumentsGet, Some(uid.as_str()))?;
    let engine = state.engine()?;
    let settings = state.index_settings(&engine, uid.as_str())?;
    let fetch = request.validate(&IndexCapabilities::from_settings(&settings))?;
    let response = blocking(state, move || engine.documents(uid.as_str(), &fetch)).await?;
    let bytes = serde_json::to_vec(&response).map_err(ApiError::internal)?;
    Ok(json_bytes(StatusCode::OK, bytes))
}

/// Every document write: refused with `immutable_index`.
pub async fn refuse_document_write(
    Extension(caller): Extension<Caller>,
    Path(path): Path<Vec<(String, String)>>,
) -> Result<Response> {
    refuse(&caller, path.first().map(|(_, uid)| uid.as_str()))
}

/// Changing, deleting or swapping indexes: refused with `immutable_index`, or
/// `index_not_found` for an index that is not one of the fixed ones.
pub async fn refuse_index_write(
    Extension(caller): Extension<Caller>,
    path: Option<Path<Vec<(String, String)>>>,
) -> Result<Response> {
    check_caller(&caller)?;
    let uid = path.and_then(|Path(path)| path.into_iter().next().map(|(_, uid)| uid));
    match uid {
        Some(uid) if Engine::catalog(&uid).is_none() => {
            Err(ApiError::index_not_found(IndexUid::parse(&uid)?.as_str()))
        }
        uid => Err(ApiError::fixed_index(uid.as_deref())),
    }
}

/// `POST /indexes`: refused with `index_already_exists` for a fixed index, with
/// `index_creation_failed` for any other, as the indexes are fixed.
pub async fn refuse_index_creation(
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response> {
    check_caller(&caller)?;
    let uid = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|value| value.get("uid").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| {
            ApiError::new(
                Code::MissingIndexUid,
                "missing `uid`; give the index uid as a string in a JSON object",
            )
        })?;
    let uid = IndexUid::parse(&uid)?;
    match Engine::catalog(uid.as_str()) {
        Some(_) => Err(ApiError::index_already_exists(uid.as_str())),
        None => Err(ApiError::index_creation_refused(uid.as_str())),
    }
}

fn refuse(caller: &Caller, uid: Option<&str>) -> Result<Response> {
    check_caller(caller)?;
    Err(ApiError::immutable_index(uid.unwrap_or("*")))
}

/// Tells callers without a valid key that first, as with any route.
fn check_caller(caller: &Caller) -> Result<()> {
    match caller {
        Caller::Anonymous => Err(ApiError::missing_authorization_header()),
        Caller::Refused => Err(ApiError::invalid_api_key()),
        _ => Ok(()),
    }
}

/// Reads `fields=a,b` from a query string.
fn fields_of(query: Option<&str>) -> Option<Vec<String>> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "fields")
        .map(|(_, value)| {
            value
                .split(',')
                .map(str::trim)
                .filter(|field| !field.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|fields| !fields.iter().any(|field| field == "*"))
}
