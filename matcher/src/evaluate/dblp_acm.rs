//! Work grouping on DBLP-ACM: the benchmark's two tables are imported into a throwaway
//! database as the indexer imports them, grouped by [`crate::group`] exactly as in
//! production, and the resulting canonical works are compared with `matches.csv`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use indexer::import::formats::Format;
use indexer::import::{import_files, ImportOptions};
use indexer::testing::TestDatabase;
use serde_json::Value;

use super::PrecisionRecall;
use crate::group::{self, run_grouping, GroupSummary};
use crate::{Error, Result};

/// What the DBLP-ACM evaluation measured.
#[derive(Debug, Clone)]
pub struct DblpAcmReport {
    /// Records imported (DBLP + ACM).
    pub num_records: u64,
    /// True (DBLP, ACM) pairs in `matches.csv`.
    pub num_true_pairs: u64,
    /// Cross-source pairs of the canonical works against the true pairs.
    pub grouping: PrecisionRecall,
    /// True pairs among the pairs blocking proposed (pair completeness).
    pub blocking: PrecisionRecall,
    /// Candidate pairs per record: each record proposes at most
    /// [`crate::group::block::MAX_CANDIDATES_PER_RECORD`].
    pub candidates_per_record: f64,
    /// Records each record is compared with on average (proposed by it or proposing it).
    pub comparisons_per_record: f64,
    /// Most pairs one record took part in.
    pub max_candidates_per_record: u64,
    /// Pairs grouped within one source (not judged by the benchmark).
    pub num_same_source_pairs: u64,
    /// The first grouping run.
    pub first_run: GroupSummary,
    /// The second run on unchanged data, which must change nothing.
    pub second_run: GroupSummary,
}

/// Runs the evaluation on the benchmark in `dir` (`dblp.csv`, `acm.csv`, `matches.csv`).
///
/// # Errors
/// Fails when the files cannot be read or PostgreSQL fails.
pub async fn evaluate(dir: &Path) -> Result<DblpAcmReport> {
    let database = TestDatabase::create().await;
    let paths = vec![dir.join("dblp.csv"), dir.join("acm.csv")];
    let imported = import_files(
        &database.pool,
        Format::DblpAcm,
        &paths,
        &ImportOptions::default(),
    )
    .await?;
    let true_pairs = read_true_pairs(&dir.join("matches.csv"))?;

    let (records, existing, _) = group::load(&database.pool).await?;
    let plan = group::plan(&records, &existing);
    let key_of = |index: usize| {
        (
            records[index].source.clone(),
            records[index].source_id.clone(),
        )
    };
    let mut num_pairs_per_record: BTreeMap<usize, u64> = BTreeMap::new();
    let mut blocked_pairs: BTreeSet<(String, String)> = BTreeSet::new();
    for (first, second) in &plan.candidate_pairs {
        *num_pairs_per_record.entry(*first).or_default() += 1;
        *num_pairs_per_record.entry(*second).or_default() += 1;
        if let Some(pair) = cross_pair(&key_of(*first), &key_of(*second)) {
            blocked_pairs.insert(pair);
        }
    }
    let blocking = PrecisionRecall {
        num_true_positives: blocked_pairs.intersection(&true_pairs).count() as u64,
        num_predicted: blocked_pairs.len() as u64,
        num_actual: true_pairs.len() as u64,
    };

    let first_run = run_grouping(&database.pool).await?;
    let second_run = run_grouping(&database.pool).await?;

    let works: Vec<Value> = sqlx::query_scalar("select merged_from from canonical_works")
        .fetch_all(&database.pool)
        .await?;
    let mut grouped_pairs: BTreeSet<(String, String)> = BTreeSet::new();
    let mut num_same_source_pairs = 0;
    for merged_from in works {
        let members: Vec<(String, String)> = merged_from
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let source = entry.get("source")?.as_str()?.to_owned();
                let source_id = entry.get("source_id")?.as_str()?.to_owned();
                Some((source, source_id))
            })
            .collect();
        for (index, first) in members.iter().enumerate() {
            for second in &members[index + 1..] {
                match cross_pair(first, second) {
                    Some(pair) => {
                        grouped_pairs.insert(pair);
                    }
                    None => num_same_source_pairs += 1,
                }
            }
        }
    }
    for (dblp_id, acm_id) in grouped_pairs.difference(&true_pairs) {
        tracing::debug!(%dblp_id, %acm_id, "grouped but not a true pair");
    }
    for (dblp_id, acm_id) in true_pairs.difference(&grouped_pairs) {
        tracing::debug!(%dblp_id, %acm_id, "true pair not grouped");
    }
    let grouping = PrecisionRecall {
        num_true_positives: grouped_pairs.intersection(&true_pairs).count() as u64,
        num_predicted: grouped_pairs.len() as u64,
        num_actual: true_pairs.len() as u64,
    };

    let num_records = imported.num_inserted;
    Ok(DblpAcmReport {
        num_records,
        num_true_pairs: true_pairs.len() as u64,
        grouping,
        blocking,
        candidates_per_record: super::ratio(
            plan.candidate_pairs.len() as u64,
            records.len() as u64,
        ),
        comparisons_per_record: super::ratio(
            2 * plan.candidate_pairs.len() as u64,
            records.len() as u64,
        ),
        max_candidates_per_record: num_pairs_per_record.values().copied().max().unwrap_or(0),
        num_same_source_pairs,
        first_run,
        second_run,
    })
}

