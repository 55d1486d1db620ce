//! HAL records: search API responses (`response.docs`, JSON) and OAI-PMH responses in XML
//! (Dublin Core or TEI metadata, `GetRecord` or `ListRecords`), or a bare TEI document.

use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

use super::input;
use super::json_records::{self, json_kind, Extracted, Layout};
use super::xml_json::{self, attribute, local_name, text, ConversionError};
use super::ReadOptions;
use crate::import::record::{Location, ParseOutcome, Parsed, Rejected, SourceRecord};

/// Source name of HAL records. A record's identity is its HAL id without the version suffix
/// (`hal-00845819`, not `hal-00845819v1`): the versions of a HAL document are versions of one
/// record, and the version stays in `data`.
pub(crate) const SOURCE: &str = "hal";

/// Hosts whose URLs name a HAL document in their first path segment.
const HAL_HOST_MARKERS: [&str; 2] = ["hal.", "archives-ouvertes.fr"];

/// Number of digits in a HAL id after its portal prefix.
const HAL_ID_NUM_DIGITS: usize = 8;

/// OAI-PMH error code meaning an empty answer rather than a failure.
const OAI_NO_RECORDS_MATCH: &str = "noRecordsMatch";

/// Streams the records of a HAL file, telling XML from JSON by the first character.
///
/// # Errors
/// Fails when the file cannot be opened, or a JSON document cannot be read.
pub(crate) fn read(
    path: &Path,
    options: ReadOptions,
) -> io::Result<Box<dyn Iterator<Item = ParseOutcome> + Send>> {
    let mut input = input::open(path)?;
    if !starts_with_markup(&mut input)? {
        return json_records::read(path, Layout::Document, options, extract_json);
    }

    let file_num_bytes = std::fs::metadata(path)?.len();
    let limited = input.take((options.max_document_num_bytes as u64).saturating_add(1));
    Ok(Box::new(XmlRecords {
        path: path.to_path_buf(),
        reader: xml_json::reader(limited),
        open_elements: Vec::new(),
        buffer: Vec::new(),
        num_records: 0,
        options,
        file_num_bytes,
        is_done: false,
    }))
}

/// Returns whether the first character after a byte order mark and whitespace is `<`.
fn starts_with_markup(input: &mut input::Input) -> io::Result<bool> {
    loop {
        let available = input.fill_buf()?;
        let Some(&first) = available.first() else {
            return Ok(false);
        };
        match first {
            b' ' | b'\t' | b'\r' | b'\n' | 0xef | 0xbb | 0xbf => input.consume(1),
            _ => return Ok(first == b'<'),
        }
    }
}

/// Reads the documents of a search API response, a list of them, or one bare document.
fn extract_json(value: Value) -> Extracted {
    let Value::Object(mut object) = value else {
        return Extracted::One(search_document(value));
    };
    if let Some(error) = object.get("error") {
        return Extracted::One(Err(format!("api response is an error: `{error}`")));
    }
    let Some(response) = object.remove("response") else {
        return Extracted::One(search_document(Value::Object(object)));
    };
    match response {
        Value::Object(mut response) => match response.remove("docs") {
            Some(Value::Array(docs)) => {
                Extracted::List(docs.into_iter().map(search_document).collect())
            }
            other => {
                let kind = other.as_ref().map_or("absent", json_kind);
                Extracted::One(Err(format!(
                    "api response's `response.docs` is {kind}, not a list"
                )))
            }
        },
        other => {
            let kind = json_kind(&other);
            Extracted::One(Err(format!(
                "api response's `response` is {kind}, not an object"
            )))
        }
    }
}

/// Turns one search API document into a record keyed by its `halId_s`.
fn search_document(value: Value) -> Result<SourceRecord, String> {
    let Value::Object(object) = &value else {
        return Err(format!(
            "record is {}, not a json object",
            json_kind(&value)
        ));
    };
    let source_id = match json_records::required_string(object, "halId_s") {
        Ok(id) => hal_id(id).ok_or_else(|| format!("`halId_s` `{id}` is not a hal id"))?,
        Err(missing) => {
            let uri = object.get("uri_s").and_then(Value::as_str);
            uri.and_then(hal_id).ok_or(missing)?
        }
    };
    json_records::new_record(SOURCE, source_id, value)
}

