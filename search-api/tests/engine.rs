//! The search engine over real indexes: a migrated throwaway PostgreSQL database gets real
//! samples (OpenAlex, HAL, ORCID profiles with their works, a slice of DBLP-ACM) and a few
//! records written for the behaviours users expect of name and title search; the indexer
//! builds them into 2 shards (and 1 shard, to compare), and the engine searches them.
//!
//! Properties checked outside the ranking module:
//!
//! 1. filters, facets, sort and pagination give the same answers on 2 shards as on 1;
//! 2. filters follow Meilisearch's semantics (numbers against strings, case, `NOT`, `IN`,
//!    `EXISTS`, `IS EMPTY`);
//! 3. highlighting, cropping and match positions mark whole original words (the typed
//!    part of a prefix match), in bytes;
//! 4. documents, stats and the index list describe what PostgreSQL holds;
//! 5. a DBLP title finds the ACM record of the same paper for most true pairs;
//! 6. candidate retrieval finds the works of ORCID profiles by ORCID, name and title;
//! 7. a search past its deadline answers the hits gathered, marked degraded, or
//!    `search_time_budget_exceeded` naming its budget when it gathered nothing.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indexer::import::formats::Format;
use indexer::import::{import_files, ImportOptions};
use indexer::index::{self, BuildOptions, IndexKind, MIN_SHARD_HEAP_NUM_BYTES};
use indexer::testing::TestDatabase;
use search_api::engine::{CandidateProfile, CandidateRequest, Engine, MatchKind};
use search_api::params::{
    DocumentsFetchRequest, IndexCapabilities, MultiSearchRequest, SearchQuery, Settings,
    ValidatedSearch,
};
use search_api::response::{FederatedSearchResponse, HitsInfo, SearchResponse};
use search_api::Code;
use serde_json::{json, Value};
use sqlx::PgPool;

/// Pairs of the DBLP-ACM benchmark imported: enough for a rate, small for debug builds.
const NUM_DBLP_ACM_PAIRS: usize = 150;

/// Records written for the expected behaviours: title, authors (comma-separated), year.
const OWN_RECORDS: &[(&str, &str, &str, u16)] = &[
    (
        "own-coelacanth",
        "Cœlacanthe : un poisson fossile vivant",
        "Marie Durán",
        2001,
    ),
    (
        "own-aesthetic",
        "Æsthetic computing",
        "Paul A. Fishwick",
        2006,
    ),
    ("own-ligature", "Eﬃcient ﬁeld theory", "Kim Linßen", 2010),
    (
        "own-linssen",
        "Lattice gauge simulations",
        "Jan Linssen",
        2011,
    ),
    (
        "own-waermeschutz",
        "Wärmeschutz im Hochbau",
        "Hans Müller",
        1999,
    ),
    (
        "own-mueller",
        "Thermal insulation of timber buildings",
        "Anna Mueller",
        2005,
    ),
    (
        "own-muller",
        "Heat transfer in solids",
        "Peter Muller",
        2007,
    ),
    ("own-duran", "Galaxy rotation curves", "Luis Duran", 2015),
    (
        "own-crichton",
        "On sleep deprivation",
        "James Crichton-Browne",
        1880,
    ),
    (
        "own-rojas",
        "Volcanic ash deposits of the Andes",
        "Carlos Rojas-Vega",
        2018,
    ),
    (
        "own-smith-john",
        "Quantum error correction",
        "John Q. Smith",
        2019,
    ),
    (
        "own-smith-james",
        "Classical error correction",
        "James Smith",
        2019,
    ),
    (
        "own-obrien-apostrophe",
        "Irish migration patterns",
        "Mary O'Brien",
        2012,
    ),
    (
        "own-obrien-joined",
        "Coastal erosion models",
        "Sean OBrien",
        2013,
    ),
    (
        "own-obrien-apart",
        "Peat bog chemistry",
        "Liam O Brien",
        2014,
    ),
    (
        "own-attention",
        "Attention is all you need",
        "Ashish Vaswani, Noam Shazeer",
        2017,
    ),
    (
        "own-photosynthesis",
        "Photosynthesis in green algae",
        "Ines Okafor",
        2016,
    ),
    ("own-cat", "The cat genome", "Ruth Abara", 2012),
    ("own-car", "The car engine", "Tom Ebert", 2012),
    (
        "own-crystal",
        "Crystal growth kinetics",
        "Olga Petrova",
        2010,
    ),
    ("own-cristal", "Cristal growth in gels", "Ivan Petrov", 2010),
    ("own-cells", "Stem cells in regeneration", "Ana Lima", 2020),
    ("own-cell", "Cell biology of yeast", "Rui Costa", 2020),
    (
        "own-greek-script",
        "Η οικονομία της Θεσσαλίας",
        "Γεώργιος Παπαδόπουλος",
        2003,
    ),
    (
        "own-greek-latin",
        "Byzantine lead seals",
        "Georgios Papadopoulos",
        2008,
    ),
    (
        "own-cyrillic-script",
        "Теория групп и её приложения",
        "Сергей Иванов",
        1998,
    ),
];

struct Fixture {
    two_shards: Engine,
    one_shard: Engine,
    /// `(dblp title, acm source id)` of the imported true pairs.
    dblp_acm_pairs: Vec<(String, String)>,
    /// ORCID profiles: `(orcid, name forms, titles of their works)`.
    profiles: Vec<(String, Vec<String>, Vec<String>)>,
    /// Records of each ORCID, as PostgreSQL holds them.
    records_by_orcid: BTreeMap<String, HashSet<String>>,
}

fn samples_dir() -> PathBuf {
    std::env::var_os("ATLAS_SAMPLES_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    )
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(build_fixture())
    })
}

async fn import(pool: &PgPool, format: Format, paths: &[PathBuf]) {
    import_files(pool, format, paths, &ImportOptions::default())
        .await
        .expect("import runs");
}

