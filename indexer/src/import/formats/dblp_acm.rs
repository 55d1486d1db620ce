//! The DBLP-ACM benchmark tables (`id,title,authors,venue,year`), one CSV record a row, each
//! kept as an object keyed by the header's column names. Files must be UTF-8 (both sides
//! are); a row that is not is rejected alone, as no single-byte encoding can be told apart.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::input::{self, Input};
use super::json_records;
use super::lines::{BoundedLineReader, Line};
use super::ReadOptions;
use crate::import::record::{Location, ParseOutcome, Parsed, Rejected, SourceRecord};

/// Column holding a record's identifier.
const ID_COLUMN: &str = "id";

/// The UTF-8 byte order mark, skipped at the start of the header.
const BYTE_ORDER_MARK: &str = "\u{feff}";

/// Which side of the DBLP-ACM benchmark a file holds, and so the records' source name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DblpAcmSource {
    /// `dblp.csv`: DBLP keys as ids (`conf/vldb/PoosalaI96`).
    Dblp,
    /// `acm.csv`: ACM Digital Library numbers as ids.
    Acm,
}

impl DblpAcmSource {
    /// Returns the source name stored with the records: `dblp` or `acm`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dblp => "dblp",
            Self::Acm => "acm",
        }
    }

    /// Returns the side a file name announces: `dblp.csv` or `acm.csv.gz` (any case), or
    /// `None`.
    pub fn from_file_name(path: &Path) -> Option<Self> {
        let file_name = path.file_name()?.to_str()?.to_lowercase();
        let stem = file_name.split('.').next()?;
        // `dblp.csv`, `DBLP2.csv`, `acm-2.csv`, `dblp_sample.csv`; not `acmeworks.csv`.
        let names = |prefix: &str| {
            stem.strip_prefix(prefix)
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphabetic()))
        };
        if names("dblp") {
            Some(Self::Dblp)
        } else if names("acm") {
            Some(Self::Acm)
        } else {
            None
        }
    }
}

/// Streams the records of a DBLP-ACM CSV file, the first row being the header.
///
/// # Errors
/// Fails when the file cannot be opened.
pub(crate) fn read(
    path: &Path,
    options: ReadOptions,
) -> io::Result<Box<dyn Iterator<Item = ParseOutcome> + Send>> {
    let input = input::open(path)?;
    let source = options
        .dblp_acm_source
        .or_else(|| DblpAcmSource::from_file_name(path));
    let Some(source) = source else {
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        let reason = format!(
            "cannot tell whether `{file_name}` holds dblp or acm records: name it `dblp….csv` or \
             `acm….csv`, or pass `--dblp-acm-source dblp` or `acm`"
        );
        return Ok(json_records::reject_file(path, reason));
    };
    Ok(Box::new(CsvRecords {
        path: path.to_path_buf(),
        source,
        lines: BoundedLineReader::new(input, options.max_record_num_bytes),
        line: Vec::new(),
        record_bytes: Vec::new(),
        header: None,
        is_inside_quotes: false,
        record_lines: Vec::new(),
        replay: VecDeque::new(),
        max_record_num_bytes: options.max_record_num_bytes,
        pending: VecDeque::new(),
        is_done: false,
    }))
}

/// The column names, and where the id is among them.
#[derive(Debug)]
struct Header {
    columns: Vec<String>,
    id_index: usize,
}

struct CsvRecords {
    path: PathBuf,
    source: DblpAcmSource,
    lines: BoundedLineReader<Input>,
    line: Vec<u8>,
    /// The lines of the record being read; more than one when a quoted field holds newlines.
    record_bytes: Vec<u8>,
    header: Option<Header>,
    /// Whether the lines read so far leave a quoted field open.
    is_inside_quotes: bool,
    /// The numbered lines of the record being read, kept while it spans several lines so
    /// that they can be read again if its opening quote turns out to be a stray one.
    record_lines: Vec<(u64, Vec<u8>)>,
    /// Lines to read again before reading on from the file.
    replay: VecDeque<(u64, Vec<u8>)>,
    max_record_num_bytes: usize,
    pending: VecDeque<ParseOutcome>,
    is_done: bool,
}

/// One CSV record as read from the file.
enum RawRecord {
    /// The record's bytes are in `record_bytes`; it starts on this line.
    Complete { first_line: u64 },
    /// The record could not be read; the stream goes on unless the file could not be read.
    Rejected(Rejected),
    /// End of file.
    End,
}

