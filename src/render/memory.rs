//! What the memory commands print: one serialisable report per command (the `--output json`
//! shapes, kept stable and snapshot-tested) and its human rendering, written into an
//! `impl io::Write` so the text is tested without a terminal.
//!
//! JSON shapes: field names are fixed; ids and timestamps are the service's, unchanged;
//! `kind` is always lower case (the service writes update results in upper case); an
//! operation's `operation` is `created`, `updated` or `deleted` whatever tense the service used.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::render::escape::visible;

/// One memory as every command shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryView {
    pub memory_id: String,
    pub kind: String,
    pub content: String,
    /// Unix seconds.
    pub updated_at: i64,
}

impl MemoryView {
    /// `kind` as the service spells it (`USER_PROFILE`); shown in lower case.
    pub fn new(memory_id: String, kind: &str, content: String, updated_at: i64) -> Self {
        Self {
            memory_id,
            kind: kind.to_ascii_lowercase(),
            content,
            updated_at,
        }
    }
}

/// A change an update made to a scope's memories.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationView {
    /// `created`, `updated`, `deleted` (or what an unknown service value said, lower case).
    pub operation: String,
    #[serde(flatten)]
    pub memory: MemoryView,
}

impl OperationView {
    /// `kind` as the service or the spec spells it (`create` or `created`).
    pub fn new(kind: &str, memory: MemoryView) -> Self {
        Self {
            operation: past_tense(kind),
            memory,
        }
    }
}

/// The spec says `create`, the service says `created`: report one spelling.
fn past_tense(kind: &str) -> String {
    match kind.to_ascii_lowercase().as_str() {
        "create" | "created" => "created".to_owned(),
        "update" | "updated" => "updated".to_owned(),
        "delete" | "deleted" => "deleted".to_owned(),
        other => other.to_owned(),
    }
}

/// The outcome of one `update_memories` for one scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateView {
    pub scope: String,
    /// The update whose result is reported (the last one, when superseded ones were followed).
    pub update_id: String,
    /// `completed`, `failed`, or `superseded` when the chain could not be followed.
    pub status: String,
    /// Updates that were superseded on the way, oldest first; their turns moved into the
    /// update reported here.
    pub superseded: Vec<String>,
    /// Why the update failed (only when `status` is `failed`).
    pub error: Option<String>,
    pub operations: Vec<OperationView>,
}

/// `memory add`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddReport {
    pub store: String,
    pub updates: Vec<UpdateView>,
}

/// `memory search`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchReport {
    pub store: String,
    pub scope: String,
    /// The text searched for; `null` asks for the scope's profile memories.
    pub query: Option<String>,
    pub memories: Vec<MemoryView>,
}

/// `memory list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListReport {
    pub store: String,
    pub scope: String,
    /// The `--kind` filter, if any.
    pub kind: Option<String>,
    pub memories: Vec<MemoryView>,
}

/// `memory forget`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForgetReport {
    pub store: String,
    pub scope: String,
    /// Whether the scope held memories that are now gone.
    pub deleted: bool,
}

/// `memory delete`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeleteReport {
    pub store: String,
    pub memory_id: String,
    pub deleted: bool,
}

/// Styles used by the human renderings; plain text reads the same (symbols carry meaning).
pub struct Palette {
    color: bool,
}

