//! The indexer: gets bibliographic records into PostgreSQL and PostgreSQL into search indexes.
//!
//! Importers read real source formats (OpenAlex, Crossref, HAL, ORCID, DBLP-ACM) into
//! `raw_records` and `author_profiles`; PostgreSQL stays the system of record and
//! everything searchable is derived from it. The analysis of text is left to the
//! `analyzers` crate and serving searches to `search-api`.
//!
//! The design choice to know: every write is idempotent. Records are keyed by source, id
//! and a checksum of their canonical form, so an import killed at any point and run again
//! ends in the same state as one clean run.

pub mod db;
pub mod error;
pub mod feed;
pub mod follow;
pub mod import;
pub mod index;
pub mod shutdown;
pub mod testing;

pub use error::{Error, Result};
