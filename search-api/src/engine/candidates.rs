//! Candidate retrieval for the matcher: for each researcher profile, the records that may
//! be its works, with the reasons they were found.
//!
//! A record is found by a name form of the profile among its authors, by the title of one
//! of the profile's known works, or by the profile's ORCID iD among the record's. Names are
//! looked up by the author keys the indexer stores ([`analyzers::AuthorKeys`]): a surname
//! key, exact or within the typo budget, paired with a given name, an initial or a variant
//! of the profile's, so that only authors who may be the person are read, not every author
//! who shares a common surname. Every author string of a retrieved record is
//! checked again against the name forms, so a record is kept only for an author that may be
//! the person. The person is one author: a record's name evidence is the single author
//! agreeing best with any name form, never a sum over its authors (a record of thousands
//! of authors holds many `Smith`s), and its matches name that author.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use analyzers::{
    agreement_of_keyed, author_pair, fold, osa_distance, surname_agrees_in_part,
    surname_word_typos, text_tokens, GivenNameVariants, NameAgreement, PersonName, TokenKind,
    PAIR_SEPARATOR,
};
use indexer::index::candidate_view::{self, AuthorKind, ViewAuthor, ViewColumn};
use indexer::index::schema as fields;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use super::catalog::IndexCatalog;
use super::documents::{self, id_of, texts};
use super::fanout::ConstantScores;
use super::memo::CommitCache;
use super::tuning::{
    CANDIDATE_POOL_PER_QUERY, MAX_CANDIDATE_THREADS, MAX_CANDIDATE_TITLE_WORDS,
    MAX_EXPANSION_CANDIDATES_PER_WORD, MAX_TYPO_EXPANSIONS_PER_WORD, MIN_TITLE_WORD_SHARE,
};
use super::typo::{max_typos_for_word_len, WordAutomaton};
use super::vocabulary::terms_accepted;
use super::Deadline;
use crate::error::{ApiError, Result};
use crate::params::TypoTolerance;

/// Decimals kept in a candidate's score.
const SCORE_DECIMALS: i32 = 4;

/// Retrieval weight of an author agreeing on a full given name with a name form.
const FULL_GIVEN_NAME_WEIGHT: f32 = 4.0;

/// Retrieval weight of an author agreeing on an initial with a name form; an author
/// without given names weighs 1.
const INITIAL_WEIGHT: f32 = 2.0;

/// Taken from the strength of an agreement whose surnames share only some of their words
/// (`Mueller-Kirchenbauer` and `Mueller`): the person may have added or dropped a surname,
/// or the two are namesakes.
const SURNAME_IN_PART_PENALTY: f64 = 0.05;

/// Pairs of a surname key and a given-name key a profile's query holds at most when every
/// surname of its forms is paired with every given name: beyond, each form's surnames
/// are paired with its own given names only, as a thousand forms would otherwise make a
/// query of a million clauses.
const MAX_CROSS_NAME_PAIRS: usize = 4_096;

/// Retrieval weight of an author holding a name form's full names in the other order.
const REORDERED_WEIGHT: f32 = 1.5;

/// A batch of profiles to find candidate records for. Field names are camelCase like the
/// rest of the API; the snake_case names of earlier matchers are accepted as aliases. An
/// unknown field is refused, as search parameters are: a misspelt `showMatches` would
/// otherwise be ignored without a word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CandidateRequest {
    /// The profiles.
    pub profiles: Vec<CandidateProfile>,
    /// Records returned per profile at most, best first.
    #[serde(alias = "limit_per_profile")]
    pub limit_per_profile: usize,
    /// Whether each hit lists what it was found by (the default); a client that derives
    /// its own evidence from the records, as the matcher does, asks for hits without, and
    /// the answer shrinks to ids and scores.
    #[serde(default = "matches_shown", alias = "show_matches")]
    pub show_matches: bool,
}

fn matches_shown() -> bool {
    true
}

/// What is known of one profile. Names and titles may be left out or `null`, as may the
/// ORCID iD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateProfile {
    /// The profile's id, echoed in the response.
    pub id: String,
    /// Every name form the person is known by (`John Q. Smith`, `Smith, J.`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub names: Vec<String>,
    /// Titles of works known to be the person's.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub titles: Vec<String>,
    /// The person's ORCID iD, bare or as a URL.
    #[serde(default)]
    pub orcid: Option<String>,
}

/// Reads a list that may be `null`, as an empty one.
fn null_as_empty<'de, D>(deserializer: D) -> std::result::Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(Option::<Vec<String>>::deserialize(deserializer)?.unwrap_or_default())
}

/// The candidates of every profile, in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateResponse {
    /// One entry per profile.
    pub results: Vec<ProfileCandidates>,
}

/// The candidates of one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileCandidates {
    /// The profile's id.
    #[serde(alias = "profile_id")]
    pub profile_id: String,
    /// Candidate records, best first.
    pub hits: Vec<CandidateHit>,
}

/// One candidate record and why it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateHit {
    /// The record's id.
    #[serde(alias = "record_id")]
    pub record_id: String,
    /// Strength of the evidence, in `[0, 1]`.
    pub score: f64,
    /// Each piece of evidence.
    pub matches: Vec<CandidateMatch>,
}

/// What a candidate was found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// A name form of the profile among the record's authors.
    Name,
    /// The title of a known work.
    Title,
    /// The profile's ORCID iD among the record's.
    Orcid,
}

/// One piece of evidence for a candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateMatch {
    /// What matched.
    pub kind: MatchKind,
    /// The name form, title or ORCID iD searched.
    pub query: String,
    /// The record's attribute that matched.
    pub field: String,
    /// The value that matched: the author string, the record's title, the ORCID iD.
    #[serde(alias = "matched_value")]
    pub matched_value: String,
    /// Typos between the searched surname and the record's.
    pub typos: u8,
    /// For names, how the two forms agree (`full`, `variant`, `initials`, `reordered`,
    /// `surname_only`).
    pub agreement: Option<String>,
}

