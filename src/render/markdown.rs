//! `--output markdown`: a plan as a pull-request comment. The summary and a table of actions are
//! visible; the full human rendering is folded into `<details>`, so a reviewer sees the shape
//! at a glance and the field diffs on demand.

use std::io::{self, Write};

use super::escape::visible;
use super::{HumanOptions, summary_line};
use crate::plan::{Plan, Severity};

/// Renders `plan` of the project `project` (its endpoint, or `local:DIR`): a comment read away
/// from the run must say which project it is about.
pub fn render(plan: &Plan, project: &str, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "### foundryctl plan · set {}", code(plan.set.as_str()))?;
    writeln!(out)?;
    writeln!(out, "Project: {}", code(project))?;
    writeln!(out)?;
    writeln!(out, "**{}**", summary_line(&plan.summary))?;
    writeln!(out)?;
    let templates = super::template_lines(plan);
    for line in &templates {
        writeln!(out, "- {}", prose(line))?;
    }
    if !templates.is_empty() {
        writeln!(out)?;
    }

    if plan.actions.is_empty() && plan.conflicts.is_empty() && plan.destroy {
        writeln!(out, "Nothing to destroy in set `{}`.", plan.set)?;
        writeln!(out)?;
    } else if plan.actions.is_empty() && plan.conflicts.is_empty() {
        writeln!(out, "No changes. The project matches the manifests.")?;
        writeln!(out)?;
    }
    if !plan.actions.is_empty() {
        writeln!(out, "| | Resource | Action | Notes |")?;
        writeln!(out, "|:-:|---|---|---|")?;
        for a in &plan.actions {
            let notes = match &a.blocked {
                Some(b) => format!(
                    "**blocked**: {}; allow with {}",
                    prose(&b.reason),
                    code(&b.unblock_flag)
                ),
                None => a.reasons.first().map(|r| prose(r)).unwrap_or_default(),
            };
            writeln!(
                out,
                "| `{}` | {} | {} | {notes} |",
                a.kind.symbol(),
                // GitHub splits table cells at `|` even inside code: escaped there.
                code(&a.id.to_string()).replace('|', "\\|"),
                a.kind.name(),
            )?;
        }
        writeln!(out)?;
    }
    if !plan.drift.is_empty() {
        writeln!(out, "**Drift** (changed outside foundryctl):")?;
        for d in &plan.drift {
            writeln!(
                out,
                "- {}: {}",
                code(&d.resource.to_string()),
                prose(&d.description)
            )?;
        }
        writeln!(out)?;
    }
    if !plan.conflicts.is_empty() {
        writeln!(out, "**Conflicts**:")?;
        for c in &plan.conflicts {
            writeln!(out, "- {} (hint: {})", prose(&c.reason), prose(&c.hint))?;
        }
        writeln!(out)?;
    }
    if !plan.not_in_manifests.is_empty() {
        writeln!(out, "**Not in manifests** (kept; `--prune` deletes them):")?;
        for r in &plan.not_in_manifests {
            writeln!(out, "- {}", code(&r.to_string()))?;
        }
        writeln!(out)?;
    }
    if !plan.memories_left_in_place.is_empty() {
        writeln!(out, "**{}**:", prose(super::LEFT_IN_PLACE))?;
        for left in &plan.memories_left_in_place {
            writeln!(
                out,
                "- {} {}: {}",
                code(&left.seed.to_string()),
                code(&format!("{}.{}", left.scope, left.kind)),
                prose(&left.content)
            )?;
        }
        writeln!(out)?;
    }
    if !plan.not_deleted.is_empty() {
        writeln!(out, "**Not deleted** (kept on purpose; each says why):")?;
        for kept in &plan.not_deleted {
            writeln!(
                out,
                "- {} (hint: {})",
                prose(&kept.reason),
                prose(&kept.hint)
            )?;
        }
        writeln!(out)?;
    }
    for d in &plan.diagnostics {
        let label = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let message = prose(&d.message);
        match &d.hint {
            Some(hint) => writeln!(out, "- **{label}**: {message} (hint: {})", prose(hint))?,
            None => writeln!(out, "- **{label}**: {message}")?,
        }
    }
    if !plan.diagnostics.is_empty() {
        writeln!(out)?;
    }

    if !plan.actions.is_empty() || !plan.drift.is_empty() {
        let mut details = Vec::new();
        super::human::render(plan, &mut details, &HumanOptions::default())?;
        let details = diff_gutter(&String::from_utf8_lossy(&details));
        let fence = "`".repeat(longest_backtick_run(&details).max(2) + 1);
        writeln!(out, "<details><summary>Details</summary>")?;
        writeln!(out)?;
        writeln!(out, "{fence}diff")?;
        write!(out, "{details}")?;
        writeln!(out, "{fence}")?;
        writeln!(out)?;
        writeln!(out, "</details>")?;
    }
    Ok(())
}

