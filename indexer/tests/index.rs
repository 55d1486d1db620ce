//! The search indexes, built from a real PostgreSQL into real tantivy shards:
//!
//! 1. every source's real samples yield titles, authors, years, venues and identifiers;
//! 2. a build of all three indexes holds exactly PostgreSQL's documents, searchable, with
//!    each record's verification state, and verify then finds no drift;
//! 3. routing is stable and spreads documents evenly;
//! 4. searches keep answering while rebuilds switch generations and remove old ones;
//! 5. a generation of another schema version is refused, and a rebuild replaces it; a
//!    build refuses to start while another build of the index holds its lock;
//! 6. verify names the exact ids missing, extra or different after the index or the
//!    database changed behind the other's back;
//! 7. load_documents returns nothing for a superseded version, and the writer replaces
//!    documents and commits the feed position in every shard.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indexer::import::formats::Format;
use indexer::import::{import_files, ImportOptions};
use indexer::index::schema::{self, SCHEMA_VERSION};
use indexer::index::{
    self, shard_of, BuildOptions, IndexKind, RecordFields, ShardedIndex, ShardedWriter,
    VerifyOptions, MIN_SHARD_HEAP_NUM_BYTES,
};
use indexer::testing::TestDatabase;
use serde_json::Value;
use sqlx::PgPool;
use tantivy::collector::Count;
use tantivy::query::{QueryParser, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;
use uuid::Uuid;

const NUM_SHARDS: usize = 2;

fn samples_dir() -> PathBuf {
    std::env::var_os("ATLAS_SAMPLES_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    )
}

fn build_options() -> BuildOptions {
    BuildOptions {
        num_shards: NUM_SHARDS,
        writer_heap_num_bytes: NUM_SHARDS * MIN_SHARD_HEAP_NUM_BYTES,
        page_num_rows: 200,
        progress_bar: false,
    }
}

async fn import(pool: &PgPool, format: Format, paths: &[&str]) {
    let samples = samples_dir();
    let paths: Vec<PathBuf> = paths.iter().map(|path| samples.join(path)).collect();
    import_files(pool, format, &paths, &ImportOptions::default())
        .await
        .expect("import runs");
}

/// Imports every sample: all sources, ORCID profiles with their works.
async fn import_all_samples(pool: &PgPool) {
    import(pool, Format::Openalex, &["openalex"]).await;
    import(pool, Format::Crossref, &["crossref"]).await;
    import(pool, Format::Hal, &["hal"]).await;
    import(pool, Format::Orcid, &["orcid"]).await;
    import(
        pool,
        Format::DblpAcm,
        &["dblp-acm/dblp.csv", "dblp-acm/acm.csv"],
    )
    .await;
}

/// Imports a few dozen records of three sources and the ORCID profiles: enough for tests
/// of the machinery, small enough for debug builds.
async fn import_small_sample(pool: &PgPool) {
    import(
        pool,
        Format::Openalex,
        &["openalex/works-2024-schema.jsonl"],
    )
    .await;
    import(pool, Format::Hal, &["hal/search-api-response.json"]).await;
    import(pool, Format::Orcid, &["orcid/summaries/03X"]).await;
}

async fn count(pool: &PgPool, sql: &str) -> u64 {
    let num_rows: i64 = sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql);
    num_rows as u64
}

/// Creates two canonical works authored by the imported profiles.
async fn create_works(pool: &PgPool) -> Vec<Uuid> {
    let profiles: Vec<Uuid> =
        sqlx::query_scalar("select id from author_profiles order by id limit 2")
            .fetch_all(pool)
            .await
            .unwrap();
    assert!(!profiles.is_empty(), "the samples hold profiles");
    let mut works = Vec::new();
    for (position, title) in [
        "Streamwise streaks induced by bedload diffusion",
        "Forced dewetting on porous media",
    ]
    .into_iter()
    .enumerate()
    {
        let work: Uuid = sqlx::query_scalar(
            "insert into canonical_works (title, publication_date, type, primary_doi, merged_from)
             values ($1, date '2019-03-25', 'article', $2, '[\"a\", \"b\"]') returning id",
        )
        .bind(title)
        .bind(format!("10.1017/TEST.{position}"))
        .fetch_one(pool)
        .await
        .unwrap();
        for (author_position, profile) in profiles.iter().enumerate() {
            sqlx::query(
                "insert into work_authorships (work_id, profile_id, position) values ($1, $2, $3)",
            )
            .bind(work)
            .bind(profile)
            .bind(author_position as i32)
            .execute(pool)
            .await
            .unwrap();
        }
        works.push(work);
    }
    works
}

/// Gives three current records candidates with the given statuses; returns their ids.
async fn create_candidates(pool: &PgPool, statuses: &[&[&str]]) -> Vec<Uuid> {
    let records: Vec<Uuid> =
        sqlx::query_scalar("select id from current_raw_records order by id limit $1")
            .bind(statuses.len() as i64)
            .fetch_all(pool)
            .await
            .unwrap();
    let profiles: Vec<Uuid> = sqlx::query_scalar("select id from author_profiles order by id")
        .fetch_all(pool)
        .await
        .unwrap();
    for (record, record_statuses) in records.iter().zip(statuses) {
        for (profile, status) in profiles.iter().zip(record_statuses.iter()) {
            sqlx::query(
                "insert into candidate_matches
                     (raw_record_id, profile_id, entity_type, match_score, status)
                 values ($1, $2, 'work', 0.5, $3)",
            )
            .bind(record)
            .bind(profile)
            .bind(status)
            .execute(pool)
            .await
            .unwrap();
        }
    }
    records
}

/// Returns the number of documents of all shards matching `query` on `field_name`.
fn search(index: &ShardedIndex, field_name: &str, query: &str) -> usize {
    let schema = schema::schema(index.kind());
    let field = schema.get_field(field_name).unwrap();
    index
        .shards()
        .iter()
        .map(|shard| {
            let parser = QueryParser::for_index(&shard.index, vec![field]);
            let query = parser.parse_query(query).expect("query parses");
            shard
                .reader
                .searcher()
                .search(&query, &Count)
                .expect("search runs")
        })
        .sum()
}

/// Returns the number of documents whose raw string `field_name` is exactly `value`.
fn count_term(index: &ShardedIndex, field_name: &str, value: &str) -> usize {
    let field = schema::schema(index.kind()).get_field(field_name).unwrap();
    let query = TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    );
    index
        .shards()
        .iter()
        .map(|shard| shard.reader.searcher().search(&query, &Count).unwrap())
        .sum()
}

