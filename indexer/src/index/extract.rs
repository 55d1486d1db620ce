//! The searchable fields of a raw record, read from its source's own JSON shape.
//!
//! Pure functions of `(source, data)`: the records index and the matcher read records the
//! same way. A field a record lacks stays empty; nothing here fails.

use serde_json::Value;

/// Key of an XML element's own text in JSON converted from XML (see the HAL and ORCID
/// readers).
const XML_TEXT_KEY: &str = "#text";

/// Years outside this range are typing errors of a source, not publication years.
const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i64> = 1000..=2200;

/// Three-letter language codes (ISO 639-2, both B and T forms) that sources use where
/// others use the two-letter ISO 639-1 code, mapped to the latter so that one facet value
/// means one language.
const LANGUAGE_ALPHA3_TO_ALPHA2: [(&str, &str); 22] = [
    ("eng", "en"),
    ("fre", "fr"),
    ("fra", "fr"),
    ("ger", "de"),
    ("deu", "de"),
    ("spa", "es"),
    ("ita", "it"),
    ("por", "pt"),
    ("dut", "nl"),
    ("nld", "nl"),
    ("rus", "ru"),
    ("chi", "zh"),
    ("zho", "zh"),
    ("jpn", "ja"),
    ("kor", "ko"),
    ("ara", "ar"),
    ("pol", "pl"),
    ("swe", "sv"),
    ("tur", "tr"),
    ("cat", "ca"),
    ("lat", "la"),
    ("gre", "el"),
];

/// The fields of a raw record that people search, filter and match on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFields {
    /// The main title, markup removed and whitespace collapsed.
    pub title: Option<String>,
    /// One name per author, in the record's order, as the source displays it.
    pub authors: Vec<String>,
    /// Other forms of the authors' names the record gives (OpenAlex's raw author names),
    /// when they differ from the displayed ones.
    pub author_name_variants: Vec<String>,
    /// Journal, proceedings, book series or repository.
    pub venue: Option<String>,
    /// Publication year.
    pub year: Option<i32>,
    /// The DOI, lowercase, without resolver prefix: `10.1017/jfm.2018.1024`.
    pub doi: Option<String>,
    /// Other identifiers of the work: OpenAlex, MAG, PubMed, arXiv, HAL ids, ISSN, ISBN.
    pub identifiers: Vec<String>,
    /// ORCID iDs of the record's authors, bare: `0000-0003-3086-4443`.
    pub orcids: Vec<String>,
    /// The work type as the source names it (`article`, `journal-article`, `ART`…).
    pub work_type: Option<String>,
    /// Language, as a two-letter code where the source's code maps to one.
    pub language: Option<String>,
}

impl RecordFields {
    /// Reads the fields of a record of `source` (`openalex`, `crossref`, `hal`, `orcid`,
    /// `dblp`, `acm`); for an unknown source, reads the common `title` and `year` keys.
    pub fn extract(source: &str, data: &Value) -> RecordFields {
        let mut fields = match source {
            "openalex" => openalex(data),
            "crossref" => crossref(data),
            "hal" if data.get("record").is_some() || data.get("TEI").is_some() => hal_xml(data),
            "hal" => hal_search(data),
            "orcid" => orcid(data),
            "dblp" | "acm" => dblp_acm(data),
            _ => generic(data),
        };
        fields.finish();
        fields
    }

    /// Deduplicates the lists and drops an identifier that repeats the DOI.
    fn finish(&mut self) {
        dedup_in_order(&mut self.authors);
        self.author_name_variants
            .retain(|variant| !self.authors.contains(variant));
        dedup_in_order(&mut self.author_name_variants);
        dedup_in_order(&mut self.orcids);
        if let Some(doi) = &self.doi {
            self.identifiers.retain(|identifier| identifier != doi);
        }
        dedup_in_order(&mut self.identifiers);
    }
}

/// Characters of a value quoted in a message about it; a longer value is cut.
const MAX_QUOTED_VALUE_NUM_CHARS: usize = 60;

