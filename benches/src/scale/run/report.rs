//! The figures of a run: a JSON document for machines and Markdown tables for
//! `BENCHMARKS.md`.

use std::fmt::Write;

use serde::Serialize;

use super::load::{CellFigures, Relevance};
use super::matching::MatcherFigures;
use super::RunOptions;
use crate::follow::FollowFigures;
use crate::scale::corpus::Manifest;
use crate::scale::profiles::ProfilesWritten;
use crate::scale::workload::QueryClass;

/// The import of one source file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportFigures {
    /// The source.
    pub source: String,
    /// Records in the file.
    pub num_records: u64,
    /// Records the importer inserted.
    pub num_inserted: u64,
    /// Bytes of the file.
    pub num_bytes: u64,
    /// Seconds.
    pub secs: f64,
    /// Records inserted per second.
    pub records_per_sec: f64,
    /// Megabytes (10^6) read per second.
    pub mb_per_sec: f64,
}

/// The bulk index build.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildFigures {
    /// Documents of the `records` index.
    pub num_record_docs: u64,
    /// Documents of every index (records and profiles; no work is grouped yet).
    pub num_docs: u64,
    /// Seconds, process start to exit.
    pub secs: f64,
    /// Documents per second.
    pub docs_per_sec: f64,
    /// Peak resident memory of `indexer build` (`VmHWM`, sampled every 50 ms); none when
    /// built in process.
    pub peak_rss_num_bytes: Option<u64>,
    /// Bytes of every index on disk.
    pub index_num_bytes: u64,
    /// Bytes of the `records` index.
    pub records_index_num_bytes: u64,
    /// Bytes of the source files.
    pub raw_json_num_bytes: u64,
}

/// One query class on one engine.
#[derive(Debug, Clone, Serialize)]
pub struct ClassFigures {
    /// The class.
    pub class: QueryClass,
    /// Queries of the class.
    pub num_queries: u64,
    /// One entry per concurrency.
    pub cells: Vec<CellFigures>,
    /// Relevance against the judgments (from the first concurrency's answers; queries it
    /// did not answer are not judged).
    pub relevance: Relevance,
}

/// Every class on one engine.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EngineFigures {
    /// One entry per class.
    pub classes: Vec<ClassFigures>,
}

/// Everything a run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// When the run ended (UTC).
    pub date: String,
    /// The machine.
    pub machine: String,
    /// The command.
    pub command: String,
    /// Size name.
    pub size: String,
    /// Seed.
    pub seed: u64,
    /// Records of the corpus.
    pub num_records: u64,
    /// Works of the corpus.
    pub num_works: u64,
    /// Profiles of the corpus.
    pub num_profiles: u64,
    /// Bytes of the source files.
    pub num_source_bytes: u64,
    /// Seconds generation took, when the corpus was not reused.
    pub generate_secs: Option<f64>,
    /// Shards of each index.
    pub num_shards: usize,
    /// Seconds after which a search cell sends no more requests.
    pub cell_budget_secs: u64,
    /// Profiles written into PostgreSQL.
    pub profiles: ProfilesWritten,
    /// Import per source.
    pub import: Vec<ImportFigures>,
    /// Index build.
    pub build: BuildFigures,
    /// Change to searchable.
    pub follow: FollowFigures,
    /// The search API over HTTP.
    pub search_api: EngineFigures,
    /// Seconds setting up PostgreSQL's own search took (table and indexes).
    pub pg_setup_secs: f64,
    /// PostgreSQL's own search, each class with the query that suits it.
    pub postgres: EngineFigures,
    /// The title classes through one PostgreSQL title search, as a search box that cannot
    /// tell a title typed with a typo from one cut while typing runs them.
    pub postgres_title_search: EngineFigures,
    /// The matcher.
    pub matcher: MatcherFigures,
    /// Why the matcher could not be measured, if it could not.
    pub matcher_error: Option<String>,
    /// Peak resident memory of the search API (`VmHWM`) at the end of the run.
    pub search_api_peak_rss_num_bytes: Option<u64>,
    /// Whether the search API ran in the harness's process (its memory then includes
    /// the harness's).
    pub search_api_in_process: bool,
    /// The machine's load averages (1, 5, 15 minutes) when the run ended: other work on
    /// the same cores shows here.
    pub load_average: String,
}

