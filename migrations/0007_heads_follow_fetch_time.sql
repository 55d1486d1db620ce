-- The current version of a record is the one fetched last.
--
-- A version's fetched_at is the start of the transaction that imported it. Two imports of
-- different versions of one record may commit in either order; the head used to follow
-- whichever committed last, which could leave the version fetched first as current. The
-- head now keeps the fetch time of the version it points at and moves only forward in it.

alter table raw_record_heads add column fetched_at timestamptz;

update raw_record_heads h
set fetched_at = r.fetched_at
from raw_records r
where r.id = h.raw_record_id;

alter table raw_record_heads alter column fetched_at set not null;

comment on column raw_record_heads.fetched_at is
    'when the current version was fetched, or fetched again after another version';

create or replace function advance_raw_record_head() returns trigger
language plpgsql as $$
begin
    insert into raw_record_heads (source, source_id, raw_record_id, fetched_at)
    values (new.source, new.source_id, new.id, new.fetched_at)
    on conflict (source, source_id)
    do update set raw_record_id = excluded.raw_record_id,
                  fetched_at = excluded.fetched_at,
                  updated_at = now()
    -- The conflicting row is read in its latest committed version, whatever the snapshot.
    where raw_record_heads.fetched_at <= excluded.fetched_at;
    return null;
end
$$;

-- When the current version is deleted, the newest remaining version becomes current.
create or replace function retreat_raw_record_head() returns trigger
language plpgsql as $$
declare
    previous_id uuid;
    previous_fetched_at timestamptz;
begin
    select r.id, r.fetched_at into previous_id, previous_fetched_at
    from raw_records r
    where r.source = old.source and r.source_id = old.source_id and r.id <> old.id
    order by r.fetched_at desc, r.id desc
    limit 1;

    if previous_id is not null then
        insert into raw_record_heads (source, source_id, raw_record_id, fetched_at)
        values (old.source, old.source_id, previous_id, previous_fetched_at)
        on conflict (source, source_id)
        do update set raw_record_id = excluded.raw_record_id,
                      fetched_at = excluded.fetched_at,
                      updated_at = now();
    end if;
    return null;
end
$$;
