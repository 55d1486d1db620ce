//! `POST /candidates`, an Atlas extension for the matcher: a batch of profiles in, the
//! records that may belong to each out, retrieved with given-name variants.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use indexer::index::IndexKind;

use super::settings::AnyJson;
use super::{blocking, json_bytes};
use crate::auth::keys::Action;
use crate::auth::Caller;
use crate::engine::{bare_orcid, CandidateRequest};
use crate::error::{ApiError, Code, Result};
use crate::extract::JsonBody;
use crate::limits::{
    MAX_CANDIDATES_PER_PROFILE, MAX_CANDIDATE_ID_NUM_BYTES, MAX_CANDIDATE_NAMES,
    MAX_CANDIDATE_PROFILES, MAX_CANDIDATE_TEXT_NUM_BYTES, MAX_CANDIDATE_TITLES,
    MAX_SEARCH_TIME_BUDGET_MILLIS,
};
use crate::state::AppState;

/// `POST /candidates`. Candidates are records, so the key must allow searching `records`;
/// tenant tokens, whose filters could not apply, are refused.
pub async fn candidates(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(AnyJson(body)): JsonBody<AnyJson>,
) -> Result<Response> {
    if matches!(caller, Caller::Tenant { .. }) {
        return Err(ApiError::invalid_api_key());
    }
    caller.authorize(Action::Search, Some(IndexKind::Records.name()))?;
    // serde would read a list as the fields in order: only an object is a request.
    if !body.is_object() {
        return Err(ApiError::new(
            Code::BadRequest,
            "invalid candidate request: send a JSON object with `profiles` and \
             `limitPerProfile`",
        ));
    }
    let request: CandidateRequest = serde_path_to_error::deserialize(body).map_err(|error| {
        let at = error.path().to_string();
        let reason = error.inner().to_string();
        let (code, place) = if at == "." {
            (code_of_reason(&reason), String::new())
        } else if reason.starts_with("unknown field") {
            (Code::BadRequest, format!(" at `{at}`"))
        } else {
            (code_of_field(&at), format!(" at `{at}`"))
        };
        // serde reads an integer too large for its type as a float (`1e+23`): the
        // expected value says what was wanted.
        let expected = if code == Code::InvalidCandidatesLimitPerProfile {
            format!("; use an integer from 1 to {MAX_CANDIDATES_PER_PROFILE}")
        } else {
            String::new()
        };
        ApiError::new(
            code,
            format!("invalid candidate request{place}: {reason}{expected}"),
        )
    })?;
    check_bounds(&request)?;
    let engine = state.engine()?;
    let deadline = Instant::now() + Duration::from_millis(MAX_SEARCH_TIME_BUDGET_MILLIS);
    let variants = state.name_variants().clone();
    let response = blocking(&state, move || {
        engine.candidates(&request, &variants, deadline)
    })
    .await?;
    let bytes = serde_json::to_vec(&response).map_err(ApiError::internal)?;
    Ok(json_bytes(StatusCode::OK, bytes))
}

/// Returns the code of an error in the request's field at `path` (`profiles[2].orcid`):
/// the code of its top-level field, as Meilisearch names one code per parameter.
fn code_of_field(path: &str) -> Code {
    let field = path.split(['[', '.']).next().unwrap_or_default();
    match field {
        "profiles" => Code::InvalidCandidatesProfiles,
        "limitPerProfile" | "limit_per_profile" => Code::InvalidCandidatesLimitPerProfile,
        "showMatches" | "show_matches" => Code::InvalidCandidatesShowMatches,
        _ => Code::BadRequest,
    }
}

/// Returns the code of an error in the request as a whole: a missing field has its own,
/// an unknown one is `bad_request` as an unknown search parameter is.
fn code_of_reason(reason: &str) -> Code {
    if reason.starts_with("missing field `profiles`") {
        Code::MissingCandidatesProfiles
    } else if reason.starts_with("missing field `limitPerProfile`") {
        Code::MissingCandidatesLimitPerProfile
    } else if let Some(field) = reason
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.split('`').next())
    {
        code_of_field(field)
    } else {
        Code::BadRequest
    }
}

/// Refuses a request beyond the bounds of [`crate::limits`], naming the field.
fn check_bounds(request: &CandidateRequest) -> Result<()> {
    let refuse = |field: String, message: String| {
        Err(ApiError::new(
            code_of_field(&field),
            format!("invalid candidate request at `{field}`: {message}"),
        ))
    };
    // No profile is a valid request, answered with no result: the matcher's probe.
    let num_profiles = request.profiles.len();
    if num_profiles > MAX_CANDIDATE_PROFILES {
        return refuse(
            "profiles".to_owned(),
            format!(
                "{num_profiles} profiles; send at most {MAX_CANDIDATE_PROFILES} per request \
                 and split larger batches"
            ),
        );
    }
    let limit = request.limit_per_profile;
    if limit == 0 || limit > MAX_CANDIDATES_PER_PROFILE {
        return refuse(
            "limitPerProfile".to_owned(),
            format!("{limit}; use 1 to {MAX_CANDIDATES_PER_PROFILE}"),
        );
    }
    let mut first_of_id: HashMap<&str, usize> = HashMap::with_capacity(num_profiles);
    for (index, profile) in request.profiles.iter().enumerate() {
        // Results are told apart by the profile's id alone.
        if let Some(&first) = first_of_id.get(profile.id.as_str()) {
            return refuse(
                format!("profiles[{index}].id"),
                format!(
                    "`{}` is also the id of profiles[{first}]; give each profile its own id",
                    profile.id
                ),
            );
        }
        first_of_id.insert(profile.id.as_str(), index);
        if profile.id.len() > MAX_CANDIDATE_ID_NUM_BYTES {
            return refuse(
                format!("profiles[{index}].id"),
                format!("longer than {MAX_CANDIDATE_ID_NUM_BYTES} bytes"),
            );
        }
        if profile
            .orcid
            .as_ref()
            .is_some_and(|orcid| orcid.len() > MAX_CANDIDATE_TEXT_NUM_BYTES)
        {
            return refuse(
                format!("profiles[{index}].orcid"),
                format!("longer than {MAX_CANDIDATE_TEXT_NUM_BYTES} bytes"),
            );
        }
        // A blank iD is no iD; one that is not blank must be one, or the profile would
        // silently find nothing by it.
        if let Some(orcid) = profile.orcid.as_deref() {
            if !orcid.trim().is_empty() && bare_orcid(orcid).is_none() {
                return refuse(
                    format!("profiles[{index}].orcid"),
                    format!(
                        "`{orcid}` is not an ORCID iD (or its check character is wrong); \
                         send one like `0000-0002-1825-0097` or its `https://orcid.org/` URL"
                    ),
                );
            }
        }
        for (field, values, max_values) in [
            ("names", &profile.names, MAX_CANDIDATE_NAMES),
            ("titles", &profile.titles, MAX_CANDIDATE_TITLES),
        ] {
            if values.len() > max_values {
                return refuse(
                    format!("profiles[{index}].{field}"),
                    format!("{} values; at most {max_values}", values.len()),
                );
            }
            if let Some(position) = values
                .iter()
                .position(|value| value.len() > MAX_CANDIDATE_TEXT_NUM_BYTES)
            {
                return refuse(
                    format!("profiles[{index}].{field}[{position}]"),
                    format!("longer than {MAX_CANDIDATE_TEXT_NUM_BYTES} bytes"),
                );
            }
        }
    }
    Ok(())
}
