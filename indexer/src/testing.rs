//! A throwaway PostgreSQL database per test, so tests run in parallel and leave nothing.
//!
//! The server is the one at `ATLAS_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each [`TestDatabase`] creates a database
//! with a unique name, migrates it, and drops it when dropped.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

/// The server tests connect to when `ATLAS_TEST_DATABASE_URL` is unset.
pub const DEFAULT_TEST_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A migrated database that exists for the lifetime of this value.
#[derive(Debug)]
pub struct TestDatabase {
    /// A pool connected to the test database.
    pub pool: PgPool,
    /// The URL of the test database, for binaries started by the test.
    pub url: String,
    name: String,
    server: PgConnectOptions,
}

impl TestDatabase {
    /// Creates and migrates a fresh database.
    ///
    /// # Panics
    /// Panics when the server is unreachable: a test cannot run without it, and must not
    /// pass silently.
    pub async fn create() -> Self {
        Self::create_unmigrated_inner(true).await
    }

    /// Creates a fresh database without applying the migrations.
    ///
    /// # Panics
    /// Panics when the server is unreachable.
    pub async fn create_unmigrated() -> Self {
        Self::create_unmigrated_inner(false).await
    }

    async fn create_unmigrated_inner(migrated: bool) -> Self {
        let server_url = std::env::var("ATLAS_TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_TEST_SERVER_URL.to_owned());
        let server: PgConnectOptions = server_url
            .parse()
            .expect("ATLAS_TEST_DATABASE_URL is a URL");
        let name = format!("atlas_test_{}", uuid::Uuid::now_v7().simple());

        let mut admin = server.connect().await.unwrap_or_else(|error| {
            panic!("tests need PostgreSQL at `{server_url}` (start it or set ATLAS_TEST_DATABASE_URL): {error}")
        });
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.ok();

        let options = server.clone().database(&name);
        let url = database_url(&server_url, &name);
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("connect to test database");
        if migrated {
            crate::db::migrate(&pool)
                .await
                .expect("migrate test database");
        }
        Self {
            pool,
            url,
            name,
            server,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server = self.server.clone();
        let name = self.name.clone();
        // Dropping runs on a thread of its own: a test's runtime may already be shutting down.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async move {
                // `with (force)` ends the pool's connections, which belong to the test's runtime.
                if let Ok(mut admin) = PgConnection::connect_with(&server).await {
                    let statement = format!("drop database if exists {name} with (force)");
                    let _ = sqlx::query(&statement).execute(&mut admin).await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// Returns `server_url` with its database path replaced by `name`.
fn database_url(server_url: &str, name: &str) -> String {
    let without_query = server_url.split('?').next().unwrap_or(server_url);
    let query = server_url.strip_prefix(without_query).unwrap_or("");
    let base = match without_query.rfind('/') {
        Some(slash) if slash > "postgres://".len() => &without_query[..slash],
        _ => without_query,
    };
    format!("{base}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn database_url_replaces_the_path() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            database_url("postgres://u@h/db?sslmode=disable", "t2"),
            "postgres://u@h/t2?sslmode=disable"
        );
        assert_eq!(database_url("postgres://u@h", "t3"), "postgres://u@h/t3");
    }
}
