//! Import into a real PostgreSQL:
//!
//! 1. every real sample imports with counts that match the files;
//! 2. importing the same file twice adds nothing, whatever its key order and whitespace;
//! 3. a changed record adds exactly one new version, which becomes current;
//! 4. bad input is skipped and reported with its place, and the good records around it land;
//! 5. a record PostgreSQL refuses rejects only itself, not its batch;
//! 6. ORCID summaries create profiles with identities, and updating one changes only it;
//! 7. an import killed at any moment and run again ends as one clean run would;
//! 8. of concurrent imports of one record, the version fetched last is current, and the
//!    record is counted as inserted once;
//! 9. an import stopped by SIGTERM commits the batch it was writing and reports it;
//! 10. a value the index cannot use (a year that is not one) is reported with its place
//!     and its record stored;
//! 11. an import whose connections PostgreSQL ends retries its batches and loses nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use indexer::import::formats::Format;
use indexer::import::record::Location;
use indexer::import::writer::{insert_records, write_records, PreparedRecord};
use indexer::import::{import_files, ImportOptions, ImportSummary};
use indexer::testing::TestDatabase;
use sqlx::PgPool;

fn samples_dir() -> PathBuf {
    std::env::var_os("ATLAS_SAMPLES_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
        PathBuf::from,
    )
}

async fn import(pool: &PgPool, format: Format, paths: &[PathBuf]) -> ImportSummary {
    import_files(pool, format, paths, &ImportOptions::default())
        .await
        .expect("import runs")
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test]
async fn every_sample_imports_with_counts_that_match_the_files() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let samples = samples_dir();
    let cases: [(Format, Vec<PathBuf>, &str, i64); 5] = [
        (
            Format::Openalex,
            vec![samples.join("openalex/works-2022-schema.jsonl")],
            "openalex",
            410,
        ),
        (
            Format::Openalex,
            vec![samples.join("openalex/works-2024-schema.jsonl")],
            "openalex",
            442,
        ),
        (
            Format::Crossref,
            vec![
                samples.join("crossref/works-a.jsonl"),
                samples.join("crossref/works-b.jsonl"),
            ],
            "crossref",
            571,
        ),
        (
            Format::DblpAcm,
            vec![samples.join("dblp-acm/dblp.csv")],
            "dblp",
            2616,
        ),
        (
            Format::DblpAcm,
            vec![samples.join("dblp-acm/acm.csv")],
            "acm",
            2294,
        ),
    ];
    for (format, paths, source, expected) in cases {
        let summary = import(pool, format, &paths).await;
        assert!(
            summary.rejected.is_empty(),
            "{source}: {:?}",
            summary.rejected
        );
        let sql = format!("select count(*) from current_raw_records where source = '{source}'");
        assert_eq!(count(pool, &sql).await, expected, "{source} records");
    }

    // One of the eight ORCID files is ORCID's error response for a locked record: it names
    // no person, so it is rejected rather than made into an empty profile.
    let orcid = import(pool, Format::Orcid, &[samples.join("orcid/summaries")]).await;
    assert_eq!(orcid.rejected.len(), 1, "{:?}", orcid.rejected);
    assert!(orcid.rejected[0]
        .location
        .path
        .ends_with("0000-0001-5078-5000.xml"));
    assert!(
        orcid.rejected[0].reason.contains("locked"),
        "{}",
        orcid.rejected[0].reason
    );
    assert_eq!(count(pool, "select count(*) from author_profiles").await, 7);
    assert_eq!(
        count(
            pool,
            "select count(*) from current_raw_records where source = 'orcid'"
        )
        .await,
        551
    );

    // One of the six HAL XML files is HAL's error answer for a record it does not have.
    let hal = import(pool, Format::Hal, &[samples.join("hal")]).await;
    assert_eq!(hal.rejected.len(), 1, "{:?}", hal.rejected);
    assert!(
        hal.rejected[0].reason.contains("badArgument"),
        "{}",
        hal.rejected[0].reason
    );
    let num_hal = count(
        pool,
        "select count(*) from current_raw_records where source = 'hal'",
    )
    .await;
    assert_eq!(num_hal, 36 + 5, "36 search API docs and 5 OAI-PMH records");
}