/// Retrieves the candidates of every profile of `request`, profiles in parallel.
///
/// # Errors
///
/// `search_time_budget_exceeded` past the deadline; an internal error when the index
/// cannot be read.
pub(crate) fn retrieve(
    searchers: &[Searcher],
    surnames: &SurnameCache,
    request: &CandidateRequest,
    variants: &GivenNameVariants,
    deadline: &Deadline,
) -> Result<CandidateResponse> {
    let profiles = &request.profiles;
    let num_threads = MAX_CANDIDATE_THREADS
        .min(std::thread::available_parallelism().map_or(1, usize::from))
        .min(profiles.len())
        .max(1);
    let views = ViewColumns::open(searchers)?;
    let retriever = Retriever {
        searchers,
        surnames,
        views: &views,
        variants,
        deadline,
        limit: request.limit_per_profile,
        show_matches: request.show_matches,
    };
    // Each thread takes the next profile not yet taken: the work of a profile varies a
    // hundredfold (a rare name against a common one), so fixed shares left threads idle.
    let next_profile = AtomicUsize::new(0);
    let found: Vec<Result<Vec<(usize, ProfileCandidates)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..num_threads)
            .map(|_| {
                let retriever = &retriever;
                let next_profile = &next_profile;
                scope.spawn(move || {
                    let mut found = Vec::new();
                    loop {
                        let index = next_profile.fetch_add(1, Ordering::Relaxed);
                        let Some(profile) = profiles.get(index) else {
                            return Ok(found);
                        };
                        match retriever.profile(profile) {
                            Ok(result) => found.push((index, result)),
                            Err(error) => {
                                // The others stop at their next profile: the request fails.
                                next_profile.fetch_max(profiles.len(), Ordering::Relaxed);
                                return Err(error);
                            }
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(ApiError::internal("candidate retrieval panicked")))
            })
            .collect()
    });
    let mut indexed = Vec::with_capacity(profiles.len());
    for thread_found in found {
        indexed.extend(thread_found?);
    }
    indexed.sort_unstable_by_key(|(index, _)| *index);
    let results = indexed.into_iter().map(|(_, result)| result).collect();
    Ok(CandidateResponse { results })
}

struct Retriever<'a> {
    searchers: &'a [Searcher],
    surnames: &'a SurnameCache,
    views: &'a ViewColumns,
    variants: &'a GivenNameVariants,
    deadline: &'a Deadline,
    limit: usize,
    /// Whether hits list their matches.
    show_matches: bool,
}

/// A document of one shard.
type ShardAddress = (usize, DocAddress);

/// Candidate views compared between two looks at the deadline.
const VIEWS_BETWEEN_DEADLINE_CHECKS: usize = 64;

/// How a retrieval query scores.
#[derive(Debug, Clone, Copy)]
enum Scoring {
    /// By BM25, from the index's statistics.
    Bm25,
    /// Every clause scores its constant weight: no statistics are read.
    Constant,
}

/// The indexed surname keys within typos of each surname key looked up, in one set of
/// searchers: common surnames come back with many profiles.
pub type SurnameCache = CommitCache<String, NearSurnames>;

/// Indexed surname keys near one looked up, with their typos.
type NearSurnames = Arc<Vec<(String, u8)>>;

/// The candidate-view column of every segment of every shard.
struct ViewColumns {
    columns: Vec<Vec<Option<ViewColumn>>>,
}

impl ViewColumns {
    fn open(searchers: &[Searcher]) -> Result<ViewColumns> {
        let columns = searchers
            .iter()
            .map(|searcher| {
                searcher
                    .segment_readers()
                    .iter()
                    .map(|segment| candidate_view::open_column(segment).map_err(ApiError::internal))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ViewColumns { columns })
    }

    /// Reads the views of the documents at `addresses` (those that have one), in the order
    /// of the documents in their shards.
    fn read_all(&self, addresses: &[ShardAddress]) -> Result<Views> {
        let mut located: Vec<(usize, u32, u32)> = addresses
            .iter()
            .map(|&(shard, address)| (shard, address.segment_ord, address.doc_id))
            .collect();
        located.sort_unstable();
        let mut views = Views {
            bytes: Vec::new(),
            ends: Vec::with_capacity(located.len()),
        };
        for (shard, segment, doc_id) in located {
            let Some(column) = self.column(shard, segment) else {
                continue;
            };
            if column
                .append(doc_id, &mut views.bytes)
                .map_err(ApiError::internal)?
            {
                views.ends.push(views.bytes.len());
            }
        }
        Ok(views)
    }

    fn column(&self, shard: usize, segment: u32) -> Option<&ViewColumn> {
        self.columns
            .get(shard)
            .and_then(|segments| segments.get(segment as usize))
            .and_then(Option::as_ref)
    }
}

/// Encoded candidate views read together, one after the other in one buffer (each
/// names its record).
#[derive(Default)]
struct Views {
    bytes: Vec<u8>,
    /// Where each view ends in `bytes`.
    ends: Vec<usize>,
}

impl Views {
    /// Returns each encoded view.
    fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(start, end)| &self.bytes[start..end])
    }
}

/// The records one profile's title searches read (their searched values, titles among
/// them), so that a record found by several titles is read once. Names and ORCID iDs read
/// the records' candidate views instead.
#[derive(Default)]
struct DocumentCache {
    documents: HashMap<ShardAddress, Arc<TantivyDocument>>,
}

impl DocumentCache {
    /// Returns the searched values of the documents at `addresses`, reading those not read
    /// yet.
    fn load(
        &mut self,
        catalog: &IndexCatalog,
        searchers: &[Searcher],
        addresses: &[ShardAddress],
    ) -> Result<Vec<Arc<TantivyDocument>>> {
        let mut loaded = Vec::with_capacity(addresses.len());
        for &(shard, address) in addresses {
            let document = match self.documents.get(&(shard, address)) {
                Some(document) => Arc::clone(document),
                None => {
                    let searched =
                        documents::read_searched(catalog, &searchers[shard], &[address])?;
                    let document = Arc::new(searched.into_iter().next().unwrap_or_default());
                    self.documents
                        .insert((shard, address), Arc::clone(&document));
                    document
                }
            };
            loaded.push(document);
        }
        Ok(loaded)
    }
}

