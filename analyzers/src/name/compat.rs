//! Whether two written forms of a name can denote the same person, as a librarian judges it:
//! an initial agrees with a given name that starts with it, two different full given names
//! disagree unless a known variant relates them, order and particles do not matter.

use std::fmt;

use super::keys::{alphanumeric, is_hyphen};
use super::parse::{is_particle, GivenName, PersonName};
use super::variants::GivenNameVariants;
use crate::distance::{max_surname_typos, osa_distance};

/// How two name forms relate, from strongest to weakest agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameAgreement {
    /// Same surname and the same full given names (`John Smith`, `Smith, John`); an
    /// initial both forms write beside them agrees too (`Stanley B. Zdonik`).
    Full,
    /// Same surname; given names agree through the variant table (`Chris`, `Christopher`).
    Variant,
    /// Same surname; at least one given name agrees only by its initial (`J. Smith`).
    Initials,
    /// The same full names with surname and given names swapped, where at least one form
    /// was written without saying which word is the surname (`Spinellis Diomidis` and
    /// `Diomidis Spinellis`). Weaker than initials: where both orders are common (`Wang
    /// Wei`, `Wei Wang`), they often name two people.
    Reordered,
    /// Same surname; at least one side has no given name to compare.
    SurnameOnly,
    /// Same surname but given names that cannot denote one person (`John`, `James`).
    Conflict,
    /// Different surnames.
    SurnameMismatch,
}

impl NameAgreement {
    /// Returns true when the two forms may denote the same person.
    pub fn is_compatible(self) -> bool {
        !matches!(
            self,
            NameAgreement::Conflict | NameAgreement::SurnameMismatch
        )
    }

    /// Returns the agreement's place from the strongest (0, [`NameAgreement::Full`]) to
    /// the weakest ([`NameAgreement::SurnameMismatch`]).
    pub fn rank(self) -> u8 {
        match self {
            NameAgreement::Full => 0,
            NameAgreement::Variant => 1,
            NameAgreement::Initials => 2,
            NameAgreement::Reordered => 3,
            NameAgreement::SurnameOnly => 4,
            NameAgreement::Conflict => 5,
            NameAgreement::SurnameMismatch => 6,
        }
    }
}

impl fmt::Display for NameAgreement {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self {
            NameAgreement::Full => "full",
            NameAgreement::Variant => "variant",
            NameAgreement::Reordered => "reordered",
            NameAgreement::Initials => "initials",
            NameAgreement::SurnameOnly => "surname_only",
            NameAgreement::Conflict => "conflict",
            NameAgreement::SurnameMismatch => "surname_mismatch",
        };
        formatter.write_str(label)
    }
}

/// The agreement of two name forms with a sentence explaining it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameCompatibility {
    /// How the names relate.
    pub agreement: NameAgreement,
    /// Why, in words a librarian reads in a match explanation.
    pub reason: String,
}

/// Compares two parsed names; see [`NameAgreement`] for the outcomes.
pub fn compatibility(
    first: &PersonName,
    second: &PersonName,
    variants: &GivenNameVariants,
) -> NameCompatibility {
    let names = KeyedPair {
        first,
        first_surnames: &first.surname_keys(),
        second,
        second_surnames: &second.surname_keys(),
    };
    compare(&names, variants, true)
}

/// Returns how two names whose surname keys ([`PersonName::surname_keys`]) are known
/// agree, as [`compatibility`] does, without the sentence explaining it: for a name
/// compared with many others, whose reasons nobody reads.
pub fn agreement_of_keyed(
    first: &PersonName,
    first_surnames: &[String],
    second: &PersonName,
    second_surnames: &[String],
    variants: &GivenNameVariants,
) -> NameAgreement {
    let names = KeyedPair {
        first,
        first_surnames,
        second,
        second_surnames,
    };
    compare(&names, variants, false).agreement
}

/// Two names and their surname keys.
struct KeyedPair<'n> {
    first: &'n PersonName,
    first_surnames: &'n [String],
    second: &'n PersonName,
    second_surnames: &'n [String],
}

