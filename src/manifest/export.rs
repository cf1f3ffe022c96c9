//! Model resources back to manifest YAML (`foundryctl get --output yaml`): the inverse of
//! validation, so that exporting a project and validating the result gives the same model.
//!
//! Two details keep the round trip exact: `$` is escaped as `$$` in every string that would
//! otherwise hold a `${` or `$$` (every scalar value is interpolated when read back), and the memory
//! search tool is written as `memory_search`, which reads back as the same typed tool.

use std::collections::BTreeMap;

use crate::model;

use super::raw::{self, API_VERSION};
use super::yaml::{self, Spanned, YamlError, unspanned};

/// Stores then agents, as one multi-document YAML text.
pub fn export(stores: &[model::MemoryStore], agents: &[model::Agent]) -> Result<String, YamlError> {
    let mut documents: Vec<serde_json::Value> = Vec::new();
    for store in stores {
        documents.push(to_value(&store_document(store))?);
    }
    for agent in agents {
        documents.push(to_value(&agent_document(agent))?);
    }
    // No schema line here: its relative path depends on where the file is saved, which only
    // the command knows (`get` adds it).
    yaml::to_multi_document(&documents)
}

/// Seeds as one multi-document YAML text (`foundryctl memory export`): the memories of the
/// seeds' scopes, ready for `apply`.
pub fn export_seeds(seeds: &[model::MemorySeed]) -> Result<String, YamlError> {
    let documents = seeds
        .iter()
        .map(|seed| to_value(&seed_document(seed)))
        .collect::<Result<Vec<_>, _>>()?;
    yaml::to_multi_document(&documents)
}

fn seed_document(seed: &model::MemorySeed) -> raw::MemorySeed {
    raw::MemorySeed {
        api_version: s(API_VERSION),
        kind: s("MemorySeed"),
        metadata: raw::SeedMetadata {
            name: s(seed.name.as_str()),
            for_each: None,
        },
        spec: raw::MemorySeedSpec {
            memory_store_name: s(seed.store.as_str()),
            scopes: seed
                .scopes
                .iter()
                .map(|(scope, memories)| {
                    let memories = memories
                        .iter()
                        .map(|m| raw::SeedMemory {
                            kind: s(&m.kind),
                            content: s(&m.content),
                        })
                        .collect();
                    (scope.clone(), unspanned(memories))
                })
                .collect(),
            exclusive: seed.exclusive,
        },
    }
}

/// A store as its manifest document (`apiVersion`, `kind`, `metadata`, `spec`) in JSON: the
/// same document `export` writes, without the YAML `$$` escaping (JSON is never interpolated).
pub fn store_document_json(store: &model::MemoryStore) -> Result<serde_json::Value, YamlError> {
    plain_value(&store_document(store))
}

/// An agent as its manifest document in JSON; see [`store_document_json`].
pub fn agent_document_json(agent: &model::Agent) -> Result<serde_json::Value, YamlError> {
    plain_value(&agent_document(agent))
}

fn to_value<T: serde::Serialize>(document: &T) -> Result<serde_json::Value, YamlError> {
    plain_value(document).map(escape_value)
}

fn plain_value<T: serde::Serialize>(document: &T) -> Result<serde_json::Value, YamlError> {
    serde_json::to_value(document).map_err(|e| YamlError {
        message: e.to_string(),
        pos: None,
        kind: yaml::YamlErrorKind::Shape,
        hint: None,
    })
}

/// `$` → `$$`, recursively, in every string that interpolation would change when read back
/// (one holding `${` or `$$`); `{{$userId}}` and `$5` are left as they are.
fn escape_value(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains("${") || s.contains("$$") => {
            Value::String(s.replace('$', "$$"))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(escape_value).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, escape_value(v))).collect())
        }
        other => other,
    }
}

fn s(value: &str) -> Spanned<String> {
    unspanned(value.to_owned())
}

fn labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, Spanned<String>> {
    labels.iter().map(|(k, v)| (k.clone(), s(v))).collect()
}

fn description(description: &str) -> Option<Spanned<String>> {
    (!description.is_empty()).then(|| s(description))
}

fn store_document(store: &model::MemoryStore) -> raw::MemoryStore {
    let spec = &store.spec;
    let o = &spec.options;
    let options = raw::MemoryStoreOptions {
        user_profile_enabled: o.user_profile_enabled,
        user_profile_details: o.user_profile_details.clone(),
        chat_summary_enabled: o.chat_summary_enabled,
        procedural_memory_enabled: o.procedural_memory_enabled,
        default_ttl_seconds: o.default_ttl_seconds,
    };
    let any_option = *o != model::MemoryStoreOptions::default();
    raw::MemoryStore {
        api_version: s(API_VERSION),
        kind: s("MemoryStore"),
        metadata: raw::StoreMetadata {
            name: s(store.name.as_str()),
            labels: labels(&spec.labels),
            for_each: None,
        },
        spec: raw::MemoryStoreSpec {
            description: description(&spec.description),
            chat_model: s(&spec.chat_model),
            embedding_model: s(&spec.embedding_model),
            options: any_option.then_some(options),
            lifecycle: store
                .disposable
                .then_some(raw::Lifecycle { disposable: true }),
        },
    }
}

