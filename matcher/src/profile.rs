//! What the matcher knows of a profile: its name forms, ORCID iD, affiliations, the titles,
//! years and co-authors of its verified works, and its auto-confirmation threshold.

use std::collections::{BTreeMap, BTreeSet};

use analyzers::{compatibility, GivenNameVariants, NameAgreement, PersonName};
use indexer::index::extract::{normalize_orcid, RecordFields};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::evidence::{author_positions, coauthor_key};
use crate::Result;

/// Titles of verified works sent to the search API per profile at most: the most recent
/// ones, which a new record most likely repeats.
pub const MAX_RETRIEVAL_TITLES: usize = 50;

/// Name forms of a profile sent to candidate retrieval at most, the display name first:
/// the search API refuses a profile of more than 1,000.
pub const MAX_RETRIEVAL_NAMES: usize = 200;

/// A profile and the evidence its verified works give.
#[derive(Debug, Clone)]
pub struct ProfileContext {
    /// The profile's id.
    pub id: Uuid,
    /// Every name form, the display name first, deduplicated.
    pub names: Vec<String>,
    pub(crate) parsed_names: Vec<PersonName>,
    /// The ORCID iD, bare.
    pub orcid: Option<String>,
    /// Affiliation identities and the institution name.
    pub affiliations: Vec<String>,
    /// Titles of verified works.
    pub known_titles: Vec<String>,
    /// Earliest and latest year of the verified works.
    pub known_years: Option<(i32, i32)>,
    /// Co-author keys (see [`coauthor_key`]) of the verified works.
    pub coauthors: BTreeSet<String>,
    /// Raw records already part of the profile's verified works.
    pub known_record_ids: BTreeSet<Uuid>,
    /// `settings.autoConfirmThreshold`, when the profile sets one
    /// ([`UNREADABLE_THRESHOLD`] when it is not a number from 0 to 1).
    pub auto_confirm_threshold: Option<f64>,
}

/// The threshold of a profile whose `settings.autoConfirmThreshold` is not a number from 0
/// to 1: above every score, so that nothing is confirmed on a setting no one can read.
pub const UNREADABLE_THRESHOLD: f64 = 2.0;

impl ProfileContext {
    /// Returns a profile known only by its name forms.
    pub fn new(id: Uuid, names: impl IntoIterator<Item = impl Into<String>>) -> ProfileContext {
        let mut profile = ProfileContext {
            id,
            names: Vec::new(),
            parsed_names: Vec::new(),
            orcid: None,
            affiliations: Vec::new(),
            known_titles: Vec::new(),
            known_years: None,
            coauthors: BTreeSet::new(),
            known_record_ids: BTreeSet::new(),
            auto_confirm_threshold: None,
        };
        for name in names {
            profile.add_name(&name.into());
        }
        profile
    }

    /// Adds a name form unless already known.
    pub fn add_name(&mut self, name: &str) {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() || self.names.contains(&name) {
            return;
        }
        self.parsed_names.push(PersonName::parse(&name));
        self.names.push(name);
    }

    /// Returns true when `name` may be one of the person's own name forms.
    pub fn is_own_name(&self, name: &str, variants: &GivenNameVariants) -> bool {
        let parsed = PersonName::parse(name);
        self.parsed_names.iter().any(|form| {
            matches!(
                compatibility(form, &parsed, variants).agreement,
                NameAgreement::Full
                    | NameAgreement::Variant
                    | NameAgreement::Reordered
                    | NameAgreement::Initials
            )
        })
    }

    /// Records the co-authors and year of a verified work's record.
    pub fn learn_from_record(&mut self, source: &str, data: &Value, variants: &GivenNameVariants) {
        let fields = RecordFields::extract(source, data);
        for position in author_positions(source, data, &fields) {
            if self.is_own_name(&position.name, variants) {
                continue;
            }
            self.coauthors.extend(coauthor_key(&position.name));
        }
        if let Some(year) = fields.year {
            self.add_year(year);
        }
    }

    fn add_year(&mut self, year: i32) {
        self.known_years = Some(match self.known_years {
            Some((first, last)) => (first.min(year), last.max(year)),
            None => (year, year),
        });
    }
}

/// Returns the ids of every profile, in id order.
///
/// # Errors
/// Fails when PostgreSQL does.
pub async fn all_profile_ids(pool: &PgPool) -> Result<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar("select id from author_profiles order by id")
            .fetch_all(pool)
            .await?,
    )
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    id: Uuid,
    display_name: String,
    primary_orcid: Option<String>,
    institution_name: Option<String>,
    threshold: Option<String>,
}

