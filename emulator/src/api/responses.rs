//! Responses with an agent: `POST /openai/v1/responses` (`agent_reference`, or `agent` as the
//! JavaScript SDK sends it) and the preview `POST /openai/responses?api-version=2025-11-15-preview`
//! (`agent`). Answers carry exactly the recorded top-level keys of each api-version
//! (`tests/recordings/responses_*.json`).
//!
//! **The model is a deterministic stand-in**, run by [`crate::agent_run`]: the memory tool
//! recalls from its scope and the answer tells the nearest memories back. The tool's scope
//! `{{$userId}}` resolves to the `x-memory-user-id` header, else to [`LOCAL_USER`]. The
//! write-back's update id is carried by the `memory_search_call` output item.
//!
//! **Conversations are kept.** With `conversation`, an unknown id answers 404; otherwise the
//! input items and then the output items are appended to it, the response's ids share the
//! conversation's 16-hex group, and the stand-in sees the conversation's earlier user turns
//! (its answer repeats them). `input` may be omitted when the conversation already holds the
//! user turn: the turn is then what follows its last assistant message. Memory search and
//! write-back use only the turn being answered, with or without a conversation.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use rusqlite::Transaction;
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::request::{ApiVersion, json_body, project_ctx};
use super::state::AppState;
use super::validate;
use crate::agent_run::{self, MemoryCall};
use crate::store::{agents, conversations};
use crate::{extract, ids};

/// The identity `{{$userId}}` stands for when no `x-memory-user-id` header is sent (the real
/// service would use the caller's Entra `tid_oid`).
pub const LOCAL_USER: &str = "local-user";

/// Which of the two wire dialects a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    V1,
    Preview,
}

/// `POST /openai/v1/responses` (no api-version).
pub async fn create_v1(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    create(state, Dialect::V1, &headers, &body).await
}

/// `POST /openai/responses?api-version=2025-11-15-preview`.
pub async fn create_preview(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let ctx = project_ctx(&query, &headers)?;
    if ctx.version != ApiVersion::Preview {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            code: "api_version_not_supported",
            message: format!(
                "This route needs api-version {}; with v1 use /openai/v1/responses.",
                ApiVersion::PREVIEW
            ),
            kind: "invalid_request_error",
            param: Some("api-version".to_owned()),
        });
    }
    create(state, Dialect::Preview, &headers, &body).await
}

/// The input as message items: a string is one user message.
fn input_items(body: &Map<String, Value>) -> ApiResult<Vec<Value>> {
    match body.get("input") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![
            json!({"type": "message", "role": "user", "content": s}),
        ]),
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(_) => Err(ApiError::invalid(
            "input",
            "'input' must be a string or an array of items.",
        )),
    }
}

/// The agent a request names.
struct AgentRef {
    name: String,
    version: Option<String>,
    /// Named with `agent` (the preview field, and what the JavaScript SDK sends to v1) rather
    /// than `agent_reference`: a v1 answer then carries a top-level `agent` too, as recorded.
    as_agent: bool,
}

/// The agent reference of the request. The preview takes `agent`; v1 takes `agent_reference`
/// and, as the service does for the JavaScript SDK, `agent` (recorded March 2026).
fn agent_ref(body: &Map<String, Value>, dialect: Dialect) -> ApiResult<Option<AgentRef>> {
    let fields: &[&str] = match dialect {
        Dialect::V1 => &["agent_reference", "agent"],
        Dialect::Preview => &["agent"],
    };
    let Some((field, r)) = fields
        .iter()
        .find_map(|f| body.get(*f).filter(|v| !v.is_null()).map(|v| (*f, v)))
    else {
        return Ok(None);
    };
    let name = r
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                format!("{field}.name"),
                format!("Missing required field '{field}.name'."),
            )
        })?;
    let version = match r.get("version") {
        None | Some(Value::Null) => None,
        Some(Value::String(v)) => Some(v.clone()),
        Some(_) => {
            return Err(ApiError::invalid(
                format!("{field}.version"),
                "'version' must be a string.",
            ));
        }
    };
    Ok(Some(AgentRef {
        name: name.to_owned(),
        version,
        as_agent: field == "agent",
    }))
}

