//! Wire ↔ model. Reading turns REST shapes into the planner's vocabulary (the memory tool under
//! either type name becomes [`model::Tool::MemorySearch`]); writing turns model specs plus the
//! metadata to stamp into request bodies, with the memory tool type of the api-version in use.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::request::{ApiVersion, MEMORY_TOOL_PREVIEW, MEMORY_TOOL_V1};
use super::wire;
use crate::model::{
    AgentName, AgentSpec, LiveAgentVersion, LiveMemory, LiveMemoryStore, MemorySearchTool,
    MemoryStoreName, MemoryStoreOptions, MemoryStoreSpec, NameError, Tool, labels_of,
};

/// A live resource foundryctl cannot represent (a name outside the rules every manifest name
/// follows). Such a resource can never be declared, so it can never be in a plan.
#[derive(Debug, thiserror::Error)]
/// The name error is part of the message (it is logged on one line), not also a source.
#[error("`{name}` is not a name foundryctl can manage: {reason}")]
pub struct UnmanageableName {
    pub name: String,
    pub reason: NameError,
}

// --- reading --------------------------------------------------------------------------------

/// A memory item as a seed compares it (id, kind, content).
pub fn live_memory(item: &wire::MemoryItem) -> LiveMemory {
    LiveMemory {
        id: item.memory_id.clone(),
        kind: item.kind.as_str().to_owned(),
        content: item.content.clone(),
    }
}

pub fn live_store(store: wire::MemoryStore) -> Result<LiveMemoryStore, UnmanageableName> {
    let name = MemoryStoreName::new(store.name.clone()).map_err(|reason| UnmanageableName {
        name: store.name.clone(),
        reason,
    })?;
    let options = store.definition.options.unwrap_or_default();
    let spec = MemoryStoreSpec {
        description: store.description,
        labels: labels_of(&store.metadata),
        chat_model: store.definition.chat_model,
        embedding_model: store.definition.embedding_model,
        options: MemoryStoreOptions {
            user_profile_enabled: options.user_profile_enabled,
            user_profile_details: options.user_profile_details,
            chat_summary_enabled: options.chat_summary_enabled,
            procedural_memory_enabled: options.procedural_memory_enabled,
            default_ttl_seconds: options.default_ttl_seconds,
        },
    };
    Ok(LiveMemoryStore {
        name,
        id: store.id,
        created_at: store.created_at,
        updated_at: store.updated_at,
        metadata: store.metadata,
        spec,
    })
}

pub fn agent_name(name: &str) -> Result<AgentName, UnmanageableName> {
    AgentName::new(name).map_err(|reason| UnmanageableName {
        name: name.to_owned(),
        reason,
    })
}

pub fn live_agent_version(version: wire::AgentVersion) -> LiveAgentVersion {
    let spec = prompt_spec(&version);
    LiveAgentVersion {
        version: version.version,
        created_at: version.created_at,
        metadata: version.metadata,
        spec,
    }
}

/// The comparable content of a `kind: prompt` version; `None` for any other kind.
fn prompt_spec(version: &wire::AgentVersion) -> Option<AgentSpec> {
    let def = version.definition.as_object()?;
    if def.get("kind").and_then(Value::as_str) != Some("prompt") {
        return None;
    }
    let present = |key: &str| def.get(key).filter(|v| !v.is_null()).cloned();
    Some(AgentSpec {
        description: version.description.clone(),
        labels: labels_of(&version.metadata),
        model: def
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        instructions: def
            .get("instructions")
            .and_then(Value::as_str)
            .map(str::to_owned),
        temperature: def.get("temperature").and_then(Value::as_f64),
        top_p: def.get("top_p").and_then(Value::as_f64),
        reasoning: present("reasoning"),
        tool_choice: present("tool_choice"),
        text: present("text"),
        structured_inputs: present("structured_inputs"),
        rai_config: present("rai_config"),
        tools: def
            .get("tools")
            .and_then(Value::as_array)
            .map(|tools| tools.iter().map(tool).collect())
            .unwrap_or_default(),
    })
}

/// A tool from the wire: the memory tool under either api-version's type name is typed; any
/// other tool (or a memory tool naming a store foundryctl cannot address) stays JSON.
pub fn tool(value: &Value) -> Tool {
    let ty = value.get("type").and_then(Value::as_str);
    if matches!(ty, Some(MEMORY_TOOL_V1 | MEMORY_TOOL_PREVIEW))
        && let Ok(wire) = serde_json::from_value::<wire::MemorySearchTool>(value.clone())
        && let Ok(store) = MemoryStoreName::new(wire.memory_store_name)
    {
        return Tool::MemorySearch(MemorySearchTool {
            memory_store_name: store,
            scope: wire.scope,
            max_memories: wire.search_options.and_then(|o| o.max_memories),
            update_delay: wire.update_delay,
        });
    }
    Tool::Other(value.clone())
}

// --- writing --------------------------------------------------------------------------------

