//! The two states the planner compares: desired (from manifests) and live (from the project).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::agent::{Agent, AgentSpec};
use super::names::{AgentName, MemoryStoreName, ResourceRef, SeedName};
use super::ownership::Ownership;
use super::seed::{LiveScopes, MemorySeed};
use super::store::{MemoryStore, MemoryStoreSpec};

/// Everything the manifests declare, validated. Keyed by name, so iteration order (and with it
/// every plan and rendering) is deterministic.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DesiredState {
    pub stores: BTreeMap<MemoryStoreName, MemoryStore>,
    pub agents: BTreeMap<AgentName, Agent>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seeds: BTreeMap<SeedName, MemorySeed>,
    /// The resources that are copies of a `for_each` document, with their template's identity
    /// (`FILE:LINE`), so a plan can sum up each template in one line.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub templates: BTreeMap<ResourceRef, String>,
    /// The probes each agent declares for `foundryctl check` (agents without any are absent).
    /// Not part of any resource: plans never look at them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<AgentName, Vec<super::probe::Probe>>,
}

/// Everything the project reports, read with one paged list per kind.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveState {
    pub stores: BTreeMap<MemoryStoreName, LiveMemoryStore>,
    pub agents: BTreeMap<AgentName, LiveAgent>,
    /// The memories of the scopes the declared seeds name, for the stores that exist (only
    /// those scopes are read: one paged `items:list` each).
    pub memories: LiveScopes,
}

/// A memory store as the service reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveMemoryStore {
    pub name: MemoryStoreName,
    /// `memstore_…`, opaque.
    pub id: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The full metadata, stamps included.
    pub metadata: BTreeMap<String, String>,
    /// The comparable content; `spec.labels` are the metadata without the stamps.
    pub spec: MemoryStoreSpec,
}

impl LiveMemoryStore {
    pub fn ownership(&self) -> Ownership {
        Ownership::from_metadata(&self.metadata)
    }
}

/// A prompt agent as the service reports it: its latest version, and, only when that version
/// is not stamped by foundryctl, its earlier versions (to tell drift from a foreign agent).
#[derive(Debug, Clone, PartialEq)]
pub struct LiveAgent {
    pub name: AgentName,
    pub latest: LiveAgentVersion,
    /// `None` unless the engine fetched the version history (one extra call, made only for a
    /// declared agent whose latest version is unstamped). Newest first.
    pub history: Option<Vec<LiveAgentVersion>>,
}

impl LiveAgent {
    pub fn ownership(&self) -> Ownership {
        Ownership::from_metadata(&self.latest.metadata)
    }
}

/// Whose the newest stamped version of `versions` is (in any order; the highest version
/// number, the first of equals): an agent edited outside foundryctl was the set's to restore
/// only if it is that set's, not if another set imported it after. `None` when no version
/// carries a stamp. The planner asks of the history it read, an apply of the one it re-reads.
pub fn newest_stamped_owner(versions: &[LiveAgentVersion]) -> Option<Ownership> {
    versions
        .iter()
        .map(|v| (v, Ownership::from_metadata(&v.metadata)))
        .filter(|(_, owner)| owner.managed)
        .min_by_key(|(v, _)| std::cmp::Reverse(v.version.parse::<u64>().unwrap_or_default()))
        .map(|(_, owner)| owner)
}

/// One immutable agent version.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveAgentVersion {
    /// A decimal string ("1", "2", …), opaque to foundryctl beyond equality.
    pub version: String,
    pub created_at: i64,
    /// The full metadata, stamps included.
    pub metadata: BTreeMap<String, String>,
    /// The comparable content, or `None` when the definition is not a prompt agent
    /// (hosted, workflow, …), which foundryctl does not manage.
    pub spec: Option<AgentSpec>,
}
