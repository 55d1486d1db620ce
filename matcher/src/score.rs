//! Scores a (record, profile) pair from its reasons: each reason adds its weight to the
//! log-odds that the record is the person's work, and the score is the logistic of the sum.
//!
//! Weights are log-odds, so independent evidence adds up and conflicting evidence
//! subtracts; the same reasons always give the same score, rounded to the three decimals
//! `candidate_matches.match_score` keeps.

use serde::{Deserialize, Serialize};

/// Log-odds before any evidence: most records retrieved by a name are someone else's.
pub const PRIOR_LOG_ODDS: f64 = -3.0;
/// The record lists the profile's ORCID iD: the person or a source claimed the work.
pub const ORCID_CLAIMED_WEIGHT: f64 = 7.0;
/// A name form agrees with an author in full (surname and given names).
pub const NAME_FULL_WEIGHT: f64 = 2.5;
/// A name form agrees through a given-name variant (`Chris`, `Christopher`).
pub const NAME_VARIANT_WEIGHT: f64 = 2.0;
/// A name form agrees only by initials (`J. Smith`).
pub const NAME_INITIALS_WEIGHT: f64 = 1.2;
/// A name form holds the author's full names in the other order, surname first without a
/// comma on one side (`Spinellis Diomidis`, `Diomidis Spinellis`): weaker than initials,
/// as where both orders are common (`Wang Wei`, `Wei Wang`) they often name two people.
pub const NAME_REORDERED_WEIGHT: f64 = 1.0;
/// Only the surname agrees; one side has no given name.
pub const NAME_SURNAME_ONLY_WEIGHT: f64 = 0.4;
/// Subtracted when the surnames share only some of their words (`Mueller-Kirchenbauer`
/// and `Mueller`): the person may have added or dropped a surname, or the two are
/// namesakes.
pub const NAME_SURNAME_IN_PART_PENALTY: f64 = 0.6;
/// Subtracted per typo between the surnames.
pub const NAME_TYPO_PENALTY: f64 = 0.8;
/// Added per co-author shared with the profile's verified works.
pub const COAUTHOR_WEIGHT: f64 = 1.0;
/// The most shared co-authors add in total: a large collaboration is one piece of evidence.
pub const MAX_COAUTHORS_WEIGHT: f64 = 3.0;
/// The matched author's affiliation agrees with one of the profile's.
pub const AFFILIATION_WEIGHT: f64 = 1.5;
/// Multiplied by the title similarity with a verified work: likely another version of it.
pub const KNOWN_WORK_TITLE_WEIGHT: f64 = 3.0;
/// The year falls within the profile's known years or close to them.
pub const YEAR_PLAUSIBLE_WEIGHT: f64 = 0.3;
/// The matched author position carries another ORCID iD.
pub const DIFFERENT_ORCID_WEIGHT: f64 = -6.0;
/// The surname agrees but every given name conflicts (`John` against `James`).
pub const GIVEN_NAME_CONFLICT_WEIGHT: f64 = -4.0;
/// The year lies far outside the profile's known years.
pub const YEAR_IMPLAUSIBLE_WEIGHT: f64 = -1.5;

/// The kinds of evidence, as written in `match_reasons[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// The record lists the profile's ORCID iD.
    OrcidClaimed,
    /// A name form of the profile agrees with an author of the record.
    NameAgrees,
    /// Co-authors in common with the profile's verified works.
    CoauthorsShared,
    /// The matched author's affiliation agrees with the profile's.
    AffiliationAgrees,
    /// The record's title is that of a verified work of the profile.
    KnownWorkTitle,
    /// The year fits the profile's known years.
    YearPlausible,
    /// The matched author position carries another ORCID iD.
    DifferentOrcid,
    /// The surname agrees but the given names conflict.
    GivenNameConflict,
    /// The year lies far outside the profile's known years.
    YearImplausible,
}

impl ReasonKind {
    /// Returns true for evidence that the record is the person's; false for conflicts.
    pub fn is_supporting(self) -> bool {
        !matches!(
            self,
            ReasonKind::DifferentOrcid
                | ReasonKind::GivenNameConflict
                | ReasonKind::YearImplausible
        )
    }
}

/// One piece of evidence with its weight and a sentence a librarian reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// What kind of evidence.
    #[serde(rename = "type")]
    pub kind: ReasonKind,
    /// Its log-odds contribution, rounded to two decimals.
    pub weight: f64,
    /// What was compared and how it came out.
    pub detail: String,
}

impl Reason {
    /// Returns a reason with its weight rounded to two decimals, so that the stored JSON
    /// and the score computed from it agree exactly.
    pub fn new(kind: ReasonKind, weight: f64, detail: impl Into<String>) -> Reason {
        Reason {
            kind,
            weight: (weight * 100.0).round() / 100.0,
            detail: detail.into(),
        }
    }
}

/// Returns the score of a pair in `[0, 1]`, rounded to three decimals.
pub fn score(reasons: &[Reason]) -> f64 {
    let log_odds = reasons
        .iter()
        .fold(PRIOR_LOG_ODDS, |sum, reason| sum + reason.weight);
    let probability = 1.0 / (1.0 + (-log_odds).exp());
    round_score(probability)
}

/// Rounds to the three decimals of `numeric(4, 3)`.
pub fn round_score(value: f64) -> f64 {
    ((value.clamp(0.0, 1.0)) * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_adds_and_conflicts_subtract() {
        let name = Reason::new(ReasonKind::NameAgrees, NAME_FULL_WEIGHT, "full");
        let orcid = Reason::new(ReasonKind::OrcidClaimed, ORCID_CLAIMED_WEIGHT, "orcid");
        let conflict = Reason::new(
            ReasonKind::DifferentOrcid,
            DIFFERENT_ORCID_WEIGHT,
            "other orcid",
        );
        let name_only = score(std::slice::from_ref(&name));
        let with_orcid = score(&[name.clone(), orcid]);
        let with_conflict = score(&[name, conflict]);
        assert!(with_orcid > name_only && name_only > with_conflict);
        assert!(with_orcid > 0.99);
        assert!((0.0..=1.0).contains(&with_conflict));
    }

    #[test]
    fn reasons_serialize_as_documented() {
        let reason = Reason::new(ReasonKind::YearPlausible, 0.333, "2019 within 2015–2020");
        let json = serde_json::to_value(&reason).unwrap();
        assert_eq!(json["type"], "year_plausible");
        assert_eq!(json["weight"], 0.33);
    }
}
