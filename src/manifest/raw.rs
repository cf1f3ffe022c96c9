//! Raw manifest types: the YAML shape, field for field, with locations where validation needs
//! them. They accept anything well-typed; the limits of the service are checked when
//! `validate` turns them into [`crate::model`] types. The JSON Schema is generated from these
//! types, so their doc comments are what editors show.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::yaml::Spanned;

/// The only `apiVersion` this foundryctl understands.
pub const API_VERSION: &str = "foundryctl/v1";

/// The first look at a document: just enough to choose the type to parse it as.
#[derive(Debug, Deserialize)]
pub(super) struct Header {
    #[serde(rename = "apiVersion", default)]
    pub api_version: Option<Spanned<String>>,
    #[serde(default)]
    pub kind: Option<Spanned<String>>,
}

/// A second look at a document, for `metadata.for_each` before the document is expanded. A
/// document this does not fit is reported by the typed parse, not here.
#[derive(Debug, Deserialize)]
pub(super) struct ForEachHeader {
    #[serde(default)]
    pub metadata: Option<ForEachMetadata>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ForEachMetadata {
    #[serde(default)]
    pub for_each: Option<Spanned<serde_json::Value>>,
}

/// `apiVersion: foundryctl/v1`.
#[derive(JsonSchema)]
#[expect(dead_code, reason = "exists only to describe the schema")]
enum ApiVersion {
    #[serde(rename = "foundryctl/v1")]
    V1,
}

/// `kind: MemoryStore`.
#[derive(JsonSchema)]
#[expect(dead_code, reason = "exists only to describe the schema")]
enum MemoryStoreKind {
    MemoryStore,
}

/// `kind: Agent`.
#[derive(JsonSchema)]
#[expect(dead_code, reason = "exists only to describe the schema")]
enum AgentKind {
    Agent,
}

/// `kind: MemorySeed`.
#[derive(JsonSchema)]
#[expect(dead_code, reason = "exists only to describe the schema")]
enum MemorySeedKind {
    MemorySeed,
}

/// Memories that must exist in given scopes of a memory store (demo users whose memories are
/// there from the first conversation). Written with the memory item API (api-version v1).
/// Memories the seed does not declare are left alone unless `exclusive: true`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemorySeed {
    #[serde(rename = "apiVersion")]
    #[schemars(with = "ApiVersion")]
    pub api_version: Spanned<String>,
    #[schemars(with = "MemorySeedKind")]
    pub kind: Spanned<String>,
    pub metadata: SeedMetadata,
    pub spec: MemorySeedSpec,
}

/// Name of a memory seed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedMetadata {
    /// The seed's name: ASCII letters, digits, `-`, `_` and `.`, at most 63 characters.
    #[schemars(
        with = "String",
        length(min = 1, max = 63),
        regex(pattern = r"^[A-Za-z0-9._-]+$")
    )]
    pub name: Spanned<String>,
    /// Expands this document into one copy per value, with `${each}` bound to the value
    /// wherever `${…}` is allowed: a list (`[att01, att02]`), or `{file: PATH}` (one value a
    /// line, `#` comments, PATH relative to this manifest). Names must differ between copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<ForEachSchema>")]
    pub for_each: Option<serde_json::Value>,
}

/// `spec` of a memory seed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemorySeedSpec {
    /// The memory store the memories live in: a `MemoryStore` the manifests declare.
    #[schemars(with = "String", length(min = 1))]
    pub memory_store_name: Spanned<String>,
    /// Scope (a user id) → the memories it must hold.
    #[schemars(with = "BTreeMap<String, Vec<SeedMemory>>")]
    pub scopes: BTreeMap<String, Spanned<Vec<SeedMemory>>>,
    /// Make each declared scope hold exactly the declared memories: the others in it are
    /// deleted, which loses data and is blocked unless the store is disposable or the run says
    /// `--allow-delete memory_seed/NAME`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
}

/// One memory of a scope.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedMemory {
    /// `user_profile` (facts about the user), `chat_summary` or `procedural`.
    #[schemars(with = "SeedMemoryKind")]
    pub kind: Spanned<String>,
    /// The memory's text; whitespace differences do not make two memories different.
    #[schemars(with = "String", length(min = 1))]
    pub content: Spanned<String>,
}

/// The kinds of memory a seed may write.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[expect(dead_code, reason = "exists only to describe the schema")]
enum SeedMemoryKind {
    UserProfile,
    ChatSummary,
    Procedural,
}