/// Compares two names; the reason is written only when `explain`.
fn compare(
    names: &KeyedPair<'_>,
    variants: &GivenNameVariants,
    explain: bool,
) -> NameCompatibility {
    let KeyedPair {
        first,
        first_surnames,
        second,
        second_surnames,
    } = *names;
    let reason = |write: &dyn Fn() -> String| if explain { write() } else { String::new() };
    let Some(shared_surname) = first_surnames
        .iter()
        .find(|key| second_surnames.contains(key))
    else {
        if is_reordered(first, second) {
            return NameCompatibility {
                agreement: NameAgreement::Reordered,
                reason: reason(&|| {
                    format!(
                        "the same names in the other order: surname `{}` is a given name of \
                         the other form",
                        first_surnames.first().map_or("", String::as_str)
                    )
                }),
            };
        }
        if let Some(read) = agreement_of_readings(names, variants, explain) {
            return read;
        }
        return NameCompatibility {
            agreement: NameAgreement::SurnameMismatch,
            reason: reason(&|| {
                format!(
                    "surnames `{}` and `{}` differ",
                    first_surnames.first().map_or("", String::as_str),
                    second_surnames.first().map_or("", String::as_str)
                )
            }),
        };
    };

    // A given name that is one of the other form's surname words was a surname part the
    // parser could not place (`Victoriano Santana Sanjurjo` against `Santana Sanjurjo`).
    let first_given = given_components(first, second_surnames);
    let second_given = given_components(second, first_surnames);
    if first_given.is_empty() || second_given.is_empty() {
        return NameCompatibility {
            agreement: NameAgreement::SurnameOnly,
            reason: reason(&|| {
                format!("surname `{shared_surname}` agrees; no given names to compare")
            }),
        };
    }

    let (shorter, longer) = if first_given.len() <= second_given.len() {
        (&first_given, &second_given)
    } else {
        (&second_given, &first_given)
    };
    match align_given_names(shorter, longer, variants, explain) {
        Ok(alignment) => NameCompatibility {
            agreement: alignment.agreement,
            reason: reason(&|| {
                format!("{}; surname `{shared_surname}` agrees", alignment.evidence)
            }),
        },
        Err((shorter_name, longer_name)) => NameCompatibility {
            agreement: NameAgreement::Conflict,
            reason: reason(&|| {
                format!(
                    "surname `{shared_surname}` agrees but given names `{shorter_name}` and \
                     `{longer_name}` conflict"
                )
            }),
        },
    }
}

/// Returns how two names without a surname key in common agree when one of them is read
/// with two surnames ([`PersonName::second_surname_reading`]), the better of the two ways;
/// `None` when neither way is compatible. `Victoriano Santana` and `Victoriano Santana
/// Sanjurjo` agree in full, `V. Santana` and `Victoriano Santana Sanjurjo` by initials.
fn agreement_of_readings(
    names: &KeyedPair<'_>,
    variants: &GivenNameVariants,
    explain: bool,
) -> Option<NameCompatibility> {
    let sides = [
        (names.first, names.second, names.second_surnames),
        (names.second, names.first, names.first_surnames),
    ];
    let mut best: Option<NameCompatibility> = None;
    for (name, other, other_surnames) in sides {
        let Some(reading) = name.second_surname_reading() else {
            continue;
        };
        let reading_surnames = reading.surname_keys();
        // The reading must share a surname key with the other as written: two names both
        // read with two surnames that agree only by their first (`María García López`,
        // `María García Sánchez`) have different second surnames, another person's.
        if !reading_surnames
            .iter()
            .any(|key| other_surnames.contains(key))
        {
            continue;
        }
        let read = KeyedPair {
            first: &reading,
            first_surnames: &reading_surnames,
            second: other,
            second_surnames: other_surnames,
        };
        let outcome = compare(&read, variants, explain);
        let is_better = best
            .as_ref()
            .is_none_or(|best| outcome.agreement.rank() < best.agreement.rank());
        if !outcome.agreement.is_compatible() || !is_better {
            continue;
        }
        let reason = if explain {
            let surname: Vec<&str> = reading
                .surname
                .iter()
                .map(|part| part.text.as_str())
                .collect();
            format!(
                "read with the two surnames `{}`: {}",
                surname.join(" "),
                outcome.reason
            )
        } else {
            String::new()
        };
        best = Some(NameCompatibility {
            agreement: outcome.agreement,
            reason,
        });
    }
    best
}

/// Returns true when the surnames of two names share only some of their words: a word of
/// one surname (split at spaces and hyphens, particles left out) is neither a word of the
/// other's surname, in either spelling of umlauts or within its typo budget
/// ([`max_surname_typos`]), nor one of its given names (`Mueller-Kirchenbauer` and
/// `Mueller`, `Crichton-Browne` and `Browne`, but not `Santana Sanjurjo` and `Victoriano
/// Santana Sanjurjo`, nor `Mueller-Kirchenbaur` and `Mueller-Kirchenbauer`). Such names
/// may denote one person, who added or dropped a surname, or two namesakes.
pub fn surname_agrees_in_part(first: &PersonName, second: &PersonName) -> bool {
    let (first_words, second_words) = (surname_words(first), surname_words(second));
    let is_near = |word: &str, other: &str| {
        if word == other {
            return true;
        }
        let (word, other): (Vec<char>, Vec<char>) =
            (word.chars().collect(), other.chars().collect());
        osa_distance(&word, &other) <= max_surname_typos(word.len().min(other.len()))
    };
    let uncovered = |words: &[Vec<String>], other_words: &[Vec<String>], other: &PersonName| {
        words.iter().any(|spellings| {
            let in_surname = other_words.iter().any(|other_spellings| {
                spellings
                    .iter()
                    .any(|word| other_spellings.iter().any(|other| is_near(word, other)))
            });
            let in_given = other
                .given
                .iter()
                .flat_map(GivenName::components)
                .any(|given| spellings.iter().any(|word| word == given));
            !in_surname && !in_given
        })
    };
    uncovered(&first_words, &second_words, second) || uncovered(&second_words, &first_words, first)
}

