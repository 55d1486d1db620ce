//! The follower keeps the indexes equal to PostgreSQL:
//!
//! 1. a change committed in PostgreSQL becomes searchable, and a delete removes the document;
//! 2. a transaction that began early and committed after later ones is not skipped;
//! 3. random interleavings of inserts, updates and deletes from concurrent transactions that
//!    commit out of order (or roll back), with the follower killed and restarted at random
//!    points, end with every index equal to the database;
//! 4. killed with SIGKILL mid-stream, the `indexer follow` process resumes from its last
//!    commit and converges;
//! 5. PostgreSQL going away mid-stream is waited out, and following resumes when it returns;
//! 6. a follower whose unread changes were pruned from the feed rebuilds its indexes;
//! 7. an index an older binary built (another schema version) is rebuilt when following
//!    starts, not refused;
//! 8. a follower with nothing to apply, whose position moved only because transactions
//!    ran elsewhere, looks at the feed once per poll interval rather than in a loop.

use std::path::Path;
use std::time::{Duration, Instant};

use indexer::feed::FeedPosition;
use indexer::follow::{FollowOptions, Follower};
use indexer::index::{self, BuildOptions, IndexKind, ShardedIndex, VerifyOptions};
use indexer::testing::TestDatabase;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

const ALL_KINDS: [IndexKind; 3] = [IndexKind::Records, IndexKind::Works, IndexKind::Profiles];

fn options(dir: &Path) -> FollowOptions {
    FollowOptions {
        index_dir: dir.to_owned(),
        kinds: ALL_KINDS.to_vec(),
        poll_interval: Duration::from_millis(50),
        commit_interval: Duration::from_millis(50),
        commit_num_docs: 20,
        build: BuildOptions {
            num_shards: 2,
            writer_heap_num_bytes: 2 * index::MIN_SHARD_HEAP_NUM_BYTES,
            ..BuildOptions::default()
        },
    }
}

