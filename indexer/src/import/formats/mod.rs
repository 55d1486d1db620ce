//! Readers of the source formats, each turning files into a stream of [`ParseOutcome`]s.
//!
//! A reader never holds more than one record in memory (an XML or JSON document that is one
//! response is read whole, bounded by [`ReadOptions::max_document_num_bytes`]), and never
//! stops at a bad item: it yields a [`Rejected`](super::record::Rejected) and goes on.

mod crossref;
mod dblp_acm;
mod hal;
mod input;
mod json_records;
mod lines;
mod openalex;
mod orcid;
#[cfg(test)]
mod test_support;
mod xml_json;

use std::path::Path;

use super::record::ParseOutcome;

pub use dblp_acm::DblpAcmSource;

/// The source formats `indexer import --format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// OpenAlex work objects, one per line (2022 and current schemas), plain or gzip.
    Openalex,
    /// Crossref work objects: one per line, a bare object, or an API response envelope.
    Crossref,
    /// HAL search API responses (`response.docs`) and OAI-PMH records (Dublin Core, TEI).
    Hal,
    /// ORCID record summary XML (v3.0): a profile and its work summaries.
    Orcid,
    /// The DBLP-ACM benchmark CSV tables (`id,title,authors,venue,year`).
    DblpAcm,
}

/// Limits a reader applies to its input.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// A record larger than this, in bytes of its original form, is rejected.
    pub max_record_num_bytes: usize,
    /// A file read as one document (XML, a JSON envelope) larger than this is rejected whole.
    pub max_document_num_bytes: usize,
    /// Which side of the DBLP-ACM benchmark a CSV file is; when `None`, the file name says
    /// (`dblp.csv`, `acm.csv`) and a file named otherwise is rejected whole.
    pub dblp_acm_source: Option<DblpAcmSource>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_record_num_bytes: super::record::DEFAULT_MAX_RECORD_NUM_BYTES,
            max_document_num_bytes: 256 * 1024 * 1024,
            dblp_acm_source: None,
        }
    }
}

/// Opens `path` as `format` and returns the stream of what it holds.
///
/// Every format is also read gzip-compressed, recognised by its magic bytes, not its name.
///
/// # Errors
/// Only an unreadable file fails here; everything wrong inside a file is yielded as a reject.
pub fn read(
    format: Format,
    path: &Path,
    options: ReadOptions,
) -> std::io::Result<Box<dyn Iterator<Item = ParseOutcome> + Send>> {
    match format {
        Format::Openalex => openalex::read(path, options),
        Format::Crossref => crossref::read(path, options),
        Format::Hal => hal::read(path, options),
        Format::Orcid => orcid::read(path, options),
        Format::DblpAcm => dblp_acm::read(path, options),
    }
}
