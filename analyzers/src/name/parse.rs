//! Parsing of person names as written in bibliographic records: `Last, First Middle`,
//! `First Middle Last`, initials in every spelling, particles, suffixes, surnames in capitals.

use std::ops::Range;

use crate::normalize::{fold, fold_respelled};

/// One written part of a name, with its span in the parsed string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePart {
    /// The part as written.
    pub text: String,
    /// The folded part (connectors such as `-` and `'` kept).
    pub folded: String,
    /// The folded part in its second spelling ([`fold_respelled`]): umlauts as digraphs,
    /// Greek and Cyrillic romanized; `None` when it has none.
    pub respelled: Option<String>,
    /// Byte range in the parsed string.
    pub span: Range<usize>,
}

impl NamePart {
    fn new(text: &str, span: Range<usize>) -> Self {
        NamePart {
            text: text.to_string(),
            folded: fold(text),
            respelled: fold_respelled(text),
            span,
        }
    }
}

/// A given name or an initial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenName {
    /// The name as written and folded; an initial is one letter, a compound keeps its
    /// hyphen (`jean-pierre`, `j-p`).
    pub part: NamePart,
    /// True when every component is a single letter.
    pub is_initial: bool,
}

impl GivenName {
    /// Returns the folded components of a hyphenated given name (`jean-pierre` → `jean`,
    /// `pierre`); a simple name is its own component.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.part
            .folded
            .split('-')
            .filter(|component| !component.is_empty())
    }

    /// Returns the second spelling ([`NamePart::respelled`]) of each component, in the
    /// order of [`GivenName::components`]: `juergen` for the `jurgen` of `Hans-Jürgen`,
    /// `None` for a component spelled one way.
    pub fn respelled_components(&self) -> impl Iterator<Item = Option<&str>> {
        let mut respelled = self.part.respelled.as_deref().map(|respelled| {
            respelled
                .split('-')
                .filter(|component| !component.is_empty())
        });
        self.components().map(move |component| {
            respelled
                .as_mut()
                .and_then(Iterator::next)
                .filter(|other| *other != component)
        })
    }
}

/// A parsed person name. Parsing never fails: an empty or unusual string gives empty parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonName {
    /// Given names and initials, in written order.
    pub given: Vec<GivenName>,
    /// Particles before the surname: `van`, `der`, `de`, `la`, `'t`, `bin`, `al`…
    pub particles: Vec<NamePart>,
    /// The surname words without particles (`Crichton-Browne` is one word, `Rojas Vega`
    /// two).
    pub surname: Vec<NamePart>,
    /// A generational suffix, folded and without its period: `jr`, `sr`, `iii`.
    pub suffix: Option<String>,
    /// True when nothing in the written name told its surname (no comma, no surname in
    /// capitals, no patronymic, no trailing initials), so its last word was taken as the
    /// surname by convention; the writer may have put the surname first.
    pub order_guessed: bool,
}

/// Words of a name, at most, that another form may write in another order
/// ([`PersonName::reorderable_parts`]).
const MAX_REORDERABLE_WORDS: usize = 3;

/// Returns true when a folded word is a surname particle.
pub fn is_particle(folded: &str) -> bool {
    matches!(
        folded.trim_matches(|ch: char| !ch.is_alphanumeric()),
        "van"
            | "der"
            | "den"
            | "de"
            | "del"
            | "della"
            | "dela"
            | "la"
            | "le"
            | "les"
            | "lo"
            | "von"
            | "vom"
            | "zu"
            | "zur"
            | "und"
            | "da"
            | "das"
            | "do"
            | "dos"
            | "di"
            | "du"
            | "des"
            | "dal"
            | "dalla"
            | "ter"
            | "ten"
            | "te"
            | "t"
            | "het"
            | "op"
            | "bin"
            | "ibn"
            | "bint"
            | "al"
            | "el"
            | "y"
            | "af"
            | "av"
            | "st"
            | "ste"
            | "mac"
            | "mc"
            | "ap"
            | "ben"
            | "abu"
    )
}

/// Returns true when a word as written is a surname particle, folding only when needed.
fn is_particle_word(word: &str) -> bool {
    if word.len() > 8 {
        return false;
    }
    if !word.is_ascii() {
        return is_particle(&fold(word));
    }
    let mut lowercase = [0u8; 8];
    for (slot, byte) in lowercase.iter_mut().zip(word.bytes()) {
        *slot = byte.to_ascii_lowercase();
    }
    std::str::from_utf8(&lowercase[..word.len()]).is_ok_and(is_particle)
}

