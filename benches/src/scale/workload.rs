//! The query workload and its judgments, drawn from the same truth as the corpus while it
//! is written: titles with a typo, titles as typed (the last word cut), author names in
//! their various forms, and librarians' filtered, faceted placeholder searches.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::people::{with_typo, NameStyle, Person};
use super::rng::SeededRng;

/// Relevant record keys kept per query at most; the total is kept beside them.
pub const MAX_RELEVANT_PER_QUERY: usize = 2_000;

/// What a query exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryClass {
    /// A whole title with one typing error in a long word.
    TitleTypo,
    /// The first words of a title, the last one cut as while typing.
    TitlePrefix,
    /// An author's name in one of its forms.
    AuthorName,
    /// A placeholder search filtered on state, source and years, with facets.
    LibrarianFilter,
}

impl QueryClass {
    /// Every class, in report order.
    pub const ALL: [QueryClass; 4] = [
        QueryClass::TitleTypo,
        QueryClass::TitlePrefix,
        QueryClass::AuthorName,
        QueryClass::LibrarianFilter,
    ];

    /// Whether the class searches titles (a title search box's queries).
    pub fn is_title(self) -> bool {
        matches!(self, QueryClass::TitleTypo | QueryClass::TitlePrefix)
    }

    /// Returns the class's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            QueryClass::TitleTypo => "title_typo",
            QueryClass::TitlePrefix => "title_prefix",
            QueryClass::AuthorName => "author_name",
            QueryClass::LibrarianFilter => "librarian_filter",
        }
    }
}

/// A librarian's filter: unverified records of a source (or all) over a range of years.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibrarianFilter {
    /// Verification state; `none` for a corpus nobody has matched yet.
    pub state: String,
    /// The source, or every source.
    pub source: Option<String>,
    /// First year.
    pub year_from: i32,
    /// Last year.
    pub year_to: i32,
}

impl LibrarianFilter {
    /// Returns the filter in the search API's (Meilisearch's) filter language.
    pub fn to_filter_expression(&self) -> String {
        let mut parts = vec![format!("state = {}", self.state)];
        if let Some(source) = &self.source {
            parts.push(format!("source = {source}"));
        }
        parts.push(format!("year >= {}", self.year_from));
        parts.push(format!("year <= {}", self.year_to));
        parts.join(" AND ")
    }

    /// Returns the facets asked for.
    pub fn facets(&self) -> Vec<&'static str> {
        vec!["source", "year"]
    }
}

/// One query and what it should find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// `{class}-{n}`.
    pub id: String,
    /// What it exercises.
    pub class: QueryClass,
    /// The words typed; empty for a placeholder search.
    pub q: String,
    /// The filter of a librarian's search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<LibrarianFilter>,
    /// Keys (`source:source_id`) of the records that should be found, at most
    /// [`MAX_RELEVANT_PER_QUERY`].
    pub relevant: Vec<String>,
    /// How many records should be found in all.
    pub num_relevant: u64,
    /// Facet counts a librarian's search should show: facet → value → count.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expected_facets: BTreeMap<String, BTreeMap<String, u64>>,
}

/// A record as the workload sees it while the corpus is written.
#[derive(Debug)]
pub struct RecordSeen<'a> {
    /// `source:source_id`.
    pub key: String,
    /// The source.
    pub source: &'static str,
    /// The year the record states, if any.
    pub year: Option<i32>,
    /// Its authors.
    pub authors: &'a [Person],
}

/// A work as the workload sees it, once all its records are written.
#[derive(Debug)]
pub struct WorkSeen<'a> {
    /// The work's number.
    pub number: u64,
    /// Its title.
    pub title: &'a str,
    /// Keys of its records.
    pub record_keys: Vec<String>,
}

/// A title query kept by reservoir sampling until the corpus is complete.
#[derive(Debug, Clone)]
struct SampledTitle {
    q: String,
    record_keys: Vec<String>,
}

/// An author query whose relevant records are collected as the corpus is written.
#[derive(Debug, Clone)]
struct AuthorQuery {
    q: String,
    relevant: Vec<String>,
    num_relevant: u64,
}