fn open(dir: &Path, kind: IndexKind) -> ShardedIndex {
    ShardedIndex::open_current(dir, kind)
        .expect("index opens")
        .expect("index exists")
}

/// Extracts the fields of every record of `source` in PostgreSQL.
async fn extract_all(pool: &PgPool, source: &str) -> Vec<(String, RecordFields)> {
    let rows: Vec<(String, Value)> = sqlx::query_as(
        "select source_id, data from current_raw_records where source = $1 order by source_id",
    )
    .bind(source)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(source_id, data)| (source_id, RecordFields::extract(source, &data)))
        .collect()
}

/// Whether extracted fields have a given field.
type FieldCheck = fn(&RecordFields) -> bool;

/// Fails naming the source and field when fewer than `min_share` of the records have it.
fn assert_share(
    source: &str,
    field: &str,
    records: &[(String, RecordFields)],
    min_share: f64,
    has: FieldCheck,
) {
    let num_with = records.iter().filter(|(_, fields)| has(fields)).count();
    let share = num_with as f64 / records.len() as f64;
    assert!(
        share >= min_share,
        "{source}: only {num_with} of {} records have a {field} (expected at least {:.0}%)",
        records.len(),
        min_share * 100.0
    );
}

#[tokio::test]
async fn every_source_yields_its_fields_from_the_real_samples() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    import_all_samples(pool).await;

    let has_title: FieldCheck = |fields| fields.title.is_some();
    let has_authors: FieldCheck = |fields| !fields.authors.is_empty();
    let has_year: FieldCheck = |fields| fields.year.is_some();
    let has_venue: FieldCheck = |fields| fields.venue.is_some();
    let has_doi: FieldCheck = |fields| fields.doi.is_some();
    // (source, field, minimum share of records having it): what each source gives for
    // nearly every record in these samples.
    let expectations: [(&str, &str, f64, FieldCheck); 20] = [
        ("openalex", "title", 0.99, has_title),
        ("openalex", "author", 0.95, has_authors),
        ("openalex", "year", 1.0, has_year),
        ("openalex", "venue", 0.25, has_venue),
        ("openalex", "doi", 0.5, has_doi),
        ("crossref", "title", 0.95, has_title),
        ("crossref", "author", 0.7, has_authors),
        ("crossref", "year", 0.9, has_year),
        ("crossref", "doi", 1.0, has_doi),
        ("hal", "title", 1.0, has_title),
        ("hal", "author", 1.0, has_authors),
        ("hal", "year", 1.0, has_year),
        ("hal", "doi", 0.8, has_doi),
        ("orcid", "title", 0.99, has_title),
        ("orcid", "author", 1.0, has_authors),
        ("orcid", "year", 0.8, has_year),
        ("dblp", "venue", 1.0, has_venue),
        ("dblp", "year", 1.0, has_year),
        ("acm", "author", 0.99, has_authors),
        ("acm", "title", 1.0, has_title),
    ];
    let mut by_source: HashMap<&str, Vec<(String, RecordFields)>> = HashMap::new();
    for (source, field, min_share, has) in expectations {
        if !by_source.contains_key(source) {
            by_source.insert(source, extract_all(pool, source).await);
        }
        let records = &by_source[source];
        assert!(!records.is_empty(), "{source}: no records imported");
        assert_share(source, field, records, min_share, has);
    }

    let find = |source: &str, source_id: &str| -> RecordFields {
        by_source[source]
            .iter()
            .find(|(id, _)| id == source_id)
            .unwrap_or_else(|| panic!("{source} record `{source_id}` imported"))
            .1
            .clone()
    };

    let collingwood = by_source["openalex"]
        .iter()
        .find(|(_, fields)| {
            fields
                .authors
                .iter()
                .any(|author| author == "Patricia Collingwood")
        })
        .expect("the 2024 OpenAlex sample names Patricia Collingwood")
        .1
        .clone();
    assert_eq!(
        collingwood.author_name_variants,
        ["Patricia Maree Collingwood"],
        "raw author name kept"
    );
    assert!(collingwood
        .orcids
        .contains(&"0000-0003-3086-4443".to_owned()));
    assert_eq!(
        collingwood.venue.as_deref(),
        Some("The University of Queensland")
    );
    assert_eq!(collingwood.language.as_deref(), Some("en"));

    let streaks = find("hal", "hal-02001689");
    assert_eq!(
        streaks.title.as_deref(),
        Some("Streamwise streaks induced by bedload diffusion")
    );
    assert_eq!(
        streaks.authors,
        ["Anaïs Abramian", "Olivier Devauchelle", "Eric Lajeunesse"]
    );
    assert_eq!(streaks.venue.as_deref(), Some("Journal of Fluid Mechanics"));
    assert_eq!(
        (streaks.year, streaks.doi.as_deref()),
        (Some(2019), Some("10.1017/jfm.2018.1024"))
    );

    // Dublin Core converted from XML: `Family\n, \nGiven` creators and a DOI identifier.
    let wavelets = find("hal", "hal-00830421");
    assert_eq!(
        wavelets.authors.first().map(String::as_str),
        Some("Pereira, Rodrigo M.")
    );
    assert_eq!(wavelets.doi.as_deref(), Some("10.1103/physreve.87.033017"));
    assert_eq!(
        wavelets.venue.as_deref(),
        Some("Physical Review E : Statistical, Nonlinear, and Soft Matter Physics")
    );
    assert_eq!(wavelets.year, Some(2013));
    // BASE Dublin Core: the DOI only in the citation, the venue before its first `;`.
    let titan = find("hal", "hal-00845819");
    assert_eq!(titan.doi.as_deref(), Some("10.5047/eps.2013.05.019"));
    assert_eq!(titan.venue.as_deref(), Some("Earth, Planets and Space"));

    let orcid_work = by_source["orcid"]
        .iter()
        .find(|(source_id, _)| source_id.starts_with("0000-0003-4231-1897:"))
        .expect("Spinellis's works imported")
        .1
        .clone();
    assert_eq!(orcid_work.authors, ["Diomidis Spinellis"]);
    assert_eq!(orcid_work.orcids, ["0000-0003-4231-1897"]);

    let poosala = find("dblp", "conf/vldb/PoosalaI96");
    assert_eq!(
        poosala.authors,
        ["Viswanath Poosala", "Yannis E. Ioannidis"]
    );
    assert_eq!(
        (poosala.venue.as_deref(), poosala.year),
        (Some("VLDB"), Some(1996))
    );

    let with_orcid = by_source["crossref"]
        .iter()
        .filter(|(_, fields)| !fields.orcids.is_empty())
        .count();
    assert!(with_orcid > 0, "crossref authors' ORCIDs are read");
}

