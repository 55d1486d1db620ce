//! Writing candidates: idempotent, never touching decided pairs.
//!
//! Properties checked:
//! 1. A second run on unchanged data inserts and updates nothing, and leaves every row as
//!    it was (same transaction id).
//! 2. A decided pair keeps its status, score and reasons when the evidence changes, and
//!    is not proposed again.
//! 3. A pending pair whose evidence changed is updated.
//! 4. Records without evidence for the person make no candidate.
//! 5. A record a person rejected is proposed again in a new version, never auto-confirmed.

use analyzers::GivenNameVariants;
use indexer::testing::TestDatabase;
use matcher::pipeline::{run, RunOptions};
use matcher::retrieve::FixedCandidates;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

mod common;
use common::{count, insert_profile, insert_record, openalex_work};

const ORCID: &str = "0000-0002-1825-0097";

/// An author with the profile's ORCID iD: (name, ORCID iD, affiliation).
const CLAIMING_AUTHOR: (&str, Option<&str>, Option<&str>) =
    ("Josiah Carberry", Some(ORCID), Some("Brown University"));

/// An author only named like the profile.
const NAMED_AUTHOR: (&str, Option<&str>, Option<&str>) =
    ("J. Carberry", None, Some("Brown University"));

/// Inserts an OpenAlex work of one author under `source_id`; returns the record's id.
async fn insert_work(
    pool: &PgPool,
    source_id: &str,
    title: &str,
    year: i32,
    author: (&str, Option<&str>, Option<&str>),
) -> Uuid {
    insert_record(
        pool,
        "openalex",
        source_id,
        &openalex_work(title, year, None, &[author]),
    )
    .await
}

struct Fixture {
    database: TestDatabase,
    profile_id: Uuid,
    claimed: Uuid,
    named: Uuid,
    source: FixedCandidates,
}

async fn fixture() -> Fixture {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let profile_id = insert_profile(pool, "Josiah Carberry", Some(ORCID), &["Carberry, J."]).await;
    let claimed = insert_work(pool, "W1", "Psychoceramics", 2019, CLAIMING_AUTHOR).await;
    let named = insert_work(pool, "W2", "Cracked pots", 2020, NAMED_AUTHOR).await;
    let unrelated = insert_record(
        pool,
        "openalex",
        "W3",
        &openalex_work("Unrelated", 2020, None, &[("Ann Smith", None, None)]),
    )
    .await;
    let mut source = FixedCandidates::new();
    source.add(profile_id, [claimed, named, unrelated]);
    Fixture {
        database,
        profile_id,
        claimed,
        named,
        source,
    }
}

fn options() -> RunOptions {
    RunOptions {
        auto_confirm: false,
        ..RunOptions::default()
    }
}

