//! The command-line surface: the list of subcommands and the dispatch to them. The options
//! every command accepts are in `commands/args.rs`; each subcommand's own arguments live beside
//! its implementation in `commands/<verb>.rs`.

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::commands::args::{CommonArgs, TargetArgs};
use crate::commands::{self, GlobalArgs};
use crate::exit::{ExitStatus, StatusError};
use crate::foundry::{ApiVersion, AuthMode};

/// Declarative reconciler for Microsoft Foundry memory stores and prompt agents.
///
/// Declare memory stores and agents in YAML, preview the difference to a project with `plan`,
/// make the project match with `apply`. Without an endpoint, commands run against an embedded
/// local emulator under `.foundryctl/local`.
#[derive(Debug, Parser)]
#[command(
    name = "foundryctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub before: BeforeCommand,
    #[command(subcommand)]
    pub command: Command,
}

/// The options of the commands that talk to a project, given before the command
/// (`foundryctl --endpoint URL plan …`). Each such command lists them in its own help; a
/// command that would ignore them refuses them instead.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Before a command that talks to a project (see its help)")]
pub struct BeforeCommand {
    /// Project endpoint, or `local[:DIR]` for the embedded emulator.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// REST api-version to speak.
    #[arg(long, value_enum)]
    pub api_version: Option<ApiVersion>,
    /// How to authenticate to Azure.
    #[arg(long, value_enum)]
    pub auth: Option<AuthMode>,
    /// The set of resources this run owns (plan, apply, destroy, import), or shows (get).
    #[arg(long = "set", value_name = "NAME")]
    pub set: Option<String>,
}

impl Command {
    /// This command's target options, or `None` when it talks to no project.
    fn target(&self) -> Option<&TargetArgs> {
        match self {
            Command::Plan(args) => Some(&args.target),
            Command::Apply(args) => Some(&args.target),
            Command::Destroy(args) => Some(&args.target),
            Command::Get(args) => Some(&args.target),
            Command::Import(args) => Some(&args.target),
            Command::Memory(args) => Some(&args.target),
            Command::Agent(args) => Some(&args.target),
            Command::Check(args) => Some(&args.target),
            Command::Validate(args) if args.against_project => Some(&args.target),
            Command::Validate(_) | Command::Schema(_) | Command::Emulator(_) => None,
        }
    }

    /// This command's `--set`, or `None` when it takes none (`get` takes one as a filter).
    fn set(&self) -> Option<&Option<String>> {
        match self {
            Command::Plan(args) => Some(&args.set.set),
            Command::Apply(args) => Some(&args.set.set),
            Command::Destroy(args) => Some(&args.set.set),
            Command::Import(args) => Some(&args.set.set),
            Command::Get(args) => Some(&args.set),
            Command::Memory(_)
            | Command::Agent(_)
            | Command::Check(_)
            | Command::Validate(_)
            | Command::Schema(_)
            | Command::Emulator(_) => None,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Command::Validate(_) => "validate",
            Command::Schema(_) => "schema",
            Command::Plan(_) => "plan",
            Command::Apply(_) => "apply",
            Command::Destroy(_) => "destroy",
            Command::Get(_) => "get",
            Command::Import(_) => "import",
            Command::Memory(_) => "memory",
            Command::Agent(_) => "agent",
            Command::Check(_) => "check",
            Command::Emulator(_) => "emulator",
        }
    }
}

