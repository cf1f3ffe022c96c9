//! `foundryctl emulator`: serve the local Foundry emulator until Ctrl-C.
//!
//! The endpoint goes to stdout (it is the data a script captures); everything else to stderr:
//! where the data lives and how to point foundryctl, the SDKs and other tools at it.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use foundry_emulator::{
    Config, Deployment, Emulator, FaultConfig, Storage, TlsConfig, TokenEndpoints, VersionDedup,
};

use crate::commands::{GlobalArgs, output};
use crate::exit::ExitStatus;
use crate::ops::session::LOCAL_DB_FILE;

/// Options of `foundryctl emulator`. Faults can also be set with `FOUNDRY_EMULATOR_*`
/// variables (`LATENCY_MS`, `JITTER_MS`, `ERROR_RATE`, `RATE_429`, `RATE_500`, `RATE_503`,
/// `DROP_RATE`, `LOST_ANSWER_RATE`, `RETRY_AFTER`, `SEED`); flags win over variables.
#[derive(Debug, clap::Args)]
#[command(after_long_help = MODELS_HELP)]
pub struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Directory for the database (`emulator.db`) and TLS files; in memory when omitted.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Round-trip time of every request, in milliseconds: each is answered this long after it
    /// arrived, the emulator's own work included.
    #[arg(long, value_name = "MS")]
    pub latency_ms: Option<u64>,

    /// Random extra latency, up to this many milliseconds.
    #[arg(long, value_name = "MS")]
    pub jitter_ms: Option<u64>,

    /// Probability (0–1) of an injected error, split evenly over 429, 500 and 503.
    #[arg(long, value_name = "P")]
    pub error_rate: Option<f64>,

    /// Probability (0–1) of closing a connection without a response.
    #[arg(long, value_name = "P")]
    pub drop_rate: Option<f64>,

    /// Seed for the fault generator, to repeat a run.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Accept only bearer tokens this emulator issued, for https://ai.azure.com, unexpired
    /// (401 otherwise). Its loopback token endpoints (Entra-shaped, and GitHub-Actions-shaped
    /// OIDC) are printed at startup; see docs/authentication.md.
    #[arg(long)]
    pub require_token: bool,

    /// Serve HTTPS with a generated self-signed certificate (its path is printed).
    #[arg(long)]
    pub tls: bool,

    /// How long a memory update stays `in_progress` once its `update_delay` has passed, in
    /// milliseconds (the service takes seconds; 0 completes updates at once).
    #[arg(long, value_name = "MS", default_value_t = duration_ms(foundry_emulator::DEFAULT_UPDATE_PROCESSING))]
    pub update_processing_ms: u64,

    /// `off`: every agent version request makes a new version, even one identical to the latest
    /// (the service does not promise to merge them; `on` does, as observed).
    #[arg(long, value_name = "on|off", default_value = "on")]
    pub version_dedup: VersionDedup,

    /// A model deployment the project lists, as NAME=MODEL (or NAME); repeatable, replacing the
    /// defaults (gpt-4.1-mini, text-embedding-3-large, gpt-4.1-nano).
    #[arg(long = "deployment", value_name = "NAME=MODEL")]
    pub deployments: Vec<Deployment>,
}

/// What `emulator --help` says about the stand-ins for the service's models.
const MODELS_HELP: &str = "\
Faults can also be set in the environment (flags win): FOUNDRY_EMULATOR_LATENCY_MS, _JITTER_MS,
_ERROR_RATE, _RATE_429, _RATE_500, _RATE_503, _DROP_RATE, _RETRY_AFTER, _SEED, and
FOUNDRY_EMULATOR_LOST_ANSWER_RATE (the answer to a write is lost after the write is made),
which has no flag.

The service's models are replaced by deterministic stand-ins; they are not language models.
  Memory extraction: each first-person statement of the user becomes a user_profile memory
  ('The user said: ...'), plus a chat_summary of the turn when summaries are enabled.
  Memory search: a scope's memories ranked by a fixed text similarity (word forms, a small
  table of related terms for programming languages, editors, operating systems, answer
  style, food and drink, pets; character trigrams for other words), nearest first, up to
  max_memories. A scope holding memories always answers with its nearest ones, even to a
  question sharing no word with them; a question with no content word returns the
  user_profile memories. It cannot see meaning outside its table or negation, so its order
  may differ from the service's embedding model. Scopes never mix.
  Agent answers: the agent's memory tool searches its scope, adds the user_profile memories,
  and the answer tells back the nearest ones ('You write Rust on Linux.').";

