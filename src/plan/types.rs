//! The plan: what the planner decided, with everything the executor needs and nothing left for
//! it to decide (omicron's "no meaningful choices" rule).
//!
//! These types are `Serialize + Deserialize` because a saved plan (`plan --out plan.json`) is this
//! structure wrapped in [`SavedPlan`]. The JSON *output* format (`--output json`) is a separate,
//! documented view in `render::json`, so the internal shape can move without breaking users.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::decide::ConflictKind;
use crate::model::{
    AgentName, AgentSpec, LiveAgent, LiveMemoryStore, MemoryStoreName, MemoryStoreSpec, Ownership,
    ResourceKind, ResourceRef, SetName, fingerprint,
};

/// What the planner is asked to do besides comparing desired with live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// The set whose resources this run owns (`--set`).
    pub set: SetName,
    /// Delete owned resources the manifests no longer declare (`--prune`).
    pub prune: bool,
    /// `destroy`: delete everything this set owns, whatever the manifests declare. The desired
    /// state is still consulted for `disposable`.
    pub destroy: bool,
    /// `--target KIND/NAME`: plan only these resources (plus the stores targeted agents
    /// reference, so the agents' creation cannot fail on a missing store). `None` plans all.
    pub targets: Option<BTreeSet<ResourceRef>>,
    /// `--allow-replace memory_store/NAME`.
    pub allow_replace: BTreeSet<ResourceRef>,
    /// `--allow-delete memory_store/NAME` (or `memory_seed/NAME`: an exclusive seed's deletes).
    pub allow_delete: BTreeSet<ResourceRef>,
    /// `apply --replace memory_store/NAME`: replace these stores even if their manifests did
    /// not change (a reset on purpose), which also counts as allowing the replacement.
    pub replace: BTreeSet<ResourceRef>,
}

/// The identifier of an action within a plan: the `KIND/NAME` of its resource (a plan holds at
/// most one action per resource).
pub type ActionId = String;

/// The result of planning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub set: SetName,
    pub prune: bool,
    pub destroy: bool,
    /// In execution order: by dependency level, then stores before agents, then name.
    pub actions: Vec<Action>,
    /// Owned resources changed outside foundryctl. Each also has an action restoring the
    /// declared state (or is being deleted).
    pub drift: Vec<Drift>,
    /// Declared resources foundryctl may not touch.
    pub conflicts: Vec<Conflict>,
    /// Resources this set owns that the manifests no longer declare, kept because `--prune` was
    /// not given.
    pub not_in_manifests: Vec<ResourceRef>,
    /// Agents this run would delete (undeclared under `--prune`, or `destroy`) but will not,
    /// because their latest version was made outside foundryctl: said, so that "deleted
    /// everything" is never assumed.
    #[serde(default)]
    pub not_deleted: Vec<NotDeleted>,
    /// Memories in the scopes a seed declares that the seed does not declare (the users' own,
    /// or ones no longer declared): left in place, listed so that removing a memory from a
    /// seed is never read as deleting it. An `exclusive` seed deletes them instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memories_left_in_place: Vec<LeftInPlace>,
    /// Problems found while planning (dangling store references, unverifiable options).
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// One entry per `for_each` template of the manifests: how many copies it declares and
    /// what the plan does to them (each copy is also its own action above).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<TemplateSummary>,
}

/// What a plan does to the copies of one `for_each` template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSummary {
    /// The template's `FILE:LINE` (of its `for_each`).
    pub template: String,
    /// How many resources it declares.
    pub copies: usize,
    /// The actions on those resources, counted as in [`Plan::summary`].
    pub summary: Summary,
}

impl TemplateSummary {
    /// Per template of `desired`, in template order, the actions of `actions` on its copies.
    pub fn of(desired: &crate::model::DesiredState, actions: &[Action]) -> Vec<TemplateSummary> {
        let mut out: std::collections::BTreeMap<&str, (usize, Vec<Action>)> =
            std::collections::BTreeMap::new();
        for template in desired.templates.values() {
            out.entry(template).or_default().0 += 1;
        }
        for action in actions {
            if let Some(template) = desired.templates.get(&action.resource) {
                out.entry(template).or_default().1.push(action.clone());
            }
        }
        out.into_iter()
            .map(|(template, (copies, actions))| TemplateSummary {
                template: template.to_owned(),
                copies,
                summary: Summary::of(&actions, 0),
            })
            .collect()
    }
}

