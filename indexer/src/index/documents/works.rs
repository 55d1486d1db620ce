//! Documents of the `works` index: canonical works with their authors' names and ids.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::FromRow;
use tantivy::TantivyDocument;
use uuid::Uuid;

use super::{add_optional_text, date, timestamp};
use crate::index::extract::normalize_doi;
use crate::index::schema;
use crate::Result;

/// Works with their authorships in author order, each author's profile name, ORCID and
/// name forms.
pub(super) const SELECT: &str = "
select w.id, w.title, w.publication_date, w.type as work_type, w.primary_doi,
       jsonb_array_length(w.merged_from) as merged_from_count, w.merge_status, w.updated_at,
       coalesce((
           select jsonb_agg(jsonb_build_object(
                      'profile_id', p.id,
                      'display_name', p.display_name,
                      'orcid', p.primary_orcid,
                      'names', coalesce((
                          select jsonb_agg(i.identifier_value order by i.identifier_value)
                            from profile_identities i
                           where i.profile_id = p.id and i.identifier_type = 'name'), '[]'))
                  order by wa.position nulls last, wa.id)
             from work_authorships wa
             join author_profiles p on p.id = wa.profile_id
            where wa.work_id = w.id), '[]') as authors
  from canonical_works w";

pub(super) const KEY: &str = "w.id";

/// The condition of a page of rows after `$1`.
pub(super) const PAGE_AFTER: &str = "w.id > $1";

/// A canonical work as the `works` index needs it.
#[derive(Debug, Clone, FromRow)]
pub struct WorkRow {
    /// The work's id.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Its publication date.
    pub publication_date: Option<NaiveDate>,
    /// Its type.
    pub work_type: Option<String>,
    /// Its DOI.
    pub primary_doi: Option<String>,
    /// Number of raw records merged into it.
    pub merged_from_count: i32,
    /// `auto` or `manual`.
    pub merge_status: String,
    /// Last change of the row.
    pub updated_at: DateTime<Utc>,
    /// Its authors, in author order.
    pub authors: Json<Vec<WorkAuthor>>,
}

/// An author of a work, as the query aggregates it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkAuthor {
    /// The author's profile.
    pub profile_id: Uuid,
    /// The profile's display name.
    pub display_name: String,
    /// The profile's primary ORCID iD.
    pub orcid: Option<String>,
    /// The profile's name forms (`profile_identities` of type `name`).
    pub names: Vec<String>,
}

pub(super) fn document_from_row(row: &PgRow) -> Result<(Uuid, TantivyDocument)> {
    let row = WorkRow::from_row(row)?;
    Ok((row.id, work_document(&row)))
}

/// Returns the `works` document of a canonical work.
pub fn work_document(row: &WorkRow) -> TantivyDocument {
    let schema = schema::works();
    let mut doc = TantivyDocument::new();
    doc.add_text(schema.id, row.id.to_string());
    doc.add_text(schema.title, &row.title);
    doc.add_text(schema.title_stem, &row.title);
    for author in row.authors.iter() {
        doc.add_text(schema.authors, &author.display_name);
        doc.add_text(schema.author_ids, author.profile_id.to_string());
        add_optional_text(&mut doc, schema.orcids, author.orcid.as_deref());
        let other_names = author
            .names
            .iter()
            .filter(|name| **name != author.display_name);
        for name in other_names {
            doc.add_text(schema.author_name_forms, name);
        }
    }
    if let Some(publication_date) = row.publication_date {
        doc.add_i64(schema.year, i64::from(publication_date.year()));
        doc.add_date(schema.publication_date, date(publication_date));
    }
    add_optional_text(&mut doc, schema.work_type, row.work_type.as_deref());
    let doi = row
        .primary_doi
        .as_deref()
        .map(|doi| normalize_doi(doi).unwrap_or_else(|| doi.to_owned()));
    add_optional_text(&mut doc, schema.doi, doi.as_deref());
    doc.add_u64(
        schema.merged_from_count,
        u64::try_from(row.merged_from_count).unwrap_or_default(),
    );
    doc.add_text(schema.merge_status, &row.merge_status);
    doc.add_date(schema.updated_at, timestamp(row.updated_at));
    doc
}
