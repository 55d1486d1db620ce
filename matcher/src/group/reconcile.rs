//! Writes a grouping plan: one transaction per group creates its work, updates it, or
//! merges the automatic works the group joined (their authorships move to the oldest
//! work). A group whose work already says what the plan says is not written.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::similarity::is_preprint_doi;
use super::works::{merged_entry, sorted_entries, year_date};
use super::{representative, ExistingWork, GroupPlan, GroupingRecord};
use crate::Result;

/// What a grouping run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSummary {
    /// Raw record versions considered (those of manual works left out).
    pub num_records: u64,
    /// Pairs proposed by blocking.
    pub num_candidate_pairs: u64,
    /// Pairs joined by title, year and authors.
    pub num_fuzzy_joins: u64,
    /// Groups of the plan.
    pub num_groups: u64,
    /// Works created.
    pub num_works_created: u64,
    /// Works whose records, title, DOI, date or type changed.
    pub num_works_updated: u64,
    /// Automatic works merged into another and removed.
    pub num_works_merged: u64,
    /// Works left as they were.
    pub num_works_unchanged: u64,
    /// Seconds the run took.
    pub elapsed_secs: f64,
}

/// What a work should say.
#[derive(Debug, Clone, PartialEq)]
struct WorkContent {
    primary_doi: Option<String>,
    title: String,
    publication_date: Option<chrono::NaiveDate>,
    work_type: Option<String>,
    merged_from: Value,
}

fn content_of(
    records: &[GroupingRecord],
    members: &[usize],
    manual_dois: &BTreeSet<String>,
) -> WorkContent {
    let chosen = representative(records, members);
    let member_records = || members.iter().map(|member| &records[*member]);
    let title = chosen
        .title
        .clone()
        .or_else(|| member_records().find_map(|record| record.title.clone()))
        .unwrap_or_default();
    let year = chosen.fields.year.or_else(|| {
        member_records()
            .filter_map(|record| record.fields.year)
            .min()
    });

    let mut doi_counts: BTreeMap<(bool, &str), usize> = BTreeMap::new();
    for record in member_records() {
        if let Some(doi) = record
            .fields
            .doi
            .as_deref()
            .filter(|doi| !manual_dois.contains(*doi))
        {
            *doi_counts.entry((is_preprint_doi(doi), doi)).or_default() += 1;
        }
    }
    // Published DOIs before preprint ones, then the most frequent, then the smallest.
    let primary_doi = doi_counts
        .iter()
        .min_by(|first, second| {
            (first.0 .0, std::cmp::Reverse(first.1), first.0 .1).cmp(&(
                second.0 .0,
                std::cmp::Reverse(second.1),
                second.0 .1,
            ))
        })
        .map(|((_, doi), _)| (*doi).to_owned());

    let entries = member_records()
        .map(|record| merged_entry(record.id, &record.source, &record.source_id))
        .collect();
    WorkContent {
        primary_doi,
        title,
        publication_date: year_date(year),
        work_type: chosen.work_type.clone(),
        merged_from: sorted_entries(entries),
    }
}

pub(super) async fn write_groups(
    pool: &PgPool,
    records: &[GroupingRecord],
    existing: &[ExistingWork],
    plan: &GroupPlan,
    manual_dois: &BTreeSet<String>,
) -> Result<GroupSummary> {
    let mut work_of_record: BTreeMap<Uuid, Uuid> = BTreeMap::new();
    for work in existing {
        for record_id in &work.record_ids {
            work_of_record.entry(*record_id).or_insert(work.id);
        }
    }
    let mut summary = GroupSummary {
        num_groups: plan.groups.len() as u64,
        ..GroupSummary::default()
    };
    for members in &plan.groups {
        let content = content_of(records, members, manual_dois);
        let work_ids: BTreeSet<Uuid> = members
            .iter()
            .filter_map(|member| work_of_record.get(&records[*member].id).copied())
            .collect();
        let mut transaction = pool.begin().await?;
        let outcome = write_group(&mut transaction, &work_ids, &content).await?;
        transaction.commit().await?;
        match outcome {
            GroupOutcome::Created => summary.num_works_created += 1,
            GroupOutcome::Updated { num_merged } => {
                summary.num_works_updated += 1;
                summary.num_works_merged += num_merged;
            }
            GroupOutcome::Unchanged => summary.num_works_unchanged += 1,
        }
    }
    Ok(summary)
}

