//! `--output json`: a versioned, documented view of the plan (docs/plan-json.md).
//!
//! This is deliberately not the saved-plan serialisation: machines consuming plan output need a
//! stable contract (reasons, changed paths, protection), not the executor's request bodies.
//! Adding a field is compatible; renaming or removing one bumps [`FORMAT_VERSION`].

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::plan::{Action, FieldChange, MaskedChange, Plan, Severity, masked};

/// The version of the JSON plan format.
pub const FORMAT_VERSION: u32 = 1;

/// The JSON document for a plan.
pub fn to_value(plan: &Plan) -> Value {
    let mut document = document(plan);
    // Only plans of `for_each` manifests have templates; other documents stay as they were.
    if !plan.templates.is_empty()
        && let Value::Object(map) = &mut document
    {
        map.insert(
            "templates".to_owned(),
            plan.templates
                .iter()
                .map(|t| {
                    json!({
                        "template": t.template,
                        "copies": t.copies,
                        "to_add": t.summary.to_add,
                        "to_change": t.summary.to_change,
                        "to_replace": t.summary.to_replace,
                        "to_destroy": t.summary.to_destroy,
                        "to_import": t.summary.to_import,
                        "blocked": t.summary.blocked,
                    })
                })
                .collect(),
        );
    }
    // Only plans with seeds can have memories left in place.
    if !plan.memories_left_in_place.is_empty()
        && let Value::Object(map) = &mut document
    {
        map.insert(
            "memories_left_in_place".to_owned(),
            plan.memories_left_in_place
                .iter()
                .map(|m| {
                    json!({
                        "seed": m.seed.to_string(),
                        "scope": m.scope,
                        "kind": m.kind,
                        "content": m.content,
                    })
                })
                .collect(),
        );
    }
    document
}

/// How many actions the manifests ask for: every action except those that only restore a
/// resource someone edited behind foundryctl's back (a resource in `drift`). A pipeline tells
/// "someone edited the project" (`drift` > 0) from "changes pending" (`requested` > 0) by
/// these two numbers.
fn requested(plan: &Plan) -> usize {
    plan.actions
        .iter()
        .filter(|a| !plan.drift.iter().any(|d| d.resource == a.resource))
        .count()
}

fn document(plan: &Plan) -> Value {
    json!({
        "format_version": FORMAT_VERSION,
        "set": plan.set.as_str(),
        "prune": plan.prune,
        "destroy": plan.destroy,
        "has_changes": plan.has_changes(),
        "blocked": plan.is_blocked(),
        "summary": {
            "to_add": plan.summary.to_add,
            "to_change": plan.summary.to_change,
            "to_replace": plan.summary.to_replace,
            "to_destroy": plan.summary.to_destroy,
            "to_import": plan.summary.to_import,
            "blocked": plan.summary.blocked,
            "conflicts": plan.summary.conflicts,
            "drift": plan.drift.len(),
            "requested": requested(plan),
        },
        "actions": plan.actions.iter().map(action).collect::<Vec<_>>(),
        "drift": plan.drift.iter().map(|d| json!({
            "resource": d.resource.to_string(),
            "description": d.description,
            "changes": d.changes.iter().map(change).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "conflicts": plan.conflicts.iter().map(|c| json!({
            "resource": c.resource.to_string(),
            "kind": c.kind,
            "reason": c.reason,
            "hint": c.hint,
        })).collect::<Vec<_>>(),
        "not_in_manifests": plan.not_in_manifests.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "not_deleted": plan.not_deleted.iter().map(|n| json!({
            "resource": n.resource.to_string(),
            "reason": n.reason,
            "hint": n.hint,
        })).collect::<Vec<_>>(),
        "diagnostics": plan.diagnostics.iter().map(|d| json!({
            "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
            "resource": d.resource.as_ref().map(ToString::to_string),
            "store": d.store.as_ref().map(ToString::to_string),
            "code": d.code,
            "message": d.message,
            "hint": d.hint,
        })).collect::<Vec<_>>(),
    })
}

/// Writes the document, pretty-printed, with a trailing newline.
pub fn render(plan: &Plan, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(plan))?;
    writeln!(out)
}

fn action(a: &Action) -> Value {
    json!({
        "id": a.id,
        "resource": a.resource.to_string(),
        "kind": a.resource.kind().as_str(),
        "name": a.resource.name(),
        "action": a.kind.name(),
        "level": a.level,
        "depends_on": a.depends_on,
        "fingerprint": a.fingerprint,
        "reasons": a.reasons,
        "changes": a.changes.iter().map(change).collect::<Vec<_>>(),
        "blocked": a.blocked.as_ref().map(|b| json!({
            "cause": b.cause,
            "reason": b.reason,
            "data_loss": b.data_loss,
            "unblock_flag": b.unblock_flag,
        })),
        "data_loss": a.data_loss.as_ref().map(|d| json!({
            "what": d.what,
            "allowed_by": d.allowed_by,
        })),
    })
}

/// A change with its credential-like values masked (docs/plan-json.md, "Masked values").
fn change(c: &FieldChange) -> Value {
    let MaskedChange {
        change: c,
        sensitive,
    } = masked(c);
    json!({
        "path": c.path,
        "before": c.before,
        "after": c.after,
        "before_unreported": c.before_unreported,
        "forces_replacement": c.forces_replacement,
        "sensitive": sensitive,
    })
}
