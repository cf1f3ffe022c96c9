//! The running server: an accept loop over hyper, so that faults can act below HTTP (a dropped
//! connection is a closed socket with no response, which axum's own `serve` cannot express).
//!
//! Per request, in order: refuse it without the per-run access secret when one is set (every
//! route, before anything else), count it, apply injected faults (latency, then drop / 429 / 500 /
//! 503), check the bearer token of project routes (`require_token`; with
//! `require_issued_token`, one this emulator's token endpoint issued), route through axum, add
//! the `api-supported-versions` header the service sends.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::api::{self};
use crate::config::{Config, FaultConfig, Storage};
use crate::store::db::Db;
use crate::store::updates;
use crate::tls;
use crate::tokens::{self, TokenEndpoints, Tokens};

/// Request counts, for benchmarks and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every request received, including faulted and unrouted ones.
    pub total: u64,
    /// By HTTP method (`"GET"`, `"POST"`, …).
    pub by_method: BTreeMap<String, u64>,
    /// By method and route template, e.g. `"GET /agents/{name}"` (routed requests only).
    pub by_route: BTreeMap<String, u64>,
    /// Requests answered by an injected 429/500/503.
    pub injected_errors: u64,
    /// Connections closed by an injected drop.
    pub dropped: u64,
    /// Requests being answered now (counted ones: a stranger's refused request is not).
    pub in_flight: u64,
    /// The most requests that were being answered at once, latency included: how concurrent
    /// a client really was.
    pub max_in_flight: u64,
}

/// Counts one request as in flight until dropped, whichever way `handle` returns.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn start(shared: &Arc<Shared>) -> InFlight {
        shared.count(|s| {
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
        });
        InFlight(Arc::clone(shared))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .count(|s| s.in_flight = s.in_flight.saturating_sub(1));
    }
}

/// Shared mutable state of the server loop.
struct Shared {
    faults: RwLock<FaultConfig>,
    rng: Mutex<fastrand::Rng>,
    stats: Mutex<Stats>,
    require_token: bool,
    /// The token issuer when token endpoints are served (loopback binds only), and whether
    /// project routes accept only its tokens.
    tokens: Option<Arc<Tokens>>,
    require_issued_token: bool,
    /// [`Config::access_secret`]: checked on every route, before anything else.
    access_secret: Option<String>,
}

/// The error that makes hyper close a connection without answering: an injected drop.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct Dropped;

/// What the fault step decided for one request.
enum Fault {
    None,
    Drop,
    /// Serve the request, then drop the connection instead of answering.
    LoseAnswer,
    Status(StatusCode),
}

impl Shared {
    fn roll(&self) -> (Duration, Fault) {
        let faults = match self.faults.read() {
            Ok(f) => f.clone(),
            Err(_) => return (Duration::ZERO, Fault::None),
        };
        if !faults.is_active() {
            return (Duration::ZERO, Fault::None);
        }
        let Ok(mut rng) = self.rng.lock() else {
            return (Duration::ZERO, Fault::None);
        };
        let jitter_ms = u64::try_from(faults.jitter.as_millis()).unwrap_or(u64::MAX);
        let delay = faults.latency
            + if jitter_ms > 0 {
                Duration::from_millis(rng.u64(0..=jitter_ms))
            } else {
                Duration::ZERO
            };
        let fault = if rng.f64() < faults.drop_rate {
            Fault::Drop
        } else if rng.f64() < faults.rate_429 {
            Fault::Status(StatusCode::TOO_MANY_REQUESTS)
        } else if rng.f64() < faults.rate_500 {
            Fault::Status(StatusCode::INTERNAL_SERVER_ERROR)
        } else if rng.f64() < faults.rate_503 {
            Fault::Status(StatusCode::SERVICE_UNAVAILABLE)
        } else if rng.f64() < faults.lost_answer_rate {
            Fault::LoseAnswer
        } else {
            Fault::None
        };
        (delay, fault)
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }
}

/// A running emulator. Dropping it without [`Emulator::shutdown`] stops accepting connections.
pub struct Emulator {
    endpoint: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    worker: tokio::task::JoinHandle<()>,
    cert_path: Option<std::path::PathBuf>,
}

