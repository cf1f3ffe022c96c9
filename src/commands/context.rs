//! What the project-facing commands share: resolving and connecting to the target (and
//! announcing it on stderr's first line), colour choices, the plan output format, the flags
//! that shape a plan, reading the live state the planner needs, and confirmation.

use std::collections::BTreeSet;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::ValueEnum;

use crate::cli::{ColorChoice, GlobalArgs};
use crate::env::Env;
use crate::exit::{ExitStatus, StatusError};
use crate::foundry::connect::Connection;
use crate::foundry::{Client, Target, TransportConfig};
use crate::manifest::{self, Validated};
use crate::model::{DesiredState, LiveState, ResourceRef, SetName};
use crate::plan::{self, Plan, PlanOptions, Prepared};
use crate::render::{self, HumanOptions};

/// A connected command: the client (through the connection, which keeps an embedded emulator
/// alive), the working directory everything relative is resolved against, and the environment
/// snapshot (with `.env`) that both the target and `${VAR}` interpolation were read from.
pub struct Session {
    pub conn: Connection,
    pub cwd: PathBuf,
    pub env: Env,
    pub set: SetName,
    /// `--color`, so everything the command prints to stderr follows the same choice.
    pub color: ColorChoice,
}

impl Session {
    /// Resolves the target, prints `target: …` to stderr, and connects with the default
    /// transport settings.
    pub async fn connect(global: &GlobalArgs) -> anyhow::Result<Session> {
        Self::connect_with(global, TransportConfig::default()).await
    }

    /// Like [`Session::connect`], for a command whose executor runs `parallelism` actions at
    /// once (`apply`, `destroy`): the client must admit at least that many requests in flight,
    /// or the flag would be silently capped by the client's own limit.
    pub async fn connect_for_parallelism(
        global: &GlobalArgs,
        parallelism: usize,
    ) -> anyhow::Result<Session> {
        Self::connect_with(global, TransportConfig::for_parallelism(parallelism)).await
    }

    async fn connect_with(
        global: &GlobalArgs,
        transport: TransportConfig,
    ) -> anyhow::Result<Session> {
        let cwd = std::env::current_dir().context("failed to find the working directory")?;
        let set = set_name(global)?;
        let env = load_env(&cwd)?;
        let conn = Connection::from_args(global, &env, transport)
            .await
            .context("failed to connect to the project")?;
        anstream::eprintln!("{}", conn.describe());
        if let Some(warning) = conn.target.warning() {
            anstream::eprintln!("{warning}");
        }
        Ok(Session {
            conn,
            cwd,
            env,
            set,
            color: global.color,
        })
    }

    pub fn client(&self) -> &crate::foundry::Client {
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

    /// The live state for planning `desired` with `options`: one paged list per kind, plus the
    /// version history of the agents whose latest version is unstamped and whose history the
    /// plan needs (`plan::agents_needing_history`: declared ones, and on a deleting run the
    /// undeclared ones, so the plan can say which it will not delete).
    ///
    /// The manifests' half of planning ([`plan::prepare`]) runs while the lists are in flight;
    /// pass what comes back to [`plan::plan_prepared`].
    pub async fn read_live(
        &self,
        desired: &DesiredState,
        options: &PlanOptions,
    ) -> anyhow::Result<(LiveState, Prepared)> {
        let (mut live, prepared) = read_and_prepare(self.client(), desired)
            .await
            .context("failed to read the live project")?;
        let names = plan::agents_needing_history(desired, &live, options);
        let histories = self
            .client()
            .list_versions_of_agents(names.into_iter().collect())
            .await
            .map_err(|e| {
                anyhow::Error::new(e.error)
                    .context(format!("failed to read the versions of agent/{}", e.name))
            })?;
        for (name, history) in histories {
            if let Some(agent) = live.agents.get_mut(&name) {
                agent.history = Some(history);
            }
        }
        Ok((live, prepared))
    }

    /// Stops the embedded emulator cleanly (flushing in-flight requests).
    pub async fn close(self) {
        self.conn.close().await;
    }
}

/// Lists the live project (one paged list per kind) and, meanwhile, does the half of planning
/// that needs only the manifests. The lists run as their own task, so on the command's
/// multi-threaded runtime the round trips and the CPU work overlap: for a large project that
/// work costs about as much as a round trip, and a plan's bound is one round trip per page.
pub async fn read_and_prepare(
    client: &Client,
    desired: &DesiredState,
) -> anyhow::Result<(LiveState, Prepared)> {
    let declared: BTreeSet<_> = desired.agents.keys().cloned().collect();
    let reading = tokio::spawn({
        let client = client.clone();
        async move { client.read_live_state(&declared).await }
    });
    let prepared = plan::prepare(desired);
    let live = reading
        .await
        .context("the read of the live project stopped")??;
    Ok((live, prepared))
}

/// The command's one reading of the environment and `cwd/.env`.
pub fn load_env(cwd: &Path) -> anyhow::Result<Env> {
    Env::load(cwd).map_err(anyhow::Error::from)
}

/// `--set`, validated.
pub fn set_name(global: &GlobalArgs) -> anyhow::Result<SetName> {
    SetName::new(global.set.clone()).map_err(|e| {
        anyhow::Error::new(StatusError::new(
            ExitStatus::Error,
            format!("invalid --set {:?}: {e}", global.set),
        ))
    })
}

/// Whether to colour what goes to stdout.
pub fn stdout_color(choice: ColorChoice) -> bool {
    stream_color(choice, anstream::AutoStream::choice(&std::io::stdout()))
}

/// Whether to colour what goes to stderr.
pub fn stderr_color(choice: ColorChoice) -> bool {
    stream_color(choice, anstream::AutoStream::choice(&std::io::stderr()))
}

/// `--color always|never` wins; `auto` follows anstream (`NO_COLOR`, `CLICOLOR_FORCE`, TTY).
fn stream_color(choice: ColorChoice, auto: anstream::ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !matches!(auto, anstream::ColorChoice::Never),
    }
}

