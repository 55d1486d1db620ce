//! Scoring of (record, profile) pairs from the evidence in the record itself.
//!
//! Properties checked:
//! 1. A record listing the profile's ORCID iD scores above every name-only match.
//! 2. A full given name agreeing scores above initials only, which scores above a
//!    surname without given names.
//! 3. A conflicting given name lowers the score below a bare surname match, and is listed;
//!    alone, it makes no candidate.
//! 4. Another ORCID iD on the matched author lowers the score, and is listed; an iD with
//!    a wrong check character counts neither for nor against.
//! 5. Co-authors, affiliation and a known title each raise the score.
//! 6. The same input always gives the same reasons and score.
//! 7. Among authors agreeing alike, the reason names the one written as the profile is.

use analyzers::GivenNameVariants;
use matcher::evidence::{derive_reasons, RecordView};
use matcher::profile::ProfileContext;
use matcher::score::{score, ReasonKind};
use serde_json::Value;
use uuid::Uuid;

mod common;
use common::openalex_work;

const ORCID: &str = "0000-0002-1825-0097";
const OTHER_ORCID: &str = "0000-0001-5109-3700";

fn profile() -> ProfileContext {
    let mut profile = ProfileContext::new(Uuid::nil(), ["Josiah Carberry", "Carberry, Josiah S."]);
    profile.orcid = Some(ORCID.to_owned());
    profile
}

fn record(data: Value) -> RecordView {
    RecordView {
        id: Uuid::nil(),
        source: "openalex".to_owned(),
        data,
    }
}

fn scored(
    profile: &ProfileContext,
    authors: &[(&str, Option<&str>, Option<&str>)],
) -> (f64, Vec<ReasonKind>) {
    let data = openalex_work("Psychoceramics of the cracked pot", 2019, None, authors);
    let reasons = derive_reasons(profile, &record(data), &GivenNameVariants::empty());
    (
        score(&reasons),
        reasons.iter().map(|reason| reason.kind).collect(),
    )
}

#[test]
fn orcid_claimed_scores_above_any_name_match() {
    let profile = profile();
    let (with_orcid, kinds) = scored(&profile, &[("J. Carberry", Some(ORCID), None)]);
    let (full_name, _) = scored(&profile, &[("Josiah Carberry", None, None)]);
    assert!(kinds.contains(&ReasonKind::OrcidClaimed), "{kinds:?}");
    assert!(
        with_orcid > full_name,
        "orcid {with_orcid} vs full name {full_name}"
    );
    assert!(with_orcid >= 0.99, "{with_orcid}");
}

#[test]
fn name_agreement_is_graded() {
    let profile = profile();
    let cases = [
        ("Josiah Carberry", "full"),
        ("J. Carberry", "initials"),
        // Surname first without a comma: the profile's words in the other order.
        ("Carberry Josiah", "reordered"),
        ("Carberry", "surname_only"),
    ];
    let mut previous = f64::INFINITY;
    for (author, how) in cases {
        let data = openalex_work("Psychoceramics", 2019, None, &[(author, None, None)]);
        let reasons = derive_reasons(&profile, &record(data), &GivenNameVariants::empty());
        let name = reasons
            .iter()
            .find(|reason| reason.kind == ReasonKind::NameAgrees)
            .unwrap_or_else(|| panic!("`{author}` should agree with the profile"));
        assert!(
            name.detail.starts_with(how),
            "`{author}`: expected `{how}`, got `{}`",
            name.detail
        );
        let value = score(&reasons);
        assert!(
            value < previous,
            "`{author}` scored {value}, not below {previous}"
        );
        previous = value;
    }
}

#[test]
fn a_surname_shared_in_part_weighs_less() {
    let profile = profile();
    let (whole, _) = scored(&profile, &[("Josiah Carberry", None, None)]);
    let data = openalex_work(
        "Psychoceramics",
        2019,
        None,
        &[("Josiah Carberry-Pott", None, None)],
    );
    let reasons = derive_reasons(&profile, &record(data), &GivenNameVariants::empty());
    let name = reasons
        .iter()
        .find(|reason| reason.kind == ReasonKind::NameAgrees)
        .expect("`Josiah Carberry-Pott` agrees with the profile");
    assert!(name.detail.contains("surname in part"), "{}", name.detail);
    let in_part = score(&reasons);
    assert!(in_part < whole, "in part {in_part} vs whole {whole}");
}

#[test]
fn a_typo_in_one_word_of_a_compound_surname_is_a_typo() {
    let profile = ProfileContext::new(Uuid::nil(), ["Joachim Mueller-Kirchenbauer"]);
    let (exact, _) = scored(&profile, &[("Joachim Mueller-Kirchenbauer", None, None)]);
    let data = openalex_work(
        "Psychoceramics",
        2019,
        None,
        &[("Joachim Mueller-Kirchenbaur", None, None)],
    );
    let reasons = derive_reasons(&profile, &record(data), &GivenNameVariants::empty());
    let name = reasons
        .iter()
        .find(|reason| reason.kind == ReasonKind::NameAgrees)
        .expect("the misspelt surname agrees with the profile");
    assert!(
        name.detail.contains("1 typo in the surname"),
        "{}",
        name.detail
    );
    let with_typo = score(&reasons);
    assert!(
        with_typo < exact,
        "with a typo {with_typo} vs exact {exact}"
    );
}

