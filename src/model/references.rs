//! Which memory stores each agent uses: the one index of store references, computed once per
//! plan from the desired and the live state. Validation (a reference the manifests cannot
//! resolve), the pre-flight check against the project, the planner (a reference a plan would
//! break, a store kept for the agents that still use it), the ordering (a store before the
//! agents that use it, after those that stop using it) and the `--target` explanations all
//! read it, so the rule "an agent's memory store must exist" is written once, in
//! [`References::unresolved`].

use std::collections::{BTreeMap, BTreeSet};

use super::{AgentName, DesiredState, LiveState, MemoryStoreName};

/// The store references of a desired and a live state.
///
/// An agent's stores are a sorted slice without repeats rather than a set: an agent names one
/// store or two, and a project may have thousands of agents, so a B-tree node each would make
/// this index a large part of a plan's memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// Declared agent → the stores its declared tools name (agents naming none are absent).
    declared: BTreeMap<AgentName, Stores>,
    /// Live agent → the stores its latest version's tools name (agents naming none are absent).
    live: BTreeMap<AgentName, Stores>,
    /// Store → the live agents whose latest version names it.
    live_users: BTreeMap<MemoryStoreName, BTreeSet<AgentName>>,
    declared_stores: BTreeSet<MemoryStoreName>,
    live_stores: BTreeSet<MemoryStoreName>,
}

/// One agent's reference to one store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoreReference {
    pub agent: AgentName,
    pub store: MemoryStoreName,
}

/// Distinct store names, sorted.
type Stores = Box<[MemoryStoreName]>;

fn stores<'a>(names: impl Iterator<Item = &'a MemoryStoreName>) -> Stores {
    let mut stores: Vec<MemoryStoreName> = names.cloned().collect();
    stores.sort_unstable();
    stores.dedup();
    stores.into_boxed_slice()
}

static NO_AGENTS: BTreeSet<AgentName> = BTreeSet::new();

impl References {
    /// The index of `desired` against `live`.
    pub fn of(desired: &DesiredState, live: &LiveState) -> Self {
        let declared = desired
            .agents
            .iter()
            .map(|(name, agent)| (name, stores(agent.spec.referenced_stores())))
            .filter(|(_, stores)| !stores.is_empty())
            .map(|(name, stores)| (name.clone(), stores))
            .collect();
        let live_refs: BTreeMap<AgentName, Stores> = live
            .agents
            .iter()
            .map(|(name, agent)| {
                let named = agent.latest.spec.iter().flat_map(|s| s.referenced_stores());
                (name, stores(named))
            })
            .filter(|(_, stores)| !stores.is_empty())
            .map(|(name, stores)| (name.clone(), stores))
            .collect();
        let mut live_users: BTreeMap<MemoryStoreName, BTreeSet<AgentName>> = BTreeMap::new();
        for (agent, stores) in &live_refs {
            for store in stores {
                live_users
                    .entry(store.clone())
                    .or_default()
                    .insert(agent.clone());
            }
        }
        Self {
            declared,
            live: live_refs,
            live_users,
            declared_stores: desired.stores.keys().cloned().collect(),
            live_stores: live.stores.keys().cloned().collect(),
        }
    }

    /// The index of the manifests alone (for `validate`, which knows no project).
    pub fn of_desired(desired: &DesiredState) -> Self {
        Self::of(desired, &LiveState::default())
    }

    /// The stores a declared agent's tools name, sorted (none for an agent not declared).
    pub fn declared_stores_of(&self, agent: &AgentName) -> &[MemoryStoreName] {
        self.declared.get(agent).map_or(&[], |s| s)
    }

    /// The stores a live agent's latest version names, sorted (none for an agent not live).
    pub fn live_stores_of(&self, agent: &AgentName) -> &[MemoryStoreName] {
        self.live.get(agent).map_or(&[], |s| s)
    }

    /// The live agents whose latest version names `store`.
    pub fn live_users_of(&self, store: &MemoryStoreName) -> &BTreeSet<AgentName> {
        self.live_users.get(store).unwrap_or(&NO_AGENTS)
    }

    /// Whether the manifests declare `store`.
    pub fn is_declared(&self, store: &MemoryStoreName) -> bool {
        self.declared_stores.contains(store)
    }

