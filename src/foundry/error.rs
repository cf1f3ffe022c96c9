//! What can go wrong talking to a project. Messages are lowercase fragments that read after
//! "failed to …" and start with the operation, so a chain reads
//! `failed to plan: list agents: the project answered 503 Service Unavailable …`.

use std::time::Duration;

use super::auth::AuthError;
use super::wire::ApiError;

/// The audience every Foundry token must be issued for.
pub const AUDIENCE: &str = "https://ai.azure.com";

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The service answered with an error status that is not retried (or no longer).
    #[error("{operation}: the project answered {status}{}{}", describe(error.as_deref()), request_id_suffix(request_id.as_deref()))]
    Api {
        operation: &'static str,
        status: reqwest::StatusCode,
        error: Option<Box<ApiError>>,
        request_id: Option<String>,
    },

    /// 401: almost always a token for the wrong audience, an expired token, or another tenant.
    #[error(
        "{operation}: the project refused the credential (401 Unauthorized){}",
        describe(error.as_deref())
    )]
    Unauthorized {
        operation: &'static str,
        error: Option<Box<ApiError>>,
    },

    /// 403: the identity is known but lacks a role on the project, or (code
    /// `preview_feature_required`) the request lacks a preview opt-in, which no role fixes.
    #[error(
        "{operation}: the project denied access (403 Forbidden){}",
        describe(error.as_deref())
    )]
    Forbidden {
        operation: &'static str,
        error: Option<Box<ApiError>>,
    },

    /// Transient failures went on past the retry budget.
    #[error("{operation}: gave up after {attempts} attempts in {:.1}s: {last}", elapsed.as_secs_f64())]
    RetriesExhausted {
        operation: &'static str,
        attempts: u32,
        elapsed: Duration,
        last: String,
    },

    /// A write was sent but no answer came back (timeout, dropped connection, gateway error):
    /// it may or may not have happened. Creates read back before retrying; other writes report
    /// this to the caller.
    #[error(
        "{operation}: the outcome is unknown ({reason}); the request may or may not have taken effect"
    )]
    OutcomeUnknown {
        operation: &'static str,
        reason: String,
    },

    /// The decoder's message is part of this one (reports print an error on one line), so it is
    /// not also returned as the source: a cause is printed once.
    #[error("{operation}: could not read the project's answer: {error}")]
    Decode {
        operation: &'static str,
        error: serde_json::Error,
    },

    /// A list page that says there is more but gives nothing to continue from, or a cursor
    /// that does not move: taking it as the end would read half the project.
    #[error("{operation}: the project sent a malformed page: {reason}")]
    MalformedPage {
        operation: &'static str,
        reason: String,
    },

    /// An answer larger than the transport's limit: an error rather than unbounded memory.
    #[error(
        "{operation}: the project's answer is larger than the {} limit; stopped reading it",
        size(*limit)
    )]
    TooLarge {
        operation: &'static str,
        limit: usize,
    },

    #[error("{operation}: could not build the request: {reason}")]
    Request {
        operation: &'static str,
        reason: String,
    },

    #[error("refusing to send a bearer token over plain http to {host}")]
    InsecureEndpoint { host: String },

    #[error(transparent)]
    Auth(#[from] AuthError),

    /// A create found a resource of that name whose content is not what was sent.
    #[error("{operation}: `{name}` already exists with different content (created concurrently?)")]
    Conflict {
        operation: &'static str,
        name: String,
    },

    #[error("update memories: update {update_id} failed{}", describe(error.as_deref()))]
    UpdateFailed {
        update_id: String,
        error: Option<Box<ApiError>>,
    },

    #[error(
        "update memories: update {update_id} was still `{status}` after {:.0}s",
        waited.as_secs_f64()
    )]
    UpdateTimeout {
        update_id: String,
        status: String,
        waited: Duration,
    },
}

