//! Derives the reasons of a (record, profile) pair from the record's own JSON: which author
//! position is the person, whether it carries the profile's ORCID iD or another, how the
//! names agree, shared co-authors, affiliation, a verified work's title, the year.
//!
//! What the search API says it matched is only a hint for retrieval; the evidence written
//! to `candidate_matches` is always derived here, from the stored record.

use std::collections::{BTreeSet, HashSet};

use analyzers::{
    compatibility, max_surname_typos, osa_distance, surname_agrees_in_part, surname_word_typos,
    text_tokens, GivenNameVariants, NameAgreement, PersonName, TokenKind,
};
use indexer::index::extract::{normalize_orcid, RecordFields};
use serde_json::Value;
use uuid::Uuid;

use crate::profile::ProfileContext;
use crate::score::{
    Reason, ReasonKind, AFFILIATION_WEIGHT, COAUTHOR_WEIGHT, DIFFERENT_ORCID_WEIGHT,
    GIVEN_NAME_CONFLICT_WEIGHT, KNOWN_WORK_TITLE_WEIGHT, MAX_COAUTHORS_WEIGHT, NAME_FULL_WEIGHT,
    NAME_INITIALS_WEIGHT, NAME_REORDERED_WEIGHT, NAME_SURNAME_IN_PART_PENALTY,
    NAME_SURNAME_ONLY_WEIGHT, NAME_TYPO_PENALTY, NAME_VARIANT_WEIGHT, ORCID_CLAIMED_WEIGHT,
    YEAR_IMPLAUSIBLE_WEIGHT, YEAR_PLAUSIBLE_WEIGHT,
};

/// Smallest Dice similarity of folded title words for a record to count as a version of
/// a verified work.
pub const MIN_KNOWN_TITLE_SIMILARITY: f64 = 0.8;
/// Share of the shorter affiliation's distinctive words the other must contain.
pub const MIN_AFFILIATION_WORD_SHARE: f64 = 0.6;
/// Years outside the profile's known years still plausible: careers move on slowly.
pub const PLAUSIBLE_YEAR_DISTANCE: i32 = 5;
/// Years outside the profile's known years from which a record is implausible.
pub const IMPLAUSIBLE_YEAR_DISTANCE: i32 = 20;

/// Words that say what kind of institution an affiliation is, not which one.
const GENERIC_AFFILIATION_WORDS: &[&str] = &[
    "university",
    "universite",
    "universitat",
    "universidad",
    "universita",
    "universidade",
    "universiteit",
    "uni",
    "univ",
    "of",
    "the",
    "de",
    "des",
    "du",
    "la",
    "le",
    "les",
    "and",
    "et",
    "und",
    "fur",
    "for",
    "in",
    "at",
    "institute",
    "institut",
    "instituto",
    "department",
    "dept",
    "departement",
    "school",
    "faculty",
    "college",
    "center",
    "centre",
    "laboratory",
    "laboratoire",
    "lab",
    "national",
    "research",
    "sciences",
    "science",
    "technology",
    "technical",
    "technische",
    "hospital",
    "division",
    "unit",
    "group",
];

/// A stored record as the matcher reads it.
#[derive(Debug, Clone)]
pub struct RecordView {
    /// The raw record's id (one version).
    pub id: Uuid,
    /// Its source (`openalex`, `crossref`…).
    pub source: String,
    /// The record as the source gave it.
    pub data: Value,
}

/// One author of a record, in the record's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorPosition {
    /// The name as the record displays it.
    pub name: String,
    /// Other forms of the name the record gives (OpenAlex's raw author name).
    pub other_names: Vec<String>,
    /// The ORCID iD the record gives this author, bare.
    pub orcid: Option<String>,
    /// Affiliations the record gives this author.
    pub affiliations: Vec<String>,
}

