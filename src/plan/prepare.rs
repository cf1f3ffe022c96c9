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
            .map(|(name, agent)| (name.clone(), DeclaredAgent::new(&agent.spec)))
            .collect(),
    }
}
