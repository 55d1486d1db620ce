//! `/keys`: list, create (the plain key is shown once), read, rename and delete API keys.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use serde_json::{json, Value};

use super::offset_and_limit;
use super::settings::AnyJson;
use crate::auth::keys::{Action, KeyUpdate, NewKey};
use crate::auth::Caller;
use crate::error::{ApiError, Code, Result};
use crate::extract::JsonBody;
use crate::state::AppState;

/// `GET /keys?offset=&limit=`.
pub async fn list_keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    caller.authorize(Action::KeysGet, None)?;
    let store = state.auth().key_store()?;
    let (offset, limit) = offset_and_limit(
        query.as_deref(),
        Code::InvalidApiKeyOffset,
        Code::InvalidApiKeyLimit,
    )?;
    let (keys, total) = store.list(offset, limit).await?;
    let results: Vec<Value> = keys
        .iter()
        .map(|key| key.to_json(store.showable_plain_key(key).as_deref()))
        .collect();
    Ok(Json(json!({
        "results": results,
        "offset": offset,
        "limit": limit,
        "total": total,
    })))
}

/// `POST /keys`: 201 with the key, whose plain value is shown this once.
pub async fn create_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(AnyJson(body)): JsonBody<AnyJson>,
) -> Result<Response> {
    caller.authorize(Action::KeysCreate, None)?;
    let store = state.auth().key_store()?;
    let new_key = NewKey::from_json_value(body, Utc::now())?;
    let (key, plain) = store.create(new_key).await?;
    tracing::info!(key_uid = %key.uid, "api key created");
    Ok((StatusCode::CREATED, Json(key.to_json(Some(&plain)))).into_response())
}

/// `GET /keys/{uid or key}`.
pub async fn get_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid_or_key): Path<String>,
) -> Result<Json<Value>> {
    caller.authorize(Action::KeysGet, None)?;
    let store = state.auth().key_store()?;
    let key = store.resolve(&uid_or_key).await?;
    Ok(Json(key.to_json(store.showable_plain_key(&key).as_deref())))
}

/// `PATCH /keys/{uid or key}`: its name and description only.
pub async fn update_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid_or_key): Path<String>,
    JsonBody(AnyJson(body)): JsonBody<AnyJson>,
) -> Result<Json<Value>> {
    caller.authorize(Action::KeysUpdate, None)?;
    let store = state.auth().key_store()?;
    let update = KeyUpdate::from_json_value(body)?;
    let key = store.update(&uid_or_key, update).await?;
    Ok(Json(key.to_json(store.showable_plain_key(&key).as_deref())))
}

/// `DELETE /keys/{uid or key}`: 204.
pub async fn delete_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid_or_key): Path<String>,
) -> Result<StatusCode> {
    caller.authorize(Action::KeysDelete, None)?;
    let store = state.auth().key_store()?;
    let key = store.resolve(&uid_or_key).await?;
    if key.is_default {
        return Err(ApiError::new(
            Code::BadRequest,
            "the default keys cannot be deleted; they follow the master key",
        ));
    }
    store.delete(&uid_or_key).await?;
    tracing::info!(key_uid = %key.uid, "api key deleted");
    Ok(StatusCode::NO_CONTENT)
}