/// Returns the authors of a record with what the source says of each position. Sources
/// without per-author details give names only, from [`RecordFields`].
pub fn author_positions(source: &str, data: &Value, fields: &RecordFields) -> Vec<AuthorPosition> {
    let positions = match source {
        "openalex" => openalex_positions(data),
        "crossref" => crossref_positions(data),
        "orcid" => orcid_positions(data, fields),
        _ => Vec::new(),
    };
    if !positions.is_empty() {
        return positions;
    }
    fields
        .authors
        .iter()
        .map(|name| AuthorPosition {
            name: name.clone(),
            ..AuthorPosition::default()
        })
        .collect()
}

fn openalex_positions(data: &Value) -> Vec<AuthorPosition> {
    let authorships = data.get("authorships").and_then(Value::as_array);
    let mut positions = Vec::new();
    for authorship in authorships.into_iter().flatten() {
        let display = text(authorship.pointer("/author/display_name"));
        let raw = text(authorship.get("raw_author_name"));
        let (name, other_names) = match (display, raw) {
            (Some(display), Some(raw)) if raw != display => (display, vec![raw]),
            (Some(display), _) => (display, Vec::new()),
            (None, Some(raw)) => (raw, Vec::new()),
            (None, None) => continue,
        };
        let orcid = authorship
            .pointer("/author/orcid")
            .or_else(|| authorship.get("raw_orcid"))
            .and_then(Value::as_str)
            .and_then(normalize_orcid);
        let mut affiliations: Vec<String> = Vec::new();
        let institutions = authorship.get("institutions").and_then(Value::as_array);
        affiliations.extend(
            institutions
                .into_iter()
                .flatten()
                .filter_map(|institution| text(institution.get("display_name"))),
        );
        let raw_strings = authorship
            .get("raw_affiliation_strings")
            .and_then(Value::as_array);
        affiliations.extend(
            raw_strings
                .into_iter()
                .flatten()
                .filter_map(|raw| text(Some(raw))),
        );
        affiliations.extend(text(authorship.get("raw_affiliation_string")));
        positions.push(AuthorPosition {
            name,
            other_names,
            orcid,
            affiliations,
        });
    }
    positions
}

fn crossref_positions(data: &Value) -> Vec<AuthorPosition> {
    let authors = data.get("author").and_then(Value::as_array);
    let mut positions = Vec::new();
    for author in authors.into_iter().flatten() {
        let name = match (text(author.get("given")), text(author.get("family"))) {
            (Some(given), Some(family)) => format!("{given} {family}"),
            (given, family) => match family.or(given).or_else(|| text(author.get("name"))) {
                Some(name) => name,
                None => continue,
            },
        };
        let orcid = author
            .get("ORCID")
            .and_then(Value::as_str)
            .and_then(normalize_orcid);
        let affiliations = author.get("affiliation").and_then(Value::as_array);
        let affiliations = affiliations
            .into_iter()
            .flatten()
            .filter_map(|affiliation| text(affiliation.get("name")))
            .collect();
        positions.push(AuthorPosition {
            name,
            other_names: Vec::new(),
            orcid,
            affiliations,
        });
    }
    positions
}

/// An ORCID work summary names one author: the profile that listed it.
fn orcid_positions(data: &Value, fields: &RecordFields) -> Vec<AuthorPosition> {
    let Some(name) = fields.authors.first() else {
        return Vec::new();
    };
    let orcid = data
        .pointer("/owner/orcid")
        .or_else(|| data.get("orcid"))
        .and_then(Value::as_str)
        .and_then(normalize_orcid);
    vec![AuthorPosition {
        name: name.clone(),
        orcid,
        ..AuthorPosition::default()
    }]
}

fn text(value: Option<&Value>) -> Option<String> {
    let collapsed = value?
        .as_str()?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

/// How one author position agrees with the profile's best name form.
#[derive(Debug, Clone)]
struct PositionMatch {
    position: usize,
    agreement: NameAgreement,
    typos: u8,
    /// How literally the names agree beyond `agreement`, 0 being the closest (see
    /// [`literal_distance`]): among authors agreeing alike, the one written as the profile
    /// writes its name is the one meant.
    distance: u8,
    name_form: String,
    author_name: String,
}

/// The evidence of one (record, profile) pair.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairEvidence {
    /// Every reason, supporting and conflicting.
    pub reasons: Vec<Reason>,
    /// The author position (from 0) taken to be the person.
    pub matched_position: Option<usize>,
    /// That author's first affiliation, as the record gives it.
    pub matched_affiliation: Option<String>,
}

