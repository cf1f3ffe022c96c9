//! Prompt agents: what a manifest declares and what the latest live version carries, in one
//! shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::names::{AgentName, MemoryStoreName};

/// A prompt agent the manifests declare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub name: AgentName,
    pub spec: AgentSpec,
}

/// The comparable content of a prompt agent version: the definition (`kind: prompt`) plus the
/// version's `description` and user labels. Any difference here means a new version.
///
/// Fields the REST API types loosely (`reasoning`, `tool_choice`, `text`, `structured_inputs`,
/// `rai_config`) are kept as JSON so that new service options never block a user; `None` means
/// "not declared" (desired) or "not present" (live).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentSpec {
    /// `""` when not declared, as the service reports it.
    pub description: String,
    /// User labels, stored in the version's `metadata` beside foundryctl's own stamps.
    pub labels: BTreeMap<String, String>,
    /// The model deployment name.
    pub model: String,
    pub instructions: Option<String>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub reasoning: Option<serde_json::Value>,
    pub tool_choice: Option<serde_json::Value>,
    pub text: Option<serde_json::Value>,
    pub structured_inputs: Option<serde_json::Value>,
    pub rai_config: Option<serde_json::Value>,
    pub tools: Vec<Tool>,
}

impl AgentSpec {
    /// The memory stores this agent's tools reference: each is an ordering edge (stores are
    /// created before, and deleted after, the agents that use them).
    pub fn referenced_stores(&self) -> impl Iterator<Item = &MemoryStoreName> {
        self.tools.iter().filter_map(|tool| match tool {
            Tool::MemorySearch(t) => Some(&t.memory_store_name),
            Tool::Other(_) => None,
        })
    }
}

/// One entry of `definition.tools`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    /// The memory search tool, independent of api-version: the client writes it as
    /// `memory_search_preview` on `v1` and `memory_search` on `2025-11-15-preview`.
    MemorySearch(MemorySearchTool),
    /// Any other tool, passed through as the JSON object the user wrote.
    Other(serde_json::Value),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemorySearchTool {
    pub memory_store_name: MemoryStoreName,
    /// Any string; `{{$userId}}` resolves per caller at run time and is kept verbatim here.
    pub scope: String,
    /// `search_options.max_memories`.
    pub max_memories: Option<u32>,
    /// Seconds of inactivity before the service writes the conversation to memory (service
    /// default 300).
    pub update_delay: Option<u64>,
}

impl MemorySearchTool {
    pub const DEFAULT_UPDATE_DELAY: u64 = 300;
}