#[tokio::test]
async fn a_build_holds_exactly_the_documents_of_postgresql() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    import_all_samples(pool).await;
    let works = create_works(pool).await;
    let states = create_candidates(
        pool,
        &[
            &["pending", "rejected"],
            &["confirmed", "rejected"],
            &["rejected"],
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();

    let report = index::build(pool, dir.path(), &IndexKind::ALL, &build_options())
        .await
        .expect("build runs");

    let expected = [
        (
            IndexKind::Records,
            count(pool, "select count(*) from current_raw_records").await,
        ),
        (
            IndexKind::Works,
            count(pool, "select count(*) from canonical_works").await,
        ),
        (
            IndexKind::Profiles,
            count(pool, "select count(*) from author_profiles").await,
        ),
    ];
    for (kind, num_rows) in expected {
        let built = report
            .indexes
            .iter()
            .find(|built| built.kind == kind)
            .unwrap();
        assert_eq!(built.num_docs, num_rows, "{kind}: documents built");
        let index = open(dir.path(), kind);
        assert_eq!(index.num_docs(), num_rows, "{kind}: documents searchable");
        assert_eq!(index.num_shards(), NUM_SHARDS);
        assert_eq!(
            index.positions(),
            vec![Some(report.position.clone()); NUM_SHARDS],
            "{kind}: positions"
        );
        assert_eq!(index.meta().schema_version, SCHEMA_VERSION);
        assert!(built.size_num_bytes > 0);
        for shard in index.shards() {
            let num_segments = shard.index.searchable_segment_ids().unwrap().len();
            assert!(
                num_segments <= 1,
                "{kind}: {num_segments} segments in a shard"
            );
        }
    }

    let records = open(dir.path(), IndexKind::Records);
    assert!(search(&records, schema::TITLE, "streamwise streaks") >= 1);
    assert!(search(&records, schema::AUTHORS, "Devauchelle") >= 5);
    assert_eq!(
        search(&records, schema::DOI, "\"10.1017/JFM.2018.1024\""),
        1,
        "DOI is a keyword, any case"
    );
    assert_eq!(count_term(&records, schema::SOURCE, "hal"), 41);
    assert_eq!(count_term(&records, schema::STATE, "pending"), 1);
    assert_eq!(count_term(&records, schema::STATE, "confirmed"), 1);
    assert_eq!(count_term(&records, schema::STATE, "rejected"), 1);
    let num_records = usize::try_from(records.num_docs()).unwrap();
    assert_eq!(
        count_term(&records, schema::STATE, "none"),
        num_records - states.len()
    );

    let works_index = open(dir.path(), IndexKind::Works);
    assert_eq!(search(&works_index, schema::TITLE, "dewetting"), 1);
    assert_eq!(
        count_term(&works_index, schema::ID, &works[0].to_string()),
        1
    );
    let profiles = open(dir.path(), IndexKind::Profiles);
    assert_eq!(search(&profiles, schema::NAMES, "Spinellis"), 1);

    let verified = index::verify(pool, dir.path(), &IndexKind::ALL, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(
        !verified.has_drift(),
        "no drift right after a build: {verified:?}"
    );
}

#[test]
fn routing_is_stable_and_balanced() {
    let num_shards = 4;
    let num_docs = 20_000;
    let mut per_shard = vec![0_usize; num_shards];
    for _ in 0..num_docs {
        let doc_id = Uuid::now_v7();
        let shard = shard_of(doc_id, num_shards);
        assert_eq!(shard, shard_of(doc_id, num_shards), "same uuid, same shard");
        assert_eq!(shard_of(doc_id, 1), 0);
        per_shard[shard] += 1;
    }
    let expected = num_docs / num_shards;
    for (shard, num_shard_docs) in per_shard.iter().enumerate() {
        let deviation = (*num_shard_docs as f64 - expected as f64).abs() / expected as f64;
        assert!(
            deviation < 0.05,
            "shard {shard} holds {num_shard_docs} of {num_docs} documents"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_keep_answering_while_rebuilds_switch_generations() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    import_small_sample(pool).await;
    let dir = tempfile::tempdir().unwrap();
    index::build(pool, dir.path(), &[IndexKind::Records], &build_options())
        .await
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let searcher = {
        let stop = Arc::clone(&stop);
        let dir = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let mut index = open(&dir, IndexKind::Records);
            let mut generations_seen = vec![index.generation().to_owned()];
            let mut num_searches = 0;
            while !stop.load(Ordering::Relaxed) || num_searches == 0 {
                if index
                    .reopen_if_switched()
                    .expect("reopening the current generation works")
                {
                    generations_seen.push(index.generation().to_owned());
                }
                assert!(
                    search(&index, schema::TITLE, "streamwise") >= 1,
                    "a search found nothing"
                );
                num_searches += 1;
            }
            (num_searches, generations_seen)
        })
    };

    // Each rebuild removes the generation before the previous one, which the searching
    // thread may still hold, and which `held_since_first` does hold.
    let held_since_first = open(dir.path(), IndexKind::Records);
    for _ in 0..3 {
        index::build(pool, dir.path(), &[IndexKind::Records], &build_options())
            .await
            .unwrap();
    }
    assert_eq!(open(dir.path(), IndexKind::Records).generation(), "gen-4");
    let first_dir = index::generation_dir(dir.path(), IndexKind::Records, 1);
    assert!(!first_dir.exists(), "generation 1 was removed");
    assert_eq!(held_since_first.generation(), "gen-1");
    assert!(
        search(&held_since_first, schema::TITLE, "streamwise") >= 1,
        "a removed generation still answers from its open files"
    );
    stop.store(true, Ordering::Relaxed);
    let (num_searches, generations_seen) =
        searcher.join().expect("the searching thread never failed");
    assert!(num_searches > 0);
    assert_eq!(generations_seen.first().map(String::as_str), Some("gen-1"));

    let root = index::index_root(dir.path(), IndexKind::Records);
    let mut on_disk: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("gen-"))
        .collect();
    on_disk.sort();
    assert_eq!(
        on_disk,
        ["gen-3", "gen-4"],
        "the current and the previous generation stay"
    );
}

#[tokio::test]
async fn a_rebuild_replaces_a_generation_of_another_schema_version() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    import_small_sample(pool).await;
    let dir = tempfile::tempdir().unwrap();
    index::build(pool, dir.path(), &[IndexKind::Profiles], &build_options())
        .await
        .unwrap();

    // Make generation 1 look as if an older binary had built it.
    let meta_path =
        index::generation_dir(dir.path(), IndexKind::Profiles, 1).join(index::META_FILE);
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["schema_version"] = Value::from(SCHEMA_VERSION - 1);
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let refused = ShardedIndex::open_current(dir.path(), IndexKind::Profiles).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("rebuild it with `indexer build --index profiles`"),
        "{refused}"
    );

    index::build(pool, dir.path(), &[IndexKind::Profiles], &build_options())
        .await
        .unwrap();
    let rebuilt = open(dir.path(), IndexKind::Profiles);
    assert_eq!(rebuilt.generation(), "gen-2");
    assert_eq!(rebuilt.meta().schema_version, SCHEMA_VERSION);
    assert_eq!(
        rebuilt.num_docs(),
        count(pool, "select count(*) from author_profiles").await
    );
}