#[tokio::test]
async fn importing_twice_adds_nothing_and_a_change_adds_one_version() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let dir = tempfile::tempdir().unwrap();
    let first = write_file(
        dir.path(),
        "a.jsonl",
        b"{\"id\":\"https://openalex.org/W1\",\"title\":\"Attention is all you need\",\"publication_year\":2017}\n\
          {\"id\":\"https://openalex.org/W2\",\"title\":\"B\"}\n",
    );
    let summary = import(pool, Format::Openalex, std::slice::from_ref(&first)).await;
    assert_eq!(
        (
            summary.num_read,
            summary.num_inserted,
            summary.num_unchanged
        ),
        (2, 2, 0)
    );

    let again = import(pool, Format::Openalex, std::slice::from_ref(&first)).await;
    assert_eq!(
        (
            again.num_inserted,
            again.num_new_versions,
            again.num_unchanged
        ),
        (0, 0, 2)
    );

    let reordered = write_file(
        dir.path(),
        "b.jsonl",
        b"{ \"publication_year\": 2017, \"title\": \"Attention is all you need\",  \"id\": \"https://openalex.org/W1\" }\n",
    );
    let same = import(pool, Format::Openalex, &[reordered]).await;
    assert_eq!(
        (same.num_inserted, same.num_new_versions, same.num_unchanged),
        (0, 0, 1)
    );

    let changed = write_file(
        dir.path(),
        "c.jsonl",
        b"{\"id\":\"https://openalex.org/W1\",\"title\":\"Attention Is All You Need\",\"publication_year\":2017}\n",
    );
    let new_version = import(pool, Format::Openalex, &[changed]).await;
    assert_eq!(
        (new_version.num_inserted, new_version.num_new_versions),
        (0, 1)
    );

    assert_eq!(count(pool, "select count(*) from raw_records").await, 3);
    let current_title: String = sqlx::query_scalar(
        "select data ->> 'title' from current_raw_records where source = 'openalex' and source_id = 'W1'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(current_title, "Attention Is All You Need");

    // Reported fault: a record that changed back (A, B, A) kept B as its current version.
    let changed_back = import(pool, Format::Openalex, std::slice::from_ref(&first)).await;
    assert_eq!(
        (changed_back.num_inserted, changed_back.num_new_versions),
        (0, 1)
    );
    assert_eq!(
        count(pool, "select count(*) from raw_records").await,
        3,
        "no row is added"
    );
    let current_title: String = sqlx::query_scalar(
        "select data ->> 'title' from current_raw_records where source = 'openalex' and source_id = 'W1'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        current_title, "Attention is all you need",
        "the content imported last is current"
    );
}

#[tokio::test]
async fn bad_input_is_reported_with_its_place_and_good_records_land() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let dir = tempfile::tempdir().unwrap();
    let mut content = Vec::new();
    content.extend_from_slice(b"{\"id\":\"https://openalex.org/W10\",\"title\":\"good one\"}\n");
    content.extend_from_slice(b"{\"id\":\"https://openalex.org/W11\",\"title\":\n");
    content.extend_from_slice(
        b"{\"id\":\"https://openalex.org/W12\",\"title\":\"bad \xff\xfe utf8\"}\n",
    );
    content.extend_from_slice(b"{\"title\":\"no id at all\"}\n");
    content.extend_from_slice(
        b"{\"id\":\"https://openalex.org/W13\",\"title\":\"nul \\u0000 inside\"}\n",
    );
    let oversized = format!(
        "{{\"id\":\"https://openalex.org/W14\",\"title\":\"{}\"}}\n",
        "x".repeat(2 << 20)
    );
    content.extend_from_slice(oversized.as_bytes());
    content.extend_from_slice(b"{\"id\":\"https://openalex.org/W15\",\"title\":\"good two\"}\n");
    let path = write_file(dir.path(), "mixed.jsonl", &content);
    let rejects = dir.path().join("rejects.jsonl");

    let options = ImportOptions {
        rejects_path: Some(rejects.clone()),
        ..ImportOptions::default()
    };
    let summary = import_files(
        pool,
        Format::Openalex,
        std::slice::from_ref(&path),
        &options,
    )
    .await
    .unwrap();

    assert_eq!(summary.num_inserted, 2, "both good records land");
    let lines: Vec<u64> = summary
        .rejected
        .iter()
        .filter_map(|rejected| rejected.location.line)
        .collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6], "{:#?}", summary.rejected);
    for rejected in &summary.rejected {
        assert_eq!(rejected.location.path, path);
        assert!(!rejected.reason.is_empty());
    }
    assert!(
        summary.rejected[2].reason.contains("id"),
        "{}",
        summary.rejected[2].reason
    );

    let written: Vec<serde_json::Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(written.len(), 5);
    assert_eq!(written[0]["line"], 2);
    assert!(written[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("mixed.jsonl"));
    assert_eq!(count(pool, "select count(*) from raw_records").await, 2);
}

