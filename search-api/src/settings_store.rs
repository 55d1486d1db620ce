//! The run-time settings of each index, persisted in PostgreSQL (`index_settings`), and the
//! settings tasks that `PATCH` and `DELETE` of settings answer with.
//!
//! The attribute lists always come from the index schema; what is stored are the settings a
//! user may change. Each replica keeps them in memory: its own changes apply at once, other
//! replicas' changes when it next reloads (every [`SETTINGS_RELOAD_INTERVAL`]).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::auth::keys::format_time;
use crate::error::{ApiError, Result};
use crate::params::{Settings, SettingsUpdate};

/// How often a replica reads settings changed through other replicas.
pub const SETTINGS_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// The kind of every task recorded here.
const SETTINGS_UPDATE_TASK: &str = "settingsUpdate";

/// A recorded settings change.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsTask {
    /// The task uid.
    pub uid: i64,
    /// The index whose settings changed.
    pub index_uid: String,
    /// The change as sent.
    pub details: Value,
    /// When it was received.
    pub enqueued_at: DateTime<Utc>,
    /// When it was applied.
    pub finished_at: DateTime<Utc>,
}

impl SettingsTask {
    /// Returns the summarized task answered to `PATCH` and `DELETE`, as Meilisearch does.
    pub fn summary_json(&self) -> Value {
        json!({
            "taskUid": self.uid,
            "indexUid": self.index_uid,
            "status": "succeeded",
            "type": SETTINGS_UPDATE_TASK,
            "enqueuedAt": format_time(self.enqueued_at),
        })
    }

    /// Returns the task as `GET /tasks/{uid}` answers it.
    pub fn task_json(&self) -> Value {
        let duration = (self.finished_at - self.enqueued_at)
            .to_std()
            .unwrap_or_default();
        json!({
            "uid": self.uid,
            "batchUid": self.uid,
            "indexUid": self.index_uid,
            "status": "succeeded",
            "type": SETTINGS_UPDATE_TASK,
            "canceledBy": null,
            "details": self.details,
            "error": null,
            "duration": format!("PT{}.{:06}S", duration.as_secs(), duration.subsec_micros()),
            "enqueuedAt": format_time(self.enqueued_at),
            "startedAt": format_time(self.enqueued_at),
            "finishedAt": format_time(self.finished_at),
        })
    }
}

/// The stored settings of every index, in memory and in PostgreSQL.
#[derive(Debug)]
pub struct SettingsStore {
    pool: PgPool,
    stored: RwLock<HashMap<String, Settings>>,
}

impl SettingsStore {
    /// Returns the store with every index's stored settings loaded.
    ///
    /// # Errors
    ///
    /// Fails when PostgreSQL does.
    pub async fn load(pool: PgPool) -> Result<SettingsStore> {
        let store = SettingsStore::unloaded(pool);
        store.reload().await?;
        Ok(store)
    }

    /// Returns the store with nothing loaded yet, every index at its defaults until
    /// [`SettingsStore::reload`] succeeds; for a start while PostgreSQL is unreachable.
    pub fn unloaded(pool: PgPool) -> SettingsStore {
        SettingsStore {
            pool,
            stored: RwLock::new(HashMap::new()),
        }
    }

    /// Reads every index's stored settings again; a row that no longer reads as settings
    /// is logged and ignored, leaving that index at its defaults.
    ///
    /// # Errors
    ///
    /// Fails when PostgreSQL does.
    pub async fn reload(&self) -> Result<()> {
        let rows: Vec<(String, Value)> = sqlx::query_as("select uid, settings from index_settings")
            .fetch_all(&self.pool)
            .await
            .map_err(ApiError::database)?;
        let mut loaded = HashMap::with_capacity(rows.len());
        for (uid, value) in rows {
            match serde_json::from_value::<Settings>(value) {
                Ok(settings) => {
                    loaded.insert(uid, settings);
                }
                Err(error) => {
                    tracing::error!(index = %uid, %error, "stored settings unreadable; using defaults");
                }
            }
        }
        *self
            .stored
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = loaded;
        Ok(())
    }

    /// Returns the settings in force for the index `uid` whose schema gives `schema`.
    pub fn effective(&self, uid: &str, schema: &Settings) -> Settings {
        let stored = self
            .stored
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match stored.get(uid) {
            Some(settings) => with_schema_lists(settings.clone(), schema),
            None => schema.clone(),
        }
    }

