//! `foundryctl memory …`: the imperative memory workflow (DESIGN §5). Teach memories
//! (`add`), find them (`search`, `list`), and remove them (`forget` a scope, `delete` one).
//!
//! Each subcommand module turns its arguments into client calls and a report from [`view`];
//! [`lookup`] turns bare 404s into errors that name what exists.

mod add;
mod conversation;
pub(crate) mod lookup;
mod read;
mod remove;
pub mod view;

use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::commands::context::{self, Session};
use crate::exit::ExitStatus;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Teach memories: send a conversation turn to the store and show what it remembered.
    Add(add::Args),
    /// Find a scope's memories relevant to a text (or its profile memories, without one).
    Search(read::SearchArgs),
    /// List every memory of a scope (api-version v1 only).
    List(read::ListArgs),
    /// Delete every memory of a scope.
    Forget(remove::ForgetArgs),
    /// Delete one memory by id (api-version v1 only).
    Delete(remove::DeleteArgs),
}

/// `--output` of the memory and agent commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    #[default]
    Human,
    /// One JSON document on stdout, in the shapes documented in `view`.
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub async fn run(global: &GlobalArgs, command: Command) -> anyhow::Result<ExitStatus> {
    let session = Session::connect(global).await?;
    let client = session.client();
    let color = context::stdout_color(global.color);
    let result = match command {
        Command::Add(args) => add::run(client, color, args).await,
        Command::Search(args) => read::search(client, color, args).await,
        Command::List(args) => read::list(client, color, args).await,
        Command::Forget(args) => remove::forget(client, color, args).await,
        Command::Delete(args) => remove::delete(client, color, args).await,
    };
    session.close().await;
    result
}

/// Prints a report on stdout: JSON, or the human rendering `human` writes (in colour when
/// `color`, which [`context::stdout_color`] decides from the terminal, `NO_COLOR` and
/// `--color`).
pub(crate) fn print<R: Serialize>(
    format: OutputFormat,
    color: bool,
    report: &R,
    human: impl FnOnce(&mut dyn std::io::Write, &view::Palette) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => view::write_json(&mut out, report),
        OutputFormat::Human => human(&mut out, &view::Palette::new(color)),
    }
    .and_then(|()| out.flush())
    .context("failed to write to stdout")
}

/// A scope is the one free-form identifier the API takes; an empty one is a mistake the
/// service would answer with a less helpful 400.
pub(crate) fn parse_scope(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("a scope cannot be empty".to_owned());
    }
    Ok(value.to_owned())
}
