//! How an emulator is configured: storage, address, faults, token and TLS requirements, how
//! agent versions are created, and the model deployments the project lists.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Where the emulator keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// A private in-memory database; gone when the emulator stops (tests).
    Memory,
    /// A SQLite file, created when missing; several processes may share it.
    File(PathBuf),
}

/// Serve HTTPS with a self-signed certificate generated into `dir` (`cert.pem`, `key.pem`), so
/// SDKs that refuse bearer tokens over plain HTTP can talk to the emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    pub dir: PathBuf,
}

/// Injected faults, applied to every request before routing. Rates are probabilities in
/// `0.0..=1.0`, rolled independently in the order drop, 429, 500, 503 from one seeded generator,
/// so a seed plus a request sequence gives the same faults every run.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// The round trip of each request: it is answered this long after it arrived, the
    /// emulator's own work done halfway (see `server::RoundTrip`).
    pub latency: Duration,
    /// Extra delay, uniform in `0..=jitter`, added to `latency`.
    pub jitter: Duration,
    /// Probability of 429 Too Many Requests (with `Retry-After`).
    pub rate_429: f64,
    /// The `Retry-After` value of injected 429s, in seconds.
    pub retry_after_secs: u64,
    /// Probability of 500 Internal Server Error.
    pub rate_500: f64,
    /// Probability of 503 Service Unavailable.
    pub rate_503: f64,
    /// Probability of closing the connection without any response.
    pub drop_rate: f64,
    /// Probability of carrying the request out, then closing the connection without its
    /// answer: the write happened, and the client cannot know (rolled after the others, on
    /// requests they let through).
    pub lost_answer_rate: f64,
    /// Seed of the fault generator; `None` picks one at random.
    pub seed: Option<u64>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            rate_429: 0.0,
            retry_after_secs: 1,
            rate_500: 0.0,
            rate_503: 0.0,
            drop_rate: 0.0,
            lost_answer_rate: 0.0,
            seed: None,
        }
    }
}

/// A fault variable that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid {name}={value:?}: {reason}")]
pub struct FaultEnvError {
    pub name: String,
    pub value: String,
    pub reason: &'static str,
}

impl FaultConfig {
    /// Whether any fault is configured (the request path skips the fault step otherwise).
    pub fn is_active(&self) -> bool {
        !self.latency.is_zero()
            || !self.jitter.is_zero()
            || self.rate_429 > 0.0
            || self.rate_500 > 0.0
            || self.rate_503 > 0.0
            || self.drop_rate > 0.0
            || self.lost_answer_rate > 0.0
    }

