-- The change feed the indexer follows: one row per document of a search index that a
-- transaction may have changed, written by triggers in that same transaction.
--
-- A row says only "re-read this document": the follower loads the document as it is now
-- (or learns it is gone) and replaces it in the index. Applying a row twice is therefore
-- harmless, which is what lets the follower resume from an older position after a crash.
--
-- Rows carry the id of the transaction that wrote them. A sequence alone cannot order the
-- feed: a transaction that took a low sequence number may commit after one with a higher
-- number, and a reader that moved past the higher number would skip it forever. The
-- follower instead remembers the snapshot it last read in and asks for rows whose
-- transactions are visible now but were not then (pg_visible_in_snapshot), which is exact
-- whatever the commit order.

create table index_changes (
    id bigint generated always as identity primary key,
    xid xid8 not null default pg_current_xact_id(),
    index_name text not null,
    doc_id uuid not null,
    changed_at timestamptz not null default now(),
    -- The follower maintains exactly these indexes.
    constraint index_changes_index_valid check (index_name in ('records', 'works', 'profiles'))
);

-- The follower scans from the oldest transaction it may not have seen yet.
create index idx_index_changes_xid on index_changes (xid);
create index idx_index_changes_changed_at on index_changes (changed_at);

comment on table index_changes is
    'documents to re-read into the search indexes, by writing transaction; see 0002_change_feed.sql';

-- Wakes followers; NOTIFY is delivered at commit and repeated ones fold into one.
create or replace function notify_index_changes() returns trigger
language plpgsql as $$
begin
    perform pg_notify('atlas_index_changes', '');
    return null;
end
$$;

create trigger index_changes_notify
    after insert on index_changes
    for each statement execute function notify_index_changes();

-- ── records ────────────────────────────────────────────────────────────────

-- The records index holds the current version of each record, with its verification state.
-- A new version replaces the old one; a deleted version may uncover the previous one.
create or replace function feed_raw_record_heads() returns trigger
language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        insert into index_changes (index_name, doc_id) values ('records', old.raw_record_id);
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into index_changes (index_name, doc_id) values ('records', new.raw_record_id);
    end if;
    return null;
end
$$;

create trigger raw_record_heads_feed
    after insert or update or delete on raw_record_heads
    for each row execute function feed_raw_record_heads();

-- A deleted record version that was not current still leaves the index through this.
create or replace function feed_raw_records_delete() returns trigger
language plpgsql as $$
begin
    insert into index_changes (index_name, doc_id) values ('records', old.id);
    return null;
end
$$;

create trigger raw_records_feed_delete
    after delete on raw_records
    for each row execute function feed_raw_records_delete();

-- Candidates decide a record's verification state.
create or replace function feed_candidate_matches() returns trigger
language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        insert into index_changes (index_name, doc_id) values ('records', old.raw_record_id);
    end if;
    if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.raw_record_id <> old.raw_record_id) then
        insert into index_changes (index_name, doc_id) values ('records', new.raw_record_id);
    end if;
    return null;
end
$$;

create trigger candidate_matches_feed
    after insert or update of status, raw_record_id or delete on candidate_matches
    for each row execute function feed_candidate_matches();

-- ── works ──────────────────────────────────────────────────────────────────

create or replace function feed_canonical_works() returns trigger
language plpgsql as $$
begin
    insert into index_changes (index_name, doc_id)
    values ('works', case when tg_op = 'DELETE' then old.id else new.id end);
    return null;
end
$$;

create trigger canonical_works_feed
    after insert or update or delete on canonical_works
    for each row execute function feed_canonical_works();

create or replace function feed_work_authorships() returns trigger
language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        insert into index_changes (index_name, doc_id) values ('works', old.work_id);
    end if;
    if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.work_id <> old.work_id) then
        insert into index_changes (index_name, doc_id) values ('works', new.work_id);
    end if;
    return null;
end
$$;

create trigger work_authorships_feed
    after insert or update or delete on work_authorships
    for each row execute function feed_work_authorships();

-- ── profiles ───────────────────────────────────────────────────────────────

-- A profile's names and ORCID also appear on the works it authored, so those are re-read
-- too.
create or replace function feed_author_profiles() returns trigger
language plpgsql as $$
declare
    profile_id uuid := case when tg_op = 'DELETE' then old.id else new.id end;
begin
    insert into index_changes (index_name, doc_id) values ('profiles', profile_id);
    if tg_op = 'UPDATE' and (new.display_name, new.primary_orcid)
            is distinct from (old.display_name, old.primary_orcid) then
        insert into index_changes (index_name, doc_id)
        select 'works', wa.work_id from work_authorships wa where wa.profile_id = new.id;
    end if;
    return null;
end
$$;

create trigger author_profiles_feed
    after insert or update or delete on author_profiles
    for each row execute function feed_author_profiles();

-- Name forms are also searchable on the profile's works.
create or replace function feed_profile_identities() returns trigger
language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        insert into index_changes (index_name, doc_id) values ('profiles', old.profile_id);
        if old.identifier_type = 'name' then
            insert into index_changes (index_name, doc_id)
            select 'works', wa.work_id from work_authorships wa where wa.profile_id = old.profile_id;
        end if;
    end if;
    if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.profile_id <> old.profile_id) then
        insert into index_changes (index_name, doc_id) values ('profiles', new.profile_id);
    end if;
    if tg_op in ('INSERT', 'UPDATE') and new.identifier_type = 'name' then
        insert into index_changes (index_name, doc_id)
        select 'works', wa.work_id from work_authorships wa where wa.profile_id = new.profile_id;
    end if;
    return null;
end
$$;

create trigger profile_identities_feed
    after insert or update or delete on profile_identities
    for each row execute function feed_profile_identities();

-- Removes feed rows older than `keep`; a follower whose position is older than the oldest
-- remaining row must rebuild its indexes (`indexer build`) instead of following.
create or replace function prune_index_changes(keep interval) returns bigint
language sql as $$
    with pruned as (
        delete from index_changes where changed_at < now() - keep returning 1
    )
    select count(*) from pruned;
$$;
