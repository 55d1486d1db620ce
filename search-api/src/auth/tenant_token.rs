//! Tenant tokens, as Meilisearch defines them: a JWT signed with HS256, HS384 or HS512 by an
//! API key, whose `searchRules` name the indexes it may search and a filter added to each of
//! its searches.
//!
//! Verification is written with `hmac` and `sha2` rather than a JWT crate: only these three
//! HMACs are ever valid here, so the whole format is two base64url decodes, one HMAC checked
//! in constant time and three claims, and the `alg` confusion attacks that general JWT
//! libraries must guard against (`none`, a public key taken for a secret) cannot arise.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Sha256, Sha384, Sha512};
use uuid::Uuid;

use super::keys::index_pattern_matches;
use crate::filter::FilterInput;

/// Longest token accepted, in bytes: rules with long filters fit, a flood does not.
const MAX_TOKEN_NUM_BYTES: usize = 16 * 1024;

/// Why a token is refused; answered as `invalid_api_key` whatever the reason, and logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    #[error("malformed tenant token: {0}")]
    Malformed(&'static str),
    /// A header whose `alg` is not `HS256`, `HS384` or `HS512`.
    #[error("tenant tokens must be signed with HS256, HS384 or HS512")]
    Algorithm,
    /// The claims miss or mistype a field.
    #[error("invalid tenant token claims: {0}")]
    Claims(String),
    /// The signature does not match the key.
    #[error("tenant token signature does not match its api key")]
    Signature,
    /// `exp` has passed.
    #[error("tenant token expired")]
    Expired,
}

/// What a token allows: per index uid or pattern, an optional filter.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRules {
    rules: BTreeMap<String, Option<FilterInput>>,
    /// The rules as sent, in a canonical form, for cache keys.
    canonical: String,
}

impl SearchRules {
    /// Returns the rules of a `searchRules` claim: an array of index patterns, or an
    /// object from index patterns to `null`, `{}` or `{"filter": …}`.
    ///
    /// # Errors
    ///
    /// [`TokenError::Claims`] for any other shape or a filter that is not a filter.
    pub fn from_json(value: &Value) -> Result<SearchRules, TokenError> {
        let mut rules = BTreeMap::new();
        match value {
            Value::Array(patterns) => {
                for pattern in patterns {
                    let Value::String(pattern) = pattern else {
                        return Err(claims("`searchRules` array holds a non-string"));
                    };
                    rules.insert(pattern.clone(), None);
                }
            }
            Value::Object(map) => {
                for (pattern, rule) in map {
                    let filter = match rule {
                        Value::Null => None,
                        Value::Object(rule) => match rule.get("filter") {
                            None => None,
                            Some(filter) => FilterInput::from_json(filter).map_err(|reason| {
                                claims(&format!("filter of `{pattern}`: {reason}"))
                            })?,
                        },
                        _ => return Err(claims("a rule of `searchRules` is not an object")),
                    };
                    rules.insert(pattern.clone(), filter);
                }
            }
            _ => return Err(claims("`searchRules` is neither an array nor an object")),
        }
        Ok(SearchRules {
            rules,
            canonical: canonical_json(value),
        })
    }

    /// Returns `None` when the rules do not allow the index `uid`, otherwise its filter:
    /// the rule naming `uid` exactly, or else the longest pattern matching it.
    pub fn rule_for(&self, uid: &str) -> Option<Option<&FilterInput>> {
        if let Some(filter) = self.rules.get(uid) {
            return Some(filter.as_ref());
        }
        self.rules
            .iter()
            .filter(|(pattern, _)| index_pattern_matches(pattern, uid))
            .max_by_key(|(pattern, _)| pattern.len())
            .map(|(_, filter)| filter.as_ref())
    }

    /// Returns the rules in a canonical text, which differs when the rules do.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }
}

/// The claims of a tenant token that Atlas reads.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantClaims {
    /// The key that signed the token.
    pub api_key_uid: Uuid,
    /// What the token allows.
    pub search_rules: SearchRules,
    /// When the token stops working, in seconds since the epoch.
    pub expires_at: Option<i64>,
}

/// A token split and decoded, signature not yet checked.
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    /// The claims, to be trusted only after [`UnverifiedToken::verify`].
    pub claims: TenantClaims,
    algorithm: Algorithm,
    signing_input: String,
    signature: Vec<u8>,
}

/// The HMACs a token may be signed with, as Meilisearch accepts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Hs256,
    Hs384,
    Hs512,
}

impl Algorithm {
    /// Returns the algorithm a header's `alg` names, if it is one of the three.
    fn of_header(header: &Value) -> Option<Algorithm> {
        match header.get("alg").and_then(Value::as_str)? {
            "HS256" => Some(Algorithm::Hs256),
            "HS384" => Some(Algorithm::Hs384),
            "HS512" => Some(Algorithm::Hs512),
            _ => None,
        }
    }

