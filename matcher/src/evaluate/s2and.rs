//! Candidate retrieval and auto-confirmation on S2AND Qian: each person (a cluster of
//! mentions) gets a profile built from part of their mentions, and the matcher runs, as in
//! production, through a search API started on the throwaway database, to find the rest.
//!
//! The mentions have no titles. Each becomes one raw record naming its author with the
//! affiliations the signature gives, written in the OpenAlex shape, because the records
//! index reads authors only from the sources it knows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use analyzers::GivenNameVariants;
use indexer::import::checksum::canonical_checksum;
use indexer::testing::TestDatabase;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::PrecisionRecall;
use crate::pipeline::{run, RunOptions, RunSummary};
use crate::retrieve::SearchApiClient;
use crate::score::ReasonKind;
use crate::{Error, Result};

/// Candidates per profile at which retrieval recall is reported.
pub const RECALL_CUTOFF: usize = 20;
/// Thresholds at which auto-confirmation is measured.
pub const THRESHOLDS: &[f64] = &[0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99];
/// Longest wait for the search API to build its indexes and answer.
const SEARCH_API_START_TIMEOUT: Duration = Duration::from_secs(600);

/// How the S2AND evaluation runs.
#[derive(Debug, Clone)]
pub struct S2andOptions {
    /// The folder with `signatures.json` and `clusters.json`.
    pub data_dir: PathBuf,
    /// The search-api binary to start.
    pub search_api_bin: PathBuf,
    /// Given-name variant tables passed to the search API; its default when empty.
    pub name_variant_paths: Vec<PathBuf>,
    /// Share of each person's mentions that builds the profile.
    pub profile_share: f64,
    /// Records asked per profile: more than [`RECALL_CUTOFF`], so that the matcher's own
    /// ranking decides the first ones.
    pub limit_per_profile: usize,
}

/// One author mention.
#[derive(Debug, Clone)]
struct Mention {
    signature_id: String,
    name: String,
    affiliations: Vec<String>,
}

/// What the S2AND evaluation measured.
#[derive(Debug, Clone)]
pub struct S2andReport {
    /// Mentions.
    pub num_mentions: u64,
    /// People, each a profile.
    pub num_profiles: u64,
    /// Mentions held out to be matched (from people with two mentions or more).
    pub num_held_out: u64,
    /// Held-out pairs among each profile's best [`RECALL_CUTOFF`] candidates.
    pub recall_at_cutoff: f64,
    /// Held-out pairs among all candidates written.
    pub recall_at_limit: f64,
    /// Records asked per profile.
    pub limit_per_profile: usize,
    /// Candidates written per profile.
    pub candidates_per_profile: f64,
    /// Auto-confirmation measured at each of [`THRESHOLDS`].
    pub by_threshold: Vec<(f64, PrecisionRecall)>,
    /// Precision per combination of evidence.
    pub by_evidence: Vec<(String, PrecisionRecall, f64)>,
    /// The matching run.
    pub run: RunSummary,
    /// Seconds the search API took to build its indexes and answer.
    pub search_api_start_secs: f64,
}

/// Runs the evaluation.
///
/// # Errors
/// Fails when the data cannot be read, the search API does not start, or PostgreSQL fails.
pub async fn evaluate(options: &S2andOptions, variants: &GivenNameVariants) -> Result<S2andReport> {
    let (mentions, clusters) = read_data(&options.data_dir)?;
    let database = TestDatabase::create().await;
    let record_of_signature = insert_records(&database.pool, &mentions).await?;
    let split = build_profiles(
        &database.pool,
        &mentions,
        &clusters,
        &record_of_signature,
        options.profile_share,
    )
    .await?;

    let index_dir = tempfile::tempdir()?;
    let started = Instant::now();
    let (mut child, base_url) = start_search_api(options, &database.url, index_dir.path()).await?;
    let client = SearchApiClient::new(&base_url, None, Duration::from_secs(300))?;
    let ready = wait_until_ready(&client).await;
    let search_api_start_secs = started.elapsed().as_secs_f64();
    if let Err(error) = ready {
        let _ = child.kill().await;
        return Err(error);
    }

    let run_options = RunOptions {
        limit_per_profile: options.limit_per_profile,
        auto_confirm: false,
        ..RunOptions::default()
    };
    let summary = run(&database.pool, &client, variants, &run_options).await;
    let _ = child.kill().await;
    let summary = summary?;

    let mut report = measure(
        &database.pool,
        &mentions,
        &split,
        summary,
        search_api_start_secs,
    )
    .await?;
    report.limit_per_profile = options.limit_per_profile;
    Ok(report)
}

