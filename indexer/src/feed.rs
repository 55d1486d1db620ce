//! Reading the change feed (`index_changes`) exactly once, whatever the commit order.
//!
//! A [`FeedPosition`] is a PostgreSQL snapshot (`pg_snapshot`, `xmin:xmax:xip,…`): "every
//! change from a transaction visible in this snapshot is applied". The next read, in a new
//! snapshot, asks for changes whose transactions are visible now but were not then. A
//! transaction that began early and committed late is invisible in the old snapshot and
//! visible in the new one, so it is read exactly when it commits; no sequence number is
//! trusted to be in commit order.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Result;

/// A position in the change feed: the snapshot up to which changes are applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FeedPosition(String);

impl FeedPosition {
    /// Wraps a snapshot in PostgreSQL's text form, `xmin:xmax:xip1,xip2`.
    ///
    /// # Errors
    /// Fails when `snapshot` is not in that form.
    pub fn parse(snapshot: &str) -> Result<Self, String> {
        let mut parts = snapshot.splitn(3, ':');
        let xmin = parts.next().and_then(|part| part.parse::<u64>().ok());
        let xmax = parts.next().and_then(|part| part.parse::<u64>().ok());
        let xip = parts.next();
        match (xmin, xmax, xip) {
            (Some(xmin), Some(xmax), Some(xip))
                if xmin <= xmax
                    && xip
                        .split(',')
                        .filter(|xid| !xid.is_empty())
                        .all(|xid| xid.parse::<u64>().is_ok()) =>
            {
                Ok(Self(snapshot.to_owned()))
            }
            _ => Err(format!(
                "`{snapshot}` is not a feed position (a pg_snapshot such as `10:12:10`)"
            )),
        }
    }

    /// Returns the snapshot text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns whether pruning through transaction `pruned_through` may have removed feed
    /// rows this position does not include: a transaction older than the snapshot's xmin
    /// had ended before it, so only one at or after xmin can be missing.
    pub fn may_miss_pruned(&self, pruned_through: u64) -> bool {
        pruned_through >= self.xmin()
    }

    /// Returns the oldest transaction id that may not be applied yet.
    pub fn xmin(&self) -> u64 {
        self.0
            .split(':')
            .next()
            .and_then(|part| part.parse().ok())
            .unwrap_or(0)
    }

    fn xmax(&self) -> u64 {
        self.0
            .split(':')
            .nth(1)
            .and_then(|part| part.parse().ok())
            .unwrap_or(0)
    }

    /// Returns the earliest of `positions`, from which every one of them is safe to resume:
    /// re-applying a change only re-reads a document, so starting early is harmless.
    pub fn earliest<'a>(
        positions: impl IntoIterator<Item = &'a FeedPosition>,
    ) -> Option<FeedPosition> {
        positions
            .into_iter()
            .min_by_key(|position| (position.xmin(), position.xmax()))
            .cloned()
    }
}

impl fmt::Display for FeedPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Returns the snapshot of the current transaction as a feed position. Run inside a
/// REPEATABLE READ transaction, it is the snapshot every read of that transaction sees.
///
/// # Errors
/// Fails when PostgreSQL fails.
pub async fn current_position(connection: &mut PgConnection) -> Result<FeedPosition> {
    let snapshot: String = sqlx::query_scalar("select pg_current_snapshot()::text")
        .fetch_one(&mut *connection)
        .await?;
    FeedPosition::parse(&snapshot).map_err(crate::Error::Task)
}

/// Starts a REPEATABLE READ, READ ONLY transaction: every statement in it sees one snapshot.
///
/// # Errors
/// Fails when PostgreSQL fails.
pub async fn begin_snapshot(
    pool: &sqlx::PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut transaction = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *transaction)
        .await?;
    Ok(transaction)
}

/// Returns the newest transaction id whose feed rows pruning removed, if any was. An index
/// at a position whose xmin is not past it may have missed those rows (see
/// [`FeedPosition::may_miss_pruned`]).
///
/// # Errors
/// Fails when PostgreSQL fails.
pub async fn pruned_through(pool: &sqlx::PgPool) -> Result<Option<u64>> {
    let through: Option<String> =
        sqlx::query_scalar("select through_xid::text from index_changes_pruned")
            .fetch_optional(pool)
            .await?;
    Ok(through.and_then(|xid| xid.parse().ok()))
}

/// Removes the feed rows of transactions that started more than `keep` ago (a PostgreSQL
/// interval such as `7 days`) and returns how many rows went. A follower that had not read
/// them rebuilds its index when it next looks at the feed.
///
/// # Errors
/// Fails when `keep` is not an interval PostgreSQL reads or is negative, or when
/// PostgreSQL fails.
pub async fn prune(pool: &sqlx::PgPool, keep: &str) -> Result<u64> {
    let is_negative: bool = sqlx::query_scalar("select $1::text::interval < interval '0'")
        .bind(keep)
        .fetch_one(pool)
        .await?;
    if is_negative {
        return Err(crate::Error::NegativeKeep(keep.to_owned()));
    }
    let num_pruned: i64 = sqlx::query_scalar("select prune_index_changes($1::text::interval)")
        .bind(keep)
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(num_pruned).unwrap_or(0))
}

