//! Delay from a committed change in PostgreSQL to a searchable document, at a steady rate.
//!
//! Builds empty indexes in a fresh database, runs the follower in this process with its
//! default batching, inserts raw records at `--rate` per second for `--secs` seconds, and
//! after every follower commit checks which inserted records are searchable, by id. The
//! delay of a record is the time from its insert's commit to the first commit that shows
//! it; the figure is what a user waiting for a new record would see.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use clap::Parser;
use indexer::follow::{FollowOptions, Follower};
use indexer::index::{self, BuildOptions, IndexKind, ShardedIndex};
use sqlx::{Connection, PgConnection};
use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::Term;
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
    let dir = tempfile_dir()?;
    let options = FollowOptions {
        index_dir: dir.clone(),
        kinds: vec![IndexKind::Records],
        poll_interval: Duration::from_secs(1),
        commit_interval: Duration::from_millis(args.commit_interval_ms),
        commit_num_docs: 10_000,
        build: BuildOptions {
            num_shards: 2,
            ..BuildOptions::default()
        },
    };
    index::build(&pool, &dir, &[IndexKind::Records], &options.build).await?;
    let follower = Follower::new(pool.clone(), options);
    let mut status = follower.status();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let follower_task = tokio::spawn(follower.run(async move {
        let _ = stopped.await;
    }));

    let (inserted_sender, mut inserted) = tokio::sync::mpsc::unbounded_channel();
    let writer = tokio::spawn(write_steadily(
        url.to_owned(),
        args.rate,
        args.secs,
        inserted_sender,
    ));
    let mut index = ShardedIndex::open_current(&dir, IndexKind::Records)?.expect("built above");
    let mut pending: HashMap<Uuid, Instant> = HashMap::new();
    let mut delays = Vec::new();
    let mut writes_done = false;
    let give_up_at = Instant::now() + Duration::from_secs(args.secs + 60);
    while !(writes_done && pending.is_empty()) && Instant::now() < give_up_at {
        tokio::select! {
            changed = status.changed() => {
                if changed.is_err() {
                    break;
                }
                index.reload()?;
                let seen_at = Instant::now();
                pending.retain(|id, committed_at| {
                    let searchable = is_searchable(&index, *id);
                    if searchable {
                        delays.push(seen_at - *committed_at);
                    }
                    !searchable
                });
            }
            received = inserted.recv(), if !writes_done => match received {
                Some((id, committed_at)) => {
                    pending.insert(id, committed_at);
                }
                None => writes_done = true,
            },
        }
    }
    writer.await??;
    let _ = stop.send(());
    follower_task.await??;
    if !pending.is_empty() {
        println!("{} changes never became searchable", pending.len());
    }
    report(args, &mut delays);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

/// Inserts `rate` records per second for `secs` seconds, one transaction each, sending
/// every record's id with the instant its commit returned.
async fn write_steadily(
    url: String,
    rate: u32,
    secs: u64,
    inserted: tokio::sync::mpsc::UnboundedSender<(Uuid, Instant)>,
) -> anyhow::Result<()> {
    let mut connection = PgConnection::connect(&url).await?;
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / rate.max(1));
    for number in 0..u64::from(rate) * secs {
        ticker.tick().await;
        let id: Uuid = sqlx::query_scalar(
            "insert into raw_records (source, source_id, entity_type, data, checksum)
             values ('openalex', $1, 'work', jsonb_build_object('id', $1::text, 'title', 'latency probe ' || $1), md5($1))
             returning id",
        )
        .bind(format!("W-latency-{number}"))
        .fetch_one(&mut connection)
        .await?;
        let _ = inserted.send((id, Instant::now()));
    }
    Ok(())
}

fn is_searchable(index: &ShardedIndex, id: Uuid) -> bool {
    let shard = &index.shards()[index::shard_of(id, index.num_shards())];
    let schema = shard.index.schema();
    let Ok(id_field) = schema.get_field(index::schema::ID) else {
        return false;
    };
    let query = TermQuery::new(
        Term::from_field_text(id_field, &id.to_string()),
        IndexRecordOption::Basic,
    );
    shard
        .reader
        .searcher()
        .search(&query, &Count)
        .is_ok_and(|count| count > 0)
}

fn report(args: &Args, delays: &mut [Duration]) {
    delays.sort_unstable();
    let percentile = |p: f64| {
        delays
            .get(((delays.len() as f64 - 1.0) * p).round() as usize)
            .map_or(f64::NAN, |delay| delay.as_secs_f64() * 1000.0)
    };
    println!("machine: {}", atlas_benches::machine_description());
    println!(
        "data: {} changes at {} per second, follower commit interval {} ms, 2 shards",
        delays.len(),
        args.rate,
        args.commit_interval_ms
    );
    println!();
    println!("| changes | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.0} | {:.0} | {:.0} | {:.0} |",
        delays.len(),
        percentile(0.5),
        percentile(0.9),
        percentile(0.99),
        percentile(1.0)
    );
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("atlas-follow-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