/// How a plan is written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Terraform-like text, colour only on a terminal.
    Human,
    /// The versioned JSON document (docs/plan-json.md).
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// Writes `plan` to stdout in `format`.
pub fn print_plan(plan: &Plan, format: PlanFormat, color: ColorChoice) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        PlanFormat::Human => {
            let width = terminal_width();
            render::human::render(
                plan,
                &mut out,
                &HumanOptions {
                    color: stdout_color(color),
                    width,
                },
            )
        }
        PlanFormat::Json => render::json::render(plan, &mut out),
        PlanFormat::Markdown => render::markdown::render(plan, &mut out),
    }
    .context("failed to write the plan")
}

/// `COLUMNS` when set (shells export it), else 80.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(80)
}

/// The flags that shape a plan, shared by `plan` and `apply`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanningArgs {
    /// Manifest file or directory (recursively *.yaml, *.yml); `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,

    /// Delete resources this set owns that the manifests no longer declare.
    #[arg(long)]
    pub prune: bool,

    /// Plan only this resource (KIND/NAME, e.g. agent/dev-buddy). Repeatable.
    #[arg(long = "target", value_name = "KIND/NAME")]
    pub targets: Vec<ResourceRef>,

    /// Allow replacing this memory store, which deletes every memory in it. Repeatable.
    #[arg(long, value_name = "memory_store/NAME")]
    pub allow_replace: Vec<ResourceRef>,

    /// Allow deleting this memory store and every memory in it. Repeatable.
    #[arg(long, value_name = "memory_store/NAME")]
    pub allow_delete: Vec<ResourceRef>,

    #[command(flatten)]
    pub variables: manifest::VariableArgs,
}

impl PlanningArgs {
    pub fn options(&self, set: &SetName, destroy: bool) -> PlanOptions {
        PlanOptions {
            set: set.clone(),
            prune: self.prune,
            destroy,
            targets: (!self.targets.is_empty()).then(|| self.targets.iter().cloned().collect()),
            allow_replace: self.allow_replace.iter().cloned().collect(),
            allow_delete: self.allow_delete.iter().cloned().collect(),
        }
    }
}

/// Loads the manifests (exit 3 when invalid, diagnostics on stderr, coloured as `--color`
/// says), with `--var` and `--env-file` over the session's environment.
pub fn load_manifests(
    files: &[PathBuf],
    variables: &manifest::VariableArgs,
    session: &Session,
) -> anyhow::Result<Validated> {
    let vars = variables.resolve(&session.env)?;
    manifest::load(files, &vars, stderr_color(session.color))
}

