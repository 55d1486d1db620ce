//! Auto-confirmation: a pending candidate at or above its profile's threshold becomes an
//! authorship, in one transaction that writes all of it or nothing: the candidate's
//! status, the verification act (the audit trail), the canonical work (found by the
//! record's group, or created), the work authorship and a notification for the profile.

use serde_json::{json, Value};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use analyzers::GivenNameVariants;

use crate::evidence::{derive_evidence, RecordView};
use crate::group::works::{attach_record_to_work, WorkSeed};
use crate::profile::ProfileContext;
use crate::Result;

/// Threshold of profiles that set none: the lowest score at which auto-confirmed pairs
/// kept a precision of at least 0.99 in the evaluation (see `EVALUATION.md`).
pub const DEFAULT_AUTO_CONFIRM_THRESHOLD: f64 = 0.95;

/// Who the audit trail names as deciding.
pub const DECIDED_BY: &str = "matcher";
/// How the decision was made.
pub const DECIDED_VIA: &str = "automatic_rule";

/// What confirming one candidate did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmOutcome {
    /// The candidate is now auto-confirmed; its work and authorship exist.
    Confirmed {
        /// The canonical work.
        work_id: Uuid,
        /// Whether the work was created for this record.
        work_created: bool,
    },
    /// The candidate was no longer pending (decided meanwhile) and was left alone.
    NotPending,
}

/// Returns the pending candidates of `profiles` at or above each profile's threshold
/// (`default_threshold` where the profile sets none), as `(candidate id, profile id)`.
/// A record a person rejected for the profile in another version (same source and id in
/// it) is left for a person: a new version is proposed again, never confirmed over the
/// rejection.
///
/// # Errors
/// Fails when PostgreSQL does.
pub async fn candidates_to_confirm(
    pool: &PgPool,
    profiles: &[ProfileContext],
    default_threshold: f64,
) -> Result<Vec<(Uuid, Uuid)>> {
    let profile_ids: Vec<Uuid> = profiles.iter().map(|profile| profile.id).collect();
    let thresholds: Vec<f64> = profiles
        .iter()
        .map(|profile| profile.auto_confirm_threshold.unwrap_or(default_threshold))
        .collect();
    Ok(sqlx::query_as(
        "select c.id, c.profile_id
         from candidate_matches c
         join unnest($1::uuid[], $2::float8[]) as t(profile_id, threshold)
             on t.profile_id = c.profile_id
         join raw_records record on record.id = c.raw_record_id
         where c.status = 'pending' and c.match_score >= t.threshold::numeric(4, 3)
           and not exists (
               select 1
               from candidate_matches earlier
               join raw_records earlier_record on earlier_record.id = earlier.raw_record_id
               where earlier.profile_id = c.profile_id
                 and earlier.status = 'rejected'
                 and earlier_record.source = record.source
                 and earlier_record.source_id = record.source_id
           )
         order by c.profile_id, c.match_score desc, c.id",
    )
    .bind(&profile_ids)
    .bind(&thresholds)
    .fetch_all(pool)
    .await?)
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    status: String,
    score: f64,
    reasons: Value,
    raw_record_id: Uuid,
    source: String,
    source_id: String,
    data: Value,
}

/// Confirms candidate `candidate_id` of `profile` in one transaction; see the module
/// documentation for what is written.
///
/// # Errors
/// Fails when PostgreSQL does; then nothing of it is written.
pub async fn auto_confirm(
    pool: &PgPool,
    candidate_id: Uuid,
    profile: &ProfileContext,
    variants: &GivenNameVariants,
) -> Result<ConfirmOutcome> {
    let mut transaction = pool.begin().await?;
    let candidate: Option<CandidateRow> = sqlx::query_as(
        "select c.status, c.match_score::float8 as score, c.match_reasons as reasons,
                c.raw_record_id, r.source, r.source_id, r.data
         from candidate_matches c
         join raw_records r on r.id = c.raw_record_id
         where c.id = $1 and c.profile_id = $2
         for update of c",
    )
    .bind(candidate_id)
    .bind(profile.id)
    .fetch_optional(&mut *transaction)
    .await?;
    let Some(candidate) = candidate.filter(|candidate| candidate.status == "pending") else {
        return Ok(ConfirmOutcome::NotPending);
    };

    sqlx::query(
        "update candidate_matches set status = 'auto_confirmed', processed_at = now()
         where id = $1",
    )
    .bind(candidate_id)
    .execute(&mut *transaction)
    .await?;

    let act_id: Uuid = sqlx::query_scalar(
        "insert into verification_acts
             (candidate_match_id, profile_id, decision, confidence, evidence, decided_by,
              decided_via)
         values ($1, $2, 'confirm', $3, $4, $5, $6)
         returning id",
    )
    .bind(candidate_id)
    .bind(profile.id)
    .bind(format!("{:.3}", candidate.score))
    .bind(&candidate.reasons)
    .bind(DECIDED_BY)
    .bind(DECIDED_VIA)
    .fetch_one(&mut *transaction)
    .await?;

    let record = RecordView {
        id: candidate.raw_record_id,
        source: candidate.source.clone(),
        data: candidate.data,
    };
    let seed = WorkSeed::of(&record, &candidate.source_id);
    let (work_id, work_created) = attach_record_to_work(&mut transaction, &seed).await?;

    let evidence = derive_evidence(profile, &record, variants);
    write_authorship(
        &mut transaction,
        work_id,
        profile.id,
        act_id,
        candidate_id,
        &seed,
        &evidence,
    )
    .await?;

    sqlx::query(
        "insert into notifications (profile_id, type, title, body, resource_type, resource_id)
         values ($1, 'work_auto_confirmed', 'A work was added to your profile', $2,
                 'canonical_work', $3)",
    )
    .bind(profile.id)
    .bind(format!(
        "“{}” was confirmed automatically (score {:.3}).",
        seed.title, candidate.score
    ))
    .bind(work_id)
    .execute(&mut *transaction)
    .await?;

    transaction.commit().await?;
    Ok(ConfirmOutcome::Confirmed {
        work_id,
        work_created,
    })
}

async fn write_authorship(
    transaction: &mut Transaction<'_, Postgres>,
    work_id: Uuid,
    profile_id: Uuid,
    act_id: Uuid,
    candidate_id: Uuid,
    seed: &WorkSeed,
    evidence: &crate::evidence::PairEvidence,
) -> Result<()> {
    let position = evidence
        .matched_position
        .and_then(|index| i32::try_from(index + 1).ok());
    let contribution = json!([{
        "raw_record_id": seed.raw_record_id,
        "source": seed.source,
        "source_id": seed.source_id,
        "candidate_match_id": candidate_id,
        "position": position,
    }]);
    // A second version of a work the person already has adds its contribution; the first
    // decision stays the authorship's act.
    sqlx::query(
        "insert into work_authorships
             (work_id, profile_id, position, affiliation_at_time, verification_act_id,
              raw_contributions)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (work_id, profile_id) do update
             set raw_contributions = work_authorships.raw_contributions || excluded.raw_contributions,
                 verification_act_id = coalesce(work_authorships.verification_act_id,
                                                excluded.verification_act_id)",
    )
    .bind(work_id)
    .bind(profile_id)
    .bind(position)
    .bind(&evidence.matched_affiliation)
    .bind(act_id)
    .bind(&contribution)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}
