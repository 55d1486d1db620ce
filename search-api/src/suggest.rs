//! Helpers for messages that name what the caller could have written: a list of allowed
//! names and the closest one to a misspelling.

/// Most names listed in one message; longer lists end with a count of the rest.
const MAX_LISTED_NAMES: usize = 30;

/// Returns `` `a`, `b`, `c` `` for a message, cut after [`MAX_LISTED_NAMES`] names.
pub(crate) fn name_list<S: AsRef<str>>(names: &[S]) -> String {
    let mut listed: Vec<String> = names
        .iter()
        .take(MAX_LISTED_NAMES)
        .map(|name| format!("`{}`", name.as_ref()))
        .collect();
    if names.len() > MAX_LISTED_NAMES {
        listed.push(format!("and {} more", names.len() - MAX_LISTED_NAMES));
    }
    listed.join(", ")
}

/// Returns "; did you mean `x`?" when a candidate is within two edits of `name` and the
/// edits are at most a third of `name`'s length, else "": `nope` is two edits from `type`,
/// but that is half the word, a different word rather than a misspelling.
pub(crate) fn did_you_mean<S: AsRef<str>>(name: &str, candidates: &[S]) -> String {
    let num_chars = name.chars().count();
    let closest = candidates
        .iter()
        .map(|candidate| (edit_distance(name, candidate.as_ref()), candidate.as_ref()))
        .filter(|&(distance, _)| distance <= 2 && distance * 3 <= num_chars)
        .min_by_key(|&(distance, _)| distance);
    match closest {
        Some((_, candidate)) => format!("; did you mean `{candidate}`?"),
        None => String::new(),
    }
}

/// Returns the Levenshtein distance between `a` and `b`, counted in characters, giving up
/// at 3 since only close names are suggested.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return 3;
    }
    let mut previous_row: Vec<usize> = (0..=b.len()).collect();
    for (i, &a_char) in a.iter().enumerate() {
        let mut current_row = vec![i + 1; b.len() + 1];
        for (j, &b_char) in b.iter().enumerate() {
            let substitution = previous_row[j] + usize::from(a_char != b_char);
            current_row[j + 1] = substitution
                .min(previous_row[j + 1] + 1)
                .min(current_row[j] + 1);
        }
        previous_row = current_row;
    }
    previous_row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_names_in_backticks() {
        assert_eq!(name_list(&["year", "source"]), "`year`, `source`");
        let many: Vec<String> = (0..35).map(|i| format!("a{i}")).collect();
        assert!(name_list(&many).ends_with("and 5 more"));
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("yeer", &["year", "source"]),
            "; did you mean `year`?"
        );
        assert_eq!(did_you_mean("title", &["year", "source"]), "");
        assert_eq!(did_you_mean("nope", &["type", "year"]), "");
        assert_eq!(did_you_mean("yr", &["year"]), "");
        assert_eq!(
            did_you_mean("sourec", &["source"]),
            "; did you mean `source`?"
        );
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("year", "yeer"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
