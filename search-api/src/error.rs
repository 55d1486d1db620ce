//! The API's one error type, its Meilisearch-shaped JSON body and the table that gives each
//! error code its HTTP status and error type.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// Where Meilisearch documents its error codes; each body links to `ERROR_LINK_BASE#code`
/// so that client libraries and people land on the same page as with Meilisearch.
pub const ERROR_LINK_BASE: &str = "https://docs.meilisearch.com/errors";

/// The message clients see for an internal fault, whatever the fault was.
const INTERNAL_ERROR_MESSAGE: &str =
    "an internal error occurred; it was logged and the request can be retried";

/// Why indexes cannot be created, changed or deleted through the API, for messages.
const FIXED_INDEXES: &str = "the indexes are fixed (`records`, `works`, `profiles`) and are \
     created and rebuilt from PostgreSQL by the indexer (`indexer build`)";

/// The `type` field of an error body, as Meilisearch classifies errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    /// The caller's request is wrong or refused; a 4xx status.
    InvalidRequest,
    /// Our fault; a 5xx status whose details are logged, never shown.
    Internal,
    /// Authentication or authorization failed.
    Auth,
    /// The service reached one of its own limits; a 5xx status.
    System,
}

impl ErrorType {
    /// Returns the name used in the `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "invalid_request",
            ErrorType::Internal => "internal",
            ErrorType::Auth => "auth",
            ErrorType::System => "system",
        }
    }
}

/// Declares [`Code`] and its table in one place: each row is the variant, the code string
/// clients match on, the HTTP status and the error type.
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, $status:ident, $kind:ident; )*) => {
        /// A machine-readable error code, as in Meilisearch's `code` field.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// Returns the code string clients match on, such as `invalid_search_filter`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// Returns the HTTP status an error with this code is answered with.
            pub fn status(self) -> StatusCode {
                match self { $(Code::$variant => StatusCode::$status,)* }
            }

            /// Returns the error type reported in the `type` field.
            pub fn error_type(self) -> ErrorType {
                match self { $(Code::$variant => ErrorType::$kind,)* }
            }
        }
    };
}

