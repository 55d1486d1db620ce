//! `GET /version`, in Meilisearch's shape.

use axum::{Extension, Json};
use serde_json::{json, Value};

use crate::auth::keys::Action;
use crate::auth::Caller;
use crate::error::Result;

/// `GET /version`: the package version, and the commit when the build recorded one in
/// `ATLAS_COMMIT_SHA` and `ATLAS_COMMIT_DATE`.
pub async fn version(Extension(caller): Extension<Caller>) -> Result<Json<Value>> {
    caller.authorize(Action::Version, None)?;
    Ok(Json(json!({
        "commitSha": option_env!("ATLAS_COMMIT_SHA").unwrap_or("unknown"),
        "commitDate": option_env!("ATLAS_COMMIT_DATE").unwrap_or("unknown"),
        "pkgVersion": env!("CARGO_PKG_VERSION"),
    })))
}
