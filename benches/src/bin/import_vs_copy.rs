//! Import throughput against PostgreSQL's own COPY of the same rows into the same table.
//!
//! Builds an OpenAlex file of `--num-records` records from the real 2022 sample (each with
//! an id of its own), imports it with `indexer import`'s library into a fresh database, then
//! copies exactly the rows that import stored into a second fresh database with COPY. Both
//! tables carry the same indexes and triggers, so the ratio is the cost of parsing,
//! checksumming and idempotent batching over the bare write.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use futures_util::StreamExt;
use indexer::import::formats::Format;
use indexer::import::{import_files, ImportOptions};
use sqlx::{Connection, PgConnection};

/// Measures `indexer import` against a plain COPY of the same rows.
#[derive(Debug, Parser)]
struct Args {
    /// PostgreSQL server in which the two benchmark databases are created and dropped.
    #[arg(
        long,
        env = "ATLAS_BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    server_url: String,
    /// Records to import.
    #[arg(long, default_value_t = 20_000)]
    num_records: usize,
    /// Records per import batch.
    #[arg(long, default_value_t = 1_000)]
    batch_size: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let workdir = std::env::temp_dir().join(format!("atlas-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&workdir)?;
    let input = workdir.join("openalex.jsonl");
    let num_bytes = write_input(&input, args.num_records)?;

    let import_db = BenchDatabase::create(&args.server_url, "import").await?;
    let pool = indexer::db::connect(&import_db.url, 4).await?;
    indexer::db::migrate(&pool).await?;
    let options = ImportOptions {
        batch_size: args.batch_size,
        ..ImportOptions::default()
    };
    let summary = import_files(
        &pool,
        Format::Openalex,
        std::slice::from_ref(&input),
        &options,
    )
    .await?;
    anyhow::ensure!(
        summary.rejected.is_empty(),
        "benchmark input was rejected: {:?}",
        summary.rejected
    );

    let copy_db = BenchDatabase::create(&args.server_url, "copy").await?;
    let copy_pool = indexer::db::connect(&copy_db.url, 2).await?;
    indexer::db::migrate(&copy_pool).await?;
    copy_pool.close().await;
    let rows = export_rows(&import_db.url).await?;
    let started = Instant::now();
    let mut connection = PgConnection::connect(&copy_db.url).await?;
    let mut copy = connection
        .copy_in_raw("copy raw_records (source, source_id, entity_type, data, checksum) from stdin")
        .await?;
    copy.send(rows).await?;
    let num_copied = copy.finish().await?;
    let copy_secs = started.elapsed().as_secs_f64();
    connection.close().await?;
    pool.close().await;

    let import_secs = summary.elapsed.as_secs_f64();
    let mb = num_bytes as f64 / 1e6;
    println!("machine: {}", atlas_benches::machine_description());
    println!(
        "data: {} OpenAlex records built from the real 2022 sample, {mb:.1} MB of JSON lines",
        args.num_records
    );
    println!();
    println!("| method | records | seconds | records/s | MB/s |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| indexer import (batch {}) | {} | {import_secs:.2} | {:.0} | {:.1} |",
        args.batch_size,
        summary.num_inserted,
        summary.num_inserted as f64 / import_secs,
        mb / import_secs
    );
    println!(
        "| COPY of the same rows | {num_copied} | {copy_secs:.2} | {:.0} | {:.1} |",
        num_copied as f64 / copy_secs,
        mb / copy_secs
    );
    println!();
    println!(
        "import takes {:.2}x the time of COPY",
        import_secs / copy_secs
    );

    std::fs::remove_dir_all(&workdir).ok();
    import_db.drop_now().await?;
    copy_db.drop_now().await?;
    Ok(())
}

/// Writes `num_records` OpenAlex records to `path`, returning the bytes written.
fn write_input(path: &std::path::Path, num_records: usize) -> anyhow::Result<u64> {
    let sample_path = atlas_benches::samples_dir().join("openalex/works-2022-schema.jsonl");
    let sample = std::fs::read_to_string(&sample_path)
        .with_context(|| format!("failed to read `{}`", sample_path.display()))?;
    let works: Vec<serde_json::Value> = sample
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut num_bytes = 0;
    for index in 0..num_records {
        let mut work = works[index % works.len()].clone();
        work["id"] = serde_json::Value::String(format!("https://openalex.org/W8{index:09}"));
        let line = work.to_string();
        num_bytes += line.len() as u64 + 1;
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(num_bytes)
}

/// Returns the stored rows in COPY text format.
async fn export_rows(url: &str) -> anyhow::Result<Vec<u8>> {
    let mut connection = PgConnection::connect(url).await?;
    let mut stream = connection
        .copy_out_raw("copy raw_records (source, source_id, entity_type, data, checksum) to stdout")
        .await?;
    let mut rows = Vec::new();
    while let Some(chunk) = stream.next().await {
        rows.extend_from_slice(&chunk?);
    }
    Ok(rows)
}

/// A database that exists for one benchmark run.
struct BenchDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl BenchDatabase {
    async fn create(server_url: &str, label: &str) -> anyhow::Result<Self> {
        let name = format!("atlas_bench_{label}_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(server_url).await?;
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await?;
        let base = server_url
            .rsplit_once('/')
            .map_or(server_url, |(base, _)| base);
        Ok(Self {
            server_url: server_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        })
    }

    async fn drop_now(self) -> anyhow::Result<()> {
        let mut admin = PgConnection::connect(&self.server_url).await?;
        sqlx::query(&format!(
            "drop database if exists {} with (force)",
            self.name
        ))
        .execute(&mut admin)
        .await?;
        Ok(())
    }
}