impl Plan {
    /// Whether applying would change anything (for `--detailed-exitcode`). Conflicts count:
    /// the live project does not match the manifests.
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty() || !self.conflicts.is_empty()
    }

    pub fn is_blocked(&self) -> bool {
        self.actions.iter().any(|a| a.blocked.is_some())
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// `depends_on` as indices into `actions`, the form `apply::schedule::run` takes.
    pub fn dependency_indices(&self) -> Vec<Vec<usize>> {
        let index: BTreeMap<&str, usize> = self
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        self.actions
            .iter()
            .map(|a| {
                a.depends_on
                    .iter()
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .collect()
            })
            .collect()
    }

    /// What is wrong with the actions' ids and dependencies, as a plan read from a file may
    /// have them: an id twice, a dependency on no action, a cycle (whose actions would never
    /// start). A plan foundryctl made has none.
    pub fn dependency_problems(&self) -> Vec<String> {
        let mut found = Vec::new();
        let mut ids = BTreeSet::new();
        for action in &self.actions {
            if !ids.insert(action.id.as_str()) {
                found.push(format!("action `{}` is there twice", action.id));
            }
            for dependency in &action.depends_on {
                if !self.actions.iter().any(|a| a.id == *dependency) {
                    found.push(format!(
                        "action `{}` depends on `{dependency}`, which is not in the plan",
                        action.id
                    ));
                }
            }
        }
        // Kahn's algorithm: whatever is never freed of its dependencies is on a cycle.
        let depends = self.dependency_indices();
        let mut waiting: Vec<usize> = depends.iter().map(Vec::len).collect();
        let mut dependents = vec![Vec::new(); depends.len()];
        for (i, on) in depends.iter().enumerate() {
            for &d in on {
                dependents[d].push(i);
            }
        }
        let mut ready: Vec<usize> = (0..waiting.len()).filter(|&i| waiting[i] == 0).collect();
        while let Some(i) = ready.pop() {
            for &j in &dependents[i] {
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    ready.push(j);
                }
            }
        }
        if let Some(i) = waiting.iter().position(|&w| w > 0) {
            found.push(format!(
                "action `{}` depends on itself through its dependencies",
                self.actions[i].id
            ));
        }
        found
    }
}

/// One write (or a delete-then-create for a replace) on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub id: ActionId,
    pub resource: ResourceRef,
    pub kind: ActionKind,
    pub op: Op,
    /// The `foundryctl-hash` the write stamps; `None` for deletes.
    pub fingerprint: Option<String>,
    /// What the live resource must still look like right before the write (saved plans).
    pub precondition: Precondition,
    /// Why, in sentences that read on their own.
    pub reasons: Vec<String>,
    /// Field-level differences (before → after), in path order.
    pub changes: Vec<FieldChange>,
    /// Actions that must succeed first.
    pub depends_on: Vec<ActionId>,
    /// 0 for actions without dependencies, else one more than the highest dependency: actions
    /// on one level are independent of each other.
    pub level: u32,
    /// Set when protection forbids this action; it is never executed.
    pub blocked: Option<Blocked>,
    /// For every replace or delete of a memory store, allowed or not: what it destroys and, when
    /// allowed, what allowed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_loss: Option<DataLoss>,
}

/// What a store replace or delete destroys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataLoss {
    /// `all memories in memory_store/NAME, for every scope`.
    pub what: String,
    /// What allowed it: `--allow-replace memory_store/NAME`, or the live store's disposable
    /// stamp. `None` when the action is blocked.
    pub allowed_by: Option<String>,
}

/// The user-facing category of an action: its plan symbol and summary bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// `+`
    Create,
    /// `~` an in-place update (store) or a new version (agent).
    Update,
    /// `-/+` delete and create again (stores only).
    Replace,
    /// `-`
    Delete,
    /// `~` adopt an unmanaged resource by stamping it (`import`).
    Import,
}