/// Documents to re-read, by index name, as read from the feed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Document ids by index name, each once.
    pub by_index: BTreeMap<String, BTreeSet<Uuid>>,
    /// Seconds since the oldest change read was committed; 0 when none.
    pub oldest_age_secs: f64,
}

impl Changes {
    /// Returns how many documents are to be re-read.
    pub fn num_docs(&self) -> usize {
        self.by_index.values().map(BTreeSet::len).sum()
    }
}

/// Reads the changes to `index_name` whose transactions are visible in the current
/// transaction's snapshot but were not in `since`. Run inside the transaction from
/// [`begin_snapshot`], together with [`current_position`], so that position and changes
/// agree.
///
/// # Errors
/// Fails when PostgreSQL fails.
pub async fn read_changes(
    connection: &mut PgConnection,
    index_name: &str,
    since: &FeedPosition,
) -> Result<Changes> {
    let rows: Vec<(Uuid, f64)> = sqlx::query_as(
        "select doc_id, extract(epoch from now() - min(changed_at))::float8
         from index_changes
         where index_name = $1
           and xid >= pg_snapshot_xmin($2::text::pg_snapshot)
           and not pg_visible_in_snapshot(xid, $2::text::pg_snapshot)
         group by doc_id",
    )
    .bind(index_name)
    .bind(since.as_str())
    .fetch_all(&mut *connection)
    .await?;

    let mut changes = Changes::default();
    for (doc_id, age_secs) in rows {
        changes.oldest_age_secs = changes.oldest_age_secs.max(age_secs);
        changes
            .by_index
            .entry(index_name.to_owned())
            .or_default()
            .insert(doc_id);
    }
    Ok(changes)
}

/// Reads the works whose authors' profiles changed since `since`: a work shows its
/// authors' names and ORCIDs, so a profile change must re-read them. This runs in the
/// follower's snapshot rather than in the writing transaction's trigger, which cannot see
/// an authorship another transaction has not committed yet and would miss that work.
///
/// # Errors
/// Fails when PostgreSQL fails.
pub async fn read_works_of_changed_profiles(
    connection: &mut PgConnection,
    since: &FeedPosition,
) -> Result<Changes> {
    let rows: Vec<(Uuid, f64)> = sqlx::query_as(
        "select wa.work_id, extract(epoch from now() - min(c.changed_at))::float8
         from index_changes c
         join work_authorships wa on wa.profile_id = c.doc_id
         where c.index_name = 'profiles'
           and c.xid >= pg_snapshot_xmin($1::text::pg_snapshot)
           and not pg_visible_in_snapshot(c.xid, $1::text::pg_snapshot)
         group by wa.work_id",
    )
    .bind(since.as_str())
    .fetch_all(&mut *connection)
    .await?;

    let mut changes = Changes::default();
    for (work_id, age_secs) in rows {
        changes.oldest_age_secs = changes.oldest_age_secs.max(age_secs);
        changes
            .by_index
            .entry("works".to_owned())
            .or_default()
            .insert(work_id);
    }
    Ok(changes)
}

impl Changes {
    /// Adds the documents and age of `other` to these.
    pub fn merge(&mut self, other: Changes) {
        self.oldest_age_secs = self.oldest_age_secs.max(other.oldest_age_secs);
        for (index_name, ids) in other.by_index {
            self.by_index.entry(index_name).or_default().extend(ids);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FeedPosition;

    #[test]
    fn positions_parse_and_order_by_their_oldest_transaction() {
        let early = FeedPosition::parse("100:105:101,103").unwrap();
        let late = FeedPosition::parse("104:110:").unwrap();
        let same_xmin_later = FeedPosition::parse("100:107:101").unwrap();
        assert_eq!(early.xmin(), 100);
        assert_eq!(
            FeedPosition::earliest([&late, &early, &same_xmin_later]),
            Some(early.clone())
        );
        assert_eq!(
            FeedPosition::earliest([&late, &same_xmin_later]),
            Some(same_xmin_later)
        );
        assert_eq!(FeedPosition::earliest(std::iter::empty()), None);
    }

    #[test]
    fn malformed_positions_are_refused_with_the_value() {
        for bad in ["", "abc", "10:5:", "1:2:x", "1"] {
            let error = FeedPosition::parse(bad).unwrap_err();
            assert!(error.contains(&format!("`{bad}`")), "{error}");
        }
    }
}
