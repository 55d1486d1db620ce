//! Person names: parsing the written forms of real records, retrieval keys, name tokens and
//! the compatibility of two forms.
//!
//! Properties checked:
//! 1. Every form found in DBLP-ACM, ORCID and OpenAlex records parses into given names,
//!    particles, surname and suffix as a librarian reads them.
//! 2. Keys hold the folded full name, surname keys with second spellings, given names and
//!    initials; names are never stemmed.
//! 3. Compatibility: an initial agrees with a given name it starts; different full given
//!    names conflict unless the variant table relates them; order and particles do not
//!    matter.
//! 4. The variant tables of the names data set load in both formats.

mod common;

use analyzers::{
    compatibility, name_tokens, name_tokens_at_least, surname_agrees_in_part, surname_word_typos,
    GivenNameVariants, NameAgreement, NameProbe, PersonName, TokenKind,
};
use common::{from_sample, has_token, samples_dir, texts, texts_of_kind};

/// Given names (folded, initials as one letter), particles, surname words, suffix.
type ExpectedParse = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    Option<&'static str>,
);

fn parsed_view(name: &PersonName) -> (Vec<&str>, Vec<&str>, Vec<&str>, Option<&str>) {
    (
        name.given
            .iter()
            .map(|given| given.part.folded.as_str())
            .collect(),
        name.particles
            .iter()
            .map(|part| part.folded.as_str())
            .collect(),
        name.surname
            .iter()
            .map(|part| part.folded.as_str())
            .collect(),
        name.suffix.as_deref(),
    )
}

#[test]
fn parses_written_forms() {
    let cases: &[(&str, ExpectedParse)] = &[
        ("Smith, John Q.", (&["john", "q"], &[], &["smith"], None)),
        ("John Q. Smith", (&["john", "q"], &[], &["smith"], None)),
        ("J.Q. Smith", (&["j", "q"], &[], &["smith"], None)),
        ("J. Q. Smith", (&["j", "q"], &[], &["smith"], None)),
        ("JQ Smith", (&["j", "q"], &[], &["smith"], None)),
        ("Smith JQ", (&["j", "q"], &[], &["smith"], None)),
        ("J.Smith", (&["j"], &[], &["smith"], None)),
        (
            "Ludwig van Beethoven",
            (&["ludwig"], &["van"], &["beethoven"], None),
        ),
        (
            "Johannes van der Waals",
            (&["johannes"], &["van", "der"], &["waals"], None),
        ),
        (
            "van der Waals, Johannes",
            (&["johannes"], &["van", "der"], &["waals"], None),
        ),
        ("Gerard 't Hooft", (&["gerard"], &["'t"], &["hooft"], None)),
        (
            "Juan de la Cruz",
            (&["juan"], &["de", "la"], &["cruz"], None),
        ),
        (
            "Mohamed bin Abdullah",
            (&["mohamed"], &["bin"], &["abdullah"], None),
        ),
        (
            "Martin Luther King Jr.",
            (&["martin", "luther"], &[], &["king"], Some("jr")),
        ),
        (
            "King, Martin Luther, Jr.",
            (&["martin", "luther"], &[], &["king"], Some("jr")),
        ),
        ("Henry Ford III", (&["henry"], &[], &["ford"], Some("iii"))),
        (
            "Jean-Pierre Dupont",
            (&["jean-pierre"], &[], &["dupont"], None),
        ),
        ("J.-P. Dupont", (&["j-p"], &[], &["dupont"], None)),
        ("DUPONT Jean", (&["jean"], &[], &["dupont"], None)),
        ("Jean DUPONT", (&["jean"], &[], &["dupont"], None)),
        (
            "Alan Crichton-Browne",
            (&["alan"], &[], &["crichton-browne"], None),
        ),
        ("Rojas Vega, Ana", (&["ana"], &[], &["rojas", "vega"], None)),
        ("Smith", (&[], &[], &["smith"], None)),
        ("", (&[], &[], &[], None)),
        // Initials with periods after the surname, as some lists write them.
        ("Spinellis D.", (&["d"], &[], &["spinellis"], None)),
        ("Zdonik S.B.", (&["s", "b"], &[], &["zdonik"], None)),
        // Titles, degrees and what is said in parentheses are not part of the name.
        (
            "Dr. Michael Stonebraker",
            (&["michael"], &[], &["stonebraker"], None),
        ),
        (
            "Prof Michael Stonebraker",
            (&["michael"], &[], &["stonebraker"], None),
        ),
        (
            "Stonebraker, Dr. Michael",
            (&["michael"], &[], &["stonebraker"], None),
        ),
        (
            "Michael Stonebraker, PhD",
            (&["michael"], &[], &["stonebraker"], None),
        ),
        (
            "Michael Stonebraker Ph.D.",
            (&["michael"], &[], &["stonebraker"], None),
        ),
        (
            "Ugur Cetintemel (Brown University, Providence)",
            (&["ugur"], &[], &["cetintemel"], None),
        ),
        ("Robert (Bob) Smith", (&["robert"], &[], &["smith"], None)),
        // Abbreviations that are also names stay: `Ma` is a surname, `Md` a given name.
        ("Ma, Li", (&["li"], &[], &["ma"], None)),
        ("Rahman, Md", (&["md"], &[], &["rahman"], None)),
        ("Dr", (&[], &[], &["dr"], None)),
    ];
    for (input, (given, particles, surname, suffix)) in cases {
        let parsed = PersonName::parse(input);
        let expected = (
            given.to_vec(),
            particles.to_vec(),
            surname.to_vec(),
            *suffix,
        );
        assert_eq!(parsed_view(&parsed), expected, "parse of {input:?}");
    }
}

