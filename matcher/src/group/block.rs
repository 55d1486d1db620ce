//! Blocking for work grouping: an in-memory index of folded title words proposes, for
//! each record, the few records that share its rarest words, so that only those pairs are
//! compared.

use std::collections::{BTreeMap, HashMap};

/// Rarest title words of a record looked up in the index.
pub const NUM_BLOCKING_WORDS: usize = 4;
/// Words in more titles than this are too common to block on.
pub const MAX_BLOCKING_WORD_NUM_RECORDS: usize = 2_000;
/// Records compared with each record at most, those sharing the most words first.
pub const MAX_CANDIDATES_PER_RECORD: usize = 10;

/// Returns candidate pairs `(i, j)` with `i < j`, indexes into `titles` (each record's
/// folded title words), deduplicated and sorted.
pub fn candidate_pairs(titles: &[Vec<String>]) -> Vec<(usize, usize)> {
    let mut records_by_word: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, words) in titles.iter().enumerate() {
        let mut distinct: Vec<&str> = words.iter().map(String::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();
        for word in distinct {
            records_by_word.entry(word).or_default().push(index);
        }
    }

    let mut pairs = Vec::new();
    for (index, words) in titles.iter().enumerate() {
        let mut distinct: Vec<&str> = words.iter().map(String::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let mut by_rarity: Vec<(usize, &str)> = distinct
            .iter()
            .map(|word| (records_by_word[word].len(), *word))
            .filter(|(num_records, _)| *num_records <= MAX_BLOCKING_WORD_NUM_RECORDS)
            .collect();
        by_rarity.sort_unstable();

        let mut shared_counts: BTreeMap<usize, usize> = BTreeMap::new();
        for (_, word) in by_rarity.iter().take(NUM_BLOCKING_WORDS) {
            for other in &records_by_word[word] {
                if *other != index {
                    *shared_counts.entry(*other).or_default() += 1;
                }
            }
        }
        let mut ranked: Vec<(usize, usize)> = shared_counts.into_iter().collect();
        ranked.sort_by(|first, second| second.1.cmp(&first.1).then(first.0.cmp(&second.0)));
        for (other, _) in ranked.into_iter().take(MAX_CANDIDATES_PER_RECORD) {
            pairs.push((index.min(other), index.max(other)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(title: &str) -> Vec<String> {
        title.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn records_sharing_rare_words_are_paired() {
        let titles = vec![
            words("efficient query processing"),
            words("query processing efficient"),
            words("graph mining"),
        ];
        assert_eq!(candidate_pairs(&titles), vec![(0, 1)]);
    }
}