fn is_suffix(word: &str) -> bool {
    matches!(
        fold(word.trim_end_matches('.')).as_str(),
        "jr" | "jnr" | "sr" | "snr" | "ii" | "iii" | "iv"
    )
}

/// Returns whether a word is a title written before a name (`Dr.`, `Prof`, `Mrs`): not
/// part of the name.
fn is_title(word: &str) -> bool {
    matches!(
        fold(word.trim_end_matches('.')).as_str(),
        "dr" | "prof" | "professor" | "mr" | "mrs" | "ms" | "mx" | "sir" | "dame"
    )
}

/// Returns whether a word is an academic degree written after a name (`PhD`, `Ph.D.`):
/// not part of the name. Abbreviations that are also names or initials (`Ma`, `Md`) are
/// not counted.
fn is_degree(word: &str) -> bool {
    matches!(
        fold(word).replace('.', "").as_str(),
        "phd" | "dphil" | "msc" | "bsc" | "mba" | "frs"
    )
}

/// A whitespace-separated word of the parsed string.
#[derive(Debug, Clone)]
struct Word<'n> {
    text: &'n str,
    span: Range<usize>,
}

impl Word<'_> {
    fn num_letters(&self) -> usize {
        self.text.chars().filter(|ch| ch.is_alphabetic()).count()
    }

    fn has_lowercase(&self) -> bool {
        self.text.chars().any(char::is_lowercase)
    }

    fn is_all_caps(&self) -> bool {
        self.num_letters() > 0 && !self.has_lowercase()
    }

    /// True for `J`, `J.`, `J.Q.`, `J.-P.`, and for `JQ` or `JQR` written in capitals.
    fn looks_like_initials(&self, name_has_lowercase: bool) -> bool {
        let num_letters = self.num_letters();
        if num_letters <= 1 {
            return num_letters == 1;
        }
        if num_letters > 3 {
            return false;
        }
        let dotted_pieces = self
            .text
            .split(['.', '-'])
            .map(str::trim)
            .filter(|piece| !piece.is_empty());
        if self.text.contains('.')
            && dotted_pieces
                .clone()
                .all(|piece| piece.chars().count() == 1)
        {
            return true;
        }
        let has_vowel = self.text.chars().any(|ch| "AEIOUY".contains(ch));
        self.is_all_caps() && (name_has_lowercase || !has_vowel)
    }
}

impl PersonName {
    /// Parses a name written as `Last, First Middle`, `First Middle Last`, `LAST First`,
    /// `Last FM` or `Last F.` (PubMed style) or any mix of initials, particles and
    /// suffixes. Titles before the name (`Dr.`), degrees after it (`PhD`) and text in
    /// parentheses or brackets are left out.
    pub fn parse(name: &str) -> PersonName {
        let mut parsed = PersonName::default();
        let segments = comma_segments(name);
        let mut segments: Vec<Vec<Word<'_>>> = segments
            .into_iter()
            .map(|mut segment| {
                // Titles before a name and degrees after it are not part of it.
                let num_titles = segment
                    .iter()
                    .take(segment.len().saturating_sub(1))
                    .take_while(|word| is_title(word.text))
                    .count();
                segment.drain(..num_titles);
                while segment.len() > 1 && segment.last().is_some_and(|word| is_degree(word.text)) {
                    segment.pop();
                }
                segment
            })
            .filter(|segment| {
                let is_suffix_segment = segment.len() == 1 && is_suffix(segment[0].text);
                if is_suffix_segment {
                    parsed.suffix = Some(fold(segment[0].text.trim_end_matches('.')));
                }
                let is_degree_segment = segment.len() == 1 && is_degree(segment[0].text);
                !is_suffix_segment && !is_degree_segment && !segment.is_empty()
            })
            .collect();

        if segments.len() >= 2 {
            let surname_words = segments.remove(0);
            let given_words: Vec<Word<'_>> = segments.into_iter().flatten().collect();
            let name_has_lowercase = given_words.iter().any(Word::has_lowercase);
            parsed.push_surname(&surname_words);
            parsed.push_given(&given_words, name_has_lowercase);
            return parsed;
        }

        let Some(mut words) = segments.pop() else {
            return parsed;
        };
        while words.len() > 1 && words.last().is_some_and(|word| is_suffix(word.text)) {
            let suffix_word = words.pop().map(|word| word.text).unwrap_or_default();
            parsed.suffix = Some(fold(suffix_word.trim_end_matches('.')));
        }
        let words = split_glued_initials(words);
        parsed.assign_uninverted(&words);
        parsed
    }