impl Palette {
    pub fn new(color: bool) -> Self {
        Self { color }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn dim(&self, text: &str) -> String {
        self.paint(Style::new().dimmed(), text)
    }

    fn symbol(&self, operation: &str) -> String {
        let (symbol, color) = match operation {
            "created" => ("+", AnsiColor::Green),
            "updated" => ("~", AnsiColor::Yellow),
            "deleted" => ("-", AnsiColor::Red),
            _ => ("?", AnsiColor::Magenta),
        };
        self.paint(Style::new().fg_color(Some(color.into())).bold(), symbol)
    }
}

/// Kinds are padded to the longest known one so contents line up.
const KIND_WIDTH: usize = "user_profile".len();

/// `user_profile  The user said: …` (with the id first when `with_id`).
pub(crate) fn write_memory(
    out: &mut (impl Write + ?Sized),
    memory: &MemoryView,
    with_id: bool,
    palette: &Palette,
) -> io::Result<()> {
    if with_id {
        write!(out, "{}  ", visible(&memory.memory_id))?;
    }
    let kind = format!("{:<KIND_WIDTH$}", visible(&memory.kind));
    writeln!(
        out,
        "{}  {}",
        palette.dim(&kind),
        visible(&one_line(&memory.content))
    )
}

/// Memory contents may hold newlines; one memory stays on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn write_add(
    out: &mut (impl Write + ?Sized),
    report: &AddReport,
    palette: &Palette,
) -> io::Result<()> {
    for update in &report.updates {
        let changed = match update.operations.len() {
            0 => "no memories changed".to_owned(),
            1 => "1 memory changed".to_owned(),
            n => format!("{n} memories changed"),
        };
        match update.status.as_str() {
            "completed" => writeln!(
                out,
                "scope {}: update completed, {changed}",
                visible(&update.scope)
            )?,
            "failed" => writeln!(
                out,
                "scope {}: update {} failed: {}",
                visible(&update.scope),
                visible(&update.update_id),
                visible(update.error.as_deref().unwrap_or("no reason given"))
            )?,
            other => writeln!(
                out,
                "scope {}: update {} ended `{}`, {changed}",
                visible(&update.scope),
                visible(&update.update_id),
                visible(other)
            )?,
        }
        for superseded in &update.superseded {
            writeln!(
                out,
                "  {}",
                palette.dim(&format!(
                    "(update {} was superseded; its turns are in this result)",
                    visible(superseded)
                ))
            )?;
        }
        for op in &update.operations {
            write!(out, "  {} ", palette.symbol(&op.operation))?;
            write_memory(out, &op.memory, false, palette)?;
        }
    }
    Ok(())
}

/// One memory per line; nothing at all when none matched (the command says so on stderr).
pub fn write_memories(
    out: &mut (impl Write + ?Sized),
    memories: &[MemoryView],
    with_ids: bool,
    palette: &Palette,
) -> io::Result<()> {
    for memory in memories {
        write_memory(out, memory, with_ids, palette)?;
    }
    Ok(())
}

pub fn write_forget(out: &mut (impl Write + ?Sized), report: &ForgetReport) -> io::Result<()> {
    if report.deleted {
        writeln!(
            out,
            "forgot scope {} in {}: its memories are deleted",
            visible(&report.scope),
            visible(&report.store)
        )
    } else {
        writeln!(
            out,
            "scope {} in {} held no memories; nothing to forget",
            visible(&report.scope),
            visible(&report.store)
        )
    }
}

pub fn write_delete(out: &mut (impl Write + ?Sized), report: &DeleteReport) -> io::Result<()> {
    writeln!(
        out,
        "deleted memory {} from {}",
        visible(&report.memory_id),
        visible(&report.store)
    )
}

