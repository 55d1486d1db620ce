//! Query-side analysis: the Meilisearch-style parser and what each word reports.
//!
//! Properties checked:
//! 1. Words are folded exactly as indexed text is.
//! 2. `num_chars`, `is_last` and `is_prefix` follow what the query was typed as.
//! 3. Quoted phrases and leading `-` exclusions are recognised; odd input never fails.
//! 4. Split words report their parts; adjacent plain words report their joined form.

use analyzers::{analyze_query, parse_query, Lang};

#[test]
fn words_report_typo_and_prefix_facts() {
    let words = analyze_query("Attention is ALL y");
    let view: Vec<(&str, usize, bool, bool)> = words
        .iter()
        .map(|word| {
            (
                word.folded.as_str(),
                word.num_chars,
                word.is_last,
                word.is_prefix,
            )
        })
        .collect();
    assert_eq!(
        view,
        [
            ("attention", 9, false, false),
            ("is", 2, false, false),
            ("all", 3, false, false),
            ("y", 1, true, true)
        ]
    );
    let words = analyze_query("Wärmeschutz ");
    assert_eq!(
        (words[0].folded.as_str(), words[0].num_chars),
        ("warmeschutz", 11)
    );
    assert!(words[0].is_last && !words[0].is_prefix);
}

#[test]
fn phrases_and_exclusions() {
    let query = parse_query(r#"deep "neural network" -survey -"literature review" x"#);
    let view: Vec<(&str, Option<usize>, bool)> = query
        .words
        .iter()
        .map(|word| (word.folded.as_str(), word.phrase_id, word.is_excluded))
        .collect();
    assert_eq!(
        view,
        [
            ("deep", None, false),
            ("neural", Some(0), false),
            ("network", Some(0), false),
            ("survey", None, true),
            ("literature", Some(1), true),
            ("review", Some(1), true),
            ("x", None, false),
        ]
    );
    assert_eq!(query.num_phrases, 2);
    assert!(query.words.last().unwrap().is_prefix);
}

#[test]
fn odd_queries_never_fail() {
    for query in [
        "",
        " ",
        "-",
        "\"",
        "\"unclosed phrase",
        "- -",
        "--x",
        "\"\"",
        "a-",
        "-\"\"",
        "\u{301}",
    ] {
        let parsed = parse_query(query);
        assert!(
            parsed.words.iter().all(|word| !word.folded.is_empty()),
            "{query:?}"
        );
    }
    assert_eq!(analyze_query("\"unclosed phrase")[1].phrase_id, Some(0));
    assert!(!analyze_query("crichton-browne")[0].is_excluded);
}

#[test]
fn split_words_and_joined_neighbours() {
    let words = analyze_query("O'Brien o brien 知识图谱");
    assert_eq!(words[0].folded, "obrien");
    assert_eq!(words[0].parts, ["o", "brien"]);
    assert_eq!(words[1].joined_with_next.as_deref(), Some("obrien"));
    assert!(words[3].is_bigram_run);
    assert_eq!(words[3].parts, ["知识", "识图", "图谱"]);
    assert!(!words[3].is_prefix);
}

#[test]
fn stems_follow_the_query_language() {
    let query = parse_query("the running networks");
    assert_eq!(query.language.lang, Some(Lang::Eng));
    let stems: Vec<&str> = query
        .words
        .iter()
        .filter_map(|word| word.stem.as_deref())
        .collect();
    assert_eq!(stems, ["the", "run", "network"]);
}
