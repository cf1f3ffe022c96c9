//! The planner: desired state + live state + options → [`Plan`]. Pure and deterministic: no
//! I/O, clock or environment; maps are `BTreeMap`s and every list is sorted, so the same inputs
//! give a byte-identical plan.
//!
//! # Expected flow
//! 1. Work out the scope (`--target`, widened to the stores targeted agents reference).
//! 2. For every store name, then every agent name, declared or live and in scope: the kind's
//!    module (`store::plan`, `agent::plan`) classifies the live owner, [`decide`](super::decide),
//!    and for `Reconcile` runs the kind's review; it builds the action with its op, stamped
//!    metadata, fingerprint, precondition, reasons, changes and protection.
//! 3. Check the agents' store references (`references.rs`, reading the one index,
//!    [`References`]).
//! 4. Link dependencies, assign levels, sort, count.
//!
//! # Guarantees
//! See [`decide`](super::decide) for ownership. Store replaces and deletes are blocked unless
//! the store is `disposable` or named by `--allow-replace`/`--allow-delete`; a blocked action
//! stays in the plan with its reason, the data it would destroy and the unblocking flag.
//!
//! # Errors
//! Planning always produces a plan. Problems the user must fix (a reference to a store nobody
//! has) are [`Diagnostic`]s of severity error; the command layer refuses to apply such a plan.

use std::collections::BTreeSet;

use super::build::Accumulator;
use super::prepare::{Declared, DeclaredAgent, Prepared, prepare};
use super::types::{Plan, PlanOptions, Summary, TemplateSummary, resource_order};
use super::{agent, order, references, seed, store};
use crate::model::{
    AgentName, DesiredState, LiveState, MemoryStoreName, References, ResourceRef, SetName,
};

/// Plans the changes that make `live` match `desired`.
pub fn plan(desired: &DesiredState, live: &LiveState, options: &PlanOptions) -> Plan {
    plan_prepared(desired, prepare(desired), live, options)
}

/// [`plan`], with the desired-side half already done by [`prepare`]`(desired)`. The plan is
/// the same byte for byte; a resource `prepared` lacks is prepared here.
pub fn plan_prepared(
    desired: &DesiredState,
    prepared: Prepared,
    live: &LiveState,
    options: &PlanOptions,
) -> Plan {
    let refs = References::of(desired, live);
    plan_indexed(desired, prepared, live, &refs, options)
}

/// [`plan_prepared`], with the store references of `desired` against `live` already indexed
/// (`References::of(desired, live)`), for a caller that checked them before planning.
pub fn plan_indexed(
    desired: &DesiredState,
    mut prepared: Prepared,
    live: &LiveState,
    refs: &References,
    options: &PlanOptions,
) -> Plan {
    // A targeted agent pulls in its store so it can be created, a targeted store its seeds;
    // a destroy deletes only what it names (an agent's store is not destroyed with it).
    let scope = if options.destroy {
        options.targets.clone()
    } else {
        references::scope(refs, options.targets.as_ref()).map(|mut scope| {
            scope.extend(seed_scope(desired, &scope));
            scope
        })
    };
    let in_scope = |r: &ResourceRef| scope.as_ref().is_none_or(|s| s.contains(r));
    let mut out = Accumulator::default();

    let store_names: BTreeSet<&MemoryStoreName> =
        desired.stores.keys().chain(live.stores.keys()).collect();
    for name in store_names {
        let resource = ResourceRef::MemoryStore(name.clone());
        if in_scope(&resource) {
            let want = desired.stores.get(name).map(|want| {
                let declared = prepared.stores.remove(name);
                (
                    want,
                    declared.unwrap_or_else(|| Declared::store(&want.spec)),
                )
            });
            store::plan(&mut out, resource, want, live.stores.get(name), options);
        }
    }
    let agent_names: BTreeSet<&AgentName> =
        desired.agents.keys().chain(live.agents.keys()).collect();
    for name in agent_names {
        let resource = ResourceRef::Agent(name.clone());
        if in_scope(&resource) {
            let want = desired.agents.get(name).map(|want| {
                let declared = prepared.agents.remove(name);
                (
                    want,
                    declared.unwrap_or_else(|| DeclaredAgent::new(&want.spec)),
                )
            });
            agent::plan(&mut out, resource, want, live.agents.get(name), options);
        }
    }
    for declared in desired.seeds.values() {
        if in_scope(&ResourceRef::MemorySeed(declared.name.clone())) {
            let disposable = desired
                .stores
                .get(&declared.store)
                .is_some_and(|s| s.disposable);
            seed::plan(&mut out, declared, live, disposable, options);
        }
    }
    if let Some(targets) = options.targets.as_ref() {
        references::explain_pulled_in(&mut out.actions, refs, targets);
        seed::explain_pulled_in(&mut out.actions, desired, targets);
    }
    references::keep_referenced_stores(&mut out, desired, refs, options, &in_scope);
    if !options.destroy {
        references::check(&mut out, refs, &in_scope);
    }

    order::link(&mut out.actions, refs);
    out.drift.sort_by(|a, b| a.resource.cmp(&b.resource));
    out.not_deleted
        .sort_by(|a, b| resource_order(&a.resource).cmp(&resource_order(&b.resource)));
    let summary = Summary::of(&out.actions, out.conflicts.len());
    let templates = TemplateSummary::of(desired, &out.actions);
    Plan {
        set: options.set.clone(),
        prune: options.prune,
        destroy: options.destroy,
        actions: out.actions,
        drift: out.drift,
        conflicts: out.conflicts,
        not_in_manifests: out.not_in_manifests,
        not_deleted: out.not_deleted,
        memories_left_in_place: out.memories_left_in_place,
        diagnostics: out.diagnostics,
        summary,
        templates,
    }
}

