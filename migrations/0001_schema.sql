-- The database of record for Atlas: raw records as sources gave them, author profiles and
-- their identities, candidate (record, profile) pairs, the append-only audit trail of
-- decisions, canonical works with their authorships, and notifications.

create extension if not exists pg_trgm;
create extension if not exists btree_gin;

-- Time-ordered UUIDs (RFC 9562 version 7). PostgreSQL gains uuidv7() only in version 18;
-- this one runs on 15 and later. The first 48 bits are the Unix time in milliseconds, so
-- new keys land at the right edge of a b-tree instead of at random pages.
create or replace function uuid_generate_v7() returns uuid
language plpgsql volatile parallel safe as $$
declare
    unix_ms bigint := floor(extract(epoch from clock_timestamp()) * 1000);
    random_bytes bytea := uuid_send(gen_random_uuid());
    time_bytes bytea := substring(int8send(unix_ms) from 3 for 6);
    result bytea;
begin
    result := overlay(random_bytes placing time_bytes from 1 for 6);
    -- gen_random_uuid() sets version 4 (0100) and the RFC variant; turning on the two
    -- low bits of the version nibble makes it 0111, version 7.
    result := set_bit(result, 52, 1);
    result := set_bit(result, 53, 1);
    return encode(result, 'hex')::uuid;
end
$$;

-- Keeps updated_at true without trusting every writer to set it.
create or replace function touch_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end
$$;

-- ── raw records ────────────────────────────────────────────────────────────

create table raw_records (
    id uuid primary key default uuid_generate_v7(),
    source text not null,
    source_id text not null,
    entity_type text not null,
    data jsonb not null,
    fetched_at timestamptz not null default now(),
    checksum text not null,
    -- A record is identified by its source and id; its checksum tells versions apart, so
    -- importing the same record twice adds nothing and a changed record adds one row.
    constraint raw_records_source_unique unique (source, source_id, checksum),
    constraint raw_records_source_nonempty check (source <> '' and source_id <> '')
);

comment on table raw_records is
    'records as their sources gave them; immutable: a changed record is a new row with a new checksum';

create index idx_raw_records_data on raw_records using gin (data jsonb_path_ops);
create index idx_raw_records_source on raw_records (source, fetched_at desc);

-- Raw records are evidence: what a source said at a time. Decisions point at a version,
-- so a version must never change under them. Deleting a version stays possible (a
-- source retracts a record); changing one is refused.
create or replace function refuse_raw_record_update() returns trigger
language plpgsql as $$
begin
    raise exception 'raw_records are immutable: import the changed record as a new version instead of updating row %', old.id
        using errcode = 'restrict_violation';
end
$$;

create trigger raw_records_immutable
    before update on raw_records
    for each row execute function refuse_raw_record_update();

-- The current version of each (source, source_id): the row inserted last. Kept by trigger
-- so that "the current version" is one index lookup, not a scan of every version.
create table raw_record_heads (
    source text not null,
    source_id text not null,
    raw_record_id uuid not null references raw_records (id) on delete cascade,
    updated_at timestamptz not null default now(),
    primary key (source, source_id)
);

create unique index idx_raw_record_heads_record on raw_record_heads (raw_record_id);

create or replace function advance_raw_record_head() returns trigger
language plpgsql as $$
begin
    insert into raw_record_heads (source, source_id, raw_record_id)
    values (new.source, new.source_id, new.id)
    on conflict (source, source_id)
    do update set raw_record_id = excluded.raw_record_id, updated_at = now();
    return null;
end
$$;

create trigger raw_records_advance_head
    after insert on raw_records
    for each row execute function advance_raw_record_head();

-- When the current version is deleted, the newest remaining version becomes current.
create or replace function retreat_raw_record_head() returns trigger
language plpgsql as $$
declare
    previous_id uuid;
begin
    select r.id into previous_id
    from raw_records r
    where r.source = old.source and r.source_id = old.source_id and r.id <> old.id
    order by r.fetched_at desc, r.id desc
    limit 1;

    if previous_id is not null then
        insert into raw_record_heads (source, source_id, raw_record_id)
        values (old.source, old.source_id, previous_id)
        on conflict (source, source_id)
        do update set raw_record_id = excluded.raw_record_id, updated_at = now();
    end if;
    return null;
