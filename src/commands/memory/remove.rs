//! `foundryctl memory forget` (a whole scope) and `memory delete` (one memory). Both destroy
//! data for good, so `forget` asks first on a terminal and needs `--yes` anywhere else; it
//! never waits for input that cannot come.

use std::io::IsTerminal as _;

use anyhow::Context as _;

use super::read::require_items_api;
use super::{lookup, parse_scope};
use crate::commands::output::{OutputArgs, print_report as print};
use crate::exit::{ExitStatus, StatusError};
use crate::foundry::Client;
use crate::model::MemoryStoreName;
use crate::render::memory::{self, DeleteReport, ForgetReport};

/// Options of `memory forget`.
#[derive(Debug, clap::Args)]
pub struct ForgetArgs {
    /// The memory store.
    #[arg(long, value_name = "NAME")]
    pub store: MemoryStoreName,

    /// Whose memories to delete, all of them.
    #[arg(long, value_name = "SCOPE", value_parser = parse_scope)]
    pub scope: String,

    /// Do not ask; required when stdin is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// What to do before deleting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirmation {
    Proceed,
    Ask,
    Refuse,
}

/// `--yes` proceeds; a terminal is asked; anything else (pipes, CI) is refused rather than
/// left waiting for an answer.
fn confirmation(yes: bool, interactive: bool) -> Confirmation {
    match (yes, interactive) {
        (true, _) => Confirmation::Proceed,
        (false, true) => Confirmation::Ask,
        (false, false) => Confirmation::Refuse,
    }
}

pub async fn forget(client: &Client, color: bool, args: ForgetArgs) -> anyhow::Result<ExitStatus> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    match confirmation(args.yes, interactive) {
        Confirmation::Proceed => {}
        Confirmation::Refuse => anyhow::bail!(
            "forget scope {} of {}: confirmation required, and stdin is not a terminal to ask on\n\
             hint: pass --yes to delete every memory of the scope without asking",
            args.scope,
            args.store
        ),
        Confirmation::Ask => {
            let prompt = format!(
                "Delete every memory of scope {} in {}? This cannot be undone",
                args.scope, args.store
            );
            let yes = crate::commands::confirm::ask(&prompt)?;
            if !yes {
                crate::say!("cancelled; nothing was deleted");
                return Ok(ExitStatus::Error);
            }
        }
    }
    let deleted = lookup::on_store(
        client,
        &args.store,
        client.delete_scope(&args.store, &args.scope).await,
        "failed to forget the scope",
    )
    .await?;
    let report = ForgetReport {
        store: args.store.as_str().to_owned(),
        scope: args.scope,
        deleted,
    };
    print(args.output.output, color, &report, |out, _| {
        memory::write_forget(out, &report)
    })?;
    Ok(ExitStatus::Success)
}

/// Options of `memory delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// The memory store.
    #[arg(long, value_name = "NAME")]
    pub store: MemoryStoreName,

    /// The memory's id (`memory list` shows them).
    #[arg(value_name = "ID")]
    pub memory_id: String,

    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn delete(client: &Client, color: bool, args: DeleteArgs) -> anyhow::Result<ExitStatus> {
    require_items_api(client, "`memory delete`")?;
    let deleted = client
        .delete_item(&args.store, &args.memory_id)
        .await
        .context("failed to delete the memory")?;
    if !deleted {
        // 404: the store or the memory is missing; say which.
        let missing = match lookup::store_missing(client, &args.store).await {
            Some(missing) => missing,
            None => StatusError::new(
                ExitStatus::Error,
                format!("memory {} is not in store {}", args.memory_id, args.store),
            )
            .with_hint(format!(
                "`foundryctl memory list --store {} --scope SCOPE` shows the ids",
                args.store
            )),
        };
        return Err(anyhow::Error::new(missing).context("failed to delete the memory"));
    }
    let report = DeleteReport {
        store: args.store.as_str().to_owned(),
        memory_id: args.memory_id,
        deleted,
    };
    print(args.output.output, color, &report, |out, _| {
        memory::write_delete(out, &report)
    })?;
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forget_never_waits_for_input_off_a_terminal() {
        assert_eq!(confirmation(false, false), Confirmation::Refuse);
        assert_eq!(confirmation(false, true), Confirmation::Ask);
        assert_eq!(confirmation(true, false), Confirmation::Proceed);
        assert_eq!(confirmation(true, true), Confirmation::Proceed);
    }
}
