//! From command-line options to a working [`Client`]: resolve the target, start the embedded
//! emulator when the target is local, pick the credential (none for the emulator), and keep
//! the emulator alive for as long as the connection lives.

use reqwest::Url;

use super::auth::{Auth, AuthError};
use super::client::Client;
use super::error::ClientError;
use super::request::ApiVersion;
use super::target::{Target, TargetError};
use super::transport::TransportConfig;
use crate::cli::{AuthMode, GlobalArgs};
use crate::env::Env;

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
    /// Resolves `--endpoint`/`PROJECT_ENDPOINT` (from `env`, which includes `.env`) and
    /// connects with `transport` (the defaults, or [`TransportConfig::for_parallelism`] for a
    /// command that runs writes in parallel). A relative `local:DIR` is relative to the
    /// process's working directory.
    pub async fn from_args(
        global: &GlobalArgs,
        env: &Env,
        transport: TransportConfig,
    ) -> Result<Connection, ConnectError> {
        let target = Target::resolve(global.endpoint.as_deref(), env)?;
        Self::open(
            target,
            global.api_version.into(),
            global.auth,
            env,
            transport,
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
                    update_processing: foundry_emulator::DEFAULT_UPDATE_PROCESSING,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{ApiVersionArg, ColorChoice};

    #[tokio::test]
    async fn the_connection_uses_the_transport_settings_the_command_asks_for() {
        let dir = tempfile::tempdir().unwrap();
        let global = GlobalArgs {
            endpoint: Some(format!("local:{}", dir.path().display())),
            api_version: ApiVersionArg::V1,
            auth: AuthMode::Auto,
            set: "default".to_owned(),
            color: ColorChoice::Never,
            verbose: 0,
        };
        let conn = Connection::from_args(
            &global,
            &Env::default(),
            TransportConfig::for_parallelism(40),
        )
        .await
        .unwrap();
        assert_eq!(conn.client.transport.config().max_in_flight, 40);
        conn.close().await;

        let conn = Connection::from_args(&global, &Env::default(), TransportConfig::default())
            .await
            .unwrap();
        assert_eq!(
            conn.client.transport.config().max_in_flight,
            TransportConfig::default().max_in_flight
        );
        conn.close().await;
    }
}