/// Collects the workload in one pass over the corpus, in memory bounded by the number of
/// queries (and [`MAX_RELEVANT_PER_QUERY`]), whatever the corpus's size.
#[derive(Debug)]
pub struct WorkloadCollector {
    seed: u64,
    num_per_class: usize,
    num_works_seen: u64,
    typo_rng: SeededRng,
    prefix_rng: SeededRng,
    typos: Vec<SampledTitle>,
    prefixes: Vec<SampledTitle>,
    authors: Vec<AuthorQuery>,
    /// Author queries by the key their judgments are collected under.
    authors_by_name_key: HashMap<String, Vec<usize>>,
    authors_by_initial_key: HashMap<String, Vec<usize>>,
    records_by_source_year: BTreeMap<(&'static str, i32), u64>,
}

impl WorkloadCollector {
    /// Returns a collector of `num_per_class` queries per class, whose author queries name
    /// `people` (each with a drawn name style).
    pub fn new(seed: u64, num_per_class: usize, people: &[Person]) -> WorkloadCollector {
        let mut collector = WorkloadCollector {
            seed,
            num_per_class,
            num_works_seen: 0,
            typo_rng: SeededRng::for_entity(seed, "workload-typo", 0),
            prefix_rng: SeededRng::for_entity(seed, "workload-prefix", 0),
            typos: Vec::new(),
            prefixes: Vec::new(),
            authors: Vec::new(),
            authors_by_name_key: HashMap::new(),
            authors_by_initial_key: HashMap::new(),
            records_by_source_year: BTreeMap::new(),
        };
        for (index, person) in people.iter().enumerate() {
            let mut rng = SeededRng::for_entity(seed, "workload-author", index as u64);
            let style = [
                NameStyle::Full,
                NameStyle::FamilyComma,
                NameStyle::Initials,
                NameStyle::Folded,
                NameStyle::FamilyInitials,
            ][rng.index(5)];
            let by_initial = matches!(style, NameStyle::Initials | NameStyle::FamilyInitials);
            let (map, key) = if by_initial {
                (&mut collector.authors_by_initial_key, person.initial_key())
            } else {
                (&mut collector.authors_by_name_key, person.name_key())
            };
            map.entry(key).or_default().push(collector.authors.len());
            collector.authors.push(AuthorQuery {
                q: person.name_in(style),
                relevant: Vec::new(),
                num_relevant: 0,
            });
        }
        collector
    }

    /// Takes note of one record.
    pub fn observe_record(&mut self, record: &RecordSeen<'_>) {
        if let Some(year) = record.year {
            *self
                .records_by_source_year
                .entry((record.source, year))
                .or_default() += 1;
        }
        let mut matched: Vec<usize> = Vec::new();
        for author in record.authors {
            for (map, key) in [
                (&self.authors_by_name_key, author.name_key()),
                (&self.authors_by_initial_key, author.initial_key()),
            ] {
                if let Some(queries) = map.get(&key) {
                    matched.extend(queries);
                }
            }
        }
        matched.sort_unstable();
        matched.dedup();
        for index in matched {
            let query = &mut self.authors[index];
            query.num_relevant += 1;
            if query.relevant.len() < MAX_RELEVANT_PER_QUERY {
                query.relevant.push(record.key.clone());
            }
        }
    }

    /// Takes note of one work, all its records written.
    pub fn observe_work(&mut self, work: &WorkSeen<'_>) {
        if work.record_keys.is_empty() {
            return;
        }
        self.num_works_seen += 1;
        let seen = self.num_works_seen;
        let capacity = self.num_per_class;
        if let Some(slot) = reservoir_slot(&mut self.typo_rng, seen, capacity) {
            let mut rng = SeededRng::for_entity(self.seed, "typo-query", work.number);
            let sampled = SampledTitle {
                q: title_with_typo(work.title, &mut rng),
                record_keys: work.record_keys.clone(),
            };
            place(&mut self.typos, slot, sampled);
        }
        if let Some(slot) = reservoir_slot(&mut self.prefix_rng, seen, capacity) {
            let mut rng = SeededRng::for_entity(self.seed, "prefix-query", work.number);
            let sampled = SampledTitle {
                q: title_as_typed(work.title, &mut rng),
                record_keys: work.record_keys.clone(),
            };
            place(&mut self.prefixes, slot, sampled);
        }
    }

    /// Returns the queries, class by class.
    pub fn finish(self) -> Vec<Query> {
        let mut queries = Vec::new();
        for (class, sampled) in [
            (QueryClass::TitleTypo, &self.typos),
            (QueryClass::TitlePrefix, &self.prefixes),
        ] {
            for title in sampled {
                queries.push(Query {
                    id: format!("{}-{}", class.name(), queries.len()),
                    class,
                    q: title.q.clone(),
                    filter: None,
                    num_relevant: title.record_keys.len() as u64,
                    relevant: title.record_keys.clone(),
                    expected_facets: BTreeMap::new(),
                });
            }
        }
        for author in self.authors.iter().filter(|author| author.num_relevant > 0) {
            queries.push(Query {
                id: format!("author_name-{}", queries.len()),
                class: QueryClass::AuthorName,
                q: author.q.clone(),
                filter: None,
                relevant: author.relevant.clone(),
                num_relevant: author.num_relevant,
                expected_facets: BTreeMap::new(),
            });
        }
        queries.extend(self.librarian_queries());
        queries
    }