/// Describes each value of a record of `source` that [`RecordFields::extract`] reads but
/// cannot use: a year that is not one, a DOI that is not one. The record is still stored
/// whole and found by its other fields; the descriptions name the field and the value,
/// for the import to report.
pub fn unusable_values(source: &str, data: &Value) -> Vec<String> {
    let (year_keys, doi_keys): (&[&str], &[&str]) = match source {
        "openalex" => (&["publication_year", "publication_date"], &["doi"]),
        "crossref" => (&[], &["DOI"]),
        "dblp" | "acm" => (&["year"], &[]),
        // HAL and ORCID dates are structured, several fields deep; an unusable one reads
        // as no date.
        "hal" | "orcid" => (&[], &[]),
        _ => (&["year"], &["doi", "DOI"]),
    };
    let mut problems = Vec::new();
    let given: Vec<(&str, &Value)> = year_keys
        .iter()
        .filter_map(|&key| Some((key, data.get(key).filter(|value| is_given(value))?)))
        .collect();
    if !given.is_empty()
        && given
            .iter()
            .all(|(_, value)| year_of(Some(value)).is_none())
    {
        let (key, value) = given[0];
        problems.push(format!(
            "`{key}` is {}, not a year from {} to {}: the record is stored without a year",
            quoted(value),
            PLAUSIBLE_YEARS.start(),
            PLAUSIBLE_YEARS.end()
        ));
    }
    for &key in doi_keys {
        let Some(value) = data.get(key).filter(|value| is_given(value)) else {
            continue;
        };
        if value.as_str().and_then(normalize_doi).is_none() {
            problems.push(format!(
                "`{key}` is {}, not a DOI (`10.` followed by a prefix and a suffix, or its \
                 `https://doi.org/` URL): the record is stored without a DOI",
                quoted(value)
            ));
        }
    }
    problems
}

/// Whether a record holds something in a field: not null, not blank text.
fn is_given(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.trim().is_empty(),
        _ => true,
    }
}

/// Returns a value as JSON for a message, cut to [`MAX_QUOTED_VALUE_NUM_CHARS`].
fn quoted(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_QUOTED_VALUE_NUM_CHARS {
        return format!("`{text}`");
    }
    let cut: String = text.chars().take(MAX_QUOTED_VALUE_NUM_CHARS).collect();
    format!("`{cut}…`")
}

/// OpenAlex works, 2022 (`host_venue`) and current (`primary_location`) schemas.
fn openalex(data: &Value) -> RecordFields {
    let mut fields = RecordFields {
        title: clean_title(data.get("title").or_else(|| data.get("display_name"))),
        venue: clean_text(path(data, &["primary_location", "source", "display_name"]))
            .or_else(|| clean_text(path(data, &["host_venue", "display_name"])))
            .or_else(|| {
                let other_venues =
                    array(data.get("locations")).filter_map(|location| location.get("source"));
                let other_venues = other_venues.chain(array(data.get("alternate_host_venues")));
                other_venues
                    .into_iter()
                    .find_map(|venue| clean_text(venue.get("display_name")))
            }),
        year: year_of(data.get("publication_year"))
            .or_else(|| year_of(data.get("publication_date"))),
        doi: data
            .get("doi")
            .and_then(Value::as_str)
            .and_then(normalize_doi),
        work_type: clean_text(data.get("type")),
        language: data
            .get("language")
            .and_then(Value::as_str)
            .and_then(normalize_language),
        ..RecordFields::default()
    };

    for authorship in array(data.get("authorships")) {
        let display_name = clean_text(path(authorship, &["author", "display_name"]));
        let raw_name = clean_text(authorship.get("raw_author_name"));
        match (display_name, raw_name) {
            (Some(display_name), raw_name) => {
                fields.authors.push(display_name);
                fields.author_name_variants.extend(raw_name);
            }
            (None, Some(raw_name)) => fields.authors.push(raw_name),
            (None, None) => {}
        }
        let orcid = path(authorship, &["author", "orcid"]).or_else(|| authorship.get("raw_orcid"));
        fields
            .orcids
            .extend(orcid.and_then(Value::as_str).and_then(normalize_orcid));
    }

    if let Some(Value::Object(ids)) = data.get("ids") {
        for (kind, id) in ids {
            if kind != "doi" {
                fields
                    .identifiers
                    .extend(id.as_str().and_then(strip_resolver));
            }
        }
    }
    fields
}

/// Crossref REST API work objects (`message` bodies).
fn crossref(data: &Value) -> RecordFields {
    let mut fields = RecordFields {
        title: clean_title(first(data.get("title"))),
        venue: clean_text(first(data.get("container-title"))),
        year: ["issued", "published", "published-print", "published-online"]
            .into_iter()
            .find_map(|key| year_of(path(data, &[key, "date-parts"]).and_then(first_date_part))),
        doi: data
            .get("DOI")
            .and_then(Value::as_str)
            .and_then(normalize_doi),
        work_type: clean_text(data.get("type")),
        language: data
            .get("language")
            .and_then(Value::as_str)
            .and_then(normalize_language),
        ..RecordFields::default()
    };

    for author in array(data.get("author")) {
        let given = clean_text(author.get("given"));
        let family = clean_text(author.get("family"));
        let name = match (given, family) {
            (Some(given), Some(family)) => Some(format!("{given} {family}")),
            (given, family) => family.or(given).or_else(|| clean_text(author.get("name"))),
        };
        fields.authors.extend(name);
        let orcid = author.get("ORCID").and_then(Value::as_str);
        fields.orcids.extend(orcid.and_then(normalize_orcid));
    }

    for key in ["ISSN", "ISBN"] {
        let values = array(data.get(key)).filter_map(Value::as_str);
        fields.identifiers.extend(values.filter_map(clean_text_str));
    }
    fields
}

