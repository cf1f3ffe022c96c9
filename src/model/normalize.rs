//! Normalised forms of the comparable specs: what "equal" means to the planner.
//!
//! A manifest and the service describe the same resource differently: the user may leave an
//! option out where the service echoes its default, write `instructions` with a trailing
//! newline (a YAML `|` block always has one) where the service stores what it was sent, or list
//! JSON keys in any order. Comparing raw specs would plan a change on every run; comparing these
//! normalised values makes "apply, then plan" empty.
//!
//! The normalised form is a [`serde_json::Value`] object with sorted keys, because the planner
//! needs three things from it: equality, a field-by-field diff with readable paths, and a
//! canonical serialisation to hash ([`super::fingerprint`]). One representation serves all three.
//!
//! # Rules
//! - Declared fields only: the specs already hold only what foundryctl models; fields the
//!   service adds are dropped when `foundry` projects its answer into a spec.
//! - Server defaults filled on the desired side (store options `user_profile_enabled` and
//!   `chat_summary_enabled` true, `procedural_memory_enabled` true, `default_ttl_seconds` 0,
//!   `user_profile_details` empty; memory tool `update_delay` 300), so declaring a default and
//!   leaving it out are the same thing.
//! - Trailing newlines ignored in free text (`description`, `instructions`,
//!   `user_profile_details`); an empty `instructions` is the same as none.
//! - Key order irrelevant: objects are rebuilt with sorted keys; equality of
//!   `serde_json::Value` objects never depends on order.
//! - Numbers the service keeps as float32 (`temperature`, `top_p`) are rounded to float32 and
//!   written in their shortest form, so `0.7` and an echoed `0.699999988` compare equal.
//!
//! # What the service does not report
//! The service does not echo every store option: `procedural_memory_enabled` is never echoed,
//! `user_profile_details` only when it was sent, and `default_ttl_seconds` not by every service
//! version. On the live side a missing option is therefore *unknown*, not "default": the live
//! normal form leaves the key out and lists its path in [`Normalized::unreported`]. The planner
//! skips unreported paths when diffing and recovers their values from the stamped hash (see
//! `plan::store`). Agent versions echo their definition as sent (recorded), so an agent has no
//! unreported fields and a missing `update_delay` is the default.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::agent::{AgentSpec, MemorySearchTool, Tool};
use super::store::{MemoryStoreOptions, MemoryStoreSpec};

/// Store option paths, in the order they appear in the normal form.
pub const STORE_OPTION_PATHS: [&str; 5] = [
    "options.chat_summary_enabled",
    "options.default_ttl_seconds",
    "options.procedural_memory_enabled",
    "options.user_profile_details",
    "options.user_profile_enabled",
];

/// A normalised live spec: the value, plus the paths the service did not report.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    pub value: Value,
    /// Dotted paths (`options.procedural_memory_enabled`) absent from `value` because the
    /// service did not echo them; their live value is unknown.
    pub unreported: BTreeSet<String>,
}

/// The desired memory store, defaults filled.
pub fn desired_store(spec: &MemoryStoreSpec) -> Value {
    let o = &spec.options;
    let options = object([
        (
            "chat_summary_enabled",
            Some(Value::Bool(
                o.chat_summary_enabled
                    .unwrap_or(MemoryStoreOptions::DEFAULT_CHAT_SUMMARY_ENABLED),
            )),
        ),
        (
            "default_ttl_seconds",
            Some(Value::from(
                o.default_ttl_seconds
                    .unwrap_or(MemoryStoreOptions::DEFAULT_TTL_SECONDS),
            )),
        ),
        (
            "procedural_memory_enabled",
            Some(Value::Bool(o.procedural_memory_enabled.unwrap_or(
                MemoryStoreOptions::DEFAULT_PROCEDURAL_MEMORY_ENABLED,
            ))),
        ),
        (
            "user_profile_details",
            Some(Value::String(text(
                o.user_profile_details.as_deref().unwrap_or(""),
            ))),
        ),
        (
            "user_profile_enabled",
            Some(Value::Bool(
                o.user_profile_enabled
                    .unwrap_or(MemoryStoreOptions::DEFAULT_USER_PROFILE_ENABLED),
            )),
        ),
    ]);
    store_object(spec, options)
}

