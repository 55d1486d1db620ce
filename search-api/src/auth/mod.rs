//! Who is calling and what they may do: the master key, API keys and tenant tokens, read
//! from `Authorization: Bearer …`, and the per-route check of actions and indexes.
//!
//! Without a master key (development only) every route is open, as in Meilisearch.

pub mod keys;
pub mod master_key;
pub mod tenant_token;

use std::sync::Arc;

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use chrono::Utc;

use self::keys::{Action, ApiKey, KeyStore};
use self::tenant_token::{looks_like_token, SearchRules, UnverifiedToken};
use crate::error::{ApiError, Code, Result};
use crate::filter::FilterInput;

/// The caller of a request, as authentication found it.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No master key is configured: everything is allowed.
    Open,
    /// The master key.
    Master,
    /// An API key.
    Key(Arc<ApiKey>),
    /// A tenant token signed by an API key.
    Tenant {
        /// The key that signed it.
        key: Arc<ApiKey>,
        /// Its rules.
        rules: Arc<SearchRules>,
    },
    /// A master key is configured and the request sent no `Authorization` header.
    Anonymous,
    /// The request sent a key or token that is unknown, malformed or wrongly signed.
    Refused,
}

/// What an authorized request may do beyond its own parameters: the filter a tenant token
/// adds to its searches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grant {
    /// The filter ANDed into every search, from a tenant token's rules.
    pub tenant_filter: Option<FilterInput>,
    /// The token's rules in canonical text, part of cache keys.
    pub tenant_rules: Option<String>,
}

impl Caller {
    /// Returns what the caller may do with `action` on `index_uid` (or on no index).
    ///
    /// # Errors
    ///
    /// `missing_authorization_header` (401) without a key when one is needed;
    /// `invalid_api_key` (403) for a refused key or token, an expired key, or a key or
    /// token that does not allow the action or the index.
    pub fn authorize(&self, action: Action, index_uid: Option<&str>) -> Result<Grant> {
        match self {
            Caller::Open | Caller::Master => Ok(Grant::default()),
            Caller::Anonymous => Err(ApiError::missing_authorization_header()),
            Caller::Refused => Err(ApiError::invalid_api_key()),
            Caller::Key(key) => {
                let allowed = !key.is_expired(Utc::now())
                    && key.allows_action(action)
                    && index_uid.is_none_or(|uid| key.allows_index(uid));
                if allowed {
                    Ok(Grant::default())
                } else {
                    Err(ApiError::invalid_api_key())
                }
            }
            Caller::Tenant { key, rules } => {
                let key_allows = action == Action::Search
                    && !key.is_expired(Utc::now())
                    && key.allows_action(Action::Search)
                    && index_uid.is_none_or(|uid| key.allows_index(uid));
                if !key_allows {
                    return Err(ApiError::invalid_api_key());
                }
                let Some(uid) = index_uid else {
                    return Ok(Grant {
                        tenant_filter: None,
                        tenant_rules: Some(rules.canonical().to_owned()),
                    });
                };
                let filter = rules.rule_for(uid).ok_or_else(ApiError::invalid_api_key)?;
                Ok(Grant {
                    tenant_filter: filter.cloned(),
                    tenant_rules: Some(rules.canonical().to_owned()),
                })
            }
        }
    }

    /// Returns whether the caller may see the index `uid` at all, for routes that list
    /// indexes: allowed by the key, and by the token's rules for a tenant token.
    pub fn may_see_index(&self, action: Action, uid: &str) -> bool {
        self.authorize(action, Some(uid)).is_ok()
    }

    /// Returns who the request counts against for rate limiting: the key (a tenant token
    /// counts against the key that signed it), or `None` for the master key and open routes,
    /// which the caller's address stands for instead.
    pub fn rate_limit_subject(&self) -> Option<String> {
        match self {
            Caller::Key(key) | Caller::Tenant { key, .. } => Some(format!("key:{}", key.uid)),
            Caller::Master => Some("master".to_owned()),
            Caller::Open | Caller::Anonymous | Caller::Refused => None,
        }
    }
}

/// Authentication: the key store, or nothing when routes are open.
#[derive(Debug, Clone)]
pub struct Auth {
    keys: Option<Arc<KeyStore>>,
}

impl Auth {
    /// Returns authentication against `keys`, or open routes when `None`.
    pub fn new(keys: Option<Arc<KeyStore>>) -> Self {
        Auth { keys }
    }

    /// Returns the key store, when a master key is configured.
    pub fn keys(&self) -> Option<&Arc<KeyStore>> {
        self.keys.as_ref()
    }

    /// Returns the key store for the `/keys` routes.
    ///
    /// # Errors
    ///
    /// `missing_master_key` when routes are open: keys only exist under a master key.
    pub fn key_store(&self) -> Result<&Arc<KeyStore>> {
        self.keys.as_ref().ok_or_else(|| {
            ApiError::new(
                Code::MissingMasterKey,
                "api keys need a master key; start the service with `ATLAS_MASTER_KEY`",
            )
        })
    }

    /// Returns the caller of a request with these headers.
    ///
    /// # Errors
    ///
    /// Only internal faults (PostgreSQL unreachable); a bad key is [`Caller::Refused`].
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller> {
        let Some(keys) = &self.keys else {
            return Ok(Caller::Open);
        };
        let Some(header) = headers.get(AUTHORIZATION) else {
            return Ok(Caller::Anonymous);
        };
        let bearer = header.to_str().ok().and_then(bearer_credentials);
        let Some(bearer) = bearer.filter(|bearer| !bearer.is_empty()) else {
            return Ok(Caller::Refused);
        };
        if keys.master_key().matches(bearer) {
            return Ok(Caller::Master);
        }
        if looks_like_token(bearer) {
            return authenticate_token(keys, bearer).await;
        }
        Ok(match keys.find_by_plain_key(bearer).await? {
            Some(key) => Caller::Key(key),
            None => Caller::Refused,
        })
    }
}

async fn authenticate_token(keys: &KeyStore, token: &str) -> Result<Caller> {
    let unverified = match UnverifiedToken::parse(token) {
        Ok(unverified) => unverified,
        Err(error) => {
            tracing::debug!(%error, "tenant token refused");
            return Ok(Caller::Refused);
        }
    };
    let Some(key) = keys.find_by_uid(unverified.claims.api_key_uid).await? else {
        tracing::debug!("tenant token names an unknown api key");
        return Ok(Caller::Refused);
    };
    let plain_key = keys.master_key().derive_api_key(key.uid);
    match unverified.verify(&plain_key, Utc::now().timestamp()) {
        Ok(claims) => Ok(Caller::Tenant {
            key,
            rules: Arc::new(claims.search_rules),
        }),
        Err(error) => {
            tracing::debug!(%error, "tenant token refused");
            Ok(Caller::Refused)
        }
    }
}

/// Returns the credentials of an `Authorization` value of the `Bearer` scheme, whose name
/// is case-insensitive as for every HTTP authentication scheme.
fn bearer_credentials(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        assert_eq!(bearer_credentials("Bearer abc"), Some("abc"));
        assert_eq!(bearer_credentials("bearer  abc "), Some("abc"));
        assert_eq!(bearer_credentials("BEARER abc"), Some("abc"));
        assert_eq!(bearer_credentials("Basic abc"), None);
        assert_eq!(bearer_credentials("Bearerabc"), None);
        assert_eq!(bearer_credentials("Bearer "), Some(""));
    }
}
