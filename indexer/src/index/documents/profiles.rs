//! Documents of the `profiles` index: author profiles with every name form, affiliation
//! and identifier they are known by.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::FromRow;
use tantivy::TantivyDocument;
use uuid::Uuid;

use super::{add_optional_text, timestamp};
use crate::index::schema;
use crate::Result;

/// Identity types kept out of the index: e-mail addresses are for reaching a person, not
/// for finding one, and the search API serves people who are not the profile's owner.
const UNINDEXED_IDENTITY_TYPES: [&str; 1] = ["email"];

/// Profiles with their identities as `[type, value]` pairs, ordered by type and value.
pub(super) const SELECT: &str = "
select p.id, p.display_name, p.primary_orcid, p.institution_name, p.updated_at,
       coalesce((
           select jsonb_agg(jsonb_build_array(i.identifier_type, i.identifier_value)
                            order by i.identifier_type, i.identifier_value)
             from profile_identities i
            where i.profile_id = p.id), '[]') as identities
  from author_profiles p";

pub(super) const KEY: &str = "p.id";

/// The condition of a page of rows after `$1`.
pub(super) const PAGE_AFTER: &str = "p.id > $1";

/// An author profile as the `profiles` index needs it.
#[derive(Debug, Clone, FromRow)]
pub struct ProfileRow {
    /// The profile's id.
    pub id: Uuid,
    /// The name shown.
    pub display_name: String,
    /// The primary ORCID iD.
    pub primary_orcid: Option<String>,
    /// The institution.
    pub institution_name: Option<String>,
    /// Last change of the row.
    pub updated_at: DateTime<Utc>,
    /// Identities as `(type, value)`, ordered by type and value.
    pub identities: Json<Vec<(String, String)>>,
}

pub(super) fn document_from_row(row: &PgRow) -> Result<(Uuid, TantivyDocument)> {
    let row = ProfileRow::from_row(row)?;
    Ok((row.id, profile_document(&row)))
}

/// Returns the `profiles` document of a profile.
pub fn profile_document(row: &ProfileRow) -> TantivyDocument {
    let display_name = row.display_name.as_str();
    let identities = row.identities.as_slice();
    let schema = schema::profiles();
    let mut doc = TantivyDocument::new();
    doc.add_text(schema.id, row.id.to_string());
    doc.add_text(schema.name, display_name);
    doc.add_text(schema.names, display_name);
    let orcid = row.primary_orcid.as_deref().or_else(|| {
        identities
            .iter()
            .find(|(kind, _)| kind == "orcid")
            .map(|(_, value)| value.as_str())
    });
    add_optional_text(&mut doc, schema.orcid, orcid);
    add_optional_text(
        &mut doc,
        schema.institution,
        row.institution_name.as_deref(),
    );

    let mut by_type: Map<String, Value> = Map::new();
    for (kind, value) in identities {
        if UNINDEXED_IDENTITY_TYPES.contains(&kind.as_str()) {
            continue;
        }
        match kind.as_str() {
            "name" if value != display_name => doc.add_text(schema.names, value),
            "name" => {}
            "affiliation" => doc.add_text(schema.affiliations, value),
            _ => doc.add_text(schema.identifiers, value),
        }
        let values = by_type
            .entry(kind.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = values {
            values.push(Value::String(value.clone()));
        }
    }
    doc.add_text(schema.identities, Value::Object(by_type).to_string());
    doc.add_date(schema.updated_at, timestamp(row.updated_at));
    doc
}