#[tokio::test]
async fn a_value_the_index_cannot_use_is_reported_and_its_record_stored() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let dir = tempfile::tempdir().unwrap();
    let csv = "id,title,authors,venue,year\n\
               a1,First paper,Ann Lee,VLDB,1999\n\
               a2,Second paper,Bob Ray,VLDB,unknown\n\
               a3,Third paper,Cy Doe,VLDB,\n";
    let path = write_file(dir.path(), "dblp.csv", csv.as_bytes());
    let summary = import(pool, Format::DblpAcm, std::slice::from_ref(&path)).await;
    assert_eq!(summary.num_inserted, 3, "every record is stored");
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    assert_eq!(summary.num_warnings, 1, "{:?}", summary.warnings);
    let warning = &summary.warnings[0];
    assert_eq!(warning.location.path, path);
    assert_eq!(warning.location.line, Some(3));
    assert!(
        warning.message.contains("`year`") && warning.message.contains("unknown"),
        "{warning}"
    );
    let stored: serde_json::Value =
        sqlx::query_scalar("select data from raw_records where source_id = 'a2'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(stored["year"], "unknown", "the original is kept as it was");

    let lines = "{\"id\":\"https://openalex.org/W1\",\"title\":\"t\",\"doi\":\"n/a\"}\n";
    let path = write_file(dir.path(), "works.jsonl", lines.as_bytes());
    let summary = import(pool, Format::Openalex, std::slice::from_ref(&path)).await;
    assert_eq!(summary.num_inserted, 1);
    assert_eq!(summary.num_warnings, 1, "{:?}", summary.warnings);
    assert!(summary.warnings[0].message.contains("`doi`"));
    assert_eq!(summary.warnings[0].location.line, Some(1));
}

#[tokio::test]
async fn a_record_postgresql_refuses_rejects_only_itself() {
    let database = TestDatabase::create().await;
    let record = |source_id: &str, line: u64| PreparedRecord {
        source: "test".into(),
        source_id: source_id.into(),
        entity_type: "work".into(),
        data_json: format!("{{\"id\":\"{source_id}\"}}"),
        checksum: format!("checksum-{source_id}"),
        location: Location::line("batch.jsonl", line),
        warnings: Vec::new(),
    };
    // An empty source id breaks the `raw_records_source_nonempty` constraint.
    let batch = vec![record("a", 1), record("", 2), record("b", 3)];
    let outcome = write_records(&database.pool, &batch).await.unwrap();
    assert_eq!(outcome.num_inserted, 2);
    assert_eq!(outcome.rejected.len(), 1);
    assert_eq!(outcome.rejected[0].location.line, Some(2));
    assert!(
        outcome.rejected[0]
            .reason
            .contains("raw_records_source_nonempty"),
        "{}",
        outcome.rejected[0].reason
    );
}

