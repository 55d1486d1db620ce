//! Writes scored candidates to `candidate_matches` in bulk and idempotently.
//!
//! One statement per chunk inserts new pairs and updates pending or uncertain ones whose
//! score or reasons changed; decided pairs (confirmed, auto-confirmed, rejected) are never
//! touched, so a decided (record version, profile) is never proposed again, and running
//! the matcher twice on the same data writes nothing the second time. A pending pair of a
//! profile matched again whose record has a newer version since is removed: the reviewer
//! sees the current version, not both.

use sqlx::PgPool;
use uuid::Uuid;

use crate::score::Reason;
use crate::Result;

/// Candidates written per statement.
pub const WRITE_CHUNK_NUM_ROWS: usize = 1_000;

/// Profiles whose superseded proposals one statement removes: each has a few hundred
/// pending candidates, every one looked up among the record heads.
const SUPERSEDED_CHUNK_NUM_PROFILES: usize = 100;

/// A scored pair ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredCandidate {
    /// The raw record version.
    pub raw_record_id: Uuid,
    /// The profile.
    pub profile_id: Uuid,
    /// The record's entity type (`work`).
    pub entity_type: String,
    /// The score in `[0, 1]`, three decimals.
    pub score: f64,
    /// Why.
    pub reasons: Vec<Reason>,
}

/// What a write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// New pairs.
    pub num_inserted: u64,
    /// Pending or uncertain pairs whose evidence changed.
    pub num_updated: u64,
    /// Pending pairs of the profiles written removed because their record has a newer
    /// version since.
    pub num_superseded: u64,
    /// Pairs left as they were: same evidence, or already decided.
    pub num_unchanged: u64,
}

impl WriteSummary {
    /// Adds another summary's counts.
    pub fn absorb(&mut self, other: WriteSummary) {
        self.num_inserted += other.num_inserted;
        self.num_updated += other.num_updated;
        self.num_superseded += other.num_superseded;
        self.num_unchanged += other.num_unchanged;
    }
}

/// Inserts or updates `candidates`, then removes the superseded proposals of their
/// profiles; see the module documentation for what is left alone.
///
/// # Errors
/// Fails when PostgreSQL does; chunks written before stay written, and writing again
/// completes the work.
pub async fn write_candidates(
    pool: &PgPool,
    candidates: &[ScoredCandidate],
) -> Result<WriteSummary> {
    let mut summary = WriteSummary::default();
    for chunk in candidates.chunks(WRITE_CHUNK_NUM_ROWS) {
        summary.absorb(write_chunk(pool, chunk).await?);
    }
    // Once for all the chunks: a chunk holds candidates of many profiles, and each
    // profile's pending proposals were otherwise all looked at again for every chunk.
    let mut profiles: Vec<Uuid> = candidates
        .iter()
        .map(|candidate| candidate.profile_id)
        .collect();
    profiles.sort_unstable();
    profiles.dedup();
    for chunk in profiles.chunks(SUPERSEDED_CHUNK_NUM_PROFILES) {
        summary.num_superseded += remove_superseded(pool, chunk).await?;
    }
    Ok(summary)
}

async fn write_chunk(pool: &PgPool, chunk: &[ScoredCandidate]) -> Result<WriteSummary> {
    let record_ids: Vec<Uuid> = chunk
        .iter()
        .map(|candidate| candidate.raw_record_id)
        .collect();
    let profile_ids: Vec<Uuid> = chunk.iter().map(|candidate| candidate.profile_id).collect();
    let entity_types: Vec<&str> = chunk
        .iter()
        .map(|candidate| candidate.entity_type.as_str())
        .collect();
    let scores: Vec<f64> = chunk.iter().map(|candidate| candidate.score).collect();
    let reasons: Vec<serde_json::Value> = chunk
        .iter()
        .map(|candidate| serde_json::to_value(&candidate.reasons).unwrap_or_default())
        .collect();

    // `xmax = 0` tells a freshly inserted row from an updated one.
    let inserted_flags: Vec<bool> = sqlx::query_scalar(
        "insert into candidate_matches
             (raw_record_id, profile_id, entity_type, match_score, match_reasons, status)
         select record_id, profile_id, entity_type, score::numeric(4, 3), reasons, 'pending'
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::float8[], $5::jsonb[])
             as input(record_id, profile_id, entity_type, score, reasons)
         on conflict (raw_record_id, profile_id) do update
             set match_score = excluded.match_score, match_reasons = excluded.match_reasons
             where candidate_matches.status in ('pending', 'uncertain')
               and (candidate_matches.match_score, candidate_matches.match_reasons)
                   is distinct from (excluded.match_score, excluded.match_reasons)
         returning (xmax = 0)",
    )
    .bind(&record_ids)
    .bind(&profile_ids)
    .bind(&entity_types)
    .bind(&scores)
    .bind(&reasons)
    .fetch_all(pool)
    .await?;

    let num_inserted = inserted_flags.iter().filter(|inserted| **inserted).count() as u64;
    let num_updated = inserted_flags.len() as u64 - num_inserted;
    Ok(WriteSummary {
        num_inserted,
        num_updated,
        num_superseded: 0,
        num_unchanged: chunk.len() as u64 - num_inserted - num_updated,
    })
}

/// Removes the pending proposals of `profiles` on records that have a newer version
/// since, which no one decided on (the current version is what a reviewer should see),
/// and returns how many went.
async fn remove_superseded(pool: &PgPool, profiles: &[Uuid]) -> Result<u64> {
    let num_removed = sqlx::query(
        "delete from candidate_matches old_candidate
         where old_candidate.profile_id = any($1::uuid[])
           and old_candidate.status = 'pending'
           and not exists (
               select 1 from raw_record_heads head
               where head.raw_record_id = old_candidate.raw_record_id
           )
           and not exists (
               select 1 from verification_acts act where act.candidate_match_id = old_candidate.id
           )",
    )
    .bind(profiles)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(num_removed)
}
