//! `indexer`: migrations, imports of source files, index builds and verification.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indexer::follow::{FollowOptions, Follower};
use indexer::import::formats::{DblpAcmSource, Format, ReadOptions};
use indexer::import::{self, ImportOptions, ImportSummary};
use indexer::index::{BuildOptions, BuildReport, IndexKind, VerifyOptions, VerifyReport};

/// Imports bibliographic records into PostgreSQL and builds the search indexes from it.
#[derive(Debug, Parser)]
#[command(name = "indexer", version, about)]
struct Config {
    /// PostgreSQL connection URL.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/atlas"
    )]
    database_url: String,

    /// Log format: `text` for people, `json` for log collectors, `auto` picks text on a
    /// terminal and JSON otherwise.
    #[arg(long, global = true, env = "ATLAS_LOG_FORMAT", default_value = "auto")]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Auto,
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Applies the schema migrations in `migrations/`.
    Migrate,
    /// Imports source files (or directories of them) into raw_records and author_profiles.
    Import(ImportArgs),
    /// Builds new generations of the search indexes from PostgreSQL and makes them current.
    Build(BuildArgs),
    /// Compares the search indexes with PostgreSQL; exits with status 3 when they differ.
    Verify(VerifyArgs),
    /// Follows the change feed, keeping the indexes equal to PostgreSQL until stopped;
    /// builds an index first when it does not exist.
    Follow(FollowArgs),
    /// Removes change-feed rows older than `--keep`; a follower that had not read them
    /// rebuilds its index instead of following. Run it on a schedule.
    Prune(PruneArgs),
}

#[derive(Debug, clap::Args)]
struct PruneArgs {
    /// Age of the feed rows to keep, as a PostgreSQL interval: `7 days`, `36 hours`.
    #[arg(long, env = "ATLAS_FEED_KEEP", default_value = "7 days")]
    keep: String,
}

#[derive(Debug, clap::Args)]
struct FollowArgs {
    #[command(flatten)]
    selection: IndexSelectionArgs,

    /// Shards of an index built because it did not exist; the number of cores when unset.
    #[arg(long, env = "ATLAS_SHARDS")]
    #[arg(value_parser = clap::value_parser!(u16).range(1..=1024))]
    shards: Option<u16>,

    /// Writer memory per index in MB, shared by its shards (at least 15 MB per shard).
    #[arg(long, env = "ATLAS_WRITER_HEAP_MB", default_value_t = 128)]
    #[arg(value_parser = clap::value_parser!(u32).range(15..=65_536))]
    writer_heap_mb: u32,

    /// Longest time in milliseconds an applied change waits before it is committed and
    /// searchable.
    #[arg(long, env = "ATLAS_COMMIT_INTERVAL_MS", default_value_t = 500)]
    commit_interval_ms: u64,

    /// Applied documents that trigger a commit before the interval has passed.
    #[arg(long, env = "ATLAS_COMMIT_DOCS", default_value_t = 10_000)]
    commit_docs: usize,

    /// How often in milliseconds to look at the feed when no notification arrives.
    #[arg(long, env = "ATLAS_POLL_INTERVAL_MS", default_value_t = 1_000)]
    poll_interval_ms: u64,
}

#[derive(Debug, clap::Args)]
struct IndexSelectionArgs {
    /// Directory holding the indexes, one subdirectory per index.
    #[arg(long, env = "ATLAS_INDEX_DIR", default_value = "./data/indexes")]
    index_dir: PathBuf,

    /// Index to act on: records, works or profiles; repeat it or separate with commas. All
    /// three when omitted.
    #[arg(long = "index", env = "ATLAS_INDEXES", value_delimiter = ',')]
    indexes: Vec<IndexKind>,
}

impl IndexSelectionArgs {
    fn kinds(&self) -> Vec<IndexKind> {
        if self.indexes.is_empty() {
            IndexKind::ALL.to_vec()
        } else {
            self.indexes.clone()
        }
    }
}

#[derive(Debug, clap::Args)]
struct BuildArgs {
    #[command(flatten)]
    selection: IndexSelectionArgs,

    /// Shards of each new generation; the number of cores when unset.
    #[arg(long, env = "ATLAS_SHARDS")]
    #[arg(value_parser = clap::value_parser!(u16).range(1..=1024))]
    shards: Option<u16>,

