//! Edit distance between words, as typo tolerance counts it.

/// Returns the optimal string alignment distance: Levenshtein with adjacent transpositions
/// counted as one edit, the distance tantivy's `transposition_cost_one` automaton uses.
pub fn osa_distance(first: &[char], second: &[char]) -> usize {
    let width = second.len() + 1;
    let mut rows = vec![0usize; (first.len() + 1) * width];
    for (index, cell) in rows.iter_mut().take(width).enumerate() {
        *cell = index;
    }
    for row in 1..=first.len() {
        rows[row * width] = row;
        for column in 1..=second.len() {
            let substitution = usize::from(first[row - 1] != second[column - 1]);
            let mut best = (rows[(row - 1) * width + column] + 1)
                .min(rows[row * width + column - 1] + 1)
                .min(rows[(row - 1) * width + column - 1] + substitution);
            let is_transposition = row > 1
                && column > 1
                && first[row - 1] == second[column - 2]
                && first[row - 2] == second[column - 1];
            if is_transposition {
                best = best.min(rows[(row - 2) * width + column - 2] + 1);
            }
            rows[row * width + column] = best;
        }
    }
    rows[first.len() * width + second.len()]
}

/// Typos forgiven in a surname of this many characters: none below five, one up to eight,
/// two from nine, as the search API forgives them in a word by default.
pub fn max_surname_typos(num_chars: usize) -> usize {
    match num_chars {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(word: &str) -> Vec<char> {
        word.chars().collect()
    }

    #[test]
    fn transpositions_are_one_edit() {
        assert_eq!(osa_distance(&chars("kowalski"), &chars("kowalsky")), 1);
        assert_eq!(osa_distance(&chars("smith"), &chars("smtih")), 1);
        assert_eq!(osa_distance(&chars(""), &chars("abc")), 3);
        assert_eq!(osa_distance(&chars("müller"), &chars("muller")), 1);
    }
}