impl Report {
    /// Returns a report with the run's description filled in.
    pub fn new(options: &RunOptions, manifest: &Manifest) -> Report {
        Report {
            machine: crate::machine_description(),
            command: options.command.clone(),
            size: options.size.label(),
            seed: options.seed,
            num_records: manifest.num_records(),
            num_works: manifest.num_works,
            num_profiles: manifest.num_profiles,
            num_source_bytes: manifest.num_bytes(),
            num_shards: options.num_shards,
            cell_budget_secs: options.cell_budget.as_secs(),
            ..Report::default()
        }
    }

    /// Returns one line per measurement that failed: each search cell with failed
    /// requests, and the matcher when it could not be measured. A run with any exits
    /// non-zero.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for (engine_name, engine) in [
            ("search-api", &self.search_api),
            ("PostgreSQL", &self.postgres),
            ("PostgreSQL title search", &self.postgres_title_search),
        ] {
            for class in &engine.classes {
                for cell in class.cells.iter().filter(|cell| cell.num_errors > 0) {
                    failures.push(format!(
                        "{engine_name} {} at concurrency {}: {} of {} requests failed; the \
                         first: {}",
                        class.class.name(),
                        cell.concurrency,
                        cell.num_errors,
                        cell.num_errors + cell.num_requests,
                        cell.first_error.as_deref().unwrap_or("unknown")
                    ));
                }
            }
        }
        if let Some(error) = &self.matcher_error {
            failures.push(format!("matcher not measured: {error}"));
        }
        failures
    }

    /// Stamps the date and the machine's load.
    pub fn finish(&mut self) {
        self.date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
        self.load_average = std::fs::read_to_string("/proc/loadavg")
            .map(|text| {
                text.split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
    }

    /// Returns the report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let mb = |bytes: u64| bytes as f64 / 1e6;
        let _ = writeln!(out, "date: {}", self.date);
        let _ = writeln!(
            out,
            "machine: {} (load average at the end: {})",
            self.machine, self.load_average
        );
        let _ = writeln!(out, "command: {}", self.command);
        let _ = writeln!(
            out,
            "settings: {} shards per index, search cells stop sending after {} s",
            self.num_shards, self.cell_budget_secs
        );
        let _ = writeln!(
            out,
            "data: size {} (seed {}): {} records of {} works, {} profiles ({} identities), {:.1} MB of source files",
            self.size,
            self.seed,
            self.num_records,
            self.num_works,
            self.num_profiles,
            self.profiles.num_identities,
            mb(self.num_source_bytes)
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| import | records | MB | seconds | records/s | MB/s |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        let total = total_import(&self.import);
        for figures in self.import.iter().chain(std::iter::once(&total)) {
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} | {:.1} | {:.0} | {:.2} |",
                figures.source,
                figures.num_inserted,
                mb(figures.num_bytes),
                figures.secs,
                figures.records_per_sec,
                figures.mb_per_sec
            );
        }
        let _ = writeln!(out);
        let build = &self.build;
        let _ = writeln!(
            out,
            "| index build | documents | seconds | documents/s | peak RSS MB | index MB (records) | source MB |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            out,
            "| `indexer build` | {} | {:.1} | {:.0} | {} | {:.1} ({:.1}) | {:.1} |",
            build.num_docs,
            build.secs,
            build.docs_per_sec,
            build.peak_rss_num_bytes.map_or_else(
                || "in process".to_owned(),
                |bytes| format!("{:.0}", mb(bytes))
            ),
            mb(build.index_num_bytes),
            mb(build.records_index_num_bytes),
            mb(build.raw_json_num_bytes)
        );
        let _ = writeln!(out);
        let follow = &self.follow;
        let _ = writeln!(
            out,
            "| change to searchable | changes | unseen | p50 ms | p90 ms | p99 ms | max ms |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            out,
            "| follower, 500 ms commits | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
            follow.num_changes,
            follow.num_unseen,
            follow.p50_ms,
            follow.p90_ms,
            follow.p99_ms,
            follow.max_ms
        );
        let _ = writeln!(out);
        out.push_str(&self.search_table());
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "PostgreSQL search set up (table, trigram and full-text GIN indexes) in {:.1} s",
            self.pg_setup_secs
        );
        let _ = writeln!(out);
        if let Some(error) = &self.matcher_error {
            let _ = writeln!(out, "matcher not measured: {error}");
            let _ = writeln!(out);
        } else {
            out.push_str(&self.matcher_tables());
        }
        let _ = writeln!(
            out,
            "search-api peak RSS (VmHWM): {}",
            self.search_api_peak_rss_num_bytes.map_or_else(
                || "unknown".to_owned(),
                |bytes| format!(
                    "{:.0} MB{}",
                    mb(bytes),
                    if self.search_api_in_process {
                        " (in process, with the harness)"
                    } else {
                        ""
                    }
                )
            )
        );
        let failures = self.failures();
        if !failures.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "failed, so the figures above are incomplete (the run exits non-zero):"
            );
            for failure in failures {
                let _ = writeln!(out, "- {failure}");
            }
        }
        out
    }

    fn matcher_tables(&self) -> String {
        let mut out = String::new();
        let matcher = &self.matcher;
        let _ = writeln!(
            out,
            "| matcher | profiles | profiles/s | candidates/profile | true pairs | candidate recall |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            out,
            "| retrieval (`POST /candidates`) | {} | {:.0} | {:.1} | {} | {:.4} |",
            matcher.num_profiles,
            matcher.retrieval_profiles_per_sec,
            matcher.candidates_per_profile,
            matcher.num_true_pairs,
            matcher.candidate_recall
        );
        let _ = writeln!(
            out,
            "| retrieval, two requests in flight (other profiles) | {} | {:.0} | | | |",
            matcher.num_profiles_two_in_flight, matcher.retrieval_two_in_flight_profiles_per_sec
        );
        let _ = writeln!(
            out,
            "| retrieve, score, write ({} candidates) | {} | {:.0} | | | |",
            matcher.num_candidates_written, matcher.num_profiles, matcher.pipeline_profiles_per_sec
        );
        let _ = writeln!(out);
        if !matcher.thresholds.is_empty() {
            let _ = writeln!(
                out,
                "| candidates scoring at least | pairs | precision | recall |"
            );
            let _ = writeln!(out, "|---:|---:|---:|---:|");
            for figures in &matcher.thresholds {
                let _ = writeln!(
                    out,
                    "| {:.2} | {} | {:.4} | {:.4} |",
                    figures.threshold, figures.num_pairs, figures.precision, figures.recall
                );
            }
            let _ = writeln!(out);
        }
        out
    }

    fn search_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| class | conc. | search-api p50 / p95 / p99 ms | req/s | errors | degraded | PostgreSQL p50 / p95 / p99 ms | req/s | errors | PostgreSQL p50 ÷ search-api p50 |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        let mut any_cut_by_budget = false;
        for ours in &self.search_api.classes {
            let theirs = class(&self.postgres, ours.class);
            for (index, cell) in ours.cells.iter().enumerate() {
                let other = theirs.and_then(|theirs| theirs.cells.get(index));
                any_cut_by_budget |= cell.cut_by_budget || other.is_some_and(|o| o.cut_by_budget);
                let ratio = ratio(cell, other);
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {ratio} |",
                    ours.class.name(),
                    cell.concurrency,
                    latencies(cell),
                    per_sec(cell, 0),
                    cell.num_errors,
                    cell.num_degraded,
                    other.map_or_else(|| "-".to_owned(), latencies),
                    other.map_or_else(|| "-".to_owned(), |other| per_sec(other, 1)),
                    other.map_or_else(|| "-".to_owned(), |other| other.num_errors.to_string()),
                );
            }
        }
        if any_cut_by_budget {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "`*`: the cell's budget ran out before it had sent all its requests."
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| class | queries | search-api recall@10 | MRR | PostgreSQL recall@10 | MRR |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for ours in &self.search_api.classes {
            let (our_recall, our_mrr) = relevance_cells(&ours.relevance, ours.num_queries);
            let (their_recall, their_mrr) = class(&self.postgres, ours.class).map_or_else(
                || ("-".to_owned(), "-".to_owned()),
                |theirs| relevance_cells(&theirs.relevance, theirs.num_queries),
            );
            let _ = writeln!(
                out,
                "| {} | {} | {our_recall} | {our_mrr} | {their_recall} | {their_mrr} |",
                ours.class.name(),
                ours.num_queries,
            );
        }
        if !self.postgres_title_search.classes.is_empty() {
            out.push('\n');
            out.push_str(&self.title_search_table());
        }
        out
    }

    /// The title classes against one PostgreSQL title search for both.
    fn title_search_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Titles through one PostgreSQL title search (prefix `tsquery` or trigram `%`, \
             ordered by `word_similarity`), as a search box that cannot tell the classes \
             apart runs them:"
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| class | conc. | search-api p50 / p95 / p99 ms | PostgreSQL title search p50 / p95 / p99 ms | req/s | errors | PostgreSQL p50 ÷ search-api p50 |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        for theirs in &self.postgres_title_search.classes {
            let Some(ours) = class(&self.search_api, theirs.class) else {
                continue;
            };
            for (index, other) in theirs.cells.iter().enumerate() {
                let cell = ours.cells.get(index);
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    theirs.class.name(),
                    other.concurrency,
                    cell.map_or_else(|| "-".to_owned(), latencies),
                    latencies(other),
                    per_sec(other, 1),
                    other.num_errors,
                    cell.map_or_else(|| "-".to_owned(), |cell| ratio(cell, Some(other))),
                );
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| class | queries | PostgreSQL title search recall@10 | MRR |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for theirs in &self.postgres_title_search.classes {
            let (recall, mrr) = relevance_cells(&theirs.relevance, theirs.num_queries);
            let _ = writeln!(
                out,
                "| {} | {} | {recall} | {mrr} |",
                theirs.class.name(),
                theirs.num_queries
            );
        }
        out
    }
}

