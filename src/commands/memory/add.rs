//! `foundryctl memory add`: one `update_memories` per scope, with `update_delay` 0 unless
//! asked otherwise (the service's default is five minutes), waited for to a terminal status.
//!
//! # Expected flow
//! start the update → poll (spinner on a terminal) → `completed` → print its operations.
//!
//! # The other terminal statuses
//! - `superseded`: a newer update of the same scope took this one's turns over, so its
//!   `superseded_by` is followed (a bounded number of hops) and that update's result reported,
//!   listing the superseded ids.
//! - `failed`: reported for that scope with the service's reason; other scopes still run, and
//!   the command exits 1.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{conversation, lookup, parse_scope};
use crate::commands::output::{OutputArgs, print_report as print};
use crate::exit::ExitStatus;
use crate::foundry::wire::{UpdateResponse, UpdateStatus};
use crate::foundry::{Client, ClientError, Message};
use crate::model::MemoryStoreName;
use crate::render::memory::{self, AddReport, UpdateView};

/// More superseding than this in one wait means something else keeps writing the scope.
const MAX_SUPERSEDED_HOPS: usize = 10;

/// Options of `memory add`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("turns").required(true).args(["user", "file"])))]
pub struct Args {
    /// The memory store.
    #[arg(long, value_name = "NAME")]
    pub store: MemoryStoreName,

    /// Whose memories these are: a user id, as an agent's `{{$userId}}` scope resolves it.
    #[arg(long, value_name = "SCOPE", value_parser = parse_scope, required_unless_present = "file")]
    pub scope: Option<String>,

    /// What the user said.
    #[arg(long, value_name = "TEXT", value_parser = parse_text)]
    pub user: Option<String>,

    /// What the assistant answered (context for the user's turn; never remembered itself).
    #[arg(long, value_name = "TEXT", requires = "user", value_parser = parse_text)]
    pub assistant: Option<String>,

    /// A YAML conversation: a list of {role, text} turns for --scope, or a map from scope to
    /// such a list; `-` reads it from stdin.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["user", "assistant"])]
    pub file: Option<PathBuf>,

    /// Seconds the service waits before processing (0: at once; the service default is 300).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub update_delay: u64,

    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn run(client: &Client, color: bool, args: Args) -> anyhow::Result<ExitStatus> {
    let batches = batches(&args)?;
    let mut report = AddReport {
        store: args.store.as_str().to_owned(),
        updates: Vec::new(),
    };
    for (scope, messages) in &batches {
        let update = add_scope(client, &args.store, scope, messages, args.update_delay)
            .await
            .with_context(|| format!("failed to add memories to scope {scope}"))?;
        report.updates.push(update);
    }
    print(args.output.output, color, &report, |out, palette| {
        memory::write_add(out, &report, palette)
    })?;
    let failed: Vec<&str> = report
        .updates
        .iter()
        .filter(|u| u.status != "completed")
        .map(|u| u.scope.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(ExitStatus::Success);
    }
    crate::say!(
        "error: the update did not complete for scope {}",
        failed.join(", ")
    );
    Ok(ExitStatus::Error)
}

/// The `(scope, turns)` pairs the arguments ask for.
fn batches(args: &Args) -> anyhow::Result<Vec<(String, Vec<Message>)>> {
    if let Some(path) = &args.file {
        let (name, text) = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("failed to read the conversation from stdin")?;
            ("-".to_owned(), text)
        } else {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            (path.display().to_string(), text)
        };
        return Ok(conversation::parse(&name, &text, args.scope.as_deref())?);
    }
    // clap guarantees --scope and --user without --file; these are for the type checker.
    let scope = args.scope.clone().context("--scope is required")?;
    let user = args.user.clone().context("--user is required")?;
    let mut turns = vec![Message::user(user)];
    turns.extend(args.assistant.clone().map(Message::assistant));
    Ok(vec![(scope, turns)])
}

/// A turn's text: something to remember, not nothing.
fn parse_text(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("the text is empty; there is nothing to remember".to_owned());
    }
    Ok(value.to_owned())
}