    /// Overrides fields from `FOUNDRY_EMULATOR_*` variables read through `get` (so tests pass a
    /// map instead of touching the process environment): `LATENCY_MS`, `JITTER_MS`,
    /// `RATE_429`, `RETRY_AFTER`, `RATE_500`, `RATE_503`, `DROP_RATE`, `LOST_ANSWER_RATE`, `SEED`,
    /// and `ERROR_RATE`,
    /// which splits evenly over 429, 500 and 503.
    pub fn apply_env(
        mut self,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<FaultConfig, FaultEnvError> {
        let read = |key: &str| get(&format!("FOUNDRY_EMULATOR_{key}")).map(|v| (key.to_owned(), v));
        let err = |key: &str, value: &str, reason| FaultEnvError {
            name: format!("FOUNDRY_EMULATOR_{key}"),
            value: value.to_owned(),
            reason,
        };
        let millis = |key: &str| -> Result<Option<Duration>, FaultEnvError> {
            read(key)
                .map(|(k, v)| {
                    v.trim()
                        .parse::<u64>()
                        .map(Duration::from_millis)
                        .map_err(|_| err(&k, &v, "expected whole milliseconds"))
                })
                .transpose()
        };
        let rate = |key: &str| -> Result<Option<f64>, FaultEnvError> {
            read(key)
                .map(|(k, v)| match v.trim().parse::<f64>() {
                    Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                    _ => Err(err(&k, &v, "expected a probability between 0 and 1")),
                })
                .transpose()
        };
        if let Some(d) = millis("LATENCY_MS")? {
            self.latency = d;
        }
        if let Some(d) = millis("JITTER_MS")? {
            self.jitter = d;
        }
        if let Some(r) = rate("ERROR_RATE")? {
            self.rate_429 = r / 3.0;
            self.rate_500 = r / 3.0;
            self.rate_503 = r / 3.0;
        }
        if let Some(r) = rate("RATE_429")? {
            self.rate_429 = r;
        }
        if let Some(r) = rate("RATE_500")? {
            self.rate_500 = r;
        }
        if let Some(r) = rate("RATE_503")? {
            self.rate_503 = r;
        }
        if let Some(r) = rate("DROP_RATE")? {
            self.drop_rate = r;
        }
        if let Some(r) = rate("LOST_ANSWER_RATE")? {
            self.lost_answer_rate = r;
        }
        if let Some((k, v)) = read("RETRY_AFTER") {
            self.retry_after_secs = v
                .trim()
                .parse()
                .map_err(|_| err(&k, &v, "expected whole seconds"))?;
        }
        if let Some((k, v)) = read("SEED") {
            self.seed = Some(
                v.trim()
                    .parse()
                    .map_err(|_| err(&k, &v, "expected an integer"))?,
            );
        }
        Ok(self)
    }
}

/// How long an update stays `in_progress` in `foundryctl emulator` and `--endpoint local`. The
/// service takes seconds (4–13 s in the recordings); half a second keeps `in_progress`
/// observable, as clients must expect it, without slowing a tutorial down.
pub const DEFAULT_UPDATE_PROCESSING: Duration = Duration::from_millis(500);

/// Whether creating an agent version identical to the latest (same definition, description
/// and metadata) returns that version instead of a new one. The service has been seen to do so,
/// but does not promise it; clients must not rely on it, and tests of races turn it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionDedup {
    /// Return the identical latest version (the emulator's default, as observed).
    #[default]
    On,
    /// Always create a new version.
    Off,
}

/// A `--version-dedup` value that is neither `on` nor `off`.
#[derive(Debug, thiserror::Error)]
#[error("expected `on` or `off`, not {0:?}")]
pub struct VersionDedupError(String);

impl std::str::FromStr for VersionDedup {
    type Err = VersionDedupError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "on" => Ok(VersionDedup::On),
            "off" => Ok(VersionDedup::Off),
            other => Err(VersionDedupError(other.to_owned())),
        }
    }
}

/// One model deployment of the emulated project: a deployment `name` (what manifests name in
/// `chat_model`, `embedding_model` and agent `model`) serving `model`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub name: String,
    pub model: String,
}

/// A `--deployment` value that is not `NAME=MODEL`.
#[derive(Debug, thiserror::Error)]
#[error("expected NAME=MODEL (or NAME, for a deployment named after its model), not {0:?}")]
pub struct DeploymentError(String);

impl std::str::FromStr for Deployment {
    type Err = DeploymentError;

    /// `NAME=MODEL`, or `NAME` alone for a deployment named after its model.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, model) = s.split_once('=').unwrap_or((s, s));
        let valid = |v: &str| {
            !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if valid(name) && valid(model) {
            Ok(Deployment {
                name: name.to_owned(),
                model: model.to_owned(),
            })
        } else {
            Err(DeploymentError(s.to_owned()))
        }
    }
}

/// The deployments an emulator lists unless told otherwise: the models the example manifests
/// name by default (`manifests/seed`: gpt-4.1-mini and text-embedding-3-large;
/// `manifests/workshop` adds gpt-4.1-nano), each deployed under its own name.
pub const DEFAULT_DEPLOYMENTS: [&str; 3] =
    ["gpt-4.1-mini", "text-embedding-3-large", "gpt-4.1-nano"];

/// [`DEFAULT_DEPLOYMENTS`] as deployments.
pub fn default_deployments() -> Vec<Deployment> {
    DEFAULT_DEPLOYMENTS
        .iter()
        .map(|m| Deployment {
            name: (*m).to_owned(),
            model: (*m).to_owned(),
        })
        .collect()
}

