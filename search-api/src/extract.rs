//! Reading a request body as Meilisearch does: `application/json` only, within
//! [`MAX_BODY_NUM_BYTES`], with `missing_content_type`, `invalid_content_type`,
//! `missing_payload`, `malformed_payload`, `payload_too_large` and `request_timeout` for the
//! ways it can fail.

use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use serde_json::Value;

use crate::error::{ApiError, Code, Result};
use crate::limits::MAX_BODY_NUM_BYTES;
use crate::params::{
    DocumentsFetchRequest, FacetSearchQuery, MultiSearchRequest, SearchQuery, SettingsUpdate,
};

/// A request model read from a JSON body with Meilisearch's errors.
pub trait RequestBody: Sized {
    /// Returns the model of a body already read as JSON.
    ///
    /// # Errors
    ///
    /// The model's own refusals, such as an unknown parameter.
    fn from_json_value(value: Value) -> Result<Self>;
}

impl RequestBody for SearchQuery {
    fn from_json_value(value: Value) -> Result<Self> {
        SearchQuery::from_json_value(value)
    }
}

impl RequestBody for FacetSearchQuery {
    fn from_json_value(value: Value) -> Result<Self> {
        FacetSearchQuery::from_json_value(value)
    }
}

impl RequestBody for MultiSearchRequest {
    fn from_json_value(value: Value) -> Result<Self> {
        MultiSearchRequest::from_json_value(value)
    }
}

impl RequestBody for DocumentsFetchRequest {
    fn from_json_value(value: Value) -> Result<Self> {
        DocumentsFetchRequest::from_json_value(value)
    }
}

impl RequestBody for SettingsUpdate {
    fn from_json_value(value: Value) -> Result<Self> {
        SettingsUpdate::from_json_value(value)
    }
}

/// Returns the JSON of a body given its `Content-Type` header.
///
/// # Errors
///
/// `missing_content_type` or `invalid_content_type` (415) unless the type is
/// `application/json`, with or without parameters; `missing_payload` for an empty body;
/// `malformed_payload` with the parser's line and column for invalid JSON.
pub fn read_json_body(content_type: Option<&HeaderValue>, body: &[u8]) -> Result<Value> {
    let Some(content_type) = content_type else {
        return Err(ApiError::new(
            Code::MissingContentType,
            "the `Content-Type` header is missing; send `Content-Type: application/json`",
        ));
    };
    let media_type = content_type
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            Code::InvalidContentType,
            format!(
                "the `Content-Type` `{}` is not supported; send `application/json`",
                content_type.to_str().unwrap_or("(not text)")
            ),
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            Code::MissingPayload,
            "the body is empty; send a JSON object",
        ));
    }
    serde_json::from_slice(body).map_err(|error| {
        ApiError::new(
            Code::MalformedPayload,
            format!("the body is not valid JSON: {error}"),
        )
    })
}

/// An axum extractor for a request model read from a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: RequestBody> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self> {
        let content_type = request.headers().get(CONTENT_TYPE).cloned();
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_NUM_BYTES)
            .await
            .map_err(|error| body_read_error(&error))?;
        let value = read_json_body(content_type.as_ref(), &bytes)?;
        T::from_json_value(value).map(JsonBody)
    }
}

/// Returns `request_timeout` when the client paused sending the body past the request body
/// timeout, `payload_too_large` past the body limit, and `malformed_payload` for a body
/// that could not be read otherwise (a broken chunked encoding, a connection cut).
fn body_read_error(error: &axum::Error) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::new(
                Code::RequestTimeout,
                "the request body was not received in time; send it without pausing",
            );
        }
        if current.is::<http_body_util::LengthLimitError>() {
            return ApiError::payload_too_large(MAX_BODY_NUM_BYTES);
        }
        source = current.source();
    }
    ApiError::new(
        Code::MalformedPayload,
        "the request body could not be read; send it whole, with a valid transfer encoding",
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    const JSON: HeaderValue = HeaderValue::from_static("application/json");

    #[test]
    fn content_type_and_payload_errors() {
        let cases = [
            (None, &b"{}"[..], Code::MissingContentType),
            (
                Some(HeaderValue::from_static("text/csv")),
                b"{}",
                Code::InvalidContentType,
            ),
            (Some(JSON), b"  ", Code::MissingPayload),
            (Some(JSON), b"{\"q\": ", Code::MalformedPayload),
        ];
        for (content_type, body, code) in cases {
            let error = read_json_body(content_type.as_ref(), body).unwrap_err();
            assert_eq!(error.code(), code);
        }
        let charset = HeaderValue::from_static("application/json; charset=utf-8");
        assert!(read_json_body(Some(&charset), b"{}").is_ok());
    }

    #[test]
    fn malformed_payload_names_the_position() {
        let error = read_json_body(Some(&JSON), b"{\"q\": }").unwrap_err();
        assert!(
            error.public_message().contains("line 1 column 7"),
            "{}",
            error.public_message()
        );
    }

    #[tokio::test]
    async fn extractor_reads_a_model_and_refuses_large_bodies() {
        let request = Request::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"q": "smith", "limit": 5}"#))
            .unwrap();
        let JsonBody(query) = JsonBody::<SearchQuery>::from_request(request, &())
            .await
            .unwrap();
        assert_eq!(query.limit, Some(5));

        let large = format!(r#"{{"q": "{}"}}"#, "a".repeat(MAX_BODY_NUM_BYTES));
        let request = Request::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(large))
            .unwrap();
        let error = JsonBody::<SearchQuery>::from_request(request, &())
            .await
            .unwrap_err();
        assert_eq!(error.code(), Code::PayloadTooLarge);
        assert_eq!(error.status().as_u16(), 413);
    }
}
