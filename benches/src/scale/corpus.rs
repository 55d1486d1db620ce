//! The corpus generator: works drawn from the sample distributions, each written as the
//! records its sources would give (OpenAlex and Crossref JSON lines, DBLP CSV rows) with
//! the noise real records carry, and the truth beside them: which records are one work,
//! which belong to which profile, and the query workload with its judgments.
//!
//! Generation streams: a work or a person is regenerated from the seed and its number, so
//! memory does not grow with the corpus.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::people::{drop_non_ascii, fold_accents, profile_id, with_typo, NameStyle, Person};
use super::rng::SeededRng;
use super::vocabulary::Vocabulary;
use super::workload::{Query, RecordSeen, WorkSeen, WorkloadCollector};

/// Changes whenever the same seed would give another corpus, so a stored corpus of an
/// older generator is not reused.
pub const GENERATOR_VERSION: u32 = 1;

/// Records per person of the corpus; half of the people have a profile, so there is about
/// one profile per ten records.
const RECORDS_PER_PERSON: u64 = 5;

/// The file names of a corpus directory.
pub mod files {
    /// OpenAlex works, one JSON object a line.
    pub const OPENALEX: &str = "openalex-works.jsonl";
    /// Crossref works, one JSON object a line.
    pub const CROSSREF: &str = "crossref-works.jsonl";
    /// DBLP rows (`id,title,authors,venue,year`); the name tells the importer the source.
    pub const DBLP: &str = "dblp-works.csv";
    /// One line per record: its source, id, work and the profiles of its authors.
    pub const TRUTH_RECORDS: &str = "truth-records.jsonl";
    /// One line per work: its title, year, DOI and records.
    pub const TRUTH_WORKS: &str = "truth-works.jsonl";
    /// One line per profile: its id, names and ORCID iD.
    pub const TRUTH_PROFILES: &str = "truth-profiles.jsonl";
    /// The query workload with judgments.
    pub const WORKLOAD: &str = "workload.jsonl";
    /// What was generated, with counts and sizes.
    pub const MANIFEST: &str = "manifest.json";
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusOptions {
    /// Records to write, over all sources.
    pub num_records: u64,
    /// The seed; the same seed and options give byte-identical files.
    pub seed: u64,
    /// Queries per query class.
    pub num_queries_per_class: usize,
}

impl CorpusOptions {
    /// Returns the number of people the corpus's authors are drawn from.
    pub fn num_people(&self) -> u64 {
        (self.num_records / RECORDS_PER_PERSON).max(20)
    }

    /// Returns the number of people with a profile: the first half.
    pub fn num_profiles(&self) -> u64 {
        self.num_people() / 2
    }
}

/// One source file of a corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// The file name in the corpus directory.
    pub file_name: String,
    /// The source its records are stored under.
    pub source: String,
    /// Records written.
    pub num_records: u64,
    /// Bytes written.
    pub num_bytes: u64,
}

/// What a corpus holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`GENERATOR_VERSION`] of the generator that wrote it.
    pub generator_version: u32,
    /// The options it was generated with.
    pub options: CorpusOptions,
    /// Works written.
    pub num_works: u64,
    /// People authors were drawn from.
    pub num_people: u64,
    /// Profiles (people below this number have one).
    pub num_profiles: u64,
    /// The source files.
    pub sources: Vec<SourceFile>,
    /// Queries of the workload.
    pub num_queries: u64,
    /// Bytes of every file of the corpus but the manifest, by file name: a corpus is
    /// reused only when each file still has its size. Empty in manifests of harnesses
    /// that did not record sizes, whose corpora are regenerated.
    #[serde(default)]
    pub file_sizes: BTreeMap<String, u64>,
    /// Seconds generation took; not written, so that a corpus is the same bytes whenever
    /// it is generated.
    #[serde(skip)]
    pub elapsed_secs: f64,
}

impl Manifest {
    /// Returns the records of every source.
    pub fn num_records(&self) -> u64 {
        self.sources.iter().map(|file| file.num_records).sum()
    }

    /// Returns the bytes of every source file.
    pub fn num_bytes(&self) -> u64 {
        self.sources.iter().map(|file| file.num_bytes).sum()
    }

