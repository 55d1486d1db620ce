//! The format readers on the real sample files and on broken input.
//!
//! Properties checked:
//! 1. every sample file yields exactly its known number of records, with no reject except
//!    the two sample files that are API error responses and hold no record;
//! 2. known records come out with their id and title, and `data` keeps the original;
//! 3. each kind of bad input yields one reject with its line (or record) number and a reason
//!    naming the problem, and the good records around it are still yielded;
//! 4. gzip input is read like plain input, whatever the file name;
//! 5. a line over the size limit is rejected without stopping the stream.

use std::io::Write;
use std::path::{Path, PathBuf};

use indexer::import::formats::{read, Format, ReadOptions};
use indexer::import::record::{Location, ParseOutcome, Parsed, SourceProfile, SourceRecord};
use serde_json::Value;

fn samples_dir() -> PathBuf {
    match std::env::var_os("ATLAS_SAMPLES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
    }
}

fn sample(relative_path: &str) -> PathBuf {
    samples_dir().join(relative_path)
}

fn read_all(format: Format, path: &Path, options: ReadOptions) -> Vec<ParseOutcome> {
    read(format, path, options)
        .unwrap_or_else(|error| panic!("cannot open `{}`: {error}", path.display()))
        .collect()
}

/// Describes an outcome without its path: `line 3: W1`, `record 2: rejected: reason`.
fn describe(outcome: &ParseOutcome) -> String {
    fn position(location: &Location) -> String {
        match (location.line, location.record) {
            (Some(line), Some(record)) => format!("line {line} record {record}"),
            (Some(line), None) => format!("line {line}"),
            (None, Some(record)) => format!("record {record}"),
            (None, None) => "file".to_string(),
        }
    }
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

fn describe_all(outcomes: &[ParseOutcome]) -> Vec<String> {
    outcomes.iter().map(describe).collect()
}

/// Splits outcomes into records, profiles and reject descriptions.
fn split(outcomes: Vec<ParseOutcome>) -> (Vec<SourceRecord>, Vec<SourceProfile>, Vec<String>) {
    let mut records = Vec::new();
    let mut profiles = Vec::new();
    let mut rejects = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(Parsed::Record(record, _)) => records.push(record),
            Ok(Parsed::Profile(profile, _)) => profiles.push(*profile),
            Err(rejected) => rejects.push(rejected.to_string()),
        }
    }
    (records, profiles, rejects)
}

fn read_records(format: Format, relative_path: &str) -> Vec<SourceRecord> {
    let outcomes = read_all(format, &sample(relative_path), ReadOptions::default());
    let (records, profiles, rejects) = split(outcomes);
    assert!(
        rejects.is_empty(),
        "`{relative_path}` has rejects: {rejects:#?}"
    );
    assert!(profiles.is_empty(), "`{relative_path}` yielded profiles");
    records
}

