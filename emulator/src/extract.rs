//! Deterministic stand-ins for the service's memory models. **These are not the real models.**
//! The real service asks a chat model to extract facts and an embedding model to rank them; the
//! emulator must be offline, fast and repeatable, so it uses simple text rules instead:
//!
//! - *Extraction*: every user statement about the user (a sentence from a `role: "user"`
//!   message that is not a question and has a first-person word: I, my, me, we, our…) becomes
//!   one `user_profile` fact, `The user said: <statement>.`; when chat summaries
//!   are enabled the turn also yields one `chat_summary`,
//!   `Summary: the user said <s1>; <s2>.` Assistant messages never become memories.
//! - *Search* ranks a scope's memories by the deterministic similarity of
//!   [`crate::similarity`], the stand-in for the embedding model.
//!
//! Enough for what the emulator must show offline: recall across calls, and scope isolation.

use serde_json::Value;

/// The `(role, text)` of each message item; content may be a string or a list of text parts
/// (`input_text`, `output_text`, `text`). Items of other types are ignored.
pub fn messages(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .filter(|item| item.get("type").is_none_or(|t| t == "message"))
        .filter_map(|item| {
            let role = item.get("role")?.as_str()?.to_owned();
            let text = match item.get("content")? {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => return None,
            };
            Some((role, text))
        })
        .collect()
}

/// The statements in `text`: sentences that are not questions, trimmed, without the final stop.
pub fn statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '.' | '!' | '\n' | '?' => {
                let s = current.trim();
                if c != '?' && s.chars().filter(|c| c.is_alphanumeric()).count() >= 3 {
                    out.push(s.to_owned());
                }
                current.clear();
            }
            _ => current.push(c),
        }
    }
    let s = current.trim();
    if s.chars().filter(|c| c.is_alphanumeric()).count() >= 3 {
        out.push(s.to_owned());
    }
    out
}

/// Whether a statement speaks about the user (has a first-person word).
fn about_the_user(statement: &str) -> bool {
    const FIRST_PERSON: &[&str] = &[
        "i", "i'm", "i've", "i'd", "i'll", "me", "my", "mine", "myself", "we", "our", "us",
    ];
    statement
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .any(|w| FIRST_PERSON.contains(&w.to_lowercase().as_str()))
}

/// One extracted memory: `(kind in lower case, content)`.
pub type Fact = (&'static str, String);

/// The facts of one turn (see the module documentation).
pub fn extract(items: &[Value], profile: bool, summary: bool) -> Vec<Fact> {
    let said: Vec<String> = messages(items)
        .into_iter()
        .filter(|(role, _)| role == "user")
        .flat_map(|(_, text)| statements(&text))
        .filter(|s| about_the_user(s))
        .collect();
    let mut facts: Vec<Fact> = Vec::new();
    if profile {
        facts.extend(
            said.iter()
                .map(|s| ("user_profile", format!("The user said: {s}."))),
        );
    }
    if summary && !said.is_empty() {
        facts.push((
            "chat_summary",
            format!("Summary: the user said {}.", said.join("; ")),
        ));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_statements_become_facts_and_questions_do_not() {
        let items = vec![
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "I prefer dark roast coffee. What is my name?"}]}),
            json!({"role": "assistant", "content": "Noted. I like tea."}),
        ];
        let facts = extract(&items, true, true);
        assert_eq!(
            facts,
            vec![
                (
                    "user_profile",
                    "The user said: I prefer dark roast coffee.".to_owned()
                ),
                (
                    "chat_summary",
                    "Summary: the user said I prefer dark roast coffee.".to_owned()
                ),
            ]
        );
        assert!(extract(&items, false, false).is_empty());
        let garbage = vec![json!({"role": "user", "content": "<generator object at 0x1>"})];
        assert!(extract(&garbage, true, true).is_empty());
    }
}
