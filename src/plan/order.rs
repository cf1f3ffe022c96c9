//! Dependencies between actions, and the levels the executor may run in parallel.
//!
//! The edges come from the memory search tool's `memory_store_name`:
//! - a store must exist before an agent version that references it is created, so an agent's
//!   `CreateAgentVersion` depends on the `CreateStore`/`ReplaceStore` of every store its
//!   declared tools name;
//! - a store must outlive the agents that reference it, so a `DeleteStore` depends on the
//!   `DeleteAgent` or new version of every agent whose live latest version names it.
//!
//! - a seed writes into its store, so its `SeedMemories` depends on the store's
//!   `CreateStore`/`ReplaceStore`.
//!
//! Stores never depend on stores, and agents and seeds depend only on store creates and
//! replaces, which never depend on anything, so the graph is acyclic with at most three levels.

use std::collections::BTreeMap;

use super::types::{Action, ActionId, ActionKind, Op};
use crate::model::{MemoryStoreName, References};

/// Fills `depends_on` and `level`, then sorts the actions into execution order. The edges come
/// from `refs`: what each declared agent will reference, and what each live agent references
/// now.
pub fn link(actions: &mut [Action], refs: &References) {
    let store_actions: BTreeMap<MemoryStoreName, (ActionId, ActionKind)> = actions
        .iter()
        .filter_map(|a| match &a.op {
            Op::CreateStore { name, .. }
            | Op::ReplaceStore { name, .. }
            | Op::UpdateStore { name, .. }
            | Op::DeleteStore { name }
            | Op::StampStore { name, .. } => Some((name.clone(), (a.id.clone(), a.kind))),
            Op::CreateAgentVersion { .. }
            | Op::DeleteAgent { .. }
            | Op::StampAgent { .. }
            | Op::SeedMemories { .. } => None,
        })
        .collect();

    let mut must_precede_delete: BTreeMap<MemoryStoreName, Vec<ActionId>> = BTreeMap::new();
    for action in actions.iter_mut() {
        // A new version's references are the declared ones (its spec is the declared spec); a
        // delete makes none.
        let (name, creates) = match &action.op {
            // A seed writes into its store: after the store is created or replaced.
            Op::SeedMemories { store, .. } => {
                if let Some((id, ActionKind::Create | ActionKind::Replace)) =
                    store_actions.get(store)
                {
                    action.depends_on.push(id.clone());
                }
                continue;
            }
            Op::CreateAgentVersion { name, .. } => (name, true),
            Op::DeleteAgent { name } => (name, false),
            // A stamp changes no definition, so no reference starts or ends with it.
            Op::StampAgent { .. }
            | Op::CreateStore { .. }
            | Op::UpdateStore { .. }
            | Op::ReplaceStore { .. }
            | Op::DeleteStore { .. }
            | Op::StampStore { .. } => continue,
        };
        let new_refs = creates
            .then(|| refs.declared_stores_of(name))
            .into_iter()
            .flatten();
        for store in new_refs {
            if let Some((id, ActionKind::Create | ActionKind::Replace)) = store_actions.get(store) {
                action.depends_on.push(id.clone());
            }
        }
        for store in refs.live_stores_of(name) {
            must_precede_delete
                .entry(store.clone())
                .or_default()
                .push(action.id.clone());
        }
    }
    for action in actions.iter_mut() {
        if let Some(name) = action.op.deleted_store()
            && let Some(agents) = must_precede_delete.get(name)
        {
            action.depends_on.extend(agents.iter().cloned());
        }
    }
    for action in actions.iter_mut() {
        action.depends_on.sort();
        action.depends_on.dedup();
    }
    assign_levels(actions);
    actions.sort_by(|a, b| {
        (a.level, super::types::resource_order(&a.resource))
            .cmp(&(b.level, super::types::resource_order(&b.resource)))
    });
}

/// Level 0 for actions without dependencies, else one more than the deepest dependency. Passes
/// are bounded by the number of actions, so even a (never built) cycle cannot loop forever.
fn assign_levels(actions: &mut [Action]) {
    let mut levels: BTreeMap<ActionId, u32> = actions.iter().map(|a| (a.id.clone(), 0)).collect();
    for _ in 0..actions.len() {
        let mut changed = false;
        for action in actions.iter() {
            let level = action
                .depends_on
                .iter()
                .filter_map(|d| levels.get(d))
                .map(|l| l + 1)
                .max()
                .unwrap_or(0);
            if levels.get(&action.id) != Some(&level) {
                levels.insert(action.id.clone(), level);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for action in actions {
        action.level = levels.get(&action.id).copied().unwrap_or(0);
    }
}