    fn librarian_queries(&self) -> Vec<Query> {
        let mut rng = SeededRng::for_entity(self.seed, "workload-filter", 0);
        let years: Vec<i32> = {
            let mut years: Vec<i32> = self
                .records_by_source_year
                .keys()
                .map(|(_, year)| *year)
                .collect();
            years.sort_unstable();
            years.dedup();
            years
        };
        let mut queries = Vec::new();
        if years.is_empty() {
            return queries;
        }
        for number in 0..self.num_per_class {
            let source = [None, Some("openalex"), Some("crossref"), Some("dblp")][rng.index(4)];
            let span = [0, 2, 5][rng.index(3)];
            let year_from = years[rng.index(years.len())];
            let filter = LibrarianFilter {
                state: "none".to_owned(),
                source: source.map(str::to_owned),
                year_from,
                year_to: year_from + span,
            };
            let mut by_source: BTreeMap<String, u64> = BTreeMap::new();
            let mut by_year: BTreeMap<String, u64> = BTreeMap::new();
            let range = (filter.year_from, filter.year_to);
            for ((record_source, year), count) in &self.records_by_source_year {
                let in_source = source.is_none_or(|source| source == *record_source);
                if in_source && (range.0..=range.1).contains(year) {
                    *by_source.entry((*record_source).to_owned()).or_default() += count;
                    *by_year.entry(year.to_string()).or_default() += count;
                }
            }
            let num_relevant = by_source.values().sum();
            if num_relevant == 0 {
                continue;
            }
            queries.push(Query {
                id: format!("librarian_filter-{number}"),
                class: QueryClass::LibrarianFilter,
                q: String::new(),
                filter: Some(filter),
                relevant: Vec::new(),
                num_relevant,
                expected_facets: BTreeMap::from([
                    ("source".to_owned(), by_source),
                    ("year".to_owned(), by_year),
                ]),
            });
        }
        queries
    }
}

/// Returns the slot the `seen`-th item takes in a reservoir of `capacity` (algorithm R),
/// or `None` when it is not kept.
fn reservoir_slot(rng: &mut SeededRng, seen: u64, capacity: usize) -> Option<usize> {
    if capacity == 0 {
        return None;
    }
    if seen <= capacity as u64 {
        return Some(seen as usize - 1);
    }
    let slot = rng.below(seen);
    (slot < capacity as u64).then_some(slot as usize)
}

fn place<T>(reservoir: &mut Vec<T>, slot: usize, item: T) {
    if slot < reservoir.len() {
        reservoir[slot] = item;
    } else {
        reservoir.push(item);
    }
}

/// Returns `title` with one typing error in its longest word of five letters or more.
fn title_with_typo(title: &str, rng: &mut SeededRng) -> String {
    let words: Vec<&str> = title.split_whitespace().collect();
    let longest = words
        .iter()
        .enumerate()
        .filter(|(_, word)| word.chars().filter(|c| c.is_alphabetic()).count() >= 5)
        .max_by_key(|(index, word)| (word.chars().count(), usize::MAX - index))
        .map(|(index, _)| index);
    let Some(longest) = longest else {
        return title.to_owned();
    };
    words
        .iter()
        .enumerate()
        .map(|(index, word)| {
            if index == longest {
                with_typo(word, rng)
            } else {
                (*word).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Returns the first three to six words of `title`, the last one cut as someone typing
/// would have left it.
fn title_as_typed(title: &str, rng: &mut SeededRng) -> String {
    let words: Vec<&str> = title.split_whitespace().collect();
    let num_words = (3 + rng.index(4)).min(words.len());
    let mut typed: Vec<String> = words[..num_words]
        .iter()
        .map(|word| (*word).to_owned())
        .collect();
    if let Some(last) = typed.last_mut() {
        let num_chars = last.chars().count();
        if num_chars >= 4 {
            let keep = (num_chars * 3).div_ceil(5).max(2);
            *last = last.chars().take(keep).collect();
        }
    }
    typed.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_titles_cut_the_last_word_and_typos_change_one_word() {
        let mut rng = SeededRng::for_entity(1, "test", 0);
        let title = "Estimation of query result distribution in parallel joins";
        let typed = title_as_typed(title, &mut rng);
        assert!(title.starts_with(&typed), "{typed}");
        assert!(typed.split_whitespace().count() >= 3);
        let typo = title_with_typo(title, &mut rng);
        assert_ne!(typo, title);
        let num_changed = typo
            .split_whitespace()
            .zip(title.split_whitespace())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(num_changed, 1, "{typo}");
    }

    #[test]
    fn filters_read_as_the_search_api_expects() {
        let filter = LibrarianFilter {
            state: "none".into(),
            source: Some("dblp".into()),
            year_from: 1999,
            year_to: 2001,
        };
        assert_eq!(
            filter.to_filter_expression(),
            "state = none AND source = dblp AND year >= 1999 AND year <= 2001"
        );
    }
}
