//! The registered tantivy analyzers produce exactly the tokens of the public functions, so
//! schemas and queries can refer to them by name.
//!
//! Properties checked:
//! 1. Every stable name is registered.
//! 2. Each registered analyzer streams the same tokens (text, offsets, positions) as the
//!    matching function, value after value, with buffers and caches reused.
//! 3. The keyword analyzer yields one trimmed, folded token.

mod common;

use analyzers::{
    name_tokens, register, stemmed_tokens, text_tokens, AnalyzedToken, KEYWORD_ANALYZER,
    NAME_ANALYZER, TEXT_ANALYZER, TEXT_STEM_ANALYZER,
};
use common::read_sample;
use tantivy::tokenizer::{TextAnalyzer, TokenStream, TokenizerManager};

type TokenView = (String, usize, usize, usize);

fn stream(analyzer: &mut TextAnalyzer, text: &str) -> Vec<TokenView> {
    let mut token_stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while token_stream.advance() {
        let token = token_stream.token();
        tokens.push((
            token.text.clone(),
            token.offset_from,
            token.offset_to,
            token.position,
        ));
    }
    tokens
}

fn view(tokens: &[AnalyzedToken]) -> Vec<TokenView> {
    tokens
        .iter()
        .map(|token| {
            (
                token.text.clone(),
                token.offset_from,
                token.offset_to,
                token.position,
            )
        })
        .collect()
}

fn manager() -> TokenizerManager {
    let manager = TokenizerManager::default();
    register(&manager);
    manager
}

#[test]
fn registered_analyzers_match_the_functions() {
    let manager = manager();
    let mut text = manager.get(TEXT_ANALYZER).unwrap();
    let mut stem = manager.get(TEXT_STEM_ANALYZER).unwrap();
    let mut name = manager.get(NAME_ANALYZER).unwrap();

    let acm = read_sample("dblp-acm/acm.csv");
    let mut reader = csv::Reader::from_reader(acm.as_bytes());
    for record in reader.records().take(400) {
        let record = record.unwrap();
        let title = &record[1];
        assert_eq!(
            stream(&mut text, title),
            view(&text_tokens(title)),
            "{title}"
        );
        assert_eq!(
            stream(&mut stem, title),
            view(&stemmed_tokens(title).1),
            "{title}"
        );
        for author in record[2].split(", ") {
            assert_eq!(
                stream(&mut name, author),
                view(&name_tokens(author)),
                "{author}"
            );
        }
    }
}

#[test]
fn keyword_analyzer_yields_one_folded_token() {
    let mut keyword = manager().get(KEYWORD_ANALYZER).unwrap();
    let tokens = stream(&mut keyword, "  10.1145/ABC.Déf  ");
    assert_eq!(tokens, [("10.1145/abc.def".to_string(), 2, 18, 0)]);
    assert!(stream(&mut keyword, "   ").is_empty());
    assert_eq!(
        stream(&mut keyword, "0000-0002-5878-603X")[0].0,
        "0000-0002-5878-603x"
    );
}