/// A memory store: where an agent's memories of each user live. Models and options are fixed
/// at creation; changing them replaces the store and deletes its memories.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryStore {
    #[serde(rename = "apiVersion")]
    #[schemars(with = "ApiVersion")]
    pub api_version: Spanned<String>,
    #[schemars(with = "MemoryStoreKind")]
    pub kind: Spanned<String>,
    pub metadata: StoreMetadata,
    pub spec: MemoryStoreSpec,
}

/// A prompt agent. Any change to it creates a new agent version.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    #[serde(rename = "apiVersion")]
    #[schemars(with = "ApiVersion")]
    pub api_version: Spanned<String>,
    #[schemars(with = "AgentKind")]
    pub kind: Spanned<String>,
    pub metadata: AgentMetadata,
    pub spec: AgentSpec,
}

/// Name and labels of a memory store.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreMetadata {
    /// The store's name: 1 to 256 characters, no whitespace or `/ ? # : % \`.
    #[schemars(
        with = "String",
        length(min = 1, max = 256),
        regex(pattern = r"^[^\s/?#:%\\]+$")
    )]
    pub name: Spanned<String>,
    /// User labels, stored in the resource's `metadata` (at most 13: foundryctl's own three
    /// stamps share the service's 16 keys). Keys up to 64 characters, values up to 512.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "Labels")]
    pub labels: BTreeMap<String, Spanned<String>>,
    /// Expands this document into one copy per value, with `${each}` bound to the value
    /// wherever `${…}` is allowed: a list (`[att01, att02]`), or `{file: PATH}` (one value a
    /// line, `#` comments, PATH relative to this manifest). Names must differ between copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<ForEachSchema>")]
    pub for_each: Option<serde_json::Value>,
}

/// Name and labels of an agent.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentMetadata {
    /// The agent's name: ASCII letters, digits and inner hyphens, at most 63 characters.
    #[schemars(
        with = "String",
        length(min = 1, max = 63),
        regex(pattern = r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
    )]
    pub name: Spanned<String>,
    /// User labels, stored in the version's `metadata` (at most 13: foundryctl's own three
    /// stamps share the service's 16 keys). Keys up to 64 characters, values up to 512.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "Labels")]
    pub labels: BTreeMap<String, Spanned<String>>,
    /// Expands this document into one copy per value, with `${each}` bound to the value
    /// wherever `${…}` is allowed: a list (`[att01, att02]`), or `{file: PATH}` (one value a
    /// line, `#` comments, PATH relative to this manifest). Names must differ between copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<ForEachSchema>")]
    pub for_each: Option<serde_json::Value>,
}

/// The schema of `for_each`: values, or the file that lists them.
#[derive(JsonSchema)]
#[serde(untagged)]
#[expect(dead_code, reason = "exists only to describe the schema")]
enum ForEachSchema {
    Values(#[schemars(length(min = 1))] Vec<ForEachValue>),
    File(ForEachFile),
}

/// One `for_each` value: what `${each}` stands for in one copy.
#[derive(JsonSchema)]
#[expect(dead_code, reason = "exists only to describe the schema")]
struct ForEachValue(#[schemars(length(min = 1))] String);

/// `for_each: {file: PATH}`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "exists only to describe the schema")]
struct ForEachFile {
    /// A text file, one value a line; blank lines and `#` comments are skipped. Relative to
    /// the manifest that names it.
    #[schemars(length(min = 1))]
    file: String,
}

/// The schema of `labels`: a small string map.
#[derive(JsonSchema)]
#[schemars(extend(
    "maxProperties" = 13,
    "propertyNames" = {"minLength": 1, "maxLength": 64},
    "additionalProperties" = {"type": "string", "maxLength": 512}
))]
#[expect(dead_code, reason = "exists only to describe the schema")]
struct Labels(BTreeMap<String, String>);

/// `spec` of a memory store, with the REST API's field names.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryStoreSpec {
    /// Up to 512 characters. Can change in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", length(max = 512))]
    pub description: Option<Spanned<String>>,
    /// The chat model deployment used to extract memories. Create-only.
    #[schemars(with = "String", length(min = 1))]
    pub chat_model: Spanned<String>,
    /// The embedding model deployment used to search memories. Create-only.
    #[schemars(with = "String", length(min = 1))]
    pub embedding_model: Spanned<String>,
    /// Memory options. Create-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<MemoryStoreOptions>,
    /// foundryctl's own setting (not sent to the service): how protective to be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
}

/// `definition.options` of a memory store.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryStoreOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_profile_enabled: Option<bool>,
    /// What to remember about each user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_profile_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_summary_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedural_memory_enabled: Option<bool>,
    /// Seconds before a memory expires; 0 keeps memories forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_ttl_seconds: Option<u64>,
}