/// Returns the HAL id named by `candidate`, lowercase and without version: from a bare id
/// (`hal-00845819v1`), a HAL URL (`https://hal.science/hal-00845819`) or an OAI identifier
/// (`oai:HAL:hal-00845819v1`); `None` when it names none.
pub(crate) fn hal_id(candidate: &str) -> Option<String> {
    let candidate = candidate.trim().to_lowercase();
    let id = if let Some((_, after_scheme)) = candidate.split_once("://") {
        let (host, path) = after_scheme.split_once('/')?;
        if !HAL_HOST_MARKERS.iter().any(|marker| host.contains(marker)) {
            return None;
        }
        path.split(['/', '?', '#']).next()?
    } else {
        candidate.rsplit(':').next()?
    };

    let (portal, number_and_version) = id.rsplit_once('-')?;
    let is_portal = portal.starts_with(|c: char| c.is_ascii_lowercase())
        && portal
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let (number, version) = number_and_version.split_at_checked(HAL_ID_NUM_DIGITS)?;
    let is_number = number.bytes().all(|byte| byte.is_ascii_digit());
    let is_version = version.is_empty()
        || version.strip_prefix('v').is_some_and(|digits| {
            !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
        });
    (is_portal && is_number && is_version).then(|| format!("{portal}-{number}"))
}

/// Records of an OAI-PMH response (or a bare TEI document), read one element at a time.
struct XmlRecords {
    path: PathBuf,
    reader: xml_json::XmlReader<io::Take<input::Input>>,
    /// Local names of the envelope elements the reader is inside.
    open_elements: Vec<String>,
    buffer: Vec<u8>,
    num_records: u64,
    options: ReadOptions,
    file_num_bytes: u64,
    is_done: bool,
}

impl Iterator for XmlRecords {
    type Item = ParseOutcome;

    fn next(&mut self) -> Option<ParseOutcome> {
        while !self.is_done {
            if let Some(outcome) = self.next_event() {
                return Some(outcome);
            }
        }
        None
    }
}

/// What to do with an element of the envelope.
enum Step {
    /// Go inside it (`OAI-PMH`, `GetRecord`, `ListRecords`).
    Enter,
    /// It is a record.
    Record,
    /// It is an OAI-PMH error.
    Error,
    /// Skip it and what it holds (`responseDate`, `request`, `resumptionToken`).
    Skip,
    /// The document is not one this reader knows.
    Refuse,
}

impl XmlRecords {
    /// Reads one event of the envelope; returns an outcome when the event gave one.
    fn next_event(&mut self) -> Option<ParseOutcome> {
        self.buffer.clear();
        let start_position = self.reader.buffer_position();
        let event = match self.reader.read_event_into(&mut self.buffer) {
            Ok(event) => event.into_owned(),
            Err(error) => {
                let error = xml_json::malformed(&self.reader, &error);
                return Some(self.fail(&error));
            }
        };
        let (start, is_empty) = match event {
            Event::Start(start) => (start, false),
            Event::Empty(start) => (start, true),
            Event::End(_) => {
                self.open_elements.pop();
                return None;
            }
            Event::Decl(declaration) => {
                return xml_json::check_declared_encoding(&declaration)
                    .err()
                    .map(|error| self.fail(&error));
            }
            Event::Eof => {
                self.is_done = true;
                if self.reader.buffer_position() > self.options.max_document_num_bytes as u64 {
                    return Some(self.reject_document(self.too_large_reason()));
                }
                return None;
            }
            _ => return None,
        };

        let name = match xml_json::element_name(&self.reader, &start) {
            Ok(name) => name,
            Err(error) => return Some(self.fail(&error)),
        };
        match self.step(local_name(&name)) {
            Step::Enter if !is_empty => {
                self.open_elements.push(local_name(&name).to_string());
                None
            }
            Step::Enter => None,
            Step::Record => self.read_record(name, &start, is_empty, start_position),
            Step::Error => self.read_error(&start, is_empty, start_position),
            Step::Skip if is_empty => None,
            Step::Skip => {
                let mut skipped = Vec::new();
                let end = start.to_end().into_owned();
                match self.reader.read_to_end_into(end.name(), &mut skipped) {
                    Ok(_) => None,
                    Err(error) => {
                        let error = xml_json::malformed(&self.reader, &error);
                        Some(self.fail(&error))
                    }
                }
            }
            Step::Refuse => {
                self.is_done = true;
                let reason = format!(
                    "xml root element `{name}` is neither an oai-pmh response nor a tei document"
                );
                Some(self.reject_document(reason))
            }
        }
    }

