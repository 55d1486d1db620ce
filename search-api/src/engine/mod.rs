//! The search engine: executes validated searches, document reads and candidate retrieval
//! over the sharded tantivy indexes the indexer writes, with Meilisearch's semantics.
//!
//! A search goes through these stages, the deadline checked between each:
//!
//! 1. [`query`]: `q` is analysed into units (words, phrases) and each word's typo and
//!    prefix terms are found in the term dictionaries of all shards;
//! 2. [`fanout`]: every shard, in parallel, runs the filter ([`filter`]) and the units as
//!    one tantivy query scored by the words and typo criteria (only over the documents
//!    holding the first few words when they are expected to fill the page and the words
//!    rule comes first), counts the matches and the facet values ([`facets`]), and ranks
//!    its best candidates precisely ([`rank`], with the rules of [`rules`]);
//! 3. the shards' ranked lists are merged into the page asked for, each hit shown as JSON
//!    ([`documents`]) with `_formatted` and `_matchesPosition` ([`highlight`]).
//!
//! A facet search runs the first two stages for no hits, one facet counted, then keeps the
//! values matching its `facetQuery` ([`facet_values`]).
//!
//! The design choice that matters: ranking happens on stored values re-analysed with the
//! index's own analyzers, not on tantivy's BM25, so every shard layout ranks alike, each
//! Meilisearch rule is computed as such, and the same pass yields the highlight ranges.
//!
//! Past the deadline a search answers with the hits gathered so far, marked degraded, as
//! Meilisearch answers a search stopped by `searchCutoffMs`; only a search that gathered
//! nothing answers `search_time_budget_exceeded`.
//!
//! Known shortcomings: when more documents than a shard's ranking pool tie on the first
//! stage's words and typo scores, which of them get ranked precisely depends on the shard
//! layout; `rankingScoreThreshold` leaves the facet counts as if every match were a hit, as
//! counting them exactly would rank every match. With words, `distinct` pages only through
//! the distinct documents of the ranking pool (its totals and facets are exact).

mod best_of;
mod candidates;
mod catalog;
mod distinct;
mod documents;
mod facet_values;
mod facets;
mod fanout;
mod filter;
mod filter_set;
mod highlight;
mod ids;
mod memo;
mod query;
mod rank;
mod rules;
mod term_sets;
pub mod tuning;
mod typo;
mod vocabulary;
mod workers;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indexer::index::{position_of_payload, schema as fields, IndexKind, ShardedIndex};
use serde::Serialize;
use serde_json::Value;
use tantivy::collector::{Count, TopDocs};
use tantivy::index::SegmentId;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, SegmentReader, Term};

pub(crate) use candidates::bare_orcid;
pub use candidates::{
    CandidateHit, CandidateMatch, CandidateProfile, CandidateRequest, CandidateResponse, MatchKind,
    ProfileCandidates,
};
pub use catalog::{Analysis, Attribute, IndexCatalog, SearchableAttribute, ValueKind};

use self::candidates::SurnameCache;
use self::distinct::DistinctValues;
use self::facet_values::{facet_hits, FacetQueryMatcher};
use self::facets::{facet_response, FacetCounts};
use self::fanout::{search_shards, sort_ranked, ShardSearch};
use self::highlight::format_hit;
use self::query::{Dictionaries, ExpansionCache, QueryPlan};
use self::rank::{score_details, RankedDocument};
use self::rules::{HitOrder, SortRule};
use self::term_sets::TermSets;
use self::tuning::{MAX_RERANK_POOL, MIN_RERANK_POOL, RERANK_POOL_PER_HIT};
use self::vocabulary::VocabularySlot;
use crate::error::{ApiError, Code, Result};
use crate::filter::{Condition, ConditionOperator, FilterExpr};
use crate::params::{
    AttributeSelection, HitWindow, Settings, ValidatedDocumentsFetch, ValidatedFacetSearch,
    ValidatedMultiSearch, ValidatedSearch,
};
use crate::response::{
    DocumentsResponse, FacetSearchResponse, FederatedHit, FederatedSearchResponse,
    FederationHitInfo, HitsInfo, SearchHit, SearchResponse,
};

/// An index as `GET /indexes` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexUidInfo {
    /// `records`, `works` or `profiles`.
    pub uid: String,
    /// Always `id`.
    pub primary_key: String,
    /// When the current generation was built.
    pub created_at: DateTime<Utc>,
    /// When the engine last saw a new commit of it.
    pub updated_at: DateTime<Utc>,
    /// Documents in the commits loaded.
    pub number_of_documents: u64,
}

