//! Work grouping in PostgreSQL.
//!
//! Properties checked:
//! 1. Records sharing a DOI become one work with that DOI.
//! 2. Records of one work without a shared DOI (DBLP and ACM rows; a preprint and its
//!    published version) become one work by title, year and authors; the published DOI
//!    is the work's.
//! 3. Different works with similar titles stay apart.
//! 4. A rerun changes nothing.
//! 5. A manual work and its records are never changed.
//! 6. Two automatic works found to be one are merged; the authorships move.
//! 7. Groupings started at once create each work once.

use indexer::testing::TestDatabase;
use matcher::group::run_grouping;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

mod common;
use common::{count, insert_profile, insert_record, openalex_work};

fn crossref(doi: &str, title: &str, year: i32, authors: &[(&str, &str)]) -> Value {
    let authors: Vec<Value> = authors
        .iter()
        .map(|(given, family)| json!({"given": given, "family": family}))
        .collect();
    json!({"DOI": doi, "title": [title], "type": "journal-article",
           "issued": {"date-parts": [[year]]}, "author": authors})
}

fn dblp_acm(title: &str, authors: &str, year: i32) -> Value {
    json!({"title": title, "authors": authors, "venue": "SIGMOD", "year": year.to_string()})
}

/// Returns each work's raw record ids, sorted, and its DOI.
async fn works(pool: &PgPool) -> Vec<(Vec<Uuid>, Option<String>)> {
    let rows: Vec<(Value, Option<String>)> =
        sqlx::query_as("select merged_from, primary_doi from canonical_works order by id")
            .fetch_all(pool)
            .await
            .unwrap();
    let mut works: Vec<(Vec<Uuid>, Option<String>)> = rows
        .into_iter()
        .map(|(merged_from, doi)| {
            let mut ids: Vec<Uuid> = merged_from
                .as_array()
                .unwrap()
                .iter()
                .map(|entry| entry["raw_record_id"].as_str().unwrap().parse().unwrap())
                .collect();
            ids.sort();
            (ids, doi)
        })
        .collect();
    works.sort();
    works
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

#[tokio::test]
async fn records_sharing_a_doi_are_one_work() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let doi = "10.1145/3318464.3389700";
    let from_crossref = insert_record(
        pool,
        "crossref",
        doi,
        &crossref(doi, "Deep Entity Matching", 2020, &[("Yuliang", "Li")]),
    )
    .await;
    let from_openalex = insert_record(
        pool,
        "openalex",
        "W3",
        &openalex_work(
            "Deep entity matching with pre-trained language models",
            2020,
            Some(doi),
            &[("Yuliang Li", None, None)],
        ),
    )
    .await;

    run_grouping(pool).await.unwrap();
    assert_eq!(
        works(pool).await,
        vec![(
            sorted(vec![from_crossref, from_openalex]),
            Some(doi.to_owned())
        )]
    );
}

/// Failed: a record with a second version (its title corrected) became a work of its own,
/// its `merged_from` naming the one source record twice.
#[tokio::test]
async fn the_versions_of_one_record_are_no_work() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    insert_record(
        pool,
        "dblp",
        "nc1/rec1",
        &dblp_acm("Quixotrampoline of query engines", "Ada Lovelace", 2001),
    )
    .await;
    insert_record(
        pool,
        "dblp",
        "nc1/rec1",
        &dblp_acm("Quixotrombone of query engines", "Ada Lovelace", 2001),
    )
    .await;
    run_grouping(pool).await.unwrap();
    assert_eq!(works(pool).await, vec![]);
}

#[tokio::test]
async fn versions_of_a_work_are_grouped_by_title_year_and_authors() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let dblp = insert_record(
        pool,
        "dblp",
        "conf/sigmod/CetintemelZ03",
        &dblp_acm(
            "Efficient Query Processing in Distributed Search Engines",
            "Ugur etintemel, Stan Zdonik",
            2003,
        ),
    )
    .await;
    let acm = insert_record(
        pool,
        "acm",
        "872800",
        &dblp_acm(
            "Efficient query processing in distributed search engines",
            "Uğur Çetintemel, Stanley B. Zdonik",
            2003,
        ),
    )
    .await;
    let preprint = insert_record(
        pool,
        "openalex",
        "W10",
        &openalex_work(
            "Attention-based ranking of scientific claims",
            2020,
            Some("10.48550/arxiv.2001.00001"),
            &[("Maria Garcia", None, None), ("Wei Zhang", None, None)],
        ),
    )
    .await;
    let published = insert_record(
        pool,
        "crossref",
        "10.1016/j.ipm.2021.102500",
        &crossref(
            "10.1016/j.ipm.2021.102500",
            "Attention-Based Ranking of Scientific Claims",
            2021,
            &[("María", "García"), ("Wei", "Zhang")],
        ),
    )
    .await;
    let other_work = insert_record(
        pool,
        "acm",
        "872801",
        &dblp_acm(
            "Efficient query processing in peer-to-peer search engines",
            "Ann Smith, Stan Zdonik",
            2003,
        ),
    )
    .await;

    let first = run_grouping(pool).await.unwrap();
    assert_eq!(first.num_works_created, 2, "{first:?}");
    let grouped = works(pool).await;
    assert!(
        grouped.contains(&(sorted(vec![dblp, acm]), None)),
        "{grouped:?}"
    );
    assert!(
        grouped.contains(&(
            sorted(vec![preprint, published]),
            Some("10.1016/j.ipm.2021.102500".to_owned())
        )),
        "{grouped:?}"
    );
    assert!(
        grouped.iter().all(|(ids, _)| !ids.contains(&other_work)),
        "{grouped:?}"
    );

    let before: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("select id, updated_at from canonical_works order by id")
            .fetch_all(pool)
            .await
            .unwrap();
    let second = run_grouping(pool).await.unwrap();
    assert_eq!(
        (
            second.num_works_created,
            second.num_works_updated,
            second.num_works_merged
        ),
        (0, 0, 0)
    );
    let after: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("select id, updated_at from canonical_works order by id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(after, before, "a rerun rewrote works");
}