impl Iterator for CsvRecords {
    type Item = ParseOutcome;

    fn next(&mut self) -> Option<ParseOutcome> {
        loop {
            if let Some(outcome) = self.pending.pop_front() {
                return Some(outcome);
            }
            if self.is_done {
                return None;
            }
            let first_line = match self.read_record() {
                RawRecord::Complete { first_line } => first_line,
                RawRecord::Rejected(rejected) => return Some(Err(rejected)),
                RawRecord::End => return None,
            };
            if self.record_bytes.trim_ascii().is_empty() {
                continue;
            }
            let location = Location::line(&self.path, first_line);
            let outcome = match self.header {
                None => self.read_header().map(|()| None),
                Some(ref header) => to_record(self.source, header, &self.record_bytes).map(Some),
            };
            match outcome {
                Ok(None) => {}
                Ok(Some(record)) => return Some(Ok(Parsed::Record(record, location))),
                Err(reason) if self.header.is_none() => {
                    self.is_done = true;
                    return Some(Err(Rejected {
                        location: Location::file(&self.path),
                        reason,
                    }));
                }
                Err(reason) if self.record_lines.len() > 1 => {
                    return Some(Err(self.reject_stray_quote(first_line, &reason)));
                }
                Err(reason) => return Some(Err(Rejected { location, reason })),
            }
        }
    }
}

impl CsvRecords {
    /// Reads the lines of the next record into `record_bytes`: one line, or several while a
    /// quoted field is open (an odd number of `"` so far).
    fn read_record(&mut self) -> RawRecord {
        self.record_bytes.clear();
        self.record_lines.clear();
        let mut record_first_line = None;
        let mut is_oversized = false;
        loop {
            let next_line = match self.replay.pop_front() {
                Some((number, bytes)) => {
                    self.line = bytes;
                    Ok(Some(Line::Complete { number }))
                }
                None => self.lines.read_line(&mut self.line),
            };
            let number = match next_line {
                Ok(Some(Line::Complete { number })) => number,
                Ok(Some(Line::Oversized { number, num_bytes })) => {
                    // The rest of an oversized line is unknown; the record ends with it.
                    let first_line = record_first_line.unwrap_or(number);
                    let line_num_bytes = (first_line == number).then_some(num_bytes);
                    return RawRecord::Rejected(self.oversized(first_line, number, line_num_bytes));
                }
                Ok(None) => {
                    let Some(first_line) = record_first_line else {
                        return RawRecord::End;
                    };
                    self.is_inside_quotes = false;
                    let reason = "record has a quoted field that is never closed";
                    return RawRecord::Rejected(self.reject_stray_quote(first_line, reason));
                }
                Err(error) => {
                    self.is_done = true;
                    let number = self.lines.num_lines_read() + 1;
                    let location = Location::line(&self.path, number);
                    let reason = format!("file could not be read from this line on: {error}");
                    return RawRecord::Rejected(Rejected { location, reason });
                }
            };
            let first_line = *record_first_line.get_or_insert(number);

            if !is_oversized {
                if !self.record_bytes.is_empty() {
                    self.record_bytes.push(b'\n');
                }
                self.record_bytes.extend_from_slice(&self.line);
                self.record_lines.push((number, self.line.clone()));
                is_oversized = self.record_bytes.len() > self.max_record_num_bytes;
                if is_oversized {
                    self.record_bytes.clear();
                    self.record_lines.clear();
                }
            }
            let num_quotes = self.line.iter().filter(|&&byte| byte == b'"').count();
            self.is_inside_quotes ^= num_quotes % 2 == 1;
            if self.is_inside_quotes {
                continue;
            }
            if is_oversized {
                return RawRecord::Rejected(self.oversized(first_line, number, None));
            }
            return RawRecord::Complete { first_line };
        }
    }

    /// Rejects the record's first line, whose quote opened a field that never closed as a
    /// record, and queues the lines after it to be read again as records of their own, so
    /// that one stray quote costs one line, not the rest of the file.
    fn reject_stray_quote(&mut self, first_line: u64, reason: &str) -> Rejected {
        let lines = std::mem::take(&mut self.record_lines);
        let num_lines = lines.len();
        for line in lines.into_iter().skip(1).rev() {
            self.replay.push_front(line);
        }
        self.record_bytes.clear();
        let reason = if num_lines > 1 {
            format!(
                "{reason}; the {} line(s) after it are read again on their own",
                num_lines - 1
            )
        } else {
            reason.to_owned()
        };
        Rejected {
            location: Location::line(&self.path, first_line),
            reason,
        }
    }