/// The mentions by signature id, and each person's signature ids.
type MentionsAndClusters = (BTreeMap<String, Mention>, Vec<Vec<String>>);

fn read_data(dir: &Path) -> Result<MentionsAndClusters> {
    let read = |name: &str| -> Result<Value> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|error| Error::DataFile {
            path: path.clone(),
            reason: error.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|error| Error::DataFile {
            path,
            reason: error.to_string(),
        })
    };
    let signatures = read("signatures.json")?;
    let mut mentions = BTreeMap::new();
    for (signature_id, signature) in signatures.as_object().into_iter().flatten() {
        let info = &signature["author_info"];
        let part = |key: &str| {
            info.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
        };
        let name = [part("first"), part("middle"), part("last"), part("suffix")]
            .into_iter()
            .filter(|piece| !piece.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let affiliations = info
            .get("affiliations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        mentions.insert(
            signature_id.clone(),
            Mention {
                signature_id: signature_id.clone(),
                name,
                affiliations,
            },
        );
    }

    let clusters_json = read("clusters.json")?;
    let mut clusters: Vec<(u64, Vec<String>)> = clusters_json
        .as_object()
        .into_iter()
        .flatten()
        .map(|(cluster_id, cluster)| {
            let mut ids: Vec<String> = cluster["signature_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|id| mentions.contains_key(*id))
                .map(str::to_owned)
                .collect();
            ids.sort_by_key(|id| id.parse::<u64>().unwrap_or(u64::MAX));
            (cluster_id.parse().unwrap_or(u64::MAX), ids)
        })
        .filter(|(_, ids)| !ids.is_empty())
        .collect();
    clusters.sort();
    Ok((mentions, clusters.into_iter().map(|(_, ids)| ids).collect()))
}

fn record_data(mention: &Mention) -> Value {
    json!({
        "id": format!("s2and:{}", mention.signature_id),
        "title": null,
        "type": "article",
        "authorships": [{
            "author": {"display_name": mention.name},
            "raw_author_name": mention.name,
            "institutions": [],
            "raw_affiliation_strings": mention.affiliations,
        }],
    })
}

async fn insert_records(
    pool: &PgPool,
    mentions: &BTreeMap<String, Mention>,
) -> Result<HashMap<String, Uuid>> {
    let mut record_of_signature = HashMap::new();
    let all: Vec<&Mention> = mentions.values().collect();
    for chunk in all.chunks(1_000) {
        let source_ids: Vec<String> = chunk
            .iter()
            .map(|mention| format!("s2and:{}", mention.signature_id))
            .collect();
        let data: Vec<Value> = chunk.iter().map(|mention| record_data(mention)).collect();
        let checksums: Vec<String> = data.iter().map(canonical_checksum).collect();
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "insert into raw_records (source, source_id, entity_type, data, checksum)
             select 'openalex', source_id, 'work', data, checksum
             from unnest($1::text[], $2::jsonb[], $3::text[]) as t(source_id, data, checksum)
             returning id, source_id",
        )
        .bind(&source_ids)
        .bind(&data)
        .bind(&checksums)
        .fetch_all(pool)
        .await?;
        for (id, source_id) in rows {
            let signature_id = source_id.trim_start_matches("s2and:").to_owned();
            record_of_signature.insert(signature_id, id);
        }
    }
    Ok(record_of_signature)
}

/// Which profile each record truly belongs to, and which records were held out.
#[derive(Debug, Default)]
struct Split {
    profile_of_record: HashMap<Uuid, Uuid>,
    held_out: BTreeSet<(Uuid, Uuid)>,
    num_profiles: u64,
}