const fn duration_ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn probability(name: &str, p: f64) -> anyhow::Result<f64> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&p),
        "invalid --{name} {p}: a probability is between 0 and 1"
    );
    Ok(p)
}

/// Builds the emulator configuration from flags over environment variables.
fn config(args: &Args) -> anyhow::Result<Config> {
    let mut faults = FaultConfig::default()
        .apply_env(|k| std::env::var(k).ok())
        .context("failed to read the fault settings from the environment")?;
    if let Some(ms) = args.latency_ms {
        faults.latency = Duration::from_millis(ms);
    }
    if let Some(ms) = args.jitter_ms {
        faults.jitter = Duration::from_millis(ms);
    }
    if let Some(p) = args.error_rate {
        let p = probability("error-rate", p)?;
        faults.rate_429 = p / 3.0;
        faults.rate_500 = p / 3.0;
        faults.rate_503 = p / 3.0;
    }
    if let Some(p) = args.drop_rate {
        faults.drop_rate = probability("drop-rate", p)?;
    }
    if args.seed.is_some() {
        faults.seed = args.seed;
    }
    let storage = match &args.data {
        Some(dir) => Storage::File(dir.join(LOCAL_DB_FILE)),
        None => Storage::Memory,
    };
    let tls = args.tls.then(|| TlsConfig {
        dir: args
            .data
            .clone()
            .unwrap_or_else(std::env::temp_dir)
            .join("foundryctl-emulator-tls"),
    });
    Ok(Config {
        storage,
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        faults,
        require_token: args.require_token,
        require_issued_token: args.require_token,
        token_lifetime: Config::default().token_lifetime,
        tls,
        update_processing: Duration::from_millis(args.update_processing_ms),
        version_dedup: args.version_dedup,
        deployments: if args.deployments.is_empty() {
            foundry_emulator::default_deployments()
        } else {
            args.deployments.clone()
        },
        // A served emulator is reached by other tools; `--require-token` is its guard.
        access_secret: None,
    })
}

/// The human notes printed to stderr at startup: where the data lives and how to point
/// foundryctl, the official SDKs and other tools at the emulator. Pure, so it is tested as text.
///
/// `data_dir` is the `--data` directory and `cert` the TLS certificate when serving HTTPS, both
/// absolute.
fn startup_notes(endpoint: &str, data_dir: Option<&Path>, cert: Option<&Path>) -> String {
    let mut notes = String::new();
    let mut line = |text: String| {
        notes.push_str(&text);
        notes.push('\n');
    };
    match data_dir {
        Some(dir) => {
            line(format!(
                "emulator: data in {} (kept across restarts)",
                dir.join(LOCAL_DB_FILE).display()
            ));
        }
        None => line("emulator: data in memory (lost on exit; use --data DIR to keep it)".into()),
    }
    let trust = cert
        .map(|c| format!("SSL_CERT_FILE={} ", c.display()))
        .unwrap_or_default();
    line(format!(
        "emulator: foundryctl: {trust}FOUNDRY_TOKEN=local foundryctl --endpoint {endpoint} --auth token COMMAND"
    ));
    if let Some(dir) = data_dir {
        line(format!(
            "emulator:   or, same data without this server: foundryctl --endpoint local:{} COMMAND",
            dir.display()
        ));
    }
    line(format!(
        "emulator: SDKs and other tools: PROJECT_ENDPOINT={endpoint} (any bearer token is accepted)"
    ));
    match cert {
        Some(c) => {
            let c = c.display();
            line(format!("emulator: TLS certificate {c} (self-signed, reused across restarts)"));
            line(format!(
                "hint: make clients trust it: SSL_CERT_FILE={c} (foundryctl, OpenSSL, httpx), \
                 REQUESTS_CA_BUNDLE={c} (Python requests, the Azure SDKs), \
                 NODE_EXTRA_CA_CERTS={c} (Node.js)"
            ));
        }
        None => line(
            "hint: the official SDKs send bearer tokens only over https; restart with --tls for them"
                .into(),
        ),
    }
    notes
}

/// How to use the loopback token endpoints: the variables the credential flows read. The
/// secrets are per run and for this emulator only.
fn token_notes(endpoints: &TokenEndpoints, required: bool) -> String {
    let host = &endpoints.authority_host;
    let mut notes = format!(
        "emulator: token endpoints (test tokens, loopback only): AZURE_AUTHORITY_HOST={host} \
         AZURE_TENANT_ID=emulator AZURE_CLIENT_ID=emulator AZURE_CLIENT_SECRET={} \
         ACTIONS_ID_TOKEN_REQUEST_URL={} ACTIONS_ID_TOKEN_REQUEST_TOKEN={}\n",
        endpoints.client_secret, endpoints.oidc_request_url, endpoints.oidc_request_token
    );
    if required {
        notes.push_str(
            "emulator: --require-token: only tokens issued above are accepted (FOUNDRY_TOKEN=local is refused)\n",
        );
    }
    if !host.starts_with("https:") {
        notes.push_str(
            "hint: the Azure SDKs and foundryctl accept only an https authority host; restart with --tls\n",
        );
    }
    notes
}

