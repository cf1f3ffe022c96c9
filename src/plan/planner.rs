//! The planner: desired state + live state + options → [`Plan`]. Pure and deterministic: no
//! I/O, clock or environment; maps are `BTreeMap`s and every list is sorted, so the same inputs
//! give a byte-identical plan.
//!
//! # Expected flow
//! 1. Work out the scope (`--target`, widened to the stores targeted agents reference).
//! 2. For every store name, then every agent name, declared or live and in scope: classify the
//!    live owner, [`decide`], and for `Reconcile` run the kind's review; build the action with
//!    its op, stamped metadata, fingerprint, precondition, reasons, changes and protection.
//! 3. Check the agents' store references.
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

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::decide::{ConflictKind, Decision, Facts, Owner, decide};
use super::diff::additions;
use super::types::{
    Action, ActionKind, Blocked, Conflict, Diagnostic, NotDeleted, Op, Plan, PlanOptions,
    Precondition, Severity, Summary, TemplateSummary, action_id, resource_order,
};
use super::{agent, order, store};
use crate::model::{
    AgentName, DesiredState, LiveAgent, LiveMemoryStore, LiveState, MemoryStoreName, Ownership,
    ResourceKind, ResourceRef, SetName, fingerprint, normalize, stamped_metadata,
};

/// Plans the changes that make `live` match `desired`.
pub fn plan(desired: &DesiredState, live: &LiveState, options: &PlanOptions) -> Plan {
    plan_prepared(desired, prepare(desired), live, options)
}

/// The half of planning that depends on the manifests alone: every declared resource's normal
/// form and fingerprint, which is most of the work for a large project. The commands compute it
/// while the live state is being read (it needs nothing from the service), then call
/// [`plan_prepared`]; [`plan`] does both in turn.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    stores: BTreeMap<MemoryStoreName, Declared>,
    agents: BTreeMap<AgentName, Declared>,
}

/// A declared resource's normal form, and its fingerprint: the stamp it is applied with.
#[derive(Debug, Clone)]
pub(super) struct Declared {
    pub normal: Value,
    pub fingerprint: String,
}

impl Declared {
    fn store(spec: &crate::model::MemoryStoreSpec) -> Self {
        let normal = normalize::desired_store(spec);
        let fingerprint = fingerprint::of_normalized(ResourceKind::MemoryStore, &normal);
        Self {
            normal,
            fingerprint,
        }
    }

    fn agent(spec: &crate::model::AgentSpec) -> Self {
        let normal = normalize::agent(spec);
        let fingerprint = fingerprint::of_normalized(ResourceKind::Agent, &normal);
        Self {
            normal,
            fingerprint,
        }
    }
}

/// Normalises and fingerprints every declared resource (see [`Prepared`]). Pure, like
/// [`plan`].
pub fn prepare(desired: &DesiredState) -> Prepared {
    Prepared {
        stores: desired
            .stores
            .iter()
            .map(|(name, store)| (name.clone(), Declared::store(&store.spec)))
            .collect(),
        agents: desired
            .agents
            .iter()
            .map(|(name, agent)| (name.clone(), Declared::agent(&agent.spec)))
            .collect(),
    }
}

/// [`plan`], with the desired-side half already done by [`prepare`]`(desired)`. The plan is
/// the same byte for byte; a resource `prepared` lacks is prepared here.
pub fn plan_prepared(
    desired: &DesiredState,
    mut prepared: Prepared,
    live: &LiveState,
    options: &PlanOptions,
) -> Plan {
    let scope = scope(desired, options.targets.as_ref());
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
            plan_store(&mut out, resource, want, live.stores.get(name), options);
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
                    declared.unwrap_or_else(|| Declared::agent(&want.spec)),
                )
            });
            plan_agent(&mut out, resource, want, live.agents.get(name), options);
        }
    }
    if let Some(targets) = options.targets.as_ref() {
        explain_pulled_in(&mut out.actions, desired, targets);
    }
    keep_referenced_stores(&mut out, desired, live, options, &in_scope);
    if !options.destroy {
        check_references(&mut out, desired, live, &in_scope);
    }

    order::link(&mut out.actions, live);
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
        diagnostics: out.diagnostics,
        summary,
        templates,
    }
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
        })
        .cloned()
        .collect()
}