    fn step(&self, local: &str) -> Step {
        let parent = self.open_elements.last().map(String::as_str);
        match (self.open_elements.len(), parent, local) {
            (0, _, "OAI-PMH") => Step::Enter,
            (0, _, "TEI" | "record") => Step::Record,
            (0, _, _) => Step::Refuse,
            (1, _, "GetRecord" | "ListRecords") => Step::Enter,
            (1, _, "error") => Step::Error,
            (2, Some("GetRecord" | "ListRecords"), "record") => Step::Record,
            _ => Step::Skip,
        }
    }

    fn read_record(
        &mut self,
        name: String,
        start: &BytesStart,
        is_empty: bool,
        start_position: u64,
    ) -> Option<ParseOutcome> {
        let max_num_bytes = self.options.max_record_num_bytes;
        let converted = xml_json::element_to_json(
            &mut self.reader,
            start,
            is_empty,
            start_position,
            max_num_bytes,
        );
        self.num_records += 1;
        let location = Location::record(&self.path, self.num_records);
        let value = match converted {
            Ok(value) => value,
            Err(error @ ConversionError::Oversized { .. }) => {
                let reason = error.reason(max_num_bytes);
                return Some(Err(Rejected { location, reason }));
            }
            Err(error) => return Some(self.fail(&error)),
        };
        let record = oai_record(value).and_then(|(source_id, value)| {
            let mut data = Map::new();
            data.insert(name, value);
            json_records::new_record(SOURCE, source_id, Value::Object(data))
        });
        Some(match record {
            Ok(record) => Ok(Parsed::Record(record, location)),
            Err(reason) => Err(Rejected { location, reason }),
        })
    }

    /// Reads an OAI-PMH `<error>`: a reject of the file, unless it only says that nothing
    /// matched the request.
    fn read_error(
        &mut self,
        start: &BytesStart,
        is_empty: bool,
        start_position: u64,
    ) -> Option<ParseOutcome> {
        let converted = xml_json::element_to_json(
            &mut self.reader,
            start,
            is_empty,
            start_position,
            usize::MAX,
        );
        let error = match converted {
            Ok(error) => error,
            Err(error) => return Some(self.fail(&error)),
        };
        let code = attribute(&error, "code").unwrap_or("unknown").to_string();
        if code == OAI_NO_RECORDS_MATCH {
            tracing::debug!(path = %self.path.display(), "oai-pmh response has no records");
            return None;
        }
        let message = text(&error).unwrap_or_default();
        let reason = format!("oai-pmh response is an error `{code}` with no record: `{message}`");
        Some(self.reject_document(reason))
    }

    /// Ends the stream on an error that leaves the rest of the document unreadable.
    fn fail(&mut self, error: &ConversionError) -> ParseOutcome {
        self.is_done = true;
        let was_cut_at_the_limit =
            self.reader.buffer_position() > self.options.max_document_num_bytes as u64;
        let reason = if was_cut_at_the_limit {
            self.too_large_reason()
        } else {
            error.reason(self.options.max_record_num_bytes)
        };
        self.reject_document(reason)
    }

    fn too_large_reason(&self) -> String {
        input::too_large_reason(self.file_num_bytes, self.options.max_document_num_bytes)
    }

    fn reject_document(&self, reason: String) -> ParseOutcome {
        Err(Rejected {
            location: Location::file(&self.path),
            reason,
        })
    }
}

/// Returns the HAL id of a converted OAI-PMH `record` (or TEI document) and the value itself.
///
/// The id comes from, in order: a TEI `idno type="halId"`, a Dublin Core `identifier`, the
/// OAI-PMH header identifier.
fn oai_record(value: Value) -> Result<(String, Value), String> {
    let header = xml_json::child(&value, "header");
    let header_identifier = header.and_then(|header| xml_json::child(header, "identifier"));
    let header_identifier = header_identifier.and_then(text);
    if header.and_then(|header| attribute(header, "status")) == Some("deleted") {
        let identifier = header_identifier.unwrap_or_default();
        return Err(format!(
            "record `{identifier}` is marked deleted in the oai-pmh header"
        ));
    }

    let metadata = xml_json::child(&value, "metadata").unwrap_or(&value);
    let mut tei_ids = Vec::new();
    descendants(metadata, "idno", &mut tei_ids);
    let tei_ids = tei_ids
        .into_iter()
        .filter(|idno| attribute(idno, "type") == Some("halId"));
    let mut dc_ids = Vec::new();
    descendants(metadata, "identifier", &mut dc_ids);

    let source_id = tei_ids
        .chain(dc_ids)
        .filter_map(text)
        .chain(header_identifier)
        .find_map(|candidate| hal_id(&candidate));
    match source_id {
        Some(source_id) => Ok((source_id, value)),
        None => Err(
            "record has no hal id in a tei `idno type=\"halId\"`, a dublin core \
                     `identifier` or the oai-pmh header `identifier`"
                .to_string(),
        ),
    }
}

