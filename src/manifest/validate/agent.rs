//! `kind: Agent` → [`model::Agent`], including the typed memory search tool.

use crate::model::{self, AgentName, MemoryStoreName};

use super::super::diagnostic::Diagnostic;
use super::super::raw;
use super::super::suggest::parse_unknown_field;
use super::super::yaml::{Pos, Spanned};
use super::common::Checker;
use super::document::unknown_field_hint;

/// A memory search tool's store reference, kept with its location so that a store neither
/// the manifests nor (later) the project has can be reported at the right line.
#[derive(Debug, Clone)]
pub struct ToolStoreRef {
    pub store: MemoryStoreName,
    pub pos: Option<Pos>,
}

/// Converts a parsed agent, recording every problem.
pub fn convert(
    check: &mut Checker<'_, '_>,
    agent: &raw::Agent,
    refs: &mut Vec<ToolStoreRef>,
    probes: &mut Vec<model::Probe>,
) -> Option<model::Agent> {
    let name = match AgentName::new(agent.metadata.name.value.clone()) {
        Ok(name) => Some(name),
        Err(error) => {
            check.error_hint(
                &agent.metadata.name,
                format!("invalid agent name: {error}"),
                "agent names are 1 to 63 ASCII letters, digits and inner hyphens, such as dev-buddy",
            );
            None
        }
    };
    let labels = check.labels(&agent.metadata.labels, &agent.metadata.name);
    let spec = &agent.spec;
    let description = check.description(spec.description.as_ref());
    let model = check.required(&spec.model, "model");
    let temperature = spec
        .temperature
        .as_ref()
        .map(|t| range(check, t, "temperature", 0.0, 2.0));
    let top_p = spec
        .top_p
        .as_ref()
        .map(|t| range(check, t, "top_p", 0.0, 1.0));
    let tools = spec
        .tools
        .iter()
        .filter_map(|tool| convert_tool(check, tool, refs))
        .collect();
    probes.extend(spec.checks.iter().filter_map(|p| convert_probe(check, p)));
    Some(model::Agent {
        name: name?,
        spec: model::AgentSpec {
            description,
            labels,
            model,
            instructions: spec.instructions.clone(),
            temperature,
            top_p,
            reasoning: spec.reasoning.clone(),
            tool_choice: spec.tool_choice.clone(),
            text: spec.text.clone(),
            structured_inputs: spec.structured_inputs.clone(),
            rai_config: spec.rai_config.clone(),
            tools,
        },
    })
}

fn range(
    check: &mut Checker<'_, '_>,
    value: &Spanned<f64>,
    field: &str,
    min: f64,
    max: f64,
) -> f64 {
    let v = value.value;
    if !(min..=max).contains(&v) {
        check.error_at(
            value,
            format!("`{field}` is {v}; it must be between {min} and {max}"),
        );
    }
    v
}

/// The spellings of the memory search tool's `type` (by api-version); both mean the same.
const MEMORY_SEARCH_TYPES: [&str; 2] = ["memory_search", "memory_search_preview"];

