//! Work grouping: raw records describing the same work (across sources, or versions of a
//! preprint) become one canonical work.
//!
//! Records are joined when they are versions of one source record, share a DOI, already
//! share an automatic work, or when blocking on rare title words ([`block`]) proposes a
//! pair that [`similarity::same_work`] accepts. Groups only ever grow: a record once in an
//! automatic work stays with it, so a rerun changes nothing and an earlier decision is
//! never undone behind a person's back. Works a person grouped (`merge_status = 'manual'`)
//! and their records are left out entirely.

pub mod block;
mod reconcile;
pub mod similarity;
pub mod works;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures_util::TryStreamExt;
use indexer::index::extract::RecordFields;
use serde_json::Value;
use sqlx::{Connection, PgPool};
use uuid::Uuid;

pub use reconcile::GroupSummary;
use similarity::{is_preprint_doi, same_work, GroupingFields, PairStrength};

use crate::Result;

/// Sources in the order their record is preferred to title a work: publishers' metadata
/// first, benchmark tables last.
const SOURCE_PREFERENCE: &[&str] = &["crossref", "openalex", "hal", "orcid", "acm", "dblp"];

/// A raw record version as grouping sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupingRecord {
    /// The raw record version.
    pub id: Uuid,
    /// Its source.
    pub source: String,
    /// Its id in the source.
    pub source_id: String,
    /// Whether it is the current version.
    pub is_current: bool,
    /// Its title as the source gives it.
    pub title: Option<String>,
    /// Its work type.
    pub work_type: Option<String>,
    /// What is compared.
    pub fields: GroupingFields,
}

impl GroupingRecord {
    /// Returns the grouping view of a stored record.
    pub fn of(id: Uuid, source: &str, source_id: &str, is_current: bool, data: &Value) -> Self {
        let fields = RecordFields::extract(source, data);
        GroupingRecord {
            id,
            source: source.to_owned(),
            source_id: source_id.to_owned(),
            is_current,
            fields: GroupingFields::of(&fields),
            title: fields.title,
            work_type: fields.work_type,
        }
    }
}

/// An automatic canonical work as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ExistingWork {
    /// Its id.
    pub id: Uuid,
    /// The raw records of its `merged_from`.
    pub record_ids: Vec<Uuid>,
}

/// Which records form which work.
#[derive(Debug, Clone, Default)]
pub struct GroupPlan {
    /// Groups of record indexes that need a work: two source records or more (versions of
    /// one count once), or an existing work.
    pub groups: Vec<Vec<usize>>,
    /// Pairs of records proposed by blocking.
    pub candidate_pairs: Vec<(usize, usize)>,
    /// Pairs joined by title, year and authors.
    pub num_fuzzy_joins: usize,
}

/// Returns the groups of `records` given the automatic works that exist.
pub fn plan(records: &[GroupingRecord], existing: &[ExistingWork]) -> GroupPlan {
    let mut sets = DoiAwareSets::new(records);
    let index_of: HashMap<Uuid, usize> = records
        .iter()
        .enumerate()
        .map(|(index, record)| (record.id, index))
        .collect();

    let mut first_by_source_record: HashMap<(&str, &str), usize> = HashMap::new();
    let mut first_by_doi: HashMap<&str, usize> = HashMap::new();
    for (index, record) in records.iter().enumerate() {
        let key = (record.source.as_str(), record.source_id.as_str());
        let first = *first_by_source_record.entry(key).or_insert(index);
        sets.union(first, index, true);
        if let Some(doi) = &record.fields.doi {
            let first = *first_by_doi.entry(doi.as_str()).or_insert(index);
            sets.union(first, index, true);
        }
    }
    let mut has_work = vec![false; records.len()];
    for work in existing {
        let members: Vec<usize> = work
            .record_ids
            .iter()
            .filter_map(|id| index_of.get(id).copied())
            .collect();
        for member in &members {
            has_work[*member] = true;
            sets.union(members[0], *member, true);
        }
    }

    let comparable: Vec<usize> = (0..records.len())
        .filter(|index| {
            records[*index].is_current && !records[*index].fields.title_words.is_empty()
        })
        .collect();
    let titles: Vec<Vec<String>> = comparable
        .iter()
        .map(|index| records[*index].fields.title_words.clone())
        .collect();
    let candidate_pairs: Vec<(usize, usize)> = block::candidate_pairs(&titles)
        .into_iter()
        .map(|(first, second)| (comparable[first], comparable[second]))
        .collect();
    let num_fuzzy_joins = join_by_title(records, &candidate_pairs, &mut sets);

    let mut members_by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for index in 0..records.len() {
        members_by_root
            .entry(sets.find(index))
            .or_default()
            .push(index);
    }
    // The versions of one source record are one record: a work needs two.
    let holds_two_records = |members: &[usize]| {
        let first = &records[members[0]];
        members.iter().any(|member| {
            let record = &records[*member];
            (record.source.as_str(), record.source_id.as_str())
                != (first.source.as_str(), first.source_id.as_str())
        })
    };
    let groups = members_by_root
        .into_values()
        .filter(|members| {
            holds_two_records(members) || members.iter().any(|member| has_work[*member])
        })
        .collect();
    GroupPlan {
        groups,
        candidate_pairs,
        num_fuzzy_joins,
    }
}