/// Derives every reason for `record` belonging to `profile`; empty when nothing in the
/// record points at the person (no name, no ORCID iD, no known title).
pub fn derive_reasons(
    profile: &ProfileContext,
    record: &RecordView,
    variants: &GivenNameVariants,
) -> Vec<Reason> {
    derive_evidence(profile, record, variants).reasons
}

/// Derives the evidence of a pair: its reasons and the author position they point at.
pub fn derive_evidence(
    profile: &ProfileContext,
    record: &RecordView,
    variants: &GivenNameVariants,
) -> PairEvidence {
    let fields = RecordFields::extract(&record.source, &record.data);
    let positions = author_positions(&record.source, &record.data, &fields);
    let mut reasons = Vec::new();

    let orcid_position = profile.orcid.as_ref().and_then(|orcid| {
        positions
            .iter()
            .position(|position| position.orcid.as_ref() == Some(orcid))
    });
    let record_lists_orcid = orcid_position.is_some()
        || profile
            .orcid
            .as_ref()
            .is_some_and(|orcid| fields.orcids.contains(orcid));
    if record_lists_orcid {
        let orcid = profile.orcid.as_deref().unwrap_or_default();
        let detail = match orcid_position {
            Some(index) => format!("author {} lists ORCID `{orcid}`", index + 1),
            None => format!("the record lists ORCID `{orcid}`"),
        };
        reasons.push(Reason::new(
            ReasonKind::OrcidClaimed,
            ORCID_CLAIMED_WEIGHT,
            detail,
        ));
    }

    let position_matches: Vec<PositionMatch> = positions
        .iter()
        .enumerate()
        .filter_map(|(index, position)| best_name_match(profile, index, position, variants))
        .collect();
    let best_compatible = position_matches
        .iter()
        .filter(|found| found.agreement.is_compatible())
        .min_by_key(|found| {
            (
                found.agreement.rank(),
                found.typos,
                found.distance,
                found.position,
            )
        });
    let matched = match orcid_position {
        Some(index) => position_matches
            .iter()
            .find(|found| found.position == index && found.agreement.is_compatible())
            .or(best_compatible),
        None => best_compatible,
    };
    let matched_index = orcid_position.or(matched.map(|found| found.position));

    if let Some(found) = matched {
        reasons.push(name_reason(found));
    } else if let Some(conflict) = position_matches
        .iter()
        .filter(|found| found.agreement == NameAgreement::Conflict)
        .min_by_key(|found| found.position)
    {
        let detail = format!(
            "surname agrees but given names conflict: `{}` against `{}` (author {})",
            conflict.name_form,
            conflict.author_name,
            conflict.position + 1
        );
        reasons.push(Reason::new(
            ReasonKind::GivenNameConflict,
            GIVEN_NAME_CONFLICT_WEIGHT,
            detail,
        ));
    }

    if let Some(index) = matched_index {
        let position = &positions[index];
        if let Some(reason) = coauthors_reason(profile, &positions, index, variants) {
            reasons.push(reason);
        }
        if let Some(reason) = affiliation_reason(profile, position) {
            reasons.push(reason);
        }
        if let (Some(profile_orcid), Some(position_orcid)) = (&profile.orcid, &position.orcid) {
            if profile_orcid != position_orcid {
                let detail = format!(
                    "author {} carries ORCID `{position_orcid}`, not `{profile_orcid}`",
                    index + 1
                );
                reasons.push(Reason::new(
                    ReasonKind::DifferentOrcid,
                    DIFFERENT_ORCID_WEIGHT,
                    detail,
                ));
            }
        }
    }

    if let Some(reason) = known_title_reason(profile, fields.title.as_deref()) {
        reasons.push(reason);
    }

    let has_pointer = reasons.iter().any(|reason| {
        matches!(
            reason.kind,
            ReasonKind::OrcidClaimed | ReasonKind::NameAgrees | ReasonKind::KnownWorkTitle
        )
    });
    if !has_pointer {
        return PairEvidence::default();
    }
    if let Some(reason) = year_reason(profile, fields.year) {
        reasons.push(reason);
    }
    PairEvidence {
        reasons,
        matched_position: matched_index,
        matched_affiliation: matched_index
            .and_then(|index| positions[index].affiliations.first().cloned()),
    }
}