#[derive(Default)]
struct Accumulator {
    actions: Vec<Action>,
    drift: Vec<super::types::Drift>,
    conflicts: Vec<Conflict>,
    not_in_manifests: Vec<ResourceRef>,
    not_deleted: Vec<NotDeleted>,
    diagnostics: Vec<Diagnostic>,
}

/// `--target` plus the stores the targeted agents reference; `None` when not targeting.
fn scope(
    desired: &DesiredState,
    targets: Option<&BTreeSet<ResourceRef>>,
) -> Option<BTreeSet<ResourceRef>> {
    let targets = targets?;
    let mut scope = targets.clone();
    for target in targets {
        if let ResourceRef::Agent(name) = target
            && let Some(agent) = desired.agents.get(name)
        {
            scope.extend(
                agent
                    .spec
                    .referenced_stores()
                    .filter(|s| desired.stores.contains_key(*s))
                    .map(|s| ResourceRef::MemoryStore(s.clone())),
            );
        }
    }
    Some(scope)
}

/// Says why an action that no `--target` names is in a targeted run: a targeted agent uses its
/// store (see [`scope`]), so the store must exist, as declared, before the agent.
fn explain_pulled_in(
    actions: &mut [Action],
    desired: &DesiredState,
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
                ResourceRef::Agent(name) => desired
                    .agents
                    .get(name)
                    .is_some_and(|a| a.spec.referenced_stores().any(|s| s == store)),
                ResourceRef::MemoryStore(_) => false,
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

fn store_owner(live: Option<&LiveMemoryStore>, set: &SetName) -> Owner {
    match live.map(LiveMemoryStore::ownership) {
        None => Owner::Absent,
        Some(o) => owner_of(&o, set),
    }
}

fn agent_owner(live: Option<&LiveAgent>, set: &SetName) -> Owner {
    let Some(agent) = live else {
        return Owner::Absent;
    };
    let latest = agent.ownership();
    if !latest.managed
        && agent
            .history
            .iter()
            .flatten()
            .any(|v| Ownership::from_metadata(&v.metadata).is_owned_by(set))
    {
        return Owner::OursBeforeEdit;
    }
    owner_of(&latest, set)
}

fn owner_of(ownership: &Ownership, set: &SetName) -> Owner {
    if ownership.is_owned_by(set) {
        Owner::Ours
    } else if ownership.managed {
        Owner::OtherSet
    } else {
        Owner::Unmanaged
    }
}

fn plan_store(
    out: &mut Accumulator,
    resource: ResourceRef,
    want: Option<(&crate::model::MemoryStore, Declared)>,
    have: Option<&LiveMemoryStore>,
    options: &PlanOptions,
) {
    let facts = Facts {
        declared: want.is_some(),
        owner: store_owner(have, &options.set),
        prune: options.prune,
        destroy: options.destroy,
    };
    let disposable = want.as_ref().is_some_and(|(w, _)| w.disposable);
    let precondition = Precondition::for_store(have);
    match (decide(facts), want, have) {
        (Decision::Create, Some((want, declared)), _) => {
            let op = Op::CreateStore {
                name: want.name.clone(),
                spec: want.spec.clone(),
                metadata: stamped_metadata(&want.spec.labels, &options.set, &declared.fingerprint),
            };
            out.actions
                .push(create(resource, op, declared, precondition));
        }
        (Decision::Reconcile, Some((want, declared)), Some(have)) => {
            let review = store::review(want, &declared, have);
            out.drift.extend(review.drift);
            out.diagnostics.extend(review.diagnostics);
            let fp = declared.fingerprint;
            let metadata = stamped_metadata(&want.spec.labels, &options.set, &fp);
            let (kind, op, blocked) = match review.verdict {
                store::Verdict::NoOp => return,
                store::Verdict::Update => (
                    ActionKind::Update,
                    Op::UpdateStore {
                        name: want.name.clone(),
                        description: want.spec.description.clone(),
                        metadata,
                    },
                    None,
                ),
                store::Verdict::Replace => {
                    let allowed = disposable || options.allow_replace.contains(&resource);
                    (
                        ActionKind::Replace,
                        Op::ReplaceStore {
                            name: want.name.clone(),
                            spec: want.spec.clone(),
                            metadata,
                        },
                        (!allowed).then(|| blocked(&resource, "replacing", "--allow-replace")),
                    )
                }
            };
            out.actions.push(Action {
                fingerprint: Some(fp),
                reasons: review.reasons,
                changes: review.changes,
                blocked,
                ..action(resource, kind, op, precondition)
            });
        }
        (Decision::Delete, _, Some(have)) => {
            let allowed = disposable || options.allow_delete.contains(&resource);
            let op = Op::DeleteStore {
                name: have.name.clone(),
            };
            out.actions.push(Action {
                reasons: vec![delete_reason(options)],
                blocked: (!allowed).then(|| blocked(&resource, "deleting", "--allow-delete")),
                ..action(resource, ActionKind::Delete, op, precondition)
            });
        }
        (Decision::NotInManifests, _, _) => out.not_in_manifests.push(resource),
        (Decision::Conflict(kind), _, _) => out.conflicts.push(conflict(
            resource,
            kind,
            have.map(LiveMemoryStore::ownership),
        )),
        // Create without a declaration, reconcile or delete without a live store: `decide`
        // never returns these (Create needs `declared`, Reconcile and Delete need an owner).
        // Stores have no versions, so never `NotDeleted`.
        (
            Decision::Create
            | Decision::Reconcile
            | Decision::Delete
            | Decision::NotDeleted
            | Decision::Ignore,
            _,
            _,
        ) => {}
    }
}

fn plan_agent(
    out: &mut Accumulator,
    resource: ResourceRef,
    want: Option<(&crate::model::Agent, Declared)>,
    have: Option<&LiveAgent>,
    options: &PlanOptions,
) {
    let facts = Facts {
        declared: want.is_some(),
        owner: agent_owner(have, &options.set),
        prune: options.prune,
        destroy: options.destroy,
    };
    let precondition = Precondition::for_agent(have);
    match (decide(facts), want, have) {
        (Decision::Create, Some((want, declared)), _) => {
            let op = Op::CreateAgentVersion {
                name: want.name.clone(),
                spec: want.spec.clone(),
                metadata: stamped_metadata(&want.spec.labels, &options.set, &declared.fingerprint),
            };
            out.actions
                .push(create(resource, op, declared, precondition));
        }
        (Decision::Reconcile, Some((want, declared)), Some(have)) => {
            let review = agent::review(want, &declared, have, &options.set);
            out.drift.extend(review.drift);
            if !review.new_version {
                return;
            }
            let fp = declared.fingerprint;
            let op = Op::CreateAgentVersion {
                name: want.name.clone(),
                spec: want.spec.clone(),
                metadata: stamped_metadata(&want.spec.labels, &options.set, &fp),
            };
            out.actions.push(Action {
                fingerprint: Some(fp),
                reasons: review.reasons,
                changes: review.changes,
                ..action(resource, ActionKind::Update, op, precondition)
            });
        }
        (Decision::Delete, _, Some(have)) => {
            let op = Op::DeleteAgent {
                name: have.name.clone(),
            };
            out.actions.push(Action {
                reasons: vec![format!(
                    "{}; every version is deleted",
                    delete_reason(options)
                )],
                ..action(resource, ActionKind::Delete, op, precondition)
            });
        }
        (Decision::NotInManifests, _, _) => out.not_in_manifests.push(resource),
        (Decision::NotDeleted, _, Some(have)) => {
            out.not_deleted
                .push(not_deleted(resource, have, &options.set));
        }
        (Decision::Conflict(kind), _, _) => {
            out.conflicts
                .push(conflict(resource, kind, have.map(LiveAgent::ownership)));
        }
        (
            Decision::Create
            | Decision::Reconcile
            | Decision::Delete
            | Decision::NotDeleted
            | Decision::Ignore,
            _,
            _,
        ) => {}
    }
}

/// A create of either kind: stamped with the declared spec's fingerprint, and listing every
/// declared field of its normal form as a change from nothing.
fn create(resource: ResourceRef, op: Op, declared: Declared, precondition: Precondition) -> Action {
    Action {
        fingerprint: Some(declared.fingerprint),
        reasons: vec!["declared in the manifests and absent from the project".to_owned()],
        changes: additions(declared.normal),
        ..action(resource, ActionKind::Create, op, precondition)
    }
}

/// An action with the fields every constructor shares; the rest is filled at the call site.
fn action(resource: ResourceRef, kind: ActionKind, op: Op, precondition: Precondition) -> Action {
    Action {
        id: action_id(&resource),
        resource,
        kind,
        op,
        fingerprint: None,
        precondition,
        reasons: Vec::new(),
        changes: Vec::new(),
        depends_on: Vec::new(),
        level: 0,
        blocked: None,
    }
}

/// Why an agent this set once owned is kept by a deleting run: its latest version is not ours,
/// and foundryctl deletes only what carries its stamp.
fn not_deleted(resource: ResourceRef, have: &LiveAgent, set: &SetName) -> NotDeleted {
    let ours = have
        .history
        .iter()
        .flatten()
        .find(|v| Ownership::from_metadata(&v.metadata).is_owned_by(set))
        .map_or_else(String::new, |v| {
            format!(" (the last version foundryctl applied is {})", v.version)
        });
    NotDeleted {
        reason: format!(
            "{resource} is not deleted: its latest version ({}) was made outside foundryctl{ours}",
            have.latest.version
        ),
        hint: format!(
            "delete it in the portal if it should go, or declare it and apply so the latest \
             version is foundryctl's again; `{resource}` is then deleted like the rest"
        ),
        resource,
    }
}

fn delete_reason(options: &PlanOptions) -> String {
    if options.destroy {
        "destroy: owned by this set".to_owned()
    } else {
        "not in the manifests (--prune)".to_owned()
    }
}

fn blocked(resource: &ResourceRef, verb: &str, flag: &str) -> Blocked {
    Blocked {
        reason: format!("{verb} a memory store deletes every memory in it"),
        data_loss: format!("all memories in {resource}, for every scope"),
        unblock_flag: format!("{flag} {resource}"),
    }
}

fn conflict(resource: ResourceRef, kind: ConflictKind, ownership: Option<Ownership>) -> Conflict {
    match kind {
        ConflictKind::Unmanaged => Conflict {
            reason: format!("{resource} exists in the project but is not managed by foundryctl"),
            hint: format!("adopt it with `foundryctl import {resource} -f …`"),
            resource,
        },
        ConflictKind::OtherSet => {
            let set = ownership.and_then(|o| o.set);
            let (owner, hint) = match set {
                Some(set) => (
                    format!("set `{set}`"),
                    format!("manage it with --set {set}, or destroy it from that set first"),
                ),
                None => (
                    "no set".to_owned(),
                    "remove its managed-by stamp, then adopt it with `foundryctl import`"
                        .to_owned(),
                ),
            };
            Conflict {
                reason: format!("{resource} is managed by foundryctl for {owner}, not this set"),
                hint,
                resource,
            }
        }
    }
}

/// A store this run would delete while an agent that stays (one kept as edited outside
/// foundryctl, someone else's, or outside `--target`) still references it: deleting it would
/// leave that agent pointing at a store that no longer exists, breaking an agent that is not
/// this run's to change. So the delete is taken out of the plan and the store is listed as not
/// deleted, naming the agents and the way out; it goes on a later run once they let go of it.
/// Declared agents whose manifest names the store are left to [`check_references`], which
/// reports the contradiction as an error.
fn keep_referenced_stores(
    out: &mut Accumulator,
    desired: &DesiredState,
    live: &LiveState,
    options: &PlanOptions,
    in_scope: &dyn Fn(&ResourceRef) -> bool,
) {
    // Agents this plan deletes or gives a new version: their old references end with the
    // plan (the order puts them before the store's delete).
    let acted: BTreeSet<&AgentName> = out
        .actions
        .iter()
        .filter_map(|a| match &a.op {
            Op::DeleteAgent { name } | Op::CreateAgentVersion { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    let mut users: BTreeMap<&MemoryStoreName, Vec<ResourceRef>> = BTreeMap::new();
    for (name, agent) in &live.agents {
        let resource = ResourceRef::Agent(name.clone());
        if acted.contains(name) {
            continue;
        }
        let declared = desired
            .agents
            .get(name)
            .filter(|_| !options.destroy && in_scope(&resource));
        for store in agent.latest.spec.iter().flat_map(|s| s.referenced_stores()) {
            let reported = declared.is_some_and(|d| d.spec.referenced_stores().any(|s| s == store));
            if !reported {
                users.entry(store).or_default().push(resource.clone());
            }
        }
    }
    let mut kept = Vec::new();
    out.actions.retain(|a| match &a.op {
        Op::DeleteStore { name } => match users.get(name) {
            Some(agents) => {
                kept.push(store_kept_for(a.resource.clone(), agents));
                false
            }
            None => true,
        },
        _ => true,
    });
    out.not_deleted.extend(kept);
}

/// Why a store is kept for the agents that still use it, and how to let it go.
fn store_kept_for(resource: ResourceRef, agents: &[ResourceRef]) -> NotDeleted {
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
        hint: format!(
            "remove the memory tool from {them}, or get {them} deleted first (in the portal, or \
             by foundryctl once its latest version is foundryctl's again); `{resource}` is then \
             deleted like the rest"
        ),
        resource,
    }
}

/// Every memory tool must name a store that will exist after apply: declared, or live and not
/// deleted by this plan.
fn check_references(
    out: &mut Accumulator,
    desired: &DesiredState,
    live: &LiveState,
    in_scope: &dyn Fn(&ResourceRef) -> bool,
) {
    let deleted: BTreeSet<&MemoryStoreName> = out
        .actions
        .iter()
        .filter_map(|a| match &a.op {
            Op::DeleteStore { name } => Some(name),
            _ => None,
        })
        .collect();
    let mut problems: BTreeMap<(AgentName, MemoryStoreName), Diagnostic> = BTreeMap::new();
    for (name, agent) in &desired.agents {
        let resource = ResourceRef::Agent(name.clone());
        if !in_scope(&resource) {
            continue;
        }
        for store in agent.spec.referenced_stores() {
            if desired.stores.contains_key(store) {
                continue;
            }
            let diagnostic = if !live.stores.contains_key(store) {
                Diagnostic {
                    severity: Severity::Error,
                    resource: Some(resource.clone()),
                    message: format!(
                        "{resource} references memory store `{store}`, which neither the \
                         manifests nor the project have"
                    ),
                    hint: Some(format!(
                        "declare a MemoryStore named `{store}`, or fix memory_store_name"
                    )),
                }
            } else if deleted.contains(store) {
                Diagnostic {
                    severity: Severity::Error,
                    resource: Some(resource.clone()),
                    message: format!(
                        "{resource} references memory store `{store}`, which this plan deletes"
                    ),
                    hint: Some(format!(
                        "keep `{store}` declared, or remove the memory tool from {resource}"
                    )),
                }
            } else {
                continue;
            };
            problems.insert((name.clone(), store.clone()), diagnostic);
        }
    }
    out.diagnostics.extend(problems.into_values());
}
