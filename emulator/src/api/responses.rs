//! Responses with an agent (milestone 3).

use axum::response::Response;

use super::error::{ApiError, ApiResult};

/// Not yet implemented (milestone 3).
pub async fn create_v1() -> ApiResult<Response> {
    Err(ApiError::internal("responses are not implemented yet"))
}

/// Not yet implemented (milestone 3).
pub async fn create_preview() -> ApiResult<Response> {
    Err(ApiError::internal("responses are not implemented yet"))
}
