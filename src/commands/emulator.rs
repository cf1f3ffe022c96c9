//! `foundryctl emulator`: serve the local Foundry emulator until Ctrl-C.
//!
//! The endpoint goes to stdout (it is the data a script captures); everything else to stderr.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use foundry_emulator::{Config, Emulator, FaultConfig, Storage, TlsConfig};

use crate::cli::GlobalArgs;
use crate::exit::ExitStatus;

/// Options of `foundryctl emulator`. Faults can also be set with `FOUNDRY_EMULATOR_*`
/// variables (`LATENCY_MS`, `JITTER_MS`, `ERROR_RATE`, `RATE_429`, `RATE_500`, `RATE_503`,
/// `DROP_RATE`, `RETRY_AFTER`, `SEED`); flags win over variables.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Directory for the database (`emulator.db`) and TLS files; in memory when omitted.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Fixed latency added to every response, in milliseconds.
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

    /// Reject requests that carry no bearer token (401).
    #[arg(long)]
    pub require_token: bool,

    /// Serve HTTPS with a generated self-signed certificate (its path is printed).
    #[arg(long)]
    pub tls: bool,
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
        Some(dir) => Storage::File(dir.join(crate::foundry::connect::LOCAL_DB_FILE)),
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
        tls,
        ..Config::default()
    })
}

pub async fn run(_global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    let config = config(&args)?;
    let faults = config.faults.clone();
    let emulator = Emulator::start(config)
        .await
        .context("failed to start the local emulator")?;
    println!("{}", emulator.endpoint());
    match &args.data {
        Some(dir) => eprintln!("emulator: data in {}", dir.display()),
        None => eprintln!("emulator: data in memory (lost on exit; use --data DIR to keep it)"),
    }
    if let Some(cert) = emulator.certificate_path() {
        eprintln!("emulator: TLS certificate {}", cert.display());
        eprintln!(
            "hint: trust it in clients, e.g. REQUESTS_CA_BUNDLE or SSL_CERT_FILE={}",
            cert.display()
        );
    }
    if faults.is_active() {
        eprintln!("emulator: injecting faults: {faults:?}");
    }
    eprintln!("emulator: press Ctrl-C to stop");
    tokio::signal::ctrl_c()
        .await
        .context("failed to wait for Ctrl-C")?;
    eprintln!("emulator: stopping");
    emulator.shutdown().await;
    Ok(ExitStatus::Success)
}
