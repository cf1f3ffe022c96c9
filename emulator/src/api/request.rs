//! The checks every project route runs before its handler — the api-version rule and the
//! `Foundry-Features` gates — as extractors, so a handler's parameters say which rules apply
//! and its body says only what the route does.
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

use super::error::ApiResult;
use super::{Ctx, items, memory_ctx, project_ctx};

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
        items::items_ctx(query, headers)
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