/// Writes a report as pretty JSON with a final newline.
pub fn write_json(out: &mut (impl Write + ?Sized), value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(id: &str, kind: &str, content: &str) -> MemoryView {
        MemoryView {
            memory_id: id.to_owned(),
            kind: kind.to_owned(),
            content: content.to_owned(),
            updated_at: 1_760_000_000,
        }
    }

    fn text(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn operation_kinds_read_in_one_tense_and_kinds_in_lower_case() {
        let view = OperationView::new(
            "create",
            MemoryView::new("m1".into(), "USER_PROFILE", "c".into(), 1),
        );
        assert_eq!(view.operation, "created");
        assert_eq!(view.memory.kind, "user_profile");
        assert_eq!(past_tense("Deleted"), "deleted");
        assert_eq!(past_tense("merged"), "merged");
    }

    #[test]
    fn add_report_lists_each_scope_and_its_operations() {
        let report = AddReport {
            store: "dev-prefs-memory".into(),
            updates: vec![
                UpdateView {
                    scope: "user_dana".into(),
                    update_id: "u2".into(),
                    status: "completed".into(),
                    superseded: vec!["u1".into()],
                    error: None,
                    operations: vec![
                        OperationView {
                            operation: "created".into(),
                            memory: memory("m1", "user_profile", "The user said: I prefer Rust."),
                        },
                        OperationView {
                            operation: "deleted".into(),
                            memory: memory("m0", "chat_summary", "Old\nsummary."),
                        },
                    ],
                },
                UpdateView {
                    scope: "user_sam".into(),
                    update_id: "u3".into(),
                    status: "failed".into(),
                    superseded: vec![],
                    error: Some("[server_error]: model unavailable".into()),
                    operations: vec![],
                },
                UpdateView {
                    scope: "user_lee".into(),
                    update_id: "u4".into(),
                    status: "completed".into(),
                    superseded: vec![],
                    error: None,
                    operations: vec![],
                },
            ],
        };
        insta::assert_snapshot!(text(|o| write_add(o, &report, &Palette::new(false))));
    }

    #[test]
    fn memories_line_up_and_ids_come_first_when_asked() {
        let memories = [
            memory("m1", "user_profile", "The user said: I prefer Rust."),
            memory(
                "m2",
                "chat_summary",
                "Summary: the user said I prefer Rust.",
            ),
        ];
        insta::assert_snapshot!(text(|o| write_memories(
            o,
            &memories,
            true,
            &Palette::new(false)
        )));
        assert!(text(|o| write_memories(o, &[], true, &Palette::new(false))).is_empty());
    }

    #[test]
    fn colour_is_only_emitted_when_asked() {
        let memories = [memory("m1", "user_profile", "x")];
        assert!(
            !text(|o| write_memories(o, &memories, false, &Palette::new(false))).contains('\x1b')
        );
        assert!(
            text(|o| write_memories(o, &memories, false, &Palette::new(true))).contains('\x1b')
        );
    }

    /// Issue 15: memory contents, ids, scopes and update errors come from the service (and from
    /// whoever wrote the memory): terminal controls and bidi characters show escaped.
    #[test]
    fn service_text_cannot_drive_the_terminal() {
        let memories = [memory(
            "m\u{1b}]0;t\u{7}",
            "user_profile",
            "I like \u{1b}[8mRust\u{202e}",
        )];
        let listed = text(|o| write_memories(o, &memories, true, &Palette::new(false)));
        assert_eq!(
            listed,
            "m\\u{1b}]0;t\\u{7}  user_profile  I like \\u{1b}[8mRust\\u{202e}\n"
        );
        let report = AddReport {
            store: "s".into(),
            updates: vec![UpdateView {
                scope: "u\u{202e}".into(),
                update_id: "u1".into(),
                status: "failed".into(),
                superseded: vec![],
                error: Some("boom\nhint: \u{1b}[8mrun this".into()),
                operations: vec![],
            }],
        };
        assert_eq!(
            text(|o| write_add(o, &report, &Palette::new(false))),
            "scope u\\u{202e}: update u1 failed: boom\\u{a}hint: \\u{1b}[8mrun this\n"
        );
    }

    #[test]
    fn forget_says_whether_anything_was_there() {
        let gone = ForgetReport {
            store: "s".into(),
            scope: "u".into(),
            deleted: true,
        };
        assert_eq!(
            text(|o| write_forget(o, &gone)),
            "forgot scope u in s: its memories are deleted\n"
        );
        let empty = ForgetReport {
            deleted: false,
            ..gone
        };
        assert!(text(|o| write_forget(o, &empty)).contains("held no memories"));
    }
}