end
$$;

create trigger raw_records_retreat_head
    after delete on raw_records
    for each row execute function retreat_raw_record_head();

create view current_raw_records as
select r.*
from raw_record_heads h
join raw_records r on r.id = h.raw_record_id;

comment on view current_raw_records is 'the current version of every raw record';

-- ── author profiles ────────────────────────────────────────────────────────

create table author_profiles (
    id uuid primary key default uuid_generate_v7(),
    primary_orcid text unique,
    display_name text not null,
    email text,
    institution_id uuid,
    institution_name text,
    avatar_url text,
    bio text,
    -- Per-profile behaviour, e.g. {"autoConfirmThreshold": 0.95}.
    settings jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    last_login_at timestamptz,
    constraint author_profiles_orcid_format
        check (primary_orcid is null or primary_orcid ~ '^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]$'),
    constraint author_profiles_settings_object check (jsonb_typeof(settings) = 'object')
);

create index idx_profiles_email on author_profiles (email);
create index idx_profiles_name_trgm on author_profiles using gin (display_name gin_trgm_ops);

create trigger author_profiles_touch
    before update on author_profiles
    for each row execute function touch_updated_at();

-- ── profile identities ─────────────────────────────────────────────────────

-- Identifiers (orcid, scopus, researcherid, email…) and name forms and affiliations a
-- profile is known by.
create table profile_identities (
    id uuid primary key default uuid_generate_v7(),
    profile_id uuid not null references author_profiles (id) on delete cascade,
    identifier_type text not null,
    identifier_value text not null,
    is_primary boolean not null default false,
    verified_at timestamptz,
    verification_method text,
    constraint identity_per_profile_unique unique (profile_id, identifier_type, identifier_value),
    constraint identity_value_nonempty check (identifier_value <> '')
);

-- An identifier belongs to one person, so two profiles cannot claim the same ORCID or
-- Scopus id. Name forms and affiliations are shared by many people and are unique only
-- within a profile.
create unique index identity_unique on profile_identities (identifier_type, identifier_value)
    where identifier_type not in ('name', 'affiliation');

create index idx_identities_profile on profile_identities (profile_id);
create index idx_identities_lookup on profile_identities (identifier_type, identifier_value);

-- ── candidate matches ──────────────────────────────────────────────────────

create table candidate_matches (
    id uuid primary key default uuid_generate_v7(),
    raw_record_id uuid not null references raw_records (id),
    profile_id uuid not null references author_profiles (id) on delete cascade,
    entity_type text not null,
    match_score numeric(4, 3) not null,
    match_reasons jsonb not null default '[]',
    status text not null default 'pending',
    metadata jsonb,
    created_at timestamptz not null default now(),
    processed_at timestamptz,
    -- One proposal per (record version, profile): the matcher writes idempotently.
    constraint candidate_unique unique (raw_record_id, profile_id),
    constraint candidate_score_range check (match_score between 0 and 1),
    -- The review workflow knows exactly these states; anything else would be invisible to
    -- the queues and statistics built on them.
    constraint candidate_status_valid
        check (status in ('pending', 'uncertain', 'confirmed', 'auto_confirmed', 'rejected')),
    constraint candidate_reasons_array check (jsonb_typeof(match_reasons) = 'array')
);

create index idx_candidates_queue on candidate_matches (profile_id, status, match_score desc)
    where status in ('pending', 'uncertain');
create index idx_candidates_stats on candidate_matches (profile_id, status);
create index idx_candidates_record on candidate_matches (raw_record_id);

-- ── verification acts ──────────────────────────────────────────────────────

create table verification_acts (
    id uuid primary key default uuid_generate_v7(),
    candidate_match_id uuid not null references candidate_matches (id),
    profile_id uuid not null references author_profiles (id),
    decision text not null,
    confidence text,
    notes text,
    evidence jsonb not null default '[]',
    decided_at timestamptz not null default now(),
    decided_by text not null,
    decided_via text not null,
    client_info jsonb,
    -- A decision is one of these three; a candidate's status follows from it.
    constraint verification_decision_valid check (decision in ('confirm', 'reject', 'uncertain'))
);

comment on table verification_acts is
    'append-only audit trail of decisions: rows are inserted, never updated or deleted';

