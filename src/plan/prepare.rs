//! The half of planning that depends on the manifests alone: each declared resource's normal
//! form and fingerprint. Both kinds' decisions read it ([`Declared`], [`DeclaredAgent`]), so it
//! sits below them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{
    AgentName, AgentSpec, DesiredState, MemoryStoreName, ResourceKind, fingerprint, normalize,
};

/// The half of planning that depends on the manifests alone: every declared resource's normal
/// form and fingerprint, which is most of the work for a large project. The commands compute it
/// while the live state is being read (it needs nothing from the service), then call
/// [`plan_prepared`]; [`plan`] does both in turn.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    pub(super) stores: BTreeMap<MemoryStoreName, Declared>,
    pub(super) agents: BTreeMap<AgentName, DeclaredAgent>,
}

/// A declared store's normal form, and its fingerprint: the stamp it is applied with.
#[derive(Debug, Clone)]
pub(super) struct Declared {
    pub normal: Value,
    pub fingerprint: String,
}

impl Declared {
    pub(super) fn store(spec: &crate::model::MemoryStoreSpec) -> Self {
        let normal = normalize::desired_store(spec);
        let fingerprint = fingerprint::of_normalized(ResourceKind::MemoryStore, &normal);
        Self {
            normal,
            fingerprint,
        }
    }
}

/// A declared agent's normal form as its canonical JSON text, and its fingerprint.
///
/// Agents are most of a large project, and a plan holds one of these for each while the live
/// state is read and compared. The text is all a comparison needs (equal normal forms have
/// equal canonical texts) and takes about a fifth of the memory of the normal form's
/// `serde_json::Value`, whose every object is a B-tree node; the value itself is rebuilt from
/// the spec ([`DeclaredAgent::normal`]) only for the agents whose changes a plan lists.
#[derive(Debug, Clone)]
pub(super) struct DeclaredAgent {
    pub canonical: Box<str>,
    pub fingerprint: String,
}

impl DeclaredAgent {
    pub(super) fn new(spec: &AgentSpec) -> Self {
        let canonical = fingerprint::canonical_json(&normalize::agent(spec));
        let fingerprint = fingerprint::of_canonical(ResourceKind::Agent, &canonical);
        Self {
            canonical: canonical.into_boxed_str(),
            fingerprint,
        }
    }

    /// The normal form, rebuilt from the spec this was prepared from.
    pub(super) fn normal(spec: &AgentSpec) -> Value {
        normalize::agent(spec)
    }
}

/// Normalises and fingerprints every declared resource (see [`Prepared`]). Pure, like
/// [`plan`]: the same result whatever the threads (a large project's agents are shared between
/// two, each resource being prepared on its own).
pub fn prepare(desired: &DesiredState) -> Prepared {
    let agents: Vec<(&AgentName, &crate::model::Agent)> = desired.agents.iter().collect();
    let prepare_agents = |agents: &[(&AgentName, &crate::model::Agent)]| -> Vec<_> {
        agents
            .iter()
            .map(|(name, agent)| ((*name).clone(), DeclaredAgent::new(&agent.spec)))
            .collect()
    };
    let (first, second) = agents.split_at(if agents.len() < PARALLEL_MIN_AGENTS {
        agents.len()
    } else {
        agents.len() / 2
    });
    let (stores, prepared) = std::thread::scope(|scope| {
        // A thread the system refuses to start leaves its half to this one.
        let helper = (!second.is_empty())
            .then(|| {
                std::thread::Builder::new()
                    .name("prepare".into())
                    .spawn_scoped(scope, || prepare_agents(second))
                    .ok()
            })
            .flatten();
        let stores = desired
            .stores
            .iter()
            .map(|(name, store)| (name.clone(), Declared::store(&store.spec)))
            .collect();
        let mut prepared = prepare_agents(first);
        match helper.map(std::thread::ScopedJoinHandle::join) {
            Some(Ok(rest)) => prepared.extend(rest),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => prepared.extend(prepare_agents(second)),
        }
        (stores, prepared)
    });
    // In name order already (the halves of a sorted map, in turn): the map is built in bulk.
    Prepared {
        stores,
        agents: prepared.into_iter().collect(),
    }
}

/// Below this many agents, preparing them on a second thread costs more than it saves.
const PARALLEL_MIN_AGENTS: usize = 256;
