//! Sending requests: one reqwest client, timeouts, retries, a global limit on requests in
//! flight, and request logging with the token redacted.
//!
//! # Retries
//! 429, 500, 502, 503, 504 and connection failures are retried with exponential backoff and
//! full jitter (a uniformly random delay between 0 and `base × 2^(attempt-1)`, capped), which
//! spreads a burst of parallel writers instead of synchronising them. A `Retry-After` header
//! (seconds or an HTTP date) replaces the computed delay. Attempts and total time are both
//! bounded; a delay that would end past the time budget ends the retries instead.
//!
//! # Writes whose outcome is unknown
//! A request that never reached the server (connect failure) or that the server refused
//! without acting (429, 503) is safe to repeat. A non-idempotent write that timed out, lost its
//! connection after sending, or met a 500/502/504 may have happened: the transport then returns
//! [`ClientError::OutcomeUnknown`] instead of repeating it, and the caller reads back first
//! (see `client::stores`/`client::agents`), so a lost response never creates a duplicate.
//!
//! # Answers are bounded
//! A body is read in chunks up to [`TransportConfig::max_body_bytes`] (32 MiB): past it, or
//! when `content-length` announces more, the request fails with [`ClientError::TooLarge`]
//! instead of taking memory without limit. It is not retried.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use tokio::sync::Semaphore;

use super::auth::Auth;
use super::error::ClientError;
use super::request::{Idempotency, RequestSpec};
use super::wire::ApiError;

/// Tunables; the defaults suit a CLI talking to a cloud service.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    pub connect_timeout: Duration,
    /// Per attempt, from sending to the end of the body.
    pub request_timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Consecutive attempts that could not connect at all before giving up. Kept well below
    /// `max_attempts`: a refused connection almost always means a wrong endpoint or a server
    /// that is not running, and the user should hear so in about a second, not after minutes.
    pub max_connect_failures: u32,
    /// Total time for one request, retries and waits included.
    pub max_elapsed: Duration,
    /// The first backoff ceiling; doubles per attempt.
    pub base_delay: Duration,
    /// The largest computed backoff (a `Retry-After` may ask for more, within `max_elapsed`).
    pub max_delay: Duration,
    /// Requests in flight at once, across every caller of this client.
    pub max_in_flight: usize,
    /// The largest answer body read; a larger one is an error, never buffered whole.
    pub max_body_bytes: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_attempts: 8,
            max_connect_failures: 3,
            max_elapsed: Duration::from_secs(120),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(15),
            max_in_flight: 16,
            // The largest real answers (a 100-item page of agents with long instructions) are
            // a few MiB.
            max_body_bytes: 32 << 20,
        }
    }
}

impl TransportConfig {
    /// The defaults, with room for `parallelism` requests in flight at once. The in-flight
    /// limit is a semaphore shared by every request of the client, so an executor running
    /// `--parallelism 32` on a client that admits 16 would silently run 16 at a time; this
    /// keeps the limit at least the executor's. It is never lowered below the default, since
    /// reads (paged lists, histories) share it with the writes.
    pub fn for_parallelism(parallelism: usize) -> Self {
        let default = Self::default();
        Self {
            max_in_flight: default.max_in_flight.max(parallelism),
            ..default
        }
    }
}

/// A response that ended the retry loop: a success, or an error status the caller maps.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    /// The request id the service assigned (`x-request-id`, else `apim-request-id`).
    pub fn request_id(&self) -> Option<String> {
        ["x-request-id", "apim-request-id"]
            .iter()
            .find_map(|h| self.headers.get(*h)?.to_str().ok().map(str::to_owned))
    }

    /// A success as itself; an error status as the matching [`ClientError`].
    pub fn ok(self, operation: &'static str) -> Result<Response, ClientError> {
        if self.status.is_success() {
            return Ok(self);
        }
        let error = ApiError::parse(&self.body).map(Box::new);
        let request_id = self
            .request_id()
            .or_else(|| error.as_ref()?.request_id().map(str::to_owned));
        Err(match self.status {
            StatusCode::UNAUTHORIZED => ClientError::Unauthorized { operation, error },
            StatusCode::FORBIDDEN => ClientError::Forbidden { operation, error },
            status => ClientError::Api {
                operation,
                status,
                error,
                request_id,
            },
        })
    }

    pub fn json<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
    ) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body).map_err(|error| ClientError::Decode { operation, error })
    }
}