    /// Returns the reject of a record over the limit, and forgets what was read of it.
    fn oversized(&mut self, first_line: u64, last_line: u64, num_bytes: Option<u64>) -> Rejected {
        self.is_inside_quotes = false;
        self.record_bytes.clear();
        let max = self.max_record_num_bytes;
        let reason = match num_bytes {
            Some(num_bytes) => format!("record is {num_bytes} bytes, over the limit of {max}"),
            None => format!(
                "record on lines {first_line} to {last_line} is over the limit of {max} bytes"
            ),
        };
        Rejected {
            location: Location::line(&self.path, first_line),
            reason,
        }
    }

    fn read_header(&mut self) -> Result<(), String> {
        let fields = parse_fields(&self.record_bytes)?;
        let columns: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let name = if index == 0 {
                    name.trim_start_matches(BYTE_ORDER_MARK)
                } else {
                    name
                };
                name.trim().to_string()
            })
            .collect();
        for (index, column) in columns.iter().enumerate() {
            if columns[..index].contains(column) {
                return Err(format!("header repeats the column `{column}`"));
            }
        }
        let Some(id_index) = columns.iter().position(|column| column == ID_COLUMN) else {
            let header = columns.join(",");
            return Err(format!("header `{header}` has no `{ID_COLUMN}` column"));
        };
        self.header = Some(Header { columns, id_index });
        Ok(())
    }
}

/// Turns a data row into a record keyed by its `id` column.
fn to_record(source: DblpAcmSource, header: &Header, bytes: &[u8]) -> Result<SourceRecord, String> {
    let fields = parse_fields(bytes)?;
    if fields.len() != header.columns.len() {
        let (num_fields, num_columns) = (fields.len(), header.columns.len());
        return Err(format!(
            "row has {num_fields} fields but the header has {num_columns}"
        ));
    }
    let id = fields[header.id_index].trim();
    if id.is_empty() {
        return Err(format!("record has an empty `{ID_COLUMN}` field"));
    }
    let source_id = id.to_string();

    let mut data = Map::new();
    for (column, field) in header.columns.iter().zip(fields) {
        data.insert(column.clone(), Value::String(field));
    }
    json_records::new_record(source.name(), source_id, Value::Object(data))
}