/// Joins the candidate pairs that describe one work, strongest first, and returns how many
/// joins were made. Within one source, distinct records are distinct works: a join that
/// would put two records of one source into a work is refused, and a record with several
/// equally strong partners in one source (`Book review column` by the same editor, the
/// same year) joins none of them.
fn join_by_title(
    records: &[GroupingRecord],
    candidate_pairs: &[(usize, usize)],
    sets: &mut DoiAwareSets,
) -> usize {
    let repeated_titles = repeated_titles(records);
    let is_repeated = |index: usize| {
        let mut words = records[index].fields.title_words.clone();
        words.sort_unstable();
        words.dedup();
        repeated_titles.contains(&words)
    };
    let mut accepted: Vec<(PairStrength, usize, usize)> = candidate_pairs
        .iter()
        .filter(|(first, second)| {
            records[*first].source_id != records[*second].source_id
                || records[*first].source != records[*second].source
        })
        .filter_map(|(first, second)| {
            let repeated = is_repeated(*first) || is_repeated(*second);
            same_work(&records[*first].fields, &records[*second].fields, repeated)
                .map(|strength| (strength, *first, *second))
        })
        .collect();

    // The strongest partners of each record per source of the partner.
    let mut best_by_record_and_source: HashMap<(usize, &str), (PairStrength, usize)> =
        HashMap::new();
    for (strength, first, second) in &accepted {
        for (record, partner) in [(*first, *second), (*second, *first)] {
            let key = (record, records[partner].source.as_str());
            let entry = best_by_record_and_source
                .entry(key)
                .or_insert((*strength, 0));
            match strength.cmp_strongest_first(&entry.0) {
                std::cmp::Ordering::Less => *entry = (*strength, 1),
                std::cmp::Ordering::Equal => entry.1 += 1,
                std::cmp::Ordering::Greater => {}
            }
        }
    }
    let is_ambiguous = |record: usize, partner: usize| {
        best_by_record_and_source
            .get(&(record, records[partner].source.as_str()))
            .is_some_and(|(_, num_equally_strong)| *num_equally_strong > 1)
    };
    accepted.retain(|(_, first, second)| {
        !is_ambiguous(*first, *second) && !is_ambiguous(*second, *first)
    });
    accepted.sort_by(|first, second| {
        first
            .0
            .cmp_strongest_first(&second.0)
            .then((first.1, first.2).cmp(&(second.1, second.2)))
    });

    let mut num_joins = 0;
    for (_, first, second) in accepted {
        if sets.union(first, second, false) {
            num_joins += 1;
        }
    }
    num_joins
}

