//! The service's error envelope, as recorded:
//! `{"error": {code, message, param?, type, details: [], additionalInfo: {request_id}}}` with the
//! request id repeated in an `X-Request-ID` header.
//!
//! Handlers return [`ApiError`]; the request id is minted when the response is rendered, because
//! the real service mints one per failed request and clients only ever echo it back in reports.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::ids;
use crate::store::error::StoreError;

/// The `Content-Type` of every JSON answer, as recorded.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Stands for the request id inside a message until the answer is rendered, since the id is
/// minted then (see [`ApiError::naming_request_id`]).
const REQUEST_ID_MARK: &str = "\u{1}request-id\u{1}";

/// One failed request, ready to render in the recorded envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `invalid_request_error` for client mistakes, `error` for not-found (as recorded).
    pub kind: &'static str,
    /// The offending field, present only on validation failures (recorded on 400s only).
    pub param: Option<String>,
}

impl ApiError {
    /// 404 in the recorded not-found shape (`type: "error"`, no `param`).
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
            kind: "error",
            param: None,
        }
    }

    /// The message ends ` [Request ID: <id>]`, the answer's own request id, as the service's
    /// store-not-found messages do since May 2026.
    pub fn naming_request_id(mut self) -> Self {
        self.message
            .push_str(&format!(" [Request ID: {REQUEST_ID_MARK}]"));
        self
    }

    /// 400 for a request whose field `param` is missing or out of range.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_payload",
            message: message.into(),
            kind: "invalid_request_error",
            param: Some(param.into()),
        }
    }

    /// 409 for a create that collides with an existing name (no recording; the SDKs map 409 to
    /// "resource exists", so that is the status a client must be able to handle).
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::CONFLICT,
            code: "already_exists",
            message: message.into(),
            kind: "invalid_request_error",
            param: None,
        }
    }

    /// 403 `preview_feature_required`, worded like the recorded workflow-agent refusal.
    pub fn preview_required(what: &str, feature: &str) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "preview_feature_required",
            message: format!(
                "{what} is in preview. This operation requires the following opt-in preview \
                 feature(s): {feature}. Include the 'Foundry-Features: {feature}' header in your request."
            ),
            kind: "invalid_request_error",
            param: None,
        }
    }

    /// 401 for `--require-token` without a bearer token; worded like the service's 401.
    pub fn unauthorized() -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "Unauthorized. Access token is missing, invalid, audience is incorrect \
                      (https://ai.azure.com), or have expired."
                .to_owned(),
            kind: "invalid_request_error",
            param: None,
        }
    }

    /// The 404 for a memory store, in the newest recorded wording (May 2026, which names the
    /// request id; Feb 2026 did not).
    pub fn store_not_found(name: &str) -> Self {
        ApiError::not_found(format!("MemoryStore '{name}' not found")).naming_request_id()
    }

    /// The 404 for an agent with no version, as recorded.
    pub fn agent_missing(name: &str) -> Self {
        ApiError::not_found(format!("Agent {name} doesn't exist"))
    }

    /// The 404 for an agent version, as recorded.
    pub fn version_missing(name: &str, version: &str) -> Self {
        ApiError::not_found(format!("Agent {name} with version {version} not found"))
    }

    /// The 404 for a conversation id, as recorded.
    pub fn conversation_missing(id: &str) -> Self {
        ApiError::not_found(format!("Conversation with id '{id}' not found."))
    }

    /// 500 for a storage failure: the emulator's own fault, never the client's.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "server_error",
            message: message.into(),
            kind: "server_error",
            param: None,
        }
    }

    /// An injected fault with the given status (429, 500, 503).
    pub fn injected(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::TOO_MANY_REQUESTS => (
                "too_many_requests",
                "Rate limit is exceeded. Try again later (injected by the emulator).",
            ),
            StatusCode::SERVICE_UNAVAILABLE => (
                "service_unavailable",
                "The service is temporarily unavailable (injected by the emulator).",
            ),
            _ => (
                "server_error",
                "The server had an error while processing your request (injected by the emulator).",
            ),
        };
        ApiError {
            status,
            code,
            message: message.to_owned(),
            kind: "error",
            param: None,
        }
    }

    /// The JSON body, with `request_id` filled in.
    pub fn body(&self, request_id: &str) -> serde_json::Value {
        let mut error = json!({
            "code": self.code,
            "message": self.message.replace(REQUEST_ID_MARK, request_id),
            "type": self.kind,
            "details": [],
            "additionalInfo": {"request_id": request_id},
        });
        if let (Some(param), Some(obj)) = (&self.param, error.as_object_mut()) {
            obj.insert("param".to_owned(), json!(param));
        }
        json!({ "error": error })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = ids::hex32();
        let body = self.body(&request_id);
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(JSON_CONTENT_TYPE),
        );
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            headers.insert("x-request-id", value);
        }
        response
    }
}

/// Handler result: a JSON body or an enveloped error.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_recorded_keys_and_param_only_when_set() {
        let body = ApiError::not_found("Agent not found").body("abc");
        let err = &body["error"];
        assert_eq!(err["code"], "not_found");
        assert_eq!(err["type"], "error");
        assert_eq!(err["details"], json!([]));
        assert_eq!(err["additionalInfo"]["request_id"], "abc");
        assert!(err.get("param").is_none());
        let body = ApiError::invalid("temperature", "too hot").body("x");
        assert_eq!(body["error"]["param"], "temperature");
    }

    #[test]
    fn a_message_can_name_the_request_id_minted_for_it() {
        let body = ApiError::not_found("MemoryStore 's' not found")
            .naming_request_id()
            .body("925e");
        assert_eq!(
            body["error"]["message"],
            "MemoryStore 's' not found [Request ID: 925e]"
        );
        assert_eq!(body["error"]["additionalInfo"]["request_id"], "925e");
    }
}
