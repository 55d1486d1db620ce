//! The matcher: proposes which raw records are a researcher's works, explains why, confirms
//! the unambiguous ones, and groups the records of one work into a canonical work.
//!
//! For each profile it retrieves candidate records through the search API
//! ([`retrieve`]) by every name form, the titles of verified works and the ORCID iD, derives
//! the evidence of each pair from the stored record itself ([`evidence`]), scores it
//! ([`score`]) and writes it idempotently ([`write`]); pairs above the profile's threshold
//! are confirmed in one transaction with their audit record ([`confirm`]). [`group`] joins
//! records by DOI and by title, year and authors. [`queue`] runs all of it as jobs from a
//! Redis stream, which [`outbox`] feeds with what imports and profile changes call for. Searching, indexing and the review interface belong to other crates.
//!
//! The design choice that matters: every score is a deterministic function of reasons
//! derived from PostgreSQL's copy of the record, never of what a search index returned,
//! and every write compares before it changes. Reruns, retried jobs and several workers at
//! once therefore converge on the same rows, and decisions people made are never touched.
//!
//! Known shortcomings: grouping holds every record's title words and surnames in memory,
//! which is fine for millions of records but not for hundreds of millions, until blocking
//! moves to the search API's title queries. The search API retrieves by name forms, titles
//! and ORCID iD only, so among many people sharing one name the records that the
//! affiliation or co-authors would single out may fall past the per-profile limit; a
//! retrieval boost for affiliations would fix it. `--since` filters what retrieval
//! returned rather than retrieving only new records, so for a very common name a new
//! record past the per-profile limit waits for the next full run.

pub mod confirm;
mod error;
pub mod evaluate;
pub mod evidence;
pub mod group;
pub mod jobs;
pub mod metrics;
pub mod outbox;
pub mod pipeline;
pub mod profile;
pub mod queue;
pub mod retrieve;
pub mod score;
pub mod write;

pub use error::{Error, Result};
