//! Auto-confirmation: all five writes in one transaction, or none.
//!
//! Properties checked:
//! 1. A pair above the threshold becomes `auto_confirmed` with its act, work, authorship
//!    and notification, each pointing at the others.
//! 2. A profile's own threshold overrides the default; one that is not a number from 0
//!    to 1 confirms nothing.
//! 3. When a write fails midway, nothing of the confirmation remains.
//! 4. A record whose DOI already has a work joins it; a manual work is used but never
//!    changed.

use analyzers::GivenNameVariants;
use indexer::testing::TestDatabase;
use matcher::pipeline::{run, RunOptions};
use matcher::retrieve::FixedCandidates;
use serde_json::{json, Value};
use uuid::Uuid;

mod common;
use common::{count, insert_profile, insert_record, openalex_work};

const ORCID: &str = "0000-0002-1825-0097";
const DOI: &str = "10.5555/12345678";

async fn claimed_record(database: &TestDatabase) -> (Uuid, Uuid, FixedCandidates) {
    let pool = &database.pool;
    let profile_id = insert_profile(pool, "Josiah Carberry", Some(ORCID), &[]).await;
    let record_id = insert_record(
        pool,
        "openalex",
        "W1",
        &openalex_work(
            "Psychoceramics",
            2019,
            Some(DOI),
            &[
                ("Ann Smith", None, None),
                ("Josiah Carberry", Some(ORCID), Some("Brown University")),
            ],
        ),
    )
    .await;
    let mut source = FixedCandidates::new();
    source.add(profile_id, [record_id]);
    (profile_id, record_id, source)
}

#[tokio::test]
async fn confirmation_writes_all_five_things() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let (profile_id, record_id, source) = claimed_record(&database).await;

    let summary = run(
        pool,
        &source,
        &GivenNameVariants::empty(),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        (summary.num_auto_confirmed, summary.num_works_created),
        (1, 1),
        "{summary:?}"
    );

    let (candidate_id, status, processed, reasons): (Uuid, String, bool, Value) = sqlx::query_as(
        "select id, status, processed_at is not null, match_reasons from candidate_matches",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), processed), ("auto_confirmed", true));

    let (act_id, act_candidate, decision, by, via, evidence, confidence): (
        Uuid,
        Uuid,
        String,
        String,
        String,
        Value,
        Option<String>,
    ) = sqlx::query_as(
        "select id, candidate_match_id, decision, decided_by, decided_via, evidence, confidence
             from verification_acts where profile_id = $1",
    )
    .bind(profile_id)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(act_candidate, candidate_id);
    assert_eq!(
        (decision.as_str(), by.as_str(), via.as_str()),
        ("confirm", "matcher", "automatic_rule")
    );
    assert_eq!(evidence, reasons);
    assert!(confidence.is_some());

    let (work_id, doi, merged_from, title): (Uuid, Option<String>, Value, String) =
        sqlx::query_as("select id, primary_doi, merged_from, title from canonical_works")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(doi.as_deref(), Some(DOI));
    assert_eq!(title, "Psychoceramics");
    assert_eq!(merged_from[0]["raw_record_id"], json!(record_id));

    let (authorship_act, position, contributions): (Option<Uuid>, Option<i32>, Value) =
        sqlx::query_as(
            "select verification_act_id, position, raw_contributions from work_authorships
         where work_id = $1 and profile_id = $2",
        )
        .bind(work_id)
        .bind(profile_id)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(authorship_act, Some(act_id));
    assert_eq!(position, Some(2), "the person is the second author");
    assert_eq!(contributions[0]["raw_record_id"], json!(record_id));

    let (resource_id,): (Option<Uuid>,) =
        sqlx::query_as("select resource_id from notifications where profile_id = $1")
            .bind(profile_id)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(resource_id, Some(work_id));

    let again = run(
        pool,
        &source,
        &GivenNameVariants::empty(),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        again.num_auto_confirmed, 0,
        "a rerun confirmed again: {again:?}"
    );
    assert_eq!(count(pool, "verification_acts").await, 1);
}

