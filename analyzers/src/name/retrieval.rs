//! Author keys: what a record's author is indexed under so that candidate retrieval finds
//! every author a name may denote without reading the records of all the authors who share
//! the surname.
//!
//! Two names may denote one person ([`compatibility`](super::compatibility)) only when they
//! share a surname key and either their given names agree by spelling, initial or a known
//! variant, or one of them has no given name left to compare. A given name is left out of
//! the comparison when it is a surname word of the other name (`Santana` in `Victoriano
//! Santana Sanjurjo` against `Santana Sanjurjo, V.`).
//!
//! So an author is indexed under pairs `surname|given`: each surname key with each
//! given-name key (the folded component, its second spelling, its initial); `surname|`
//! when it has no given name; and `surname|~words` naming its full given names, for a name
//! that holds them all among its surname words. A name looks up the pairs of its surname
//! keys with its given-name keys and their variants, `surname|` and `surname|~words` for
//! the sets of its own surname words, and, when all its given names are full names, the
//! authors holding them all among their surname keys. A name of two or three full words
//! also looks up each other word as the surname paired with each remaining word, for the
//! same name written in another order.
//!
//! A name whose order was guessed is also indexed and looked up as read with its last
//! given name as a first surname (`Victoriano | Santana Sanjurjo`), so that the forms with
//! both surnames and with the first alone (`V. Santana`) find each other.

use super::parse::{GivenName, PersonName};
use super::variants::GivenNameVariants;

/// Separates the surname key from the given-name key in an author pair. No key holds it:
/// keys are folded alphanumerics, hyphens and apostrophes.
pub const PAIR_SEPARATOR: char = '|';

/// Starts the given-name side of a pair that names full given names, sorted and joined by
/// commas, rather than one given-name key.
const GIVEN_WORDS_MARK: char = '~';

/// Full given names named in one `surname|~words` pair at most: a name whose given names
/// are more surname words than that is found by its initials or given names only.
const MAX_GIVEN_WORDS_AS_SURNAME: usize = 2;

/// Returns the author pair of a surname key and a given-name key (empty for an author
/// without given names): `smith|j`, `smith|`.
pub fn author_pair(surname_key: &str, given_key: &str) -> String {
    let mut pair = String::with_capacity(surname_key.len() + 1 + given_key.len());
    pair.push_str(surname_key);
    pair.push(PAIR_SEPARATOR);
    pair.push_str(given_key);
    pair
}

/// Returns the pair of a surname key and a set of full given names: `sanjurjo|~santana`.
fn words_pair(surname_key: &str, words: &[&str]) -> String {
    let mut given = String::from(GIVEN_WORDS_MARK);
    given.push_str(&words.join(","));
    author_pair(surname_key, &given)
}

/// The keys a record's author is indexed under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorKeys {
    /// The surname keys ([`PersonName::surname_keys`]), looked up exactly for names
    /// without given names and walked for typos.
    pub surnames: Vec<String>,
    /// The surname keys only the second surname reading has
    /// ([`PersonName::second_surname_reading`]), indexed beside [`AuthorKeys::surnames`].
    pub read_surnames: Vec<String>,
    /// The author pairs, deduplicated.
    pub pairs: Vec<String>,
}

/// What a search for one name looks up among the author keys of the index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorLookup {
    /// Surname keys looked up in pairs with [`AuthorLookup::given`], and alone as
    /// `surname|` for authors without given names; a search adds their typos.
    pub paired_surnames: Vec<String>,
    /// Given-name keys of the name and the variants of its full given names.
    pub given: Vec<String>,
    /// Surname keys whose every author may be the person, as the name has no given name
    /// to compare; a search adds their typos.
    pub lone_surnames: Vec<String>,
    /// Pairs looked up exactly: the surname keys with the sets of the name's own surname
    /// words, for authors whose given names are all surname words of this name.
    pub word_pairs: Vec<String>,
    /// The name's full given names, when it has only full given names: authors holding
    /// them all, and one of [`AuthorLookup::paired_surnames`], among their surname keys
    /// may be the person too.
    pub given_as_surnames: Vec<String>,
    /// Pairs looked up exactly for the same words in another order
    /// ([`NameAgreement::Reordered`](super::NameAgreement::Reordered)): each other word of
    /// the name as the surname with each remaining full given name.
    pub reordered_pairs: Vec<String>,
    /// What the name read with two surnames ([`PersonName::second_surname_reading`])
    /// looks up, when it has that reading.
    pub second_reading: Option<Box<AuthorLookup>>,
}

