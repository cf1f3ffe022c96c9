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

/// The memories of one scope as a seed would declare them: oldest first (the service lists
/// newest first, `items` in its order), each memory once, none empty. Also how many items
/// were left out as repeats or empty.
pub fn seed_memories(items: &[LiveMemory]) -> (Vec<SeedMemory>, usize) {
    let mut memories: Vec<SeedMemory> = Vec::new();
    let mut left_out = 0;
    for item in items.iter().rev() {
        let memory = SeedMemory {
            kind: item.kind.clone(),
            content: item.content.clone(),
        };
        let same = |m: &SeedMemory| {
            m.kind == memory.kind
                && normalize_content(&m.content) == normalize_content(&memory.content)
        };
        if normalize_content(&memory.content).is_empty() || memories.iter().any(same) {
            left_out += 1;
            continue;
        }
        memories.push(memory);
    }
    (memories, left_out)
}

/// How one declared scope of a seed stands in the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeStatus {
    pub scope: String,
    /// Memories the seed declares for the scope.
    pub declared: usize,
    /// Of those, the ones the scope holds.
    pub present: usize,
    /// Memories in the scope the seed does not declare (the users' own).
    pub other: usize,
}

impl MemorySeed {
    /// Each declared scope against `live`, its store's scopes as read (a scope not read, or a
    /// store that does not exist, holds nothing).
    pub fn status(&self, live: Option<&BTreeMap<String, Vec<LiveMemory>>>) -> Vec<ScopeStatus> {
        self.scopes
            .iter()
            .map(|(scope, declared)| {
                let items = live
                    .and_then(|l| l.get(scope))
                    .map_or(&[][..], Vec::as_slice);
                ScopeStatus {
                    scope: scope.clone(),
                    declared: declared.len(),
                    present: declared
                        .iter()
                        .filter(|d| items.iter().any(|i| d.matches(i)))
                        .count(),
                    other: items
                        .iter()
                        .filter(|i| !declared.iter().any(|d| d.matches(i)))
                        .count(),
                }
            })
            .collect()
    }

    /// This seed as its scopes are now in the project: the same name, store and scopes, each
    /// holding the memories it holds live ([`seed_memories`]); scopes that hold none are left
    /// out (a seed cannot declare an empty scope). Also how many items were left out as
    /// repeats or empty.
    pub fn as_live(&self, live: Option<&BTreeMap<String, Vec<LiveMemory>>>) -> (MemorySeed, usize) {
        let mut left_out = 0;
        let scopes = self
            .scopes
            .keys()
            .filter_map(|scope| {
                let items = live
                    .and_then(|l| l.get(scope))
                    .map_or(&[][..], Vec::as_slice);
                let (memories, dropped) = seed_memories(items);
                left_out += dropped;
                (!memories.is_empty()).then(|| (scope.clone(), memories))
            })
            .collect();
        let seed = MemorySeed {
            name: self.name.clone(),
            store: self.store.clone(),
            scopes,
            exclusive: self.exclusive,
        };
        (seed, left_out)
    }
}

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

    fn item(id: &str, kind: &str, content: &str) -> LiveMemory {
        LiveMemory {
            id: id.into(),
            kind: kind.into(),
            content: content.into(),
        }
    }

    fn memory(kind: &str, content: &str) -> SeedMemory {
        SeedMemory {
            kind: kind.into(),
            content: content.into(),
        }
    }

    #[test]
    fn live_items_become_seed_memories_oldest_first_once_each() {
        // Newest first, as the service lists them.
        let items = [
            item("3", "user_profile", "Uses Helix."),
            item("2", "user_profile", " Uses  Helix. "),
            item("1", "chat_summary", "Asked about Rust."),
            item("0", "user_profile", "   "),
        ];
        let (memories, left_out) = seed_memories(&items);
        assert_eq!(
            memories,
            [
                memory("chat_summary", "Asked about Rust."),
                memory("user_profile", " Uses  Helix. ")
            ]
        );
        assert_eq!(left_out, 2);
    }

    #[test]
    fn a_seed_stands_by_scope_and_reads_back_as_it_is_live() {
        let seed = MemorySeed {
            name: SeedName::new("demo").unwrap(),
            store: MemoryStoreName::new("prefs").unwrap(),
            scopes: BTreeMap::from([
                (
                    "dana".to_owned(),
                    vec![
                        memory("user_profile", "Writes Python."),
                        memory("user_profile", "Uses VS Code."),
                    ],
                ),
                ("sam".to_owned(), vec![memory("user_profile", "Learns Go.")]),
            ]),
            exclusive: false,
        };
        let live = BTreeMap::from([(
            "dana".to_owned(),
            vec![
                item("b", "user_profile", "Prefers terse answers."),
                item("a", "user_profile", "Writes  Python."),
            ],
        )]);
        assert_eq!(
            seed.status(Some(&live)),
            [
                ScopeStatus {
                    scope: "dana".into(),
                    declared: 2,
                    present: 1,
                    other: 1
                },
                ScopeStatus {
                    scope: "sam".into(),
                    declared: 1,
                    present: 0,
                    other: 0
                },
            ]
        );
        let (now, left_out) = seed.as_live(Some(&live));
        assert_eq!(left_out, 0);
        assert_eq!(
            now.scopes,
            BTreeMap::from([(
                "dana".to_owned(),
                vec![
                    memory("user_profile", "Writes  Python."),
                    memory("user_profile", "Prefers terse answers.")
                ]
            )])
        );
        assert_eq!(seed.status(None)[0].present, 0);
    }
}