fn convert_tool(
    check: &mut Checker<'_, '_>,
    tool: &Spanned<serde_json::Value>,
    refs: &mut Vec<ToolStoreRef>,
) -> Option<model::Tool> {
    let tool_pos = check.doc.at(tool).or_else(|| check.doc.start());
    let from_line = tool_pos.map_or(0, |p| p.line);
    let Some(object) = tool.value.as_object() else {
        check.error_at(tool, "a tool must be a mapping with a `type`");
        return None;
    };
    let Some(tool_type) = object.get("type").and_then(|t| t.as_str()) else {
        check.error_hint(
            tool,
            "tool has no string `type`",
            "for the memory tool write `type: memory_search`; other tools are passed through as written",
        );
        return None;
    };
    if !MEMORY_SEARCH_TYPES.contains(&tool_type) {
        return Some(model::Tool::Other(tool.value.clone()));
    }
    let doc = check.doc;
    let located = |key: &str| doc.find_key(from_line, key).or(tool_pos);
    let parsed: raw::MemorySearchTool = match serde_json::from_value(tool.value.clone()) {
        Ok(parsed) => parsed,
        Err(error) => {
            let message = error.to_string();
            let diagnostic = if let Some((name, expected)) = parse_unknown_field(&message) {
                Diagnostic::error(
                    check.doc.file,
                    located(&name),
                    format!("unknown field `{name}` in the memory search tool"),
                )
                .with_hint(unknown_field_hint(&name, &expected))
            } else if let Some(field) = message
                .strip_prefix("missing field `")
                .and_then(|r| r.split('`').next())
            {
                Diagnostic::error(check.doc.file, tool_pos, format!("the memory search tool needs `{field}`"))
                    .with_hint("memory_search takes memory_store_name, scope (usually \"{{$userId}}\"), and optionally search_options.max_memories and update_delay")
            } else {
                let field = [
                    "memory_store_name",
                    "scope",
                    "update_delay",
                    "search_options",
                    "max_memories",
                ]
                .into_iter()
                .find(|f| object.contains_key(*f) && message.contains("invalid type"))
                .and_then(&located);
                Diagnostic::error(
                    check.doc.file,
                    field.or(tool_pos),
                    format!("invalid memory search tool: {message}"),
                )
            };
            check.errors.push(diagnostic);
            return None;
        }
    };
    let store = match MemoryStoreName::new(parsed.memory_store_name) {
        Ok(store) => store,
        Err(error) => {
            check.errors.push(Diagnostic::error(
                check.doc.file,
                located("memory_store_name"),
                format!("invalid memory_store_name: {error}"),
            ));
            return None;
        }
    };
    if parsed.scope.trim().is_empty() {
        check.errors.push(
            Diagnostic::error(
                check.doc.file,
                located("scope"),
                "`scope` must not be empty",
            )
            .with_hint("use \"{{$userId}}\" for per-user memory"),
        );
    } else if let Some(c) = parsed.scope.chars().find(|c| c.is_control()) {
        check.errors.push(
            Diagnostic::error(
                check.doc.file,
                located("scope"),
                format!(
                    "`scope` contains the control character {}",
                    c.escape_unicode()
                ),
            )
            .with_hint("a scope names whose memories: \"{{$userId}}\" or printable text"),
        );
    }
    refs.push(ToolStoreRef {
        store: store.clone(),
        pos: located("memory_store_name"),
    });
    Some(model::Tool::MemorySearch(model::MemorySearchTool {
        memory_store_name: store,
        scope: parsed.scope,
        max_memories: parsed.search_options.and_then(|o| o.max_memories),
        update_delay: parsed.update_delay,
    }))
}

/// One `checks` entry: the question must say something; a user id, when given, must be
/// sendable as a header; an `expect` text must not be empty (it would match anything).
fn convert_probe(check: &mut Checker<'_, '_>, probe: &raw::Probe) -> Option<model::Probe> {
    let mut ok = true;
    if probe.ask.value.trim().is_empty() {
        check.error_hint(
            &probe.ask,
            "a probe's `ask` must not be empty",
            "write the question `foundryctl check` puts to the agent",
        );
        ok = false;
    }
    if let Some(user) = &probe.user_id {
        if user.value.trim().is_empty() {
            check.error_hint(
                user,
                "a probe's `user_id` must not be empty",
                "leave it out to ask as a throw-away user",
            );
            ok = false;
        } else if let Some(c) = user.value.chars().find(|c| c.is_control()) {
            check.error_at(
                user,
                format!(
                    "`user_id` contains the control character {}",
                    c.escape_unicode()
                ),
            );
            ok = false;
        }
    }
    let expect = probe.expect.clone().unwrap_or_default();
    for (field, value) in [
        ("memory_recalled", &expect.memory_recalled),
        ("answer_contains", &expect.answer_contains),
    ] {
        if let Some(value) = value
            && value.value.trim().is_empty()
        {
            check.error_hint(
                value,
                format!("`expect.{field}` must not be empty"),
                "an empty text would match anything; leave the field out instead",
            );
            ok = false;
        }
    }
    ok.then(|| model::Probe {
        ask: probe.ask.value.clone(),
        user_id: probe.user_id.as_ref().map(|u| u.value.clone()),
        expect: model::ProbeExpect {
            memory_recalled: expect.memory_recalled.map(|v| v.value),
            answer_contains: expect.answer_contains.map(|v| v.value),
        },
    })
}
