//! Retrieval keys of a parsed name: what the indexer stores and the matcher looks up.

use super::parse::{is_particle, NamePart, PersonName};

/// The keys under which a person name is indexed and looked up. Every key is folded; none is
/// stemmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameKeys {
    /// The whole name in `given particles surname` order, words separated by one space:
    /// `john q van der berg`.
    pub full: String,
    /// Surname keys: the surname written together (`crichtonbrowne`, `obrien`), with its
    /// particles (`vanderberg`), each word of a multi-part surname (`crichton`, `browne`),
    /// without an attached article (`al-rashid` → `rashid`), and the second spellings
    /// (`mueller`, `papadopoulos` for `Παπαδόπουλος`). Deduplicated, in that order.
    pub surnames: Vec<String>,
    /// Full given names (not initials), folded, in order.
    pub given_names: Vec<String>,
    /// The initials of all given names: `jq`.
    pub initials: String,
}

impl PersonName {
    /// Returns the retrieval keys of this name.
    pub fn keys(&self) -> NameKeys {
        let mut full_words: Vec<&str> = Vec::new();
        for given in &self.given {
            full_words.push(&given.part.folded);
        }
        for part in self.particles.iter().chain(&self.surname) {
            full_words.push(&part.folded);
        }
        let full = full_words
            .iter()
            .flat_map(|word| word.split(|ch: char| !ch.is_alphanumeric()))
            .filter(|piece| !piece.is_empty())
            .collect::<Vec<_>>()
            .join(" ");

        NameKeys {
            full,
            surnames: surname_keys(&self.particles, &self.surname),
            given_names: self
                .given
                .iter()
                .filter(|given| !given.is_initial)
                .map(|given| given.part.folded.clone())
                .collect(),
            initials: self.initials(),
        }
    }

    /// Returns the surname keys; see [`NameKeys::surnames`].
    pub fn surname_keys(&self) -> Vec<String> {
        surname_keys(&self.particles, &self.surname)
    }

    /// Returns whether the name has a second surname reading
    /// ([`PersonName::second_surname_reading`]), without making it.
    pub fn has_second_surname_reading(&self) -> bool {
        let [kept @ .., moved] = self.given.as_slice() else {
            return false;
        };
        self.order_guessed
            && self.particles.is_empty()
            && self.suffix.is_none()
            && !self.surname.is_empty()
            && !kept.is_empty()
            && !moved.is_initial
            && moved.part.folded.chars().nth(1).is_some()
            && !moved.part.folded.contains('-')
    }

    /// Returns the name read with its last given name as a first surname: `Victoriano |
    /// Santana Sanjurjo` for `Victoriano Santana Sanjurjo`. Spanish and Portuguese names
    /// carry two surnames and are cited with the first alone (`V. Santana`), while a name
    /// written without a comma is parsed with its last word as the surname. `None` unless
    /// the order was guessed ([`PersonName::order_guessed`]), the name has no particle or
    /// suffix, and a given name or initial stays before the one read as a surname. The
    /// reading has no second reading of its own.
    pub fn second_surname_reading(&self) -> Option<PersonName> {
        if !self.has_second_surname_reading() {
            return None;
        }
        let [kept @ .., moved] = self.given.as_slice() else {
            return None;
        };
        let mut surname = Vec::with_capacity(self.surname.len() + 1);
        surname.push(moved.part.clone());
        surname.extend(self.surname.iter().cloned());
        Some(PersonName {
            given: kept.to_vec(),
            particles: Vec::new(),
            surname,
            suffix: None,
            order_guessed: false,
        })
    }
}

fn surname_keys(particles: &[NamePart], surname: &[NamePart]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut push = |key: String| {
        if !key.is_empty() && !keys.contains(&key) {
            keys.push(key);
        }
    };
    let spellings: [fn(&NamePart) -> &str; 2] = [
        |part| &part.folded,
        |part| part.respelled.as_deref().unwrap_or(&part.folded),
    ];

    for spelling in spellings {
        let core: String = surname
            .iter()
            .map(|part| alphanumeric(spelling(part)))
            .collect();
        push(core.clone());
        if !particles.is_empty() {
            let with_particles: String = particles
                .iter()
                .map(|part| alphanumeric(spelling(part)))
                .collect();
            push(with_particles + &core);
        }
        let words: Vec<String> = surname
            .iter()
            .flat_map(|part| {
                spelling(part)
                    .split(|ch: char| ch.is_whitespace() || is_hyphen(ch))
                    .map(alphanumeric)
                    .collect::<Vec<_>>()
            })
            .filter(|word| !word.is_empty())
            .collect();
        if words.len() > 1 {
            for word in &words {
                if !is_particle(word) {
                    push(word.clone());
                }
            }
        }
        let attached_article = surname
            .first()
            .and_then(|first| without_attached_article(spelling(first)));
        if let Some(without_article) = attached_article {
            let rest: String = surname
                .iter()
                .skip(1)
                .map(|part| alphanumeric(spelling(part)))
                .collect();
            push(without_article + &rest);
        }
    }
    keys
}

/// Returns `rashid` for `al-rashid`, `alembert` for `d'alembert`: an article written
/// attached to the surname.
fn without_attached_article(folded: &str) -> Option<String> {
    let (article, rest) = folded.split_once(|ch: char| is_hyphen(ch) || is_apostrophe(ch))?;
    matches!(article, "al" | "el" | "d" | "l" | "dell" | "dall").then(|| alphanumeric(rest))
}

pub(super) fn alphanumeric(text: &str) -> String {
    text.chars().filter(|ch| ch.is_alphanumeric()).collect()
}

pub(super) fn is_hyphen(ch: char) -> bool {
    matches!(ch, '-' | '\u{2010}' | '\u{2011}' | '\u{2013}')
}

fn is_apostrophe(ch: char) -> bool {
    matches!(ch, '\'' | '\u{2019}' | '\u{2018}' | '\u{2BC}' | '`')
}