impl Cli {
    /// What the command runs with: its own options, else those given before it. Options given
    /// before a command that would ignore them are refused, so nothing is silently dropped.
    pub fn resolve(&self) -> Result<GlobalArgs, StatusError> {
        let before = TargetArgs {
            endpoint: self.before.endpoint.clone(),
            api_version: self.before.api_version,
            auth: self.before.auth,
        };
        let command = &self.command;
        let target = match command.target() {
            Some(own) => own.or(&before),
            None => {
                if let Some(flag) = before.given() {
                    if matches!(command, Command::Validate(_)) {
                        return Err(StatusError::new(
                            ExitStatus::Error,
                            format!("{flag} has no effect on `validate` without --against-project"),
                        )
                        .with_hint("add --against-project to check the manifests' model deployments against the project, or drop the flag"));
                    }
                    return Err(ignored(flag, command.name(), "talks to no project"));
                }
                TargetArgs::default()
            }
        };
        let set = match command.set() {
            Some(own) => own.clone().or_else(|| self.before.set.clone()),
            None => {
                if self.before.set.is_some() {
                    return Err(ignored("--set", command.name(), "owns no resources"));
                }
                None
            }
        };
        Ok(GlobalArgs {
            endpoint: target.endpoint,
            api_version: target.api_version.unwrap_or_default(),
            auth: target.auth.unwrap_or_default(),
            set_given: set.is_some(),
            set: set.unwrap_or_else(|| crate::model::SetName::default().as_str().to_owned()),
            color: self.common.color,
            verbose: self.common.verbose,
        })
    }
}

/// Adds a tip to the usage error of the mistake newcomers make first: a manifest path given
/// without `-f` (`foundryctl validate manifests/`), to a command that reads manifests. `args`
/// are the process's arguments, without the program name.
pub fn add_usage_tip(error: &mut clap::Error, args: &[std::ffi::OsString]) {
    use clap::CommandFactory as _;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument {
        return;
    }
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return;
    };
    if arg.starts_with('-') || !std::path::Path::new(arg).exists() {
        return;
    }
    // The subcommand as clap reads it (an option's value that spells one is not it). `get`
    // takes -f for `memory_seed` only.
    let cli = Cli::command();
    let matches = cli
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(std::iter::once("foundryctl".into()).chain(args.iter().cloned()));
    let takes_files = matches
        .ok()
        .and_then(|m| m.subcommand_name().map(str::to_owned))
        .filter(|name| name != "get")
        .and_then(|name| cli.find_subcommand(&name).cloned())
        .is_some_and(|command| command.get_arguments().any(|a| a.get_short() == Some('f')));
    if takes_files {
        let tip = format!("manifests are passed with -f: `-f {arg}`");
        error.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![tip.into()]),
        );
    }
}

/// Every hint of an error's chain, each once, in order: those of the command layer's refusals
/// ([`exit::hints`](crate::exit::hints)) and those the library's errors carry as data. `main`
/// prints them after the chain.
pub fn hints(error: &anyhow::Error) -> Vec<String> {
    let mut hints = crate::exit::hints(error);
    for cause in error.chain() {
        let hint = if let Some(e) = cause.downcast_ref::<crate::ops::session::ConnectError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<crate::foundry::ClientError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<crate::foundry::AuthError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<crate::foundry::TargetError>() {
            e.hint()
        } else if let Some(e) =
            cause.downcast_ref::<commands::memory::conversation::ConversationError>()
        {
            e.hint().map(str::to_owned)
        } else {
            None
        };
        if let Some(hint) = hint
            && !hints.contains(&hint)
        {
            hints.push(hint);
        }
    }
    hints
}

fn ignored(flag: &str, command: &str, why: &str) -> StatusError {
    StatusError::new(
        ExitStatus::Error,
        format!("{flag} has no effect on `{command}`, which {why}"),
    )
    .with_hint(format!(
        "drop {flag}; `foundryctl {command} --help` lists what it takes"
    ))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests (without contacting the project unless --against-project).
    Validate(commands::validate::Args),
    /// Write the manifest JSON Schema, or check that the committed one is current.
    Schema(commands::schema::Args),
    /// Show what apply would change.
    Plan(commands::plan::Args),
    /// Make the project match the manifests (or carry out a saved plan).
    Apply(commands::apply::Args),
    /// Delete every resource this set owns.
    Destroy(commands::destroy::Args),
    /// Show live resources, optionally as manifests.
    Get(commands::get::Args),
    /// Adopt an existing, unmanaged resource into this set.
    Import(commands::import::Args),
    /// Write, search, list and forget memories.
    Memory(commands::memory::Args),
    /// Work with agents directly.
    Agent(commands::agent::Args),
    /// Put each declared agent's probes to it and report what came back.
    Check(commands::check::Args),
    /// Serve the local Foundry emulator over HTTP.
    Emulator(commands::emulator::Args),
}

