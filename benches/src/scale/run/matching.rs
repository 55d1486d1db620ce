//! The matcher against the running search API: candidate retrieval (`POST /candidates`,
//! as `matcher run` asks it) for a sample of profiles, its recall against the truth, and
//! the whole matching of the sample (retrieve, score, write candidates), and how right the
//! written scores are at each auto-confirmation threshold.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use analyzers::GivenNameVariants;
use anyhow::Context;
use futures_util::StreamExt;
use matcher::pipeline::{RunOptions, DEFAULT_BATCH_NUM_PROFILES, DEFAULT_LIMIT_PER_PROFILE};
use matcher::profile::load_profiles;
use matcher::retrieve::{CandidateProfile, CandidateRequest, CandidateSource, SearchApiClient};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::scale::corpus::{files, CorpusOptions};
use crate::scale::people::profile_id;
use crate::scale::rng::SeededRng;

/// The matcher's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MatcherFigures {
    /// Profiles in the sample.
    pub num_profiles: u64,
    /// Candidate retrieval: profiles per second (loading each profile's context and asking
    /// the search API in batches, as `matcher run` does).
    pub retrieval_profiles_per_sec: f64,
    /// Candidate retrieval of another sample of as many profiles, with two requests in
    /// flight, their profiles loaded beforehand: what the search API serves when its
    /// client keeps it busy (one request at a time leaves a core idle while a batch's
    /// slowest profile finishes and while the answer travels).
    pub retrieval_two_in_flight_profiles_per_sec: f64,
    /// Profiles in that other sample: as many as in the first, or the rest of the corpus's
    /// profiles when it has fewer.
    pub num_profiles_two_in_flight: u64,
    /// Candidates returned per profile on average.
    pub candidates_per_profile: f64,
    /// Records of the sampled profiles, by the truth.
    pub num_true_pairs: u64,
    /// Share of those records among their profile's candidates.
    pub candidate_recall: f64,
    /// The whole matching of the sample (retrieve, score, write, no auto-confirmation):
    /// profiles per second.
    pub pipeline_profiles_per_sec: f64,
    /// Candidates the whole matching wrote.
    pub num_candidates_written: u64,
    /// Precision and recall of the written candidates scoring at least each threshold:
    /// what auto-confirmation at that threshold would confirm.
    pub thresholds: Vec<ThresholdFigures>,
}

/// The written candidates at or above one score threshold, judged by the truth.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ThresholdFigures {
    /// The threshold.
    pub threshold: f64,
    /// Candidates scoring at least the threshold.
    pub num_pairs: u64,
    /// Share of them that the truth confirms.
    pub precision: f64,
    /// Share of the true pairs among them.
    pub recall: f64,
}

/// Thresholds at which the written scores are judged; 0.95 is the default
/// `autoConfirmThreshold`.
const JUDGED_THRESHOLDS: [f64; 6] = [0.5, 0.7, 0.8, 0.9, 0.95, 0.99];

/// The candidate requests of the last measurement, one JSON body per line, in the corpus
/// directory.
pub const CANDIDATE_REQUESTS_FILE: &str = "candidate-requests.jsonl";

/// The matcher's measurement: where the search API is and what to measure on.
#[derive(Debug, Clone, Copy)]
pub struct MatcherBench<'a> {
    /// Base URL of the running search API.
    pub search_url: &'a str,
    /// Its master key, sent as a bearer token.
    pub api_key: &'a str,
    /// The corpus directory, for the truth.
    pub corpus_dir: &'a Path,
    /// The corpus's options, for its profile ids.
    pub options: &'a CorpusOptions,
    /// Profiles to measure on; at least one.
    pub num_sample: usize,
}

