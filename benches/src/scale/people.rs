//! Synthetic people: a name drawn from one country's real forenames and surnames, an
//! optional middle name and ORCID iD, and the forms their name takes in records (initials,
//! "Last, First", lost accents, local script, typos).

use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use super::rng::SeededRng;
use super::vocabulary::{LocalName, Vocabulary};

/// Countries whose names are written family name first, without a space, in their script.
const FAMILY_FIRST_COUNTRIES: [&str; 4] = ["CN", "JP", "KR", "TW"];

/// 2026-01-01T00:00:00Z in milliseconds: the time part of every synthetic profile id.
const PROFILE_ID_MILLIS: u64 = 1_767_225_600_000;

/// One person of the corpus, regenerated on demand from its number.
#[derive(Debug, Clone)]
pub struct Person {
    /// The person's number; people below the corpus's profile count have a profile.
    pub number: u64,
    /// Country of the name.
    pub country: String,
    /// Given name.
    pub given: LocalName,
    /// Middle name, when the person has one.
    pub middle: Option<LocalName>,
    /// Family name.
    pub family: LocalName,
    /// ORCID iD, bare, when the person has one.
    pub orcid: Option<String>,
}

/// The ways a person's name is written in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameStyle {
    /// `Hans Peter Müller`, as OpenAlex displays it.
    Full,
    /// `Müller, Hans`.
    FamilyComma,
    /// `H. P. Müller`.
    Initials,
    /// `Müller HP`, as PubMed writes it.
    FamilyInitials,
    /// `Hans Muller`: the accents lost.
    Folded,
    /// The local script (`王伟`), or the full name where it is Latin already.
    Localized,
}

impl Person {
    /// Returns person `number` of the corpus of `seed`; `has_orcid` is the chance of an
    /// ORCID iD.
    pub fn generate(vocabulary: &Vocabulary, seed: u64, number: u64, orcid_chance: f64) -> Person {
        let mut rng = SeededRng::for_entity(seed, "person", number);
        let names = &vocabulary.countries[rng.index(vocabulary.countries.len())];
        let given = names.forenames[rng.zipf_index(names.forenames.len())].clone();
        let middle = rng
            .chance(0.25)
            .then(|| names.forenames[rng.zipf_index(names.forenames.len())].clone())
            .filter(|middle| middle.romanized != given.romanized);
        let family = names.surnames[rng.zipf_index(names.surnames.len())].clone();
        let orcid = rng.chance(orcid_chance).then(|| orcid_of(seed, number));
        Person {
            number,
            country: names.country.clone(),
            given,
            middle,
            family,
            orcid,
        }
    }

    /// Returns the name, given name first, in Latin letters with its accents.
    pub fn full_name(&self) -> String {
        match &self.middle {
            Some(middle) => format!(
                "{} {} {}",
                self.given.romanized, middle.romanized, self.family.romanized
            ),
            None => format!("{} {}", self.given.romanized, self.family.romanized),
        }
    }

    /// Returns the name in `style`.
    pub fn name_in(&self, style: NameStyle) -> String {
        let initials = || {
            let mut initials = vec![initial(&self.given.romanized)];
            initials.extend(
                self.middle
                    .as_ref()
                    .map(|middle| initial(&middle.romanized)),
            );
            initials
        };
        match style {
            NameStyle::Full => self.full_name(),
            NameStyle::FamilyComma => {
                format!("{}, {}", self.family.romanized, self.given.romanized)
            }
            NameStyle::Initials => {
                let initials: Vec<String> = initials().iter().map(|i| format!("{i}.")).collect();
                format!("{} {}", initials.join(" "), self.family.romanized)
            }
            NameStyle::FamilyInitials => {
                format!("{} {}", self.family.romanized, initials().concat())
            }
            NameStyle::Folded => fold_accents(&self.full_name()),
            NameStyle::Localized => {
                if FAMILY_FIRST_COUNTRIES.contains(&self.country.as_str())
                    && self.family.localized != self.family.romanized
                {
                    format!("{}{}", self.family.localized, self.given.localized)
                } else {
                    format!("{} {}", self.given.localized, self.family.localized)
                }
            }
        }
    }

    /// Returns the key under which homonyms meet: given and family name, folded.
    pub fn name_key(&self) -> String {
        fold_key(&format!(
            "{} {}",
            self.given.romanized, self.family.romanized
        ))
    }

    /// Returns the key under which people sharing an initial and family name meet.
    pub fn initial_key(&self) -> String {
        fold_key(&format!(
            "{} {}",
            initial(&self.given.romanized),
            self.family.romanized
        ))
    }

