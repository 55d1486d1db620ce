-- Pruning the change feed without losing a change.
--
-- Rows of index_changes are only needed until every follower has read them, but followers
-- keep their positions in their own indexes, out of PostgreSQL's sight. Pruning is therefore
-- by age, and it records the newest transaction whose rows it removed: a follower whose
-- position might not include that transaction cannot trust the feed any more and rebuilds
-- its index from a fresh snapshot instead of following (see indexer/src/follow.rs).

create table index_changes_pruned (
    singleton boolean primary key default true check (singleton),
    -- Every transaction whose feed rows were removed has an id at most this.
    through_xid xid8 not null,
    pruned_at timestamptz not null default now()
);

comment on table index_changes_pruned is
    'newest transaction whose index_changes rows were pruned; followers behind it rebuild';

-- Removes feed rows written by transactions that started more than `keep` ago (the rows
-- of one transaction share its start time, so a transaction goes whole) and returns how
-- many were removed.
create or replace function prune_index_changes(keep interval) returns bigint
language plpgsql as $$
declare
    num_pruned bigint;
    newest_pruned xid8;
begin
    with pruned as (
        delete from index_changes where changed_at < now() - keep returning xid
    )
    select count(*), max(xid) into num_pruned, newest_pruned from pruned;
    if newest_pruned is not null then
        insert into index_changes_pruned (through_xid) values (newest_pruned)
        on conflict (singleton) do update
            set through_xid = greatest(index_changes_pruned.through_xid, excluded.through_xid),
                pruned_at = now();
    end if;
    return num_pruned;
end
$$;