/// Measures the matcher on `bench.num_sample` profiles of the corpus.
///
/// # Errors
/// Fails when the sample is empty, or when PostgreSQL, the search API or the truth files
/// fail.
pub async fn measure(
    pool: &PgPool,
    bench: &MatcherBench<'_>,
    variants: &GivenNameVariants,
) -> anyhow::Result<MatcherFigures> {
    let sample = sample_profiles(bench.options, bench.num_sample);
    // An empty list of profile ids asks the matcher for every profile.
    anyhow::ensure!(
        !sample.is_empty(),
        "no profile to measure the matcher on (`--matcher-profiles` is {}, the corpus has {} \
         profiles)",
        bench.num_sample,
        bench.options.num_profiles()
    );
    let truth = true_records(bench.corpus_dir, &sample)?;
    let client = SearchApiClient::new(
        bench.search_url,
        Some(bench.api_key.to_owned()),
        Duration::from_secs(300),
    )?;

    // The requests are kept beside the corpus, for `benches/replay_workload.py
    // --candidates` to replay against another build of the search API.
    let requests_path = bench.corpus_dir.join(CANDIDATE_REQUESTS_FILE);
    let mut requests_file = std::io::BufWriter::new(
        std::fs::File::create(&requests_path)
            .with_context(|| format!("creating {}", requests_path.display()))?,
    );
    let started = Instant::now();
    let mut found: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
    let batches: Vec<&[Uuid]> = sample.chunks(DEFAULT_BATCH_NUM_PROFILES).collect();
    // As `matcher run` does, the next batch's profiles load during this batch's request.
    let mut profiles = load_profiles(pool, batches[0], variants).await?;
    for index in 0..batches.len() {
        let request = CandidateRequest {
            profiles: profiles.iter().map(CandidateProfile::of).collect(),
            limit_per_profile: DEFAULT_LIMIT_PER_PROFILE,
            show_matches: false,
        };
        let next = async {
            match batches.get(index + 1) {
                Some(next) => load_profiles(pool, next, variants).await.map(Some),
                None => Ok(None),
            }
        };
        serde_json::to_writer(&mut requests_file, &request)?;
        requests_file.write_all(b"\n")?;
        let (response, next) = tokio::join!(client.candidates(&request), next);
        let response = response?;
        profiles = next?.unwrap_or_default();
        for result in response.results {
            let Ok(profile) = result.profile_id.parse::<Uuid>() else {
                continue;
            };
            found.insert(
                profile,
                result.hits.into_iter().map(|hit| hit.record_id).collect(),
            );
        }
    }
    let retrieval_secs = started.elapsed().as_secs_f64();
    requests_file.flush()?;

    // Another sample, so that no surname looked up above is cached by the search API.
    let other_sample = other_profiles(bench.options, &sample);
    let mut other_requests = Vec::new();
    for batch in other_sample.chunks(DEFAULT_BATCH_NUM_PROFILES) {
        let profiles = load_profiles(pool, batch, variants).await?;
        other_requests.push(CandidateRequest {
            profiles: profiles.iter().map(CandidateProfile::of).collect(),
            limit_per_profile: DEFAULT_LIMIT_PER_PROFILE,
            show_matches: false,
        });
    }
    let started = Instant::now();
    let mut answers = futures_util::stream::iter(&other_requests)
        .map(|request| client.candidates(request))
        .buffer_unordered(2);
    while let Some(answer) = answers.next().await {
        answer?;
    }
    let two_in_flight_secs = started.elapsed().as_secs_f64();

    let record_ids: Vec<Uuid> = found
        .values()
        .flatten()
        .filter_map(|id| id.parse().ok())
        .collect::<BTreeSet<Uuid>>()
        .into_iter()
        .collect();
    let keys: HashMap<Uuid, String> = sqlx::query_as::<_, (Uuid, String)>(
        "select id, source || ':' || source_id from raw_records where id = any($1)",
    )
    .bind(&record_ids)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let mut num_true_pairs = 0;
    let mut num_found_pairs = 0;
    for (profile, records) in &truth {
        let candidates: BTreeSet<&str> = found
            .get(profile)
            .into_iter()
            .flatten()
            .filter_map(|id| id.parse::<Uuid>().ok())
            .filter_map(|id| keys.get(&id).map(String::as_str))
            .collect();
        num_true_pairs += records.len() as u64;
        num_found_pairs += records
            .iter()
            .filter(|key| candidates.contains(key.as_str()))
            .count() as u64;
    }

    let pipeline_started = Instant::now();
    let run = matcher::pipeline::run(
        pool,
        &client,
        variants,
        &RunOptions {
            // Never empty (checked above): an empty list would match every profile.
            profile_ids: sample.clone(),
            auto_confirm: false,
            progress_bar: false,
            ..RunOptions::default()
        },
    )
    .await?;
    let pipeline_secs = pipeline_started.elapsed().as_secs_f64();
    let thresholds = judge_thresholds(pool, &sample, &truth, num_true_pairs).await?;

    let num_profiles = sample.len() as u64;
    let num_candidates: usize = found.values().map(Vec::len).sum();
    Ok(MatcherFigures {
        num_profiles,
        retrieval_profiles_per_sec: num_profiles as f64 / retrieval_secs.max(1e-9),
        retrieval_two_in_flight_profiles_per_sec: other_sample.len() as f64
            / two_in_flight_secs.max(1e-9),
        num_profiles_two_in_flight: other_sample.len() as u64,
        candidates_per_profile: num_candidates as f64 / num_profiles.max(1) as f64,
        num_true_pairs,
        candidate_recall: num_found_pairs as f64 / num_true_pairs.max(1) as f64,
        pipeline_profiles_per_sec: num_profiles as f64 / pipeline_secs.max(1e-9),
        num_candidates_written: run.write.num_inserted,
        thresholds,
    })
}

