//! `foundryctl memory …`: the imperative memory workflow (the README's tutorial). Teach memories
//! (`add`), find them (`search`, `list`), remove them (`forget` a scope, `delete` one), and
//! write them out as a seed (`export`).
//!
//! Each subcommand module turns its arguments into client calls and a report from
//! [`crate::render::memory`];
//! [`lookup`] turns bare 404s into errors that name what exists.

mod add;
pub mod conversation;
mod export;
pub(crate) mod lookup;
pub(crate) mod read;
mod remove;

use crate::commands::GlobalArgs;
use crate::commands::output::stdout_color;
use crate::commands::session;
use crate::exit::ExitStatus;
use crate::foundry::wire::{MemoryItem, MemoryOperation};
use crate::ops::LocalAccess;
use crate::render::memory::{MemoryView, OperationView};

/// `foundryctl memory …`: where the project is (before or after the subcommand), and the subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: crate::commands::args::TargetArgs,

    #[command(subcommand)]
    pub command: Command,
}

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
    /// Write the memories of named scopes as a `MemorySeed` document (back up, review, restore
    /// or move them with `apply`).
    Export(export::ExportArgs),
}

pub async fn run(global: &GlobalArgs, command: Command) -> anyhow::Result<ExitStatus> {
    let session = session::connect(global, LocalAccess::Find).await?;
    let client = session.client();
    let color = stdout_color(global.color);
    let result = match command {
        Command::Add(args) => add::run(client, color, args).await,
        Command::Search(args) => read::search(client, color, args).await,
        Command::List(args) => read::list(client, color, args).await,
        Command::Forget(args) => remove::forget(client, color, args).await,
        Command::Delete(args) => remove::delete(client, color, args).await,
        Command::Export(args) => export::run(client, args).await,
    };
    session.close().await;
    result
}

/// A scope is the one free-form identifier the API takes; an empty one is a mistake the
/// service would answer with a less helpful 400.
pub(crate) fn parse_scope(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("a scope cannot be empty".to_owned());
    }
    Ok(value.to_owned())
}

/// One memory as every command shows it.
pub(crate) fn memory_view(item: &MemoryItem) -> MemoryView {
    MemoryView::new(
        item.memory_id.clone(),
        item.kind.as_str(),
        item.content.clone(),
        item.updated_at,
    )
}

/// A change an update made, as every command shows it.
pub(crate) fn operation_view(op: &MemoryOperation) -> OperationView {
    OperationView::new(&op.kind, memory_view(&op.memory_item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_read_in_one_tense_and_kinds_in_lower_case() {
        let op: MemoryOperation = serde_json::from_value(serde_json::json!({
            "kind": "create",
            "memory_item": {"memory_id": "m1", "updated_at": 1, "scope": "s", "content": "c", "kind": "USER_PROFILE"}
        }))
        .unwrap();
        let view = operation_view(&op);
        assert_eq!(view.operation, "created");
        assert_eq!(view.memory.kind, "user_profile");
        assert_eq!(view.memory.memory_id, "m1");
    }
}
