//! The HTTP surface: routing, the api-version and `Foundry-Features` rules shared by every route,
//! and one module per resource.

pub mod agents;
pub mod conversations;
pub mod deployments;
pub mod error;
pub mod items;
pub mod lookup;
pub mod memories;
pub mod paging;
pub mod request;
pub mod responses;
pub mod stores;
pub mod validate;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::{get, post};

use crate::config::{Deployment, VersionDedup};
use crate::db::Db;
use error::{ApiError, ApiResult};

/// The path prefix of the emulated project (project name `local`).
pub const PROJECT_PREFIX: &str = "/api/projects/local";

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// How long an update stays `in_progress` once its `update_delay` has passed.
    pub processing: Duration,
    /// The endpoint, for absolute `operation-location` URLs.
    pub endpoint: Arc<str>,
    /// Whether an agent version identical to the latest is merged into it.
    pub version_dedup: VersionDedup,
    /// The model deployments the project lists.
    pub deployments: Arc<[Deployment]>,
}

/// The `api-supported-versions` header of every answer. Since v1 exists (Feb 2026) the service
/// sends this list whichever api-version a request names (recorded on preview polls too); only
/// recordings from before then show the preview versions alone.
pub const SUPPORTED_VERSIONS: &str = "1.0,2025-05-15-preview,2025-11-15-preview";

/// Whether a path's successful answers are labelled plain `application/json`: the Responses
/// routes, served by the OpenAI-compatible back end (recorded on v1 and the preview, 2026),
/// unlike every other route's `application/json; charset=utf-8`.
pub fn answers_plain_json(path: &str) -> bool {
    path.strip_prefix(PROJECT_PREFIX)
        .is_some_and(|p| p == "/openai/v1/responses" || p == "/openai/responses")
}

/// The two api-versions the emulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `v1`: memory routes require `Foundry-Features: MemoryStores=V1Preview`.
    V1,
    /// `2025-11-15-preview`: no feature header, no memory-item routes.
    Preview,
}

impl ApiVersion {
    pub const PREVIEW: &'static str = "2025-11-15-preview";

    /// The memory tool type that belongs to this version.
    pub fn memory_tool_type(self) -> &'static str {
        match self {
            ApiVersion::V1 => "memory_search_preview",
            ApiVersion::Preview => "memory_search",
        }
    }
}

/// Per-request facts derived from the query string and headers.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub version: ApiVersion,
    features: String,
}

impl Ctx {
    /// Whether the comma-separated `Foundry-Features` header opts into `feature`.
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features
            .split(',')
            .any(|f| f.trim().eq_ignore_ascii_case(feature))
    }
}

/// The api-version rule of the project routes: required; `v1` or `2025-11-15-preview`.
/// Missing answers 400 as observed; an unknown version answers 404, as the service does for a
/// version a route does not support.
pub fn project_ctx(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<Ctx> {
    let version = match query.get("api-version").map(String::as_str) {
        None | Some("") => {
            return Err(ApiError {
                status: StatusCode::BAD_REQUEST,
                code: "missing_required_parameter",
                message: "Missing required query parameter: api-version".to_owned(),
                kind: "invalid_request_error",
                param: Some("api-version".to_owned()),
            });
        }
        Some("v1") => ApiVersion::V1,
        Some(ApiVersion::PREVIEW) => ApiVersion::Preview,
        Some(other) => {
            return Err(ApiError {
                status: StatusCode::NOT_FOUND,
                code: "api_version_not_supported",
                message: format!(
                    "The api-version '{other}' is not supported by this route. Supported versions: v1, {}.",
                    ApiVersion::PREVIEW
                ),
                kind: "invalid_request_error",
                param: Some("api-version".to_owned()),
            });
        }
    };
    let features = headers
        .get_all("foundry-features")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    Ok(Ctx { version, features })
}

/// [`project_ctx`] plus the memory-store gate: on `v1` the request must opt into
/// `MemoryStores=V1Preview` (403 `preview_feature_required` otherwise).
pub fn memory_ctx(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<Ctx> {
    let ctx = project_ctx(query, headers)?;
    if ctx.version == ApiVersion::V1 && !ctx.has_feature("MemoryStores=V1Preview") {
        return Err(ApiError::preview_required(
            "Memory stores",
            "MemoryStores=V1Preview",
        ));
    }
    Ok(ctx)
}

/// Parses a JSON object body; an empty body counts as `{}` (the SDKs omit bodies on some POSTs).
pub fn json_body(bytes: &[u8]) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid(
            "body",
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::invalid(
            "body",
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

/// The conversation routes, relative to `/openai/v1/conversations` (no api-version) or to the
/// preview's `/openai/conversations`.
fn conversation_routes() -> Router<AppState> {
    Router::new()
        .route("/", post(conversations::create))
        .route(
            "/{id}",
            get(conversations::get)
                .post(conversations::update)
                .delete(conversations::delete),
        )
        .route(
            "/{id}/items",
            get(conversations::list_items).post(conversations::add_items),
        )
        .route(
            "/{id}/items/{item}",
            get(conversations::get_item).delete(conversations::delete_item),
        )
}

/// All routes, relative to the project prefix.
pub fn router(state: AppState) -> Router {
    let project = Router::new()
        .route("/memory_stores", post(stores::create).get(stores::list))
        .route(
            "/memory_stores/{name}",
            get(stores::get)
                .post(stores::post_action)
                .delete(stores::delete),
        )
        .route("/memory_stores/{name}/items", post(items::create))
        .route("/memory_stores/{name}/items:list", post(items::list))
        .route(
            "/memory_stores/{name}/items/{id}",
            get(items::get).post(items::update).delete(items::delete),
        )
        .route(
            "/memory_stores/{name}/updates/{id}",
            get(memories::get_update),
        )
        .route("/deployments", get(deployments::list))
        .route("/deployments/{name}", get(deployments::get))
        .route("/agents", get(agents::list))
        .route("/agents/{name}", get(agents::get).delete(agents::delete))
        .route(
            "/agents/{name}/versions",
            post(agents::create_version).get(agents::list_versions),
        )
        .route(
            "/agents/{name}/versions/{version}",
            get(agents::get_version).delete(agents::delete_version),
        )
        .route("/openai/v1/responses", post(responses::create_v1))
        .route("/openai/responses", post(responses::create_preview))
        .nest("/openai/v1/conversations", conversation_routes())
        .nest(
            "/openai/conversations",
            conversation_routes()
                .route_layer(axum::middleware::from_fn(conversations::preview_only)),
        )
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest(PROJECT_PREFIX, project)
        .fallback(no_route)
        .with_state(state)
}

/// A path no route serves: 404 in the error envelope (axum's default has an empty body, which
/// clients that read `error.code` cannot explain).
async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("No route for {method} {}", uri.path()))
}

/// A served path with another method: 405 in the error envelope (axum adds `Allow`).
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!("{method} is not allowed on {}", uri.path()),
        kind: "invalid_request_error",
        param: None,
    }
}