error_codes! {
    /// The request is invalid in a way no more specific code covers.
    BadRequest => "bad_request", BAD_REQUEST, InvalidRequest;
    /// The body is not valid JSON.
    MalformedPayload => "malformed_payload", BAD_REQUEST, InvalidRequest;
    /// The route needs a body and none was sent.
    MissingPayload => "missing_payload", BAD_REQUEST, InvalidRequest;
    /// The body is larger than the service accepts.
    PayloadTooLarge => "payload_too_large", PAYLOAD_TOO_LARGE, InvalidRequest;
    /// The body came without a `Content-Type` header.
    MissingContentType => "missing_content_type", UNSUPPORTED_MEDIA_TYPE, InvalidRequest;
    /// The body's `Content-Type` is not one the route accepts.
    InvalidContentType => "invalid_content_type", UNSUPPORTED_MEDIA_TYPE, InvalidRequest;
    /// An index uid has characters or a length Meilisearch does not allow.
    InvalidIndexUid => "invalid_index_uid", BAD_REQUEST, InvalidRequest;
    /// A multi-search query names no index.
    MissingIndexUid => "missing_index_uid", BAD_REQUEST, InvalidRequest;
    /// No index has the requested uid.
    IndexNotFound => "index_not_found", NOT_FOUND, InvalidRequest;
    /// `POST /indexes` names an index that exists: the indexes are fixed.
    IndexAlreadyExists => "index_already_exists", CONFLICT, InvalidRequest;
    /// `POST /indexes` names an index other than the fixed ones. Meilisearch answers this
    /// code for its own failures with a 500; here it is a refusal the caller can act on.
    IndexCreationFailed => "index_creation_failed", FORBIDDEN, InvalidRequest;
    /// No document has the requested id.
    DocumentNotFound => "document_not_found", NOT_FOUND, InvalidRequest;
    /// A write to an index whose documents come from PostgreSQL, the system of record.
    ImmutableIndex => "immutable_index", FORBIDDEN, InvalidRequest;
    /// `q` is not a string or is too long.
    InvalidSearchQ => "invalid_search_q", BAD_REQUEST, InvalidRequest;
    /// `offset` is not a non-negative integer.
    InvalidSearchOffset => "invalid_search_offset", BAD_REQUEST, InvalidRequest;
    /// `limit` is not a non-negative integer or is above the maximum.
    InvalidSearchLimit => "invalid_search_limit", BAD_REQUEST, InvalidRequest;
    /// `page` is not a non-negative integer.
    InvalidSearchPage => "invalid_search_page", BAD_REQUEST, InvalidRequest;
    /// `hitsPerPage` is not a non-negative integer or is above the maximum.
    InvalidSearchHitsPerPage => "invalid_search_hits_per_page", BAD_REQUEST, InvalidRequest;
    /// `filter` does not parse or names an attribute that is not filterable.
    InvalidSearchFilter => "invalid_search_filter", BAD_REQUEST, InvalidRequest;
    /// `sort` does not parse or names an attribute that is not sortable.
    InvalidSearchSort => "invalid_search_sort", BAD_REQUEST, InvalidRequest;
    /// `facets` names an attribute that is not filterable.
    InvalidSearchFacets => "invalid_search_facets", BAD_REQUEST, InvalidRequest;
    /// `distinct` names an attribute that is not filterable.
    InvalidSearchDistinct => "invalid_search_distinct", BAD_REQUEST, InvalidRequest;
    /// `attributesToRetrieve` is not a list of attribute names.
    InvalidSearchAttributesToRetrieve =>
        "invalid_search_attributes_to_retrieve", BAD_REQUEST, InvalidRequest;
    /// `attributesToSearchOn` names an attribute that is not searchable.
    InvalidSearchAttributesToSearchOn =>
        "invalid_search_attributes_to_search_on", BAD_REQUEST, InvalidRequest;
    /// `attributesToHighlight` is not a list of attribute names.
    InvalidSearchAttributesToHighlight =>
        "invalid_search_attributes_to_highlight", BAD_REQUEST, InvalidRequest;
    /// `attributesToCrop` is not a list of `attribute` or `attribute:length`.
    InvalidSearchAttributesToCrop =>
        "invalid_search_attributes_to_crop", BAD_REQUEST, InvalidRequest;
    /// `cropLength` is not a non-negative integer or is above the maximum.
    InvalidSearchCropLength => "invalid_search_crop_length", BAD_REQUEST, InvalidRequest;
    /// `cropMarker` is not a string or is too long.
    InvalidSearchCropMarker => "invalid_search_crop_marker", BAD_REQUEST, InvalidRequest;
    /// `highlightPreTag` is not a string or is too long.
    InvalidSearchHighlightPreTag =>
        "invalid_search_highlight_pre_tag", BAD_REQUEST, InvalidRequest;
    /// `highlightPostTag` is not a string or is too long.
    InvalidSearchHighlightPostTag =>
        "invalid_search_highlight_post_tag", BAD_REQUEST, InvalidRequest;
    /// `showMatchesPosition` is not a boolean.
    InvalidSearchShowMatchesPosition =>
        "invalid_search_show_matches_position", BAD_REQUEST, InvalidRequest;
    /// `showRankingScore` is not a boolean.
    InvalidSearchShowRankingScore =>
        "invalid_search_show_ranking_score", BAD_REQUEST, InvalidRequest;
    /// `showRankingScoreDetails` is not a boolean.
    InvalidSearchShowRankingScoreDetails =>
        "invalid_search_show_ranking_score_details", BAD_REQUEST, InvalidRequest;
    /// `rankingScoreThreshold` is not a number between 0 and 1.
    InvalidSearchRankingScoreThreshold =>
        "invalid_search_ranking_score_threshold", BAD_REQUEST, InvalidRequest;
    /// `matchingStrategy` is not `last`, `all` or `frequency`.
    InvalidSearchMatchingStrategy =>
        "invalid_search_matching_strategy", BAD_REQUEST, InvalidRequest;
    /// `locales` is not a list of language codes.
    InvalidSearchLocales => "invalid_search_locales", BAD_REQUEST, InvalidRequest;
    /// `retrieveVectors` is not a boolean.
    InvalidSearchRetrieveVectors =>
        "invalid_search_retrieve_vectors", BAD_REQUEST, InvalidRequest;
    /// `vector` was given; Atlas indexes hold no embeddings.
    InvalidSearchVector => "invalid_search_vector", BAD_REQUEST, InvalidRequest;
    /// `hybrid` was given; Atlas indexes hold no embeddings.
    InvalidSearchHybridQuery => "invalid_search_hybrid_query", BAD_REQUEST, InvalidRequest;
    /// The Atlas `timeBudgetMs` parameter is not an integer in the allowed range.
    InvalidSearchTimeBudget => "invalid_search_time_budget", BAD_REQUEST, InvalidRequest;
    /// A facet search names no `facetName`.
    MissingFacetSearchFacetName =>
        "missing_facet_search_facet_name", BAD_REQUEST, InvalidRequest;
    /// A facet search's `facetName` is not a string or not a filterable attribute.
    InvalidFacetSearchFacetName =>
        "invalid_facet_search_facet_name", BAD_REQUEST, InvalidRequest;
    /// A facet search's `facetQuery` is not a string or is too long. Meilisearch's
    /// documentation spells it `invalid_facet_search_facet_query`; this is the code its
    /// server answers.
    InvalidFacetSearchQuery => "invalid_facet_search_query", BAD_REQUEST, InvalidRequest;
    /// A facet search's `exhaustiveFacetCount` is not a boolean.
    InvalidFacetSearchExhaustiveFacetCount =>
        "invalid_facet_search_exhaustive_facet_count", BAD_REQUEST, InvalidRequest;
    /// A multi-search body is not `{queries, federation}` or has too many queries.
    InvalidMultiSearchQueries => "invalid_multi_search_queries", BAD_REQUEST, InvalidRequest;
    /// The `federation` object of a multi-search is invalid.
    InvalidMultiSearchFederated =>
        "invalid_multi_search_federated", BAD_REQUEST, InvalidRequest;
    /// `federationOptions` appears outside a federated search or is invalid.
    InvalidMultiSearchFederationOptions =>
        "invalid_multi_search_federation_options", BAD_REQUEST, InvalidRequest;
    /// A `federationOptions.weight` is not a non-negative number.
    InvalidMultiSearchWeight => "invalid_multi_search_weight", BAD_REQUEST, InvalidRequest;
    /// A query of a federated search sets its own pagination.
    InvalidMultiSearchQueryPagination =>
        "invalid_multi_search_query_pagination", BAD_REQUEST, InvalidRequest;
    /// A query of a federated search asks for its own facets.
    InvalidMultiSearchQueryFacets =>
        "invalid_multi_search_query_facets", BAD_REQUEST, InvalidRequest;
    /// The documents `offset` is not a non-negative integer.
    InvalidDocumentOffset => "invalid_document_offset", BAD_REQUEST, InvalidRequest;
    /// The documents `limit` is not a non-negative integer or is above the maximum.
    InvalidDocumentLimit => "invalid_document_limit", BAD_REQUEST, InvalidRequest;
    /// The documents `fields` is not a list of attribute names.
    InvalidDocumentFields => "invalid_document_fields", BAD_REQUEST, InvalidRequest;
    /// The documents `filter` does not parse or names an attribute that is not filterable.
    InvalidDocumentFilter => "invalid_document_filter", BAD_REQUEST, InvalidRequest;
    /// The documents `ids` is not a list of document ids.
    InvalidDocumentIds => "invalid_document_ids", BAD_REQUEST, InvalidRequest;
    /// The documents `retrieveVectors` is not a boolean.
    InvalidDocumentRetrieveVectors =>
        "invalid_document_retrieve_vectors", BAD_REQUEST, InvalidRequest;
    /// The candidate request has no `profiles`.
    MissingCandidatesProfiles => "missing_candidates_profiles", BAD_REQUEST, InvalidRequest;
    /// The candidate request has no `limitPerProfile`.
    MissingCandidatesLimitPerProfile =>
        "missing_candidates_limit_per_profile", BAD_REQUEST, InvalidRequest;
    /// A candidate request's `profiles` is not a list of profiles, has too many, or one of
    /// them has a field of the wrong type, too long, or an invalid ORCID iD.
    InvalidCandidatesProfiles => "invalid_candidates_profiles", BAD_REQUEST, InvalidRequest;
    /// A candidate request's `limitPerProfile` is not an integer from 1 to the maximum.
    InvalidCandidatesLimitPerProfile =>
        "invalid_candidates_limit_per_profile", BAD_REQUEST, InvalidRequest;
    /// A candidate request's `showMatches` is not a boolean.
    InvalidCandidatesShowMatches =>
        "invalid_candidates_show_matches", BAD_REQUEST, InvalidRequest;
    /// `synonyms` is not a map of words to lists of words.
    InvalidSettingsSynonyms => "invalid_settings_synonyms", BAD_REQUEST, InvalidRequest;
    /// `stopWords` is not a list of words.
    InvalidSettingsStopWords => "invalid_settings_stop_words", BAD_REQUEST, InvalidRequest;
    /// `typoTolerance` is malformed or its word sizes are out of order.
    InvalidSettingsTypoTolerance =>
        "invalid_settings_typo_tolerance", BAD_REQUEST, InvalidRequest;
    /// `rankingRules` has an unknown or repeated rule.
    InvalidSettingsRankingRules =>
        "invalid_settings_ranking_rules", BAD_REQUEST, InvalidRequest;
    /// `pagination` is malformed or `maxTotalHits` is out of range.
    InvalidSettingsPagination => "invalid_settings_pagination", BAD_REQUEST, InvalidRequest;
    /// `faceting` is malformed or `maxValuesPerFacet` is out of range.
    InvalidSettingsFaceting => "invalid_settings_faceting", BAD_REQUEST, InvalidRequest;
    /// `searchCutoffMs` is not an integer in the allowed range.
    InvalidSettingsSearchCutoffMs =>
        "invalid_settings_search_cutoff_ms", BAD_REQUEST, InvalidRequest;
    /// `distinctAttribute` names an attribute that is not filterable.
    InvalidSettingsDistinctAttribute =>
        "invalid_settings_distinct_attribute", BAD_REQUEST, InvalidRequest;
    /// `searchableAttributes` was changed; it is fixed by the index schema.
    InvalidSettingsSearchableAttributes =>
        "invalid_settings_searchable_attributes", BAD_REQUEST, InvalidRequest;
    /// `filterableAttributes` was changed; it is fixed by the index schema.
    InvalidSettingsFilterableAttributes =>
        "invalid_settings_filterable_attributes", BAD_REQUEST, InvalidRequest;
    /// `sortableAttributes` was changed; it is fixed by the index schema.
    InvalidSettingsSortableAttributes =>
        "invalid_settings_sortable_attributes", BAD_REQUEST, InvalidRequest;
    /// `displayedAttributes` was changed; it is fixed by the index schema.
    InvalidSettingsDisplayedAttributes =>
        "invalid_settings_displayed_attributes", BAD_REQUEST, InvalidRequest;
    /// The request has no `Authorization` header and the route needs one.
    MissingAuthorizationHeader =>
        "missing_authorization_header", UNAUTHORIZED, Auth;
    /// The API key is unknown or does not allow this route or index.
    InvalidApiKey => "invalid_api_key", FORBIDDEN, Auth;
    /// The caller sent more requests than its rate limit allows.
    TooManyRequests => "too_many_requests", TOO_MANY_REQUESTS, InvalidRequest;
    /// A search ran out of its time budget before it could answer.
    SearchTimeBudgetExceeded =>
        "search_time_budget_exceeded", SERVICE_UNAVAILABLE, System;
    /// The indexes are not open yet: the replica is still building or loading them.
    IndexesNotLoaded => "indexes_not_loaded", SERVICE_UNAVAILABLE, System;
    /// PostgreSQL cannot be reached and the answer needs it (a key never seen before, the
    /// `/keys` routes); retry once it is back.
    DatabaseUnavailable => "database_unavailable", SERVICE_UNAVAILABLE, System;
    /// The client paused sending the request body past the request body timeout.
    RequestTimeout => "request_timeout", REQUEST_TIMEOUT, InvalidRequest;
    /// No route has the requested path.
    NotFound => "not_found", NOT_FOUND, InvalidRequest;
    /// The path exists but not with the requested method.
    MethodNotAllowed => "method_not_allowed", METHOD_NOT_ALLOWED, InvalidRequest;
    /// `offset` of `GET /indexes` is not a non-negative integer.
    InvalidIndexOffset => "invalid_index_offset", BAD_REQUEST, InvalidRequest;
    /// `limit` of `GET /indexes` is not a non-negative integer.
    InvalidIndexLimit => "invalid_index_limit", BAD_REQUEST, InvalidRequest;
    /// No task has the requested uid.
    TaskNotFound => "task_not_found", NOT_FOUND, InvalidRequest;
    /// A task uid is not a non-negative integer.
    InvalidTaskUids => "invalid_task_uids", BAD_REQUEST, InvalidRequest;
    /// The `/keys` routes were called on a service started without a master key.
    MissingMasterKey => "missing_master_key", UNAUTHORIZED, Auth;
    /// No API key has the requested uid or key.
    ApiKeyNotFound => "api_key_not_found", NOT_FOUND, InvalidRequest;
    /// A key with the requested uid exists already.
    ApiKeyAlreadyExists => "api_key_already_exists", CONFLICT, InvalidRequest;
    /// `actions` of a key is not a list of known actions.
    InvalidApiKeyActions => "invalid_api_key_actions", BAD_REQUEST, InvalidRequest;
    /// `indexes` of a key is not a list of index uids or patterns.
    InvalidApiKeyIndexes => "invalid_api_key_indexes", BAD_REQUEST, InvalidRequest;
    /// `expiresAt` of a key is not an RFC 3339 date in the future, or null.
    InvalidApiKeyExpiresAt => "invalid_api_key_expires_at", BAD_REQUEST, InvalidRequest;
    /// `name` of a key is not a string.
    InvalidApiKeyName => "invalid_api_key_name", BAD_REQUEST, InvalidRequest;
    /// `description` of a key is not a string.
    InvalidApiKeyDescription => "invalid_api_key_description", BAD_REQUEST, InvalidRequest;
    /// `uid` of a key is not a UUID.
    InvalidApiKeyUid => "invalid_api_key_uid", BAD_REQUEST, InvalidRequest;
    /// `offset` of `GET /keys` is not a non-negative integer.
    InvalidApiKeyOffset => "invalid_api_key_offset", BAD_REQUEST, InvalidRequest;
    /// `limit` of `GET /keys` is not a non-negative integer.
    InvalidApiKeyLimit => "invalid_api_key_limit", BAD_REQUEST, InvalidRequest;
    /// A new key has no `actions`.
    MissingApiKeyActions => "missing_api_key_actions", BAD_REQUEST, InvalidRequest;
    /// A new key has no `indexes`.
    MissingApiKeyIndexes => "missing_api_key_indexes", BAD_REQUEST, InvalidRequest;
    /// A new key has no `expiresAt` (null is allowed, absent is not).
    MissingApiKeyExpiresAt => "missing_api_key_expires_at", BAD_REQUEST, InvalidRequest;
    /// An update of a key changes its `uid`.
    ImmutableApiKeyUid => "immutable_api_key_uid", BAD_REQUEST, InvalidRequest;
    /// An update of a key changes its `key`.
    ImmutableApiKeyKey => "immutable_api_key_key", BAD_REQUEST, InvalidRequest;
    /// An update of a key changes its `actions`.
    ImmutableApiKeyActions => "immutable_api_key_actions", BAD_REQUEST, InvalidRequest;
    /// An update of a key changes its `indexes`.
    ImmutableApiKeyIndexes => "immutable_api_key_indexes", BAD_REQUEST, InvalidRequest;
    /// An update of a key changes its `expiresAt`.
    ImmutableApiKeyExpiresAt => "immutable_api_key_expires_at", BAD_REQUEST, InvalidRequest;
    /// An update of a key changes its `createdAt`.
    ImmutableApiKeyCreatedAt => "immutable_api_key_created_at", BAD_REQUEST, InvalidRequest;
    /// An update of a key changes its `updatedAt`.
    ImmutableApiKeyUpdatedAt => "immutable_api_key_updated_at", BAD_REQUEST, InvalidRequest;
    /// Our fault; the details are logged, never shown.
    Internal => "internal", INTERNAL_SERVER_ERROR, Internal;
}

