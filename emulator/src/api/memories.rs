//! update_memories, the update state machine, search_memories and delete_scope.

use serde_json::{Map, Value};
use tokio::sync::watch;

use axum::response::Response;

use super::error::{ApiError, ApiResult};
use super::{AppState, Ctx};

/// Not yet implemented (milestone 2).
pub async fn update_memories(
    _state: AppState,
    _ctx: Ctx,
    _name: String,
    _body: Map<String, Value>,
) -> ApiResult<Response> {
    Err(ApiError::internal("update_memories is not implemented yet"))
}

/// Not yet implemented (milestone 2).
pub async fn search_memories(
    _state: AppState,
    _name: String,
    _body: Map<String, Value>,
) -> ApiResult<Response> {
    Err(ApiError::internal("search_memories is not implemented yet"))
}

/// Not yet implemented (milestone 2).
pub async fn delete_scope(
    _state: AppState,
    _name: String,
    _body: Map<String, Value>,
) -> ApiResult<Response> {
    Err(ApiError::internal("delete_scope is not implemented yet"))
}

/// Not yet implemented (milestone 2).
pub async fn get_update() -> ApiResult<Response> {
    Err(ApiError::internal("updates are not implemented yet"))
}

/// Background progress of updates (milestone 2).
pub async fn worker(_state: AppState, mut stop: watch::Receiver<bool>) {
    let _ = stop.changed().await;
}