impl Emulator {
    /// Opens the storage, binds the address and starts serving.
    pub async fn start(config: Config) -> anyhow::Result<Emulator> {
        let db = match &config.storage {
            Storage::Memory => Db::open_memory()?,
            Storage::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).with_context(|| {
                        format!(
                            "failed to create the emulator data directory {}",
                            dir.display()
                        )
                    })?;
                }
                Db::open_file(path)?
            }
        };
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("failed to bind the emulator to {}", config.bind))?;
        let addr = listener.local_addr()?;
        let (acceptor, cert_path) = match &config.tls {
            Some(t) => {
                let (acceptor, cert) = tls::acceptor(&t.dir)?;
                (Some(acceptor), Some(cert))
            }
            None => (None, None),
        };
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let endpoint = format!("{scheme}://{addr}{}", api::PROJECT_PREFIX);
        // Token endpoints hand out credentials to whoever asks, so only on loopback.
        let tokens = addr.ip().is_loopback().then(|| {
            Arc::new(Tokens::new(
                &format!("{scheme}://{addr}"),
                config.token_lifetime,
            ))
        });
        anyhow::ensure!(
            tokens.is_some() || !config.require_issued_token,
            "the emulator issues tokens on loopback only, so it cannot require them on {addr}"
        );
        let seed = config.faults.seed.unwrap_or_else(|| fastrand::u64(..));
        let shared = Arc::new(Shared {
            faults: RwLock::new(config.faults.clone()),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            stats: Mutex::new(Stats::default()),
            require_token: config.require_token,
            tokens: tokens.clone(),
            require_issued_token: config.require_issued_token,
            access_secret: config.access_secret.clone(),
        });
        let state = AppState {
            db: db.clone(),
            processing: config.update_processing,
            endpoint: Arc::from(endpoint.as_str()),
            version_dedup: config.version_dedup,
            deployments: Arc::from(config.deployments.clone()),
        };
        let mut router = api::router(state.clone());
        if let Some(tokens) = &tokens {
            router = router.merge(tokens::router(Arc::clone(tokens)));
        }
        let router = router.route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            count_route,
        ));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(
            listener,
            acceptor,
            router,
            Arc::clone(&shared),
            stop_rx.clone(),
        ));
        let worker = tokio::spawn(updates::worker(state.db.clone(), stop_rx));
        Ok(Emulator {
            endpoint,
            addr,
            shared,
            stop,
            task,
            worker,
            cert_path,
        })
    }

    /// The project endpoint, e.g. `http://127.0.0.1:PORT/api/projects/local`.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The self-signed certificate (PEM) clients must trust, when serving TLS.
    pub fn certificate_path(&self) -> Option<&std::path::Path> {
        self.cert_path.as_deref()
    }

    /// The token endpoints and their secrets; `None` when not bound to loopback.
    pub fn token_endpoints(&self) -> Option<TokenEndpoints> {
        self.shared.tokens.as_ref().map(|t| t.endpoints())
    }

    /// An access token as the Entra-shaped endpoint would issue it, for tests that need one
    /// without a token request (a fake `az`).
    pub fn issue_access_token(&self, audience: &str) -> Option<String> {
        let tokens = self.shared.tokens.as_ref()?;
        Some(tokens.access_token("emulator-tenant", "emulator-client", audience))
    }

    /// Replaces the fault configuration; requests already delayed keep their old decision.
    pub fn set_faults(&self, faults: FaultConfig) {
        if let Some(seed) = faults.seed
            && let Ok(mut rng) = self.shared.rng.lock()
        {
            *rng = fastrand::Rng::with_seed(seed);
        }
        if let Ok(mut f) = self.shared.faults.write() {
            *f = faults;
        }
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> Stats {
        self.shared
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Stops accepting, lets in-flight requests finish (up to 5 s), then returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let _ = self.worker.await;
    }
}

