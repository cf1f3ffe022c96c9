//! One module per subcommand. Each turns its arguments into library calls and returns an
//! [`ExitStatus`]. What several commands share lives in [`context`]: the session (target line,
//! connection, colour), the planning flags, the refusal order (errors 3, conflicts 6, blocked 4)
//! and the confirmation rule. The `memory` commands are a directory of their own because their
//! output shapes (`memory/view.rs`) are part of the interface.

pub mod agent;
pub mod apply;
pub mod context;
pub mod destroy;
pub mod emulator;
pub mod get;
pub mod import;
pub mod memory;
pub mod plan;
pub mod schema;
pub mod validate;

use anyhow::Context as _;

use crate::cli::{Cli, Command};
use crate::exit::ExitStatus;

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
            Command::Validate(args) => validate::run(&global, args).await,
            Command::Schema(args) => schema::run(&global, args).await,
            Command::Plan(args) => plan::run(&global, args).await,
            Command::Apply(args) => apply::run(&global, args).await,
            Command::Destroy(args) => destroy::run(&global, args).await,
            Command::Get(args) => get::run(&global, args).await,
            Command::Import(args) => import::run(&global, args).await,
            Command::Memory(cmd) => memory::run(&global, cmd).await,
            Command::Agent(cmd) => agent::run(&global, cmd).await,
            Command::Emulator(args) => emulator::run(&global, args).await,
        }
    })
}
