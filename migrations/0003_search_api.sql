-- What the search API keeps in PostgreSQL: API keys, the run-time settings of each index,
-- and the record of each settings change, which clients wait on as a Meilisearch task.
-- Every replica reads these tables, so a change made through one replica reaches the others.

-- API keys. The plain key is never stored: it is shown once when the key is created, and
-- every key can be derived again from the master key and its uid (HMAC-SHA256, as
-- Meilisearch derives its keys), which is how tenant tokens signed with a key are checked.
-- A request's key is found by the SHA-256 of what it sent.
create table api_keys (
    uid uuid primary key,
    -- SHA-256 of the plain key, in lowercase hex; unique, so a lookup finds one key.
    key_hash text not null,
    -- The first characters of the plain key, enough for people to tell keys apart.
    key_prefix text not null,
    name text,
    description text,
    -- Actions such as `search` or `settings.update`, or `*` for all; checked by the API.
    actions text[] not null,
    -- Index uids or patterns ending in `*`, such as `records` or `rec*`.
    indexes text[] not null,
    -- Null is a key that never expires.
    expires_at timestamptz,
    -- The default Search and Admin keys are created at first start and kept in step with
    -- the master key; they cannot be deleted through the API.
    is_default boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint api_keys_key_hash_unique unique (key_hash),
    -- A SHA-256 in hex is 64 characters: anything else is a plain key stored by mistake.
    constraint api_keys_key_hash_is_sha256 check (key_hash ~ '^[0-9a-f]{64}$'),
    constraint api_keys_key_prefix_short check (length(key_prefix) <= 8)
);

-- The run-time changeable settings of an index (synonyms, stop words, typo tolerance,
-- ranking rules, pagination, faceting) as the settings JSON; the attribute lists come from
-- the index schema and are not stored. No row is an index with the default settings.
create table index_settings (
    uid text primary key,
    settings jsonb not null,
    updated_at timestamptz not null default now()
);

-- Settings changes, answered by `GET /tasks/{uid}`. They are applied synchronously, so a
-- task is recorded already finished.
create table settings_tasks (
    uid bigint generated always as identity primary key,
    index_uid text not null,
    -- `settingsUpdate`, the only kind of task this API records.
    task_type text not null,
    -- `succeeded`: a refused change is answered as an error and leaves no task.
    status text not null,
    details jsonb not null,
    enqueued_at timestamptz not null default now(),
    finished_at timestamptz not null default now(),
    constraint settings_tasks_status_valid check (status in ('succeeded', 'failed'))
);
