//! Candidate retrieval through the search API's `POST /candidates`: a batch of profiles
//! (name forms, titles of verified works, ORCID iD) in, per profile the records that may
//! be the person's out.
//!
//! What the API reports it matched is kept only as a hint; [`crate::evidence`] derives the
//! reasons again from the stored records.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::profile::{ProfileContext, MAX_RETRIEVAL_NAMES};
use crate::{Error, Result};

/// Attempts at one request before retrieval fails: the API restarts in seconds.
const MAX_REQUEST_ATTEMPTS: u32 = 3;
/// Wait before the second attempt; doubled for each further one.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);

/// A batch of profiles, as `POST /candidates` reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateRequest {
    /// The profiles.
    pub profiles: Vec<CandidateProfile>,
    /// Records returned per profile at most, best first.
    pub limit_per_profile: usize,
    /// Whether hits list what they were found by; the matcher derives its evidence from
    /// the records themselves, so it asks without.
    pub show_matches: bool,
}

/// What the search API is told of one profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateProfile {
    /// The profile's id, echoed back.
    pub id: String,
    /// Every name form.
    pub names: Vec<String>,
    /// Titles of verified works.
    pub titles: Vec<String>,
    /// The ORCID iD, bare.
    pub orcid: Option<String>,
}

impl CandidateProfile {
    /// Returns what retrieval needs of `profile`.
    pub fn of(profile: &ProfileContext) -> CandidateProfile {
        CandidateProfile {
            id: profile.id.to_string(),
            names: profile
                .names
                .iter()
                .take(MAX_RETRIEVAL_NAMES)
                .cloned()
                .collect(),
            titles: profile.known_titles.clone(),
            orcid: profile.orcid.clone(),
        }
    }
}

/// The answer of `POST /candidates`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CandidateResponse {
    /// One entry per profile, in request order.
    pub results: Vec<ProfileCandidates>,
}

/// The records found for one profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProfileCandidates {
    /// The profile's id.
    #[serde(alias = "profileId")]
    pub profile_id: String,
    /// Candidate records, best first.
    pub hits: Vec<CandidateHit>,
}

/// One record found for a profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CandidateHit {
    /// The raw record's id.
    #[serde(alias = "recordId")]
    pub record_id: String,
    /// The API's own strength of evidence, used only to order hits.
    #[serde(default)]
    pub score: f64,
    /// What the record was found by.
    #[serde(default)]
    pub matches: Vec<CandidateMatch>,
}

/// One thing a record was found by.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CandidateMatch {
    /// `name`, `title` or `orcid`.
    pub kind: String,
    /// The name form, title or ORCID iD searched.
    #[serde(default)]
    pub query: String,
    /// The matched author string, title or iD.
    #[serde(default, alias = "matchedValue")]
    pub matched_value: String,
}

/// Where candidates come from: the search API, or a fixed list in tests and evaluations.
pub trait CandidateSource: Send + Sync {
    /// Returns the candidates of every profile of `request`.
    ///
    /// # Errors
    /// Fails when the source cannot answer.
    fn candidates(
        &self,
        request: &CandidateRequest,
    ) -> impl Future<Output = Result<CandidateResponse>> + Send;
}

/// The search API's candidate endpoint.
#[derive(Debug, Clone)]
pub struct SearchApiClient {
    http: reqwest::Client,
    endpoint: String,
    api_key: Option<String>,
}