/// HAL search API documents (Solr fields with type suffixes: `_s` string, `_i` integer).
fn hal_search(data: &Value) -> RecordFields {
    let produced_date = first(data.get("producedDate_s"));
    let mut fields = RecordFields {
        title: clean_title(first(data.get("title_s"))),
        authors: array_or_one(data.get("authFullName_s"))
            .filter_map(clean_text_value)
            .collect(),
        venue: ["journalTitle_s", "conferenceTitle_s", "bookTitle_s"]
            .into_iter()
            .find_map(|key| clean_text(first(data.get(key)))),
        year: year_of(data.get("producedDateY_i"))
            .or_else(|| year_of(data.get("publicationDateY_i")))
            .or_else(|| year_of(produced_date)),
        doi: first(data.get("doiId_s"))
            .and_then(Value::as_str)
            .and_then(normalize_doi),
        work_type: clean_text(first(data.get("docType_s"))),
        language: first(data.get("language_s"))
            .and_then(Value::as_str)
            .and_then(normalize_language),
        ..RecordFields::default()
    };
    let orcids = array_or_one(data.get("authORCIDIdExt_s")).filter_map(Value::as_str);
    fields.orcids.extend(orcids.filter_map(normalize_orcid));
    for key in ["halId_s", "arxivId_s", "pubmedId_s", "isbn_s", "issn_s"] {
        let values = array_or_one(data.get(key)).filter_map(Value::as_str);
        fields.identifiers.extend(values.filter_map(clean_text_str));
    }
    fields
}

/// HAL OAI-PMH records (Dublin Core, `oai_dc` or `base_dc`) and TEI documents, as JSON
/// converted from XML: element names keep their prefixes, so they are matched on local names.
fn hal_xml(data: &Value) -> RecordFields {
    if let Some(tei) = data.get("TEI") {
        return tei_record(tei);
    }
    let record = &data["record"];
    let Some(dc) = child_by_local_name(child_by_local_name(Some(record), "metadata"), "dc") else {
        return RecordFields::default();
    };
    let dc_values = |name: &str| -> Vec<String> {
        elements_by_local_name(dc, name)
            .into_iter()
            .filter_map(xml_text)
            .collect()
    };

    let identifiers = dc_values("identifier");
    let relations = dc_values("relation");
    let types = dc_values("type");
    let mut fields = RecordFields {
        title: dc_values("title")
            .into_iter()
            .next()
            .map(|title| strip_markup(&title)),
        authors: dc_values("creator"),
        venue: dublin_core_venue(&dc_values("source"))
            .or_else(|| dublin_core_venue(&base_dc_values(dc, "source"))),
        year: dc_values("date").first().and_then(|date| year_of_str(date)),
        doi: dublin_core_doi(&identifiers, &relations).or_else(|| {
            let sources = dc_values("source")
                .into_iter()
                .chain(base_dc_values(dc, "source"));
            sources
                .into_iter()
                .find_map(|citation| doi_in_text(&citation))
        }),
        work_type: types
            .iter()
            .find(|kind| !kind.starts_with("info:"))
            .or(types.first())
            .cloned(),
        language: dc_values("language")
            .first()
            .and_then(|code| normalize_language(code)),
        ..RecordFields::default()
    };

    let header_id = child_by_local_name(Some(record), "header")
        .and_then(|header| child_by_local_name(Some(header), "identifier"))
        .and_then(xml_text);
    let hal_ids = header_id
        .iter()
        .chain(&identifiers)
        .filter_map(|id| hal_id(id));
    fields.identifiers.extend(hal_ids);
    let arxiv = relations.iter().filter_map(|relation| {
        relation
            .strip_prefix("info:eu-repo/semantics/altIdentifier/arxiv/")
            .map(str::to_owned)
    });
    fields.identifiers.extend(arxiv);
    fields
}