    /// Returns the signature of `input` with `key`.
    fn sign(self, key: &str, input: &str) -> Vec<u8> {
        fn mac<M: Mac + hmac::digest::KeyInit>(key: &str, input: &str) -> Vec<u8> {
            let mut mac =
                <M as Mac>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length");
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Algorithm::Hs256 => mac::<Hmac<Sha256>>(key, input),
            Algorithm::Hs384 => mac::<Hmac<Sha384>>(key, input),
            Algorithm::Hs512 => mac::<Hmac<Sha512>>(key, input),
        }
    }

    /// Whether `signature` is that of `input` with `key`, compared in constant time.
    fn verify(self, key: &str, input: &str, signature: &[u8]) -> bool {
        fn check<M: Mac + hmac::digest::KeyInit>(key: &str, input: &str, signature: &[u8]) -> bool {
            let Ok(mut mac) = <M as Mac>::new_from_slice(key.as_bytes()) else {
                return false;
            };
            mac.update(input.as_bytes());
            mac.verify_slice(signature).is_ok()
        }
        match self {
            Algorithm::Hs256 => check::<Hmac<Sha256>>(key, input, signature),
            Algorithm::Hs384 => check::<Hmac<Sha384>>(key, input, signature),
            Algorithm::Hs512 => check::<Hmac<Sha512>>(key, input, signature),
        }
    }
}

/// Returns whether `bearer` has the shape of a JWT rather than of an API key.
pub fn looks_like_token(bearer: &str) -> bool {
    bearer.starts_with("eyJ") && bearer.matches('.').count() == 2
}

impl UnverifiedToken {
    /// Splits and decodes `token`, checking its header and the shape of its claims.
    ///
    /// # Errors
    ///
    /// [`TokenError`] for anything but an HS256, HS384 or HS512 JWT with `apiKeyUid` and
    /// `searchRules`.
    pub fn parse(token: &str) -> Result<UnverifiedToken, TokenError> {
        if token.len() > MAX_TOKEN_NUM_BYTES {
            return Err(TokenError::Malformed("token too long"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed("expected three parts"));
        };
        let header: Value = decode_json(header)?;
        let algorithm = Algorithm::of_header(&header).ok_or(TokenError::Algorithm)?;
        let claims = read_claims(&decode_json(payload)?)?;
        let signature = decode(signature)?;
        Ok(UnverifiedToken {
            claims,
            algorithm,
            signing_input: token[..token.len() - signature_len(token)].to_owned(),
            signature,
        })
    }

    /// Returns the claims when the signature was made with `api_key` and the token has not
    /// expired at `now_secs`.
    ///
    /// # Errors
    ///
    /// [`TokenError::Signature`] or [`TokenError::Expired`].
    pub fn verify(self, api_key: &str, now_secs: i64) -> Result<TenantClaims, TokenError> {
        if !self
            .algorithm
            .verify(api_key, &self.signing_input, &self.signature)
        {
            return Err(TokenError::Signature);
        }
        if self
            .claims
            .expires_at
            .is_some_and(|expires_at| expires_at <= now_secs)
        {
            return Err(TokenError::Expired);
        }
        Ok(self.claims)
    }
}

/// Returns the length of the signature part and its leading dot.
fn signature_len(token: &str) -> usize {
    token
        .rsplit('.')
        .next()
        .map_or(0, |signature| signature.len() + 1)
}

fn claims(reason: &str) -> TokenError {
    TokenError::Claims(reason.to_owned())
}

fn decode(part: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| TokenError::Malformed("a part is not base64url"))
}

fn decode_json(part: &str) -> Result<Value, TokenError> {
    serde_json::from_slice(&decode(part)?).map_err(|_| TokenError::Malformed("a part is not JSON"))
}

fn read_claims(payload: &Value) -> Result<TenantClaims, TokenError> {
    let api_key_uid = payload
        .get("apiKeyUid")
        .and_then(Value::as_str)
        .and_then(|uid| Uuid::parse_str(uid).ok())
        .ok_or_else(|| claims("`apiKeyUid` is missing or not a UUID"))?;
    let search_rules = SearchRules::from_json(
        payload
            .get("searchRules")
            .ok_or_else(|| claims("`searchRules` is missing"))?,
    )?;
    let expires_at = match payload.get("exp") {
        None | Some(Value::Null) => None,
        Some(exp) => Some(
            exp.as_i64()
                .or_else(|| exp.as_f64().map(|seconds| seconds as i64))
                .ok_or_else(|| claims("`exp` is not a number of seconds"))?,
        ),
    };
    Ok(TenantClaims {
        api_key_uid,
        search_rules,
        expires_at,
    })
}

/// Returns JSON with object keys sorted, so equal rules give equal text.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, String> = map
                .iter()
                .map(|(key, value)| (key, canonical_json(value)))
                .collect();
            let fields: Vec<String> = sorted
                .into_iter()
                .map(|(key, value)| format!("{}:{value}", Value::from(key.as_str())))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        scalar => scalar.to_string(),
    }
}

