//! API keys: what each allows (actions on index patterns), their storage in PostgreSQL as
//! hashes, and the default Search and Admin keys created at first start.
//!
//! Known shortcoming: after a change of master key, keys created before it still
//! authenticate requests but can no longer sign tenant tokens, since their plain value is
//! derived from the old master key; recreate them to use tenant tokens again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::master_key::{key_hash, MasterKey};
use crate::error::{ApiError, Code, Result};
use crate::params::IndexUid;

/// How long a key read from PostgreSQL is trusted before it is read again: a key deleted
/// or expired through another replica stops working within this time.
const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// Longest wait for PostgreSQL in a key lookup before the last known key state answers:
/// while PostgreSQL is down the pool would otherwise retry for its whole acquire timeout on
/// every request. A lookup by a unique index takes milliseconds when PostgreSQL is up.
const KEY_LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// Entries of the key cache past which it is emptied, so unknown keys sent in a loop
/// cannot grow it without bound.
const MAX_KEY_CACHE_NUM_ENTRIES: usize = 10_000;

/// Characters of a plain key kept to tell keys apart.
const KEY_PREFIX_NUM_CHARS: usize = 8;

/// Name of the default key that may only search.
pub const DEFAULT_SEARCH_KEY_NAME: &str = "Default Search API Key";

/// Name of the default key that may do everything.
pub const DEFAULT_ADMIN_KEY_NAME: &str = "Default Admin API Key";

/// Every action Meilisearch knows; a key may name any of them, though Atlas routes check
/// only those of [`Action`].
const KNOWN_ACTIONS: &[&str] = &[
    "*",
    "search",
    "documents.*",
    "documents.add",
    "documents.get",
    "documents.delete",
    "indexes.*",
    "indexes.create",
    "indexes.get",
    "indexes.update",
    "indexes.delete",
    "indexes.swap",
    "tasks.*",
    "tasks.cancel",
    "tasks.delete",
    "tasks.get",
    "settings.*",
    "settings.get",
    "settings.update",
    "stats.*",
    "stats.get",
    "metrics.*",
    "metrics.get",
    "dumps.*",
    "dumps.create",
    "snapshots.*",
    "snapshots.create",
    "version",
    "keys.*",
    "keys.create",
    "keys.get",
    "keys.update",
    "keys.delete",
];

/// What a route asks a key to allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Searches, multi-searches and candidate retrieval.
    Search,
    /// Reading documents.
    DocumentsGet,
    /// Listing and describing indexes.
    IndexesGet,
    /// Reading settings.
    SettingsGet,
    /// Changing settings.
    SettingsUpdate,
    /// Reading statistics.
    StatsGet,
    /// Reading tasks.
    TasksGet,
    /// Reading the version.
    Version,
    /// Listing and reading keys.
    KeysGet,
    /// Creating keys.
    KeysCreate,
    /// Changing keys.
    KeysUpdate,
    /// Deleting keys.
    KeysDelete,
    /// Reading the Prometheus metrics.
    MetricsGet,
}

impl Action {
    /// Returns the action's name, as written in a key's `actions`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Search => "search",
            Action::DocumentsGet => "documents.get",
            Action::IndexesGet => "indexes.get",
            Action::SettingsGet => "settings.get",
            Action::SettingsUpdate => "settings.update",
            Action::StatsGet => "stats.get",
            Action::TasksGet => "tasks.get",
            Action::Version => "version",
            Action::KeysGet => "keys.get",
            Action::KeysCreate => "keys.create",
            Action::KeysUpdate => "keys.update",
            Action::KeysDelete => "keys.delete",
            Action::MetricsGet => "metrics.get",
        }
    }

    /// Returns whether a key listing `granted` allows this action: the action itself, `*`,
    /// or its family's wildcard (`settings.*`).
    pub fn is_granted_by(self, granted: &str) -> bool {
        let name = self.as_str();
        if granted == "*" || granted == name {
            return true;
        }
        match (granted.strip_suffix(".*"), name.split_once('.')) {
            (Some(family), Some((name_family, _))) => family == name_family,
            _ => false,
        }
    }
}

