//! `indexer`: migrations, imports of source files, index builds and verification.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indexer::import::formats::{Format, ReadOptions};
use indexer::import::{self, ImportOptions, ImportSummary};

/// Imports bibliographic records into PostgreSQL and builds the search indexes from it.
#[derive(Debug, Parser)]
#[command(name = "indexer", version, about)]
struct Config {
    /// PostgreSQL connection URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/atlas"
    )]
    database_url: String,

    /// Log format: `text` for people, `json` for log collectors, `auto` picks text on a
    /// terminal and JSON otherwise.
    #[arg(long, env = "ATLAS_LOG_FORMAT", default_value = "auto")]
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
    #[arg(long, env = "ATLAS_IMPORT_BATCH_SIZE", default_value_t = 1000)]
    batch_size: usize,

    /// Records larger than this many bytes are rejected.
    #[arg(long, env = "ATLAS_IMPORT_MAX_RECORD_BYTES", default_value_t = 1024 * 1024)]
    max_record_bytes: usize,

    /// Skips applying migrations before importing.
    #[arg(long, env = "ATLAS_SKIP_MIGRATIONS")]
    skip_migrations: bool,
}

/// Exit status when the import finished but rejected some items.
const EXIT_SOME_REJECTED: u8 = 2;

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
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<ExitCode> {
    let pool = indexer::db::connect(&config.database_url, 4)
        .await
        .with_context(|| {
            format!(
                "failed to connect to PostgreSQL at `{}`",
                indexer::db::redact_url(&config.database_url)
            )
        })?;
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
                    ..ReadOptions::default()
                },
                batch_size: args.batch_size,
                rejects_path: args.rejects.clone(),
                progress_bar: std::io::stderr().is_terminal(),
            };
            let summary = import::import_files(&pool, args.format, &args.paths, &options)
                .await
                .context("import failed")?;
            print_summary(&summary, args.rejects.as_deref());
            if summary.rejected.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::from(EXIT_SOME_REJECTED))
            }
        }
    }
}

fn print_summary(summary: &ImportSummary, rejects: Option<&std::path::Path>) {
    println!(
        "read {} records from {} files ({:.1} MB) in {:.2} s: {:.0} records/s, {:.1} MB/s",
        summary.num_read,
        summary.num_files,
        summary.num_bytes as f64 / 1e6,
        summary.elapsed.as_secs_f64(),
        summary.records_per_sec(),
        summary.megabytes_per_sec(),
    );
    println!(
        "inserted {}, unchanged {}, new versions {}, rejected {}",
        summary.num_inserted,
        summary.num_unchanged,
        summary.num_new_versions,
        summary.rejected.len()
    );
    let num_profiles = summary.num_profiles_created
        + summary.num_profiles_updated
        + summary.num_profiles_unchanged;
    if num_profiles > 0 {
        println!(
            "profiles: created {}, updated {}, unchanged {}",
            summary.num_profiles_created,
            summary.num_profiles_updated,
            summary.num_profiles_unchanged
        );
    }
    const NUM_REJECTS_SHOWN: usize = 20;
    for rejected in summary.rejected.iter().take(NUM_REJECTS_SHOWN) {
        println!("rejected {rejected}");
    }
    if summary.rejected.len() > NUM_REJECTS_SHOWN {
        let more = summary.rejected.len() - NUM_REJECTS_SHOWN;
        match rejects {
            Some(path) => println!("… and {more} more in `{}`", path.display()),
            None => println!("… and {more} more; pass --rejects FILE to keep them all"),
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ATLAS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