/// foundryctl's protection settings for a store.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// `true` lets `apply` replace or delete this store (losing its memories) without
    /// `--allow-replace`/`--allow-delete`. For demo and workshop stores.
    #[serde(default)]
    pub disposable: bool,
}

/// `spec` of a prompt agent, with the REST API's field names (`definition` flattened in).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// Up to 512 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", length(max = 512))]
    pub description: Option<Spanned<String>>,
    /// The model deployment name.
    #[schemars(with = "String", length(min = 1))]
    pub model: Spanned<String>,
    /// The system prompt. `${VAR}` is expanded here as in every value, block scalars (`|`)
    /// included; write `$$` for a literal `$`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Sampling temperature, 0 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<f64>", range(min = 0.0, max = 2.0))]
    pub temperature: Option<Spanned<f64>>,
    /// Nucleus sampling, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<f64>", range(min = 0.0, max = 1.0))]
    pub top_p: Option<Spanned<f64>>,
    /// Passed to the service as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<serde_json::Value>,
    /// Passed to the service as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<serde_json::Value>,
    /// Passed to the service as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<serde_json::Value>,
    /// Passed to the service as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_inputs: Option<serde_json::Value>,
    /// Passed to the service as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rai_config: Option<serde_json::Value>,
    /// The agent's tools. `memory_search` is checked; every other tool is passed through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<ToolSchema>")]
    pub tools: Vec<Spanned<serde_json::Value>>,
    /// foundryctl's own setting (not sent to the service): the probes `foundryctl check`
    /// runs against this agent. Without any, `check` asks one default question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Probe>,
}

/// One probe of `foundryctl check`: a question put to the agent, as a user, and what the
/// answer and the memories its memory tool recalled must contain.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// The question.
    #[schemars(with = "String", length(min = 1))]
    pub ask: Spanned<String>,
    /// Who asks (sent as `x-memory-user-id`, resolving a `{{$userId}}` memory scope). The
    /// agent's memory tool may write the probe's turn into this user's memories. Without it,
    /// the probe asks as a throw-away user whose memories `check` forgets afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", length(min = 1))]
    pub user_id: Option<Spanned<String>>,
    /// What must hold for the probe to pass (besides an answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<ProbeExpect>,
}

/// `expect` of a probe; each text is matched case-insensitively.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeExpect {
    /// A recalled memory must contain this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", length(min = 1))]
    pub memory_recalled: Option<Spanned<String>>,
    /// The answer must contain this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", length(min = 1))]
    pub answer_contains: Option<Spanned<String>>,
}

/// The memory search tool. Written `memory_search` or `memory_search_preview` (the spelling
/// differs by api-version; foundryctl sends the right one for the api-version in use).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemorySearchTool {
    #[serde(rename = "type")]
    pub tool_type: MemorySearchType,
    /// The store to search; declare it in the manifests or have it in the project.
    #[schemars(length(min = 1))]
    pub memory_store_name: String,
    /// Whose memories: `{{$userId}}` resolves per caller at run time (it is not a `${VAR}`
    /// reference, so it is kept as written).
    #[schemars(length(min = 1))]
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_options: Option<SearchOptions>,
    /// Seconds of inactivity before the conversation is written to memory (service default
    /// 300; 0 writes immediately).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_delay: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemorySearchType {
    MemorySearch,
    MemorySearchPreview,
}

/// `search_options` of the memory search tool.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchOptions {
    /// How many memories a search returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memories: Option<u32>,
}

/// The schema of one tool: the typed memory search tool, or any other tool object.
#[derive(JsonSchema)]
#[serde(untagged)]
#[expect(dead_code, reason = "exists only to describe the schema")]
enum ToolSchema {
    MemorySearch(MemorySearchTool),
    Other(OtherTool),
}

/// Any other tool (`code_interpreter`, `mcp`, `function`, …), passed through as written.
#[derive(JsonSchema)]
#[expect(dead_code, reason = "exists only to describe the schema")]
struct OtherTool {
    #[serde(rename = "type")]
    #[schemars(extend("not" = {"enum": ["memory_search", "memory_search_preview"]}))]
    tool_type: String,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

/// A foundryctl manifest document: a `MemoryStore`, an `Agent` or a `MemorySeed`. Any value (plain, quoted or
/// block) may use `${VAR}`, `${VAR:-default}` and `$$` for a literal `$`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[schemars(title = "foundryctl manifest")]
#[expect(dead_code, reason = "exists only to describe the schema")]
#[expect(
    clippy::large_enum_variant,
    reason = "never constructed; describes the schema only"
)]
pub(super) enum Document {
    MemoryStore(MemoryStore),
    Agent(Agent),
    MemorySeed(MemorySeed),
}