/// An index's statistics, as `GET /indexes/{uid}/stats` answers them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexStats {
    /// Documents in the commits loaded.
    pub number_of_documents: u64,
    /// Always false: indexing happens in the follower, invisible to searches until it
    /// commits.
    pub is_indexing: bool,
    /// Documents holding each attribute.
    pub field_distribution: BTreeMap<String, u64>,
}

/// The point in time a search must finish by, the budget it came from, and whether a stage
/// already stopped early because of it.
///
/// Stages that cannot answer without finishing (the query's term expansion, candidate
/// retrieval) call [`Deadline::check`]; stages that can answer with what they have
/// gathered (ranking candidates, counting facets, later shards) call
/// [`Deadline::is_exceeded`], which marks the search degraded, as Meilisearch answers a
/// search stopped by its `searchCutoffMs`.
#[derive(Debug)]
pub(crate) struct Deadline {
    at: Instant,
    budget_millis: u64,
    is_degraded: AtomicBool,
}

impl Deadline {
    /// Returns the deadline `at` of a search given `budget`: the budget is named in
    /// messages as asked, not as the time left when the search started, which waiting
    /// for an engine permit shortens.
    fn new(at: Instant, budget: Duration) -> Deadline {
        Deadline {
            at,
            budget_millis: u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
            is_degraded: AtomicBool::new(false),
        }
    }

    /// Returns `search_time_budget_exceeded` once the deadline has passed.
    pub(crate) fn check(&self) -> Result<()> {
        if Instant::now() > self.at {
            return Err(self.exceeded_error());
        }
        Ok(())
    }

    /// Returns whether the deadline has passed, and if so marks the search degraded: the
    /// caller stops and answers with what it has gathered.
    pub(crate) fn is_exceeded(&self) -> bool {
        let is_exceeded = Instant::now() > self.at;
        if is_exceeded {
            self.is_degraded.store(true, Ordering::Relaxed);
        }
        is_exceeded
    }

    /// Returns whether a stage stopped early because the deadline passed.
    pub(crate) fn is_degraded(&self) -> bool {
        self.is_degraded.load(Ordering::Relaxed)
    }

    /// Returns the error of a search stopped before it gathered anything.
    pub(crate) fn exceeded_error(&self) -> ApiError {
        ApiError::search_time_budget_exceeded(self.budget_millis)
    }
}

/// One open index: a generation's shards and the searchers of their commits last loaded.
#[derive(Debug)]
struct OpenIndex {
    sharded: ShardedIndex,
    searchers: Vec<Searcher>,
    generation_key: String,
    /// Names what the searchers hold for keys shared with other replicas ([`Engine::generation`]).
    content_key: String,
    updated_at: DateTime<Utc>,
    /// Word expansions in these searchers, shared with the next load while nothing changed.
    expansions: Arc<ExpansionCache>,
    /// Surname keys within typos in these searchers, for candidate retrieval, shared the
    /// same way.
    surnames: Arc<SurnameCache>,
    /// The sets of frequent terms of the searchers' segments, shared with every later load
    /// (a segment never changes) and rid of the segments gone at each.
    term_sets: Arc<TermSets>,
    /// The searchable fields' terms of the large segments in one dictionary and of the
    /// small ones in another, shared with every later load and built again when they
    /// outgrow them.
    vocabulary: Arc<VocabularySlot>,
}