/// Returns whether `pattern` (`*`, `rec*` or an exact uid) covers the index `uid`.
pub fn index_pattern_matches(pattern: &str, uid: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => uid.starts_with(prefix),
        None => pattern == uid,
    }
}

/// An API key as stored, without its plain value.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    /// The key's uid.
    pub uid: Uuid,
    /// The first characters of the plain key.
    pub key_prefix: String,
    /// A name for people.
    pub name: Option<String>,
    /// A description for people.
    pub description: Option<String>,
    /// Actions allowed.
    pub actions: Vec<String>,
    /// Index uids or patterns allowed.
    pub indexes: Vec<String>,
    /// When the key stops working; never when `None`.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it is one of the two default keys.
    pub is_default: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its name or description last changed.
    pub updated_at: DateTime<Utc>,
}

impl ApiKey {
    /// Returns whether the key allows `action`.
    pub fn allows_action(&self, action: Action) -> bool {
        self.actions
            .iter()
            .any(|granted| action.is_granted_by(granted))
    }

    /// Returns whether the key allows the index `uid`.
    pub fn allows_index(&self, uid: &str) -> bool {
        self.indexes
            .iter()
            .any(|pattern| index_pattern_matches(pattern, uid))
    }

    /// Returns whether the key has expired at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expires_at| expires_at <= now)
    }

    /// Returns the key in Meilisearch's shape. `plain_key` is the full key when it may be
    /// shown; otherwise `key` holds only its prefix followed by `…`.
    pub fn to_json(&self, plain_key: Option<&str>) -> Value {
        let key = match plain_key {
            Some(plain) => plain.to_owned(),
            None => format!("{}…", self.key_prefix),
        };
        json!({
            "name": self.name,
            "description": self.description,
            "key": key,
            "uid": self.uid.hyphenated().to_string(),
            "actions": self.actions,
            "indexes": self.indexes,
            "expiresAt": self.expires_at.map(format_time),
            "createdAt": format_time(self.created_at),
            "updatedAt": format_time(self.updated_at),
        })
    }
}

/// Returns a time as Meilisearch writes it: RFC 3339 in UTC with a `Z`.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A key to create, read from `POST /keys`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewKey {
    /// The uid, chosen by the caller or generated.
    pub uid: Uuid,
    /// A name for people.
    pub name: Option<String>,
    /// A description for people.
    pub description: Option<String>,
    /// Actions allowed.
    pub actions: Vec<String>,
    /// Index uids or patterns allowed.
    pub indexes: Vec<String>,
    /// When the key stops working.
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewKey {
    /// Returns the key described by a `POST /keys` body.
    ///
    /// # Errors
    ///
    /// `missing_api_key_*` for a missing required field, `invalid_api_key_*` for a value of
    /// the wrong type, an unknown action, an invalid index pattern or a past expiry,
    /// `bad_request` for an unknown field.
    pub fn from_json_value(value: Value, now: DateTime<Utc>) -> Result<NewKey> {
        let mut object = into_object(value)?;
        let uid = match object.remove("uid") {
            None | Some(Value::Null) => new_key_uid(),
            Some(Value::String(text)) => Uuid::parse_str(&text).map_err(|_| {
                ApiError::new(
                    Code::InvalidApiKeyUid,
                    format!("invalid value for `uid`: `{text}` is not a UUID"),
                )
            })?,
            Some(_) => {
                return Err(ApiError::new(
                    Code::InvalidApiKeyUid,
                    "invalid value for `uid`: expected a UUID string",
                ))
            }
        };
        let name = optional_string(object.remove("name"), "name", Code::InvalidApiKeyName)?;
        let description = optional_string(
            object.remove("description"),
            "description",
            Code::InvalidApiKeyDescription,
        )?;
        let actions = match object.remove("actions") {
            None => return Err(missing("actions", Code::MissingApiKeyActions)),
            Some(value) => checked_actions(value)?,
        };
        let indexes = match object.remove("indexes") {
            None => return Err(missing("indexes", Code::MissingApiKeyIndexes)),
            Some(value) => checked_indexes(value)?,
        };
        let expires_at = match object.remove("expiresAt") {
            None => return Err(missing("expiresAt", Code::MissingApiKeyExpiresAt)),
            Some(value) => checked_expiry(value, now)?,
        };
        refuse_unknown_fields(&object)?;
        Ok(NewKey {
            uid,
            name,
            description,
            actions,
            indexes,
            expires_at,
        })
    }
}