/// Returns the typos between the surname words two names share within the typo budget
/// ([`max_surname_typos`]): 1 for `Mueller-Kirchenbaur` and `Mueller-Kirchenbauer`, which
/// share the key `mueller` exactly, 0 for surnames alike in some spelling. A word of one
/// surname near no word of the other counts no typo: that surname agrees in part
/// ([`surname_agrees_in_part`]).
pub fn surname_word_typos(first: &PersonName, second: &PersonName) -> u8 {
    let (first_words, second_words) = (surname_words(first), surname_words(second));
    let typos_from = |words: &[Vec<String>], other_words: &[Vec<String>]| -> usize {
        words
            .iter()
            .filter_map(|spellings| {
                spellings
                    .iter()
                    .flat_map(|word| {
                        let word: Vec<char> = word.chars().collect();
                        other_words.iter().flatten().filter_map(move |other| {
                            let other: Vec<char> = other.chars().collect();
                            let distance = osa_distance(&word, &other);
                            (distance <= max_surname_typos(word.len().min(other.len())))
                                .then_some(distance)
                        })
                    })
                    .min()
            })
            .sum()
    };
    let typos =
        typos_from(&first_words, &second_words).max(typos_from(&second_words, &first_words));
    u8::try_from(typos).unwrap_or(u8::MAX)
}

/// Returns the words of a name's surname without particles, each with its spellings
/// (folded, and in its second spelling when it has one: umlauts as digraphs, Greek and
/// Cyrillic romanized).
fn surname_words(name: &PersonName) -> Vec<Vec<String>> {
    let split = |text: &str| -> Vec<String> {
        text.split(|ch: char| ch.is_whitespace() || is_hyphen(ch))
            .map(alphanumeric)
            .filter(|word| !word.is_empty() && !is_particle(word))
            .collect()
    };
    let mut words = Vec::new();
    for part in &name.surname {
        let folded = split(&part.folded);
        let respelled = part.respelled.as_deref().map(split).unwrap_or_default();
        for (index, word) in folded.into_iter().enumerate() {
            let mut spellings = vec![word];
            if let Some(other) = respelled.get(index) {
                if *other != spellings[0] {
                    spellings.push(other.clone());
                }
            }
            words.push(spellings);
        }
    }
    words
}

/// Returns true when two names are the same full words, one of them written without
/// saying which is the surname ([`PersonName::order_guessed`]): the writer of that one
/// may have put the surname first.
fn is_reordered(first: &PersonName, second: &PersonName) -> bool {
    if !(first.order_guessed || second.order_guessed) {
        return false;
    }
    fn sorted_words(name: &PersonName) -> Option<Vec<&str>> {
        let mut words = name.reorderable_words()?;
        words.sort_unstable();
        Some(words)
    }
    match (sorted_words(first), sorted_words(second)) {
        (Some(first_words), Some(second_words)) => first_words == second_words,
        _ => false,
    }
}

/// One component of a given name: `jean-pierre` has two.
#[derive(Debug, Clone)]
struct GivenComponent<'n> {
    folded: &'n str,
    respelled: Option<&'n str>,
    is_initial: bool,
}

fn given_components<'n>(
    name: &'n PersonName,
    other_surnames: &[String],
) -> Vec<GivenComponent<'n>> {
    let mut components = Vec::new();
    for given in &name.given {
        for (folded, respelled) in given.components().zip(given.respelled_components()) {
            if !given.is_initial && other_surnames.iter().any(|surname| surname == folded) {
                continue;
            }
            components.push(GivenComponent {
                folded,
                respelled,
                is_initial: folded.chars().count() == 1,
            });
        }
    }
    components
}

struct Alignment {
    agreement: NameAgreement,
    evidence: String,
}

