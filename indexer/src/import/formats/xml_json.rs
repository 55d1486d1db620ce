//! Converts XML elements to JSON without losing their content, so an XML record can be stored
//! as `raw_records.data` like any JSON record; hal and orcid read their XML through it.

use std::io::{self, BufRead, Read};

use quick_xml::events::{BytesDecl, BytesStart, Event};
use quick_xml::Reader;
use serde_json::{Map, Value};

/// Key of an element's own text when it also has attributes or children.
pub(crate) const TEXT_KEY: &str = "#text";

/// Prefix of attribute keys.
pub(crate) const ATTRIBUTE_PREFIX: char = '@';

/// Why an element could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConversionError {
    /// The XML is not well-formed or not UTF-8; the message is the reject reason.
    Malformed(String),
    /// The element is larger than the limit; it was read to its end and dropped.
    Oversized {
        /// Bytes from the element's start tag to the end of its end tag.
        num_bytes: u64,
    },
}

impl ConversionError {
    /// Returns the reject reason, with `max_num_bytes` the limit that applied.
    pub(crate) fn reason(&self, max_num_bytes: usize) -> String {
        match self {
            Self::Malformed(reason) => reason.clone(),
            Self::Oversized { num_bytes } => {
                format!("record is {num_bytes} bytes, over the limit of {max_num_bytes}")
            }
        }
    }
}

/// An input that counts the lines the XML reader has consumed, so that an error names its
/// line, as errors of line-oriented formats do.
pub(crate) struct LineCounter<R> {
    inner: R,
    num_newlines: u64,
}

impl<R> LineCounter<R> {
    /// Returns the line the reader has reached, counting from 1.
    fn line(&self) -> u64 {
        self.num_newlines + 1
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let num_read = self.inner.read(buffer)?;
        self.num_newlines += count_newlines(&buffer[..num_read]);
        Ok(num_read)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        // The bytes being consumed are the front of the buffer `fill_buf` handed out.
        if let Ok(buffered) = self.inner.fill_buf() {
            self.num_newlines += count_newlines(&buffered[..amount.min(buffered.len())]);
        }
        self.inner.consume(amount);
    }
}

/// The XML reader of this module: quick-xml over an input counting its lines.
pub(crate) type XmlReader<R> = Reader<LineCounter<R>>;

/// Returns a reader over `input` configured the way [`element_to_json`] expects.
pub(crate) fn reader<R: BufRead>(input: R) -> XmlReader<R> {
    let mut reader = Reader::from_reader(LineCounter {
        inner: input,
        num_newlines: 0,
    });
    let config = reader.config_mut();
    config.trim_text(false);
    config.expand_empty_elements = false;
    config.check_end_names = true;
    reader
}

/// Returns the reject reason for an XML error at the reader's current position.
pub(crate) fn malformed<R>(reader: &XmlReader<R>, error: &quick_xml::Error) -> ConversionError {
    let position = reader.error_position();
    let line = reader.get_ref().line();
    ConversionError::Malformed(format!(
        "xml is not well-formed at line {line} (byte {position}): {error}"
    ))
}

/// Fails unless the XML declaration, if any, declares UTF-8, the only encoding read.
pub(crate) fn check_declared_encoding(declaration: &BytesDecl) -> Result<(), ConversionError> {
    let Some(Ok(encoding)) = declaration.encoding() else {
        return Ok(());
    };
    let encoding = String::from_utf8_lossy(&encoding).to_ascii_lowercase();
    if encoding == "utf-8" || encoding == "utf8" {
        return Ok(());
    }
    Err(ConversionError::Malformed(format!(
        "xml declares encoding `{encoding}`; only utf-8 documents are read"
    )))
}

/// Returns the local part of a possibly prefixed name: `title` for `dc:title`.
pub(crate) fn local_name(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, local)| local)
}

