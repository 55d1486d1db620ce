//! The table of given names that denote the same person (`christopher` and `chris`), loaded
//! from the CSV files of the names data set.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::normalize::fold;
use crate::{Error, Result};

/// The variant tables of the names data set, read from a directory given in place of a
/// file.
pub const VARIANT_TABLE_FILE_NAMES: [&str; 2] = ["given-name-variants.csv", "nicknames.csv"];

/// Where the variant tables are looked for when none is configured, relative to the
/// working directory: the names data set beside the repository.
pub const DEFAULT_VARIANT_TABLES_DIR: &str = "../shared/data/names";

/// Returns the variant tables of [`DEFAULT_VARIANT_TABLES_DIR`] that exist.
pub fn default_variant_tables() -> Vec<PathBuf> {
    VARIANT_TABLE_FILE_NAMES
        .iter()
        .map(|name| Path::new(DEFAULT_VARIANT_TABLES_DIR).join(name))
        .filter(|path| path.is_file())
        .collect()
}

/// Pairs of given names known to be variants of each other; the relation is symmetric and
/// not transitive (`chris` relates to `christopher` and to `christine`, which do not relate
/// to each other).
#[derive(Debug, Clone, Default)]
pub struct GivenNameVariants {
    variants_by_name: HashMap<String, HashSet<String>>,
}

impl GivenNameVariants {
    /// Returns an empty table: only identical names and initials agree.
    pub fn empty() -> Self {
        GivenNameVariants::default()
    }

    /// Loads a variant file in either format of the names data set: pairs `name,variant`
    /// without header (`given-name-variants.csv`), or `name1,relationship,name2` with a
    /// header (`nicknames.csv`). A directory stands for the tables of
    /// [`VARIANT_TABLE_FILE_NAMES`] it holds.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Io`] when the file cannot be read, [`Error::InvalidVariantFile`]
    /// when a record has fewer than two names and [`Error::NoVariantTable`] for a directory
    /// holding no table.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let mut table = GivenNameVariants::empty();
        table.extend_from_path(path.as_ref())?;
        Ok(table)
    }

    /// Loads and merges several variant files; see [`GivenNameVariants::load`].
    ///
    /// # Errors
    ///
    /// Returns the first error met, as [`GivenNameVariants::load`] does.
    pub fn load_all<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Result<Self> {
        let mut table = GivenNameVariants::empty();
        for path in paths {
            table.extend_from_path(path.as_ref())?;
        }
        Ok(table)
    }

    /// Adds the records of a variant file read from `reader`; `source` names it in errors.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidVariantFile`] when the CSV is malformed or a record has fewer
    /// than two names.
    pub fn extend_from_reader(&mut self, reader: impl Read, source: &str) -> Result<()> {
        let mut csv_reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reader);
        for (index, record) in csv_reader.records().enumerate() {
            let line_number = index + 1;
            let record = record.map_err(|csv_error| Error::InvalidVariantFile {
                source_name: source.to_string(),
                line_number,
                reason: csv_error.to_string(),
            })?;
            let fields: Vec<&str> = record
                .iter()
                .map(|field| field.trim_start_matches('\u{FEFF}').trim())
                .collect();
            let (first, second) = match fields.as_slice() {
                ["name1", "relationship", "name2"] => continue,
                [first, _relationship, second] => (*first, *second),
                [first, second] => (*first, *second),
                [] | [""] => continue,
                _ => {
                    return Err(Error::InvalidVariantFile {
                        source_name: source.to_string(),
                        line_number,
                        reason: format!("expected 2 or 3 fields, found {}", fields.len()),
                    })
                }
            };
            self.insert(first, second);
        }
        Ok(())
    }

    /// Records that two given names are variants of each other.
    pub fn insert(&mut self, first: &str, second: &str) {
        let (first, second) = (fold(first), fold(second));
        if first.is_empty() || second.is_empty() || first == second {
            return;
        }
        self.variants_by_name
            .entry(first.clone())
            .or_default()
            .insert(second.clone());
        self.variants_by_name
            .entry(second)
            .or_default()
            .insert(first);
    }

    /// Returns true when two folded given names are recorded as variants.
    pub fn are_variants(&self, first: &str, second: &str) -> bool {
        self.variants_by_name
            .get(first)
            .is_some_and(|variants| variants.contains(second))
    }

    /// Returns the recorded variants of a folded given name.
    pub fn variants_of(&self, name: &str) -> impl Iterator<Item = &str> {
        self.variants_by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Returns the number of names that have at least one variant.
    pub fn num_names(&self) -> usize {
        self.variants_by_name.len()
    }

    fn extend_from_path(&mut self, path: &Path) -> Result<()> {
        if path.is_dir() {
            let tables: Vec<_> = VARIANT_TABLE_FILE_NAMES
                .iter()
                .map(|name| path.join(name))
                .filter(|table| table.is_file())
                .collect();
            if tables.is_empty() {
                return Err(Error::NoVariantTable {
                    path: path.to_path_buf(),
                    expected: VARIANT_TABLE_FILE_NAMES.join(" or "),
                });
            }
            for table in tables {
                self.extend_from_path(&table)?;
            }
            return Ok(());
        }
        let file = std::fs::File::open(path).map_err(|io_error| Error::Io {
            path: path.to_path_buf(),
            source: io_error,
        })?;
        self.extend_from_reader(std::io::BufReader::new(file), &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_stands_for_the_tables_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let error = GivenNameVariants::load(dir.path()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("is a directory without a given-name variant table"),
            "{error}"
        );
        std::fs::write(
            dir.path().join("nicknames.csv"),
            "name1,relationship,name2\nwilliam,has_nickname,bill\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("other.csv"), "not,a,table,at,all\n").unwrap();
        let table = GivenNameVariants::load_all([dir.path()]).unwrap();
        assert!(table.are_variants("bill", "william"));
    }

    #[test]
    fn reads_both_formats() {
        let mut table = GivenNameVariants::empty();
        table
            .extend_from_reader("christopher,chris\n".as_bytes(), "pairs")
            .unwrap();
        table
            .extend_from_reader(
                "name1,relationship,name2\nwilliam,has_nickname,bill\n".as_bytes(),
                "nicknames",
            )
            .unwrap();
        assert!(table.are_variants("chris", "christopher"));
        assert!(table.are_variants("bill", "william"));
        assert!(!table.are_variants("bill", "chris"));
    }

    #[test]
    fn rejects_records_with_too_many_fields() {
        let error = GivenNameVariants::empty()
            .extend_from_reader("a,b,c,d\n".as_bytes(), "broken")
            .unwrap_err();
        assert!(error.to_string().contains("broken"), "{error}");
    }
}