#[test]
fn a_conflicting_given_name_lowers_the_score() {
    let mut profile = profile();
    let (_, alone) = scored(&profile, &[("Margaret Carberry", None, None)]);
    assert!(
        alone.is_empty(),
        "a conflict alone is no candidate: {alone:?}"
    );

    profile
        .known_titles
        .push("Psychoceramics of the cracked pot".to_owned());
    let (conflict, kinds) = scored(&profile, &[("Margaret Carberry", None, None)]);
    let (surname_only, _) = scored(&profile, &[("Carberry", None, None)]);
    assert!(kinds.contains(&ReasonKind::GivenNameConflict), "{kinds:?}");
    assert!(!kinds.contains(&ReasonKind::NameAgrees), "{kinds:?}");
    assert!(
        conflict < surname_only,
        "conflict {conflict} vs surname only {surname_only}"
    );
}

#[test]
fn another_orcid_on_the_matched_author_lowers_the_score() {
    let profile = profile();
    let (other, kinds) = scored(&profile, &[("Josiah Carberry", Some(OTHER_ORCID), None)]);
    let (plain, _) = scored(&profile, &[("Josiah Carberry", None, None)]);
    assert!(kinds.contains(&ReasonKind::DifferentOrcid), "{kinds:?}");
    assert!(other < plain, "different orcid {other} vs no orcid {plain}");
}

#[test]
fn an_orcid_with_a_wrong_check_character_is_no_evidence() {
    let profile = profile();
    let (plain, _) = scored(&profile, &[("Josiah Carberry", None, None)]);
    for mistyped in ["0000-0002-1825-0098", "0000-0001-5109-3701"] {
        let (score, kinds) = scored(&profile, &[("Josiah Carberry", Some(mistyped), None)]);
        assert!(
            !kinds.contains(&ReasonKind::DifferentOrcid),
            "{mistyped}: {kinds:?}"
        );
        assert!(
            !kinds.contains(&ReasonKind::OrcidClaimed),
            "{mistyped}: {kinds:?}"
        );
        assert_eq!(score, plain, "{mistyped}");
    }
}

#[test]
fn coauthors_affiliation_and_known_titles_raise_the_score() {
    let mut profile = profile();
    let (alone, _) = scored(
        &profile,
        &[
            ("Josiah Carberry", None, Some("Brown University")),
            ("Ann Smith", None, None),
        ],
    );
    profile
        .affiliations
        .push("Brown University, Providence".to_owned());
    profile
        .coauthors
        .insert(matcher::evidence::coauthor_key("A. Smith").unwrap());
    let (with_context, kinds) = scored(
        &profile,
        &[
            ("Josiah Carberry", None, Some("Brown University")),
            ("Ann Smith", None, None),
        ],
    );
    assert!(kinds.contains(&ReasonKind::AffiliationAgrees), "{kinds:?}");
    assert!(kinds.contains(&ReasonKind::CoauthorsShared), "{kinds:?}");
    assert!(with_context > alone);

    profile
        .known_titles
        .push("Psychoceramics of the Cracked Pot".to_owned());
    let (with_title, kinds) = scored(
        &profile,
        &[
            ("Josiah Carberry", None, Some("Brown University")),
            ("Ann Smith", None, None),
        ],
    );
    assert!(kinds.contains(&ReasonKind::KnownWorkTitle), "{kinds:?}");
    assert!(with_title > with_context);
}

#[test]
fn years_far_from_the_known_ones_lower_the_score() {
    let mut profile = profile();
    profile.known_years = Some((2015, 2020));
    let near = openalex_work(
        "Psychoceramics",
        2019,
        None,
        &[("Josiah Carberry", None, None)],
    );
    let far = openalex_work(
        "Psychoceramics",
        1961,
        None,
        &[("Josiah Carberry", None, None)],
    );
    let variants = GivenNameVariants::empty();
    let near_reasons = derive_reasons(&profile, &record(near), &variants);
    let far_reasons = derive_reasons(&profile, &record(far), &variants);
    assert!(near_reasons
        .iter()
        .any(|reason| reason.kind == ReasonKind::YearPlausible));
    assert!(far_reasons
        .iter()
        .any(|reason| reason.kind == ReasonKind::YearImplausible));
    assert!(score(&near_reasons) > score(&far_reasons));
}

#[test]
fn a_record_without_the_person_has_no_reasons() {
    let (_, kinds) = scored(&profile(), &[("Ann Smith", None, None)]);
    assert!(kinds.is_empty(), "{kinds:?}");
}

#[test]
fn the_same_input_gives_the_same_score() {
    let profile = profile();
    let authors = [
        ("Josiah S. Carberry", Some(ORCID), Some("Brown University")),
        ("Ann Smith", None, None),
    ];
    let data = openalex_work("Psychoceramics", 2019, Some("10.5555/12345678"), &authors);
    let variants = GivenNameVariants::empty();
    let first = derive_reasons(&profile, &record(data.clone()), &variants);
    for _ in 0..20 {
        let again = derive_reasons(&profile, &record(data.clone()), &variants);
        assert_eq!(again, first);
        assert_eq!(score(&again).to_bits(), score(&first).to_bits());
    }
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        serde_json::to_string(&derive_reasons(&profile, &record(data), &variants)).unwrap()
    );
}

#[test]
fn the_reason_names_the_author_written_as_the_profile_is() {
    let profile = ProfileContext::new(Uuid::nil(), ["J. Smith"]);
    let data = openalex_work(
        "Psychoceramics",
        2019,
        None,
        &[
            ("N. J. Cooper-Smith", None, None),
            ("B. C. Smith", None, None),
            ("J. Smith", None, None),
        ],
    );
    let reasons = derive_reasons(&profile, &record(data), &GivenNameVariants::empty());
    let name = reasons
        .iter()
        .find(|reason| reason.kind == ReasonKind::NameAgrees)
        .expect("the name agrees");
    assert!(
        name.detail.contains("author 3 `J. Smith`"),
        "{}",
        name.detail
    );
}
