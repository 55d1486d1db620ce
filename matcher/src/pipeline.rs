//! One matching run over a set of profiles: retrieve candidates in batches, derive and
//! score the evidence of each pair, write the candidates, auto-confirm those above the
//! profile's threshold.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use analyzers::GivenNameVariants;
use chrono::{DateTime, Utc};
use indexer::db::ANALYZE_AFTER_NUM_ROWS;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::confirm::{auto_confirm, candidates_to_confirm, ConfirmOutcome};
use crate::evidence::{derive_reasons, RecordView};
use crate::profile::{all_profile_ids, load_profiles, ProfileContext};
use crate::retrieve::{CandidateProfile, CandidateRequest, CandidateSource};
use crate::score::score;
use crate::write::{write_candidates, ScoredCandidate, WriteSummary};
use crate::Result;

/// Profiles per candidate request by default.
pub const DEFAULT_BATCH_NUM_PROFILES: usize = 32;
/// Records asked per profile by default: as many as the search API gathers per shard for
/// a profile's names (`CANDIDATE_POOL_PER_QUERY`), because its order knows names only
/// while the matcher's score also weighs affiliations, co-authors and known titles. On S2AND, asking
/// 100 lost 13% of the true pairs among same-name people (see `EVALUATION.md`).
pub const DEFAULT_LIMIT_PER_PROFILE: usize = 400;

/// What a run covers and how.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Profiles to match; every profile when empty.
    pub profile_ids: Vec<Uuid>,
    /// Only records imported at or after this instant become candidates.
    pub since: Option<DateTime<Utc>>,
    /// Profiles per candidate request.
    pub batch_num_profiles: usize,
    /// Records asked per profile.
    pub limit_per_profile: usize,
    /// Threshold of profiles that set none.
    pub default_threshold: f64,
    /// Whether to auto-confirm at all.
    pub auto_confirm: bool,
    /// Draw a progress bar (on a terminal) rather than log lines.
    pub progress_bar: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            profile_ids: Vec::new(),
            since: None,
            batch_num_profiles: DEFAULT_BATCH_NUM_PROFILES,
            limit_per_profile: DEFAULT_LIMIT_PER_PROFILE,
            default_threshold: crate::confirm::DEFAULT_AUTO_CONFIRM_THRESHOLD,
            auto_confirm: true,
            progress_bar: false,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    /// Profiles matched.
    pub num_profiles: u64,
    /// Records the search API returned, over all profiles.
    pub num_hits: u64,
    /// Hits already part of the profile's verified works.
    pub num_known: u64,
    /// Hits without evidence once the record was read, or outside `since`.
    pub num_dropped: u64,
    /// Candidates written or found unchanged.
    pub write: WriteSummary,
    /// Candidates auto-confirmed.
    pub num_auto_confirmed: u64,
    /// Canonical works created by auto-confirmation.
    pub num_works_created: u64,
    /// Seconds the run took.
    pub elapsed_secs: f64,
    /// Where those seconds went.
    pub stages: StageSecs,
}

/// Seconds a run spent in each stage of its batches, summed; the profiles of the next
/// batch load while a batch is matched, so their loading is not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageSecs {
    /// Waiting for the search API's candidates.
    pub retrieve: f64,
    /// Reading the candidate records from PostgreSQL.
    pub load: f64,
    /// Deriving and scoring the evidence of each pair.
    pub score: f64,
    /// Writing the candidates.
    pub write: f64,
    /// Auto-confirming.
    pub confirm: f64,
}

