//! The command-line surface: the list of subcommands and the dispatch to them. The options
//! every command accepts are in `commands/args.rs`; each subcommand's own arguments live beside
//! its implementation in `commands/<verb>.rs`.

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::commands::{self, GlobalArgs};
use crate::exit::ExitStatus;

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
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests without contacting the project.
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
    #[command(subcommand)]
    Memory(commands::memory::Command),
    /// Work with agents directly.
    #[command(subcommand)]
    Agent(commands::agent::Command),
    /// Serve the local Foundry emulator over HTTP.
    Emulator(commands::emulator::Args),
}

/// Runs the parsed command line on a fresh tokio runtime.
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let global = cli.global;
    crate::foundry::logging::init(global.verbose);
    runtime.block_on(async move {
        match cli.command {
            Command::Validate(args) => commands::validate::run(&global, args).await,
            Command::Schema(args) => commands::schema::run(&global, args).await,
            Command::Plan(args) => commands::plan::run(&global, args).await,
            Command::Apply(args) => commands::apply::run(&global, args).await,
            Command::Destroy(args) => commands::destroy::run(&global, args).await,
            Command::Get(args) => commands::get::run(&global, args).await,
            Command::Import(args) => commands::import::run(&global, args).await,
            Command::Memory(cmd) => commands::memory::run(&global, cmd).await,
            Command::Agent(cmd) => commands::agent::run(&global, cmd).await,
            Command::Emulator(args) => commands::emulator::run(&global, args).await,
        }
    })
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