async fn create(
    state: AppState,
    dialect: Dialect,
    headers: &HeaderMap,
    raw: &[u8],
) -> ApiResult<Json<Value>> {
    let body = json_body(raw)?;
    let items = input_items(&body)?;
    let reference = agent_ref(&body, dialect)?;
    let conversation = match body.get("conversation") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).map(str::to_owned),
        Some(_) => {
            return Err(ApiError::invalid(
                "conversation",
                "'conversation' must be an id or {\"id\"}.",
            ));
        }
    };
    if reference.is_some() && body.get("tools").is_some_and(|t| !t.is_null()) {
        return Err(ApiError::invalid(
            "tools",
            "Not allowed when agent is specified.",
        ));
    }
    if items.is_empty() && conversation.is_none() {
        return Err(ApiError::invalid(
            "input",
            "Missing required field 'input'.",
        ));
    }
    let user = headers
        .get("x-memory-user-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or(LOCAL_USER)
        .to_owned();
    let model_only = body.get("model").and_then(Value::as_str).map(str::to_owned);
    if reference.is_none() && model_only.is_none() {
        return Err(ApiError::invalid(
            "model",
            "Missing required field 'model' (or an agent reference).",
        ));
    }
    // The ids of a response in a conversation share the conversation's group, as recorded.
    let group = conversation
        .as_deref()
        .map_or_else(ids::group, ids::conversation_group);
    let added = match &conversation {
        Some(_) => items
            .iter()
            .enumerate()
            .map(|(i, item)| validate::conversation_item(item, &group, &format!("input[{i}]")))
            .collect::<ApiResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    let as_agent = reference.as_ref().is_some_and(|r| r.as_agent);
    let processing = state.processing;
    let out = state
        .db
        .write(move |tx| {
            let version = reference
                .map(|r| resolve_version(tx, &r.name, r.version.as_deref()))
                .transpose()?;
            let history = match &conversation {
                Some(id) => {
                    if conversations::get(tx, id)?.is_none() {
                        return Err(ApiError::conversation_missing(id));
                    }
                    conversations::history(tx, id)?
                }
                None => Vec::new(),
            };
            // The turn being answered: the input, or else the user turn the conversation
            // already holds (everything after its last assistant message).
            let pending = history
                .iter()
                .rposition(|i| i.get("role").and_then(Value::as_str) == Some("assistant"))
                .map_or(0, |last| last + 1);
            let (earlier, turn) = if items.is_empty() {
                (&history[..pending], history[pending..].to_vec())
            } else {
                (&history[..], items)
            };
            let earlier: Vec<String> = extract::messages(earlier)
                .into_iter()
                .filter(|(role, _)| role == "user")
                .map(|(_, text)| text)
                .collect();
            let tool = version.as_ref().and_then(agent_run::memory_tool);
            let call = tool
                .map(|tool| agent_run::use_memory_tool(tx, processing, &tool, &user, &turn))
                .transpose()?;
            let out = render(
                dialect,
                Turn {
                    version: version.as_ref(),
                    as_agent,
                    model_only: model_only.as_deref(),
                    call: call.as_ref(),
                    conversation: conversation.as_deref(),
                    group: &group,
                    earlier: &earlier,
                },
            );
            if let Some(id) = &conversation {
                let mut added = added;
                added.extend(out["output"].as_array().into_iter().flatten().cloned());
                conversations::append(tx, id, &added)?;
            }
            Ok(out)
        })
        .await?;
    Ok(Json(out))
}

/// The agent version a reference names: the latest when no version is given.
fn resolve_version(tx: &Transaction<'_>, name: &str, wanted: Option<&str>) -> ApiResult<Value> {
    match wanted {
        None => agents::latest(tx, name)?.ok_or_else(|| ApiError::agent_missing(name)),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .map(|n| agents::version(tx, name, n))
            .transpose()?
            .flatten()
            .ok_or_else(|| ApiError::version_missing(name, v)),
    }
}

/// What one response is rendered from.
struct Turn<'a> {
    version: Option<&'a Value>,
    /// The request named the agent with `agent` (see [`AgentRef::as_agent`]).
    as_agent: bool,
    model_only: Option<&'a str>,
    call: Option<&'a MemoryCall>,
    conversation: Option<&'a str>,
    /// The 16 hex the response's ids start with.
    group: &'a str,
    /// The conversation's earlier user turns, which the stand-in model sees as context.
    earlier: &'a [String],
}

