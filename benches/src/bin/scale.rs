//! The benchmark at scale: `generate` writes a seeded corpus in real source formats with
//! its truth and query workload (and its profiles into PostgreSQL with `--into-pg`);
//! `run` measures import, index build, change feed, search against PostgreSQL's own
//! search, and the matcher on it, printing Markdown tables and writing a JSON result.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use atlas_benches::scale::corpus::{self, CorpusOptions};
use atlas_benches::scale::profiles::write_profiles;
use atlas_benches::scale::run::{self, RunOptions};
use atlas_benches::scale::vocabulary::Vocabulary;
use atlas_benches::scale::Size;
use clap::{Args, Parser, Subcommand};

/// Seeded corpora and the whole system measured on them.
#[derive(Debug, Parser)]
#[command(name = "scale")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes a corpus, its truth and its workload.
    Generate(GenerateArgs),
    /// Measures everything on a corpus (generated unless already there).
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct CorpusArgs {
    /// `smoke` (3,000 records), `100k`, `1m`, `10m`, or a number of records.
    #[arg(long, default_value = "smoke")]
    size: Size,
    /// Records, overriding `--size`.
    #[arg(long)]
    records: Option<u64>,
    /// The seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The real samples the corpus is drawn from.
    #[arg(long, env = "ATLAS_SAMPLES_DIR")]
    samples_dir: Option<PathBuf>,
}

impl CorpusArgs {
    fn size(&self) -> Size {
        self.records.map_or(self.size, Size::Records)
    }

    fn samples_dir(&self) -> PathBuf {
        self.samples_dir
            .clone()
            .unwrap_or_else(atlas_benches::samples_dir)
    }
}

#[derive(Debug, Args)]
struct GenerateArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Directory to write into.
    #[arg(long)]
    out: PathBuf,
    /// Also write the profiles into this (migrated, empty) database.
    #[arg(long)]
    into_pg: Option<String>,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// PostgreSQL server in which the run's database is created.
    #[arg(
        long,
        env = "ATLAS_BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    server_url: String,
    /// The run's database (dropped first if it exists); `atlas_bench_{size}` by default.
    #[arg(long)]
    database: Option<String>,
    /// Keep the database after the run.
    #[arg(long)]
    keep_database: bool,
    /// Where corpora, indexes, logs and results go.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/scale"))]
    work_dir: PathBuf,
    /// Run the index build and the search API in this process instead of as the release
    /// binaries (no memory figures for them).
    #[arg(long)]
    in_process: bool,
    /// Redis for the search API; its response cache is turned off either way.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Index shards.
    #[arg(long, default_value_t = 2)]
    shards: usize,
    /// Concurrencies, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    concurrency: Vec<usize>,
    /// Longest seconds one class at one concurrency may take on one engine.
    #[arg(long, default_value_t = 30)]
    cell_budget_secs: u64,
    /// Changes per second for the change-feed delay.
    #[arg(long, default_value_t = 100)]
    follow_rate: u32,
    /// Seconds of changes.
    #[arg(long, default_value_t = 20)]
    follow_secs: u64,
    /// Profiles the matcher is measured on.
    #[arg(long, default_value_t = 1_000)]
    matcher_profiles: usize,
    /// Where to write the JSON result; `{work dir}/result-{size}.json` by default.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Generate(args) => generate(args).await,
        Command::Run(args) => run_all(args).await,
    }
}

async fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let size = args.corpus.size();
    let vocabulary = Vocabulary::load(&args.corpus.samples_dir())?;
    let options = CorpusOptions {
        num_records: size.num_records(),
        seed: args.corpus.seed,
        num_queries_per_class: size.num_queries_per_class(),
    };
    let manifest = corpus::generate(&vocabulary, &options, &args.out)?;
    println!(
        "{} records ({} works, {:.1} MB) and {} queries in `{}`, {:.1} s",
        manifest.num_records(),
        manifest.num_works,
        manifest.num_bytes() as f64 / 1e6,
        manifest.num_queries,
        args.out.display(),
        manifest.elapsed_secs
    );
    if let Some(url) = &args.into_pg {
        let pool = indexer::db::connect(url, 2).await?;
        indexer::db::migrate(&pool).await?;
        let written = write_profiles(&pool, &vocabulary, &options).await?;
        println!(
            "{} profiles with {} identities written in {:.1} s",
            written.num_profiles, written.num_identities, written.secs
        );
    }
    Ok(())
}

async fn run_all(args: RunArgs) -> anyhow::Result<()> {
    let size = args.corpus.size();
    let bin_dir = std::env::current_exe()?
        .parent()
        .context("the harness has no directory")?
        .to_owned();
    if !args.in_process {
        ensure_binaries(&bin_dir)?;
    }
    let options = RunOptions {
        size,
        seed: args.corpus.seed,
        samples_dir: args.corpus.samples_dir(),
        work_dir: args.work_dir.clone(),
        server_url: args.server_url.clone(),
        database_name: args
            .database
            .clone()
            .unwrap_or_else(|| format!("atlas_bench_{}", size.label())),
        keep_database: args.keep_database,
        in_process: args.in_process,
        bin_dir,
        redis_url: args.redis_url.clone(),
        num_shards: args.shards.max(1),
        concurrencies: args.concurrency.clone(),
        cell_budget: Duration::from_secs(args.cell_budget_secs),
        follow_rate: args.follow_rate,
        follow_secs: args.follow_secs,
        matcher_sample: args.matcher_profiles,
        command: format!(
            "cargo run --release -p atlas-benches --bin scale -- {}",
            std::env::args().skip(1).collect::<Vec<_>>().join(" ")
        ),
    };
    let report = run::run(&options).await?;
    let markdown = report.to_markdown();
    println!("{markdown}");
    let json_path = args
        .json
        .unwrap_or_else(|| args.work_dir.join(format!("result-{}.json", size.label())));
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("failed to write `{}`", json_path.display()))?;
    std::fs::write(json_path.with_extension("md"), markdown)?;
    println!("result: {}", json_path.display());
    Ok(())
}

/// Builds the `indexer` and `search-api` binaries beside this one (a no-op when they are
/// up to date), since `cargo run -p atlas-benches` builds only this package's, and binaries
/// older than the harness may not know the migrations it applies. The three packages are
/// built together so that one feature set serves every later run.
fn ensure_binaries(bin_dir: &std::path::Path) -> anyhow::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let profile = if bin_dir.ends_with("release") {
        "--release"
    } else {
        "--profile=dev"
    };
    eprintln!("building the indexer and search-api binaries ({profile}) if out of date");
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            profile,
            "-p",
            "atlas-benches",
            "-p",
            "indexer",
            "-p",
            "search-api",
        ])
        .args(["--bin", "scale", "--bin", "indexer", "--bin", "search-api"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status()?;
    anyhow::ensure!(status.success(), "building the binaries failed: {status}");
    Ok(())
}