/// Waits for Ctrl-C, or SIGTERM on Unix (what `docker stop`, systemd and `kill` send), so both
/// stop the emulator cleanly.
async fn stop_requested() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("failed to listen for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("failed to wait for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("failed to wait for Ctrl-C")
    }
}

pub async fn run(_global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    let config = config(&args)?;
    let faults = config.faults.clone();
    let emulator = Emulator::start(config)
        .await
        .context("failed to start the local emulator")?;
    let endpoint = emulator.endpoint();
    output::print_text(&format!("{endpoint}\n")).or_else(output::reader_gone)?;
    // Absolute, so the printed lines work from any directory.
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let data_dir = args.data.as_deref().map(absolute);
    let cert = emulator.certificate_path().map(absolute);
    let mut notes = startup_notes(&endpoint, data_dir.as_deref(), cert.as_deref());
    if args.require_token {
        notes = notes.replace(
            "(any bearer token is accepted)",
            "(with a token from the endpoints below)",
        );
    }
    output::say_text(&notes);
    if let Some(endpoints) = emulator.token_endpoints() {
        output::say_text(&token_notes(&endpoints, args.require_token));
    }
    if faults.is_active() {
        crate::say!("emulator: injecting faults: {}", describe_faults(&faults));
    }
    crate::say!("emulator: press Ctrl-C to stop");
    stop_requested().await?;
    crate::say!("emulator: stopping");
    emulator.shutdown().await;
    Ok(ExitStatus::Success)
}

