//! Recall: the memories a question brings back from one scope, as the service's vector search
//! does. Shared by `:search_memories` and the simulated agent run.
//!
//! Scope isolation is by construction: every function reads the memories of the one scope it
//! is given ([`crate::store::items::in_scope`]) and nothing else.

use rusqlite::Connection;
use serde_json::Value;

use crate::similarity;
use crate::store::error::StoreResult;
use crate::store::items;

/// A memory with its similarity to the query that found it.
pub struct Found {
    pub memory: Value,
    pub score: f64,
}

/// The scope's static memories: its `user_profile` memories, newest first, at most `max`. A
/// search with no query returns these, and the agent's memory tool injects them into every
/// response (as the service documents).
pub fn profile_memories(
    conn: &Connection,
    store: &str,
    scope: &str,
    max: usize,
) -> StoreResult<Vec<Value>> {
    Ok(items::in_scope(conn, store, scope)?
        .into_iter()
        .filter(|m| m["kind"] == "user_profile")
        .take(max)
        .collect())
}

/// The scope's nearest memories to `query`, best first, at most `max`, ranked by the stand-in
/// similarity ([`crate::similarity`]); equal scores go to the newer memory. Like a vector store,
/// a scope holding memories always has nearest neighbours: the answer is empty only for an empty
/// scope. A query with no content words (or none at all) returns the static profile memories.
pub fn search_scope(
    conn: &Connection,
    store: &str,
    scope: &str,
    query: &str,
    max: usize,
) -> StoreResult<Vec<Found>> {
    if similarity::embed(query).is_empty() {
        return Ok(profile_memories(conn, store, scope, max)?
            .into_iter()
            .map(|memory| Found { memory, score: 0.0 })
            .collect());
    }
    let all = items::in_scope(conn, store, scope)?;
    let texts: Vec<&str> = all
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default())
        .collect();
    let order = similarity::rank(query, &texts);
    Ok(order
        .into_iter()
        .take(max)
        .map(|(i, score)| Found {
            memory: all[i].clone(),
            score,
        })
        .collect())
}