    /// Writer memory per index in MB, shared by its shards (at least 15 MB per shard).
    #[arg(long, env = "ATLAS_WRITER_HEAP_MB", default_value_t = 128)]
    #[arg(value_parser = clap::value_parser!(u32).range(15..=65_536))]
    writer_heap_mb: u32,

    /// Rows read from PostgreSQL per query.
    #[arg(long, env = "ATLAS_BUILD_PAGE_ROWS", default_value_t = 1000)]
    #[arg(value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    page_rows: u32,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    selection: IndexSelectionArgs,

    /// Ids listed per index and kind of drift (missing, extra, differing).
    #[arg(long, env = "ATLAS_VERIFY_MAX_LISTED_IDS", default_value_t = 100)]
    max_listed_ids: usize,

    /// Rows read from PostgreSQL per query.
    #[arg(long, env = "ATLAS_BUILD_PAGE_ROWS", default_value_t = 1000)]
    #[arg(value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    page_rows: u32,
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// The format of every file named.
    #[arg(long, env = "ATLAS_IMPORT_FORMAT")]
    format: Format,

    /// Files or directories to import; directories are walked in name order.
    #[arg(required = true)]
    paths: Vec<PathBuf>,

    /// Writes one JSON line per rejected item (file, line or record, reason) to this file.
    #[arg(long, env = "ATLAS_IMPORT_REJECTS")]
    rejects: Option<PathBuf>,

    /// Records written per transaction.
    #[arg(long, env = "ATLAS_IMPORT_BATCH_SIZE", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch_size: u32,

    /// Records larger than this many bytes are rejected.
    #[arg(long, env = "ATLAS_IMPORT_MAX_RECORD_BYTES", default_value_t = 1024 * 1024)]
    max_record_bytes: usize,

    /// Skips applying migrations before importing (`true`, `1`, `yes` or `on` from the
    /// environment).
    #[arg(
        long,
        env = "ATLAS_SKIP_MIGRATIONS",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    skip_migrations: bool,

    /// Source of `dblp-acm` files whose name does not say it (`dblp` or `acm`).
    #[arg(long, env = "ATLAS_IMPORT_DBLP_ACM_SOURCE")]
    dblp_acm_source: Option<DblpAcmSource>,
}

/// Exit status when the import finished but rejected some items; 2 is clap's status for a
/// mistaken command line, which must not read as "finished".
const EXIT_SOME_REJECTED: u8 = 3;

/// Exit status when ctrl-c or SIGTERM stopped an import between two batches.
const EXIT_INTERRUPTED: u8 = 130;

/// Returns a receiver that turns `true` at the first ctrl-c or SIGTERM.
fn stop_on_signal() -> tokio::sync::watch::Receiver<bool> {
    let (sender, receiver) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        indexer::shutdown::signal().await;
        let _ = sender.send(true);
        // The sender lives on: a receiver reads a dropped sender as no stop at all.
        std::future::pending::<()>().await;
    });
    receiver
}

/// Exit status when `verify` found an index that differs from PostgreSQL.
const EXIT_DRIFT: u8 = 3;

