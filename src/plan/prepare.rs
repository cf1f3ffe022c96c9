//! The half of planning that depends on the manifests alone: each declared resource's normal
//! form and fingerprint. Both kinds' decisions read it ([`Declared`]), so it sits below them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{
    AgentName, DesiredState, MemoryStoreName, ResourceKind, fingerprint, normalize,
};

/// The half of planning that depends on the manifests alone: every declared resource's normal
/// form and fingerprint, which is most of the work for a large project. The commands compute it
/// while the live state is being read (it needs nothing from the service), then call
/// [`plan_prepared`]; [`plan`] does both in turn.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    pub(super) stores: BTreeMap<MemoryStoreName, Declared>,
    pub(super) agents: BTreeMap<AgentName, Declared>,
}

/// A declared resource's normal form, and its fingerprint: the stamp it is applied with.
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

    pub(super) fn agent(spec: &crate::model::AgentSpec) -> Self {
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
