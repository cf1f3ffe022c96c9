//! A pure, in-memory model of the Foundry service, for tests: it stores what it is sent,
//! reports it the way the real service does (recorded behaviour: `procedural_memory_enabled`
//! never echoed, `user_profile_details` only when sent, the two required booleans filled with
//! their defaults, `default_ttl_seconds` echoed only by newer service versions), and executes a
//! plan's actions the way the executor would, refusing blocked ones.
//!
//! It is deliberately simpler than the emulator: no HTTP, no persistence, just the semantics
//! the planner relies on, so property tests can run thousands of cases in a second.

use std::collections::BTreeMap;

use super::types::{Op, Plan};
use crate::model::{
    AgentName, AgentSpec, LiveAgent, LiveAgentVersion, LiveMemory, LiveMemoryStore, LiveState,
    MemoryStoreName, MemoryStoreOptions, MemoryStoreSpec,
};

#[derive(Debug, Clone, Default)]
pub struct Service {
    pub stores: BTreeMap<MemoryStoreName, StoredStore>,
    /// Versions oldest first.
    pub agents: BTreeMap<AgentName, Vec<StoredVersion>>,
    /// Whether `default_ttl_seconds` is echoed (it is since May 2026).
    pub echoes_ttl: bool,
    pub clock: i64,
    /// Memory items by store and scope (what seeds write), oldest first.
    pub items: BTreeMap<MemoryStoreName, BTreeMap<String, Vec<LiveMemory>>>,
    /// Every write, for assertions ("no delete happened").
    pub log: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct StoredStore {
    /// What was sent at creation (options as sent, `None` where not sent).
    pub spec: MemoryStoreSpec,
    pub metadata: BTreeMap<String, String>,
    pub updated_at: i64,
    pub memories: usize,
}

#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub version: u64,
    pub spec: Option<AgentSpec>,
    pub metadata: BTreeMap<String, String>,
}

impl Service {
    fn tick(&mut self) -> i64 {
        self.clock += 1;
        self.clock
    }

    pub fn create_store(
        &mut self,
        name: &MemoryStoreName,
        spec: &MemoryStoreSpec,
        metadata: &BTreeMap<String, String>,
    ) {
        let at = self.tick();
        let mut spec = spec.clone();
        spec.labels = crate::model::labels_of(metadata);
        self.stores.insert(
            name.clone(),
            StoredStore {
                spec,
                metadata: metadata.clone(),
                updated_at: at,
                memories: 3,
            },
        );
    }

    pub fn create_version(
        &mut self,
        name: &AgentName,
        spec: Option<&AgentSpec>,
        metadata: &BTreeMap<String, String>,
    ) {
        let versions = self.agents.entry(name.clone()).or_default();
        let version = versions.last().map_or(1, |v| v.version + 1);
        let spec = spec.map(|s| AgentSpec {
            labels: crate::model::labels_of(metadata),
            ..s.clone()
        });
        versions.push(StoredVersion {
            version,
            spec,
            metadata: metadata.clone(),
        });
    }

    /// The live state as `GET /memory_stores` and `GET /agents` would report it; `history` is
    /// filled for the agents named.
    pub fn live(&self, with_history: &std::collections::BTreeSet<AgentName>) -> LiveState {
        let stores = self
            .stores
            .iter()
            .map(|(name, s)| {
                let o = &s.spec.options;
                let options = MemoryStoreOptions {
                    user_profile_enabled: Some(o.user_profile_enabled.unwrap_or(true)),
                    user_profile_details: o.user_profile_details.clone(),
                    chat_summary_enabled: Some(o.chat_summary_enabled.unwrap_or(true)),
                    procedural_memory_enabled: None,
                    default_ttl_seconds: self
                        .echoes_ttl
                        .then(|| o.default_ttl_seconds.unwrap_or(0)),
                };
                let live = LiveMemoryStore {
                    name: name.clone(),
                    id: format!("memstore_{name}"),
                    created_at: 0,
                    updated_at: s.updated_at,
                    metadata: s.metadata.clone(),
                    spec: MemoryStoreSpec {
                        options,
                        labels: crate::model::labels_of(&s.metadata),
                        ..s.spec.clone()
                    },
                };
                (name.clone(), live)
            })
            .collect();
        let agents = self
            .agents
            .iter()
            .filter_map(|(name, versions)| {
                let project = |v: &StoredVersion| LiveAgentVersion {
                    version: v.version.to_string(),
                    created_at: 0,
                    metadata: v.metadata.clone(),
                    spec: v.spec.clone(),
                };
                let latest = project(versions.last()?);
                let history = with_history
                    .contains(name)
                    .then(|| versions.iter().rev().map(project).collect());
                Some((
                    name.clone(),
                    LiveAgent {
                        name: name.clone(),
                        latest,
                        history,
                    },
                ))
            })
            .collect();
        LiveState {
            stores,
            agents,
            memories: self.items.clone(),
        }
    }

    /// Executes the plan's actions in order, as the executor would. Blocked actions are never
    /// run (the executor refuses the whole plan; here they are skipped so tests can observe
    /// that they had no effect).
    pub fn apply(&mut self, plan: &Plan) {
        for action in &plan.actions {
            if action.blocked.is_some() {
                continue;
            }
            self.log.push(action.id.clone());
            match &action.op {
                Op::CreateStore {
                    name,
                    spec,
                    metadata,
                } => self.create_store(name, spec, metadata),
                Op::UpdateStore {
                    name,
                    description,
                    metadata,
                }
                | Op::StampStore {
                    name,
                    description,
                    metadata,
                } => {
                    let at = self.tick();
                    if let Some(s) = self.stores.get_mut(name) {
                        s.spec.description.clone_from(description);
                        s.spec.labels = crate::model::labels_of(metadata);
                        s.metadata.clone_from(metadata);
                        s.updated_at = at;
                    }
                }
                Op::ReplaceStore {
                    name,
                    spec,
                    metadata,
                } => {
                    self.stores.remove(name);
                    self.items.remove(name);
                    self.create_store(name, spec, metadata);
                    if let Some(s) = self.stores.get_mut(name) {
                        s.memories = 0;
                    }
                }
                Op::DeleteStore { name } => {
                    self.stores.remove(name);
                    self.items.remove(name);
                }
                Op::SeedMemories {
                    store,
                    create,
                    delete,
                } => {
                    let scopes = self.items.entry(store.clone()).or_default();
                    for (n, memory) in create.iter().enumerate() {
                        scopes
                            .entry(memory.scope.clone())
                            .or_default()
                            .push(LiveMemory {
                                id: format!("mem{}-{n}", self.clock),
                                kind: memory.kind.clone(),
                                content: memory.content.clone(),
                            });
                    }
                    for gone in delete {
                        if let Some(items) = scopes.get_mut(&gone.scope) {
                            items.retain(|m| m.id != gone.memory_id);
                        }
                    }
                    self.clock += 1;
                }
                Op::CreateAgentVersion {
                    name,
                    spec,
                    metadata,
                }
                | Op::StampAgent {
                    name,
                    spec,
                    metadata,
                } => self.create_version(name, Some(spec), metadata),
                Op::DeleteAgent { name } => {
                    self.agents.remove(name);
                }
            }
        }
    }
}