impl SearchApiClient {
    /// Returns a client of the search API at `base_url`, sending `api_key` as a bearer
    /// token when given.
    ///
    /// # Errors
    /// Fails when the HTTP client cannot be built.
    pub fn new(base_url: &str, api_key: Option<String>, timeout: Duration) -> Result<Self> {
        let is_http = reqwest::Url::parse(base_url)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host());
        if !is_http {
            return Err(Error::SearchApi(format!(
                "invalid search API URL `{base_url}`: give an http(s) URL such as \
                 http://127.0.0.1:7700"
            )));
        }
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(SearchApiClient {
            http,
            endpoint: format!("{}/candidates", base_url.trim_end_matches('/')),
            api_key: api_key.filter(|key| !key.is_empty()),
        })
    }

    /// Asks once for the candidates of no profile: succeeds when the API is up and its
    /// indexes are loaded.
    ///
    /// # Errors
    /// Why the API cannot answer yet.
    pub async fn probe(&self) -> Result<()> {
        let empty = CandidateRequest {
            profiles: Vec::new(),
            limit_per_profile: 1,
            show_matches: false,
        };
        match self.post_once(&empty).await {
            Ok(_) => Ok(()),
            Err(Attempt::Retry(message) | Attempt::Fail(message)) => Err(Error::SearchApi(message)),
        }
    }

    async fn post_once(&self, request: &CandidateRequest) -> Result<CandidateResponse, Attempt> {
        let mut builder = self.http.post(&self.endpoint).json(request);
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(key);
        }
        let response = builder
            .send()
            .await
            .map_err(|error| Attempt::Retry(crate::error::with_causes(&error)))?;
        let status = response.status();
        if status.is_success() {
            return response
                .json()
                .await
                .map_err(|error| Attempt::Fail(format!("unreadable candidate response: {error}")));
        }
        let body = response.text().await.unwrap_or_default();
        let message = format!("`POST {}` answered {status}: {body}", self.endpoint);
        if status.is_server_error() || status.as_u16() == 429 {
            Err(Attempt::Retry(message))
        } else {
            Err(Attempt::Fail(message))
        }
    }
}

enum Attempt {
    Retry(String),
    Fail(String),
}

impl CandidateSource for SearchApiClient {
    async fn candidates(&self, request: &CandidateRequest) -> Result<CandidateResponse> {
        let mut delay = FIRST_RETRY_DELAY;
        let mut attempt = 1;
        loop {
            match self.post_once(request).await {
                Ok(response) => return Ok(response),
                Err(Attempt::Fail(message)) => return Err(Error::SearchApi(message)),
                Err(Attempt::Retry(message)) if attempt >= MAX_REQUEST_ATTEMPTS => {
                    return Err(Error::SearchApi(message));
                }
                Err(Attempt::Retry(message)) => {
                    tracing::warn!(attempt, error = %message, "candidate request failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
            }
        }
    }
}

/// Candidates given in advance, per profile id: for tests and for evaluations that
/// retrieve by other means.
#[derive(Debug, Clone, Default)]
pub struct FixedCandidates {
    hits_by_profile: std::collections::BTreeMap<String, Vec<String>>,
}

impl FixedCandidates {
    /// Returns a source that answers nothing.
    pub fn new() -> Self {
        FixedCandidates::default()
    }

    /// Adds record ids as candidates of a profile, in order.
    pub fn add(
        &mut self,
        profile_id: uuid::Uuid,
        record_ids: impl IntoIterator<Item = uuid::Uuid>,
    ) {
        self.hits_by_profile
            .entry(profile_id.to_string())
            .or_default()
            .extend(record_ids.into_iter().map(|id| id.to_string()));
    }
}

impl CandidateSource for FixedCandidates {
    async fn candidates(&self, request: &CandidateRequest) -> Result<CandidateResponse> {
        let results = request
            .profiles
            .iter()
            .map(|profile| ProfileCandidates {
                profile_id: profile.id.clone(),
                hits: self
                    .hits_by_profile
                    .get(&profile.id)
                    .into_iter()
                    .flatten()
                    .take(request.limit_per_profile)
                    .map(|record_id| CandidateHit {
                        record_id: record_id.clone(),
                        score: 0.0,
                        matches: Vec::new(),
                    })
                    .collect(),
            })
            .collect();
        Ok(CandidateResponse { results })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_urls_must_be_http() {
        let timeout = Duration::from_secs(1);
        for url in ["http://127.0.0.1:7700", "https://search.example/"] {
            assert!(SearchApiClient::new(url, None, timeout).is_ok(), "{url}");
        }
        for url in ["notaurl", "ftp://127.0.0.1/", "http://", ""] {
            let error = SearchApiClient::new(url, None, timeout).unwrap_err();
            assert!(
                error.to_string().contains("invalid search API URL"),
                "{url}: {error}"
            );
        }
    }
}
