//! The harness: one run measures import, index build, change-to-searchable delay, search
//! over HTTP against PostgreSQL's own search, the matcher and the search API's memory on
//! one corpus, in a database and index directory of its own, and reports every figure.

pub mod child;
pub mod database;
pub mod engines;
pub mod load;
pub mod matching;
pub mod preflight;
pub mod report;
pub mod server;

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use analyzers::GivenNameVariants;
use anyhow::Context;
use indexer::import::formats::Format;
use indexer::import::record::Rejected;
use indexer::import::{import_files, ImportOptions};
use indexer::index::{self, BuildOptions, IndexKind};
use sqlx::PgPool;

use self::database::recreate_database;
pub use self::database::{database_url, drop_database};
use self::load::{drive, relevance};
use self::matching::MatcherBench;
use self::report::{BuildFigures, ClassFigures, EngineFigures, ImportFigures, Report};
use self::server::{RunningServer, ServerSettings};
use super::corpus::{self, CorpusOptions, Manifest};
use super::profiles::write_profiles;
use super::vocabulary::Vocabulary;
use super::workload::{Query, QueryClass};
use super::Size;
use crate::follow::{self, FollowBench};

/// What a run does, and where.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The corpus size.
    pub size: Size,
    /// The corpus seed.
    pub seed: u64,
    /// The real samples the corpus is drawn from.
    pub samples_dir: PathBuf,
    /// Where the corpus, indexes, logs and result live.
    pub work_dir: PathBuf,
    /// PostgreSQL server in which the run's database is created.
    pub server_url: String,
    /// The run's database, dropped first if it exists: a lowercase ASCII letter, then
    /// lowercase letters, digits and `_` (checked before anything is dropped).
    pub database_name: String,
    /// Keep the database after the run.
    pub keep_database: bool,
    /// Drop a database of the run's name even when the harness did not create it.
    pub replace_database: bool,
    /// Run the index build and search API in this process (no peak memory figures)
    /// rather than as the release binaries.
    pub in_process: bool,
    /// Where `indexer` and `search-api` binaries are.
    pub bin_dir: PathBuf,
    /// Redis for the search API (its cache stays off).
    pub redis_url: String,
    /// Shards of the indexes.
    pub num_shards: usize,
    /// Concurrencies search is driven at, each at least 1.
    pub concurrencies: Vec<usize>,
    /// Time after which one class at one concurrency on one engine sends no more
    /// requests (those in flight are awaited).
    pub cell_budget: Duration,
    /// Change-feed rate and duration.
    pub follow_rate: u32,
    /// Seconds of changes.
    pub follow_secs: u64,
    /// Profiles the matcher is measured on, at least 1.
    pub matcher_sample: usize,
    /// The command line, for the report.
    pub command: String,
}

impl RunOptions {
    /// Returns the options of the corpus.
    pub fn corpus_options(&self) -> CorpusOptions {
        CorpusOptions {
            num_records: self.size.num_records(),
            seed: self.seed,
            num_queries_per_class: self.size.num_queries_per_class(),
        }
    }

    /// Returns the corpus directory.
    pub fn corpus_dir(&self) -> PathBuf {
        self.work_dir
            .join(format!("corpus-{}-seed{}", self.size.label(), self.seed))
    }

    /// Returns the directory of the run's indexes, named after its database so that runs
    /// with their own databases never share one; removed at the end of the run.
    pub fn index_dir(&self) -> PathBuf {
        self.work_dir
            .join(format!("indexes-{}", self.database_name))
    }

    /// Returns the log the spawned `search-api` appends to.
    pub fn search_api_log(&self) -> PathBuf {
        self.work_dir
            .join(format!("search-api-{}.log", self.database_name))
    }

    /// Returns the log the spawned `indexer build` appends to.
    pub fn indexer_log(&self) -> PathBuf {
        self.work_dir
            .join(format!("indexer-build-{}.log", self.database_name))
    }

    fn database_url(&self) -> String {
        database_url(&self.server_url, &self.database_name)
    }
}

/// Returns the corpus of `options` and whether it was reused, generating it unless a
/// complete one of the same generator and options is there, each file of the size its
/// manifest recorded.
///
/// # Errors
/// Fails when the samples cannot be read or the corpus cannot be written.
pub async fn ensure_corpus(
    vocabulary: &std::sync::Arc<Vocabulary>,
    options: &CorpusOptions,
    dir: &Path,
) -> anyhow::Result<(Manifest, bool)> {
    if let Some(manifest) = Manifest::read(dir) {
        if manifest.generator_version == corpus::GENERATOR_VERSION && &manifest.options == options {
            match manifest.check_file_sizes(dir) {
                Ok(()) => return Ok((manifest, true)),
                Err(reason) => eprintln!(
                    "corpus in `{}` not reused: {reason}; generating it again",
                    dir.display()
                ),
            }
        }
    }
    let vocabulary = vocabulary.clone();
    let (options, dir) = (options.clone(), dir.to_owned());
    let manifest =
        tokio::task::spawn_blocking(move || corpus::generate(&vocabulary, &options, &dir))
            .await??;
    Ok((manifest, false))
}

