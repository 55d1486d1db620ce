//! Text analysis of titles, abstracts and venues: folding, segmentation, joined forms,
//! bigrams, offsets into the original text, and stemming per detected language.
//!
//! Properties checked:
//! 1. Folding spells ligatures, diacritics and undecomposable letters the same way.
//! 2. Hyphens, apostrophes and underscores split a word and also yield the joined form.
//! 3. Numbers are kept whole.
//! 4. Han, Kana and Hangul runs become characters plus overlapping bigrams.
//! 5. Offsets slice whole original words even where folding changed lengths.
//! 6. Stemming follows the detected language; exact tokens stay unstemmed.
//! 7. Titles in German, French, Spanish, Czech, Turkish, Russian and Chinese or Japanese from
//!    the real samples analyze as a reader expects.

mod common;

use analyzers::{
    detect_language, fold, stemmed_tokens, text_tokens, Algorithm, DetectionMethod, Lang, TokenKind,
};
use common::{from_sample, has_token, texts, texts_of_kind};

#[test]
fn folding_table() {
    let cases = [
        ("Cœlacanthe", "coelacanthe"),
        ("Æsthetic", "aesthetic"),
        ("ﬁeld ﬂow", "field flow"),
        ("Linßen", "linssen"),
        ("Durán", "duran"),
        ("Müller", "muller"),
        ("Øystein Ørsted", "oystein orsted"),
        ("Łukasz Wałęsa", "lukasz walesa"),
        ("Đinđić", "dindic"),
        ("Þorsteinn", "thorsteinn"),
        ("ıi İI", "ii ii"),
        ("Ǆemal", "dzemal"),
        ("Ｔｏｋｙｏ", "tokyo"),
        ("Γκόλφω", "γκολφω"),
        ("Čapek Dvořák", "capek dvorak"),
        ("Çetintemel Uğur", "cetintemel ugur"),
    ];
    for (input, expected) in cases {
        assert_eq!(fold(input), expected, "fold({input:?})");
    }
}

#[test]
fn splitting_and_joined_forms() {
    let cases: [(&str, &[&str]); 8] = [
        ("o'brien", &["o", "obrien", "brien"]),
        ("O’Brien", &["o", "obrien", "brien"]),
        ("Crichton-Browne", &["crichton", "crichtonbrowne", "browne"]),
        ("snake_case", &["snake", "snakecase", "case"]),
        (
            "state-of-the-art",
            &["state", "stateoftheart", "of", "the", "art"],
        ),
        ("COVID-19", &["covid", "covid19", "19"]),
        ("Web 2.0 in 2024", &["web", "2.0", "in", "2024"]),
        ("1,000,000 points", &["1,000,000", "points"]),
    ];
    for (input, expected) in cases {
        assert_eq!(texts(&text_tokens(input)), expected, "tokens of {input:?}");
    }
}

#[test]
fn joined_form_shares_the_first_position_and_spans_the_word() {
    let tokens = text_tokens("dr Crichton-Browne");
    let joined = tokens
        .iter()
        .find(|token| token.kind == TokenKind::Joined)
        .unwrap();
    assert_eq!(joined.position, 1);
    assert_eq!(joined.position_length, 2);
    assert_eq!(
        &"dr Crichton-Browne"[joined.offset_from..joined.offset_to],
        "Crichton-Browne"
    );
    let positions: Vec<usize> = tokens.iter().map(|token| token.position).collect();
    assert_eq!(positions, vec![0, 1, 1, 2]);
}

#[test]
fn bigram_runs() {
    let tokens = text_tokens("知识图谱");
    assert_eq!(
        texts_of_kind(&tokens, TokenKind::Unigram),
        ["知", "识", "图", "谱"]
    );
    assert_eq!(
        texts_of_kind(&tokens, TokenKind::Bigram),
        ["知识", "识图", "图谱"]
    );
    let bigram = tokens.iter().find(|token| token.text == "识图").unwrap();
    assert_eq!(bigram.position, 1);

    let mixed = text_tokens("BERT for 日本語 text");
    assert_eq!(
        texts(&mixed),
        ["bert", "for", "日", "日本", "本", "本語", "語", "text"]
    );
}

#[test]
fn offsets_slice_whole_original_words() {
    let cases = [
        ("Wärmeschutz im Altbau", "warmeschutz", "Wärmeschutz"),
        ("Wa\u{308}rmeschutz", "warmeschutz", "Wa\u{308}rmeschutz"),
        ("The ﬁeld of view", "field", "ﬁeld"),
        ("Æsthetic theory", "aesthetic", "Æsthetic"),
        ("Straße und Weg", "strasse", "Straße"),
        ("ＵＮＩＣＯＤＥ text", "unicode", "ＵＮＩＣＯＤＥ"),
    ];
    for (input, token_text, original) in cases {
        let tokens = text_tokens(input);
        let token = tokens
            .iter()
            .find(|token| token.text == token_text)
            .unwrap_or_else(|| {
                panic!("no token {token_text:?} in {:?}", texts(&tokens));
            });
        assert_eq!(
            &input[token.offset_from..token.offset_to],
            original,
            "offsets in {input:?}"
        );
    }
}

