//! Reading JSON records from JSON Lines files or from whole JSON documents (pretty-printed
//! objects, arrays, API response envelopes), shared by the JSON-based formats.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::input::{self, DocumentError};
use super::lines::{BoundedLineReader, Line};
use super::ReadOptions;
use crate::import::record::{Location, ParseOutcome, Parsed, Rejected, SourceRecord};

/// Bytes looked at to decide whether a file is JSON Lines or one document.
const LAYOUT_SNIFF_NUM_BYTES: u64 = 64 * 1024;

/// The UTF-8 byte order mark, skipped at the start of a file.
const BYTE_ORDER_MARK: &[u8] = b"\xef\xbb\xbf";

/// What one JSON value of the input holds.
#[derive(Debug)]
pub(crate) enum Extracted {
    /// One record, or why the value is not one.
    One(Result<SourceRecord, String>),
    /// A list of records (an API response page); an item's position is its record number.
    List(Vec<Result<SourceRecord, String>>),
}

/// Turns a JSON value into the records it holds.
pub(crate) type Extract = fn(Value) -> Extracted;

/// How the records of a file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One JSON value per line.
    Lines,
    /// The file is one JSON document, or several concatenated, read whole.
    Document,
}

/// Decides the layout from the start of the file.
///
/// A file is one document when its first non-blank line is a lone `{` (a pretty-printed
/// object), when it starts with `[`, or when its first object opens with one of
/// `envelope_keys` (an API response, which may hold more than a line should). Anything else
/// is JSON Lines, so a broken first line costs that line and not the file.
///
/// # Errors
/// Fails when the file cannot be read.
pub(crate) fn detect_layout(path: &Path, envelope_keys: &[&str]) -> io::Result<Layout> {
    let mut head = Vec::new();
    input::open(path)?
        .take(LAYOUT_SNIFF_NUM_BYTES)
        .read_to_end(&mut head)?;
    let head = head.strip_prefix(BYTE_ORDER_MARK).unwrap_or(&head);
    let head = head.trim_ascii_start();

    if head.starts_with(b"[") {
        return Ok(Layout::Document);
    }
    let Some(after_brace) = head.strip_prefix(b"{") else {
        return Ok(Layout::Lines);
    };
    let rest_of_first_line = after_brace
        .split(|&byte| byte == b'\n')
        .next()
        .unwrap_or_default();
    if rest_of_first_line.trim_ascii().is_empty() {
        return Ok(Layout::Document);
    }
    let first_key = after_brace.trim_ascii_start();
    let opens_envelope = envelope_keys.iter().any(|key| {
        let quoted = format!("\"{key}\"");
        first_key.starts_with(quoted.as_bytes())
    });
    Ok(if opens_envelope {
        Layout::Document
    } else {
        Layout::Lines
    })
}

/// Streams the records of the JSON file at `path` laid out as `layout`.
///
/// # Errors
/// Fails when the file cannot be opened, or, for a document, cannot be read.
pub(crate) fn read(
    path: &Path,
    layout: Layout,
    options: ReadOptions,
    extract: Extract,
) -> io::Result<Box<dyn Iterator<Item = ParseOutcome> + Send>> {
    match layout {
        Layout::Lines => {
            let lines = BoundedLineReader::new(input::open(path)?, options.max_record_num_bytes);
            Ok(Box::new(JsonLines {
                path: path.to_path_buf(),
                lines,
                line: Vec::new(),
                pending: VecDeque::new(),
                extract,
                max_record_num_bytes: options.max_record_num_bytes,
                has_failed: false,
            }))
        }
        Layout::Document => match input::read_document(path, options.max_document_num_bytes) {
            Ok(bytes) => Ok(Box::new(JsonDocument {
                path: path.to_path_buf(),
                bytes,
                offset: 0,
                num_records: 0,
                pending: VecDeque::new(),
                extract,
                max_record_num_bytes: options.max_record_num_bytes,
                is_done: false,
            })),
            Err(DocumentError::Io(error)) => Err(error),
            Err(DocumentError::TooLarge(reason)) => Ok(reject_file(path, reason)),
        },
    }
}