/// Runs every measurement and returns the report; the database is dropped at the end
/// (unless kept), also when a stage fails. Requests that failed and a matcher that could
/// not be measured are in the report ([`Report::failures`]), not errors.
///
/// # Errors
/// An option out of range, missing samples, an unwritable work directory or an
/// unreachable server (all found before anything is generated or dropped), then the
/// first stage that fails.
pub async fn run(options: &RunOptions) -> anyhow::Result<Report> {
    preflight::check(options).await?;
    database::check_replaceable(
        &options.server_url,
        &options.database_name,
        options.replace_database,
    )
    .await?;
    let vocabulary =
        std::sync::Arc::new(Vocabulary::load(&options.samples_dir).with_context(|| {
            format!(
                "failed to read the samples in `{}` (`--samples-dir` or `ATLAS_SAMPLES_DIR`)",
                options.samples_dir.display()
            )
        })?);
    let corpus_dir = options.corpus_dir();
    let started = Instant::now();
    let (manifest, reused) =
        ensure_corpus(&vocabulary, &options.corpus_options(), &corpus_dir).await?;
    let generate_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "corpus: {} records, {} works, {} profiles in {} ({})",
        manifest.num_records(),
        manifest.num_works,
        manifest.num_profiles,
        corpus_dir.display(),
        if reused { "reused" } else { "generated" }
    );

    recreate_database(
        &options.server_url,
        &options.database_name,
        options.replace_database,
    )
    .await?;
    let result = measure(options, &vocabulary, &manifest, &corpus_dir).await;
    let _ = std::fs::remove_dir_all(options.index_dir());
    let dropped = if options.keep_database {
        Ok(())
    } else {
        drop_database(&options.server_url, &options.database_name).await
    };
    if let (Err(_), Err(error)) = (&result, &dropped) {
        eprintln!("the run failed, and dropping its database failed too: {error:#}");
    }
    let mut report = result?;
    dropped?;
    report.generate_secs = (!reused).then_some(generate_secs);
    Ok(report)
}

async fn measure(
    options: &RunOptions,
    vocabulary: &Vocabulary,
    manifest: &Manifest,
    corpus_dir: &Path,
) -> anyhow::Result<Report> {
    let url = options.database_url();
    let pool = indexer::db::connect(&url, 40).await?;
    indexer::db::migrate(&pool).await?;
    let mut report = Report::new(options, manifest);

    eprintln!("profiles: writing {}", manifest.num_profiles);
    report.profiles = write_profiles(&pool, vocabulary, &manifest.options).await?;

    report.import = import(&pool, manifest, corpus_dir).await?;
    eprintln!(
        "import: {} records at {:.0} records/s",
        report.import.iter().map(|f| f.num_inserted).sum::<u64>(),
        report::total_import(&report.import).records_per_sec
    );

    let index_dir = options.index_dir();
    let _ = std::fs::remove_dir_all(&index_dir);
    report.build = build(options, &url, &pool, &index_dir, manifest).await?;
    eprintln!("build: {:.0} documents/s", report.build.docs_per_sec);

    let bench = FollowBench {
        rate: options.follow_rate,
        secs: options.follow_secs,
        commit_interval: Duration::from_millis(500),
        num_shards: options.num_shards,
        probe_prefix: "W-latency-".to_owned(),
    };
    report.follow = follow::measure(&pool, &url, &index_dir, &bench).await?;
    eprintln!("follow: p99 {:.0} ms", report.follow.p99_ms);

    let settings = ServerSettings {
        database_url: url.clone(),
        index_dir: index_dir.clone(),
        num_shards: options.num_shards,
        name_variants: name_variant_paths(&options.samples_dir),
        redis_url: options.redis_url.clone(),
        redis_key_prefix: format!("atlas-bench:{}:", uuid::Uuid::now_v7().simple()),
        master_key: run_master_key()?,
    };
    let server = if options.in_process {
        RunningServer::start_in_process(&settings).await?
    } else {
        let log = options.search_api_log();
        RunningServer::spawn(&options.bin_dir.join("search-api"), &settings, &log).await?
    };
    let outcome = measure_with_server(
        options,
        &pool,
        &server,
        &settings.master_key,
        manifest,
        corpus_dir,
        &mut report,
    )
    .await;
    report.search_api_peak_rss_num_bytes = server.peak_rss_num_bytes();
    report.search_api_in_process = options.in_process;
    server.stop().await?;
    pool.close().await;
    outcome?;
    report.finish();
    Ok(report)
}