/// How a profile's name forms are looked up: the query over the author keys, and every
/// surname key it looks up, typos included.
struct NameLookup {
    /// The query; `None` when no form has a surname.
    query: Option<Box<dyn Query>>,
    /// The surname keys looked up, as bytes: the views' keys are compared as they are
    /// stored.
    surnames: FxHashSet<Vec<u8>>,
    /// Those of the forms as written (and their typos), not of their second readings: an
    /// author is compared when its own surname keys hold one of [`NameLookup::surnames`],
    /// or when its second reading's hold one of these.
    written_surnames: FxHashSet<Vec<u8>>,
}

impl NameLookup {
    /// Returns whether an author with these surname keys may agree with a form.
    fn compares(&self, own: &[&[u8]], read: &[&[u8]]) -> bool {
        own.iter().any(|key| self.surnames.contains(*key))
            || read.iter().any(|key| self.written_surnames.contains(*key))
    }
}

/// The evidence gathered for one record: each match, and the independent pieces of
/// evidence combined (the name evidence once, however many name forms agree with the
/// author).
struct Evidence<'a> {
    matches: Vec<Found<'a>>,
    strength: CombinedStrength,
}

/// One match of a record, borrowing what it names from the profile and the views read:
/// most records retrieved are not among the hits answered, and the matches of those that
/// are are written out once, as [`CandidateMatch`]es.
#[derive(Debug, Clone, PartialEq)]
enum Found<'a> {
    /// The profile's ORCID iD among the record's.
    Orcid,
    /// A name form agreeing with an author string of the record.
    Name {
        form: &'a str,
        author: &'a str,
        field: &'static str,
        typos: u8,
        agreement: NameAgreement,
    },
    /// A known title and the record's title.
    Title {
        title: &'a str,
        record_title: String,
    },
}

impl Found<'_> {
    /// Returns the match as answered; `orcid` is the profile's iD, bare.
    fn to_match(&self, orcid: Option<&str>) -> CandidateMatch {
        match self {
            Found::Orcid => {
                let orcid = orcid.unwrap_or_default().to_owned();
                CandidateMatch {
                    kind: MatchKind::Orcid,
                    query: orcid.clone(),
                    field: fields::ORCIDS.to_owned(),
                    matched_value: orcid,
                    typos: 0,
                    agreement: None,
                }
            }
            Found::Name {
                form,
                author,
                field,
                typos,
                agreement,
            } => CandidateMatch {
                kind: MatchKind::Name,
                query: (*form).to_owned(),
                field: (*field).to_owned(),
                matched_value: (*author).to_owned(),
                typos: *typos,
                agreement: Some(agreement.to_string()),
            },
            Found::Title {
                title,
                record_title,
            } => CandidateMatch {
                kind: MatchKind::Title,
                query: (*title).to_owned(),
                field: fields::TITLE.to_owned(),
                matched_value: record_title.clone(),
                typos: 0,
                agreement: None,
            },
        }
    }
}

/// The one author of a record that agrees best with a profile's name forms.
struct AuthorEvidence<'a> {
    /// How each name form that agrees with the author agrees, in the profile's order.
    matches: Vec<Found<'a>>,
    /// The strength of the best agreement among the name forms.
    strength: f64,
}

/// How one author string agrees with one name form; compared to pick the best author.
#[derive(Debug, Clone, Copy)]
struct FormAgreement {
    /// The name form, an index into the profile's names.
    form: usize,
    agreement: NameAgreement,
    /// Typos between the two surnames.
    typos: u8,
    strength: f64,
    /// Whether the author string is the name form itself, folded.
    is_same_form: bool,
    /// Words in one of the two forms but not the other.
    num_extra_words: usize,
}

impl FormAgreement {
    /// Orders two agreements, the better last: strength, then the author being written as
    /// the name form, then fewer words beside it.
    fn compare(&self, other: &FormAgreement) -> std::cmp::Ordering {
        self.strength
            .total_cmp(&other.strength)
            .then(self.is_same_form.cmp(&other.is_same_form))
            .then(other.num_extra_words.cmp(&self.num_extra_words))
    }
}

