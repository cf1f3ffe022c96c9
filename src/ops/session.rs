//! A session with a project: resolve the target, start the embedded emulator when the target
//! is local, pick the credential (for the emulator, a per-run secret it requires), hand the client a URL and that
//! credential, and keep the emulator alive for as long as the session lives.
//!
//! This is the layer above the client on purpose: `foundry` only ever receives a URL and a
//! credential and knows nothing of the emulator or of the command line.

use std::path::{Path, PathBuf};

use reqwest::Url;

use crate::env::Env;
use crate::foundry::target::DEFAULT_LOCAL_DIR;
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

/// Whether a command may create the local project when there is none yet.
///
/// Only a command that can make a resource out of nothing creates one: `apply` and `import`
/// (which records the adoption). Every other command, the ones that write into resources that
/// must already exist (`memory add`, `agent invoke`, `destroy`, `memory forget`) included,
/// finds the project or, when there is none, runs against an empty one held in memory and
/// leaves the disk as it was: a command run in the wrong directory reports "not found"
/// instead of quietly starting a second, empty project there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalAccess {
    /// Use the project found; never create one.
    Find,
    /// Use the project found, or create one in the working directory.
    FindOrCreate,
}

/// Where the local project lives, found the way git finds `.git`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalProject {
    /// The project directory (`…/.foundryctl/local`, or `DIR` of `local:DIR`), relative to the
    /// working directory when it is under it, absolute otherwise.
    pub dir: PathBuf,
    pub presence: Presence,
}

/// Whether a local project is there for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Its database exists.
    Found,
    /// It does not exist yet, and this command creates it.
    Created,
    /// It does not exist, and this command may not create it: the command sees an empty
    /// project, held in memory.
    Missing,
}

/// Finds the local project for `target` (a `Target::Local`) from `cwd`.
///
/// `local` and the implicit default look for the nearest `.foundryctl/` in `cwd` or one of
/// its parents and use `.foundryctl/local` in it; when there is none, the project is
/// `.foundryctl/local` in `cwd`. `local:DIR` names its directory exactly (relative to `cwd`).
/// Whether it is there: [`Presence`], from its database file and what `access` allows.
pub fn locate_local(dir: &Path, cwd: &Path, access: LocalAccess) -> LocalProject {
    let searched = dir == Path::new(DEFAULT_LOCAL_DIR);
    let found = if searched {
        cwd.ancestors()
            .find(|parent| parent.join(".foundryctl").is_dir())
            .map(|parent| parent.join(DEFAULT_LOCAL_DIR))
    } else {
        None
    };
    let absolute = found.unwrap_or_else(|| cwd.join(dir));
    let shown = match absolute.strip_prefix(cwd) {
        Ok(relative) if !relative.as_os_str().is_empty() => relative.to_path_buf(),
        _ if searched => absolute.clone(),
        _ => dir.to_path_buf(),
    };
    let presence = if absolute.join(LOCAL_DB_FILE).is_file() {
        Presence::Found
    } else if access == LocalAccess::FindOrCreate {
        Presence::Created
    } else {
        Presence::Missing
    };
    LocalProject {
        dir: shown,
        presence,
    }
}

/// A client plus, for a local target, the emulator serving it.
pub struct Connection {
    pub client: Client,
    pub target: Target,
    /// For a local target, whether its project was there (the first line says when it was
    /// not); `Found` for a remote one.
    presence: Presence,
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

    /// Like [`Connection::resolve`], finding the local project from `cwd` as
    /// [`locate_local`] does (a local target's directory becomes the one found).
    pub async fn resolve_from(
        endpoint: Option<&str>,
        cwd: &Path,
        access: LocalAccess,
        api: ApiVersion,
        auth: AuthMode,
        env: &Env,
        transport: TransportConfig,
    ) -> Result<Connection, ConnectError> {
        match Target::resolve(endpoint, env)? {
            Target::Local { dir, origin } => {
                let project = locate_local(&dir, cwd, access);
                let target = Target::Local {
                    dir: project.dir,
                    origin,
                };
                let mut conn = match project.presence {
                    Presence::Found | Presence::Created => {
                        Self::open(target, api, auth, env, transport).await?
                    }
                    Presence::Missing => Self::open_in_memory(target, api, transport).await?,
                };
                conn.presence = project.presence;
                Ok(conn)
            }
            target => Self::open(target, api, auth, env, transport).await,
        }
    }

