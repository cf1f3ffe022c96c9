//! Renderers: a [`Plan`](crate::plan::Plan) as text for people ([`human`]), JSON for machines
//! ([`json`], documented in docs/plan-json.md) and Markdown for pull-request comments
//! ([`markdown`]); the reports of the memory commands ([`memory`]), of `check` ([`check`]) and
//! of `get memory_seed` ([`seed`]).
//!
//! Pure like the planner: each renderer writes into an `impl io::Write` and takes colour and
//! width as parameters; deciding them (TTY, `NO_COLOR`, `--color`) is the command layer's job.

pub mod check;
pub mod escape;
pub mod human;
pub mod json;
pub mod markdown;
pub mod memory;
pub mod seed;

use serde_json::Value;

use crate::model::ResourceKind;
use crate::plan::{Action, ActionKind, Summary};

/// How the human renderer may format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanOptions {
    /// Emit ANSI colour. Off, the output reads the same (symbols carry the meaning).
    pub color: bool,
    /// Terminal width, for rules between sections; 0 means unknown (80 is used).
    pub width: usize,
}

impl Default for HumanOptions {
    fn default() -> Self {
        Self {
            color: false,
            width: 80,
        }
    }
}

/// Rows as aligned columns, two spaces apart, the last column left ragged and no trailing
/// spaces: the tables of `get`. Widths count characters.
pub fn columns<const N: usize>(rows: &[[String; N]]) -> String {
    let widths: Vec<usize> = (0..N.saturating_sub(1))
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if let Some(width) = widths.get(c) {
                let pad = width - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// `Plan: 1 to add, 2 to change, 1 to replace, 0 to destroy (1 blocked).`
pub fn summary_line(s: &Summary) -> String {
    let mut line = format!(
        "Plan: {} to add, {} to change, {} to replace, {} to destroy",
        s.to_add, s.to_change, s.to_replace, s.to_destroy
    );
    if s.to_import > 0 {
        line.push_str(&format!(", {} to import", s.to_import));
    }
    let mut notes = Vec::new();
    if s.blocked > 0 {
        notes.push(format!("{} blocked", s.blocked));
    }
    if s.conflicts > 0 {
        notes.push(plural(s.conflicts, "conflict", "conflicts"));
    }
    if !notes.is_empty() {
        line.push_str(&format!(" ({})", notes.join(", ")));
    }
    line.push('.');
    line
}

/// One line per `for_each` template: `for_each FILE:LINE: N copies; Plan: …`.
pub fn template_lines(plan: &crate::plan::Plan) -> Vec<String> {
    plan.templates
        .iter()
        .map(|t| {
            let copies = plural(t.copies, "copy", "copies");
            let line = summary_line(&t.summary);
            let counts = line.strip_prefix("Plan: ").unwrap_or(&line);
            format!("for_each {}: {copies}; {counts}", t.template)
        })
        .collect()
}

/// The heading of a plan's memories of seeded scopes that no seed declares.
pub const LEFT_IN_PLACE: &str = "Memories in seeded scopes that the seed does not declare \
     (no longer declared, or the users' own), left in place; `exclusive: true` would delete them";

/// What happens to the resource, as a phrase after its `KIND/NAME`.
pub fn phrase(action: &Action) -> &'static str {
    match (action.kind, action.resource.kind()) {
        (ActionKind::Create, ResourceKind::MemorySeed) => "will write the missing memories",
        (ActionKind::Update, ResourceKind::MemorySeed) => {
            "will make its scopes hold exactly the declared memories"
        }
        (ActionKind::Create, _) => "will be created",
        (ActionKind::Update, ResourceKind::MemoryStore) => "will be updated in place",
        (ActionKind::Update, ResourceKind::Agent) => "will get a new version",
        (ActionKind::Replace, _) => "must be replaced (delete, then create)",
        (ActionKind::Delete, ResourceKind::MemoryStore) => "will be deleted",
        (ActionKind::Delete, ResourceKind::Agent) => "will be deleted with all its versions",
        // Never planned: a seed is dropped from the manifests, never deleted.
        (ActionKind::Delete, ResourceKind::MemorySeed) => "will be deleted",
        (ActionKind::Import, _) => "will be imported (stamped as managed by foundryctl)",
    }
}

/// A value on one line, written straight into `out`: strings quoted, everything else as
/// compact JSON.
pub fn write_inline(
    out: &mut (impl std::io::Write + ?Sized),
    value: &Value,
) -> std::io::Result<()> {
    crate::model::fingerprint::write_canonical_json(out, value)
}

/// The two sides of a change that is best shown as a line diff: a string on at least one side
/// with several lines, and no non-string on either side. `None` for an absent side.
pub fn multiline<'a>(
    before: Option<&'a Value>,
    after: Option<&'a Value>,
) -> Option<(Option<&'a str>, Option<&'a str>)> {
    let text = |v: Option<&'a Value>| match v {
        None => Some(None),
        Some(Value::String(s)) => Some(Some(s.as_str())),
        Some(_) => None,
    };
    let (b, a) = (text(before)?, text(after)?);
    let is_multi = |s: Option<&str>| s.is_some_and(|s| s.contains('\n'));
    (is_multi(b) || is_multi(a)).then_some((b, a))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests;
