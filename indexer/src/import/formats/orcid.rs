//! ORCID record summaries (XML, v3.0 schema, one person a file, as in ORCID's public data
//! file): one profile with its names, identifiers and affiliations, and its work summaries as
//! records of source `orcid`, each naming its owner.

use std::io;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::input::{self, DocumentError};
use super::json_records::{self, reject_file};
use super::xml_json::{self, attribute, child, children, local_name, text};
use super::ReadOptions;
use crate::import::record::{
    Location, ParseOutcome, Parsed, Rejected, SourceAffiliation, SourceProfile, SourceRecord,
};
use crate::index::extract::is_valid_orcid;

/// Source name of ORCID work summaries.
pub(crate) const SOURCE: &str = "orcid";

/// The `activities-summary` sections that hold affiliations, each of `<kind>-summary` items.
const AFFILIATION_SECTIONS: [&str; 7] = [
    "employments",
    "educations",
    "qualifications",
    "invited-positions",
    "distinctions",
    "memberships",
    "services",
];

/// Streams the profile of an ORCID record summary file, then rejects of its unusable works.
///
/// # Errors
/// Fails when the file cannot be read.
pub(crate) fn read(
    path: &Path,
    options: ReadOptions,
) -> io::Result<Box<dyn Iterator<Item = ParseOutcome> + Send>> {
    let bytes = match input::read_document(path, options.max_document_num_bytes) {
        Ok(bytes) => bytes,
        Err(DocumentError::Io(error)) => return Err(error),
        Err(DocumentError::TooLarge(reason)) => return Ok(reject_file(path, reason)),
    };
    let document = match xml_json::document_to_json(&bytes) {
        Ok(document) => document,
        Err(error) => {
            return Ok(reject_file(
                path,
                error.reason(options.max_record_num_bytes),
            ))
        }
    };
    drop(bytes);
    let outcomes = match read_profile(document, path, options.max_record_num_bytes) {
        Ok(outcomes) => outcomes,
        Err(reason) => return Ok(reject_file(path, reason)),
    };
    Ok(Box::new(outcomes.into_iter()))
}

/// Reads the converted document: the profile, then one reject per unusable work summary.
fn read_profile(
    document: Value,
    path: &Path,
    max_record_num_bytes: usize,
) -> Result<Vec<ParseOutcome>, String> {
    let (root_name, record) = document
        .as_object()
        .and_then(|root| root.iter().next())
        .ok_or_else(|| "xml document has no element".to_string())?;
    match local_name(root_name) {
        "record" => {}
        "error" => return Err(api_error_reason(record)),
        _ => {
            return Err(format!(
                "xml root element `{root_name}` is not an orcid record"
            ))
        }
    }

    let orcid = orcid_of(record)?;
    let person = child(record, "person");
    let name = person.and_then(|person| child(person, "name"));
    let name_part = |part: &str| name.and_then(|name| child(name, part)).and_then(text);
    let given_names = name_part("given-names");
    let family_name = name_part("family-name");
    let display_name = name_part("credit-name")
        .or_else(|| join_names(given_names.as_deref(), family_name.as_deref()))
        .unwrap_or_else(|| orcid.clone());
    let owner = json!({
        "orcid": orcid,
        "name": display_name,
        "given-names": given_names,
        "family-name": family_name,
    });

    let mut outcomes = Vec::new();
    let mut works = Vec::new();
    for (index, summary) in work_summaries(record).into_iter().enumerate() {
        let work = work_record(summary, &orcid, &owner).and_then(|work| {
            let num_bytes = json_records::json_num_bytes(&work.data);
            if num_bytes > max_record_num_bytes as u64 {
                return Err(format!(
                    "record is {num_bytes} bytes, over the limit of {max_record_num_bytes}"
                ));
            }
            Ok(work)
        });
        match work {
            Ok(work) => works.push(work),
            Err(reason) => {
                let location = Location::record(path, index as u64 + 1);
                outcomes.push(Err(Rejected { location, reason }));
            }
        }
    }

    let profile = SourceProfile {
        other_names: other_names(person),
        external_ids: external_ids(person),
        affiliations: affiliations(record),
        orcid,
        display_name,
        given_names,
        family_name,
        works,
        data: Value::Null,
    };
    if let Some(reason) = json_records::nul_character_reason(&document) {
        return Err(reason);
    }
    let profile = SourceProfile {
        data: document,
        ..profile
    };
    outcomes.insert(
        0,
        Ok(Parsed::Profile(Box::new(profile), Location::file(path))),
    );
    Ok(outcomes)
}

/// Returns the reason for a file that is an ORCID API error (a locked or deprecated record).
fn api_error_reason(error: &Value) -> String {
    let field = |name: &str| child(error, name).and_then(text).unwrap_or_default();
    let code = field("response-code");
    let message = [field("user-message"), field("developer-message")]
        .into_iter()
        .find(|message| !message.is_empty())
        .unwrap_or_default();
    format!("document is an orcid error `{code}` instead of a record: `{message}`")
}