/// Returns a token signed with `api_key` by the HMAC its header's `alg` names (HS256 for
/// any other `alg`, so that tests can forge tokens the service must refuse): for tests and
/// for tools that mint tokens.
pub fn sign(header: &Value, claims: &Value, api_key: &str) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let algorithm = Algorithm::of_header(header).unwrap_or(Algorithm::Hs256);
    let signature = URL_SAFE_NO_PAD.encode(algorithm.sign(api_key, &signing_input));
    format!("{signing_input}.{signature}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const KEY: &str = "a-plain-api-key";

    fn token(claims: &Value) -> String {
        sign(&json!({"alg": "HS256", "typ": "JWT"}), claims, KEY)
    }

    fn uid() -> String {
        Uuid::from_u128(42).to_string()
    }

    #[test]
    fn valid_token_gives_its_rules() {
        let token = token(&json!({
            "apiKeyUid": uid(),
            "searchRules": {"records": {"filter": "source = hal"}, "w*": null},
            "exp": 4_000_000_000i64,
        }));
        assert!(looks_like_token(&token));
        let claims = UnverifiedToken::parse(&token)
            .unwrap()
            .verify(KEY, 1_700_000_000)
            .unwrap();
        assert_eq!(claims.api_key_uid, Uuid::from_u128(42));
        assert_eq!(
            claims.search_rules.rule_for("records"),
            Some(Some(&FilterInput::Expression("source = hal".into())))
        );
        assert_eq!(claims.search_rules.rule_for("works"), Some(None));
        assert_eq!(claims.search_rules.rule_for("profiles"), None);
    }

    /// Meilisearch's clients may sign with any of the three HMACs; a signature made with
    /// one and announced as another is refused.
    #[test]
    fn tokens_signed_with_hs384_and_hs512_are_accepted_and_checked() {
        let claims = json!({"apiKeyUid": uid(), "searchRules": ["records"]});
        for alg in ["HS384", "HS512"] {
            let token = sign(&json!({"alg": alg, "typ": "JWT"}), &claims, KEY);
            let verified = UnverifiedToken::parse(&token).unwrap().verify(KEY, 0);
            assert_eq!(
                verified.unwrap().search_rules.rule_for("records"),
                Some(None)
            );
            let wrong_key = UnverifiedToken::parse(&token).unwrap().verify("other", 0);
            assert_eq!(wrong_key.unwrap_err(), TokenError::Signature, "{alg}");
        }
        // An HS256 signature under a header announcing HS512.
        let hs256 = token(&claims);
        let mut parts: Vec<String> = hs256.split('.').map(str::to_owned).collect();
        parts[0] = URL_SAFE_NO_PAD.encode(json!({"alg": "HS512", "typ": "JWT"}).to_string());
        let relabelled = parts.join(".");
        let error = UnverifiedToken::parse(&relabelled).unwrap().verify(KEY, 0);
        assert_eq!(error.unwrap_err(), TokenError::Signature);
    }

    #[test]
    fn refusals() {
        let good = token(&json!({"apiKeyUid": uid(), "searchRules": ["*"]}));
        let wrong_key = UnverifiedToken::parse(&good).unwrap().verify("other", 0);
        assert_eq!(wrong_key.unwrap_err(), TokenError::Signature);

        let mut tampered_claims = good.split('.').map(str::to_owned).collect::<Vec<_>>();
        tampered_claims[1] = URL_SAFE_NO_PAD
            .encode(json!({"apiKeyUid": uid(), "searchRules": {"*": null, "x": null}}).to_string());
        let tampered = tampered_claims.join(".");
        let error = UnverifiedToken::parse(&tampered).unwrap().verify(KEY, 0);
        assert_eq!(error.unwrap_err(), TokenError::Signature);

        let none_alg = sign(
            &json!({"alg": "none"}),
            &json!({"apiKeyUid": uid(), "searchRules": ["*"]}),
            KEY,
        );
        assert_eq!(
            UnverifiedToken::parse(&none_alg).unwrap_err(),
            TokenError::Algorithm
        );

        let expired = token(&json!({"apiKeyUid": uid(), "searchRules": ["*"], "exp": 10}));
        let error = UnverifiedToken::parse(&expired).unwrap().verify(KEY, 11);
        assert_eq!(error.unwrap_err(), TokenError::Expired);

        let no_rules = token(&json!({"apiKeyUid": uid()}));
        assert!(matches!(
            UnverifiedToken::parse(&no_rules).unwrap_err(),
            TokenError::Claims(_)
        ));
        assert!(UnverifiedToken::parse("eyJ.x.y").is_err());
    }

    #[test]
    fn canonical_rules_ignore_key_order() {
        let a = SearchRules::from_json(&json!({"a": null, "b": {"filter": "x = 1"}})).unwrap();
        let b = SearchRules::from_json(&json!({"b": {"filter": "x = 1"}, "a": null})).unwrap();
        assert_eq!(a.canonical(), b.canonical());
    }
}
