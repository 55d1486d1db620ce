//! The decisions the schema enforces, proven against a real PostgreSQL:
//!
//! 1. verification_acts is append-only: UPDATE, DELETE and TRUNCATE are refused, INSERT works.
//! 2. candidate status and decision values are restricted to the documented sets.
//! 3. raw records are immutable; a changed record is a new row, and the latest row per
//!    (source, source_id) is the current version, found through one index lookup.
//! 4. UUIDv7 keys are generated, version 7, and time-ordered.
//! 5. identifiers belong to one profile, name forms may be shared.
//! 6. profile_stats counts correctly and refreshes concurrently.

use indexer::testing::TestDatabase;
use sqlx::PgPool;
use uuid::Uuid;

async fn insert_record(pool: &PgPool, source_id: &str, checksum: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into raw_records (source, source_id, entity_type, data, checksum)
         values ('test', $1, 'work', jsonb_build_object('checksum', $2::text), $2) returning id",
    )
    .bind(source_id)
    .bind(checksum)
    .fetch_one(pool)
    .await
    .expect("insert raw record")
}

async fn insert_profile(pool: &PgPool, name: &str) -> Uuid {
    sqlx::query_scalar("insert into author_profiles (display_name) values ($1) returning id")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("insert profile")
}

async fn insert_candidate(pool: &PgPool, record: Uuid, profile: Uuid) -> Uuid {
    sqlx::query_scalar(
        "insert into candidate_matches (raw_record_id, profile_id, entity_type, match_score)
         values ($1, $2, 'work', 0.5) returning id",
    )
    .bind(record)
    .bind(profile)
    .fetch_one(pool)
    .await
    .expect("insert candidate")
}

async fn insert_act(
    pool: &PgPool,
    candidate: Uuid,
    profile: Uuid,
    decision: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "insert into verification_acts (candidate_match_id, profile_id, decision, decided_by, decided_via)
         values ($1, $2, $3, 'librarian@example.org', 'ui') returning id",
    )
    .bind(candidate)
    .bind(profile)
    .bind(decision)
    .fetch_one(pool)
    .await
}

fn error_message(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(database_error) => database_error.message().to_owned(),
        other => other.to_string(),
    }
}

fn constraint_name(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(database_error) => database_error.constraint().map(str::to_owned),
        _ => None,
    }
}

#[tokio::test]
async fn verification_acts_accept_inserts_and_refuse_update_delete_truncate() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let record = insert_record(pool, "r1", "c1").await;
    let profile = insert_profile(pool, "Ada Lovelace").await;
    let candidate = insert_candidate(pool, record, profile).await;

    let first = insert_act(pool, candidate, profile, "confirm")
        .await
        .expect("insert is allowed");
    insert_act(pool, candidate, profile, "reject")
        .await
        .expect("a changed mind is a new act");

    let update = sqlx::query("update verification_acts set notes = 'rewritten' where id = $1")
        .bind(first)
        .execute(pool)
        .await
        .expect_err("update must be refused");
    assert!(
        error_message(&update).contains("append-only: UPDATE"),
        "{update}"
    );

    let delete = sqlx::query("delete from verification_acts where id = $1")
        .bind(first)
        .execute(pool)
        .await
        .expect_err("delete must be refused");
    assert!(
        error_message(&delete).contains("append-only: DELETE"),
        "{delete}"
    );

    let truncate = sqlx::query("truncate verification_acts cascade")
        .execute(pool)
        .await
        .expect_err("truncate must be refused");
    assert!(
        error_message(&truncate).contains("append-only: TRUNCATE"),
        "{truncate}"
    );

    let truncate_through_parent = sqlx::query("truncate candidate_matches cascade")
        .execute(pool)
        .await
        .expect_err("truncating a parent must not erase the acts either");
    assert!(error_message(&truncate_through_parent).contains("append-only"));

    let num_acts: i64 = sqlx::query_scalar("select count(*) from verification_acts")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(num_acts, 2);
}

