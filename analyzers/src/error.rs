//! The crate's error type.

use std::path::PathBuf;

/// Errors of the analyzers crate: only loading name tables can fail; analysis never does.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configured file could not be read (our environment, not the caller's input).
    #[error("failed to read `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A given-name variant file is not in one of the accepted formats.
    #[error(
        "invalid given-name variant file `{source_name}` at line {line_number}: {reason}; \
         expected `name,variant` or `name1,relationship,name2` records"
    )]
    InvalidVariantFile {
        /// The file or stream.
        source_name: String,
        /// 1-based record number.
        line_number: usize,
        /// What is wrong.
        reason: String,
    },
    /// A directory given as a variant table holds none of the tables it is read for.
    #[error(
        "`{path}` is a directory without a given-name variant table; expected a file, or a \
         directory holding {expected}"
    )]
    NoVariantTable {
        /// The directory.
        path: PathBuf,
        /// The file names looked for, listed.
        expected: String,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