#[test]
fn parses_forms_from_the_samples() {
    let cases: &[(&str, &str, ExpectedParse)] = &[
        (
            "dblp-acm/dblp.csv",
            "D. Scott Mackay",
            (&["d", "scott"], &[], &["mackay"], None),
        ),
        (
            "dblp-acm/dblp.csv",
            "Yannis E. Ioannidis",
            (&["yannis", "e"], &[], &["ioannidis"], None),
        ),
        (
            "dblp-acm/acm.csv",
            "Bertram Ludäscher",
            (&["bertram"], &[], &["ludascher"], None),
        ),
        (
            "dblp-acm/acm.csv",
            "Isabel F. Cruz",
            (&["isabel", "f"], &[], &["cruz"], None),
        ),
        (
            "dblp-acm/dblp.csv",
            "Zhao-Hui Tang",
            (&["zhao-hui"], &[], &["tang"], None),
        ),
        (
            "openalex/works-2024-schema.jsonl",
            "Valérie Dos Santos",
            (&["valerie"], &["dos"], &["santos"], None),
        ),
        (
            "openalex/works-2024-schema.jsonl",
            "Yann Le Gorrec",
            (&["yann"], &["le"], &["gorrec"], None),
        ),
        (
            "openalex/works-2024-schema.jsonl",
            "Martin Farach-Colton",
            (&["martin"], &[], &["farach-colton"], None),
        ),
        (
            "openalex/works-2024-schema.jsonl",
            "Adeodato, João Maurício",
            (&["joao", "mauricio"], &[], &["adeodato"], None),
        ),
        (
            "openalex/works-2024-schema.jsonl",
            "Беспалов Дмитрий Николаевич",
            (&["дмитрии", "николаевич"], &[], &["беспалов"], None),
        ),
    ];
    for (sample, input, (given, particles, surname, suffix)) in cases {
        let parsed = PersonName::parse(from_sample(sample, input));
        let expected = (
            given.to_vec(),
            particles.to_vec(),
            surname.to_vec(),
            *suffix,
        );
        assert_eq!(
            parsed_view(&parsed),
            expected,
            "parse of {input:?} from {sample}"
        );
    }
}