/// The live memory store as reported; options the service left out are unreported, not
/// defaulted.
pub fn live_store(spec: &MemoryStoreSpec) -> Normalized {
    let o = &spec.options;
    let fields = [
        (
            "chat_summary_enabled",
            o.chat_summary_enabled.map(Value::Bool),
        ),
        (
            "default_ttl_seconds",
            o.default_ttl_seconds.map(Value::from),
        ),
        (
            "procedural_memory_enabled",
            o.procedural_memory_enabled.map(Value::Bool),
        ),
        (
            "user_profile_details",
            o.user_profile_details
                .as_deref()
                .map(|s| Value::String(text(s))),
        ),
        (
            "user_profile_enabled",
            o.user_profile_enabled.map(Value::Bool),
        ),
    ];
    let unreported = fields
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| format!("options.{k}"))
        .collect();
    Normalized {
        value: store_object(spec, object(fields)),
        unreported,
    }
}

fn store_object(spec: &MemoryStoreSpec, options: Value) -> Value {
    object([
        ("chat_model", Some(Value::String(spec.chat_model.clone()))),
        ("description", Some(Value::String(text(&spec.description)))),
        (
            "embedding_model",
            Some(Value::String(spec.embedding_model.clone())),
        ),
        ("labels", Some(labels(&spec.labels))),
        ("options", Some(options)),
    ])
}

/// A prompt agent's definition, description and labels. The same function serves both sides:
/// versions echo what they were sent, so there is nothing unreported.
pub fn agent(spec: &AgentSpec) -> Value {
    let instructions = spec
        .instructions
        .as_deref()
        .map(text)
        .filter(|s| !s.is_empty())
        .map(Value::String);
    object([
        ("description", Some(Value::String(text(&spec.description)))),
        ("instructions", instructions),
        ("labels", Some(labels(&spec.labels))),
        ("model", Some(Value::String(spec.model.clone()))),
        ("rai_config", loose(spec.rai_config.as_ref())),
        ("reasoning", loose(spec.reasoning.as_ref())),
        ("structured_inputs", loose(spec.structured_inputs.as_ref())),
        ("temperature", spec.temperature.map(float32)),
        ("text", loose(spec.text.as_ref())),
        ("tool_choice", loose(spec.tool_choice.as_ref())),
        (
            "tools",
            Some(Value::Array(spec.tools.iter().map(tool).collect())),
        ),
        ("top_p", spec.top_p.map(float32)),
    ])
}

fn tool(tool: &Tool) -> Value {
    match tool {
        Tool::MemorySearch(MemorySearchTool {
            memory_store_name,
            scope,
            max_memories,
            update_delay,
        }) => object([
            (
                "memory_store_name",
                Some(Value::String(memory_store_name.as_str().to_owned())),
            ),
            ("scope", Some(Value::String(scope.clone()))),
            // Nested as in the manifest and on the wire, so a plan names the field the user
            // wrote: `tools[0].search_options.max_memories`.
            (
                "search_options",
                max_memories.map(|max| object([("max_memories", Some(Value::from(max)))])),
            ),
            // The API-version-independent spelling: the client writes `memory_search_preview`
            // on v1. Both spellings project to `Tool::MemorySearch`, so they compare equal.
            ("type", Some(Value::String("memory_search".to_owned()))),
            (
                "update_delay",
                Some(Value::from(
                    update_delay.unwrap_or(MemorySearchTool::DEFAULT_UPDATE_DELAY),
                )),
            ),
        ]),
        Tool::Other(value) => canonical(value),
    }
}

/// Free text: trailing newlines (and the carriage returns of CRLF files) are not content.
pub fn text(s: &str) -> String {
    s.trim_end_matches(['\n', '\r']).to_owned()
}

/// A loosely typed JSON option: `null` is the same as absent.
fn loose(value: Option<&Value>) -> Option<Value> {
    value.filter(|v| !v.is_null()).map(canonical)
}

/// Rounds to float32 (the service's type) and back through the shortest decimal form.
fn float32(x: f64) -> Value {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the service stores temperature and top_p as float32; rounding is the point"
    )]
    let narrowed = x as f32;
    narrowed
        .to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn labels(labels: &std::collections::BTreeMap<String, String>) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Builds an object from `(key, value)` pairs given in sorted order; `None` values are left out.
fn object<const N: usize>(fields: [(&str, Option<Value>); N]) -> Value {
    let mut map = Map::new();
    for (k, v) in fields {
        if let Some(v) = v {
            map.insert(k.to_owned(), v);
        }
    }
    Value::Object(map)
}

