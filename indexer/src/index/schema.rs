//! The tantivy schemas of the three indexes, and the names of their fields.
//!
//! The search API refers to fields through these constants. Text fields name their analyzer
//! from the `analyzers` crate; filter, facet and sort fields are fast fields, and fields
//! used as facets are fast raw strings.

use std::sync::OnceLock;

use analyzers::{KEYWORD_ANALYZER, NAME_ANALYZER, TEXT_ANALYZER, TEXT_STEM_ANALYZER};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, Schema,
    SchemaBuilder, TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};

use super::IndexKind;

/// Version of the schemas below, kept in every generation's `meta.json`. Bump it with any
/// change of fields, options or analyzers (the name parser included, whose keys the
/// records index stores): a generation of another version is refused at
/// open and must be rebuilt.
pub const SCHEMA_VERSION: u32 = 12;

/// All indexes: the PostgreSQL uuid of the document, a raw string, stored and indexed so
/// that a document can be replaced with `delete_term`, and fast: documents equal in every
/// other respect are ordered by id, read from the column while collecting them.
pub const ID: &str = "id";

/// Records and works: the title, exact words ([`TEXT_ANALYZER`]), stored.
pub const TITLE: &str = "title";
/// Records and works: the title, stemmed ([`TEXT_STEM_ANALYZER`]), not stored; boost
/// [`TITLE`] above it so that an exact word outranks a stemmed one.
pub const TITLE_STEM: &str = "title_stem";
/// Records and works: one value per author name ([`NAME_ANALYZER`]), in order, stored.
pub const AUTHORS: &str = "authors";
/// Records: other forms of the authors' names given by the source ([`NAME_ANALYZER`]).
pub const AUTHOR_NAME_VARIANTS: &str = "author_name_variants";
/// Records: the surname keys of every author ([`analyzers::AuthorKeys::surnames`]), raw
/// tokens, not stored: candidate retrieval walks them for typos.
pub const AUTHOR_SURNAMES: &str = "author_surnames";
/// Records: the author pairs of every author (`smith|j`, see [`analyzers::AuthorKeys`]),
/// raw tokens, not stored: candidate retrieval finds the authors a name may denote by them.
pub const AUTHOR_KEYS: &str = "author_keys";
/// Records: the candidate view ([`super::candidate_view`]): the id and each author with its
/// surname keys, a `u64` fast field of its words ([`super::candidate_view::ViewColumn`])
/// read by candidate retrieval instead of the stored document.
pub const CANDIDATE_VIEW: &str = "candidate_view";
/// Records: the search view ([`super::search_view`]): the values a search reads of every
/// candidate it ranks, a `u64` fast field of its words read instead of the stored
/// document. Its fields ([`search_view_fields`]) are not stored.
pub const SEARCH_VIEW: &str = "search_view";
/// Works: every name form the authors' profiles are known by ([`NAME_ANALYZER`]).
pub const AUTHOR_NAME_FORMS: &str = "author_name_forms";
/// Works: the uuids of the authors' profiles, raw strings.
pub const AUTHOR_IDS: &str = "author_ids";
/// Records and works: journal, proceedings or repository ([`TEXT_ANALYZER`]).
pub const VENUE: &str = "venue";
/// Records and works: publication year, fast `i64`.
pub const YEAR: &str = "year";
/// Works: publication date, fast date.
pub const PUBLICATION_DATE: &str = "publication_date";
/// Records and works: the DOI, lowercase without resolver ([`KEYWORD_ANALYZER`]).
pub const DOI: &str = "doi";
/// Resolver prefixes a DOI may be written with, lowercase; [`DOI`] holds DOIs without them.
pub const DOI_PREFIXES: [&str; 5] = [
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi:",
];
/// Records and profiles: other identifiers ([`KEYWORD_ANALYZER`]): OpenAlex, PubMed, arXiv,
/// HAL ids, ISSN and ISBN of records; Scopus, ResearcherID… of profiles.
pub const IDENTIFIERS: &str = "identifiers";
/// Records and works: ORCID iDs of the authors ([`KEYWORD_ANALYZER`]).
pub const ORCIDS: &str = "orcids";
/// Records: the source (`openalex`, `crossref`, `hal`, `orcid`, `dblp`, `acm`), fast raw
/// string.
pub const SOURCE: &str = "source";
/// Records: the record's identifier within its source, raw string.
pub const SOURCE_ID: &str = "source_id";
/// Records and works: the work type as the source names it, fast raw string.
pub const TYPE: &str = "type";
/// Records: language code, fast raw string.
pub const LANGUAGE: &str = "language";
/// Records: verification state for librarians, fast raw string: one of [`STATES`].
pub const STATE: &str = "state";
/// Records: when the version was imported, fast date.
pub const FETCHED_AT: &str = "fetched_at";
/// Records: checksum of the version's canonical JSON, raw string.
pub const CHECKSUM: &str = "checksum";
/// Records: the original JSON as text, stored and not indexed, for display. Kept as text
/// because tantivy's JSON values turn date-like strings into dates, which would change
/// what is shown.
pub const DATA: &str = "data";
/// Works: number of raw records merged into the work, fast `u64`.
pub const MERGED_FROM_COUNT: &str = "merged_from_count";
/// Works: `auto` or `manual`, fast raw string.
pub const MERGE_STATUS: &str = "merge_status";
/// Works and profiles: last change of the row, fast date.
pub const UPDATED_AT: &str = "updated_at";
/// Profiles: the display name ([`NAME_ANALYZER`]), stored.
pub const NAME: &str = "name";
/// Profiles: every name form of the profile, the display name included ([`NAME_ANALYZER`]).
pub const NAMES: &str = "names";
/// Profiles: the primary ORCID iD ([`KEYWORD_ANALYZER`]), also a fast raw string.
pub const ORCID: &str = "orcid";
/// Profiles: the institution ([`TEXT_ANALYZER`]).
pub const INSTITUTION: &str = "institution";
/// Profiles: affiliations ([`TEXT_ANALYZER`]).
pub const AFFILIATIONS: &str = "affiliations";
/// Profiles: every identity as a JSON object `{type: [values]}` text, stored only.
pub const IDENTITIES: &str = "identities";