#[tokio::test]
async fn decisions_and_statuses_are_restricted_to_the_documented_sets() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let record = insert_record(pool, "r1", "c1").await;
    let profile = insert_profile(pool, "Grace Hopper").await;
    let candidate = insert_candidate(pool, record, profile).await;

    for decision in ["confirm", "reject", "uncertain"] {
        insert_act(pool, candidate, profile, decision)
            .await
            .expect("documented decision");
    }
    for decision in ["approve", "CONFIRM", ""] {
        let error = insert_act(pool, candidate, profile, decision)
            .await
            .expect_err(decision);
        assert_eq!(
            constraint_name(&error).as_deref(),
            Some("verification_decision_valid")
        );
    }

    for status in [
        "pending",
        "uncertain",
        "confirmed",
        "auto_confirmed",
        "rejected",
    ] {
        sqlx::query("update candidate_matches set status = $2 where id = $1")
            .bind(candidate)
            .bind(status)
            .execute(pool)
            .await
            .expect("documented status");
    }
    for status in ["accepted", "Pending", "deleted"] {
        let error = sqlx::query("update candidate_matches set status = $2 where id = $1")
            .bind(candidate)
            .bind(status)
            .execute(pool)
            .await
            .expect_err(status);
        assert_eq!(
            constraint_name(&error).as_deref(),
            Some("candidate_status_valid")
        );
    }

    let out_of_range = sqlx::query("update candidate_matches set match_score = 1.5 where id = $1")
        .bind(candidate)
        .execute(pool)
        .await
        .expect_err("scores live in [0, 1]");
    assert!(
        error_message(&out_of_range).contains("numeric field overflow")
            || constraint_name(&out_of_range).as_deref() == Some("candidate_score_range")
    );

    let duplicate = sqlx::query(
        "insert into candidate_matches (raw_record_id, profile_id, entity_type, match_score)
         values ($1, $2, 'work', 0.9)",
    )
    .bind(record)
    .bind(profile)
    .execute(pool)
    .await
    .expect_err("one candidate per record version and profile");
    assert_eq!(
        constraint_name(&duplicate).as_deref(),
        Some("candidate_unique")
    );
}

#[tokio::test]
async fn raw_records_are_immutable_and_the_latest_version_is_current() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let first = insert_record(pool, "W1", "v1").await;

    let update = sqlx::query("update raw_records set data = '{}' where id = $1")
        .bind(first)
        .execute(pool)
        .await
        .expect_err("records are immutable");
    assert!(
        error_message(&update).contains("raw_records are immutable"),
        "{update}"
    );

    let same_again = sqlx::query(
        "insert into raw_records (source, source_id, entity_type, data, checksum)
         values ('test', 'W1', 'work', '{}', 'v1')",
    )
    .execute(pool)
    .await
    .expect_err("the same version cannot be stored twice");
    assert_eq!(
        constraint_name(&same_again).as_deref(),
        Some("raw_records_source_unique")
    );

    let second = insert_record(pool, "W1", "v2").await;
    insert_record(pool, "W2", "v1").await;
    let current: Uuid = sqlx::query_scalar(
        "select id from current_raw_records where source = 'test' and source_id = 'W1'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(current, second);

    let num_current: i64 = sqlx::query_scalar("select count(*) from current_raw_records")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        num_current, 2,
        "one current version per (source, source_id)"
    );

    let plan: Vec<String> = sqlx::query_scalar(
        "explain select * from current_raw_records where source = 'test' and source_id = 'W1'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(
        !plan.contains("Seq Scan"),
        "current version is found through indexes:\n{plan}"
    );

    sqlx::query("delete from raw_records where id = $1")
        .bind(second)
        .execute(pool)
        .await
        .unwrap();
    let current_after_delete: Uuid = sqlx::query_scalar(
        "select id from current_raw_records where source = 'test' and source_id = 'W1'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        current_after_delete, first,
        "deleting the current version uncovers the previous one"
    );
}

