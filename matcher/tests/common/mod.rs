//! Helpers shared by the matcher's integration tests: records and profiles written into
//! a test database the way the importers write them.

#![allow(dead_code)]

use indexer::import::checksum::canonical_checksum;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// Inserts a raw record and returns its id.
pub async fn insert_record(pool: &PgPool, source: &str, source_id: &str, data: &Value) -> Uuid {
    sqlx::query_scalar(
        "insert into raw_records (source, source_id, entity_type, data, checksum)
         values ($1, $2, 'work', $3, $4) returning id",
    )
    .bind(source)
    .bind(source_id)
    .bind(data)
    .bind(canonical_checksum(data))
    .fetch_one(pool)
    .await
    .expect("insert raw record")
}

/// Inserts a profile with its name forms and returns its id.
pub async fn insert_profile(
    pool: &PgPool,
    display_name: &str,
    orcid: Option<&str>,
    other_names: &[&str],
) -> Uuid {
    let id: Uuid = sqlx::query_scalar(
        "insert into author_profiles (display_name, primary_orcid) values ($1, $2) returning id",
    )
    .bind(display_name)
    .bind(orcid)
    .fetch_one(pool)
    .await
    .expect("insert profile");
    for name in other_names {
        sqlx::query(
            "insert into profile_identities (profile_id, identifier_type, identifier_value)
             values ($1, 'name', $2)",
        )
        .bind(id)
        .bind(name)
        .execute(pool)
        .await
        .expect("insert name identity");
    }
    id
}

/// An OpenAlex work with one authorship per `(name, orcid, affiliation)`.
pub fn openalex_work(
    title: &str,
    year: i32,
    doi: Option<&str>,
    authors: &[(&str, Option<&str>, Option<&str>)],
) -> Value {
    let authorships: Vec<Value> = authors
        .iter()
        .map(|(name, orcid, affiliation)| {
            json!({
                "author": {
                    "display_name": name,
                    "orcid": orcid.map(|orcid| format!("https://orcid.org/{orcid}")),
                },
                "institutions": affiliation
                    .map(|affiliation| vec![json!({"display_name": affiliation})])
                    .unwrap_or_default(),
            })
        })
        .collect();
    json!({
        "id": format!("https://openalex.org/W{}", title.len()),
        "title": title,
        "publication_year": year,
        "doi": doi.map(|doi| format!("https://doi.org/{doi}")),
        "type": "article",
        "authorships": authorships,
    })
}

/// Counts the rows of `table`.
pub async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await
        .expect("count rows")
}