    /// Applies `update` to the settings of `uid`, stores them and records the task.
    ///
    /// # Errors
    ///
    /// The update's own refusals (`invalid_settings_*`); fails when PostgreSQL does.
    pub async fn update(
        &self,
        uid: &str,
        schema: &Settings,
        update: SettingsUpdate,
    ) -> Result<SettingsTask> {
        let details = serde_json::to_value(&update).map_err(ApiError::internal)?;
        let enqueued_at = Utc::now();
        let mut transaction = self.pool.begin().await.map_err(ApiError::database)?;
        // Changes of one index through several replicas apply one after the other.
        sqlx::query("select pg_advisory_xact_lock(hashtext('atlas index_settings ' || $1))")
            .bind(uid)
            .execute(&mut *transaction)
            .await
            .map_err(ApiError::database)?;
        let current: Option<(Value,)> =
            sqlx::query_as("select settings from index_settings where uid = $1")
                .bind(uid)
                .fetch_optional(&mut *transaction)
                .await
                .map_err(ApiError::database)?;
        let current = current
            .and_then(|(value,)| serde_json::from_value::<Settings>(value).ok())
            .map_or_else(
                || schema.clone(),
                |settings| with_schema_lists(settings, schema),
            );
        let updated = current.apply_update(update)?;

        sqlx::query(
            "insert into index_settings (uid, settings, updated_at) values ($1, $2, now()) \
             on conflict (uid) do update set settings = excluded.settings, updated_at = now()",
        )
        .bind(uid)
        .bind(serde_json::to_value(&updated).map_err(ApiError::internal)?)
        .execute(&mut *transaction)
        .await
        .map_err(ApiError::database)?;
        let task = record_task(&mut transaction, uid, details, enqueued_at).await?;
        transaction.commit().await.map_err(ApiError::database)?;

        self.stored
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(uid.to_owned(), updated);
        Ok(task)
    }

    /// Returns every setting of `uid` to its default and records the task.
    ///
    /// # Errors
    ///
    /// Fails when PostgreSQL does.
    pub async fn reset(&self, uid: &str) -> Result<SettingsTask> {
        let details = json!({
            "rankingRules": null,
            "stopWords": null,
            "synonyms": null,
            "distinctAttribute": null,
            "typoTolerance": null,
            "pagination": null,
            "faceting": null,
            "searchCutoffMs": null,
        });
        let mut transaction = self.pool.begin().await.map_err(ApiError::database)?;
        sqlx::query("delete from index_settings where uid = $1")
            .bind(uid)
            .execute(&mut *transaction)
            .await
            .map_err(ApiError::database)?;
        let task = record_task(&mut transaction, uid, details, Utc::now()).await?;
        transaction.commit().await.map_err(ApiError::database)?;
        self.stored
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(uid);
        Ok(task)
    }

    /// Returns the task `task_uid`, if any.
    ///
    /// # Errors
    ///
    /// Fails when PostgreSQL does.
    pub async fn task(&self, task_uid: i64) -> Result<Option<SettingsTask>> {
        let row: Option<TaskRow> = sqlx::query_as(
            "select uid, index_uid, details, enqueued_at, finished_at from settings_tasks \
             where uid = $1",
        )
        .bind(task_uid)
        .fetch_optional(&self.pool)
        .await
        .map_err(ApiError::database)?;
        Ok(row.map(
            |(uid, index_uid, details, enqueued_at, finished_at)| SettingsTask {
                uid,
                index_uid,
                details,
                enqueued_at,
                finished_at,
            },
        ))
    }
}

/// A `settings_tasks` row: uid, index uid, details, enqueued at, finished at.
type TaskRow = (i64, String, Value, DateTime<Utc>, DateTime<Utc>);

async fn record_task(
    transaction: &mut sqlx::PgConnection,
    uid: &str,
    details: Value,
    enqueued_at: DateTime<Utc>,
) -> Result<SettingsTask> {
    let (task_uid, finished_at): (i64, DateTime<Utc>) = sqlx::query_as(
        "insert into settings_tasks (index_uid, task_type, status, details, enqueued_at, \
         finished_at) values ($1, $2, 'succeeded', $3, $4, clock_timestamp()) \
         returning uid, finished_at",
    )
    .bind(uid)
    .bind(SETTINGS_UPDATE_TASK)
    .bind(&details)
    .bind(enqueued_at)
    .fetch_one(transaction)
    .await
    .map_err(ApiError::database)?;
    Ok(SettingsTask {
        uid: task_uid,
        index_uid: uid.to_owned(),
        details,
        enqueued_at,
        finished_at,
    })
}

/// Returns `settings` with the attribute lists of the schema, which stored settings never
/// decide.
fn with_schema_lists(mut settings: Settings, schema: &Settings) -> Settings {
    settings.displayed_attributes = schema.displayed_attributes.clone();
    settings.searchable_attributes = schema.searchable_attributes.clone();
    settings.filterable_attributes = schema.filterable_attributes.clone();
    settings.sortable_attributes = schema.sortable_attributes.clone();
    settings
}