/// Returns how many times faster the search API's median is than the other engine's, or
/// "-" when either was not measured.
fn ratio(ours: &CellFigures, theirs: Option<&CellFigures>) -> String {
    match theirs {
        Some(theirs) if is_measured(ours) && is_measured(theirs) => {
            format!("{:.2}×", theirs.p50_ms / ours.p50_ms)
        }
        _ => "-".to_owned(),
    }
}

/// Whether any request of the cell was answered, so that its latencies mean something.
fn is_measured(cell: &CellFigures) -> bool {
    cell.num_requests > 0
}

fn latencies(cell: &CellFigures) -> String {
    if !is_measured(cell) {
        return "not measured".to_owned();
    }
    let cut = if cell.cut_by_budget { "*" } else { "" };
    format!(
        "{:.1} / {:.1} / {:.1}{cut}",
        cell.p50_ms, cell.p95_ms, cell.p99_ms
    )
}

fn per_sec(cell: &CellFigures, num_decimals: usize) -> String {
    if !is_measured(cell) {
        return "-".to_owned();
    }
    format!("{:.num_decimals$}", cell.per_sec)
}

/// Returns the recall@10 and MRR cells of one class: "not measured" when no query was
/// answered, and the number judged when some were not.
fn relevance_cells(relevance: &Relevance, num_queries: u64) -> (String, String) {
    if relevance.num_queries == 0 {
        return ("not measured".to_owned(), "-".to_owned());
    }
    let facets = relevance
        .facets_exact
        .map(|share| format!(" (facets exact {:.0}%)", share * 100.0))
        .unwrap_or_default();
    let judged = if relevance.num_queries < num_queries {
        format!(" ({} judged)", relevance.num_queries)
    } else {
        String::new()
    };
    (
        format!("{:.3}{facets}{judged}", relevance.recall_at_10),
        format!("{:.3}", relevance.mrr),
    )
}