/// The same JSON with every object's keys in sorted order, so serialising it is canonical even
/// if `serde_json` is ever built with `preserve_order`.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Reads the value at a dotted path (`options.user_profile_enabled`) of a normal form.
pub fn get_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// Sets the value at a dotted path whose parent objects exist; used to fill unreported options
/// with candidate values.
pub fn set_path(value: &mut Value, path: &str, new: Value) {
    let mut keys: Vec<&str> = path.split('.').collect();
    let Some(last) = keys.pop() else { return };
    let mut cursor = value;
    for key in keys {
        match cursor.get_mut(key) {
            Some(next) => cursor = next,
            None => return,
        }
    }
    if let Value::Object(map) = cursor {
        map.insert(last.to_owned(), new);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::model::MemoryStoreName;

    fn store(options: MemoryStoreOptions) -> MemoryStoreSpec {
        MemoryStoreSpec {
            description: "Prefs.\n".to_owned(),
            labels: BTreeMap::from([("team".to_owned(), "devex".to_owned())]),
            chat_model: "gpt-4.1-mini".to_owned(),
            embedding_model: "text-embedding-3-large".to_owned(),
            options,
        }
    }

    #[test]
    fn declaring_a_default_is_the_same_as_leaving_it_out() {
        let implicit = desired_store(&store(MemoryStoreOptions::default()));
        let explicit = desired_store(&store(MemoryStoreOptions {
            user_profile_enabled: Some(true),
            user_profile_details: Some(String::new()),
            chat_summary_enabled: Some(true),
            procedural_memory_enabled: Some(true),
            default_ttl_seconds: Some(0),
        }));
        assert_eq!(implicit, explicit);
        assert_eq!(implicit["description"], json!("Prefs."));
    }

    #[test]
    fn options_the_service_omits_are_unreported_not_defaulted() {
        let live = live_store(&store(MemoryStoreOptions {
            user_profile_enabled: Some(true),
            chat_summary_enabled: Some(false),
            ..MemoryStoreOptions::default()
        }));
        assert_eq!(
            live.unreported
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            [
                "options.default_ttl_seconds",
                "options.procedural_memory_enabled",
                "options.user_profile_details"
            ]
        );
        assert_eq!(
            get_path(&live.value, "options.procedural_memory_enabled"),
            None
        );
        assert_eq!(
            get_path(&live.value, "options.chat_summary_enabled"),
            Some(&json!(false))
        );
    }

    #[test]
    fn agent_text_trailing_newlines_and_tool_defaults_do_not_count() {
        let tool = |delay| {
            Tool::MemorySearch(MemorySearchTool {
                memory_store_name: MemoryStoreName::new("s").unwrap(),
                scope: "{{$userId}}".to_owned(),
                max_memories: None,
                update_delay: delay,
            })
        };
        let a = AgentSpec {
            model: "m".to_owned(),
            instructions: Some("Be brief.\n".to_owned()),
            temperature: Some(0.7),
            tools: vec![tool(None)],
            ..AgentSpec::default()
        };
        let b = AgentSpec {
            instructions: Some("Be brief.".to_owned()),
            temperature: Some(f64::from(0.7_f32)),
            tools: vec![tool(Some(300))],
            ..a.clone()
        };
        assert_eq!(agent(&a), agent(&b));
        assert_eq!(agent(&a)["temperature"], json!(0.7));
        let c = AgentSpec {
            instructions: Some("Be brief!".to_owned()),
            ..a.clone()
        };
        assert_ne!(agent(&a), agent(&c));
    }

    #[test]
    fn loose_json_ignores_key_order_and_null() {
        let a = AgentSpec {
            reasoning: Some(json!({"effort": "low", "summary": "auto"})),
            rai_config: Some(Value::Null),
            ..AgentSpec::default()
        };
        let b = AgentSpec {
            reasoning: serde_json::from_str(r#"{"summary":"auto","effort":"low"}"#).ok(),
            ..AgentSpec::default()
        };
        assert_eq!(agent(&a), agent(&b));
        assert_eq!(get_path(&agent(&a), "rai_config"), None);
    }

    #[test]
    fn set_path_fills_a_missing_option() {
        let mut live = live_store(&store(MemoryStoreOptions::default())).value;
        set_path(&mut live, "options.procedural_memory_enabled", json!(false));
        assert_eq!(
            get_path(&live, "options.procedural_memory_enabled"),
            Some(&json!(false))
        );
    }
}