/// A change to a key, read from `PATCH /keys/{key}`: only its name and description change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyUpdate {
    /// The new name when `Some`; `Some(None)` clears it.
    pub name: Option<Option<String>>,
    /// The new description when `Some`; `Some(None)` clears it.
    pub description: Option<Option<String>>,
}

impl KeyUpdate {
    /// Returns the change described by a `PATCH /keys/{key}` body.
    ///
    /// # Errors
    ///
    /// `immutable_api_key_*` for a field that cannot change, `invalid_api_key_name` or
    /// `invalid_api_key_description` for a value that is not a string.
    pub fn from_json_value(value: Value) -> Result<KeyUpdate> {
        let mut object = into_object(value)?;
        let immutable = [
            ("uid", Code::ImmutableApiKeyUid),
            ("key", Code::ImmutableApiKeyKey),
            ("actions", Code::ImmutableApiKeyActions),
            ("indexes", Code::ImmutableApiKeyIndexes),
            ("expiresAt", Code::ImmutableApiKeyExpiresAt),
            ("createdAt", Code::ImmutableApiKeyCreatedAt),
            ("updatedAt", Code::ImmutableApiKeyUpdatedAt),
        ];
        for (field, code) in immutable {
            if object.contains_key(field) {
                return Err(ApiError::new(
                    code,
                    format!(
                        "`{field}` of a key cannot change; only `name` and `description` can. \
                         Create a new key instead"
                    ),
                ));
            }
        }
        let name = match object.remove("name") {
            None => None,
            value => Some(optional_string(value, "name", Code::InvalidApiKeyName)?),
        };
        let description = match object.remove("description") {
            None => None,
            value => Some(optional_string(
                value,
                "description",
                Code::InvalidApiKeyDescription,
            )?),
        };
        refuse_unknown_fields(&object)?;
        Ok(KeyUpdate { name, description })
    }
}

fn into_object(value: Value) -> Result<Map<String, Value>> {
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(ApiError::new(
            Code::BadRequest,
            "expected a JSON object describing the key",
        )),
    }
}

fn missing(field: &str, code: Code) -> ApiError {
    ApiError::new(code, format!("missing field `{field}`"))
}

fn refuse_unknown_fields(object: &Map<String, Value>) -> Result<()> {
    match object.keys().next() {
        None => Ok(()),
        Some(field) => Err(ApiError::new(
            Code::BadRequest,
            format!(
                "unknown field `{field}`; a key has `uid`, `name`, `description`, `actions`, \
                 `indexes` and `expiresAt`"
            ),
        )),
    }
}

fn optional_string(value: Option<Value>, field: &str, code: Code) -> Result<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::new(
            code,
            format!("invalid value for `{field}`: expected a string or null"),
        )),
    }
}

fn string_list(value: Value, field: &str, code: Code) -> Result<Vec<String>> {
    let expected = || {
        ApiError::new(
            code,
            format!("invalid value for `{field}`: expected an array of strings"),
        )
    };
    let Value::Array(items) = value else {
        return Err(expected());
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(text) => Ok(text),
            _ => Err(expected()),
        })
        .collect()
}

