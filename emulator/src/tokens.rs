//! Token endpoints for testing credential flows end to end, served on loopback only:
//!
//! - `GET /oidc/token?audience=A`, shaped like GitHub Actions' `ACTIONS_ID_TOKEN_REQUEST_URL`:
//!   with `Authorization: Bearer <request token>` it answers `{"value": "<jwt>"}`, an ID token
//!   for audience `A` from the issuer `{base}/oidc` (subject [`OIDC_SUBJECT`]).
//! - `POST /{tenant}/oauth2/v2.0/token`, shaped like Entra ID's token endpoint: form-encoded
//!   `client_credentials` with a `client_secret`, or a `client_assertion` (a JWT from the
//!   `/oidc` issuer above, for audience `api://AzureADTokenExchange`, unexpired). It answers
//!   `{token_type, expires_in, ext_expires_in, access_token}` for the `scope`'s resource, and
//!   errors as Entra does (`{error, error_description, error_codes}`), so the Azure SDKs parse
//!   both.
//!
//! With [`crate::Config::require_issued_token`] the project routes then accept only access
//! tokens from here, for the Foundry audience, not expired.
//!
//! # Guarantees and non-guarantees
//! Tokens are HS256 JWTs signed with a key drawn at start: only the emulator that issued a
//! token can verify it, and a restarted emulator refuses its predecessor's tokens (as a key
//! rollover would). They are test tokens: no discovery document, no JWKS, no signature a
//! third party could check. The request token and client secret are drawn at start too and
//! read with [`crate::Emulator::token_endpoints`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use axum::Json;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

