//! The planner's rules about store references, all read from the one index
//! ([`References`]): which stores a `--target` pulls in (and why), which deletes a plan must
//! not make while an agent that stays still uses the store, and which references a plan
//! would leave dangling.

use std::collections::{BTreeMap, BTreeSet};

use super::build::Accumulator;
use super::types::{Action, Diagnostic, DiagnosticCode, NotDeleted, Op, PlanOptions, Severity};
use crate::model::{AgentName, DesiredState, MemoryStoreName, References, ResourceRef};

/// `--target` plus the declared stores the targeted agents reference; `None` when not
/// targeting.
pub(super) fn scope(
    refs: &References,
    targets: Option<&BTreeSet<ResourceRef>>,
) -> Option<BTreeSet<ResourceRef>> {
    let targets = targets?;
    let mut scope = targets.clone();
    for target in targets {
        if let ResourceRef::Agent(name) = target {
            scope.extend(
                refs.declared_stores_of(name)
                    .iter()
                    .filter(|s| refs.is_declared(s))
                    .map(|s| ResourceRef::MemoryStore(s.clone())),
            );
        }
    }
    Some(scope)
}

/// Says why an action that no `--target` names is in a targeted run: a targeted agent uses its
/// store (see [`scope`]), so the store must exist, as declared, before the agent.
pub(super) fn explain_pulled_in(
    actions: &mut [Action],
    refs: &References,
    targets: &BTreeSet<ResourceRef>,
) {
    for action in actions {
        let ResourceRef::MemoryStore(store) = &action.resource else {
            continue;
        };
        if targets.contains(&action.resource) {
            continue;
        }
        let users: Vec<String> = targets
            .iter()
            .filter(|t| match t {
                ResourceRef::Agent(name) => refs.declared_stores_of(name).contains(store),
                ResourceRef::MemoryStore(_) | ResourceRef::MemorySeed(_) => false,
            })
            .map(ToString::to_string)
            .collect();
        if !users.is_empty() {
            action.reasons.push(format!(
                "included because {} (--target) uses it",
                users.join(", ")
            ));
        }
    }
}

/// The agents this plan deletes or gives a new version: their old references end with the
/// plan (the order puts them before the store's delete).
fn acted_on(actions: &[Action]) -> BTreeSet<&AgentName> {
    actions
        .iter()
        .filter_map(|a| match &a.op {
            Op::DeleteAgent { name } | Op::CreateAgentVersion { name, .. } => Some(name),
            Op::StampAgent { .. }
            | Op::CreateStore { .. }
            | Op::UpdateStore { .. }
            | Op::ReplaceStore { .. }
            | Op::DeleteStore { .. }
            | Op::StampStore { .. }
            | Op::SeedMemories { .. } => None,
        })
        .collect()
}

/// A store this run would delete while an agent that stays (one kept as edited outside
/// foundryctl, someone else's, or outside `--target`) still references it: deleting it would
/// leave that agent pointing at a store that no longer exists, breaking an agent that is not
/// this run's to change. So the delete is taken out of the plan and the store is listed as not
/// deleted, naming the agents and the way out; it goes on a later run once they let go of it.
/// Declared agents whose manifest names the store are left to [`check`], which reports the
/// contradiction as an error.
pub(super) fn keep_referenced_stores(
    out: &mut Accumulator,
    desired: &DesiredState,
    refs: &References,
    options: &PlanOptions,
    in_scope: &dyn Fn(&ResourceRef) -> bool,
) {
    let acted: BTreeSet<AgentName> = acted_on(&out.actions).into_iter().cloned().collect();
    let users_of = |store: &MemoryStoreName| -> Vec<ResourceRef> {
        refs.live_users_of(store)
            .iter()
            .filter(|agent| !acted.contains(*agent))
            .filter(|agent| {
                let resource = ResourceRef::Agent((*agent).clone());
                let declared_here =
                    desired.agents.contains_key(*agent) && !options.destroy && in_scope(&resource);
                // A declared agent whose manifest still names the store is `check`'s to report.
                !(declared_here && refs.declared_stores_of(agent).contains(store))
            })
            .map(|agent| ResourceRef::Agent(agent.clone()))
            .collect()
    };
    let mut kept = Vec::new();
    out.actions.retain(|a| {
        let Some(name) = a.op.deleted_store() else {
            return true;
        };
        let agents = users_of(name);
        if agents.is_empty() {
            true
        } else {
            // The agents a narrowed run leaves out (the others are in it, and kept for reasons
            // of their own, which the plan lists beside this).
            let outside: Vec<ResourceRef> = agents
                .iter()
                .filter(|agent| options.targets.is_some() && !in_scope(agent))
                .cloned()
                .collect();
            kept.push(store_kept_for(a.resource.clone(), &agents, &outside));
            false
        }
    });
    out.not_deleted.extend(kept);
}