impl Code {
    /// Returns the documentation link for this code, as Meilisearch gives it.
    pub fn link(self) -> String {
        format!("{ERROR_LINK_BASE}#{}", self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The JSON body of every error response: `{"message", "code", "type", "link"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong and what to do, lowercase, offending values in backticks.
    pub message: String,
    /// The machine-readable code, such as `invalid_search_limit`.
    pub code: String,
    /// `invalid_request`, `internal`, `auth` or `system`.
    #[serde(rename = "type")]
    pub error_type: String,
    /// Where the code is documented.
    pub link: String,
}

/// Errors of the search API: a refused request, whose message the caller sees, or an
/// internal fault, whose details are logged once and never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request was refused for a reason the caller can act on.
    #[error("{message}")]
    Rejected {
        /// The code, which decides the status and type.
        code: Code,
        /// The message sent to the caller.
        message: String,
    },
    /// Our fault: a failed read, a broken invariant. Answered as `internal` with a fixed
    /// message.
    #[error("internal error: {source}")]
    Internal {
        /// The fault, for the log only.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// The crate's result type.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

impl ApiError {
    /// Returns a refusal with `code` and a message for the caller.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        debug_assert!(
            code != Code::Internal,
            "use `ApiError::internal` for our faults"
        );
        ApiError::Rejected {
            code,
            message: message.into(),
        }
    }

    /// Returns an internal fault; its text is logged when the response is built, never sent.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        ApiError::Internal {
            source: source.into(),
        }
    }

    /// Returns `index_not_found` for `index_uid`.
    pub fn index_not_found(index_uid: &str) -> Self {
        ApiError::new(
            Code::IndexNotFound,
            format!("index `{index_uid}` not found; list the indexes with `GET /indexes`"),
        )
    }

    /// Returns `document_not_found` for `document_id` in `index_uid`.
    pub fn document_not_found(index_uid: &str, document_id: &str) -> Self {
        ApiError::new(
            Code::DocumentNotFound,
            format!("document `{document_id}` not found in index `{index_uid}`"),
        )
    }

    /// Returns `immutable_index`, the answer to every document write: documents come from
    /// PostgreSQL through the change feed, so a write here would be lost at the next rebuild.
    pub fn immutable_index(index_uid: &str) -> Self {
        ApiError::new(
            Code::ImmutableIndex,
            format!(
                "documents of index `{index_uid}` come from PostgreSQL and cannot be written \
                 through this API; import records with `indexer import` (or change them in \
                 PostgreSQL) and the index follows"
            ),
        )
    }

    /// Returns `index_already_exists` for `POST /indexes` naming one of the fixed indexes.
    pub fn index_already_exists(index_uid: &str) -> Self {
        ApiError::new(
            Code::IndexAlreadyExists,
            format!("index `{index_uid}` already exists; {FIXED_INDEXES}"),
        )
    }

    /// Returns `index_creation_failed` for `POST /indexes` naming any other index.
    pub fn index_creation_refused(index_uid: &str) -> Self {
        ApiError::new(
            Code::IndexCreationFailed,
            format!("index `{index_uid}` cannot be created; {FIXED_INDEXES}"),
        )
    }

    /// Returns `immutable_index` for a change, deletion or swap of the fixed index
    /// `index_uid` (all of them when `None`).
    pub fn fixed_index(index_uid: Option<&str>) -> Self {
        let what = match index_uid {
            Some(uid) => format!("index `{uid}` cannot be changed or deleted"),
            None => "indexes cannot be swapped".to_owned(),
        };
        ApiError::new(Code::ImmutableIndex, format!("{what}; {FIXED_INDEXES}"))
    }

    /// Returns `database_unavailable`.
    pub fn database_unavailable() -> Self {
        ApiError::new(
            Code::DatabaseUnavailable,
            "the database cannot be reached and this request needs it; retry in a moment",
        )
    }

    /// Returns `database_unavailable` when `error` says PostgreSQL cannot be reached, or an
    /// internal fault otherwise. The outage itself is logged by the follower, once.
    pub fn database(error: sqlx::Error) -> Self {
        if is_database_unreachable(&error) {
            tracing::debug!(%error, "postgresql unreachable");
            return ApiError::database_unavailable();
        }
        ApiError::internal(error)
    }

    /// Returns `missing_authorization_header`.
    pub fn missing_authorization_header() -> Self {
        ApiError::new(
            Code::MissingAuthorizationHeader,
            "the `Authorization` header is missing; send `Authorization: Bearer <api key>`",
        )
    }

    /// Returns `invalid_api_key`; the key itself is never echoed.
    pub fn invalid_api_key() -> Self {
        ApiError::new(
            Code::InvalidApiKey,
            "the provided API key is invalid or does not allow this request",
        )
    }

    /// Returns `too_many_requests` for a caller that may retry after `retry_after_secs`.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        ApiError::new(
            Code::TooManyRequests,
            format!("too many requests; retry in `{retry_after_secs}` seconds"),
        )
    }

    /// Returns `search_time_budget_exceeded` for a search stopped after `budget_millis`.
    pub fn search_time_budget_exceeded(budget_millis: u64) -> Self {
        ApiError::new(
            Code::SearchTimeBudgetExceeded,
            format!(
                "the search did not finish within its time budget of `{budget_millis}` ms; \
                 narrow the query or the filter, or retry later"
            ),
        )
    }

    /// Returns `search_time_budget_exceeded` for candidate retrieval stopped after
    /// `budget_millis`: a candidate request has no query or filter to narrow.
    pub fn candidates_time_budget_exceeded(budget_millis: u64) -> Self {
        ApiError::new(
            Code::SearchTimeBudgetExceeded,
            format!(
                "candidate retrieval did not finish within its time budget of \
                 `{budget_millis}` ms; send fewer profiles, name forms or titles per \
                 request, or retry later"
            ),
        )
    }

    /// Returns `payload_too_large` for a body above `max_num_bytes`.
    pub fn payload_too_large(max_num_bytes: usize) -> Self {
        ApiError::new(
            Code::PayloadTooLarge,
            format!("the payload is larger than the limit of `{max_num_bytes}` bytes"),
        )
    }

    /// Returns the error code.
    pub fn code(&self) -> Code {
        match self {
            ApiError::Rejected { code, .. } => *code,
            ApiError::Internal { .. } => Code::Internal,
        }
    }

    /// Returns the HTTP status from the code table.
    pub fn status(&self) -> StatusCode {
        self.code().status()
    }

    /// Returns the message the caller sees: the refusal's own, or a fixed one for faults.
    pub fn public_message(&self) -> &str {
        match self {
            ApiError::Rejected { message, .. } => message,
            ApiError::Internal { .. } => INTERNAL_ERROR_MESSAGE,
        }
    }

    /// Returns the JSON body sent to the caller.
    pub fn body(&self) -> ErrorBody {
        let code = self.code();
        ErrorBody {
            message: self.public_message().to_owned(),
            code: code.as_str().to_owned(),
            error_type: code.error_type().as_str().to_owned(),
            link: code.link(),
        }
    }

    /// Returns a copy of a refusal with `prefix` put before its message, such as the
    /// position of a query inside a multi-search; faults are returned unchanged.
    pub fn with_message_prefix(self, prefix: &str) -> Self {
        match self {
            ApiError::Rejected { code, message } => ApiError::Rejected {
                code,
                message: format!("{prefix}{message}"),
            },
            internal @ ApiError::Internal { .. } => internal,
        }
    }
}

/// Returns whether `error` means PostgreSQL cannot be reached now, rather than a fault of
/// the query: no connection, the pool given up, the server refusing connections (SQLSTATE
/// classes 08 and 57P, `too_many_connections`, a database not accepting connections).
pub fn is_database_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database_error) => database_error.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "53300" || code == "55000"
        }),
        _ => false,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal { source } = &self {
            // The one place a fault is logged: inside the request span, where the route and
            // request id are already recorded.
            tracing::error!(error = %source, "internal error");
        }
        (self.status(), Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn code_strings_are_unique_snake_case_and_types_match_statuses() {
        let mut seen = HashSet::new();
        for &code in Code::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "duplicate code `{name}`");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "code `{name}` is not snake_case"
            );
            let status = code.status();
            match code.error_type() {
                ErrorType::InvalidRequest | ErrorType::Auth => {
                    assert!(status.is_client_error(), "`{name}` has status {status}")
                }
                ErrorType::Internal | ErrorType::System => {
                    assert!(status.is_server_error(), "`{name}` has status {status}")
                }
            }
        }
    }

    #[test]
    fn statuses_follow_meilisearch() {
        let expected = [
            (Code::InvalidSearchFilter, 400),
            (Code::InvalidSearchSort, 400),
            (Code::InvalidSearchLimit, 400),
            (Code::InvalidSearchOffset, 400),
            (Code::PayloadTooLarge, 413),
            (Code::InvalidContentType, 415),
            (Code::IndexNotFound, 404),
            (Code::DocumentNotFound, 404),
            (Code::MissingAuthorizationHeader, 401),
            (Code::InvalidApiKey, 403),
            (Code::TooManyRequests, 429),
            (Code::Internal, 500),
        ];
        for (code, status) in expected {
            assert_eq!(code.status().as_u16(), status, "status of `{code}`");
        }
    }

    #[test]
    fn body_has_meilisearch_shape() {
        let error = ApiError::new(Code::InvalidSearchLimit, "invalid value for `limit`");
        let body = serde_json::to_value(error.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "message": "invalid value for `limit`",
                "code": "invalid_search_limit",
                "type": "invalid_request",
                "link": "https://docs.meilisearch.com/errors#invalid_search_limit",
            })
        );
    }

    #[test]
    fn internal_error_never_shows_its_text() {
        let error = ApiError::internal("connection to postgres://secret@db failed");
        let body = error.body();
        assert_eq!(body.code, "internal");
        assert_eq!(body.error_type, "internal");
        assert!(!body.message.contains("secret"), "{}", body.message);
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn into_response_sets_status_and_json_body() {
        let response = ApiError::index_not_found("wroks").into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: ErrorBody = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body.code, "index_not_found");
        assert!(body.message.contains("`wroks`"), "{}", body.message);
    }

    #[test]
    fn message_prefix_applies_to_refusals_only() {
        let refused = ApiError::new(Code::InvalidSearchQ, "bad").with_message_prefix("in x: ");
        assert_eq!(refused.public_message(), "in x: bad");
        let internal = ApiError::internal("boom").with_message_prefix("in x: ");
        assert_eq!(internal.public_message(), INTERNAL_ERROR_MESSAGE);
    }
}
