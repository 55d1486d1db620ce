//! Candidate retrieval among many namesakes: a profile finds every record of an author
//! who may be the person, however many records other people of the same surname have, and
//! none of theirs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use indexer::index::{self, BuildOptions, IndexKind, MIN_SHARD_HEAP_NUM_BYTES};
use indexer::testing::TestDatabase;
use search_api::engine::{CandidateProfile, CandidateRequest, Engine, MatchKind};
use sqlx::PgPool;

/// Records of other Kowalskis: more than a search reads per shard, so the person's
/// records are found by their given names, not by luck.
const NUM_NAMESAKE_RECORDS: usize = 1_200;

/// Inserts `count` DBLP records (authors comma-separated) written by `author` and a
/// co-author, source ids `{prefix}-{n}`.
async fn insert_records(pool: &PgPool, prefix: &str, count: usize, author: &str) {
    sqlx::query(
        "insert into raw_records (source, source_id, entity_type, data, checksum)
         select 'dblp', $1 || '-' || n, 'work',
                jsonb_build_object('id', $1 || '-' || n,
                                   'title', 'Notes on lattices, part ' || n,
                                   'authors', $2 || ', Maria Rossi',
                                   'year', '2020'),
                md5($1 || n)
           from generate_series(1, $3) n",
    )
    .bind(prefix)
    .bind(author)
    .bind(i32::try_from(count).unwrap())
    .execute(pool)
    .await
    .expect("insert records");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namesakes_neither_hide_nor_join_the_persons_records() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    // Other people: the surname and other initials.
    for (prefix, author) in [("p", "P. Kowalski"), ("t", "Tomasz Kowalski")] {
        insert_records(pool, prefix, NUM_NAMESAKE_RECORDS / 2, author).await;
    }
    // Forms that may be Anna Kowalski: full name, initial, PubMed style, a typo, the
    // surname alone; and a given name that conflicts.
    let written = [
        ("anna", "Anna Kowalski", 3),
        ("initial", "A. Kowalski", 2),
        ("pubmed", "Kowalski AM", 1),
        ("typo", "Anna Kowalsky", 1),
        ("bare", "Kowalski", 1),
        ("agnes", "Agnes Kowalski", 2),
    ];
    for (prefix, author, count) in written {
        insert_records(pool, prefix, count, author).await;
    }

    let dir = tempfile::tempdir().expect("index dir");
    let options = BuildOptions {
        num_shards: 2,
        writer_heap_num_bytes: 2 * MIN_SHARD_HEAP_NUM_BYTES,
        page_num_rows: 500,
        progress_bar: false,
    };
    index::build(pool, dir.path(), &[IndexKind::Records], &options)
        .await
        .expect("build");
    let engine = Engine::open(dir.path()).expect("open");
    let request = CandidateRequest {
        profiles: vec![CandidateProfile {
            id: "anna".to_owned(),
            names: vec!["Anna Kowalski".to_owned(), "Kowalski, Anna".to_owned()],
            titles: Vec::new(),
            orcid: None,
        }],
        limit_per_profile: 400,
        show_matches: true,
    };
    let variants = analyzers::GivenNameVariants::empty();
    let deadline = Instant::now() + Duration::from_secs(60);
    let response = engine.candidates(&request, &variants, deadline).unwrap();

    let record_ids: Vec<&str> = response.results[0]
        .hits
        .iter()
        .map(|hit| hit.record_id.as_str())
        .collect();
    let source_ids: BTreeMap<String, String> =
        sqlx::query_as("select id::text, source_id from raw_records where id::text = any($1)")
            .bind(&record_ids)
            .fetch_all(pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let mut found: BTreeMap<&str, usize> = BTreeMap::new();
    for hit in &response.results[0].hits {
        let source_id = &source_ids[&hit.record_id];
        let prefix = source_id.split('-').next().unwrap();
        *found.entry(prefix).or_default() += 1;
        let name = hit
            .matches
            .iter()
            .find(|found| found.kind == MatchKind::Name)
            .expect("found by name");
        assert_ne!(name.matched_value, "Maria Rossi", "{hit:?}");
        if prefix == "typo" {
            assert_eq!(name.typos, 1, "{hit:?}");
        }
    }
    let expected: BTreeMap<&str, usize> = written
        .iter()
        .filter(|(prefix, ..)| *prefix != "agnes")
        .map(|(prefix, _, count)| (*prefix, *count))
        .collect();
    assert_eq!(
        found, expected,
        "records found, by how the author is written"
    );
    // Full names first, a bare surname last.
    let scores: Vec<f64> = response.results[0]
        .hits
        .iter()
        .map(|hit| hit.score)
        .collect();
    assert!(
        scores.windows(2).all(|pair| pair[0] >= pair[1]),
        "{scores:?}"
    );
    assert_eq!(scores.last(), Some(&0.4), "{scores:?}");
}