impl AuthorLookup {
    /// Returns true when an author indexed under `keys` is found by this lookup without
    /// typos.
    pub fn finds(&self, keys: &AuthorKeys) -> bool {
        let has_pair = |pair: &str| keys.pairs.iter().any(|existing| existing == pair);
        let has_surname = |surname: &String| {
            keys.surnames.contains(surname) || keys.read_surnames.contains(surname)
        };
        self.paired_surnames.iter().any(|surname| {
            has_pair(&author_pair(surname, ""))
                || self
                    .given
                    .iter()
                    .any(|given| has_pair(&author_pair(surname, given)))
        }) || self.lone_surnames.iter().any(has_surname)
            || self.word_pairs.iter().any(|pair| has_pair(pair))
            || self.reordered_pairs.iter().any(|pair| has_pair(pair))
            || (!self.given_as_surnames.is_empty()
                && self.given_as_surnames.iter().all(has_surname)
                && self.paired_surnames.iter().any(has_surname))
            || self
                .second_reading
                .as_ref()
                .is_some_and(|reading| reading.finds(keys))
    }
}

impl PersonName {
    /// Returns the keys this name is indexed under as a record's author: those of the
    /// name as parsed and of its second surname reading
    /// ([`PersonName::second_surname_reading`]), each reading's surname keys paired with
    /// its own given names.
    pub fn author_keys(&self) -> AuthorKeys {
        let surnames = self.surname_keys();
        let mut pairs = Vec::new();
        self.push_author_pairs(&surnames, &mut pairs);
        let mut read_surnames = Vec::new();
        if let Some(reading) = self.second_surname_reading() {
            let reading_surnames = reading.surname_keys();
            reading.push_author_pairs(&reading_surnames, &mut pairs);
            read_surnames = reading_surnames
                .into_iter()
                .filter(|key| !surnames.contains(key))
                .collect();
        }
        AuthorKeys {
            surnames,
            read_surnames,
            pairs,
        }
    }

    /// Adds the author pairs of this name as parsed, whose surname keys are `surnames`, to
    /// `pairs`, each once.
    fn push_author_pairs(&self, surnames: &[String], pairs: &mut Vec<String>) {
        let mut push = |pair: String| {
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        };
        let given = self.given_keys();
        let words = self.full_given_words();
        for surname in surnames {
            if given.is_empty() {
                push(author_pair(surname, ""));
            }
            for given_key in &given {
                push(author_pair(surname, given_key));
            }
            if !words.is_empty() && words.len() <= MAX_GIVEN_WORDS_AS_SURNAME {
                push(words_pair(surname, &words));
            }
        }
    }

    /// Returns what a search for this name looks up: every author that
    /// [`compatibility`](super::compatibility) finds compatible with it, with `variants` the
    /// table the comparison uses, is found, its surname exact.
    pub fn author_lookup(&self, variants: &GivenNameVariants) -> AuthorLookup {
        let mut lookup = self.own_author_lookup(variants);
        lookup.second_reading = self
            .second_surname_reading()
            .map(|reading| Box::new(reading.own_author_lookup(variants)));
        lookup
    }

    /// Returns the lookup of this name as parsed, without its second reading.
    fn own_author_lookup(&self, variants: &GivenNameVariants) -> AuthorLookup {
        let surnames = self.surname_keys();
        let given = self.searched_given_keys(variants);
        if given.is_empty() {
            return AuthorLookup {
                lone_surnames: surnames,
                ..AuthorLookup::default()
            };
        }
        let mut word_pairs = Vec::new();
        for words in word_sets(&surnames) {
            for surname in &surnames {
                let pair = words_pair(surname, &words);
                if !word_pairs.contains(&pair) {
                    word_pairs.push(pair);
                }
            }
        }
        AuthorLookup {
            given_as_surnames: self
                .full_given_words()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            paired_surnames: surnames,
            given,
            lone_surnames: Vec::new(),
            word_pairs,
            reordered_pairs: self.reordered_pairs(),
            second_reading: None,
        }
    }

    /// Returns the author pairs of this name's words read in another order: each word
    /// that is not its surname as the surname, with each other word as a full given name.
    fn reordered_pairs(&self) -> Vec<String> {
        let Some(parts) = self.reorderable_parts() else {
            return Vec::new();
        };
        let mut pairs = Vec::new();
        for (index, surname) in parts.iter().enumerate() {
            if self.surname.iter().any(|own| own.folded == surname.folded) {
                continue;
            }
            let reading = PersonName {
                given: parts
                    .iter()
                    .enumerate()
                    .filter(|(other, _)| *other != index)
                    .map(|(_, part)| GivenName {
                        part: (*part).clone(),
                        is_initial: false,
                    })
                    .collect(),
                surname: vec![(*surname).clone()],
                ..PersonName::default()
            };
            let full_given = reading.given_keys();
            for surname_key in reading.surname_keys() {
                for given_key in full_given.iter().filter(|key| key.chars().nth(1).is_some()) {
                    let pair = author_pair(&surname_key, given_key);
                    if !pairs.contains(&pair) {
                        pairs.push(pair);
                    }
                }
            }
        }
        pairs
    }