/// Returns the best agreement of any name form of the profile with any form of the
/// position's name; `None` when no surname agrees, even within the typo budget.
fn best_name_match(
    profile: &ProfileContext,
    index: usize,
    position: &AuthorPosition,
    variants: &GivenNameVariants,
) -> Option<PositionMatch> {
    let mut best: Option<PositionMatch> = None;
    for author_name in std::iter::once(&position.name).chain(&position.other_names) {
        let parsed_author = PersonName::parse(author_name);
        for (name_form, parsed_form) in profile.names.iter().zip(&profile.parsed_names) {
            let Some((agreement, typos)) =
                agreement_with_typos(parsed_form, &parsed_author, variants)
            else {
                continue;
            };
            let distance = literal_distance(parsed_form, &parsed_author);
            let candidate = PositionMatch {
                position: index,
                agreement,
                typos,
                distance,
                name_form: name_form.clone(),
                author_name: author_name.clone(),
            };
            let is_better = best.as_ref().is_none_or(|current| {
                (agreement.rank(), typos, distance)
                    < (current.agreement.rank(), current.typos, current.distance)
            });
            if is_better {
                best = Some(candidate);
            }
        }
    }
    best
}

/// Returns 0 when two names have the same folded surname and given names, 1 when only the
/// surnames are the same, and 2 when the surnames merely agree (one part of a compound, a
/// particle more or less): `J. Smith` is closer to `J. Smith` than to `N. J. Cooper-Smith`.
fn literal_distance(form: &PersonName, author: &PersonName) -> u8 {
    let folded = |parts: &[analyzers::NamePart]| -> Vec<String> {
        parts.iter().map(|part| part.folded.clone()).collect()
    };
    if folded(&form.surname) != folded(&author.surname) {
        return 2;
    }
    let given = |name: &PersonName| -> Vec<String> {
        name.given
            .iter()
            .map(|given| given.part.folded.clone())
            .collect()
    };
    u8::from(given(form) != given(author))
}

/// Returns how two names agree and the typos between their surnames; `None` when the
/// surnames differ beyond the typo budget.
fn agreement_with_typos(
    form: &PersonName,
    author: &PersonName,
    variants: &GivenNameVariants,
) -> Option<(NameAgreement, u8)> {
    let exact = compatibility(form, author, variants).agreement;
    if exact != NameAgreement::SurnameMismatch {
        // A compound surname may share one word exactly and another within typos; a
        // surname shared only in part is weighed as such instead (asked only when a typo
        // was found: most pairs have none).
        let typos = match surname_word_typos(form, author) {
            0 => 0,
            _ if surname_agrees_in_part(form, author) => 0,
            typos => typos,
        };
        return Some((exact, typos));
    }
    let typos = surname_typos(form, author)?;
    let mut respelled = author.clone();
    respelled.surname.clone_from(&form.surname);
    respelled.particles.clone_from(&form.particles);
    let agreement = compatibility(form, &respelled, variants).agreement;
    (agreement != NameAgreement::SurnameMismatch).then_some((agreement, typos))
}

fn surname_typos(form: &PersonName, author: &PersonName) -> Option<u8> {
    let author_keys: Vec<Vec<char>> = author
        .surname_keys()
        .iter()
        .map(|key| key.chars().collect())
        .collect();
    form.surname_keys()
        .iter()
        .filter_map(|key| {
            let key: Vec<char> = key.chars().collect();
            let budget = max_surname_typos(key.len());
            author_keys
                .iter()
                .map(|other| osa_distance(&key, other))
                .filter(|distance| *distance <= budget)
                .min()
        })
        .min()
        .and_then(|typos| u8::try_from(typos).ok())
}