/// A TEI document: the title and authors of its `titleStmt`.
fn tei_record(tei: &Value) -> RecordFields {
    let Some(title_statement) = find_by_local_name(tei, "titleStmt") else {
        return RecordFields::default();
    };
    let title = elements_by_local_name(title_statement, "title")
        .into_iter()
        .find_map(xml_text);
    let authors = elements_by_local_name(title_statement, "author")
        .into_iter()
        .filter_map(|author| {
            let person = child_by_local_name(Some(author), "persName")?;
            let part = |name| child_by_local_name(Some(person), name).and_then(xml_text);
            match (part("forename"), part("surname")) {
                (Some(forename), Some(surname)) => Some(format!("{forename} {surname}")),
                (forename, surname) => surname.or(forename),
            }
        })
        .collect();
    let language = find_by_local_name(tei, "language")
        .and_then(|language| language.get("@ident"))
        .and_then(Value::as_str)
        .and_then(normalize_language);
    RecordFields {
        title: title.map(|title| strip_markup(&title)),
        authors,
        language,
        ..RecordFields::default()
    }
}

/// ORCID work summaries as the ORCID reader stores them: main fields lifted out, the
/// profile's owner under `owner`.
fn orcid(data: &Value) -> RecordFields {
    let owner_orcid = path(data, &["owner", "orcid"]).or_else(|| data.get("orcid"));
    let mut fields = RecordFields {
        title: clean_title(data.get("title")).or_else(|| clean_title(data.get("translated-title"))),
        authors: clean_text(path(data, &["owner", "name"]))
            .into_iter()
            .collect(),
        venue: clean_text(data.get("journal-title")),
        year: year_of(data.get("publication-date")),
        doi: data
            .get("doi")
            .and_then(Value::as_str)
            .and_then(normalize_doi),
        orcids: owner_orcid
            .and_then(Value::as_str)
            .and_then(normalize_orcid)
            .into_iter()
            .collect(),
        work_type: clean_text(data.get("type")),
        ..RecordFields::default()
    };
    for external_id in array(data.get("external-ids")) {
        let value = external_id
            .get("normalized")
            .or_else(|| external_id.get("value"));
        if external_id.get("type").and_then(Value::as_str) == Some("doi") {
            fields.doi = fields
                .doi
                .or_else(|| value.and_then(Value::as_str).and_then(normalize_doi));
            continue;
        }
        fields
            .identifiers
            .extend(value.and_then(Value::as_str).and_then(clean_text_str));
    }
    fields
}

/// DBLP and ACM rows of the DBLP-ACM benchmark: `title`, `authors` (comma-separated),
/// `venue`, `year`.
fn dblp_acm(data: &Value) -> RecordFields {
    let authors = data
        .get("authors")
        .and_then(Value::as_str)
        .unwrap_or_default();
    RecordFields {
        title: clean_title(data.get("title")),
        authors: authors.split(',').filter_map(clean_text_str).collect(),
        venue: clean_text(data.get("venue")),
        year: year_of(data.get("year")),
        ..RecordFields::default()
    }
}

/// A record of a source this code does not know: the common keys only.
fn generic(data: &Value) -> RecordFields {
    RecordFields {
        title: clean_title(first(data.get("title"))),
        year: year_of(data.get("year")),
        doi: ["doi", "DOI"].into_iter().find_map(|key| {
            data.get(key)
                .and_then(Value::as_str)
                .and_then(normalize_doi)
        }),
        ..RecordFields::default()
    }
}

/// Returns the venue among Dublin Core `source` values: the first that is neither a URL
/// nor an ISSN; of a BASE source (`venue ; url ; citation`), the part before the first `;`.
fn dublin_core_venue(sources: &[String]) -> Option<String> {
    sources.iter().find_map(|source| {
        let head = source.split(" ; ").next()?.trim();
        let is_identifier = head.starts_with("http")
            || head.starts_with("ISSN")
            || head.starts_with("EISSN")
            || is_issn(head);
        (!is_identifier).then(|| head.trim_end_matches([',', ';', ' ']).to_owned())
    })
}

/// Returns the DOI a Dublin Core record gives: an identifier `DOI 10.…`, a bare `10.…` or
/// a resolver URL, else an `altIdentifier/doi/` relation.
fn dublin_core_doi(identifiers: &[String], relations: &[String]) -> Option<String> {
    let from_identifier = identifiers.iter().find_map(|identifier| {
        let value = identifier
            .strip_prefix("DOI")
            .map_or(identifier.as_str(), str::trim);
        let is_doi = value.starts_with("10.") || value.contains("doi.org/");
        is_doi.then(|| normalize_doi(value)).flatten()
    });
    from_identifier.or_else(|| {
        relations.iter().find_map(|relation| {
            relation
                .strip_prefix("info:eu-repo/semantics/altIdentifier/doi/")
                .and_then(normalize_doi)
        })
    })
}