/// The body of `POST /memory_stores`. When options are sent, the two booleans the schema
/// requires are always sent (the service's defaults when undeclared); the newer options only
/// when declared, so the preview api-version never sees fields it does not know.
pub fn create_store_body(
    name: &MemoryStoreName,
    spec: &MemoryStoreSpec,
    metadata: &BTreeMap<String, String>,
) -> wire::CreateMemoryStore {
    let o = &spec.options;
    wire::CreateMemoryStore {
        name: name.as_str().to_owned(),
        description: spec.description.clone(),
        metadata: metadata.clone(),
        definition: wire::MemoryStoreDefinition {
            kind: "default".into(),
            chat_model: spec.chat_model.clone(),
            embedding_model: spec.embedding_model.clone(),
            options: Some(wire::MemoryStoreOptions {
                user_profile_enabled: Some(
                    o.user_profile_enabled
                        .unwrap_or(MemoryStoreOptions::DEFAULT_USER_PROFILE_ENABLED),
                ),
                user_profile_details: o.user_profile_details.clone(),
                chat_summary_enabled: Some(
                    o.chat_summary_enabled
                        .unwrap_or(MemoryStoreOptions::DEFAULT_CHAT_SUMMARY_ENABLED),
                ),
                procedural_memory_enabled: o.procedural_memory_enabled,
                default_ttl_seconds: o.default_ttl_seconds,
            }),
        },
    }
}

pub fn update_store_body(
    description: &str,
    metadata: &BTreeMap<String, String>,
) -> wire::UpdateMemoryStore {
    wire::UpdateMemoryStore {
        description: description.to_owned(),
        metadata: metadata.clone(),
    }
}

/// The body of `POST /agents/{name}/versions` for a prompt agent. Undeclared optional fields
/// are left out (the service stores exactly what was sent); `tools` only when there are some.
pub fn agent_version_body(
    spec: &AgentSpec,
    metadata: &BTreeMap<String, String>,
    api: ApiVersion,
) -> wire::CreateAgentVersion {
    let mut def = Map::new();
    def.insert("kind".into(), json!("prompt"));
    def.insert("model".into(), json!(spec.model));
    if let Some(v) = &spec.instructions {
        def.insert("instructions".into(), json!(v));
    }
    if let Some(v) = spec.temperature {
        def.insert("temperature".into(), json!(v));
    }
    if let Some(v) = spec.top_p {
        def.insert("top_p".into(), json!(v));
    }
    for (key, value) in [
        ("reasoning", &spec.reasoning),
        ("tool_choice", &spec.tool_choice),
        ("text", &spec.text),
        ("structured_inputs", &spec.structured_inputs),
        ("rai_config", &spec.rai_config),
    ] {
        if let Some(v) = value {
            def.insert(key.into(), v.clone());
        }
    }
    if !spec.tools.is_empty() {
        def.insert(
            "tools".into(),
            Value::Array(spec.tools.iter().map(|t| tool_body(t, api)).collect()),
        );
    }
    wire::CreateAgentVersion {
        description: spec.description.clone(),
        metadata: metadata.clone(),
        definition: Value::Object(def),
    }
}

/// A tool on the wire: the memory tool gets the type its api-version knows.
pub fn tool_body(tool: &Tool, api: ApiVersion) -> Value {
    match tool {
        Tool::MemorySearch(t) => {
            let mut v = json!({
                "type": api.memory_tool_type(),
                "memory_store_name": t.memory_store_name.as_str(),
                "scope": t.scope,
            });
            if let Some(max) = t.max_memories {
                v["search_options"] = json!({ "max_memories": max });
            }
            if let Some(delay) = t.update_delay {
                v["update_delay"] = json!(delay);
            }
            v
        }
        Tool::Other(v) => v.clone(),
    }
}

/// Whether a live store is the one a create sent: how a create whose answer was lost is
/// recognised on read-back. Metadata carries foundryctl's hash stamp, so equal metadata plus
/// equal description and models identify our write.
pub fn store_matches(live: &wire::MemoryStore, sent: &wire::CreateMemoryStore) -> bool {
    live.metadata == sent.metadata
        && live.description == sent.description
        && live.definition.chat_model == sent.definition.chat_model
        && live.definition.embedding_model == sent.definition.embedding_model
}

