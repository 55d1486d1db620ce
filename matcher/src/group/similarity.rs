//! Whether two records describe the same work: folded title words, year distance and
//! author surnames, compared as a cataloguer would.

use std::collections::BTreeSet;

use analyzers::{max_surname_typos, osa_distance, PersonName};
use indexer::index::extract::RecordFields;

use crate::evidence::title_words;

/// DOI prefixes of preprint servers: a preprint and its published version have different
/// DOIs yet are one work (arXiv, bioRxiv/medRxiv, Research Square, Preprints.org, OSF,
/// SSRN, Zenodo).
pub const PREPRINT_DOI_PREFIXES: &[&str] = &[
    "10.48550/",
    "10.1101/",
    "10.21203/",
    "10.20944/",
    "10.31219/",
    "10.2139/",
    "10.5281/",
];
/// Title similarity from which records sharing authors are one work.
pub const MIN_TITLE_SIMILARITY: f64 = 0.9;
/// Title similarity from which records are one work when most authors agree (a reworded
/// title, a typo in a word).
pub const MIN_TITLE_SIMILARITY_WITH_AUTHORS: f64 = 0.75;
/// Share of the shorter author list that must agree for [`MIN_TITLE_SIMILARITY_WITH_AUTHORS`].
pub const MIN_STRONG_AUTHOR_OVERLAP: f64 = 0.8;
/// Title similarity from which records without authors to compare may be one work.
pub const MIN_TITLE_SIMILARITY_WITHOUT_AUTHORS: f64 = 0.97;
/// Titles with fewer distinct words (`Editorial`, `Book review`) must be identical and
/// share authors and year: short titles repeat across unrelated works.
pub const MIN_DISTINCTIVE_TITLE_WORDS: usize = 4;
/// Words of a subtitle-less title a title with subtitle must contain all of, at least:
/// `Online query processing` is `Online query processing: a tutorial`.
pub const MIN_CONTAINED_TITLE_WORDS: usize = 3;
/// Share of the shorter author list whose surnames appear in the other.
pub const MIN_AUTHOR_OVERLAP: f64 = 0.5;
/// Years apart two records of one work may be; a preprint may precede its publication by
/// [`MAX_PREPRINT_YEAR_DISTANCE`]. Conference and journal versions further apart are
/// distinct works.
pub const MAX_YEAR_DISTANCE: i32 = 1;
/// Years a preprint may precede or follow its published version.
pub const MAX_PREPRINT_YEAR_DISTANCE: i32 = 3;
/// Shortest word in which one typo is forgiven when titles are compared.
pub const MIN_WORD_LEN_FOR_TYPO: usize = 5;

/// What grouping compares of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupingFields {
    /// Folded title words.
    pub title_words: Vec<String>,
    /// Publication year.
    pub year: Option<i32>,
    /// DOI, normalized.
    pub doi: Option<String>,
    /// The first surname key of each author, in order.
    pub author_surnames: Vec<String>,
}

impl GroupingFields {
    /// Returns the grouping fields of extracted record fields.
    pub fn of(fields: &RecordFields) -> GroupingFields {
        GroupingFields {
            title_words: fields.title.as_deref().map(title_words).unwrap_or_default(),
            year: fields.year,
            doi: fields.doi.clone(),
            author_surnames: fields
                .authors
                .iter()
                .filter_map(|author| PersonName::parse(author).surname_keys().into_iter().next())
                .collect(),
        }
    }
}

/// Returns true for a DOI of a preprint server.
pub fn is_preprint_doi(doi: &str) -> bool {
    PREPRINT_DOI_PREFIXES
        .iter()
        .any(|prefix| doi.starts_with(prefix))
}