fn first_line_as_json(relative_path: &str) -> Value {
    let text = std::fs::read_to_string(sample(relative_path)).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

fn write_file(directory: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = directory.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn openalex_samples_in_both_schemas() {
    let current = read_records(Format::Openalex, "openalex/works-2024-schema.jsonl");
    assert_eq!(current.len(), 32);
    assert_eq!(current[0].source, "openalex");
    assert_eq!(current[0].entity_type, "work");
    assert_eq!(current[0].source_id, "W3038237952");
    assert_eq!(
        current[0].data,
        first_line_as_json("openalex/works-2024-schema.jsonl")
    );
    assert!(current[0].data["primary_location"].is_object());

    let old = read_records(Format::Openalex, "openalex/works-2022-schema.jsonl");
    assert_eq!(old.len(), 410);
    assert_eq!(old[0].source_id, "W4200035428");
    assert_eq!(old[0].data["title"], "Handbook of Random Forests");
    assert!(old[0].data["host_venue"].is_object());
    assert!(old.iter().all(|record| record.source_id.starts_with('W')));
}

#[test]
fn crossref_samples() {
    let works_a = read_records(Format::Crossref, "crossref/works-a.jsonl");
    assert_eq!(works_a.len(), 521);
    assert_eq!(works_a[0].source_id, "10.1126/science.169.3946.635");
    assert_eq!(works_a[1].source_id, "10.1371/journal.pone.0033693");
    assert_eq!(
        works_a[0].data,
        first_line_as_json("crossref/works-a.jsonl")
    );

    let works_b = read_records(Format::Crossref, "crossref/works-b.jsonl");
    assert_eq!(works_b.len(), 50);
    assert_eq!(works_b[0].source_id, "10.7554/elife.01567");
    assert_eq!(
        works_b[0].data["title"][0],
        "Automated quantitative histology reveals vascular morphodynamics during Arabidopsis \
         hypocotyl secondary growth"
    );
    let all = works_a.iter().chain(&works_b);
    assert!(all
        .clone()
        .all(|record| record.source_id == record.source_id.to_lowercase()));
}

#[test]
fn hal_search_api_response() {
    let docs = read_records(Format::Hal, "hal/search-api-response.json");
    assert_eq!(docs.len(), 36);
    assert_eq!(docs[0].source, "hal");
    assert_eq!(docs[0].source_id, "hal-02001689");
    assert_eq!(
        docs[0].data["title_s"][0],
        "Streamwise streaks induced by bedload diffusion"
    );
    assert!(docs.iter().any(|doc| doc.source_id == "insu-00915064"));
}

#[test]
fn hal_oai_pmh_records() {
    // (file, HAL id, start of the title)
    let expected = [
        (
            "ftartxiker_oai_HAL_hal-00845819v1.xml",
            "hal-00845819",
            "Optical properties of",
        ),
        (
            "ftccsdartic_oai_hal.archives-ouvertes.fr_hal-00939473.xml",
            "hal-00939473",
            "Formal Analysis of CRT-RSA",
        ),
        (
            "ftunivsavoie_oai_HAL_hal-01062241v1.xml",
            "hal-01062241",
            "\"Model and measurements",
        ),
        (
            "ftunivsavoie_oai_HAL_hal-01062339v1.xml",
            "hal-01062339",
            "Une composante des conflits",
        ),
    ];
    for (file_name, hal_id, title) in expected {
        let records = read_records(Format::Hal, &format!("hal/{file_name}"));
        assert_eq!(records.len(), 1, "{file_name}");
        assert_eq!(records[0].source_id, hal_id, "{file_name}");
        let dublin_core = &records[0].data["record"]["metadata"]["base_dc:dc"];
        let record_title = dublin_core["dc:title"].as_str().unwrap();
        assert!(
            record_title.starts_with(title),
            "{file_name}: {record_title}"
        );
    }

    let last = read_records(Format::Hal, "hal/ftunivsavoie_oai_HAL_hal-01062339v1.xml");
    let title = &last[0].data["record"]["metadata"]["base_dc:dc"]["dc:title"];
    assert_eq!(
        title,
        "Une composante des conflits environnementaux : la querelle de légitimité"
    );

    let records = read_records(Format::Hal, "hal/hal_record.xml");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].source_id, "hal-00830421");
    let dublin_core = &records[0].data["record"]["metadata"]["oai_dc:dc"];
    assert_eq!(
        dublin_core["dc:title"]["#text"],
        "Wavelet methods to eliminate resonances in the Galerkin-truncated Burgers and Euler \
         equations"
    );
    assert_eq!(dublin_core["dc:title"]["@xml:lang"], "en");
    assert_eq!(dublin_core["dc:creator"].as_array().unwrap().len(), 4);
    assert_eq!(
        records[0].data["record"]["header"]["setSpec"]
            .as_array()
            .unwrap()
            .len(),
        21
    );

    // This file is HAL's answer to a request for a record it does not have.
    let path = sample("hal/oai_hal.archives-ouvertes.fr_hal-00939473.xml");
    assert_eq!(
        describe_all(&read_all(Format::Hal, &path, ReadOptions::default())),
        ["file: rejected: oai-pmh response is an error `badArgument` with no record: `The record \
          \"oai:hal.archives-ouvertes.fr:hal-00939473\" does not exist.`"]
    );
}

fn orcid_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for folder in std::fs::read_dir(sample("orcid/summaries")).unwrap() {
        for file in std::fs::read_dir(folder.unwrap().path()).unwrap() {
            files.push(file.unwrap().path());
        }
    }
    files.sort();
    files
}