enum GroupOutcome {
    Created,
    Updated { num_merged: u64 },
    Unchanged,
}

#[derive(sqlx::FromRow)]
struct StoredWork {
    primary_doi: Option<String>,
    title: String,
    publication_date: Option<chrono::NaiveDate>,
    #[sqlx(rename = "type")]
    work_type: Option<String>,
    merged_from: Value,
    merge_status: String,
}

async fn write_group(
    transaction: &mut Transaction<'_, Postgres>,
    work_ids: &BTreeSet<Uuid>,
    content: &WorkContent,
) -> Result<GroupOutcome> {
    let Some(&keeper) = work_ids.iter().next() else {
        release_doi(transaction, content.primary_doi.as_deref(), None).await?;
        sqlx::query(
            "insert into canonical_works (primary_doi, title, publication_date, type, merged_from)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(&content.primary_doi)
        .bind(&content.title)
        .bind(content.publication_date)
        .bind(&content.work_type)
        .bind(&content.merged_from)
        .execute(&mut **transaction)
        .await?;
        return Ok(GroupOutcome::Created);
    };

    let mut num_merged = 0;
    for &merged in work_ids.iter().skip(1) {
        // The authorships of a merged work move to the keeper; one the keeper already
        // has for the same profile gains the merged one's contributions.
        sqlx::query(
            "insert into work_authorships
                 (work_id, profile_id, position, is_corresponding, affiliation_at_time,
                  verification_act_id, raw_contributions)
             select $1, profile_id, position, is_corresponding, affiliation_at_time,
                    verification_act_id, raw_contributions
             from work_authorships where work_id = $2
             on conflict (work_id, profile_id) do update
                 set raw_contributions =
                     work_authorships.raw_contributions || excluded.raw_contributions",
        )
        .bind(keeper)
        .bind(merged)
        .execute(&mut **transaction)
        .await?;
        sqlx::query("delete from canonical_works where id = $1 and merge_status = 'auto'")
            .bind(merged)
            .execute(&mut **transaction)
            .await?;
        num_merged += 1;
    }

    let stored: StoredWork = sqlx::query_as(
        "select primary_doi, title, publication_date, type, merged_from, merge_status
         from canonical_works where id = $1 for update",
    )
    .bind(keeper)
    .fetch_one(&mut **transaction)
    .await?;
    if stored.merge_status != "auto" {
        return Ok(GroupOutcome::Unchanged);
    }
    let is_same = stored.primary_doi == content.primary_doi
        && stored.title == content.title
        && stored.publication_date == content.publication_date
        && stored.work_type == content.work_type
        && stored.merged_from == content.merged_from;
    if is_same && num_merged == 0 {
        return Ok(GroupOutcome::Unchanged);
    }
    release_doi(transaction, content.primary_doi.as_deref(), Some(keeper)).await?;
    sqlx::query(
        "update canonical_works
         set primary_doi = $2, title = $3, publication_date = $4, type = $5, merged_from = $6
         where id = $1",
    )
    .bind(keeper)
    .bind(&content.primary_doi)
    .bind(&content.title)
    .bind(content.publication_date)
    .bind(&content.work_type)
    .bind(&content.merged_from)
    .execute(&mut **transaction)
    .await?;
    Ok(GroupOutcome::Updated { num_merged })
}

/// Takes `doi` from an automatic work other than `keeper` that still holds it from
/// records it no longer groups; the work whose records carry the DOI gets it.
async fn release_doi(
    transaction: &mut Transaction<'_, Postgres>,
    doi: Option<&str>,
    keeper: Option<Uuid>,
) -> Result<()> {
    let Some(doi) = doi else {
        return Ok(());
    };
    sqlx::query(
        "update canonical_works set primary_doi = null
         where primary_doi = $1 and merge_status = 'auto' and id is distinct from $2",
    )
    .bind(doi)
    .bind(keeper)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}