/// Returns the values of the BASE extension elements (`base_dc:source`) named `name`.
fn base_dc_values(dc: &Value, name: &str) -> Vec<String> {
    let Value::Object(object) = dc else {
        return Vec::new();
    };
    object
        .iter()
        .filter(|(key, _)| key.strip_prefix("base_dc:") == Some(name))
        .flat_map(|(_, value)| array_or_one(Some(value)))
        .filter_map(xml_text)
        .collect()
}

/// Returns the first DOI quoted in a citation (`…, pp.1175-1184. <10.5047/eps.2013.05.019>`):
/// `10.`, four to nine digits, `/`, then everything up to a space or closing bracket.
fn doi_in_text(text: &str) -> Option<String> {
    let mut search_from = 0;
    while let Some(offset) = text[search_from..].find("10.") {
        let start = search_from + offset;
        search_from = start + 3;
        let is_word_start = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_prefix = &text[start + 3..];
        let num_digits = after_prefix
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        if !is_word_start
            || !(4..=9).contains(&num_digits)
            || !after_prefix[num_digits..].starts_with('/')
        {
            continue;
        }
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '>' | '<' | '〉' | '&' | '"'))
            .map_or(text.len(), |end| start + end);
        let doi = text[start..end].trim_end_matches(['.', ',', ';', ')']);
        if doi.len() > num_digits + 4 {
            return normalize_doi(doi);
        }
    }
    None
}

/// Returns the HAL id (`hal-00830421`) in an OAI identifier, URL or bare id, without its
/// version suffix.
fn hal_id(candidate: &str) -> Option<String> {
    let last = candidate
        .trim()
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()?;
    let (portal, rest) = last.rsplit_once('-')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let is_hal_id =
        !portal.is_empty() && digits.len() == 8 && portal.chars().all(char::is_alphanumeric);
    is_hal_id.then(|| format!("{}-{digits}", portal.to_lowercase()))
}

/// Returns whether `text` is an ISSN (`1539-3755`, `2050-084X`).
fn is_issn(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 9
        && bytes[4] == b'-'
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[5..8].iter().all(u8::is_ascii_digit)
        && (bytes[8].is_ascii_digit() || bytes[8] == b'X' || bytes[8] == b'x')
}

/// Returns a DOI lowercase, without `doi:` or a resolver URL in front; `None` when what is
/// left does not start with `10.`.
pub fn normalize_doi(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let lowercase = trimmed.to_lowercase();
    let without_prefix = super::schema::DOI_PREFIXES
        .into_iter()
        .find_map(|prefix| lowercase.strip_prefix(prefix))
        .unwrap_or(&lowercase)
        .trim();
    without_prefix
        .starts_with("10.")
        .then(|| without_prefix.to_owned())
}

/// Checks the `0000-0002-1825-0097` form and the ISO 7064 MOD 11-2 check character.
pub fn is_valid_orcid(orcid: &str) -> bool {
    let characters: Vec<char> = orcid.chars().collect();
    let has_form = characters.len() == 19
        && characters
            .iter()
            .enumerate()
            .all(|(index, &character)| match index {
                4 | 9 | 14 => character == '-',
                18 => character.is_ascii_digit() || character == 'X',
                _ => character.is_ascii_digit(),
            });
    if !has_form {
        return false;
    }
    let digits = characters
        .iter()
        .filter_map(|character| character.to_digit(10));
    let total = digits.take(15).fold(0, |total, digit| (total + digit) * 2);
    let check = (12 - total % 11) % 11;
    let expected = if check == 10 {
        'X'
    } else {
        char::from_digit(check, 10).unwrap_or('?')
    };
    characters[18] == expected
}

/// Returns a bare ORCID iD (`0000-0003-3086-4443`) from an iD or an `orcid.org` URL;
/// `None` when the text has no iD's shape or a wrong check character: such an iD names no
/// one, so it is neither evidence that a record is a person's nor that it is another's.
pub fn normalize_orcid(text: &str) -> Option<String> {
    let candidate = text
        .trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()?
        .to_uppercase();
    let groups: Vec<&str> = candidate.split('-').collect();
    let is_orcid = groups.len() == 4
        && groups.iter().all(|group| group.len() == 4)
        && groups
            .iter()
            .flat_map(|group| group.chars())
            .enumerate()
            .all(|(index, character)| {
                character.is_ascii_digit() || (index == 15 && character == 'X')
            });
    (is_orcid && is_valid_orcid(&candidate)).then_some(candidate)
}

/// Returns a language code lowercase, as two letters where a three-letter code maps to
/// one; `None` for an empty code.
fn normalize_language(code: &str) -> Option<String> {
    let code = code.trim().to_lowercase();
    if code.is_empty() {
        return None;
    }
    let alpha2 = LANGUAGE_ALPHA3_TO_ALPHA2
        .iter()
        .find(|(alpha3, _)| *alpha3 == code);
    Some(alpha2.map_or(code, |(_, alpha2)| (*alpha2).to_owned()))
}