/// Returns a stream of one reject for the whole file.
pub(crate) fn reject_file(
    path: &Path,
    reason: String,
) -> Box<dyn Iterator<Item = ParseOutcome> + Send> {
    Box::new(std::iter::once(Err(Rejected {
        location: Location::file(path),
        reason,
    })))
}

/// JSON Lines: one value a line, blank lines skipped.
struct JsonLines {
    path: PathBuf,
    lines: BoundedLineReader<input::Input>,
    line: Vec<u8>,
    pending: VecDeque<ParseOutcome>,
    extract: Extract,
    max_record_num_bytes: usize,
    has_failed: bool,
}

impl Iterator for JsonLines {
    type Item = ParseOutcome;

    fn next(&mut self) -> Option<ParseOutcome> {
        loop {
            if let Some(outcome) = self.pending.pop_front() {
                return Some(outcome);
            }
            if self.has_failed {
                return None;
            }
            let number = match self.lines.read_line(&mut self.line) {
                Ok(Some(Line::Complete { number })) => number,
                Ok(Some(Line::Oversized { number, num_bytes })) => {
                    let limit = self.max_record_num_bytes;
                    let reason = format!("record is {num_bytes} bytes, over the limit of {limit}");
                    let location = Location::line(&self.path, number);
                    return Some(Err(Rejected { location, reason }));
                }
                Ok(None) => return None,
                Err(error) => {
                    self.has_failed = true;
                    let location = Location::line(&self.path, self.lines.num_lines_read() + 1);
                    let reason = format!("file could not be read from this line on: {error}");
                    return Some(Err(Rejected { location, reason }));
                }
            };

            let line = if number == 1 {
                self.line
                    .strip_prefix(BYTE_ORDER_MARK)
                    .unwrap_or(&self.line)
            } else {
                &self.line[..]
            };
            if line.trim_ascii().is_empty() {
                continue;
            }
            let value = parse_line(line);
            self.queue_outcomes(number, value);
        }
    }
}

impl JsonLines {
    fn queue_outcomes(&mut self, number: u64, value: Result<Value, String>) {
        let location = Location::line(&self.path, number);
        let value = match value {
            Ok(value) => value,
            Err(reason) => {
                self.pending.push_back(Err(Rejected { location, reason }));
                return;
            }
        };
        match extract_all(self.extract, value) {
            Extracted::One(record) => self.pending.push_back(outcome(record, location)),
            Extracted::List(records) => {
                for (index, record) in records.into_iter().enumerate() {
                    let location = Location {
                        record: Some(index as u64 + 1),
                        ..location.clone()
                    };
                    self.pending.push_back(outcome(record, location));
                }
            }
        }
    }
}

/// A whole JSON document, possibly several concatenated values, read value by value.
struct JsonDocument {
    path: PathBuf,
    bytes: Vec<u8>,
    offset: usize,
    num_records: u64,
    pending: VecDeque<ParseOutcome>,
    extract: Extract,
    max_record_num_bytes: usize,
    is_done: bool,
}

impl Iterator for JsonDocument {
    type Item = ParseOutcome;

    fn next(&mut self) -> Option<ParseOutcome> {
        loop {
            if let Some(outcome) = self.pending.pop_front() {
                return Some(outcome);
            }
            if self.is_done {
                return None;
            }
            self.read_next_value();
        }
    }
}