/// Returns a master key of the run's own: 32 bytes from the system's random source, in
/// hexadecimal, as another user of the machine could reach the service's port.
///
/// # Errors
/// Fails when `/dev/urandom` cannot be read.
fn run_master_key() -> anyhow::Result<String> {
    let mut bytes = [0_u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .context("failed to read `/dev/urandom` for the run's master key")?;
    Ok(bytes
        .iter()
        .fold("atlas-bench-".to_owned(), |mut key, byte| {
            let _ = write!(key, "{byte:02x}");
            key
        }))
}

/// Returns the HTTP client of the harness's searches, sending `master_key` as a bearer
/// token with every request.
fn search_client(master_key: &str) -> anyhow::Result<reqwest::Client> {
    let mut authorization = reqwest::header::HeaderValue::try_from(format!("Bearer {master_key}"))
        .context("the run's master key is not a valid header value")?;
    authorization.set_sensitive(true);
    let headers =
        reqwest::header::HeaderMap::from_iter([(reqwest::header::AUTHORIZATION, authorization)]);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(60))
        .build()?)
}

async fn measure_with_server(
    options: &RunOptions,
    pool: &PgPool,
    server: &RunningServer,
    master_key: &str,
    manifest: &Manifest,
    corpus_dir: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let queries = corpus::read_workload(corpus_dir)?;
    let client = search_client(master_key)?;
    let base_url = server.base_url().to_owned();
    report.search_api = run_workload(options, "search-api", &queries, |query| {
        let (client, base_url) = (client.clone(), base_url.clone());
        async move { engines::search_api(&client, &base_url, query).await }
    })
    .await;
    eprintln!("search api: done");

    report.pg_setup_secs = engines::set_up_pg_search(pool).await?;
    eprintln!("postgres search set up in {:.1} s", report.pg_setup_secs);
    report.postgres = run_workload(options, "postgres", &queries, |query| {
        let pool = pool.clone();
        async move { engines::postgres(&pool, query).await }
    })
    .await;
    eprintln!("postgres search: done");
    let title_queries: Vec<Query> = queries
        .iter()
        .filter(|query| query.class.is_title())
        .cloned()
        .collect();
    report.postgres_title_search =
        run_workload(options, "postgres title search", &title_queries, |query| {
            let pool = pool.clone();
            async move { engines::postgres_title_search(&pool, query).await }
        })
        .await;
    eprintln!("postgres title search: done");

    let variants = GivenNameVariants::load_all(name_variant_paths(&options.samples_dir))
        .context("failed to load the given-name variants")?;
    // The matcher comes last; should it fail (PostgreSQL out of connections, say), the
    // figures of every other stage are still reported, with the failure.
    let bench = MatcherBench {
        search_url: server.base_url(),
        api_key: master_key,
        corpus_dir,
        options: &manifest.options,
        num_sample: options.matcher_sample,
    };
    match matching::measure(pool, &bench, &variants).await {
        Ok(figures) => {
            eprintln!(
                "matcher: {:.0} profiles/s, {:.0} with two requests in flight",
                figures.retrieval_profiles_per_sec,
                figures.retrieval_two_in_flight_profiles_per_sec
            );
            report.matcher = figures;
        }
        Err(error) => {
            eprintln!("matcher failed: {error:#}");
            report.matcher_error = Some(format!("{error:#}"));
        }
    }
    Ok(())
}

/// Runs every class at every concurrency on one engine. Each cell sends the class's
/// queries, cycling, and at least four requests per connection, and sends no more once
/// the cell budget has passed.
async fn run_workload<F, Fut>(
    options: &RunOptions,
    engine_name: &str,
    queries: &[Query],
    execute: F,
) -> EngineFigures
where
    F: Fn(Query) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<load::Answer>>,
{
    let mut classes = Vec::new();
    for class in QueryClass::ALL {
        let class_queries: Vec<&Query> = queries.iter().filter(|q| q.class == class).collect();
        if class_queries.is_empty() {
            continue;
        }
        let mut cells = Vec::new();
        let mut judged = None;
        for &concurrency in &options.concurrencies {
            let num_requests = class_queries.len().max(4 * concurrency);
            let (figures, answers) = drive(
                &class_queries,
                concurrency,
                options.cell_budget,
                num_requests,
                &execute,
            )
            .await;
            if let Some(error) = &figures.first_error {
                eprintln!(
                    "{engine_name} {} at concurrency {concurrency}: {} of {} requests failed; \
                     the first: {error}",
                    class.name(),
                    figures.num_errors,
                    figures.num_errors + figures.num_requests
                );
            }
            if judged.is_none() {
                judged = Some(relevance(class, &class_queries, &answers));
            }
            cells.push(figures);
        }
        classes.push(ClassFigures {
            class,
            num_queries: class_queries.len() as u64,
            cells,
            relevance: judged.unwrap_or_default(),
        });
    }
    EngineFigures { classes }
}