    /// Returns the keys the given names are compared by: each component folded
    /// (`jean-pierre` gives `jean` and `pierre`), its second spelling (umlauts as digraphs,
    /// Greek and Cyrillic romanized), and its initial. Deduplicated, in written order.
    pub fn given_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        let mut push = |key: &str| {
            if !key.is_empty() && !keys.iter().any(|existing| existing == key) {
                keys.push(key.to_owned());
            }
        };
        for given in &self.given {
            for (component, respelled) in given.components().zip(given.respelled_components()) {
                push(component);
                if let Some(respelled) = respelled {
                    push(respelled);
                }
                // A romanized name's initial is another letter (`g` of `γεωργιοσ`).
                for spelling in std::iter::once(component).chain(respelled) {
                    if let Some(initial) = spelling.chars().next() {
                        let mut buffer = [0u8; 4];
                        push(initial.encode_utf8(&mut buffer));
                    }
                }
            }
        }
        keys
    }

    /// Returns the given-name keys a search for this name looks up: its own
    /// ([`PersonName::given_keys`]) and the recorded variants of its full given names
    /// (`bill` for `william`).
    pub fn searched_given_keys(&self, variants: &GivenNameVariants) -> Vec<String> {
        let mut keys = self.given_keys();
        for given in self.given.iter().filter(|given| !given.is_initial) {
            for component in given.components() {
                for variant in variants.variants_of(component) {
                    if !keys.iter().any(|existing| existing == variant) {
                        keys.push(variant.to_owned());
                    }
                }
            }
        }
        keys
    }

    /// Returns the components of the given names, sorted and distinct, when every given
    /// name is a full name (an initial is never read as a surname word); empty otherwise.
    fn full_given_words(&self) -> Vec<&str> {
        let mut words: Vec<&str> = self.given.iter().flat_map(GivenName::components).collect();
        if words.iter().any(|word| word.chars().nth(1).is_none()) {
            return Vec::new();
        }
        words.sort_unstable();
        words.dedup();
        words
    }
}

