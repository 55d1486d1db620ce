//! The run's own database on the PostgreSQL server: its name checked before anything is
//! dropped and quoted in every statement, and the server named in every connection error.

use std::time::Duration;

use anyhow::Context;
use sqlx::{Connection, PgConnection};

/// Longest database name PostgreSQL keeps (`NAMEDATALEN - 1`); it silently truncates a
/// longer one, so two long names could name, and drop, the same database.
pub const MAX_DATABASE_NAME_NUM_BYTES: usize = 63;

/// Longest wait for the PostgreSQL server to accept a connection; an address that drops
/// packets would otherwise hang the run before it starts.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the server URL comes from, for messages.
const SERVER_URL_SOURCE: &str = "`--server-url` or `ATLAS_BENCH_DATABASE_URL`";

/// Serialises this process's `create database` and `drop database` statements, which
/// run in tasks of their own: a run interrupted while its database is being created
/// cannot cancel the statement PostgreSQL is already executing, so the drop that follows
/// the interruption waits for it, rather than finding nothing to drop and leaving the
/// database behind.
static DATABASE_STATEMENTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Checks that `name` can be the run's database: a lowercase ASCII letter, then lowercase
/// letters, digits and `_`, at most [`MAX_DATABASE_NAME_NUM_BYTES`] bytes.
///
/// PostgreSQL folds unquoted names to lowercase, so a name with capitals would address
/// another database than the one it spells; such names are refused rather than folded.
///
/// # Errors
/// Says what is wrong with the name.
pub fn check_database_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the database name is empty".to_owned());
    }
    if name.len() > MAX_DATABASE_NAME_NUM_BYTES {
        return Err(format!(
            "database name `{name}` is {} bytes long; PostgreSQL keeps at most \
             {MAX_DATABASE_NAME_NUM_BYTES}",
            name.len()
        ));
    }
    let reason = if name.bytes().any(|byte| byte.is_ascii_uppercase()) {
        format!(
            "has capital letters, which PostgreSQL folds (it would address `{}`)",
            name.to_ascii_lowercase()
        )
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        "does not start with a lowercase ASCII letter".to_owned()
    } else if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        format!("holds `{bad}`")
    } else {
        return Ok(());
    };
    Err(format!(
        "database name `{name}` {reason}; use a lowercase ASCII letter, then lowercase \
         letters, digits or `_`"
    ))
}

/// Returns `name` as a quoted SQL identifier: in double quotes, inner quotes doubled.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Returns `server_url` with its database replaced by `name`, keeping its query
/// parameters (`?sslmode=…`).
pub fn database_url(server_url: &str, name: &str) -> String {
    let (url, query) = match server_url.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (server_url, None),
    };
    let authority_start = url.find("://").map_or(0, |index| index + 3);
    let base = match url[authority_start..].find('/') {
        Some(slash) => &url[..authority_start + slash],
        None => url,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Opens a connection to the server, failing with a message that names the server
/// (without its password) and the option that set it.
///
/// # Errors
/// Fails when the server cannot be reached in [`CONNECT_TIMEOUT`] or refuses the login.
pub async fn connect_to_server(server_url: &str) -> anyhow::Result<PgConnection> {
    let redacted = indexer::db::redact_url(server_url);
    let connecting = PgConnection::connect(server_url);
    match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Ok(connection) => connection.with_context(|| {
            format!("cannot connect to PostgreSQL at `{redacted}` (set by {SERVER_URL_SOURCE})")
        }),
        Err(_) => anyhow::bail!(
            "PostgreSQL at `{redacted}` (set by {SERVER_URL_SOURCE}) did not answer within \
             {CONNECT_TIMEOUT:?}"
        ),
    }
}

/// The comment the harness puts on the databases it creates: only a database carrying it
/// is dropped without `--replace-database`, so that a mistyped `--database` naming
/// someone's database on a shared server stops the run instead of emptying it.
pub const RUN_DATABASE_MARKER: &str = "atlas-benches scale run database; dropped by the next run";

/// What the server holds under a database name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// No database of that name.
    None,
    /// A database the harness created.
    RunDatabase,
    /// A database the harness did not create.
    Other,
}

/// Drops the database `name` if it exists and creates it empty, marked as the harness's
/// own. A database of that name the harness did not create is dropped only when `replace`
/// is set.
///
/// # Errors
/// Fails when the name is not a valid run database name, when it names a database the
/// harness did not create and `replace` is not set, or when PostgreSQL fails.
pub async fn recreate_database(server_url: &str, name: &str, replace: bool) -> anyhow::Result<()> {
    if check_replaceable(server_url, name, replace).await? != Existing::None {
        force_drop(server_url, name).await?;
    }
    let statement = format!("create database {}", quote_identifier(name));
    run_to_the_end(server_url, statement)
        .await
        .with_context(|| format!("failed to create the database `{name}`"))?;
    let statement = format!(
        "comment on database {} is '{RUN_DATABASE_MARKER}'",
        quote_identifier(name)
    );
    run_to_the_end(server_url, statement)
        .await
        .with_context(|| format!("failed to mark the database `{name}` as the run's"))
}