/// Converts the element that `start` opened, reading `reader` up to and including its end.
///
/// The mapping, for an element:
/// - no attributes and no child elements: its text as a string, or `null` when empty;
/// - otherwise an object: attributes under `@name`, child elements under their name, and the
///   element's own text (if not only whitespace) under `#text`;
/// - a child element that occurs more than once becomes an array, in document order.
///
/// Names are kept as written, prefix included (`dc:title`), and namespace declarations are
/// kept as the attributes they are (`@xmlns:dc`), so readers match on local names. Comments,
/// processing instructions and the doctype are dropped. Text is kept exactly; in mixed
/// content the text pieces are joined and lose their position between the child elements.
///
/// `start_position` is the reader's position before the start tag was read; an element
/// spanning more than `max_num_bytes` from there is read to its end and dropped. For an empty
/// element (`<a/>`) pass `is_empty`, and nothing more is read.
///
/// # Errors
/// Fails on malformed XML, non-UTF-8 text, or an element over the limit.
pub(crate) fn element_to_json<R: BufRead>(
    reader: &mut XmlReader<R>,
    start: &BytesStart,
    is_empty: bool,
    start_position: u64,
    max_num_bytes: usize,
) -> Result<Value, ConversionError> {
    let root = ElementBuilder::new(reader, start)?;
    if is_empty {
        return Ok(root.finish().1);
    }

    let mut open_elements = vec![root];
    let mut depth_when_oversized: Option<usize> = None;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|e| malformed(reader, &e))?;
        let num_bytes_read = reader.buffer_position().saturating_sub(start_position);
        if depth_when_oversized.is_none() && num_bytes_read > max_num_bytes as u64 {
            // Keep only the depth, so the rest of the element is read without being kept.
            depth_when_oversized = Some(open_elements.len());
            open_elements.clear();
        }
        if let Some(depth) = depth_when_oversized.as_mut() {
            match event {
                Event::Start(_) => *depth += 1,
                Event::End(_) if *depth == 1 => {
                    return Err(ConversionError::Oversized {
                        num_bytes: num_bytes_read,
                    });
                }
                Event::End(_) => *depth -= 1,
                Event::Eof => return Err(unexpected_end_of_document(reader)),
                _ => {}
            }
            continue;
        }

        match event {
            Event::Start(child_start) => {
                open_elements.push(ElementBuilder::new(reader, &child_start)?);
            }
            Event::Empty(child_start) => {
                let (name, value) = ElementBuilder::new(reader, &child_start)?.finish();
                innermost(&mut open_elements).add_child(name, value);
            }
            Event::End(_) => {
                let closed = open_elements
                    .pop()
                    .expect("an element is open until its end tag");
                let (name, value) = closed.finish();
                match open_elements.last_mut() {
                    Some(parent) => parent.add_child(name, value),
                    None => return Ok(value),
                }
            }
            Event::Text(text) => {
                let text = text.unescape().map_err(|e| malformed(reader, &e))?;
                innermost(&mut open_elements).add_text(&text);
            }
            Event::CData(cdata) => {
                let text = cdata.decode().map_err(|e| malformed(reader, &e.into()))?;
                innermost(&mut open_elements).add_text(&text);
            }
            Event::Eof => return Err(unexpected_end_of_document(reader)),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// Converts a whole document to `{root element name: root element value}`.
///
/// # Errors
/// Fails on malformed XML, a declared encoding other than UTF-8, or a document without an
/// element.
pub(crate) fn document_to_json(xml: &[u8]) -> Result<Value, ConversionError> {
    let mut reader = reader(xml);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let start_position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|e| malformed(&reader, &e))?;
        let (start, is_empty) = match event {
            Event::Start(start) => (start.into_owned(), false),
            Event::Empty(start) => (start.into_owned(), true),
            Event::Decl(declaration) => {
                check_declared_encoding(&declaration)?;
                continue;
            }
            Event::Eof => {
                return Err(ConversionError::Malformed(
                    "xml document has no element".into(),
                ));
            }
            _ => continue,
        };
        let name = element_name(&reader, &start)?;
        let value = element_to_json(&mut reader, &start, is_empty, start_position, usize::MAX)?;
        let mut document = Map::new();
        document.insert(name, value);
        return Ok(Value::Object(document));
    }
}

/// Returns the element name as written.
pub(crate) fn element_name<R>(
    reader: &XmlReader<R>,
    start: &BytesStart,
) -> Result<String, ConversionError> {
    let qualified_name = start.name();
    let name = reader.decoder().decode(qualified_name.as_ref());
    name.map(|name| name.into_owned())
        .map_err(|e| malformed(reader, &e.into()))
}

fn unexpected_end_of_document<R>(reader: &XmlReader<R>) -> ConversionError {
    let position = reader.buffer_position();
    let line = reader.get_ref().line();
    ConversionError::Malformed(format!(
        "xml ends at line {line} (byte {position}) inside an element"
    ))
}

fn innermost(open_elements: &mut [ElementBuilder]) -> &mut ElementBuilder {
    open_elements
        .last_mut()
        .expect("an element is open until its end tag is read")
}