/// Builds the response object in the recorded shape of `dialect`.
fn render(dialect: Dialect, turn: Turn<'_>) -> Value {
    let Turn {
        version,
        as_agent,
        model_only,
        call,
        conversation,
        group,
        earlier,
    } = turn;
    let id = ids::grouped("resp_", group);
    let now = ids::now_secs();
    let definition = version.map(|v| &v["definition"]);
    let model = definition
        .and_then(|d| d["model"].as_str())
        .or(model_only)
        .unwrap_or_default()
        .to_owned();
    let name_version = version.map(|v| {
        (
            v["name"].as_str().unwrap_or_default().to_owned(),
            v["version"].as_str().unwrap_or_default().to_owned(),
        )
    });
    let reference = name_version
        .as_ref()
        .map(|(n, v)| json!({"type": "agent_reference", "name": n, "version": v}));
    let text = agent_run::answer(
        name_version.as_ref().map(|(n, v)| (n.as_str(), v.as_str())),
        &model,
        call,
        earlier,
    );
    let mut message = json!({
        "type": "message",
        "id": ids::grouped("msg_", group),
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    });
    let mut call_item = call.map(|c| {
        json!({
            "type": "memory_search_call",
            "id": ids::grouped("memupdateo_", group),
            "error": c.error,
            "memories": c.memories,
            "search_id": ids::hex32(),
            "superseded_by": null,
            "update_id": c.update_id,
            "usage": {
                "embedding_tokens": 0, "input_tokens": 0,
                "input_tokens_details": {"cached_tokens": null, "reasoning_tokens": null},
                "output_tokens": 0,
                "output_tokens_details": {"cached_tokens": null, "reasoning_tokens": null},
                "total_tokens": 0,
            },
            "status": if c.error.is_some() { "failed" } else { "in_progress" },
        })
    });
    let agent_id = name_version
        .as_ref()
        .map(|(n, v)| json!({"type": "agent_id", "name": n, "version": v}));
    // Every output item names the agent version that made it (both api-versions, as
    // recorded); v1 items also carry the reference and the response id.
    for item in std::iter::once(&mut message).chain(call_item.as_mut()) {
        if let Some(agent) = &agent_id {
            item["created_by"] = json!({"agent": agent, "response_id": id});
        }
        if dialect == Dialect::V1
            && let Some(r) = &reference
        {
            item["agent_reference"] = r.clone();
            item["response_id"] = json!(id);
        }
    }
    let mut output = vec![message];
    output.extend(call_item);
    let tools: Vec<Value> = definition
        .and_then(|d| d["tools"].as_array())
        .map(|tools| tools.iter().map(echo_tool).collect())
        .unwrap_or_default();
    let words = |s: &str| s.split_whitespace().count();
    let defaults = ModelDefaults::of(&model);
    let mut out = json!({
        "id": id,
        "object": "response",
        "created_at": now,
        "status": "completed",
        "background": false,
        "error": null,
        "incomplete_details": null,
        "instructions": definition.map(|d| d["instructions"].clone()).unwrap_or(Value::Null),
        "metadata": {},
        "model": model,
        "output": output,
        "parallel_tool_calls": true,
        "reasoning": defaults.reasoning,
        "service_tier": "default",
        "temperature": definition.and_then(|d| d.get("temperature").cloned()).unwrap_or(json!(1)),
        "top_p": definition.and_then(|d| d.get("top_p").cloned()).unwrap_or(defaults.top_p),
        "top_logprobs": 0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": tools,
        "truncation": "disabled",
        "usage": {
            "input_tokens": 0, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": words(&text), "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": words(&text),
        },
    });
    match dialect {
        Dialect::V1 => {
            out["completed_at"] = json!(now);
            out["agent_reference"] = reference.unwrap_or(Value::Null);
            if as_agent {
                out["agent"] = agent_id.unwrap_or(Value::Null);
            }
            if let Some(c) = conversation {
                out["conversation"] = json!({"id": c});
            }
        }
        Dialect::Preview => {
            out["user"] = Value::Null;
            out["agent"] = agent_id.unwrap_or(Value::Null);
            out["conversation"] = conversation.map_or(Value::Null, |c| json!({"id": c}));
        }
    }
    out
}

/// What the service fills in for a model when the agent sets nothing, as recorded: the GPT-5
/// family answers `top_p: 0.98` and `reasoning: {"effort": "none"}` (gpt-5.2, March 2026),
/// other models `top_p: 1` and `reasoning: {}` (gpt-4o, February 2026).
struct ModelDefaults {
    top_p: Value,
    reasoning: Value,
}

impl ModelDefaults {
    fn of(model: &str) -> ModelDefaults {
        if model.starts_with("gpt-5") {
            ModelDefaults {
                top_p: json!(0.98),
                reasoning: json!({"effort": "none"}),
            }
        } else {
            ModelDefaults {
                top_p: json!(1),
                reasoning: json!({}),
            }
        }
    }
}

/// Tools as the response echoes them: the memory tool loses `_preview` and `update_delay`.
fn echo_tool(tool: &Value) -> Value {
    match tool["type"].as_str() {
        Some("memory_search" | "memory_search_preview") => json!({
            "type": "memory_search",
            "memory_store_name": tool["memory_store_name"],
            "scope": tool["scope"],
        }),
        _ => tool.clone(),
    }
}