/// Whether a live agent version is the one a create sent (see [`store_matches`]). The model
/// and instructions are compared too, for callers that stamp no hash.
pub fn agent_version_matches(live: &wire::AgentVersion, sent: &wire::CreateAgentVersion) -> bool {
    let field = |v: &Value, k: &str| v.get(k).cloned();
    live.metadata == sent.metadata
        && live.description == sent.description
        && field(&live.definition, "kind") == field(&sent.definition, "kind")
        && field(&live.definition, "model") == field(&sent.definition, "model")
        && field(&live.definition, "instructions") == field(&sent.definition, "instructions")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(definition: Value, metadata: &[(&str, &str)]) -> wire::AgentVersion {
        wire::AgentVersion {
            id: Some("a:1".into()),
            name: "a".into(),
            version: "1".into(),
            description: "d".into(),
            metadata: metadata
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            created_at: 1,
            definition,
        }
    }

    fn spec_with_memory_tool() -> AgentSpec {
        AgentSpec {
            description: "d".into(),
            model: "gpt-4.1-mini".into(),
            instructions: Some("Be brief.\n".into()),
            temperature: Some(0.5),
            tools: vec![
                Tool::MemorySearch(MemorySearchTool {
                    memory_store_name: MemoryStoreName::new("prefs").unwrap(),
                    scope: "{{$userId}}".into(),
                    max_memories: Some(5),
                    update_delay: Some(1),
                }),
                Tool::Other(json!({"type": "code_interpreter"})),
            ],
            ..AgentSpec::default()
        }
    }

    #[test]
    fn the_memory_tool_is_written_with_the_type_of_the_api_version() {
        let spec = spec_with_memory_tool();
        let v1 = agent_version_body(&spec, &BTreeMap::new(), ApiVersion::V1);
        assert_eq!(v1.definition["tools"][0]["type"], "memory_search_preview");
        assert_eq!(
            v1.definition["tools"][0]["search_options"],
            json!({"max_memories": 5})
        );
        assert_eq!(
            v1.definition["tools"][1],
            json!({"type": "code_interpreter"})
        );
        let preview = agent_version_body(&spec, &BTreeMap::new(), ApiVersion::Preview20251115);
        assert_eq!(preview.definition["tools"][0]["type"], "memory_search");
        assert!(
            v1.definition.get("top_p").is_none(),
            "undeclared fields are not sent"
        );
    }

    #[test]
    fn both_memory_tool_type_names_read_back_as_the_typed_tool() {
        let spec = spec_with_memory_tool();
        for api in [ApiVersion::V1, ApiVersion::Preview20251115] {
            let body =
                agent_version_body(&spec, &BTreeMap::from([("team".into(), "x".into())]), api);
            let live = live_agent_version(version(body.definition, &[("team", "x")]));
            let mut expected = spec.clone();
            expected.labels = BTreeMap::from([("team".into(), "x".into())]);
            assert_eq!(live.spec, Some(expected), "{api:?}");
        }
    }

    #[test]
    fn the_recorded_preview_memory_tool_reads_without_search_options() {
        let def = json!({"kind":"prompt","model":"gpt-4o","tools":[{"type":"memory_search","memory_store_name":"test_memory_store","scope":"test_user_123","update_delay":1}]});
        let spec = live_agent_version(version(def, &[])).spec.unwrap();
        assert_eq!(
            spec.tools,
            vec![Tool::MemorySearch(MemorySearchTool {
                memory_store_name: MemoryStoreName::new("test_memory_store").unwrap(),
                scope: "test_user_123".into(),
                max_memories: None,
                update_delay: Some(1),
            })]
        );
    }

    #[test]
    fn non_prompt_definitions_have_no_spec_but_keep_their_stamps() {
        let live = live_agent_version(version(
            json!({"kind": "workflow", "workflow": "..."}),
            &[("managed-by", "foundryctl")],
        ));
        assert_eq!(live.spec, None);
        assert_eq!(live.metadata["managed-by"], "foundryctl");
    }

    #[test]
    fn store_labels_exclude_the_stamps_and_options_stay_as_reported() {
        let store: wire::MemoryStore = serde_json::from_value(json!({
            "object":"memory_store","id":"memstore_1","created_at":1,"updated_at":2,"name":"prefs","description":"",
            "metadata":{"managed-by":"foundryctl","foundryctl-set":"default","foundryctl-hash":"h","team":"devex"},
            "definition":{"kind":"default","chat_model":"c","embedding_model":"e","options":{"user_profile_enabled":true,"chat_summary_enabled":true}}
        })).unwrap();
        let live = live_store(store).unwrap();
        assert_eq!(
            live.spec.labels,
            BTreeMap::from([("team".into(), "devex".into())])
        );
        assert_eq!(
            live.spec.options.procedural_memory_enabled, None,
            "never echoed, so unknown"
        );
        assert!(live.ownership().managed);
    }

    #[test]
    fn create_store_always_sends_the_required_booleans() {
        let spec = MemoryStoreSpec {
            chat_model: "c".into(),
            embedding_model: "e".into(),
            ..Default::default()
        };
        let body = serde_json::to_value(create_store_body(
            &MemoryStoreName::new("s").unwrap(),
            &spec,
            &BTreeMap::new(),
        ))
        .unwrap();
        assert_eq!(
            body["definition"]["options"],
            json!({"user_profile_enabled": true, "chat_summary_enabled": true})
        );
        assert_eq!(body["definition"]["kind"], "default");
    }

    #[test]
    fn read_back_recognises_our_own_write_only() {
        let spec = spec_with_memory_tool();
        let md = BTreeMap::from([("foundryctl-hash".into(), "h1".into())]);
        let sent = agent_version_body(&spec, &md, ApiVersion::V1);
        let live = version(sent.definition.clone(), &[("foundryctl-hash", "h1")]);
        assert!(agent_version_matches(&live, &sent));
        let other = version(sent.definition.clone(), &[("foundryctl-hash", "h0")]);
        assert!(!agent_version_matches(&other, &sent));
    }
}
