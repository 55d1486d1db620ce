//! Index settings: `GET`, `PATCH` and `DELETE /indexes/{uid}/settings`, the sub-routes of
//! each setting (`/settings/stop-words`…), and `GET /tasks/{uid}`, which answers the tasks
//! that settings changes return.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Map, Value};

use crate::auth::keys::Action;
use crate::auth::Caller;
use crate::error::{ApiError, Code, Result};
use crate::extract::{JsonBody, RequestBody};
use crate::params::{IndexUid, SettingsUpdate};
use crate::settings_store::SettingsTask;
use crate::state::{schema_settings, AppState};

/// The sub-routes of `/settings`, by path segment, and the field each reads and writes.
const SETTING_ROUTES: &[(&str, &str)] = &[
    ("displayed-attributes", "displayedAttributes"),
    ("searchable-attributes", "searchableAttributes"),
    ("filterable-attributes", "filterableAttributes"),
    ("sortable-attributes", "sortableAttributes"),
    ("ranking-rules", "rankingRules"),
    ("stop-words", "stopWords"),
    ("synonyms", "synonyms"),
    ("distinct-attribute", "distinctAttribute"),
    ("typo-tolerance", "typoTolerance"),
    ("pagination", "pagination"),
    ("faceting", "faceting"),
    ("search-cutoff-ms", "searchCutoffMs"),
];

/// Any JSON body, for the sub-routes whose body is one setting's value.
#[derive(Debug)]
pub struct AnyJson(pub Value);

impl RequestBody for AnyJson {
    fn from_json_value(value: Value) -> Result<Self> {
        Ok(AnyJson(value))
    }
}

/// `GET /indexes/{uid}/settings`.
pub async fn get_settings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
) -> Result<Json<Value>> {
    Ok(Json(settings_json(&state, &caller, &uid)?))
}

/// `GET /indexes/{uid}/settings/{name}`.
pub async fn get_setting(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((uid, name)): Path<(String, String)>,
) -> Result<Response> {
    let field = field_of(&name)?;
    let mut settings = settings_json(&state, &caller, &uid)?;
    Ok(Json(settings[field].take()).into_response())
}

/// `PATCH /indexes/{uid}/settings`.
pub async fn update_settings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
    JsonBody(update): JsonBody<SettingsUpdate>,
) -> Result<Response> {
    apply(&state, &caller, &uid, update).await
}

/// `PUT` or `PATCH /indexes/{uid}/settings/{name}`: one setting.
pub async fn update_setting(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((uid, name)): Path<(String, String)>,
    JsonBody(AnyJson(value)): JsonBody<AnyJson>,
) -> Result<Response> {
    let field = field_of(&name)?;
    let update = SettingsUpdate::from_json_value(Value::Object(Map::from_iter([(
        field.to_owned(),
        value,
    )])))?;
    apply(&state, &caller, &uid, update).await
}

/// `DELETE /indexes/{uid}/settings/{name}`: one setting back to its default.
pub async fn reset_setting(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((uid, name)): Path<(String, String)>,
) -> Result<Response> {
    let field = field_of(&name)?;
    // The attribute lists are refused by the update: the schema decides them.
    let update = SettingsUpdate::from_json_value(Value::Object(Map::from_iter([(
        field.to_owned(),
        Value::Null,
    )])))?;
    apply(&state, &caller, &uid, update).await
}

/// `DELETE /indexes/{uid}/settings`: every setting back to its default.
pub async fn reset_settings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
) -> Result<Response> {
    let uid = IndexUid::parse(&uid)?;
    caller.authorize(Action::SettingsUpdate, Some(uid.as_str()))?;
    let engine = state.engine()?;
    state.index_settings(&engine, uid.as_str())?;
    let task = state.settings().reset(uid.as_str()).await?;
    Ok(accepted(&task))
}

/// `GET /tasks/{task_uid}`.
pub async fn get_task(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(task_uid): Path<String>,
) -> Result<Json<Value>> {
    let task_uid: i64 = task_uid
        .parse()
        .ok()
        .filter(|uid| *uid >= 0)
        .ok_or_else(|| {
            ApiError::new(
                Code::InvalidTaskUids,
                format!("invalid task uid `{task_uid}`: expected a non-negative integer"),
            )
        })?;
    let not_found = || ApiError::new(Code::TaskNotFound, format!("task `{task_uid}` not found"));
    let task = state
        .settings()
        .task(task_uid)
        .await?
        .ok_or_else(not_found)?;
    if caller
        .authorize(Action::TasksGet, Some(&task.index_uid))
        .is_err()
    {
        // A task on an index the key does not cover does not exist for it.
        caller.authorize(Action::TasksGet, None)?;
        return Err(not_found());
    }
    Ok(Json(task.task_json()))
}

fn settings_json(state: &AppState, caller: &Caller, uid: &str) -> Result<Value> {
    let uid = IndexUid::parse(uid)?;
    caller.authorize(Action::SettingsGet, Some(uid.as_str()))?;
    let engine = state.engine()?;
    let settings = state.index_settings(&engine, uid.as_str())?;
    serde_json::to_value(settings).map_err(ApiError::internal)
}

async fn apply(
    state: &AppState,
    caller: &Caller,
    uid: &str,
    update: SettingsUpdate,
) -> Result<Response> {
    let uid = IndexUid::parse(uid)?;
    caller.authorize(Action::SettingsUpdate, Some(uid.as_str()))?;
    let engine = state.engine()?;
    let schema = schema_settings(&engine, uid.as_str())?;
    let task = state
        .settings()
        .update(uid.as_str(), &schema, update)
        .await?;
    tracing::info!(index = %uid, task_uid = task.uid, "settings updated");
    Ok(accepted(&task))
}

/// Answers a settings change as Meilisearch does: 202 with the summarized task.
fn accepted(task: &SettingsTask) -> Response {
    (StatusCode::ACCEPTED, Json(task.summary_json())).into_response()
}

fn field_of(route_name: &str) -> Result<&'static str> {
    SETTING_ROUTES
        .iter()
        .find(|(name, _)| *name == route_name)
        .map(|(_, field)| *field)
        .ok_or_else(|| {
            let known: Vec<&str> = SETTING_ROUTES.iter().map(|(name, _)| *name).collect();
            ApiError::new(
                Code::NotFound,
                format!(
                    "`{route_name}` is not a setting; the settings are `{}`",
                    known.join("`, `")
                ),
            )
        })
}
