//! What a source format yields: raw records, author profiles, and rejects with their place.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

/// Largest record accepted by default, in bytes of its original form.
pub const DEFAULT_MAX_RECORD_NUM_BYTES: usize = 1024 * 1024;

/// One bibliographic record as a source gave it, ready for `raw_records`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// Source name stored in `raw_records.source`: `openalex`, `crossref`, `hal`, `orcid`,
    /// `dblp` or `acm`.
    pub source: String,
    /// The record's identifier within its source (an OpenAlex id, a DOI, a HAL id…).
    pub source_id: String,
    /// What the record describes; `work` for every format read today.
    pub entity_type: String,
    /// The complete original record as JSON; XML and CSV converted without losing fields.
    pub data: Value,
}

/// An author profile read from a source of people (ORCID), with the works it lists.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceProfile {
    /// The ORCID iD, `0000-0002-1825-0097` form.
    pub orcid: String,
    /// The name to show: credit name, else given and family names.
    pub display_name: String,
    /// Given names as recorded, when present.
    pub given_names: Option<String>,
    /// Family name as recorded, when present.
    pub family_name: Option<String>,
    /// Other names the person is known by.
    pub other_names: Vec<String>,
    /// External identifiers as (type, value): `scopus`, `researcherid`, `email`…
    pub external_ids: Vec<(String, String)>,
    /// Affiliations (employments, educations), newest first.
    pub affiliations: Vec<SourceAffiliation>,
    /// The person's work summaries as raw records of source `orcid`.
    pub works: Vec<SourceRecord>,
    /// The whole person record as JSON, kept in the profile's settings for display.
    pub data: Value,
}

/// One affiliation of a profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceAffiliation {
    /// `employment`, `education`, …
    pub kind: String,
    /// Organisation name.
    pub organization: String,
    /// Department, when given.
    pub department: Option<String>,
    /// Start year, when given.
    pub start_year: Option<i32>,
    /// End year, when given; `None` for a current affiliation.
    pub end_year: Option<i32>,
}

/// Where in the input an item came from, for messages and the rejects file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file read.
    pub path: PathBuf,
    /// 1-based line number, for line-oriented formats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based position of the record in the file, for formats with several per document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
}

impl Location {
    /// Returns the location of a whole file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            line: None,
            record: None,
        }
    }

    /// Returns the location of a line of a file.
    pub fn line(path: impl Into<PathBuf>, line: u64) -> Self {
        Self {
            path: path.into(),
            line: Some(line),
            record: None,
        }
    }

    /// Returns the location of the n-th record of a file.
    pub fn record(path: impl Into<PathBuf>, record: u64) -> Self {
        Self {
            path: path.into(),
            line: None,
            record: Some(record),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(record) = self.record {
            write!(f, " record {record}")?;
        }
        Ok(())
    }
}

/// An input item that could not be imported, with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Where the item was.
    #[serde(flatten)]
    pub location: Location,
    /// Lowercase reason naming the problem, e.g. "record has no `id` field".
    pub reason: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// A record stored with a value the index cannot use, with where it was and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Where the record was.
    #[serde(flatten)]
    pub location: Location,
    /// Lowercase description naming the field and its value.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// One item read from an input file.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A bibliographic record.
    Record(SourceRecord, Location),
    /// A person with their works.
    Profile(Box<SourceProfile>, Location),
}

/// What a format reader yields for each item: the item, or why it was rejected.
pub type ParseOutcome = Result<Parsed, Rejected>;