/// The resource every Foundry data-plane token is for (scope `https://ai.azure.com/.default`).
pub const FOUNDRY_AUDIENCE: &str = "https://ai.azure.com";
/// The audience Entra requires of a federated client assertion.
pub const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The subject of the ID tokens `/oidc/token` issues: a GitHub Actions run on `main`.
pub const OIDC_SUBJECT: &str = "repo:octo-org/octo-repo:ref:refs/heads/main";

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What a client needs to use the token endpoints; see [`crate::Emulator::token_endpoints`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEndpoints {
    /// `AZURE_AUTHORITY_HOST`: `scheme://127.0.0.1:PORT` (the SDKs accept only https).
    pub authority_host: String,
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub oidc_request_url: String,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`: the bearer `/oidc/token` requires.
    pub oidc_request_token: String,
    /// The one client secret the Entra endpoint accepts (for any client id).
    pub client_secret: String,
}

/// The issuer: signing key, secrets and lifetimes.
pub struct Tokens {
    key: hmac::Key,
    base: String,
    lifetime: Duration,
    request_token: String,
    client_secret: String,
}

/// Why a bearer token is refused; the text goes into the 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the token is not a JWT this emulator issued (bad signature or shape)")]
    Foreign,
    #[error("the token's audience is {0}, not {FOUNDRY_AUDIENCE}")]
    Audience(String),
    #[error("the token's issuer is {0}, not an access-token issuer of this emulator")]
    Issuer(String),
    #[error("the token expired")]
    Expired,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `len` random bytes from the operating system's generator (the key and secrets guard a
/// loopback port, but nothing about them should be guessable), else from fastrand.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        bytes.iter_mut().for_each(|b| *b = fastrand::u8(..));
    }
    bytes
}

/// A new per-run secret for [`crate::Config::access_secret`]: 43 characters from the operating
/// system's generator (about 256 bits).
pub fn access_secret() -> String {
    random_text(43)
}

/// Whether `headers` carry `Authorization: Bearer <secret>`, compared in constant time.
pub fn carries_secret(headers: &HeaderMap, secret: &str) -> bool {
    let given = bearer(headers).unwrap_or_default().as_bytes();
    let want = secret.as_bytes();
    given.len() == want.len()
        && given
            .iter()
            .zip(want)
            .fold(0_u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn random_text(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    random_bytes(len)
        .into_iter()
        .map(|b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()]))
        .collect()
}

impl Tokens {
    /// A new issuer for the emulator at `base` (`scheme://addr`). Access tokens live
    /// `lifetime` (at least a second).
    pub fn new(base: &str, lifetime: Duration) -> Tokens {
        Tokens {
            key: hmac::Key::new(hmac::HMAC_SHA256, &random_bytes(32)),
            base: base.to_owned(),
            lifetime: lifetime.max(Duration::from_secs(1)),
            request_token: random_text(32),
            client_secret: random_text(32),
        }
    }

    pub fn endpoints(&self) -> TokenEndpoints {
        TokenEndpoints {
            authority_host: self.base.clone(),
            oidc_request_url: format!("{}/oidc/token", self.base),
            oidc_request_token: self.request_token.clone(),
            client_secret: self.client_secret.clone(),
        }
    }

    fn oidc_issuer(&self) -> String {
        format!("{}/oidc", self.base)
    }

    fn sign(&self, claims: &Value) -> String {
        let header = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = B64.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let tag = hmac::sign(&self.key, signing_input.as_bytes());
        format!("{signing_input}.{}", B64.encode(tag.as_ref()))
    }

    /// The claims of a token this emulator signed, or [`Refusal::Foreign`].
    fn claims(&self, token: &str) -> Result<serde_json::Map<String, Value>, Refusal> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Foreign);
        };
        let signature = B64.decode(signature).map_err(|_| Refusal::Foreign)?;
        hmac::verify(
            &self.key,
            format!("{header}.{payload}").as_bytes(),
            &signature,
        )
        .map_err(|_| Refusal::Foreign)?;
        let payload = B64.decode(payload).map_err(|_| Refusal::Foreign)?;
        match serde_json::from_slice(&payload) {
            Ok(Value::Object(claims)) => Ok(claims),
            _ => Err(Refusal::Foreign),
        }
    }

    fn unexpired(claims: &serde_json::Map<String, Value>) -> Result<(), Refusal> {
        match claims.get("exp").and_then(Value::as_u64) {
            Some(exp) if now_secs() < exp => Ok(()),
            _ => Err(Refusal::Expired),
        }
    }

    /// An access token for `audience`, as the Entra endpoint issues it. Its `exp` is rounded
    /// up to the next second, so it is valid for at least `lifetime`.
    pub fn access_token(&self, tenant: &str, client_id: &str, audience: &str) -> String {
        let now = now_secs();
        self.sign(&json!({
            "aud": audience,
            "iss": format!("{}/{tenant}/v2.0", self.base),
            "sub": client_id,
            "appid": client_id,
            "tid": tenant,
            "idtyp": "app",
            "ver": "2.0",
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime.as_secs() + 1,
        }))
    }

    /// An ID token as `/oidc/token` issues it (ten minutes, like GitHub's).
    pub fn id_token(&self, audience: &str) -> String {
        let now = now_secs();
        self.sign(&json!({
            "aud": audience,
            "iss": self.oidc_issuer(),
            "sub": OIDC_SUBJECT,
            "repository": "octo-org/octo-repo",
            "ref": "refs/heads/main",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
        }))
    }

    /// Whether `token` is an unexpired access token from here for the Foundry audience.
    pub fn verify_access(&self, token: &str) -> Result<(), Refusal> {
        let claims = self.claims(token)?;
        let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
        if aud.trim_end_matches('/') != FOUNDRY_AUDIENCE {
            return Err(Refusal::Audience(aud.to_owned()));
        }
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if !(iss.starts_with(&format!("{}/", self.base)) && iss.ends_with("/v2.0")) {
            return Err(Refusal::Issuer(iss.to_owned()));
        }
        Self::unexpired(&claims)
    }

    /// Whether `assertion` is an unexpired ID token from `/oidc` for the exchange audience.
    fn verify_assertion(&self, assertion: &str) -> Result<(), EntraError> {
        let refused = |code: u32, text: &str| EntraError::invalid_client(code, text);
        let claims = self.claims(assertion).map_err(|_| {
            refused(
                50027,
                "Invalid JWT token. The token signature could not be verified.",
            )
        })?;
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if iss != self.oidc_issuer() {
            return Err(refused(
                700211,
                &format!(
                    "No matching federated identity record found for presented assertion issuer '{iss}'."
                ),
            ));
        }
        let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
        if aud != EXCHANGE_AUDIENCE {
            return Err(refused(
                700212,
                &format!(
                    "No matching federated identity record found for presented assertion audience '{aud}'."
                ),
            ));
        }
        Self::unexpired(&claims).map_err(|_| {
            refused(
                700024,
                "Client assertion is not within its valid time range.",
            )
        })
    }
}

/// An Entra-shaped error answer.
struct EntraError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

impl EntraError {
    fn new(error: &'static str, code: u32, description: &str) -> Self {
        EntraError {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            description: description.to_owned(),
        }
    }

    fn invalid_client(code: u32, description: &str) -> Self {
        EntraError {
            status: StatusCode::UNAUTHORIZED,
            ..Self::new("invalid_client", code, description)
        }
    }
}

impl IntoResponse for EntraError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.error,
            "error_description": format!("AADSTS{}: {}", self.code, self.description),
            "error_codes": [self.code],
            "timestamp": now_secs(),
        });
        (self.status, Json(body)).into_response()
    }
}

