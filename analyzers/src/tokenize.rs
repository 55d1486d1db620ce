//! Word segmentation with original byte offsets.
//!
//! Boundaries follow the Unicode word-boundary rules (UAX #29) reduced to what search needs,
//! in one pass without lookup tables for ASCII: letters, digits and combining marks form
//! words; an apostrophe, hyphen, underscore or period between two letters splits a word into
//! parts that are also indexed joined; a period or comma between two digits keeps a number
//! whole; runs of bigram scripts are handed to [`crate::cjk`].

use std::ops::Range;

use unicode_normalization::char::is_combining_mark;

use crate::cjk::is_bigram_script;
use crate::normalize::is_ignorable_in_word;

/// A piece of text found by [`segment`], with byte ranges into the segmented text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'p> {
    /// A word; `parts` has one range, or several for `o'brien`, `crichton-browne`, `j.q`.
    Word {
        /// The whole word, connectors included.
        span: Range<usize>,
        /// The parts between connectors, in order.
        parts: &'p [Range<usize>],
    },
    /// A run of Han, Hiragana, Katakana or Hangul characters.
    BigramRun {
        /// The whole run.
        span: Range<usize>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Letter,
    Digit,
    Mark,
    BigramScript,
    Connector,
    NumberSeparator,
    Period,
    Separator,
}