/// Returns the share of the shorter author list matched in the other, surnames compared
/// within the typo budget (sources drop accents and letters: `etintemel`, `cetintemel`).
pub fn author_overlap(first: &[String], second: &[String]) -> Option<f64> {
    let (shorter, longer) = if first.len() <= second.len() {
        (first, second)
    } else {
        (second, first)
    };
    if shorter.is_empty() {
        return None;
    }
    let longer: Vec<Vec<char>> = longer.iter().map(|name| name.chars().collect()).collect();
    let mut used = vec![false; longer.len()];
    let mut num_matched = 0;
    for name in shorter {
        let name: Vec<char> = name.chars().collect();
        let budget = max_surname_typos(name.len());
        let found = longer.iter().enumerate().find(|(index, other)| {
            !used[*index]
                && osa_distance(&name, other) <= budget.min(max_surname_typos(other.len()))
        });
        if let Some((index, _)) = found {
            used[index] = true;
            num_matched += 1;
        }
    }
    Some(f64::from(num_matched) / shorter.len() as f64)
}

/// How two titles compare: Dice's coefficient and the share of the shorter title's
/// words found in the longer, words matching within one typo from
/// [`MIN_WORD_LEN_FOR_TYPO`] characters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TitleComparison {
    /// Dice's coefficient of the distinct words.
    pub dice: f64,
    /// Share of the shorter title's distinct words found in the longer one.
    pub containment: f64,
    /// Distinct words of the shorter title.
    pub num_shorter_words: usize,
}

/// Compares two titles' folded words.
pub fn compare_titles(first: &[String], second: &[String]) -> TitleComparison {
    let first: BTreeSet<&String> = first.iter().collect();
    let second: BTreeSet<&String> = second.iter().collect();
    let (shorter, longer) = if first.len() <= second.len() {
        (&first, &second)
    } else {
        (&second, &first)
    };
    if shorter.is_empty() {
        return TitleComparison {
            dice: 0.0,
            containment: 0.0,
            num_shorter_words: 0,
        };
    }
    let longer_chars: Vec<Vec<char>> = longer.iter().map(|word| word.chars().collect()).collect();
    let num_common = shorter
        .iter()
        .filter(|word| {
            longer.contains(*word) || {
                let chars: Vec<char> = word.chars().collect();
                chars.len() >= MIN_WORD_LEN_FOR_TYPO
                    && longer_chars.iter().any(|other| {
                        other.len() >= MIN_WORD_LEN_FOR_TYPO && osa_distance(&chars, other) <= 1
                    })
            }
        })
        .count();
    TitleComparison {
        dice: 2.0 * num_common as f64 / (shorter.len() + longer.len()) as f64,
        containment: num_common as f64 / shorter.len() as f64,
        num_shorter_words: shorter.len(),
    }
}

/// How strongly two records accepted as one work agree; pairs are joined strongest first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairStrength {
    /// Dice's coefficient of the titles.
    pub title_dice: f64,
    /// Share of the shorter author list found in the other; zero when unknown.
    pub author_overlap: f64,
    /// Years apart.
    pub year_distance: i32,
}

impl PairStrength {
    /// Orders strongest first: title, then authors, then the closer year.
    pub fn cmp_strongest_first(&self, other: &PairStrength) -> std::cmp::Ordering {
        other
            .title_dice
            .total_cmp(&self.title_dice)
            .then(other.author_overlap.total_cmp(&self.author_overlap))
            .then(self.year_distance.cmp(&other.year_distance))
    }
}

