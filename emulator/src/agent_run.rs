//! The simulated agent run: what the stand-in model does for one response. **Not a model.**
//!
//! When the agent version has a memory search tool, the tool searches its scope for the turn
//! (ranked as in [`crate::similarity`], see [`crate::recall`]) and adds the scope's static
//! `user_profile` memories, as the service injects them at the start of every response; then it
//! queues the turn's user messages as an ordinary memory update, due after the tool's
//! `update_delay`. The answer names the agent and version and tells back the nearest memories in
//! the second person ("You write Rust on Linux."), or says it has none; in a conversation it
//! also repeats the user's earlier turns, so a caller can see they were given.
//!
//! Everything here runs inside the caller's transaction and knows nothing of HTTP: the
//! Responses handler turns the result into the wire shape.

use std::time::Duration;

use rusqlite::Transaction;
use serde_json::{Map, Value, json};

use crate::store::error::StoreResult;
use crate::store::{stores, updates};
use crate::{extract, recall};

/// How many static profile memories the memory tool injects at most, beside the search's
/// `max_memories` (the service documents the injection, not its size).
const STATIC_MEMORIES: usize = 10;

/// What the memory tool did during one response.
pub struct MemoryCall {
    /// The turn's search results, best first, then the scope's static profile memories the
    /// search did not return.
    pub memories: Vec<Value>,
    /// The search results with their similarity to the turn, for the stand-in answer.
    pub found: Vec<recall::Found>,
    pub update_id: Option<String>,
    pub error: Option<Value>,
}