    /// Assigns the words of a name without comma to given names and surname.
    fn assign_uninverted(&mut self, words: &[Word<'_>]) {
        let name_has_lowercase = words.iter().any(Word::has_lowercase);
        if words.len() == 1 {
            self.push_surname(words);
            return;
        }

        // A surname in capitals next to given names that are not: `DUPONT Jean`.
        let is_caps_surname =
            |word: &Word<'_>| word.is_all_caps() && word.num_letters() >= 3 && name_has_lowercase;
        if let Some(first_caps) = words.iter().position(is_caps_surname) {
            let caps_end = first_caps
                + words[first_caps..]
                    .iter()
                    .take_while(|word| is_caps_surname(word))
                    .count();
            let mut surname_start = first_caps;
            while surname_start > 0 && is_particle_word(words[surname_start - 1].text) {
                surname_start -= 1;
            }
            let given: Vec<Word<'_>> = words[..surname_start]
                .iter()
                .chain(&words[caps_end..])
                .cloned()
                .collect();
            self.push_surname(&words[surname_start..caps_end]);
            self.push_given(&given, name_has_lowercase);
            return;
        }

        // Russian order `Surname Given Patronymic`, recognised by the patronymic's ending.
        if words.len() == 3 && is_patronymic(words[2].text) && !is_patronymic(words[1].text) {
            self.push_surname(&words[..1]);
            self.push_given(&words[1..], name_has_lowercase);
            return;
        }

        // PubMed style, surname first and initials last: `Smith JQ`, `van der Berg J`,
        // `Spinellis D.`.
        let last = &words[words.len() - 1];
        let earlier_are_names = words[..words.len() - 1]
            .iter()
            .any(|word| !word.looks_like_initials(name_has_lowercase));
        if last.looks_like_initials(name_has_lowercase) && earlier_are_names {
            self.push_surname(&words[..words.len() - 1]);
            self.push_given(std::slice::from_ref(last), name_has_lowercase);
            return;
        }

        let mut surname_start = words.len() - 1;
        while surname_start > 1 && is_particle_word(words[surname_start - 1].text) {
            surname_start -= 1;
        }
        self.push_surname(&words[surname_start..]);
        self.push_given(&words[..surname_start], name_has_lowercase);
        self.order_guessed = true;
    }

    fn push_surname(&mut self, words: &[Word<'_>]) {
        let num_leading_particles = words
            .iter()
            .take(words.len().saturating_sub(1))
            .take_while(|word| is_particle_word(word.text))
            .count();
        for (index, word) in words.iter().enumerate() {
            let part = NamePart::new(word.text, word.span.clone());
            if index < num_leading_particles {
                self.particles.push(part);
            } else {
                self.surname.push(part);
            }
        }
    }

    fn push_given(&mut self, words: &[Word<'_>], name_has_lowercase: bool) {
        for word in words {
            if !word.looks_like_initials(name_has_lowercase) {
                let part = NamePart::new(word.text, word.span.clone());
                self.given.push(GivenName {
                    part,
                    is_initial: false,
                });
                continue;
            }
            // `J.-P.` is one compound initial; `J.Q.` and `JQ` are two initials.
            if word.text.contains('-') {
                let mut part = NamePart::new(word.text, word.span.clone());
                part.folded.retain(|ch| ch.is_alphanumeric() || ch == '-');
                self.given.push(GivenName {
                    part,
                    is_initial: true,
                });
                continue;
            }
            for (offset, ch) in word
                .text
                .char_indices()
                .filter(|(_, ch)| ch.is_alphabetic())
            {
                let start = word.span.start + offset;
                let span = start..start + ch.len_utf8();
                let part = NamePart::new(&word.text[offset..offset + ch.len_utf8()], span);
                self.given.push(GivenName {
                    part,
                    is_initial: true,
                });
            }
        }
    }

    /// Returns the initials of the given names, folded: `John Q. Smith` → `jq`.
    pub fn initials(&self) -> String {
        self.given
            .iter()
            .flat_map(GivenName::components)
            .filter_map(|component| component.chars().next())
            .collect()
    }

    /// Returns true when the name has neither surname nor given name.
    pub fn is_empty(&self) -> bool {
        self.surname.is_empty() && self.given.is_empty()
    }

    /// Returns the parts of this name in written order when another form may write the
    /// same name in another order: two or three full words (given names and surname), no
    /// particle, initial or suffix. `None` otherwise.
    pub fn reorderable_parts(&self) -> Option<Vec<&NamePart>> {
        let num_words = self.given.len() + self.surname.len();
        let has_initial = self
            .given
            .iter()
            .any(|given| given.is_initial || given.part.folded.chars().nth(1).is_none());
        if self.given.is_empty()
            || self.surname.is_empty()
            || !self.particles.is_empty()
            || self.suffix.is_some()
            || num_words > MAX_REORDERABLE_WORDS
            || has_initial
        {
            return None;
        }
        let mut parts: Vec<&NamePart> = self
            .given
            .iter()
            .map(|given| &given.part)
            .chain(&self.surname)
            .collect();
        parts.sort_by_key(|part| part.span.start);
        Some(parts)
    }

    /// Returns the folded words of [`PersonName::reorderable_parts`].
    pub(crate) fn reorderable_words(&self) -> Option<Vec<&str>> {
        self.reorderable_parts()
            .map(|parts| parts.into_iter().map(|part| part.folded.as_str()).collect())
    }
}

/// Returns true for an East Slavic patronymic, in Cyrillic or transliterated
/// (`Николаевич`, `Ivanovna`).
fn is_patronymic(word: &str) -> bool {
    let folded = fold(word);
    [
        "ович",
        "евич",
        "ич",
        "овна",
        "евна",
        "ична",
        "инична",
        "ovich",
        "evich",
        "ovna",
        "evna",
    ]
    .iter()
    .any(|ending| folded.len() > ending.len() + 2 && folded.ends_with(ending))
}

/// Splits `name` at commas into segments of whitespace-separated words.
fn comma_segments(name: &str) -> Vec<Vec<Word<'_>>> {
    let mut segments = vec![Vec::new()];
    let mut word_start: Option<usize> = None;
    // Text in parentheses or brackets is said about the name (`(Brown University)`,
    // `(1950-2010)`), not part of it.
    let mut in_brackets = false;
    let end_marker = std::iter::once((name.len(), ' '));
    for (offset, ch) in name.char_indices().chain(end_marker) {
        if !(ch.is_whitespace() || ch == ',') {
            word_start.get_or_insert(offset);
            continue;
        }
        if let Some(start) = word_start.take() {
            let raw = &name[start..offset];
            let opens = raw.starts_with(['(', '[']);
            let closes = raw.ends_with([')', ']']);
            if opens || in_brackets {
                in_brackets = !closes;
                if ch == ',' && !in_brackets {
                    segments.push(Vec::new());
                }
                continue;
            }
            let trimmed_start = raw.trim_start_matches(is_word_edge_noise);
            let text = trimmed_start.trim_end_matches(is_word_edge_noise);
            if text.chars().any(char::is_alphanumeric) {
                let text_start = start + (raw.len() - trimmed_start.len());
                let word = Word {
                    text,
                    span: text_start..text_start + text.len(),
                };
                if let Some(segment) = segments.last_mut() {
                    segment.push(word);
                }
            }
        }
        if ch == ',' && !in_brackets {
            segments.push(Vec::new());
        }
    }
    segments
}

fn is_word_edge_noise(ch: char) -> bool {
    matches!(
        ch,
        '(' | ')' | '[' | ']' | '"' | ';' | ':' | '*' | '†' | '‡'
    )
}

/// Splits words such as `J.Smith` or `J.Q.Smith` into their initials and the name.
fn split_glued_initials(words: Vec<Word<'_>>) -> Vec<Word<'_>> {
    let mut split = Vec::with_capacity(words.len() + 1);
    for word in words {
        let pieces: Vec<&str> = word.text.split('.').collect();
        let glued = pieces.len() >= 2
            && pieces[..pieces.len() - 1]
                .iter()
                .all(|piece| piece.chars().count() == 1)
            && pieces[pieces.len() - 1]
                .chars()
                .filter(|ch| ch.is_alphabetic())
                .count()
                >= 2;
        if !glued {
            split.push(word);
            continue;
        }
        let name_start = word.text.len() - pieces[pieces.len() - 1].len();
        split.push(Word {
            text: &word.text[..name_start],
            span: word.span.start..word.span.start + name_start,
        });
        split.push(Word {
            text: &word.text[name_start..],
            span: word.span.start + name_start..word.span.end,
        });
    }
    split
}
