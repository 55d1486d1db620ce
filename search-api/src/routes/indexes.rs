//! `GET /indexes` and `GET /indexes/{uid}`: the indexes the caller may see.

use axum::extract::{Path, RawQuery, State};
use axum::Extension;
use axum::Json;
use serde_json::{json, Value};

use super::offset_and_limit;
use crate::auth::keys::Action;
use crate::auth::Caller;
use crate::error::{ApiError, Code, Result};
use crate::params::IndexUid;
use crate::state::AppState;

/// `GET /indexes?offset=&limit=`.
pub async fn list_indexes(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    caller.authorize(Action::IndexesGet, None)?;
    let (offset, limit) = offset_and_limit(
        query.as_deref(),
        Code::InvalidIndexOffset,
        Code::InvalidIndexLimit,
    )?;
    let engine = state.engine()?;
    let visible: Vec<_> = engine
        .index_uids()
        .into_iter()
        .filter(|index| caller.may_see_index(Action::IndexesGet, &index.uid))
        .collect();
    let total = visible.len();
    let page: Vec<_> = visible.into_iter().skip(offset).take(limit).collect();
    Ok(Json(json!({
        "results": page,
        "offset": offset,
        "limit": limit,
        "total": total,
    })))
}

/// `GET /indexes/{uid}`.
pub async fn get_index(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
) -> Result<Json<Value>> {
    let uid = IndexUid::parse(&uid)?;
    caller.authorize(Action::IndexesGet, Some(uid.as_str()))?;
    let engine = state.engine()?;
    let index = engine
        .index_uids()
        .into_iter()
        .find(|index| index.uid == uid.as_str())
        .ok_or_else(|| ApiError::index_not_found(uid.as_str()))?;
    Ok(Json(
        serde_json::to_value(index).map_err(ApiError::internal)?,
    ))
}
