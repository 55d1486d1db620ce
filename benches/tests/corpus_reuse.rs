//! A stored corpus is reused only when each of its files has the size its manifest
//! recorded: a truncated file, or a manifest of a harness that recorded no sizes, means
//! the corpus is generated again.

use std::path::Path;
use std::sync::Arc;

use atlas_benches::scale::corpus::{files, CorpusOptions, Manifest};
use atlas_benches::scale::run::ensure_corpus;
use atlas_benches::scale::vocabulary::Vocabulary;

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|error| panic!("`{name}`: {error}"))
}

#[tokio::test]
async fn a_corpus_is_reused_only_while_every_file_has_its_recorded_size() {
    let vocabulary = Arc::new(Vocabulary::load(&atlas_benches::samples_dir()).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let options = CorpusOptions {
        num_records: 300,
        seed: 3,
        num_queries_per_class: 3,
    };

    let (manifest, reused) = ensure_corpus(&vocabulary, &options, dir).await.unwrap();
    assert!(!reused);
    assert_eq!(manifest.file_sizes.len(), 7, "{:?}", manifest.file_sizes);
    assert_eq!(manifest.check_file_sizes(dir), Ok(()));
    let (_, reused) = ensure_corpus(&vocabulary, &options, dir).await.unwrap();
    assert!(reused, "an intact corpus is reused");

    // A record cut in the middle, as a full disk leaves it.
    let whole = read(dir, files::OPENALEX);
    std::fs::write(dir.join(files::OPENALEX), &whole[..whole.len() - 10]).unwrap();
    let mismatch = manifest.check_file_sizes(dir).unwrap_err();
    assert!(mismatch.contains(files::OPENALEX), "{mismatch}");
    let (_, reused) = ensure_corpus(&vocabulary, &options, dir).await.unwrap();
    assert!(!reused, "a truncated corpus is generated again");
    assert!(read(dir, files::OPENALEX) == whole);

    // A manifest written before sizes were recorded.
    let mut old: serde_json::Value = serde_json::from_slice(&read(dir, files::MANIFEST)).unwrap();
    old.as_object_mut().unwrap().remove("file_sizes");
    std::fs::write(dir.join(files::MANIFEST), old.to_string()).unwrap();
    let old_manifest = Manifest::read(dir).expect("an old manifest still reads");
    assert!(old_manifest.check_file_sizes(dir).is_err());
    let (_, reused) = ensure_corpus(&vocabulary, &options, dir).await.unwrap();
    assert!(!reused, "a corpus of an old manifest is generated again");
}
