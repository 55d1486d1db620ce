//! Every limit and default of the API in one place, each with the reason for its value.
//! Defaults that Meilisearch documents keep Meilisearch's value so that clients written for it
//! behave the same; the others bound the work one request can ask of a replica.

/// Hits returned when a search gives no `limit`; Meilisearch's default.
pub const DEFAULT_SEARCH_LIMIT: usize = 20;

/// Hits per page when a search gives `page` but no `hitsPerPage`; Meilisearch's default.
pub const DEFAULT_HITS_PER_PAGE: usize = 20;

/// Page returned when a search gives `hitsPerPage` but no `page`; pages count from 1.
pub const DEFAULT_PAGE: usize = 1;

/// Largest `limit` or `hitsPerPage` of one search: a bigger page is a scrape, which the
/// documents route serves without ranking every shard's candidates.
pub const MAX_SEARCH_LIMIT: usize = 1_000;

/// How deep a search may page (`offset + limit`) when the index sets no
/// `pagination.maxTotalHits`; Meilisearch's default. Each shard keeps this many candidates
/// in its collector, so the window bounds memory per query.
pub const DEFAULT_MAX_TOTAL_HITS: usize = 1_000;

/// Largest `pagination.maxTotalHits` a settings update may set: beyond it a fan-out over
/// shards would merge hundreds of thousands of scored candidates per query.
pub const MAX_TOTAL_HITS_CEILING: usize = 100_000;

/// Longest `q` in bytes: a long title with diacritics fits several times over, while a
/// pasted abstract is refused instead of expanding into thousands of typo-tolerant terms.
pub const MAX_QUERY_NUM_BYTES: usize = 2_048;

/// Words of `q` that are searched; later words are ignored as Meilisearch ignores words
/// after its tenth. Titles run longer than ten words, so Atlas keeps more.
pub const MAX_QUERY_NUM_WORDS: usize = 32;

/// Deepest nesting of parentheses and `NOT` in a filter expression. The parser recurses
/// once per level, so this bounds its stack whatever the input.
pub const MAX_FILTER_DEPTH: usize = 64;

/// Longest filter expression in bytes, counting every string of the array form: room for
/// an `id IN [...]` over several hundred UUIDs, the matcher's largest filter.
pub const MAX_FILTER_NUM_BYTES: usize = 32_768;

/// Most values in one `IN [...]` list: each value is a term lookup on every shard.
pub const MAX_FILTER_IN_NUM_VALUES: usize = 1_000;

/// Most distinct values one `CONTAINS` or `STARTS WITH` condition may match: each is a
/// term looked up on every shard, and a one-letter pattern over identifiers would match
/// nearly all of them, which an `EXISTS` says better.
pub const MAX_FILTER_PATTERN_NUM_TERMS: usize = 10_000;

/// Most `CONTAINS` and `STARTS WITH` conditions in one filter: each reads the dictionary of
/// its attribute in every segment of every shard (all of it for `CONTAINS`), before the
/// search's time budget can stop it, so a filter of hundreds of them held a worker for
/// seconds.
pub const MAX_FILTER_PATTERN_CONDITIONS: usize = 8;

/// Largest request body: a multi-search of [`MAX_MULTI_SEARCH_QUERIES`] queries with long
/// filters fits; anything bigger is refused before it is parsed.
pub const MAX_BODY_NUM_BYTES: usize = 2 * 1024 * 1024;

/// Time a search may take when it asks for no budget of its own (`timeBudgetMs`) and its
/// index sets no `searchCutoffMs`; Meilisearch's default cutoff. Past it the search stops
/// and answers with the hits gathered so far, or `search_time_budget_exceeded` when it has
/// gathered none, instead of holding a worker.
pub const DEFAULT_SEARCH_TIME_BUDGET_MILLIS: u64 = 1_500;

/// Largest per-query budget (`timeBudgetMs`, or `searchCutoffMs`) that may be set: the matcher's bulk
/// candidate retrieval can wait this long, an interactive page never should.
pub const MAX_SEARCH_TIME_BUDGET_MILLIS: u64 = 10_000;

/// Values per facet in `facetDistribution` when the index sets no
/// `faceting.maxValuesPerFacet`; Meilisearch's default.
pub const DEFAULT_MAX_VALUES_PER_FACET: usize = 100;

/// Largest `faceting.maxValuesPerFacet` a settings update may set: counts are kept per value,
/// and a UI shows far fewer.
pub const MAX_VALUES_PER_FACET_CEILING: usize = 10_000;

/// Longest `facetQuery` of a facet search in bytes: it is matched whole, as one word with
/// up to two typos, and the automaton doing so grows with its length (about 7 MB at this
/// length); facet values (types, languages, identifiers) are far shorter.
pub const MAX_FACET_QUERY_NUM_BYTES: usize = 256;

