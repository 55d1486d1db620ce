//! Documents of the `records` index: the current version of each raw record, its
//! searchable fields and its verification state.

use std::collections::{BTreeSet, HashSet};

use analyzers::PersonName;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::FromRow;
use tantivy::TantivyDocument;
use uuid::Uuid;

use super::{add_optional_text, add_texts, timestamp};
use crate::index::candidate_view::{self, AuthorKind};
use crate::index::extract::RecordFields;
use crate::index::{schema, search_view, view_bytes, IndexKind};
use crate::Result;

/// The current versions (`raw_record_heads`) with their verification state, derived from
/// their candidates as [`schema::STATES`] describes.
pub(super) const SELECT: &str = "
select r.id, r.source, r.source_id, r.data, r.fetched_at, r.checksum,
       (select case
                   when count(*) = 0 then 'none'
                   when bool_or(c.status in ('confirmed', 'auto_confirmed')) then 'confirmed'
                   when bool_or(c.status in ('pending', 'uncertain')) then 'pending'
                   else 'rejected'
               end
          from candidate_matches c
         where c.raw_record_id = r.id) as state
  from raw_record_heads h
  join raw_records r on r.id = h.raw_record_id";

/// The key scanned and looked up: a version is in the index exactly when it is a head.
pub(super) const KEY: &str = "h.raw_record_id";

/// The condition of a page of versions after `$1`: on the head and on the version both,
/// so that the join starts where the page does whatever plan PostgreSQL picks (a merge
/// join bounded on the heads alone read every version before the page, so a build slowed
/// as it went, to a few thousand records per second past half a million).
pub(super) const PAGE_AFTER: &str = "h.raw_record_id > $1 and r.id > $1";

/// A record version as the `records` index needs it.
#[derive(Debug, Clone, FromRow)]
pub struct RecordRow {
    /// The version's `raw_records.id`.
    pub id: Uuid,
    /// The source.
    pub source: String,
    /// The record's id within its source.
    pub source_id: String,
    /// The record as its source gave it.
    pub data: Json<Value>,
    /// When the version was imported.
    pub fetched_at: DateTime<Utc>,
    /// Checksum of the version.
    pub checksum: String,
    /// Verification state, one of [`schema::STATES`].
    pub state: String,
}

pub(super) fn document_from_row(row: &PgRow) -> Result<(Uuid, TantivyDocument)> {
    let row = RecordRow::from_row(row)?;
    Ok((row.id, record_document(&row)))
}

/// Returns the `records` document of a record version, its fields read by
/// [`RecordFields::extract`].
pub fn record_document(row: &RecordRow) -> TantivyDocument {
    let fields = RecordFields::extract(&row.source, &row.data);
    let schema = schema::records();
    let mut doc = TantivyDocument::new();
    let id = row.id.to_string();
    doc.add_text(schema.id, &id);
    if let Some(title) = &fields.title {
        doc.add_text(schema.title, title);
        doc.add_text(schema.title_stem, title);
    }
    add_texts(
        &mut doc,
        schema.authors,
        fields.authors.iter().map(String::as_str),
    );
    add_texts(
        &mut doc,
        schema.author_name_variants,
        fields.author_name_variants.iter().map(String::as_str),
    );
    add_author_keys(&mut doc, &id, &fields);
    add_optional_text(&mut doc, schema.venue, fields.venue.as_deref());
    if let Some(year) = fields.year {
        doc.add_i64(schema.year, i64::from(year));
    }
    add_optional_text(&mut doc, schema.doi, fields.doi.as_deref());
    add_texts(
        &mut doc,
        schema.identifiers,
        fields.identifiers.iter().map(String::as_str),
    );
    add_texts(
        &mut doc,
        schema.orcids,
        fields.orcids.iter().map(String::as_str),
    );
    doc.add_text(schema.source, &row.source);
    doc.add_text(schema.source_id, &row.source_id);
    add_optional_text(&mut doc, schema.work_type, fields.work_type.as_deref());
    add_optional_text(&mut doc, schema.language, fields.language.as_deref());
    doc.add_text(schema.state, &row.state);
    doc.add_date(schema.fetched_at, timestamp(row.fetched_at));
    doc.add_text(schema.checksum, &row.checksum);
    doc.add_text(schema.data, row.data.0.to_string());
    let view = search_view::encode(IndexKind::Records, &doc);
    view_bytes::add_view(&mut doc, schema.search_view, &view);
    doc
}

/// Adds the author keys of every distinct author string, as written and in its variants,
/// each key once, and the record's candidate view.
fn add_author_keys(doc: &mut TantivyDocument, id: &str, fields: &RecordFields) {
    let schema = schema::records();
    let mut surnames: BTreeSet<String> = BTreeSet::new();
    let mut pairs: BTreeSet<String> = BTreeSet::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut view_authors: Vec<(AuthorKind, &str, Vec<String>, Vec<String>)> = Vec::new();
    let written = fields.authors.iter().map(|name| (AuthorKind::Author, name));
    let variants = fields
        .author_name_variants
        .iter()
        .map(|name| (AuthorKind::Variant, name));
    for (kind, author) in written.chain(variants) {
        if !seen.insert(author.as_str()) {
            continue;
        }
        let keys = PersonName::parse(author).author_keys();
        surnames.extend(keys.surnames.iter().chain(&keys.read_surnames).cloned());
        pairs.extend(keys.pairs);
        view_authors.push((kind, author, keys.surnames, keys.read_surnames));
    }
    for surname in &surnames {
        doc.add_text(schema.author_surnames, surname);
    }
    for pair in &pairs {
        doc.add_text(schema.author_keys, pair);
    }
    let view = candidate_view::encode(
        id,
        view_authors
            .iter()
            .map(|(kind, name, own, read)| (*kind, *name, own.as_slice(), read.as_slice())),
    );
    view_bytes::add_view(doc, schema.candidate_view, &view);
}
