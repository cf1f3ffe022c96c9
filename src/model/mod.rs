//! Validated domain types: the desired state the manifests declare and the live state the
//! project reports, in one vocabulary the planner can compare.
//!
//! This layer is pure (no I/O, clock, environment or async). `manifest` builds
//! [`DesiredState`] from YAML; `foundry` builds [`LiveState`] from the REST wire types; `plan`
//! compares the two. Neither the YAML shape nor the REST shape leaks in here.

mod agent;
pub mod fingerprint;
mod names;
pub mod normalize;
mod ownership;
mod pattern;
mod probe;
mod references;
mod seed;
mod state;
mod store;

pub use agent::{Agent, AgentSpec, MemorySearchTool, Tool};
pub use names::{
    AgentName, MemoryStoreName, NameError, ResourceKind, ResourceRef, ResourceRefError, SeedName,
    SetName,
};
pub use ownership::{
    DISPOSABLE_KEY, HASH_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE, Ownership, RESERVED_METADATA_KEYS,
    SET_KEY, labels_of, stamped_disposable, stamped_metadata, with_disposable,
};
pub use pattern::ResourcePattern;
pub use probe::{Probe, ProbeExpect};
pub use references::{References, StoreReference};
pub use seed::{
    LiveMemory, LiveScopes, MemorySeed, SEED_MEMORY_KINDS, ScopeStatus, SeedMemory,
    normalize_content, seed_memories,
};
pub use state::{
    DesiredState, LiveAgent, LiveAgentVersion, LiveMemoryStore, LiveState, newest_stamped_owner,
};
pub use store::{MemoryStore, MemoryStoreOptions, MemoryStoreSpec};