#[derive(sqlx::FromRow)]
struct KnownWorkRow {
    profile_id: Uuid,
    title: String,
    year: Option<i32>,
    record_ids: Vec<Uuid>,
}

/// Loads the context of each profile in `ids` that exists, in the order of `ids`.
///
/// # Errors
/// Fails when PostgreSQL does.
pub async fn load_profiles(
    pool: &PgPool,
    ids: &[Uuid],
    variants: &GivenNameVariants,
) -> Result<Vec<ProfileContext>> {
    let rows: Vec<ProfileRow> = sqlx::query_as(
        "select id, display_name, primary_orcid, institution_name,
                settings->>'autoConfirmThreshold' as threshold
         from author_profiles where id = any($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let mut profiles: BTreeMap<Uuid, ProfileContext> = BTreeMap::new();
    for row in rows {
        let mut profile = ProfileContext::new(row.id, [row.display_name]);
        profile.orcid = row.primary_orcid.as_deref().and_then(normalize_orcid);
        profile.affiliations.extend(row.institution_name);
        profile.auto_confirm_threshold = row.threshold.map(|threshold| {
            match threshold.parse::<f64>() {
                Ok(value) if (0.0..=1.0).contains(&value) => value,
                _ => {
                    tracing::warn!(
                        profile_id = %row.id,
                        value = %threshold,
                        "settings.autoConfirmThreshold of the profile is not a number from 0 to 1; \
                         nothing is auto-confirmed for it until it is"
                    );
                    UNREADABLE_THRESHOLD
                }
            }
        });
        profiles.insert(row.id, profile);
    }

    let identities: Vec<(Uuid, String, String)> = sqlx::query_as(
        "select profile_id, identifier_type, identifier_value
         from profile_identities
         where profile_id = any($1) and identifier_type in ('name', 'affiliation', 'orcid')
         order by profile_id, is_primary desc, identifier_type, identifier_value",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    for (profile_id, kind, value) in identities {
        let Some(profile) = profiles.get_mut(&profile_id) else {
            continue;
        };
        match kind.as_str() {
            "name" => profile.add_name(&value),
            "affiliation" if !profile.affiliations.contains(&value) => {
                profile.affiliations.push(value);
            }
            "orcid" if profile.orcid.is_none() => profile.orcid = normalize_orcid(&value),
            _ => {}
        }
    }

    load_known_works(pool, ids, variants, &mut profiles).await?;
    Ok(ids.iter().filter_map(|id| profiles.remove(id)).collect())
}

async fn load_known_works(
    pool: &PgPool,
    ids: &[Uuid],
    variants: &GivenNameVariants,
    profiles: &mut BTreeMap<Uuid, ProfileContext>,
) -> Result<()> {
    let works: Vec<KnownWorkRow> = sqlx::query_as(
        "select wa.profile_id, cw.title,
                extract(year from cw.publication_date)::int as year,
                coalesce(array(
                    select (entry->>'raw_record_id')::uuid
                    from jsonb_array_elements(cw.merged_from) entry
                    where entry ? 'raw_record_id'
                ), '{}') as record_ids
         from work_authorships wa
         join canonical_works cw on cw.id = wa.work_id
         where wa.profile_id = any($1)
         order by wa.profile_id, cw.publication_date desc nulls last, cw.id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;

    let mut record_owners: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for work in works {
        let Some(profile) = profiles.get_mut(&work.profile_id) else {
            continue;
        };
        if profile.known_titles.len() < MAX_RETRIEVAL_TITLES
            && !work.title.trim().is_empty()
            && !profile.known_titles.contains(&work.title)
        {
            profile.known_titles.push(work.title);
        }
        if let Some(year) = work.year {
            profile.add_year(year);
        }
        for record_id in work.record_ids {
            profile.known_record_ids.insert(record_id);
            record_owners
                .entry(record_id)
                .or_default()
                .push(work.profile_id);
        }
    }
    if record_owners.is_empty() {
        return Ok(());
    }

    let record_ids: Vec<Uuid> = record_owners.keys().copied().collect();
    let records: Vec<(Uuid, String, Value)> =
        sqlx::query_as("select id, source, data from raw_records where id = any($1) order by id")
            .bind(&record_ids)
            .fetch_all(pool)
            .await?;
    for (record_id, source, data) in records {
        for owner in &record_owners[&record_id] {
            if let Some(profile) = profiles.get_mut(owner) {
                profile.learn_from_record(&source, &data, variants);
            }
        }
    }
    Ok(())
}