/// Checks that the run may drop what the server holds under `name`, and returns it.
///
/// # Errors
/// Fails when the name is not a valid run database name, when it names a database the
/// harness did not create and `replace` is not set, or when PostgreSQL cannot be asked.
pub async fn check_replaceable(
    server_url: &str,
    name: &str,
    replace: bool,
) -> anyhow::Result<Existing> {
    check_name(name)?;
    let found = existing(server_url, name).await?;
    anyhow::ensure!(
        found != Existing::Other || replace,
        "the database `{name}` exists and was not created by this harness (it lacks the \
         comment the harness puts on its databases), so it is left alone: choose another \
         `--database`, or pass `--replace-database` to drop it anyway"
    );
    Ok(found)
}

/// Drops the run's database if it exists and the harness created it, closing its
/// connections; a database of that name the harness did not create is left alone.
///
/// # Errors
/// Fails when the name is not a valid run database name, or when PostgreSQL fails.
pub async fn drop_database(server_url: &str, name: &str) -> anyhow::Result<()> {
    check_name(name)?;
    match existing(server_url, name).await? {
        Existing::RunDatabase => force_drop(server_url, name).await,
        Existing::None | Existing::Other => Ok(()),
    }
}

fn check_name(name: &str) -> anyhow::Result<()> {
    check_database_name(name).map_err(|reason| anyhow::anyhow!("invalid `--database`: {reason}"))
}

/// Returns what the server holds under `name`.
async fn existing(server_url: &str, name: &str) -> anyhow::Result<Existing> {
    let mut admin = connect_to_server(server_url).await?;
    let found: Option<(Option<String>,)> = sqlx::query_as(
        "select shobj_description(oid, 'pg_database') from pg_database where datname = $1",
    )
    .bind(name)
    .fetch_optional(&mut admin)
    .await
    .with_context(|| format!("failed to look up the database `{name}`"))?;
    Ok(match found {
        None => Existing::None,
        Some((Some(comment),)) if comment == RUN_DATABASE_MARKER => Existing::RunDatabase,
        Some(_) => Existing::Other,
    })
}

async fn force_drop(server_url: &str, name: &str) -> anyhow::Result<()> {
    let statement = format!(
        "drop database if exists {} with (force)",
        quote_identifier(name)
    );
    run_to_the_end(server_url, statement)
        .await
        .with_context(|| format!("failed to drop the database `{name}`"))
}

/// Runs `statement` on the server in a task of its own, after every statement started
/// before it ([`DATABASE_STATEMENTS`]); dropping the returned future does not stop it.
async fn run_to_the_end(server_url: &str, statement: String) -> anyhow::Result<()> {
    let server_url = server_url.to_owned();
    let task = tokio::spawn(async move {
        let _turn = DATABASE_STATEMENTS.lock().await;
        let mut admin = connect_to_server(&server_url).await?;
        sqlx::query(&statement).execute(&mut admin).await?;
        anyhow::Ok(())
    });
    task.await.context("the database statement's task failed")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_postgresql_would_fold_or_refuse_are_rejected() {
        for name in ["atlas_bench_smoke", "a", "fixer_smoke2", &"a".repeat(63)] {
            assert_eq!(
                check_database_name(name),
                Ok(()),
                "`{name}` should be accepted"
            );
        }
        for (name, expected) in [
            ("", "empty"),
            ("NEWCOMER_VICTIM", "would address `newcomer_victim`"),
            ("Atlas", "has capital letters"),
            ("9abc", "does not start with a lowercase"),
            ("_abc", "does not start with a lowercase"),
            ("a-b", "holds `-`"),
            ("a b", "holds ` `"),
            ("a\"; drop database postgres; --", "holds `\"`"),
            ("é", "does not start with a lowercase"),
            ("aé", "holds `é`"),
        ] {
            let error = check_database_name(name).expect_err(name);
            assert!(error.contains(expected), "`{name}`: {error}");
        }
        let error = check_database_name(&"a".repeat(64)).unwrap_err();
        assert!(error.contains("64 bytes"), "{error}");
    }

    #[test]
    fn identifiers_are_quoted_with_inner_quotes_doubled() {
        assert_eq!(quote_identifier("atlas"), "\"atlas\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn the_database_of_a_server_url_is_replaced_and_its_parameters_kept() {
        for (server_url, expected) in [
            ("postgres://u@h:5432/postgres", "postgres://u@h:5432/run"),
            (
                "postgres://u:p@h/postgres?sslmode=disable",
                "postgres://u:p@h/run?sslmode=disable",
            ),
            ("postgres://u@h:5432", "postgres://u@h:5432/run"),
            ("postgres://u@h:5432/", "postgres://u@h:5432/run"),
        ] {
            assert_eq!(database_url(server_url, "run"), expected, "{server_url}");
        }
    }
}