#[test]
fn orcid_record_summaries() {
    let files = orcid_files();
    assert_eq!(files.len(), 8);
    let mut profiles = Vec::new();
    let mut rejects = Vec::new();
    for file in &files {
        let (records, file_profiles, file_rejects) =
            split(read_all(Format::Orcid, file, ReadOptions::default()));
        assert!(records.is_empty());
        assert!(
            file_profiles.len() + file_rejects.len() == 1,
            "{file:?}: {file_rejects:?}"
        );
        profiles.extend(file_profiles);
        rejects.extend(file_rejects);
    }

    // One of the eight files is ORCID's answer for a locked record.
    assert_eq!(profiles.len(), 7);
    assert_eq!(rejects.len(), 1);
    assert!(
        rejects[0].ends_with(
            "0000-0001-5078-5000.xml: document is an orcid error `409` instead of a record: \
             `The ORCID record is locked.`"
        ),
        "{rejects:?}"
    );
    let num_works: usize = profiles.iter().map(|profile| profile.works.len()).sum();
    assert_eq!(num_works, 551);

    let profile = profiles
        .iter()
        .find(|p| p.orcid == "0000-0003-0109-6000")
        .unwrap();
    assert_eq!(profile.display_name, "Mohamed Abouelkhair");
    assert_eq!(profile.other_names, ["Mohamed A. Abouelkhair"]);
    assert!(profile
        .external_ids
        .contains(&("scopus".to_string(), "57193532185".to_string())));
    assert!(profile
        .external_ids
        .contains(&("email".to_string(), "mabouelk@utk.edu".to_string())));
    let tennessee = profile
        .affiliations
        .iter()
        .find(|a| a.kind == "education")
        .unwrap();
    assert_eq!(tennessee.organization, "University of Tennessee");
    assert_eq!(
        (tennessee.start_year, tennessee.end_year),
        (Some(2015), Some(2019))
    );
    assert_eq!(profile.works.len(), 26);
    let work = profile
        .works
        .iter()
        .find(|w| w.source_id == "0000-0003-0109-6000:82816981");
    let work = work.expect("the first work summary of the file");
    assert_eq!(work.source, "orcid");
    assert_eq!(
        work.data["title"],
        "Non-SARS-CoV-2 genome sequences identified in clinical samples from COVID-19 infected \
         patients: Evidence for co-infections"
    );
    assert_eq!(work.data["doi"], "10.7717/peerj.10246");
    assert_eq!(work.data["journal-title"], "PeerJ");
    assert_eq!(work.data["publication-date"], "2020-11-02");
    assert_eq!(work.data["owner"]["orcid"], "0000-0003-0109-6000");
    assert_eq!(work.data["owner"]["name"], "Mohamed Abouelkhair");

    let empty = profiles
        .iter()
        .find(|p| p.orcid == "0000-0002-5878-603X")
        .unwrap();
    assert_eq!(empty.display_name, "Norli Ali");
    assert!(empty.works.is_empty());
}

#[test]
fn dblp_acm_tables() {
    let dblp = read_records(Format::DblpAcm, "dblp-acm/dblp.csv");
    assert_eq!(dblp.len(), 2616);
    assert_eq!(dblp[0].source, "dblp");
    assert_eq!(dblp[0].source_id, "journals/sigmod/Mackay99");
    assert_eq!(dblp[0].data["authors"], "D. Scott Mackay");
    assert_eq!(dblp[0].data["year"], "1999");

    let acm = read_records(Format::DblpAcm, "dblp-acm/acm.csv");
    assert_eq!(acm.len(), 2294);
    assert_eq!(acm[0].source, "acm");
    assert_eq!(acm[0].source_id, "304586");
    assert_eq!(
        acm[0].data["title"],
        "The WASA2 object-oriented workflow management system"
    );
    assert!(acm
        .iter()
        .any(|r| r.data["authors"].as_str().unwrap().contains("Ludäscher")));
}

#[test]
fn bad_json_lines_are_rejected_alone() {
    let directory = tempfile::tempdir().unwrap();
    let mut lines: Vec<Vec<u8>> = vec![
        br#"{"id": "https://openalex.org/W1", "title": "first"}"#.to_vec(),
        br#"{"id": "https://openalex.org/W2", "title": "broken" "x"}"#.to_vec(),
        b"   ".to_vec(),
        b"{\"id\": \"W3\", \"title\": \"caf\xe9\"}".to_vec(),
        br#"{"title": "no id"}"#.to_vec(),
        br#"{"id": "W5", "authorships": [{"raw_author_name": "nul\u0000"}]}"#.to_vec(),
        br#"{"id": "W6", "title": "last"}"#.to_vec(),
    ];
    lines.push(Vec::new());
    let path = write_file(directory.path(), "works.jsonl", &lines.join(&b"\n"[..]));

    assert_eq!(
        describe_all(&read_all(Format::Openalex, &path, ReadOptions::default())),
        [
            "line 1: W1",
            "line 2: rejected: line is not valid json: expected `,` or `}` at column 53",
            "line 4: rejected: line is not valid utf-8 at byte 27",
            "line 5: rejected: record has no `id` field",
            "line 6: rejected: field `authorships.0.raw_author_name` contains a `\\u0000` \
             character, which postgresql jsonb cannot store",
            "line 7: W6",
        ]
    );
}

#[test]
fn crossref_records_without_a_doi_are_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let text = "{\"DOI\": \"10.1/A\"}\n{\"title\": [\"x\"]}\r\n{\"DOI\": 5}\n{\"DOI\": \"10.1/B\"}";
    let path = write_file(directory.path(), "works.jsonl", text.as_bytes());
    assert_eq!(
        describe_all(&read_all(Format::Crossref, &path, ReadOptions::default())),
        [
            "line 1: 10.1/a",
            "line 2: rejected: record has no `DOI` field",
            "line 3: rejected: record's `DOI` field is not a string: `5`",
            "line 4: 10.1/b",
        ]
    );
}

