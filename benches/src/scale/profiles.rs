//! The corpus's profiles in PostgreSQL: `author_profiles` with ORCID iDs on some, and
//! their name forms and identifiers in `profile_identities`, written with COPY in a stream.

use std::time::Instant;

use sqlx::PgPool;

use super::corpus::{CorpusOptions, Generator};
use super::people::profile_id;
use super::vocabulary::Vocabulary;

/// Profiles per COPY statement.
const PROFILES_PER_COPY: u64 = 10_000;

/// What writing the profiles did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ProfilesWritten {
    /// Profiles written.
    pub num_profiles: u64,
    /// Identities (name forms and ORCID iDs) written.
    pub num_identities: u64,
    /// Seconds it took.
    pub secs: f64,
}

/// Writes the profiles of the corpus of `options` into the database of `pool`.
///
/// # Errors
/// Fails when PostgreSQL does, for instance when the profiles are there already.
pub async fn write_profiles(
    pool: &PgPool,
    vocabulary: &Vocabulary,
    options: &CorpusOptions,
) -> anyhow::Result<ProfilesWritten> {
    let started = Instant::now();
    let generator = Generator::new(vocabulary, options);
    let mut written = ProfilesWritten::default();
    let num_profiles = options.num_profiles();
    let mut first = 0;
    while first < num_profiles {
        let last = (first + PROFILES_PER_COPY).min(num_profiles);
        let mut profile_rows = String::new();
        let mut identity_rows = String::new();
        for number in first..last {
            let person = generator.person(number);
            let id = profile_id(options.seed, number);
            let orcid = person.orcid.clone();
            profile_rows.push_str(&format!(
                "{id}\t{}\t{}\t{{}}\n",
                orcid.as_deref().map_or_else(|| "\\N".to_owned(), copy_text),
                copy_text(&person.full_name())
            ));
            for (position, form) in person.profile_name_forms().iter().enumerate() {
                identity_rows.push_str(&format!(
                    "{id}\tname\t{}\t{}\n",
                    copy_text(form),
                    if position == 0 { "t" } else { "f" }
                ));
                written.num_identities += 1;
            }
            if let Some(orcid) = &orcid {
                identity_rows.push_str(&format!("{id}\torcid\t{orcid}\tt\n"));
                written.num_identities += 1;
            }
        }
        let mut connection = pool.acquire().await?;
        let mut copy = connection
            .copy_in_raw(
                "copy author_profiles (id, primary_orcid, display_name, settings) from stdin",
            )
            .await?;
        copy.send(profile_rows.into_bytes()).await?;
        copy.finish().await?;
        let mut copy = connection
            .copy_in_raw(
                "copy profile_identities (profile_id, identifier_type, identifier_value, is_primary) from stdin",
            )
            .await?;
        copy.send(identity_rows.into_bytes()).await?;
        copy.finish().await?;
        written.num_profiles += last - first;
        first = last;
    }
    written.secs = started.elapsed().as_secs_f64();
    Ok(written)
}

/// Escapes a value for COPY's text format.
fn copy_text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}
