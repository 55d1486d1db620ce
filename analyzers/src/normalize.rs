//! Unicode folding: compatibility decomposition, full case folding, removal of diacritics and
//! an explicit table for letters that do not decompose, so that every spelling of a word
//! reaches the same indexed term.

use unicode_normalization::char::decompose_compatible;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Returns the folded form of `text`: NFKC, full case folding, diacritics removed, and letters
/// without a decomposition (ß, æ, œ, ø, đ, ł, þ, ı…) spelled out in ASCII.
///
/// Folding is idempotent: `fold(&fold(s)) == fold(s)` for every string.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    fold_into(text, &mut folded);
    folded
}

/// Appends the folded form of `text` to `out`, reusing its allocation.
pub fn fold_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        out.extend(
            text.bytes()
                .map(|byte| char::from(byte.to_ascii_lowercase())),
        );
        return;
    }

    let start = out.len();
    let mut needs_recomposition = false;
    for ch in text.chars() {
        if ch.is_ascii() {
            out.push(ch.to_ascii_lowercase());
            continue;
        }
        decompose_compatible(ch, |decomposed| {
            push_case_folded(decomposed, out, &mut needs_recomposition);
        });
    }

    if needs_recomposition && is_nfc_quick(out[start..].chars()) != IsNormalized::Yes {
        let recomposed: String = out[start..].nfc().collect();
        out.truncate(start);
        out.push_str(&recomposed);
    }
}

/// Returns the folded form of `text` with German umlauts written as digraphs (`ä` → `ae`,
/// `ö` → `oe`, `ü` → `ue`), or `None` when `text` has no umlaut.
///
/// German names are spelled both ways (`Müller`, `Mueller`); sources that lost diacritics
/// write the third form `Muller`, which plain folding already produces.
pub fn fold_with_digraphs(text: &str) -> Option<String> {
    if text.is_ascii() {
        return None;
    }
    let mut spelled_out = String::with_capacity(text.len() + 4);
    let mut has_umlaut = false;
    let mut previous_base: Option<char> = None;
    for ch in text.nfd() {
        if ch == '\u{308}' && matches!(previous_base, Some('a' | 'o' | 'u' | 'A' | 'O' | 'U')) {
            spelled_out.push('e');
            has_umlaut = true;
            previous_base = None;
            continue;
        }
        spelled_out.push(ch);
        previous_base = Some(ch);
    }
    has_umlaut.then(|| fold(&spelled_out))
}

/// Returns true for combining marks that are diacritics to drop when folding: the generic
/// combining blocks, Hebrew points and Arabic vowel marks.
///
/// Marks that carry meaning in their script (Indic vowel signs, Thai marks, the Japanese
/// voicing marks) are kept and recomposed.
pub fn is_diacritic_mark(ch: char) -> bool {
    matches!(ch,
        '\u{300}'..='\u{36F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{591}'..='\u{5BD}'
        | '\u{5BF}'
        | '\u{5C1}'..='\u{5C2}'
        | '\u{5C4}'..='\u{5C5}'
        | '\u{5C7}'
        | '\u{610}'..='\u{61A}'
        | '\u{64B}'..='\u{65F}'
        | '\u{670}'
        | '\u{6D6}'..='\u{6DC}'
        | '\u{6DF}'..='\u{6E4}'
        | '\u{6E7}'..='\u{6E8}'
        | '\u{6EA}'..='\u{6ED}')
}

/// Returns true for characters that are invisible inside a word and dropped by folding:
/// soft hyphen, zero-width joiners, word joiner, byte order mark, Catalan middle dot.
pub fn is_ignorable_in_word(ch: char) -> bool {
    matches!(
        ch,
        '\u{AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{B7}'
    )
}

fn push_case_folded(ch: char, out: &mut String, needs_recomposition: &mut bool) {
    if is_diacritic_mark(ch) || is_ignorable_in_word(ch) {
        return;
    }
    if ch.is_ascii() {
        out.push(ch.to_ascii_lowercase());
        return;
    }
    for lower in ch.to_lowercase() {
        if is_diacritic_mark(lower) {
            continue;
        }
        if let Some(spelled) = spelled_out_letter(lower) {
            out.push_str(spelled);
            continue;
        }
        if !lower.is_ascii() {
            *needs_recomposition = true;
        }
        out.push(lower);
    }
}

/// Spells out lowercase letters that have no Unicode decomposition, and the case foldings
/// that differ from lowercasing (`ß`, final sigma). The table follows the Latin letters of
/// the Unicode `ASCII folding` tradition (Lucene's `ASCIIFoldingFilter`, ICU folding).
fn spelled_out_letter(lower: char) -> Option<&'static str> {
    let spelled = match lower {
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'đ' | 'ð' | 'ɖ' | 'ɗ' => "d",
        'ł' | 'ƚ' => "l",
        'þ' => "th",
        'ı' | 'ɨ' => "i",
        'ħ' => "h",
        'ŧ' | 'ƭ' | 'ʈ' => "t",
        'ŋ' | 'ɲ' | 'ƞ' => "n",
        'ĸ' | 'ƙ' => "k",
        'ȷ' => "j",
        'ƒ' => "f",
        'ʉ' => "u",
        'ɵ' => "o",
        'ƀ' | 'ɓ' => "b",
        'ƈ' => "c",
        'ɠ' => "g",
        'ƥ' => "p",
        'ɍ' => "r",
        'ʂ' => "s",
        'ʋ' => "v",
        'ƴ' => "y",
        'ȥ' | 'ʐ' | 'ʑ' | 'ɀ' => "z",
        'ς' => "σ",
        _ => return None,
    };
    Some(spelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_table() {
        let cases = [
            ("Cœlacanthe", "coelacanthe"),
            ("Æsthetic", "aesthetic"),
            ("ﬁeld", "field"),
            ("Linßen", "linssen"),
            ("STRASSE", "strasse"),
            ("Straße", "strasse"),
            ("Durán", "duran"),
            ("Wärmeschutz", "warmeschutz"),
            ("Øresund", "oresund"),
            ("Łódź", "lodz"),
            ("Đorđević", "dordevic"),
            ("Þórr", "thorr"),
            ("ISTANBUL İstanbul ıstanbul", "istanbul istanbul istanbul"),
            ("Ｆｕｌｌ", "full"),
            ("ΟΔΥΣΣΕΥΣ", "οδυσσευσ"),
            ("Ёлка", "елка"),
            ("Wärme\u{AD}schutz", "warmeschutz"),
            ("がっこう", "がっこう"),
            ("한국어", "한국어"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(fold(input), expected, "fold({input:?})");
        }
    }

    #[test]
    fn folds_decomposed_and_precomposed_alike() {
        assert_eq!(fold("Mu\u{308}ller"), fold("Müller"));
        assert_eq!(fold("\u{301}"), "");
    }

    #[test]
    fn digraph_variants() {
        assert_eq!(fold_with_digraphs("Müller").as_deref(), Some("mueller"));
        assert_eq!(fold_with_digraphs("MÜLLER").as_deref(), Some("mueller"));
        assert_eq!(
            fold_with_digraphs("Go\u{308}del").as_deref(),
            Some("goedel")
        );
        assert_eq!(fold_with_digraphs("Mueller"), None);
        assert_eq!(fold_with_digraphs("Durán"), None);
    }
}