/// Counts routed requests by method and route template.
async fn count_route(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if let Some(path) = request.extensions().get::<MatchedPath>() {
        let template = path
            .as_str()
            .strip_prefix(api::PROJECT_PREFIX)
            .unwrap_or(path.as_str());
        let key = format!("{} {template}", request.method());
        shared.count(|s| *s.by_route.entry(key).or_default() += 1);
    }
    next.run(request).await
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let (socket, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!("emulator failed to accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = socket.set_nodelay(true);
        let router = router.clone();
        let shared = Arc::clone(&shared);
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                handle(req.map(Body::new), router.clone(), Arc::clone(&shared))
            });
        match &acceptor {
            None => {
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(socket), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(socket).await else {
                        return;
                    };
                    let conn =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn.into_owned()).await;
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

async fn handle(
    request: Request,
    router: axum::Router,
    shared: Arc<Shared>,
) -> Result<Response, Dropped> {
    if let Some(secret) = &shared.access_secret
        && !tokens::carries_secret(request.headers(), secret)
    {
        // Not counted: a stranger's request is not part of the run's traffic.
        return Ok(ApiError::unauthorized().into_response());
    }
    let method = request.method().to_string();
    shared.count(|s| {
        s.total += 1;
        *s.by_method.entry(method).or_default() += 1;
    });
    let _in_flight = InFlight::start(&shared);
    let (delay, fault) = shared.roll();
    let trip = RoundTrip::start(delay);
    let lose_answer = matches!(fault, Fault::LoseAnswer);
    match fault {
        Fault::None | Fault::LoseAnswer => trip.halfway().await,
        Fault::Drop => {
            trip.end().await;
            shared.count(|s| s.dropped += 1);
            return Err(Dropped);
        }
        Fault::Status(status) => {
            trip.end().await;
            shared.count(|s| s.injected_errors += 1);
            let mut response = ApiError::injected(status).into_response();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let secs = shared
                    .faults
                    .read()
                    .map(|f| f.retry_after_secs)
                    .unwrap_or(1);
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    response.headers_mut().insert("retry-after", v);
                }
            }
            return Ok(response);
        }
    }
    // The token routes take their own credentials; the checks are for the project.
    if request.uri().path().starts_with(api::PROJECT_PREFIX) {
        if shared.require_token && !has_bearer(&request) {
            trip.end().await;
            return Ok(ApiError::unauthorized().into_response());
        }
        if shared.require_issued_token
            && let Some(tokens) = &shared.tokens
            && let Err(refusal) =
                tokens.verify_access(tokens::bearer(request.headers()).unwrap_or_default())
        {
            let mut error = ApiError::unauthorized();
            error.message = format!("{} ({refusal})", error.message);
            trip.end().await;
            return Ok(error.into_response());
        }
    }
    let plain_json = api::answers_plain_json(request.uri().path());
    let result: Result<Response, Infallible> = router.oneshot(request).await;
    let mut response = match result {
        Ok(r) => r,
        Err(never) => match never {},
    };
    trip.end().await;
    if lose_answer {
        shared.count(|s| s.dropped += 1);
        return Err(Dropped);
    }
    if !plain_json || !response.status().is_success() {
        json_charset(&mut response);
    }
    response.headers_mut().insert(
        "api-supported-versions",
        HeaderValue::from_static(api::SUPPORTED_VERSIONS),
    );
    Ok(response)
}

/// The injected latency of one request, as a round trip: the request reaches the service
/// halfway through it, and the answer the client at its end. The service's own work happens in
/// between, so a request is answered `latency` after it arrived (or when its work is done, if
/// that takes longer), as a service that answers in `latency` would. Working after the whole
/// wait instead put that work on top of every simulated round trip: 0.3 ms on a busy machine,
/// 1.3 ms after the machine had idled through the wait (cold caches, sleeping cores), more
/// than the client's own overhead on the benchmark's shortest paths.
struct RoundTrip {
    started: std::time::Instant,
    delay: Duration,
}

impl RoundTrip {
    fn start(delay: Duration) -> RoundTrip {
        RoundTrip {
            started: std::time::Instant::now(),
            delay,
        }
    }

    /// Waits until the request would reach the service.
    async fn halfway(&self) {
        wait_until(self.started + self.delay / 2).await;
    }

    /// Waits until the answer would reach the client.
    async fn end(&self) {
        wait_until(self.started + self.delay).await;
    }
}

/// Waits until `deadline`, to within a fraction of a millisecond. tokio's timer counts whole
/// milliseconds and wakes late (a 25 ms sleep took 26.5 ms on the benchmark machine), an error
/// every simulated round trip would carry; the last two milliseconds are slept on a blocking
/// thread instead, which the operating system wakes on time.
async fn wait_until(deadline: std::time::Instant) {
    const SLACK: Duration = Duration::from_millis(2);
    let left = || deadline.saturating_duration_since(std::time::Instant::now());
    if let Some(coarse) = left().checked_sub(SLACK) {
        tokio::time::sleep(coarse).await;
    }
    let rest = left();
    if !rest.is_zero() {
        // A failed blocking task only means the wait was shorter.
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

/// The service labels its JSON `application/json; charset=utf-8` (every recording but the
/// Responses answers, see [`api::answers_plain_json`]); axum's `Json` says `application/json`
/// only. (Errors set it themselves, faulted or not.)
fn json_charset(response: &mut Response) {
    let headers = response.headers_mut();
    if headers
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/json")
    {
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(api::error::JSON_CONTENT_TYPE),
        );
    }
}

/// `Authorization: Bearer <something>`; the token is never logged.
fn has_bearer(request: &Request) -> bool {
    tokens::bearer(request.headers()).is_some()
}
