//! Author keys never lose a compatible author: whenever two written names share a surname
//! key and [`compatibility`] finds that they may denote one person, the lookup of either
//! finds the other's author keys. Candidate retrieval reads only the records found so, so a
//! miss here would be a true record never proposed.
//!
//! Checked on generated names (orders, initials, hyphens, particles, umlauts, variants,
//! surnames in capitals) and on every pair of names within the blocks and the persons of
//! the S2AND sample, where the comparison without its explanation must also agree with the
//! explained one.

mod common;

use std::collections::BTreeMap;

use analyzers::{agreement_of_keyed, compatibility, GivenNameVariants, PersonName};
use common::samples_dir;
use proptest::prelude::*;
use serde_json::Value;

/// Asserts that `searched` finds `author` when the two are compatible through a shared
/// surname key (typos are the search's job, not the keys').
fn assert_found_when_compatible(searched: &str, author: &str, variants: &GivenNameVariants) {
    let searched_name = PersonName::parse(searched);
    let author_name = PersonName::parse(author);
    let outcome = compatibility(&searched_name, &author_name, variants);
    let unexplained = agreement_of_keyed(
        &searched_name,
        &searched_name.surname_keys(),
        &author_name,
        &author_name.surname_keys(),
        variants,
    );
    assert_eq!(
        unexplained, outcome.agreement,
        "`{searched}` against `{author}`"
    );
    if !outcome.agreement.is_compatible() {
        return;
    }
    let lookup = searched_name.author_lookup(variants);
    let keys = author_name.author_keys();
    assert!(
        lookup.finds(&keys),
        "`{searched}` is compatible with `{author}` ({}) but does not find it: lookup \
         {lookup:?}, author keys {keys:?}",
        outcome.reason
    );
}

fn variants() -> GivenNameVariants {
    let mut variants = GivenNameVariants::empty();
    for (first, second) in [
        ("william", "bill"),
        ("robert", "bob"),
        ("margaret", "peggy"),
        ("christopher", "chris"),
        ("jurgen", "george"),
    ] {
        variants.insert(first, second);
    }
    variants
}

/// A person: given names, particles and surname words.
#[derive(Debug, Clone)]
struct Person {
    given: Vec<&'static str>,
    particles: Vec<&'static str>,
    surname: Vec<&'static str>,
}

fn person() -> impl Strategy<Value = Person> {
    let given = prop::sample::select(vec![
        "William",
        "Bill",
        "Robert",
        "Bob",
        "Jürgen",
        "Juergen",
        "Jean-Pierre",
        "Jean",
        "Peggy",
        "Margaret",
        "Chris",
        "Christopher",
        "Santana",
        "Ana",
        "J.",
        "Q.",
        "J.-P.",
    ]);
    let surname = prop::sample::select(vec![
        "Müller",
        "Mueller",
        "Smith",
        "Crichton-Browne",
        "Santana",
        "Sanjurjo",
        "al-Rashid",
        "O'Brien",
        "Rojas",
        "Vega",
    ]);
    let particles = prop::sample::select(vec![vec![], vec!["van", "der"], vec!["de"]]);
    (
        prop::collection::vec(given, 0..3),
        particles,
        prop::collection::vec(surname, 1..3),
    )
        .prop_map(|(given, particles, surname)| Person {
            given,
            particles,
            surname,
        })
}

/// Ways of writing a person: `Given Particles Surname`, `Surname, Given`, initials only,
/// PubMed style, surname in capitals.
fn written(person: &Person, style: u8) -> String {
    let given = person.given.join(" ");
    let surname = person
        .particles
        .iter()
        .chain(&person.surname)
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let initials: String = person
        .given
        .iter()
        .filter_map(|name| name.chars().next())
        .collect();
    let dotted: String = initials.chars().map(|ch| format!("{ch}. ")).collect();
    match style % 6 {
        0 => format!("{given} {surname}"),
        1 => format!("{surname}, {given}"),
        2 => format!("{}{surname}", dotted),
        3 => format!("{surname} {initials}"),
        4 => format!("{surname} {given}"),
        _ => format!("{given} {}", surname.to_uppercase()),
    }
    .trim()
    .to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn compatible_generated_names_find_each_other(
        first in person(),
        second in person(),
        first_style in 0u8..6,
        second_style in 0u8..6,
        same_person in any::<bool>(),
    ) {
        let variants = variants();
        let searched = written(&first, first_style);
        let author = if same_person {
            written(&first, second_style)
        } else {
            written(&second, second_style)
        };
        assert_found_when_compatible(&searched, &author, &variants);
        assert_found_when_compatible(&author, &searched, &variants);
    }
}

/// Returns each S2AND signature's written forms (`first middle last`, `last, first
/// middle`) grouped by `group_of(signature id, author info)`.
fn s2and_forms(group_of: impl Fn(&str, &Value) -> Option<String>) -> BTreeMap<String, Vec<String>> {
    let path = samples_dir().join("s2and-qian/signatures.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let signatures: BTreeMap<String, Value> = serde_json::from_str(&text).unwrap();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, signature) in &signatures {
        let info = &signature["author_info"];
        let part = |key: &str| info[key].as_str().unwrap_or("").trim().to_owned();
        let (first, middle, last) = (part("first"), part("middle"), part("last"));
        let Some(group) = group_of(id, info) else {
            continue;
        };
        if last.is_empty() {
            continue;
        }
        let forms = groups.entry(group).or_default();
        for form in [
            format!("{first} {middle} {last}"),
            format!("{last}, {first} {middle}"),
        ] {
            let form = form.split_whitespace().collect::<Vec<_>>().join(" ");
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    groups
}

/// Asserts every compatible pair within each group is found; returns the pairs compared.
fn assert_groups_find_each_other(groups: &BTreeMap<String, Vec<String>>) -> usize {
    let variants = GivenNameVariants::load(samples_dir().join("names/given-name-variants.csv"))
        .expect("the given-name variants of the samples");
    let mut num_pairs = 0;
    for names in groups.values() {
        for searched in names {
            for author in names {
                assert_found_when_compatible(searched, author, &variants);
                num_pairs += 1;
            }
        }
    }
    num_pairs
}

#[test]
fn compatible_names_of_one_s2and_person_find_each_other() {
    let path = samples_dir().join("s2and-qian/clusters.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let clusters: BTreeMap<String, Value> = serde_json::from_str(&text).unwrap();
    let mut cluster_of: BTreeMap<String, String> = BTreeMap::new();
    for (cluster, value) in &clusters {
        for id in value["signature_ids"].as_array().into_iter().flatten() {
            if let Some(id) = id.as_str() {
                cluster_of.insert(id.to_owned(), cluster.clone());
            }
        }
    }
    let groups = s2and_forms(|id, _| cluster_of.get(id).cloned());
    let num_pairs = assert_groups_find_each_other(&groups);
    assert!(num_pairs > 1_000, "only {num_pairs} pairs compared");
}

#[test]
fn compatible_s2and_names_find_each_other() {
    let groups = s2and_forms(|_, info| info["block"].as_str().map(str::to_owned));
    let num_pairs = assert_groups_find_each_other(&groups);
    assert!(num_pairs > 1_000, "only {num_pairs} pairs compared");
}