impl OpenIndex {
    /// Loads the latest commits of `sharded` into searchers. The commit opstamps are read
    /// before the readers reload, so the key is never newer than what the searchers see.
    fn load(
        kind: IndexKind,
        mut sharded: ShardedIndex,
        previous: Option<&OpenIndex>,
    ) -> Result<OpenIndex> {
        let mut opstamps = Vec::with_capacity(sharded.num_shards());
        let mut positions = Vec::with_capacity(sharded.num_shards());
        for shard in sharded.shards() {
            let metas = shard.index.load_metas().map_err(ApiError::internal)?;
            opstamps.push(metas.opstamp.to_string());
            positions.push(metas.payload.as_deref().and_then(position_of_payload));
        }
        sharded.reload().map_err(ApiError::internal)?;
        let generation_key = format!("{}.{}", sharded.generation(), opstamps.join("."));
        // Opstamps count one replica's commits: another replica reaches the same numbers
        // holding other documents. The change-feed positions of the commits name the
        // documents themselves; a shard committed without one makes the key this process's.
        let content_key = match positions.into_iter().collect::<Option<Vec<String>>>() {
            Some(positions) if !positions.is_empty() => format!("at.{}", positions.join(".")),
            _ => format!("{}.{generation_key}", process_key()),
        };
        let updated_at = match previous {
            Some(previous) if previous.generation_key == generation_key => previous.updated_at,
            Some(_) => Utc::now(),
            None => sharded.meta().created_at,
        };
        let (expansions, surnames) = match previous {
            Some(previous) if previous.generation_key == generation_key => (
                Arc::clone(&previous.expansions),
                Arc::clone(&previous.surnames),
            ),
            _ => (Arc::default(), Arc::default()),
        };
        let searchers = sharded.searchers();
        let term_sets = match previous {
            Some(previous) => {
                let segments: HashSet<SegmentId> = searchers
                    .iter()
                    .flat_map(|searcher| searcher.segment_readers())
                    .map(SegmentReader::segment_id)
                    .collect();
                previous.term_sets.retain_segments(&segments);
                Arc::clone(&previous.term_sets)
            }
            None => Arc::default(),
        };
        let vocabulary =
            previous.map_or_else(Arc::default, |previous| Arc::clone(&previous.vocabulary));
        // An index opened serves no search until it is loaded, so its vocabularies are
        // built before; a reload keeps serving while new ones are built.
        vocabulary.refresh(
            kind.name(),
            vocabulary::field_groups(IndexCatalog::of(kind)),
            &searchers,
            previous.is_none(),
        );
        Ok(OpenIndex {
            sharded,
            searchers,
            generation_key,
            content_key,
            updated_at,
            expansions,
            surnames,
            term_sets,
            vocabulary,
        })
    }

    fn num_docs(&self) -> u64 {
        self.searchers.iter().map(Searcher::num_docs).sum()
    }
}

/// Executes searches over the indexes of one index directory; shared by the HTTP layer
/// in an `Arc`, every method takes `&self` and may run on any thread.
#[derive(Debug)]
pub struct Engine {
    index_dir: PathBuf,
    indexes: RwLock<BTreeMap<IndexKind, Arc<OpenIndex>>>,
}

/// The outcome of one search before it is shaped into a response.
struct SearchOutcome {
    hits: Vec<SearchHit>,
    scores: Vec<f64>,
    num_matching: usize,
    facets: BTreeMap<String, FacetCounts>,
    /// Whether the deadline cut a stage short and the hits are those gathered by then.
    is_degraded: bool,
}

impl Engine {
    /// Opens every index built under `index_dir`; an index never built answers
    /// `index_not_found` until [`Engine::refresh`] finds it.
    ///
    /// # Errors
    ///
    /// An internal error when an index exists but cannot be opened (unreadable files, a
    /// schema of another version).
    pub fn open(index_dir: &Path) -> Result<Engine> {
        let engine = Engine {
            index_dir: index_dir.to_path_buf(),
            indexes: RwLock::new(BTreeMap::new()),
        };
        engine.refresh()?;
        Ok(engine)
    }

    /// Moves every index to its current generation and latest commit: opens indexes built
    /// since, reopens those a rebuild switched, reloads the readers of the others.
    ///
    /// # Errors
    ///
    /// An internal error when an index cannot be read; indexes refreshed before it keep
    /// their new state, the others their old one.
    pub fn refresh(&self) -> Result<()> {
        for kind in IndexKind::ALL {
            let previous = self.open_index(kind);
            let sharded = match &previous {
                Some(previous) => {
                    let mut sharded = previous.sharded.clone();
                    sharded.reopen_if_switched().map_err(ApiError::internal)?;
                    sharded
                }
                None => match ShardedIndex::open_current(&self.index_dir, kind)
                    .map_err(ApiError::internal)?
                {
                    Some(sharded) => sharded,
                    None => continue,
                },
            };
            let reloaded = OpenIndex::load(kind, sharded, previous.as_deref())?;
            tracing::debug!(index = %kind, generation = %reloaded.generation_key, "index loaded");
            self.indexes
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(kind, Arc::new(reloaded));
        }
        Ok(())
    }

    /// Returns the open indexes, in `records`, `works`, `profiles` order.
    pub fn index_uids(&self) -> Vec<IndexUidInfo> {
        let indexes = self
            .indexes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        indexes
            .iter()
            .map(|(kind, index)| IndexUidInfo {
                uid: kind.name().to_owned(),
                primary_key: fields::ID.to_owned(),
                created_at: index.sharded.meta().created_at,
                updated_at: index.updated_at,
                number_of_documents: index.num_docs(),
            })
            .collect()
    }