#[tokio::test]
async fn a_build_refuses_to_run_beside_another_build_of_the_same_index() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    import_small_sample(pool).await;
    let dir = tempfile::tempdir().unwrap();
    index::build(pool, dir.path(), &[IndexKind::Profiles], &build_options())
        .await
        .unwrap();

    // Another process building the profiles index holds its lock file.
    let lock_path = index::index_root(dir.path(), IndexKind::Profiles).join(index::BUILD_LOCK_FILE);
    let other_build = std::fs::File::options()
        .write(true)
        .open(&lock_path)
        .unwrap();
    other_build.try_lock().unwrap();

    let refused = index::build(
        pool,
        dir.path(),
        &[IndexKind::Records, IndexKind::Profiles],
        &build_options(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, indexer::Error::BuildBusy { index, .. } if index == "profiles"),
        "{refused}"
    );
    assert!(
        refused
            .to_string()
            .contains("being built by another process"),
        "{refused}"
    );
    // Nothing was built, not even the index that was free.
    assert_eq!(open(dir.path(), IndexKind::Profiles).generation(), "gen-1");
    assert_eq!(
        index::current_generation(dir.path(), IndexKind::Records).unwrap(),
        None
    );

    drop(other_build);
    let report = index::build(pool, dir.path(), &[IndexKind::Profiles], &build_options())
        .await
        .unwrap();
    assert_eq!(report.indexes[0].generation, "gen-2");
    assert_eq!(open(dir.path(), IndexKind::Profiles).generation(), "gen-2");
}

