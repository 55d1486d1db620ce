//! Canonical works as the matcher writes them: the entry a raw record leaves in
//! `merged_from`, and finding or creating the work of one record when it is confirmed.

use serde_json::{json, Value};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use indexer::index::extract::RecordFields;

use crate::evidence::RecordView;
use crate::Result;

/// What a canonical work takes from one raw record.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkSeed {
    /// The raw record version.
    pub raw_record_id: Uuid,
    /// Its source.
    pub source: String,
    /// Its id in the source.
    pub source_id: String,
    /// Its title, empty when it has none.
    pub title: String,
    /// Its year.
    pub year: Option<i32>,
    /// Its DOI.
    pub doi: Option<String>,
    /// Its work type.
    pub work_type: Option<String>,
}

impl WorkSeed {
    /// Returns the seed of a stored record.
    pub fn of(record: &RecordView, source_id: &str) -> WorkSeed {
        let fields = RecordFields::extract(&record.source, &record.data);
        WorkSeed {
            raw_record_id: record.id,
            source: record.source.clone(),
            source_id: source_id.to_owned(),
            title: fields.title.unwrap_or_default(),
            year: fields.year,
            doi: fields.doi,
            work_type: fields.work_type,
        }
    }

    /// Returns the record's entry in `merged_from`.
    pub fn merged_entry(&self) -> Value {
        merged_entry(self.raw_record_id, &self.source, &self.source_id)
    }
}

/// Returns the entry of a raw record in `merged_from`.
pub fn merged_entry(raw_record_id: Uuid, source: &str, source_id: &str) -> Value {
    json!({"raw_record_id": raw_record_id, "source": source, "source_id": source_id})
}

/// Returns `entries` deduplicated and sorted by raw record id, the order the matcher
/// always writes `merged_from` in.
pub fn sorted_entries(mut entries: Vec<Value>) -> Value {
    entries.sort_by(|first, second| {
        let key = |entry: &Value| {
            entry["raw_record_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        key(first).cmp(&key(second))
    });
    entries.dedup();
    Value::Array(entries)
}

/// Returns the first of January of `year`: canonical works keep a date, sources often
/// give only a year.
pub fn year_date(year: Option<i32>) -> Option<chrono::NaiveDate> {
    year.and_then(|year| chrono::NaiveDate::from_ymd_opt(year, 1, 1))
}

/// Returns the work of the record's group and whether it was created: the work listing
/// the record, else one listing another version of it, else the work of its DOI; else a
/// new automatic work. An automatic work found by version or DOI gains the record in
/// `merged_from`; a manual one is never changed.
///
/// # Errors
/// Fails when PostgreSQL does (also when another transaction created the same DOI's work
/// first, which a retry resolves).
pub async fn attach_record_to_work(
    transaction: &mut Transaction<'_, Postgres>,
    seed: &WorkSeed,
) -> Result<(Uuid, bool)> {
    let by_record: Option<Uuid> = sqlx::query_scalar(
        "select id from canonical_works
         where merged_from @> jsonb_build_array(jsonb_build_object('raw_record_id', $1::text))
         order by merge_status = 'manual' desc, id limit 1",
    )
    .bind(seed.raw_record_id.to_string())
    .fetch_optional(&mut **transaction)
    .await?;
    if let Some(work_id) = by_record {
        return Ok((work_id, false));
    }

    let by_version: Option<(Uuid, String, Value)> = sqlx::query_as(
        "select id, merge_status, merged_from from canonical_works
         where merged_from @> jsonb_build_array(jsonb_build_object('source', $1::text,
                                                                   'source_id', $2::text))
         order by merge_status = 'manual' desc, id limit 1
         for update",
    )
    .bind(&seed.source)
    .bind(&seed.source_id)
    .fetch_optional(&mut **transaction)
    .await?;
    let by_doi = match (&by_version, &seed.doi) {
        (None, Some(doi)) => {
            sqlx::query_as("select id, merge_status, merged_from from canonical_works where primary_doi = $1 for update")
                .bind(doi)
                .fetch_optional(&mut **transaction)
                .await?
        }
        _ => None,
    };
    if let Some((work_id, merge_status, merged_from)) = by_version.or(by_doi) {
        if merge_status == "auto" {
            let mut entries = merged_from.as_array().cloned().unwrap_or_default();
            entries.push(seed.merged_entry());
            sqlx::query("update canonical_works set merged_from = $2 where id = $1")
                .bind(work_id)
                .bind(sorted_entries(entries))
                .execute(&mut **transaction)
                .await?;
        }
        return Ok((work_id, false));
    }

    let work_id: Uuid = sqlx::query_scalar(
        "insert into canonical_works (primary_doi, title, publication_date, type, merged_from)
         values ($1, $2, $3, $4, $5)
         returning id",
    )
    .bind(&seed.doi)
    .bind(&seed.title)
    .bind(year_date(seed.year))
    .bind(&seed.work_type)
    .bind(sorted_entries(vec![seed.merged_entry()]))
    .fetch_one(&mut **transaction)
    .await?;
    Ok((work_id, true))
}