/// Returns the sets of up to [`MAX_GIVEN_WORDS_AS_SURNAME`] of a name's surname keys, each
/// sorted: the given names another form may write that this name reads as its surname.
fn word_sets(surnames: &[String]) -> Vec<Vec<&str>> {
    let mut sorted: Vec<&str> = surnames.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut sets = Vec::new();
    for (index, first) in sorted.iter().enumerate() {
        sets.push(vec![*first]);
        for second in &sorted[index + 1..] {
            sets.push(vec![*first, *second]);
        }
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authors_are_indexed_under_surname_and_given_keys() {
        let keys = PersonName::parse("Hans-Jürgen Müller").author_keys();
        assert_eq!(keys.surnames, ["muller", "mueller"]);
        for pair in [
            "muller|hans",
            "muller|jurgen",
            "muller|h",
            "muller|j",
            "mueller|h",
        ] {
            assert!(keys.pairs.contains(&pair.to_owned()), "{pair}: {keys:?}");
        }
        assert!(!keys.pairs.contains(&"muller|".to_owned()));
        assert!(keys.pairs.contains(&"muller|~hans,jurgen".to_owned()));

        let keys = PersonName::parse("Smith").author_keys();
        assert_eq!(keys.pairs, ["smith|"]);
        let keys = PersonName::parse("J. Smith").author_keys();
        assert_eq!(keys.pairs, ["smith|j"]);
    }

    #[test]
    fn one_word_given_names_have_their_second_spelling() {
        let keys = PersonName::parse("Jürgen Habermas").given_keys();
        assert_eq!(keys, ["jurgen", "juergen", "j"]);
        let keys = PersonName::parse("J. Q. Smith").given_keys();
        assert_eq!(keys, ["j", "q"]);
    }

    #[test]
    fn searches_add_the_variants_of_full_given_names() {
        let mut variants = GivenNameVariants::empty();
        variants.insert("william", "bill");
        let keys = PersonName::parse("William Smith").searched_given_keys(&variants);
        assert_eq!(keys, ["william", "w", "bill"]);
        let keys = PersonName::parse("W. Smith").searched_given_keys(&variants);
        assert_eq!(keys, ["w"]);
    }

    #[test]
    fn lookups_find_compatible_authors_only_by_their_keys() {
        let variants = GivenNameVariants::empty();
        let lookup = PersonName::parse("Smith, John Q.").author_lookup(&variants);
        for found in ["J. Smith", "Smith J", "John Smith", "Q. Smith", "Smith"] {
            let keys = PersonName::parse(found).author_keys();
            assert!(lookup.finds(&keys), "{found}: {keys:?}");
        }
        for missed in ["P. Smith", "John Smyth", "John Jones"] {
            let keys = PersonName::parse(missed).author_keys();
            assert!(!lookup.finds(&keys), "{missed}: {keys:?}");
        }
        let lookup = PersonName::parse("Smith").author_lookup(&variants);
        assert_eq!(lookup.lone_surnames, ["smith"]);
        assert!(lookup.finds(&PersonName::parse("P. Smith").author_keys()));
    }

    #[test]
    fn given_names_written_as_surname_words_are_found() {
        let variants = GivenNameVariants::empty();
        // The author's given name is a surname word of the searched name.
        let lookup = PersonName::parse("V. Santana Sanjurjo").author_lookup(&variants);
        assert!(lookup.finds(&PersonName::parse("Santana Sanjurjo").author_keys()));
        // The searched name's given name is a surname word of the author's.
        let lookup = PersonName::parse("Santana Sanjurjo").author_lookup(&variants);
        assert_eq!(lookup.given_as_surnames, ["santana"]);
        assert!(lookup.finds(&PersonName::parse("Santana Sanjurjo, V.").author_keys()));
        assert!(!lookup.finds(&PersonName::parse("Sanjurjo, V.").author_keys()));
    }

    #[test]
    fn names_with_two_surnames_find_the_first_alone() {
        let reading = PersonName::parse("Victoriano Santana Sanjurjo")
            .second_surname_reading()
            .unwrap();
        assert_eq!(reading.given.len(), 1);
        assert_eq!(reading.given[0].part.folded, "victoriano");
        let surname: Vec<&str> = reading
            .surname
            .iter()
            .map(|part| part.text.as_str())
            .collect();
        assert_eq!(surname, ["Santana", "Sanjurjo"]);
        // The order written out, a particle or the last given name an initial: no reading.
        for name in [
            "Sanjurjo, Victoriano Santana",
            "Santana Sanjurjo, Victoriano",
            "Victoriano S. Sanjurjo",
            "Juan de la Cruz",
            "Santana Sanjurjo",
        ] {
            assert!(
                PersonName::parse(name).second_surname_reading().is_none(),
                "{name}"
            );
        }

        let variants = GivenNameVariants::empty();
        let both = PersonName::parse("Victoriano Santana Sanjurjo");
        for first_alone in ["Victoriano Santana", "V. Santana", "Santana, Victoriano"] {
            let first_alone = PersonName::parse(first_alone);
            assert!(
                first_alone
                    .author_lookup(&variants)
                    .finds(&both.author_keys()),
                "{first_alone:?}"
            );
            assert!(
                both.author_lookup(&variants)
                    .finds(&first_alone.author_keys()),
                "{first_alone:?}"
            );
        }
        let initial_first = PersonName::parse("V. Santana Sanjurjo");
        assert!(PersonName::parse("V. Santana")
            .author_lookup(&variants)
            .finds(&initial_first.author_keys()));
        // Another given name with the first surname is another person's.
        assert!(!PersonName::parse("Pedro Santana")
            .author_lookup(&variants)
            .finds(&both.author_keys()));
        // With the order written out, `Santana` is a given name.
        let explicit = PersonName::parse("Sanjurjo, Victoriano Santana");
        assert!(!PersonName::parse("V. Santana")
            .author_lookup(&variants)
            .finds(&explicit.author_keys()));
    }

    #[test]
    fn names_written_in_the_other_order_are_found() {
        let variants = GivenNameVariants::empty();
        let lookup = PersonName::parse("Diomidis Spinellis").author_lookup(&variants);
        assert_eq!(lookup.reordered_pairs, ["diomidis|spinellis"]);
        assert!(lookup.finds(&PersonName::parse("Spinellis Diomidis").author_keys()));
        // Only full given names are read in another order: `S. Diomidis` is another
        // person's name.
        assert!(!lookup.finds(&PersonName::parse("S. Diomidis").author_keys()));
        let lookup = PersonName::parse("Spinellis, Diomidis").author_lookup(&variants);
        assert!(lookup.finds(&PersonName::parse("Spinellis Diomidis").author_keys()));
        let lookup = PersonName::parse("Ana Rojas Vega").author_lookup(&variants);
        assert!(lookup.finds(&PersonName::parse("Rojas Vega Ana").author_keys()));
        let lookup = PersonName::parse("D. Spinellis").author_lookup(&variants);
        assert!(lookup.reordered_pairs.is_empty());
    }
}
