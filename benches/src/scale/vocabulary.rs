//! The distributions a corpus is drawn from, read once from the real samples: names by
//! country with their scripts, title words and lengths, venues, years, languages, work
//! types and authors per work.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use super::rng::{SeededRng, Weighted};

/// A name as written in its country and in Latin letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalName {
    /// The name in its local script (`Müller`, `王`).
    pub localized: String,
    /// Its romanisation, equal to `localized` in Latin-script countries.
    pub romanized: String,
}

/// The forenames and surnames of one country, most frequent first.
#[derive(Debug, Clone)]
pub struct CountryNames {
    /// ISO 3166 code.
    pub country: String,
    /// Forenames, most frequent first.
    pub forenames: Vec<LocalName>,
    /// Surnames, most frequent first.
    pub surnames: Vec<LocalName>,
}

/// Everything a corpus is drawn from.
#[derive(Debug)]
pub struct Vocabulary {
    /// Countries that have both forenames and surnames.
    pub countries: Vec<CountryNames>,
    /// Title words by frequency.
    pub title_words: Weighted<String>,
    /// For each title word (by index in `title_words`), the words that followed it.
    pub next_words: HashMap<usize, Vec<usize>>,
    /// Words that open a title.
    pub first_words: Weighted<usize>,
    /// Title lengths in words.
    pub title_lengths: Weighted<usize>,
    /// Journals, proceedings and repositories.
    pub venues: Weighted<String>,
    /// Publication years.
    pub years: Weighted<i32>,
    /// Languages (two-letter codes) of the records that state one.
    pub languages: Weighted<String>,
    /// OpenAlex work types.
    pub work_types: Weighted<String>,
    /// Authors per work.
    pub authors_per_work: Weighted<usize>,
}

/// Counts collected from the samples before they become distributions.
#[derive(Default)]
struct Counts {
    titles: Vec<String>,
    venues: BTreeMap<String, u64>,
    years: BTreeMap<i32, u64>,
    languages: BTreeMap<String, u64>,
    work_types: BTreeMap<String, u64>,
    authors_per_work: BTreeMap<usize, u64>,
}

impl Vocabulary {
    /// Reads the samples under `samples_dir` (see `shared/data/README.md`).
    ///
    /// # Errors
    /// Fails when a sample file is missing or unreadable.
    pub fn load(samples_dir: &Path) -> anyhow::Result<Vocabulary> {
        let countries = load_country_names(samples_dir)?;
        let mut counts = Counts::default();
        count_dblp_acm(&samples_dir.join("dblp-acm/dblp.csv"), &mut counts)?;
        count_dblp_acm(&samples_dir.join("dblp-acm/acm.csv"), &mut counts)?;
        for name in ["crossref/works-a.jsonl", "crossref/works-b.jsonl"] {
            for value in read_json_lines(&samples_dir.join(name))? {
                count_crossref(&value, &mut counts);
            }
        }
        for name in [
            "openalex/works-2022-schema.jsonl",
            "openalex/works-2024-schema.jsonl",
        ] {
            for value in read_json_lines(&samples_dir.join(name))? {
                count_openalex(&value, &mut counts);
            }
        }
        anyhow::ensure!(
            !countries.is_empty() && !counts.titles.is_empty(),
            "the samples in `{}` hold no names or no titles",
            samples_dir.display()
        );
        Ok(Vocabulary::from_counts(countries, counts))
    }

    fn from_counts(countries: Vec<CountryNames>, counts: Counts) -> Vocabulary {
        let mut word_ids: BTreeMap<String, usize> = BTreeMap::new();
        let mut word_counts: Vec<u64> = Vec::new();
        let mut words: Vec<String> = Vec::new();
        let mut next_words: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut first_words: BTreeMap<usize, u64> = BTreeMap::new();
        let mut title_lengths: BTreeMap<usize, u64> = BTreeMap::new();
        for title in &counts.titles {
            let tokens: Vec<&str> = title.split_whitespace().collect();
            if tokens.is_empty() {
                continue;
            }
            *title_lengths.entry(tokens.len().min(30)).or_default() += 1;
            let mut previous: Option<usize> = None;
            for token in tokens {
                let id = *word_ids.entry(token.to_owned()).or_insert_with(|| {
                    words.push(token.to_owned());
                    word_counts.push(0);
                    words.len() - 1
                });
                word_counts[id] += 1;
                match previous {
                    Some(previous) => next_words.entry(previous).or_default().push(id),
                    None => *first_words.entry(id).or_default() += 1,
                }
                previous = Some(id);
            }
        }
        Vocabulary {
            countries,
            title_words: Weighted::from_counts(words.into_iter().zip(word_counts)),
            next_words,
            first_words: Weighted::from_counts(first_words),
            title_lengths: Weighted::from_counts(title_lengths),
            venues: Weighted::from_counts(counts.venues),
            years: Weighted::from_counts(counts.years),
            languages: Weighted::from_counts(counts.languages),
            work_types: Weighted::from_counts(counts.work_types),
            authors_per_work: Weighted::from_counts(counts.authors_per_work),
        }
    }