    /// Whether the project has `store`.
    pub fn is_live(&self, store: &MemoryStoreName) -> bool {
        self.live_stores.contains(store)
    }

    /// Every declared reference to a store the manifests do not declare, in order.
    pub fn undeclared(&self) -> impl Iterator<Item = StoreReference> + '_ {
        self.declared.iter().flat_map(move |(agent, stores)| {
            stores
                .iter()
                .filter(|s| !self.is_declared(s))
                .map(move |store| StoreReference {
                    agent: agent.clone(),
                    store: store.clone(),
                })
        })
    }

    /// The rule: every declared reference names a store that is declared or live. The ones
    /// that do not, in order. Against an empty live state (`validate`) that is every
    /// undeclared reference.
    pub fn unresolved(&self) -> impl Iterator<Item = StoreReference> + '_ {
        self.undeclared().filter(|r| !self.is_live(&r.store))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Agent, AgentSpec, LiveAgent, LiveAgentVersion, LiveMemoryStore, MemorySearchTool,
        MemoryStore, MemoryStoreSpec, Tool,
    };

    fn store(name: &str) -> MemoryStoreName {
        MemoryStoreName::new(name).unwrap()
    }

    fn agent(name: &str) -> AgentName {
        AgentName::new(name).unwrap()
    }

    fn spec(stores: &[&str]) -> AgentSpec {
        AgentSpec {
            tools: stores
                .iter()
                .map(|s| {
                    Tool::MemorySearch(MemorySearchTool {
                        memory_store_name: store(s),
                        scope: "{{$userId}}".into(),
                        max_memories: None,
                        update_delay: None,
                    })
                })
                .collect(),
            ..AgentSpec::default()
        }
    }

    #[test]
    fn a_reference_resolves_to_a_declared_or_a_live_store_and_nothing_else() {
        let mut desired = DesiredState::default();
        desired.stores.insert(
            store("declared"),
            MemoryStore {
                name: store("declared"),
                spec: MemoryStoreSpec::default(),
                disposable: false,
            },
        );
        desired.agents.insert(
            agent("bot"),
            Agent {
                name: agent("bot"),
                spec: spec(&["declared", "live", "nowhere"]),
            },
        );
        let mut live = LiveState::default();
        live.stores.insert(
            store("live"),
            LiveMemoryStore {
                name: store("live"),
                id: "memstore_1".into(),
                created_at: 0,
                updated_at: 0,
                metadata: Default::default(),
                spec: MemoryStoreSpec::default(),
            },
        );
        live.agents.insert(
            agent("old"),
            LiveAgent {
                name: agent("old"),
                latest: LiveAgentVersion {
                    version: "1".into(),
                    created_at: 0,
                    metadata: Default::default(),
                    spec: Some(spec(&["live"])),
                },
                history: None,
            },
        );

        let index = References::of(&desired, &live);
        let unresolved: Vec<_> = index.unresolved().map(|r| r.store.to_string()).collect();
        assert_eq!(unresolved, ["nowhere"]);
        let undeclared: Vec<_> = index.undeclared().map(|r| r.store.to_string()).collect();
        assert_eq!(undeclared, ["live", "nowhere"]);
        assert_eq!(
            References::of_desired(&desired)
                .unresolved()
                .map(|r| r.store.to_string())
                .collect::<Vec<_>>(),
            ["live", "nowhere"]
        );
        assert!(index.live_users_of(&store("live")).contains(&agent("old")));
        assert!(index.live_users_of(&store("declared")).is_empty());
        assert_eq!(index.declared_stores_of(&agent("bot")).len(), 3);
        let named_twice = Agent {
            name: agent("twice"),
            spec: spec(&["b", "a", "b"]),
        };
        desired.agents.insert(named_twice.name.clone(), named_twice);
        let index = References::of(&desired, &live);
        assert_eq!(
            index.declared_stores_of(&agent("twice")),
            [store("a"), store("b")],
            "sorted, each store once"
        );
        assert!(index.declared_stores_of(&agent("old")).is_empty());
        assert_eq!(index.live_stores_of(&agent("old")).len(), 1);
    }
}
