//! The checks every project route runs before its handler — the api-version rule and the
//! `Foundry-Features` gates — as extractors, so a handler's parameters say which rules apply
//! and its body says only what the route does.
//!
//! The rules themselves are here too ([`project_ctx`], [`memory_ctx`], [`items_ctx`]), with
//! [`json_body`], so handlers depend on this module and never on one another.
//!
//! They run exactly where the handlers used to run them by hand: after the path, and for routes
//! with a body after the body is read, so which error a doubly wrong request gets is unchanged.

use std::collections::HashMap;
use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use axum::http::StatusCode;

use super::error::{ApiError, ApiResult};

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

/// Item routes exist only on `v1`; on the preview version the service has no such route.
pub fn items_ctx(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<Ctx> {
    let ctx = memory_ctx(query, headers)?;
    if ctx.version == ApiVersion::Preview {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            code: "api_version_not_supported",
            message: format!(
                "Memory item operations are not available in api-version {}; use v1.",
                ApiVersion::PREVIEW
            ),
            kind: "invalid_request_error",
            param: Some("api-version".to_owned()),
        });
    }
    Ok(ctx)
}

/// Which api-version and feature rule a route follows.
pub trait Gate {
    fn check(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<Ctx>;
}

/// Agents: [`project_ctx`].
pub enum Project {}

/// Memory stores and their updates: [`memory_ctx`].
pub enum Memory {}

/// Memory items: [`memory_ctx`], and `v1` only.
pub enum Items {}

impl Gate for Project {
    fn check(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<Ctx> {
        project_ctx(query, headers)
    }
}

impl Gate for Memory {
    fn check(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<Ctx> {
        memory_ctx(query, headers)
    }
}

impl Gate for Items {
    fn check(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<Ctx> {
        items_ctx(query, headers)
    }
}

/// A request without a body that passed `G`'s checks; `query` is kept for list parameters.
pub struct Checked<G> {
    pub ctx: Ctx,
    pub query: HashMap<String, String>,
    gate: PhantomData<G>,
}

impl<G: Gate, S: Send + Sync> FromRequestParts<S> for Checked<G> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let ctx = G::check(&query, &parts.headers).map_err(IntoResponse::into_response)?;
        Ok(Checked {
            ctx,
            query,
            gate: PhantomData,
        })
    }
}

/// A request with a body that passed `G`'s checks; `query` is kept for list parameters. The body is read first, as the `Bytes`
/// extractor did before the checks moved here, and left unparsed: some routes check the path
/// before the body's JSON.
pub struct CheckedBody<G> {
    pub ctx: Ctx,
    pub query: HashMap<String, String>,
    pub body: Bytes,
    gate: PhantomData<G>,
}

impl<G: Gate, S: Send + Sync> FromRequest<S> for CheckedBody<G> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let Query(query) = Query::<HashMap<String, String>>::try_from_uri(request.uri())
            .map_err(IntoResponse::into_response)?;
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let ctx = G::check(&query, &headers).map_err(IntoResponse::into_response)?;
        Ok(CheckedBody {
            ctx,
            query,
            body,
            gate: PhantomData,
        })
    }
}