#[tokio::test]
async fn verify_names_the_ids_that_drifted() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    import_small_sample(pool).await;
    let dir = tempfile::tempdir().unwrap();
    index::build(pool, dir.path(), &[IndexKind::Records], &build_options())
        .await
        .unwrap();
    let record_ids: Vec<Uuid> =
        sqlx::query_scalar("select id from current_raw_records order by id")
            .fetch_all(pool)
            .await
            .unwrap();

    // Drift in the index: a document deleted from its shard.
    let removed = record_ids[0];
    let mut writer = ShardedWriter::open_current(
        dir.path(),
        IndexKind::Records,
        NUM_SHARDS * MIN_SHARD_HEAP_NUM_BYTES,
    )
    .unwrap()
    .unwrap();
    writer.delete(removed).unwrap();
    writer.commit("0:0:").unwrap();
    drop(writer);

    // Drift in the database: a new version of a record, and a candidate for another.
    let superseded = record_ids[1];
    let new_version: Uuid = sqlx::query_scalar(
        "insert into raw_records (source, source_id, entity_type, data, checksum)
         select source, source_id, entity_type, data || '{\"title\": \"Changed\"}', 'changed'
           from raw_records where id = $1
         returning id",
    )
    .bind(superseded)
    .fetch_one(pool)
    .await
    .unwrap();
    let with_candidate = create_candidates(pool, &[&[], &[], &["confirmed"]]).await[2];

    let report = index::verify(
        pool,
        dir.path(),
        &[IndexKind::Records],
        &VerifyOptions::default(),
    )
    .await
    .unwrap();
    assert!(report.has_drift());
    let records = &report.indexes[0];
    let mut missing = records.missing.clone();
    missing.sort();
    let mut expected_missing = vec![removed, new_version];
    expected_missing.sort();
    assert_eq!(
        missing, expected_missing,
        "deleted from the index, and the new version"
    );
    assert_eq!(
        records.extra,
        [superseded],
        "the superseded version is still indexed"
    );
    assert_eq!(records.differing, [with_candidate], "its state changed");
    assert_eq!(
        (
            records.num_missing,
            records.num_extra,
            records.num_differing
        ),
        (2, 1, 1)
    );
    let differing_shards = records
        .shards
        .iter()
        .filter(|shard| !shard.matches())
        .count();
    assert!(differing_shards >= 1);
}

