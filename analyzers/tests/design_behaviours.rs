//! The behaviours users expect of name and title search (DESIGN.md, last section), checked
//! end to end through a tantivy index built with the registered analyzers and a small query
//! builder that uses `parse_query` the way the search API does.
//!
//! Properties checked:
//! 1. `coelac` finds "Cœlacanthe"; `aesthetic` finds "Æsthetic"; ligatures fold.
//! 2. `Linßen` and `Linssen` find the same people; `Müller`, `Mueller`, `Muller` find Müller.
//! 3. `Duran` finds "Durán" and `Durán` finds "Duran"; highlighting marks "Wärmeschutz" whole.
//! 4. `Crichton-Browne`, `Crichton` and `Browne` find the hyphenated name; `Rojas Vega` finds
//!    "Rojas-Vega".
//! 5. `Smith, John`, `John Smith`, `J. Smith` and `JQ Smith` find "John Q. Smith".
//! 6. `O'Brien`, `OBrien` and `O Brien` find each other.
//! 7. A typo in a long word is forgiven, not in a 3-letter word; exact ranks above typo.
//! 8. The last word of a query is a prefix: `attention is all y` finds the paper.

use analyzers::{parse_query, register, QueryWord, NAME_ANALYZER, TEXT_ANALYZER};
use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{doc, Index, TantivyDocument, Term};

struct TestIndex {
    index: Index,
    title: Field,
    authors: Field,
    label: Field,
}

