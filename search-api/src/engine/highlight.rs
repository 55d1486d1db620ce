//! `_formatted` and `_matchesPosition`: query words marked in attribute values, values
//! cropped around their best matches, and the byte ranges of the matches.
//!
//! Marks and ranges cover whole original words, from the analyzers' original byte offsets,
//! so a word whose folded form is shorter or longer than the original (`Wärmeschutz`,
//! `ﬁeld`) is marked whole. As in Meilisearch, `start` and `length` count bytes of the
//! UTF-8 value, not characters.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Range;

use analyzers::TokenKind;
use serde_json::Value;

use super::catalog::{Analysis, IndexCatalog, ValueKind};
use super::query::QueryPlan;
use super::rank::{analyse, find_hits, FieldHit, ValueSite};
use crate::params::{AttributeSelection, ValidatedSearch};
use crate::response::{Document, MatchBounds};

/// What a hit carries besides its document.
#[derive(Debug, Default)]
pub struct Formatted {
    /// The `_formatted` object, when highlighting or cropping was asked for.
    pub formatted: Option<Document>,
    /// The `_matchesPosition` object, when asked for.
    pub matches_position: Option<BTreeMap<String, Vec<MatchBounds>>>,
}

/// Returns `_formatted` and `_matchesPosition` of one hit.
///
/// `document` holds every displayed attribute, `retrieved` the attributes the hit shows;
/// `hits` are the matches found while ranking, in the searched attributes.
pub fn format_hit(
    catalog: &IndexCatalog,
    plan: Option<&QueryPlan>,
    search: &ValidatedSearch,
    document: &Document,
    retrieved: &Document,
    hits: &[FieldHit],
) -> Formatted {
    let mut result = Formatted::default();
    if search.show_matches_position {
        result.matches_position = Some(matches_position(catalog, hits));
    }
    let wants_formatting =
        !search.attributes_to_highlight.is_empty() || !search.attributes_to_crop.is_empty();
    if !wants_formatting {
        return result;
    }

    let highlighted = |name: &str| match &search.attributes_to_highlight {
        AttributeSelection::All => true,
        AttributeSelection::Only(names) => names.iter().any(|wanted| wanted == name),
    };
    let crop_length = |name: &str| {
        search
            .attributes_to_crop
            .iter()
            .find(|crop| crop.attribute == name || crop.attribute == "*")
            .map(|crop| crop.crop_length)
    };

    let mut formatted = Document::new();
    for attribute in catalog.attributes {
        let name = attribute.name;
        let is_highlighted = highlighted(name);
        let crop = crop_length(name);
        let shown = retrieved.contains_key(name) || is_highlighted || crop.is_some();
        let Some(value) = document.get(name).filter(|_| shown) else {
            continue;
        };
        let ValueKind::Text(analysis) = attribute.value else {
            formatted.insert(name.to_owned(), value.clone());
            continue;
        };
        if !is_highlighted && crop.is_none() {
            formatted.insert(name.to_owned(), value.clone());
            continue;
        }
        let value_hits = attribute_hits(plan, name, analysis, value, hits);
        let format_text = |index: usize, text: &str| {
            let ranges: Vec<(Range<usize>, usize)> = value_hits
                .iter()
                .filter(|hit| hit.value_index == index)
                .map(|hit| (hit.byte_range.clone(), hit.unit))
                .collect();
            let tags = is_highlighted.then_some((
                search.highlight_pre_tag.as_str(),
                search.highlight_post_tag.as_str(),
            ));
            match crop {
                Some(crop_length) => crop_text(
                    text,
                    analysis,
                    &ranges,
                    crop_length,
                    &search.crop_marker,
                    tags,
                ),
                None => mark(text, &ranges, 0..text.len(), tags),
            }
        };
        let formatted_value = match value {
            Value::String(text) => Value::from(format_text(0, text)),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| match item {
                        Value::String(text) => Value::from(format_text(index, text)),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            other => other.clone(),
        };
        formatted.insert(name.to_owned(), formatted_value);
    }
    result.formatted = Some(formatted);
    result
}

/// Returns the matches of an attribute: those found while ranking when it was searched,
/// else found now in its value.
fn attribute_hits(
    plan: Option<&QueryPlan>,
    name: &'static str,
    analysis: Analysis,
    value: &Value,
    hits: &[FieldHit],
) -> Vec<FieldHit> {
    let Some(plan) = plan else {
        return Vec::new();
    };
    let was_searched = plan
        .attributes
        .iter()
        .any(|attribute| attribute.spec.fields.contains(&name));
    if was_searched {
        return hits
            .iter()
            .filter(|hit| hit.attribute == name)
            .cloned()
            .collect();
    }
    let mut found = Vec::new();
    let texts: Vec<&str> = match value {
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for (value_index, text) in texts.into_iter().enumerate() {
        let site = ValueSite {
            attribute: name,
            value_index,
            analysis,
            attribute_rank: 0,
            allows_typos: true,
            has_stem: false,
        };
        find_hits(plan, site, text, &mut found);
    }
    found
}

/// Returns `_matchesPosition`: per attribute, the byte ranges of the matches, with the
/// index of the element for list attributes.
fn matches_position(
    catalog: &IndexCatalog,
    hits: &[FieldHit],
) -> BTreeMap<String, Vec<MatchBounds>> {
    let mut by_attribute: BTreeMap<String, BTreeSet<(usize, usize, usize)>> = BTreeMap::new();
    for hit in hits {
        by_attribute
            .entry(hit.attribute.to_owned())
            .or_default()
            .insert((
                hit.value_index,
                hit.byte_range.start,
                hit.byte_range.end - hit.byte_range.start,
            ));
    }
    by_attribute
        .into_iter()
        .map(|(name, bounds)| {
            let is_array = catalog
                .attribute(&name)
                .is_some_and(|attribute| attribute.is_array);
            let bounds = bounds
                .into_iter()
                .map(|(value_index, start, length)| MatchBounds {
                    start,
                    length,
                    indices: is_array.then(|| vec![value_index]),
                })
                .collect();
            (name, bounds)
        })
        .collect()
}

/// Returns `text[window]` with the matched ranges inside it marked by `tags`; overlapping
/// ranges are merged.
fn mark(
    text: &str,
    ranges: &[(Range<usize>, usize)],
    window: Range<usize>,
    tags: Option<(&str, &str)>,
) -> String {
    let Some((pre_tag, post_tag)) = tags else {
        return text[window].to_owned();
    };
    let mut sorted: Vec<Range<usize>> = ranges
        .iter()
        .map(|(range, _)| range.start.max(window.start)..range.end.min(window.end))
        .filter(|range| range.start < range.end)
        .collect();
    sorted.sort_by_key(|range| (range.start, range.end));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for range in sorted {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    let mut marked =
        String::with_capacity(window.len() + merged.len() * (pre_tag.len() + post_tag.len()));
    let mut cursor = window.start;
    for range in merged {
        marked.push_str(&text[cursor..range.start]);
        marked.push_str(pre_tag);
        marked.push_str(&text[range.clone()]);
        marked.push_str(post_tag);
        cursor = range.end;
    }
    marked.push_str(&text[cursor..window.end]);
    marked
}

/// Returns `crop_length` words of `text` around its best matches, marked, with the crop
/// marker where words were cut. The best window holds the most distinct query units, then
/// the most matches, with the matches nearest its middle.
fn crop_text(
    text: &str,
    analysis: Analysis,
    ranges: &[(Range<usize>, usize)],
    crop_length: usize,
    crop_marker: &str,
    tags: Option<(&str, &str)>,
) -> String {
    let words = word_ranges(text, analysis);
    if words.len() <= crop_length {
        return mark(text, ranges, 0..text.len(), tags);
    }
    if crop_length == 0 {
        return crop_marker.to_owned();
    }
    let word_of = |byte: usize| words.iter().position(|word| word.end > byte);
    let matched: Vec<(usize, usize)> = ranges
        .iter()
        .filter_map(|(range, unit)| Some((word_of(range.start)?, *unit)))
        .collect();

    let mut best_start = 0;
    let mut best_rank = (0usize, 0usize, std::cmp::Reverse(usize::MAX));
    for start in 0..=words.len() - crop_length {
        let end = start + crop_length;
        let inside: Vec<&(usize, usize)> = matched
            .iter()
            .filter(|(word, _)| (start..end).contains(word))
            .collect();
        let distinct: HashSet<usize> = inside.iter().map(|(_, unit)| *unit).collect();
        let off_center = if inside.is_empty() {
            start
        } else {
            let first = inside.iter().map(|(word, _)| *word).min().unwrap_or(start);
            let last = inside.iter().map(|(word, _)| *word).max().unwrap_or(start);
            (first - start).abs_diff(end - 1 - last)
        };
        let rank = (distinct.len(), inside.len(), std::cmp::Reverse(off_center));
        if rank > best_rank {
            best_rank = rank;
            best_start = start;
        }
    }

    let window = words[best_start].start..words[best_start + crop_length - 1].end;
    let mut cropped = String::new();
    if best_start > 0 {
        cropped.push_str(crop_marker);
    }
    cropped.push_str(&mark(text, ranges, window, tags));
    if best_start + crop_length < words.len() {
        cropped.push_str(crop_marker);
    }
    cropped
}

/// Returns the byte ranges of the words of a value, in order: whole words, parts of split
/// words counted separately as the analyzer positions them.
fn word_ranges(text: &str, analysis: Analysis) -> Vec<Range<usize>> {
    let mut words: Vec<(usize, Range<usize>)> = analyse(analysis, text)
        .into_iter()
        .filter(|token| {
            matches!(
                token.kind,
                TokenKind::Word | TokenKind::Part | TokenKind::Unigram
            )
        })
        .map(|token| (token.position, token.offset_from..token.offset_to))
        .collect();
    words.sort_by_key(|(position, range)| (*position, range.start));
    words.dedup_by_key(|(position, _)| *position);
    words.into_iter().map(|(_, range)| range).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_whole_original_words() {
        let text = "Wärmeschutz im Hochbau";
        let marked = mark(text, &[(0..12, 0)], 0..text.len(), Some(("<em>", "</em>")));
        assert_eq!(marked, "<em>Wärmeschutz</em> im Hochbau");
    }

    #[test]
    fn merges_overlapping_marks() {
        let text = "O'Brien";
        let marked = mark(text, &[(0..7, 0), (2..7, 1)], 0..7, Some(("[", "]")));
        assert_eq!(marked, "[O'Brien]");
    }

    #[test]
    fn crops_around_the_best_matches() {
        let text = "one two three four five six seven eight nine ten eleven twelve";
        let seven = text.find("seven").unwrap();
        let ranges = vec![(seven..seven + 5, 0)];
        let cropped = crop_text(text, Analysis::Text, &ranges, 3, "…", Some(("<", ">")));
        assert_eq!(cropped, "…six <seven> eight…");
        let uncropped = crop_text("short text", Analysis::Text, &[], 5, "…", None);
        assert_eq!(uncropped, "short text");
        let start = crop_text(text, Analysis::Text, &[], 2, "…", None);
        assert_eq!(start, "one two…");
    }
}
