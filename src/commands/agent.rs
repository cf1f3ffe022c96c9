//! `foundryctl agent invoke`: one Responses call with an agent reference, its answer on
//! stdout. Without a conversation every call starts with no history, so whatever the agent
//! knows about the user across calls came from its memory. `--new-conversation` starts one
//! (and prints its id); `--conversation ID` continues it, and the agent sees its earlier turns.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use crate::commands::GlobalArgs;
use crate::commands::memory::{self, lookup};
use crate::commands::output::{OutputArgs, print_report, stdout_color};
use crate::commands::session;
use crate::exit::ExitStatus;
use crate::foundry::wire::MemoryItem;
use crate::foundry::{AgentResponse, Client};
use crate::model::AgentName;
use crate::ops::LocalAccess;
use crate::render::escape::{visible, visible_lines};
use crate::render::memory::{MemoryView, Palette, write_memories};

/// `foundryctl agent …`: where the project is (before or after the subcommand), and the subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: crate::commands::args::TargetArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Send a message to an agent and print its answer.
    // `--version` names the agent's version here, not foundryctl's.
    #[command(disable_version_flag = true)]
    Invoke(InvokeArgs),
}

/// Options of `agent invoke`.
#[derive(Debug, clap::Args)]
pub struct InvokeArgs {
    /// The agent.
    #[arg(value_name = "NAME")]
    pub agent: AgentName,

    /// The user's message.
    #[arg(value_name = "TEXT")]
    pub text: String,

    /// A version of the agent (default: its latest).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,

    /// Who is asking: resolves a `{{$userId}}` memory scope (sent as `x-memory-user-id`).
    /// Without it the service uses the caller's identity.
    #[arg(long, value_name = "USER")]
    pub user_id: Option<String>,

    /// Continue a conversation (`conv_…`), which holds the earlier turns.
    #[arg(long, value_name = "ID")]
    pub conversation: Option<String>,

    /// Start a conversation with this message and print its id, to continue it with
    /// `--conversation ID`.
    #[arg(long, conflicts_with = "conversation")]
    pub new_conversation: bool,

    /// Also print what the agent's memory search found.
    #[arg(long)]
    pub show_memories: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn run(global: &GlobalArgs, command: Command) -> anyhow::Result<ExitStatus> {
    let session = session::connect(global, LocalAccess::Find).await?;
    let color = stdout_color(global.color);
    let result = match command {
        Command::Invoke(args) => invoke(session.client(), color, args).await,
    };
    session.close().await;
    result
}

async fn invoke(client: &Client, color: bool, args: InvokeArgs) -> anyhow::Result<ExitStatus> {
    let conversation = if args.new_conversation {
        let started = client
            .create_conversation(&[])
            .await
            .map_err(|e| anyhow::Error::from(e).context("failed to start a conversation"))?;
        Some(started.id)
    } else {
        args.conversation.clone()
    };
    let response = match client
        .invoke_agent_in_conversation(
            &args.agent,
            args.version.as_deref(),
            &args.text,
            args.user_id.as_deref(),
            conversation.as_deref(),
        )
        .await
    {
        Ok(response) => response,
        Err(e) => {
            return Err(lookup::explain_invoke(
                client,
                &args.agent,
                args.version.as_deref(),
                conversation.as_deref(),
                e,
            )
            .await
            .context(format!("failed to invoke agent {}", args.agent)));
        }
    };
    let mut report = InvokeReport::new(&args, &response);
    if report.conversation.is_none() {
        report.conversation = conversation;
    }
    print_report(args.output.output, color, &report, |out, palette| {
        write_invoke(
            out,
            &report,
            args.show_memories,
            args.new_conversation,
            palette,
        )
    })?;
    Ok(ExitStatus::Success)
}

/// `agent invoke --output json`. `memory_searches` is always present (empty when the agent
/// has no memory tool), whether or not `--show-memories` was given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvokeReport {
    pub agent: String,
    /// The version that answered (the service fills it in when none was asked for).
    pub version: Option<String>,
    pub user_id: Option<String>,
    pub conversation: Option<String>,
    pub response_id: Option<String>,
    pub answer: String,
    pub memory_searches: Vec<MemorySearchView>,
}

