//! The memory workflow: memory items, `update_memories` and its result,
//! `search_memories`, `delete_scope`, and Responses with an agent reference.

use serde_json::{Value, json};

use super::client::Client;
use super::error::ClientError;
use super::request::{Order, RequestSpec};
use super::wire::{
    self, Conversation, ConversationItem, MemoryItem, MemoryKind, SearchResponse, UpdateResponse,
};
use crate::model::{AgentName, MemoryStoreName};

/// A conversation turn for `update_memories` and `search_memories`: a Responses input item
/// `{type: message, role, content}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

impl Message {
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            text: text.into(),
        }
    }

    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            text: text.into(),
        }
    }

    /// The content-array form the REST samples use (`input_text` for users, `output_text` for
    /// assistant turns).
    pub fn to_wire(&self) -> Value {
        let (role, part) = match self.role {
            Role::User => ("user", "input_text"),
            Role::Assistant => ("assistant", "output_text"),
        };
        json!({"type": "message", "role": role, "content": [{"type": part, "text": self.text}]})
    }
}

/// What `update_memories` accepted: the operation (usually `queued`) and where to poll it.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateStarted {
    pub update: UpdateResponse,
    pub operation_location: Option<String>,
}

/// An agent's answer through the Responses API.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentResponse {
    /// The assistant's text: every `output_text` part of every message, joined.
    pub text: String,
    /// The whole response, for callers that want tool calls (`memory_search_call`) or usage.
    pub raw: Value,
}

/// A `memory_search_call` output item of an agent's answer: what its memory tool found, and
/// the update that writes the turn back to memory. `memories` are left as sent (flat items on
/// the Responses surface), for each caller to read what it needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemorySearchCall<'a> {
    pub status: Option<&'a str>,
    pub update_id: Option<&'a str>,
    /// The call's error, when it has one (`null` counts as none).
    pub error: Option<&'a Value>,
    pub memories: &'a [Value],
}

impl AgentResponse {
    /// The `memory_search_call` items of the answer, in order; empty when the agent has no
    /// memory tool.
    pub fn memory_search_calls(&self) -> Vec<MemorySearchCall<'_>> {
        fn text<'v>(item: &'v Value, key: &str) -> Option<&'v str> {
            item.get(key).and_then(Value::as_str)
        }
        self.raw
            .get("output")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|item| item.get("type").and_then(Value::as_str) == Some("memory_search_call"))
            .map(|item| MemorySearchCall {
                status: text(item, "status"),
                update_id: text(item, "update_id"),
                error: item.get("error").filter(|e| !e.is_null()),
                memories: item
                    .get("memories")
                    .and_then(Value::as_array)
                    .map_or(&[], Vec::as_slice),
            })
            .collect()
    }
}

impl Client {
    // --- items --------------------------------------------------------------------------------

    pub async fn create_item(
        &self,
        store: &MemoryStoreName,
        scope: &str,
        content: &str,
        kind: &MemoryKind,
    ) -> Result<MemoryItem, ClientError> {
        let body = json!({"scope": scope, "content": content, "kind": kind.as_str()});
        self.call(&self.requests.create_item(store.as_str(), body))
            .await
    }

    pub async fn get_item(
        &self,
        store: &MemoryStoreName,
        memory_id: &str,
    ) -> Result<Option<MemoryItem>, ClientError> {
        self.call_optional(&self.requests.get_item(store.as_str(), memory_id))
            .await
    }

    pub async fn update_item(
        &self,
        store: &MemoryStoreName,
        memory_id: &str,
        content: &str,
    ) -> Result<MemoryItem, ClientError> {
        self.call(&self.requests.update_item(
            store.as_str(),
            memory_id,
            json!({"content": content}),
        ))
        .await
    }

    /// `Ok(false)` when the item was already absent.
    pub async fn delete_item(
        &self,
        store: &MemoryStoreName,
        memory_id: &str,
    ) -> Result<bool, ClientError> {
        self.delete(&self.requests.delete_item(store.as_str(), memory_id))
            .await
    }

    /// Every memory of a scope (`POST items:list`, all pages).
    pub async fn list_items(
        &self,
        store: &MemoryStoreName,
        scope: &str,
    ) -> Result<Vec<MemoryItem>, ClientError> {
        self.list_all("list memory items", |page| {
            self.requests.list_items(store.as_str(), scope, page)
        })
        .await
    }

    // --- updates ------------------------------------------------------------------------------