#[test]
fn orcid_names_agree_in_every_written_order() {
    let variants = GivenNameVariants::empty();
    let mut num_people = 0;
    for folder in std::fs::read_dir(samples_dir().join("orcid/summaries")).unwrap() {
        for file in std::fs::read_dir(folder.unwrap().path()).unwrap() {
            let xml = std::fs::read_to_string(file.unwrap().path()).unwrap();
            let (Some(given), Some(family)) = (
                element_text(&xml, "personal-details:given-names"),
                element_text(&xml, "personal-details:family-name"),
            ) else {
                continue;
            };
            num_people += 1;
            let inverted = PersonName::parse(&format!("{family}, {given}"));
            let written = PersonName::parse(&format!("{given} {family}"));
            let family_key: String = analyzers::fold(family)
                .chars()
                .filter(|ch| ch.is_alphanumeric())
                .collect();
            assert!(
                inverted.surname_keys().contains(&family_key),
                "{family}: {:?}",
                inverted.surname_keys()
            );
            let outcome = compatibility(&inverted, &written, &variants);
            assert_eq!(
                outcome.agreement,
                NameAgreement::Full,
                "{given} {family}: {}",
                outcome.reason
            );
            if let Some(other_name) = element_text(&xml, "other-name:content") {
                let outcome = compatibility(&written, &PersonName::parse(other_name), &variants);
                assert!(
                    outcome.agreement.is_compatible(),
                    "{other_name}: {}",
                    outcome.reason
                );
            }
        }
    }
    assert!(num_people >= 7, "{num_people} ORCID people read");
}

/// Returns the text of the first `<tag>…</tag>` element, enough for the flat ORCID summary.
fn element_text<'x>(xml: &'x str, tag: &str) -> Option<&'x str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(&xml[start..end])
}

#[test]
fn keys_table() {
    let keys = PersonName::parse("Hans-Jürgen Müller").keys();
    assert_eq!(keys.full, "hans jurgen muller");
    assert_eq!(keys.surnames, ["muller", "mueller"]);
    assert_eq!(keys.given_names, ["hans-jurgen"]);
    assert_eq!(keys.initials, "hj");

    let keys = PersonName::parse("Johannes van der Waals").keys();
    assert_eq!(keys.surnames, ["waals", "vanderwaals"]);

    let keys = PersonName::parse("Alan Crichton-Browne").keys();
    assert_eq!(keys.surnames, ["crichtonbrowne", "crichton", "browne"]);

    let keys = PersonName::parse("Omar al-Rashid").keys();
    assert!(
        keys.surnames.contains(&"rashid".to_string()),
        "{:?}",
        keys.surnames
    );

    let keys = PersonName::parse("Γεώργιος Παπαδόπουλος").keys();
    assert_eq!(keys.surnames, ["παπαδοπουλοσ", "papadopoulos"]);

    let keys = PersonName::parse("Seán O'Brien").keys();
    assert_eq!(keys.surnames, ["obrien"]);
    assert_eq!(keys.given_names, ["sean"]);
}

#[test]
fn name_tokens_meet_every_spelling() {
    let tokens = name_tokens("Müller, Hans");
    assert_eq!(texts_of_kind(&tokens, TokenKind::Variant), ["mueller"]);
    let variant = tokens
        .iter()
        .find(|token| token.kind == TokenKind::Variant)
        .unwrap();
    let word = tokens.iter().find(|token| token.text == "muller").unwrap();
    assert_eq!(variant.position, word.position);

    for (name, expected) in [
        ("Γεώργιος Παπαδόπουλος", "papadopoulos"),
        ("Γεώργιος Παπαδόπουλος", "georgios"),
        ("Γεώργιος Παπαδόπουλος", "g"),
        ("Иванов, Сергей", "ivanov"),
        ("O Brien, Pat", "obrien"),
        ("Pat O'Brien", "obrien"),
        ("Johannes van der Waals", "vanderwaals"),
        ("John Q. Smith", "jq"),
        ("John Q. Smith", "j"),
        ("Crichton-Browne", "crichtonbrowne"),
        ("Rojas-Vega", "vega"),
        ("Running Networks", "running"),
    ] {
        let tokens = name_tokens(name);
        assert!(
            has_token(&tokens, expected),
            "{expected} in {:?} for {name:?}",
            texts(&tokens)
        );
    }
}