/// An element being converted.
#[derive(Debug)]
struct ElementBuilder {
    name: String,
    object: Map<String, Value>,
    has_children: bool,
    /// All text, kept exactly when the element has no children.
    text: String,
    /// Text pieces that are not only whitespace, kept when the element has children.
    text_between_children: String,
}

impl ElementBuilder {
    fn new<R>(reader: &XmlReader<R>, start: &BytesStart) -> Result<Self, ConversionError> {
        let name = element_name(reader, start)?;
        let mut object = Map::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| malformed(reader, &e.into()))?;
            let key = reader.decoder().decode(attribute.key.as_ref());
            let key = key.map_err(|e| malformed(reader, &e.into()))?;
            let value = attribute.decode_and_unescape_value(reader.decoder());
            let value = value.map_err(|e| malformed(reader, &e))?;
            object.insert(
                format!("{ATTRIBUTE_PREFIX}{key}"),
                Value::String(value.into_owned()),
            );
        }
        Ok(Self {
            name,
            object,
            has_children: false,
            text: String::new(),
            text_between_children: String::new(),
        })
    }

    fn add_text(&mut self, text: &str) {
        self.text.push_str(text);
        if !text.trim().is_empty() {
            self.text_between_children.push_str(text);
        }
    }

    fn add_child(&mut self, name: String, value: Value) {
        self.has_children = true;
        match self.object.get_mut(&name) {
            Some(Value::Array(repeated)) => repeated.push(value),
            Some(first) => {
                let first = first.take();
                self.object.insert(name, Value::Array(vec![first, value]));
            }
            None => {
                self.object.insert(name, value);
            }
        }
    }

    fn finish(self) -> (String, Value) {
        if self.object.is_empty() {
            let value = if self.text.is_empty() {
                Value::Null
            } else {
                Value::String(self.text)
            };
            return (self.name, value);
        }
        let mut object = self.object;
        let own_text = if self.has_children {
            self.text_between_children
        } else {
            self.text
        };
        if !own_text.trim().is_empty() {
            object.insert(TEXT_KEY.to_string(), Value::String(own_text));
        }
        (self.name, Value::Object(object))
    }
}

/// Returns the values of `value` seen as a list: the items of an array, nothing for `null`
/// or absence, else the value itself. Repeated elements are arrays and single ones are not.
pub(crate) fn as_list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
    }
}

/// Returns the children of the object `value` whose local name is `name`, arrays flattened.
pub(crate) fn children<'a>(value: &'a Value, name: &str) -> Vec<&'a Value> {
    let Some(object) = value.as_object() else {
        return Vec::new();
    };
    object
        .iter()
        .filter(|(key, _)| !key.starts_with(ATTRIBUTE_PREFIX) && local_name(key) == name)
        .flat_map(|(_, child)| as_list(Some(child)))
        .collect()
}

/// Returns the first child of `value` whose local name is `name`.
pub(crate) fn child<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    children(value, name).into_iter().next()
}

/// Follows a path of local names from `value`, taking the first match at each step.
pub(crate) fn path<'a>(value: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .try_fold(value, |current, name| child(current, name))
}