/// Most queries in one multi-search: the matcher batches its lookups, and one request must
/// not occupy every search worker of a replica.
pub const MAX_MULTI_SEARCH_QUERIES: usize = 100;

/// Most hits one multi-search that is not federated returns, its queries' `limit`s
/// summed: ten pages of the largest size. A hundred queries of a thousand whole records
/// each made a response of hundreds of megabytes, serialized in memory.
pub const MAX_MULTI_SEARCH_HITS: usize = 10_000;

/// Queries of one multi-search running at once: enough to answer within one search's time
/// budget, few enough that one multi-search leaves engine permits to other requests.
pub const MAX_CONCURRENT_MULTI_SEARCH_QUERIES: usize = 4;

/// Words kept around a match when cropping and no length is given; Meilisearch's default.
pub const DEFAULT_CROP_LENGTH: usize = 10;

/// Largest `cropLength`, or `attr:length` in `attributesToCrop`: longer crops are the whole
/// field, which `attributesToRetrieve` already returns.
pub const MAX_CROP_LENGTH: usize = 1_000;

/// Longest highlight tag or crop marker in bytes: markup, not content.
pub const MAX_MARKUP_NUM_BYTES: usize = 256;

/// Longest index uid in bytes; Meilisearch's limit, so that uids valid here are valid there.
pub const MAX_INDEX_UID_NUM_BYTES: usize = 400;

/// Documents returned by the documents route when no `limit` is given; Meilisearch's default.
pub const DEFAULT_DOCUMENTS_LIMIT: usize = 20;

/// Largest `limit` of the documents route: a page is serialized whole in memory.
pub const MAX_DOCUMENTS_LIMIT: usize = 10_000;

/// Most `ids` in one documents fetch: each is a lookup on every shard.
pub const MAX_DOCUMENTS_FETCH_IDS: usize = 1_000;

/// Most sort criteria in one search: each adds a fast-field comparison per candidate.
pub const MAX_SORT_NUM_CRITERIA: usize = 16;

/// Most entries in `synonyms` and most words in `stopWords`: every replica keeps them in
/// memory and consults them for every query word.
pub const MAX_SYNONYMS_NUM_ENTRIES: usize = 10_000;

/// Most words in `stopWords`, for the same reason as [`MAX_SYNONYMS_NUM_ENTRIES`].
pub const MAX_STOP_WORDS_NUM_ENTRIES: usize = 10_000;

/// Shortest word, in characters, forgiven one typo; Meilisearch's default. A typo in a
/// three- or four-letter name (`Lee`, `Li`, `Wu`) would match a different person.
pub const DEFAULT_MIN_WORD_SIZE_FOR_ONE_TYPO: u8 = 5;

/// Shortest word, in characters, forgiven two typos; Meilisearch's default.
pub const DEFAULT_MIN_WORD_SIZE_FOR_TWO_TYPOS: u8 = 9;

/// Engine calls (searches, document reads, candidate retrieval) running at once per core;
/// more wait their turn, their time budget running, instead of each taking a thread of the
/// blocking pool and all of them slowing down together.
pub const MAX_CONCURRENT_ENGINE_CALLS_PER_CORE: usize = 2;

/// Items per page of `GET /indexes` and `GET /keys` when no `limit` is given; Meilisearch's
/// default.
pub const DEFAULT_LIST_LIMIT: usize = 20;

/// Default time in milliseconds a client has to send a request's headers before its
/// connection is closed: a slow or stalled client would otherwise hold a connection and
/// its memory forever; a real client sends its headers in one packet, well within this.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;

/// Default longest pause in milliseconds between two parts of a request body: bodies are
/// at most a few megabytes, so a client that stops sending is gone or hostile, not slow.
pub const DEFAULT_REQUEST_BODY_TIMEOUT_MS: u64 = 30_000;

/// Most profiles in one `POST /candidates` request: a batch the matcher sends (32 by
/// default) and room to spare, answered within the time budget at a million records.
pub const MAX_CANDIDATE_PROFILES: usize = 1_000;

/// Largest `limitPerProfile` of a candidate request: far above what the records kept per
/// shard can return.
pub const MAX_CANDIDATES_PER_PROFILE: usize = 10_000;

/// Most name forms of one profile in a candidate request (the matcher sends at most 200).
pub const MAX_CANDIDATE_NAMES: usize = 1_000;

/// Most known titles of one profile in a candidate request (the matcher sends at most 50).
pub const MAX_CANDIDATE_TITLES: usize = 1_000;

/// Longest name form, title or ORCID iD in a candidate request, in bytes.
pub const MAX_CANDIDATE_TEXT_NUM_BYTES: usize = 2_048;

/// Longest profile id in a candidate request, in bytes: ids are echoed in the answer, and
/// the matcher's are 36-byte UUIDs.
pub const MAX_CANDIDATE_ID_NUM_BYTES: usize = 512;
