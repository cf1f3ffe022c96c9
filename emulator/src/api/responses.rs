//! Responses with an agent: `POST /openai/v1/responses` (`agent_reference`) and the preview
//! `POST /openai/responses?api-version=2025-11-15-preview` (`agent`).
//!
//! **The model is a deterministic stand-in.** The answer names the agent and version and, when
//! the agent has a memory search tool, recalls the memories of the tool's scope relevant to the
//! input (ranked as in [`crate::extract`]). The tool's scope `{{$userId}}` resolves to the
//! `x-memory-user-id` header, else to [`LOCAL_USER`]. After the tool's `update_delay` the
//! turn's user statements are written back to memory through an ordinary update, whose id the
//! `memory_search_call` output item carries.
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
use super::{ApiVersion, AppState, agents, conversations, json_body, memories, project_ctx};
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

/// The agent reference of the request: `(name, version?)`.
fn agent_ref(
    body: &Map<String, Value>,
    dialect: Dialect,
) -> ApiResult<Option<(String, Option<String>)>> {
    let field = match dialect {
        Dialect::V1 => "agent_reference",
        Dialect::Preview => "agent",
    };
    let Some(r) = body.get(field).filter(|v| !v.is_null()) else {
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
    Ok(Some((name.to_owned(), version)))
}

/// What the memory tool did during one response.
struct MemoryCall {
    memories: Vec<Value>,
    update_id: Option<String>,
    error: Option<Value>,
}

/// Searches the tool's scope and queues the write-back, in the caller's transaction.
fn use_memory_tool(
    tx: &Transaction<'_>,
    state: &AppState,
    tool: &Map<String, Value>,
    user: &str,
    items: &[Value],
) -> ApiResult<MemoryCall> {
    let store = tool
        .get("memory_store_name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let scope = tool
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("{{$userId}}")
        .replace("{{$userId}}", user);
    if super::stores::load(tx, store).is_err() {
        return Ok(MemoryCall {
            memories: Vec::new(),
            update_id: None,
            error: Some(
                json!({"code": "not_found", "message": format!("MemoryStore '{store}' not found")}),
            ),
        });
    }
    memories::advance(tx)?;
    let max = tool
        .get("search_options")
        .and_then(|o| o.get("max_memories"))
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(10);
    let query = extract::messages(items)
        .into_iter()
        .filter(|(role, _)| role == "user")
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(" ");
    let found = memories::search_scope(tx, store, &scope, &query, max)?;
    let user_items: Vec<Value> = items
        .iter()
        .filter(|i| i.get("role").and_then(Value::as_str) == Some("user"))
        .cloned()
        .collect();
    let delay = tool
        .get("update_delay")
        .and_then(Value::as_i64)
        .unwrap_or(300)
        .max(0);
    let update_id = memories::enqueue(tx, store, &scope, user_items, delay, state.processing)?;
    Ok(MemoryCall {
        memories: found,
        update_id: Some(update_id),
        error: None,
    })
}

/// The deterministic answer; `earlier` are the conversation's earlier user turns.
fn answer(
    agent: Option<(&str, &str)>,
    model: &str,
    call: Option<&MemoryCall>,
    earlier: &[String],
) -> String {
    let mut text = answer_turn(agent, model, call);
    if !earlier.is_empty() {
        text.push_str(" Earlier in this conversation you said: ");
        text.push_str(&earlier.join(" "));
    }
    text
}

fn answer_turn(agent: Option<(&str, &str)>, model: &str, call: Option<&MemoryCall>) -> String {
    let who = match agent {
        Some((name, version)) => format!("Agent {name} (version {version})"),
        None => format!("Model {model}"),
    };
    match call {
        None => format!("{who} (emulated) received your message."),
        Some(c) if c.memories.is_empty() => {
            format!("{who} (emulated): I have no memories relevant to this yet.")
        }
        Some(c) => {
            let recalled: Vec<&str> = c
                .memories
                .iter()
                .filter_map(|m| m["content"].as_str())
                .collect();
            format!("{who} (emulated) remembers: {}", recalled.join(" "))
        }
    }
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
        .map_or_else(ids::group, conversations::group);
    let added = match &conversation {
        Some(_) => items
            .iter()
            .enumerate()
            .map(|(i, item)| conversations::input_item(item, &group, &format!("input[{i}]")))
            .collect::<ApiResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    let st = state.clone();
    let out = state
        .db
        .write(move |tx| {
            let version = reference
                .map(|(name, wanted)| resolve_version(tx, &name, wanted.as_deref()))
                .transpose()?;
            let history = match &conversation {
                Some(id) => {
                    conversations::load(tx, id)?;
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
            let tool = version.as_ref().and_then(memory_tool);
            let call = tool
                .map(|tool| use_memory_tool(tx, &st, &tool, &user, &turn))
                .transpose()?;
            let out = render(
                dialect,
                Turn {
                    version: version.as_ref(),
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
        None => agents::latest(tx, name)?.ok_or_else(|| agents::agent_missing(name)),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .map(|n| agents::version(tx, name, n))
            .transpose()?
            .flatten()
            .ok_or_else(|| agents::version_missing(name, v)),
    }
}

/// The memory search tool of an agent version, if it has one.
fn memory_tool(version: &Value) -> Option<Map<String, Value>> {
    version["definition"]["tools"]
        .as_array()?
        .iter()
        .find(|t| {
            matches!(
                t["type"].as_str(),
                Some("memory_search" | "memory_search_preview")
            )
        })?
        .as_object()
        .cloned()
}

/// What one response is rendered from.
struct Turn<'a> {
    version: Option<&'a Value>,
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
    let text = answer(
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
    let mut output = vec![];
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
                "input_tokens_details": {"cached_tokens": null},
                "output_tokens": 0,
                "output_tokens_details": {"reasoning_tokens": null},
                "total_tokens": 0,
            },
            "status": if c.error.is_some() { "failed" } else { "in_progress" },
        })
    });
    if dialect == Dialect::V1
        && let Some(r) = &reference
    {
        for item in std::iter::once(&mut message).chain(call_item.as_mut()) {
            item["agent_reference"] = r.clone();
            item["response_id"] = json!(id);
        }
    }
    output.push(message);
    output.extend(call_item);
    let tools: Vec<Value> = definition
        .and_then(|d| d["tools"].as_array())
        .map(|tools| tools.iter().map(echo_tool).collect())
        .unwrap_or_default();
    let words = |s: &str| s.split_whitespace().count();
    let mut out = json!({
        "id": id,
        "object": "response",
        "created_at": now,
        "status": "completed",
        "error": null,
        "incomplete_details": null,
        "instructions": definition.map(|d| d["instructions"].clone()).unwrap_or(Value::Null),
        "metadata": {},
        "model": model,
        "output": output,
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "temperature": definition.and_then(|d| d.get("temperature").cloned()).unwrap_or(json!(1.0)),
        "top_p": definition.and_then(|d| d.get("top_p").cloned()).unwrap_or(json!(1.0)),
        "text": {"format": {"type": "text"}},
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
        }
        Dialect::Preview => {
            out["user"] = Value::Null;
            if let Some((n, v)) = &name_version {
                out["agent"] = json!({"type": "agent_id", "name": n, "version": v});
            }
        }
    }
    if let Some(c) = conversation {
        out["conversation"] = json!({"id": c});
    }
    out
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