/// Everything [`crate::Emulator::start`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub storage: Storage,
    /// Default `127.0.0.1:0` (loopback, any free port).
    pub bind: SocketAddr,
    pub faults: FaultConfig,
    /// Reject requests without `Authorization: Bearer <token>` (401). Tokens are never logged.
    pub require_token: bool,
    /// Accept on the project routes only access tokens this emulator's Entra-shaped endpoint
    /// issued for `https://ai.azure.com`, unexpired (see `tokens`); `foundryctl emulator
    /// --require-token` sets both this and `require_token`.
    pub require_issued_token: bool,
    /// How long the access tokens the Entra-shaped endpoint issues live; short ones exercise
    /// client refresh.
    pub token_lifetime: Duration,
    pub tls: Option<TlsConfig>,
    /// How long an update stays `in_progress` after its `update_delay` has passed, before it
    /// completes. Zero (the default here, for fast tests) completes it at once; the shipped
    /// commands use [`DEFAULT_UPDATE_PROCESSING`].
    pub update_processing: Duration,
    /// Whether an agent version identical to the latest is merged into it.
    pub version_dedup: VersionDedup,
    /// The model deployments `GET /deployments` lists, in this order.
    pub deployments: Vec<Deployment>,
    /// When set, every request (every route) must carry `Authorization: Bearer <this>`, else
    /// 401. foundryctl's embedded emulator (`--endpoint local:DIR`) sets a per-run secret only
    /// its own client knows ([`crate::tokens::access_secret`]), so no other local process can
    /// use the loopback port while a command runs.
    pub access_secret: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            storage: Storage::Memory,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            faults: FaultConfig::default(),
            require_token: false,
            require_issued_token: false,
            token_lifetime: Duration::from_secs(3600),
            tls: None,
            update_processing: Duration::ZERO,
            version_dedup: VersionDedup::On,
            deployments: default_deployments(),
            access_secret: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (format!("FOUNDRY_EMULATOR_{k}"), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn env_sets_latency_and_splits_error_rate() {
        let f = FaultConfig::default()
            .apply_env(env(&[
                ("LATENCY_MS", "25"),
                ("ERROR_RATE", "0.3"),
                ("SEED", "7"),
            ]))
            .unwrap();
        assert_eq!(f.latency, Duration::from_millis(25));
        assert!((f.rate_429 - 0.1).abs() < 1e-9 && (f.rate_503 - 0.1).abs() < 1e-9);
        assert_eq!(f.seed, Some(7));
        assert!(f.is_active());
        let lost = FaultConfig::default()
            .apply_env(env(&[("LOST_ANSWER_RATE", "0.25")]))
            .unwrap();
        assert!((lost.lost_answer_rate - 0.25).abs() < 1e-9);
        assert!(lost.is_active());
    }

    #[test]
    fn deployments_and_dedup_parse_from_flag_values() {
        let d: Deployment = "chat=gpt-4.1".parse().unwrap();
        assert_eq!((d.name.as_str(), d.model.as_str()), ("chat", "gpt-4.1"));
        let d: Deployment = "gpt-4o".parse().unwrap();
        assert_eq!((d.name.as_str(), d.model.as_str()), ("gpt-4o", "gpt-4o"));
        for bad in ["", "=m", "n=", "a b=c", "n=m=x"] {
            assert!(bad.parse::<Deployment>().is_err(), "{bad:?}");
        }
        assert_eq!("off".parse::<VersionDedup>().unwrap(), VersionDedup::Off);
        assert_eq!("on".parse::<VersionDedup>().unwrap(), VersionDedup::On);
        assert!("no".parse::<VersionDedup>().is_err());
        assert_eq!(Config::default().version_dedup, VersionDedup::On);
    }

    #[test]
    fn env_rejects_rates_outside_zero_to_one() {
        let e = FaultConfig::default()
            .apply_env(env(&[("DROP_RATE", "1.5")]))
            .unwrap_err();
        assert_eq!(e.name, "FOUNDRY_EMULATOR_DROP_RATE");
        assert!(!FaultConfig::default().is_active());
    }
}