/// What one attempt came to, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// An answer with this status and, when given, the wait the server asked for.
    Status(StatusCode, Option<Duration>),
    /// The request never reached the server.
    NotSent(String),
    /// Sent, but no complete answer: timeout, reset, truncated body.
    NoAnswer(String),
    /// The answer is larger than [`TransportConfig::max_body_bytes`]: reading stopped there.
    TooLarge,
}

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Hand the answer to the caller.
    Return,
    /// Wait this long, then try again.
    Retry(Duration),
    /// A non-idempotent write may have happened: report it, do not repeat it.
    Unknown,
    /// A transient failure, but the budget is spent.
    GiveUp,
}

/// The statuses worth another try.
pub fn is_retriable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// 429 and 503 mean "not processed, come back later"; 500, 502 and 504 may hide a write that
/// happened behind a failing gateway.
fn status_means_not_processed(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 503)
}

/// The retry policy as a pure function, so it is tested without a clock or a server.
/// `attempt` counts from 1; `connect_failures` counts the consecutive attempts, this one
/// included, that could not connect; `jitter` is a uniform sample in [0, 1).
pub fn decide(
    outcome: &AttemptOutcome,
    idempotency: Idempotency,
    attempt: u32,
    connect_failures: u32,
    elapsed: Duration,
    config: &TransportConfig,
    jitter: f64,
) -> Decision {
    let retry_after = match outcome {
        AttemptOutcome::Status(status, _) if !is_retriable(*status) => return Decision::Return,
        // Asking again would bring the same answer.
        AttemptOutcome::TooLarge => return Decision::Return,
        AttemptOutcome::Status(status, _)
            if idempotency == Idempotency::NonIdempotent
                && !status_means_not_processed(*status) =>
        {
            return Decision::Unknown;
        }
        AttemptOutcome::NoAnswer(_) if idempotency == Idempotency::NonIdempotent => {
            return Decision::Unknown;
        }
        AttemptOutcome::Status(_, retry_after) => *retry_after,
        AttemptOutcome::NotSent(_) | AttemptOutcome::NoAnswer(_) => None,
    };
    if attempt >= config.max_attempts || connect_failures >= config.max_connect_failures {
        return Decision::GiveUp;
    }
    let delay = retry_after.unwrap_or_else(|| backoff(attempt, config, jitter));
    if elapsed + delay > config.max_elapsed {
        return Decision::GiveUp;
    }
    Decision::Retry(delay)
}