/// Returns the titles (distinct folded words, sorted) that several current records of one
/// source carry under different ids: series titles such as `Editor's notes`.
fn repeated_titles(records: &[GroupingRecord]) -> BTreeSet<Vec<String>> {
    let mut ids_by_title: HashMap<(&str, Vec<String>), BTreeSet<&str>> = HashMap::new();
    for record in records.iter().filter(|record| record.is_current) {
        let mut words = record.fields.title_words.clone();
        words.sort_unstable();
        words.dedup();
        if words.is_empty() {
            continue;
        }
        ids_by_title
            .entry((record.source.as_str(), words))
            .or_default()
            .insert(record.source_id.as_str());
    }
    ids_by_title
        .into_iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|((_, words), _)| words)
        .collect()
}

/// Union-find that refuses to join two sets holding different published DOIs: title
/// similarity may suggest it, but two DOIs of publishers are two works.
struct DoiAwareSets {
    parents: Vec<usize>,
    dois: Vec<BTreeSet<String>>,
    source_records: Vec<BTreeMap<String, BTreeSet<String>>>,
}

impl DoiAwareSets {
    fn new(records: &[GroupingRecord]) -> Self {
        DoiAwareSets {
            parents: (0..records.len()).collect(),
            dois: records
                .iter()
                .map(|record| {
                    record
                        .fields
                        .doi
                        .iter()
                        .filter(|doi| !is_preprint_doi(doi))
                        .cloned()
                        .collect()
                })
                .collect(),
            source_records: records
                .iter()
                .map(|record| {
                    BTreeMap::from([(
                        record.source.clone(),
                        BTreeSet::from([record.source_id.clone()]),
                    )])
                })
                .collect(),
        }
    }

    /// Returns true when both sets hold different records of one source.
    fn share_a_source(&self, first_root: usize, second_root: usize) -> bool {
        let (first, second) = (
            &self.source_records[first_root],
            &self.source_records[second_root],
        );
        first
            .iter()
            .any(|(source, ids)| second.get(source).is_some_and(|other_ids| other_ids != ids))
    }

    fn find(&mut self, index: usize) -> usize {
        let mut root = index;
        while self.parents[root] != root {
            root = self.parents[root];
        }
        let mut current = index;
        while self.parents[current] != root {
            let next = self.parents[current];
            self.parents[current] = root;
            current = next;
        }
        root
    }

    /// Joins the sets of `first` and `second`; unless `forced`, refuses when they hold
    /// different published DOIs or different records of one source. Returns true when two
    /// sets became one.
    fn union(&mut self, first: usize, second: usize, forced: bool) -> bool {
        let (first_root, second_root) = (self.find(first), self.find(second));
        if first_root == second_root {
            return false;
        }
        let conflicting = !self.dois[first_root].is_empty()
            && !self.dois[second_root].is_empty()
            && self.dois[first_root] != self.dois[second_root];
        if !forced && (conflicting || self.share_a_source(first_root, second_root)) {
            return false;
        }
        let (root, child) = (first_root.min(second_root), first_root.max(second_root));
        self.parents[child] = root;
        let child_dois = std::mem::take(&mut self.dois[child]);
        self.dois[root].extend(child_dois);
        for (source, ids) in std::mem::take(&mut self.source_records[child]) {
            self.source_records[root]
                .entry(source)
                .or_default()
                .extend(ids);
        }
        true
    }
}

/// Returns the record that titles a group: the current version from the preferred
/// source, with a DOI, lowest id.
fn representative<'r>(records: &'r [GroupingRecord], members: &[usize]) -> &'r GroupingRecord {
    let rank = |record: &GroupingRecord| {
        let source_rank = SOURCE_PREFERENCE
            .iter()
            .position(|source| *source == record.source)
            .unwrap_or(SOURCE_PREFERENCE.len());
        (
            !record.is_current,
            record.title.is_none(),
            source_rank,
            record.fields.doi.is_none(),
            record.id,
        )
    };
    members
        .iter()
        .map(|member| &records[*member])
        .min_by_key(|record| rank(record))
        .unwrap_or(&records[members[0]])
}

