//! Opening a session for a command: the environment read once, the target announced on
//! stderr's first line (and its warning, if any), and the manifests loaded against that
//! environment.

use std::path::PathBuf;

use anyhow::Context as _;

use super::args::GlobalArgs;
use super::output::{ColorChoice, stderr_color};
use crate::env::Env;
use crate::foundry::TransportConfig;
use crate::manifest::{self, Validated};
use crate::ops::{LocalAccess, Session};

/// Resolves the target, prints `target: …` to stderr, and connects with the default transport
/// settings. `local` says whether the command may create the local project when none is found
/// ([`LocalAccess`] lists which commands do).
pub async fn connect(global: &GlobalArgs, local: LocalAccess) -> anyhow::Result<Session> {
    connect_with(global, local, TransportConfig::default()).await
}

/// Like [`connect`], for a command whose executor runs `parallelism` actions at once (`apply`,
/// `destroy`): the client must admit at least that many requests in flight, or the flag would
/// be silently capped by the client's own limit.
pub async fn connect_for_parallelism(
    global: &GlobalArgs,
    local: LocalAccess,
    parallelism: usize,
) -> anyhow::Result<Session> {
    connect_with(global, local, TransportConfig::for_parallelism(parallelism)).await
}

async fn connect_with(
    global: &GlobalArgs,
    local: LocalAccess,
    transport: TransportConfig,
) -> anyhow::Result<Session> {
    let session = open_quietly(global, local, transport).await?;
    announce(&session);
    Ok(session)
}

/// [`connect_for_parallelism`] without the announcement, for a command that may open the
/// session a second time before it says where it is ([`announce`]).
pub async fn open_quietly(
    global: &GlobalArgs,
    local: LocalAccess,
    transport: TransportConfig,
) -> anyhow::Result<Session> {
    let cwd = std::env::current_dir().context("failed to find the working directory")?;
    let options = global.session_options(transport, local)?;
    let env = Env::load(&cwd)?;
    Session::open(options, cwd, env)
        .await
        .context("failed to connect to the project")
}

/// Prints `target: …` (and the target's warning, if any) to stderr.
pub fn announce(session: &Session) {
    crate::say!("{}", session.conn.describe());
    if let Some(warning) = session.conn.target.warning() {
        crate::say!("{warning}");
    }
}

/// Loads the manifests against the session's environment (exit 3 when invalid, diagnostics on
/// stderr, coloured as `--color` says).
pub fn load_manifests(
    files: &[PathBuf],
    variables: &manifest::VariableArgs,
    session: &Session,
    color: ColorChoice,
) -> anyhow::Result<Validated> {
    let vars = variables.resolve(&session.env)?;
    manifest::load(files, &vars, stderr_color(color))
}
