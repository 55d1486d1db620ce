//! Writes prepared records and profiles to PostgreSQL in batches, idempotently.
//!
//! A batch is one multi-row insert that skips versions already stored, so a rerun adds
//! nothing. When PostgreSQL refuses a batch for its content, the batch is written again row
//! by row: the good records are kept and each refused one becomes a reject.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::checksum::canonical_checksum;
use super::record::{Location, Rejected, SourceProfile, SourceRecord};
use crate::Result;

/// A record with its checksum and serialized form, ready to insert.
#[derive(Debug, Clone)]
pub struct PreparedRecord {
    /// Source name.
    pub source: String,
    /// Identifier within the source.
    pub source_id: String,
    /// What the record describes.
    pub entity_type: String,
    /// The original record, serialized.
    pub data_json: String,
    /// Checksum of the canonical form.
    pub checksum: String,
    /// Where it was read.
    pub location: Location,
    /// Values of the record the index cannot use, described
    /// ([`crate::index::extract::unusable_values`]); the record is stored all the same.
    pub warnings: Vec<String>,
}

impl PreparedRecord {
    /// Computes the checksum and serialized form of `record`.
    pub fn new(record: SourceRecord, location: Location) -> Self {
        let checksum = canonical_checksum(&record.data);
        let data_json = record.data.to_string();
        let warnings = crate::index::extract::unusable_values(&record.source, &record.data);
        Self {
            warnings,
            source: record.source,
            source_id: record.source_id,
            entity_type: record.entity_type,
            data_json,
            checksum,
            location,
        }
    }

    /// Returns the size of the serialized record in bytes.
    pub fn num_bytes(&self) -> usize {
        self.data_json.len()
    }
}

/// What writing a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Records whose (source, source_id) was not stored before.
    pub num_inserted: u64,
    /// Records stored before with a different checksum: a new version was added.
    pub num_new_versions: u64,
    /// Records already stored with the same checksum.
    pub num_unchanged: u64,
    /// Records PostgreSQL refused.
    pub rejected: Vec<Rejected>,
}

impl BatchOutcome {
    /// Adds the counts and rejects of `other` to these.
    pub fn absorb(&mut self, other: BatchOutcome) {
        self.num_inserted += other.num_inserted;
        self.num_new_versions += other.num_new_versions;
        self.num_unchanged += other.num_unchanged;
        self.rejected.extend(other.rejected);
    }
}

/// Inserts the records' versions not yet stored; a record already stored is left alone.
/// Returns the rows inserted.
const INSERT_RECORDS_SQL: &str = r"
with input as (
    select *
    from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
        with ordinality as t(source, source_id, entity_type, data, checksum, ord)
)
insert into raw_records (source, source_id, entity_type, data, checksum)
select source, source_id, entity_type, data::jsonb, checksum
from input
order by ord
on conflict (source, source_id, checksum) do nothing
returning id, source, source_id
";

/// Counts the records of the rows just inserted that have no other version, in a
/// statement of its own: its snapshot sees a version another import committed while this
/// one waited for the record's head, so two imports of one new record count it once.
const COUNT_NEW_KEYS_SQL: &str = r"
select count(*)
from (select distinct source, source_id from unnest($1::text[], $2::text[]) as k(source, source_id)) k
where not exists (
    select 1 from raw_records r
    where r.source = k.source and r.source_id = k.source_id and r.id <> all($3::uuid[])
)
";

/// Makes the version each key last had in the batch its current one, fetched now. An
/// insert makes a new version current by itself; this covers a record that changed back to
/// content stored before (A, then B, then A again), whose insert was skipped as already
/// stored. A head another import fetched after this transaction began is left alone.
const POINT_HEADS_AT_LATEST_SQL: &str = r"
with input as (
    select *
    from unnest($1::text[], $2::text[], $3::text[])
        with ordinality as t(source, source_id, checksum, ord)
),
latest as (
    select distinct on (source, source_id) source, source_id, checksum
    from input
    order by source, source_id, ord desc
)
update raw_record_heads h
set raw_record_id = r.id, fetched_at = now(), updated_at = now()
from latest l
join raw_records r
    on r.source = l.source and r.source_id = l.source_id and r.checksum = l.checksum