#[tokio::test]
async fn orcid_profiles_are_created_with_identities_and_updated_in_place() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let summaries = samples_dir().join("orcid/summaries");
    let first = import(pool, Format::Orcid, std::slice::from_ref(&summaries)).await;
    assert_eq!(
        first.num_profiles_created, 7,
        "the eighth file is a locked record"
    );
    assert_eq!(first.rejected.len(), 1, "{:?}", first.rejected);

    let num_orcid_identities = count(
        pool,
        "select count(*) from profile_identities where identifier_type = 'orcid'",
    )
    .await;
    assert_eq!(num_orcid_identities, 7);
    let num_names = count(
        pool,
        "select count(*) from profile_identities where identifier_type = 'name'",
    )
    .await;
    assert!(
        num_names >= 7,
        "every profile is known by at least its display name"
    );
    let num_linked_works = count(
        pool,
        "select count(*) from current_raw_records r
         join author_profiles p on r.source_id like p.primary_orcid || ':%'
         where r.source = 'orcid'",
    )
    .await;
    assert_eq!(num_linked_works, 551, "each work summary names its person");

    let second = import(pool, Format::Orcid, std::slice::from_ref(&summaries)).await;
    assert_eq!(
        (second.num_profiles_created, second.num_profiles_updated),
        (0, 0)
    );
    assert_eq!(second.num_profiles_unchanged, 7);
    assert_eq!(second.num_inserted + second.num_new_versions, 0);
}

/// Builds an OpenAlex-shaped file of `num_records` records from the real samples, each with
/// an id of its own.
fn large_openalex_file(dir: &Path, num_records: usize) -> PathBuf {
    let sample =
        std::fs::read_to_string(samples_dir().join("openalex/works-2022-schema.jsonl")).unwrap();
    let works: Vec<serde_json::Value> = sample
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let path = dir.join("large.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for index in 0..num_records {
        let mut work = works[index % works.len()].clone();
        work["id"] = serde_json::Value::String(format!("https://openalex.org/W9{index:08}"));
        writeln!(file, "{work}").unwrap();
    }
    file.flush().unwrap();
    path
}

#[tokio::test]
async fn an_import_whose_connections_are_ended_retries_its_batches() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let dir = tempfile::tempdir().unwrap();
    let num_records = 6_000;
    let path = large_openalex_file(dir.path(), num_records);
    let name = database.url.rsplit('/').next().unwrap().to_owned();
    let server_url = std::env::var("ATLAS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| indexer::testing::DEFAULT_TEST_SERVER_URL.to_owned());
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&server_url)
        .await
        .unwrap();

    // An administrator ends every session of the database every half second while the
    // import runs, as repeated restarts or failovers would.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let terminator = tokio::spawn(async move {
        let mut num_ended = 0_i64;
        while !*stopped.borrow() {
            let ended: i64 = sqlx::query_scalar(
                "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity \
                 where datname = $1 and pid <> pg_backend_pid()) ended",
            )
            .bind(&name)
            .fetch_one(&admin)
            .await
            .unwrap();
            num_ended += ended;
            tokio::select! {
                _ = stopped.changed() => {}
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
        num_ended
    });
    let options = ImportOptions {
        batch_size: 50,
        ..ImportOptions::default()
    };
    let summary = import_files(
        pool,
        Format::Openalex,
        std::slice::from_ref(&path),
        &options,
    )
    .await
    .expect("the import retries the batches whose connection was ended");
    stop.send(true).unwrap();
    let num_ended = terminator.await.unwrap();
    assert!(
        num_ended > 0,
        "no session was ended: the test proves nothing"
    );
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    assert_eq!(
        summary.num_inserted + summary.num_unchanged,
        num_records as u64,
        "every record is counted once"
    );
    assert_eq!(
        count(pool, "select count(*) from raw_records").await,
        num_records as i64
    );
}