#[tokio::test]
async fn load_documents_follows_current_versions_and_the_writer_commits_positions() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    import_small_sample(pool).await;
    let works = create_works(pool).await;
    let dir = tempfile::tempdir().unwrap();
    index::build(pool, dir.path(), &IndexKind::ALL, &build_options())
        .await
        .unwrap();

    let (first_version, source_id): (Uuid, String) = sqlx::query_as(
        "select id, source_id from current_raw_records where source = 'hal' order by id limit 1",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let second_version: Uuid = sqlx::query_scalar(
        "insert into raw_records (source, source_id, entity_type, data, checksum)
         values ('hal', $1, 'work', '{\"title_s\": [\"Second version of the record\"]}', 'v2')
         returning id",
    )
    .bind(&source_id)
    .fetch_one(pool)
    .await
    .unwrap();
    let unknown = Uuid::now_v7();

    let mut transaction = pool.begin().await.unwrap();
    sqlx::query("set transaction isolation level repeatable read")
        .execute(&mut *transaction)
        .await
        .unwrap();
    let ids = [first_version, second_version, unknown];
    let loaded = index::load_documents(&mut transaction, IndexKind::Records, &ids)
        .await
        .unwrap();
    let loaded_ids: Vec<Uuid> = loaded.iter().map(|(doc_id, _)| *doc_id).collect();
    assert_eq!(loaded_ids, ids, "one entry per id, in order");
    let present: Vec<bool> = loaded
        .iter()
        .map(|(_, document)| document.is_some())
        .collect();
    assert_eq!(
        present,
        [false, true, false],
        "only the current version is a document"
    );
    let loaded_works = index::load_documents(&mut transaction, IndexKind::Works, &works)
        .await
        .unwrap();
    assert!(loaded_works.iter().all(|(_, document)| document.is_some()));
    transaction.commit().await.unwrap();

    // Apply the change as the follower would: replace, delete, commit with a position.
    let mut records = open(dir.path(), IndexKind::Records);
    let num_docs_before = records.num_docs();
    let mut writer = ShardedWriter::open(&records, NUM_SHARDS * MIN_SHARD_HEAP_NUM_BYTES).unwrap();
    for (doc_id, document) in loaded {
        match document {
            Some(document) => writer.upsert(doc_id, document).unwrap(),
            None => writer.delete(doc_id).unwrap(),
        }
    }
    writer.commit("1000:1000:").unwrap();
    records.reload().unwrap();
    assert_eq!(
        records.num_docs(),
        num_docs_before,
        "a version replaced its predecessor"
    );
    let num_segments = |index: &ShardedIndex| -> Vec<usize> {
        index
            .shards()
            .iter()
            .map(|shard| shard.index.searchable_segment_ids().unwrap().len())
            .collect()
    };
    assert!(
        num_segments(&records).iter().any(|&num| num > 1),
        "the commit added a segment beside the build's: {:?}",
        num_segments(&records)
    );
    writer.merge_into_one_segment().unwrap();
    records.reload().unwrap();
    assert_eq!(num_segments(&records), vec![1; NUM_SHARDS]);
    assert_eq!(
        records.num_docs(),
        num_docs_before,
        "merging keeps every document"
    );
    assert_eq!(search(&records, schema::TITLE, "\"second version\""), 1);
    assert_eq!(
        count_term(&records, schema::ID, &first_version.to_string()),
        0
    );
    assert_eq!(
        records.positions(),
        vec![Some("1000:1000:".to_owned()); NUM_SHARDS]
    );

    let report = index::verify(
        pool,
        dir.path(),
        &[IndexKind::Records],
        &VerifyOptions::default(),
    )
    .await
    .unwrap();
    assert!(
        !report.has_drift(),
        "the follower's way of applying changes leaves no drift: {report:?}"
    );
    let generations: BTreeMap<_, _> = IndexKind::ALL
        .into_iter()
        .map(|kind| (kind, index::current_generation(dir.path(), kind).unwrap()))
        .collect();
    assert!(generations
        .values()
        .all(|generation| generation.as_deref() == Some("gen-1")));
}