/// Memory tools naming a store that neither the manifests nor the live project have: each is
/// shown at its file:line:column, and the command ends with exit 3.
pub fn check_store_references(
    validated: &Validated,
    live: &LiveState,
    color: ColorChoice,
) -> anyhow::Result<()> {
    let missing: Vec<_> = validated
        .undeclared_stores
        .iter()
        .filter(|u| !live.stores.contains_key(&u.store))
        .map(|u| u.diagnostic.clone().into_error())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut err = std::io::stderr().lock();
    manifest::render_diagnostics(&mut err, &missing, stderr_color(color))
        .context("failed to write diagnostics")?;
    Err(StatusError::new(
        ExitStatus::InvalidManifests,
        format!(
            "invalid manifests: {} memory tool(s) reference a store that neither the manifests nor the project have",
            missing.len()
        ),
    )
    .into())
}

/// The exit status a rendered plan ends with before anything is executed, or `None` when it
/// may proceed: errors in the plan → 3, conflicts → 6, blocked actions → 4.
pub fn refusal(plan: &Plan) -> Option<StatusError> {
    if plan.has_errors() {
        Some(StatusError::new(
            ExitStatus::InvalidManifests,
            "the plan has errors (listed above); fix the manifests",
        ))
    } else if !plan.conflicts.is_empty() {
        Some(StatusError::new(
            ExitStatus::StaleOrConflict,
            format!(
                "{} declared resource(s) exist but are not this set's to change (listed above)\n\
                 hint: adopt an unmanaged one with `foundryctl import KIND/NAME -f …`",
                plan.conflicts.len()
            ),
        ))
    } else if plan.is_blocked() {
        let flags: Vec<String> = plan
            .actions
            .iter()
            .filter_map(|a| a.blocked.as_ref().map(|b| b.unblock_flag.clone()))
            .collect();
        Some(StatusError::new(
            ExitStatus::Blocked,
            format!(
                "the plan is blocked by data-loss protection ({} action(s) would delete memories)\n\
                 hint: if losing them is intended, rerun with {}",
                flags.len(),
                flags.join(" ")
            ),
        ))
    } else {
        None
    }
}

/// Asks whether to go on. `--auto-approve` (or a saved plan) says yes without asking; on a
/// terminal the user is asked (default no), unless `may_ask` is false (`--output json`, whose
/// stdout is for a program); anywhere else it refuses at once rather than wait for input that
/// will never come.
///
/// `saved_plan_alternative` says whether the command also takes a saved plan (only `apply`
/// does), so the hint never offers a way out that the command does not have.
pub fn confirm(
    question: &str,
    auto_approve: bool,
    saved_plan_alternative: bool,
    may_ask: bool,
) -> anyhow::Result<bool> {
    if auto_approve {
        return Ok(true);
    }
    let refusal = if !may_ask {
        Some("--output json never asks")
    } else if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        Some("stdin is not a terminal")
    } else {
        None
    };
    if let Some(reason) = refusal {
        let alternative = if saved_plan_alternative {
            ", or save a plan with `foundryctl plan -o plan.json` and apply that file"
        } else {
            ""
        };
        return Err(StatusError::new(
            ExitStatus::Error,
            format!(
                "no confirmation possible: {reason}, so nothing was changed\n\
                 hint: pass --auto-approve{alternative}"
            ),
        )
        .into());
    }
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .context("failed to read the answer")
}

/// Ctrl-C while a plan is carried out. The handler is installed here, before the first write,
/// so no Ctrl-C falls through to the default (killing the process mid-write), and it is owned
/// by a task of its own, so it keeps listening whatever the executor does with the returned
/// future (which it drops when a stale precondition stops the run first). The future resolves
/// on the first Ctrl-C: the executor then starts nothing new and lets the writes in flight
/// finish. A second one ends the process at once with exit 5, for when a write in flight hangs
/// and the user will not wait for it; what it did is then unknown, so the message says so, and
/// the next `apply` (which plans from the live project) picks up from there.
pub fn interrupts() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("failed to listen for Ctrl-C")?;
    #[cfg(windows)]
    let mut signal = tokio::signal::windows::ctrl_c().context("failed to listen for Ctrl-C")?;
    let (first, mut pressed) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        // `None` means the signal driver is gone: no Ctrl-C can arrive any more.
        if signal.recv().await.is_none() {
            return;
        }
        let _ = first.send(true);
        if signal.recv().await.is_some() {
            eprintln!(
                "second Ctrl-C: stopping now, without waiting for the writes in flight; \
                 they may or may not have reached the project\n\
                 hint: run `foundryctl apply` again: it plans from the live project"
            );
            std::process::exit(i32::from(ExitStatus::ApplyIncomplete.code()));
        }
    });
    Ok(async move {
        // An error means the listener ended without a Ctrl-C: none will come.
        if pressed.wait_for(|&yes| yes).await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}