/// Returns how strongly `first` and `second` agree when they describe the same work,
/// `None` when they do not. Equal DOIs are grouped before this is asked. A `repeated_title`
/// (one that several records of one source carry: `Editor's notes`) is treated like a
/// short one.
pub fn same_work(
    first: &GroupingFields,
    second: &GroupingFields,
    repeated_title: bool,
) -> Option<PairStrength> {
    let is_preprint_pair = [&first.doi, &second.doi]
        .into_iter()
        .flatten()
        .any(|doi| is_preprint_doi(doi));
    if let (Some(first_doi), Some(second_doi)) = (&first.doi, &second.doi) {
        if first_doi != second_doi && !is_preprint_pair {
            return None;
        }
    }
    let year_distance = match (first.year, second.year) {
        (Some(first_year), Some(second_year)) => (first_year - second_year).abs(),
        _ => 0,
    };
    let max_year_distance = if is_preprint_pair {
        MAX_PREPRINT_YEAR_DISTANCE
    } else {
        MAX_YEAR_DISTANCE
    };
    if year_distance > max_year_distance {
        return None;
    }
    let titles = compare_titles(&first.title_words, &second.title_words);
    let overlap = author_overlap(&first.author_surnames, &second.author_surnames);
    let strength = PairStrength {
        title_dice: titles.dice,
        author_overlap: overlap.unwrap_or(0.0),
        year_distance,
    };

    if titles.num_shorter_words < MIN_DISTINCTIVE_TITLE_WORDS || repeated_title {
        let is_same = titles.dice >= 1.0
            && year_distance == 0
            && overlap.is_some_and(|overlap| overlap >= MIN_AUTHOR_OVERLAP)
            && author_overlap_of_longer(&first.author_surnames, &second.author_surnames)
                >= MIN_AUTHOR_OVERLAP;
        return is_same.then_some(strength);
    }
    let is_same = match overlap {
        Some(overlap) => {
            (titles.dice >= MIN_TITLE_SIMILARITY && overlap >= MIN_AUTHOR_OVERLAP)
                || (titles.dice >= MIN_TITLE_SIMILARITY_WITH_AUTHORS
                    && overlap >= MIN_STRONG_AUTHOR_OVERLAP)
                || (titles.containment >= 1.0
                    && titles.num_shorter_words >= MIN_CONTAINED_TITLE_WORDS
                    && overlap >= MIN_STRONG_AUTHOR_OVERLAP)
        }
        None => titles.dice >= MIN_TITLE_SIMILARITY_WITHOUT_AUTHORS,
    };
    is_same.then_some(strength)
}

/// Returns the share of the longer author list matched in the shorter: low when a long
/// list merely contains the other's one author.
fn author_overlap_of_longer(first: &[String], second: &[String]) -> f64 {
    let longer_len = first.len().max(second.len());
    let shorter_len = first.len().min(second.len());
    match author_overlap(first, second) {
        Some(overlap) if longer_len > 0 => overlap * shorter_len as f64 / longer_len as f64,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(title: &str, year: i32, authors: &[&str], doi: Option<&str>) -> GroupingFields {
        GroupingFields::of(&RecordFields {
            title: Some(title.to_owned()),
            year: Some(year),
            authors: authors.iter().map(|author| (*author).to_owned()).collect(),
            doi: doi.map(str::to_owned),
            ..RecordFields::default()
        })
    }

    #[test]
    fn versions_of_one_paper_are_one_work() {
        let dblp = fields(
            "Efficient Query Processing in Distributed Search Engines",
            2003,
            &["Ugur etintemel", "Stan Zdonik"],
            None,
        );
        let acm = fields(
            "Efficient query processing in distributed search engines.",
            2003,
            &["Uğur Çetintemel", "Stanley B. Zdonik"],
            None,
        );
        let preprint = fields(
            "Efficient Query Processing in Distributed Search Engines",
            2002,
            &["U. Cetintemel", "S. Zdonik"],
            Some("10.48550/arxiv.0201001"),
        );
        let published = fields(
            "Efficient Query Processing in Distributed Search Engines",
            2003,
            &["Ugur Cetintemel", "Stan Zdonik"],
            Some("10.1145/1234"),
        );
        assert!(same_work(&dblp, &acm, false).is_some());
        assert!(same_work(&preprint, &published, false).is_some());
    }

    #[test]
    fn different_works_stay_apart() {
        let first = fields("Editorial", 2001, &["A. Editor"], None);
        let next_year = fields("Editorial", 2002, &["A. Editor"], None);
        assert!(same_work(&first, &next_year, false).is_none());
        let conference = fields(
            "Mining association rules in large databases",
            1993,
            &["R. Agrawal"],
            Some("10.1145/1"),
        );
        let journal = fields(
            "Mining association rules in large databases",
            1994,
            &["R. Agrawal"],
            Some("10.1109/2"),
        );
        assert!(same_work(&conference, &journal, false).is_none());
        let other_authors = fields(
            "Mining association rules in large databases",
            1993,
            &["J. Han", "M. Kamber"],
            None,
        );
        let agrawal = fields(
            "Mining association rules in large databases",
            1993,
            &["R. Agrawal"],
            None,
        );
        assert!(same_work(&agrawal, &other_authors, false).is_none());
    }
}
