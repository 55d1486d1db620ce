//! `GET /stats` and `GET /indexes/{uid}/stats`.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde_json::{json, Value};

use super::blocking;
use crate::auth::keys::{format_time, Action};
use crate::auth::Caller;
use crate::error::{ApiError, Result};
use crate::params::IndexUid;
use crate::state::AppState;

/// `GET /indexes/{uid}/stats`.
pub async fn index_stats(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
) -> Result<Json<Value>> {
    let uid = IndexUid::parse(&uid)?;
    caller.authorize(Action::StatsGet, Some(uid.as_str()))?;
    let engine = state.engine()?;
    let stats = blocking(&state, move || engine.stats(uid.as_str())).await?;
    Ok(Json(
        serde_json::to_value(stats).map_err(ApiError::internal)?,
    ))
}

/// `GET /stats`: every index the caller may see, the size of the index directory, and the
/// time of the latest update.
pub async fn all_stats(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>> {
    caller.authorize(Action::StatsGet, None)?;
    let engine = state.engine()?;
    let index_dir = state.index_dir().to_path_buf();
    let visible: Vec<_> = engine
        .index_uids()
        .into_iter()
        .filter(|index| caller.may_see_index(Action::StatsGet, &index.uid))
        .collect();
    let (indexes, database_size) = blocking(&state, move || {
        let mut indexes = BTreeMap::new();
        for index in &visible {
            indexes.insert(index.uid.clone(), engine.stats(&index.uid)?);
        }
        Ok((indexes, directory_num_bytes(&index_dir)))
    })
    .await?;
    let last_update = engine_last_update(&state);
    Ok(Json(json!({
        "databaseSize": database_size,
        "usedDatabaseSize": database_size,
        "lastUpdate": last_update,
        "indexes": indexes,
    })))
}

fn engine_last_update(state: &AppState) -> Option<String> {
    state
        .loaded_engine()?
        .index_uids()
        .into_iter()
        .map(|index| index.updated_at)
        .max()
        .map(format_time)
}

/// Returns the bytes of the files under `dir`, following no links; 0 when unreadable.
fn directory_num_bytes(dir: &FsPath) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let file_type = entry.file_type().ok()?;
            if file_type.is_dir() {
                Some(directory_num_bytes(&entry.path()))
            } else if file_type.is_file() {
                entry.metadata().ok().map(|metadata| metadata.len())
            } else {
                None
            }
        })
        .sum()
}