impl ActionKind {
    pub fn symbol(self) -> &'static str {
        match self {
            ActionKind::Create => "+",
            ActionKind::Update | ActionKind::Import => "~",
            ActionKind::Replace => "-/+",
            ActionKind::Delete => "-",
        }
    }

    /// The short verb tables and the JSON plan use (`create`, `update`, …).
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Update => "update",
            ActionKind::Replace => "replace",
            ActionKind::Delete => "delete",
            ActionKind::Import => "import",
        }
    }
}

/// Exactly what the executor sends. Specs are as declared (not normalised): the client turns
/// them into the wire shape for the api-version in use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// `POST /memory_stores`.
    CreateStore {
        name: MemoryStoreName,
        spec: MemoryStoreSpec,
        metadata: BTreeMap<String, String>,
    },
    /// `POST /memory_stores/{name}` with description and metadata.
    UpdateStore {
        name: MemoryStoreName,
        description: String,
        metadata: BTreeMap<String, String>,
    },
    /// `DELETE /memory_stores/{name}`, then `POST /memory_stores`. Deletes every memory.
    ReplaceStore {
        name: MemoryStoreName,
        spec: MemoryStoreSpec,
        metadata: BTreeMap<String, String>,
    },
    /// `DELETE /memory_stores/{name}`. Deletes every memory.
    DeleteStore { name: MemoryStoreName },
    /// `POST /agents/{name}/versions`.
    CreateAgentVersion {
        name: AgentName,
        spec: AgentSpec,
        metadata: BTreeMap<String, String>,
    },
    /// `DELETE /agents/{name}`: every version.
    DeleteAgent { name: AgentName },
    /// `import`: `POST /memory_stores/{name}` with the live description and stamped metadata.
    StampStore {
        name: MemoryStoreName,
        description: String,
        metadata: BTreeMap<String, String>,
    },
    /// Memories written with the v1 item API: `POST /memory_stores/{store}/items` per memory to
    /// add, then `DELETE /memory_stores/{store}/items/{id}` per memory to delete (an
    /// `exclusive` seed only).
    SeedMemories {
        store: MemoryStoreName,
        create: Vec<SeedWrite>,
        delete: Vec<SeedDelete>,
    },
    /// `import`: a new version with the live definition and stamped metadata (versions are
    /// immutable, so stamping an agent means one new version).
    StampAgent {
        name: AgentName,
        spec: AgentSpec,
        metadata: BTreeMap<String, String>,
    },
}

impl Op {
    /// The kinds of action that may carry this op: what the plan shows (`+`, `~`, `-/+`, `-`)
    /// must be what the op does.
    pub fn kinds(&self) -> &'static [ActionKind] {
        match self {
            Op::CreateStore { .. } => &[ActionKind::Create],
            Op::UpdateStore { .. } => &[ActionKind::Update],
            Op::ReplaceStore { .. } => &[ActionKind::Replace],
            Op::DeleteStore { .. } | Op::DeleteAgent { .. } => &[ActionKind::Delete],
            Op::CreateAgentVersion { .. } => &[ActionKind::Create, ActionKind::Update],
            // Deleting memories is shown as a change, writing only as an addition.
            Op::SeedMemories { delete, .. } if delete.is_empty() => &[ActionKind::Create],
            Op::SeedMemories { .. } => &[ActionKind::Update],
            Op::StampStore { .. } | Op::StampAgent { .. } => &[ActionKind::Import],
        }
    }

    /// The store this op deletes, if it is a store's delete: what reference checks and the
    /// order of deletes ask of every op.
    pub fn deleted_store(&self) -> Option<&MemoryStoreName> {
        match self {
            Op::DeleteStore { name } => Some(name),
            // Written out, so a new op has to say whether it deletes a store.
            Op::CreateStore { .. }
            | Op::UpdateStore { .. }
            | Op::ReplaceStore { .. }
            | Op::StampStore { .. }
            | Op::CreateAgentVersion { .. }
            | Op::DeleteAgent { .. }
            | Op::StampAgent { .. }
            | Op::SeedMemories { .. } => None,
        }
    }
}

/// One memory a seed writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedWrite {
    pub scope: String,
    pub kind: String,
    pub content: String,
}

/// One memory an exclusive seed deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedDelete {
    pub scope: String,
    pub memory_id: String,
    pub kind: String,
    pub content: String,
}

/// A memory of a declared scope that its seed does not declare, kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftInPlace {
    pub seed: ResourceRef,
    pub scope: String,
    pub kind: String,
    pub content: String,
}