    /// Reads the manifest of the corpus in `dir`, if there is one.
    pub fn read(dir: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(dir.join(files::MANIFEST)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Checks that every file of the corpus in `dir` has the size the manifest recorded,
    /// which catches a file truncated by a full disk or an interrupted copy.
    ///
    /// # Errors
    /// Says which file differs, or that the manifest records no sizes.
    pub fn check_file_sizes(&self, dir: &Path) -> Result<(), String> {
        if self.file_sizes.is_empty() {
            return Err("its manifest records no file sizes".to_owned());
        }
        for (file_name, &num_bytes) in &self.file_sizes {
            let path = dir.join(file_name);
            match std::fs::metadata(&path) {
                Ok(metadata) if metadata.len() == num_bytes => {}
                Ok(metadata) => {
                    return Err(format!(
                        "`{}` is {} bytes long, its manifest says {num_bytes}",
                        path.display(),
                        metadata.len()
                    ))
                }
                Err(error) => return Err(format!("`{}`: {error}", path.display())),
            }
        }
        Ok(())
    }
}

/// A work before it is written as records.
#[derive(Debug)]
struct WorkPlan {
    number: u64,
    title: String,
    year: i32,
    month: u32,
    venue: String,
    language: Option<String>,
    work_type: String,
    doi: Option<String>,
    authors: Vec<Person>,
    in_openalex: bool,
    in_crossref: bool,
    in_dblp: bool,
}

/// A file being written, counting records and bytes.
struct CountingWriter {
    writer: BufWriter<File>,
    source: SourceFile,
}

impl CountingWriter {
    fn create(dir: &Path, file_name: &str, source: &str) -> anyhow::Result<CountingWriter> {
        let path = dir.join(file_name);
        let file = File::create(&path)
            .with_context(|| format!("failed to create `{}`", path.display()))?;
        Ok(CountingWriter {
            writer: BufWriter::with_capacity(1 << 20, file),
            source: SourceFile {
                file_name: file_name.to_owned(),
                source: source.to_owned(),
                num_records: 0,
                num_bytes: 0,
            },
        })
    }

    fn write_line(&mut self, line: &str) -> anyhow::Result<()> {
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\n")?;
        self.source.num_bytes += line.len() as u64 + 1;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<SourceFile> {
        self.writer.flush()?;
        Ok(self.source)
    }
}

/// Writes a corpus of `options` into `out_dir` (created if missing), returning its
/// manifest, which is also written last, so a directory with a manifest is complete.
///
/// # Errors
/// Fails when a file cannot be written.
pub fn generate(
    vocabulary: &Vocabulary,
    options: &CorpusOptions,
    out_dir: &Path,
) -> anyhow::Result<Manifest> {
    let started = Instant::now();
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("failed to create `{}`", out_dir.display()))?;
    let _ = std::fs::remove_file(out_dir.join(files::MANIFEST));
    let generator = Generator::new(vocabulary, options);
    write_profiles_truth(&generator, &out_dir.join(files::TRUTH_PROFILES))?;

    let mut openalex = CountingWriter::create(out_dir, files::OPENALEX, "openalex")?;
    let mut crossref = CountingWriter::create(out_dir, files::CROSSREF, "crossref")?;
    let mut dblp = CountingWriter::create(out_dir, files::DBLP, "dblp")?;
    dblp.write_line("id,title,authors,venue,year")?;
    let mut truth_records = create_lines(&out_dir.join(files::TRUTH_RECORDS))?;
    let mut truth_works = create_lines(&out_dir.join(files::TRUTH_WORKS))?;
    let mut workload = WorkloadCollector::new(
        options.seed,
        options.num_queries_per_class,
        &generator.query_people(),
    );

    let mut num_records = 0;
    let mut num_works = 0;
    while num_records < options.num_records {
        let plan = generator.plan_work(num_works);
        num_works += 1;
        let mut record_keys = Vec::new();
        for source in ["openalex", "crossref", "dblp"] {
            if num_records >= options.num_records {
                break;
            }
            let written = match source {
                "openalex" if plan.in_openalex => {
                    Some(generator.write_openalex(&plan, &mut openalex)?)
                }
                "crossref" if plan.in_crossref => {
                    Some(generator.write_crossref(&plan, &mut crossref)?)
                }
                "dblp" if plan.in_dblp => Some(generator.write_dblp(&plan, &mut dblp)?),
                _ => None,
            };
            let Some((source_id, year)) = written else {
                continue;
            };
            num_records += 1;
            let key = format!("{source}:{source_id}");
            let profiles: Vec<String> = plan
                .authors
                .iter()
                .filter(|person| person.number < options.num_profiles())
                .map(|person| profile_id(options.seed, person.number).to_string())
                .collect();
            let line = json!({
                "source": source,
                "source_id": source_id,
                "work": plan.number,
                "year": year,
                "profiles": profiles,
            });
            writeln!(truth_records, "{line}")?;
            workload.observe_record(&RecordSeen {
                key: key.clone(),
                source,
                year,
                authors: &plan.authors,
            });
            record_keys.push(key);
        }
        let line = json!({
            "work": plan.number,
            "title": plan.title,
            "year": plan.year,
            "doi": plan.doi,
            "records": record_keys,
        });
        writeln!(truth_works, "{line}")?;
        workload.observe_work(&WorkSeen {
            number: plan.number,
            title: &plan.title,
            record_keys,
        });
    }
    truth_records.flush()?;
    truth_works.flush()?;

    let queries = workload.finish();
    write_workload(&out_dir.join(files::WORKLOAD), &queries)?;
    let sources = vec![openalex.finish()?, crossref.finish()?, dblp.finish()?];
    let mut file_sizes = BTreeMap::new();
    for file_name in [
        files::TRUTH_PROFILES,
        files::TRUTH_RECORDS,
        files::TRUTH_WORKS,
        files::WORKLOAD,
    ] {
        let path = out_dir.join(file_name);
        let metadata = std::fs::metadata(&path)
            .with_context(|| format!("failed to read the size of `{}`", path.display()))?;
        file_sizes.insert(file_name.to_owned(), metadata.len());
    }
    for source in &sources {
        file_sizes.insert(source.file_name.clone(), source.num_bytes);
    }
    let manifest = Manifest {
        generator_version: GENERATOR_VERSION,
        options: options.clone(),
        num_works,
        num_people: options.num_people(),
        num_profiles: options.num_profiles(),
        sources,
        num_queries: queries.len() as u64,
        file_sizes,
        elapsed_secs: started.elapsed().as_secs_f64(),
    };
    let path = out_dir.join(files::MANIFEST);
    std::fs::write(&path, serde_json::to_string_pretty(&manifest)? + "\n")
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(manifest)
}

/// Reads the workload of the corpus in `dir`.
///
/// # Errors
/// Fails when the file is missing or malformed.
pub fn read_workload(dir: &Path) -> anyhow::Result<Vec<Query>> {
    let path = dir.join(files::WORKLOAD);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            serde_json::from_str(line).with_context(|| {
                format!("`{}` line {}: malformed query", path.display(), index + 1)
            })
        })
        .collect()
}