create index idx_verifications_profile on verification_acts (profile_id, decided_at desc);
create index idx_verifications_candidate on verification_acts (candidate_match_id, decided_at desc);

-- The audit trail is the proof of who decided what and when. It is append-only: a changed
-- mind is a new act, and no role, not even the owner, can rewrite or erase history.
create or replace function refuse_verification_act_change() returns trigger
language plpgsql as $$
begin
    raise exception 'verification_acts is append-only: % is not allowed; record a new act instead', tg_op
        using errcode = 'restrict_violation';
end
$$;

create trigger verification_acts_append_only
    before update or delete on verification_acts
    for each row execute function refuse_verification_act_change();

create trigger verification_acts_no_truncate
    before truncate on verification_acts
    for each statement execute function refuse_verification_act_change();

-- ── canonical works ────────────────────────────────────────────────────────

create table canonical_works (
    id uuid primary key default uuid_generate_v7(),
    primary_doi text unique,
    title text not null,
    publication_date date,
    type text,
    venue_id uuid,
    merged_from jsonb not null default '[]',
    merge_status text not null default 'auto',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- 'auto' groups may be regrouped by the matcher; 'manual' groups were decided by a
    -- person and are never changed by a machine.
    constraint canonical_works_merge_status_valid check (merge_status in ('auto', 'manual')),
    constraint canonical_works_merged_from_array check (jsonb_typeof(merged_from) = 'array')
);

create index idx_works_title_fts on canonical_works using gin (to_tsvector('english', title));
create index idx_works_date on canonical_works (publication_date desc);
create index idx_works_merged_from on canonical_works using gin (merged_from jsonb_path_ops);

create trigger canonical_works_touch
    before update on canonical_works
    for each row execute function touch_updated_at();

-- ── work authorships ───────────────────────────────────────────────────────

create table work_authorships (
    id uuid primary key default uuid_generate_v7(),
    work_id uuid not null references canonical_works (id) on delete cascade,
    profile_id uuid not null references author_profiles (id) on delete cascade,
    position integer,
    is_corresponding boolean default false,
    affiliation_at_time text,
    verification_act_id uuid references verification_acts (id),
    raw_contributions jsonb not null default '[]',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint authorship_unique unique (work_id, profile_id)
);

create index idx_authorships_profile on work_authorships (profile_id);
create index idx_authorships_work on work_authorships (work_id);

create trigger work_authorships_touch
    before update on work_authorships
    for each row execute function touch_updated_at();

-- ── notifications ──────────────────────────────────────────────────────────

create table notifications (
    id uuid primary key default uuid_generate_v7(),
    profile_id uuid not null references author_profiles (id) on delete cascade,
    type text not null,
    title text not null,
    body text,
    resource_type text,
    resource_id uuid,
    read boolean not null default false,
    read_at timestamptz,
    created_at timestamptz not null default now()
);

create index idx_notifications_unread on notifications (profile_id, created_at desc)
    where read = false;

-- ── statistics ─────────────────────────────────────────────────────────────

-- Counted in subqueries rather than one join, which would multiply candidates by works.
create materialized view profile_stats as
select
    p.id as profile_id,
    coalesce(w.works_count, 0) as works_count,
    coalesce(c.pending_count, 0) as pending_count,
    coalesce(c.confirmed_count, 0) as confirmed_count,
    coalesce(c.decided_count::numeric / nullif(c.total_count, 0), 0) as verification_rate
from author_profiles p
left join (
    select profile_id, count(distinct work_id) as works_count
    from work_authorships
    group by profile_id
) w on w.profile_id = p.id
left join (
    select
        profile_id,
        count(*) filter (where status = 'pending') as pending_count,
        count(*) filter (where status in ('confirmed', 'auto_confirmed')) as confirmed_count,
        count(*) filter (where status in ('confirmed', 'auto_confirmed', 'rejected')) as decided_count,
        count(*) as total_count
    from candidate_matches
    group by profile_id
) c on c.profile_id = p.id;

-- The unique index is what allows refreshing concurrently, without blocking readers.
create unique index idx_profile_stats on profile_stats (profile_id);

-- Refreshes profile_stats without blocking readers; run from a job every few minutes.
create or replace function refresh_profile_stats() returns void
language sql as $$
    refresh materialized view concurrently profile_stats;
$$;
