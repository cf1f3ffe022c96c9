//! Memory seeds: memories that must exist in given scopes of a memory store (`kind:
//! MemorySeed`), and the memories the service reports for those scopes.
//!
//! A seed has no resource of its own on the service: its "live state" is the items of its
//! declared scopes, read with the v1 memory item API. Items carry no metadata, so a seed
//! cannot be stamped; a declared memory is present when an item of its scope has the same kind
//! and the same content once whitespace is normalised ([`normalize_content`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::names::{MemoryStoreName, SeedName};

/// The memory kinds a seed may declare, as the item API spells them.
pub const SEED_MEMORY_KINDS: [&str; 3] = ["user_profile", "chat_summary", "procedural"];

/// A `kind: MemorySeed` the manifests declare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemorySeed {
    pub name: SeedName,
    pub store: MemoryStoreName,
    /// Scope → the memories it must hold, in declared order.
    pub scopes: BTreeMap<String, Vec<SeedMemory>>,
    /// `exclusive: true`: each declared scope holds exactly the declared memories; the others
    /// in it are deleted (data loss, so blocked unless allowed).
    pub exclusive: bool,
}

/// One declared memory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeedMemory {
    /// `user_profile`, `chat_summary` or `procedural`.
    pub kind: String,
    pub content: String,
}

impl SeedMemory {
    /// Whether `live` is this memory: same kind, same content up to whitespace.
    pub fn matches(&self, live: &LiveMemory) -> bool {
        self.kind == live.kind
            && normalize_content(&self.content) == normalize_content(&live.content)
    }
}

/// A memory item of a scope, as the service reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LiveMemory {
    pub id: String,
    pub kind: String,
    pub content: String,
}

/// The memories of the scopes that seeds declare, read one paged `items:list` per scope, for
/// the stores that exist. Store → scope → items, in the service's order.
pub type LiveScopes = BTreeMap<MemoryStoreName, BTreeMap<String, Vec<LiveMemory>>>;

/// Content with runs of whitespace collapsed to one space and the ends trimmed: what "the same
/// memory" compares.
pub fn normalize_content(content: &str) -> String {
    content.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_does_not_make_a_memory_different() {
        let declared = SeedMemory {
            kind: "user_profile".into(),
            content: "Works  mostly in\nPython. ".into(),
        };
        let live = |kind: &str, content: &str| LiveMemory {
            id: "m".into(),
            kind: kind.into(),
            content: content.into(),
        };
        assert!(declared.matches(&live("user_profile", "Works mostly in Python.")));
        assert!(!declared.matches(&live("chat_summary", "Works mostly in Python.")));
        assert!(!declared.matches(&live("user_profile", "Works mostly in Rust.")));
    }
}
