//! Memory stores: what a manifest declares and what the service reports, in one shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::names::MemoryStoreName;

/// A memory store the manifests declare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryStore {
    pub name: MemoryStoreName,
    pub spec: MemoryStoreSpec,
    /// `lifecycle: {disposable: true}`: replacing or deleting this store is not blocked, because
    /// its owner has said its memories may be lost (demo and workshop stores).
    pub disposable: bool,
}

/// The comparable content of a memory store. The same struct describes the desired state (from
/// a manifest) and the live state (projected from the service's answer), so the planner
/// compares like with like.
///
/// Only `description` and `labels` can change in place; `chat_model`, `embedding_model` and
/// `options` are create-only on the service, so changing them means replacing the store, which
/// deletes every memory in it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MemoryStoreSpec {
    /// `""` when not declared: the service reports a missing description as `""`.
    pub description: String,
    /// User labels, stored in the resource's `metadata` beside foundryctl's own stamps.
    pub labels: BTreeMap<String, String>,
    pub chat_model: String,
    pub embedding_model: String,
    pub options: MemoryStoreOptions,
}

/// `definition.options`. `None` means "not declared" on the desired side and "not reported" on
/// the live side: the service does not echo every option (`procedural_memory_enabled` is never
/// echoed, `user_profile_details` only when it was sent), so the planner must treat a `None` on
/// either side as unknown rather than as a difference.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MemoryStoreOptions {
    pub user_profile_enabled: Option<bool>,
    pub user_profile_details: Option<String>,
    pub chat_summary_enabled: Option<bool>,
    pub procedural_memory_enabled: Option<bool>,
    pub default_ttl_seconds: Option<u64>,
}

impl MemoryStoreOptions {
    /// The service's documented defaults for options that were not declared.
    pub const DEFAULT_USER_PROFILE_ENABLED: bool = true;
    pub const DEFAULT_CHAT_SUMMARY_ENABLED: bool = true;
    pub const DEFAULT_PROCEDURAL_MEMORY_ENABLED: bool = true;
    pub const DEFAULT_TTL_SECONDS: u64 = 0;
}