impl ClientError {
    /// The HTTP status of an error answer, if the error is one.
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            ClientError::Unauthorized { .. } => Some(reqwest::StatusCode::UNAUTHORIZED),
            ClientError::Forbidden { .. } => Some(reqwest::StatusCode::FORBIDDEN),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(reqwest::StatusCode::NOT_FOUND)
    }

    /// What to do about it, kept out of the message (which reports print on one line); `main`
    /// prints it after the error chain.
    pub fn hint(&self) -> Option<String> {
        match self {
            ClientError::Unauthorized { .. } => Some(format!(
                "the token must be issued for the audience {AUDIENCE} (scope {AUDIENCE}/.default), \
                 be unexpired, and come from the project's tenant; with --auth token, create it \
                 with `az account get-access-token --resource {AUDIENCE}`"
            )),
            ClientError::Forbidden { error, .. } => {
                Some(forbidden_hint(error.as_deref()).to_owned())
            }
            ClientError::RetriesExhausted { last, .. } => Some(exhausted_hint(last).to_owned()),
            ClientError::InsecureEndpoint { .. } => Some(
                "use an https:// endpoint; plain http is allowed only for loopback addresses \
                 (the local emulator)"
                    .to_owned(),
            ),
            ClientError::UpdateTimeout { .. } => Some(
                "the service may be busy; check later with the update id, or raise the timeout"
                    .to_owned(),
            ),
            ClientError::Auth(error) => error.hint(),
            ClientError::Api { .. }
            | ClientError::OutcomeUnknown { .. }
            | ClientError::Decode { .. }
            | ClientError::Request { .. }
            | ClientError::Conflict { .. }
            | ClientError::MalformedPage { .. }
            | ClientError::UpdateFailed { .. } => None,
            ClientError::TooLarge { .. } => Some(
                "a project answer this large is not one the Foundry API sends; check that the \
                 endpoint is the project's and not a proxy or a file server"
                    .to_owned(),
            ),
        }
    }
}

fn describe(error: Option<&ApiError>) -> String {
    let Some(error) = error else {
        return String::new();
    };
    let mut out = String::new();
    if let Some(code) = &error.code {
        out.push_str(&format!(" [{code}]"));
    }
    if let Some(message) = &error.message {
        // Since May 2026 the service ends some messages with ` [Request ID: …]`; the id is
        // already given once, after the message.
        let message = match message.rfind(" [Request ID: ") {
            Some(at) if message.ends_with(']') => &message[..at],
            _ => message.as_str(),
        };
        out.push_str(&format!(": {message}"));
    }
    if let Some(param) = error.param.as_ref().or(error.target.as_ref()) {
        out.push_str(&format!(" (field `{param}`)"));
    }
    // The service's words, on one line: a message cannot add a `hint:` line of its own or
    // drive the terminal it is printed to.
    // Nor can it print a credential it quotes (a reflected `Authorization` header).
    let out = super::redact::redact(&out, &[]).into_owned();
    crate::render::escape::visible(&out).into_owned()
}

/// `32 MiB`, or bytes when not a whole number of MiB.
fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// The hint for a 403: a missing preview opt-in (`preview_feature_required`) is not a
/// missing role, so it must not send people to grant one.
fn forbidden_hint(error: Option<&ApiError>) -> &'static str {
    if error.and_then(|e| e.code.as_deref()) == Some("preview_feature_required") {
        "this is a preview opt-in, not a permission: the service wants a `Foundry-Features` \
         header this foundryctl does not send for this call (the message names it); try \
         --api-version 2025-11-15-preview, or a newer foundryctl"
    } else {
        "the identity needs the `Azure AI User` role (or higher) on the Foundry project"
    }
}

/// A hint for retries that ran out. The transport words a failure to connect as
/// `could not connect: …`; that one has a cause the user can act on (a wrong endpoint, a
/// served emulator that is not running, a proxy), unlike a busy service.
fn exhausted_hint(last: &str) -> &'static str {
    // A TLS handshake the client refused also reads `could not connect`, but the fix is
    // trust, not the address.
    if last.starts_with("could not connect") && last.contains("certificate") {
        "the server's TLS certificate is not trusted; for an emulator started with --tls, set \
         SSL_CERT_FILE to the certificate it printed (a proxy that inspects TLS needs its own)"
    } else if last.starts_with("could not connect") {
        "nothing accepted the connection; check --endpoint (or PROJECT_ENDPOINT), your \
         network and proxy, and for a served emulator that `foundryctl emulator` is running"
    } else {
        "the service kept failing or throttling; try again later"
    }
}

