//! Scripts written without spaces between words (Han, Hiragana, Katakana, Hangul): their runs
//! are indexed as single characters plus overlapping bigrams, so a word inside a longer run
//! is found without a dictionary.

use std::ops::Range;

use unicode_normalization::char::is_combining_mark;

/// Returns true for characters of the scripts indexed as bigrams.
pub fn is_bigram_script(ch: char) -> bool {
    matches!(ch,
        '\u{1100}'..='\u{11FF}'      // Hangul Jamo
        | '\u{2E80}'..='\u{2FDF}'    // CJK radicals, Kangxi radicals
        | '\u{3005}'..='\u{3007}'    // iteration mark, closing mark, ideographic zero
        | '\u{3021}'..='\u{3029}'    // Hangzhou numerals
        | '\u{3031}'..='\u{3035}'    // kana repeat marks
        | '\u{3040}'..='\u{30FF}'    // Hiragana, Katakana
        | '\u{3130}'..='\u{318F}'    // Hangul compatibility Jamo
        | '\u{31F0}'..='\u{31FF}'    // Katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}'    // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'    // CJK unified ideographs
        | '\u{A960}'..='\u{A97F}'    // Hangul Jamo extended A
        | '\u{AC00}'..='\u{D7FF}'    // Hangul syllables, Jamo extended B
        | '\u{F900}'..='\u{FAFF}'    // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}'    // halfwidth Katakana
        | '\u{FFA0}'..='\u{FFDC}'    // halfwidth Hangul
        | '\u{20000}'..='\u{3134F}') // CJK extensions B to G
}

/// Splits a run of bigram-script text into units: one base character with the combining
/// marks that follow it (a voicing mark written apart stays with its kana).
pub(crate) fn units(run: &str, run_start: usize, units: &mut Vec<Range<usize>>) {
    units.clear();
    for (offset, ch) in run.char_indices() {
        let start = run_start + offset;
        let end = start + ch.len_utf8();
        match units.last_mut() {
            Some(last) if is_combining_mark(ch) => last.end = end,
            _ => units.push(start..end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_scripts() {
        for ch in ['漢', 'ひ', 'カ', 'ー', '한', '々', '𠀋'] {
            assert!(is_bigram_script(ch), "{ch} is a bigram script");
        }
        for ch in ['a', 'é', 'Ж', 'ก', '1', '。'] {
            assert!(!is_bigram_script(ch), "{ch} is not a bigram script");
        }
    }

    #[test]
    fn units_keep_marks_with_their_base() {
        let run = "か\u{3099}き";
        let mut found = Vec::new();
        units(run, 10, &mut found);
        assert_eq!(found, vec![10..16, 16..19]);
    }
}