/// Loads every raw record version except those of manual works, and the automatic works.
///
/// # Errors
/// Fails when PostgreSQL does.
pub async fn load(
    pool: &PgPool,
) -> Result<(Vec<GroupingRecord>, Vec<ExistingWork>, BTreeSet<String>)> {
    let manual: Vec<(Option<String>, Value)> = sqlx::query_as(
        "select primary_doi, merged_from from canonical_works where merge_status = 'manual'",
    )
    .fetch_all(pool)
    .await?;
    let mut manual_dois = BTreeSet::new();
    let mut manual_records: BTreeSet<String> = BTreeSet::new();
    let mut manual_source_records: BTreeSet<(String, String)> = BTreeSet::new();
    for (doi, merged_from) in manual {
        manual_dois.extend(doi);
        for entry in merged_from.as_array().into_iter().flatten() {
            let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
            manual_records.extend(text("raw_record_id"));
            if let (Some(source), Some(source_id)) = (text("source"), text("source_id")) {
                manual_source_records.insert((source, source_id));
            }
        }
    }

    let mut records = Vec::new();
    let mut rows = sqlx::query_as::<_, (Uuid, String, String, bool, Value)>(
        "select r.id, r.source, r.source_id, h.raw_record_id is not null, r.data
         from raw_records r
         left join raw_record_heads h on h.raw_record_id = r.id
         order by r.id",
    )
    .fetch(pool);
    while let Some((id, source, source_id, is_current, data)) = rows.try_next().await? {
        let is_manual = manual_records.contains(&id.to_string())
            || manual_source_records.contains(&(source.clone(), source_id.clone()));
        if !is_manual {
            records.push(GroupingRecord::of(
                id, &source, &source_id, is_current, &data,
            ));
        }
    }
    drop(rows);

    let works: Vec<(Uuid, Vec<Uuid>)> = sqlx::query_as(
        "select id, coalesce(array(
                    select (entry->>'raw_record_id')::uuid
                    from jsonb_array_elements(merged_from) entry
                    where entry ? 'raw_record_id'), '{}')
         from canonical_works where merge_status = 'auto' order by id",
    )
    .fetch_all(pool)
    .await?;
    let existing = works
        .into_iter()
        .map(|(id, record_ids)| ExistingWork { id, record_ids })
        .collect();
    Ok((records, existing, manual_dois))
}

/// Groups every raw record into canonical works; see the module documentation. A run
/// started while another groups waits for it, then finds its works.
///
/// # Errors
/// Fails when PostgreSQL does; groups written before stay written, and a rerun completes
/// the rest.
pub async fn run_grouping(pool: &PgPool) -> Result<GroupSummary> {
    // One grouping at a time: two runs planning from the same snapshot would each create
    // the same works. The lock belongs to a connection closed at the end, so PostgreSQL
    // releases it however the run ends, its process killed included.
    let mut lock = pool.acquire().await?;
    let is_free: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
        .bind(GROUPING_LOCK_KEY)
        .fetch_one(&mut *lock)
        .await?;
    if !is_free {
        tracing::info!("another matcher is grouping works; waiting for it to finish");
        sqlx::query("select pg_advisory_lock($1)")
            .bind(GROUPING_LOCK_KEY)
            .execute(&mut *lock)
            .await?;
    }
    let outcome = group_locked(pool).await;
    let _ = lock.detach().close().await;
    outcome
}

/// PostgreSQL advisory lock key held while works are grouped: `atlasgrp` in ASCII.
pub const GROUPING_LOCK_KEY: i64 = 0x6174_6c61_7367_7270;

async fn group_locked(pool: &PgPool) -> Result<GroupSummary> {
    let started = std::time::Instant::now();
    let (records, existing, manual_dois) = load(pool).await?;
    tracing::info!(
        num_records = records.len(),
        num_works = existing.len(),
        "grouping records"
    );
    let (records, existing, plan) = tokio::task::spawn_blocking(move || {
        let plan = plan(&records, &existing);
        (records, existing, plan)
    })
    .await
    .map_err(|error| crate::Error::Task(error.to_string()))?;
    let mut summary =
        reconcile::write_groups(pool, &records, &existing, &plan, &manual_dois).await?;
    summary.num_records = records.len() as u64;
    summary.num_candidate_pairs = plan.candidate_pairs.len() as u64;
    summary.num_fuzzy_joins = plan.num_fuzzy_joins as u64;
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(summary)
}