/// Record verification states, the values of [`STATE`]: no candidate; pending or
/// uncertain candidates only; some candidate confirmed or auto-confirmed; every candidate
/// rejected.
pub const STATES: [&str; 4] = ["none", "pending", "confirmed", "rejected"];

/// Field handles of the `records` index.
#[derive(Debug)]
pub struct RecordsSchema {
    /// The schema.
    pub schema: Schema,
    pub(crate) id: Field,
    pub(crate) title: Field,
    pub(crate) title_stem: Field,
    pub(crate) authors: Field,
    pub(crate) author_name_variants: Field,
    pub(crate) author_surnames: Field,
    pub(crate) author_keys: Field,
    pub(crate) candidate_view: Field,
    pub(crate) search_view: Field,
    search_view_fields: Vec<Field>,
    pub(crate) venue: Field,
    pub(crate) year: Field,
    pub(crate) doi: Field,
    pub(crate) identifiers: Field,
    pub(crate) orcids: Field,
    pub(crate) source: Field,
    pub(crate) source_id: Field,
    pub(crate) work_type: Field,
    pub(crate) language: Field,
    pub(crate) state: Field,
    pub(crate) fetched_at: Field,
    pub(crate) checksum: Field,
    pub(crate) data: Field,
}

/// Field handles of the `works` index.
#[derive(Debug)]
pub struct WorksSchema {
    /// The schema.
    pub schema: Schema,
    pub(crate) id: Field,
    pub(crate) title: Field,
    pub(crate) title_stem: Field,
    pub(crate) authors: Field,
    pub(crate) author_name_forms: Field,
    pub(crate) author_ids: Field,
    pub(crate) orcids: Field,
    pub(crate) year: Field,
    pub(crate) publication_date: Field,
    pub(crate) work_type: Field,
    pub(crate) doi: Field,
    pub(crate) merged_from_count: Field,
    pub(crate) merge_status: Field,
    pub(crate) updated_at: Field,
}