/// Runs the matcher on the claimed record with the profile's `autoConfirmThreshold` set to
/// `setting`; returns how many pairs were auto-confirmed and the candidate's status.
async fn run_with_profile_threshold(setting: &Value) -> (u64, String) {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let (profile_id, _, source) = claimed_record(&database).await;
    sqlx::query(
        "update author_profiles
         set settings = jsonb_build_object('autoConfirmThreshold', $2::jsonb)
         where id = $1",
    )
    .bind(profile_id)
    .bind(setting)
    .execute(pool)
    .await
    .unwrap();
    let summary = run(
        pool,
        &source,
        &GivenNameVariants::empty(),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    let status: String = sqlx::query_scalar("select status from candidate_matches")
        .fetch_one(pool)
        .await
        .unwrap();
    (summary.num_auto_confirmed, status)
}

#[tokio::test]
async fn a_profile_threshold_overrides_the_default() {
    let (num_auto_confirmed, status) = run_with_profile_threshold(&json!(1.0)).await;
    assert_eq!(num_auto_confirmed, 0);
    assert_eq!(status, "pending");
}

#[tokio::test]
async fn an_unreadable_profile_threshold_confirms_nothing() {
    for setting in [json!("high"), json!(-3), json!(1.5), json!({"value": 0.5})] {
        let (num_auto_confirmed, status) = run_with_profile_threshold(&setting).await;
        assert_eq!(num_auto_confirmed, 0, "{setting}");
        assert_eq!(status, "pending", "{setting}");
    }
}

#[tokio::test]
async fn a_failure_midway_leaves_nothing() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let (_, _, source) = claimed_record(&database).await;
    // The last of the five writes fails.
    sqlx::raw_sql(
        "create function refuse_notification() returns trigger language plpgsql as $$
         begin raise exception 'notifications are down'; end $$;
         create trigger refuse_notification before insert on notifications
             for each row execute function refuse_notification();",
    )
    .execute(pool)
    .await
    .unwrap();

    let result = run(
        pool,
        &source,
        &GivenNameVariants::empty(),
        &RunOptions::default(),
    )
    .await;
    assert!(result.is_err(), "the confirmation should fail");
    let status: String = sqlx::query_scalar("select status from candidate_matches")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        status, "pending",
        "the candidate was written before confirming and stays pending"
    );
    for table in [
        "verification_acts",
        "canonical_works",
        "work_authorships",
        "notifications",
    ] {
        assert_eq!(
            count(pool, table).await,
            0,
            "{table} kept a row of the failed confirmation"
        );
    }
}

#[tokio::test]
async fn a_record_joins_the_work_of_its_doi_and_manual_works_stay_as_they_are() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let (profile_id, record_id, source) = claimed_record(&database).await;
    let other_record = insert_record(
        pool,
        "crossref",
        "10.5555/12345678",
        &json!({"DOI": DOI, "title": ["Psychoceramics"]}),
    )
    .await;
    let existing: Uuid = sqlx::query_scalar(
        "insert into canonical_works (primary_doi, title, merged_from)
         values ($1, 'Psychoceramics', jsonb_build_array(jsonb_build_object(
             'raw_record_id', $2::text, 'source', 'crossref', 'source_id', '10.5555/12345678')))
         returning id",
    )
    .bind(DOI)
    .bind(other_record.to_string())
    .fetch_one(pool)
    .await
    .unwrap();

    run(
        pool,
        &source,
        &GivenNameVariants::empty(),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    let merged_from: Value =
        sqlx::query_scalar("select merged_from from canonical_works where id = $1")
            .bind(existing)
            .fetch_one(pool)
            .await
            .unwrap();
    let ids: Vec<&str> = merged_from
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["raw_record_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&record_id.to_string().as_str()),
        "{merged_from}"
    );
    assert_eq!(count(pool, "canonical_works").await, 1);

    // The same with a manual work: the authorship goes to it, the work does not change.
    let manual_database = TestDatabase::create().await;
    let pool = &manual_database.pool;
    let (_, _, source) = claimed_record(&manual_database).await;
    let manual: Uuid = sqlx::query_scalar(
        "insert into canonical_works (primary_doi, title, merged_from, merge_status)
         values ($1, 'Psychoceramics (decided)', '[]', 'manual') returning id",
    )
    .bind(DOI)
    .fetch_one(pool)
    .await
    .unwrap();
    let before: (Value, String, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("select merged_from, title, updated_at from canonical_works where id = $1")
            .bind(manual)
            .fetch_one(pool)
            .await
            .unwrap();
    run(
        pool,
        &source,
        &GivenNameVariants::empty(),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    let after: (Value, String, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("select merged_from, title, updated_at from canonical_works where id = $1")
            .bind(manual)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(after, before, "a manual work changed");
    let authorship_work: Uuid = sqlx::query_scalar("select work_id from work_authorships")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(authorship_work, manual);
    let _ = profile_id;
}