/// Calls `on_segment` for each word and each bigram-script run of `text`, in order.
pub fn segment(text: &str, mut on_segment: impl FnMut(Segment<'_>)) {
    let mut parts: Vec<Range<usize>> = Vec::new();
    let mut word_start: Option<usize> = None;
    let mut part_start = 0;
    let mut previous_class = CharClass::Separator;
    let mut chars = text.char_indices().peekable();

    while let Some((offset, ch)) = chars.next() {
        let class = classify(ch);
        let end = offset + ch.len_utf8();
        match class {
            CharClass::Letter | CharClass::Digit => {
                if word_start.is_none() {
                    word_start = Some(offset);
                    part_start = offset;
                }
                previous_class = class;
                continue;
            }
            CharClass::Mark if word_start.is_some() => continue,
            CharClass::BigramScript => {
                if let Some(start) = word_start.take() {
                    close_word(start, part_start, offset, &mut parts, &mut on_segment);
                }
                let mut run_end = end;
                while let Some(&(next_offset, next)) = chars.peek() {
                    if !is_bigram_script(next) && !is_combining_mark(next) {
                        break;
                    }
                    run_end = next_offset + next.len_utf8();
                    chars.next();
                }
                on_segment(Segment::BigramRun {
                    span: offset..run_end,
                });
                previous_class = CharClass::Separator;
                continue;
            }
            CharClass::Connector | CharClass::NumberSeparator | CharClass::Period => {
                if let Some(start) = word_start {
                    let next_class = chars
                        .peek()
                        .map_or(CharClass::Separator, |&(_, c)| classify(c));
                    let joins_number = class != CharClass::Connector
                        && previous_class == CharClass::Digit
                        && next_class == CharClass::Digit;
                    if joins_number {
                        continue;
                    }
                    let splits_word = class != CharClass::NumberSeparator
                        && matches!(next_class, CharClass::Letter | CharClass::Digit);
                    if splits_word {
                        parts.push(part_start..offset);
                        part_start = end;
                        continue;
                    }
                    close_word(start, part_start, offset, &mut parts, &mut on_segment);
                    word_start = None;
                }
            }
            CharClass::Mark | CharClass::Separator => {
                if let Some(start) = word_start.take() {
                    close_word(start, part_start, offset, &mut parts, &mut on_segment);
                }
            }
        }
        previous_class = CharClass::Separator;
    }

    if let Some(start) = word_start {
        close_word(start, part_start, text.len(), &mut parts, &mut on_segment);
    }
}

fn close_word(
    word_start: usize,
    part_start: usize,
    word_end: usize,
    parts: &mut Vec<Range<usize>>,
    on_segment: &mut impl FnMut(Segment<'_>),
) {
    parts.push(part_start..word_end);
    on_segment(Segment::Word {
        span: word_start..word_end,
        parts,
    });
    parts.clear();
}

#[inline]
fn classify(ch: char) -> CharClass {
    if ch.is_ascii() {
        return match ch {
            'a'..='z' | 'A'..='Z' => CharClass::Letter,
            '0'..='9' => CharClass::Digit,
            '\'' | '-' | '_' | '`' => CharClass::Connector,
            '.' => CharClass::Period,
            ',' => CharClass::NumberSeparator,
            _ => CharClass::Separator,
        };
    }
    classify_non_ascii(ch)
}

fn classify_non_ascii(ch: char) -> CharClass {
    if is_bigram_script(ch) {
        return CharClass::BigramScript;
    }
    if is_ignorable_in_word(ch) {
        return CharClass::Mark;
    }
    match ch {
        // Apostrophes as typed in names and titles, including the modifier letters used for
        // them, and the hyphens of Unicode (en dash joins `Navier–Stokes`).
        '\u{2019}' | '\u{2018}' | '\u{2BC}' | '\u{2BB}' | '\u{B4}' | '\u{2032}' | '\u{FF07}'
        | '\u{2010}' | '\u{2011}' | '\u{2013}' | '\u{FE63}' | '\u{FF0D}' | '\u{FF3F}' => {
            return CharClass::Connector
        }
        '\u{FF0E}' => return CharClass::Period,
        '\u{FF0C}' => return CharClass::NumberSeparator,
        _ => {}
    }
    if is_combining_mark(ch) {
        return CharClass::Mark;
    }
    if ch.is_numeric() {
        return CharClass::Digit;
    }
    if ch.is_alphabetic() {
        return CharClass::Letter;
    }
    CharClass::Separator
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, Vec<String>)> {
        let mut found = Vec::new();
        segment(text, |segment| match segment {
            Segment::Word { span, parts } => found.push((
                text[span].to_string(),
                parts
                    .iter()
                    .map(|part| text[part.clone()].to_string())
                    .collect(),
            )),
            Segment::BigramRun { span } => found.push((text[span].to_string(), Vec::new())),
        });
        found
    }

    /// A word as written and its parts.
    type ExpectedWord = (&'static str, &'static [&'static str]);

    #[test]
    fn segments_table() {
        let cases: &[(&str, &[ExpectedWord])] = &[
            (
                "Hello, world!",
                &[("Hello", &["Hello"]), ("world", &["world"])],
            ),
            ("O'Brien", &[("O'Brien", &["O", "Brien"])]),
            ("O’Brien", &[("O’Brien", &["O", "Brien"])]),
            (
                "Crichton-Browne",
                &[("Crichton-Browne", &["Crichton", "Browne"])],
            ),
            ("snake_case", &[("snake_case", &["snake", "case"])]),
            ("J.Q. Smith", &[("J.Q", &["J", "Q"]), ("Smith", &["Smith"])]),
            ("Web 2.0", &[("Web", &["Web"]), ("2.0", &["2.0"])]),
            (
                "1,000 tests",
                &[("1,000", &["1,000"]), ("tests", &["tests"])],
            ),
            ("a, b", &[("a", &["a"]), ("b", &["b"])]),
            ("'t Hooft", &[("t", &["t"]), ("Hooft", &["Hooft"])]),
            ("end-", &[("end", &["end"])]),
            ("a--b", &[("a", &["a"]), ("b", &["b"])]),
            ("Navier–Stokes", &[("Navier–Stokes", &["Navier", "Stokes"])]),
            ("Wärmeschutz", &[("Wärmeschutz", &["Wärmeschutz"])]),
            ("Wa\u{308}rme", &[("Wa\u{308}rme", &["Wa\u{308}rme"])]),
            ("ﬁeld", &[("ﬁeld", &["ﬁeld"])]),
            ("知识图谱abc", &[("知识图谱", &[]), ("abc", &["abc"])]),
            ("\u{301}", &[]),
            ("", &[]),
        ];
        for (input, expected) in cases {
            let expected: Vec<(String, Vec<String>)> = expected
                .iter()
                .map(|(word, parts)| {
                    (
                        word.to_string(),
                        parts.iter().map(|part| part.to_string()).collect(),
                    )
                })
                .collect();
            assert_eq!(words(input), expected, "segments of {input:?}");
        }
    }
}