/// Field handles of the `profiles` index.
#[derive(Debug)]
pub struct ProfilesSchema {
    /// The schema.
    pub schema: Schema,
    pub(crate) id: Field,
    pub(crate) name: Field,
    pub(crate) names: Field,
    pub(crate) orcid: Field,
    pub(crate) institution: Field,
    pub(crate) affiliations: Field,
    pub(crate) identifiers: Field,
    pub(crate) identities: Field,
    pub(crate) updated_at: Field,
}

/// Returns the schema of `kind`'s index.
pub fn schema(kind: IndexKind) -> &'static Schema {
    match kind {
        IndexKind::Records => &records().schema,
        IndexKind::Works => &works().schema,
        IndexKind::Profiles => &profiles().schema,
    }
}

/// Returns the [`ID`] field of `kind`'s index.
pub fn id_field(kind: IndexKind) -> Field {
    match kind {
        IndexKind::Records => records().id,
        IndexKind::Works => works().id,
        IndexKind::Profiles => profiles().id,
    }
}

/// Returns the fields of `kind`'s index kept in its search view ([`SEARCH_VIEW`]) rather
/// than stored: what a search reads of every candidate it ranks. Empty for the indexes
/// without a view, whose documents are small enough to read from the store.
pub fn search_view_fields(kind: IndexKind) -> &'static [Field] {
    match kind {
        IndexKind::Records => &records().search_view_fields,
        IndexKind::Works | IndexKind::Profiles => &[],
    }
}

/// Returns the `records` schema and its fields.
pub fn records() -> &'static RecordsSchema {
    static SCHEMA: OnceLock<RecordsSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut builder = Schema::builder();
        // The id, the searched texts and the sort values are kept in the search view only.
        let id = builder.add_text_field(ID, id_options());
        let title = builder.add_text_field(TITLE, text(TEXT_ANALYZER));
        let title_stem = builder.add_text_field(TITLE_STEM, text(TEXT_STEM_ANALYZER));
        let authors = builder.add_text_field(AUTHORS, text(NAME_ANALYZER));
        let author_name_variants =
            builder.add_text_field(AUTHOR_NAME_VARIANTS, text(NAME_ANALYZER));
        let author_surnames = builder.add_text_field(AUTHOR_SURNAMES, lookup_key());
        let author_keys = builder.add_text_field(AUTHOR_KEYS, lookup_key());
        let candidate_view = builder.add_u64_field(CANDIDATE_VIEW, FAST);
        let search_view = builder.add_u64_field(SEARCH_VIEW, FAST);
        let venue = builder.add_text_field(VENUE, text(TEXT_ANALYZER));
        let year = builder.add_i64_field(YEAR, fast_number());
        let doi = builder.add_text_field(DOI, keyword());
        let identifiers = builder.add_text_field(IDENTIFIERS, keyword());
        let orcids = builder.add_text_field(ORCIDS, keyword());
        let source = builder.add_text_field(SOURCE, facet_string());
        let source_id = builder.add_text_field(SOURCE_ID, STRING | STORED);
        let work_type = builder.add_text_field(TYPE, facet_string());
        let language = builder.add_text_field(LANGUAGE, facet_string());
        let state = builder.add_text_field(STATE, facet_string());
        let fetched_at = builder.add_date_field(FETCHED_AT, fast_date());
        let checksum = builder.add_text_field(CHECKSUM, STRING | STORED);
        let data = builder.add_text_field(DATA, STORED);
        RecordsSchema {
            schema: builder.build(),
            search_view_fields: vec![
                id,
                title,
                authors,
                author_name_variants,
                venue,
                year,
                doi,
                identifiers,
                orcids,
                fetched_at,
            ],
            id,
            title,
            title_stem,
            authors,
            author_name_variants,
            author_surnames,
            author_keys,
            candidate_view,
            search_view,
            venue,
            year,
            doi,
            identifiers,
            orcids,
            source,
            source_id,
            work_type,
            language,
            state,
            fetched_at,
            checksum,
            data,
        }
    })
}

