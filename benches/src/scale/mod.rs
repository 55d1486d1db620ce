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

impl FromStr for Size {
    type Err = String;

    fn from_str(text: &str) -> Result<Size, String> {
        match text.to_ascii_lowercase().as_str() {
            "smoke" => Ok(Size::Smoke),
            "100k" => Ok(Size::HundredThousand),
            "1m" => Ok(Size::Million),
            "10m" => Ok(Size::TenMillion),
            other => other
                .parse::<u64>()
                .ok()
                .filter(|&num_records| num_records > 0)
                .map(Size::Records)
                .ok_or_else(|| {
                    format!(
                        "unknown size `{text}`; use smoke, 100k, 1m, 10m or a number of records"
                    )
                }),
        }
    }
}
