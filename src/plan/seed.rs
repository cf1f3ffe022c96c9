//! Memory seeds: which declared memories a scope lacks, and (for an `exclusive` seed) which
//! memories it holds that nobody declared.
//!
//! # Expected flow
//! [`plan`] runs after every store has its action. It finds the fate of the seed's store in
//! this plan: created or replaced (and not blocked) means the store will be empty, so every
//! declared memory is written after it; otherwise the declared scopes' live items (read one
//! paged `items:list` per declared scope) are compared with the declared memories.
//!
//! # Guarantees
//! - A declared memory present in its scope (same kind, same content up to whitespace) is
//!   never written again: "apply, then plan shows no changes" holds.
//! - Memories of other scopes are never read or touched; memories of a declared scope that
//!   the seed does not declare are left in place and listed, unless the seed is `exclusive`.
//! - An exclusive seed's deletes lose data, so the action is blocked unless the store is
//!   disposable or the run names the seed with `--allow-delete memory_seed/NAME`.
//! - `destroy` plans nothing for seeds: their memories go with the store (or stay with a store
//!   this set does not delete).
//!
//! # Assumptions
//! Items carry no metadata, so a seed cannot be stamped: whether an undeclared memory was once
//! declared cannot be told from the users' own, and both are simply "not declared here".

use std::collections::BTreeMap;

use serde_json::Value;

use super::build::{Accumulator, action};
use super::types::{
    Action, ActionKind, Blocked, BlockedCause, Diagnostic, DiagnosticCode, FieldChange,
    LeftInPlace, Op, PlanOptions, Precondition, SeedDelete, SeedWrite, Severity,
};
use crate::model::{LiveMemory, LiveState, MemorySeed, ResourceRef, fingerprint};

/// What happens to the seed's store in this plan, as far as its memories go.
enum StoreFate {
    /// Created or replaced before the seed: empty when the seed runs.
    Fresh(ActionKind),
    /// Left as it is (or changed in place): its memories are the live ones.
    Kept,
    /// Deleted by this plan: nothing to seed.
    Deleted,
}

/// Decides what happens to one declared seed and records it in `out`.
pub(super) fn plan(
    out: &mut Accumulator,
    seed: &MemorySeed,
    live: &LiveState,
    disposable_store: bool,
    options: &PlanOptions,
) {
    if options.destroy {
        return;
    }
    let resource = ResourceRef::MemorySeed(seed.name.clone());
    let store_ref = ResourceRef::MemoryStore(seed.store.clone());
    let fate = match out.actions.iter().find(|a| a.resource == store_ref) {
        Some(a)
            if a.blocked.is_none()
                && matches!(a.kind, ActionKind::Create | ActionKind::Replace) =>
        {
            StoreFate::Fresh(a.kind)
        }
        Some(a) if a.kind == ActionKind::Delete => StoreFate::Deleted,
        Some(_) | None => StoreFate::Kept,
    };
    let none = BTreeMap::new();
    let scopes: &BTreeMap<String, Vec<LiveMemory>> = match fate {
        StoreFate::Deleted => return,
        StoreFate::Fresh(_) => &none,
        StoreFate::Kept if !live.stores.contains_key(&seed.store) => {
            out.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                resource: Some(resource),
                store: Some(seed.store.clone()),
                code: Some(DiagnosticCode::UnresolvedStore),
                message: format!(
                    "memory_seed/{} seeds {store_ref}, which the project does not have and \
                     this plan does not create",
                    seed.name
                ),
                hint: Some(format!(
                    "plan {store_ref} in the same run (drop --target, or add it)"
                )),
            });
            return;
        }
        StoreFate::Kept => live.memories.get(&seed.store).unwrap_or(&none),
    };

    let mut create = Vec::new();
    let mut delete = Vec::new();
    let mut changes = Vec::new();
    let empty = Vec::new();
    for (scope, declared) in &seed.scopes {
        let items = scopes.get(scope).unwrap_or(&empty);
        for memory in declared {
            if !items.iter().any(|item| memory.matches(item)) {
                changes.push(FieldChange {
                    path: format!("{scope}.{}", memory.kind),
                    before: None,
                    after: Some(Value::String(memory.content.clone())),
                    before_unreported: false,
                    forces_replacement: false,
                });
                create.push(SeedWrite {
                    scope: scope.clone(),
                    kind: memory.kind.clone(),
                    content: memory.content.clone(),
                });
            }
        }
        for item in items {
            if declared.iter().any(|memory| memory.matches(item)) {
                continue;
            }
            if seed.exclusive {
                changes.push(FieldChange {
                    path: format!("{scope}.{}", item.kind),
                    before: Some(Value::String(item.content.clone())),
                    after: None,
                    before_unreported: false,
                    forces_replacement: false,
                });
                delete.push(SeedDelete {
                    scope: scope.clone(),
                    memory_id: item.id.clone(),
                    kind: item.kind.clone(),
                    content: item.content.clone(),
                });
            } else {
                out.memories_left_in_place.push(LeftInPlace {
                    seed: resource.clone(),
                    scope: scope.clone(),
                    kind: item.kind.clone(),
                    content: item.content.clone(),
                });
            }
        }
    }
    if create.is_empty() && delete.is_empty() {
        return;
    }

    let mut reasons = Vec::new();
    match fate {
        StoreFate::Fresh(ActionKind::Replace) => reasons.push(format!(
            "{store_ref} is replaced by this plan: every declared memory is written again after it"
        )),
        StoreFate::Fresh(_) => reasons.push(format!(
            "{store_ref} is created by this plan: every declared memory is written after it"
        )),
        StoreFate::Kept | StoreFate::Deleted => {}
    }
    if !create.is_empty() && matches!(fate, StoreFate::Kept) {
        reasons.push(format!(
            "{} missing from their scopes",
            count(create.len(), "declared memory is", "declared memories are")
        ));
    }
    if !delete.is_empty() {
        reasons.push(format!(
            "exclusive: {} of the declared scopes, not declared, deleted",
            count(delete.len(), "memory", "memories")
        ));
    }
    let blocked =
        (!delete.is_empty() && !disposable_store && !options.allow_delete.contains(&resource))
            .then(|| blocked_deletes(&resource, &store_ref, &delete));
    let read: BTreeMap<String, Vec<LiveMemory>> = seed
        .scopes
        .keys()
        .filter_map(|scope| Some((scope.clone(), scopes.get(scope)?.clone())))
        .collect();
    let precondition = Precondition::Memories {
        store: seed.store.clone(),
        scopes: seed.scopes.keys().cloned().collect(),
        fingerprint: fingerprint::live_memories(&read),
    };
    let kind = if delete.is_empty() {
        ActionKind::Create
    } else {
        ActionKind::Update
    };
    let op = Op::SeedMemories {
        store: seed.store.clone(),
        create,
        delete,
    };
    out.actions.push(super::types::Action {
        reasons,
        changes,
        blocked,
        ..action(resource, kind, op, precondition)
    });
}

