//! A session with a project: resolve the target, start the embedded emulator when the target
//! is local, pick the credential (for the emulator, a per-run secret it requires), hand the client a URL and that
//! credential, and keep the emulator alive for as long as the session lives.
//!
//! This is the layer above the client on purpose: `foundry` only ever receives a URL and a
//! credential and knows nothing of the emulator or of the command line.

use std::path::PathBuf;

use reqwest::Url;

use crate::env::Env;
use crate::foundry::{
    ApiVersion, Auth, AuthError, AuthMode, Client, ClientError, Target, TargetError,
    TransportConfig,
};
use crate::model::SetName;

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

impl ConnectError {
    /// What to do about it; `main` prints it after the error chain.
    pub fn hint(&self) -> Option<String> {
        match self {
            ConnectError::Target(e) => e.hint(),
            ConnectError::Auth(e) => e.hint(),
            ConnectError::Client(e) => e.hint(),
            ConnectError::Emulator { .. } => None,
        }
    }
}

/// A client plus, for a local target, the emulator serving it.
pub struct Connection {
    pub client: Client,
    pub target: Target,
    emulator: Option<foundry_emulator::Emulator>,
}

impl Connection {
    /// Resolves `endpoint` (else `PROJECT_ENDPOINT` from `env`, which includes `.env`) and
    /// connects with `transport` (the defaults, or [`TransportConfig::for_parallelism`] for a
    /// command that runs writes in parallel). A relative `local:DIR` is relative to the
    /// process's working directory.
    pub async fn resolve(
        endpoint: Option<&str>,
        api: ApiVersion,
        auth: AuthMode,
        env: &Env,
        transport: TransportConfig,
    ) -> Result<Connection, ConnectError> {
        let target = Target::resolve(endpoint, env)?;
        Self::open(target, api, auth, env, transport).await
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
                // The emulator listens on a loopback port for the command's lifetime; a
                // per-run secret that only this client holds keeps other local processes (and
                // other users of the machine) out of the project's memories.
                let secret = foundry_emulator::tokens::access_secret();
                let config = foundry_emulator::Config {
                    storage: foundry_emulator::Storage::File(dir.join(LOCAL_DB_FILE)),
                    update_processing: foundry_emulator::DEFAULT_UPDATE_PROCESSING,
                    access_secret: Some(secret.clone()),
                    ..foundry_emulator::Config::default()
                };
                let emulator = foundry_emulator::Emulator::start(config)
                    .await
                    .map_err(|e| fail(format!("{e:#}")))?;
                let url = Url::parse(&emulator.endpoint()).map_err(|e| fail(e.to_string()))?;
                let auth = Auth::Static(azure_core::credentials::Secret::new(secret));
                let client = Client::new(url, api, auth, transport)?;
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

/// What a session is opened with: where (`endpoint`, else `PROJECT_ENDPOINT`, else the local
/// emulator), how (api-version, credential), which set it owns, and the transport settings.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub endpoint: Option<String>,
    pub api_version: ApiVersion,
    pub auth: AuthMode,
    pub set: SetName,
    pub transport: TransportConfig,
}

/// A connected session: the client (through the connection, which keeps an embedded emulator
/// alive), the working directory everything relative is resolved against, the environment
/// snapshot (with `.env`) that both the target and `${VAR}` interpolation were read from, and
/// the set this run owns.
pub struct Session {
    pub conn: Connection,
    pub cwd: PathBuf,
    pub env: Env,
    pub set: SetName,
}

impl Session {
    /// Connects as `options` say, from `cwd` with `env` (read once by the caller).
    pub async fn open(
        options: SessionOptions,
        cwd: PathBuf,
        env: Env,
    ) -> Result<Session, ConnectError> {
        let conn = Connection::resolve(
            options.endpoint.as_deref(),
            options.api_version,
            options.auth,
            &env,
            options.transport,
        )
        .await?;
        Ok(Session {
            conn,
            cwd,
            env,
            set: options.set,
        })
    }

    pub fn client(&self) -> &Client {
        &self.conn.client
    }

    /// What a saved plan records as its endpoint: the project URL (no query; the target
    /// refuses credentials in it), or `local:DIR` for the embedded emulator, whose port changes
    /// every run. DIR is made absolute, so `local:proj` and `local:$PWD/proj` (or the default
    /// `.foundryctl/local`) name the same project and a plan applies from either spelling.
    pub fn endpoint_id(&self) -> String {
        match &self.conn.target {
            Target::Remote { url, .. } => url.as_str().trim_end_matches('/').to_owned(),
            Target::Local { dir, .. } => format!("local:{}", self.cwd.join(dir).display()),
        }
    }

    /// `the local emulator (DIR)` or the project URL, for questions.
    pub fn target_name(&self) -> String {
        self.conn
            .describe()
            .trim_start_matches("target: ")
            .to_owned()
    }

    /// Stops the embedded emulator cleanly (flushing in-flight requests).
    pub async fn close(self) {
        self.conn.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_connection_uses_the_transport_settings_the_command_asks_for() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = format!("local:{}", dir.path().display());
        let env = Env::default();
        let connect = |transport| {
            Connection::resolve(
                Some(endpoint.as_str()),
                ApiVersion::V1,
                AuthMode::Auto,
                &env,
                transport,
            )
        };
        let conn = connect(TransportConfig::for_parallelism(40)).await.unwrap();
        assert_eq!(conn.client.transport_config().max_in_flight, 40);
        conn.close().await;

        let conn = connect(TransportConfig::default()).await.unwrap();
        assert_eq!(
            conn.client.transport_config().max_in_flight,
            TransportConfig::default().max_in_flight
        );
        conn.close().await;
    }
}
