//! Atlas Search's Meilisearch-compatible HTTP service: the request and response model, the
//! validation that turns a request into something the engine can run, the engine itself,
//! and the service around it.
//!
//! It reads search, facet search, multi-search, documents and settings requests from JSON
//! bodies and GET query strings, parses Meilisearch's filter language into a syntax tree
//! ([`filter::FilterExpr`]), checks every parameter against the index
//! ([`params::IndexCapabilities`]) and the limits of [`limits`], and answers mistakes with
//! Meilisearch's error shape and codes ([`ApiError`]). [`routes::app`] serves the routes
//! over an [`state::AppState`]: API keys and tenant tokens ([`auth`]), the response cache
//! and rate limits in Redis ([`cache`], [`rate_limit`]), Prometheus [`metrics`];
//! [`service::Service`] runs it with the change-feed follower embedded. Documents are never
//! written through the API: they come from PostgreSQL.
//!
//! The design choice that matters: a request is read into a loose model first
//! ([`params::SearchQuery`], which serializes back to the same JSON) and validated second
//! into a closed one ([`params::ValidatedSearch`]) where defaults are applied, pagination is
//! resolved and every attribute has been checked. The GET form is turned into the POST
//! body's JSON before either step, so both forms fail and succeed the same way.
//!
//! # Entry points
//!
//! - [`params::SearchQuery::from_json_value`], [`params::SearchQuery::from_query_string`],
//!   then [`params::SearchQuery::validate`].
//! - [`params::FacetSearchQuery::from_json_value`], then
//!   [`params::FacetSearchQuery::validate`], for `POST /indexes/{uid}/facet-search`.
//! - [`params::MultiSearchRequest`], [`params::DocumentsFetchRequest`],
//!   [`params::SettingsUpdate`] with [`params::Settings::apply_update`].
//! - [`filter::parse_filter`], [`filter::FilterInput::parse`], [`sort::parse_sort`].
//! - [`extract::JsonBody`], an axum extractor that reads a body with Meilisearch's errors.
//! - [`response::SearchResponse`], [`response::FacetSearchResponse`] and the other response
//!   bodies.
//! - [`service::Service::start`] and [`service::Service::serve`], or [`app`] over a state
//!   built by hand.
//!
//! Known shortcomings: a federated multi-search cannot ask for facets (Meilisearch's
//! `facetsByIndex` and `mergeFacets` are refused as unknown parameters) until the executor
//! can merge facet counts across indexes. Query words past [`limits::MAX_QUERY_NUM_WORDS`]
//! are cut at whitespace, before analysis, so a CJK run counts as one word.

pub mod auth;
pub mod cache;
pub mod config;
pub mod engine;
mod error;
pub mod extract;
pub mod filter;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod rate_limit;
pub mod redis_conn;
pub mod response;
pub mod routes;
pub mod service;
pub mod settings_store;
pub mod sort;
pub mod state;
mod suggest;

pub use error::{ApiError, Code, ErrorBody, ErrorType, Result, ERROR_LINK_BASE};
pub use routes::app;
