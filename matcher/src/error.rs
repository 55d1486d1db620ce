//! The matcher's errors: caller mistakes (a bad option, an unknown profile) apart from
//! faults of what it depends on (PostgreSQL, Redis, the search API).

use std::path::PathBuf;

/// What can go wrong while matching, grouping or running jobs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// PostgreSQL refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Redis refused or failed a command.
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    /// The search API could not be reached or answered with an error.
    #[error("search api error: {0}")]
    SearchApi(String),
    /// A job in the queue could not be read.
    #[error("invalid job `{id}`: {reason}")]
    InvalidJob {
        /// The stream entry id.
        id: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A caller asked for something that does not exist or cannot be done.
    #[error("{0}")]
    InvalidInput(String),
    /// A data file could not be read.
    #[error("cannot read `{path}`: {reason}")]
    DataFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The indexer failed (migrations, imports, index builds).
    #[error("indexer error: {0}")]
    Indexer(#[from] indexer::Error),
    /// A background task panicked or was cancelled.
    #[error("task failed: {0}")]
    Task(String),
    /// An I/O failure (metrics listener, child processes).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        Error::SearchApi(with_causes(&error))
    }
}

/// Returns an error's message followed by its sources': an HTTP client's own message
/// names the URL, its sources say why (connection refused, a timeout, a TLS failure).
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The matcher's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