async fn add_scope(
    client: &Client,
    store: &MemoryStoreName,
    scope: &str,
    messages: &[Message],
    delay: u64,
) -> anyhow::Result<UpdateView> {
    let started = match client
        .update_memories(store, scope, messages, None, Some(delay))
        .await
    {
        Ok(started) => started,
        Err(e) => return Err(lookup::explain_store(client, store, e).await),
    };
    let spinner = spinner(scope, &started.update);
    let mut superseded = Vec::new();
    let mut result = client
        .wait_update(
            store.as_str(),
            &started.update,
            started.operation_location.as_deref(),
        )
        .await;
    while let Ok(update) = &result
        && update.status == UpdateStatus::Superseded
        && superseded.len() < MAX_SUPERSEDED_HOPS
        && let Some(next) = update.superseded_by.clone()
    {
        superseded.push(update.update_id.clone());
        spinner.set_message(format!(
            "update {} was superseded; waiting for {next}",
            update.update_id
        ));
        result = match client.get_update(store, &next).await {
            Ok(polled) => client.wait_update(store.as_str(), &polled, None).await,
            Err(e) => Err(e),
        };
    }
    spinner.finish_and_clear();
    Ok(outcome(scope, superseded, result)?)
}

/// A spinner on stderr while the update runs; hidden when stderr is not a terminal.
fn spinner(scope: &str, update: &UpdateResponse) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(format!(
        "scope {scope}: waiting for update {}",
        update.update_id
    ));
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// What one scope's wait ended in, as reported. A failed update is an outcome to report (with
/// the service's reason); any other error ends the command.
fn outcome(
    scope: &str,
    superseded: Vec<String>,
    result: Result<UpdateResponse, ClientError>,
) -> Result<UpdateView, ClientError> {
    match result {
        Ok(update) => Ok(UpdateView {
            scope: scope.to_owned(),
            update_id: update.update_id,
            status: update.status.as_str().to_owned(),
            superseded,
            error: None,
            operations: update
                .result
                .map(|r| {
                    r.memory_operations
                        .iter()
                        .map(super::operation_view)
                        .collect()
                })
                .unwrap_or_default(),
        }),
        Err(ClientError::UpdateFailed { update_id, error }) => Ok(UpdateView {
            scope: scope.to_owned(),
            update_id,
            status: UpdateStatus::Failed.as_str().to_owned(),
            superseded,
            error: Some(match error.as_deref() {
                Some(e) => match (&e.code, &e.message) {
                    (Some(code), Some(message)) => format!("[{code}] {message}"),
                    (Some(only), None) | (None, Some(only)) => only.clone(),
                    (None, None) => "no reason given".to_owned(),
                },
                None => "no reason given".to_owned(),
            }),
            operations: Vec::new(),
        }),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(json: &str) -> UpdateResponse {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_completed_update_reports_its_operations() {
        let done = update(
            r#"{"update_id":"u1","status":"completed","result":{"memory_operations":[
                {"kind":"created","memory_item":{"memory_id":"m1","updated_at":5,"scope":"s","content":"The user said: I prefer Rust.","kind":"USER_PROFILE"}}]}}"#,
        );
        let view = outcome("s", vec!["u0".into()], Ok(done)).unwrap();
        assert_eq!(view.status, "completed");
        assert_eq!(view.superseded, ["u0"]);
        assert_eq!(view.operations.len(), 1);
        assert_eq!(view.operations[0].operation, "created");
        assert_eq!(view.operations[0].memory.kind, "user_profile");
    }

    #[test]
    fn a_failed_update_is_reported_with_the_service_reason() {
        let error = crate::foundry::wire::ApiError::parse(
            br#"{"error":{"code":"server_error","message":"model unavailable"}}"#,
        )
        .map(Box::new);
        let view = outcome(
            "s",
            vec![],
            Err(ClientError::UpdateFailed {
                update_id: "u1".into(),
                error,
            }),
        )
        .unwrap();
        assert_eq!(view.status, "failed");
        assert_eq!(
            view.error.as_deref(),
            Some("[server_error] model unavailable")
        );
        assert!(view.operations.is_empty());
    }

    #[test]
    fn other_errors_end_the_command() {
        let timeout = ClientError::UpdateTimeout {
            update_id: "u1".into(),
            status: "queued".into(),
            waited: Duration::from_secs(180),
        };
        assert!(outcome("s", vec![], Err(timeout)).is_err());
    }
}