fn variants_from_samples() -> GivenNameVariants {
    let names = samples_dir().join("names");
    GivenNameVariants::load_all([
        names.join("given-name-variants.csv"),
        names.join("nicknames.csv"),
    ])
    .expect("variant tables load")
}

#[test]
fn loads_the_variant_tables() {
    let variants = variants_from_samples();
    assert!(variants.num_names() > 1000);
    assert!(variants.are_variants("chris", "christopher"));
    assert!(variants.are_variants("christopher", "chris"));
    assert!(variants.are_variants("bill", "william"));
    assert!(!variants.are_variants("john", "james"));
}

#[test]
fn compatibility_table() {
    let variants = variants_from_samples();
    let cases = [
        ("John Q. Smith", "Smith, John", NameAgreement::Full),
        ("John Q. Smith", "John Smith", NameAgreement::Full),
        ("John Q. Smith", "J. Smith", NameAgreement::Initials),
        ("John Q. Smith", "JQ Smith", NameAgreement::Initials),
        ("John Q. Smith", "Smith JQ", NameAgreement::Initials),
        ("John Q. Smith", "James Smith", NameAgreement::Conflict),
        ("John Q. Smith", "John R. Smith", NameAgreement::Conflict),
        // An initial written on both sides does not weaken full names beside it.
        (
            "Stanley B. Zdonik",
            "Stanley B. Zdonik",
            NameAgreement::Full,
        ),
        (
            "Stanley B. Zdonik",
            "Zdonik, Stanley B.",
            NameAgreement::Full,
        ),
        ("Stanley B. Zdonik", "S. B. Zdonik", NameAgreement::Initials),
        ("J. B. Smith", "J. B. Smith", NameAgreement::Initials),
        (
            "John Q. Smith",
            "John Q. Jones",
            NameAgreement::SurnameMismatch,
        ),
        ("John Q. Smith", "Smith", NameAgreement::SurnameOnly),
        // A compound given name agrees in either spelling of each of its parts.
        (
            "Mueller-Kirchenbauer Joachim",
            "Müller-Kirchenbauer Joachim",
            NameAgreement::Full,
        ),
        (
            "Hans-Juergen Schmidt",
            "Hans-Jürgen Schmidt",
            NameAgreement::Full,
        ),
        // Greek and Cyrillic names agree with their romanized spellings.
        (
            "Γεώργιος Παπαδόπουλος",
            "Papadopoulos, Georgios",
            NameAgreement::Full,
        ),
        (
            "Γεώργιος Παπαδόπουλος",
            "G. Papadopoulos",
            NameAgreement::Initials,
        ),
        ("Иванов, Иван", "Ivan Ivanov", NameAgreement::Full),
        ("Иванов, Иван", "Petr Ivanov", NameAgreement::Conflict),
        (
            "Christopher Manning",
            "Chris Manning",
            NameAgreement::Variant,
        ),
        ("William Gates", "Bill Gates", NameAgreement::Variant),
        (
            "Johannes van der Waals",
            "Waals, Johannes",
            NameAgreement::Full,
        ),
        (
            "Johannes van der Waals",
            "J. D. van der Waals",
            NameAgreement::Initials,
        ),
        ("Hans Müller", "Hans Mueller", NameAgreement::Full),
        ("Hans Müller", "H. Muller", NameAgreement::Initials),
        ("Jürgen Müller", "Juergen Mueller", NameAgreement::Full),
        ("Alan Crichton-Browne", "Alan Browne", NameAgreement::Full),
        ("Ana Rojas Vega", "Rojas-Vega, Ana", NameAgreement::Full),
        ("J. Edgar Hoover", "Edgar Hoover", NameAgreement::Full),
        (
            "Jean-Pierre Dupont",
            "J.-P. Dupont",
            NameAgreement::Initials,
        ),
        (
            "Jean-Pierre Dupont",
            "DUPONT Jean-Pierre",
            NameAgreement::Full,
        ),
        (
            "Victoriano Santana Sanjurjo",
            "Santana Sanjurjo, Victoriano",
            NameAgreement::Full,
        ),
        ("Pat O'Brien", "Pat OBrien", NameAgreement::Full),
        // Two surnames, cited by the first alone; read so, a middle name is a surname too.
        (
            "Victoriano Santana",
            "Victoriano Santana Sanjurjo",
            NameAgreement::Full,
        ),
        (
            "V. Santana",
            "Victoriano Santana Sanjurjo",
            NameAgreement::Initials,
        ),
        (
            "Pedro Santana",
            "Victoriano Santana Sanjurjo",
            NameAgreement::SurnameMismatch,
        ),
        ("J. Paul", "John Paul Smith", NameAgreement::Initials),
        // Both read with two surnames, agreeing only by the first: the second differs.
        (
            "María García López",
            "María García Sánchez",
            NameAgreement::SurnameMismatch,
        ),
        // Surname first without a comma: the same words in the other order.
        (
            "Diomidis Spinellis",
            "Spinellis Diomidis",
            NameAgreement::Reordered,
        ),
        (
            "Spinellis, Diomidis",
            "Spinellis Diomidis",
            NameAgreement::Reordered,
        ),
        ("Wei Wang", "Wang Wei", NameAgreement::Reordered),
        (
            "John Paul Smith",
            "Smith John Paul",
            NameAgreement::Reordered,
        ),
        // Both forms say which word is the surname, or one has only an initial.
        (
            "Spinellis, Diomidis",
            "Diomidis, Spinellis",
            NameAgreement::SurnameMismatch,
        ),
        (
            "D. Spinellis",
            "Spinellis Diomidis",
            NameAgreement::SurnameMismatch,
        ),
        ("Wei Wang", "Wang Wei Li", NameAgreement::SurnameMismatch),
    ];
    for (first, second, expected) in cases {
        let outcome = compatibility(
            &PersonName::parse(first),
            &PersonName::parse(second),
            &variants,
        );
        assert_eq!(
            outcome.agreement, expected,
            "{first:?} vs {second:?}: {}",
            outcome.reason
        );
        let reverse = compatibility(
            &PersonName::parse(second),
            &PersonName::parse(first),
            &variants,
        );
        assert_eq!(
            reverse.agreement, expected,
            "{second:?} vs {first:?}: {}",
            reverse.reason
        );
    }
}

