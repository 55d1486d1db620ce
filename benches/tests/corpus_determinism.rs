//! The corpus generator is a function of its seed: the same seed gives the same bytes in
//! every file, another seed other records.

use std::path::Path;

use atlas_benches::scale::corpus::{files, generate, CorpusOptions};
use atlas_benches::scale::vocabulary::Vocabulary;

const ALL_FILES: [&str; 8] = [
    files::OPENALEX,
    files::CROSSREF,
    files::DBLP,
    files::TRUTH_RECORDS,
    files::TRUTH_WORKS,
    files::TRUTH_PROFILES,
    files::WORKLOAD,
    files::MANIFEST,
];

fn options(seed: u64) -> CorpusOptions {
    CorpusOptions {
        num_records: 600,
        seed,
        num_queries_per_class: 5,
    }
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|error| panic!("`{name}`: {error}"))
}

#[test]
fn the_same_seed_gives_identical_files_and_another_seed_other_records() {
    let vocabulary = Vocabulary::load(&atlas_benches::samples_dir()).unwrap();
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let manifest = generate(&vocabulary, &options(42), first.path()).unwrap();
    generate(&vocabulary, &options(42), second.path()).unwrap();
    generate(&vocabulary, &options(43), other.path()).unwrap();

    assert_eq!(manifest.num_records(), 600);
    for name in ALL_FILES {
        assert!(
            read(first.path(), name) == read(second.path(), name),
            "`{name}` differs between two runs with seed 42"
        );
    }
    for name in [
        files::OPENALEX,
        files::CROSSREF,
        files::DBLP,
        files::WORKLOAD,
    ] {
        assert!(
            read(first.path(), name) != read(other.path(), name),
            "`{name}` is the same with seeds 42 and 43"
        );
    }
}

#[test]
fn every_record_of_the_truth_is_in_a_source_file_and_every_line_parses() {
    let vocabulary = Vocabulary::load(&atlas_benches::samples_dir()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = generate(&vocabulary, &options(1), dir.path()).unwrap();
    let truth = String::from_utf8(read(dir.path(), files::TRUTH_RECORDS)).unwrap();
    assert_eq!(truth.lines().count() as u64, manifest.num_records());
    for name in [files::OPENALEX, files::CROSSREF] {
        let text = String::from_utf8(read(dir.path(), name)).unwrap();
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
    let num_dblp_rows = String::from_utf8(read(dir.path(), files::DBLP))
        .unwrap()
        .lines()
        .count()
        - 1;
    let dblp = manifest
        .sources
        .iter()
        .find(|source| source.source == "dblp")
        .unwrap();
    assert_eq!(num_dblp_rows as u64, dblp.num_records);
}
