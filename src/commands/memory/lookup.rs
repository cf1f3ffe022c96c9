//! Turning a bare 404 into an error that helps: an unknown store names the stores that exist,
//! an unknown agent the agents that exist, an unknown version the versions that exist.
//!
//! Only called after a call has already failed with 404, so the happy path costs no extra
//! round trip; the list that explains the failure is one more call on the failure path.

use crate::exit::{ExitStatus, StatusError};
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

/// The error for a store that is not in the project.
pub fn unknown_store(store: &str, existing: &[String]) -> StatusError {
    unknown("memory store", "memory stores", store, existing)
}

/// The error for an agent that is not in the project.
pub fn unknown_agent(agent: &str, existing: &[String]) -> StatusError {
    unknown("agent", "agents", agent, existing)
}

/// The error for a `kind` named `name` that is not in the project, with a hint listing the
/// `kinds` that are (or saying how to make the first).
fn unknown(kind: &str, kinds: &str, name: &str, existing: &[String]) -> StatusError {
    let hint = if existing.is_empty() {
        format!("the project has no {kinds} yet; create one with `foundryctl apply -f DIR`")
    } else {
        format!("the {kinds} in this project are: {}", names(existing))
    };
    StatusError::new(
        ExitStatus::Error,
        format!("{kind} `{name}` does not exist in this project"),
    )
    .with_hint(hint)
}

/// The error for a version the agent does not have.
pub fn unknown_version(agent: &str, version: &str, existing: &[String]) -> StatusError {
    StatusError::new(
        ExitStatus::Error,
        format!("agent `{agent}` has no version {version:?}"),
    )
    .with_hint(format!(
        "its versions are: {}; omit --version for the latest",
        names(existing)
    ))
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
        .map_or_else(|| error.into(), anyhow::Error::from)
}

/// The value of a call on `store`, or its error explained ([`explain_store`]) under `context`.
pub async fn on_store<T>(
    client: &Client,
    store: &MemoryStoreName,
    result: Result<T, ClientError>,
    context: impl std::fmt::Display + Send + Sync + 'static,
) -> anyhow::Result<T> {
    match result {
        Ok(value) => Ok(value),
        Err(e) => Err(explain_store(client, store, e).await.context(context)),
    }
}

/// `Some(error)` when `store` is not in the project (a failure to list is not an answer).
pub async fn store_missing(client: &Client, store: &MemoryStoreName) -> Option<StatusError> {
    let stores = client.list_stores().await.ok()?;
    let mut existing: Vec<String> = stores.iter().map(|s| s.name.as_str().to_owned()).collect();
    if existing.iter().any(|s| s == store.as_str()) {
        return None;
    }
    existing.sort();
    Some(unknown_store(store.as_str(), &existing))
}

/// The error for a conversation that is not in the project.
pub fn unknown_conversation(id: &str) -> StatusError {
    StatusError::new(
        ExitStatus::Error,
        format!("conversation `{id}` does not exist in this project"),
    )
    .with_hint("start one with `foundryctl agent invoke NAME TEXT --new-conversation`")
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
        return unknown_conversation(id).into();
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
        return unknown_agent(agent.as_str(), &existing).into();
    }
    if let Some(version) = version
        && let Ok(versions) = client.list_agent_versions(agent).await
    {
        let mut existing: Vec<String> = versions.into_iter().map(|v| v.version).collect();
        if !existing.iter().any(|v| v == version) {
            existing.sort_by_key(|v| (v.len(), v.clone()));
            return unknown_version(agent.as_str(), version, &existing).into();
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
            m.message,
            "memory store `dev-prefs` does not exist in this project"
        );
        assert_eq!(
            m.hints,
            ["the memory stores in this project are: dev-prefs-memory, team"]
        );
        assert!(unknown_store("x", &[]).hints[0].contains("no memory stores yet"));
    }

    #[test]
    fn an_unknown_agent_or_version_names_what_exists() {
        assert!(unknown_agent("bot", &["dev-buddy".into()]).hints[0].ends_with("are: dev-buddy"));
        assert!(unknown_agent("bot", &[]).hints[0].contains("no agents yet"));
        let m = unknown_version("dev-buddy", "7", &["1".into(), "2".into()]);
        assert_eq!(m.message, "agent `dev-buddy` has no version \"7\"");
        assert!(m.hints[0].contains("its versions are: 1, 2"), "{m}");
    }
}