/// Splits one CSV record (RFC 4180 quoting) into its fields.
fn parse_fields(bytes: &[u8]) -> Result<Vec<String>, String> {
    if let Err(error) = std::str::from_utf8(bytes) {
        return Err(format!(
            "line is not valid utf-8 at byte {}",
            error.valid_up_to() + 1
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(_) => Ok(record.iter().map(str::to_string).collect()),
        Err(error) => Err(format!("line is not valid csv: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::test_support::describe;
    use super::*;

    fn read_csv(file_name: &str, bytes: &[u8], options: ReadOptions) -> Vec<ParseOutcome> {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(file_name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        read(&path, options).unwrap().collect()
    }

    fn summary(outcomes: &[ParseOutcome]) -> Vec<String> {
        outcomes.iter().map(describe).collect()
    }

    #[test]
    fn the_source_comes_from_the_file_name_or_the_option() {
        assert_eq!(
            DblpAcmSource::from_file_name(Path::new("/d/DBLP.csv")),
            Some(DblpAcmSource::Dblp)
        );
        assert_eq!(
            DblpAcmSource::from_file_name(Path::new("acm.csv.gz")),
            Some(DblpAcmSource::Acm)
        );
        assert_eq!(DblpAcmSource::from_file_name(Path::new("acme.csv")), None);
        for name in ["DBLP2.csv", "dblp_sample.csv", "dblp-2024.csv"] {
            assert_eq!(
                DblpAcmSource::from_file_name(Path::new(name)),
                Some(DblpAcmSource::Dblp)
            );
        }
        assert_eq!(
            DblpAcmSource::from_file_name(Path::new("acm-2.csv")),
            Some(DblpAcmSource::Acm)
        );

        let csv = b"id,title\n1,T\n";
        let outcomes = read_csv("matches.csv", csv, ReadOptions::default());
        assert_eq!(
            summary(&outcomes),
            ["file: rejected: cannot tell whether `matches.csv` holds dblp or acm records: name \
              it `dblp….csv` or `acm….csv`, or pass `--dblp-acm-source dblp` or `acm`"]
        );

        let options = ReadOptions {
            dblp_acm_source: Some(DblpAcmSource::Acm),
            ..Default::default()
        };
        let outcomes = read_csv("other.csv", csv, options);
        let Ok(Parsed::Record(record, _)) = &outcomes[0] else {
            panic!("{outcomes:?}")
        };
        assert_eq!(record.source, "acm");
    }

    #[test]
    fn rows_become_objects_keyed_by_the_header() {
        let csv = "\u{feff}id,title,authors,venue,year\r\n\
                   7,\"A, \"\"quoted\"\" title\",\"Ann Bé, Bob\",VLDB,1999\r\n";
        let outcomes = read_csv("acm.csv", csv.as_bytes(), ReadOptions::default());
        assert_eq!(summary(&outcomes), ["line 2: 7"]);
        let Ok(Parsed::Record(record, _)) = &outcomes[0] else {
            panic!("{outcomes:?}")
        };
        assert_eq!(
            record.data,
            serde_json::json!({"id": "7", "title": "A, \"quoted\" title",
                "authors": "Ann Bé, Bob", "venue": "VLDB", "year": "1999"})
        );
    }

    #[test]
    fn bad_rows_are_rejected_alone_with_their_line() {
        let mut csv =
            b"id,title,year\n1,fine,2000\n\n2,too,many,fields\n3,lat\xe9n,2001\n".to_vec();
        csv.extend_from_slice(
            b",no id,2002\n4,\"multi\nline\",2003\n5,\"nul\0\",2004\n6,last,2005",
        );
        let outcomes = read_csv("dblp.csv", &csv, ReadOptions::default());
        assert_eq!(
            summary(&outcomes),
            [
                "line 2: 1",
                "line 4: rejected: row has 4 fields but the header has 3",
                "line 5: rejected: line is not valid utf-8 at byte 6",
                "line 6: rejected: record has an empty `id` field",
                "line 7: 4",
                "line 9: rejected: field `title` contains a `\\u0000` character, which \
                 postgresql jsonb cannot store",
                "line 10: 6",
            ]
        );
    }

    #[test]
    fn a_stray_quote_costs_its_own_line_and_the_rows_after_it_are_read() {
        // Reported fault: a title with one unbalanced quote swallowed every row after it.
        let csv = b"id,title,authors,venue,year\ny/1,ok,A,VLDB,1999\ny/2,Broken \"title,A B,VLDB,1999\ny/3,fine,C,VLDB,2000\ny/4,also fine,D,VLDB,2001\n";
        let outcomes = read_csv("dblp.csv", csv, ReadOptions::default());
        assert_eq!(
            summary(&outcomes),
            [
                "line 2: y/1",
                "line 3: rejected: record has a quoted field that is never closed; the 2 \
                 line(s) after it are read again on their own",
                "line 4: y/3",
                "line 5: y/4",
            ]
        );
    }

    #[test]
    fn a_header_without_id_rejects_the_file_and_an_open_quote_only_its_line() {
        let outcomes = read_csv("dblp.csv", b"dblp_id,acm_id\na,1\n", ReadOptions::default());
        assert_eq!(
            summary(&outcomes),
            ["file: rejected: header `dblp_id,acm_id` has no `id` column"]
        );

        let outcomes = read_csv(
            "dblp.csv",
            b"id,title\n1,ok\n2,\"open\n3,x\n",
            ReadOptions::default(),
        );
        assert_eq!(
            summary(&outcomes),
            [
                "line 2: 1",
                "line 3: rejected: record has a quoted field that is never closed; the 1 \
                 line(s) after it are read again on their own",
                "line 4: 3",
            ]
        );
    }

    #[test]
    fn an_oversized_row_is_rejected_and_the_next_rows_read() {
        let csv = format!(
            "id,title\n1,{}\n2,\"{}\n{}\"\n3,ok\n",
            "x".repeat(100),
            "y".repeat(30),
            "z".repeat(30)
        );
        let options = ReadOptions {
            max_record_num_bytes: 50,
            ..ReadOptions::default()
        };
        let outcomes = read_csv("dblp.csv", csv.as_bytes(), options);
        assert_eq!(
            summary(&outcomes),
            [
                "line 2: rejected: record is 102 bytes, over the limit of 50",
                "line 3: rejected: record on lines 3 to 4 is over the limit of 50 bytes",
                "line 5: 3",
            ]
        );
    }
}