/// Returns the `works` schema and its fields.
pub fn works() -> &'static WorksSchema {
    static SCHEMA: OnceLock<WorksSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut builder: SchemaBuilder = Schema::builder();
        let id = builder.add_text_field(ID, id_options().set_stored());
        let title = builder.add_text_field(TITLE, text(TEXT_ANALYZER).set_stored());
        let title_stem = builder.add_text_field(TITLE_STEM, text(TEXT_STEM_ANALYZER));
        let authors = builder.add_text_field(AUTHORS, text(NAME_ANALYZER).set_stored());
        let author_name_forms =
            builder.add_text_field(AUTHOR_NAME_FORMS, text(NAME_ANALYZER).set_stored());
        let author_ids = builder.add_text_field(AUTHOR_IDS, STRING | STORED);
        let orcids = builder.add_text_field(ORCIDS, keyword().set_stored());
        let year = builder.add_i64_field(YEAR, fast_number().set_stored());
        let publication_date = builder.add_date_field(PUBLICATION_DATE, fast_date().set_stored());
        let work_type = builder.add_text_field(TYPE, facet_string());
        let doi = builder.add_text_field(DOI, keyword().set_stored());
        let merged_from_count =
            builder.add_u64_field(MERGED_FROM_COUNT, fast_number().set_stored());
        let merge_status = builder.add_text_field(MERGE_STATUS, facet_string());
        let updated_at = builder.add_date_field(UPDATED_AT, fast_date().set_stored());
        WorksSchema {
            schema: builder.build(),
            id,
            title,
            title_stem,
            authors,
            author_name_forms,
            author_ids,
            orcids,
            year,
            publication_date,
            work_type,
            doi,
            merged_from_count,
            merge_status,
            updated_at,
        }
    })
}

/// Returns the `profiles` schema and its fields.
pub fn profiles() -> &'static ProfilesSchema {
    static SCHEMA: OnceLock<ProfilesSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut builder = Schema::builder();
        let id = builder.add_text_field(ID, id_options().set_stored());
        let name = builder.add_text_field(NAME, text(NAME_ANALYZER).set_stored());
        let names = builder.add_text_field(NAMES, text(NAME_ANALYZER).set_stored());
        let orcid = builder.add_text_field(ORCID, keyword().set_fast(None).set_stored());
        let institution = builder.add_text_field(INSTITUTION, text(TEXT_ANALYZER).set_stored());
        let affiliations = builder.add_text_field(AFFILIATIONS, text(TEXT_ANALYZER).set_stored());
        let identifiers = builder.add_text_field(IDENTIFIERS, keyword().set_stored());
        let identities = builder.add_text_field(IDENTITIES, STORED);
        let updated_at = builder.add_date_field(UPDATED_AT, fast_date().set_stored());
        ProfilesSchema {
            schema: builder.build(),
            id,
            name,
            names,
            orcid,
            institution,
            affiliations,
            identifiers,
            identities,
            updated_at,
        }
    })
}

/// Analyzed text with positions (phrases, highlighting), not stored.
fn text(analyzer: &str) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(analyzer)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    TextOptions::default().set_indexing_options(indexing)
}

/// A key computed at indexing, looked up exactly: one raw token per value, no frequencies,
/// no field norms, not stored.
fn lookup_key() -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer("raw")
        .set_index_option(IndexRecordOption::Basic)
        .set_fieldnorms(false);
    TextOptions::default().set_indexing_options(indexing)
}

/// An identifier: one folded token, not stored.
fn keyword() -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(KEYWORD_ANALYZER)
        .set_index_option(IndexRecordOption::Basic);
    TextOptions::default().set_indexing_options(indexing)
}

/// The id: a raw string, indexed and fast, not stored.
fn id_options() -> TextOptions {
    STRING.set_fast(None)
}

/// A facet: a raw string, indexed, fast and stored.
fn facet_string() -> TextOptions {
    (STRING | STORED).set_fast(None)
}

/// A number to filter and sort on: indexed and fast, not stored.
fn fast_number() -> NumericOptions {
    NumericOptions::default().set_indexed().set_fast()
}

/// A date to filter and sort on, to the microsecond as PostgreSQL keeps it.
fn fast_date() -> DateOptions {
    DateOptions::default()
        .set_indexed()
        .set_fast()
        .set_precision(DateTimePrecision::Microseconds)
}