fn checked_actions(value: Value) -> Result<Vec<String>> {
    let code = Code::InvalidApiKeyActions;
    let actions = string_list(value, "actions", code)?;
    if actions.is_empty() {
        return Err(ApiError::new(
            code,
            "invalid value for `actions`: give at least one action, such as `search`",
        ));
    }
    if let Some(unknown) = actions
        .iter()
        .find(|action| !KNOWN_ACTIONS.contains(&action.as_str()))
    {
        return Err(ApiError::new(
            code,
            format!(
                "invalid value for `actions`: unknown action `{unknown}`; actions are {}",
                KNOWN_ACTIONS
                    .iter()
                    .map(|action| format!("`{action}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(actions)
}

fn checked_indexes(value: Value) -> Result<Vec<String>> {
    let code = Code::InvalidApiKeyIndexes;
    let indexes = string_list(value, "indexes", code)?;
    if indexes.is_empty() {
        return Err(ApiError::new(
            code,
            "invalid value for `indexes`: give at least one index uid or pattern, such as `*`",
        ));
    }
    for pattern in &indexes {
        let uid = pattern.strip_suffix('*').unwrap_or(pattern);
        if !uid.is_empty() && IndexUid::parse(uid).is_err() {
            return Err(ApiError::new(
                code,
                format!(
                    "invalid value for `indexes`: `{pattern}` is neither an index uid nor a \
                     pattern such as `rec*`"
                ),
            ));
        }
    }
    Ok(indexes)
}

fn checked_expiry(value: Value, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let code = Code::InvalidApiKeyExpiresAt;
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(text) => text,
        _ => {
            return Err(ApiError::new(
                code,
                "invalid value for `expiresAt`: expected an RFC 3339 date or null",
            ))
        }
    };
    let expires_at = parse_expiry(&text).ok_or_else(|| {
        ApiError::new(
            code,
            format!(
                "invalid value for `expiresAt`: `{text}` is not an RFC 3339 date such as \
                 `2030-01-31T00:00:00Z`"
            ),
        )
    })?;
    if expires_at <= now {
        return Err(ApiError::new(
            code,
            format!("invalid value for `expiresAt`: `{text}` is in the past"),
        ));
    }
    Ok(Some(expires_at))
}

/// Reads an expiry as Meilisearch accepts it: RFC 3339, or a date and time without zone
/// (UTC), or a date alone (midnight UTC).
fn parse_expiry(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(time) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc())
}

type KeyRow = (
    Uuid,
    String,
    Option<String>,
    Option<String>,
    Vec<String>,
    Vec<String>,
    Option<DateTime<Utc>>,
    bool,
    DateTime<Utc>,
    DateTime<Utc>,
);

const KEY_COLUMNS: &str = "uid, key_prefix, name, description, actions, indexes, expires_at, \
                           is_default, created_at, updated_at";

fn key_of_row(row: KeyRow) -> ApiKey {
    let (
        uid,
        key_prefix,
        name,
        description,
        actions,
        indexes,
        expires_at,
        is_default,
        created_at,
        updated_at,
    ) = row;
    ApiKey {
        uid,
        key_prefix,
        name,
        description,
        actions,
        indexes,
        expires_at,
        is_default,
        created_at,
        updated_at,
    }
}

/// A lookup's outcome and when it was read.
type CachedKey = (Option<Arc<ApiKey>>, Instant);

/// The API keys in PostgreSQL, with a short-lived cache of lookups.
#[derive(Debug)]
pub struct KeyStore {
    pool: PgPool,
    master_key: MasterKey,
    cache: Mutex<HashMap<String, CachedKey>>,
}

impl KeyStore {
    /// Returns the store of the keys derived from `master_key`.
    pub fn new(pool: PgPool, master_key: MasterKey) -> Self {
        KeyStore {
            pool,
            master_key,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Returns the master key.
    pub fn master_key(&self) -> &MasterKey {
        &self.master_key
    }

    /// Creates the default Search and Admin keys when they do not exist, and brings their
    /// stored hashes in step with the master key, which may have changed since.
    ///
    /// # Errors
    ///
    /// Fails when PostgreSQL does.
    pub async fn ensure_default_keys(&self) -> Result<()> {
        let defaults = [
            (
                DEFAULT_SEARCH_KEY_NAME,
                "Use it to search from the frontend",
                "search",
            ),
            (
                DEFAULT_ADMIN_KEY_NAME,
                "Use it for anything that is not a search operation. Caution! Do not expose \
                 it on a public frontend",
                "*",
            ),
        ];
        let mut transaction = self.pool.begin().await.map_err(ApiError::database)?;
        // One replica at a time creates the defaults.
        sqlx::query("select pg_advisory_xact_lock(hashtext('atlas api_keys defaults'))")
            .execute(&mut *transaction)
            .await
            .map_err(ApiError::database)?;
        for (name, description, action) in defaults {
            let existing: Option<(Uuid,)> =
                sqlx::query_as("select uid from api_keys where is_default and name = $1")
                    .bind(name)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(ApiError::database)?;
            let uid = existing.map_or_else(new_key_uid, |(uid,)| uid);
            let plain = self.master_key.derive_api_key(uid);
            sqlx::query(
                "insert into api_keys (uid, key_hash, key_prefix, name, description, actions, \
                 indexes, is_default) values ($1, $2, $3, $4, $5, $6, array['*'], true) \
                 on conflict (uid) do update set key_hash = excluded.key_hash, \
                 key_prefix = excluded.key_prefix",
            )
            .bind(uid)
            .bind(key_hash(&plain))
            .bind(prefix_of(&plain))
            .bind(name)
            .bind(description)
            .bind(vec![action.to_owned()])
            .execute(&mut *transaction)
            .await
            .map_err(ApiError::database)?;
        }
        transaction.commit().await.map_err(ApiError::database)?;
        Ok(())
    }

    /// Returns the key whose plain value is `plain`, if any.
    ///
    /// # Errors
    ///
    /// Fails when PostgreSQL does.
    pub async fn find_by_plain_key(&self, plain: &str) -> Result<Option<Arc<ApiKey>>> {
        let hash = key_hash(plain);
        let cache_key = format!("hash:{hash}");
        if let Some(cached) = self.cached(&cache_key) {
            return Ok(cached);
        }
        let query = format!("select {KEY_COLUMNS} from api_keys where key_hash = $1");
        let read = within_lookup_timeout(
            sqlx::query_as::<_, KeyRow>(&query)
                .bind(&hash)
                .fetch_optional(&self.pool),
        )
        .await;
        let row = match read {
            Ok(row) => row,
            Err(error) => return self.last_known(&cache_key, error),
        };
        let key = row.map(key_of_row).map(Arc::new);
        self.remember(cache_key, key.clone());
        Ok(key)
    }

    /// Returns the key `uid`, if any, with whether its stored hash is the one derived from
    /// the current master key (a key created under another master key cannot sign tenant
    /// tokens that this one can check).
    ///
    /// # Errors
    ///
    /// Fails when PostgreSQL does.
    pub async fn find_by_uid(&self, uid: Uuid) -> Result<Option<Arc<ApiKey>>> {
        let cache_key = format!("uid:{uid}");
        if let Some(cached) = self.cached(&cache_key) {
            return Ok(cached);
        }
        let derived_hash = key_hash(&self.master_key.derive_api_key(uid));
        let query = format!("select {KEY_COLUMNS} from api_keys where uid = $1 and key_hash = $2");
        let read = within_lookup_timeout(
            sqlx::query_as::<_, KeyRow>(&query)
                .bind(uid)
                .bind(derived_hash)
                .fetch_optional(&self.pool),
        )
        .await;
        let row = match read {
            Ok(row) => row,
            Err(error) => return self.last_known(&cache_key, error),
        };
        let key = row.map(key_of_row).map(Arc::new);
        self.remember(cache_key, key.clone());
        Ok(key)
    }

    /// Returns the key named by `uid_or_key`: its uid, or its plain value.
    ///
    /// # Errors
    ///
    /// `api_key_not_found` when no key matches; fails when PostgreSQL does.
    pub async fn resolve(&self, uid_or_key: &str) -> Result<ApiKey> {
        let not_found = || {
            ApiError::new(
                Code::ApiKeyNotFound,
                "api key not found; list the keys with `GET /keys`",
            )
        };
        let row: Option<KeyRow> = match Uuid::parse_str(uid_or_key) {
            Ok(uid) => sqlx::query_as(&format!(
                "select {KEY_COLUMNS} from api_keys where uid = $1"
            ))
            .bind(uid)
            .fetch_optional(&self.pool)
            .await
            .map_err(ApiError::database)?,
            Err(_) => sqlx::query_as(&format!(
                "select {KEY_COLUMNS} from api_keys where key_hash = $1"
            ))
            .bind(key_hash(uid_or_key))
            .fetch_optional(&self.pool)
            .await
            .map_err(ApiError::database)?,
        };
        row.map(key_of_row).ok_or_else(not_found)
    }

    /// Returns one page of keys, newest first, and the number of keys.
    ///
    /// # Errors
    ///
    /// Fails when PostgreSQL does.
    pub async fn list(&self, offset: usize, limit: usize) -> Result<(Vec<ApiKey>, usize)> {
        let rows: Vec<KeyRow> = sqlx::query_as(&format!(
            "select {KEY_COLUMNS} from api_keys order by created_at desc, uid \
             offset $1 limit $2"
        ))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(ApiError::database)?;
        let (total,): (i64,) = sqlx::query_as("select count(*) from api_keys")
            .fetch_one(&self.pool)
            .await
            .map_err(ApiError::database)?;
        Ok((
            rows.into_iter().map(key_of_row).collect(),
            usize::try_from(total).unwrap_or_default(),
        ))
    }

    /// Returns the plain value of a key when it may be shown again: the default keys only,
    /// which clients look up as they do with Meilisearch.
    pub fn showable_plain_key(&self, key: &ApiKey) -> Option<String> {
        key.is_default
            .then(|| self.master_key.derive_api_key(key.uid))
    }

    /// Stores `new_key` and returns it with its plain value, which is shown only now.
    ///
    /// # Errors
    ///
    /// `api_key_already_exists` when its uid is taken; fails when PostgreSQL does.
    pub async fn create(&self, new_key: NewKey) -> Result<(ApiKey, String)> {
        let plain = self.master_key.derive_api_key(new_key.uid);
        let row: Option<KeyRow> = sqlx::query_as(&format!(
            "insert into api_keys (uid, key_hash, key_prefix, name, description, actions, \
             indexes, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8) \
             on conflict do nothing returning {KEY_COLUMNS}"
        ))
        .bind(new_key.uid)
        .bind(key_hash(&plain))
        .bind(prefix_of(&plain))
        .bind(&new_key.name)
        .bind(&new_key.description)
        .bind(&new_key.actions)
        .bind(&new_key.indexes)
        .bind(new_key.expires_at)
        .fetch_optional(&self.pool)
        .await
        .map_err(ApiError::database)?;
        let key = row.map(key_of_row).ok_or_else(|| {
            ApiError::new(
                Code::ApiKeyAlreadyExists,
                format!("a key with uid `{}` already exists", new_key.uid),
            )
        })?;
        Ok((key, plain))
    }

    /// Changes the name or description of the key named by `uid_or_key`.
    ///
    /// # Errors
    ///
    /// `api_key_not_found`; fails when PostgreSQL does.
    pub async fn update(&self, uid_or_key: &str, update: KeyUpdate) -> Result<ApiKey> {
        let key = self.resolve(uid_or_key).await?;
        let name = update.name.unwrap_or(key.name);
        let description = update.description.unwrap_or(key.description);
        let row: KeyRow = sqlx::query_as(&format!(
            "update api_keys set name = $2, description = $3, updated_at = now() \
             where uid = $1 returning {KEY_COLUMNS}"
        ))
        .bind(key.uid)
        .bind(name)
        .bind(description)
        .fetch_one(&self.pool)
        .await
        .map_err(ApiError::database)?;
        self.forget_all();
        Ok(key_of_row(row))
    }

    /// Deletes the key named by `uid_or_key`; it stops working at once on this replica and
    /// within a few seconds on the others.
    ///
    /// # Errors
    ///
    /// `api_key_not_found`; fails when PostgreSQL does.
    pub async fn delete(&self, uid_or_key: &str) -> Result<()> {
        let key = self.resolve(uid_or_key).await?;
        sqlx::query("delete from api_keys where uid = $1")
            .bind(key.uid)
            .execute(&self.pool)
            .await
            .map_err(ApiError::database)?;
        self.forget_all();
        Ok(())
    }

    fn cached(&self, cache_key: &str) -> Option<Option<Arc<ApiKey>>> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .get(cache_key)
            .filter(|(_, read_at)| read_at.elapsed() < KEY_CACHE_TTL)
            .map(|(key, _)| key.clone())
    }

    /// Answers a lookup that PostgreSQL failed: with the last known state of the key, however
    /// old, while PostgreSQL is unreachable, so that an outage does not lock out the keys
    /// in use; a key never seen before gets `database_unavailable`.
    fn last_known(&self, cache_key: &str, error: sqlx::Error) -> Result<Option<Arc<ApiKey>>> {
        if !crate::error::is_database_unreachable(&error) {
            return Err(ApiError::internal(error));
        }
        let last_known = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(cache_key)
            .map(|(key, _)| key.clone());
        match last_known {
            Some(key) => {
                tracing::debug!(%error, "postgresql unreachable; using the last known key state");
                Ok(key)
            }
            None => Err(ApiError::database(error)),
        }
    }

    fn remember(&self, cache_key: String, key: Option<Arc<ApiKey>>) {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= MAX_KEY_CACHE_NUM_ENTRIES {
            cache.clear();
        }
        cache.insert(cache_key, (key, Instant::now()));
    }

    fn forget_all(&self) {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }
}

/// Runs a key lookup, counting one slower than [`KEY_LOOKUP_TIMEOUT`] as PostgreSQL
/// unreachable.
async fn within_lookup_timeout<T>(
    lookup: impl std::future::Future<Output = sqlx::Result<T>>,
) -> sqlx::Result<T> {
    tokio::time::timeout(KEY_LOOKUP_TIMEOUT, lookup)
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut))
}

/// Returns a random (version 4) uid for a new key: Meilisearch's clients check that key
/// uids are UUIDv4 before signing tenant tokens with them.
fn new_key_uid() -> Uuid {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid()
}

fn prefix_of(plain: &str) -> String {
    plain.chars().take(KEY_PREFIX_NUM_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_grant_themselves_their_family_and_star() {
        assert!(Action::Search.is_granted_by("search"));
        assert!(Action::Search.is_granted_by("*"));
        assert!(!Action::Search.is_granted_by("documents.get"));
        assert!(Action::SettingsUpdate.is_granted_by("settings.*"));
        assert!(!Action::SettingsUpdate.is_granted_by("settings.get"));
        assert!(!Action::SettingsGet.is_granted_by("stats.*"));
        assert!(Action::KeysDelete.is_granted_by("keys.*"));
    }

    #[test]
    fn index_patterns() {
        assert!(index_pattern_matches("*", "records"));
        assert!(index_pattern_matches("rec*", "records"));
        assert!(!index_pattern_matches("rec*", "works"));
        assert!(index_pattern_matches("works", "works"));
        assert!(!index_pattern_matches("works", "works2"));
    }

    #[test]
    fn new_key_requires_actions_indexes_and_expiry() {
        let now = Utc::now();
        let cases = [
            (
                json!({"indexes": ["*"], "expiresAt": null}),
                Code::MissingApiKeyActions,
            ),
            (
                json!({"actions": ["search"], "expiresAt": null}),
                Code::MissingApiKeyIndexes,
            ),
            (
                json!({"actions": ["search"], "indexes": ["*"]}),
                Code::MissingApiKeyExpiresAt,
            ),
            (
                json!({"actions": ["fly"], "indexes": ["*"], "expiresAt": null}),
                Code::InvalidApiKeyActions,
            ),
            (
                json!({"actions": ["search"], "indexes": ["a b"], "expiresAt": null}),
                Code::InvalidApiKeyIndexes,
            ),
            (
                json!({"actions": ["search"], "indexes": ["*"], "expiresAt": "2001-01-01"}),
                Code::InvalidApiKeyExpiresAt,
            ),
            (
                json!({"actions": ["search"], "indexes": ["*"], "expiresAt": null, "x": 1}),
                Code::BadRequest,
            ),
        ];
        for (body, code) in cases {
            let error = NewKey::from_json_value(body.clone(), now).unwrap_err();
            assert_eq!(error.code(), code, "{body}: {}", error.public_message());
        }
        let key = NewKey::from_json_value(
            json!({"actions": ["search"], "indexes": ["rec*"], "expiresAt": "2999-01-01T00:00:00Z",
                   "name": "ui"}),
            now,
        )
        .unwrap();
        assert_eq!(key.indexes, vec!["rec*"]);
        assert!(key.expires_at.is_some());
    }

    #[test]
    fn update_changes_only_name_and_description() {
        let update = KeyUpdate::from_json_value(json!({"name": "n", "description": null})).unwrap();
        assert_eq!(update.name, Some(Some("n".to_owned())));
        assert_eq!(update.description, Some(None));
        let error = KeyUpdate::from_json_value(json!({"actions": ["*"]})).unwrap_err();
        assert_eq!(error.code(), Code::ImmutableApiKeyActions);
    }
}