    /// Returns a key that changes with every commit of the index `uid`, for response-cache
    /// keys that replicas sharing one Redis share: the change-feed position of each
    /// shard's commit, which names the documents the shards hold whichever replica wrote
    /// them (never newer than what the searchers see, as it is read before they reload), or
    /// where a shard has none, this process's own key of the generation and commits;
    /// `None` when the index is not open.
    pub fn generation(&self, uid: &str) -> Option<String> {
        let kind = kind_of(uid)?;
        self.open_index(kind).map(|index| index.content_key.clone())
    }

    /// Returns the catalog of the index `uid`: its attribute lists, which the HTTP layer
    /// exposes in the settings.
    pub fn catalog(uid: &str) -> Option<&'static IndexCatalog> {
        IndexCatalog::of_uid(uid)
    }

    /// Returns the default settings of the index `uid`: its attribute lists and
    /// Meilisearch's defaults.
    pub fn default_settings(uid: &str) -> Option<Settings> {
        IndexCatalog::of_uid(uid).map(IndexCatalog::default_settings)
    }

    /// Runs `search` on the index `uid`. Blocking CPU work: run it off the async runtime.
    ///
    /// # Errors
    ///
    /// `index_not_found`; `search_time_budget_exceeded` when `deadline` passes before
    /// any hit was gathered (past it with hits, the response holds those and is marked
    /// degraded); `invalid_search_filter` for a filter on an attribute the index lacks; an
    /// internal error when the index cannot be read.
    pub fn search(
        &self,
        uid: &str,
        search: &ValidatedSearch,
        settings: &Settings,
        deadline: Instant,
    ) -> Result<SearchResponse> {
        let started = Instant::now();
        let deadline = Deadline::new(deadline, search.time_budget_for(settings));
        let outcome = self.run_search(uid, search, settings, &deadline)?;
        let mut response = SearchResponse::new(
            search,
            outcome.hits,
            outcome.num_matching,
            started.elapsed(),
        );
        response.is_degraded = outcome.is_degraded;
        if !search.facets.is_empty() {
            let (distribution, stats) = facet_response(outcome.facets, search.max_values_per_facet);
            response.facet_distribution = Some(distribution);
            response.facet_stats = Some(stats);
        }
        Ok(response)
    }

    /// Runs `facet_search` on the index `uid`: counts its facet's values over the documents
    /// its search matches, exactly across shards as `facetDistribution` counts them, and
    /// returns those matching its `facetQuery`. Blocking CPU work: run it off the async
    /// runtime.
    ///
    /// # Errors
    ///
    /// As [`Engine::search`], and `search_time_budget_exceeded` whenever `deadline` passes
    /// before the counts are complete: counts cut short would be wrong, not degraded.
    pub fn facet_search(
        &self,
        uid: &str,
        facet_search: &ValidatedFacetSearch,
        settings: &Settings,
        deadline: Instant,
    ) -> Result<FacetSearchResponse> {
        let started = Instant::now();
        let search = &facet_search.search;
        let deadline = Deadline::new(deadline, search.time_budget_for(settings));
        let mut outcome = self.run_search(uid, search, settings, &deadline)?;
        if outcome.is_degraded {
            return Err(deadline.exceeded_error());
        }
        let counts = outcome
            .facets
            .remove(&facet_search.facet_name)
            .unwrap_or_default();
        let matcher = FacetQueryMatcher::new(
            facet_search.facet_query.as_deref(),
            &facet_search.facet_name,
            &settings.typo_tolerance,
        );
        let hits = facet_hits(counts, &matcher, search.max_values_per_facet, &deadline)?;
        Ok(FacetSearchResponse {
            facet_hits: hits,
            facet_query: facet_search.facet_query.clone(),
            processing_time_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// Runs a federated multi-search: every query on its index, the hits merged by
    /// ranking score times the query's weight. The queries share one deadline; the
    /// queries not started when it passes are left out, and the response is degraded.
    ///
    /// # Errors
    ///
    /// `bad_request` for a multi-search without federation; otherwise as
    /// [`Engine::search`], for the first query that fails, its message prefixed with the
    /// query's position.
    pub fn federated_search(
        &self,
        request: &ValidatedMultiSearch,
        settings: &dyn Fn(&str) -> Settings,
        deadline: Instant,
    ) -> Result<FederatedSearchResponse> {
        let started = Instant::now();
        let ValidatedMultiSearch::Federated {
            pagination,
            hit_window,
            queries,
        } = request
        else {
            return Err(ApiError::new(
                Code::BadRequest,
                "the multi-search is not federated; run its queries one by one",
            ));
        };
        let budget = queries
            .iter()
            .map(|query| {
                query
                    .search
                    .time_budget_for(&settings(query.index_uid.as_str()))
            })
            .max()
            .unwrap_or_default();
        let deadline = Deadline::new(deadline, budget);
        let mut is_degraded = false;
        // Each query's hits in its own order, with their weighted scores.
        let mut lists: Vec<std::collections::VecDeque<(f64, FederatedHit)>> = Vec::new();
        let mut num_matching = 0;
        let mut max_total_hits = usize::MAX;
        for (position, query) in queries.iter().enumerate() {
            // The queries share the budget: once it has run out, the queries not started
            // are left out and the merged hits are those gathered, marked degraded.
            if position > 0 && deadline.is_exceeded() {
                is_degraded = true;
                break;
            }
            let uid = query.index_uid.as_str();
            let outcome = self
                .run_search(uid, &query.search, &settings(uid), &deadline)
                .map_err(|error| {
                    error.with_message_prefix(&format!("in `queries[{position}]`: "))
                })?;
            num_matching += outcome.num_matching;
            is_degraded |= outcome.is_degraded;
            max_total_hits = max_total_hits.min(query.search.max_total_hits);
            let mut list = std::collections::VecDeque::with_capacity(outcome.hits.len());
            for (hit, score) in outcome.hits.into_iter().zip(outcome.scores) {
                let weighted = score * query.weight;
                let federated = FederatedHit {
                    hit,
                    federation: FederationHitInfo {
                        index_uid: uid.to_owned(),
                        queries_position: position,
                        weighted_ranking_score: weighted,
                    },
                };
                list.push_back((weighted, federated));
            }
            lists.push(list);
        }
        let hits = merge_federated(lists)
            .skip(hit_window.skip)
            .take(hit_window.take)
            .collect();
        let max_total_hits = if queries.is_empty() {
            0
        } else {
            max_total_hits
        };
        Ok(FederatedSearchResponse {
            hits,
            processing_time_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            hits_info: HitsInfo::new(pagination, num_matching, max_total_hits),
            is_degraded,
        })
    }

    /// Returns the document `id` of the index `uid`, with `fields` only when given (the id
    /// always).
    ///
    /// # Errors
    ///
    /// `index_not_found`, `document_not_found`, or an internal error when the index cannot
    /// be read.
    pub fn document(&self, uid: &str, id: &str, fields: Option<&[String]>) -> Result<Value> {
        let (catalog, index) = self.index(uid)?;
        let term = Term::from_field_text(catalog.field(fields::ID), id);
        let query = TermQuery::new(term, IndexRecordOption::Basic);
        for searcher in &index.searchers {
            let top = searcher
                .search(&query, &TopDocs::with_limit(1))
                .map_err(ApiError::internal)?;
            if let Some((_, address)) = top.first() {
                let stored = documents::read_whole(catalog, searcher, *address)?;
                let selection = fields.map_or(AttributeSelection::All, |fields| {
                    AttributeSelection::Only(fields.to_vec())
                });
                let document = documents::select(documents::to_json(catalog, &stored), &selection);
                return Ok(Value::Object(document));
            }
        }
        Err(ApiError::document_not_found(uid, id))
    }

    /// Returns a page of the documents of the index `uid` chosen by `fetch`'s filter and
    /// ids, unranked, in shard and index order.
    ///
    /// # Errors
    ///
    /// `index_not_found`; `invalid_document_filter` for a filter on an attribute the index
    /// lacks; an internal error when the index cannot be read.
    pub fn documents(
        &self,
        uid: &str,
        fetch: &ValidatedDocumentsFetch,
    ) -> Result<DocumentsResponse> {
        let (catalog, index) = self.index(uid)?;
        let filter = documents_filter(fetch);
        let mut total = 0;
        let mut results = Vec::new();
        for searcher in &index.searchers {
            let matching =
                fanout::filtered_docs(catalog, searcher, filter.as_ref()).map_err(|error| {
                    match error {
                        ApiError::Rejected { message, .. } => {
                            ApiError::new(Code::InvalidDocumentFilter, message)
                        }
                        internal => internal,
                    }
                })?;
            for (segment, docs) in matching {
                for doc in docs {
                    let is_in_page = total >= fetch.offset && results.len() < fetch.limit;
                    total += 1;
                    if !is_in_page {
                        continue;
                    }
                    let address = tantivy::DocAddress::new(segment, doc);
                    let stored = documents::read_whole(catalog, searcher, address)?;
                    results.push(documents::select(
                        documents::to_json(catalog, &stored),
                        &fetch.fields,
                    ));
                }
            }
        }
        Ok(DocumentsResponse {
            results,
            offset: fetch.offset,
            limit: fetch.limit,
            total,
        })
    }

    /// Returns the statistics of the index `uid`.
    ///
    /// # Errors
    ///
    /// `index_not_found`, or an internal error when the index cannot be read.
    pub fn stats(&self, uid: &str) -> Result<IndexStats> {
        let (catalog, index) = self.index(uid)?;
        let number_of_documents = index.num_docs();
        let mut field_distribution = BTreeMap::new();
        for attribute in catalog.attributes {
            let entry = catalog
                .schema()
                .get_field_entry(catalog.field(attribute.name));
            let num_docs = if attribute.is_array || !entry.is_indexed() {
                number_of_documents
            } else {
                let exists = FilterExpr::Condition(Condition {
                    attribute: attribute.name.to_owned(),
                    operator: ConditionOperator::Exists,
                });
                let mut num_docs = 0;
                for searcher in &index.searchers {
                    let query = filter::filter_query(catalog, &exists, searcher)?;
                    num_docs += searcher
                        .search(&query, &Count)
                        .map_err(ApiError::internal)? as u64;
                }
                num_docs
            };
            field_distribution.insert(attribute.name.to_owned(), num_docs);
        }
        Ok(IndexStats {
            number_of_documents,
            is_indexing: false,
            field_distribution,
        })
    }

    /// Retrieves candidate records for each profile of `request`: records naming the
    /// profile's name forms as an author, records titled as its known works, records
    /// carrying its ORCID iD, merged per record with the reasons.
    ///
    /// # Errors
    ///
    /// `index_not_found` when the records index is not built;
    /// `search_time_budget_exceeded` past `deadline`; an internal error when the index
    /// cannot be read.
    pub fn candidates(
        &self,
        request: &CandidateRequest,
        variants: &analyzers::GivenNameVariants,
        deadline: Instant,
    ) -> Result<CandidateResponse> {
        let (_, index) = self.index(IndexKind::Records.name())?;
        let budget_millis = crate::limits::MAX_SEARCH_TIME_BUDGET_MILLIS;
        candidates::retrieve(
            &index.searchers,
            &index.surnames,
            request,
            variants,
            &Deadline::new(deadline, Duration::from_millis(budget_millis)),
        )
        .map_err(|error| match error.code() {
            Code::SearchTimeBudgetExceeded => {
                ApiError::candidates_time_budget_exceeded(budget_millis)
            }
            _ => error,
        })
    }

    fn open_index(&self, kind: IndexKind) -> Option<Arc<OpenIndex>> {
        self.indexes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&kind)
            .cloned()
    }

    fn index(&self, uid: &str) -> Result<(&'static IndexCatalog, Arc<OpenIndex>)> {
        let kind = kind_of(uid).ok_or_else(|| ApiError::index_not_found(uid))?;
        let index = self
            .open_index(kind)
            .ok_or_else(|| ApiError::index_not_found(uid))?;
        Ok((IndexCatalog::of(kind), index))
    }

    fn run_search(
        &self,
        uid: &str,
        search: &ValidatedSearch,
        settings: &Settings,
        deadline: &Deadline,
    ) -> Result<SearchOutcome> {
        let (catalog, index) = self.index(uid)?;
        let started = Instant::now();
        let built = index.vocabulary.get();
        let vocabularies = built.held();
        let plan = match search.is_placeholder() {
            true => None,
            false => Some(QueryPlan::build(
                catalog,
                &search.searched_query,
                search.attributes_to_search_on.as_deref(),
                search.matching_strategy,
                settings,
                Dictionaries {
                    searchers: &index.searchers,
                    cache: &index.expansions,
                    term_sets: &index.term_sets,
                    vocabularies: &vocabularies,
                },
                deadline,
            )?),
        };
        let has_words = plan.as_ref().is_some_and(|plan| !plan.is_empty());
        let order = if has_words {
            HitOrder::for_query(catalog, settings, &search.sort)
        } else {
            HitOrder::for_placeholder(catalog, settings, &search.sort)
        };
        let distinct = search
            .distinct
            .as_deref()
            .or(settings.distinct_attribute.as_deref())
            .and_then(|name| catalog.attribute(name));
        let mut num_candidates = num_candidates(search.hit_window, has_words);
        // Under a score threshold the totals and facets count the ranked hits at or above
        // it, and with `distinct` the pages are the ranked hits kept: the pool must not
        // depend on the page, so it holds as many as can be shown.
        // Placeholder hits all score 1: no threshold leaves any out.
        let threshold = search.ranking_score_threshold.filter(|_| has_words);
        let pool_spans_pages = has_words && (threshold.is_some() || distinct.is_some());
        if pool_spans_pages {
            num_candidates = num_candidates.max(search.max_total_hits.min(MAX_RERANK_POOL));
        }
        let window_end = search.hit_window.skip + search.hit_window.take;
        let num_index_docs: u64 = index.searchers.iter().map(Searcher::num_docs).sum();
        let num_shard_docs = num_index_docs / index.searchers.len().max(1) as u64;
        // Only when the words rule orders hits first do the documents matching more words
        // all rank before those matching fewer; `distinct` may keep too few of a bucket.
        let words_rank_first = matches!(order.rules.first(), Some(SortRule::Words));
        let levels = match &plan {
            Some(plan) if has_words && words_rank_first && !pool_spans_pages => {
                plan.selective_levels(num_index_docs, num_shard_docs, window_end)
            }
            _ => Vec::new(),
        };
        let shard_search = ShardSearch {
            catalog,
            plan: plan.as_ref(),
            filter: search.filter.as_ref(),
            order: &order,
            // With `distinct` the facets count the kept documents only, once known.
            num_candidates: if distinct.is_some() && !has_words {
                0
            } else {
                num_candidates
            },
            // With `distinct` or a score threshold the facets count the kept hits only,
            // once known.
            facets: if distinct.is_some() || threshold.is_some() {
                &[]
            } else {
                &search.facets
            },
            deadline,
            distinct,
            window_end,
            levels: &levels,
            count_cap: search.max_total_hits,
            pool_spans_pages,
        };
        let planned = started.elapsed();
        let results = search_shards(&index.searchers, shard_search)?;
        tracing::debug!(
            plan_us = planned.as_micros() as u64,
            shards_us = (started.elapsed() - planned).as_micros() as u64,
            "search planned and run on the shards"
        );

        let mut num_matching = 0;
        let mut ranked: Vec<RankedDocument> = Vec::new();
        let mut facets: BTreeMap<String, FacetCounts> = BTreeMap::new();
        let mut values: DistinctValues = Vec::with_capacity(results.len());
        for (shard, result) in results.into_iter().enumerate() {
            num_matching += result.num_matching;
            ranked.extend(result.ranked.into_iter().map(|mut document| {
                document.shard = shard;
                document
            }));
            for (name, counts) in result.facets {
                facets.entry(name).or_default().merge(counts);
            }
            values.push(result.distinct_values);
        }
        sort_ranked(&mut ranked, &order);
        if let Some(threshold) = threshold {
            ranked.retain(|document| document.score >= threshold);
            // Matches the first stage left out of the pool scored below every ranked one
            // there and are taken as under the threshold.
            num_matching = ranked.len();
            if !search.facets.is_empty() && distinct.is_none() {
                let kept: Vec<(usize, tantivy::DocAddress)> = ranked
                    .iter()
                    .filter_map(|document| Some((document.shard, document.address?)))
                    .collect();
                facets = distinct::count_kept_facets(
                    catalog,
                    &index.searchers,
                    &kept,
                    &search.facets,
                    deadline,
                )?;
            }
        }

        let window = search.hit_window;
        let mut page: Vec<RankedDocument> = match distinct {
            Some(_) => {
                let (outcome, page) = if has_words {
                    let outcome = distinct::keep_ranked(&mut ranked, &values);
                    let page = ranked.into_iter().skip(window.skip).take(window.take);
                    (outcome, page.collect())
                } else {
                    distinct::keep_placeholder(
                        catalog,
                        &index.searchers,
                        &order,
                        &values,
                        (window.skip, window.take),
                        deadline,
                    )?
                };
                num_matching = outcome.num_kept;
                if !search.facets.is_empty() {
                    facets = distinct::count_kept_facets(
                        catalog,
                        &index.searchers,
                        &outcome.kept,
                        &search.facets,
                        deadline,
                    )?;
                }
                page
            }
            None => ranked
                .into_iter()
                .skip(window.skip)
                .take(window.take)
                .collect(),
        };

        if deadline.is_degraded() && page.is_empty() && num_matching > 0 {
            return Err(deadline.exceeded_error());
        }
        if documents::is_searched_partial(catalog) {
            // Ranking read only what it ranks by; the hits shown are read whole.
            for document in &mut page {
                if let Some(address) = document.address {
                    let searcher = &index.searchers[document.shard];
                    document.stored = documents::read_whole(catalog, searcher, address)?;
                }
            }
        }
        let mut hits = Vec::with_capacity(page.len());
        let mut scores = Vec::with_capacity(page.len());
        for document in &page {
            scores.push(document.score);
            // Past the deadline the remaining hits are shown unmarked: finding matches in
            // a long list of authors that was not searched costs as much as ranking it.
            let plan = plan.as_ref().filter(|_| !deadline.is_exceeded());
            hits.push(shape_hit(catalog, plan, search, &order, document));
        }
        Ok(SearchOutcome {
            hits,
            scores,
            num_matching,
            facets,
            is_degraded: deadline.is_degraded(),
        })
    }
}

/// Merges the queries' hit lists, each kept in its own order: the next hit is the head
/// with the highest weighted score (the earlier query on ties). A merge rather than a sort,
/// so that the merged list of longer lists starts with the merged list of their first
/// hits and federated pages follow one another.
fn merge_federated(
    mut lists: Vec<std::collections::VecDeque<(f64, FederatedHit)>>,
) -> impl Iterator<Item = FederatedHit> {
    // A document several queries of one index match is returned once, as Meilisearch
    // does: from the query where it weighs most, which the merge meets first.
    let mut seen: HashSet<(String, String)> = HashSet::new();
    std::iter::from_fn(move || loop {
        let mut best: Option<(usize, f64)> = None;
        for (position, list) in lists.iter().enumerate() {
            if let Some(&(weighted, _)) = list.front() {
                if best.is_none_or(|(_, best_weighted)| weighted > best_weighted) {
                    best = Some((position, weighted));
                }
            }
        }
        let (position, _) = best?;
        let (_, hit) = lists[position].pop_front()?;
        let key = hit
            .hit
            .document
            .get(fields::ID)
            .map(|id| (hit.federation.index_uid.clone(), id.to_string()));
        if key.is_none_or(|key| seen.insert(key)) {
            return Some(hit);
        }
    })
}

/// Returns the index kind named `uid`.
/// Returns a key of this process, the same for its life and unlike any other's.
fn process_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| format!("process-{}", uuid::Uuid::now_v7().simple()))
}