#[test]
fn typos_in_one_word_of_a_compound_surname_are_counted() {
    let cases = [
        (
            "Joachim Mueller-Kirchenbaur",
            "Joachim Mueller-Kirchenbauer",
            1,
        ),
        ("Hans Müller", "Hans Mueller", 0),
        ("Alan Crichton-Browne", "Alan Crichton-Browne", 0),
        // Part of the surname missing is not a typo.
        ("Alan Crichton-Browne", "Alan Browne", 0),
        ("Victoriano Santana", "Victoriano Santana Sanjurjo", 0),
        ("Rojas Vega, Ana", "Rojaz Vega, Ana", 1),
        (
            "Joachim Muller-Kirchenbaur",
            "Joachim Mueller-Kirchenbauer",
            2,
        ),
    ];
    for (first, second, expected) in cases {
        let (first_name, second_name) = (PersonName::parse(first), PersonName::parse(second));
        assert_eq!(
            surname_word_typos(&first_name, &second_name),
            expected,
            "{first:?} vs {second:?}"
        );
        assert_eq!(
            surname_word_typos(&second_name, &first_name),
            expected,
            "{second:?} vs {first:?}"
        );
    }
}

#[test]
fn surnames_agreeing_in_part_are_told_apart() {
    let cases = [
        ("Mueller-Kirchenbauer, J.", "James Mueller", true),
        ("Alan Crichton-Browne", "Alan Browne", true),
        ("García-López, María", "Maria Lopez", true),
        // A surname word the other form writes as a given name is the whole surname.
        (
            "Victoriano Santana Sanjurjo",
            "Santana Sanjurjo, Victoriano",
            false,
        ),
        ("Ana Rojas Vega", "Rojas-Vega, Ana", false),
        ("Hans Müller", "Hans Mueller", false),
        ("Johannes van der Waals", "Waals, Johannes", false),
        ("J. Smith", "John Smith", false),
        // A typo in one part is a typo, not another surname.
        (
            "Joachim Mueller-Kirchenbaur",
            "Joachim Mueller-Kirchenbauer",
            false,
        ),
    ];
    for (first, second, expected) in cases {
        let (first_name, second_name) = (PersonName::parse(first), PersonName::parse(second));
        assert_eq!(
            surname_agrees_in_part(&first_name, &second_name),
            expected,
            "{first:?} vs {second:?}"
        );
        assert_eq!(
            surname_agrees_in_part(&second_name, &first_name),
            expected,
            "{second:?} vs {first:?}"
        );
    }
}