    /// Draws a title: a first-order chain over the sample titles' words, jumping to a word
    /// drawn by frequency now and then so that titles are new sentences of real words.
    pub fn title(&self, rng: &mut SeededRng) -> String {
        let num_words = self.title_lengths.draw(rng).copied().unwrap_or(8).max(2);
        let mut ids = Vec::with_capacity(num_words);
        let mut current = self.first_words.draw(rng).copied().unwrap_or(0);
        ids.push(current);
        while ids.len() < num_words {
            let followers = self.next_words.get(&current);
            current = match followers {
                Some(followers) if rng.chance(0.7) => followers[rng.index(followers.len())],
                _ => rng.index(self.title_words.values().len()),
            };
            ids.push(current);
        }
        let words = self.title_words.values();
        ids.iter()
            .map(|&id| words[id].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn load_country_names(samples_dir: &Path) -> anyhow::Result<Vec<CountryNames>> {
    let forenames = read_names(
        &samples_dir.join("names/common-forenames-by-country.csv"),
        10,
        11,
    )?;
    let mut surnames = read_names(
        &samples_dir.join("names/common-surnames-by-country.csv"),
        4,
        5,
    )?;
    Ok(forenames
        .into_iter()
        .filter_map(|(country, forenames)| {
            let surnames = surnames.remove(&country)?;
            Some(CountryNames {
                country,
                forenames,
                surnames,
            })
        })
        .collect())
}

/// Reads `(localized, romanized)` columns per country, in file order (most frequent first),
/// each name once.
fn read_names(
    path: &Path,
    localized_column: usize,
    romanized_column: usize,
) -> anyhow::Result<BTreeMap<String, Vec<LocalName>>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let mut names: BTreeMap<String, Vec<LocalName>> = BTreeMap::new();
    for row in reader.records() {
        let row = row.with_context(|| format!("failed to read `{}`", path.display()))?;
        let (Some(country), Some(localized), Some(romanized)) = (
            row.get(0),
            row.get(localized_column),
            row.get(romanized_column),
        ) else {
            continue;
        };
        let (localized, romanized) = (localized.trim(), romanized.trim());
        let is_usable = !romanized.is_empty()
            && !localized.is_empty()
            && romanized.split_whitespace().count() == 1;
        if !is_usable {
            continue;
        }
        let list = names.entry(country.trim().to_owned()).or_default();
        if !list.iter().any(|name| name.romanized == romanized) {
            list.push(LocalName {
                localized: localized.to_owned(),
                romanized: romanized.to_owned(),
            });
        }
    }
    Ok(names)
}

fn read_json_lines(path: &Path) -> anyhow::Result<Vec<Value>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

fn count_dblp_acm(path: &Path, counts: &mut Counts) -> anyhow::Result<()> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    for row in reader.records() {
        let Ok(row) = row else { continue };
        if let Some(title) = row.get(1) {
            counts.titles.push(title.to_owned());
        }
        let num_authors = row.get(2).map_or(0, |authors| {
            authors
                .split(',')
                .filter(|name| !name.trim().is_empty())
                .count()
        });
        *counts
            .authors_per_work
            .entry(num_authors.max(1))
            .or_default() += 1;
        if let Some(venue) = row.get(3).filter(|venue| !venue.trim().is_empty()) {
            *counts.venues.entry(venue.trim().to_owned()).or_default() += 1;
        }
        if let Some(year) = row.get(4).and_then(|year| year.trim().parse().ok()) {
            *counts.years.entry(year).or_default() += 1;
        }
    }
    Ok(())
}

fn count_crossref(value: &Value, counts: &mut Counts) {
    if let Some(title) = value.pointer("/title/0").and_then(Value::as_str) {
        counts.titles.push(title.to_owned());
    }
    if let Some(venue) = value.pointer("/container-title/0").and_then(Value::as_str) {
        *counts.venues.entry(venue.to_owned()).or_default() += 1;
    }
    let year = ["issued", "published", "published-print", "published-online"]
        .iter()
        .find_map(|key| value.pointer(&format!("/{key}/date-parts/0/0"))?.as_i64());
    if let Some(year) = year.and_then(|year| i32::try_from(year).ok()) {
        *counts.years.entry(year).or_default() += 1;
    }
    if let Some(language) = value.get("language").and_then(Value::as_str) {
        *counts.languages.entry(language.to_owned()).or_default() += 1;
    }
    if let Some(Value::Array(authors)) = value.get("author") {
        *counts
            .authors_per_work
            .entry(authors.len().clamp(1, 30))
            .or_default() += 1;
    }
}

fn count_openalex(value: &Value, counts: &mut Counts) {
    if let Some(title) = value.get("title").and_then(Value::as_str) {
        counts.titles.push(title.to_owned());
    }
    let venue = value
        .pointer("/primary_location/source/display_name")
        .or_else(|| value.pointer("/host_venue/display_name"))
        .and_then(Value::as_str);
    if let Some(venue) = venue {
        *counts.venues.entry(venue.to_owned()).or_default() += 1;
    }
    if let Some(year) = value
        .get("publication_year")
        .and_then(Value::as_i64)
        .and_then(|year| i32::try_from(year).ok())
    {
        *counts.years.entry(year).or_default() += 1;
    }
    if let Some(language) = value.get("language").and_then(Value::as_str) {
        *counts.languages.entry(language.to_owned()).or_default() += 1;
    }
    if let Some(work_type) = value.get("type").and_then(Value::as_str) {
        *counts.work_types.entry(work_type.to_owned()).or_default() += 1;
    }
    if let Some(Value::Array(authorships)) = value.get("authorships") {
        if !authorships.is_empty() {
            *counts
                .authors_per_work
                .entry(authorships.len().min(30))
                .or_default() += 1;
        }
    }
}