fn agent_document(agent: &model::Agent) -> raw::Agent {
    let spec = &agent.spec;
    raw::Agent {
        api_version: s(API_VERSION),
        kind: s("Agent"),
        metadata: raw::AgentMetadata {
            name: s(agent.name.as_str()),
            labels: labels(&spec.labels),
            for_each: None,
        },
        spec: raw::AgentSpec {
            description: description(&spec.description),
            model: s(&spec.model),
            instructions: spec.instructions.clone(),
            temperature: spec.temperature.map(unspanned),
            top_p: spec.top_p.map(unspanned),
            reasoning: spec.reasoning.clone(),
            tool_choice: spec.tool_choice.clone(),
            text: spec.text.clone(),
            structured_inputs: spec.structured_inputs.clone(),
            rai_config: spec.rai_config.clone(),
            tools: spec.tools.iter().map(|t| unspanned(tool(t))).collect(),
            checks: Vec::new(),
        },
    }
}

fn tool(tool: &model::Tool) -> serde_json::Value {
    match tool {
        model::Tool::Other(value) => value.clone(),
        model::Tool::MemorySearch(t) => {
            let mut object = serde_json::Map::new();
            object.insert("type".into(), "memory_search".into());
            object.insert(
                "memory_store_name".into(),
                t.memory_store_name.as_str().into(),
            );
            object.insert("scope".into(), t.scope.clone().into());
            if let Some(max) = t.max_memories {
                object.insert(
                    "search_options".into(),
                    serde_json::json!({ "max_memories": max }),
                );
            }
            if let Some(delay) = t.update_delay {
                object.insert("update_delay".into(), delay.into());
            }
            serde_json::Value::Object(object)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{SourceFile, Variables, validate};

    fn round_trip(desired: &model::DesiredState) -> model::DesiredState {
        let stores: Vec<_> = desired.stores.values().cloned().collect();
        let agents: Vec<_> = desired.agents.values().cloned().collect();
        let text = export(&stores, &agents).unwrap();
        let file = SourceFile::new("exported.yaml", text.clone());
        match validate(&[file], &Variables::default()) {
            Ok(v) => v.desired,
            Err(d) => panic!("exported YAML is invalid: {d:?}\n{text}"),
        }
    }

    #[test]
    fn exported_examples_validate_to_the_same_model() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests");
        let files = crate::manifest::read_inputs(&[root]).unwrap();
        let mut desired = crate::manifest::validate_files(&files, &Variables::default())
            .unwrap()
            .desired;
        assert!(desired.agents.len() >= 3);
        // Exported, each `for_each` copy is a document of its own.
        assert!(!desired.templates.is_empty());
        desired.templates.clear();
        // `get -o yaml` exports what the project holds: stores and agents. Seeds are memories
        // (`memory export` writes them, tested below) and probes live only in manifests.
        assert!(!desired.seeds.is_empty() && !desired.checks.is_empty());
        desired.seeds.clear();
        desired.checks.clear();
        assert_eq!(round_trip(&desired), desired);
    }

    #[test]
    fn exported_seeds_validate_to_the_same_seeds() {
        let seed = model::MemorySeed {
            name: model::SeedName::new("backup").unwrap(),
            store: model::MemoryStoreName::new("prefs").unwrap(),
            scopes: BTreeMap::from([(
                "user_dana".to_owned(),
                vec![
                    model::SeedMemory {
                        kind: "user_profile".into(),
                        content: "Costs ${X}: \"quoted\" # not a comment\nsecond line".into(),
                    },
                    model::SeedMemory {
                        kind: "chat_summary".into(),
                        content: "yes".into(),
                    },
                ],
            )]),
            exclusive: true,
        };
        let store = model::MemoryStore {
            name: seed.store.clone(),
            spec: model::MemoryStoreSpec {
                chat_model: "c".into(),
                embedding_model: "e".into(),
                ..model::MemoryStoreSpec::default()
            },
            disposable: false,
        };
        let text = format!(
            "{}---\n{}",
            export(std::slice::from_ref(&store), &[]).unwrap(),
            export_seeds(std::slice::from_ref(&seed)).unwrap()
        );
        let file = SourceFile::new("exported.yaml", text.clone());
        let desired = match validate(&[file], &Variables::default()) {
            Ok(v) => v.desired,
            Err(d) => panic!("exported YAML is invalid: {d:?}\n{text}"),
        };
        assert_eq!(desired.seeds.get(&seed.name), Some(&seed), "{text}");
    }

    #[test]
    fn awkward_strings_survive_the_round_trip() {
        let mut desired = model::DesiredState::default();
        let store = model::MemoryStore {
            name: model::MemoryStoreName::new("s").unwrap(),
            spec: model::MemoryStoreSpec {
                description: "costs $5 ${NOT_A_VAR} $$".into(),
                labels: BTreeMap::from([
                    ("n".into(), "123".into()),
                    ("b".into(), "no".into()),
                    ("d".into(), "${X}".into()),
                ]),
                chat_model: "m: x # y".into(),
                embedding_model: "e".into(),
                options: model::MemoryStoreOptions::default(),
            },
            disposable: false,
        };
        desired.stores.insert(store.name.clone(), store);
        let agent = model::Agent {
            name: model::AgentName::new("a").unwrap(),
            spec: model::AgentSpec {
                model: "m".into(),
                instructions: Some("line one ${X}\n  indented {{$userId}}\n".into()),
                temperature: Some(0.1),
                tools: vec![model::Tool::Other(
                    serde_json::json!({"type": "mcp", "server_url": "https://x/$y", "n": 1.5}),
                )],
                ..model::AgentSpec::default()
            },
        };
        desired.agents.insert(agent.name.clone(), agent);
        assert_eq!(round_trip(&desired), desired);
    }
}

/// Plans name fields by their path in the normal form; those paths must be the manifest's own
/// field names, so a reader can find the field a plan talks about in their YAML.
#[cfg(test)]
mod path_tests {
    use super::*;
    use crate::model::normalize;

    /// Resolves a plan path (`tools[0].search_options.max_memories`) in a manifest document;
    /// `labels.*` lives under `metadata`, everything else under `spec`.
    fn resolve<'v>(document: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
        let root = if path.starts_with("labels.") {
            &document["metadata"]
        } else {
            &document["spec"]
        };
        path.split('.').try_fold(root, |v, segment| {
            let (key, index) = match segment.split_once('[') {
                Some((key, rest)) => (key, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (segment, None),
            };
            let v = v.get(key)?;
            match index {
                Some(i) => v.get(i),
                None => Some(v),
            }
        })
    }

    /// The leaf paths of a normal form, spelled the way `plan::diff` spells them.
    fn leaf_paths(normal: &serde_json::Value) -> Vec<String> {
        fn walk(path: String, value: &serde_json::Value, out: &mut Vec<String>) {
            let join = |key: &str| {
                if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                }
            };
            match value {
                serde_json::Value::Object(map) => {
                    for (key, v) in map {
                        walk(join(key), v, out);
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        walk(format!("{path}[{i}]"), v, out);
                    }
                }
                _ => out.push(path),
            }
        }
        let mut out = Vec::new();
        walk(String::new(), normal, &mut out);
        out
    }

    #[test]
    fn every_plan_path_of_an_agent_names_a_manifest_field() {
        let agent = model::Agent {
            name: model::AgentName::new("a").unwrap(),
            spec: model::AgentSpec {
                description: "d".into(),
                labels: BTreeMap::from([("team".into(), "devex".into())]),
                model: "m".into(),
                instructions: Some("i".into()),
                temperature: Some(0.5),
                top_p: Some(0.5),
                reasoning: Some(serde_json::json!({"effort": "low"})),
                tool_choice: Some(serde_json::json!("auto")),
                text: Some(serde_json::json!({"format": {"type": "text"}})),
                structured_inputs: Some(serde_json::json!({"x": {"description": "y"}})),
                rai_config: Some(serde_json::json!({"rai_policy_name": "p"})),
                tools: vec![
                    model::Tool::MemorySearch(model::MemorySearchTool {
                        memory_store_name: model::MemoryStoreName::new("s").unwrap(),
                        scope: "{{$userId}}".into(),
                        max_memories: Some(5),
                        update_delay: Some(1),
                    }),
                    model::Tool::Other(serde_json::json!({"type": "mcp", "headers": {"x": "y"}})),
                ],
            },
        };
        let document = to_value(&agent_document(&agent)).unwrap();
        let paths = leaf_paths(&normalize::agent(&agent.spec));
        assert!(paths.contains(&"tools[0].search_options.max_memories".to_owned()));
        for path in paths {
            assert!(
                resolve(&document, &path).is_some(),
                "plan path {path} is not a field of the manifest {document:#}"
            );
        }
    }

    #[test]
    fn every_plan_path_of_a_store_names_a_manifest_field() {
        let store = model::MemoryStore {
            name: model::MemoryStoreName::new("s").unwrap(),
            spec: model::MemoryStoreSpec {
                description: "d".into(),
                labels: BTreeMap::from([("team".into(), "devex".into())]),
                chat_model: "c".into(),
                embedding_model: "e".into(),
                options: model::MemoryStoreOptions {
                    user_profile_enabled: Some(false),
                    user_profile_details: Some("x".into()),
                    chat_summary_enabled: Some(false),
                    procedural_memory_enabled: Some(false),
                    default_ttl_seconds: Some(60),
                },
            },
            disposable: false,
        };
        let document = to_value(&store_document(&store)).unwrap();
        for path in leaf_paths(&normalize::desired_store(&store.spec)) {
            assert!(
                resolve(&document, &path).is_some(),
                "plan path {path} is not a field of the manifest {document:#}"
            );
        }
    }
}