/// Returns `(dblp id, acm id)` for a pair across the two sources.
fn cross_pair(first: &(String, String), second: &(String, String)) -> Option<(String, String)> {
    match (first.0.as_str(), second.0.as_str()) {
        ("dblp", "acm") => Some((first.1.clone(), second.1.clone())),
        ("acm", "dblp") => Some((second.1.clone(), first.1.clone())),
        _ => None,
    }
}

fn read_true_pairs(path: &Path) -> Result<BTreeSet<(String, String)>> {
    let file_error = |reason: String| Error::DataFile {
        path: path.to_owned(),
        reason,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|error| file_error(error.to_string()))?;
    let mut pairs = BTreeSet::new();
    for row in reader.records() {
        let row = row.map_err(|error| file_error(error.to_string()))?;
        if let (Some(dblp_id), Some(acm_id)) = (row.get(0), row.get(1)) {
            pairs.insert((dblp_id.trim().to_owned(), acm_id.trim().to_owned()));
        }
    }
    Ok(pairs)
}

impl DblpAcmReport {
    /// Returns the report as Markdown.
    pub fn to_markdown(&self) -> String {
        format!(
            "### DBLP-ACM work grouping\n\n\
             {} records, {} true (DBLP, ACM) pairs.\n\n\
             | measure | value |\n|---|---|\n\
             | grouping precision | {:.4} ({} of {} grouped cross-source pairs) |\n\
             | grouping recall | {:.4} ({} of {} true pairs) |\n\
             | grouping F1 | {:.4} |\n\
             | candidate recall (pair completeness of blocking) | {:.4} |\n\
             | candidate pairs per record (each record proposes at most {}) | {:.2} |\n\
             | records each record is compared with | {:.2} on average, {} at most |\n\
             | pairs grouped within one source (not judged) | {} |\n\
             | first run | {} works created, {} pairs joined by title, {:.1} s |\n\
             | second run on the same data | {} created, {} updated, {} merged, {} unchanged |\n",
            self.num_records,
            self.num_true_pairs,
            self.grouping.precision(),
            self.grouping.num_true_positives,
            self.grouping.num_predicted,
            self.grouping.recall(),
            self.grouping.num_true_positives,
            self.grouping.num_actual,
            self.grouping.f1(),
            self.blocking.recall(),
            group::block::MAX_CANDIDATES_PER_RECORD,
            self.candidates_per_record,
            self.comparisons_per_record,
            self.max_candidates_per_record,
            self.num_same_source_pairs,
            self.first_run.num_works_created,
            self.first_run.num_fuzzy_joins,
            self.first_run.elapsed_secs,
            self.second_run.num_works_created,
            self.second_run.num_works_updated,
            self.second_run.num_works_merged,
            self.second_run.num_works_unchanged,
        )
    }
}
