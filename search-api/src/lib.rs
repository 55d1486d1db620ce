//! The request and response model of Atlas Search's Meilisearch-compatible HTTP API, and
//! the validation that turns a request into something an executor can run.
//!
//! It reads search, multi-search, documents and settings requests from JSON bodies and GET
//! query strings, parses Meilisearch's filter language into a syntax tree
//! ([`filter::FilterExpr`]), checks every parameter against the index
//! ([`params::IndexCapabilities`]) and the limits of [`limits`], and answers mistakes with
//! Meilisearch's error shape and codes ([`ApiError`]). It leaves running searches over the
//! tantivy shards, routing, authentication and rate limiting to the rest of the service.
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
//! - [`params::MultiSearchRequest`], [`params::DocumentsFetchRequest`],
//!   [`params::SettingsUpdate`] with [`params::Settings::apply_update`].
//! - [`filter::parse_filter`], [`filter::FilterInput::parse`], [`sort::parse_sort`].
//! - [`extract::JsonBody`], an axum extractor that reads a body with Meilisearch's errors.
//! - [`response::SearchResponse`] and the other response bodies.
//!
//! Known shortcomings: a federated multi-search cannot ask for facets (Meilisearch's
//! `facetsByIndex` and `mergeFacets` are refused as unknown parameters) until the executor
//! can merge facet counts across indexes. Query words past [`limits::MAX_QUERY_NUM_WORDS`]
//! are cut at whitespace, before analysis, so a CJK run counts as one word.

mod error;
pub mod extract;
pub mod filter;
pub mod limits;
pub mod params;
pub mod response;
pub mod sort;
mod suggest;

pub use error::{ApiError, Code, ErrorBody, ErrorType, Result, ERROR_LINK_BASE};