/// Searches the tool's scope and queues the write-back, in the caller's transaction.
pub fn use_memory_tool(
    tx: &Transaction<'_>,
    processing: Duration,
    tool: &Map<String, Value>,
    user: &str,
    items: &[Value],
) -> StoreResult<MemoryCall> {
    let store = tool
        .get("memory_store_name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let scope = tool
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("{{$userId}}")
        .replace("{{$userId}}", user);
    if !stores::exists(tx, store)? {
        return Ok(MemoryCall {
            memories: Vec::new(),
            found: Vec::new(),
            update_id: None,
            error: Some(
                json!({"code": "not_found", "message": format!("MemoryStore '{store}' not found")}),
            ),
        });
    }
    updates::advance(tx)?;
    let max = tool
        .get("search_options")
        .and_then(|o| o.get("max_memories"))
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(10);
    let query = extract::messages(items)
        .into_iter()
        .filter(|(role, _)| role == "user")
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(" ");
    let found = recall::search_scope(tx, store, &scope, &query, max)?;
    // The static profile memories come with every response, whatever the question.
    let mut recalled: Vec<Value> = found.iter().map(|f| f.memory.clone()).collect();
    for profile in recall::profile_memories(tx, store, &scope, STATIC_MEMORIES)? {
        if !recalled
            .iter()
            .any(|m| m["memory_id"] == profile["memory_id"])
        {
            recalled.push(profile);
        }
    }
    let user_items: Vec<Value> = items
        .iter()
        .filter(|i| i.get("role").and_then(Value::as_str) == Some("user"))
        .cloned()
        .collect();
    let delay = tool
        .get("update_delay")
        .and_then(Value::as_i64)
        .unwrap_or(300)
        .max(0);
    let update_id = updates::enqueue(tx, store, &scope, user_items, delay, processing)?;
    Ok(MemoryCall {
        memories: recalled,
        found,
        update_id: Some(update_id),
        error: None,
    })
}

/// The deterministic answer; `earlier` are the conversation's earlier user turns.
pub fn answer(
    agent: Option<(&str, &str)>,
    model: &str,
    call: Option<&MemoryCall>,
    earlier: &[String],
) -> String {
    let mut text = answer_turn(agent, model, call);
    if !earlier.is_empty() {
        text.push_str(" Earlier in this conversation you said: ");
        text.push_str(&earlier.join(" "));
    }
    text
}

fn answer_turn(agent: Option<(&str, &str)>, model: &str, call: Option<&MemoryCall>) -> String {
    let who = match agent {
        Some((name, version)) => format!("Agent {name} (version {version})"),
        None => format!("Model {model}"),
    };
    match call {
        None => format!("{who} (emulated) received your message."),
        Some(c) if c.memories.is_empty() => {
            format!("{who} (emulated): I have no memories of you yet.")
        }
        Some(c) => {
            let told: Vec<String> = relevant(c).iter().map(|m| second_person(m)).collect();
            format!("{who} (emulated), from memory: {}", told.join(" "))
        }
    }
}

/// How many memories the stand-in answer repeats at most.
const ANSWER_MEMORIES: usize = 3;

/// The memories the stand-in answer uses: the best match, and the next ones that score at
/// least half as well, up to [`ANSWER_MEMORIES`]; profile memories are preferred to chat
/// summaries, which repeat them. With no search result (a question of stop words only), the
/// newest profile memory.
fn relevant(call: &MemoryCall) -> Vec<&str> {
    let profile_first = |kind: &str| {
        call.found
            .iter()
            .filter(move |f| f.memory["kind"] == kind)
            .collect::<Vec<_>>()
    };
    let mut pool = profile_first("user_profile");
    if pool.is_empty() {
        pool = profile_first("chat_summary");
    }
    let Some(top) = pool.first().map(|f| f.score) else {
        return call.memories.iter().take(1).map(content).collect();
    };
    pool.iter()
        .filter(|f| f.score >= top / 2.0)
        .take(ANSWER_MEMORIES)
        .map(|f| content(&f.memory))
        .collect()
}

fn content(memory: &Value) -> &str {
    memory["content"].as_str().unwrap_or_default()
}

/// A memory told back to the user: `The user said: I write Rust.` → `You write Rust.`
fn second_person(memory: &str) -> String {
    let text = memory
        .strip_prefix("The user said: ")
        .or_else(|| memory.strip_prefix("Summary: the user said "))
        .unwrap_or(memory)
        .trim_end_matches('.');
    let mut out: Vec<String> = Vec::new();
    let mut after_i = false;
    for word in text.split(' ') {
        let (core, tail) = word
            .find(|c: char| !(c.is_alphanumeric() || c == '\''))
            .map_or((word, ""), |i| word.split_at(i));
        let swapped = match core.to_lowercase().as_str() {
            "i" => Some("you"),
            "i'm" => Some("you're"),
            "i've" => Some("you've"),
            "i'd" => Some("you'd"),
            "i'll" => Some("you'll"),
            "me" | "we" | "us" => Some("you"),
            "my" | "our" => Some("your"),
            "mine" | "ours" => Some("yours"),
            "myself" => Some("yourself"),
            "am" if after_i => Some("are"),
            "was" if after_i => Some("were"),
            _ => None,
        };
        after_i = core.eq_ignore_ascii_case("i");
        out.push(format!("{}{tail}", swapped.unwrap_or(core)));
    }
    let sentence = out.join(" ");
    let mut chars = sentence.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// The memory search tool of an agent version, if it has one.
pub fn memory_tool(version: &Value) -> Option<Map<String, Value>> {
    version["definition"]["tools"]
        .as_array()?
        .iter()
        .find(|t| {
            matches!(
                t["type"].as_str(),
                Some("memory_search" | "memory_search_preview")
            )
        })?
        .as_object()
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_are_told_back_in_the_second_person() {
        assert_eq!(
            second_person("The user said: I work mostly in Python and I like short answers."),
            "You work mostly in Python and you like short answers."
        );
        assert_eq!(
            second_person("The user said: My cat is called Miso."),
            "Your cat is called Miso."
        );
        assert_eq!(
            second_person("Summary: the user said I am learning Go; I'm on macOS."),
            "You are learning Go; you're on macOS."
        );
    }
}