impl Retriever<'_> {
    fn profile(&self, profile: &CandidateProfile) -> Result<ProfileCandidates> {
        let catalog = IndexCatalog::of(indexer::index::IndexKind::Records);
        let mut documents = DocumentCache::default();
        let orcid = profile.orcid.as_deref().and_then(bare_orcid);
        let orcid_views = match &orcid {
            Some(orcid) => {
                self.deadline.check()?;
                let term = Term::from_field_text(catalog.field(fields::ORCIDS), orcid);
                let query = TermQuery::new(term, IndexRecordOption::Basic);
                let found = self.retrieve(&query, Scoring::Constant)?;
                self.views.read_all(&found)?
            }
            None => Views::default(),
        };
        let forms: Vec<NameForm<'_>> = profile
            .names
            .iter()
            .map(|name| NameForm::new(name))
            .collect();
        // One query for all the forms: the forms of one person find mostly the same
        // records, each read once.
        self.deadline.check()?;
        let lookup = self.name_lookup(catalog, &forms)?;
        let named = match &lookup.query {
            Some(query) => self.retrieve(query.as_ref(), Scoring::Constant)?,
            None => Vec::new(),
        };
        let views = self.views.read_all(&named)?;

        let mut evidence: FxHashMap<Cow<'_, str>, Evidence<'_>> = FxHashMap::default();
        let mut add = |record_id, found, strength: Option<f64>| {
            let entry = evidence.entry(record_id).or_insert_with(|| Evidence {
                matches: Vec::new(),
                strength: CombinedStrength::NONE,
            });
            if entry.matches.contains(&found) {
                return;
            }
            entry.matches.push(found);
            if let Some(strength) = strength {
                entry.strength.add(strength);
            }
        };
        for encoded in orcid_views.iter() {
            let view = candidate_view::decode_authors_where(encoded, |_, _| false)
                .map_err(ApiError::internal)?;
            add(Cow::Borrowed(view.id), Found::Orcid, Some(1.0));
        }
        // The records of one person repeat the same author strings.
        let mut agreements: FxHashMap<&str, Vec<FormAgreement>> = FxHashMap::default();
        self.deadline.check()?;
        for (number, encoded) in views.iter().enumerate() {
            if number % VIEWS_BETWEEN_DEADLINE_CHECKS == 0 {
                self.deadline.check()?;
            }
            // Every author a form agrees with has a surname looked up, exactly or within
            // typos: the others are not decoded.
            let view = candidate_view::decode_authors_where(encoded, |own, read| {
                lookup.compares(own, read)
            })
            .map_err(ApiError::internal)?;
            let Some(author) = self.best_author(&forms, &view.authors, &mut agreements) else {
                continue;
            };
            // The forms matched one author: their evidence counts once, as the best.
            let mut strength = Some(author.strength);
            for found in author.matches {
                add(Cow::Borrowed(view.id), found, strength.take());
            }
        }

        for title in &profile.titles {
            self.deadline.check()?;
            let words = title_words(title);
            let Some(query) = title_query(catalog, &words) else {
                continue;
            };
            let found = self.retrieve(query.as_ref(), Scoring::Bm25)?;
            for stored in documents.load(catalog, self.searchers, &found)? {
                let Some(record_title) = texts(catalog, fields::TITLE, &stored).next() else {
                    continue;
                };
                let Some(similarity) = title_similarity(&words, &title_words(record_title)) else {
                    continue;
                };
                let found = Found::Title {
                    title,
                    record_title: record_title.to_owned(),
                };
                add(Cow::Owned(id_of(catalog, &stored)), found, Some(similarity));
            }
        }

        let mut scored: Vec<(f64, Cow<'_, str>, Evidence<'_>)> = evidence
            .into_iter()
            .map(|(record_id, evidence)| {
                let score = rounded_score(evidence.strength.value());
                (score, record_id, evidence)
            })
            .collect();
        let by_score = |first: &(f64, Cow<'_, str>, Evidence<'_>),
                        second: &(f64, Cow<'_, str>, Evidence<'_>)| {
            second
                .0
                .total_cmp(&first.0)
                .then_with(|| first.1.cmp(&second.1))
        };
        if scored.len() > self.limit {
            scored.select_nth_unstable_by(self.limit, by_score);
            scored.truncate(self.limit);
        }
        scored.sort_unstable_by(by_score);
        let hits = scored
            .into_iter()
            .map(|(score, record_id, evidence)| CandidateHit {
                record_id: record_id.into_owned(),
                score,
                matches: if self.show_matches {
                    let orcid = orcid.as_deref();
                    evidence
                        .matches
                        .iter()
                        .map(|found| found.to_match(orcid))
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect();
        Ok(ProfileCandidates {
            profile_id: profile.id.clone(),
            hits,
        })
    }

    /// Returns the query for records with an author that any of the name `forms` may
    /// denote, through the author keys of the index: each surname key of a form (exact or
    /// within its typo budget) paired with each of the forms' given-name keys, or alone
    /// for a form without given names; when that makes more than
    /// [`MAX_CROSS_NAME_PAIRS`] pairs (a profile of hundreds of forms), each form's
    /// surnames are paired with its own given names only. Authors agreeing on full given names rank first, then
    /// initials, then authors without given names; for a form without given names, authors
    /// without given names rank first; typos rank lower. `None` when no form
    /// has a surname.
    fn name_lookup(&self, catalog: &IndexCatalog, forms: &[NameForm<'_>]) -> Result<NameLookup> {
        let mut alone: BTreeSet<String> = BTreeSet::new();
        let mut word_pairs: BTreeSet<String> = BTreeSet::new();
        let mut reordered_pairs: BTreeSet<String> = BTreeSet::new();
        let mut given_as_surnames: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        // Each pair of a surname key (or its typo) and a given-name key, with its weight,
        // the highest where forms share it.
        let mut name_pairs: BTreeMap<String, f32> = BTreeMap::new();
        let mut pair_with = |surname: &str, typos: u8, given: &mut dyn Iterator<Item = &String>| {
            let typo_factor = 1.0 / (1.0 + f32::from(typos));
            let mut add = |pair: String, weight: f32| {
                let entry = name_pairs.entry(pair).or_insert(weight);
                *entry = entry.max(weight);
            };
            add(author_pair(surname, ""), typo_factor);
            for given_key in given {
                let weight = if given_key.chars().nth(1).is_some() {
                    FULL_GIVEN_NAME_WEIGHT
                } else {
                    INITIAL_WEIGHT
                };
                add(author_pair(surname, given_key), weight * typo_factor);
            }
        };
        let mut written_surnames: FxHashSet<Vec<u8>> = FxHashSet::default();
        let mut surnames: FxHashSet<Vec<u8>> = FxHashSet::default();
        // Per form (and second reading): its surname keys with their typos, and its
        // given-name keys.
        let mut groups: Vec<(BTreeMap<String, u8>, Vec<String>)> = Vec::new();
        for form in forms {
            self.deadline.check()?;
            let mut lookup = form.parsed.author_lookup(self.variants);
            let paired: BTreeSet<String> = lookup.paired_surnames.iter().cloned().collect();
            let near = self.surnames_within_typos(catalog, &paired)?;
            written_surnames.extend(near.keys().map(|surname| surname.as_bytes().to_vec()));
            groups.push((near, std::mem::take(&mut lookup.given)));
            alone.extend(lookup.lone_surnames);
            reordered_pairs.extend(lookup.reordered_pairs);
            word_pairs.extend(lookup.word_pairs);
            if !lookup.given_as_surnames.is_empty() {
                given_as_surnames.push((lookup.given_as_surnames, lookup.paired_surnames));
            }
            // A form read with two surnames looks up what that reading of it would, its
            // surnames exactly: the reading is a guess already, and a typo in it a second
            // one.
            if let Some(mut reading) = lookup.second_reading.take() {
                let read: BTreeMap<String, u8> = reading
                    .paired_surnames
                    .iter()
                    .chain(&reading.lone_surnames)
                    .map(|surname| (surname.clone(), 0))
                    .collect();
                surnames.extend(read.keys().map(|surname| surname.as_bytes().to_vec()));
                groups.push((read, std::mem::take(&mut reading.given)));
                word_pairs.extend(reading.word_pairs);
                if !reading.given_as_surnames.is_empty() {
                    given_as_surnames.push((reading.given_as_surnames, reading.paired_surnames));
                }
            }
        }
        // Every surname with every given name of the profile, as forms of one person
        // share them, unless that makes too many pairs: then each form's own.
        let mut all_surnames: BTreeMap<&str, u8> = BTreeMap::new();
        let mut all_given: BTreeSet<&String> = BTreeSet::new();
        for (near, given) in &groups {
            for (surname, typos) in near {
                let entry = all_surnames.entry(surname).or_insert(*typos);
                *entry = (*entry).min(*typos);
            }
            all_given.extend(given);
        }
        if all_surnames.len() * (all_given.len() + 1) <= MAX_CROSS_NAME_PAIRS {
            for (surname, typos) in &all_surnames {
                pair_with(surname, *typos, &mut all_given.iter().copied());
            }
        } else {
            for (near, given) in &groups {
                self.deadline.check()?;
                for (surname, typos) in near {
                    pair_with(surname, *typos, &mut given.iter());
                }
            }
        }
        let alone = self.surnames_within_typos(catalog, &alone)?;

        let surnames_field = catalog.field(fields::AUTHOR_SURNAMES);
        let pairs_field = catalog.field(fields::AUTHOR_KEYS);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut push = |field, key: &str, weight: f32| {
            let query: Box<dyn Query> =
                Box::new(ConstScoreQuery::new(key_query(field, key), weight));
            clauses.push((Occur::Should, query));
        };
        for (pair, weight) in &name_pairs {
            push(pairs_field, pair, *weight);
        }
        for (surname, typos) in &alone {
            let typo_factor = 1.0 / (1.0 + f32::from(*typos));
            push(surnames_field, surname, typo_factor);
            // Authors written with the surname alone, as the form is, come first.
            push(pairs_field, &author_pair(surname, ""), typo_factor);
        }
        for pair in &word_pairs {
            push(pairs_field, pair, 1.0);
        }
        // The same names written in the other order, below the name as written.
        for pair in &reordered_pairs {
            push(pairs_field, pair, REORDERED_WEIGHT);
            if let Some((surname, _)) = pair.split_once(PAIR_SEPARATOR) {
                written_surnames.insert(surname.as_bytes().to_vec());
            }
        }
        // Authors whose surname words include all of a form's given names.
        for (words, surnames) in &given_as_surnames {
            let mut all_words: Vec<(Occur, Box<dyn Query>)> = words
                .iter()
                .map(|word| (Occur::Must, key_query(surnames_field, word)))
                .collect();
            let any_surname: Vec<(Occur, Box<dyn Query>)> = surnames
                .iter()
                .map(|surname| (Occur::Should, key_query(surnames_field, surname)))
                .collect();
            all_words.push((Occur::Must, Box::new(BooleanQuery::new(any_surname))));
            let query = ConstScoreQuery::new(Box::new(BooleanQuery::new(all_words)), 1.0);
            clauses.push((Occur::Should, Box::new(query)));
        }
        written_surnames.extend(alone.into_keys().map(String::into_bytes));
        surnames.extend(written_surnames.iter().cloned());
        let query =
            (!clauses.is_empty()).then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>);
        Ok(NameLookup {
            query,
            surnames,
            written_surnames,
        })
    }

    /// Returns the surname keys of the index within the typo budget of each of `keys`,
    /// with their typos (the keys themselves with none, indexed or not), at most
    /// [`MAX_TYPO_EXPANSIONS_PER_WORD`] per key, the closest and most frequent first.
    fn surnames_within_typos(
        &self,
        catalog: &IndexCatalog,
        keys: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, u8>> {
        let tolerance = TypoTolerance::default();
        let field = catalog.field(fields::AUTHOR_SURNAMES);
        let mut found: BTreeMap<String, u8> = BTreeMap::new();
        for key in keys {
            self.deadline.check()?;
            found.insert(key.clone(), 0);
            let key_chars: Vec<char> = key.chars().collect();
            let max_typos = max_typos_for_word_len(key_chars.len(), &tolerance);
            if max_typos == 0 {
                continue;
            }
            let near = match self.surnames.get(key) {
                Some(near) => near,
                None => {
                    let near = Arc::new(self.indexed_surnames_near(field, key, max_typos)?);
                    self.surnames.insert(key.clone(), Arc::clone(&near));
                    near
                }
            };
            for (term, typos) in near.iter() {
                let entry = found.entry(term.clone()).or_insert(*typos);
                *entry = (*entry).min(*typos);
            }
        }
        Ok(found)
    }

    /// Returns the surname keys indexed in `field` within `max_typos` of `key` (itself
    /// excluded) with their typos, at most [`MAX_TYPO_EXPANSIONS_PER_WORD`], the closest and
    /// most frequent first.
    fn indexed_surnames_near(
        &self,
        field: tantivy::schema::Field,
        key: &str,
        max_typos: u8,
    ) -> Result<Vec<(String, u8)>> {
        let automaton = WordAutomaton::new(key, max_typos, false, false);
        // Surname keys are in no searchable field, so no vocabulary holds them.
        let near = terms_accepted(
            &[],
            self.searchers,
            &[field],
            &automaton,
            MAX_EXPANSION_CANDIDATES_PER_WORD,
        )?;
        let key_chars: Vec<char> = key.chars().collect();
        let mut near: Vec<(u8, u64, String)> = near
            .into_iter()
            .filter(|(term, _)| term != key)
            .map(|(term, num_docs)| {
                let term_chars: Vec<char> = term.chars().collect();
                let typos = osa_distance(&key_chars, &term_chars);
                (u8::try_from(typos).unwrap_or(u8::MAX), num_docs, term)
            })
            .collect();
        near.sort_by(|first, second| {
            first
                .0
                .cmp(&second.0)
                .then(second.1.cmp(&first.1))
                .then_with(|| first.2.cmp(&second.2))
        });
        Ok(near
            .into_iter()
            .take(MAX_TYPO_EXPANSIONS_PER_WORD)
            .map(|(typos, _, term)| (term, typos))
            .collect())
    }

    /// Returns where the records matching `query` are on every shard, the best
    /// [`CANDIDATE_POOL_PER_QUERY`] of each.
    fn retrieve(&self, query: &dyn Query, scoring: Scoring) -> Result<Vec<ShardAddress>> {
        let mut found = Vec::new();
        let top_docs = TopDocs::with_limit(CANDIDATE_POOL_PER_QUERY);
        for (shard, searcher) in self.searchers.iter().enumerate() {
            let top = match scoring {
                Scoring::Bm25 => searcher.search(query, &top_docs),
                Scoring::Constant => {
                    searcher.search_with_statistics_provider(query, &top_docs, &ConstantScores)
                }
            }
            .map_err(ApiError::internal)?;
            found.extend(top.into_iter().map(|(_, address)| (shard, address)));
            self.deadline.check()?;
        }
        Ok(found)
    }

    /// Returns the author among a record's `authors` (from its candidate view) that agrees
    /// best with any of the profile's name `forms`, with how each form agrees with that
    /// author; `None` when no author may be the person. `authors` are those with a
    /// looked-up surname.
    ///
    /// A person is one author of a record: agreements with different authors never add
    /// up, and several forms agreeing with the same author count as the best of them. Of
    /// authors agreeing equally well, the one written as a name form itself wins, then the
    /// one with the fewest words beside the name form's (`J. Smith` over `N. J.
    /// Cooper-Smith` for `J. Smith`).
    fn best_author<'f, 'v: 'f>(
        &self,
        forms: &[NameForm<'f>],
        authors: &[ViewAuthor<'v>],
        known: &mut FxHashMap<&'v str, Vec<FormAgreement>>,
    ) -> Option<AuthorEvidence<'f>> {
        let mut best: Option<&ViewAuthor<'v>> = None;
        for author in authors {
            if !known.contains_key(author.name) {
                let parsed = NameForm::of_view(author);
                let agreements = forms
                    .iter()
                    .enumerate()
                    .filter_map(|(index, form)| self.form_agreement(index, form, &parsed))
                    .collect();
                known.insert(author.name, agreements);
            }
            let Some(closest) = known[author.name]
                .iter()
                .max_by(|first, second| first.compare(second))
            else {
                continue;
            };
            let is_better = match best {
                None => true,
                Some(best) => known[best.name]
                    .iter()
                    .all(|other| closest.compare(other).is_gt()),
            };
            if is_better {
                best = Some(author);
            }
        }
        let author = best?;
        let agreements = &known[author.name];
        let field = match author.kind {
            AuthorKind::Author => fields::AUTHORS,
            AuthorKind::Variant => fields::AUTHOR_NAME_VARIANTS,
        };
        let strength = agreements
            .iter()
            .map(|agreement| agreement.strength)
            .fold(f64::NEG_INFINITY, f64::max);
        Some(AuthorEvidence {
            matches: agreements
                .iter()
                .map(|agreement| Found::Name {
                    form: forms[agreement.form].name,
                    author: author.name,
                    field,
                    typos: agreement.typos,
                    agreement: agreement.agreement,
                })
                .collect(),
            strength,
        })
    }

    /// Returns how the author string `author` agrees with the name form `form`, the
    /// profile's `index`-th; `None` when they cannot be the same person.
    fn form_agreement(
        &self,
        index: usize,
        form: &NameForm<'_>,
        author: &NameForm<'_>,
    ) -> Option<FormAgreement> {
        let (agreement, mut typos) = self.agreement(form, author)?;
        let in_part = typos == 0 && surname_agrees_in_part(&form.parsed, &author.parsed);
        if typos == 0 && !in_part {
            // Sharing one word of a compound surname exactly, the other within typos.
            typos = surname_word_typos(&form.parsed, &author.parsed);
        }
        let strength = match agreement {
            NameAgreement::Full => 0.9,
            NameAgreement::Variant => 0.8,
            NameAgreement::Initials => 0.7,
            NameAgreement::Reordered => 0.6,
            _ => 0.4,
        } - 0.15 * f64::from(typos)
            - if in_part {
                SURNAME_IN_PART_PENALTY
            } else {
                0.0
            };
        Some(FormAgreement {
            form: index,
            agreement,
            typos,
            strength,
            is_same_form: form.folded() == author.folded(),
            num_extra_words: form.num_words_apart(author),
        })
    }

    /// Returns how an author's name agrees with the searched name, and the typos between
    /// their surnames; `None` when they cannot be the same person.
    fn agreement(&self, form: &NameForm<'_>, author: &NameForm<'_>) -> Option<(NameAgreement, u8)> {
        let exact = agreement_of_keyed(
            &form.parsed,
            &form.surname_keys,
            &author.parsed,
            &author.surname_keys,
            self.variants,
        );
        if exact != NameAgreement::SurnameMismatch {
            return exact.is_compatible().then_some((exact, 0));
        }
        let typos = surname_typos(&form.surname_keys, &author.surname_keys)?;
        let mut respelled = author.parsed.clone();
        respelled.surname.clone_from(&form.parsed.surname);
        respelled.particles.clone_from(&form.parsed.particles);
        let agreement = agreement_of_keyed(
            &form.parsed,
            &form.surname_keys,
            &respelled,
            &form.surname_keys,
            self.variants,
        );
        agreement.is_compatible().then_some((agreement, typos))
    }
}

/// A person's name as written, parsed once, its surname keys and folded form computed
/// once, for all its comparisons.
struct NameForm<'a> {
    name: &'a str,
    parsed: PersonName,
    surname_keys: Vec<String>,
    folded: OnceCell<String>,
    words: OnceCell<Vec<String>>,
}

impl<'a> NameForm<'a> {
    fn new(name: &'a str) -> NameForm<'a> {
        let parsed = PersonName::parse(name);
        let surname_keys = parsed.surname_keys();
        NameForm::parsed(name, parsed, surname_keys)
    }

    /// Returns an author of a candidate view, whose surname keys the indexer computed.
    fn of_view(author: &ViewAuthor<'a>) -> NameForm<'a> {
        let surname_keys = author
            .surname_keys
            .iter()
            .map(|key| (*key).to_owned())
            .collect();
        NameForm::parsed(author.name, PersonName::parse(author.name), surname_keys)
    }

    fn parsed(name: &'a str, parsed: PersonName, surname_keys: Vec<String>) -> NameForm<'a> {
        NameForm {
            name,
            parsed,
            surname_keys,
            folded: OnceCell::new(),
            words: OnceCell::new(),
        }
    }

    /// Returns the name folded.
    fn folded(&self) -> &str {
        self.folded.get_or_init(|| fold(self.name))
    }

    /// Returns the folded words, sorted and distinct.
    fn words(&self) -> &[String] {
        self.words.get_or_init(|| {
            let mut words: Vec<String> = self
                .folded()
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            words.sort_unstable();
            words.dedup();
            words
        })
    }

    /// Returns the number of words in one of the two names but not in the other.
    fn num_words_apart(&self, other: &NameForm<'_>) -> usize {
        let (mut first, mut second) = (
            self.words().iter().peekable(),
            other.words().iter().peekable(),
        );
        let mut apart = 0;
        loop {
            match (first.peek(), second.peek()) {
                (Some(a), Some(b)) => match a.cmp(b) {
                    std::cmp::Ordering::Less => {
                        apart += 1;
                        first.next();
                    }
                    std::cmp::Ordering::Greater => {
                        apart += 1;
                        second.next();
                    }
                    std::cmp::Ordering::Equal => {
                        first.next();
                        second.next();
                    }
                },
                (Some(_), None) | (None, Some(_)) => {
                    apart += first.count() + second.count();
                    return apart;
                }
                (None, None) => return apart,
            }
        }
    }
}

/// Returns the typos between the closest surname keys of two names, when within the typo
/// budget of the searched surname.
fn surname_typos(searched_keys: &[String], author_keys: &[String]) -> Option<u8> {
    let tolerance = TypoTolerance::default();
    searched_keys
        .iter()
        .filter_map(|key| {
            let key_chars: Vec<char> = key.chars().collect();
            let budget = usize::from(max_typos_for_word_len(key_chars.len(), &tolerance));
            author_keys
                .iter()
                .map(|other| osa_distance(&key_chars, &other.chars().collect::<Vec<_>>()))
                .filter(|distance| *distance <= budget)
                .min()
        })
        .min()
        .and_then(|typos| u8::try_from(typos).ok())
}

/// Returns the query for the records holding the key `key` in `field`.
fn key_query(field: tantivy::schema::Field, key: &str) -> Box<dyn Query> {
    let term = Term::from_field_text(field, key);
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// Returns the folded words of a title, the first [`MAX_CANDIDATE_TITLE_WORDS`].
fn title_words(title: &str) -> Vec<String> {
    text_tokens(title)
        .into_iter()
        .filter(|token| matches!(token.kind, TokenKind::Word | TokenKind::Joined))
        .map(|token| token.text)
        .take(MAX_CANDIDATE_TITLE_WORDS)
        .collect()
}

/// Returns the query for records whose title holds most of `words`.
fn title_query(catalog: &IndexCatalog, words: &[String]) -> Option<Box<dyn Query>> {
    if words.is_empty() {
        return None;
    }
    let field = catalog.field(fields::TITLE);
    let distinct: Vec<&String> = {
        let mut seen = HashSet::new();
        words.iter().filter(|word| seen.insert(*word)).collect()
    };
    let clauses: Vec<(Occur, Box<dyn Query>)> = distinct
        .iter()
        .map(|word| {
            let term = Term::from_field_text(field, word);
            let query: Box<dyn Query> =
                Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
            (Occur::Should, query)
        })
        .collect();
    let minimum = ((distinct.len() as f64) * MIN_TITLE_WORD_SHARE).ceil() as usize;
    Some(Box::new(BooleanQuery::with_minimum_required_clauses(
        clauses,
        minimum.max(1),
    )))
}

/// Returns the similarity of two titles' words (Dice's coefficient on distinct words), when
/// the record's title holds enough of the searched title's words.
fn title_similarity(searched: &[String], found: &[String]) -> Option<f64> {
    let searched: HashSet<&String> = searched.iter().collect();
    let found: HashSet<&String> = found.iter().collect();
    if searched.is_empty() || found.is_empty() {
        return None;
    }
    let common = searched.intersection(&found).count() as f64;
    if common / (searched.len() as f64) < MIN_TITLE_WORD_SHARE {
        return None;
    }
    Some(2.0 * common / (searched.len() + found.len()) as f64)
}

/// Returns a score rounded to [`SCORE_DECIMALS`] decimals, so that sums of strengths read
/// as written (`0.91`, not `0.9099999999999999`).
fn rounded_score(score: f64) -> f64 {
    let scale = 10f64.powi(SCORE_DECIMALS);
    (score * scale).round() / scale
}

/// Independent pieces of evidence combined: the chance that all of them are wrong shrinks
/// with each.
#[derive(Debug, Clone, Copy)]
struct CombinedStrength {
    all_wrong: f64,
}

impl CombinedStrength {
    /// No evidence.
    const NONE: CombinedStrength = CombinedStrength { all_wrong: 1.0 };

    /// Adds a piece of evidence of `strength` in `[0, 1]`.
    fn add(&mut self, strength: f64) {
        self.all_wrong *= 1.0 - strength.clamp(0.0, 1.0);
    }

    /// Returns the strength of all the evidence, in `[0, 1]`.
    fn value(self) -> f64 {
        1.0 - self.all_wrong
    }
}

/// Returns an ORCID iD without its resolver, folded as the index holds it; `None` for
/// blank text, a URL of another host than `orcid.org`, or text that is not an iD with its
/// check character right.
pub(crate) fn bare_orcid(orcid: &str) -> Option<String> {
    let trimmed = orcid.trim();
    let bare = match trimmed.split_once("orcid.org/") {
        Some((resolver, bare)) => {
            let resolver = resolver.to_ascii_lowercase();
            let scheme = resolver
                .strip_prefix("https://")
                .or_else(|| resolver.strip_prefix("http://"))
                .unwrap_or(&resolver);
            if !matches!(scheme, "" | "www.") {
                return None;
            }
            bare.trim_matches('/')
        }
        // A path or a URL of another host.
        None if trimmed.contains('/') => return None,
        None => trimmed,
    };
    // Sixteen characters without dashes are an iD written without them.
    let dashed = match bare.len() {
        16 if bare.is_ascii() && !bare.contains('-') => {
            format!(
                "{}-{}-{}-{}",
                &bare[..4],
                &bare[4..8],
                &bare[8..12],
                &bare[12..]
            )
        }
        _ => bare.to_owned(),
    };
    indexer::index::extract::normalize_orcid(&dashed)
        .filter(|normalized| indexer::index::extract::is_valid_orcid(normalized))
        .map(|normalized| fold(&normalized))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_apart_count_both_sides() {
        let form = NameForm::new("J. Smith");
        assert_eq!(form.num_words_apart(&NameForm::new("J. Smith")), 0);
        assert_eq!(
            form.num_words_apart(&NameForm::new("N. J. Cooper-Smith")),
            3
        );
        assert_eq!(form.num_words_apart(&NameForm::new("Smith")), 1);
        assert_eq!(NameForm::new("Smith").num_words_apart(&form), 1);
    }

    #[test]
    fn orcids_lose_their_resolver() {
        assert_eq!(
            bare_orcid("https://orcid.org/0000-0002-5878-603X").as_deref(),
            Some("0000-0002-5878-603x")
        );
        assert_eq!(
            bare_orcid("http://www.orcid.org/0000-0002-1825-0097/").as_deref(),
            Some("0000-0002-1825-0097")
        );
        assert_eq!(
            bare_orcid(" 0000-0002-1825-0097 ").as_deref(),
            Some("0000-0002-1825-0097")
        );
        for elsewhere in [
            "http://evil.com/0000-0002-1825-0097",
            "https://example.org/orcid/0000-0002-1825-0097",
            "evil.com/0000-0002-1825-0097",
        ] {
            assert_eq!(bare_orcid(elsewhere), None, "{elsewhere}");
        }
        assert_eq!(
            bare_orcid("0000000218250097").as_deref(),
            Some("0000-0002-1825-0097")
        );
        assert_eq!(
            bare_orcid("0000-0002-5878-603x").as_deref(),
            bare_orcid("0000-0002-5878-603X").as_deref()
        );
        // A wrong check character, another host.
        assert_eq!(bare_orcid("0000-0002-1825-0098"), None);
        assert_eq!(
            bare_orcid("https://evil.example/orcid.org/0000-0002-1825-0097"),
            None
        );
        assert_eq!(bare_orcid("  "), None);
        assert_eq!(bare_orcid("0000-0002-1825"), None);
        assert_eq!(bare_orcid("Jane Smith"), None);
    }

    #[test]
    fn titles_are_compared_by_their_words() {
        let searched = title_words("Attention is all you need");
        let same = title_words("Attention Is All You Need.");
        let longer = title_words("Attention is all you need: transformers for translation");
        let other = title_words("Convolutional sequence to sequence learning");
        assert_eq!(title_similarity(&searched, &same), Some(1.0));
        let similarity = title_similarity(&searched, &longer).unwrap();
        assert!(similarity > 0.6 && similarity < 1.0, "{similarity}");
        assert_eq!(title_similarity(&searched, &other), None);
    }

    #[test]
    fn evidence_adds_up() {
        let combined = |strengths: &[f64]| {
            let mut combined = CombinedStrength::NONE;
            for strength in strengths {
                combined.add(*strength);
            }
            combined.value()
        };
        assert_eq!(combined(&[]), 0.0);
        assert!((combined(&[0.5, 0.5]) - 0.75).abs() < 1e-9);
        assert_eq!(combined(&[1.0, 0.2]), 1.0);
        assert_eq!(combined(&[1.4, -0.2]), 1.0);
    }

    #[test]
    fn scores_are_rounded_to_four_decimals() {
        assert_eq!(rounded_score(0.909_999_999_999_999_9), 0.91);
        assert_eq!(rounded_score(0.972_345_6), 0.9723);
    }

    #[test]
    fn surname_typos_are_counted_within_the_budget() {
        let searched = PersonName::parse("Anna Kowalski");
        let keys = |name: &str| PersonName::parse(name).surname_keys();
        assert_eq!(
            surname_typos(&searched.surname_keys(), &keys("A. Kowalsky")),
            Some(1)
        );
        assert_eq!(
            surname_typos(&searched.surname_keys(), &keys("A. Nowak")),
            None
        );
    }
}