async fn build_profiles(
    pool: &PgPool,
    mentions: &BTreeMap<String, Mention>,
    clusters: &[Vec<String>],
    record_of_signature: &HashMap<String, Uuid>,
    profile_share: f64,
) -> Result<Split> {
    let mut split = Split::default();
    let mut transaction = pool.begin().await?;
    for signature_ids in clusters {
        let num_known = if signature_ids.len() == 1 {
            1
        } else {
            ((signature_ids.len() as f64 * profile_share).round() as usize)
                .clamp(1, signature_ids.len() - 1)
        };
        let (known, held_out) = signature_ids.split_at(num_known);
        let known_mentions: Vec<&Mention> = known.iter().map(|id| &mentions[id]).collect();
        let profile_id: Uuid = sqlx::query_scalar(
            "insert into author_profiles (display_name) values ($1) returning id",
        )
        .bind(&known_mentions[0].name)
        .fetch_one(&mut *transaction)
        .await?;
        split.num_profiles += 1;

        let mut identities: BTreeSet<(&str, &str)> = BTreeSet::new();
        for mention in &known_mentions {
            identities.insert(("name", mention.name.as_str()));
            for affiliation in &mention.affiliations {
                identities.insert(("affiliation", affiliation.as_str()));
            }
        }
        let kinds: Vec<&str> = identities.iter().map(|(kind, _)| *kind).collect();
        let values: Vec<&str> = identities.iter().map(|(_, value)| *value).collect();
        sqlx::query(
            "insert into profile_identities (profile_id, identifier_type, identifier_value)
             select $1, kind, value from unnest($2::text[], $3::text[]) as t(kind, value)
             where value <> ''",
        )
        .bind(profile_id)
        .bind(&kinds)
        .bind(&values)
        .execute(&mut *transaction)
        .await?;

        for signature_id in known {
            let record_id = record_of_signature[signature_id];
            let entry = json!([{
                "raw_record_id": record_id,
                "source": "openalex",
                "source_id": format!("s2and:{signature_id}"),
            }]);
            sqlx::query(
                "with work as (
                     insert into canonical_works (title, merged_from) values ('', $1) returning id
                 )
                 insert into work_authorships (work_id, profile_id, raw_contributions)
                 select id, $2, $1 from work",
            )
            .bind(&entry)
            .bind(profile_id)
            .execute(&mut *transaction)
            .await?;
            split.profile_of_record.insert(record_id, profile_id);
        }
        for signature_id in held_out {
            let record_id = record_of_signature[signature_id];
            split.profile_of_record.insert(record_id, profile_id);
            split.held_out.insert((record_id, profile_id));
        }
    }
    transaction.commit().await?;
    Ok(split)
}

async fn start_search_api(
    options: &S2andOptions,
    database_url: &str,
    index_dir: &Path,
) -> Result<(tokio::process::Child, String)> {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.local_addr()?.port()
    };
    let address = format!("127.0.0.1:{port}");
    let mut command = tokio::process::Command::new(&options.search_api_bin);
    command
        .env_remove("ATLAS_MASTER_KEY")
        .env("DATABASE_URL", database_url)
        .env("ATLAS_HTTP_ADDR", &address)
        .env("ATLAS_INDEX_DIR", index_dir)
        .env("ATLAS_ENV", "development")
        .env("ATLAS_CACHE_TTL_SECS", "0")
        .env("ATLAS_RATE_LIMIT_PER_MIN", "0")
        .env(
            "ATLAS_REDIS_KEY_PREFIX",
            format!("atlas-evaluate-{}:", Uuid::now_v7().simple()),
        )
        .env("ATLAS_LOG_FORMAT", "text")
        .env("ATLAS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if !options.name_variant_paths.is_empty() {
        let paths: Vec<String> = options
            .name_variant_paths
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        command.env("ATLAS_NAME_VARIANTS", paths.join(","));
    }
    let child = command.spawn().map_err(|error| {
        Error::InvalidInput(format!(
            "cannot start the search api `{}`: {error}; build it with `cargo build --release -p search-api` or set ATLAS_SEARCH_API_BIN",
            options.search_api_bin.display()
        ))
    })?;
    Ok((child, format!("http://{address}")))
}