fn create_lines(path: &PathBuf) -> anyhow::Result<BufWriter<File>> {
    let file =
        File::create(path).with_context(|| format!("failed to create `{}`", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, file))
}

fn write_workload(path: &PathBuf, queries: &[Query]) -> anyhow::Result<()> {
    let mut writer = create_lines(path)?;
    for query in queries {
        writeln!(writer, "{}", serde_json::to_string(query)?)?;
    }
    writer.flush()?;
    Ok(())
}

fn write_profiles_truth(generator: &Generator<'_>, path: &PathBuf) -> anyhow::Result<()> {
    let mut writer = create_lines(path)?;
    for number in 0..generator.options.num_profiles() {
        let person = generator.person(number);
        let line = json!({
            "profile": profile_id(generator.options.seed, number).to_string(),
            "person": number,
            "display_name": person.full_name(),
            "orcid": person.orcid,
            "name_forms": person.profile_name_forms(),
        });
        writeln!(writer, "{line}")?;
    }
    writer.flush()?;
    Ok(())
}

/// Draws people and works of one corpus.
#[derive(Debug)]
pub struct Generator<'a> {
    vocabulary: &'a Vocabulary,
    options: &'a CorpusOptions,
}

impl<'a> Generator<'a> {
    /// Returns the generator of the corpus of `options`.
    pub fn new(vocabulary: &'a Vocabulary, options: &'a CorpusOptions) -> Generator<'a> {
        Generator {
            vocabulary,
            options,
        }
    }

    /// Returns person `number`; people with a profile have an ORCID iD more often.
    pub fn person(&self, number: u64) -> Person {
        let orcid_chance = if number < self.options.num_profiles() {
            0.6
        } else {
            0.3
        };
        Person::generate(self.vocabulary, self.options.seed, number, orcid_chance)
    }

    /// Returns the people the author queries name, drawn evenly over everyone.
    fn query_people(&self) -> Vec<Person> {
        let mut rng = SeededRng::for_entity(self.options.seed, "query-people", 0);
        (0..self.options.num_queries_per_class)
            .map(|_| self.person(rng.below(self.options.num_people())))
            .collect()
    }

    fn plan_work(&self, number: u64) -> WorkPlan {
        let vocabulary = self.vocabulary;
        let mut rng = SeededRng::for_entity(self.options.seed, "work", number);
        let num_authors = vocabulary
            .authors_per_work
            .draw(&mut rng)
            .copied()
            .unwrap_or(3)
            .clamp(1, 20);
        let num_people = self.options.num_people();
        let mut author_numbers: Vec<u64> = Vec::with_capacity(num_authors);
        for _ in 0..num_authors {
            // Skewed towards low numbers, so that some people (those with profiles more
            // often) write many works and most write a few.
            let number = (rng.unit().powf(1.5) * num_people as f64) as u64;
            if !author_numbers.contains(&number) {
                author_numbers.push(number.min(num_people - 1));
            }
        }
        let year = vocabulary.years.draw(&mut rng).copied().unwrap_or(2010);
        let venue = vocabulary
            .venues
            .draw(&mut rng)
            .cloned()
            .unwrap_or_default();
        let has_doi = rng.chance(0.75);
        let doi = has_doi.then(|| {
            format!(
                "10.{}/atlas.{}.{year}.{number}",
                1000 + rng.below(9000),
                slug(&venue)
            )
        });
        let in_openalex = rng.chance(0.85);
        let in_crossref = has_doi && rng.chance(0.55);
        let in_dblp = rng.chance(0.3);
        WorkPlan {
            number,
            title: vocabulary.title(&mut rng),
            year,
            month: 1 + rng.below(12) as u32,
            venue,
            language: vocabulary.languages.draw(&mut rng).cloned(),
            work_type: vocabulary
                .work_types
                .draw(&mut rng)
                .cloned()
                .unwrap_or_else(|| "article".to_owned()),
            doi,
            authors: author_numbers
                .into_iter()
                .map(|number| self.person(number))
                .collect(),
            in_openalex: in_openalex || !(in_crossref || in_dblp),
            in_crossref,
            in_dblp,
        }
    }

    /// Writes the OpenAlex record of `plan`, returning its id and the year it states.
    fn write_openalex(
        &self,
        plan: &WorkPlan,
        out: &mut CountingWriter,
    ) -> anyhow::Result<(String, Option<i32>)> {
        let mut rng = SeededRng::for_entity(self.options.seed, "openalex", plan.number);
        let source_id = format!("W{}", 4_000_000_000 + plan.number);
        let url = format!("https://openalex.org/{source_id}");
        let doi_url = plan
            .doi
            .as_ref()
            .filter(|_| rng.chance(0.8))
            .map(|doi| format!("https://doi.org/{doi}"));
        let year = rng.chance(0.97).then_some(plan.year);
        let num_authors = plan.authors.len();
        let authorships: Vec<Value> = plan
            .authors
            .iter()
            .enumerate()
            .map(|(position, person)| {
                let raw_style = [
                    NameStyle::Full,
                    NameStyle::Full,
                    NameStyle::FamilyComma,
                    NameStyle::Initials,
                    NameStyle::Folded,
                    NameStyle::Localized,
                ][rng.index(6)];
                let orcid = person
                    .orcid
                    .as_ref()
                    .filter(|_| rng.chance(0.6))
                    .map(|orcid| format!("https://orcid.org/{orcid}"));
                json!({
                    "author_position": match position {
                        0 => "first",
                        _ if position + 1 == num_authors => "last",
                        _ => "middle",
                    },
                    "author": {
                        "id": format!("https://openalex.org/A{}", 5_000_000_000 + person.number),
                        "display_name": person.full_name(),
                        "orcid": orcid,
                    },
                    "institutions": [],
                    "countries": [person.country],
                    "is_corresponding": position == 0,
                    "raw_author_name": person.name_in(raw_style),
                    "raw_affiliation_strings": [],
                })
            })
            .collect();
        let mut work = Map::new();
        work.insert("id".into(), json!(url));
        work.insert("doi".into(), json!(doi_url));
        let title_missing = rng.chance(0.01);
        work.insert(
            "title".into(),
            if title_missing {
                Value::Null
            } else {
                json!(plan.title)
            },
        );
        work.insert("display_name".into(), json!(plan.title));
        if let Some(year) = year {
            work.insert("publication_year".into(), json!(year));
            work.insert(
                "publication_date".into(),
                json!(format!("{year}-{:02}-01", plan.month)),
            );
        }
        let mut ids = Map::new();
        ids.insert("openalex".into(), json!(url));
        if let Some(doi_url) = &doi_url {
            ids.insert("doi".into(), json!(doi_url));
        }
        ids.insert(
            "mag".into(),
            json!((3_000_000_000 + plan.number).to_string()),
        );
        work.insert("ids".into(), Value::Object(ids));
        if let Some(language) = plan.language.as_ref().filter(|_| rng.chance(0.85)) {
            work.insert("language".into(), json!(language));
        }
        if rng.chance(0.92) {
            work.insert(
                "primary_location".into(),
                json!({
                    "is_oa": rng.chance(0.4),
                    "landing_page_url": doi_url,
                    "source": {
                        "id": format!("https://openalex.org/S{}", 7_000_000_000 + venue_number(&plan.venue)),
                        "display_name": plan.venue,
                        "type": "journal",
                    },
                    "version": "publishedVersion",
                }),
            );
        }
        work.insert("type".into(), json!(plan.work_type));
        work.insert("authorships".into(), Value::Array(authorships));
        work.insert("cited_by_count".into(), json!(rng.zipf_index(500)));
        let referenced: Vec<String> = (0..rng.index(30))
            .map(|_| {
                format!(
                    "https://openalex.org/W{}",
                    4_000_000_000 + rng.below(plan.number + 1)
                )
            })
            .collect();
        work.insert("referenced_works".into(), json!(referenced));
        if rng.chance(0.4) {
            work.insert(
                "abstract_inverted_index".into(),
                self.abstract_index(&mut rng),
            );
        }
        work.insert("updated_date".into(), json!("2026-11-30T00:00:00"));
        out.write_line(&Value::Object(work).to_string())?;
        out.source.num_records += 1;
        Ok((source_id, year))
    }

    /// Returns an abstract as OpenAlex stores it: each word with its positions.
    fn abstract_index(&self, rng: &mut SeededRng) -> Value {
        let mut index: Map<String, Value> = Map::new();
        let words = self.vocabulary.title_words.values();
        for position in 0..(40 + rng.index(80)) {
            let word = &words[rng.zipf_index(words.len())];
            match index.get_mut(word.as_str()) {
                Some(Value::Array(positions)) => positions.push(json!(position)),
                _ => {
                    index.insert(word.clone(), json!([position]));
                }
            }
        }
        Value::Object(index)
    }

    /// Writes the Crossref record of `plan` (which has a DOI), returning its id (the DOI)
    /// and the year it states.
    fn write_crossref(
        &self,
        plan: &WorkPlan,
        out: &mut CountingWriter,
    ) -> anyhow::Result<(String, Option<i32>)> {
        let mut rng = SeededRng::for_entity(self.options.seed, "crossref", plan.number);
        let doi = plan.doi.clone().unwrap_or_default();
        let title = if rng.chance(0.02) {
            title_with_one_typo(&plan.title, &mut rng)
        } else {
            plan.title.clone()
        };
        let authors: Vec<Value> = plan
            .authors
            .iter()
            .enumerate()
            .map(|(position, person)| {
                let lose_accents = rng.chance(0.2);
                let as_initials = rng.chance(0.25);
                let mut given = match &person.middle {
                    Some(middle) if !as_initials => {
                        format!("{} {}", person.given.romanized, middle.romanized)
                    }
                    _ if as_initials => person
                        .name_in(NameStyle::Initials)
                        .trim_end_matches(person.family.romanized.as_str())
                        .trim()
                        .to_owned(),
                    _ => person.given.romanized.clone(),
                };
                let mut family = person.family.romanized.clone();
                if lose_accents {
                    given = fold_accents(&given);
                    family = fold_accents(&family);
                }
                let mut author = Map::new();
                author.insert("given".into(), json!(given));
                author.insert("family".into(), json!(family));
                author.insert(
                    "sequence".into(),
                    json!(if position == 0 { "first" } else { "additional" }),
                );
                author.insert("affiliation".into(), json!([]));
                if let Some(orcid) = person.orcid.as_ref().filter(|_| rng.chance(0.5)) {
                    author.insert("ORCID".into(), json!(format!("http://orcid.org/{orcid}")));
                    author.insert("authenticated-orcid".into(), json!(rng.chance(0.5)));
                }
                Value::Object(author)
            })
            .collect();
        let year = rng.chance(0.95).then_some(plan.year);
        let prefix = doi.split('/').next().unwrap_or_default().to_owned();
        let mut work = Map::new();
        work.insert("DOI".into(), json!(doi));
        work.insert("type".into(), json!(crossref_type(&plan.work_type)));
        work.insert("title".into(), json!([title]));
        work.insert("author".into(), Value::Array(authors));
        work.insert("container-title".into(), json!([plan.venue]));
        if let Some(year) = year {
            work.insert("issued".into(), json!({"date-parts": [[year, plan.month]]}));
            work.insert(
                "published-online".into(),
                json!({"date-parts": [[year, plan.month]]}),
            );
        }
        if let Some(language) = plan.language.as_ref().filter(|_| rng.chance(0.5)) {
            work.insert("language".into(), json!(language));
        }
        work.insert("publisher".into(), json!(format!("{} Press", plan.venue)));
        work.insert("prefix".into(), json!(prefix));
        work.insert("member".into(), json!((rng.below(30_000)).to_string()));
        work.insert("reference-count".into(), json!(rng.index(60)));
        work.insert("is-referenced-by-count".into(), json!(rng.zipf_index(500)));
        work.insert("source".into(), json!("Crossref"));
        work.insert("URL".into(), json!(format!("https://doi.org/{doi}")));
        out.write_line(&Value::Object(work).to_string())?;
        out.source.num_records += 1;
        Ok((doi, year))
    }

    /// Writes the DBLP row of `plan`, returning its key and the year it states.
    fn write_dblp(
        &self,
        plan: &WorkPlan,
        out: &mut CountingWriter,
    ) -> anyhow::Result<(String, Option<i32>)> {
        let mut rng = SeededRng::for_entity(self.options.seed, "dblp", plan.number);
        let first_family = plan
            .authors
            .first()
            .map(|person| drop_non_ascii(&fold_accents(&person.family.romanized)))
            .unwrap_or_default();
        let key = format!(
            "conf/{}/{}{:02}-{}",
            slug(&plan.venue),
            first_family.replace([' ', ',', '"', '/'], ""),
            plan.year.rem_euclid(100),
            plan.number
        );
        let authors: Vec<String> = plan
            .authors
            .iter()
            .map(|person| {
                let name = fold_accents(&person.full_name());
                if rng.chance(0.05) {
                    drop_non_ascii(&person.full_name())
                } else {
                    name
                }
            })
            .collect();
        let title = if rng.chance(0.02) {
            title_with_one_typo(&plan.title, &mut rng)
        } else {
            plan.title.clone()
        };
        let year = rng.chance(0.97).then_some(plan.year);
        let year_text = year.map(|year| year.to_string()).unwrap_or_default();
        let row = [
            key.as_str(),
            title.as_str(),
            &authors.join(", "),
            plan.venue.as_str(),
            year_text.as_str(),
        ]
        .map(csv_field)
        .join(",");
        out.write_line(&row)?;
        out.source.num_records += 1;
        Ok((key, year))
    }
}