where h.source = l.source and h.source_id = l.source_id and h.raw_record_id <> r.id
    and h.fetched_at <= now()
";

/// Writes `records` in one transaction, falling back to one record at a time when
/// PostgreSQL refuses the batch for its content.
///
/// # Errors
/// Fails when PostgreSQL is unreachable or fails for a reason that is not the data's.
pub async fn write_records(pool: &PgPool, records: &[PreparedRecord]) -> Result<BatchOutcome> {
    if records.is_empty() {
        return Ok(BatchOutcome::default());
    }
    let mut transaction = pool.begin().await?;
    match insert_records(&mut transaction, records).await {
        Ok(outcome) => {
            transaction.commit().await?;
            Ok(outcome)
        }
        Err(error) if is_data_error(&error) => {
            transaction.rollback().await?;
            write_records_one_by_one(pool, records).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn write_records_one_by_one(
    pool: &PgPool,
    records: &[PreparedRecord],
) -> Result<BatchOutcome> {
    let mut outcome = BatchOutcome::default();
    for record in records {
        let mut transaction = pool.begin().await?;
        match insert_records(&mut transaction, std::slice::from_ref(record)).await {
            Ok(single) => {
                transaction.commit().await?;
                outcome.absorb(single);
            }
            Err(error) if is_data_error(&error) => {
                transaction.rollback().await?;
                outcome.rejected.push(Rejected {
                    location: record.location.clone(),
                    reason: format!(
                        "postgresql refused the record: {}",
                        database_message(&error)
                    ),
                });
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(outcome)
}

/// Inserts `records` on an open connection or transaction and counts what happened.
///
/// # Errors
/// Fails as the statement fails; the caller decides whether that is the data's fault.
pub async fn insert_records(
    connection: &mut PgConnection,
    records: &[PreparedRecord],
) -> std::result::Result<BatchOutcome, sqlx::Error> {
    let sources: Vec<&str> = records
        .iter()
        .map(|record| record.source.as_str())
        .collect();
    let source_ids: Vec<&str> = records
        .iter()
        .map(|record| record.source_id.as_str())
        .collect();
    let entity_types: Vec<&str> = records
        .iter()
        .map(|record| record.entity_type.as_str())
        .collect();
    let data: Vec<&str> = records
        .iter()
        .map(|record| record.data_json.as_str())
        .collect();
    let checksums: Vec<&str> = records
        .iter()
        .map(|record| record.checksum.as_str())
        .collect();

    let inserted: Vec<(Uuid, String, String)> = sqlx::query_as(INSERT_RECORDS_SQL)
        .bind(&sources)
        .bind(&source_ids)
        .bind(&entity_types)
        .bind(&data)
        .bind(&checksums)
        .fetch_all(&mut *connection)
        .await?;
    let num_inserted_rows = inserted.len() as u64;
    let num_new_keys: i64 = if inserted.is_empty() {
        0
    } else {
        let (ids, (inserted_sources, inserted_source_ids)): (
            Vec<Uuid>,
            (Vec<String>, Vec<String>),
        ) = inserted
            .into_iter()
            .map(|(id, source, source_id)| (id, (source, source_id)))
            .unzip();
        sqlx::query_scalar(COUNT_NEW_KEYS_SQL)
            .bind(&inserted_sources)
            .bind(&inserted_source_ids)
            .bind(&ids)
            .fetch_one(&mut *connection)
            .await?
    };

    let num_reverted = sqlx::query(POINT_HEADS_AT_LATEST_SQL)
        .bind(&sources)
        .bind(&source_ids)
        .bind(&checksums)
        .execute(&mut *connection)
        .await?
        .rows_affected();

    let num_new_keys = u64::try_from(num_new_keys).unwrap_or(0);
    let num_unchanged = records.len() as u64 - num_inserted_rows;
    Ok(BatchOutcome {
        num_inserted: num_new_keys,
        num_new_versions: num_inserted_rows - num_new_keys.min(num_inserted_rows) + num_reverted,
        num_unchanged: num_unchanged - num_reverted.min(num_unchanged),
        rejected: Vec::new(),
    })
}

/// Returns whether PostgreSQL refused a statement because of the values in it (SQLSTATE
/// classes 22, data exception, and 23, integrity constraint violation, and 54, program limit
/// exceeded) rather than because it is unreachable or broken.
fn is_data_error(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(database_error) = error else {
        return false;
    };
    let code = database_error.code().unwrap_or_default();
    code.starts_with("22") || code.starts_with("23") || code.starts_with("54")
}

fn database_message(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(database_error) => database_error.message().to_owned(),
        other => other.to_string(),
    }
}

/// What writing a profile did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileOutcome {
    /// Whether the profile was created rather than found.
    pub created: bool,
    /// Whether an existing profile's names or institution changed.
    pub updated: bool,
    /// Identities added to the profile.
    pub num_identities_added: u64,
    /// Identities removed because the source no longer lists them.
    pub num_identities_removed: u64,
    /// Identities the source lists that another profile already holds.
    pub conflicting_identities: Vec<(String, String)>,
    /// What writing the profile's works did.
    pub works: BatchOutcome,
}

/// How identities written by an import are marked, so a later import of the same source
/// can remove those the source no longer lists without touching ones added by people.
const IMPORT_VERIFICATION_METHOD: &str = "orcid_import";

/// Creates or updates the profile of `profile.orcid` with its identities, and writes its
/// works, all in one transaction.
///
/// # Errors
/// Fails when PostgreSQL fails; nothing of the profile is written then.
pub async fn write_profile(
    pool: &PgPool,
    profile: &SourceProfile,
    works: &[PreparedRecord],
) -> Result<ProfileOutcome> {
    let mut transaction = pool.begin().await?;
    let institution = profile
        .affiliations
        .iter()
        .find(|affiliation| affiliation.end_year.is_none())
        .or_else(|| profile.affiliations.first())
        .map(|affiliation| affiliation.organization.clone());
    let orcid_settings = serde_json::json!({
        "givenNames": profile.given_names,
        "familyName": profile.family_name,
        "affiliations": profile.affiliations,
    });

    let mut outcome = ProfileOutcome::default();
    let profile_id = match lock_profile(&mut transaction, &profile.orcid).await? {
        Some(id) => id,
        None => {
            // Another import may create the same profile at this moment; the insert then
            // does nothing, and the row it committed is locked and updated instead.
            let inserted: Option<Uuid> = sqlx::query_scalar(
                "insert into author_profiles (primary_orcid, display_name, institution_name, settings)
                 values ($1, $2, $3, jsonb_build_object('orcid', $4::jsonb))
                 on conflict (primary_orcid) do nothing
                 returning id",
            )
            .bind(&profile.orcid)
            .bind(&profile.display_name)
            .bind(&institution)
            .bind(&orcid_settings)
            .fetch_optional(&mut *transaction)
            .await?;
            outcome.created = inserted.is_some();
            match inserted {
                Some(id) => id,
                None => lock_profile(&mut transaction, &profile.orcid)
                    .await?
                    .ok_or(sqlx::Error::RowNotFound)?,
            }
        }
    };
    if !outcome.created {
        let changed = sqlx::query(
            "update author_profiles
             set display_name = $2, institution_name = $3,
                 settings = settings || jsonb_build_object('orcid', $4::jsonb)
             where id = $1
               and (display_name, institution_name, settings -> 'orcid')
                   is distinct from ($2, $3, $4::jsonb)",
        )
        .bind(profile_id)
        .bind(&profile.display_name)
        .bind(&institution)
        .bind(&orcid_settings)
        .execute(&mut *transaction)
        .await?;
        outcome.updated = changed.rows_affected() > 0;
    }

    write_identities(
        &mut transaction,
        profile_id,
        &profile_identities(profile),
        &mut outcome,
    )
    .await?;
    outcome.works = insert_records(&mut transaction, works).await?;
    transaction.commit().await?;
    Ok(outcome)
}

/// Locks the profile of `orcid` until the transaction ends and returns its id, when it
/// exists.
async fn lock_profile(
    connection: &mut PgConnection,
    orcid: &str,
) -> std::result::Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select id from author_profiles where primary_orcid = $1 for update")
        .bind(orcid)
        .fetch_optional(&mut *connection)
        .await
}

/// Returns every (type, value) identity an ORCID record gives its person.
fn profile_identities(profile: &SourceProfile) -> Vec<(String, String)> {
    let mut identities = vec![("orcid".to_owned(), profile.orcid.clone())];
    let mut names = vec![profile.display_name.clone()];
    if let (Some(given), Some(family)) = (&profile.given_names, &profile.family_name) {
        names.push(format!("{given} {family}"));
    }
    names.extend(profile.other_names.iter().cloned());
    identities.extend(names.into_iter().map(|name| ("name".to_owned(), name)));
    identities.extend(
        profile
            .external_ids
            .iter()
            .map(|(kind, value)| (kind.to_lowercase(), value.clone())),
    );
    identities.extend(
        profile
            .affiliations
            .iter()
            .map(|affiliation| ("affiliation".to_owned(), affiliation.organization.clone())),
    );
    identities.retain(|(_, value)| !value.trim().is_empty());
    identities.sort();
    identities.dedup();
    identities
}

async fn write_identities(
    connection: &mut PgConnection,
    profile_id: Uuid,
    identities: &[(String, String)],
    outcome: &mut ProfileOutcome,
) -> std::result::Result<(), sqlx::Error> {
    let kinds: Vec<&str> = identities.iter().map(|(kind, _)| kind.as_str()).collect();
    let values: Vec<&str> = identities.iter().map(|(_, value)| value.as_str()).collect();

    let removed = sqlx::query(
        "delete from profile_identities
         where profile_id = $1 and verification_method = $4
           and (identifier_type, identifier_value) not in (
               select * from unnest($2::text[], $3::text[]))",
    )
    .bind(profile_id)
    .bind(&kinds)
    .bind(&values)
    .bind(IMPORT_VERIFICATION_METHOD)
    .execute(&mut *connection)
    .await?;
    outcome.num_identities_removed = removed.rows_affected();

    let added = sqlx::query(
        "insert into profile_identities
             (profile_id, identifier_type, identifier_value, is_primary, verified_at, verification_method)
         select $1, kind, value, kind = 'orcid', now(), $4
         from unnest($2::text[], $3::text[]) as t(kind, value)
         on conflict do nothing",
    )
    .bind(profile_id)
    .bind(&kinds)
    .bind(&values)
    .bind(IMPORT_VERIFICATION_METHOD)
    .execute(&mut *connection)
    .await?;
    outcome.num_identities_added = added.rows_affected();

    let held_elsewhere: Vec<(String, String)> = sqlx::query_as(
        "select identifier_type, identifier_value
         from profile_identities
         where profile_id <> $1
           and identifier_type not in ('name', 'affiliation')
           and (identifier_type, identifier_value) in (
               select * from unnest($2::text[], $3::text[]))",
    )
    .bind(profile_id)
    .bind(&kinds)
    .bind(&values)
    .fetch_all(&mut *connection)
    .await?;
    outcome.conflicting_identities = held_elsewhere;
    Ok(())
}