/// Aligns the shorter list of given names with the longer one, in order: the first names
/// must agree (unless the longer form starts with an initial the shorter form drops, as in
/// `J. Edgar Hoover` and `Edgar Hoover`), and each later name of the shorter form must agree
/// with a later name of the longer form. Returns the conflicting pair otherwise. The
/// evidence is described only when `explain`.
fn align_given_names(
    shorter: &[GivenComponent<'_>],
    longer: &[GivenComponent<'_>],
    variants: &GivenNameVariants,
    explain: bool,
) -> Result<Alignment, (String, String)> {
    let first_match = match component_agreement(&shorter[0], &longer[0], variants) {
        Some(agreement) => Some((0, agreement)),
        None if longer[0].is_initial => {
            longer
                .iter()
                .enumerate()
                .skip(1)
                .find_map(|(index, candidate)| {
                    component_agreement(&shorter[0], candidate, variants)
                        .map(|agreement| (index, agreement))
                })
        }
        None => None,
    };
    let Some((mut longer_index, first_agreement)) = first_match else {
        return Err((shorter[0].folded.to_string(), longer[0].folded.to_string()));
    };

    // An initial written on both sides agrees as far as the two forms can tell: it weakens
    // the agreement only when nothing else was compared (`Stanley B. Zdonik` is itself in
    // full, `J. Smith` against `J. Smith` by initials).
    let is_compared = |first: &GivenComponent<'_>, second: &GivenComponent<'_>| {
        !(first.is_initial && second.is_initial)
    };
    let mut weakest = is_compared(&shorter[0], &longer[longer_index]).then_some(first_agreement);
    let mut evidence = Vec::new();
    if explain {
        evidence.push(describe(
            &shorter[0],
            &longer[longer_index],
            first_agreement,
        ));
    }
    for component in &shorter[1..] {
        longer_index += 1;
        let found = longer[longer_index.min(longer.len())..]
            .iter()
            .enumerate()
            .find_map(|(offset, candidate)| {
                component_agreement(component, candidate, variants)
                    .map(|agreement| (longer_index + offset, agreement))
            });
        let Some((matched_index, agreement)) = found else {
            let other = longer
                .get(longer_index)
                .or(longer.last())
                .map_or("", |c| c.folded);
            return Err((component.folded.to_string(), other.to_string()));
        };
        longer_index = matched_index;
        if is_compared(component, &longer[matched_index]) {
            weakest = Some(weakest.map_or(agreement, |weakest| weaker(weakest, agreement)));
        }
        if explain {
            evidence.push(describe(component, &longer[matched_index], agreement));
        }
    }
    Ok(Alignment {
        agreement: weakest.unwrap_or(NameAgreement::Initials),
        evidence: evidence.join(", "),
    })
}

fn component_agreement(
    first: &GivenComponent<'_>,
    second: &GivenComponent<'_>,
    variants: &GivenNameVariants,
) -> Option<NameAgreement> {
    let spelled_alike = first.folded == second.folded
        || first
            .respelled
            .is_some_and(|respelled| respelled == second.folded)
        || second
            .respelled
            .is_some_and(|respelled| respelled == first.folded);
    if spelled_alike {
        return Some(if first.is_initial {
            NameAgreement::Initials
        } else {
            NameAgreement::Full
        });
    }
    if first.is_initial || second.is_initial {
        // In either spelling: `G.` agrees with `Γεώργιος`, as `Γ.` does with `Georgios`.
        fn initials<'c>(component: &GivenComponent<'c>) -> impl Iterator<Item = char> + 'c {
            [Some(component.folded), component.respelled]
                .into_iter()
                .flatten()
                .filter_map(|spelling| spelling.chars().next())
        }
        let agrees = initials(first).any(|letter| initials(second).any(|other| other == letter));
        return agrees.then_some(NameAgreement::Initials);
    }
    variants
        .are_variants(first.folded, second.folded)
        .then_some(NameAgreement::Variant)
}

fn weaker(first: NameAgreement, second: NameAgreement) -> NameAgreement {
    let rank = |agreement| match agreement {
        NameAgreement::Full => 0,
        NameAgreement::Variant => 1,
        _ => 2,
    };
    if rank(second) > rank(first) {
        second
    } else {
        first
    }
}

fn describe(
    first: &GivenComponent<'_>,
    second: &GivenComponent<'_>,
    agreement: NameAgreement,
) -> String {
    match agreement {
        NameAgreement::Variant => {
            format!(
                "given name `{}` is a known variant of `{}`",
                first.folded, second.folded
            )
        }
        NameAgreement::Initials if first.folded != second.folded => {
            let (initial, name) = if first.is_initial {
                (first, second)
            } else {
                (second, first)
            };
            format!("initial `{}` agrees with `{}`", initial.folded, name.folded)
        }
        NameAgreement::Initials => format!("initial `{}` agrees", first.folded),
        _ => format!("given name `{}` agrees", first.folded),
    }
}