async fn build_fixture() -> Fixture {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let samples = samples_dir();
    let work_dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("engine-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir).expect("work dir");

    import(
        pool,
        Format::Openalex,
        &[samples.join("openalex/works-2024-schema.jsonl")],
    )
    .await;
    import(
        pool,
        Format::Hal,
        &[samples.join("hal/search-api-response.json")],
    )
    .await;
    import(pool, Format::Orcid, &[samples.join("orcid/summaries")]).await;
    let dblp_acm_pairs = write_dblp_acm_slice(&samples, &work_dir);
    import(
        pool,
        Format::DblpAcm,
        &[work_dir.join("dblp.csv"), work_dir.join("acm.csv")],
    )
    .await;
    insert_own_records(pool).await;
    let (profiles, records_by_orcid) = orcid_profiles(pool).await;

    let build = |num_shards: usize, name: &str| {
        let dir = work_dir.join(name);
        let options = BuildOptions {
            num_shards,
            writer_heap_num_bytes: num_shards * MIN_SHARD_HEAP_NUM_BYTES,
            page_num_rows: 500,
            progress_bar: false,
        };
        (dir, options)
    };
    let (two_dir, two_options) = build(2, "two-shards");
    let (one_dir, one_options) = build(1, "one-shard");
    index::build(pool, &two_dir, &IndexKind::ALL, &two_options)
        .await
        .expect("build of 2 shards");
    index::build(pool, &one_dir, &[IndexKind::Records], &one_options)
        .await
        .expect("build of 1 shard");
    Fixture {
        two_shards: Engine::open(&two_dir).expect("open 2 shards"),
        one_shard: Engine::open(&one_dir).expect("open 1 shard"),
        dblp_acm_pairs,
        profiles,
        records_by_orcid,
    }
}

/// Writes the first true pairs of DBLP-ACM, their records and as many unpaired records of
/// each side, and returns the pairs.
fn write_dblp_acm_slice(samples: &Path, work_dir: &Path) -> Vec<(String, String)> {
    let read = |name: &str| std::fs::read_to_string(samples.join("dblp-acm").join(name)).unwrap();
    let matches = read("matches.csv");
    let pairs: Vec<(String, String)> = matches
        .lines()
        .skip(1)
        .take(NUM_DBLP_ACM_PAIRS)
        .filter_map(|line| {
            let (dblp, acm) = line.split_once(',')?;
            Some((dblp.trim().to_owned(), acm.trim().to_owned()))
        })
        .collect();
    let mut titles = BTreeMap::new();
    for (side, wanted) in [
        (
            "dblp.csv",
            pairs
                .iter()
                .map(|pair| pair.0.clone())
                .collect::<HashSet<_>>(),
        ),
        (
            "acm.csv",
            pairs
                .iter()
                .map(|pair| pair.1.clone())
                .collect::<HashSet<_>>(),
        ),
    ] {
        let content = read(side);
        let mut lines = content.lines();
        let header = lines.next().unwrap();
        let mut kept = vec![header.to_owned()];
        let mut num_unpaired = 0;
        for line in lines {
            let id = line.split(',').next().unwrap_or_default();
            if wanted.contains(id) {
                kept.push(line.to_owned());
                titles.insert(id.to_owned(), csv_second_field(line));
            } else if num_unpaired < NUM_DBLP_ACM_PAIRS {
                kept.push(line.to_owned());
                num_unpaired += 1;
            }
        }
        std::fs::write(work_dir.join(side), kept.join("\n") + "\n").unwrap();
    }
    pairs
        .into_iter()
        .filter_map(|(dblp, acm)| Some((titles.get(&dblp)?.clone(), acm)))
        .collect()
}

/// Returns the second field of a CSV line (the title), unquoted.
fn csv_second_field(line: &str) -> String {
    let rest = line.split_once(',').map_or("", |(_, rest)| rest);
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut title = String::new();
        let mut chars = quoted.chars().peekable();
        while let Some(ch) = chars.next() {
            if ch == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    title.push('"');
                    continue;
                }
                break;
            }
            title.push(ch);
        }
        return title;
    }
    rest.split(',').next().unwrap_or_default().to_owned()
}

async fn insert_own_records(pool: &PgPool) {
    for (id, title, authors, year) in OWN_RECORDS {
        let data = json!({"id": id, "title": title, "authors": authors, "venue": "Atlas Test Venue", "year": year.to_string()});
        sqlx::query(
            "insert into raw_records (source, source_id, entity_type, data, checksum)
             values ('dblp', $1, 'work', $2, md5($2::text))",
        )
        .bind(id)
        .bind(&data)
        .execute(pool)
        .await
        .expect("insert own record");
    }
}

type Profiles = Vec<(String, Vec<String>, Vec<String>)>;

async fn orcid_profiles(pool: &PgPool) -> (Profiles, BTreeMap<String, HashSet<String>>) {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select primary_orcid, display_name from author_profiles where primary_orcid is not null
         order by primary_orcid",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut profiles = Vec::new();
    let mut records_by_orcid = BTreeMap::new();
    for (orcid, display_name) in rows {
        let records: Vec<(String, Option<String>)> = sqlx::query_as(
            "select id::text, data->>'title' from current_raw_records
             where source = 'orcid' and data::text like '%' || $1 || '%'",
        )
        .bind(&orcid)
        .fetch_all(pool)
        .await
        .unwrap();
        let titles = records
            .iter()
            .filter_map(|(_, title)| title.clone())
            .take(3)
            .collect();
        records_by_orcid.insert(
            orcid.clone(),
            records.into_iter().map(|(id, _)| id).collect(),
        );
        profiles.push((orcid, vec![display_name], titles));
    }
    (profiles, records_by_orcid)
}

fn settings(uid: &str) -> Settings {
    Engine::default_settings(uid).expect("known index")
}

fn validate(uid: &str, body: Value) -> ValidatedSearch {
    let capabilities = IndexCapabilities::from_settings(&settings(uid));
    let text = body.to_string();
    SearchQuery::from_json_value(body)
        .and_then(|query| query.validate(&capabilities))
        .unwrap_or_else(|error| panic!("{text} is valid: {error}"))
}

fn search_on(engine: &Engine, uid: &str, body: Value) -> SearchResponse {
    let text = body.to_string();
    let search = validate(uid, body);
    let deadline = Instant::now() + Duration::from_secs(30);
    engine
        .search(uid, &search, &settings(uid), deadline)
        .unwrap_or_else(|error| panic!("{text} runs: {error}"))
}

fn search(body: Value) -> SearchResponse {
    search_on(&fixture().two_shards, "records", body)
}

