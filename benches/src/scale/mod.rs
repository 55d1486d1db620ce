//! The benchmark at scale: a seeded synthetic corpus in real source formats with its truth
//! and query workload ([`corpus`]), its profiles in PostgreSQL ([`profiles`]), and the
//! harness that imports, indexes, follows, searches and matches it and reports the figures
//! ([`run`]).
//!
//! The corpus is drawn from the distributions of the real samples in `shared/data`, never
//! copied from them, and is written as a stream: ten million records need no more memory
//! than ten thousand.

pub mod corpus;
pub mod people;
pub mod profiles;
pub mod rng;
pub mod run;
pub mod vocabulary;
pub mod workload;

use std::str::FromStr;

/// A corpus size by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// A few thousand records, for CI.
    Smoke,
    /// 100,000 records.
    HundredThousand,
    /// 1 million records.
    Million,
    /// 10 million records.
    TenMillion,
    /// Any number of records.
    Records(u64),
}

impl Size {
    /// Returns the number of records.
    pub fn num_records(self) -> u64 {
        match self {
            Size::Smoke => 3_000,
            Size::HundredThousand => 100_000,
            Size::Million => 1_000_000,
            Size::TenMillion => 10_000_000,
            Size::Records(num_records) => num_records,
        }
    }

    /// Returns the size's name, used in database and directory names.
    pub fn label(self) -> String {
        match self {
            Size::Smoke => "smoke".to_owned(),
            Size::HundredThousand => "100k".to_owned(),
            Size::Million => "1m".to_owned(),
            Size::TenMillion => "10m".to_owned(),
            Size::Records(num_records) => format!("{num_records}r"),
        }
    }

    /// Returns the queries per class the workload holds at this size.
    pub fn num_queries_per_class(self) -> usize {
        if self.num_records() <= 10_000 {
            12
        } else {
            200
        }
    }
}

/// Parses a number of records, at least 1, for `--records` and `--size`.
///
/// # Errors
/// Says why `text` is not a number of records.
pub fn parse_num_records(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("a corpus of 0 records measures nothing; use at least 1".to_owned()),
        Ok(num_records) => Ok(num_records),
        Err(error) => Err(format!("`{text}` is not a number of records: {error}")),
    }
}

impl FromStr for Size {
    type Err = String;

    fn from_str(text: &str) -> Result<Size, String> {
        match text.to_ascii_lowercase().as_str() {
            "smoke" => Ok(Size::Smoke),
            "100k" => Ok(Size::HundredThousand),
            "1m" => Ok(Size::Million),
            "10m" => Ok(Size::TenMillion),
            other if other.bytes().all(|byte| byte.is_ascii_digit()) && !other.is_empty() => {
                parse_num_records(other).map(Size::Records)
            }
            _ => Err(format!(
                "unknown size `{text}`; use smoke, 100k, 1m, 10m or a number of records"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_by_name_or_number_and_zero_is_refused_as_records_zero_is() {
        assert_eq!("smoke".parse(), Ok(Size::Smoke));
        assert_eq!("1M".parse(), Ok(Size::Million));
        assert_eq!("5000".parse(), Ok(Size::Records(5_000)));
        let zero_size = "0".parse::<Size>().unwrap_err();
        assert_eq!(zero_size, parse_num_records("0").unwrap_err());
        assert!(zero_size.contains("at least 1"), "{zero_size}");
        assert!("huge"
            .parse::<Size>()
            .unwrap_err()
            .contains("unknown size `huge`"));
        assert!(parse_num_records("-1").is_err());
    }
}
