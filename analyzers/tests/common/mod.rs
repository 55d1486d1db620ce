//! Helpers shared by the integration tests: where the real samples are, and token views.

#![allow(dead_code)]

use std::path::PathBuf;

use analyzers::{AnalyzedToken, TokenKind};

/// Returns the real-data folder: `ATLAS_SAMPLES_DIR`, or `../shared/data` from the
/// workspace root.
pub fn samples_dir() -> PathBuf {
    std::env::var_os("ATLAS_SAMPLES_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    )
}

/// Reads a sample file as text.
pub fn read_sample(relative_path: &str) -> String {
    let path = samples_dir().join(relative_path);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("failed to read sample `{}`: {error}", path.display()))
}

/// Returns `text` after checking that the sample file holds it, so a test table quotes real
/// records without copying the data set. JSON files escape non-ASCII rarely; both the raw
/// and the JSON-escaped spelling are accepted.
pub fn from_sample<'t>(relative_path: &str, text: &'t str) -> &'t str {
    let contents = read_sample(relative_path);
    let escaped = serde_json::to_string(text).unwrap_or_default();
    let escaped = escaped.trim_matches('"');
    assert!(
        contents.contains(text) || contents.contains(escaped),
        "sample `{relative_path}` does not contain {text:?}"
    );
    text
}

/// Returns the texts of the tokens, in order.
pub fn texts(tokens: &[AnalyzedToken]) -> Vec<&str> {
    tokens.iter().map(|token| token.text.as_str()).collect()
}

/// Returns the texts of the tokens of one kind.
pub fn texts_of_kind(tokens: &[AnalyzedToken], kind: TokenKind) -> Vec<&str> {
    tokens
        .iter()
        .filter(|token| token.kind == kind)
        .map(|token| token.text.as_str())
        .collect()
}

/// Returns true when `tokens` holds `text`.
pub fn has_token(tokens: &[AnalyzedToken], text: &str) -> bool {
    tokens.iter().any(|token| token.text == text)
}