/// What a saved plan expects to find right before a write. A mismatch means the plan is stale
/// and the executor refuses (exit 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "expect", rename_all = "snake_case")]
pub enum Precondition {
    /// The resource does not exist.
    Absent,
    /// The store exists with this `updated_at` and this [`fingerprint::live_store`].
    Store {
        updated_at: i64,
        fingerprint: String,
    },
    /// The agent exists and its latest version is this one: the same number and the same
    /// [`fingerprint::live_agent_version`] (an agent deleted and made again, by another set
    /// say, starts again at version 1).
    Agent {
        latest_version: String,
        fingerprint: String,
    },
    /// The seed's scopes of `store` hold exactly these memories (ids, kinds and contents,
    /// hashed by [`fingerprint::live_memories`]); after a create or replace of the store in the
    /// same plan, none.
    Memories {
        store: MemoryStoreName,
        /// The scopes the seed declares: the ones re-read.
        scopes: Vec<String>,
        fingerprint: String,
    },
}

impl Precondition {
    pub fn for_store(live: Option<&LiveMemoryStore>) -> Self {
        match live {
            None => Precondition::Absent,
            Some(store) => Precondition::Store {
                updated_at: store.updated_at,
                fingerprint: fingerprint::live_store(store),
            },
        }
    }

    pub fn for_agent(live: Option<&LiveAgent>) -> Self {
        match live {
            None => Precondition::Absent,
            Some(agent) => Precondition::Agent {
                latest_version: agent.latest.version.clone(),
                fingerprint: fingerprint::live_agent_version(&agent.latest),
            },
        }
    }

    /// Whether a store read just now still satisfies the precondition.
    pub fn holds_for_store(&self, live: Option<&LiveMemoryStore>) -> bool {
        *self == Precondition::for_store(live)
    }

    /// Whether an agent read just now still satisfies the precondition.
    pub fn holds_for_agent(&self, live: Option<&LiveAgent>) -> bool {
        *self == Precondition::for_agent(live)
    }
}

/// One changed field. `before` is `None` when the field is absent live (or the resource is
/// new); `after` is `None` when the field goes away (or the resource is deleted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Dotted path in the normal form: `instructions`, `options.chat_summary_enabled`,
    /// `labels.team`, `tools[0].scope`.
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// The service does not report this field, so `before` is unknown rather than absent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub before_unreported: bool,
    /// Changing this field forces a replacement (store models and options).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forces_replacement: bool,
}

/// Why an action may not run, what it would destroy, and how to allow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    /// What would lose the data, for machines; `reason` says it for people.
    pub cause: BlockedCause,
    pub reason: String,
    pub data_loss: String,
    /// The exact flag that unblocks it, e.g. `--allow-replace memory_store/prefs`.
    pub unblock_flag: String,
}

/// What a blocked action would do that loses data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockedCause {
    /// Replacing a memory store deletes it, and every memory in it, before creating it again.
    ReplaceStore,
    /// Deleting a memory store deletes every memory in it.
    DeleteStore,
    /// An `exclusive` seed deletes the memories of its scopes that it does not declare.
    DeleteMemories,
}

/// An owned resource changed outside foundryctl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub resource: ResourceRef,
    pub description: String,
    /// Fields where the live resource differs from what the manifests declare.
    pub changes: Vec<FieldChange>,
}

/// A resource once ours that a deleting run keeps, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotDeleted {
    pub resource: ResourceRef,
    pub reason: String,
    pub hint: String,
}

/// A declared resource that exists but is not this set's to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub resource: ResourceRef,
    /// Whose the resource is, for machines; `reason` says it for people.
    pub kind: ConflictKind,
    pub reason: String,
    pub hint: String,
}

/// What a plan diagnostic is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticCode {
    /// A memory tool names a store that neither the manifests nor the project have.
    UnresolvedStore,
    /// A memory tool names a store this plan deletes.
    StoreDeletedUnderAgent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub resource: Option<ResourceRef>,
    /// The memory store a reference problem is about (`resource` is then the agent), so a
    /// command can point at the memory tool's file:line:column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<MemoryStoreName>,
    /// What the problem is, for machines; `None` for warnings that only inform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<DiagnosticCode>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A warning about `resource` that only informs: no code, no store.
    pub fn warning(resource: &ResourceRef, message: String, hint: String) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            resource: Some(resource.clone()),
            store: None,
            code: None,
            message,
            hint: Some(hint),
        }
    }
}