/// Moves each line's change symbol to the first column, where a `diff` block colours it
/// (`+` added, `-` removed, `!` for `~` and `-/+`), keeping the text where it was. Only a
/// symbol at a column where the human plan puts one moves: an action's, a field change's, or
/// a line diff's (whose unchanged lines start with a space, so a prompt's own `- item` stays
/// text).
fn diff_gutter(text: &str) -> String {
    use super::human::{ACTION_COLUMN, CHANGE_COLUMN, LINE_DIFF_SHIFT};
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        let moved = if indent == ACTION_COLUMN || indent == CHANGE_COLUMN {
            if body.starts_with("-/+ ") {
                Some(('!', 3, &body[3..]))
            } else {
                match body.as_bytes() {
                    [symbol @ (b'+' | b'-'), b' ', ..] => {
                        Some((char::from(*symbol), 1, &body[1..]))
                    }
                    [b'~', b' ', ..] => Some(('!', 1, &body[1..])),
                    _ => None,
                }
            }
        } else if indent == CHANGE_COLUMN + LINE_DIFF_SHIFT {
            match body.as_bytes() {
                [symbol @ (b'+' | b'-'), ..] => Some((char::from(*symbol), 1, &body[1..])),
                _ => None,
            }
        } else {
            None
        };
        match moved {
            Some((symbol, width, rest)) => {
                out.push(symbol);
                out.push_str(&" ".repeat(indent + width - 1));
                out.push_str(rest);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Text from the plan as Markdown prose (a table cell, a list item) that reads as itself: on
/// one line, control and bidi characters shown escaped, HTML characters as entities, and the
/// characters that make emphasis, links, tables or headings backslash-escaped, so a value can
/// neither close the `<details>` block nor format the comment. Code spans (`` `agent/x` ``, as
/// the planner writes names) stay code: nothing inside one is markup, and it ends on its line.
pub(super) fn prose(text: &str) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest: &str = &text;
    let mut at_start = true;
    while let Some(open) = rest.find('`') {
        markup_escaped(&rest[..open], at_start, &mut out);
        at_start = false;
        let ticks = rest[open..].len() - rest[open..].trim_start_matches('`').len();
        let after = &rest[open + ticks..];
        match closing_run(after, ticks) {
            Some(close) => {
                out.push_str(&rest[open..open + ticks]);
                // GitHub splits table cells at `|` even inside code.
                out.push_str(&after[..close].replace('|', "\\|"));
                out.push_str(&rest[open..open + ticks]);
                rest = &after[close + ticks..];
            }
            None => {
                out.push_str(&"\\`".repeat(ticks));
                rest = after;
            }
        }
    }
    markup_escaped(rest, at_start, &mut out);
    out
}

/// `text` (outside code spans) with HTML and Markdown syntax neutralised, appended to `out`.
fn markup_escaped(text: &str, at_start: bool, out: &mut String) {
    for (i, c) in text.char_indices() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // A heading or list marker where a block starts (this text may open a list item).
            '#' | '-' | '+' if at_start && i == 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// Where the next run of exactly `ticks` backticks starts in `text`: the end of a code span.
fn closing_run(text: &str, ticks: usize) -> Option<usize> {
    let mut at = 0;
    while let Some(found) = text[at..].find('`') {
        let start = at + found;
        let run = text[start..].len() - text[start..].trim_start_matches('`').len();
        if run == ticks {
            return Some(start);
        }
        at = start + run;
    }
    None
}

/// An inline code span holding `text` (on one line, escaped like [`prose`] is), delimited by
/// more backticks than any run inside so that it cannot close early.
fn code(text: &str) -> String {
    let text = visible(text);
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    // A span that starts or ends with a backtick needs a space, which Markdown strips.
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// The fence must be longer than any run of backticks inside (instructions may hold code).
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::diff_gutter;

    #[test]
    fn change_symbols_move_to_the_first_column_and_the_text_stays_put() {
        let human = "Plan: 1 to add\n  + agent/a will be created\n      # why\n      ~ description: \"a\" -> \"b\"\n  -/+ memory_store/s\n          +new line\n          -old line\n           - a prompt's own bullet\n           + and another\n";
        assert_eq!(
            diff_gutter(human),
            "Plan: 1 to add\n+   agent/a will be created\n      # why\n!       description: \"a\" -> \"b\"\n!     memory_store/s\n+          new line\n-          old line\n           - a prompt's own bullet\n           + and another\n"
        );
        for (a, b) in human.lines().zip(diff_gutter(human).lines()) {
            assert_eq!(a.len(), b.len(), "{a:?} / {b:?}");
        }
    }
}