/// Returns the import of every source together.
pub fn total_import(import: &[ImportFigures]) -> ImportFigures {
    let mut total = ImportFigures {
        source: "all".to_owned(),
        ..ImportFigures::default()
    };
    for figures in import {
        total.num_records += figures.num_records;
        total.num_inserted += figures.num_inserted;
        total.num_bytes += figures.num_bytes;
        total.secs += figures.secs;
    }
    total.records_per_sec = total.num_inserted as f64 / total.secs.max(1e-9);
    total.mb_per_sec = total.num_bytes as f64 / 1e6 / total.secs.max(1e-9);
    total
}

/// Returns the figures of `class` on one engine.
pub fn class(figures: &EngineFigures, class: QueryClass) -> Option<&ClassFigures> {
    figures
        .classes
        .iter()
        .find(|figures| figures.class == class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(num_requests: u64, num_errors: u64) -> CellFigures {
        let latency = if num_requests > 0 { 5.0 } else { f64::NAN };
        CellFigures {
            concurrency: 1,
            num_requests,
            num_errors,
            first_error: (num_errors > 0).then(|| "search answered 401 Unauthorized".to_owned()),
            num_degraded: 0,
            p50_ms: latency,
            p95_ms: latency,
            p99_ms: latency,
            per_sec: num_requests as f64,
            cut_by_budget: false,
        }
    }

    fn engine(cell: CellFigures, num_judged: u64) -> EngineFigures {
        EngineFigures {
            classes: vec![ClassFigures {
                class: QueryClass::TitleTypo,
                num_queries: 12,
                cells: vec![cell],
                relevance: Relevance {
                    num_queries: num_judged,
                    recall_at_10: if num_judged > 0 { 0.5 } else { 0.0 },
                    ..Relevance::default()
                },
            }],
        }
    }

    /// Every search answered 401 and the table showed NaN and recall 0.000 for a run
    /// that exited 0: a stage that failed shows "not measured" and is listed as failed.
    #[test]
    fn failed_stages_are_not_measured_and_listed_rather_than_zeros() {
        let report = Report {
            search_api: engine(cell(0, 12), 0),
            postgres: engine(cell(12, 0), 12),
            postgres_title_search: engine(cell(12, 0), 12),
            matcher_error: Some("pool timed out".to_owned()),
            ..Report::default()
        };
        let markdown = report.to_markdown();
        assert!(
            markdown.contains("| title_typo | 1 | not measured | - | 12 | 0 | 5.0 / 5.0 / 5.0 |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| title_typo | 12 | not measured | - | 0.500 |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| title_typo | 1 | not measured | 5.0 / 5.0 / 5.0 | 12.0 | 0 | - |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| title_typo | 12 | 0.500 |"),
            "{markdown}"
        );
        assert!(!markdown.contains("NaN"), "{markdown}");
        assert!(
            markdown.contains("matcher not measured: pool timed out"),
            "{markdown}"
        );
        assert!(!markdown.contains("| matcher |"), "{markdown}");
        assert_eq!(
            report.failures(),
            [
                "search-api title_typo at concurrency 1: 12 of 12 requests failed; the first: \
                 search answered 401 Unauthorized",
                "matcher not measured: pool timed out",
            ]
        );
    }
}