/// Whether PostgreSQL has statistics of `table` gathered by an explicit `analyze`.
async fn is_analyzed(pool: &PgPool, table: &str) -> bool {
    sqlx::query_scalar(
        "select last_analyze is not null from pg_stat_user_tables where relname = $1",
    )
    .bind(table)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_bulk_import_analyzes_the_tables_it_filled_and_a_small_one_does_not() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let dir = tempfile::tempdir().unwrap();
    let small = import(
        pool,
        Format::Openalex,
        &[samples_dir().join("openalex/works-2022-schema.jsonl")],
    )
    .await;
    assert!(small.num_inserted > 0 && small.num_inserted < 1_000);
    for table in ["raw_records", "raw_record_heads", "index_changes"] {
        assert!(
            !is_analyzed(pool, table).await,
            "{table} after a small import"
        );
    }

    let path = large_openalex_file(dir.path(), 1_500);
    let large = import(pool, Format::Openalex, std::slice::from_ref(&path)).await;
    assert!(large.num_inserted >= 1_000, "{large:?}");
    for table in ["raw_records", "raw_record_heads", "index_changes"] {
        assert!(
            is_analyzed(pool, table).await,
            "{table} after a bulk import"
        );
    }
}

async fn stored_versions(pool: &PgPool) -> Vec<(String, String, String)> {
    sqlx::query_as("select source, source_id, checksum from raw_records order by 1, 2, 3")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_import_killed_at_any_moment_and_rerun_ends_as_one_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = large_openalex_file(dir.path(), 6_000);
    let binary = env!("CARGO_BIN_EXE_indexer");
    let run = |database_url: &str| {
        Command::new(binary)
            .args(["import", "--format", "openalex", "--batch-size", "200"])
            .arg(&path)
            .env("DATABASE_URL", database_url)
            .env("ATLAS_LOG_FORMAT", "json")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start indexer")
    };

    let clean = TestDatabase::create().await;
    assert!(run(&clean.url).wait().unwrap().success());
    let expected = stored_versions(&clean.pool).await;
    assert_eq!(expected.len(), 6_000);

    let killed = TestDatabase::create().await;
    for kill_after_ms in [150_u64, 400, 700] {
        let mut child = run(&killed.url);
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        child.kill().ok();
        child.wait().unwrap();
    }
    let partial = stored_versions(&killed.pool).await;
    assert!(partial.len() <= expected.len());
    assert!(run(&killed.url).wait().unwrap().success());
    assert_eq!(stored_versions(&killed.pool).await, expected);
    assert_eq!(
        count(&killed.pool, "select count(*) from raw_record_heads").await,
        6_000
    );
}