async fn import(
    pool: &PgPool,
    manifest: &Manifest,
    corpus_dir: &Path,
) -> anyhow::Result<Vec<ImportFigures>> {
    let mut figures = Vec::new();
    for file in &manifest.sources {
        let format = match file.source.as_str() {
            "openalex" => Format::Openalex,
            "crossref" => Format::Crossref,
            _ => Format::DblpAcm,
        };
        eprintln!("import: {} ({} records)", file.file_name, file.num_records);
        let path = corpus_dir.join(&file.file_name);
        let summary = import_files(
            pool,
            format,
            std::slice::from_ref(&path),
            &ImportOptions::default(),
        )
        .await?;
        if let Some(first) = summary.rejected.first() {
            anyhow::bail!(rejected_message(&path, summary.rejected.len(), first));
        }
        let secs = summary.elapsed.as_secs_f64();
        figures.push(ImportFigures {
            source: file.source.clone(),
            num_records: file.num_records,
            num_inserted: summary.num_inserted,
            num_bytes: file.num_bytes,
            secs,
            records_per_sec: summary.num_inserted as f64 / secs.max(1e-9),
            mb_per_sec: file.num_bytes as f64 / 1e6 / secs.max(1e-9),
        });
    }
    Ok(figures)
}

async fn build(
    options: &RunOptions,
    url: &str,
    pool: &PgPool,
    index_dir: &Path,
    manifest: &Manifest,
) -> anyhow::Result<BuildFigures> {
    let started = Instant::now();
    let peak_rss_num_bytes = if options.in_process {
        let build_options = BuildOptions {
            num_shards: options.num_shards,
            ..BuildOptions::default()
        };
        index::build(pool, index_dir, &IndexKind::ALL, &build_options).await?;
        None
    } else {
        let binary = options.bin_dir.join("indexer");
        let log_path = options.indexer_log();
        let log = child::append_log(&log_path, "indexer build")?;
        let mut child = child::command(&binary)
            .arg("build")
            .arg(format!("--shards={}", options.num_shards))
            .env("DATABASE_URL", url)
            .env("ATLAS_INDEX_DIR", index_dir)
            .env("ATLAS_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("failed to start `{}`", binary.display()))?;
        let pid = child.id();
        let mut peak = 0;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if let Some(rss) = pid.and_then(server::peak_rss_of_pid) {
                peak = peak.max(rss);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        anyhow::ensure!(
            status.success(),
            "`indexer build` failed: {status}; the end of its log `{}`:\n{}",
            log_path.display(),
            child::log_tail(&log_path, 20)
        );
        Some(peak)
    };
    let secs = started.elapsed().as_secs_f64();
    let counts: (i64, i64) = sqlx::query_as(
        "select (select count(*) from raw_record_heads), (select count(*) from author_profiles)",
    )
    .fetch_one(pool)
    .await?;
    let num_docs = (counts.0 + counts.1) as u64;
    let records_dir = index_dir.join(IndexKind::Records.to_string());
    Ok(BuildFigures {
        num_record_docs: counts.0 as u64,
        num_docs,
        secs,
        docs_per_sec: num_docs as f64 / secs.max(1e-9),
        peak_rss_num_bytes,
        index_num_bytes: dir_num_bytes(index_dir),
        records_index_num_bytes: dir_num_bytes(&records_dir),
        raw_json_num_bytes: manifest.num_bytes(),
    })
}

fn dir_num_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_num_bytes(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |metadata| metadata.len()),
            Err(_) => 0,
        })
        .sum()
}

fn name_variant_paths(samples_dir: &Path) -> Vec<PathBuf> {
    ["names/given-name-variants.csv", "names/nicknames.csv"]
        .iter()
        .map(|name| samples_dir.join(name))
        .filter(|path| path.is_file())
        .collect()
}

/// Returns the message for records the importer rejected in `path`: how many, and where
/// and why the first was, as the importer says it (`file:line: reason`).
fn rejected_message(path: &Path, num_rejected: usize, first: &Rejected) -> String {
    format!(
        "the importer rejected {num_rejected} records of `{}`; the first: {first}",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use indexer::import::record::Location;

    use super::*;

    #[test]
    fn a_rejected_record_is_reported_by_file_and_line_not_as_debug_text() {
        let path = Path::new("/work/corpus/openalex-works.jsonl");
        let first = Rejected {
            location: Location::line(path, 1234),
            reason: "malformed json: EOF while parsing a string".to_owned(),
        };
        let message = rejected_message(path, 1, &first);
        assert_eq!(
            message,
            "the importer rejected 1 records of `/work/corpus/openalex-works.jsonl`; the first: \
             /work/corpus/openalex-works.jsonl:1234: malformed json: EOF while parsing a string"
        );
    }
}