    /// Starts `update_memories`. `update_delay: Some(0)` asks for immediate processing (the
    /// service's default is 300 s).
    pub async fn update_memories(
        &self,
        store: &MemoryStoreName,
        scope: &str,
        messages: &[Message],
        previous_update_id: Option<&str>,
        update_delay: Option<u64>,
    ) -> Result<UpdateStarted, ClientError> {
        let mut body = json!({"scope": scope, "items": messages.iter().map(Message::to_wire).collect::<Vec<_>>()});
        if let Some(id) = previous_update_id {
            body["previous_update_id"] = json!(id);
        }
        if let Some(delay) = update_delay {
            body["update_delay"] = json!(delay);
        }
        let spec: RequestSpec = self.requests.update_memories(store.as_str(), body);
        let resp = self.transport.send(&spec).await?.ok(spec.operation)?;
        let operation_location = resp
            .headers
            .get("operation-location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(UpdateStarted {
            update: resp.json(spec.operation)?,
            operation_location,
        })
    }

    pub async fn get_update(
        &self,
        store: &MemoryStoreName,
        update_id: &str,
    ) -> Result<UpdateResponse, ClientError> {
        self.call(&self.requests.get_update(store.as_str(), update_id))
            .await
    }

    /// `update_memories`, then waits for its terminal status.
    pub async fn update_memories_and_wait(
        &self,
        store: &MemoryStoreName,
        scope: &str,
        messages: &[Message],
        update_delay: Option<u64>,
    ) -> Result<UpdateResponse, ClientError> {
        let started = self
            .update_memories(store, scope, messages, None, update_delay)
            .await?;
        self.wait_update(
            store.as_str(),
            &started.update,
            started.operation_location.as_deref(),
        )
        .await
    }

    // --- search and scopes --------------------------------------------------------------------

    /// Searches a scope. Without messages the service returns the scope's static profile
    /// memories; with them, the memories most relevant to them. There is no `query` field.
    pub async fn search_memories(
        &self,
        store: &MemoryStoreName,
        scope: &str,
        messages: &[Message],
        max_memories: Option<u32>,
    ) -> Result<SearchResponse, ClientError> {
        let mut body = json!({"scope": scope});
        if !messages.is_empty() {
            body["items"] = Value::Array(messages.iter().map(Message::to_wire).collect());
        }
        if let Some(max) = max_memories {
            body["options"] = json!({"max_memories": max});
        }
        self.call(&self.requests.search_memories(store.as_str(), body))
            .await
    }

    /// Deletes every memory of a scope; `Ok(false)` when the scope held none.
    pub async fn delete_scope(
        &self,
        store: &MemoryStoreName,
        scope: &str,
    ) -> Result<bool, ClientError> {
        let resp: wire::DeleteScopeResponse = self
            .call(&self.requests.delete_scope(store.as_str(), scope))
            .await?;
        Ok(resp.deleted)
    }

    // --- Responses ----------------------------------------------------------------------------

    /// Invokes an agent (its latest version unless `version` is given). `user_id` is sent as
    /// `x-memory-user-id`, which resolves a `{{$userId}}` memory scope.
    pub async fn invoke_agent(
        &self,
        agent: &AgentName,
        version: Option<&str>,
        input: &str,
        user_id: Option<&str>,
    ) -> Result<AgentResponse, ClientError> {
        self.invoke_agent_in_conversation(agent, version, input, user_id, None)
            .await
    }

    /// [`Client::invoke_agent`] inside a conversation (`conv_…`, see
    /// [`Client::create_conversation`]): the service appends the input and the answer to it and
    /// the agent sees its earlier turns; without one, every call starts with no history. An
    /// unknown conversation is a 404.
    pub async fn invoke_agent_in_conversation(
        &self,
        agent: &AgentName,
        version: Option<&str>,
        input: &str,
        user_id: Option<&str>,
        conversation: Option<&str>,
    ) -> Result<AgentResponse, ClientError> {
        let mut spec =
            self.requests
                .create_response(agent.as_str(), version, json!(input), user_id);
        if let (Some(id), Some(body)) = (conversation, spec.body.as_mut()) {
            // Recorded: the service accepts the id as a string as well as `{"id": …}`.
            body["conversation"] = json!(id);
        }
        let raw: Value = self.call(&spec).await?;
        Ok(AgentResponse {
            text: output_text(&raw),
            raw,
        })
    }
}

impl Client {
    // --- Conversations ------------------------------------------------------------------------

    /// Starts a conversation, holding `messages` already (none for an empty one).
    pub async fn create_conversation(
        &self,
        messages: &[Message],
    ) -> Result<Conversation, ClientError> {
        let mut body = json!({});
        if !messages.is_empty() {
            body["items"] = Value::Array(messages.iter().map(Message::to_wire).collect());
        }
        self.call(&self.requests.create_conversation(body)).await
    }

    /// `Ok(None)` when there is no such conversation.
    pub async fn get_conversation(&self, id: &str) -> Result<Option<Conversation>, ClientError> {
        self.call_optional(&self.requests.get_conversation(id))
            .await
    }

    /// Every item of a conversation, oldest first (all pages).
    pub async fn list_conversation_items(
        &self,
        id: &str,
    ) -> Result<Vec<ConversationItem>, ClientError> {
        self.list_all("list conversation items", |page| {
            let mut page = page.clone();
            page.order = Some(Order::Asc);
            self.requests.list_conversation_items(id, &page)
        })
        .await
    }
}

/// The assistant text of a Responses answer (`output_text` if the service provides the
/// convenience field, else the message parts).
pub fn output_text(response: &Value) -> String {
    if let Some(text) = response.get("output_text").and_then(Value::as_str) {
        return text.to_owned();
    }
    response
        .get("output")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|item| item.get("type").and_then(Value::as_str) == Some("message"))
        .flat_map(|item| {
            item.get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter(|part| part.get("type").and_then(Value::as_str) == Some("output_text"))
        .filter_map(|part| part.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_use_the_content_array_form() {
        assert_eq!(
            Message::user("I prefer dark roast").to_wire(),
            json!({"type":"message","role":"user","content":[{"type":"input_text","text":"I prefer dark roast"}]})
        );
        assert_eq!(
            Message::assistant("ok").to_wire()["content"][0]["type"],
            "output_text"
        );
    }

    #[test]
    fn output_text_joins_message_parts_and_skips_tool_calls() {
        let response = json!({"output": [
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Dark roast."}]},
            {"type": "memory_search_call", "memories": []}
        ]});
        assert_eq!(output_text(&response), "Dark roast.");
    }
}
