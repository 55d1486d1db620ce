//! The benchmark at scale: `generate` writes a seeded corpus in real source formats with
//! its truth and query workload (and its profiles into PostgreSQL with `--into-pg`);
//! `run` measures import, index build, change feed, search against PostgreSQL's own
//! search, and the matcher on it, printing Markdown tables and writing a JSON result.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use atlas_benches::scale::corpus::{self, CorpusOptions};
use atlas_benches::scale::profiles::write_profiles;
use atlas_benches::scale::run::database::check_database_name;
use atlas_benches::scale::run::preflight::check_writable_dir;
use atlas_benches::scale::run::{self, RunOptions};
use atlas_benches::scale::vocabulary::Vocabulary;
use atlas_benches::scale::{parse_num_records, Size};
use clap::{Args, Parser, Subcommand};
use tokio::signal::unix::{signal, SignalKind};

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
    /// Records, overriding `--size`; at least 1.
    #[arg(long, value_parser = parse_num_records)]
    records: Option<u64>,
    /// The seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The real samples the corpus is drawn from; `../shared/data` beside the checkout
    /// when unset.
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
    /// PostgreSQL server in which the run's database is created; the user needs the
    /// right to create databases.
    #[arg(
        long,
        env = "ATLAS_BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    server_url: String,
    /// The run's database, dropped first if it exists and again at the end;
    /// `atlas_bench_{size}` by default, so on a shared server give a name of your own.
    /// A lowercase letter, then lowercase letters, digits and `_`.
    #[arg(long, value_parser = parse_database_name)]
    database: Option<String>,
    /// Keep the database after the run.
    #[arg(long)]
    keep_database: bool,
    /// Drop a database of that name even when the harness did not create it (by default
    /// only databases carrying the harness's marker comment are dropped).
    #[arg(long)]
    replace_database: bool,
    /// Where corpora, indexes (`indexes-{database}`), logs and results go.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/scale"))]
    work_dir: PathBuf,
    /// Run the index build and the search API in this process instead of as the release
    /// binaries (no memory figures for them).
    #[arg(long)]
    in_process: bool,
    /// Redis for the search API; its response cache is turned off either way.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Index shards; at least 1.
    #[arg(long, default_value_t = 2, value_parser = at_least_one::<usize>)]
    shards: usize,
    /// Concurrencies, comma-separated; each at least 1.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,8,32",
        value_parser = at_least_one::<usize>
    )]
    concurrency: Vec<usize>,
    /// Seconds after which one class at one concurrency on one engine sends no more
    /// requests (those in flight are awaited); at least 1.
    #[arg(long, default_value_t = 30, value_parser = at_least_one::<u64>)]
    cell_budget_secs: u64,
    /// Changes per second for the change-feed delay; at least 1.
    #[arg(long, default_value_t = 100, value_parser = at_least_one::<u32>)]
    follow_rate: u32,
    /// Seconds of changes; at least 1.
    #[arg(long, default_value_t = 20, value_parser = at_least_one::<u64>)]
    follow_secs: u64,
    /// Profiles the matcher is measured on; at least 1.
    #[arg(long, default_value_t = 1_000, value_parser = at_least_one::<usize>)]
    matcher_profiles: usize,
    /// Where to write the JSON result (and the Markdown beside it, `.md`);
    /// `{work dir}/result-{size}.json` by default. Its directory is created and checked
    /// before the run starts.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Parses a count or a number of seconds that must be at least 1.
fn at_least_one<T>(text: &str) -> Result<T, String>
where
    T: FromStr + PartialOrd + From<u8>,
    T::Err: std::fmt::Display,
{
    let value: T = text
        .parse()
        .map_err(|error| format!("`{text}` is not a number: {error}"))?;
    if value < T::from(1) {
        return Err("use at least 1".to_owned());
    }
    Ok(value)
}

fn parse_database_name(text: &str) -> Result<String, String> {
    check_database_name(text).map(|()| text.to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Generate(args) => generate(args).await,
        Command::Run(args) => run_until_signal(args).await,
    }
}

async fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let size = args.corpus.size();
    let samples_dir = args.corpus.samples_dir();
    let vocabulary = Vocabulary::load(&samples_dir).with_context(|| {
        format!(
            "failed to read the samples in `{}` (`--samples-dir` or `ATLAS_SAMPLES_DIR`)",
            samples_dir.display()
        )
    })?;
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
        let pool = indexer::db::connect(url, 2).await.with_context(|| {
            format!(
                "cannot connect to PostgreSQL at `{}` (set by `--into-pg`)",
                indexer::db::redact_url(url)
            )
        })?;
        indexer::db::migrate(&pool).await?;
        let written = write_profiles(&pool, &vocabulary, &options).await?;
        println!(
            "{} profiles with {} identities written in {:.1} s",
            written.num_profiles, written.num_identities, written.secs
        );
    }
    Ok(())
}

/// Runs the harness until it ends or `SIGINT`/`SIGTERM` arrives. On a signal the run is
/// dropped, which kills its child processes (`kill_on_drop`), then its database and
/// index directory are removed (unless `--keep-database`) and the harness exits with
/// 128 + the signal's number.
async fn run_until_signal(args: RunArgs) -> anyhow::Result<()> {
    let mut interrupt = signal(SignalKind::interrupt()).context("failed to handle SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("failed to handle SIGTERM")?;
    let json_path = args.json.clone().unwrap_or_else(|| {
        args.work_dir
            .join(format!("result-{}.json", args.corpus.size().label()))
    });
    let options = run_options(&args)?;
    let (signal_name, exit_code) = tokio::select! {
        result = run_all(&args, &options, &json_path) => return result,
        _ = interrupt.recv() => ("SIGINT", 130),
        _ = terminate.recv() => ("SIGTERM", 143),
    };
    eprintln!("{signal_name}: the run is stopped and its child processes killed");
    let _ = std::fs::remove_dir_all(options.index_dir());
    if !options.keep_database {
        let dropping = run::drop_database(&options.server_url, &options.database_name);
        match tokio::time::timeout(Duration::from_secs(30), dropping).await {
            Ok(Ok(())) => eprintln!("dropped the database `{}`", options.database_name),
            Ok(Err(error)) => eprintln!("could not drop the run's database: {error:#}"),
            Err(_) => eprintln!(
                "could not drop the database `{}` within 30 s",
                options.database_name
            ),
        }
    }
    // Exits at once: the runtime would otherwise wait for a corpus still being written
    // on a blocking thread.
    std::process::exit(exit_code);
}

fn run_options(args: &RunArgs) -> anyhow::Result<RunOptions> {
    let size = args.corpus.size();
    let bin_dir = std::env::current_exe()
        .context("failed to find the harness's executable")?
        .parent()
        .context("the harness's executable has no directory")?
        .to_owned();
    Ok(RunOptions {
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
        replace_database: args.replace_database,
        in_process: args.in_process,
        bin_dir,
        redis_url: args.redis_url.clone(),
        num_shards: args.shards,
        concurrencies: args.concurrency.clone(),
        cell_budget: Duration::from_secs(args.cell_budget_secs),
        follow_rate: args.follow_rate,
        follow_secs: args.follow_secs,
        matcher_sample: args.matcher_profiles,
        command: format!(
            "cargo run --release -p atlas-benches --bin scale -- {}",
            std::env::args().skip(1).collect::<Vec<_>>().join(" ")
        ),
    })
}

/// Runs the harness and writes its report; fails after writing it when a measurement
/// failed.
async fn run_all(args: &RunArgs, options: &RunOptions, json_path: &Path) -> anyhow::Result<()> {
    // Checked before the build too, which can take minutes; `run` checks them again.
    run::preflight::check(options).await?;
    let json_dir = json_path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    check_writable_dir(json_dir, "`--json`")?;
    anyhow::ensure!(
        !json_path.is_dir(),
        "`--json` names the directory `{}`; give the path of a file in it",
        json_path.display()
    );
    // The Markdown goes beside the JSON with the extension `.md`: a JSON path ending in
    // `.md` would have it overwrite the JSON.
    anyhow::ensure!(
        json_path
            .extension()
            .is_none_or(|extension| extension != "md"),
        "`--json` `{}` ends in `.md`, the name of the Markdown written beside it; end it \
         in `.json`",
        json_path.display()
    );
    if !args.in_process {
        ensure_binaries(&options.bin_dir).await?;
    }

    let report = run::run(options).await?;
    let markdown = report.to_markdown();
    println!("{markdown}");
    std::fs::write(json_path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("failed to write `{}` (`--json`)", json_path.display()))?;
    let markdown_path = json_path.with_extension("md");
    std::fs::write(&markdown_path, markdown)
        .with_context(|| format!("failed to write `{}`", markdown_path.display()))?;
    println!("result: {}", json_path.display());

    let failures = report.failures();
    anyhow::ensure!(
        failures.is_empty(),
        "{} measurements failed, so the report is incomplete:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

/// Builds the `indexer` and `search-api` binaries the run will start, those beside this
/// one (a no-op when they are up to date), since `cargo run -p atlas-benches` builds only
/// this package's, and binaries older than the harness may not know the migrations it
/// applies. The build goes into the target directory this executable is in, whatever
/// `CARGO_TARGET_DIR` says, so it never refreshes other binaries than those run. The three
/// packages are built together so that one feature set serves every later run.
async fn ensure_binaries(bin_dir: &Path) -> anyhow::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let build_args = build_args(bin_dir)?;
    eprintln!(
        "building the indexer and search-api binaries into `{}` if out of date",
        bin_dir.display()
    );
    let status = tokio::process::Command::new(&cargo)
        .args(&build_args)
        .current_dir(workspace_dir)
        .kill_on_drop(true)
        .status()
        .await
        .with_context(|| format!("failed to run `cargo build` in `{workspace_dir}`"))?;
    anyhow::ensure!(status.success(), "building the binaries failed: {status}");
    Ok(())
}

/// Returns the `cargo build` arguments that write the binaries into `bin_dir`, a
/// profile's directory (`release`, `debug` for the dev profile, or a custom profile's
/// name) in a target directory.
fn build_args(bin_dir: &Path) -> anyhow::Result<Vec<OsString>> {
    let (Some(profile_dir), Some(target_dir)) = (bin_dir.file_name(), bin_dir.parent()) else {
        anyhow::bail!(
            "the harness's directory `{}` is not a profile directory of a cargo target \
             directory",
            bin_dir.display()
        );
    };
    let profile = match profile_dir.to_str() {
        Some("debug") => "dev",
        Some(name) => name,
        None => anyhow::bail!("the profile directory `{}` is not UTF-8", bin_dir.display()),
    };
    let mut args: Vec<OsString> = ["build", "--profile", profile, "--target-dir"]
        .map(OsString::from)
        .into();
    args.push(target_dir.as_os_str().to_owned());
    for package in ["atlas-benches", "indexer", "search-api"] {
        args.extend(["-p", package].map(OsString::from));
    }
    for binary in ["scale", "indexer", "search-api"] {
        args.extend(["--bin", binary].map(OsString::from));
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(["scale", "run"].iter().chain(args))
    }

    #[test]
    fn counts_and_seconds_of_zero_are_refused_by_the_parser() {
        for (flag, value) in [
            ("--concurrency", "1,0"),
            ("--shards", "0"),
            ("--cell-budget-secs", "0"),
            ("--follow-secs", "0"),
            ("--follow-rate", "0"),
            ("--matcher-profiles", "0"),
            ("--records", "0"),
            ("--size", "0"),
        ] {
            let error = parse(&[flag, value]).expect_err(flag).to_string();
            assert!(error.contains(flag), "{flag}: {error}");
            assert!(error.contains("at least 1"), "{flag}: {error}");
        }
        assert!(parse(&["--concurrency", "1,8", "--shards", "1"]).is_ok());
    }

    #[test]
    fn a_database_name_postgresql_would_fold_is_refused_by_the_parser() {
        for name in ["NEWCOMER_VICTIM", "9abc", "a-b"] {
            let error = parse(&["--database", name]).expect_err(name).to_string();
            assert!(error.contains("--database"), "{name}: {error}");
        }
        assert!(parse(&["--database", "fixer_smoke"]).is_ok());
    }

    #[test]
    fn the_build_writes_into_the_target_directory_of_the_running_harness() {
        let args = build_args(Path::new("/elsewhere/target/release")).unwrap();
        let args: Vec<&str> = args.iter().map(|arg| arg.to_str().unwrap()).collect();
        assert_eq!(
            args[..5],
            [
                "build",
                "--profile",
                "release",
                "--target-dir",
                "/elsewhere/target"
            ]
        );
        let args = build_args(Path::new("/t/debug")).unwrap();
        assert_eq!(args[2], "dev");
        assert_eq!(args[4], "/t");
    }
}