#[test]
fn reasons_explain_the_outcome() {
    let variants = GivenNameVariants::empty();
    let outcome = compatibility(
        &PersonName::parse("John Smith"),
        &PersonName::parse("J. Smith"),
        &variants,
    );
    assert_eq!(
        outcome.reason,
        "initial `j` agrees with `john`; surname `smith` agrees"
    );
    let outcome = compatibility(
        &PersonName::parse("John Smith"),
        &PersonName::parse("James Smith"),
        &variants,
    );
    assert!(
        outcome.reason.contains("`john` and `james` conflict"),
        "{}",
        outcome.reason
    );
    assert!(!outcome.agreement.is_compatible());
}

#[test]
fn dblp_and_acm_author_lists_agree_on_true_matches() {
    let dblp = read_authors("dblp-acm/dblp.csv");
    let acm = read_authors("dblp-acm/acm.csv");
    let variants = variants_from_samples();
    let mut matches = csv::Reader::from_path(samples_dir().join("dblp-acm/matches.csv")).unwrap();
    let (mut num_pairs, mut num_compatible) = (0usize, 0usize);
    for record in matches.records().take(300) {
        let record = record.unwrap();
        let (Some(dblp_authors), Some(acm_authors)) = (dblp.get(&record[0]), acm.get(&record[1]))
        else {
            continue;
        };
        for dblp_author in dblp_authors.split(", ") {
            let dblp_name = PersonName::parse(dblp_author);
            let best = acm_authors
                .split(", ")
                .map(|acm_author| {
                    compatibility(&dblp_name, &PersonName::parse(acm_author), &variants)
                })
                .any(|outcome| outcome.agreement.is_compatible());
            num_pairs += 1;
            num_compatible += usize::from(best);
        }
    }
    // DBLP lost accents and some letters ("Ugur etintemel"), so a few authors cannot agree.
    assert!(num_pairs > 500);
    assert!(
        num_compatible * 100 >= num_pairs * 90,
        "{num_compatible} of {num_pairs} agree"
    );
}

fn read_authors(relative_path: &str) -> std::collections::HashMap<String, String> {
    let mut reader = csv::Reader::from_path(samples_dir().join(relative_path)).unwrap();
    reader
        .records()
        .map(|record| record.unwrap())
        .map(|record| (record[0].to_string(), record[2].to_string()))
        .collect()
}

/// The tokens of `name` analysed for words of at least `shortest` characters are those
/// of the full analysis, as far as tokens of that length go.
fn assert_same_tokens_from(name: &str, shortest: usize) {
    let long_enough = |tokens: Vec<analyzers::AnalyzedToken>| -> Vec<analyzers::AnalyzedToken> {
        tokens
            .into_iter()
            .filter(|token| token.text.chars().count() >= shortest)
            .collect()
    };
    assert_eq!(
        long_enough(name_tokens_at_least(name, shortest)),
        long_enough(name_tokens(name)),
        "{name:?} for words of {shortest} characters or more"
    );
}

