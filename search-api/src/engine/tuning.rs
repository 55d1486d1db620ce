//! The engine's tunables, each with the reason for its value. Limits that requests can
//! change (page depth, typo word sizes) live in [`crate::limits`]; these are internal.

/// Terms one query word may expand to through typos, across all shards, most frequent
/// first: beyond a few dozen the extra terms are rare misspellings of other words and only
/// slow the query down. Meilisearch keeps a similar cap on its derivations.
pub const MAX_TYPO_EXPANSIONS_PER_WORD: usize = 64;

/// Terms the last word may expand to as a prefix while typing, most frequent first:
/// `a` alone would otherwise expand to most of the vocabulary.
pub const MAX_PREFIX_EXPANSIONS_PER_WORD: usize = 128;

/// Terms read from the term dictionaries before the most frequent are kept: bounds the
/// work of expanding a one-letter prefix on a large index.
pub const MAX_EXPANSION_CANDIDATES_PER_WORD: usize = 4_096;

/// Words (or surnames) whose expansions one commit of an index keeps: a few hundred bytes
/// to a few kilobytes each, so each cache stays within a few tens of megabytes.
pub const MAX_CACHED_EXPANSIONS: usize = 10_000;

/// Memory for the sets of frequent terms one index keeps across searches
/// ([`super::term_sets`]): at 500,000 documents a segment a set is 61 KiB, so this holds
/// about 2,000 of them.
pub const MAX_TERM_SET_BYTES: usize = 128 << 20;

/// Documents a term must be in, per 64 documents of a segment, for its set to be kept:
/// from one in 64 on, combining its set a machine word at a time (a few operations per 64
/// documents) costs less than decoding its postings (a few per document).
pub const MIN_DOCS_PER_TERM_SET_WORD: u64 = 1;

/// Share of a shard's documents, as one in this many, a segment must hold for the merged
/// dictionary of the index ([`super::vocabulary`]) to hold its terms: a build writes one
/// large segment per shard, a follower many small ones that merge among themselves, which
/// would make the merged dictionary stale at every merge.
pub const MIN_VOCABULARY_SEGMENT_SHARE: u64 = 8;

/// Shortest prefix, in characters, expanded while typing: one letter matches too much to
/// rank, and Meilisearch also waits for a second letter in practice (its prefix cache
/// starts at two).
pub const MIN_PREFIX_NUM_CHARS: usize = 1;

/// Candidates ranked precisely per shard at least, whatever the page: the first stage
/// scores the words and typo criteria and whether query words stand together, so the
/// precise criteria (proximity within names, attribute, exactness) need some room to
/// reorder the candidates near the cut. On the seeded 100,000-record corpus 50 found as
/// many relevant records in the first ten as 200 did, for a third of the work.
pub const MIN_RERANK_POOL: usize = 50;

/// Candidates ranked precisely per hit asked for (`offset + limit`), for the same reason.
pub const RERANK_POOL_PER_HIT: usize = 3;

/// Most candidates ranked precisely per shard: each costs a stored-document read and a
/// re-analysis of its searchable fields.
pub const MAX_RERANK_POOL: usize = 3_000;

/// Matches of a shard ranked precisely, all of them, whatever the page: the first stage
/// orders candidates by words and typos but only approximates proximity, attribute and
/// exactness, so a pool cut by its scores can leave out a match ranking early and keep
/// one ranking later, and a short page then differs from the start of a longer one. Up
/// to this many matches (most searches of a few uncommon words, the queries of common
/// words that only a few documents hold together) pages are slices of one order, for at
/// most a few milliseconds of ranking (each match costs a stored-document read and an
/// analysis of its searched values, 10 to 20 µs).
pub const RANK_ALL_MATCHES_UP_TO: usize = 200;

/// Most candidates ranked per shard when many tie with the last of the pool in the first
/// stage (a common surname, one frequent word): up to this many, every tied candidate is
/// considered (ranked until none left can reach the page), so the page does not depend on
/// how documents are spread over shards; beyond,
/// those of smallest id are (the id orders what every rule leaves equal). On the seeded corpus of 1 million records, 300 lost two
/// points of recall on author names that 2,000 keeps, for a third more work than 300.
pub const MAX_TIED_CANDIDATES: usize = 2_000;

/// Distance, in word positions, at which two query words stop being "near": Meilisearch's
/// proximity rule also stops counting at 7 and treats words in different attributes as 8.
pub const MAX_PROXIMITY: u32 = 8;

/// Buckets of the `wordPosition` rule in the ranking score: the first matched word at
/// position 0, 1, … up to this many; later positions share the last bucket, as a match
/// that deep in a title or a list of names is as weak wherever it is.
pub const NUM_WORD_POSITION_BUCKETS: usize = 10;

/// Weight of one typo in the typo criterion, in cost units. Costs are in quarter typos so
/// that a stemmed match (one unit) and a first-letter typo in a name (one extra unit) rank
/// between the whole steps.
pub const TYPO_COST_UNITS: u32 = 4;

/// Cost of a match through the stemmed title field: above an exact or prefix match, below
/// any typo, so `cells` finds `cell` but never outranks an exact `cells`.
pub const STEM_COST_UNITS: u32 = 1;

/// Extra cost of a typo on the first letter of a name (`Kowalski` for `Cowalski`): names
/// forgive it, as people spell names by ear, but rank it below an ordinary typo.
pub const FIRST_LETTER_TYPO_EXTRA_COST_UNITS: u32 = 2;

/// Cost of a synonym from the index settings: a little below the word itself, as the
/// person typed the word.
pub const SYNONYM_COST_UNITS: u32 = 1;

/// Score of a query word matched exactly in the first stage; lower alternatives scale it.
pub const FIRST_STAGE_WORD_SCORE: f32 = 1.0;

/// First-stage score shared by the pairs of query words found side by side: below the
/// cheapest alternative of the least weighted word (a synonym or stem, 1 % of its score),
/// so it orders candidates within the words and typo criteria only.
pub const ADJACENCY_BONUS: f32 = 0.008;

/// Most words of a query read as a person's name when ranking author names: names have
/// a few words (`Maria de la Cruz Ortega`), longer queries are titles.
pub const MAX_NAME_QUERY_UNITS: usize = 6;

/// Query words whose order is weighted in the first stage: beyond, words weigh the same,
/// which keeps the scores within `f32` precision.
pub const MAX_ORDERED_WORDS: usize = 12;

/// Buckets of the words criterion a shard retrieves from before it scores every document
/// matching the first word: the one expected to hold a page of candidates and the next
/// one down, as word counts misjudge how often words occur together.
pub const MAX_LEVELS_TRIED: usize = 2;

/// Values of a facet counted from the inverted index before the counts are cut to
/// `maxValuesPerFacet`: bounds memory for a facet on identifiers.
pub const MAX_FACET_VALUES_COUNTED: usize = 1_000_000;

/// Matching documents of one candidate-retrieval query looked at per shard (the query of
/// a profile's names, or of one of its titles): enough for the namesakes of a common name
/// sharing its initials, bounded so one profile cannot take a replica.
pub const CANDIDATE_POOL_PER_QUERY: usize = 400;

/// Profiles searched in parallel by one candidate request: the machine's cores are shared
/// with interactive searches.
pub const MAX_CANDIDATE_THREADS: usize = 4;

/// Words of a known title searched for candidates: the first words of a title identify it,
/// and a long title expands into many terms.
pub const MAX_CANDIDATE_TITLE_WORDS: usize = 16;

/// Share of a known title's words a record's title must contain to be a candidate.
pub const MIN_TITLE_WORD_SHARE: f64 = 0.6;
