//! Turning a bare 404 into an error that helps: an unknown store names the stores that exist,
//! an unknown agent the agents that exist, an unknown version the versions that exist.
//!
//! Only called after a call has already failed with 404, so the happy path costs no extra
//! round trip; the list that explains the failure is one more call on the failure path.

use crate::foundry::{Client, ClientError};
use crate::model::{AgentName, MemoryStoreName};

/// `a, b, c`, or `(none)`.
fn names(list: &[String]) -> String {
    if list.is_empty() {
        "(none)".to_owned()
    } else {
        list.join(", ")
    }
}

/// The message for a store that is not in the project.
pub fn unknown_store(store: &str, existing: &[String]) -> String {
    let hint = if existing.is_empty() {
        "hint: the project has no memory stores yet; create one with `foundryctl apply -f DIR`"
            .to_owned()
    } else {
        format!(
            "hint: the memory stores in this project are: {}",
            names(existing)
        )
    };
    format!("memory store `{store}` does not exist in this project\n{hint}")
}

/// The message for an agent that is not in the project.
pub fn unknown_agent(agent: &str, existing: &[String]) -> String {
    let hint = if existing.is_empty() {
        "hint: the project has no agents yet; create one with `foundryctl apply -f DIR`".to_owned()
    } else {
        format!("hint: the agents in this project are: {}", names(existing))
    };
    format!("agent `{agent}` does not exist in this project\n{hint}")
}

/// The message for a version the agent does not have.
pub fn unknown_version(agent: &str, version: &str, existing: &[String]) -> String {
    format!(
        "agent `{agent}` has no version {version:?}\nhint: its versions are: {}; omit --version for the latest",
        names(existing)
    )
}

/// Explains a failed call on `store`: when it was a 404 and the store is indeed absent, an
/// error naming the stores that exist; otherwise the original error.
pub async fn explain_store(
    client: &Client,
    store: &MemoryStoreName,
    error: ClientError,
) -> anyhow::Error {
    if !error.is_not_found() {
        return error.into();
    }
    store_missing(client, store)
        .await
        .map_or_else(|| error.into(), anyhow::Error::msg)
}

/// `Some(message)` when `store` is not in the project (a failure to list is not an answer).
pub async fn store_missing(client: &Client, store: &MemoryStoreName) -> Option<String> {
    let stores = client.list_stores().await.ok()?;
    let mut existing: Vec<String> = stores.iter().map(|s| s.name.as_str().to_owned()).collect();
    if existing.iter().any(|s| s == store.as_str()) {
        return None;
    }
    existing.sort();
    Some(unknown_store(store.as_str(), &existing))
}

/// The message for a conversation that is not in the project.
pub fn unknown_conversation(id: &str) -> String {
    format!(
        "conversation `{id}` does not exist in this project\n\
         hint: start one with `foundryctl agent invoke NAME TEXT --new-conversation`"
    )
}

/// Explains a failed Responses call in `conversation`: an unknown conversation, else as
/// [`explain_agent`].
pub async fn explain_invoke(
    client: &Client,
    agent: &AgentName,
    version: Option<&str>,
    conversation: Option<&str>,
    error: ClientError,
) -> anyhow::Error {
    if error.is_not_found()
        && let Some(id) = conversation
        && let Ok(None) = client.get_conversation(id).await
    {
        return anyhow::Error::msg(unknown_conversation(id));
    }
    explain_agent(client, agent, version, error).await
}

/// Explains a failed Responses call: unknown agent, unknown version, or the original error.
pub async fn explain_agent(
    client: &Client,
    agent: &AgentName,
    version: Option<&str>,
    error: ClientError,
) -> anyhow::Error {
    if !error.is_not_found() {
        return error.into();
    }
    let Ok(agents) = client.list_agents().await else {
        return error.into();
    };
    let mut existing: Vec<String> = agents.iter().map(|a| a.name.as_str().to_owned()).collect();
    if !existing.iter().any(|a| a == agent.as_str()) {
        existing.sort();
        return anyhow::Error::msg(unknown_agent(agent.as_str(), &existing));
    }
    if let Some(version) = version
        && let Ok(versions) = client.list_agent_versions(agent).await
    {
        let mut existing: Vec<String> = versions.into_iter().map(|v| v.version).collect();
        if !existing.iter().any(|v| v == version) {
            existing.sort_by_key(|v| (v.len(), v.clone()));
            return anyhow::Error::msg(unknown_version(agent.as_str(), version, &existing));
        }
    }
    error.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_store_names_the_stores_that_exist() {
        let m = unknown_store("dev-prefs", &["dev-prefs-memory".into(), "team".into()]);
        assert_eq!(
            m,
            "memory store `dev-prefs` does not exist in this project\n\
             hint: the memory stores in this project are: dev-prefs-memory, team"
        );
        assert!(unknown_store("x", &[]).contains("no memory stores yet"));
    }

    #[test]
    fn an_unknown_agent_or_version_names_what_exists() {
        assert!(unknown_agent("bot", &["dev-buddy".into()]).ends_with("are: dev-buddy"));
        assert!(unknown_agent("bot", &[]).contains("no agents yet"));
        let m = unknown_version("dev-buddy", "7", &["1".into(), "2".into()]);
        assert!(
            m.starts_with("agent `dev-buddy` has no version \"7\""),
            "{m}"
        );
        assert!(m.contains("its versions are: 1, 2"), "{m}");
    }
}