#[tokio::test]
async fn an_import_stopped_by_sigterm_commits_its_batch_and_says_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let path = large_openalex_file(dir.path(), 20_000);
    let database = TestDatabase::create().await;
    let child = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["import", "--format", "openalex", "--batch-size", "200"])
        .arg(&path)
        .env("DATABASE_URL", &database.url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start indexer");
    // Once some batches are in, SIGTERM, as Kubernetes stops a job.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while count(&database.pool, "select count(*) from raw_records").await < 1_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the import never began"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("interrupted"), "{stdout}");
    let stored = count(&database.pool, "select count(*) from raw_records").await;
    assert!(stored < 20_000, "the import finished before the signal");
    assert!(
        stdout.contains(&format!("inserted {stored},")),
        "the summary counts the {stored} committed records: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_imports_of_the_same_profiles_both_succeed() {
    // Reported fault: of two ORCID imports started together, one failed on the unique ORCID.
    let database = TestDatabase::create().await;
    let summaries = samples_dir().join("orcid/summaries");
    let options = ImportOptions::default();
    let paths = [summaries];
    let (first, second) = tokio::join!(
        import_files(&database.pool, Format::Orcid, &paths, &options),
        import_files(&database.pool, Format::Orcid, &paths, &options),
    );
    let (first, second) = (first.expect("first import"), second.expect("second import"));
    assert_eq!(first.num_profiles_created + second.num_profiles_created, 7);
    assert_eq!(
        count(&database.pool, "select count(*) from author_profiles").await,
        7
    );
    assert_eq!(
        count(&database.pool, "select count(*) from current_raw_records").await,
        551
    );
}

/// Writes one version of `W1` in `transaction` through the import's own writer.
async fn write_version(transaction: &mut sqlx::PgConnection, title: &str) {
    let record = PreparedRecord {
        location: Location::line("concurrent.jsonl", 1),
        warnings: Vec::new(),
        source: "openalex".to_owned(),
        source_id: "W1".to_owned(),
        entity_type: "work".to_owned(),
        data_json: format!("{{\"id\":\"https://openalex.org/W1\",\"title\":\"{title}\"}}"),
        checksum: title.to_owned(),
    };
    insert_records(transaction, std::slice::from_ref(&record))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_version_fetched_last_is_current_whichever_import_commits_last() {
    // Reported fault: of two imports of different versions running at once, the one that
    // committed last became current even when it had fetched its version first.
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let current_title = || async {
        sqlx::query_scalar::<_, String>(
            "select data ->> 'title' from current_raw_records where source_id = 'W1'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    };
    let mut first = pool.begin().await.unwrap();
    write_version(&mut first, "first").await;
    first.commit().await.unwrap();

    // The older import begins (its fetch time is its start), the newer one begins later
    // and commits first.
    let mut older = pool.begin().await.unwrap();
    sqlx::query("select 1").execute(&mut *older).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut newer = pool.begin().await.unwrap();
    write_version(&mut newer, "newer").await;
    newer.commit().await.unwrap();
    write_version(&mut older, "older").await;
    older.commit().await.unwrap();
    assert_eq!(current_title().await, "newer");
    assert_eq!(count(pool, "select count(*) from raw_records").await, 3);

    // Committed in the order they began, the later one is current, as before.
    let mut earlier = pool.begin().await.unwrap();
    write_version(&mut earlier, "earlier").await;
    let mut later = pool.begin().await.unwrap();
    earlier.commit().await.unwrap();
    write_version(&mut later, "later").await;
    later.commit().await.unwrap();
    assert_eq!(current_title().await, "later");

    // Content imported again after another version is current again, fetched now.
    let mut again = pool.begin().await.unwrap();
    write_version(&mut again, "newer").await;
    again.commit().await.unwrap();
    assert_eq!(current_title().await, "newer");

    // Two imports of different versions of one new record count it once as inserted, once
    // as a new version, whichever waits for the other.
    let new_record = |title: &str| PreparedRecord {
        location: Location::line("concurrent.jsonl", 1),
        warnings: Vec::new(),
        source: "openalex".to_owned(),
        source_id: "W2".to_owned(),
        entity_type: "work".to_owned(),
        data_json: format!("{{\"id\":\"https://openalex.org/W2\",\"title\":\"{title}\"}}"),
        checksum: title.to_owned(),
    };
    let mut first_import = pool.begin().await.unwrap();
    let first_outcome = insert_records(&mut first_import, &[new_record("one")])
        .await
        .unwrap();
    let second_pool = pool.clone();
    let second_import = tokio::spawn(async move {
        let mut transaction = second_pool.begin().await.unwrap();
        let outcome = insert_records(&mut transaction, &[new_record("two")])
            .await
            .unwrap();
        transaction.commit().await.unwrap();
        outcome
    });
    // The second import is now waiting for the record's head.
    tokio::time::sleep(Duration::from_millis(100)).await;
    first_import.commit().await.unwrap();
    let second_outcome = second_import.await.unwrap();
    assert_eq!(
        first_outcome.num_inserted + second_outcome.num_inserted,
        1,
        "{first_outcome:?} {second_outcome:?}"
    );
    assert_eq!(
        first_outcome.num_new_versions + second_outcome.num_new_versions,
        1,
        "{first_outcome:?} {second_outcome:?}"
    );

    // Deleting the current version makes the newest remaining one current.
    sqlx::query("delete from raw_records where checksum = 'newer'")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(current_title().await, "later");
}

#[tokio::test]
async fn a_link_to_a_directory_inside_a_walked_directory_is_not_followed() {
    // Reported fault: a directory linking to itself made the walk fail after 40 levels.
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "a.jsonl",
        b"{\"id\":\"https://openalex.org/W77\",\"title\":\"loop\"}\n",
    );
    std::os::unix::fs::symlink(dir.path(), dir.path().join("self")).unwrap();
    let summary = import(&database.pool, Format::Openalex, &[dir.path().to_owned()]).await;
    assert_eq!((summary.num_files, summary.num_inserted), (1, 1));
}