#[tokio::test]
async fn manual_works_are_never_changed() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let doi = "10.1145/1";
    let decided = insert_record(
        pool,
        "crossref",
        doi,
        &crossref(doi, "A decided grouping", 2010, &[("Ann", "Smith")]),
    )
    .await;
    let same_doi = insert_record(
        pool,
        "openalex",
        "W1",
        &openalex_work(
            "A decided grouping",
            2010,
            Some(doi),
            &[("Ann Smith", None, None)],
        ),
    )
    .await;
    let manual: Uuid = sqlx::query_scalar(
        "insert into canonical_works (title, merged_from, merge_status)
         values ('As a person grouped it', jsonb_build_array(jsonb_build_object(
             'raw_record_id', $1::text, 'source', 'crossref', 'source_id', $2::text)), 'manual')
         returning id",
    )
    .bind(decided.to_string())
    .bind(doi)
    .fetch_one(pool)
    .await
    .unwrap();
    let before: (Value, String, Option<String>, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "select merged_from, title, primary_doi, updated_at from canonical_works where id = $1",
    )
    .bind(manual)
    .fetch_one(pool)
    .await
    .unwrap();

    run_grouping(pool).await.unwrap();
    run_grouping(pool).await.unwrap();
    let after: (Value, String, Option<String>, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "select merged_from, title, primary_doi, updated_at from canonical_works where id = $1",
    )
    .bind(manual)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(after, before, "the manual work changed");
    assert_eq!(
        count(pool, "canonical_works").await,
        1,
        "{:?}",
        works(pool).await
    );
    let _ = same_doi;
}

#[tokio::test]
async fn automatic_works_of_one_work_are_merged_with_their_authorships() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let first = insert_record(
        pool,
        "dblp",
        "conf/x/1",
        &dblp_acm(
            "Scalable entity resolution with blocking graphs",
            "Ann Smith, Bo Chen",
            2012,
        ),
    )
    .await;
    let second = insert_record(
        pool,
        "acm",
        "1001",
        &dblp_acm(
            "Scalable entity resolution with blocking graphs",
            "A. Smith, B. Chen",
            2012,
        ),
    )
    .await;
    let profile_a = insert_profile(pool, "Ann Smith", None, &[]).await;
    let profile_b = insert_profile(pool, "Bo Chen", None, &[]).await;
    for (record, source, source_id, profile) in [
        (first, "dblp", "conf/x/1", profile_a),
        (second, "acm", "1001", profile_b),
    ] {
        sqlx::query(
            "with work as (
                 insert into canonical_works (title, merged_from)
                 values ('Scalable entity resolution with blocking graphs',
                         jsonb_build_array(jsonb_build_object('raw_record_id', $1::text, 'source', $2::text, 'source_id', $3::text)))
                 returning id)
             insert into work_authorships (work_id, profile_id) select id, $4 from work",
        )
        .bind(record.to_string())
        .bind(source)
        .bind(source_id)
        .bind(profile)
        .execute(pool)
        .await
        .unwrap();
    }

    let summary = run_grouping(pool).await.unwrap();
    assert_eq!(summary.num_works_merged, 1, "{summary:?}");
    assert_eq!(works(pool).await, vec![(sorted(vec![first, second]), None)]);
    let num_authorships: i64 = sqlx::query_scalar(
        "select count(*) from work_authorships wa join canonical_works cw on cw.id = wa.work_id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        num_authorships, 2,
        "the authorships did not move to the kept work"
    );
}

#[tokio::test]
async fn groupings_started_at_once_create_each_work_once() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    for (number, title) in [
        (
            1,
            "Efficient query processing in distributed search engines",
        ),
        (
            2,
            "Aurora: a new model and architecture for data stream management",
        ),
        (3, "Load shedding in a data stream manager"),
    ] {
        for source in ["dblp", "acm"] {
            insert_record(
                pool,
                source,
                &format!("{source}-{number}"),
                &dblp_acm(title, "Ugur Cetintemel, Stan Zdonik", 2003),
            )
            .await;
        }
    }
    let (first, second, third) =
        tokio::join!(run_grouping(pool), run_grouping(pool), run_grouping(pool));
    let created: u64 = [first, second, third]
        .into_iter()
        .map(|summary| summary.unwrap().num_works_created)
        .sum();
    assert_eq!(created, 3, "works created over the three runs");
    let grouped = works(pool).await;
    assert_eq!(grouped.len(), 3, "{grouped:?}");
    assert!(grouped.iter().all(|(ids, _)| ids.len() == 2), "{grouped:?}");
}