/// Runs the parsed command line on a fresh tokio runtime, which a command that succeeded leaves
/// to the process's exit.
///
/// When a command succeeds, what it started is over or no longer matters: its requests were
/// answered, the local emulator it opened was closed, and what is left are idle connections,
/// listeners and background frees. Dropping the runtime would still wake and join every worker
/// and blocking thread, 0.4 ms of a 7 ms `validate`; the process ends right after `main`
/// returns, and its exit takes them all. A command that failed may have left the local
/// emulator open (an error returns before its session is closed): the runtime is dropped then,
/// which ends the emulator's tasks and closes its database, so no write-ahead log is left
/// beside it (nothing would be lost either way: every answered write is on disk).
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let global = cli.resolve()?;
    crate::foundry::logging::init(global.verbose);
    let status = runtime.block_on(async move {
        match cli.command {
            Command::Validate(args) => commands::validate::run(&global, args).await,
            Command::Schema(args) => commands::schema::run(&global, args).await,
            Command::Plan(args) => commands::plan::run(&global, args).await,
            Command::Apply(args) => commands::apply::run(&global, args).await,
            Command::Destroy(args) => commands::destroy::run(&global, args).await,
            Command::Get(mut args) => {
                // `get`'s `--set` filters; given before the command, it filters too.
                args.set = args.set.or(cli.before.set);
                commands::get::run(&global, args).await
            }
            Command::Import(args) => commands::import::run(&global, args).await,
            Command::Memory(args) => commands::memory::run(&global, args.command).await,
            Command::Agent(args) => commands::agent::run(&global, args.command).await,
            Command::Check(args) => commands::check::run(&global, args).await,
            Command::Emulator(args) => commands::emulator::run(&global, args).await,
        }
    });
    match &status {
        Ok(_) => runtime.shutdown_background(),
        Err(_) => drop(runtime),
    }
    status
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }

    /// `main` prints an error and then each `caused by:`; a message that already holds its
    /// source's text would print that cause twice.
    fn assert_each_cause_printed_once(error: &(dyn Error + 'static)) {
        let mut current = error;
        while let Some(source) = current.source() {
            let (outer, inner) = (current.to_string(), source.to_string());
            assert!(
                !outer.contains(&inner),
                "`{outer}` repeats its source `{inner}`"
            );
            current = source;
        }
    }

    #[test]
    fn no_error_repeats_its_cause() {
        use crate::foundry::ClientError;
        use crate::model::{AgentName, ResourceRef};

        let decode = serde_json::from_str::<u8>("x").unwrap_err();
        assert_each_cause_printed_once(&ClientError::Decode {
            operation: "list memory stores",
            error: decode,
        });
        let name_error = AgentName::new("no spaces allowed").unwrap_err();
        assert_each_cause_printed_once(&crate::foundry::convert::UnmanageableName {
            name: "no spaces allowed".into(),
            reason: name_error,
        });
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".env")).unwrap();
        let dotenv = crate::dotenv::load(dir.path()).unwrap_err();
        assert!(dotenv.to_string().starts_with("read "), "{dotenv}");
        assert_each_cause_printed_once(&dotenv);
        let bad_ref = "agent/no spaces".parse::<ResourceRef>().unwrap_err();
        assert!(
            bad_ref.to_string().starts_with("invalid name: "),
            "{bad_ref}"
        );
        assert_each_cause_printed_once(&bad_ref);
    }
}
