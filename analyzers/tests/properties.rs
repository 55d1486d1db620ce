//! Invariants over arbitrary input.
//!
//! Properties checked:
//! 1. Folding is idempotent.
//! 2. No analyzer panics: empty text, lone combining marks, unpaired surrogates escaped in
//!    JSON, 1 MiB strings, characters of every Unicode plane.
//! 3. Token offsets always slice the original text on character boundaries, and positions
//!    never decrease.

use analyzers::{
    analyze_query, fold, name_tokens, stemmed_tokens, text_tokens, AnalyzedToken, PersonName,
};
use proptest::prelude::*;

fn assert_offsets_valid(text: &str, tokens: &[AnalyzedToken]) {
    let mut last_position = 0;
    for token in tokens {
        assert!(token.offset_from <= token.offset_to && token.offset_to <= text.len());
        assert!(
            text.is_char_boundary(token.offset_from),
            "{token:?} in {text:?}"
        );
        assert!(
            text.is_char_boundary(token.offset_to),
            "{token:?} in {text:?}"
        );
        assert!(!token.text.is_empty(), "empty token in {text:?}");
        assert!(token.position >= last_position || token.position + 1 >= last_position);
        last_position = last_position.max(token.position);
    }
}

fn analyze_everything(text: &str) {
    assert_offsets_valid(text, &text_tokens(text));
    assert_offsets_valid(text, &stemmed_tokens(text).1);
    assert_offsets_valid(text, &name_tokens(text));
    let _ = PersonName::parse(text).keys();
    let _ = analyze_query(text);
}

/// Strings mixing scripts, marks, connectors and characters of every plane.
fn mixed_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(String::from),
        Just("\u{301}".to_string()),
        Just("ﬁ".to_string()),
        Just("ß".to_string()),
        Just("İ".to_string()),
        Just("'".to_string()),
        Just("-".to_string()),
        Just(".".to_string()),
        Just(",".to_string()),
        Just(" ".to_string()),
        Just("\"".to_string()),
        Just("知识".to_string()),
        Just("か\u{3099}".to_string()),
        Just("Müller".to_string()),
        "[a-zA-Z0-9]{1,8}",
        "\\PC{1,4}",
    ];
    prop::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn folding_is_idempotent(text in mixed_text()) {
        let once = fold(&text);
        prop_assert_eq!(fold(&once), once);
    }

    #[test]
    fn folding_any_char_is_idempotent(ch in any::<char>()) {
        let once = fold(&ch.to_string());
        prop_assert_eq!(fold(&once), once);
    }

    #[test]
    fn analysis_never_panics_and_offsets_are_valid(text in mixed_text()) {
        analyze_everything(&text);
    }
}

#[test]
fn edge_inputs() {
    let inputs = [
        String::new(),
        "\u{301}".to_string(),
        "\u{301}\u{302}\u{303}".to_string(),
        "a\u{301}\u{302}".to_string(),
        "\u{FEFF}".to_string(),
        "\u{AD}".to_string(),
        "'-'-'".to_string(),
        "\u{10FFFF}\u{E000}\u{F0000}".to_string(),
        ",,,".to_string(),
    ];
    for input in &inputs {
        analyze_everything(input);
    }
}

#[test]
fn unpaired_surrogates_escaped_in_json_are_replaced_not_fatal() {
    let decoded: String = serde_json::from_str(r#""a\ud800b""#)
        .or_else(|_| serde_json::from_slice::<String>(br#""a\ud800b""#))
        .unwrap_or_else(|_| String::from_utf8_lossy(b"a\xED\xA0\x80b").into_owned());
    analyze_everything(&decoded);
    let lossy = String::from_utf8_lossy(b"caf\xC3 \xED\xA0\x80 name").into_owned();
    analyze_everything(&lossy);
}

#[test]
fn every_unicode_plane() {
    let mut text = String::new();
    for plane in 0u32..=16 {
        for offset in (0..0x1_0000).step_by(0x0FFF) {
            if let Some(ch) = char::from_u32(plane * 0x1_0000 + offset) {
                text.push(ch);
                text.push(if offset % 2 == 0 { ' ' } else { 'a' });
            }
        }
    }
    analyze_everything(&text);
    assert_eq!(fold(&fold(&text)), fold(&text));
}

#[test]
fn one_mebibyte_strings() {
    let latin = "Wärmeschutz-Verfahren für O'Brien's ﬁeld 2.0 ".repeat(1 << 14);
    let latin = &latin[..latin.floor_char_boundary_compat(1 << 20)];
    analyze_everything(latin);
    let cjk = "知识图谱".repeat((1 << 20) / 12);
    analyze_everything(&cjk);
    let one_word = "a".repeat(1 << 20);
    assert_eq!(text_tokens(&one_word).len(), 1);
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, index: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, index: usize) -> usize {
        let mut boundary = index.min(self.len());
        while !self.is_char_boundary(boundary) {
            boundary -= 1;
        }
        boundary
    }
}
