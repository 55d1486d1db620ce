//! Documents of the indexes as PostgreSQL holds them now: one query and one document
//! builder per index, shared by the bulk build, the follower and the verification.
//!
//! Every query runs on the caller's connection, normally inside a REPEATABLE READ
//! transaction, so the documents of one call are consistent with one snapshot.

mod profiles;
mod records;
mod works;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use tantivy::schema::Field;
use tantivy::TantivyDocument;
use uuid::Uuid;

use super::IndexKind;
use crate::{Error, Result};

pub use profiles::{profile_document, ProfileRow};
pub use records::{record_document, RecordRow};
pub use works::{work_document, WorkAuthor, WorkRow};

/// The first key of a keyset scan: no document has the nil uuid (keys are UUIDv7).
pub(crate) const SCAN_START: Uuid = Uuid::nil();

/// Loads the current state of the documents `ids` of `kind` from PostgreSQL, one entry per
/// id in the order given: `Some(document)` to put in the index, `None` when the id is not
/// in the index any more (deleted, or a record version that is not the current one).
///
/// Building documents from JSON runs on a blocking thread.
///
/// # Errors
/// Fails when the query fails or a row cannot be decoded.
pub async fn load_documents(
    conn: &mut PgConnection,
    kind: IndexKind,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, Option<TantivyDocument>)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{} where {} = any($1)", select_sql(kind), key_column(kind));
    let rows = sqlx::query(&sql).bind(ids).fetch_all(conn).await?;
    let documents = tokio::task::spawn_blocking(move || build_documents(kind, &rows))
        .await
        .map_err(|error| Error::Task(format!("document building failed: {error}")))??;

    let by_id: HashMap<Uuid, TantivyDocument> = documents.into_iter().collect();
    Ok(ids
        .iter()
        .map(|&doc_id| (doc_id, by_id.get(&doc_id).cloned()))
        .collect())
}

/// Returns the rows of `kind` with keys after `after`, in key order, at most `limit`.
pub(crate) async fn fetch_page(
    conn: &mut PgConnection,
    kind: IndexKind,
    after: Uuid,
    limit: usize,
) -> Result<Vec<PgRow>> {
    let sql = format!(
        "{} where {} order by {} limit $2",
        select_sql(kind),
        page_after(kind),
        key_column(kind)
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    Ok(sqlx::query(&sql)
        .bind(after)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

/// Returns the number of documents of `kind` in the connection's snapshot.
pub(crate) async fn count(conn: &mut PgConnection, kind: IndexKind) -> Result<u64> {
    let table = match kind {
        IndexKind::Records => "raw_record_heads",
        IndexKind::Works => "canonical_works",
        IndexKind::Profiles => "author_profiles",
    };
    let num_rows: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(conn)
        .await?;
    Ok(u64::try_from(num_rows).unwrap_or_default())
}

/// Streams every row of `kind`, in id order, as pages of `page_num_rows` sent to
/// `sender`, advancing `progress`; stops early when the receiver is gone (its own error is
/// the one to report).
///
/// # Errors
/// Fails when PostgreSQL fails or a row has no readable id.
pub(crate) async fn send_all_pages(
    conn: &mut PgConnection,
    kind: IndexKind,
    page_num_rows: usize,
    sender: &tokio::sync::mpsc::Sender<Vec<PgRow>>,
    progress: &mut super::progress::DocumentProgress,
) -> Result<()> {
    let page_num_rows = page_num_rows.max(1);
    let mut after = SCAN_START;
    loop {
        let rows = fetch_page(conn, kind, after, page_num_rows).await?;
        let Some(last) = rows.last() else { break };
        after = row_key(last)?;
        let num_rows = rows.len();
        if sender.send(rows).await.is_err() {
            break;
        }
        progress.advance(num_rows as u64);
        if num_rows < page_num_rows {
            break;
        }
    }
    Ok(())
}

/// Returns the key of a row fetched by [`fetch_page`].
pub(crate) fn row_key(row: &PgRow) -> Result<Uuid> {
    Ok(row.try_get("id")?)
}

/// Builds the documents of rows fetched for `kind`; CPU work, run it off the async runtime.
///
/// # Errors
/// Fails when a row cannot be decoded.
pub fn build_documents(kind: IndexKind, rows: &[PgRow]) -> Result<Vec<(Uuid, TantivyDocument)>> {
    rows.iter()
        .map(|row| document_from_row(kind, row))
        .collect()
}

/// Builds the document of one row fetched for `kind`.
///
/// # Errors
/// Fails when the row cannot be decoded.
pub fn document_from_row(kind: IndexKind, row: &PgRow) -> Result<(Uuid, TantivyDocument)> {
    match kind {
        IndexKind::Records => records::document_from_row(row),
        IndexKind::Works => works::document_from_row(row),
        IndexKind::Profiles => profiles::document_from_row(row),
    }
}

fn select_sql(kind: IndexKind) -> &'static str {
    match kind {
        IndexKind::Records => records::SELECT,
        IndexKind::Works => works::SELECT,
        IndexKind::Profiles => profiles::SELECT,
    }
}

fn page_after(kind: IndexKind) -> &'static str {
    match kind {
        IndexKind::Records => records::PAGE_AFTER,
        IndexKind::Works => works::PAGE_AFTER,
        IndexKind::Profiles => profiles::PAGE_AFTER,
    }
}

fn key_column(kind: IndexKind) -> &'static str {
    match kind {
        IndexKind::Records => records::KEY,
        IndexKind::Works => works::KEY,
        IndexKind::Profiles => profiles::KEY,
    }
}

/// Returns a PostgreSQL timestamp as a tantivy date, to the microsecond.
fn timestamp(value: DateTime<Utc>) -> tantivy::DateTime {
    tantivy::DateTime::from_timestamp_micros(value.timestamp_micros())
}

/// Returns a PostgreSQL date as a tantivy date at midnight UTC.
fn date(value: NaiveDate) -> tantivy::DateTime {
    timestamp(value.and_time(NaiveTime::MIN).and_utc())
}

/// Adds `value` to `field` when there is one.
fn add_optional_text(doc: &mut TantivyDocument, field: Field, value: Option<&str>) {
    if let Some(value) = value.filter(|value| !value.is_empty()) {
        doc.add_text(field, value);
    }
}

/// Adds each of `values` to the multi-valued `field`.
fn add_texts<'a>(
    doc: &mut TantivyDocument,
    field: Field,
    values: impl IntoIterator<Item = &'a str>,
) {
    for value in values {
        doc.add_text(field, value);
    }
}