#[test]
fn stemming_keeps_exact_tokens_apart() {
    let (language, stems) = stemmed_tokens("The analysis of running networks");
    assert_eq!(language.lang, Some(Lang::Eng));
    assert_eq!(texts(&stems), ["the", "analysi", "of", "run", "network"]);
    assert_eq!(
        texts(&text_tokens("running networks")),
        ["running", "networks"]
    );
}

#[test]
fn german_titles_from_the_samples() {
    let sample = "crossref/works-a.jsonl";
    let title = from_sample(
        sample,
        "Die Straße als politische Arena und Medium der Masse",
    );
    let detected = detect_language(title);
    assert_eq!(detected.lang, Some(Lang::Deu));
    assert!(has_token(&text_tokens(title), "strasse"));
    let (_, stems) = stemmed_tokens(title);
    assert!(has_token(&stems, "polit"), "{:?}", texts(&stems));

    let title = from_sample(
        sample,
        "Zur Problematik der Genese der Nierentubuli bei Vertebraten",
    );
    assert_eq!(detect_language(title).lang, Some(Lang::Deu));
}

#[test]
fn french_titles_from_the_samples() {
    let title = from_sample(
        "hal/ftunivsavoie_oai_HAL_hal-01062339v1.xml",
        "Une composante des conflits environnementaux",
    );
    let full_title = format!("{title} : la querelle de légitimité");
    assert_eq!(detect_language(&full_title).lang, Some(Lang::Fra));
    let tokens = text_tokens(&full_title);
    assert!(has_token(&tokens, "legitimite"));
    let (_, stems) = stemmed_tokens(&full_title);
    assert!(has_token(&stems, "environnemental"), "{:?}", texts(&stems));
}

#[test]
fn spanish_titles_from_the_samples() {
    let title = from_sample(
        "crossref/works-a.jsonl",
        "Arañas cavernícolas (araneae) de la región vasco-cantábrica: nuevos registros y actualizacion del conocimiento",
    );
    assert_eq!(detect_language(title).lang, Some(Lang::Spa));
    let tokens = text_tokens(title);
    for expected in [
        "aranas",
        "cavernicolas",
        "region",
        "vasco",
        "vascocantabrica",
        "cantabrica",
    ] {
        assert!(
            has_token(&tokens, expected),
            "{expected} in {:?}",
            texts(&tokens)
        );
    }
    let (language, stems) = stemmed_tokens(title);
    assert_eq!(language.stem_algorithm, Some(Algorithm::Spanish));
    assert!(has_token(&stems, "registr"), "{:?}", texts(&stems));
}

#[test]
fn czech_titles_from_the_samples() {
    let title = from_sample(
        "crossref/works-a.jsonl",
        "Staré a památné stromy v Čechách, na Moravě a ve Slezsku",
    );
    let tokens = text_tokens(title);
    assert_eq!(
        texts(&tokens),
        ["stare", "a", "pamatne", "stromy", "v", "cechach", "na", "morave", "a", "ve", "slezsku"]
    );
    // Czech has no Snowball stemmer: a value detected as Czech keeps its folded words.
    let detected = detect_language(title);
    assert_eq!(detected.lang, Some(Lang::Ces));
    assert_eq!(detected.stem_algorithm, None);
}

#[test]
fn turkish_titles_from_the_samples() {
    let title = from_sample("crossref/works-a.jsonl", "Türkiye’de Balık ve Balıkçılık");
    let tokens = text_tokens(title);
    assert_eq!(
        texts(&tokens),
        ["turkiye", "turkiyede", "de", "balik", "ve", "balikcilik"]
    );
    let title = from_sample(
        "crossref/works-a.jsonl",
        "Hangi aylarda hangi balıklar yenir",
    );
    assert!(has_token(&text_tokens(title), "baliklar"));
}

#[test]
fn russian_titles_from_the_samples() {
    let venue = from_sample(
        "openalex/works-2024-schema.jsonl",
        "Бизнес. Общество. Власть",
    );
    assert_eq!(texts(&text_tokens(venue)), ["бизнес", "общество", "власть"]);
    let (language, stems) = stemmed_tokens(venue);
    assert_eq!(language.stem_algorithm, Some(Algorithm::Russian));
    assert!(has_token(&stems, "обществ"), "{:?}", texts(&stems));
    assert_eq!(fold("Ёжик Йошкар"), "ежик иошкар");
}

#[test]
fn chinese_and_japanese_titles_from_the_samples() {
    let title = from_sample("crossref/works-b.jsonl", "陸賈新語道基編の研究");
    let tokens = text_tokens(title);
    for expected in ["陸賈", "新語", "研究", "の"] {
        assert!(
            has_token(&tokens, expected),
            "{expected} in {:?}",
            texts(&tokens)
        );
    }
    let title = from_sample("crossref/works-b.jsonl", "Zhongguo shi xue shi 中國史學史");
    let tokens = text_tokens(title);
    assert!(has_token(&tokens, "史學"));
    assert!(has_token(&tokens, "zhongguo"));
    for token in &tokens {
        assert!(
            title.is_char_boundary(token.offset_from) && title.is_char_boundary(token.offset_to)
        );
    }
    assert_eq!(detect_language(title).method, DetectionMethod::Unknown);
}

#[test]
fn korean_runs_are_bigrams() {
    let family = from_sample("crossref/works-a.jsonl", "조혜린");
    assert_eq!(
        texts(&text_tokens(family)),
        ["조", "조혜", "혜", "혜린", "린"]
    );
}