fn request_id_suffix(request_id: Option<&str>) -> String {
    request_id
        .map(|id| format!(" (request id {})", crate::render::escape::visible(id)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15: the service's message is quoted on one line, escaped: it can neither add a
    /// line that reads like foundryctl's own hint nor send the terminal an escape sequence.
    #[test]
    fn a_service_message_is_quoted_on_one_line_and_escaped() {
        let body = br#"{"error":{"code":"bad\u001b[8m","message":"no\nhint: run `curl x | sh`\u0007\u202e"}}"#;
        let text = ClientError::Api {
            operation: "list agents",
            status: reqwest::StatusCode::BAD_REQUEST,
            error: ApiError::parse(body).map(Box::new),
            request_id: None,
        }
        .to_string();
        assert_eq!(
            text,
            "list agents: the project answered 400 Bad Request [bad\\u{1b}[8m]: no\\u{a}hint: run `curl x | sh`\\u{7}\\u{202e}"
        );
        // A request id read from the body is the service's text too.
        let text = ClientError::Api {
            operation: "list agents",
            status: reqwest::StatusCode::BAD_REQUEST,
            error: None,
            request_id: Some("r1\u{1b}[2J".into()),
        }
        .to_string();
        assert!(text.ends_with("(request id r1\\u{1b}[2J)"), "{text}");
    }

    #[test]
    fn unauthorized_explains_the_audience() {
        let e = ClientError::Unauthorized {
            operation: "list agents",
            error: None,
        };
        let text = e.to_string();
        assert!(text.starts_with("list agents: the project refused the credential (401"));
        assert!(!text.contains("hint"), "{text}");
        assert!(
            e.hint()
                .unwrap()
                .starts_with("the token must be issued for the audience https://ai.azure.com")
        );
    }

    #[test]
    fn a_403_for_a_preview_opt_in_does_not_blame_the_role() {
        // As recorded (agent_versions.json): a missing opt-in, not a missing permission.
        let body = br#"{"error":{"code":"preview_feature_required","message":"Workflow agents is in preview. This operation requires the following opt-in preview feature(s): WorkflowAgents=V1Preview. Include the 'Foundry-Features: WorkflowAgents=V1Preview' header in your request.","type":"invalid_request_error","details":[],"additionalInfo":{"request_id":"29e1"}}}"#;
        let opt_in = ClientError::Forbidden {
            operation: "create agent version",
            error: ApiError::parse(body).map(Box::new),
        };
        let hint = opt_in.hint().unwrap();
        let opt_in = opt_in.to_string();
        assert!(opt_in.contains("WorkflowAgents=V1Preview"), "{opt_in}");
        assert!(hint.starts_with("this is a preview opt-in"), "{hint}");
        assert!(!hint.contains("Azure AI User"), "{hint}");
        let role = ClientError::Forbidden {
            operation: "list agents",
            error: None,
        }
        .hint()
        .unwrap();
        assert!(role.contains("the `Azure AI User` role"), "{role}");
    }

    #[test]
    fn the_request_id_is_given_once_even_when_the_service_puts_it_in_the_message() {
        // As recorded (memory_stores.json, May 2026).
        let body = br#"{"error":{"code":"not_found","message":"MemoryStore 'x' not found [Request ID: 5ef6]","type":"invalid_request_error","details":[],"additionalInfo":{"request_id":"5ef6"}}}"#;
        let text = ClientError::Api {
            operation: "get memory store",
            status: reqwest::StatusCode::NOT_FOUND,
            error: ApiError::parse(body).map(Box::new),
            request_id: Some("5ef6".to_owned()),
        }
        .to_string();
        assert_eq!(text.matches("5ef6").count(), 1, "{text}");
        assert!(
            text.contains("MemoryStore 'x' not found (request id 5ef6)"),
            "{text}"
        );
    }

    #[test]
    fn retries_that_never_connected_hint_at_the_endpoint() {
        let e = ClientError::RetriesExhausted {
            operation: "list agents",
            attempts: 8,
            elapsed: Duration::from_millis(9400),
            last: "could not connect: tcp connect error: Connection refused (os error 111)".into(),
        };
        let text = e.to_string();
        assert!(
            text.starts_with("list agents: gave up after 8 attempts in 9.4s: could not connect"),
            "{text}"
        );
        assert!(
            e.hint()
                .unwrap()
                .starts_with("nothing accepted the connection; check --endpoint")
        );
        let untrusted = ClientError::RetriesExhausted {
            operation: "list memory stores",
            attempts: 3,
            elapsed: Duration::from_millis(200),
            last: "could not connect: error sending request for url (https://127.0.0.1:1/): \
                   client error (Connect): invalid peer certificate: UnknownIssuer"
                .into(),
        };
        assert!(
            untrusted
                .hint()
                .unwrap()
                .starts_with("the server's TLS certificate is not trusted; for an emulator"),
            "{:?}",
            untrusted.hint()
        );
        let busy = ClientError::RetriesExhausted {
            operation: "list agents",
            attempts: 8,
            elapsed: Duration::from_secs(60),
            last: "the project answered 503 Service Unavailable".into(),
        };
        assert!(busy.hint().unwrap().starts_with("the service kept failing"));
    }

    #[test]
    fn api_errors_quote_code_message_field_and_request_id() {
        let error = ApiError::parse(br#"{"error":{"code":"invalid_payload","message":"Not allowed when agent is specified.","param":"tools"}}"#).map(Box::new);
        let e = ClientError::Api {
            operation: "create response",
            status: reqwest::StatusCode::BAD_REQUEST,
            error,
            request_id: Some("abc".into()),
        };
        assert_eq!(
            e.to_string(),
            "create response: the project answered 400 Bad Request [invalid_payload]: Not allowed when agent is specified. (field `tools`) (request id abc)"
        );
    }
}
