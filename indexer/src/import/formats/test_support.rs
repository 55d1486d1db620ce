//! Helpers shared by the readers' unit tests.

use crate::import::record::{Location, ParseOutcome, Parsed};

/// Describes an outcome without its path: `line 3: W1`, `record 2: rejected: reason`.
pub(crate) fn describe(outcome: &ParseOutcome) -> String {
    match outcome {
        Ok(Parsed::Record(record, location)) => {
            format!("{}: {}", position(location), record.source_id)
        }
        Ok(Parsed::Profile(profile, location)) => {
            format!("{}: profile {}", position(location), profile.orcid)
        }
        Err(rejected) => format!(
            "{}: rejected: {}",
            position(&rejected.location),
            rejected.reason
        ),
    }
}

fn position(location: &Location) -> String {
    match (location.line, location.record) {
        (Some(line), Some(record)) => format!("line {line} record {record}"),
        (Some(line), None) => format!("line {line}"),
        (None, Some(record)) => format!("record {record}"),
        (None, None) => "file".to_string(),
    }
}