async fn wait_until_ready(client: &SearchApiClient) -> Result<()> {
    let deadline = Instant::now() + SEARCH_API_START_TIMEOUT;
    loop {
        match client.probe().await {
            Ok(_) => return Ok(()),
            Err(error) if Instant::now() >= deadline => {
                return Err(Error::SearchApi(format!(
                    "the search api did not become ready: {error}"
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    raw_record_id: Uuid,
    profile_id: Uuid,
    score: f64,
    reasons: Value,
}

async fn measure(
    pool: &PgPool,
    mentions: &BTreeMap<String, Mention>,
    split: &Split,
    run_summary: RunSummary,
    search_api_start_secs: f64,
) -> Result<S2andReport> {
    let candidates: Vec<CandidateRow> = sqlx::query_as(
        "select raw_record_id, profile_id, match_score::float8 as score, match_reasons as reasons
         from candidate_matches order by profile_id, match_score desc, raw_record_id",
    )
    .fetch_all(pool)
    .await?;
    let is_true = |row: &CandidateRow| {
        split
            .held_out
            .contains(&(row.raw_record_id, row.profile_id))
    };
    let num_held_out = split.held_out.len() as u64;

    let mut rank_in_profile: HashMap<Uuid, usize> = HashMap::new();
    let mut num_found_at_cutoff = 0;
    let mut num_found = 0;
    for row in &candidates {
        let rank = rank_in_profile.entry(row.profile_id).or_default();
        *rank += 1;
        if is_true(row) {
            num_found += 1;
            if *rank <= RECALL_CUTOFF {
                num_found_at_cutoff += 1;
            }
        }
    }

    let by_threshold = THRESHOLDS
        .iter()
        .map(|threshold| {
            let above: Vec<&CandidateRow> = candidates
                .iter()
                .filter(|row| row.score >= *threshold)
                .collect();
            (
                *threshold,
                PrecisionRecall {
                    num_true_positives: above.iter().filter(|row| is_true(row)).count() as u64,
                    num_predicted: above.len() as u64,
                    num_actual: num_held_out,
                },
            )
        })
        .collect();

    let mut by_evidence: BTreeMap<String, (PrecisionRecall, f64)> = BTreeMap::new();
    for row in &candidates {
        let entry = by_evidence
            .entry(evidence_signature(&row.reasons))
            .or_default();
        entry.0.num_predicted += 1;
        entry.0.num_true_positives += u64::from(is_true(row));
        entry.0.num_actual = num_held_out;
        entry.1 = entry.1.max(row.score);
    }
    let mut by_evidence: Vec<(String, PrecisionRecall, f64)> = by_evidence
        .into_iter()
        .map(|(signature, (counts, max_score))| (signature, counts, max_score))
        .collect();
    by_evidence.sort_by(|first, second| second.2.total_cmp(&first.2).then(first.0.cmp(&second.0)));

    Ok(S2andReport {
        num_mentions: mentions.len() as u64,
        num_profiles: split.num_profiles,
        num_held_out,
        recall_at_cutoff: super::ratio(num_found_at_cutoff, num_held_out),
        recall_at_limit: super::ratio(num_found, num_held_out),
        limit_per_profile: 0,
        candidates_per_profile: super::ratio(candidates.len() as u64, split.num_profiles),
        by_threshold,
        by_evidence,
        run: run_summary,
        search_api_start_secs,
    })
}

/// Returns the kinds of evidence of a pair, with how names agree: `name_agrees:full +
/// affiliation_agrees`.
fn evidence_signature(reasons: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    for reason in reasons.as_array().into_iter().flatten() {
        let kind: Option<ReasonKind> = serde_json::from_value(reason["type"].clone()).ok();
        let Some(kind) = kind else { continue };
        let label = reason["type"].as_str().unwrap_or_default();
        if kind == ReasonKind::NameAgrees {
            let detail = reason["detail"].as_str().unwrap_or_default();
            let how = detail.split(':').next().unwrap_or_default();
            let typo = if detail.contains("typo") { "+typo" } else { "" };
            parts.push(format!("{label}:{how}{typo}"));
        } else {
            parts.push(label.to_owned());
        }
    }
    parts.join(" + ")
}

impl S2andReport {
    /// Returns the report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut text = format!(
            "### S2AND Qian: candidates and auto-confirmation\n\n\
             {} mentions of {} people; one profile per person from part of their mentions, \
             {} mentions held out and matched.\n\n\
             | measure | value |\n|---|---|\n\
             | candidate recall at {} | {:.4} |\n\
             | candidate recall at {} (all retrieved) | {:.4} |\n\
             | candidates per profile | {:.1} |\n\
             | matching run | {} profiles, {} records retrieved, {:.1} s (search api start {:.1} s) |\n\n\
             | threshold | auto-confirmed pairs | precision | recall |\n|---|---|---|---|\n",
            self.num_mentions,
            self.num_profiles,
            self.num_held_out,
            RECALL_CUTOFF,
            self.recall_at_cutoff,
            self.limit_per_profile,
            self.recall_at_limit,
            self.candidates_per_profile,
            self.run.num_profiles,
            self.run.num_hits,
            self.run.elapsed_secs,
            self.search_api_start_secs,
        );
        for (threshold, counts) in &self.by_threshold {
            text.push_str(&format!(
                "| {threshold:.2} | {} | {:.4} | {:.4} |\n",
                counts.num_predicted,
                counts.precision(),
                counts.recall()
            ));
        }
        text.push_str("\n| evidence | pairs | precision | highest score |\n|---|---|---|---|\n");
        for (signature, counts, max_score) in &self.by_evidence {
            text.push_str(&format!(
                "| {signature} | {} | {:.4} | {max_score:.3} |\n",
                counts.num_predicted,
                counts.precision()
            ));
        }
        text
    }
}