/// Matches the profiles of `options` against the records `source` retrieves.
///
/// # Errors
/// Fails when PostgreSQL or the candidate source does; batches done before stay done, and
/// a rerun completes the rest without duplicating anything.
pub async fn run<S: CandidateSource>(
    pool: &PgPool,
    source: &S,
    variants: &GivenNameVariants,
    options: &RunOptions,
) -> Result<RunSummary> {
    let started = Instant::now();
    let profile_ids = if options.profile_ids.is_empty() {
        all_profile_ids(pool).await?
    } else {
        options.profile_ids.clone()
    };
    let progress = RunProgress::new(options.progress_bar, profile_ids.len() as u64);
    let mut summary = RunSummary::default();
    let batches: Vec<&[Uuid]> = profile_ids
        .chunks(options.batch_num_profiles.max(1))
        .collect();
    // The next batch's profiles load while the search API works on this one.
    let mut profiles = match batches.first() {
        Some(batch) => load_profiles(pool, batch, variants).await?,
        None => Vec::new(),
    };
    // A small run, such as a worker's job for one profile, leaves statistics alone.
    let mut num_written_at_analyze = 0;
    for (index, batch) in batches.iter().enumerate() {
        let next = async {
            match batches.get(index + 1) {
                Some(next) => load_profiles(pool, next, variants).await.map(Some),
                None => Ok(None),
            }
        };
        let (matched, next) = tokio::join!(
            match_batch(pool, source, variants, options, &profiles, &mut summary),
            next
        );
        matched?;
        // The tables a run fills are analysed after its 1st, 2nd, 4th, 8th… and last batch
        // when it wrote enough since: a run from empty tables otherwise looked works up by
        // the records they merge with a scan of every work, 17 ms per confirmed pair (see
        // `indexer::db::analyze`).
        let num_written = written_rows(&summary);
        let is_checkpoint = (index + 1).is_power_of_two() || index + 1 == batches.len();
        if is_checkpoint && num_written - num_written_at_analyze >= ANALYZE_AFTER_NUM_ROWS {
            indexer::db::analyze(pool, &filled_tables(options, &summary)).await;
            num_written_at_analyze = num_written;
        }
        summary.num_profiles += batch.len() as u64;
        progress.update(&summary);
        profiles = next?.unwrap_or_default();
    }
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    progress.finish();
    Ok(summary)
}

/// Rows the run has written so far: candidates, and works confirmed.
fn written_rows(summary: &RunSummary) -> u64 {
    summary.write.num_inserted + summary.write.num_updated + summary.num_auto_confirmed
}

/// The tables the run has written rows to so far.
fn filled_tables(options: &RunOptions, summary: &RunSummary) -> Vec<&'static str> {
    let mut tables = Vec::new();
    if summary.write.num_inserted + summary.write.num_updated > 0 {
        tables.push("candidate_matches");
    }
    if options.auto_confirm && summary.num_auto_confirmed > 0 {
        tables.extend(["canonical_works", "work_authorships"]);
    }
    tables
}

async fn match_batch<S: CandidateSource>(
    pool: &PgPool,
    source: &S,
    variants: &GivenNameVariants,
    options: &RunOptions,
    profiles: &[ProfileContext],
    summary: &mut RunSummary,
) -> Result<()> {
    if profiles.is_empty() {
        return Ok(());
    }
    let request = CandidateRequest {
        profiles: profiles.iter().map(CandidateProfile::of).collect(),
        limit_per_profile: options.limit_per_profile,
        show_matches: false,
    };
    let mut stage_started = Instant::now();
    let mut lap = || {
        let secs = stage_started.elapsed().as_secs_f64();
        stage_started = Instant::now();
        secs
    };
    let response = source.candidates(&request).await?;
    summary.stages.retrieve += lap();

    let profiles_by_id: BTreeMap<String, &ProfileContext> = profiles
        .iter()
        .map(|profile| (profile.id.to_string(), profile))
        .collect();
    let mut hits: Vec<(&ProfileContext, Uuid)> = Vec::new();
    for result in &response.results {
        let Some(profile) = profiles_by_id.get(&result.profile_id) else {
            tracing::warn!(profile_id = %result.profile_id, "candidates for a profile not asked for");
            continue;
        };
        for hit in &result.hits {
            summary.num_hits += 1;
            match hit.record_id.parse::<Uuid>() {
                Ok(record_id) if !profile.known_record_ids.contains(&record_id) => {
                    hits.push((profile, record_id));
                }
                Ok(_) => summary.num_known += 1,
                Err(_) => {
                    summary.num_dropped += 1;
                    tracing::warn!(record_id = %hit.record_id, "candidate with an invalid record id");
                }
            }
        }
    }

    let record_ids: BTreeSet<Uuid> = hits.iter().map(|(_, record_id)| *record_id).collect();
    let records = load_records(pool, &record_ids, options.since).await?;
    summary.stages.load += lap();
    let (scored, num_dropped) = score_pairs(&hits, &records, variants);
    summary.num_dropped += num_dropped;
    let candidates: Vec<ScoredCandidate> = scored.into_values().collect();
    summary.stages.score += lap();
    summary
        .write
        .absorb(write_candidates(pool, &candidates).await?);
    summary.stages.write += lap();

    if options.auto_confirm {
        confirm_batch(pool, variants, options, profiles, summary).await?;
    }
    summary.stages.confirm += lap();
    Ok(())
}

/// Pairs scored per thread at least: below, starting a thread costs more than it saves.
const MIN_PAIRS_PER_SCORING_THREAD: usize = 256;