/// Returns an identifier without the resolver part of its URL: `W2054094521` from
/// `https://openalex.org/W2054094521`.
fn strip_resolver(text: &str) -> Option<String> {
    let trimmed = text.trim().trim_end_matches('/');
    let is_url = trimmed.starts_with("http://") || trimmed.starts_with("https://");
    let identifier = if is_url {
        trimmed.rsplit('/').next()?
    } else {
        trimmed
    };
    clean_text_str(identifier)
}

/// Returns the year of a number, a numeric string or a date string (`2020-11-02`).
fn year_of(value: Option<&Value>) -> Option<i32> {
    match value? {
        Value::Number(number) => number
            .as_i64()
            .filter(|year| PLAUSIBLE_YEARS.contains(year)),
        Value::String(text) => return year_of_str(text),
        Value::Array(values) => return year_of(values.first()),
        Value::Object(_) => return year_of(value?.get(XML_TEXT_KEY)),
        _ => None,
    }
    .and_then(|year| i32::try_from(year).ok())
}

/// Returns the year a date string starts with.
fn year_of_str(text: &str) -> Option<i32> {
    let digits: String = text
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let year: i64 = digits
        .get(..4)
        .filter(|_| digits.len() == 4)?
        .parse()
        .ok()?;
    PLAUSIBLE_YEARS
        .contains(&year)
        .then(|| i32::try_from(year).ok())
        .flatten()
}

/// Returns the first part of Crossref's `date-parts` (`[[2012, 3, 21]]` → `2012`).
fn first_date_part(date_parts: &Value) -> Option<&Value> {
    date_parts.get(0)?.get(0).filter(|year| !year.is_null())
}

/// Returns a title with markup removed and whitespace collapsed.
fn clean_title(value: Option<&Value>) -> Option<String> {
    clean_text(value)
        .map(|title| strip_markup(&title))
        .filter(|title| !title.is_empty())
}

/// Returns the text of a string value (or of converted XML) with whitespace collapsed.
fn clean_text(value: Option<&Value>) -> Option<String> {
    value.and_then(clean_text_value)
}

fn clean_text_value(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => clean_text_str(text),
        Value::Object(_) => value.get(XML_TEXT_KEY).and_then(clean_text_value),
        _ => None,
    }
}

/// Returns `text` trimmed, its whitespace runs made single spaces and spaces before
/// commas removed (XML converted from pretty-printed sources has `Pereira\n, \nRodrigo`);
/// `None` when nothing is left.
fn clean_text_str(text: &str) -> Option<String> {
    let mut cleaned = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !cleaned.is_empty() && !word.starts_with(',') {
            cleaned.push(' ');
        }
        cleaned.push_str(word);
    }
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Removes HTML and JATS tags (`<i>`, `</jats:sub>`, `<br/>`) and collapses the spaces they
/// leave; a `<` that does not open a tag stays (`a < b`).
fn strip_markup(text: &str) -> String {
    let mut stripped = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        stripped.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let tag_end = after.find('>').filter(|&end| is_tag(&after[..end]));
        match tag_end {
            Some(end) => rest = &after[end + 1..],
            None => {
                stripped.push('<');
                rest = after;
            }
        }
    }
    stripped.push_str(rest);
    clean_text_str(&stripped).unwrap_or_default()
}

/// Returns whether the text between `<` and `>` is a tag: a name of ASCII letters, digits,
/// `:` or `-`, optionally closing (`/i`), self-closing (`br/`) or with attributes.
fn is_tag(inside: &str) -> bool {
    let name = inside.strip_prefix('/').unwrap_or(inside);
    let name = name.split([' ', '/']).next().unwrap_or_default();
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-')
}

/// Returns the text of an element converted from XML: its string, or its `#text`.
fn xml_text(value: &Value) -> Option<String> {
    clean_text_value(value)
}

/// Returns the value at `keys` below `value`.
fn path<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(value, |current, key| current.get(key))
}

/// Returns the elements of an array value; nothing for any other value.
fn array(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

/// Returns the elements of an array value, or the value itself when it is not an array.
fn array_or_one(value: Option<&Value>) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Some(Value::Array(values)) => Box::new(values.iter()),
        Some(Value::Null) | None => Box::new(std::iter::empty()),
        Some(other) => Box::new(std::iter::once(other)),
    }
}

/// Returns the first element of an array value, or the value itself.
fn first(value: Option<&Value>) -> Option<&Value> {
    match value? {
        Value::Array(values) => values.first(),
        Value::Null => None,
        other => Some(other),
    }
}