#[tokio::test]
async fn keys_are_time_ordered_uuid_v7() {
    let database = TestDatabase::create().await;
    let ids: Vec<Uuid> =
        sqlx::query_scalar("select uuid_generate_v7() from generate_series(1, 50)")
            .fetch_all(&database.pool)
            .await
            .unwrap();
    for id in &ids {
        assert_eq!(id.get_version_num(), 7, "{id}");
        assert_eq!(id.as_bytes()[8] >> 6, 0b10, "RFC 9562 variant in {id}");
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let (seconds, nanos) = ids[0]
        .get_timestamp()
        .expect("v7 carries a timestamp")
        .to_unix();
    let id_ms = seconds * 1000 + u64::from(nanos) / 1_000_000;
    assert!(
        now_ms.abs_diff(id_ms) < 60_000,
        "timestamp {id_ms} near now {now_ms}"
    );

    let first = ids.first().unwrap().as_bytes()[..6].to_vec();
    let last = ids.last().unwrap().as_bytes()[..6].to_vec();
    assert!(first <= last, "later keys sort after earlier ones");
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
}

#[tokio::test]
async fn identifiers_belong_to_one_profile_but_names_are_shared() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let first = insert_profile(pool, "J. Smith").await;
    let second = insert_profile(pool, "John Smith").await;
    let add = |profile: Uuid, kind: &'static str, value: &'static str| async move {
        sqlx::query(
            "insert into profile_identities (profile_id, identifier_type, identifier_value)
             values ($1, $2, $3)",
        )
        .bind(profile)
        .bind(kind)
        .bind(value)
        .execute(pool)
        .await
    };
    add(first, "scopus", "123").await.unwrap();
    let taken = add(second, "scopus", "123")
        .await
        .expect_err("an identifier has one owner");
    assert!(error_message(&taken).contains("identity_unique"), "{taken}");

    add(first, "name", "Smith, J.").await.unwrap();
    add(second, "name", "Smith, J.")
        .await
        .expect("two people may share a name form");
    let repeated = add(first, "name", "Smith, J.")
        .await
        .expect_err("once per profile");
    assert_eq!(
        constraint_name(&repeated).as_deref(),
        Some("identity_per_profile_unique")
    );

    let bad_orcid = sqlx::query(
        "insert into author_profiles (display_name, primary_orcid) values ('x', 'orcid')",
    )
    .execute(pool)
    .await
    .expect_err("orcid format");
    assert_eq!(
        constraint_name(&bad_orcid).as_deref(),
        Some("author_profiles_orcid_format")
    );
}

#[tokio::test]
async fn profile_stats_counts_and_refreshes_concurrently() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let profile = insert_profile(pool, "Marie Curie").await;
    for (index, status) in ["pending", "pending", "confirmed", "rejected"]
        .iter()
        .enumerate()
    {
        let record = insert_record(pool, &format!("r{index}"), "c").await;
        let candidate = insert_candidate(pool, record, profile).await;
        sqlx::query("update candidate_matches set status = $2 where id = $1")
            .bind(candidate)
            .bind(*status)
            .execute(pool)
            .await
            .unwrap();
    }
    for title in ["A", "B"] {
        sqlx::query(
            "with work as (insert into canonical_works (title) values ($1) returning id)
             insert into work_authorships (work_id, profile_id) select id, $2 from work",
        )
        .bind(title)
        .bind(profile)
        .execute(pool)
        .await
        .unwrap();
    }

    sqlx::query("select refresh_profile_stats()")
        .execute(pool)
        .await
        .expect("concurrent refresh");
    let (works, pending, confirmed, rate): (i64, i64, i64, f64) = sqlx::query_as(
        "select works_count, pending_count, confirmed_count, verification_rate::float8
         from profile_stats where profile_id = $1",
    )
    .bind(profile)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!((works, pending, confirmed), (2, 2, 1));
    assert!((rate - 0.5).abs() < 1e-9, "2 of 4 decided: {rate}");
}

#[tokio::test]
async fn migrations_apply_once_and_rerun_as_no_ops() {
    let database = TestDatabase::create_unmigrated().await;
    indexer::db::migrate(&database.pool)
        .await
        .expect("first run");
    indexer::db::migrate(&database.pool)
        .await
        .expect("second run changes nothing");
    let num_applied: i64 =
        sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
            .fetch_one(&database.pool)
            .await
            .unwrap();
    assert_eq!(num_applied as usize, indexer::db::MIGRATOR.iter().count());
}