/// The counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub to_add: usize,
    pub to_change: usize,
    pub to_replace: usize,
    pub to_destroy: usize,
    pub to_import: usize,
    pub blocked: usize,
    pub conflicts: usize,
}

impl Summary {
    pub fn of(actions: &[Action], conflicts: usize) -> Self {
        let mut s = Summary {
            conflicts,
            ..Summary::default()
        };
        for a in actions {
            match a.kind {
                ActionKind::Create => s.to_add += 1,
                ActionKind::Update => s.to_change += 1,
                ActionKind::Replace => s.to_replace += 1,
                ActionKind::Delete => s.to_destroy += 1,
                ActionKind::Import => s.to_import += 1,
            }
            if a.blocked.is_some() {
                s.blocked += 1;
            }
        }
        s
    }
}

/// A plan written by `plan --out FILE`, to be applied later by `apply FILE`. The command layer
/// fills the provenance fields; the executor refuses the file if any precondition fails.
/// Holds no secrets: no token, no endpoint credentials, only names, specs and fingerprints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format_version: u32,
    /// foundryctl's version that made the plan.
    pub tool_version: String,
    /// The project endpoint the plan was made against (no query string, no credentials).
    pub endpoint: String,
    pub set: SetName,
    /// sha256 of the manifests the plan was made from.
    pub manifest_digest: String,
    /// The names of the variables the manifests' `${…}` found set (`--var`, environment, env
    /// file), so a reviewer sees what shaped the plan. Names only: a value may be a credential
    /// whatever its variable is called.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<String>,
    pub plan: Plan,
}

