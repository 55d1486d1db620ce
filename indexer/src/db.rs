//! Connections to PostgreSQL and the schema migrations every binary applies at start.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::Result;

/// The schema migrations in `migrations/`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Connection options of every pool: the URL's, named `atlas`, with PostgreSQL's JIT
/// compilation off. The queries here read pages and look up keys; a plan whose cost was
/// overestimated (a subquery per row of a page, tables not yet analysed) was compiled
/// anew for every page, which then took 40 % longer to read.
fn connect_options(database_url: &str) -> Result<PgConnectOptions> {
    let options: PgConnectOptions = database_url.parse()?;
    Ok(options.application_name("atlas").options([("jit", "off")]))
}

/// Opens a pool of at most `max_connections` connections to `database_url`.
///
/// # Errors
/// Fails when the URL is malformed or the server cannot be reached within ten seconds.
pub async fn connect(database_url: &str, max_connections: u32) -> Result<PgPool> {
    let options = connect_options(database_url)?;
    match PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await
    {
        Ok(pool) => Ok(pool),
        // The pool retries until its timeout and then says only that it timed out; one
        // attempt of its own names the cause (connection refused, unknown host, a
        // password refused).
        Err(sqlx::Error::PoolTimedOut) => match PgConnection::connect_with(&options).await {
            Ok(_) => Err(sqlx::Error::PoolTimedOut.into()),
            Err(cause) => Err(cause.into()),
        },
        Err(error) => Err(error.into()),
    }
}

/// Returns a pool that connects on first use, for processes that must start while
/// PostgreSQL is down and wait for it.
///
/// # Errors
/// Fails when the URL is malformed.
pub fn connect_lazy(database_url: &str, max_connections: u32) -> Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with(connect_options(database_url)?))
}

/// Applies every migration not yet applied; concurrent callers wait on a lock.
///
/// # Errors
/// Fails when a migration fails or one already applied was edited since.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Refreshes PostgreSQL's statistics of `tables` (names from this program, never from
/// input) after a bulk change. Without them a table filled since it was last analysed is
/// planned with default selectivities: the follower's read of the change feed scanned all
/// of a million changes twice a second, and looking works up by the records they merge
/// scanned the works. Autovacuum analyses such tables within a minute or so when it is on;
/// where it is off, nothing else would. A failure is logged, not returned: the change it
/// follows is committed, and plans without statistics are slow but right.
pub async fn analyze(pool: &PgPool, tables: &[&'static str]) {
    if tables.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    let tables = tables.join(", ");
    match sqlx::query(&format!("analyze {tables}"))
        .execute(pool)
        .await
    {
        Ok(_) => tracing::info!(
            %tables,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "statistics refreshed"
        ),
        Err(error) => tracing::warn!(%tables, %error, "statistics not refreshed"),
    }
}

/// Rows a bulk change (an import, a matcher run) must have written for it to refresh
/// the statistics of the tables it wrote ([`analyze`]): below, they barely move, and
/// analysing a table of millions takes a second.
pub const ANALYZE_AFTER_NUM_ROWS: u64 = 1_000;

/// Returns `url` with its password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|index| index + 3) else {
        return url.to_owned();
    };
    let Some(at) = url[scheme_end..].find('@').map(|index| index + scheme_end) else {
        return url.to_owned();
    };
    match url[scheme_end..at].split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end], &url[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redact_url_hides_only_the_password() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("redis://:pw@h:6379"), "redis://:***@h:6379");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