/// Collects, in document order, the elements under `value` whose local name is `name`.
fn descendants<'a>(value: &'a Value, name: &str, found: &mut Vec<&'a Value>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                if key.starts_with(xml_json::ATTRIBUTE_PREFIX) {
                    continue;
                }
                if local_name(key) == name {
                    found.extend(xml_json::as_list(Some(child)));
                } else {
                    descendants(child, name, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| descendants(item, name, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde_json::json;

    use super::super::test_support::describe;
    use super::*;

    #[test]
    fn hal_ids_are_read_from_ids_urls_and_oai_identifiers_without_version() {
        let cases = [
            ("hal-00845819", Some("hal-00845819")),
            ("hal-00845819v12", Some("hal-00845819")),
            ("insu-00915064", Some("insu-00915064")),
            (
                "https://hal.archives-ouvertes.fr/hal-00845819",
                Some("hal-00845819"),
            ),
            (
                "https://hal.science/hal-01062241v2/document",
                Some("hal-01062241"),
            ),
            ("ftartxiker:oai:HAL:hal-00845819v1", Some("hal-00845819")),
            (
                "oai:hal.archives-ouvertes.fr:hal-00939473",
                Some("hal-00939473"),
            ),
            (
                "http://hal.archives-ouvertes.fr/docs/00/99/57/67/PDF/x-hal.pdf",
                None,
            ),
            ("https://doi.org/hal-00845819", None),
            ("hal-0084581", None),
            ("hal-00845819v", None),
            ("ARXIV : 1303.0980", None),
        ];
        for (candidate, expected) in cases {
            assert_eq!(
                hal_id(candidate).as_deref(),
                expected,
                "hal id of `{candidate}`"
            );
        }
    }

    #[test]
    fn search_documents_are_keyed_by_hal_id_or_uri() {
        let doc = json!({"halId_s": "hal-02001689", "title_s": ["T"]});
        assert_eq!(search_document(doc.clone()).unwrap().data, doc);
        let doc = json!({"uri_s": "https://hal.science/hal-02001689v3"});
        assert_eq!(search_document(doc).unwrap().source_id, "hal-02001689");
        assert_eq!(
            search_document(json!({"title_s": ["T"]})),
            Err("record has no `halId_s` field".to_string())
        );
        assert_eq!(
            search_document(json!({"halId_s": "nope"})),
            Err("`halId_s` `nope` is not a hal id".to_string())
        );
    }

    fn read_xml(xml: &str, options: ReadOptions) -> Vec<ParseOutcome> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(xml.as_bytes()).unwrap();
        read(file.path(), options).unwrap().collect()
    }

    fn dc_record(identifier: &str, title: &str) -> String {
        format!(
            "<record><header><identifier>oai:HAL:{identifier}</identifier></header><metadata>\
             <oai_dc:dc xmlns:oai_dc=\"o\" xmlns:dc=\"d\"><dc:title>{title}</dc:title>\
             <dc:identifier>{identifier}</dc:identifier></oai_dc:dc></metadata></record>"
        )
    }

    fn summary(outcomes: &[ParseOutcome]) -> Vec<String> {
        outcomes.iter().map(describe).collect()
    }

    #[test]
    fn list_records_yields_each_record_and_skips_the_envelope() {
        let xml = format!(
            "<?xml version=\"1.0\"?><OAI-PMH><responseDate>2019</responseDate>\
             <request verb=\"ListRecords\">u</request><ListRecords>{}{}\
             <record><header status=\"deleted\"><identifier>oai:HAL:hal-00000003v1</identifier>\
             </header></record><resumptionToken>t</resumptionToken></ListRecords></OAI-PMH>",
            dc_record("hal-00000001v2", "One"),
            dc_record("hal-00000002", "Two"),
        );
        let outcomes = read_xml(&xml, ReadOptions::default());
        assert_eq!(
            summary(&outcomes),
            [
                "record 1: hal-00000001",
                "record 2: hal-00000002",
                "record 3: rejected: record `oai:HAL:hal-00000003v1` is marked deleted in the \
                 oai-pmh header",
            ]
        );
        let Ok(Parsed::Record(first, _)) = &outcomes[0] else {
            panic!("first is a record")
        };
        assert_eq!(
            first.data["record"]["metadata"]["oai_dc:dc"]["dc:title"],
            "One"
        );
    }

    #[test]
    fn tei_documents_are_keyed_by_their_hal_id_idno() {
        let xml = "<TEI xmlns=\"http://www.tei-c.org/ns/1.0\"><text><body><listBibl><biblFull>\
                   <titleStmt><title xml:lang=\"en\">A title</title></titleStmt>\
                   <publicationStmt><idno type=\"halUri\">https://hal.science/hal-01234567</idno>\
                   <idno type=\"halId\">hal-07654321</idno></publicationStmt>\
                   </biblFull></listBibl></body></text></TEI>";
        let outcomes = read_xml(xml, ReadOptions::default());
        assert_eq!(summary(&outcomes), ["record 1: hal-07654321"]);
        let Ok(Parsed::Record(record, _)) = &outcomes[0] else {
            panic!("{outcomes:?}")
        };
        assert_eq!(record.source_id, "hal-07654321");
    }

    #[test]
    fn an_oversized_record_is_rejected_and_the_next_one_still_read() {
        let big = dc_record("hal-00000001", &"x".repeat(5000));
        let xml = format!(
            "<OAI-PMH><ListRecords>{big}{}</ListRecords></OAI-PMH>",
            dc_record("hal-00000002", "ok")
        );
        let options = ReadOptions {
            max_record_num_bytes: 1000,
            ..ReadOptions::default()
        };
        let too_large = format!(
            "record 1: rejected: record is {} bytes, over the limit of 1000",
            big.len()
        );
        assert_eq!(
            summary(&read_xml(&xml, options)),
            [too_large.as_str(), "record 2: hal-00000002"]
        );
    }

    #[test]
    fn malformed_xml_keeps_the_records_before_it() {
        let xml = format!(
            "<OAI-PMH><ListRecords>{}<record><header></record></ListRecords></OAI-PMH>",
            dc_record("hal-00000001", "ok")
        );
        assert_eq!(
            summary(&read_xml(&xml, ReadOptions::default())),
            [
                "record 1: hal-00000001",
                "file: rejected: xml is not well-formed at line 1 (byte 257): ill-formed document: \
                 expected `</header>`, but `</record>` was found",
            ]
        );
    }

    #[test]
    fn unknown_roots_and_oai_errors_are_rejected_but_no_records_match_is_empty() {
        assert_eq!(
            summary(&read_xml("<html><body/></html>", ReadOptions::default())),
            [
                "file: rejected: xml root element `html` is neither an oai-pmh response nor a tei \
              document"
            ]
        );

        let xml = "<OAI-PMH><error code=\"idDoesNotExist\">No such record</error></OAI-PMH>";
        assert_eq!(
            summary(&read_xml(xml, ReadOptions::default())),
            [
                "file: rejected: oai-pmh response is an error `idDoesNotExist` with no record: \
              `No such record`"
            ]
        );

        let xml = "<OAI-PMH><error code=\"noRecordsMatch\"/></OAI-PMH>";
        assert!(read_xml(xml, ReadOptions::default()).is_empty());
    }

    #[test]
    fn an_xml_document_over_the_limit_is_rejected_after_the_records_that_fit() {
        let xml = format!(
            "<OAI-PMH><ListRecords>{}{}</ListRecords></OAI-PMH>",
            dc_record("hal-00000001", "ok"),
            dc_record("hal-00000002", &"x".repeat(5000))
        );
        let options = ReadOptions {
            max_document_num_bytes: 1000,
            ..ReadOptions::default()
        };
        let too_large = format!(
            "file: rejected: document is {} bytes, over the limit of 1000",
            xml.len()
        );
        assert_eq!(
            summary(&read_xml(&xml, options)),
            ["record 1: hal-00000001", too_large.as_str()]
        );
    }
}