impl JsonDocument {
    fn read_next_value(&mut self) {
        let start = if self.offset == 0 && self.bytes.starts_with(BYTE_ORDER_MARK) {
            BYTE_ORDER_MARK.len()
        } else {
            self.offset
        };
        let rest = &self.bytes[start..];
        let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
        let value = match values.next() {
            None => {
                self.is_done = true;
                return;
            }
            Some(Ok(value)) => value,
            Some(Err(error)) => {
                self.is_done = true;
                let line_in_file = line_number_at(&self.bytes, start) - 1 + error.line() as u64;
                let reason = document_parse_error_reason(&error, line_in_file);
                let location = Location::line(&self.path, line_in_file);
                self.pending.push_back(Err(Rejected { location, reason }));
                return;
            }
        };
        let value_num_bytes = values.byte_offset();
        self.offset = start + value_num_bytes;

        match extract_all(self.extract, value) {
            Extracted::One(record) => {
                let location = self.next_record_location();
                let record = record.and_then(|record| {
                    check_size(record, value_num_bytes as u64, self.max_record_num_bytes)
                });
                self.pending.push_back(outcome(record, location));
            }
            Extracted::List(records) => {
                for record in records {
                    let location = self.next_record_location();
                    let record = record.and_then(|record| {
                        let num_bytes = json_num_bytes(&record.data);
                        check_size(record, num_bytes, self.max_record_num_bytes)
                    });
                    self.pending.push_back(outcome(record, location));
                }
            }
        }
    }

    fn next_record_location(&mut self) -> Location {
        self.num_records += 1;
        Location::record(&self.path, self.num_records)
    }
}

/// Applies `extract` to a value, or to each item of a top-level array.
fn extract_all(extract: Extract, value: Value) -> Extracted {
    let Value::Array(items) = value else {
        return extract(value);
    };
    let mut records = Vec::with_capacity(items.len());
    for item in items {
        match extract(item) {
            Extracted::One(record) => records.push(record),
            Extracted::List(item_records) => records.extend(item_records),
        }
    }
    Extracted::List(records)
}

fn outcome(record: Result<SourceRecord, String>, location: Location) -> ParseOutcome {
    match record {
        Ok(record) => Ok(Parsed::Record(record, location)),
        Err(reason) => Err(Rejected { location, reason }),
    }
}

fn check_size(
    record: SourceRecord,
    num_bytes: u64,
    max_num_bytes: usize,
) -> Result<SourceRecord, String> {
    if num_bytes > max_num_bytes as u64 {
        return Err(format!(
            "record is {num_bytes} bytes, over the limit of {max_num_bytes}"
        ));
    }
    Ok(record)
}

/// Parses one line, with the reject reason when it is not UTF-8 or not JSON.
fn parse_line(line: &[u8]) -> Result<Value, String> {
    if let Err(error) = std::str::from_utf8(line) {
        return Err(format!(
            "line is not valid utf-8 at byte {}",
            error.valid_up_to() + 1
        ));
    }
    serde_json::from_slice(line).map_err(|error| {
        let message = message_without_position(&error);
        format!(
            "line is not valid json: {message} at column {}",
            error.column()
        )
    })
}

fn document_parse_error_reason(error: &serde_json::Error, line_in_file: u64) -> String {
    let message = message_without_position(error);
    if error.classify() == serde_json::error::Category::Io {
        return format!("document could not be read: {message}");
    }
    format!(
        "document is not valid json: {message} at line {line_in_file} column {}",
        error.column()
    )
}

/// Returns serde_json's message, lowercased (`EOF while…`), without the ` at line L column C`
/// it appends.
fn message_without_position(error: &serde_json::Error) -> String {
    let message = error.to_string().to_lowercase();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&suffix) {
        Some(message) => message.to_string(),
        None => message,
    }
}

/// Returns the 1-based line number of byte `offset` in `bytes`.
fn line_number_at(bytes: &[u8], offset: usize) -> u64 {
    1 + bytes[..offset]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count() as u64
}

/// Returns the size of `value` serialised compactly, the measure of a record that was not
/// read as its own bytes (an item of a response page).
pub(crate) fn json_num_bytes(value: &Value) -> u64 {
    struct ByteCounter(u64);
    impl io::Write for ByteCounter {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0 += bytes.len() as u64;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, value).expect("a json value always serialises");
    counter.0
}

/// Returns the reject reason when a string or key in `value` holds U+0000, which PostgreSQL
/// `jsonb` cannot store; the reason names the field by its path (`authorships.0.raw_name`).
pub(crate) fn nul_character_reason(value: &Value) -> Option<String> {
    let path = find_nul_character(value)?;
    let field = if path.is_empty() {
        "(the record itself)".to_string()
    } else {
        path
    };
    Some(format!(
        "field `{field}` contains a `\\u0000` character, which postgresql jsonb cannot store"
    ))
}

