//! The scale harness at its smoke size, in debug mode, against a database of its own: every
//! stage produces figures, the counts agree with the generated corpus, the judgments are
//! met at least in part, and the database is gone afterwards; and a database name that
//! PostgreSQL would fold is refused before anything is dropped. No timing decides anything.

use std::time::Duration;

use atlas_benches::scale::run::report::class;
use atlas_benches::scale::run::{run, RunOptions};
use atlas_benches::scale::workload::QueryClass;
use atlas_benches::scale::Size;
use sqlx::{Connection, PgConnection};

fn server_url() -> String {
    std::env::var("ATLAS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| indexer::testing::DEFAULT_TEST_SERVER_URL.to_owned())
}

/// A run with `ATLAS_MASTER_KEY` in the user's environment answered 401 to every search
/// and still printed a table (of NaN and zeros); the service must take its configuration
/// from the harness alone. The variables are set before the runtime starts any thread.
#[test]
fn the_harness_measures_every_stage_of_a_smoke_corpus_whatever_the_environment() {
    std::env::set_var(
        "ATLAS_MASTER_KEY",
        "a-key-of-the-user-not-of-the-run-0123456789",
    );
    std::env::set_var("ATLAS_INDEXES", "works");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(measure_every_stage());
}

/// Options of a smoke run in this process, writing into `work_dir`, on `database_name`,
/// with the smallest figures; tests override what they measure.
fn smoke_options(work_dir: &std::path::Path, database_name: String) -> RunOptions {
    RunOptions {
        size: Size::Smoke,
        seed: 7,
        samples_dir: atlas_benches::samples_dir(),
        work_dir: work_dir.to_owned(),
        server_url: server_url(),
        database_name,
        keep_database: false,
        replace_database: false,
        in_process: true,
        bin_dir: work_dir.to_owned(),
        redis_url: std::env::var("ATLAS_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned()),
        num_shards: 1,
        concurrencies: vec![1],
        cell_budget: Duration::from_secs(1),
        follow_rate: 1,
        follow_secs: 1,
        matcher_sample: 1,
        command: String::new(),
    }
}

async fn measure_every_stage() {
    let work_dir = tempfile::tempdir().unwrap();
    // Named as the tests' databases are, so that `scripts/test.sh` drops it should this
    // test be killed before it can.
    let database_name = format!("atlas_test_{}", uuid::Uuid::now_v7().simple());
    let options = RunOptions {
        num_shards: 2,
        concurrencies: vec![1, 4],
        cell_budget: Duration::from_secs(20),
        follow_rate: 50,
        follow_secs: 2,
        matcher_sample: 10,
        command: "scale_smoke test".to_owned(),
        ..smoke_options(work_dir.path(), database_name.clone())
    };
    let report = run(&options).await.expect("the harness runs");
    assert_eq!(report.failures(), Vec::<String>::new());
    assert_eq!(report.num_shards, 2);

    let num_records = Size::Smoke.num_records();
    assert_eq!(report.num_records, num_records);
    assert_eq!(report.profiles.num_profiles, report.num_profiles);
    assert!(report.profiles.num_identities > report.num_profiles);
    let num_inserted: u64 = report.import.iter().map(|source| source.num_inserted).sum();
    assert_eq!(num_inserted, num_records, "{:?}", report.import);
    for source in &report.import {
        assert_eq!(source.num_inserted, source.num_records, "{source:?}");
        assert!(source.records_per_sec > 0.0 && source.mb_per_sec > 0.0);
    }

    assert_eq!(report.build.num_record_docs, num_records);
    assert_eq!(report.build.num_docs, num_records + report.num_profiles);
    assert!(report.build.docs_per_sec > 0.0);
    assert!(report.build.records_index_num_bytes > 0);
    assert!(report.build.raw_json_num_bytes > 0);

    assert!(report.follow.num_changes > 0);
    assert_eq!(report.follow.num_unseen, 0);
    assert!(report.follow.p99_ms.is_finite());

    for (engine_name, engine) in [
        ("search-api", &report.search_api),
        ("postgres", &report.postgres),
    ] {
        for query_class in QueryClass::ALL {
            let figures = class(engine, query_class)
                .unwrap_or_else(|| panic!("{engine_name} has no {query_class:?} figures"));
            assert!(figures.num_queries > 0);
            for cell in &figures.cells {
                assert!(
                    cell.num_requests > 0,
                    "{engine_name} {query_class:?} {cell:?}"
                );
                assert_eq!(cell.num_errors, 0, "{engine_name} {query_class:?} {cell:?}");
                assert_eq!(cell.first_error, None);
                assert!(cell.p50_ms.is_finite() && cell.per_sec > 0.0);
            }
            assert_eq!(figures.cells.len(), 2);
            assert!(
                figures.relevance.recall_at_10 > 0.0,
                "{engine_name} {query_class:?} found nothing relevant"
            );
        }
    }
    assert!(report.pg_setup_secs > 0.0);
    let title_classes: Vec<QueryClass> = report
        .postgres_title_search
        .classes
        .iter()
        .map(|figures| figures.class)
        .collect();
    assert_eq!(
        title_classes,
        [QueryClass::TitleTypo, QueryClass::TitlePrefix]
    );
    for figures in &report.postgres_title_search.classes {
        assert!(figures
            .cells
            .iter()
            .all(|cell| cell.num_requests > 0 && cell.num_errors == 0));
        assert!(
            figures.relevance.recall_at_10 > 0.0,
            "PostgreSQL's title search found nothing relevant for {:?}",
            figures.class
        );
    }

    assert_eq!(report.matcher.num_profiles, 10);
    assert!(report.matcher.num_true_pairs > 0);
    assert!(report.matcher.candidate_recall > 0.0);
    assert!(report.matcher.retrieval_profiles_per_sec > 0.0);
    assert_eq!(report.matcher.num_profiles_two_in_flight, 10);
    assert!(report.matcher.retrieval_two_in_flight_profiles_per_sec > 0.0);
    let lowest = &report.matcher.thresholds[0];
    assert!(
        lowest.num_pairs > 0 && lowest.precision > 0.0,
        "no written candidate judged right: {:?}",
        report.matcher.thresholds
    );
    assert!(report
        .to_markdown()
        .contains("| candidates scoring at least |"));
    assert!(report.search_api_peak_rss_num_bytes.is_some());
    let markdown = report.to_markdown();
    assert!(markdown.contains("| title_typo | 1 |"));
    assert!(
        markdown.contains("| PostgreSQL title search p50 / p95 / p99 ms |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| req/s | errors | degraded |"),
        "{markdown}"
    );
    assert!(!markdown.contains("not measured"), "{markdown}");

    let mut admin = PgConnection::connect(&server_url()).await.unwrap();
    let remaining: i64 = sqlx::query_scalar("select count(*) from pg_database where datname = $1")
        .bind(&database_name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(remaining, 0, "the harness left its database behind");
}

/// `--database NEWCOMER_VICTIM` dropped `newcomer_victim`: PostgreSQL folds an unquoted
/// name. The name must be refused before the server is asked anything; and a database the
/// harness did not create, named exactly, is left alone unless `--replace-database`.
#[tokio::test]
async fn databases_the_harness_did_not_create_are_never_dropped() {
    let victim = format!("atlas_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = PgConnection::connect(&server_url()).await.unwrap();
    sqlx::query(&format!("create database {victim}"))
        .execute(&mut admin)
        .await
        .unwrap();

    let mut outcomes = Vec::new();
    for (name, expected) in [
        (victim.to_ascii_uppercase(), "`--database`"),
        (victim.clone(), "`--replace-database`"),
    ] {
        let work_dir = tempfile::tempdir().unwrap();
        let options = smoke_options(work_dir.path(), name);
        let outcome = run(&options).await.map(|_| ());
        let num_written = std::fs::read_dir(work_dir.path()).unwrap().count();
        outcomes.push((outcome, expected, num_written));
    }
    let survived: i64 = sqlx::query_scalar("select count(*) from pg_database where datname = $1")
        .bind(&victim)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    sqlx::query(&format!("drop database {victim}"))
        .execute(&mut admin)
        .await
        .unwrap();

    assert_eq!(survived, 1, "the harness dropped `{victim}`");
    for (outcome, expected, num_written) in outcomes {
        let error = format!("{:#}", outcome.expect_err("the run is refused"));
        assert!(error.contains(expected), "{error}");
        assert_eq!(
            num_written, 0,
            "the harness wrote into its work directory before refusing: {error}"
        );
    }
}