/// Derives and scores the evidence of each (profile, record) pair, on as many threads as
/// the machine has cores (the search API waits meanwhile); returns the candidates by
/// (record, profile) and the number of pairs dropped, their record unread or without
/// evidence.
fn score_pairs(
    hits: &[(&ProfileContext, Uuid)],
    records: &BTreeMap<Uuid, (RecordView, String)>,
    variants: &GivenNameVariants,
) -> (BTreeMap<(Uuid, Uuid), ScoredCandidate>, u64) {
    let score_chunk = |chunk: &[(&ProfileContext, Uuid)]| {
        let mut scored = Vec::with_capacity(chunk.len());
        let mut num_dropped = 0;
        for (profile, record_id) in chunk {
            let Some((record, entity_type)) = records.get(record_id) else {
                num_dropped += 1;
                continue;
            };
            let reasons = derive_reasons(profile, record, variants);
            if reasons.is_empty() {
                num_dropped += 1;
                continue;
            }
            scored.push(ScoredCandidate {
                raw_record_id: *record_id,
                profile_id: profile.id,
                entity_type: entity_type.clone(),
                score: score(&reasons),
                reasons,
            });
        }
        (scored, num_dropped)
    };
    let num_threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(hits.len() / MIN_PAIRS_PER_SCORING_THREAD)
        .max(1);
    let chunk_len = hits.len().div_ceil(num_threads).max(1);
    let parts: Vec<(Vec<ScoredCandidate>, u64)> = if num_threads == 1 {
        vec![score_chunk(hits)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = hits
                .chunks(chunk_len)
                .map(|chunk| scope.spawn(move || score_chunk(chunk)))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("scoring a pair does not panic"))
                .collect()
        })
    };
    let mut scored = BTreeMap::new();
    let mut num_dropped = 0;
    for (candidates, dropped) in parts {
        num_dropped += dropped;
        for candidate in candidates {
            scored.insert((candidate.raw_record_id, candidate.profile_id), candidate);
        }
    }
    (scored, num_dropped)
}

async fn confirm_batch(
    pool: &PgPool,
    variants: &GivenNameVariants,
    options: &RunOptions,
    profiles: &[ProfileContext],
    summary: &mut RunSummary,
) -> Result<()> {
    let profiles_by_id: BTreeMap<Uuid, &ProfileContext> = profiles
        .iter()
        .map(|profile| (profile.id, profile))
        .collect();
    for (candidate_id, profile_id) in
        candidates_to_confirm(pool, profiles, options.default_threshold).await?
    {
        let profile = profiles_by_id[&profile_id];
        if let ConfirmOutcome::Confirmed { work_created, .. } =
            auto_confirm(pool, candidate_id, profile, variants).await?
        {
            summary.num_auto_confirmed += 1;
            summary.num_works_created += u64::from(work_created);
        }
    }
    Ok(())
}

/// Loads the records of `ids` (those imported since `since`, when given) with their
/// entity type.
async fn load_records(
    pool: &PgPool,
    ids: &BTreeSet<Uuid>,
    since: Option<DateTime<Utc>>,
) -> Result<BTreeMap<Uuid, (RecordView, String)>> {
    let ids: Vec<Uuid> = ids.iter().copied().collect();
    let rows: Vec<(Uuid, String, String, Value)> = sqlx::query_as(
        "select id, source, entity_type, data from raw_records
         where id = any($1) and ($2::timestamptz is null or fetched_at >= $2)",
    )
    .bind(&ids)
    .bind(since)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, source, entity_type, data)| (id, (RecordView { id, source, data }, entity_type)))
        .collect())
}

/// A bar on a terminal, a log line per batch otherwise.
struct RunProgress {
    bar: Option<ProgressBar>,
}

impl RunProgress {
    fn new(progress_bar: bool, num_profiles: u64) -> Self {
        let bar = progress_bar.then(|| {
            let bar = ProgressBar::new(num_profiles);
            let style = ProgressStyle::with_template(
                "{bar:40} {pos}/{len} profiles {per_sec} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        RunProgress { bar }
    }

    fn update(&self, summary: &RunSummary) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(summary.num_profiles);
                bar.set_message(format!(
                    "{} new candidates, {} auto-confirmed",
                    summary.write.num_inserted, summary.num_auto_confirmed
                ));
            }
            None => tracing::info!(
                num_profiles = summary.num_profiles,
                num_inserted = summary.write.num_inserted,
                num_updated = summary.write.num_updated,
                num_superseded = summary.write.num_superseded,
                num_auto_confirmed = summary.num_auto_confirmed,
                "matched a batch"
            ),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
