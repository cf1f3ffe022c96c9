//! From command-line options to a working [`Client`]: resolve the target, start the embedded
//! emulator when the target is local, pick the credential (none for the emulator), and keep
//! the emulator alive for as long as the connection lives.

use std::path::Path;

use reqwest::Url;

use super::auth::{Auth, AuthError};
use super::client::Client;
use super::env::Env;
use super::error::ClientError;
use super::request::ApiVersion;
use super::target::{Target, TargetError, load_env};
use super::transport::TransportConfig;
use crate::cli::{AuthMode, GlobalArgs};

/// The SQLite file of the local emulator inside its directory. `foundryctl emulator --data DIR`
/// serves the same file, so `--endpoint local:DIR` and a served emulator share one project.
pub const LOCAL_DB_FILE: &str = "emulator.db";

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("start the local emulator in {dir}: {reason}")]
    Emulator { dir: String, reason: String },
}

/// A client plus, for a local target, the emulator serving it.
pub struct Connection {
    pub client: Client,
    pub target: Target,
    emulator: Option<foundry_emulator::Emulator>,
}

impl Connection {
    /// Resolves `--endpoint`/`PROJECT_ENDPOINT`/`.env` (read from `cwd`, the process's working
    /// directory, which a relative `local:DIR` is also relative to) and connects.
    pub async fn from_args(global: &GlobalArgs, cwd: &Path) -> Result<Connection, ConnectError> {
        let (env, from_dotenv) = load_env(cwd)?;
        let target = Target::resolve(global.endpoint.as_deref(), &env, from_dotenv)?;
        Self::open(
            target,
            global.api_version.into(),
            global.auth,
            &env,
            TransportConfig::default(),
        )
        .await
    }

    /// Connects to a resolved target.
    pub async fn open(
        target: Target,
        api: ApiVersion,
        auth: AuthMode,
        env: &Env,
        transport: TransportConfig,
    ) -> Result<Connection, ConnectError> {
        match &target {
            Target::Remote { url, .. } => {
                let auth = Auth::from_mode(auth, env)?;
                let client = Client::new(url.clone(), api, auth, transport)?;
                Ok(Connection {
                    client,
                    target,
                    emulator: None,
                })
            }
            Target::Local { dir, .. } => {
                let fail = |reason: String| ConnectError::Emulator {
                    dir: dir.display().to_string(),
                    reason,
                };
                let config = foundry_emulator::Config {
                    storage: foundry_emulator::Storage::File(dir.join(LOCAL_DB_FILE)),
                    ..foundry_emulator::Config::default()
                };
                let emulator = foundry_emulator::Emulator::start(config)
                    .await
                    .map_err(|e| fail(format!("{e:#}")))?;
                let url = Url::parse(&emulator.endpoint()).map_err(|e| fail(e.to_string()))?;
                let client = Client::new(url, api, Auth::None, transport)?;
                Ok(Connection {
                    client,
                    target,
                    emulator: Some(emulator),
                })
            }
        }
    }

    /// The line every command prints first, to stderr.
    pub fn describe(&self) -> String {
        self.target.describe()
    }

    /// Stops the embedded emulator (if any) after in-flight requests finish.
    pub async fn close(self) {
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}