fn text_options(analyzer: &str) -> TextOptions {
    TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

/// Builds an index of (label, title, authors) records.
fn build_index(records: &[(&str, &str, &[&str])]) -> TestIndex {
    let mut builder = Schema::builder();
    let title = builder.add_text_field("title", text_options(TEXT_ANALYZER));
    let authors = builder.add_text_field("authors", text_options(NAME_ANALYZER));
    let label = builder.add_text_field("label", STORED);
    let index = Index::create_in_ram(builder.build());
    register(index.tokenizers());
    let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
    for (record_label, record_title, record_authors) in records {
        let mut document = doc!(label => *record_label, title => *record_title);
        for author in *record_authors {
            document.add_text(authors, author);
        }
        writer.add_document(document).unwrap();
    }
    writer.commit().unwrap();
    TestIndex {
        index,
        title,
        authors,
        label,
    }
}

/// Meilisearch's default typo budget: one typo from 5 characters, two from 9.
fn max_typos(num_chars: usize) -> u8 {
    match num_chars {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// What one query word may match: the exact token (boosted), its parts as a phrase, a prefix
/// for the last word, and typo-corrected tokens.
fn word_query(field: Field, word: &QueryWord) -> Box<dyn Query> {
    let term = Term::from_field_text(field, &word.folded);
    let mut alternatives: Vec<(Occur, Box<dyn Query>)> = vec![(
        Occur::Should,
        Box::new(BoostQuery::new(
            Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
            10.0,
        )),
    )];
    if word.parts.len() > 1 {
        let terms = word
            .parts
            .iter()
            .map(|part| Term::from_field_text(field, part))
            .collect();
        alternatives.push((Occur::Should, Box::new(PhraseQuery::new(terms))));
    }
    if word.is_prefix {
        alternatives.push((
            Occur::Should,
            Box::new(FuzzyTermQuery::new_prefix(term.clone(), 0, true)),
        ));
    }
    let typos = max_typos(word.num_chars);
    if typos > 0 {
        alternatives.push((
            Occur::Should,
            Box::new(FuzzyTermQuery::new(term, typos, true)),
        ));
    }
    Box::new(BooleanQuery::new(alternatives))
}

/// Builds the query the search API would: every word required, a pair of words may also
/// match written together, excluded words forbidden, quoted phrases as phrase queries.
fn build_query(field: Field, query: &str) -> Box<dyn Query> {
    let analyzed = parse_query(query);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut index = 0;
    while index < analyzed.words.len() {
        let word = &analyzed.words[index];
        if word.is_excluded {
            let term = Term::from_field_text(field, &word.folded);
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
            index += 1;
            continue;
        }
        if let Some(phrase_id) = word.phrase_id {
            let terms: Vec<Term> = analyzed.words[index..]
                .iter()
                .take_while(|next| next.phrase_id == Some(phrase_id))
                .map(|next| Term::from_field_text(field, &next.folded))
                .collect();
            index += terms.len();
            let phrase: Box<dyn Query> = if terms.len() == 1 {
                Box::new(TermQuery::new(
                    terms[0].clone(),
                    IndexRecordOption::WithFreqs,
                ))
            } else {
                Box::new(PhraseQuery::new(terms))
            };
            clauses.push((Occur::Must, phrase));
            continue;
        }
        let single = word_query(field, word);
        match (&word.joined_with_next, analyzed.words.get(index + 1)) {
            (Some(joined), Some(next)) => {
                let both = BooleanQuery::new(vec![
                    (Occur::Must, single),
                    (Occur::Must, word_query(field, next)),
                ]);
                let joined_term = Term::from_field_text(field, joined);
                let together = TermQuery::new(joined_term, IndexRecordOption::WithFreqs);
                clauses.push((
                    Occur::Must,
                    Box::new(BooleanQuery::new(vec![
                        (Occur::Should, Box::new(both)),
                        (Occur::Should, Box::new(together)),
                    ])),
                ));
                // The next word still counts alone: its own clause keeps it required unless
                // the pair matched written together.
                index += 1;
            }
            _ => {
                clauses.push((Occur::Must, single));
                index += 1;
            }
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

impl TestIndex {
    fn search(&self, field: Field, query: &str) -> Vec<String> {
        let searcher = self.index.reader().unwrap().searcher();
        let hits = searcher
            .search(&*build_query(field, query), &TopDocs::with_limit(20))
            .unwrap();
        hits.into_iter()
            .map(|(_, address)| {
                let document: TantivyDocument = searcher.doc(address).unwrap();
                document
                    .get_first(self.label)
                    .and_then(|value| value.as_str())
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    fn assert_finds(&self, field: Field, query: &str, expected_label: &str) {
        let labels = self.search(field, query);
        assert!(
            labels.iter().any(|label| label == expected_label),
            "`{query}` should find {expected_label}, found {labels:?}"
        );
    }

    fn assert_misses(&self, field: Field, query: &str, label: &str) {
        let labels = self.search(field, query);
        assert!(
            !labels.iter().any(|found| found == label),
            "`{query}` should not find {label}, found {labels:?}"
        );
    }
}

fn corpus() -> TestIndex {
    build_index(&[
        ("coelacanth", "Le Cœlacanthe vivant", &["Jacques Millot"]),
        ("aesthetic", "Æsthetic Theory", &["Theodor W. Adorno"]),
        ("field", "Quantum ﬁeld theory", &["Steven Weinberg"]),
        ("linssen", "Über Wärmeschutz im Altbau", &["Peter Linßen"]),
        ("mueller", "Datenbanken", &["Hans Müller"]),
        ("duran", "Redes neuronales", &["María Durán"]),
        ("duran-plain", "Neural networks", &["Jose Duran"]),
        ("crichton", "On the brain", &["James Crichton-Browne"]),
        ("rojas", "Ecología del paisaje", &["Ana Rojas-Vega"]),
        ("smith", "A theory of everything", &["John Q. Smith"]),
        ("jones", "A theory of something", &["James Jones"]),
        ("obrien-apostrophe", "Irish studies", &["Pat O'Brien"]),
        ("obrien-joined", "Irish history", &["Kate OBrien"]),
        ("obrien-spaced", "Irish poetry", &["Sean O Brien"]),
        (
            "attention",
            "Attention Is All You Need",
            &["Ashish Vaswani", "Noam Shazeer"],
        ),
        ("algorithm", "An algorithm for sorting", &["Donald Knuth"]),
        ("cat", "The cat sat", &["Ann Other"]),
        ("graph", "Graph theory", &["Ann Other"]),
        ("grape", "Grape harvest", &["Ann Other"]),
    ])
}

#[test]
fn accents_ligatures_and_special_letters_fold() {
    let index = corpus();
    index.assert_finds(index.title, "coelac", "coelacanth");
    index.assert_finds(index.title, "aesthetic", "aesthetic");
    index.assert_finds(index.title, "field theory", "field");
    index.assert_finds(index.title, "ﬁeld", "field");
}

#[test]
fn german_spellings_meet() {
    let index = corpus();
    for query in ["Linßen", "Linssen", "linssen"] {
        index.assert_finds(index.authors, query, "linssen");
    }
    for query in ["Müller", "Mueller", "Muller"] {
        index.assert_finds(index.authors, query, "mueller");
    }
}

#[test]
fn accents_match_both_ways_and_highlights_are_whole_words() {
    let index = corpus();
    for query in ["Duran", "Durán"] {
        index.assert_finds(index.authors, query, "duran");
        index.assert_finds(index.authors, query, "duran-plain");
    }

    let searcher = index.index.reader().unwrap().searcher();
    let query = build_query(index.title, "warmeschutz");
    let hits = searcher.search(&*query, &TopDocs::with_limit(1)).unwrap();
    let document: TantivyDocument = searcher.doc(hits[0].1).unwrap();
    let generator = SnippetGenerator::create(&searcher, &*query, index.title).unwrap();
    let snippet = generator.snippet_from_doc(&document);
    assert_eq!(snippet.to_html(), "Über <b>Wärmeschutz</b> im Altbau");
}

#[test]
fn hyphenated_names_are_found_by_each_part() {
    let index = corpus();
    for query in ["Crichton-Browne", "Crichton", "Browne", "CrichtonBrowne"] {
        index.assert_finds(index.authors, query, "crichton");
    }
    for query in ["Rojas Vega", "Rojas-Vega", "Vega"] {
        index.assert_finds(index.authors, query, "rojas");
    }
}

#[test]
fn name_forms_find_the_person() {
    let index = corpus();
    for query in [
        "Smith, John",
        "John Smith",
        "J. Smith",
        "JQ Smith",
        "J.Q. Smith",
        "John Q. Smith",
    ] {
        index.assert_finds(index.authors, query, "smith");
    }
    index.assert_misses(index.authors, "James Smith", "smith");
}

#[test]
fn apostrophe_names_find_each_other() {
    let index = corpus();
    for query in ["O'Brien", "OBrien", "O Brien", "O’Brien"] {
        for label in ["obrien-apostrophe", "obrien-joined", "obrien-spaced"] {
            index.assert_finds(index.authors, query, label);
        }
    }
}

#[test]
fn typos_are_forgiven_in_long_words_only_and_exact_ranks_first() {
    let index = corpus();
    index.assert_finds(index.title, "algoritm", "algorithm");
    index.assert_misses(index.title, "cst", "cat");
    let labels = index.search(index.title, "graph ");
    assert_eq!(
        labels.first().map(String::as_str),
        Some("graph"),
        "{labels:?}"
    );
    let labels = index.search(index.title, "grape ");
    assert_eq!(labels, ["grape", "graph"]);
}

#[test]
fn last_word_is_a_prefix() {
    let index = corpus();
    index.assert_finds(index.title, "attention is all y", "attention");
    index.assert_misses(index.title, "attention is all y ", "attention");
    index.assert_finds(index.title, "\"attention is all\" -cat", "attention");
    index.assert_misses(index.title, "attention -need", "attention");
}