/// Returns the local part of an XML name: `title` of `dc:title`.
fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Returns the first child element of `parent` whose local name is `name`.
fn child_by_local_name<'a>(parent: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    let Value::Object(object) = parent? else {
        return None;
    };
    let (_, value) = object
        .iter()
        .find(|(key, _)| !key.starts_with('@') && local_name(key) == name)?;
    first(Some(value))
}

/// Returns every child element of `parent` whose local name is `name`, repeated elements
/// (a JSON array) flattened, in document order.
fn elements_by_local_name<'a>(parent: &'a Value, name: &str) -> Vec<&'a Value> {
    let Value::Object(object) = parent else {
        return Vec::new();
    };
    object
        .iter()
        .filter(|(key, _)| !key.starts_with('@') && local_name(key) == name)
        .flat_map(|(_, value)| array_or_one(Some(value)))
        .collect()
}

/// Returns the first element named `name` (local name) anywhere below `value`, depth first.
fn find_by_local_name<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    match value {
        Value::Object(object) => object.iter().find_map(|(key, child)| {
            if !key.starts_with('@') && local_name(key) == name {
                first(Some(child))
            } else {
                find_by_local_name(child, name)
            }
        }),
        Value::Array(values) => values
            .iter()
            .find_map(|child| find_by_local_name(child, name)),
        _ => None,
    }
}