/// Full jitter: uniform in [0, min(max_delay, base × 2^(attempt-1))].
pub fn backoff(attempt: u32, config: &TransportConfig, jitter: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let ceiling = config
        .base_delay
        .saturating_mul(1 << exp)
        .min(config.max_delay);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

/// `Retry-After: <seconds>` or `Retry-After: <HTTP-date>`; also the `retry-after-ms` header some
/// Azure front doors send. A date in the past means "now".
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = headers.get("retry-after-ms").and_then(|v| v.to_str().ok())
        && let Ok(ms) = ms.trim().parse::<u64>()
    {
        return Some(Duration::from_millis(ms));
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Loopback hosts may get a bearer token over plain http: the traffic never leaves the machine.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The header map as text for `-vv` logs, with credentials replaced.
pub fn redacted(headers: &HeaderMap) -> String {
    let mut parts: Vec<String> = headers
        .iter()
        .map(|(name, value)| {
            let shown = if name == AUTHORIZATION || name.as_str().eq_ignore_ascii_case("api-key") {
                "<redacted>".to_owned()
            } else {
                value.to_str().unwrap_or("<binary>").to_owned()
            };
            format!("{name}: {shown}")
        })
        .collect();
    parts.sort();
    parts.join(", ")
}

/// The reqwest client plus the shared limits. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    config: TransportConfig,
    in_flight: Arc<Semaphore>,
    auth: Arc<Auth>,
}

impl Transport {
    /// A client for requests to `endpoint`.
    ///
    /// The system's root certificates are read (every file of the platform store, about 10 ms
    /// before the first request) only when `endpoint` is `https`. A plain-`http` endpoint, such
    /// as the local emulator, gets a client that trusts no certificate at all: it never makes a
    /// TLS connection, and if it were redirected to one, verification would fail.
    pub fn new(
        config: TransportConfig,
        auth: Arc<Auth>,
        endpoint: &Url,
    ) -> Result<Self, ClientError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("foundryctl/", env!("CARGO_PKG_VERSION")));
        if endpoint.scheme() != "https" {
            builder = builder.tls_certs_only([]);
        }
        let http = builder.build().map_err(|e| ClientError::Request {
            operation: "start the HTTP client",
            reason: error_chain(&e),
        })?;
        let in_flight = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
        Ok(Self {
            http,
            config,
            in_flight,
            auth,
        })
    }

    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Sends `spec`, retrying as the module documentation describes. Returns the final answer
    /// whatever its status (map it with [`Response::ok`]), or the error that ended the loop.
    ///
    /// A 401 to a token the credential can replace is retried once with a new token (the
    /// project acted on nothing, so even a write is safe to repeat); a second 401 is returned.
    pub async fn send(&self, spec: &RequestSpec) -> Result<Response, ClientError> {
        let authorization = self.authorization(&spec.url).await?;
        let response = self.send_as(spec, authorization.as_deref()).await?;
        if response.status == StatusCode::UNAUTHORIZED
            && let Some(rejected) = authorization
                .as_deref()
                .and_then(|a| a.strip_prefix("Bearer "))
            && self.auth.refresh(rejected).await
        {
            tracing::debug!(
                target: "foundryctl::http",
                "{} {}: 401; retrying once with a new token",
                spec.method, spec.url.path()
            );
            let authorization = self.authorization(&spec.url).await?;
            return self.send_as(spec, authorization.as_deref()).await;
        }
        Ok(response)
    }

    /// [`Transport::send`] with a given `Authorization` value.
    async fn send_as(
        &self,
        spec: &RequestSpec,
        authorization: Option<&str>,
    ) -> Result<Response, ClientError> {
        let started = Instant::now();
        let mut attempt = 0;
        let mut connect_failures = 0;
        loop {
            attempt += 1;
            let result = self.attempt(spec, authorization).await;
            let outcome = match &result {
                Ok(resp) => AttemptOutcome::Status(
                    resp.status,
                    retry_after(&resp.headers, SystemTime::now()),
                ),
                Err(o) => o.clone(),
            };
            if matches!(outcome, AttemptOutcome::NotSent(_)) {
                connect_failures += 1;
            } else {
                connect_failures = 0;
            }
            match decide(
                &outcome,
                spec.idempotency,
                attempt,
                connect_failures,
                started.elapsed(),
                &self.config,
                fastrand::f64(),
            ) {
                Decision::Return => {
                    return result.map_err(|outcome| match outcome {
                        AttemptOutcome::TooLarge => ClientError::TooLarge {
                            operation: spec.operation,
                            limit: self.config.max_body_bytes,
                        },
                        _ => ClientError::Request {
                            operation: spec.operation,
                            reason: "no answer".into(),
                        },
                    });
                }
                Decision::Retry(delay) => {
                    tracing::debug!(
                        target: "foundryctl::http",
                        "{} {}: {}; retrying in {} ms (attempt {attempt})",
                        spec.method, spec.url.path(), describe(&outcome), delay.as_millis()
                    );
                    tokio::time::sleep(delay).await;
                }
                Decision::Unknown => {
                    return Err(ClientError::OutcomeUnknown {
                        operation: spec.operation,
                        reason: describe(&outcome),
                    });
                }
                Decision::GiveUp => {
                    // A retriable status that outlived the budget is reported as that status,
                    // so a 404-style mapping is never confused with exhaustion.
                    if let Ok(resp) = result
                        && !is_retriable(resp.status)
                    {
                        return Ok(resp);
                    }
                    return Err(ClientError::RetriesExhausted {
                        operation: spec.operation,
                        attempts: attempt,
                        elapsed: started.elapsed(),
                        last: describe(&outcome),
                    });
                }
            }
        }
    }

    /// `Authorization` for `url`, refusing plain http to anything but loopback.
    async fn authorization(&self, url: &Url) -> Result<Option<String>, ClientError> {
        if !self.auth.needs_token() {
            return Ok(None);
        }
        if url.scheme() != "https" && !is_loopback(url) {
            return Err(ClientError::InsecureEndpoint {
                host: url.host_str().unwrap_or("").to_owned(),
            });
        }
        Ok(self.auth.bearer().await?.map(|t| format!("Bearer {t}")))
    }

    /// One attempt, under the in-flight limit.
    async fn attempt(
        &self,
        spec: &RequestSpec,
        authorization: Option<&str>,
    ) -> Result<Response, AttemptOutcome> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| AttemptOutcome::NotSent("client shut down".into()))?;
        let mut builder = self
            .http
            .request(spec.method.clone(), spec.url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in &spec.headers {
            builder = builder.header(*name, value);
        }
        if let Some(authorization) = authorization {
            let mut value = HeaderValue::from_str(authorization).map_err(|_| {
                AttemptOutcome::NotSent("the token is not a valid header value".into())
            })?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        if let Some(body) = &spec.body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.to_string());
        }
        let request = builder
            .build()
            .map_err(|e| AttemptOutcome::NotSent(format!("invalid request: {e}")))?;
        if tracing::enabled!(target: "foundryctl::http::body", tracing::Level::DEBUG) {
            tracing::debug!(
                target: "foundryctl::http::body",
                "> {} {} [{}] {}",
                spec.method, spec.url, redacted(request.headers()),
                spec.body.as_ref().map(ToString::to_string).unwrap_or_default()
            );
        }
        let started = Instant::now();
        let mut response = self.http.execute(request).await.map_err(|e| classify(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        // Read in chunks up to the limit: a huge or endless answer (a misrouted endpoint, a
        // hostile proxy) is an error, not all of memory.
        let limit = self.config.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|declared| declared > limit as u64)
        {
            return Err(AttemptOutcome::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| AttemptOutcome::NoAnswer(format!("reading the answer: {e}")))?
        {
            if body.len() + chunk.len() > limit {
                return Err(AttemptOutcome::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        // A gateway may quote the Authorization header back: the token leaves the answer here,
        // before an error message or a log line can carry it.
        let token = authorization.map(|a| a.strip_prefix("Bearer ").unwrap_or(a));
        let body = match (token, std::str::from_utf8(&body)) {
            (Some(token), Ok(text)) => match super::redact::redact_secret(text, token) {
                std::borrow::Cow::Owned(redacted) => redacted.into_bytes(),
                std::borrow::Cow::Borrowed(_) => body,
            },
            _ => body,
        };
        let resp = Response {
            status,
            headers,
            body,
        };
        tracing::info!(
            target: "foundryctl::http",
            "{} {} {} {} ms{}",
            spec.method,
            spec.url.path(),
            status.as_u16(),
            started.elapsed().as_millis(),
            resp.request_id().map(|id| format!(" request-id={id}")).unwrap_or_default()
        );
        tracing::debug!(target: "foundryctl::http::body", "< {}", String::from_utf8_lossy(&resp.body));
        Ok(resp)
    }
}

/// Sorts a reqwest error into "never sent" (safe to repeat anything) or "no answer".
fn classify(error: &reqwest::Error) -> AttemptOutcome {
    let text = error_chain(error);
    if error.is_connect() {
        AttemptOutcome::NotSent(text)
    } else {
        AttemptOutcome::NoAnswer(text)
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn describe(outcome: &AttemptOutcome) -> String {
    match outcome {
        AttemptOutcome::Status(status, _) => format!("the project answered {status}"),
        AttemptOutcome::NotSent(e) => format!("could not connect: {e}"),
        AttemptOutcome::NoAnswer(e) => format!("no answer: {e}"),
        AttemptOutcome::TooLarge => "the answer was larger than the limit".to_owned(),
    }
}

#[cfg(test)]
mod tests;