fn name_reason(found: &PositionMatch) -> Reason {
    let (how, weight) = match found.agreement {
        NameAgreement::Full => ("full", NAME_FULL_WEIGHT),
        NameAgreement::Variant => ("variant", NAME_VARIANT_WEIGHT),
        NameAgreement::Initials => ("initials", NAME_INITIALS_WEIGHT),
        NameAgreement::Reordered => ("reordered", NAME_REORDERED_WEIGHT),
        _ => ("surname_only", NAME_SURNAME_ONLY_WEIGHT),
    };
    let mut weight = weight - NAME_TYPO_PENALTY * f64::from(found.typos);
    // Asked of the chosen match only: it weighs the reason, not the choice.
    let is_surname_in_part = || {
        surname_agrees_in_part(
            &PersonName::parse(&found.name_form),
            &PersonName::parse(&found.author_name),
        )
    };
    let typos = match found.typos {
        0 if is_surname_in_part() => {
            weight -= NAME_SURNAME_IN_PART_PENALTY;
            ", the surname in part".to_owned()
        }
        0 => String::new(),
        1 => ", 1 typo in the surname".to_owned(),
        typos => format!(", {typos} typos in the surname"),
    };
    let detail = format!(
        "{how}: `{}` agrees with author {} `{}`{typos}",
        found.name_form,
        found.position + 1,
        found.author_name
    );
    Reason::new(ReasonKind::NameAgrees, weight, detail)
}

/// The key two author strings share when they likely name the same co-author: the first
/// surname key and the first initial (`smith j` for `John Smith` and `J. Smith`).
pub fn coauthor_key(name: &str) -> Option<String> {
    let parsed = PersonName::parse(name);
    let surname = parsed.surname_keys().into_iter().next()?;
    let initial = parsed.initials().chars().next();
    Some(match initial {
        Some(initial) => format!("{surname} {initial}"),
        None => surname,
    })
}

fn coauthors_reason(
    profile: &ProfileContext,
    positions: &[AuthorPosition],
    matched_index: usize,
    variants: &GivenNameVariants,
) -> Option<Reason> {
    if profile.coauthors.is_empty() {
        return None;
    }
    let mut shared: BTreeSet<String> = BTreeSet::new();
    let mut shared_names: Vec<&str> = Vec::new();
    for (index, position) in positions.iter().enumerate() {
        if index == matched_index || profile.is_own_name(&position.name, variants) {
            continue;
        }
        let Some(key) = coauthor_key(&position.name) else {
            continue;
        };
        if profile.coauthors.contains(&key) && shared.insert(key) {
            shared_names.push(&position.name);
        }
    }
    if shared.is_empty() {
        return None;
    }
    let weight = (COAUTHOR_WEIGHT * shared.len() as f64).min(MAX_COAUTHORS_WEIGHT);
    let listed: Vec<String> = shared_names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect();
    let detail = format!(
        "{} co-author(s) in common with verified works: {}",
        shared.len(),
        listed.join(", ")
    );
    Some(Reason::new(ReasonKind::CoauthorsShared, weight, detail))
}

/// Returns the distinctive folded words of an affiliation.
pub fn affiliation_words(affiliation: &str) -> BTreeSet<String> {
    text_tokens(affiliation)
        .into_iter()
        .filter(|token| matches!(token.kind, TokenKind::Word | TokenKind::Joined))
        .map(|token| token.text)
        .filter(|word| {
            word.chars().count() > 1 && !GENERIC_AFFILIATION_WORDS.contains(&word.as_str())
        })
        .collect()
}

/// Returns true when two affiliations name the same institution: most distinctive words
/// of the shorter appear in the other.
pub fn affiliations_agree(first: &BTreeSet<String>, second: &BTreeSet<String>) -> bool {
    let shorter_len = first.len().min(second.len());
    if shorter_len == 0 {
        return false;
    }
    let common = first.intersection(second).count();
    common as f64 / shorter_len as f64 >= MIN_AFFILIATION_WORD_SHARE
}