/// Returns the written forms of the S2AND signatures' names (`first middle last` and
/// `last, first middle`), after `written`.
fn written_names(written: &[&str]) -> Vec<String> {
    let path = samples_dir().join("s2and-qian/signatures.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let signatures: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&text).unwrap();
    let mut names: Vec<String> = written.iter().map(|name| name.to_string()).collect();
    for signature in signatures.values() {
        let info = &signature["author_info"];
        let part = |key: &str| info[key].as_str().unwrap_or("").trim().to_owned();
        let (first, middle, last) = (part("first"), part("middle"), part("last"));
        names.push(format!("{first} {middle} {last}"));
        names.push(format!("{last}, {first} {middle}"));
    }
    assert!(names.len() > 1_000, "{} names", names.len());
    names
}

/// Hard cases of written names, beside the real ones.
const HARD_NAMES: [&str; 20] = [
    "John Q. Smith",
    "J.Q.R. Smith",
    "JQR Smith",
    "Smith JQ",
    "Smith, J.-P. R.",
    "Jean-Pierre Luc Marie Dupont",
    "Jean-Pierre-Marie-Luc Dupont",
    "Anna Maria Josefa Luisa Garcia Lopez",
    "J.Smith",
    "Γεώργιος Παπαδόπουλος",
    "Hans-Jürgen Müller",
    "van der Berg, A B C D E",
    "A. B. C. D. E. F. Author",
    "O'Brien, Mary-Kate",
    "Li",
    "",
    "de la Cruz, M. A.",
    "McDonald, Ronald X2",
    "R2D2 Smith-Jones III",
    "Smith (Jr.), [J.]",
];

#[test]
fn a_name_probe_never_misses_a_token_of_a_name() {
    let names = written_names(&HARD_NAMES);
    let mut num_checked = 0;
    for name in &names {
        for token in name_tokens(name) {
            let probe = NameProbe::new([token.text.as_str()]);
            assert!(
                probe.may_hold(name),
                "the probe of {:?} ({:?}) misses it in {name:?}",
                token.text,
                token.kind
            );
            num_checked += 1;
        }
    }
    assert!(num_checked > 10_000, "{num_checked} tokens checked");
}

#[test]
fn a_name_probe_tells_apart_names_without_its_terms() {
    let probe = NameProbe::new(["smith", "a"]);
    assert!(!probe.may_hold("John Doe"));
    assert!(!probe.may_hold("Bob Lee-Stone"));
    assert!(probe.may_hold("Jane Smithers"));
    assert!(probe.may_hold("Anna Lee"));
    assert!(probe.may_hold("Lee, A."));
    assert!(
        probe.may_hold("José Doe"),
        "a name not in ASCII may hold anything"
    );
    // Initials written apart are found as one token (`jqd`): a name of three words may
    // hold any term of three letters, not one of four it does not spell.
    assert!(NameProbe::new(["jq", "zzzz"]).may_hold("John Quincy Doe"));
    assert!(NameProbe::new(["zzz"]).may_hold("John Quincy Doe"));
    assert!(!NameProbe::new(["zzzz"]).may_hold("John Quincy Doe"));
    assert!(
        NameProbe::new(["Smith"]).may_hold("John Doe"),
        "terms are lowercase"
    );
}

#[test]
fn initials_are_left_out_only_where_no_word_could_match_them() {
    let names = written_names(&HARD_NAMES);
    let mut num_left_out = 0;
    for name in &names {
        for shortest in 1..=8 {
            assert_same_tokens_from(name, shortest);
            num_left_out +=
                usize::from(name_tokens_at_least(name, shortest).len() < name_tokens(name).len());
        }
    }
    // Leaving the initials out is what the analysis is for: it happens.
    assert!(
        num_left_out > names.len(),
        "{num_left_out} analyses left initials out"
    );
}