async fn rows(pool: &PgPool) -> Vec<(Uuid, String, f64, Value, String)> {
    sqlx::query_as(
        "select raw_record_id, status, match_score::float8, match_reasons, xmin::text
         from candidate_matches order by raw_record_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_rerun_changes_nothing() {
    let fixture = fixture().await;
    let pool = &fixture.database.pool;
    let variants = GivenNameVariants::empty();

    let first = run(pool, &fixture.source, &variants, &options())
        .await
        .unwrap();
    assert_eq!(first.write.num_inserted, 2, "{first:?}");
    assert_eq!(
        first.num_dropped, 1,
        "the unrelated record has no evidence: {first:?}"
    );
    let before = rows(pool).await;

    let second = run(pool, &fixture.source, &variants, &options())
        .await
        .unwrap();
    assert_eq!(
        (second.write.num_inserted, second.write.num_updated),
        (0, 0),
        "{second:?}"
    );
    assert_eq!(second.write.num_unchanged, 2);
    assert_eq!(rows(pool).await, before, "rows were rewritten");
}

/// Records a reviewer's rejection of the candidate on `raw_record_id`.
async fn reject(pool: &PgPool, raw_record_id: Uuid) {
    sqlx::query(
        "update candidate_matches set status = 'rejected', processed_at = now()
         where raw_record_id = $1",
    )
    .bind(raw_record_id)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn decided_pairs_are_never_touched_nor_proposed_again() {
    let fixture = fixture().await;
    let pool = &fixture.database.pool;
    let variants = GivenNameVariants::empty();
    run(pool, &fixture.source, &variants, &options())
        .await
        .unwrap();
    reject(pool, fixture.named).await;
    let before = rows(pool).await;

    // New evidence: the profile gains the records' affiliation.
    sqlx::query(
        "insert into profile_identities (profile_id, identifier_type, identifier_value)
         values ($1, 'affiliation', 'Brown University')",
    )
    .bind(fixture.profile_id)
    .execute(pool)
    .await
    .unwrap();
    let summary = run(pool, &fixture.source, &variants, &options())
        .await
        .unwrap();

    let after = rows(pool).await;
    let rejected_before = before.iter().find(|row| row.0 == fixture.named).unwrap();
    let rejected_after = after.iter().find(|row| row.0 == fixture.named).unwrap();
    assert_eq!(
        rejected_after, rejected_before,
        "a decided candidate changed"
    );
    assert_eq!(
        count(pool, "candidate_matches").await,
        2,
        "a decided pair was proposed again"
    );
    assert_eq!(summary.write.num_updated, 1, "{summary:?}");
}

/// Matches the fixture, rejects the claimed record, then stores a new version of it (its
/// evidence, the profile's ORCID iD, unchanged); returns the new version's id.
async fn reject_claimed_then_revise(fixture: &Fixture) -> Uuid {
    let pool = &fixture.database.pool;
    run(
        pool,
        &fixture.source,
        &GivenNameVariants::empty(),
        &options(),
    )
    .await
    .unwrap();
    reject(pool, fixture.claimed).await;
    insert_work(pool, "W1", "Psychoceramics, revised", 2019, CLAIMING_AUTHOR).await
}

#[tokio::test]
async fn a_new_version_replaces_the_pending_candidate_of_the_old_one() {
    let fixture = fixture().await;
    let pool = &fixture.database.pool;
    let variants = GivenNameVariants::empty();
    // Both records get a new version; the reviewer decided on the first one's old one.
    let claimed_again = reject_claimed_then_revise(&fixture).await;
    let named_again = insert_work(pool, "W2", "Cracked pots, revised", 2020, NAMED_AUTHOR).await;
    let mut source = FixedCandidates::new();
    source.add(fixture.profile_id, [claimed_again, named_again]);
    let summary = run(pool, &source, &variants, &options()).await.unwrap();
    assert_eq!(summary.write.num_superseded, 1, "{summary:?}");

    let statuses: Vec<(Uuid, String)> = rows(pool)
        .await
        .into_iter()
        .map(|row| (row.0, row.1))
        .collect();
    let mut expected = vec![
        (fixture.claimed, "rejected".to_owned()),
        (claimed_again, "pending".to_owned()),
        (named_again, "pending".to_owned()),
    ];
    expected.sort();
    assert_eq!(
        statuses, expected,
        "the old version's pending candidate is gone"
    );
}

#[tokio::test]
async fn a_record_rejected_in_an_earlier_version_is_not_auto_confirmed_in_a_new_one() {
    let fixture = fixture().await;
    let pool = &fixture.database.pool;
    let variants = GivenNameVariants::empty();
    // The source sends the rejected record again, changed; its evidence (the profile's
    // ORCID iD) is above the threshold.
    let claimed_again = reject_claimed_then_revise(&fixture).await;
    let mut source = FixedCandidates::new();
    source.add(fixture.profile_id, [claimed_again]);
    let confirming = RunOptions {
        auto_confirm: true,
        ..RunOptions::default()
    };
    let summary = run(pool, &source, &variants, &confirming).await.unwrap();

    let (status, score): (String, f64) = sqlx::query_as(
        "select status, match_score::float8 from candidate_matches where raw_record_id = $1",
    )
    .bind(claimed_again)
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(
        score >= confirming.default_threshold,
        "the new version scores {score}, below the threshold: nothing is tested"
    );
    assert_eq!(status, "pending", "{summary:?}");
    assert_eq!(summary.num_auto_confirmed, 0, "{summary:?}");
    assert_eq!(count(pool, "work_authorships").await, 0);
}

#[tokio::test]
async fn changed_evidence_updates_a_pending_candidate() {
    let fixture = fixture().await;
    let pool = &fixture.database.pool;
    let variants = GivenNameVariants::empty();
    run(pool, &fixture.source, &variants, &options())
        .await
        .unwrap();
    let before = rows(pool).await;

    sqlx::query(
        "insert into profile_identities (profile_id, identifier_type, identifier_value)
         values ($1, 'affiliation', 'Brown University')",
    )
    .bind(fixture.profile_id)
    .execute(pool)
    .await
    .unwrap();
    let summary = run(pool, &fixture.source, &variants, &options())
        .await
        .unwrap();
    assert_eq!(summary.write.num_updated, 2, "{summary:?}");

    let after = rows(pool).await;
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(new.1, "pending");
        assert!(new.2 > old.2, "score did not rise: {} -> {}", old.2, new.2);
        let kinds: Vec<&str> = new
            .3
            .as_array()
            .unwrap()
            .iter()
            .map(|reason| reason["type"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"affiliation_agrees"), "{kinds:?}");
    }
    let claimed = after.iter().find(|row| row.0 == fixture.claimed).unwrap();
    assert!(claimed
        .3
        .as_array()
        .unwrap()
        .iter()
        .any(|reason| reason["type"] == "orcid_claimed"));
}
