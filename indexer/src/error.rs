//! The indexer's error type: caller mistakes apart from faults of ours or of PostgreSQL.

use std::path::PathBuf;

/// Errors of the indexer library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file could not be opened or read.
    #[error("cannot read `{path}`: {source}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file the import writes (the rejects file) could not be written.
    #[error("cannot write `{path}`: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A background task ended abnormally.
    #[error("internal task failed: {0}")]
    Task(String),
    /// A negative age of feed rows to keep, which would prune every row.
    #[error("the age of feed rows to keep (`--keep`, ATLAS_FEED_KEEP) is negative: `{0}`; give one such as `7 days`")]
    NegativeKeep(String),
    /// An index name other than `records`, `works` or `profiles`.
    #[error("unknown index `{0}`; the indexes are `records`, `works` and `profiles`")]
    UnknownIndex(String),
    /// An index directory or one of its files could not be read or written.
    #[error("cannot use index directory `{path}`: {source}")]
    IndexDirectory {
        /// The directory or file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A generation's `meta.json` or an index's `CURRENT` is malformed.
    #[error(
        "invalid index metadata in `{path}`: {reason}; rebuild the index with `indexer build`"
    )]
    IndexMeta {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The current generation was built with another schema than this binary's.
    #[error(
        "index `{index}` generation `{generation}` has schema version {found}, this binary expects \
         {expected}; rebuild it with `indexer build --index {index}`"
    )]
    SchemaVersion {
        /// The index.
        index: String,
        /// The generation.
        generation: String,
        /// The generation's schema version.
        found: u32,
        /// This binary's schema version.
        expected: u32,
    },
    /// A stored document of an index cannot be read back.
    #[error("index `{index}` holds an unreadable document: {reason}")]
    IndexDocument {
        /// The index.
        index: String,
        /// What is wrong with the document.
        reason: String,
    },
    /// Another process holds the writer lock of an index.
    #[error(
        "index `{index}` ({generation}) is being written by another process (an `indexer \
         follow`, `indexer build` or `search-api` on the same index directory); an index has \
         one writer at a time, so stop the other one or give this one its own `--index-dir`"
    )]
    WriterBusy {
        /// The index.
        index: String,
        /// Its generation.
        generation: String,
    },
    /// Another build of the same index is under way.
    #[error(
        "index `{index}` is being built by another process (it holds `{path}`); one build of \
         an index runs at a time, so wait for it to finish or give this one its own \
         `--index-dir`"
    )]
    BuildBusy {
        /// The index.
        index: String,
        /// The lock file.
        path: PathBuf,
    },
    /// tantivy failed to open, write or read an index.
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}

/// The indexer's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