impl SavedPlan {
    /// Where an action's parts disagree about what it writes: its id, its resource and the
    /// name its op carries. The file is edited by nobody but foundryctl; an edit that points an
    /// action at another resource (the reviewed plan says one store, the op deletes another)
    /// must be refused before anything runs, whatever else the file says.
    pub fn inconsistencies(&self) -> Vec<String> {
        let mut found = Vec::new();
        if self.set != self.plan.set {
            found.push(format!(
                "the file is for set `{}`, its plan for set `{}`",
                self.set, self.plan.set
            ));
        }
        found.extend(self.plan.dependency_problems());
        for action in &self.plan.actions {
            if action.id != action_id(&action.resource) {
                found.push(format!(
                    "action `{}` is about {}",
                    action.id, action.resource
                ));
            }
            let agrees = match (&action.op, &action.resource) {
                (
                    Op::CreateStore { name, .. }
                    | Op::UpdateStore { name, .. }
                    | Op::ReplaceStore { name, .. }
                    | Op::DeleteStore { name }
                    | Op::StampStore { name, .. },
                    ResourceRef::MemoryStore(resource),
                ) => name == resource,
                (
                    Op::CreateAgentVersion { name, .. }
                    | Op::DeleteAgent { name }
                    | Op::StampAgent { name, .. },
                    ResourceRef::Agent(resource),
                ) => name == resource,
                (Op::SeedMemories { .. }, ResourceRef::MemorySeed(_)) => true,
                (
                    Op::CreateStore { .. }
                    | Op::UpdateStore { .. }
                    | Op::ReplaceStore { .. }
                    | Op::DeleteStore { .. }
                    | Op::StampStore { .. }
                    | Op::CreateAgentVersion { .. }
                    | Op::DeleteAgent { .. }
                    | Op::StampAgent { .. }
                    | Op::SeedMemories { .. },
                    ResourceRef::MemoryStore(_)
                    | ResourceRef::Agent(_)
                    | ResourceRef::MemorySeed(_),
                ) => false,
            };
            if !agrees {
                found.push(format!(
                    "the operation of `{}` writes another resource than {}",
                    action.id, action.resource
                ));
            }
            if !action.op.kinds().contains(&action.kind) {
                found.push(format!(
                    "the operation of `{}` is not the {} the plan shows",
                    action.id,
                    action.kind.name()
                ));
            }
            // A create expects nothing there, anything else the resource it changes.
            let fits = match (&action.op, &action.precondition) {
                (Op::SeedMemories { .. }, Precondition::Memories { .. }) => true,
                (Op::SeedMemories { .. }, _) | (_, Precondition::Memories { .. }) => false,
                (_, Precondition::Absent) => action.kind == ActionKind::Create,
                (_, Precondition::Store { .. }) => {
                    matches!(action.resource, ResourceRef::MemoryStore(_))
                        && action.kind != ActionKind::Create
                }
                (_, Precondition::Agent { .. }) => {
                    matches!(action.resource, ResourceRef::Agent(_))
                        && action.kind != ActionKind::Create
                }
            };
            if !fits {
                found.push(format!(
                    "the precondition of `{}` does not fit its {}",
                    action.id,
                    action.kind.name()
                ));
            }
            if let (
                Op::SeedMemories {
                    store,
                    create,
                    delete,
                },
                Precondition::Memories {
                    store: read,
                    scopes,
                    ..
                },
            ) = (&action.op, &action.precondition)
            {
                if store != read {
                    found.push(format!(
                        "the operation of `{}` writes memory_store/{store}, not the store its \
                         memories were read from (memory_store/{read})",
                        action.id
                    ));
                }
                let outside = create
                    .iter()
                    .map(|w| &w.scope)
                    .chain(delete.iter().map(|d| &d.scope))
                    .find(|scope| !scopes.contains(scope));
                if let Some(scope) = outside {
                    found.push(format!(
                        "the operation of `{}` writes scope {scope}, which the plan did not read",
                        action.id
                    ));
                }
                // Each memory written or deleted is one the plan shows as added or removed.
                let text = |s: &str| Some(serde_json::Value::String(s.to_owned()));
                let mut done: Vec<(String, Option<serde_json::Value>, Option<serde_json::Value>)> =
                    create
                        .iter()
                        .map(|w| (format!("{}.{}", w.scope, w.kind), None, text(&w.content)))
                        .chain(
                            delete.iter().map(|d| {
                                (format!("{}.{}", d.scope, d.kind), text(&d.content), None)
                            }),
                        )
                        .collect();
                let mut shown: Vec<_> = action
                    .changes
                    .iter()
                    .map(|c| (c.path.clone(), c.before.clone(), c.after.clone()))
                    .collect();
                let key = |c: &(String, Option<serde_json::Value>, Option<serde_json::Value>)| {
                    serde_json::to_string(c).unwrap_or_default()
                };
                done.sort_by_cached_key(key);
                shown.sort_by_cached_key(key);
                if done != shown {
                    found.push(format!(
                        "the operation of `{}` writes or deletes other memories than the plan shows",
                        action.id
                    ));
                }
            }
            // The stamps an op writes name the plan's set.
            let stamped_set = match &action.op {
                Op::CreateStore { metadata, .. }
                | Op::UpdateStore { metadata, .. }
                | Op::ReplaceStore { metadata, .. }
                | Op::StampStore { metadata, .. }
                | Op::CreateAgentVersion { metadata, .. }
                | Op::StampAgent { metadata, .. } => Some(Ownership::from_metadata(metadata).set),
                Op::DeleteStore { .. } | Op::DeleteAgent { .. } | Op::SeedMemories { .. } => None,
            };
            if let Some(stamped) = stamped_set
                && stamped.as_deref() != Some(self.plan.set.as_str())
            {
                found.push(format!(
                    "the operation of `{}` stamps set `{}`, not the plan's set `{}`",
                    action.id,
                    stamped.unwrap_or_default(),
                    self.plan.set
                ));
            }
        }
        found
    }

    /// 2: an agent's precondition carries the fingerprint of its latest version, and a store's
    /// fingerprint its id.
    pub const FORMAT_VERSION: u32 = 2;
}

/// A `KIND/NAME` id for a resource.
pub(crate) fn action_id(resource: &ResourceRef) -> ActionId {
    resource.to_string()
}

/// Orders resources the way plans list them: stores, agents, seeds, then by name.
pub(crate) fn resource_order(r: &ResourceRef) -> (u8, &str) {
    match r.kind() {
        ResourceKind::MemoryStore => (0, r.name()),
        ResourceKind::Agent => (1, r.name()),
        ResourceKind::MemorySeed => (2, r.name()),
    }
}