/// A `memory_search_call` output item: what the agent's memory tool found, and the update
/// that writes this turn back to memory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemorySearchView {
    pub status: Option<String>,
    pub update_id: Option<String>,
    pub error: Option<Value>,
    pub memories: Vec<MemoryView>,
}

impl InvokeReport {
    fn new(args: &InvokeArgs, response: &AgentResponse) -> Self {
        let raw = &response.raw;
        let text = |v: &Value| v.as_str().map(str::to_owned);
        // v1 echoes `agent_reference`, the preview `agent` (`agent_id`); both carry the version.
        let version = ["agent_reference", "agent"]
            .iter()
            .find_map(|k| raw.get(*k).and_then(|r| r.get("version")).and_then(text))
            .or_else(|| args.version.clone());
        let conversation = raw
            .get("conversation")
            .and_then(|c| c.get("id").and_then(text).or_else(|| text(c)))
            .or_else(|| args.conversation.clone());
        Self {
            agent: args.agent.as_str().to_owned(),
            version,
            user_id: args.user_id.clone(),
            conversation,
            response_id: raw.get("id").and_then(text),
            answer: response.text.clone(),
            memory_searches: memory_searches(response),
        }
    }
}

/// The `memory_search_call` items of a response. Their memories are flat items (not wrapped
/// in `memory_item` as `search_memories` returns them); anything unreadable is skipped.
fn memory_searches(response: &AgentResponse) -> Vec<MemorySearchView> {
    response
        .memory_search_calls()
        .into_iter()
        .map(|call| MemorySearchView {
            status: call.status.map(str::to_owned),
            update_id: call.update_id.map(str::to_owned),
            error: call.error.cloned(),
            memories: call
                .memories
                .iter()
                .filter_map(|m| serde_json::from_value::<MemoryItem>(m.clone()).ok())
                .map(|m| memory::memory_view(&m))
                .collect(),
        })
        .collect()
}

/// The answer; with `show_memories`, then what each memory search found; for a conversation
/// this call started, then how to continue it.
fn write_invoke(
    out: &mut (impl Write + ?Sized),
    report: &InvokeReport,
    show_memories: bool,
    started: bool,
    palette: &Palette,
) -> io::Result<()> {
    // The model's answer may hold anything: its lines are kept, terminal controls escaped.
    writeln!(out, "{}", visible_lines(&report.answer))?;
    if show_memories {
        write_searches(out, report, palette)?;
    }
    if started && let Some(id) = &report.conversation {
        writeln!(
            out,
            "\n{}",
            palette.dim(&format!(
                "conversation {0} started; continue it with --conversation {0}",
                visible(id)
            ))
        )?;
    }
    Ok(())
}