/// Starts a follower task; dropping the handle does not stop it, `stop` or `abort` does.
struct RunningFollower {
    task: tokio::task::JoinHandle<indexer::Result<()>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl RunningFollower {
    fn start(pool: &PgPool, dir: &Path) -> Self {
        let follower = Follower::new(pool.clone(), options(dir));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(follower.run(async move {
            let _ = stopped.await;
        }));
        Self { task, stop }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("follower task")
            .expect("follower ends cleanly");
    }

    /// Ends the follower where it stands, as a crash would: nothing after its last commit
    /// survives.
    async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

async fn current_snapshot(pool: &PgPool) -> FeedPosition {
    let snapshot: String = sqlx::query_scalar("select pg_current_snapshot()::text")
        .fetch_one(pool)
        .await
        .unwrap();
    FeedPosition::parse(&snapshot).unwrap()
}

/// Waits until every shard of every index has committed a position that includes every
/// change committed now. Transaction ids are shared by the whole server, where other tests
/// run too, so "caught up" is asked of this database's feed rather than of xmin.
async fn wait_caught_up(pool: &PgPool, dir: &Path) {
    let target = current_snapshot(pool).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut num_behind = 0;
        for kind in ALL_KINDS {
            let Some(index) = ShardedIndex::open_current(dir, kind).unwrap() else {
                num_behind += 1;
                continue;
            };
            for position in index.positions() {
                let Some(position) = position else {
                    num_behind += 1;
                    continue;
                };
                let unapplied: i64 = sqlx::query_scalar(
                    "select count(*) from index_changes
                     where index_name = $1
                       and pg_visible_in_snapshot(xid, $2::text::pg_snapshot)
                       and xid >= pg_snapshot_xmin($3::text::pg_snapshot)
                       and not pg_visible_in_snapshot(xid, $3::text::pg_snapshot)",
                )
                .bind(kind.name())
                .bind(target.as_str())
                .bind(&position)
                .fetch_one(pool)
                .await
                .unwrap();
                num_behind += usize::from(unapplied > 0);
            }
        }
        if num_behind == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "follower did not catch up with {target}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn assert_indexes_equal_database(pool: &PgPool, dir: &Path) {
    let report = index::verify(pool, dir, &ALL_KINDS, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(
        !report.has_drift(),
        "indexes differ from PostgreSQL: {report:#?}"
    );
}

async fn insert_record(
    connection: &mut PgConnection,
    source_id: &str,
    title: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "insert into raw_records (source, source_id, entity_type, data, checksum)
         values ('openalex', $1, 'work', jsonb_build_object('id', $1::text, 'title', $2::text), md5($2))
         returning id",
    )
    .bind(source_id)
    .bind(title)
    .fetch_one(connection)
    .await
}

fn count_title(dir: &Path, word: &str) -> usize {
    let index = ShardedIndex::open_current(dir, IndexKind::Records)
        .unwrap()
        .unwrap();
    let mut total = 0;
    for shard in index.shards() {
        let searcher = shard.reader.searcher();
        let schema = shard.index.schema();
        let title = schema.get_field(index::schema::TITLE).unwrap();
        let query = tantivy::query::TermQuery::new(
            tantivy::Term::from_field_text(title, word),
            tantivy::schema::IndexRecordOption::Basic,
        );
        total += searcher.search(&query, &tantivy::collector::Count).unwrap();
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_change_becomes_searchable_and_a_delete_removes_it() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let follower = RunningFollower::start(&database.pool, dir.path());

    let mut connection = database.pool.acquire().await.unwrap();
    let id = insert_record(&mut connection, "W1", "coelacanth genomics")
        .await
        .unwrap();
    wait_caught_up(&database.pool, dir.path()).await;
    assert_eq!(count_title(dir.path(), "coelacanth"), 1);

    sqlx::query("delete from raw_records where id = $1")
        .bind(id)
        .execute(&database.pool)
        .await
        .unwrap();
    wait_caught_up(&database.pool, dir.path()).await;
    assert_eq!(count_title(dir.path(), "coelacanth"), 0);

    follower.stop().await;
    assert_indexes_equal_database(&database.pool, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_follower_whose_position_moved_waits_its_poll_interval() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let poll_interval = Duration::from_millis(200);
    let follower = Follower::new(
        database.pool.clone(),
        FollowOptions {
            poll_interval,
            ..options(dir.path())
        },
    );
    let mut status = follower.status();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(follower.run(async move {
        let _ = stopped.await;
    }));
    tokio::time::timeout(
        Duration::from_secs(60),
        status.wait_for(|status| status.ready && status.num_cycles > 0),
    )
    .await
    .expect("the follower became ready")
    .unwrap();

    // A transaction that writes nothing the indexes hold moves every follower's position.
    sqlx::query("select pg_current_xact_id()")
        .execute(&database.pool)
        .await
        .unwrap();
    tokio::time::sleep(2 * poll_interval).await;
    let before = status.borrow().num_cycles;
    let watched = Duration::from_secs(1);
    tokio::time::sleep(watched).await;
    let num_cycles = status.borrow().num_cycles - before;
    let expected = watched.as_millis() / poll_interval.as_millis();
    assert!(
        u128::from(num_cycles) <= expected + 2,
        "{num_cycles} looks at the feed in {watched:?} with a poll interval of {poll_interval:?}"
    );
    assert!(num_cycles > 0, "the follower stopped looking at the feed");

    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_that_commits_late_is_not_skipped() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let follower = RunningFollower::start(&database.pool, dir.path());

    // The early transaction takes its transaction id first and commits last.
    let mut early = PgConnection::connect(&database.url).await.unwrap();
    sqlx::query("begin").execute(&mut early).await.unwrap();
    insert_record(&mut early, "W-early", "zeolite")
        .await
        .unwrap();

    let mut late = database.pool.acquire().await.unwrap();
    insert_record(&mut late, "W-late", "yttrium").await.unwrap();
    wait_caught_up(&database.pool, dir.path()).await;
    assert_eq!(count_title(dir.path(), "yttrium"), 1);
    assert_eq!(count_title(dir.path(), "zeolite"), 0);

    sqlx::query("commit").execute(&mut early).await.unwrap();
    wait_caught_up(&database.pool, dir.path()).await;
    assert_eq!(
        count_title(dir.path(), "zeolite"),
        1,
        "the late commit reached the index"
    );

    follower.stop().await;
    assert_indexes_equal_database(&database.pool, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_behind_a_pruned_feed_rebuilds_instead_of_missing_changes() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let follower = RunningFollower::start(&database.pool, dir.path());
    let mut connection = database.pool.acquire().await.unwrap();
    insert_record(&mut connection, "W-read", "quillwort")
        .await
        .unwrap();
    wait_caught_up(&database.pool, dir.path()).await;
    follower.stop().await;
    let generation_before = ShardedIndex::open_current(dir.path(), IndexKind::Records)
        .unwrap()
        .unwrap()
        .generation()
        .to_owned();

    // Written while no follower runs, then pruned before any follower read it.
    insert_record(&mut connection, "W-unread", "hornwort")
        .await
        .unwrap();
    let refused = indexer::feed::prune(&database.pool, "-1 day")
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("negative"), "{refused}");
    let num_pruned = indexer::feed::prune(&database.pool, "0 seconds")
        .await
        .unwrap();
    assert!(num_pruned >= 2, "pruned {num_pruned} feed rows");
    let num_left: i64 = sqlx::query_scalar("select count(*) from index_changes")
        .fetch_one(&database.pool)
        .await
        .unwrap();
    assert_eq!(num_left, 0);

    let follower = RunningFollower::start(&database.pool, dir.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    while count_title(dir.path(), "hornwort") == 0 {
        assert!(
            Instant::now() < deadline,
            "the pruned change never reached the index"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rebuilt = ShardedIndex::open_current(dir.path(), IndexKind::Records)
        .unwrap()
        .unwrap();
    assert_ne!(rebuilt.generation(), generation_before);
    assert_eq!(count_title(dir.path(), "quillwort"), 1);

    // Following goes on from the rebuilt generation.
    insert_record(&mut connection, "W-after", "spikemoss")
        .await
        .unwrap();
    wait_caught_up(&database.pool, dir.path()).await;
    assert_eq!(count_title(dir.path(), "spikemoss"), 1);
    follower.stop().await;
    assert_indexes_equal_database(&database.pool, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_of_another_schema_version_is_rebuilt_when_following_starts() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut connection = database.pool.acquire().await.unwrap();
    insert_record(&mut connection, "W-old", "clubmoss")
        .await
        .unwrap();
    index::build(
        &database.pool,
        dir.path(),
        &ALL_KINDS,
        &options(dir.path()).build,
    )
    .await
    .unwrap();
    // Generation 1 of the records index as an older binary would have left it.
    let meta_path = index::generation_dir(dir.path(), IndexKind::Records, 1).join(index::META_FILE);
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["schema_version"] = serde_json::Value::from(index::schema::SCHEMA_VERSION - 1);
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    assert!(ShardedIndex::open_current(dir.path(), IndexKind::Records).is_err());

    let follower = RunningFollower::start(&database.pool, dir.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    while ShardedIndex::open_current(dir.path(), IndexKind::Records).is_err() {
        assert!(Instant::now() < deadline, "the index was never rebuilt");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    insert_record(&mut connection, "W-new", "quillwort")
        .await
        .unwrap();
    wait_caught_up(&database.pool, dir.path()).await;
    let rebuilt = ShardedIndex::open_current(dir.path(), IndexKind::Records)
        .unwrap()
        .unwrap();
    assert_eq!(rebuilt.generation(), "gen-2");
    assert_eq!(count_title(dir.path(), "clubmoss"), 1);
    assert_eq!(count_title(dir.path(), "quillwort"), 1);
    follower.stop().await;
    assert_indexes_equal_database(&database.pool, dir.path()).await;
}

/// One step of a random workload.
#[derive(Debug, Clone)]
enum Step {
    /// Runs statements in a transaction on connection `slot`, leaving it open.
    Write { slot: usize, statement: Statement },
    /// Commits (or rolls back) the open transaction of `slot`.
    Finish { slot: usize, commit: bool },
    /// Kills the follower and starts a new one.
    RestartFollower,
}

#[derive(Debug, Clone)]
enum Statement {
    NewRecordVersion { key: u8, title: u8 },
    DeleteRecordVersion { key: u8 },
    ProposeCandidate { key: u8, profile: u8 },
    DecideCandidate { key: u8, status: u8 },
    RenameProfile { profile: u8, name: u8 },
    AddNameForm { profile: u8, name: u8 },
    RemoveNameForms { profile: u8 },
    CreateWork { key: u8, profile: u8 },
    DeleteWork { key: u8 },
}

const WORDS: [&str; 6] = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
const STATUSES: [&str; 5] = [
    "pending",
    "uncertain",
    "confirmed",
    "auto_confirmed",
    "rejected",
];

fn statement_strategy() -> impl Strategy<Value = Statement> {
    let key = 0_u8..6;
    let small = 0_u8..3;
    prop_oneof![
        3 => (key.clone(), 0_u8..6).prop_map(|(key, title)| Statement::NewRecordVersion { key, title }),
        1 => key.clone().prop_map(|key| Statement::DeleteRecordVersion { key }),
        2 => (key.clone(), small.clone()).prop_map(|(key, profile)| Statement::ProposeCandidate { key, profile }),
        2 => (key.clone(), 0_u8..5).prop_map(|(key, status)| Statement::DecideCandidate { key, status }),
        1 => (small.clone(), 0_u8..6).prop_map(|(profile, name)| Statement::RenameProfile { profile, name }),
        1 => (small.clone(), 0_u8..6).prop_map(|(profile, name)| Statement::AddNameForm { profile, name }),
        1 => small.clone().prop_map(|profile| Statement::RemoveNameForms { profile }),
        1 => (key.clone(), small).prop_map(|(key, profile)| Statement::CreateWork { key, profile }),
        1 => key.prop_map(|key| Statement::DeleteWork { key }),
    ]
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0_usize..3, statement_strategy()).prop_map(|(slot, statement)| Step::Write { slot, statement }),
        3 => (0_usize..3, prop::bool::weighted(0.85)).prop_map(|(slot, commit)| Step::Finish { slot, commit }),
        1 => Just(Step::RestartFollower),
    ]
}

/// Runs `statement`; a statement the data refuses (a foreign key, say) is rolled back to a
/// savepoint so the transaction goes on, as an application would.
async fn run_statement(connection: &mut PgConnection, statement: &Statement) {
    sqlx::query("savepoint step")
        .execute(&mut *connection)
        .await
        .unwrap();
    let profile_name = |profile: u8| format!("Profile {profile}");
    let result = match statement {
        Statement::NewRecordVersion { key, title } => {
            let title = format!("{} record {key}", WORDS[*title as usize]);
            insert_record(connection, &format!("W{key}"), &title).await.map(|_| ())
        }
        Statement::DeleteRecordVersion { key } => sqlx::query(
            "delete from raw_records where id = (
                 select id from raw_records where source_id = $1 order by id limit 1)",
        )
        .bind(format!("W{key}"))
        .execute(&mut *connection)
        .await
        .map(|_| ()),
        Statement::ProposeCandidate { key, profile } => sqlx::query(
            "insert into candidate_matches (raw_record_id, profile_id, entity_type, match_score)
             select h.raw_record_id, p.id, 'work', 0.5
             from raw_record_heads h, author_profiles p
             where h.source_id = $1 and p.display_name like $2 || '%'
             on conflict do nothing",
        )
        .bind(format!("W{key}"))
        .bind(profile_name(*profile))
        .execute(&mut *connection)
        .await
        .map(|_| ()),
        Statement::DecideCandidate { key, status } => sqlx::query(
            "update candidate_matches set status = $2
             where raw_record_id in (select id from raw_records where source_id = $1)",
        )
        .bind(format!("W{key}"))
        .bind(STATUSES[*status as usize])
        .execute(&mut *connection)
        .await
        .map(|_| ()),
        Statement::RenameProfile { profile, name } => sqlx::query(
            "update author_profiles set display_name = $1 || ' ' || $2 where display_name like $1 || '%'",
        )
        .bind(profile_name(*profile))
        .bind(WORDS[*name as usize])
        .execute(&mut *connection)
        .await
        .map(|_| ()),
        Statement::AddNameForm { profile, name } => sqlx::query(
            "insert into profile_identities (profile_id, identifier_type, identifier_value)
             select id, 'name', $2 from author_profiles where display_name like $1 || '%'
             on conflict do nothing",
        )
        .bind(profile_name(*profile))
        .bind(format!("{} {}", WORDS[*name as usize], profile))
        .execute(&mut *connection)
        .await
        .map(|_| ()),
        Statement::RemoveNameForms { profile } => sqlx::query(
            "delete from profile_identities
             where profile_id in (select id from author_profiles where display_name like $1 || '%')",
        )
        .bind(profile_name(*profile))
        .execute(&mut *connection)
        .await
        .map(|_| ()),
        Statement::CreateWork { key, profile } => sqlx::query(
            "with work as (
                 insert into canonical_works (title, merged_from)
                 values ($1, jsonb_build_array($1)) returning id)
             insert into work_authorships (work_id, profile_id)
             select work.id, p.id from work, author_profiles p where p.display_name like $2 || '%'",
        )
        .bind(format!("work {key}"))
        .bind(profile_name(*profile))
        .execute(&mut *connection)
        .await
        .map(|_| ()),
        Statement::DeleteWork { key } => sqlx::query("delete from canonical_works where title = $1")
            .bind(format!("work {key}"))
            .execute(&mut *connection)
            .await
            .map(|_| ()),
    };
    let cleanup = if result.is_ok() {
        "release savepoint step"
    } else {
        "rollback to savepoint step"
    };
    sqlx::query(cleanup)
        .execute(&mut *connection)
        .await
        .unwrap();
}

async fn run_workload(steps: Vec<Step>) {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    for profile in 0..3 {
        sqlx::query("insert into author_profiles (display_name) values ($1)")
            .bind(format!("Profile {profile}"))
            .execute(pool)
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut follower = RunningFollower::start(pool, dir.path());

    // The steps run one at a time, so a statement waiting for another slot's lock would
    // wait forever; a short lock timeout makes it fail and roll back to its savepoint.
    let mut slots = Vec::new();
    for _ in 0..3 {
        let mut connection = PgConnection::connect(&database.url).await.unwrap();
        sqlx::query("set lock_timeout = '100ms'")
            .execute(&mut connection)
            .await
            .unwrap();
        slots.push((connection, false));
    }
    for step in steps {
        match step {
            Step::Write { slot, statement } => {
                let (connection, open) = &mut slots[slot];
                if !*open {
                    sqlx::query("begin")
                        .execute(&mut *connection)
                        .await
                        .unwrap();
                    *open = true;
                }
                run_statement(connection, &statement).await;
            }
            Step::Finish { slot, commit } => {
                let (connection, open) = &mut slots[slot];
                if *open {
                    // A commit that notifies waits for the server-wide notification queue
                    // lock, which other tests' commits hold now and then: no timeout there.
                    sqlx::query("set local lock_timeout = 0")
                        .execute(&mut *connection)
                        .await
                        .unwrap();
                    let end = if commit { "commit" } else { "rollback" };
                    sqlx::query(end).execute(&mut *connection).await.unwrap();
                    *open = false;
                }
            }
            Step::RestartFollower => {
                tokio::time::sleep(Duration::from_millis(30)).await;
                follower.kill().await;
                follower = RunningFollower::start(pool, dir.path());
            }
        }
        tokio::task::yield_now().await;
    }
    for (connection, open) in &mut slots {
        if *open {
            sqlx::query("commit")
                .execute(&mut *connection)
                .await
                .unwrap();
        }
    }

    wait_caught_up(pool, dir.path()).await;
    follower.stop().await;
    assert_indexes_equal_database(pool, dir.path()).await;
}

#[test]
fn random_concurrent_workloads_with_restarts_converge_to_the_database() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 6,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(step_strategy(), 20..60), |steps| {
            runtime.block_on(run_workload(steps));
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_process_killed_mid_stream_resumes_from_its_last_commit() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_indexer"))
            .args([
                "follow",
                "--shards",
                "2",
                "--commit-interval-ms",
                "20",
                "--writer-heap-mb",
                "32",
            ])
            .arg("--index-dir")
            .arg(dir.path())
            .env("DATABASE_URL", &database.url)
            .env("ATLAS_LOG_FORMAT", "json")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start indexer follow")
    };
    let mut process = start();
    let mut connection = database.pool.acquire().await.unwrap();
    for round in 0..4 {
        for item in 0..40 {
            insert_record(
                &mut connection,
                &format!("W{round}-{item}"),
                &format!("kill round {round} {item}"),
            )
            .await
            .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100 + 70 * round)).await;
        process.kill().unwrap();
        process.wait().unwrap();
        process = start();
    }
    wait_caught_up(&database.pool, dir.path()).await;
    process.kill().unwrap();
    process.wait().unwrap();
    assert_eq!(count_title(dir.path(), "kill"), 160);
    assert_indexes_equal_database(&database.pool, dir.path()).await;
}

/// Connects to the server's maintenance database, where the test database can be closed.
async fn admin_connection() -> PgConnection {
    let url = std::env::var("ATLAS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| indexer::testing::DEFAULT_TEST_SERVER_URL.to_owned());
    PgConnection::connect(&url).await.unwrap()
}

async fn database_name(pool: &PgPool) -> String {
    sqlx::query_scalar("select current_database()")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_going_away_mid_stream_is_waited_out() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let follower = Follower::new(database.pool.clone(), options(dir.path()));
    let mut status = follower.status();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(follower.run(async move {
        let _ = stopped.await;
    }));

    let mut connection = database.pool.acquire().await.unwrap();
    insert_record(&mut connection, "W-before", "before outage")
        .await
        .unwrap();
    drop(connection);
    wait_caught_up(&database.pool, dir.path()).await;

    // Close the database to every new connection and end the open ones: to the follower,
    // PostgreSQL is gone.
    let name = database_name(&database.pool).await;
    let mut admin = admin_connection().await;
    sqlx::query(&format!(
        "alter database {name} with allow_connections false"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1")
        .bind(&name)
        .execute(&mut admin)
        .await
        .unwrap();
    tokio::time::timeout(
        Duration::from_secs(20),
        status.wait_for(|status| !status.reachable),
    )
    .await
    .expect("the follower notices that PostgreSQL is gone")
    .unwrap();
    assert!(
        !task.is_finished(),
        "the follower waits PostgreSQL out instead of failing"
    );

    sqlx::query(&format!(
        "alter database {name} with allow_connections true"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    let mut connection = database.pool.acquire().await.unwrap();
    insert_record(&mut connection, "W-after", "after outage")
        .await
        .unwrap();
    drop(connection);
    tokio::time::timeout(
        Duration::from_secs(60),
        status.wait_for(|status| status.reachable),
    )
    .await
    .expect("the follower reconnects")
    .unwrap();
    wait_caught_up(&database.pool, dir.path()).await;
    assert_eq!(count_title(dir.path(), "outage"), 2);

    let _ = stop.send(());
    task.await.unwrap().unwrap();
    assert_indexes_equal_database(&database.pool, dir.path()).await;
}
