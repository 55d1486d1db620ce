//! The OpenAPI description of the service, hand-written in `openapi.json` beside the
//! crate's manifest and served at `/openapi.json`; a test checks real responses against it.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

/// The OpenAPI 3.1 description, as served.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    ([(CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_is_json_with_the_crate_version() {
        let description: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert_eq!(description["openapi"], "3.1.0");
        assert_eq!(description["info"]["version"], env!("CARGO_PKG_VERSION"));
    }
}