/// Removes repeated values, keeping the first occurrence of each.
fn dedup_in_order(values: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::with_capacity(values.len());
    values.retain(|value| seen.insert(value.clone()));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_that_cannot_be_used_are_described() {
        let problems = unusable_values("dblp", &json!({"title": "A", "year": "circa 1999"}));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("`year` is `\"circa 1999\"`"),
            "{problems:?}"
        );
        // A year written as a number, as a date, or absent is fine.
        for data in [
            json!({"year": 1999}),
            json!({"year": "1999-05-01"}),
            json!({"year": ""}),
            json!({"year": null}),
            json!({}),
        ] {
            assert!(unusable_values("acm", &data).is_empty(), "{data}");
        }
        // OpenAlex: either the year or the date gives one.
        assert!(unusable_values(
            "openalex",
            &json!({"publication_year": "n.d.", "publication_date": "2020-01-02"})
        )
        .is_empty());
        let problems = unusable_values(
            "openalex",
            &json!({"publication_year": 20201, "doi": "not a doi"}),
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`publication_year` is `20201`"));
        assert!(problems[1].contains("`doi` is `\"not a doi\"`"));
        assert!(unusable_values("crossref", &json!({"DOI": "10.1000/x"})).is_empty());
        let long = "x".repeat(500);
        let problems = unusable_values("other", &json!({ "doi": long }));
        assert!(problems[0].len() < 300, "{problems:?}");
        assert!(problems[0].contains('…'));
    }

    #[test]
    fn openalex_current_schema_prefers_primary_location_and_keeps_raw_names() {
        let data = json!({
            "id": "https://openalex.org/W1",
            "title": "Cash <i>transfers</i>",
            "publication_year": 2020,
            "doi": "https://doi.org/10.14264/UQL.2020.791",
            "ids": {
                "openalex": "https://openalex.org/W1",
                "doi": "https://doi.org/10.14264/uql.2020.791",
                "mag": "303"
            },
            "language": "en",
            "type": "dissertation",
            "primary_location": {"source": {"display_name": "The University of Queensland"}},
            "authorships": [{
                "author": {
                    "display_name": "Patricia Collingwood",
                    "orcid": "https://orcid.org/0000-0003-3086-4443"
                },
                "raw_author_name": "Patricia Maree Collingwood"
            }]
        });
        let fields = RecordFields::extract("openalex", &data);
        assert_eq!(fields.title.as_deref(), Some("Cash transfers"));
        assert_eq!(fields.authors, ["Patricia Collingwood"]);
        assert_eq!(fields.author_name_variants, ["Patricia Maree Collingwood"]);
        assert_eq!(
            fields.venue.as_deref(),
            Some("The University of Queensland")
        );
        assert_eq!(fields.year, Some(2020));
        assert_eq!(fields.doi.as_deref(), Some("10.14264/uql.2020.791"));
        assert_eq!(fields.identifiers, ["W1", "303"]);
        assert_eq!(fields.orcids, ["0000-0003-3086-4443"]);
        assert_eq!(fields.language.as_deref(), Some("en"));
    }

    #[test]
    fn crossref_joins_given_and_family_names_and_skips_null_dates() {
        let data = json!({
            "DOI": "10.7554/eLife.00001",
            "title": ["A title"],
            "container-title": ["eLife"],
            "issued": {"date-parts": [[null]]},
            "published": {"date-parts": [[2012, 3, 21]]},
            "author": [
                {
                    "given": "Martial",
                    "family": "Sankar",
                    "ORCID": "http://orcid.org/0000-0002-1694-233x"
                },
                {"name": "The Consortium"}
            ],
            "ISSN": ["2050-084X"]
        });
        let fields = RecordFields::extract("crossref", &data);
        assert_eq!(fields.authors, ["Martial Sankar", "The Consortium"]);
        assert_eq!(fields.orcids, ["0000-0002-1694-233X"]);
        assert_eq!(fields.year, Some(2012));
        assert_eq!(fields.doi.as_deref(), Some("10.7554/elife.00001"));
        assert_eq!(fields.identifiers, ["2050-084X"]);
    }

    #[test]
    fn dublin_core_converted_from_xml_yields_doi_venue_and_hal_id() {
        let data = json!({"record": {
            "header": {"identifier": "oai:HAL:hal-00830421v1"},
            "metadata": {"oai_dc:dc": {
                "dc:title": {"@xml:lang": "en", "#text": "Wavelet methods"},
                "dc:creator": ["Pereira\n, \nRodrigo M.", "Farge\n, \nMarie"],
                "dc:source": [
                    "ISSN\n\n1539-3755",
                    "Physical Review E",
                    "https://hal.archives-ouvertes.fr/hal-00830421"
                ],
                "dc:identifier": ["hal-00830421", "DOI\n\n10.1103/PhysRevE.87.033017"],
                "dc:relation": "info:eu-repo/semantics/altIdentifier/arxiv/1303.0980",
                "dc:language": "eng",
                "dc:type": ["info:eu-repo/semantics/article", "Journal articles"],
                "dc:date": "2013"
            }}
        }});
        let fields = RecordFields::extract("hal", &data);
        assert_eq!(fields.title.as_deref(), Some("Wavelet methods"));
        assert_eq!(fields.authors, ["Pereira, Rodrigo M.", "Farge, Marie"]);
        assert_eq!(fields.venue.as_deref(), Some("Physical Review E"));
        assert_eq!(fields.doi.as_deref(), Some("10.1103/physreve.87.033017"));
        assert_eq!(fields.identifiers, ["hal-00830421", "1303.0980"]);
        assert_eq!(fields.language.as_deref(), Some("en"));
        assert_eq!(fields.work_type.as_deref(), Some("Journal articles"));
        assert_eq!(fields.year, Some(2013));
    }

    #[test]
    fn a_doi_quoted_in_a_citation_is_found() {
        let citation =
            "Earth, Planets and Space, 2013, 65 (10), pp.1175-1184. <10.5047/eps.2013.05.019>";
        assert_eq!(
            doi_in_text(citation).as_deref(),
            Some("10.5047/eps.2013.05.019")
        );
        assert_eq!(doi_in_text("volume 10.5, 2013"), None);
    }

    #[test]
    fn dblp_acm_authors_are_comma_separated() {
        let data = json!({
            "id": "1",
            "title": "T",
            "authors": "Viswanath Poosala, Yannis E. Ioannidis",
            "venue": "VLDB",
            "year": "1996"
        });
        let fields = RecordFields::extract("dblp", &data);
        assert_eq!(fields.authors, ["Viswanath Poosala", "Yannis E. Ioannidis"]);
        assert_eq!(fields.year, Some(1996));
    }

    #[test]
    fn markup_is_removed_but_a_lone_less_than_sign_stays() {
        assert_eq!(
            strip_markup("H<sub>2</sub>O and <jats:italic>x</jats:italic>"),
            "H2O and x"
        );
        assert_eq!(strip_markup("a < b > c"), "a < b > c");
    }

    #[test]
    fn identifiers_are_normalized() {
        assert_eq!(normalize_doi("DOI:10.1/ABC").as_deref(), Some("10.1/abc"));
        assert_eq!(normalize_doi("not a doi"), None);
        assert_eq!(
            normalize_orcid("https://orcid.org/0000-0001-5078-5000/").as_deref(),
            Some("0000-0001-5078-5000")
        );
        assert_eq!(normalize_orcid("0000-000X-5078-5000"), None);
        assert_eq!(
            normalize_orcid("0000-0001-5078-5001"),
            None,
            "a wrong check character"
        );
        assert_eq!(
            normalize_orcid("0000-0002-1694-233x").as_deref(),
            Some("0000-0002-1694-233X")
        );
        assert_eq!(
            hal_id("https://hal.archives-ouvertes.fr/hal-01062339").as_deref(),
            Some("hal-01062339")
        );
        assert_eq!(normalize_language("fre").as_deref(), Some("fr"));
    }
}