fn source_ids(response: &SearchResponse) -> Vec<String> {
    response
        .hits
        .iter()
        .map(|hit| {
            hit.document["source_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// Returns the rank of `source_id` among the hits of `q`, failing with the hits when absent.
fn rank_of(q: &str, source_id: &str) -> usize {
    let response = search(json!({"q": q, "limit": 50}));
    let ids = source_ids(&response);
    ids.iter()
        .position(|id| id == source_id)
        .unwrap_or_else(|| panic!("`{q}` should find `{source_id}`; found {ids:?}"))
}

fn finds(q: &str, source_id: &str) -> bool {
    source_ids(&search(json!({"q": q, "limit": 50})))
        .iter()
        .any(|id| id == source_id)
}

mod ranking {
    //! Properties of name and title search checked, one test each (the list of
    //! `DESIGN.md`):
    //!
    //! 1. folding: `coelac` finds "Cœlacanthe", `aesthetic` finds "Æsthetic", ligatures
    //!    fold;
    //! 2. `Linßen` and `Linssen` find the same people;
    //! 3. `Müller`, `Mueller` and `Muller` all find Müller;
    //! 4. `Duran` finds "Durán" and `Durán` finds "Duran";
    //! 5. highlighting marks the whole word "Wärmeschutz", or its typed prefix "Wärme";
    //! 6. `Crichton-Browne`, `Crichton` and `Browne` find the hyphenated name;
    //! 7. `Rojas Vega` finds "Rojas-Vega";
    //! 8. `Smith, John`, `John Smith`, `J. Smith` and `JQ Smith` find "John Q. Smith" first,
    //!    and "James Smith" does not match `John Smith` as well;
    //! 9. `O'Brien`, `OBrien` and `O Brien` find each other;
    //! 10. a typo in a long word is forgiven, none in a 3-letter word, and an exact match
    //!     ranks above a typo-corrected one and a stemmed one;
    //! 11. the last word is a prefix while typing.

    use super::*;

    #[test]
    fn coelac_finds_coelacanthe() {
        assert_eq!(rank_of("coelac", "own-coelacanth"), 0);
    }

    #[test]
    fn aesthetic_finds_ae_ligature() {
        assert_eq!(rank_of("aesthetic", "own-aesthetic"), 0);
        assert_eq!(rank_of("Æsthetic", "own-aesthetic"), 0);
    }

    #[test]
    fn ligatures_fold() {
        assert_eq!(rank_of("efficient field", "own-ligature"), 0);
        assert_eq!(rank_of("ﬁeld theory", "own-ligature"), 0);
    }

    #[test]
    fn linssen_and_linssen_find_the_same_people() {
        for q in ["Linßen", "Linssen", "LINSSEN"] {
            let ids = source_ids(&search(json!({"q": q})));
            assert!(
                ids.contains(&"own-ligature".to_owned()),
                "`{q}` finds Linßen: {ids:?}"
            );
            assert!(
                ids.contains(&"own-linssen".to_owned()),
                "`{q}` finds Linssen: {ids:?}"
            );
        }
    }

    #[test]
    fn mueller_muller_and_mueller_find_mueller() {
        for q in ["Müller", "Mueller", "Muller"] {
            assert!(finds(q, "own-waermeschutz"), "`{q}` finds Hans Müller");
        }
        assert!(
            finds("Müller", "own-mueller"),
            "`Müller` finds Anna Mueller"
        );
    }

    #[test]
    fn duran_finds_duran_both_ways() {
        for q in ["Duran", "Durán", "DURAN"] {
            assert!(finds(q, "own-coelacanth"), "`{q}` finds Marie Durán");
            assert!(finds(q, "own-duran"), "`{q}` finds Luis Duran");
        }
    }

    #[test]
    fn highlight_marks_the_whole_word_waermeschutz() {
        for (q, marked) in [
            ("Wärmeschutz", "Wärmeschutz"),
            ("warmeschutz", "Wärmeschutz"),
            ("wärme", "Wärme"),
        ] {
            let response = search(json!({
                "q": q,
                "filter": "source = dblp",
                "attributesToHighlight": ["title"],
                "showMatchesPosition": true,
            }));
            let hit = &response.hits[0];
            assert_eq!(hit.document["source_id"], "own-waermeschutz", "`{q}`");
            let formatted = hit.formatted.as_ref().unwrap();
            let rest = &"Wärmeschutz im Hochbau"[marked.len()..];
            assert_eq!(
                formatted["title"],
                format!("<em>{marked}</em>{rest}"),
                "`{q}`"
            );
            let positions = &hit.matches_position.as_ref().unwrap()["title"];
            assert_eq!((positions[0].start, positions[0].length), (0, marked.len()));
        }
    }

    #[test]
    fn highlight_marks_the_typed_part_of_a_hyphenated_word() {
        for (q, marked) in [
            ("Crichton", "<em>Crichton</em>-Browne"),
            ("Crich", "<em>Crich</em>ton-Browne"),
        ] {
            let response = search(json!({
                "q": q,
                "filter": "source = dblp",
                "attributesToHighlight": ["authors"],
            }));
            let hit = &response.hits[0];
            assert_eq!(hit.document["source_id"], "own-crichton", "`{q}`");
            let formatted = hit.formatted.as_ref().unwrap();
            assert_eq!(
                formatted["authors"],
                json!([format!("James {marked}")]),
                "`{q}`"
            );
        }
    }

    #[test]
    fn crichton_browne_finds_the_hyphenated_name() {
        for q in ["Crichton-Browne", "Crichton", "Browne", "crichton browne"] {
            assert_eq!(rank_of(q, "own-crichton"), 0, "`{q}`");
        }
    }

    #[test]
    fn rojas_vega_finds_rojas_hyphen_vega() {
        assert_eq!(rank_of("Rojas Vega", "own-rojas"), 0);
        assert_eq!(rank_of("Rojas-Vega", "own-rojas"), 0);
    }

    #[test]
    fn smith_name_forms_relate_as_a_librarian_expects() {
        for q in ["Smith, John", "John Smith", "JQ Smith", "John Q. Smith"] {
            assert_eq!(
                rank_of(q, "own-smith-john"),
                0,
                "`{q}` finds John Q. Smith first"
            );
        }
        // `J.` agrees with John and with James alike, and conflicts with `Robin J. Smith`
        // of the samples, whose first given name is another.
        let initial = source_ids(&search(json!({"q": "J. Smith", "limit": 50})));
        let first_two: HashSet<&str> = initial[..2].iter().map(String::as_str).collect();
        assert_eq!(
            first_two,
            HashSet::from(["own-smith-john", "own-smith-james"]),
            "{initial:?}"
        );
        let response = search(json!({"q": "John Smith", "showRankingScore": true, "limit": 50}));
        let score_of = |source_id: &str| {
            response
                .hits
                .iter()
                .find(|hit| hit.document["source_id"] == source_id)
                .and_then(|hit| hit.ranking_score)
        };
        let john = score_of("own-smith-john").unwrap();
        if let Some(james) = score_of("own-smith-james") {
            assert!(
                james < john,
                "James Smith {james} ranks below John Q. Smith {john}"
            );
        }
        let all_words = search(json!({"q": "John Smith", "matchingStrategy": "all"}));
        assert!(!source_ids(&all_words).contains(&"own-smith-james".to_owned()));
    }

    #[test]
    fn obrien_forms_find_each_other() {
        for q in ["O'Brien", "OBrien", "O Brien", "o’brien"] {
            let ids = source_ids(&search(json!({"q": q, "limit": 50})));
            for expected in [
                "own-obrien-apostrophe",
                "own-obrien-joined",
                "own-obrien-apart",
            ] {
                assert!(
                    ids.contains(&expected.to_owned()),
                    "`{q}` finds `{expected}`: {ids:?}"
                );
            }
        }
    }

    #[test]
    fn greek_and_cyrillic_names_find_their_latin_spellings() {
        for q in [
            "Papadopoulos",
            "Παπαδόπουλος",
            "Georgios Papadopoulos",
            "papadopulos",
        ] {
            for expected in ["own-greek-script", "own-greek-latin"] {
                assert!(finds(q, expected), "`{q}` finds `{expected}`");
            }
        }
        let mut ids = source_ids(&search(json!({"q": "Georgios Papadopoulos", "limit": 2})));
        ids.sort();
        assert_eq!(ids, ["own-greek-latin", "own-greek-script"]);
        for q in ["Ivanov", "Sergei Ivanov", "Sergey Ivanov", "Иванов"] {
            assert_eq!(rank_of(q, "own-cyrillic-script"), 0, "`{q}`");
        }
        // The romanized spelling is a name's: a Greek title word is not a Latin word.
        assert!(!finds("oikonomia", "own-greek-script"));
    }

    #[test]
    fn a_typo_in_a_long_word_is_forgiven() {
        assert_eq!(rank_of("photosinthesis", "own-photosynthesis"), 0);
        assert_eq!(rank_of("photosynthseis algae", "own-photosynthesis"), 0);
    }

    #[test]
    fn no_typo_in_a_three_letter_word() {
        let ids = source_ids(&search(json!({"q": "cat", "filter": "source = dblp"})));
        assert!(ids.contains(&"own-cat".to_owned()), "{ids:?}");
        assert!(
            !ids.contains(&"own-car".to_owned()),
            "`cat` must not find `car`: {ids:?}"
        );
    }

    #[test]
    fn an_exact_match_ranks_above_typo_and_stem() {
        let crystal = rank_of("crystal growth", "own-crystal");
        let cristal = rank_of("crystal growth", "own-cristal");
        assert!(crystal < cristal, "exact {crystal} above typo {cristal}");
        let cells = rank_of("cells", "own-cells");
        let cell = rank_of("cells", "own-cell");
        assert!(cells < cell, "exact {cells} above stemmed {cell}");
        let response = search(json!({"q": "crystal growth", "showRankingScore": true}));
        let scores: Vec<f64> = response
            .hits
            .iter()
            .filter_map(|hit| hit.ranking_score)
            .collect();
        assert!(
            scores.windows(2).all(|pair| pair[0] >= pair[1]),
            "{scores:?}"
        );
        assert!(scores.iter().all(|score| (0.0..=1.0).contains(score)));
    }

    #[test]
    fn the_last_word_is_a_prefix_while_typing() {
        assert_eq!(rank_of("attention is all y", "own-attention"), 0);
        assert_eq!(rank_of("attention is all you ne", "own-attention"), 0);
        assert!(
            !finds("\"attention is all y\"", "own-attention"),
            "a phrase is exact"
        );
    }
}

#[test]
fn two_shards_answer_as_one() {
    let fixture = fixture();
    let bodies = [
        json!({"q": "data", "limit": 7, "offset": 3}),
        json!({"q": "query optimization", "hitsPerPage": 5, "page": 2, "facets": ["source", "year"]}),
        json!({"q": "smith", "filter": "year >= 2000", "sort": ["year:desc"]}),
        json!({"filter": "source = dblp AND year >= 2010", "sort": ["year:desc"], "limit": 30}),
        json!({"facets": ["source", "type", "year", "language", "state"], "limit": 0}),
        json!({"q": "databse systems", "attributesToSearchOn": ["title"], "limit": 10}),
        json!({"q": "mining", "matchingStrategy": "all", "page": 1, "hitsPerPage": 3}),
    ];
    for body in bodies {
        let two = search_on(&fixture.two_shards, "records", body.clone());
        let one = search_on(&fixture.one_shard, "records", body.clone());
        assert_eq!(two.hits_info, one.hits_info, "totals of {body}");
        assert_eq!(source_ids(&two), source_ids(&one), "hits of {body}");
        assert_eq!(
            two.facet_distribution, one.facet_distribution,
            "facets of {body}"
        );
        assert_eq!(two.facet_stats, one.facet_stats, "facet stats of {body}");
    }
}

/// Returns the total a search reports, estimated or exact.
fn total_of(response: &SearchResponse) -> usize {
    match response.hits_info {
        HitsInfo::OffsetLimit {
            estimated_total_hits,
            ..
        } => estimated_total_hits,
        HitsInfo::Pages { total_hits, .. } => total_hits,
    }
}

/// A short page is answered from the documents matching the most words when enough of
/// them exist, without scoring every document holding the first word; a deep page
/// cannot be, and scores them all. Both must show the same first hits, totals and facets.
#[test]
fn a_short_page_answers_as_scoring_every_match() {
    let queries = [
        "data base",
        "query processing in",
        "the data",
        "database systems for",
        "a model of",
        "data mining -web",
    ];
    for q in queries {
        for filter in [None, Some("year >= 1995")] {
            let mut short = json!({"q": q, "limit": 5, "facets": ["source", "year"]});
            let mut deep = json!({"q": q, "limit": 1000, "facets": ["source", "year"]});
            if let Some(filter) = filter {
                short["filter"] = json!(filter);
                deep["filter"] = json!(filter);
            }
            let short_page = search(short);
            let deep_page = search(deep);
            let short_ids = source_ids(&short_page);
            assert_eq!(short_ids.len(), 5, "`{q}` ({filter:?}) fills a page");
            assert_eq!(
                short_ids,
                source_ids(&deep_page)[..5].to_vec(),
                "first hits of `{q}` ({filter:?})"
            );
            assert_eq!(
                total_of(&short_page),
                total_of(&deep_page),
                "total of `{q}` ({filter:?})"
            );
            assert!(
                total_of(&short_page) > 5,
                "`{q}` ({filter:?}) matches more than a page"
            );
            assert_eq!(
                short_page.facet_distribution, deep_page.facet_distribution,
                "facets of `{q}` ({filter:?})"
            );
        }
    }
}

/// A common name ties many candidates in the first stage; a short page stops ranking them
/// once no candidate left can reach it, a deep one ranks them all. Both must show the
/// same first hits, in both directions of the id order.
#[test]
fn a_short_page_of_a_common_name_answers_as_ranking_every_tie() {
    let queries = ["li", "j", "y", "x", "j smith", "a m", "m j"];
    for q in queries {
        for offset in [0, 3] {
            let short = search(json!({"q": q, "limit": 4, "offset": offset}));
            let deep = search(json!({"q": q, "limit": 1000}));
            let short_ids = source_ids(&short);
            assert_eq!(short_ids.len(), 4, "`{q}` fills a page");
            assert!(total_of(&deep) > 50, "`{q}` ties many documents");
            assert_eq!(
                short_ids,
                source_ids(&deep)[offset..offset + 4].to_vec(),
                "hits of `{q}` from {offset}"
            );
            assert_eq!(total_of(&short), total_of(&deep), "total of `{q}`");
        }
    }
}

/// With a sort rule before `words`, the first hits are the documents first in that
/// order, whatever the page size.
#[test]
fn a_value_rule_before_words_orders_the_first_hits() {
    let engine = &fixture().two_shards;
    let mut settings = settings("records");
    settings.ranking_rules = [
        "year:desc",
        "words",
        "typo",
        "proximity",
        "attribute",
        "exactness",
    ]
    .map(str::to_owned)
    .to_vec();
    let run = |body: Value| {
        let search = validate("records", body);
        let deadline = Instant::now() + Duration::from_secs(30);
        engine
            .search("records", &search, &settings, deadline)
            .expect("search runs")
    };
    let years = |response: &SearchResponse| -> Vec<Option<i64>> {
        response
            .hits
            .iter()
            .map(|hit| hit.document["year"].as_i64())
            .collect()
    };
    for q in ["data", "query processing", "database systems"] {
        let short = run(json!({"q": q, "limit": 3}));
        let deep = run(json!({"q": q, "limit": 1000}));
        let deep_years = years(&deep);
        assert!(deep_years.len() > 3, "`{q}` matches more than a page");
        assert!(
            deep_years.windows(2).all(|pair| pair[0] >= pair[1]),
            "`{q}` newest first: {deep_years:?}"
        );
        assert_eq!(years(&short), deep_years[..3].to_vec(), "years of `{q}`");
        assert_eq!(
            source_ids(&short),
            source_ids(&deep)[..3].to_vec(),
            "first hits of `{q}`"
        );
    }
}

/// A placeholder search orders by the settings' value rules and the request's `sort` in
/// the order the ranking rules list them.
#[test]
fn a_placeholder_search_follows_the_ranking_rules_order() {
    let engine = &fixture().two_shards;
    let mut settings = settings("records");
    settings.ranking_rules = ["year:desc", "words", "typo", "sort", "exactness"]
        .map(str::to_owned)
        .to_vec();
    let search = validate(
        "records",
        json!({"filter": "source = dblp", "sort": ["fetched_at:asc"], "limit": 1000}),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let response = engine
        .search("records", &search, &settings, deadline)
        .expect("search runs");
    let years: Vec<Option<i64>> = response
        .hits
        .iter()
        .map(|hit| hit.document["year"].as_i64())
        .collect();
    assert!(years.len() > 10, "{} hits", years.len());
    assert!(
        years.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest year first: {years:?}"
    );
}

/// Without ranking rules the hits of a search with words are in id order, and a short
/// page shows the first of them.
#[test]
fn no_ranking_rules_order_hits_by_id_at_every_page_size() {
    let engine = &fixture().two_shards;
    let mut settings = settings("records");
    settings.ranking_rules = Vec::new();
    let ids = |body: Value| -> Vec<String> {
        let search = validate("records", body);
        let deadline = Instant::now() + Duration::from_secs(30);
        engine
            .search("records", &search, &settings, deadline)
            .expect("search runs")
            .hits
            .iter()
            .map(|hit| hit.document["id"].as_str().unwrap().to_owned())
            .collect()
    };
    for q in ["data", "query processing", "databse"] {
        let deep = ids(json!({"q": q, "limit": 1000}));
        assert!(deep.len() > 10, "`{q}` matches more than a page");
        assert!(deep.windows(2).all(|pair| pair[0] < pair[1]), "`{q}` by id");
        for (offset, limit) in [(0, 3), (3, 4), (0, 10)] {
            assert_eq!(
                ids(json!({"q": q, "offset": offset, "limit": limit})),
                deep[offset..offset + limit].to_vec(),
                "`{q}` at {offset}+{limit}"
            );
        }
    }
}

/// A title of several words matches many documents by its first words only; the pages
/// of such a search, under every strategy that drops words, are slices of one page
/// holding them all: what a document holds past the words kept orders it the same way
/// whatever the page size.
#[test]
fn pages_of_a_title_matched_in_part_follow_one_another() {
    let searches = [
        ("data stream management", "last"),
        ("a model of learning", "last"),
        ("web data integration", "frequency"),
    ];
    for (q, strategy) in searches {
        let ids = |offset: usize, limit: usize| -> Vec<String> {
            let body = json!({
                "q": q, "matchingStrategy": strategy, "offset": offset, "limit": limit
            });
            search(body)
                .hits
                .iter()
                .map(|hit| hit.document["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let whole = ids(0, 200);
        assert_eq!(whole.len(), 200, "`{q}` ({strategy}) fills a page of 200");
        let paged: Vec<String> = (0..10).flat_map(|page| ids(page * 20, 20)).collect();
        assert_eq!(paged, whole, "`{q}` ({strategy}) in pages of 20");
        let halves: Vec<String> = ids(0, 100).into_iter().chain(ids(100, 100)).collect();
        assert_eq!(halves, whole, "`{q}` ({strategy}) in pages of 100");
    }
}

/// With `distinct` and words, pages are slices of one page holding them all.
#[test]
fn distinct_pages_with_words_follow_one_another() {
    for q in ["web", "data", "query"] {
        let ids = |body: Value| -> Vec<String> {
            search(body)
                .hits
                .iter()
                .map(|hit| hit.document["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let everything = ids(json!({"q": q, "distinct": "year", "limit": 1000}));
        assert!(everything.len() > 6, "`{q}`: {} years", everything.len());
        let paged: Vec<String> = (0..everything.len().div_ceil(5))
            .flat_map(|page| {
                ids(json!({"q": q, "distinct": "year", "offset": page * 5, "limit": 5}))
            })
            .collect();
        assert_eq!(paged, everything, "`{q}` in pages of 5");
    }
}

/// A title searched as written finds its record with a ranking score of exactly 1, so
/// that `rankingScoreThreshold: 1` keeps it: long titles, and titles whose hyphenated or
/// apostrophed words are indexed as their parts too.
#[test]
fn a_title_searched_as_written_scores_exactly_one() {
    let everything = search(json!({"limit": 1000, "attributesToRetrieve": ["id", "title"]}));
    let titles: Vec<(String, String)> = everything
        .hits
        .iter()
        .filter_map(|hit| {
            let title = hit.document["title"].as_str()?;
            let num_words = title.split_whitespace().count();
            let plain =
                !title.contains('"') && !title.split_whitespace().any(|word| word.starts_with('-'));
            let long_or_joined = num_words >= 7 || title.contains(['-', '\'']);
            (plain && (5..=20).contains(&num_words) && long_or_joined).then(|| {
                (
                    hit.document["id"].as_str().unwrap().to_owned(),
                    title.to_owned(),
                )
            })
        })
        .take(60)
        .collect();
    assert!(titles.len() >= 20, "{} titles to try", titles.len());
    for (id, title) in titles {
        let response = search(json!({
            "q": title, "showRankingScore": true, "attributesToRetrieve": ["id"], "limit": 20
        }));
        let own = response
            .hits
            .iter()
            .find(|hit| hit.document["id"] == id.as_str())
            .unwrap_or_else(|| panic!("`{title}` finds its record"));
        assert_eq!(own.ranking_score, Some(1.0), "`{title}`");
    }
}

/// `_rankingScore` never rises along the hits of a search ranked by the default rules:
/// a threshold or a federated merge relies on it.
#[test]
fn ranking_scores_never_rise_along_the_hits() {
    for q in [
        "data warehouse",
        "query optimization",
        "John Smith",
        "the analysis of data",
        "learning",
        "data",
        "model",
        "system",
        "network",
        "database",
        "flow",
        "wang",
    ] {
        let response = search(json!({"q": q, "limit": 1000, "showRankingScore": true}));
        let scores: Vec<f64> = response
            .hits
            .iter()
            .map(|hit| hit.ranking_score.expect("score shown"))
            .collect();
        assert!(scores.len() > 2, "`{q}` matches {}", scores.len());
        if let Some(rise) = scores.windows(2).position(|pair| pair[1] > pair[0]) {
            panic!(
                "`{q}`: hit {} scores {} after {}",
                rise + 1,
                scores[rise + 1],
                scores[rise]
            );
        }
    }
}

/// Hits under `rankingScoreThreshold` are left out of the page, the total and, when every
/// match was ranked, the facet counts.
#[test]
fn a_ranking_score_threshold_leaves_hits_out_of_totals_and_facets() {
    // Few matches, all ranked for any page; and more than a short page ranks.
    for (q, strategy) in [("query optimization", "all"), ("data warehouse", "last")] {
        let scored = search(json!({
            "q": q, "matchingStrategy": strategy, "limit": 1000, "showRankingScore": true
        }));
        let scores: Vec<f64> = scored
            .hits
            .iter()
            .map(|hit| hit.ranking_score.expect("score shown"))
            .collect();
        assert!(
            scores.len() > 6 && scores.len() < 1000,
            "`{q}` matches {}",
            scores.len()
        );
        let threshold = scores[scores.len() / 4];
        let num_above = scores.iter().filter(|score| **score >= threshold).count();
        assert!(
            num_above < scores.len() && num_above > 3,
            "`{q}`: some hits score under {threshold}"
        );
        for limit in [3, 1000] {
            let body = json!({
                "q": q, "matchingStrategy": strategy, "limit": limit,
                "rankingScoreThreshold": threshold, "facets": ["source"],
            });
            let response = search(body);
            assert_eq!(
                source_ids(&response),
                source_ids(&scored)[..num_above.min(limit)].to_vec(),
                "`{q}`: hits at {limit}"
            );
            assert_eq!(total_of(&response), num_above, "`{q}`: total at {limit}");
            let counted: u64 = response.facet_distribution.as_ref().expect("facets")["source"]
                .values()
                .sum();
            assert_eq!(
                counted as usize, num_above,
                "`{q}`: facet counts at {limit}"
            );
        }
        let pages = search(json!({
            "q": q, "matchingStrategy": strategy, "page": 1, "hitsPerPage": 2,
            "rankingScoreThreshold": threshold,
        }));
        assert_eq!(total_of(&pages), num_above, "`{q}`: totalHits");
    }
}

/// Placeholder hits all score 1: a threshold leaves none of them out of the totals or
/// facets.
#[test]
fn a_ranking_score_threshold_keeps_every_placeholder_hit() {
    let body = json!({"filter": "source = dblp", "limit": 3, "facets": ["year"]});
    let mut thresholded = body.clone();
    thresholded["rankingScoreThreshold"] = json!(0.5);
    let (plain, thresholded) = (search(body), search(thresholded));
    assert!(total_of(&plain) > 3);
    assert_eq!(total_of(&thresholded), total_of(&plain));
    assert_eq!(thresholded.facet_distribution, plain.facet_distribution);
    assert_eq!(source_ids(&thresholded), source_ids(&plain));
}

#[test]
fn pagination_and_sort_are_exact() {
    let everything =
        search(json!({"filter": "source = dblp", "sort": ["year:desc"], "limit": 1000}));
    let years: Vec<i64> = everything
        .hits
        .iter()
        .map(|hit| hit.document["year"].as_i64().unwrap())
        .collect();
    assert!(years.windows(2).all(|pair| pair[0] >= pair[1]), "{years:?}");
    let paged: Vec<String> = (1..=4)
        .flat_map(|page| {
            source_ids(&search(json!({
                "filter": "source = dblp", "sort": ["year:desc"], "page": page, "hitsPerPage": 7
            })))
        })
        .collect();
    assert_eq!(paged, source_ids(&everything)[..28].to_vec());
    let response = search(json!({"filter": "source = dblp", "page": 1, "hitsPerPage": 7}));
    let value = serde_json::to_value(&response).unwrap();
    assert_eq!(value["totalHits"], everything.hits.len());
    assert_eq!(value["totalPages"], everything.hits.len().div_ceil(7));
}

/// Records imported together share their import time, the default order of a placeholder
/// search: pages through them, in either shard layout, follow one another without repeats
/// or gaps, in the order of one page holding them all.
#[test]
fn placeholder_pages_through_tied_documents_follow_one_another() {
    let fixture = fixture();
    for engine in [&fixture.two_shards, &fixture.one_shard] {
        for filter in ["source = dblp", "source = acm"] {
            let everything = search_on(engine, "records", json!({"filter": filter, "limit": 1000}));
            assert!(
                everything.hits.len() > 40 && everything.hits.len() < 1000,
                "{filter} matches {} records",
                everything.hits.len()
            );
            let keys: Vec<(i64, &str)> = everything
                .hits
                .iter()
                .map(|hit| {
                    let fetched_at = hit.document["fetched_at"].as_str().expect("shown");
                    let fetched_at = chrono::DateTime::parse_from_rfc3339(fetched_at)
                        .expect("an RFC 3339 date")
                        .timestamp_micros();
                    (fetched_at, hit.document["id"].as_str().unwrap())
                })
                .collect();
            assert!(
                keys.windows(2).all(|pair| pair[0] > pair[1]),
                "{filter}: newest import first, then largest id"
            );
            let largest_tie = keys
                .chunk_by(|first, second| first.0 == second.0)
                .map(<[_]>::len)
                .max();
            assert!(largest_tie > Some(20), "{filter}: ties of {largest_tie:?}");
            let ids: Vec<&str> = keys.iter().map(|(_, id)| *id).collect();
            for page_size in [3, 7] {
                let paged: Vec<String> = (0..6)
                    .flat_map(|page| {
                        let body = json!({"filter": filter, "offset": page * page_size, "limit": page_size});
                        search_on(engine, "records", body)
                            .hits
                            .iter()
                            .map(|hit| hit.document["id"].as_str().unwrap().to_owned())
                            .collect::<Vec<_>>()
                    })
                    .collect();
                assert_eq!(
                    paged,
                    ids[..6 * page_size].to_vec(),
                    "{filter}, pages of {page_size}"
                );
            }
        }
    }
}

/// Returns `estimatedTotalHits` of a search of the records on two shards with
/// `maxTotalHits` set to `max_total_hits`.
fn estimated_total_hits(body: Value, max_total_hits: usize) -> u64 {
    let mut search = validate("records", body);
    search.max_total_hits = max_total_hits;
    let deadline = Instant::now() + Duration::from_secs(30);
    let response = fixture()
        .two_shards
        .search("records", &search, &settings("records"), deadline)
        .expect("search runs");
    serde_json::to_value(&response).unwrap()["estimatedTotalHits"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_quoted_hyphenated_word_is_the_phrase_of_its_parts() {
    let count = |q: &str| estimated_total_hits(json!({"q": q}), usize::MAX);
    let spaced = count("\"peer to peer\"");
    assert!(spaced > 0);
    assert_eq!(count("\"peer-to-peer\""), spaced);
    assert_eq!(count("\"peer-to peer\""), spaced);
}

#[test]
fn totals_stop_at_max_total_hits_however_they_are_counted() {
    let total = |q: &str, facets: Value, max_total_hits: usize| {
        let body = json!({"q": q, "limit": 1, "facets": facets});
        estimated_total_hits(body, max_total_hits) as usize
    };
    // Shards count every match where facets need them, and stop at the cap otherwise.
    for q in ["data", "the data", "of the model"] {
        let exact = total(q, json!(["source"]), usize::MAX);
        assert!(exact > 10, "{q}: {exact} matches");
        assert_eq!(total(q, Value::Null, usize::MAX), exact, "{q}");
        for cap in [1, 7, exact - 1, exact, exact + 5] {
            assert_eq!(total(q, Value::Null, cap), exact.min(cap), "{q}, cap {cap}");
            assert_eq!(
                total(q, json!(["source"]), cap),
                exact.min(cap),
                "{q}, cap {cap}"
            );
        }
    }
}

#[test]
fn filters_follow_meilisearch() {
    // The count stops at `maxTotalHits`, 1,000 by default: fewer than the records.
    let count =
        |filter: Value| estimated_total_hits(json!({"filter": filter, "limit": 0}), usize::MAX);
    let all = count(Value::Null);
    assert!(all > 1000, "{all} records");
    let capped = search(json!({"limit": 0}));
    assert_eq!(
        serde_json::to_value(&capped).unwrap()["estimatedTotalHits"],
        1000,
        "the estimate stops at maxTotalHits"
    );
    let dblp = count(json!("source = dblp"));
    assert!(dblp > 0 && dblp < all);
    assert_eq!(
        count(json!("source = DBLP")),
        dblp,
        "strings compare without case"
    );
    assert_eq!(count(json!("NOT source = dblp")) + dblp, all);
    assert_eq!(count(json!("source != dblp")) + dblp, all);
    assert_eq!(count(json!("year = 2019")), count(json!("year = \"2019\"")));
    assert_eq!(count(json!("year = 2019 AND source = dblp")), 2);
    assert_eq!(count(json!("year 2018 TO 2019 AND source = dblp")), 3);
    // Bounds on one number combine into one range, whatever their order and form.
    assert_eq!(
        count(json!("year >= 2018 AND source = dblp AND year <= 2019")),
        3
    );
    assert_eq!(
        count(json!(
            "year > 2017 AND year < 2020 AND source = dblp AND year 2018 TO 2030"
        )),
        3
    );
    assert_eq!(
        count(json!("year >= 2018 AND year <= 2019")),
        count(json!("year = 2018")) + count(json!("year = 2019"))
    );
    assert_eq!(count(json!("year >= 2019 AND year <= 2018")), 0);
    assert_eq!(count(json!("year >= abc AND year <= 2019")), 0);
    assert_eq!(
        count(json!("year < 1990 OR year >= 1990")),
        count(json!("year EXISTS"))
    );
    assert_eq!(
        count(json!("source IN [dblp, acm]")),
        count(json!("source = dblp OR source = acm"))
    );
    assert_eq!(
        count(json!("year EXISTS")) + count(json!("year NOT EXISTS")),
        all
    );
    let with_orcids = count(json!("orcids IS NOT EMPTY"));
    assert!(with_orcids > 0);
    assert_eq!(with_orcids + count(json!("orcids IS EMPTY")), all);
    assert_eq!(count(json!("orcids IS NULL")), 0);
    assert_eq!(
        count(json!(["source = dblp", ["year = 2019", "year = 2018"]])),
        3
    );
}

#[test]
fn facets_count_every_shard() {
    let response =
        search(json!({"facets": ["source", "year"], "filter": "source = dblp", "limit": 0}));
    let distribution = response.facet_distribution.unwrap();
    let total: u64 = distribution["source"].values().sum();
    let value =
        serde_json::to_value(search(json!({"filter": "source = dblp", "hitsPerPage": 1}))).unwrap();
    assert_eq!(total, value["totalHits"].as_u64().unwrap());
    assert_eq!(distribution["year"]["2019"], 2);
    let stats = response.facet_stats.unwrap();
    assert_eq!(stats["year"].min, 1880.0);
}

#[test]
fn highlighting_and_cropping_mark_whole_words() {
    let response = search(json!({
        "q": "hochbau",
        "attributesToHighlight": ["*"],
        "attributesToCrop": ["title:2"],
        "cropMarker": "…",
        "attributesToRetrieve": ["title"],
        "showMatchesPosition": true,
    }));
    let hit = &response.hits[0];
    assert_eq!(hit.document.keys().collect::<Vec<_>>(), ["id", "title"]);
    let formatted = hit.formatted.as_ref().unwrap();
    assert_eq!(formatted["title"], "…im <em>Hochbau</em>");
    let position = &hit.matches_position.as_ref().unwrap()["title"][0];
    assert_eq!(
        position.start,
        "Wärmeschutz im ".len(),
        "positions count bytes"
    );

    // A trailing space ends the word: it is no longer a prefix of `crichtonbrowne`.
    let names = search(json!({
        "q": "Crichton ",
        "attributesToHighlight": ["authors"],
        "highlightPreTag": "[",
        "highlightPostTag": "]",
    }));
    let formatted = names.hits[0].formatted.as_ref().unwrap();
    assert_eq!(formatted["authors"], json!(["James [Crichton]-Browne"]));
    let matches = names.hits[0].matches_position.clone();
    assert!(matches.is_none(), "only when asked");
}

#[test]
fn documents_stats_and_index_list() {
    let engine = &fixture().two_shards;
    let uids: Vec<String> = engine
        .index_uids()
        .into_iter()
        .map(|info| info.uid)
        .collect();
    assert_eq!(uids, ["records", "works", "profiles"]);
    assert!(engine.generation("records").is_some());
    assert_eq!(engine.generation("nope"), None);

    let hit = &search(json!({"q": "Wärmeschutz"})).hits[0];
    let id = hit.document["id"].as_str().unwrap();
    let document = engine.document("records", id, None).unwrap();
    assert_eq!(document["title"], "Wärmeschutz im Hochbau");
    assert_eq!(document["authors"], json!(["Hans Müller"]));
    assert_eq!(document["year"], 1999);
    assert_eq!(document["data"]["venue"], "Atlas Test Venue");
    assert!(document["fetched_at"].as_str().unwrap().ends_with('Z'));
    let only_year = engine
        .document("records", id, Some(&["year".to_owned()]))
        .unwrap();
    assert_eq!(only_year, json!({"id": id, "year": 1999}));
    let missing = engine.document("records", "00000000-0000-0000-0000-000000000000", None);
    assert_eq!(missing.unwrap_err().code(), Code::DocumentNotFound);
    assert_eq!(
        engine.document("nope", id, None).unwrap_err().code(),
        Code::IndexNotFound
    );

    let capabilities = IndexCapabilities::from_settings(&settings("records"));
    let fetch = DocumentsFetchRequest::from_json_value(
        json!({"filter": "source = dblp", "limit": 5, "offset": 2, "fields": ["title"]}),
    )
    .unwrap()
    .validate(&capabilities)
    .unwrap();
    let page = engine.documents("records", &fetch).unwrap();
    assert_eq!(page.results.len(), 5);
    assert!(page.total > 100);
    let fetch = DocumentsFetchRequest::from_json_value(json!({"ids": [id]}))
        .unwrap()
        .validate(&capabilities)
        .unwrap();
    assert_eq!(engine.documents("records", &fetch).unwrap().total, 1);

    let with_doi = search(json!({"filter": "doi EXISTS AND source = openalex", "limit": 1}));
    let doi = with_doi.hits[0].document["doi"]
        .as_str()
        .unwrap()
        .to_owned();
    // As typed, and as librarians paste it: a resolver URL, a `doi:` prefix, a label, as
    // cited in a reference list.
    for q in [
        doi.to_uppercase(),
        format!("https://doi.org/{doi}"),
        format!("doi:{doi}"),
        format!("DOI: {doi}"),
        format!("doi {doi}."),
        format!("({doi})"),
    ] {
        let by_doi = search(json!({"q": q, "limit": 1}));
        assert_eq!(
            by_doi.hits.first().map(|hit| &hit.document["doi"]),
            Some(&json!(doi)),
            "`{q}` finds its record"
        );
    }

    let stats = engine.stats("records").unwrap();
    assert!(!stats.is_indexing);
    assert_eq!(stats.field_distribution["id"], stats.number_of_documents);
    assert!(stats.field_distribution["doi"] < stats.number_of_documents);
    let profiles = engine.stats("profiles").unwrap();
    assert_eq!(
        profiles.number_of_documents as usize,
        fixture().profiles.len()
    );
}

#[test]
fn settings_change_what_matches() {
    let engine = &fixture().two_shards;
    let mut settings = settings("records");
    settings
        .synonyms
        .insert("heat".into(), vec!["thermal".into()]);
    settings.stop_words.insert("the".into());
    let run = |settings: &Settings, body: Value| {
        let capabilities = IndexCapabilities::from_settings(settings);
        let search = SearchQuery::from_json_value(body)
            .unwrap()
            .validate(&capabilities)
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        source_ids(
            &engine
                .search("records", &search, settings, deadline)
                .unwrap(),
        )
    };
    let synonym = run(
        &settings,
        json!({"q": "heat insulation", "filter": "source = dblp"}),
    );
    assert_eq!(
        synonym.first().map(String::as_str),
        Some("own-mueller"),
        "{synonym:?}"
    );
    let stop_word = run(
        &settings,
        json!({"q": "the cat genome", "matchingStrategy": "all"}),
    );
    assert!(stop_word.contains(&"own-cat".to_owned()), "{stop_word:?}");

    let typo = json!({"q": "photosinthesis", "filter": "source = dblp"});
    assert!(run(&settings, typo.clone()).contains(&"own-photosynthesis".to_owned()));
    settings
        .typo_tolerance
        .disable_on_attributes
        .insert("title".into());
    assert!(
        run(&settings, typo.clone()).is_empty(),
        "no typos in titles"
    );
    settings.typo_tolerance.disable_on_attributes.clear();
    settings.typo_tolerance.enabled = false;
    assert!(run(&settings, typo).is_empty(), "no typos at all");

    let excluded = run(&settings, json!({"q": "error correction -quantum"}));
    assert!(
        excluded.contains(&"own-smith-james".to_owned()),
        "{excluded:?}"
    );
    assert!(
        !excluded.contains(&"own-smith-john".to_owned()),
        "{excluded:?}"
    );
    engine.refresh().unwrap();
    assert!(engine.generation("records").is_some());
}

/// Federated pages follow one another: each is a slice of one page holding them all.
#[test]
fn federated_pages_follow_one_another() {
    let run = |offset: usize, limit: usize| -> Vec<String> {
        federated(json!({
            "federation": {"offset": offset, "limit": limit},
            "queries": [
                {"indexUid": "records", "q": "data"},
                {"indexUid": "records", "q": "query processing", "federationOptions": {"weight": 0.9}},
            ]
        }))
        .hits
            .iter()
            .map(|hit| {
                let id = hit.hit.document["id"].as_str().unwrap();
                format!("{}:{id}", hit.federation.queries_position)
            })
            .collect()
    };
    let everything = run(0, 200);
    assert_eq!(everything.len(), 200);
    for page_size in [7, 10] {
        let paged: Vec<String> = (0..5)
            .flat_map(|page| run(page * page_size, page_size))
            .collect();
        assert_eq!(
            paged,
            everything[..5 * page_size].to_vec(),
            "pages of {page_size}"
        );
    }
}

/// Runs a federated multi-search of the records index on the two-shard engine.
fn federated(request: Value) -> FederatedSearchResponse {
    let request = MultiSearchRequest::from_json_value(request).unwrap();
    let records = IndexCapabilities::from_settings(&settings("records"));
    let validated = request.validate(|_| Some(&records)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    fixture()
        .two_shards
        .federated_search(&validated, &settings, deadline)
        .unwrap()
}

#[test]
fn federated_search_returns_a_document_once() {
    let response = federated(json!({
        "federation": {"limit": 50},
        "queries": [
            {"indexUid": "records", "q": "data", "federationOptions": {"weight": 0.5}},
            {"indexUid": "records", "q": "data"},
        ]
    }));
    let ids: Vec<&str> = response
        .hits
        .iter()
        .map(|hit| hit.hit.document["id"].as_str().unwrap())
        .collect();
    assert!(ids.len() > 10, "{ids:?}");
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a document appears once: {ids:?}");
    assert!(
        response
            .hits
            .iter()
            .all(|hit| hit.federation.queries_position == 1),
        "each from the query where it weighs most"
    );
}

#[test]
fn federated_search_merges_by_weighted_score() {
    let response = federated(json!({
        "federation": {"limit": 5},
        "queries": [
            {"indexUid": "records", "q": "Wärmeschutz"},
            {"indexUid": "records", "q": "Rojas Vega", "federationOptions": {"weight": 0.5}},
        ]
    }));
    assert_eq!(
        response.hits[0].hit.document["source_id"],
        "own-waermeschutz"
    );
    assert_eq!(response.hits[0].federation.queries_position, 0);
    let weights: Vec<f64> = response
        .hits
        .iter()
        .map(|hit| hit.federation.weighted_ranking_score)
        .collect();
    assert!(
        weights.windows(2).all(|pair| pair[0] >= pair[1]),
        "{weights:?}"
    );
    assert!(response
        .hits
        .iter()
        .any(|hit| hit.hit.document["source_id"] == "own-rojas"));
}

#[test]
fn dblp_titles_find_their_acm_record() {
    let fixture = fixture();
    let mut num_found = 0;
    let mut num_first = 0;
    let started = Instant::now();
    for (title, acm_id) in &fixture.dblp_acm_pairs {
        let response = search(json!({"q": title, "filter": "source = acm", "limit": 5}));
        let ids = source_ids(&response);
        num_found += usize::from(ids.contains(acm_id));
        num_first += usize::from(ids.first() == Some(acm_id));
    }
    let mean_latency = started.elapsed() / fixture.dblp_acm_pairs.len() as u32;
    println!("DBLP-ACM: {num_first} first, mean latency {mean_latency:?} per title search");
    let rate = num_found as f64 / fixture.dblp_acm_pairs.len() as f64;
    println!(
        "DBLP-ACM: {num_found} of {} DBLP titles find their ACM record in the top 5 ({:.1}%)",
        fixture.dblp_acm_pairs.len(),
        rate * 100.0
    );
    assert!(rate >= 0.9, "rate {rate}");
}

#[test]
fn candidates_of_orcid_profiles_are_their_works() {
    let fixture = fixture();
    assert!(!fixture.profiles.is_empty());
    let variants =
        analyzers::GivenNameVariants::load(samples_dir().join("names/nicknames.csv")).unwrap();
    let request = CandidateRequest {
        profiles: fixture
            .profiles
            .iter()
            .map(|(orcid, names, titles)| CandidateProfile {
                id: orcid.clone(),
                names: names.clone(),
                titles: titles.clone(),
                orcid: Some(format!("https://orcid.org/{orcid}")),
            })
            .collect(),
        limit_per_profile: 1000,
        show_matches: true,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let response = fixture
        .two_shards
        .candidates(&request, &variants, deadline)
        .unwrap();
    assert_eq!(response.results.len(), fixture.profiles.len());
    for (result, (orcid, names, _)) in response.results.iter().zip(&fixture.profiles) {
        assert_eq!(&result.profile_id, orcid);
        let found: HashSet<&str> = result
            .hits
            .iter()
            .map(|hit| hit.record_id.as_str())
            .collect();
        for record in &fixture.records_by_orcid[orcid] {
            assert!(
                found.contains(record.as_str()),
                "{orcid} finds its record {record}"
            );
        }
        let by_name = result
            .hits
            .iter()
            .flat_map(|hit| &hit.matches)
            .filter(|found| found.kind == MatchKind::Name)
            .count();
        let num_records = fixture.records_by_orcid[orcid].len();
        assert!(by_name >= num_records.min(1), "{names:?} found by name");
        for hit in &result.hits {
            assert!((0.0..=1.0).contains(&hit.score));
            for found in &hit.matches {
                if found.kind == MatchKind::Name {
                    let agreement = found.agreement.as_deref().unwrap();
                    assert!(["full", "variant", "initials", "surname_only"].contains(&agreement));
                }
            }
        }
    }

    let smith = CandidateRequest {
        profiles: vec![CandidateProfile {
            id: "smith".into(),
            names: vec!["Smith, John".into()],
            titles: vec!["Quantum error correction".into()],
            orcid: None,
        }],
        limit_per_profile: 10,
        show_matches: true,
    };
    let response = fixture
        .two_shards
        .candidates(&smith, &variants, deadline)
        .unwrap();
    let hits = &response.results[0].hits;
    let best = &hits[0];
    let matched: Vec<&str> = best
        .matches
        .iter()
        .map(|found| found.matched_value.as_str())
        .collect();
    assert!(matched.contains(&"John Q. Smith"), "{matched:?}");
    assert!(best
        .matches
        .iter()
        .any(|found| found.kind == MatchKind::Title));
    let james = hits
        .iter()
        .flat_map(|hit| &hit.matches)
        .any(|found| found.matched_value == "James Smith");
    assert!(!james, "a conflicting given name is not a candidate");
}

#[test]
fn a_search_past_its_deadline_answers_degraded_or_names_its_budget() {
    let engine = &fixture().two_shards;
    let search = validate("records", json!({"q": "data", "timeBudgetMs": 40}));
    let past = Instant::now() - Duration::from_millis(1);
    let response = engine
        .search("records", &search, &settings("records"), past)
        .unwrap();
    assert!(response.is_degraded);
    assert!(
        !response.hits.is_empty(),
        "the candidates gathered are shown"
    );
    let distinct = validate("records", json!({"distinct": "source", "timeBudgetMs": 40}));
    let error = engine
        .search("records", &distinct, &settings("records"), past)
        .unwrap_err();
    assert_eq!(error.code(), Code::SearchTimeBudgetExceeded);
    assert!(
        error.public_message().contains("`40` ms"),
        "{}",
        error.public_message()
    );
    let error = engine
        .search(
            "nope",
            &search,
            &settings("records"),
            Instant::now() + Duration::from_secs(1),
        )
        .unwrap_err();
    assert_eq!(error.code(), Code::IndexNotFound);
}