fn main() -> ExitCode {
    let config = Config::parse();
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", error_chain_text(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<ExitCode> {
    let redacted_url = indexer::db::redact_url(&config.database_url);
    let pool = if matches!(config.command, Command::Follow(_)) {
        // A follower outlives PostgreSQL restarts, including one under way as it starts.
        let pool = indexer::db::connect_lazy(&config.database_url, 4)
            .with_context(|| format!("invalid database URL `{redacted_url}`"))?;
        let Some(()) = migrate_when_reachable(&pool).await? else {
            return Ok(ExitCode::SUCCESS);
        };
        pool
    } else {
        indexer::db::connect(&config.database_url, 4)
            .await
            .with_context(|| format!("failed to connect to PostgreSQL at `{redacted_url}`"))?
    };
    match config.command {
        Command::Migrate => {
            indexer::db::migrate(&pool)
                .await
                .context("failed to migrate")?;
            tracing::info!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => {
            if !args.skip_migrations {
                indexer::db::migrate(&pool)
                    .await
                    .context("failed to migrate")?;
            }
            let options = ImportOptions {
                read: ReadOptions {
                    max_record_num_bytes: args.max_record_bytes,
                    dblp_acm_source: args.dblp_acm_source,
                    ..ReadOptions::default()
                },
                batch_size: args.batch_size as usize,
                rejects_path: args.rejects.clone(),
                progress_bar: io::stderr().is_terminal(),
                stop: Some(stop_on_signal()),
            };
            let summary = import::import_files(&pool, args.format, &args.paths, &options)
                .await
                .context("import failed")?;
            write_report(|out| print_summary(out, &summary, args.rejects.as_deref()))?;
            if summary.is_interrupted {
                Ok(ExitCode::from(EXIT_INTERRUPTED))
            } else if summary.rejected.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::from(EXIT_SOME_REJECTED))
            }
        }
        Command::Build(args) => {
            let options = BuildOptions {
                num_shards: args
                    .shards
                    .map_or_else(|| BuildOptions::default().num_shards, usize::from),
                writer_heap_num_bytes: (args.writer_heap_mb as usize).saturating_mul(1024 * 1024),
                page_num_rows: args.page_rows as usize,
                progress_bar: io::stderr().is_terminal(),
            };
            let kinds = args.selection.kinds();
            let report = indexer::index::build(&pool, &args.selection.index_dir, &kinds, &options)
                .await
                .context("build failed")?;
            write_report(|out| print_build_report(out, &report))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Prune(args) => {
            let num_pruned = indexer::feed::prune(&pool, &args.keep)
                .await
                .with_context(|| {
                    format!("cannot prune the change feed with --keep `{}`", args.keep)
                })?;
            tracing::info!(num_pruned, keep = %args.keep, "change feed pruned");
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify(args) => {
            let options = VerifyOptions {
                max_listed_ids: args.max_listed_ids,
                page_num_rows: args.page_rows as usize,
                progress_bar: io::stderr().is_terminal(),
            };
            let kinds = args.selection.kinds();
            let report = indexer::index::verify(&pool, &args.selection.index_dir, &kinds, &options)
                .await
                .context("verification failed")?;
            write_report(|out| print_verify_report(out, &report))?;
            if report.has_drift() {
                Ok(ExitCode::from(EXIT_DRIFT))
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::Follow(args) => {
            indexer::db::migrate(&pool)
                .await
                .context("failed to migrate")?;
            let options = FollowOptions {
                index_dir: args.selection.index_dir.clone(),
                kinds: args.selection.kinds(),
                poll_interval: Duration::from_millis(args.poll_interval_ms.max(1)),
                commit_interval: Duration::from_millis(args.commit_interval_ms),
                commit_num_docs: args.commit_docs.max(1),
                build: BuildOptions {
                    num_shards: args
                        .shards
                        .map_or_else(|| BuildOptions::default().num_shards, usize::from),
                    writer_heap_num_bytes: (args.writer_heap_mb as usize)
                        .saturating_mul(1024 * 1024),
                    progress_bar: io::stderr().is_terminal(),
                    ..BuildOptions::default()
                },
            };
            Follower::new(pool, options)
                .run(indexer::shutdown::signal())
                .await
                .context("follower failed")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Applies the migrations, waiting with backoff while PostgreSQL is unreachable; returns
/// `None` when stopped by a signal first.
async fn migrate_when_reachable(pool: &sqlx::PgPool) -> anyhow::Result<Option<()>> {
    let mut delay = Duration::from_millis(200);
    let shutdown = indexer::shutdown::signal();
    tokio::pin!(shutdown);
    loop {
        match indexer::db::migrate(pool).await {
            Ok(()) => return Ok(Some(())),
            Err(
                indexer::Error::Database(error)
                | indexer::Error::Migration(sqlx::migrate::MigrateError::Execute(error)),
            ) => {
                tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "postgresql unreachable");
            }
            Err(error) => return Err(error).context("failed to migrate"),
        }
        tokio::select! {
            () = &mut shutdown => return Ok(None),
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

/// Writes a report to standard output. A reader that went away (`indexer import … | head`)
/// is not a failure: the work is done and the exit status still tells how it went.
fn write_report(
    print: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>,
) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match print(&mut out).and_then(|()| out.flush()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            Err(error).context("cannot write the report to standard output")
        }
        _ => Ok(()),
    }
}

fn print_build_report(out: &mut impl Write, report: &BuildReport) -> io::Result<()> {
    writeln!(out, "consistent with snapshot {}", report.position)?;
    for index in &report.indexes {
        writeln!(
            out,
            "{} {}: {} documents in {} shards, {:.2} s, {:.0} documents/s, {:.1} MB on disk",
            index.kind,
            index.generation,
            index.num_docs,
            index.num_shards,
            index.elapsed.as_secs_f64(),
            index.docs_per_sec(),
            index.size_num_bytes as f64 / 1e6,
        )?;
    }
    Ok(())
}

fn print_verify_report(out: &mut impl Write, report: &VerifyReport) -> io::Result<()> {
    writeln!(out, "compared with snapshot {}", report.position)?;
    for index in &report.indexes {
        let kind = index.kind;
        let Some(generation) = &index.generation else {
            writeln!(
                out,
                "{kind}: not built; {} documents missing",
                index.num_missing
            )?;
            continue;
        };
        let verdict = if index.has_drift() { "DRIFT" } else { "ok" };
        writeln!(
            out,
            "{kind} {generation}: {verdict}: {} missing, {} extra, {} differing",
            index.num_missing, index.num_extra, index.num_differing
        )?;
        for shard in &index.shards {
            writeln!(
                out,
                "  shard {}: {} documents indexed, {} in postgresql, checksums {:016x} / {:016x}{}",
                shard.shard,
                shard.num_docs_index,
                shard.num_docs_database,
                shard.checksum_index,
                shard.checksum_database,
                if shard.matches() { "" } else { "  differs" },
            )?;
        }
        for (label, ids) in [
            ("missing", &index.missing),
            ("extra", &index.extra),
            ("differing", &index.differing),
        ] {
            for id in ids {
                writeln!(out, "  {label} {id}")?;
            }
        }
    }
    Ok(())
}

fn print_summary(
    out: &mut impl Write,
    summary: &ImportSummary,
    rejects: Option<&std::path::Path>,
) -> io::Result<()> {
    // Files and bytes are counted as each file is read to its end.
    let whole = if summary.is_interrupted {
        " read to their end"
    } else {
        ""
    };
    writeln!(
        out,
        "read {} records from {} files{whole} ({:.1} MB) in {:.2} s: {:.0} records/s, {:.1} MB/s",
        summary.num_read,
        summary.num_files,
        summary.num_bytes as f64 / 1e6,
        summary.elapsed.as_secs_f64(),
        summary.records_per_sec(),
        summary.megabytes_per_sec(),
    )?;
    if summary.is_interrupted {
        writeln!(
            out,
            "interrupted: stopped after the last committed batch; the counts below are what \
             was committed, and running the same import again finishes it"
        )?;
    }
    writeln!(
        out,
        "inserted {}, unchanged {}, new versions {}, rejected {}",
        summary.num_inserted,
        summary.num_unchanged,
        summary.num_new_versions,
        summary.rejected.len()
    )?;
    let num_profiles = summary.num_profiles_created
        + summary.num_profiles_updated
        + summary.num_profiles_unchanged;
    if num_profiles > 0 {
        writeln!(
            out,
            "profiles: created {}, updated {}, unchanged {}",
            summary.num_profiles_created,
            summary.num_profiles_updated,
            summary.num_profiles_unchanged
        )?;
    }
    const NUM_WARNINGS_SHOWN: usize = 20;
    if summary.num_warnings > 0 {
        writeln!(
            out,
            "stored with a value the index cannot use (found without it): {}",
            summary.num_warnings
        )?;
    }
    for warning in summary.warnings.iter().take(NUM_WARNINGS_SHOWN) {
        writeln!(out, "warning {warning}")?;
    }
    if summary.num_warnings > NUM_WARNINGS_SHOWN as u64 {
        let more = summary.num_warnings - NUM_WARNINGS_SHOWN as u64;
        writeln!(out, "… and {more} more warnings in the log")?;
    }
    const NUM_REJECTS_SHOWN: usize = 20;
    for rejected in summary.rejected.iter().take(NUM_REJECTS_SHOWN) {
        writeln!(out, "rejected {rejected}")?;
    }
    if summary.rejected.len() > NUM_REJECTS_SHOWN {
        let more = summary.rejected.len() - NUM_REJECTS_SHOWN;
        match rejects {
            Some(path) => writeln!(out, "… and {more} more in `{}`", path.display())?,
            None => writeln!(
                out,
                "… and {more} more; pass --rejects FILE to keep them all"
            )?,
        }
    }
    Ok(())
}

/// Returns the error and its causes joined by `: `, leaving out a cause whose text the
/// message before it already shows (our errors print their source themselves).
fn error_chain_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause_text = cause.to_string();
        if text.contains(&cause_text) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause_text);
    }
    text
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ATLAS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tantivy=warn"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(io::stderr().is_terminal())
        .with_writer(io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
