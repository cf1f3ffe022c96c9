//! The human rendering: Terraform-like symbols (`+ ~ -/+ -`), unchanged fields hidden,
//! multi-line strings as unified line diffs. Every meaning is carried by text and symbols, so
//! it reads the same without colour; colour only highlights.
//!
//! Layout: drift first (what changed behind foundryctl's back explains some actions), then the
//! actions in execution order, then conflicts, "not in manifests" and "not deleted" notes and
//! diagnostics, then the summary line.

use std::fmt::{self, Display};
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use similar::{ChangeTag, TextDiff};

use super::escape::visible;
use super::{HumanOptions, LEFT_IN_PLACE, multiline, phrase, summary_line, write_inline};
use crate::plan::{Action, ActionKind, FieldChange, MaskedChange, Plan, Severity, masked};

/// Renders the whole plan.
pub fn render(plan: &Plan, out: &mut impl Write, options: &HumanOptions) -> io::Result<()> {
    let p = Painter {
        color: options.color,
    };
    if !plan.drift.is_empty() {
        writeln!(
            out,
            "{}",
            p.paint(
                BOLD,
                "Drift: changed outside foundryctl since the last apply"
            )
        )?;
        for drift in &plan.drift {
            writeln!(out)?;
            writeln!(
                out,
                "  {} {}",
                p.paint(YELLOW, "~"),
                p.paint(BOLD, visible(&drift.resource.to_string()))
            )?;
            writeln!(out, "      # {}", visible(&drift.description))?;
            for change in &drift.changes {
                // Drift reads "declared → live": what it should be, what someone made it.
                write_change(out, &p, &reversed(change), CHANGE_COLUMN)?;
            }
        }
        writeln!(out)?;
    }

    if plan.actions.is_empty() && plan.conflicts.is_empty() && plan.destroy {
        writeln!(out, "Nothing to destroy in set `{}`.", plan.set)?;
    } else if plan.actions.is_empty() && plan.conflicts.is_empty() {
        writeln!(
            out,
            "No changes. The project matches the manifests for set `{}`.",
            plan.set
        )?;
    } else if !plan.actions.is_empty() {
        writeln!(out, "foundryctl will perform the following actions:")?;
        for action in &plan.actions {
            writeln!(out)?;
            write_action(out, &p, action)?;
        }
        writeln!(out)?;
    }

    if !plan.conflicts.is_empty() {
        writeln!(
            out,
            "{}",
            p.paint(
                RED_BOLD,
                "Conflicts: declared, but not this set's to change"
            )
        )?;
        for conflict in &plan.conflicts {
            writeln!(out, "  {} {}", p.paint(RED, "!"), visible(&conflict.reason))?;
            writeln!(out, "    hint: {}", visible(&conflict.hint))?;
        }
        writeln!(out)?;
    }

    if !plan.not_in_manifests.is_empty() {
        writeln!(
            out,
            "Not in manifests (owned by set `{}`, kept; `--prune` deletes them):",
            plan.set
        )?;
        for resource in &plan.not_in_manifests {
            writeln!(out, "  {}", visible(&resource.to_string()))?;
        }
        writeln!(out)?;
    }

    if !plan.memories_left_in_place.is_empty() {
        writeln!(out, "{LEFT_IN_PLACE}:")?;
        for left in &plan.memories_left_in_place {
            let mut content = Vec::new();
            write_inline(
                &mut content,
                &serde_json::Value::String(left.content.clone()),
            )?;
            writeln!(
                out,
                "  {} {}.{}: {}",
                visible(&left.seed.to_string()),
                visible(&left.scope),
                visible(&left.kind),
                visible(&String::from_utf8_lossy(&content))
            )?;
        }
        writeln!(out)?;
    }

    if !plan.not_deleted.is_empty() {
        writeln!(out, "Not deleted (kept on purpose; each says why):")?;
        for kept in &plan.not_deleted {
            writeln!(out, "  {}", visible(&kept.reason))?;
            writeln!(out, "    hint: {}", visible(&kept.hint))?;
        }
        writeln!(out)?;
    }

    for d in &plan.diagnostics {
        let label = match d.severity {
            Severity::Error => p.paint(RED_BOLD, "error"),
            Severity::Warning => p.paint(YELLOW_BOLD, "warning"),
        };
        writeln!(out, "{label}: {}", visible(&d.message))?;
        if let Some(hint) = &d.hint {
            writeln!(out, "  hint: {}", visible(hint))?;
        }
    }
    if !plan.diagnostics.is_empty() {
        writeln!(out)?;
    }

    writeln!(out, "{}", p.paint(BOLD, &summary_line(&plan.summary)))?;
    for line in super::template_lines(plan) {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

fn write_action(out: &mut impl Write, p: &Painter, action: &Action) -> io::Result<()> {
    let symbol = action.kind.symbol();
    let style = match action.kind {
        ActionKind::Create => GREEN,
        ActionKind::Update | ActionKind::Import => YELLOW,
        ActionKind::Replace => MAGENTA,
        ActionKind::Delete => RED,
    };
    write!(
        out,
        "  {} {} {}",
        p.paint(style, symbol),
        p.paint(BOLD, visible(&action.id.to_string())),
        phrase(action)
    )?;
    if action.blocked.is_some() {
        write!(out, "  {}", p.paint(RED_BOLD, "[BLOCKED]"))?;
    }
    writeln!(out)?;
    for reason in &action.reasons {
        writeln!(out, "      # {}", visible(reason))?;
    }
    for change in &action.changes {
        write_change(out, p, change, CHANGE_COLUMN)?;
    }
    if let Some(b) = &action.blocked {
        writeln!(
            out,
            "      {}: {}",
            p.paint(RED_BOLD, "blocked"),
            visible(&b.reason)
        )?;
        writeln!(out, "      would lose: {}", visible(&b.data_loss))?;
        writeln!(
            out,
            "      hint: to allow it, rerun with {}",
            visible(&b.unblock_flag)
        )?;
    } else if let Some(loss) = &action.data_loss {
        // Allowed, but still said: a replace or delete of a store always names its cost.
        writeln!(out, "      would lose: {}", visible(&loss.what))?;
        if let Some(by) = &loss.allowed_by {
            writeln!(out, "      allowed by: {}", visible(by))?;
        }
    }
    Ok(())
}

fn write_change<W: Write>(
    out: &mut W,
    p: &Painter,
    change: &FieldChange,
    indent: usize,
) -> io::Result<()> {
    // Plans go to CI logs and pull-request comments: never a credential's value.
    let MaskedChange { change, sensitive } = masked(change);
    let pad = pad(indent);
    let (symbol, style) = match (&change.before, &change.after) {
        (None, Some(_)) if !change.before_unreported => ("+", GREEN),
        (Some(_), None) => ("-", RED),
        _ => ("~", YELLOW),
    };
    write!(
        out,
        "{pad}{} {}:",
        p.paint(style, symbol),
        visible(&change.path)
    )?;
    if let Some((before, after)) = multiline(change.before.as_ref(), change.after.as_ref()) {
        write_forces(out, p, &change)?;
        writeln!(out)?;
        return write_line_diff(out, p, before, after, indent + LINE_DIFF_SHIFT);
    }
    out.write_all(b" ")?;
    // A masked field's markers are not values: shown bare, so they do not read as a string.
    // JSON escapes C0 controls but not DEL, C1 or bidi characters: those are escaped after.
    let shown = |out: &mut W, v: &serde_json::Value| match v.as_str() {
        Some(marker) if sensitive => out.write_all(marker.as_bytes()),
        _ => {
            let mut inline = Vec::new();
            write_inline(&mut inline, v)?;
            out.write_all(visible(&String::from_utf8_lossy(&inline)).as_bytes())
        }
    };
    match (&change.before, &change.after) {
        (None, Some(after)) if change.before_unreported => {
            write!(out, "(not reported by the service) -> ")?;
            shown(out, after)?;
        }
        (None, Some(after)) => shown(out, after)?,
        (Some(before), None) => shown(out, before)?,
        (Some(before), Some(after)) => {
            shown(out, before)?;
            write!(out, " -> ")?;
            shown(out, after)?;
        }
        (None, None) => write!(out, "(absent)")?,
    }
    write_forces(out, p, &change)?;
    writeln!(out)
}

fn write_forces(out: &mut impl Write, p: &Painter, change: &FieldChange) -> io::Result<()> {
    if change.forces_replacement {
        write!(out, "  {}", p.paint(MAGENTA, "# forces replacement"))?;
    }
    Ok(())
}

/// A unified line diff (3 lines of context), each line prefixed `+`, `-` or ` `; a text that
/// appears or disappears as a whole is listed line by line without hunk headers.
fn write_line_diff(
    out: &mut impl Write,
    p: &Painter,
    before: Option<&str>,
    after: Option<&str>,
    indent: usize,
) -> io::Result<()> {
    let pad = pad(indent);
    let (before, after) = match (before, after) {
        (Some(before), Some(after)) => (before, after),
        (None, Some(text)) => {
            for line in text.lines() {
                let line = visible(line);
                writeln!(out, "{pad}{}", p.paint(GREEN, format_args!("+{line}")))?;
            }
            return Ok(());
        }
        (Some(text), None) => {
            for line in text.lines() {
                let line = visible(line);
                writeln!(out, "{pad}{}", p.paint(RED, format_args!("-{line}")))?;
            }
            return Ok(());
        }
        (None, None) => return Ok(()),
    };
    // Normal forms have no trailing newline; add one to both sides so the last line compares
    // like the others and no "no newline at end of file" marker appears.
    let (before, after) = (format!("{before}\n"), format!("{after}\n"));
    let diff = TextDiff::from_lines(before.as_str(), after.as_str());
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        writeln!(out, "{pad}{}", p.paint(CYAN, hunk.header()))?;
        for change in hunk.iter_changes() {
            // One line of the diff: its own line break is the only one it may hold.
            let line = visible(change.value().trim_end_matches(['\n', '\r']));
            match change.tag() {
                ChangeTag::Delete => {
                    writeln!(out, "{pad}{}", p.paint(RED, format_args!("-{line}")))?
                }
                ChangeTag::Insert => {
                    writeln!(out, "{pad}{}", p.paint(GREEN, format_args!("+{line}")))?;
                }
                ChangeTag::Equal => writeln!(out, "{pad} {line}")?,
            }
        }
    }
    Ok(())
}

/// A drift change shown from the declared value to the live one.
fn reversed(change: &FieldChange) -> FieldChange {
    FieldChange {
        path: change.path.clone(),
        before: change.after.clone(),
        after: change.before.clone(),
        before_unreported: false,
        forces_replacement: false,
    }
}

const BOLD: Style = Style::new().bold();
const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const YELLOW_BOLD: Style = AnsiColor::Yellow.on_default().bold();
const RED: Style = AnsiColor::Red.on_default();
const RED_BOLD: Style = AnsiColor::Red.on_default().bold();
const MAGENTA: Style = AnsiColor::Magenta.on_default();
const CYAN: Style = AnsiColor::Cyan.on_default();

/// Applies a style only when colour was asked for.
struct Painter {
    color: bool,
}

impl Painter {
    /// `text` in `style` (or plain), written straight into the output rather than into a
    /// string first: a large plan paints a symbol on every line.
    fn paint<T: Display>(&self, style: Style, text: T) -> Painted<T> {
        Painted {
            style: self.color.then_some(style),
            text,
        }
    }
}

struct Painted<T> {
    style: Option<Style>,
    text: T,
}

impl<T: Display> Display for Painted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.style {
            Some(style) => write!(f, "{style}{}{style:#}", self.text),
            None => self.text.fmt(f),
        }
    }
}

/// The column of an action's symbol (`  + agent/x …`).
pub(super) const ACTION_COLUMN: usize = 2;
/// The column of a field change's symbol (`      ~ description: …`).
pub(super) const CHANGE_COLUMN: usize = 6;
/// How much deeper than its field a multi-line value's line diff (`+line`, `-line`,
/// ` line`) starts.
pub(super) const LINE_DIFF_SHIFT: usize = 4;

/// `indent` spaces, without building a string for them.
fn pad(indent: usize) -> &'static str {
    const SPACES: &str = "                ";
    debug_assert!(
        indent <= SPACES.len(),
        "indent {indent} is deeper than pad() serves"
    );
    SPACES.get(..indent).unwrap_or(SPACES)
}