/// The token routes, served beside the project routes on loopback.
pub fn router(tokens: Arc<Tokens>) -> Router {
    Router::new()
        .route("/oidc/token", get(oidc_token))
        .route("/{tenant}/oauth2/v2.0/token", post(entra_token))
        .with_state(tokens)
}

/// The token of `Authorization: Bearer <token>` (the scheme is case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

async fn oidc_token(
    State(tokens): State<Arc<Tokens>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if bearer(&headers) != Some(tokens.request_token.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        )
            .into_response();
    }
    let audience = query
        .get("audience")
        .map(String::as_str)
        .unwrap_or("https://github.com/octo-org");
    Json(json!({"count": 1, "value": tokens.id_token(audience)})).into_response()
}

async fn entra_token(
    State(tokens): State<Arc<Tokens>>,
    Path(tenant): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Json<Value>, EntraError> {
    let Ok(Form(form)) = form else {
        return Err(EntraError::new(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        ));
    };
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let missing = |name: &str| {
        EntraError::new(
            "invalid_request",
            900144,
            &format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(EntraError::new(
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            ));
        }
        None => return Err(missing("grant_type")),
    }
    let client_id = field("client_id").ok_or_else(|| missing("client_id"))?;
    let scope = field("scope").ok_or_else(|| missing("scope"))?;
    let Some(audience) = scope.strip_suffix("/.default") else {
        return Err(EntraError::new(
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier."
            ),
        ));
    };
    match (field("client_secret"), field("client_assertion")) {
        (Some(secret), None) if secret == tokens.client_secret => {}
        (Some(_), None) => {
            return Err(EntraError::invalid_client(
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            ));
        }
        (None, Some(assertion)) => {
            if field("client_assertion_type") != Some(ASSERTION_TYPE) {
                return Err(missing("client_assertion_type"));
            }
            tokens.verify_assertion(assertion)?;
        }
        _ => {
            return Err(EntraError::invalid_client(
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            ));
        }
    }
    let lifetime = tokens.lifetime.as_secs() + 1;
    Ok(Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": tokens.access_token(&tenant, client_id, audience),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_verify_only_with_the_issuing_key_and_the_foundry_audience() {
        let a = Tokens::new("https://127.0.0.1:1", Duration::from_secs(60));
        let b = Tokens::new("https://127.0.0.1:1", Duration::from_secs(60));
        let token = a.access_token("t", "c", FOUNDRY_AUDIENCE);
        assert_eq!(a.verify_access(&token), Ok(()));
        assert_eq!(b.verify_access(&token), Err(Refusal::Foreign));
        assert_eq!(
            a.verify_access(&a.access_token("t", "c", "https://management.azure.com")),
            Err(Refusal::Audience("https://management.azure.com".into()))
        );
        assert_eq!(a.verify_access("not.a.jwt"), Err(Refusal::Foreign));
        // An ID token is for another audience and from another issuer.
        assert!(a.verify_access(&a.id_token(FOUNDRY_AUDIENCE)).is_err());
        let mut tampered = token.clone();
        tampered.insert(token.find('.').unwrap() + 2, 'x');
        assert_eq!(a.verify_access(&tampered), Err(Refusal::Foreign));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let a = Tokens::new("https://127.0.0.1:1", Duration::from_secs(60));
        let expired = a.sign(&json!({
            "aud": FOUNDRY_AUDIENCE,
            "iss": "https://127.0.0.1:1/t/v2.0",
            "exp": now_secs() - 1,
        }));
        assert_eq!(a.verify_access(&expired), Err(Refusal::Expired));
    }

    #[test]
    fn assertions_must_come_from_the_oidc_issuer_for_the_exchange_audience() {
        let a = Tokens::new("https://127.0.0.1:1", Duration::from_secs(60));
        assert!(a.verify_assertion(&a.id_token(EXCHANGE_AUDIENCE)).is_ok());
        let wrong_aud = a
            .verify_assertion(&a.id_token("https://github.com/x"))
            .err();
        assert_eq!(wrong_aud.map(|e| e.code), Some(700212));
        let access = a.access_token("t", "c", EXCHANGE_AUDIENCE);
        assert_eq!(
            a.verify_assertion(&access).err().map(|e| e.code),
            Some(700211)
        );
        let other = Tokens::new("https://127.0.0.1:1", Duration::from_secs(60));
        let foreign = other.id_token(EXCHANGE_AUDIENCE);
        assert_eq!(
            a.verify_assertion(&foreign).err().map(|e| e.code),
            Some(50027)
        );
    }
}