/// Returns `field` quoted as RFC 4180 requires when it holds a comma, quote or line break.
fn csv_field(field: &str) -> String {
    let field = field.replace(['\n', '\r'], " ");
    if field.contains([',', '"']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

fn title_with_one_typo(title: &str, rng: &mut SeededRng) -> String {
    let words: Vec<&str> = title.split_whitespace().collect();
    let target = rng.index(words.len());
    words
        .iter()
        .enumerate()
        .map(|(index, word)| {
            if index == target && word.chars().count() >= 5 {
                with_typo(word, rng)
            } else {
                (*word).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Returns a short lowercase ASCII key of a venue name, for DBLP keys and DOIs.
fn slug(venue: &str) -> String {
    let slug: String = fold_accents(venue)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(3)
        .map(|word| {
            word.chars()
                .take(4)
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .collect();
    if slug.is_empty() {
        "misc".to_owned()
    } else {
        slug
    }
}

fn venue_number(venue: &str) -> u64 {
    venue.bytes().fold(0_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    }) % 1_000_000
}

/// Returns the Crossref type of an OpenAlex work type.
fn crossref_type(openalex_type: &str) -> &'static str {
    match openalex_type {
        "book" | "monograph" => "monograph",
        "book-chapter" => "book-chapter",
        "proceedings" | "conference-paper" => "proceedings-article",
        "dissertation" => "dissertation",
        "dataset" => "dataset",
        "reference-book" => "reference-book",
        "peer-review" => "peer-review",
        _ => "journal-article",
    }
}