/// Why a seed's deletes are held back, and the flag that lets them go.
fn blocked_deletes(
    resource: &ResourceRef,
    store_ref: &ResourceRef,
    delete: &[SeedDelete],
) -> Blocked {
    Blocked {
        cause: BlockedCause::DeleteMemories,
        reason: "an exclusive seed deletes the memories of its scopes that it does not declare"
            .to_owned(),
        data_loss: format!(
            "{} in {} of {store_ref}",
            count(delete.len(), "memory", "memories"),
            scopes_of(delete)
        ),
        unblock_flag: format!("--allow-delete {resource}"),
    }
}

/// Judges a saved plan's seed action again before it runs, by what its op would delete (the
/// file is not trusted to say): deletes need `--allow-delete memory_seed/NAME` given now, or a
/// store that is stamped disposable now and stays so through the plan (`disposable`), like a
/// store's replace or delete ([`protect`](super::store::protect)). Other actions are left as
/// they are.
pub fn protect_deletes(action: &mut Action, disposable: bool, options: &PlanOptions) {
    let Op::SeedMemories { store, delete, .. } = &action.op else {
        return;
    };
    let allowed = disposable || options.allow_delete.contains(&action.resource);
    let store_ref = ResourceRef::MemoryStore(store.clone());
    action.blocked = (!delete.is_empty() && !allowed)
        .then(|| blocked_deletes(&action.resource, &store_ref, delete));
}

fn scopes_of(deletes: &[SeedDelete]) -> String {
    let mut scopes: Vec<&str> = deletes.iter().map(|d| d.scope.as_str()).collect();
    scopes.dedup();
    let noun = if scopes.len() == 1 { "scope" } else { "scopes" };
    format!("{noun} {}", scopes.join(", "))
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Says why an action that no `--target` names is in a targeted run because of a seed: a
/// targeted seed brings its store, a targeted store its seeds (see `planner::seed_scope`).
pub(super) fn explain_pulled_in(
    actions: &mut [super::types::Action],
    desired: &crate::model::DesiredState,
    targets: &std::collections::BTreeSet<ResourceRef>,
) {
    for action in actions {
        if targets.contains(&action.resource) {
            continue;
        }
        let why: Vec<String> = desired
            .seeds
            .values()
            .filter_map(|seed| {
                let seed_ref = ResourceRef::MemorySeed(seed.name.clone());
                let store_ref = ResourceRef::MemoryStore(seed.store.clone());
                if action.resource == store_ref && targets.contains(&seed_ref) {
                    Some(format!(
                        "included because {seed_ref} (--target) writes into it"
                    ))
                } else if action.resource == seed_ref && targets.contains(&store_ref) {
                    Some(format!("included because it seeds {store_ref} (--target)"))
                } else {
                    None
                }
            })
            .collect();
        action.reasons.extend(why);
    }
}