/// Judges the candidates written for `sample` at each of [`JUDGED_THRESHOLDS`].
async fn judge_thresholds(
    pool: &PgPool,
    sample: &[Uuid],
    truth: &BTreeMap<Uuid, Vec<String>>,
    num_true_pairs: u64,
) -> anyhow::Result<Vec<ThresholdFigures>> {
    let written: Vec<(Uuid, String, f64)> = sqlx::query_as(
        "select c.profile_id, r.source || ':' || r.source_id, c.match_score::float8
         from candidate_matches c
         join raw_records r on r.id = c.raw_record_id
         where c.profile_id = any($1)",
    )
    .bind(sample)
    .fetch_all(pool)
    .await?;
    let true_keys: BTreeSet<(Uuid, &str)> = truth
        .iter()
        .flat_map(|(profile, keys)| keys.iter().map(move |key| (*profile, key.as_str())))
        .collect();
    Ok(JUDGED_THRESHOLDS
        .iter()
        .map(|&threshold| {
            let above: Vec<bool> = written
                .iter()
                .filter(|(_, _, score)| *score >= threshold)
                .map(|(profile, key, _)| true_keys.contains(&(*profile, key.as_str())))
                .collect();
            let num_right = above.iter().filter(|is_right| **is_right).count();
            ThresholdFigures {
                threshold,
                num_pairs: above.len() as u64,
                precision: num_right as f64 / above.len().max(1) as f64,
                recall: num_right as f64 / num_true_pairs.max(1) as f64,
            }
        })
        .collect())
}

/// Returns `num_sample` distinct profile ids drawn evenly over the corpus's profiles.
fn sample_profiles(options: &CorpusOptions, num_sample: usize) -> Vec<Uuid> {
    draw_profiles(options, num_sample, 0, &BTreeSet::new())
}

/// Returns as many profiles as `sample` holds (fewer when the corpus has not that many
/// more), none of them in it.
fn other_profiles(options: &CorpusOptions, sample: &[Uuid]) -> Vec<Uuid> {
    draw_profiles(options, sample.len(), 1, &sample.iter().copied().collect())
}

/// Draws up to `num` profiles of the corpus, none of `taken`, from the seeded stream
/// `stream` of draws, in id order.
fn draw_profiles(
    options: &CorpusOptions,
    num: usize,
    stream: u64,
    taken: &BTreeSet<Uuid>,
) -> Vec<Uuid> {
    let num_profiles = options.num_profiles();
    let wanted = (num as u64).min(num_profiles - taken.len() as u64);
    let mut rng = SeededRng::for_entity(options.seed, "matcher-sample", stream);
    let mut numbers = BTreeSet::new();
    while (numbers.len() as u64) < wanted {
        let number = rng.below(num_profiles);
        if !taken.contains(&profile_id(options.seed, number)) {
            numbers.insert(number);
        }
    }
    numbers
        .into_iter()
        .map(|number| profile_id(options.seed, number))
        .collect()
}

/// Reads from the truth the records of each sampled profile.
fn true_records(corpus_dir: &Path, sample: &[Uuid]) -> anyhow::Result<BTreeMap<Uuid, Vec<String>>> {
    let wanted: BTreeSet<String> = sample.iter().map(Uuid::to_string).collect();
    let mut truth: BTreeMap<Uuid, Vec<String>> =
        sample.iter().map(|id| (*id, Vec::new())).collect();
    let path = corpus_dir.join(files::TRUTH_RECORDS);
    let file = std::fs::File::open(&path)
        .with_context(|| format!("failed to open `{}`", path.display()))?;
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("failed to read `{}`", path.display()))?;
        let record: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("`{}` line {}: malformed JSON", path.display(), index + 1))?;
        let Some(profiles) = record.get("profiles").and_then(|p| p.as_array()) else {
            continue;
        };
        for profile in profiles.iter().filter_map(|p| p.as_str()) {
            if !wanted.contains(profile) {
                continue;
            }
            let key = format!(
                "{}:{}",
                record["source"].as_str().unwrap_or_default(),
                record["source_id"].as_str().unwrap_or_default()
            );
            if let Ok(profile) = profile.parse::<Uuid>() {
                truth.entry(profile).or_default().push(key);
            }
        }
    }
    Ok(truth)
}