fn find_nul_character(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(String::new),
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            find_nul_character(item).map(|inner| join_path(&index.to_string(), &inner))
        }),
        Value::Object(object) => object.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(key.replace('\0', "\\u0000"));
            }
            find_nul_character(item).map(|inner| join_path(key, &inner))
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

fn join_path(head: &str, tail: &str) -> String {
    if tail.is_empty() {
        head.to_string()
    } else {
        format!("{head}.{tail}")
    }
}

/// Names the JSON type of a value, for messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Returns a string field of a record: `Err` naming the field when it is absent, null, not a
/// string, or blank.
pub(crate) fn required_string<'a>(
    object: &'a serde_json::Map<String, Value>,
    field: &str,
) -> Result<&'a str, String> {
    match object.get(field) {
        None => Err(format!("record has no `{field}` field")),
        Some(Value::Null) => Err(format!("record's `{field}` field is null")),
        Some(Value::String(text)) if text.trim().is_empty() => {
            Err(format!("record has an empty `{field}` field"))
        }
        Some(Value::String(text)) => Ok(text.trim()),
        Some(other) => Err(format!(
            "record's `{field}` field is not a string: `{other}`"
        )),
    }
}

/// Builds a record after checking that its data can be stored.
pub(crate) fn new_record(
    source: &str,
    source_id: String,
    data: Value,
) -> Result<SourceRecord, String> {
    if let Some(reason) = nul_character_reason(&data) {
        return Err(reason);
    }
    Ok(SourceRecord {
        source: source.to_string(),
        source_id,
        entity_type: "work".to_string(),
        data,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn layout_of(text: &str) -> Layout {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        io::Write::write_all(&mut file, text.as_bytes()).unwrap();
        detect_layout(file.path(), &["status"]).unwrap()
    }

    #[test]
    fn layout_is_told_from_the_first_line() {
        assert_eq!(layout_of("{\"id\": 1}\n{\"id\": 2}\n"), Layout::Lines);
        assert_eq!(
            layout_of("\u{feff}\n\n{\"id\": 1, \"cut short"),
            Layout::Lines
        );
        assert_eq!(layout_of("{\n  \"id\": 1\n}\n"), Layout::Document);
        assert_eq!(layout_of("  [{\"id\": 1}]"), Layout::Document);
        assert_eq!(
            layout_of("{\"status\": \"ok\", \"message\": {}}"),
            Layout::Document
        );
        assert_eq!(layout_of(""), Layout::Lines);
    }

    #[test]
    fn parse_errors_name_the_problem_and_column() {
        assert_eq!(
            parse_line(b"{\"a\": 1,}"),
            Err("line is not valid json: trailing comma at column 9".into())
        );
        assert_eq!(
            parse_line(b"{\"a\": \"\xff\"}"),
            Err("line is not valid utf-8 at byte 8".into())
        );
        assert_eq!(parse_line(b"{\"a\": [1]}"), Ok(json!({"a": [1]})));
    }

    #[test]
    fn nul_characters_are_found_in_values_and_keys() {
        assert_eq!(
            nul_character_reason(&json!({"a": ["ok", {"b": "x\u{0}"}]})).unwrap(),
            "field `a.1.b` contains a `\\u0000` character, which postgresql jsonb cannot store"
        );
        assert_eq!(
            nul_character_reason(&json!({"k\u{0}": 1})).unwrap(),
            "field `k\\u0000` contains a `\\u0000` character, which postgresql jsonb cannot store"
        );
        assert_eq!(
            nul_character_reason(&json!({"a": "\\u0000 escaped twice"})),
            None
        );
    }

    #[test]
    fn sizes_are_those_of_compact_json() {
        assert_eq!(
            json_num_bytes(&json!({"a": [1, "é"]})),
            r#"{"a":[1,"é"]}"#.len() as u64
        );
    }
}