/// The active faults as one readable line, each only when set: `latency 200 ms, jitter 50 ms,
/// 429 on 10% (Retry-After 1 s), 500 on 5%, 503 on 5%, dropped 1%, seed 7`.
fn describe_faults(faults: &foundry_emulator::FaultConfig) -> String {
    let percent = |rate: f64| format!("{}%", (rate * 1000.0).round() / 10.0);
    let mut parts = Vec::new();
    if !faults.latency.is_zero() {
        parts.push(format!("latency {} ms", faults.latency.as_millis()));
    }
    if !faults.jitter.is_zero() {
        parts.push(format!("jitter up to {} ms", faults.jitter.as_millis()));
    }
    if faults.rate_429 > 0.0 {
        parts.push(format!(
            "429 on {} (Retry-After {} s)",
            percent(faults.rate_429),
            faults.retry_after_secs
        ));
    }
    if faults.rate_500 > 0.0 {
        parts.push(format!("500 on {}", percent(faults.rate_500)));
    }
    if faults.rate_503 > 0.0 {
        parts.push(format!("503 on {}", percent(faults.rate_503)));
    }
    if faults.drop_rate > 0.0 {
        parts.push(format!(
            "{} of connections dropped",
            percent(faults.drop_rate)
        ));
    }
    if faults.lost_answer_rate > 0.0 {
        parts.push(format!(
            "{} of answers lost after the write",
            percent(faults.lost_answer_rate)
        ));
    }
    if let Some(seed) = faults.seed {
        parts.push(format!("seed {seed}"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_described_in_words_not_as_a_debug_dump() {
        let faults = foundry_emulator::FaultConfig {
            latency: std::time::Duration::from_millis(200),
            rate_429: 0.1,
            drop_rate: 0.015,
            lost_answer_rate: 0.15,
            seed: Some(7),
            ..foundry_emulator::FaultConfig::default()
        };
        // Every fault in force is named, the answers lost after the write included (set
        // only from the environment, so the banner is the one place it shows).
        assert_eq!(
            describe_faults(&faults),
            "latency 200 ms, 429 on 10% (Retry-After 1 s), 1.5% of connections dropped, \
             15% of answers lost after the write, seed 7"
        );
    }

    const EP: &str = "http://127.0.0.1:8080/api/projects/local";

    #[test]
    fn notes_name_the_data_file_and_how_foundryctl_and_sdks_connect() {
        let notes = startup_notes(EP, Some(Path::new("/srv/foundry")), None);
        assert_eq!(
            notes,
            "emulator: data in /srv/foundry/emulator.db (kept across restarts)\n\
             emulator: foundryctl: FOUNDRY_TOKEN=local foundryctl --endpoint http://127.0.0.1:8080/api/projects/local --auth token COMMAND\n\
             emulator:   or, same data without this server: foundryctl --endpoint local:/srv/foundry COMMAND\n\
             emulator: SDKs and other tools: PROJECT_ENDPOINT=http://127.0.0.1:8080/api/projects/local (any bearer token is accepted)\n\
             hint: the official SDKs send bearer tokens only over https; restart with --tls for them\n"
        );
    }

    fn parse(args: &[&str]) -> Args {
        use clap::{Args as _, FromArgMatches as _};
        let cmd = Args::augment_args(clap::Command::new("emulator"));
        let matches = cmd
            .try_get_matches_from(std::iter::once("emulator").chain(args.iter().copied()))
            .unwrap();
        Args::from_arg_matches(&matches).unwrap()
    }

    #[test]
    fn dedup_and_deployments_reach_the_config() {
        let config = config(&parse(&[])).unwrap();
        assert_eq!(config.version_dedup, VersionDedup::On);
        assert_eq!(config.deployments, foundry_emulator::default_deployments());
        let config = config_of(&[
            "--version-dedup",
            "off",
            "--deployment",
            "chat=gpt-4o",
            "--deployment",
            "text-embedding-3-small",
        ]);
        assert_eq!(config.version_dedup, VersionDedup::Off);
        let names: Vec<(&str, &str)> = config
            .deployments
            .iter()
            .map(|d| (d.name.as_str(), d.model.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("chat", "gpt-4o"),
                ("text-embedding-3-small", "text-embedding-3-small")
            ]
        );
    }

    fn config_of(args: &[&str]) -> Config {
        config(&parse(args)).unwrap()
    }

    #[test]
    fn long_help_says_the_models_are_stand_ins_and_how_search_ranks() {
        use clap::Args as _;
        let mut cmd = Args::augment_args(clap::Command::new("emulator"));
        let help = cmd.render_long_help().to_string();
        for expected in [
            "deterministic stand-ins",
            "nearest first, up to\n  max_memories",
            "cannot see meaning outside its table",
            "Scopes never mix",
        ] {
            assert!(
                help.contains(expected),
                "{expected:?} missing from:\n{help}"
            );
        }
    }

    #[test]
    fn token_notes_give_every_variable_and_warn_about_plain_http() {
        let endpoints = TokenEndpoints {
            authority_host: "http://127.0.0.1:8080".into(),
            oidc_request_url: "http://127.0.0.1:8080/oidc/token".into(),
            oidc_request_token: "rt".into(),
            client_secret: "cs".into(),
        };
        let notes = token_notes(&endpoints, true);
        for expected in [
            "AZURE_AUTHORITY_HOST=http://127.0.0.1:8080 ",
            "AZURE_CLIENT_SECRET=cs ",
            "ACTIONS_ID_TOKEN_REQUEST_URL=http://127.0.0.1:8080/oidc/token ",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN=rt\n",
            "FOUNDRY_TOKEN=local is refused",
            "restart with --tls",
        ] {
            assert!(
                notes.contains(expected),
                "{expected:?} missing from:\n{notes}"
            );
        }
        let https = TokenEndpoints {
            authority_host: "https://127.0.0.1:8080".into(),
            ..endpoints
        };
        let notes = token_notes(&https, false);
        assert!(
            !notes.contains("--tls") && !notes.contains("refused"),
            "{notes}"
        );
    }

    #[test]
    fn notes_in_memory_say_the_data_is_lost_and_offer_no_local_dir() {
        let notes = startup_notes(EP, None, None);
        assert!(notes.starts_with("emulator: data in memory (lost on exit"));
        assert!(!notes.contains("local:"), "{notes}");
    }

    #[test]
    fn notes_with_tls_give_the_certificate_and_the_variables_that_trust_it() {
        let https = EP.replace("http:", "https:");
        let cert = Path::new("/srv/foundry/foundryctl-emulator-tls/cert.pem");
        let notes = startup_notes(&https, Some(Path::new("/srv/foundry")), Some(cert));
        let c = cert.display();
        for expected in [
            format!("emulator: TLS certificate {c} (self-signed"),
            format!("SSL_CERT_FILE={c} FOUNDRY_TOKEN=local foundryctl --endpoint {https}"),
            format!("REQUESTS_CA_BUNDLE={c}"),
            format!("NODE_EXTRA_CA_CERTS={c}"),
            format!("PROJECT_ENDPOINT={https}"),
        ] {
            assert!(
                notes.contains(&expected),
                "{expected:?} missing from:\n{notes}"
            );
        }
        assert!(!notes.contains("restart with --tls"), "{notes}");
    }
}