/// What `--target`s pull in for seeds: a targeted seed needs its store, as a targeted agent
/// does, and a targeted store brings its seeds (written again when it is replaced).
pub fn seed_scope(
    desired: &DesiredState,
    targets: &BTreeSet<ResourceRef>,
) -> BTreeSet<ResourceRef> {
    let mut extra = BTreeSet::new();
    for seed in desired.seeds.values() {
        let seed_ref = ResourceRef::MemorySeed(seed.name.clone());
        let store_ref = ResourceRef::MemoryStore(seed.store.clone());
        if targets.contains(&seed_ref) && desired.stores.contains_key(&seed.store) {
            extra.insert(store_ref);
        } else if targets.contains(&store_ref) {
            extra.insert(seed_ref);
        }
    }
    extra
}

/// The agents whose live latest version carries no foundryctl stamp and whose history the plan
/// needs: the declared ones always, and on a run that deletes (`--prune`, `destroy`) the
/// undeclared ones too. For these (and only these) the engine fetches the version history, one
/// extra call each, so the planner can tell an agent edited behind foundryctl's back (an
/// earlier version is ours) from a foreign one, and say when such an agent is not deleted.
pub fn agents_needing_history(
    desired: &DesiredState,
    live: &LiveState,
    options: &PlanOptions,
) -> BTreeSet<AgentName> {
    let deleting = options.prune || options.destroy;
    live.agents
        .values()
        .filter(|a| deleting || desired.agents.contains_key(&a.name))
        .filter(|a| a.history.is_none() && !a.ownership().managed)
        .map(|a| a.name.clone())
        .collect()
}

/// The sets other than `set` that the live project has `desired`'s resources under, when it
/// has none of them under `set`: `destroy -f` given another set's manifests (a forgotten
/// `--set`), which would otherwise go on to delete everything `set` owns. Empty when the
/// manifests are `set`'s, or name nothing the project has under any set.
pub fn sets_of_declared_elsewhere(
    desired: &DesiredState,
    live: &LiveState,
    set: &SetName,
) -> BTreeSet<String> {
    let stores = desired
        .stores
        .keys()
        .filter_map(|name| live.stores.get(name).map(|s| s.ownership()));
    let agents = desired
        .agents
        .keys()
        .filter_map(|name| live.agents.get(name).map(|a| a.ownership()));
    let mut others = BTreeSet::new();
    for ownership in stores.chain(agents) {
        if ownership.is_owned_by(set) {
            return BTreeSet::new();
        }
        if let Some(other) = ownership.set.filter(|_| ownership.managed) {
            others.insert(other);
        }
    }
    others
}

/// The `--target`s that name nothing: neither declared nor live. Planning them would silently
/// do nothing, which reads as "no changes" for a typo; the command layer refuses them instead.
pub fn unmatched_targets(
    desired: &DesiredState,
    live: &LiveState,
    targets: &BTreeSet<ResourceRef>,
) -> Vec<ResourceRef> {
    targets
        .iter()
        .filter(|target| match target {
            ResourceRef::MemoryStore(name) => {
                !desired.stores.contains_key(name) && !live.stores.contains_key(name)
            }
            ResourceRef::Agent(name) => {
                !desired.agents.contains_key(name) && !live.agents.contains_key(name)
            }
            // A seed exists only in the manifests.
            ResourceRef::MemorySeed(name) => !desired.seeds.contains_key(name),
        })
        .cloned()
        .collect()
}