/// Why a store is kept for the agents that still use it, and how to let it go. In a run narrowed
/// with `--target`, some may simply be outside it (`outside`): naming them is the first way out.
fn store_kept_for(
    resource: ResourceRef,
    agents: &[ResourceRef],
    outside: &[ResourceRef],
) -> NotDeleted {
    let names = agents
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let (verb, them) = if agents.len() == 1 {
        ("references", "that agent")
    } else {
        ("reference", "those agents")
    };
    NotDeleted {
        reason: format!(
            "{resource} is not deleted: {names}, which this run does not delete, still {verb} \
             it, and would be left pointing at a deleted store"
        ),
        hint: if !outside.is_empty() {
            let flags = outside
                .iter()
                .map(|a| format!("--target {a}"))
                .collect::<Vec<_>>()
                .join(" ");
            let those = if outside.len() == 1 {
                "that agent"
            } else {
                "those agents"
            };
            format!(
                "add `{flags}` to include {those} in this run, if this set owns {those}; \
                 otherwise remove the memory tool from {them}, or get {them} deleted first (in \
                 the portal, or by foundryctl once the latest version is foundryctl's again)"
            )
        } else {
            format!(
                "remove the memory tool from {them}, or get {them} deleted first (in the portal, \
                 or by foundryctl once its latest version is foundryctl's again); `{resource}` \
                 is then deleted like the rest"
            )
        },
        resource,
    }
}

/// Every memory tool must name a store that will exist after apply: declared, or live and not
/// deleted by this plan. Each problem is a diagnostic carrying the agent and the store, so a
/// command can point at the tool's file:line:column.
pub(super) fn check(
    out: &mut Accumulator,
    refs: &References,
    in_scope: &dyn Fn(&ResourceRef) -> bool,
) {
    let deleted: BTreeSet<&MemoryStoreName> = out
        .actions
        .iter()
        .filter_map(|a| a.op.deleted_store())
        .collect();
    let mut problems: BTreeMap<(AgentName, MemoryStoreName), Diagnostic> = BTreeMap::new();
    for reference in refs.undeclared() {
        let resource = ResourceRef::Agent(reference.agent.clone());
        if !in_scope(&resource) {
            continue;
        }
        let store = &reference.store;
        let (code, message, hint) = if !refs.is_live(store) {
            (
                DiagnosticCode::UnresolvedStore,
                format!(
                    "{resource} references memory store `{store}`, which neither the manifests \
                     nor the project have"
                ),
                format!("declare a MemoryStore named `{store}`, or fix memory_store_name"),
            )
        } else if deleted.contains(store) {
            (
                DiagnosticCode::StoreDeletedUnderAgent,
                format!("{resource} references memory store `{store}`, which this plan deletes"),
                format!("keep `{store}` declared, or remove the memory tool from {resource}"),
            )
        } else {
            continue;
        };
        problems.insert(
            (reference.agent.clone(), store.clone()),
            Diagnostic {
                severity: Severity::Error,
                resource: Some(resource),
                store: Some(store.clone()),
                code: Some(code),
                message,
                hint: Some(hint),
            },
        );
    }
    out.diagnostics.extend(problems.into_values());
}