/// Returns the text of an element value: the string itself, or its `#text`; `None` when it
/// is empty or only whitespace. The text is trimmed and inner whitespace runs are collapsed.
pub(crate) fn text(value: &Value) -> Option<String> {
    let raw = match value {
        Value::String(text) => text.as_str(),
        Value::Object(object) => object.get(TEXT_KEY)?.as_str()?,
        _ => return None,
    };
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

/// Returns the value of attribute `name` (as written, e.g. `type`) of an element value.
pub(crate) fn attribute<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value
        .as_object()?
        .get(&format!("{ATTRIBUTE_PREFIX}{name}"))?
        .as_str()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn convert(xml: &str) -> Value {
        document_to_json(xml.as_bytes()).unwrap()
    }

    fn convert_error(xml: &str) -> String {
        match document_to_json(xml.as_bytes()) {
            Err(error) => error.reason(0),
            Ok(value) => panic!("`{xml}` converted to {value}"),
        }
    }

    #[test]
    fn text_only_elements_are_strings_and_empty_ones_null() {
        let value = convert("<a><b>text</b><c/><d></d></a>");
        assert_eq!(value, json!({"a": {"b": "text", "c": null, "d": null}}));
    }

    #[test]
    fn repeated_elements_become_arrays_in_document_order() {
        let value = convert("<r><x>1</x><y>a</y><x>2</x><x>3</x></r>");
        assert_eq!(value, json!({"r": {"x": ["1", "2", "3"], "y": "a"}}));
    }

    #[test]
    fn attributes_are_kept_beside_text_and_children() {
        let value = convert(r#"<t xml:lang="en" n="1">Title &amp; more</t>"#);
        assert_eq!(
            value,
            json!({"t": {"@xml:lang": "en", "@n": "1", "#text": "Title & more"}})
        );
        let value = convert(r#"<w put-code="7"><title>T</title></w>"#);
        assert_eq!(value, json!({"w": {"@put-code": "7", "title": "T"}}));
    }

    #[test]
    fn prefixes_and_namespace_declarations_are_kept() {
        let value = convert(
            r#"<oai_dc:dc xmlns:dc="http://purl.org/dc/"><dc:title>T</dc:title></oai_dc:dc>"#,
        );
        assert_eq!(
            value,
            json!({"oai_dc:dc": {"@xmlns:dc": "http://purl.org/dc/", "dc:title": "T"}})
        );
    }

    #[test]
    fn text_is_kept_exactly_when_alone_and_without_indentation_beside_children() {
        let value = convert("<a>\n  <b> spaced\n text </b>\n  <c>x</c>\n</a>");
        assert_eq!(value, json!({"a": {"b": " spaced\n text ", "c": "x"}}));
        let value = convert("<p>Hello <i>big</i> world</p>");
        assert_eq!(value, json!({"p": {"i": "big", "#text": "Hello  world"}}));
    }

    #[test]
    fn entities_character_references_and_cdata_are_decoded() {
        let value = convert("<a>Universit&#233; &lt;x&gt; <![CDATA[<raw> & ]]></a>");
        assert_eq!(value, json!({"a": "Université <x> <raw> & "}));
    }

    #[test]
    fn declaration_comments_and_processing_instructions_are_skipped() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?xml-stylesheet href=\"x\"?>\n\
                   <!-- note --><a><!-- inner -->v</a>";
        assert_eq!(convert(xml), json!({"a": "v"}));
    }

    #[test]
    fn malformed_documents_are_reported_with_their_position() {
        assert_eq!(
            convert_error("<a><b></a>"),
            "xml is not well-formed at line 1 (byte 6): ill-formed document: expected `</b>`, but `</a>` was found"
        );
        assert_eq!(
            convert_error("<a>\n  <b>\n  </a>"),
            "xml is not well-formed at line 3 (byte 12): ill-formed document: expected `</b>`, but `</a>` was found"
        );
        assert_eq!(
            convert_error("<a>\n<b>\n"),
            "xml ends at line 3 (byte 8) inside an element"
        );
        assert_eq!(convert_error("  "), "xml document has no element");
        assert_eq!(
            convert_error("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>"),
            "xml declares encoding `iso-8859-1`; only utf-8 documents are read"
        );
        assert!(convert_error("<a>&nbsp;</a>").contains("nbsp"));
    }

    #[test]
    fn an_element_over_the_limit_is_skipped_to_its_end() {
        let xml = format!("<r><big>{}<x/></big><next>n</next></r>", "y".repeat(1000));
        let mut reader = reader(xml.as_bytes());
        let mut buffer = Vec::new();
        reader.read_event_into(&mut buffer).unwrap();
        buffer.clear();
        let start_position = reader.buffer_position();
        let Event::Start(start) = reader.read_event_into(&mut buffer).unwrap() else {
            panic!("expected <big>");
        };
        let start = start.into_owned();

        let result = element_to_json(&mut reader, &start, false, start_position, 100);
        assert_eq!(result, Err(ConversionError::Oversized { num_bytes: 1015 }));
        buffer.clear();
        let Event::Start(next) = reader.read_event_into(&mut buffer).unwrap() else {
            panic!("expected <next> after the skipped element");
        };
        assert_eq!(next.name().as_ref(), b"next");
    }

    #[test]
    fn accessors_match_local_names_and_flatten_repeats() {
        let value =
            convert(r#"<r><dc:id>a</dc:id><dc:id>b</dc:id><x:t type="k"> two  words </x:t></r>"#);
        let root = &value["r"];
        let ids: Vec<_> = children(root, "id").into_iter().filter_map(text).collect();
        assert_eq!(ids, ["a", "b"]);
        let title = child(root, "t").unwrap();
        assert_eq!(text(title).as_deref(), Some("two words"));
        assert_eq!(attribute(title, "type"), Some("k"));
        assert_eq!(path(&value, &["r", "t"]), Some(title));
        assert_eq!(local_name("a:b:c"), "c");
    }
}
