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
    /// Relevance against the judgments (from the first concurrency's answers).
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
    /// PostgreSQL's own search.
    pub postgres: EngineFigures,
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
            ..Report::default()
        }
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
        }
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
        out
    }

    fn search_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| class | conc. | search-api p50 / p95 / p99 ms | req/s | PostgreSQL p50 / p95 / p99 ms | req/s | PostgreSQL p50 ÷ search-api p50 |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        for ours in &self.search_api.classes {
            let theirs = self
                .postgres
                .classes
                .iter()
                .find(|class| class.class == ours.class);
            for (index, cell) in ours.cells.iter().enumerate() {
                let other = theirs.and_then(|theirs| theirs.cells.get(index));
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.0} | {} | {} | {} |",
                    ours.class.name(),
                    cell.concurrency,
                    latencies(cell),
                    cell.per_sec,
                    other.map_or_else(|| "-".to_owned(), latencies),
                    other.map_or_else(|| "-".to_owned(), |other| format!("{:.1}", other.per_sec)),
                    other.map_or_else(
                        || "-".to_owned(),
                        |other| format!("{:.2}×", other.p50_ms / cell.p50_ms)
                    ),
                );
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| class | queries | search-api recall@10 | MRR | PostgreSQL recall@10 | MRR |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for ours in &self.search_api.classes {
            let theirs = self
                .postgres
                .classes
                .iter()
                .find(|class| class.class == ours.class)
                .map(|class| &class.relevance);
            let facets = |relevance: &Relevance| {
                relevance
                    .facets_exact
                    .map(|share| format!(" (facets exact {:.0}%)", share * 100.0))
                    .unwrap_or_default()
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.3}{} | {:.3} | {} | {} |",
                ours.class.name(),
                ours.num_queries,
                ours.relevance.recall_at_10,
                facets(&ours.relevance),
                ours.relevance.mrr,
                theirs.map_or_else(
                    || "-".to_owned(),
                    |r| format!("{:.3}{}", r.recall_at_10, facets(r))
                ),
                theirs.map_or_else(|| "-".to_owned(), |r| format!("{:.3}", r.mrr)),
            );
        }
        out
    }
}

fn latencies(cell: &CellFigures) -> String {
    let cut = if cell.cut_by_budget { "*" } else { "" };
    format!(
        "{:.1} / {:.1} / {:.1}{cut}",
        cell.p50_ms, cell.p95_ms, cell.p99_ms
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