fn kind_of(uid: &str) -> Option<IndexKind> {
    IndexKind::ALL.into_iter().find(|kind| kind.name() == uid)
}

/// Returns how many candidates each shard ranks for a page ending at `skip + take`.
fn num_candidates(window: HitWindow, has_words: bool) -> usize {
    let window_end = window.skip + window.take;
    if !has_words {
        // Shards collect by the sort values then the id, the page's whole order.
        return window_end;
    }
    (window_end * RERANK_POOL_PER_HIT)
        .clamp(MIN_RERANK_POOL, MAX_RERANK_POOL)
        .max(window_end)
}

/// Turns a ranked document into a hit: its retrieved attributes, `_formatted`,
/// `_matchesPosition` and `_rankingScore` as asked.
fn shape_hit(
    catalog: &IndexCatalog,
    plan: Option<&QueryPlan>,
    search: &ValidatedSearch,
    order: &HitOrder,
    document: &RankedDocument,
) -> SearchHit {
    let full = documents::to_json(catalog, &document.stored);
    let retrieved = documents::select(full.clone(), &search.attributes_to_retrieve);
    let formatted = format_hit(catalog, plan, search, &full, &retrieved, &document.hits);
    SearchHit {
        document: retrieved,
        formatted: formatted.formatted,
        matches_position: formatted.matches_position,
        ranking_score: search.show_ranking_score.then_some(document.score),
        ranking_score_details: search
            .show_ranking_score_details
            .then(|| score_details(catalog, &order.rules, document)),
    }
}

/// Returns the filter of a documents fetch: its filter and its ids combined.
fn documents_filter(fetch: &ValidatedDocumentsFetch) -> Option<FilterExpr> {
    let ids = fetch.ids.as_ref().map(|ids| {
        FilterExpr::Condition(Condition {
            attribute: fields::ID.to_owned(),
            operator: ConditionOperator::In(
                ids.iter()
                    .map(|id| crate::filter::FilterValue::String(id.clone()))
                    .collect(),
            ),
        })
    });
    match (fetch.filter.clone(), ids) {
        (Some(filter), Some(ids)) => Some(FilterExpr::And(vec![filter, ids])),
        (filter, ids) => filter.or(ids),
    }
}

/// Returns a deadline `budget` from now, for callers that hold a budget rather than an
/// instant.
pub fn deadline_in(budget: Duration) -> Instant {
    Instant::now() + budget
}
