-- What the matcher has to look at again, written in the transaction that made it necessary.
--
-- An import or a profile change must lead to matching even when Redis (where the matcher's
-- jobs queue) is down or the importer dies right after committing: a job pushed to Redis
-- after the commit could be lost, a row written inside the commit cannot. Matcher workers
-- relay these rows into the job stream and delete them once the jobs are queued
-- (matcher/src/outbox.rs); relaying twice only queues a job twice, which is harmless.

create table matcher_outbox (
    id bigint generated always as identity primary key,
    kind text not null,
    -- profile_changed: the profile to match again.
    profile_id uuid,
    -- records_imported: the earliest import time among the records inserted.
    since timestamptz,
    created_at timestamptz not null default now(),
    constraint matcher_outbox_kind_valid check (
        (kind = 'records_imported' and since is not null and profile_id is null)
        or (kind = 'profile_changed' and profile_id is not null and since is null)
    )
);

create index idx_matcher_outbox_kind on matcher_outbox (kind, id);

comment on table matcher_outbox is
    'matching to do after imports and profile changes; relayed to the Redis job stream by matcher workers';

-- One row per inserting statement: an import batch of a thousand records is one row.
create or replace function matcher_outbox_records() returns trigger
language plpgsql as $$
begin
    insert into matcher_outbox (kind, since)
    select 'records_imported', min(fetched_at) from inserted having count(*) > 0;
    return null;
end
$$;

create trigger raw_records_matcher_outbox
    after insert on raw_records
    referencing new table as inserted
    for each statement execute function matcher_outbox_records();

-- A profile is matched again when what matching reads of it changes: its names, ORCID iD,
-- institution, settings (the auto-confirmation threshold) or identities.
create or replace function matcher_outbox_profiles() returns trigger
language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        return null;
    end if;
    insert into matcher_outbox (kind, profile_id) values ('profile_changed', new.id);
    return null;
end
$$;

create trigger author_profiles_matcher_outbox
    after insert or update of display_name, primary_orcid, institution_id, institution_name, settings
    on author_profiles
    for each row execute function matcher_outbox_profiles();

-- One function for the three statement triggers below: PostgreSQL gives a trigger with
-- transition tables one event only, and each event has its own tables.
create or replace function matcher_outbox_identities() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into matcher_outbox (kind, profile_id)
        select distinct 'profile_changed', profile_id from new_identities;
    elsif tg_op = 'UPDATE' then
        insert into matcher_outbox (kind, profile_id)
        select distinct 'profile_changed', changed.profile_id
        from (select profile_id from new_identities union select profile_id from old_identities) changed;
    else
        -- A profile deleted with its identities has nothing left to match.
        insert into matcher_outbox (kind, profile_id)
        select distinct 'profile_changed', o.profile_id
        from old_identities o
        where exists (select 1 from author_profiles p where p.id = o.profile_id);
    end if;
    return null;
end
$$;

create trigger profile_identities_matcher_outbox_insert
    after insert on profile_identities
    referencing new table as new_identities
    for each statement execute function matcher_outbox_identities();

create trigger profile_identities_matcher_outbox_update
    after update on profile_identities
    referencing new table as new_identities old table as old_identities
    for each statement execute function matcher_outbox_identities();

create trigger profile_identities_matcher_outbox_delete
    after delete on profile_identities
    referencing old table as old_identities
    for each statement execute function matcher_outbox_identities();