/// What each memory search of the answer found.
fn write_searches(
    out: &mut (impl Write + ?Sized),
    report: &InvokeReport,
    palette: &Palette,
) -> io::Result<()> {
    if report.memory_searches.is_empty() {
        writeln!(
            out,
            "\n{}",
            palette.dim("(the agent has no memory search tool)")
        )?;
    }
    for search in &report.memory_searches {
        let n = search.memories.len();
        let found = match n {
            0 => "memory search found nothing".to_owned(),
            1 => "memory search found 1 memory:".to_owned(),
            n => format!("memory search found {n} memories:"),
        };
        writeln!(out, "\n{}", palette.dim(&found))?;
        write_memories(out, &search.memories, false, palette)?;
        if let Some(error) = &search.error {
            writeln!(
                out,
                "{}",
                palette.dim(&format!(
                    "memory search error: {}",
                    visible(&error.to_string())
                ))
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(version: Option<&str>) -> InvokeArgs {
        InvokeArgs {
            agent: AgentName::new("dev-buddy").unwrap(),
            text: "Which editor is my favourite?".into(),
            version: version.map(str::to_owned),
            user_id: Some("user_dana".into()),
            conversation: None,
            new_conversation: false,
            show_memories: true,
            output: OutputArgs {
                output: crate::commands::output::OutputFormat::Human,
            },
        }
    }

    fn response(raw: Value) -> AgentResponse {
        AgentResponse {
            text: crate::foundry::memory::output_text(&raw),
            raw,
        }
    }

    #[test]
    fn the_report_reads_both_dialects_and_flat_memories() {
        let v1 = response(json!({
            "id": "resp_1",
            "agent_reference": {"type": "agent_reference", "name": "dev-buddy", "version": "2"},
            "output": [
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Helix."}]},
                {"type": "memory_search_call", "status": "in_progress", "update_id": "u1", "error": null,
                 "memories": [{"memory_id": "m1", "updated_at": 3, "scope": "user_dana", "content": "The user said: My favourite editor is Helix.", "kind": "user_profile"}, {"bogus": true}]}
            ]
        }));
        let report = InvokeReport::new(&args(None), &v1);
        assert_eq!(report.version.as_deref(), Some("2"));
        assert_eq!(report.answer, "Helix.");
        assert_eq!(report.response_id.as_deref(), Some("resp_1"));
        assert_eq!(report.memory_searches.len(), 1);
        assert_eq!(report.memory_searches[0].memories.len(), 1);
        assert_eq!(report.memory_searches[0].update_id.as_deref(), Some("u1"));

        let preview = response(json!({
            "agent": {"type": "agent_id", "name": "dev-buddy", "version": "1"},
            "conversation": {"id": "conv_9"},
            "output": []
        }));
        let report = InvokeReport::new(&args(None), &preview);
        assert_eq!(report.version.as_deref(), Some("1"));
        assert_eq!(report.conversation.as_deref(), Some("conv_9"));
        assert!(report.memory_searches.is_empty());
    }

    #[test]
    fn show_memories_lists_what_the_search_found() {
        let raw = response(json!({
            "output": [
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Agent dev-buddy (version 1) (emulated) remembers: The user said: My favourite editor is Helix."}]},
                {"type": "memory_search_call", "status": "in_progress", "update_id": "u1", "error": null,
                 "memories": [{"memory_id": "m1", "updated_at": 3, "scope": "user_dana", "content": "The user said: My favourite editor is Helix.", "kind": "user_profile"}]}
            ]
        }));
        let report = InvokeReport::new(&args(Some("1")), &raw);
        let mut out = Vec::new();
        write_invoke(&mut out, &report, true, false, &Palette::new(false)).unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
        let mut quiet = Vec::new();
        write_invoke(&mut quiet, &report, false, false, &Palette::new(false)).unwrap();
        assert_eq!(String::from_utf8(quiet).unwrap().lines().count(), 1);
    }

    /// Issue 15: the model's answer and what the memory search recalled are service text;
    /// ESC[8m, BEL and U+202E show escaped, and the answer keeps its lines.
    #[test]
    fn the_answer_and_recalled_memories_cannot_drive_the_terminal() {
        let raw = response(json!({
            "output": [
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Line one.\n\u{1b}[8mhidden\u{7} \u{202e}txet"}]},
                {"type": "memory_search_call", "status": "in_progress", "update_id": "u1", "error": "bad\u{1b}[2J",
                 "memories": [{"memory_id": "m\u{1b}1", "updated_at": 3, "scope": "user_dana", "content": "The user said: \u{1b}[8mhi\u{202e}", "kind": "user_profile"}]}
            ]
        }));
        let report = InvokeReport::new(&args(None), &raw);
        let mut out = Vec::new();
        write_invoke(&mut out, &report, true, false, &Palette::new(false)).unwrap();
        let text = String::from_utf8(out).unwrap();
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!text.contains(raw), "{raw:?} in {text}");
        }
        assert!(
            text.starts_with("Line one.\n\\u{1b}[8mhidden\\u{7} \\u{202e}txet\n"),
            "{text}"
        );
        assert!(
            text.contains("The user said: \\u{1b}[8mhi\\u{202e}"),
            "{text}"
        );
    }

    #[test]
    fn a_started_conversation_is_named_after_the_answer() {
        let raw = response(json!({
            "conversation": {"id": "conv_1"},
            "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello."}]}]
        }));
        let report = InvokeReport::new(&args(None), &raw);
        let mut out = Vec::new();
        write_invoke(&mut out, &report, false, true, &Palette::new(false)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Hello.\n\nconversation conv_1 started; continue it with --conversation conv_1\n"
        );
    }
}