    /// An empty local project in memory, for a command that may not create the one it names.
    async fn open_in_memory(
        target: Target,
        api: ApiVersion,
        transport: TransportConfig,
    ) -> Result<Connection, ConnectError> {
        let secret = foundry_emulator::tokens::access_secret();
        let config = foundry_emulator::Config {
            storage: foundry_emulator::Storage::Memory,
            update_processing: foundry_emulator::DEFAULT_UPDATE_PROCESSING,
            access_secret: Some(secret.clone()),
            ..foundry_emulator::Config::default()
        };
        Self::start_emulator(target, config, secret, api, transport).await
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
                    presence: Presence::Found,
                    emulator: None,
                })
            }
            Target::Local { dir, .. } => {
                let secret = foundry_emulator::tokens::access_secret();
                let config = foundry_emulator::Config {
                    storage: foundry_emulator::Storage::File(dir.join(LOCAL_DB_FILE)),
                    update_processing: foundry_emulator::DEFAULT_UPDATE_PROCESSING,
                    access_secret: Some(secret.clone()),
                    ..foundry_emulator::Config::default()
                };
                Self::start_emulator(target, config, secret, api, transport).await
            }
        }
    }

    /// Starts the embedded emulator. It listens on a loopback port for the command's lifetime;
    /// `secret`, a per-run secret that only this client holds (and `config` requires), keeps
    /// other local processes (and other users of the machine) out of the project's memories.
    async fn start_emulator(
        target: Target,
        config: foundry_emulator::Config,
        secret: String,
        api: ApiVersion,
        transport: TransportConfig,
    ) -> Result<Connection, ConnectError> {
        let fail = |reason: String| ConnectError::Emulator {
            dir: match &target {
                Target::Local { dir, .. } => dir.display().to_string(),
                Target::Remote { url, .. } => url.to_string(),
            },
            reason,
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
            presence: Presence::Found,
            emulator: Some(emulator),
        })
    }

    /// The line every command prints first, to stderr.
    pub fn describe(&self) -> String {
        let Target::Local { dir, .. } = &self.target else {
            return self.target.describe();
        };
        let dir = dir.display();
        match self.presence {
            Presence::Found => self.target.describe(),
            Presence::Created => format!("target: local emulator ({dir}, created now: empty)"),
            Presence::Missing => {
                format!("target: local emulator ({dir}, not created yet: empty)")
            }
        }
    }

    /// Whether a local project was not found (and not created): the command saw an empty one.
    pub fn not_created(&self) -> bool {
        self.presence == Presence::Missing
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
    /// Whether the command may create the local project when none is found.
    pub local: LocalAccess,
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
        let conn = Connection::resolve_from(
            options.endpoint.as_deref(),
            &cwd,
            options.local,
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

    #[test]
    fn the_local_project_is_the_nearest_foundryctl_directory_upwards() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let deep = root.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        let default = Path::new(DEFAULT_LOCAL_DIR);

        // Nothing found: the working directory's, created only by a command that may.
        let none = locate_local(default, &deep, LocalAccess::Find);
        assert_eq!(none.dir, Path::new(DEFAULT_LOCAL_DIR));
        assert_eq!(none.presence, Presence::Missing);
        let creating = locate_local(default, &deep, LocalAccess::FindOrCreate);
        assert_eq!(creating.presence, Presence::Created);

        // Found in a parent: shown absolute; it exists once its database does.
        std::fs::create_dir_all(root.join(".foundryctl/local")).unwrap();
        let found = locate_local(default, &deep, LocalAccess::Find);
        assert_eq!(found.dir, root.join(".foundryctl/local"));
        assert_eq!(found.presence, Presence::Missing);
        std::fs::write(root.join(".foundryctl/local").join(LOCAL_DB_FILE), "").unwrap();
        for access in [LocalAccess::Find, LocalAccess::FindOrCreate] {
            assert_eq!(
                locate_local(default, &deep, access).presence,
                Presence::Found
            );
        }
        // From the root itself it is under the working directory: shown relative.
        assert_eq!(
            locate_local(default, root, LocalAccess::Find).dir,
            Path::new(DEFAULT_LOCAL_DIR)
        );

        // `local:DIR` is taken as given, never searched for.
        let given = locate_local(Path::new("elsewhere"), &deep, LocalAccess::Find);
        assert_eq!(given.dir, Path::new("elsewhere"));
        assert_eq!(given.presence, Presence::Missing);
    }

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