/// Returns the record's ORCID iD after checking its form and check digit.
fn orcid_of(record: &Value) -> Result<String, String> {
    let from_identifier = xml_json::path(record, &["orcid-identifier", "path"]).and_then(text);
    let from_attribute = attribute(record, "path").map(|path| path.trim_matches('/').to_string());
    let Some(orcid) = from_identifier.or(from_attribute) else {
        return Err("record has no `orcid-identifier/path` element".to_string());
    };
    if !is_valid_orcid(&orcid) {
        return Err(format!(
            "`orcid-identifier/path` `{orcid}` is not a valid orcid id"
        ));
    }
    Ok(orcid)
}

fn join_names(given_names: Option<&str>, family_name: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = given_names.into_iter().chain(family_name).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn other_names(person: Option<&Value>) -> Vec<String> {
    let Some(section) = person.and_then(|person| child(person, "other-names")) else {
        return Vec::new();
    };
    children(section, "other-name")
        .into_iter()
        .filter_map(|other_name| child(other_name, "content").and_then(text))
        .collect()
}

/// Returns the person's identifiers as (type, value), types normalised (`scopus`,
/// `researcherid`), and public e-mail addresses as `email`.
fn external_ids(person: Option<&Value>) -> Vec<(String, String)> {
    let Some(person) = person else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    if let Some(section) = child(person, "external-identifiers") {
        for identifier in children(section, "external-identifier") {
            let id_type = child(identifier, "external-id-type").and_then(text);
            let value = child(identifier, "external-id-value").and_then(text);
            if let (Some(id_type), Some(value)) = (id_type, value) {
                ids.push((normalize_id_type(&id_type), value));
            }
        }
    }
    if let Some(section) = child(person, "emails") {
        for email in children(section, "email") {
            if let Some(address) = child(email, "email").and_then(text) {
                ids.push(("email".to_string(), address));
            }
        }
    }
    ids
}

/// Names an identifier type the way the rest of the system does: `Scopus Author ID` is
/// `scopus`, `ResearcherID` and `Researcher ID` are `researcherid`, others are lowercased
/// with spaces as dashes (`loop-profile`).
fn normalize_id_type(id_type: &str) -> String {
    let compact: String = id_type.to_lowercase().split_whitespace().collect();
    match compact.as_str() {
        "scopusauthorid" => "scopus".to_string(),
        "researcherid" => "researcherid".to_string(),
        _ => id_type
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// Returns the affiliations, current ones first, then by end and start year, newest first.
fn affiliations(record: &Value) -> Vec<SourceAffiliation> {
    let Some(activities) = child(record, "activities-summary") else {
        return Vec::new();
    };
    let mut affiliations = Vec::new();
    for section_name in AFFILIATION_SECTIONS {
        let Some(section) = child(activities, section_name) else {
            continue;
        };
        for group in children(section, "affiliation-group") {
            let Some(group) = group.as_object() else {
                continue;
            };
            for (key, summaries) in group {
                let Some(kind) = local_name(key).strip_suffix("-summary") else {
                    continue;
                };
                for summary in xml_json::as_list(Some(summaries)) {
                    if let Some(affiliation) = affiliation(kind, summary) {
                        affiliations.push(affiliation);
                    }
                }
            }
        }
    }
    affiliations.sort_by_key(|affiliation| std::cmp::Reverse(recency(affiliation)));
    affiliations
}

fn affiliation(kind: &str, summary: &Value) -> Option<SourceAffiliation> {
    let organization = xml_json::path(summary, &["organization", "name"]).and_then(text)?;
    let year = |date: &str| {
        let year = xml_json::path(summary, &[date, "year"]).and_then(text)?;
        year.parse::<i32>().ok()
    };
    Some(SourceAffiliation {
        kind: kind.to_string(),
        organization,
        department: child(summary, "department-name").and_then(text),
        start_year: year("start-date"),
        end_year: year("end-date"),
    })
}

/// Sort key of an affiliation: ongoing ones (a start, no end) are the most recent, undated
/// ones the least.
fn recency(affiliation: &SourceAffiliation) -> (i32, i32) {
    let end = match (affiliation.start_year, affiliation.end_year) {
        (_, Some(end_year)) => end_year,
        (Some(_), None) => i32::MAX,
        (None, None) => i32::MIN,
    };
    (end, affiliation.start_year.unwrap_or(i32::MIN))
}

fn work_summaries(record: &Value) -> Vec<&Value> {
    let works = xml_json::path(record, &["activities-summary", "works"]);
    let groups = works
        .map(|works| children(works, "group"))
        .unwrap_or_default();
    groups
        .into_iter()
        .flat_map(|group| children(group, "work-summary"))
        .collect()
}

/// Turns a work summary into a record keyed `{orcid}:{put-code}`, with its main fields
/// lifted out, its owner, and the summary itself under `work-summary`.
fn work_record(summary: &Value, orcid: &str, owner: &Value) -> Result<SourceRecord, String> {
    let Some(put_code) = attribute(summary, "put-code").map(str::trim) else {
        return Err("work summary has no `put-code` attribute".to_string());
    };
    if put_code.is_empty() {
        return Err("work summary has an empty `put-code` attribute".to_string());
    }
    let field = |names: &[&str]| xml_json::path(summary, names).and_then(text);
    let external_ids = work_external_ids(summary);
    let doi = external_ids
        .iter()
        .find(|id| id["type"] == "doi" && id["relationship"] != "part-of")
        .and_then(|id| id["value"].as_str())
        .map(str::to_lowercase);

    let mut data = Map::new();
    data.insert("orcid".into(), json!(orcid));
    data.insert("put-code".into(), json!(put_code));
    data.insert("owner".into(), owner.clone());
    data.insert("title".into(), json!(field(&["title", "title"])));
    data.insert("subtitle".into(), json!(field(&["title", "subtitle"])));
    data.insert(
        "translated-title".into(),
        json!(field(&["title", "translated-title"])),
    );
    data.insert("type".into(), json!(field(&["type"])));
    data.insert("publication-date".into(), json!(publication_date(summary)));
    data.insert("journal-title".into(), json!(field(&["journal-title"])));
    data.insert("url".into(), json!(field(&["url"])));
    data.insert("doi".into(), json!(doi));
    data.insert("external-ids".into(), Value::Array(external_ids));
    data.insert("work-summary".into(), summary.clone());
    let source_id = format!("{orcid}:{put_code}");
    json_records::new_record(SOURCE, source_id, Value::Object(data))
}

fn work_external_ids(summary: &Value) -> Vec<Value> {
    let Some(section) = child(summary, "external-ids") else {
        return Vec::new();
    };
    children(section, "external-id")
        .into_iter()
        .map(|id| {
            let field = |name: &str| child(id, name).and_then(text);
            json!({
                "type": field("external-id-type"),
                "value": field("external-id-value"),
                "normalized": field("external-id-normalized"),
                "url": field("external-id-url"),
                "relationship": field("external-id-relationship"),
            })
        })
        .collect()
}

/// Returns the publication date as far as it is given: `2020`, `2020-11` or `2020-11-02`.
fn publication_date(summary: &Value) -> Option<String> {
    let date = child(summary, "publication-date")?;
    let parts: Vec<String> = ["year", "month", "day"]
        .into_iter()
        .map_while(|part| child(date, part).and_then(text))
        .collect();
    (!parts.is_empty()).then(|| parts.join("-"))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::describe;
    use super::*;

    const HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<record:record xmlns:record="r" xmlns:common="c" xmlns:person="p" xmlns:personal-details="d"
    xmlns:activities="a" xmlns:work="w" xmlns:employment="e" xmlns:education="ed"
    xmlns:other-name="o" xmlns:external-identifier="x" path="/0000-0002-1825-0097">
  <common:orcid-identifier>
    <common:path>0000-0002-1825-0097</common:path>
  </common:orcid-identifier>"#;

    fn work(put_code: &str, title: &str) -> String {
        format!(
            r#"<activities:group><work:work-summary put-code="{put_code}">
              <work:title><common:title>{title}</common:title></work:title>
              <common:external-ids><common:external-id>
                <common:external-id-type>doi</common:external-id-type>
                <common:external-id-value>10.1/ABC</common:external-id-value>
                <common:external-id-relationship>self</common:external-id-relationship>
              </common:external-id></common:external-ids>
              <work:type>journal-article</work:type>
              <common:publication-date>
                <common:year>2020</common:year><common:month>11</common:month>
              </common:publication-date>
              <work:journal-title>PeerJ</work:journal-title>
            </work:work-summary></activities:group>"#
        )
    }

    fn read_xml(xml: &str) -> Vec<ParseOutcome> {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("0000-0002-1825-0097.xml");
        std::fs::write(&path, xml).unwrap();
        read(&path, ReadOptions::default()).unwrap().collect()
    }

    fn full_record() -> String {
        format!(
            r#"{HEADER}
  <person:person>
    <person:name><personal-details:given-names>Josiah</personal-details:given-names>
      <personal-details:family-name>Carberry</personal-details:family-name></person:name>
    <other-name:other-names><other-name:other-name>
      <other-name:content>J. S. Carberry</other-name:content>
    </other-name:other-name></other-name:other-names>
    <external-identifier:external-identifiers><external-identifier:external-identifier>
      <common:external-id-type>Scopus Author ID</common:external-id-type>
      <common:external-id-value>123</common:external-id-value>
    </external-identifier:external-identifier></external-identifier:external-identifiers>
  </person:person>
  <activities:activities-summary>
    <activities:educations><activities:affiliation-group><education:education-summary put-code="1">
      <common:start-date><common:year>1990</common:year></common:start-date>
      <common:end-date><common:year>1995</common:year></common:end-date>
      <common:organization><common:name>Brown University</common:name></common:organization>
    </education:education-summary></activities:affiliation-group></activities:educations>
    <activities:employments><activities:affiliation-group>
    <employment:employment-summary put-code="2">
      <common:department-name>Psychoceramics</common:department-name>
      <common:start-date><common:year>2000</common:year></common:start-date>
      <common:organization><common:name>Wesleyan University</common:name></common:organization>
    </employment:employment-summary></activities:affiliation-group></activities:employments>
    <activities:works>{}{}<activities:group><work:work-summary>
      <work:title><common:title>No code</common:title></work:title>
    </work:work-summary></activities:group></activities:works>
  </activities:activities-summary>
</record:record>"#,
            work("11", "Cracked pots"),
            work("12", "Glazes"),
        )
    }

    #[test]
    fn a_record_becomes_a_profile_with_its_works() {
        let outcomes = read_xml(&full_record());
        assert_eq!(
            outcomes.iter().map(describe).collect::<Vec<_>>(),
            [
                "file: profile 0000-0002-1825-0097",
                "record 3: rejected: work summary has no `put-code` attribute",
            ]
        );
        let Ok(Parsed::Profile(profile, _)) = &outcomes[0] else {
            panic!("{outcomes:?}")
        };
        assert_eq!(profile.display_name, "Josiah Carberry");
        assert_eq!(profile.given_names.as_deref(), Some("Josiah"));
        assert_eq!(profile.other_names, ["J. S. Carberry"]);
        assert_eq!(
            profile.external_ids,
            [("scopus".to_string(), "123".to_string())]
        );
        let kinds: Vec<_> = profile
            .affiliations
            .iter()
            .map(|a| (a.kind.as_str(), a.end_year))
            .collect();
        assert_eq!(kinds, [("employment", None), ("education", Some(1995))]);
        assert_eq!(
            profile.affiliations[0].department.as_deref(),
            Some("Psychoceramics")
        );

        let ids: Vec<_> = profile
            .works
            .iter()
            .map(|work| work.source_id.as_str())
            .collect();
        assert_eq!(ids, ["0000-0002-1825-0097:11", "0000-0002-1825-0097:12"]);
        let work = &profile.works[0];
        assert_eq!(work.source, "orcid");
        assert_eq!(work.data["title"], "Cracked pots");
        assert_eq!(work.data["doi"], "10.1/abc");
        assert_eq!(work.data["publication-date"], "2020-11");
        assert_eq!(work.data["journal-title"], "PeerJ");
        assert_eq!(work.data["owner"]["name"], "Josiah Carberry");
        assert_eq!(work.data["work-summary"]["@put-code"], "11");
        assert!(profile.data["record:record"]["person:person"].is_object());
    }

    #[test]
    fn error_documents_and_bad_orcids_reject_the_file() {
        let error = r#"<error:error xmlns:error="e"><error:response-code>409</error:response-code>
            <error:user-message>The ORCID record is locked.</error:user-message></error:error>"#;
        assert_eq!(
            read_xml(error).iter().map(describe).collect::<Vec<_>>(),
            [
                "file: rejected: document is an orcid error `409` instead of a record: \
              `The ORCID record is locked.`"
            ]
        );
        let bad_check_digit =
            HEADER.replace("1825-0097</common", "1825-0098</common") + "</record:record>";
        assert_eq!(
            read_xml(&bad_check_digit).iter().map(describe).collect::<Vec<_>>(),
            ["file: rejected: `orcid-identifier/path` `0000-0002-1825-0098` is not a valid orcid id"]
        );
    }

    #[test]
    fn a_record_without_a_name_shows_its_orcid() {
        let outcomes = read_xml(&format!("{HEADER}</record:record>"));
        let Ok(Parsed::Profile(profile, _)) = &outcomes[0] else {
            panic!("{outcomes:?}")
        };
        assert_eq!(profile.display_name, "0000-0002-1825-0097");
        assert!(profile.works.is_empty() && profile.affiliations.is_empty());
    }

    #[test]
    fn orcid_check_digits_follow_iso_7064() {
        assert!(is_valid_orcid("0000-0002-1825-0097"));
        assert!(is_valid_orcid("0000-0002-5878-603X"));
        assert!(!is_valid_orcid("0000-0002-5878-6030"));
        assert!(!is_valid_orcid("0000-0002-1825-009"));
        assert!(!is_valid_orcid("0000 0002 1825 0097"));
    }
}
