//! `kind: MemorySeed` → [`model::MemorySeed`].

use std::collections::BTreeMap;

use crate::model::{
    self, MemoryStoreName, SEED_MEMORY_KINDS, SeedMemory, SeedName, normalize_content,
};

use super::super::raw;
use super::super::yaml::Pos;
use super::common::Checker;

/// Where a seed names its store, checked against the declared stores once every document is
/// read, and the scopes it seeds there, which no other seed may seed too.
#[derive(Debug, Clone)]
pub struct SeedStoreRef {
    pub store: MemoryStoreName,
    pub pos: Option<Pos>,
    /// Each declared scope and where its memories are.
    pub scopes: Vec<(String, Option<Pos>)>,
}

/// Converts a parsed seed, recording every problem (names, kinds, empty content, the same
/// memory twice in a scope); the seed is `None` when it cannot be used. The store it names is
/// returned whenever that name is valid, so an undeclared store is reported beside the rest.
pub fn convert(
    check: &mut Checker<'_, '_>,
    seed: &raw::MemorySeed,
) -> (Option<model::MemorySeed>, Option<SeedStoreRef>) {
    let name = match SeedName::new(seed.metadata.name.value.clone()) {
        Ok(name) => Some(name),
        Err(error) => {
            check.error_hint(
                &seed.metadata.name,
                format!("invalid memory seed name: {error}"),
                "seed names are 1 to 63 ASCII letters, digits, '-', '_' or '.'",
            );
            None
        }
    };
    let spec = &seed.spec;
    let store = match MemoryStoreName::new(spec.memory_store_name.value.clone()) {
        Ok(store) => Some(store),
        Err(error) => {
            check.error_at(
                &spec.memory_store_name,
                format!("invalid memory_store_name: {error}"),
            );
            None
        }
    };
    let mut ok = true;
    if spec.scopes.is_empty() {
        check.error_hint(
            &seed.metadata.name,
            "this seed declares no scopes",
            "add `scopes:` with a scope (a user id) and its memories",
        );
        ok = false;
    }
    let mut scopes = BTreeMap::new();
    for (scope, memories) in &spec.scopes {
        if scope.trim().is_empty() {
            check.error_at(memories, "a scope name must not be empty");
            ok = false;
        } else if let Some(c) = scope.chars().find(|c| c.is_control()) {
            // As for a memory tool's `scope` and a probe's `user_id`: a scope is a user id
            // sent to the service and printed, never a terminal control.
            check.error_hint(
                memories,
                format!(
                    "scope name {scope:?} contains the control character {}",
                    c.escape_unicode()
                ),
                "a scope names a user: printable text, such as the user id the agent is called with",
            );
            ok = false;
        }
        if memories.value.is_empty() {
            check.error_hint(
                memories,
                format!("scope `{scope}` declares no memories"),
                "list at least one `{kind, content}`, or remove the scope",
            );
            ok = false;
        }
        let mut seen: Vec<(String, String)> = Vec::new();
        let mut declared = Vec::new();
        for memory in &memories.value {
            let kind = memory.kind.value.as_str();
            if !SEED_MEMORY_KINDS.contains(&kind) {
                check.error_hint(
                    &memory.kind,
                    format!("unknown memory kind `{kind}`"),
                    "the kinds are user_profile, chat_summary and procedural",
                );
                ok = false;
            }
            let normal = normalize_content(&memory.content.value);
            if normal.is_empty() {
                check.error_at(
                    &memory.content,
                    format!("a memory of scope `{scope}` has empty content"),
                );
                ok = false;
                continue;
            }
            let key = (kind.to_owned(), normal);
            if seen.contains(&key) {
                check.error_hint(
                    &memory.content,
                    format!("scope `{scope}` declares this {kind} memory twice"),
                    "memories are the same when kind and content (whitespace aside) are; keep one",
                );
                ok = false;
                continue;
            }
            seen.push(key);
            declared.push(SeedMemory {
                kind: kind.to_owned(),
                content: memory.content.value.clone(),
            });
        }
        scopes.insert(scope.clone(), declared);
    }
    let pos = check.doc.at(&spec.memory_store_name);
    let reference = store.clone().map(|store| SeedStoreRef {
        store,
        pos,
        scopes: spec
            .scopes
            .iter()
            .map(|(scope, memories)| (scope.clone(), check.doc.at(memories)))
            .collect(),
    });
    let seed = match (name, store, ok) {
        (Some(name), Some(store), true) => Some(model::MemorySeed {
            name,
            store,
            scopes,
            exclusive: spec.exclusive,
        }),
        _ => None,
    };
    (seed, reference)
}
