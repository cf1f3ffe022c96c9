//! The HTTP surface: the routes, and one module per resource. Handlers depend on the store
//! layer (`crate::store`), on the request checks (`request`, `validate`, `paging`) and on
//! `error` and `state`, never on one another nor on this module; only the router here knows
//! them all.

pub mod agents;
pub mod conversations;
pub mod deployments;
pub mod error;
pub mod items;
pub mod memories;
pub mod paging;
pub mod request;
pub mod responses;
pub mod state;
pub mod stores;
pub mod validate;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};

use error::{ApiError, ApiResult};
use request::{CheckedBody, Memory, json_body};
use state::AppState;

/// The path prefix of the emulated project (project name `local`).
pub const PROJECT_PREFIX: &str = "/api/projects/local";

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
            get(stores::get).post(store_action).delete(stores::delete),
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

/// `POST /memory_stores/{segment}`: an update when the segment is a bare name, else one of the
/// `:update_memories`, `:search_memories`, `:delete_scope` actions that share the store's path
/// segment (axum cannot route on the part after the colon).
async fn store_action(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    CheckedBody { body, .. }: CheckedBody<Memory>,
) -> ApiResult<Response> {
    let body = json_body(&body)?;
    match segment.split_once(':') {
        None => stores::update(state, segment, body).await,
        Some((name, "update_memories")) => {
            memories::update_memories(state, name.to_owned(), body).await
        }
        Some((name, "search_memories")) => {
            memories::search_memories(state, name.to_owned(), body).await
        }
        Some((name, "delete_scope")) => memories::delete_scope(state, name.to_owned(), body).await,
        Some((_, verb)) => Err(ApiError::not_found(format!(
            "Unknown memory store operation '{verb}'"
        ))),
    }
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