#[test]
fn crossref_pretty_printed_objects_and_api_envelopes() {
    let directory = tempfile::tempdir().unwrap();
    let work = serde_json::json!({"DOI": "10.5555/Pretty", "title": ["Pretty"]});
    let pretty = serde_json::to_string_pretty(&work).unwrap();
    let path = write_file(directory.path(), "pretty.json", pretty.as_bytes());
    let outcomes = read_all(Format::Crossref, &path, ReadOptions::default());
    assert_eq!(describe_all(&outcomes), ["record 1: 10.5555/pretty"]);
    let Ok(Parsed::Record(record, _)) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(record.data, work);

    let single = serde_json::json!({"status": "ok", "message-type": "work", "message": work});
    let path = write_file(
        directory.path(),
        "single.json",
        single.to_string().as_bytes(),
    );
    let outcomes = read_all(Format::Crossref, &path, ReadOptions::default());
    assert_eq!(describe_all(&outcomes), ["record 1: 10.5555/pretty"]);

    let page = serde_json::json!({"status": "ok", "message-type": "work-list", "message": {
        "items": [{"DOI": "10.1/one"}, {"title": ["no doi"]}, {"DOI": "10.1/three"}]}});
    let pretty_page = serde_json::to_string_pretty(&page).unwrap();
    let path = write_file(directory.path(), "page.json", pretty_page.as_bytes());
    assert_eq!(
        describe_all(&read_all(Format::Crossref, &path, ReadOptions::default())),
        [
            "record 1: 10.1/one",
            "record 2: rejected: record has no `DOI` field",
            "record 3: 10.1/three"
        ]
    );

    // A pretty-printed document cut short keeps what came before the break.
    let broken = format!("{pretty}\n{{\n  \"DOI\": \"10.1/cut\",\n");
    let path = write_file(directory.path(), "broken.json", broken.as_bytes());
    assert_eq!(
        describe_all(&read_all(Format::Crossref, &path, ReadOptions::default())),
        [
            "record 1: 10.5555/pretty",
            "line 9: rejected: document is not valid json: eof while parsing a value at line 9 \
             column 0",
        ]
    );
}

#[test]
fn gzip_files_are_read_like_plain_ones() {
    let directory = tempfile::tempdir().unwrap();
    let plain = std::fs::read(sample("openalex/works-2024-schema.jsonl")).unwrap();
    let path = write_file(directory.path(), "works-2024.jsonl", &gzip(&plain));

    let (records, _, rejects) = split(read_all(Format::Openalex, &path, ReadOptions::default()));
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(
        records,
        read_records(Format::Openalex, "openalex/works-2024-schema.jsonl")
    );

    let csv = std::fs::read(sample("dblp-acm/acm.csv")).unwrap();
    let path = write_file(directory.path(), "acm.csv.gz", &gzip(&csv));
    let (records, _, rejects) = split(read_all(Format::DblpAcm, &path, ReadOptions::default()));
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(records.len(), 2294);
}

#[test]
fn an_oversized_line_is_rejected_and_reading_goes_on() {
    let directory = tempfile::tempdir().unwrap();
    let long_title = "x".repeat(3 * 1024 * 1024);
    let long_line = format!(r#"{{"id": "W2", "title": "{long_title}"}}"#);
    let text = format!("{{\"id\": \"W1\"}}\n{long_line}\n{{\"id\": \"W3\"}}\n");
    let path = write_file(directory.path(), "works.jsonl", text.as_bytes());
    let options = ReadOptions {
        max_record_num_bytes: 1024 * 1024,
        ..ReadOptions::default()
    };

    let expected_reject = format!(
        "line 2: rejected: record is {} bytes, over the limit of 1048576",
        long_line.len()
    );
    assert_eq!(
        describe_all(&read_all(Format::Openalex, &path, options)),
        ["line 1: W1", expected_reject.as_str(), "line 3: W3"]
    );
}

#[test]
fn a_document_over_its_limit_is_rejected_whole() {
    let options = ReadOptions {
        max_document_num_bytes: 1000,
        ..ReadOptions::default()
    };
    let path = sample("hal/search-api-response.json");
    let num_bytes = std::fs::metadata(&path).unwrap().len();
    assert_eq!(
        describe_all(&read_all(Format::Hal, &path, options)),
        [format!(
            "file: rejected: document is {num_bytes} bytes, over the limit of 1000"
        )]
    );
}

#[test]
fn a_missing_file_is_an_error() {
    let missing = Path::new("/nonexistent/works.jsonl");
    for format in [
        Format::Openalex,
        Format::Crossref,
        Format::Hal,
        Format::Orcid,
        Format::DblpAcm,
    ] {
        let opened = read(format, missing, ReadOptions::default());
        assert!(opened.is_err(), "{format:?} opened a missing file");
    }
}
