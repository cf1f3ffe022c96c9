//! `foundryctl memory search` and `memory list`: reading a scope's memories.

use super::{lookup, parse_scope};
use crate::commands::output::{OutputArgs, OutputFormat, print_report as print};
use crate::exit::{ExitStatus, StatusError};
use crate::foundry::{ApiVersion, Client, Message};
use crate::model::MemoryStoreName;
use crate::render::memory::{self, ListReport, MemoryView, SearchReport};

/// Options of `memory search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The memory store.
    #[arg(long, value_name = "NAME")]
    pub store: MemoryStoreName,

    /// Whose memories to search.
    #[arg(long, value_name = "SCOPE", value_parser = parse_scope)]
    pub scope: String,

    /// What to look for, as a user would say it. Without it, the scope's profile memories.
    #[arg(value_name = "TEXT")]
    pub text: Option<String>,

    /// At most this many memories (an int32 on the wire).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(i32::MAX)))]
    pub max: Option<u32>,

    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn search(client: &Client, color: bool, args: SearchArgs) -> anyhow::Result<ExitStatus> {
    let messages: Vec<Message> = args.text.iter().map(Message::user).collect();
    let found = lookup::on_store(
        client,
        &args.store,
        client
            .search_memories(&args.store, &args.scope, &messages, args.max)
            .await,
        "failed to search memories",
    )
    .await?;
    let report = SearchReport {
        store: args.store.as_str().to_owned(),
        scope: args.scope,
        query: args.text,
        memories: found
            .memories
            .iter()
            .map(|hit| super::memory_view(&hit.memory_item))
            .collect(),
    };
    print(args.output.output, color, &report, |out, palette| {
        memory::write_memories(out, &report.memories, false, palette)
    })?;
    if report.memories.is_empty() && args.output.output == OutputFormat::Human {
        crate::say!("no memories found in scope {}", report.scope);
    }
    Ok(ExitStatus::Success)
}

/// The `kind` of a memory item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    #[value(name = "user_profile")]
    UserProfile,
    #[value(name = "chat_summary")]
    ChatSummary,
    #[value(name = "procedural")]
    Procedural,
}

impl KindArg {
    fn as_str(self) -> &'static str {
        match self {
            KindArg::UserProfile => "user_profile",
            KindArg::ChatSummary => "chat_summary",
            KindArg::Procedural => "procedural",
        }
    }
}

/// Options of `memory list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The memory store.
    #[arg(long, value_name = "NAME")]
    pub store: MemoryStoreName,

    /// Whose memories to list.
    #[arg(long, value_name = "SCOPE", value_parser = parse_scope)]
    pub scope: String,

    /// Only memories of this kind.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Refuses the item operations on the preview api-version up front, where the service has no
/// such routes (a bare 404 would read like a missing store).
pub(crate) fn require_items_api(client: &Client, what: &str) -> anyhow::Result<()> {
    if client.api_version() == ApiVersion::V1 {
        return Ok(());
    }
    Err(StatusError::new(
        ExitStatus::Error,
        format!(
            "{what} needs the memory item operations, which exist only on api-version v1, not {}",
            client.api_version().as_str()
        ),
    )
    .with_hint("drop --api-version (v1 is the default); `foundryctl memory search` works on both")
    .into())
}

pub async fn list(client: &Client, color: bool, args: ListArgs) -> anyhow::Result<ExitStatus> {
    require_items_api(client, "`memory list`")?;
    let items = lookup::on_store(
        client,
        &args.store,
        client.list_items(&args.store, &args.scope).await,
        "failed to list memories",
    )
    .await?;
    let memories: Vec<MemoryView> = items
        .iter()
        .map(super::memory_view)
        .filter(|m| args.kind.is_none_or(|k| m.kind == k.as_str()))
        .collect();
    let report = ListReport {
        store: args.store.as_str().to_owned(),
        scope: args.scope,
        kind: args.kind.map(|k| k.as_str().to_owned()),
        memories,
    };
    print(args.output.output, color, &report, |out, palette| {
        memory::write_memories(out, &report.memories, true, palette)
    })?;
    if args.output.output == OutputFormat::Human {
        let n = report.memories.len();
        crate::say!(
            "{n} {} in scope {}",
            if n == 1 { "memory" } else { "memories" },
            report.scope
        );
    }
    Ok(ExitStatus::Success)
}