    /// Returns the name forms a profile of this person lists, the display name first.
    pub fn profile_name_forms(&self) -> Vec<String> {
        let mut forms: Vec<String> = Vec::new();
        for style in [
            NameStyle::Full,
            NameStyle::FamilyComma,
            NameStyle::Initials,
            NameStyle::Folded,
            NameStyle::Localized,
        ] {
            let form = self.name_in(style);
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
        forms
    }
}

/// Returns the id of the profile of person `number`: a UUIDv7 with a fixed time, the seed
/// in its first random bits and the number in its last ones, so ids sort as people do.
pub fn profile_id(seed: u64, number: u64) -> Uuid {
    let mut bits: u128 = u128::from(PROFILE_ID_MILLIS) << 80;
    bits |= 0x7 << 76;
    bits |= u128::from(seed & 0xfff) << 64;
    bits |= 0b10 << 62;
    bits |= u128::from(number & 0x3fff_ffff_ffff_ffff);
    Uuid::from_u128(bits)
}

/// Returns a valid ORCID iD for person `number`, its check digit computed as ORCID does
/// (ISO 7064 MOD 11-2).
pub fn orcid_of(seed: u64, number: u64) -> String {
    let base = 200_000_000_u64 + number * 13 + seed % 13;
    let digits = format!("{base:015}");
    let mut total = 0_u32;
    for digit in digits.bytes() {
        total = (total + u32::from(digit - b'0')) * 2;
    }
    let check = (12 - total % 11) % 11;
    let check = if check == 10 {
        'X'
    } else {
        char::from_digit(check, 10).unwrap_or('0')
    };
    format!(
        "{}-{}-{}-{}{check}",
        &digits[0..4],
        &digits[4..8],
        &digits[8..12],
        &digits[12..15]
    )
}

fn initial(name: &str) -> String {
    name.chars().next().map(String::from).unwrap_or_default()
}

/// Returns `text` with its diacritics removed, as a source that lost them writes it.
pub fn fold_accents(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for character in text.nfd() {
        match character {
            'ß' => folded.push_str("ss"),
            'ł' => folded.push('l'),
            'Ł' => folded.push('L'),
            'ø' => folded.push('o'),
            'Ø' => folded.push('O'),
            'đ' => folded.push('d'),
            'Đ' => folded.push('D'),
            'ı' => folded.push('i'),
            '\u{0300}'..='\u{036f}' => {}
            other => folded.push(other),
        }
    }
    folded
}

/// Returns `text` without its letters outside ASCII, as DBLP's side of the DBLP-ACM
/// benchmark lost them ("Ugur etintemel").
pub fn drop_non_ascii(text: &str) -> String {
    text.chars().filter(char::is_ascii).collect()
}

fn fold_key(text: &str) -> String {
    fold_accents(text).to_lowercase()
}

/// Returns `word` with one typing error at a drawn position: a letter replaced, two
/// swapped, or one dropped.
pub fn with_typo(word: &str, rng: &mut SeededRng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 3 {
        return word.to_owned();
    }
    // Not the first letter: people rarely mistype it, and engines rightly require it.
    let position = 1 + rng.index(chars.len() - 1);
    match rng.below(3) {
        0 => {
            let replacement = (b'a' + rng.below(26) as u8) as char;
            chars[position] = if chars[position] == replacement {
                'x'
            } else {
                replacement
            };
        }
        1 if position + 1 < chars.len() && chars[position] != chars[position + 1] => {
            chars.swap(position, position + 1);
        }
        _ => {
            chars.remove(position);
        }
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orcid_check_digits_are_valid() {
        // The example iD of ORCID's documentation.
        let digits = "000000021825009";
        let mut total = 0_u32;
        for digit in digits.bytes() {
            total = (total + u32::from(digit - b'0')) * 2;
        }
        assert_eq!((12 - total % 11) % 11, 7);
        let orcid = orcid_of(42, 12);
        assert_eq!(orcid.len(), 19);
        assert_eq!(
            indexer::index::extract::normalize_orcid(&orcid),
            Some(orcid)
        );
    }

    #[test]
    fn accents_fold_and_profile_ids_sort_by_number() {
        assert_eq!(
            fold_accents("Müller Łukasz Dürrenmatt"),
            "Muller Lukasz Durrenmatt"
        );
        assert_eq!(drop_non_ascii("Uğur Çetintemel"), "Uur etintemel");
        assert!(profile_id(42, 1) < profile_id(42, 2));
        assert_eq!(profile_id(42, 3).get_version_num(), 7);
    }
}
