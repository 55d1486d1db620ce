-- A work shows its authors' names and ORCIDs. 0002 fanned a profile change out to the
-- profile's works inside the writing transaction, which cannot see an authorship another
-- transaction has not committed yet; the follower now maps profile changes to works in the
-- snapshot it applies (indexer/src/feed.rs). These triggers therefore only record the
-- profile itself, and a rename no longer scans the profile's authorships while writing.

create or replace function feed_author_profiles() returns trigger
language plpgsql as $$
begin
    insert into index_changes (index_name, doc_id)
    values ('profiles', case when tg_op = 'DELETE' then old.id else new.id end);
    return null;
end
$$;

create or replace function feed_profile_identities() returns trigger
language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        insert into index_changes (index_name, doc_id) values ('profiles', old.profile_id);
    end if;
    if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.profile_id <> old.profile_id) then
        insert into index_changes (index_name, doc_id) values ('profiles', new.profile_id);
    end if;
    return null;
end
$$;