fn affiliation_reason(profile: &ProfileContext, position: &AuthorPosition) -> Option<Reason> {
    for record_affiliation in &position.affiliations {
        let record_words = affiliation_words(record_affiliation);
        let agreeing = profile.affiliations.iter().find(|profile_affiliation| {
            affiliations_agree(&affiliation_words(profile_affiliation), &record_words)
        });
        if let Some(profile_affiliation) = agreeing {
            let detail =
                format!("`{record_affiliation}` agrees with the profile's `{profile_affiliation}`");
            return Some(Reason::new(
                ReasonKind::AffiliationAgrees,
                AFFILIATION_WEIGHT,
                detail,
            ));
        }
    }
    None
}

/// Returns the folded words of a title.
pub fn title_words(title: &str) -> Vec<String> {
    text_tokens(title)
        .into_iter()
        .filter(|token| matches!(token.kind, TokenKind::Word | TokenKind::Joined))
        .map(|token| token.text)
        .collect()
}

/// Returns Dice's coefficient of two titles' distinct words.
pub fn title_similarity(first: &[String], second: &[String]) -> f64 {
    let first: HashSet<&String> = first.iter().collect();
    let second: HashSet<&String> = second.iter().collect();
    if first.is_empty() || second.is_empty() {
        return 0.0;
    }
    let common = first.intersection(&second).count();
    2.0 * common as f64 / (first.len() + second.len()) as f64
}

fn known_title_reason(profile: &ProfileContext, title: Option<&str>) -> Option<Reason> {
    let words = title_words(title?);
    let (best_title, similarity) = profile
        .known_titles
        .iter()
        .map(|known| (known, title_similarity(&words, &title_words(known))))
        .max_by(|first, second| first.1.total_cmp(&second.1))?;
    if similarity < MIN_KNOWN_TITLE_SIMILARITY {
        return None;
    }
    let detail =
        format!("title agrees with verified work `{best_title}` (similarity {similarity:.2})");
    Some(Reason::new(
        ReasonKind::KnownWorkTitle,
        KNOWN_WORK_TITLE_WEIGHT * similarity,
        detail,
    ))
}

fn year_reason(profile: &ProfileContext, year: Option<i32>) -> Option<Reason> {
    let year = year?;
    let (first, last) = profile.known_years?;
    let distance = if year < first {
        first - year
    } else {
        year.saturating_sub(last).max(0)
    };
    if distance <= PLAUSIBLE_YEAR_DISTANCE {
        let detail = format!("{year} fits the verified works' years {first}–{last}");
        Some(Reason::new(
            ReasonKind::YearPlausible,
            YEAR_PLAUSIBLE_WEIGHT,
            detail,
        ))
    } else if distance >= IMPLAUSIBLE_YEAR_DISTANCE {
        let detail =
            format!("{year} is {distance} years from the verified works' years {first}–{last}");
        Some(Reason::new(
            ReasonKind::YearImplausible,
            YEAR_IMPLAUSIBLE_WEIGHT,
            detail,
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affiliations_compare_by_distinctive_words() {
        let oxford = affiliation_words("University of Oxford");
        let physics = affiliation_words("Department of Physics, University of Oxford, UK");
        let berkeley = affiliation_words("University of California, Berkeley");
        let los_angeles = affiliation_words("University of California, Los Angeles");
        assert!(affiliations_agree(&oxford, &physics));
        assert!(!affiliations_agree(&berkeley, &los_angeles));
        assert!(!affiliations_agree(
            &affiliation_words("University"),
            &oxford
        ));
    }

    #[test]
    fn coauthor_keys_ignore_the_form_of_given_names() {
        assert_eq!(coauthor_key("John Smith"), coauthor_key("Smith, J."));
        assert_ne!(coauthor_key("John Smith"), coauthor_key("Karl Smith"));
    }
}
