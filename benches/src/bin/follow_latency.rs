//! Delay from a committed change in PostgreSQL to a searchable document, at a steady rate.
//!
//! Builds empty indexes in a fresh database, runs the follower in this process with its
//! default batching, inserts raw records at `--rate` per second for `--secs` seconds, and
//! after every follower commit checks which inserted records are searchable, by id. The
//! delay of a record is the time from its insert's commit to the first commit that shows
//! it; the figure is what a user waiting for a new record would see.

use std::time::Duration;

use atlas_benches::follow::{self, FollowBench};
use clap::Parser;
use indexer::index::{self, BuildOptions, IndexKind};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

/// Measures change-to-searchable delay of the follower.
#[derive(Debug, Parser)]
struct Args {
    /// PostgreSQL server in which the benchmark database is created and dropped.
    #[arg(
        long,
        env = "ATLAS_BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    server_url: String,
    /// Changes per second.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Seconds of changes.
    #[arg(long, default_value_t = 30)]
    secs: u64,
    /// The follower's commit interval in milliseconds (its default is 500).
    #[arg(long, default_value_t = 500)]
    commit_interval_ms: u64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let name = format!("atlas_bench_follow_{}", Uuid::now_v7().simple());
    let mut admin = PgConnection::connect(&args.server_url).await?;
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await?;
    let base = args
        .server_url
        .rsplit_once('/')
        .map_or(args.server_url.as_str(), |(base, _)| base);
    let url = format!("{base}/{name}");
    let result = run(&args, &url).await;
    sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&mut admin)
        .await?;
    result
}

async fn run(args: &Args, url: &str) -> anyhow::Result<()> {
    let pool = indexer::db::connect(url, 4).await?;
    indexer::db::migrate(&pool).await?;
    let dir = std::env::temp_dir().join(format!("atlas-follow-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let build = BuildOptions {
        num_shards: 2,
        ..BuildOptions::default()
    };
    index::build(&pool, &dir, &[IndexKind::Records], &build).await?;
    let bench = FollowBench {
        rate: args.rate,
        secs: args.secs,
        commit_interval: Duration::from_millis(args.commit_interval_ms),
        num_shards: 2,
        probe_prefix: "W-latency-".to_owned(),
    };
    let figures = follow::measure(&pool, url, &dir, &bench).await?;
    if figures.num_unseen > 0 {
        println!("{} changes never became searchable", figures.num_unseen);
    }
    println!("machine: {}", atlas_benches::machine_description());
    println!(
        "data: {} changes at {} per second, follower commit interval {} ms, 2 shards",
        figures.num_changes, args.rate, args.commit_interval_ms
    );
    println!();
    println!("| changes | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.0} | {:.0} | {:.0} | {:.0} |",
        figures.num_changes, figures.p50_ms, figures.p90_ms, figures.p99_ms, figures.max_ms
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
