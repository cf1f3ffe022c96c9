//! Conversations: `POST /openai/v1/conversations` (optional `items`, `metadata`), get, update
//! (`POST …/{id}`), delete, and the items of one conversation (list, add, get, delete). The
//! preview form `/openai/conversations?api-version=2025-11-15-preview` serves the same routes.
//!
//! Shapes follow the SDK recordings of the conversation tests: a conversation is
//! `{id, object: "conversation", created_at, metadata}`; adding items answers a list envelope of
//! the stored items; deleting an item answers the conversation; items list oldest first unless
//! `order` says otherwise. A message is stored as `{type, id, status, role, content: [parts]}`
//! with a string `content` turned into one `input_text` part (`output_text` for assistant turns).
//!
//! Ids: `conv_` + 16 hex + `00` + 32 mixed-case alphanumerics; every item of a conversation,
//! and every response made in it, starts its id with the same 16 hex (recorded for responses;
//! for items added directly the recordings show the same sharing of the conversation's key).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::paging::{EmptyIds, ListQuery, Order, PageParams, envelope};
use super::{ApiVersion, AppState, json_body, lookup, project_ctx};
use crate::ids;

/// The most items one request may add ("You may add up to 20 items at a time").
pub const MAX_ITEMS_PER_REQUEST: usize = 20;

/// The roles a message item may have.
const ROLES: [&str; 4] = ["user", "assistant", "system", "developer"];

/// The 404 for an id that names no conversation.
pub fn missing(id: &str) -> ApiError {
    ApiError::not_found(format!("Conversation with id '{id}' not found."))
}

/// The stored conversation, or its 404.
pub fn load(conn: &Connection, id: &str) -> ApiResult<Value> {
    lookup::json(conn, "SELECT body FROM conversations WHERE id = ?1", [id])?
        .ok_or_else(|| missing(id))
}

/// Every item of a conversation, oldest first.
pub fn history(conn: &Connection, id: &str) -> ApiResult<Vec<Value>> {
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM conversation_items WHERE conversation = ?1 ORDER BY seq ASC",
    )?;
    let bodies = stmt
        .query_map([id], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(bodies
        .iter()
        .map(|b| serde_json::from_str(b))
        .collect::<Result<_, _>>()?)
}

/// Appends items (already carrying their ids) to a conversation, in order.
pub fn append(conn: &Connection, id: &str, items: &[Value]) -> ApiResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO conversation_items (conversation, item_id, body) VALUES (?1, ?2, ?3)",
    )?;
    for item in items {
        let item_id = item["id"].as_str().unwrap_or_default();
        stmt.execute(params![id, item_id, item.to_string()])?;
    }
    Ok(())
}

/// The id group of a conversation: the 16 hex its items' and responses' ids start with.
pub fn group(id: &str) -> String {
    ids::group_of_conversation(id).map_or_else(ids::group, str::to_owned)
}

/// One input item as the conversation stores it, with a fresh id in `group`. `param` names the
/// item in errors (`items[0]`, `input[1]`).
pub fn input_item(item: &Value, group: &str, param: &str) -> ApiResult<Value> {
    let Some(obj) = item.as_object() else {
        return Err(ApiError::invalid(param, "Each item must be an object."));
    };
    // An "easy" input message may omit `type`.
    let kind = match obj.get("type") {
        None | Some(Value::Null) => "message",
        Some(Value::String(t)) => t.as_str(),
        Some(_) => {
            return Err(ApiError::invalid(
                format!("{param}.type"),
                "'type' must be a string.",
            ));
        }
    };
    if kind != "message" {
        // Tool outputs and other items are kept as sent, under an id of the conversation.
        let mut out = obj.clone();
        out.insert("id".to_owned(), json!(ids::grouped_mixed("item_", group)));
        return Ok(Value::Object(out));
    }
    let role = obj
        .get("role")
        .and_then(Value::as_str)
        .filter(|r| ROLES.contains(r))
        .ok_or_else(|| {
            ApiError::invalid(
                format!("{param}.role"),
                format!("'role' must be one of {}.", ROLES.join(", ")),
            )
        })?;
    let part = if role == "assistant" {
        "output_text"
    } else {
        "input_text"
    };
    let content = match obj.get("content") {
        Some(Value::String(text)) => json!([{"type": part, "text": text}]),
        Some(Value::Array(parts)) => Value::Array(parts.clone()),
        _ => {
            return Err(ApiError::invalid(
                format!("{param}.content"),
                "'content' must be a string or an array of content parts.",
            ));
        }
    };
    Ok(json!({
        "type": "message",
        "id": ids::grouped_mixed("msg_", group),
        "status": "completed",
        "role": role,
        "content": content,
    }))
}

/// `items` of a request body: absent is none; at most [`MAX_ITEMS_PER_REQUEST`].
fn items_field(body: &Map<String, Value>, required: bool) -> ApiResult<Vec<Value>> {
    let items = match body.get("items") {
        None | Some(Value::Null) if !required => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "items",
                "Missing required field 'items'.",
            ));
        }
        Some(_) => return Err(ApiError::invalid("items", "'items' must be an array.")),
    };
    if required && items.is_empty() {
        return Err(ApiError::invalid("items", "'items' must not be empty."));
    }
    if items.len() > MAX_ITEMS_PER_REQUEST {
        return Err(ApiError::invalid(
            "items",
            format!("You may add up to {MAX_ITEMS_PER_REQUEST} items at a time."),
        ));
    }
    Ok(items)
}

/// `metadata`: up to 16 string values, keys up to 64 and values up to 512 characters.
fn metadata_field(body: &Map<String, Value>) -> ApiResult<Value> {
    let map = match body.get("metadata") {
        None | Some(Value::Null) => return Ok(json!({})),
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(ApiError::invalid(
                "metadata",
                "'metadata' must be an object.",
            ));
        }
    };
    if map.len() > 16 {
        return Err(ApiError::invalid(
            "metadata",
            "'metadata' may hold at most 16 keys.",
        ));
    }
    for (key, value) in map {
        if key.chars().count() > 64 {
            return Err(ApiError::invalid(
                "metadata",
                format!("Metadata key '{key}' is longer than 64 characters."),
            ));
        }
        match value.as_str() {
            Some(v) if v.chars().count() <= 512 => {}
            Some(_) => {
                return Err(ApiError::invalid(
                    "metadata",
                    format!("Metadata value of '{key}' is longer than 512 characters."),
                ));
            }
            None => {
                return Err(ApiError::invalid(
                    "metadata",
                    format!("Metadata value of '{key}' must be a string."),
                ));
            }
        }
    }
    Ok(Value::Object(map.clone()))
}

/// Normalises a request's items into stored items of the conversation `id`.
fn stored_items(items: &[Value], id: &str) -> ApiResult<Vec<Value>> {
    let group = group(id);
    items
        .iter()
        .enumerate()
        .map(|(i, item)| input_item(item, &group, &format!("items[{i}]")))
        .collect()
}

/// The preview route form answers only with `api-version=2025-11-15-preview`.
pub async fn preview_only(
    Query(query): Query<HashMap<String, String>>,
    request: Request,
    next: Next,
) -> Response {
    match project_ctx(&query, request.headers()) {
        Ok(ctx) if ctx.version == ApiVersion::Preview => next.run(request).await,
        Ok(_) => ApiError {
            status: StatusCode::NOT_FOUND,
            code: "api_version_not_supported",
            message: format!(
                "This route needs api-version {}; with v1 use /openai/v1/conversations.",
                ApiVersion::PREVIEW
            ),
            kind: "invalid_request_error",
            param: Some("api-version".to_owned()),
        }
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /conversations`.
pub async fn create(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let metadata = metadata_field(&body)?;
    let id = ids::conversation();
    let items = stored_items(&items_field(&body, false)?, &id)?;
    let conversation = json!({
        "id": id,
        "object": "conversation",
        "created_at": ids::now_secs(),
        "metadata": metadata,
    });
    let out = conversation.clone();
    state
        .db
        .write(move |tx| {
            tx.execute(
                "INSERT INTO conversations (id, body) VALUES (?1, ?2)",
                params![id, conversation.to_string()],
            )?;
            append(tx, &id, &items)
        })
        .await?;
    Ok(Json(out))
}

/// `GET /conversations/{id}`.
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let conversation = state.db.read(move |conn| load(conn, &id)).await?;
    Ok(Json(conversation))
}

/// `POST /conversations/{id}`: replaces the metadata.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let metadata = metadata_field(&body)?;
    let conversation = state
        .db
        .write(move |tx| {
            let mut conversation = load(tx, &id)?;
            conversation["metadata"] = metadata;
            tx.execute(
                "UPDATE conversations SET body = ?2 WHERE id = ?1",
                params![id, conversation.to_string()],
            )?;
            Ok(conversation)
        })
        .await?;
    Ok(Json(conversation))
}

/// `DELETE /conversations/{id}`: the conversation and its items.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let out = state
        .db
        .write(move |tx| {
            load(tx, &id)?;
            tx.execute(
                "DELETE FROM conversation_items WHERE conversation = ?1",
                [&id],
            )?;
            tx.execute("DELETE FROM conversations WHERE id = ?1", [&id])?;
            Ok(json!({"object": "conversation.deleted", "deleted": true, "id": id}))
        })
        .await?;
    Ok(Json(out))
}

/// `GET /conversations/{id}/items`: `limit`, `order` (default oldest first, as recorded),
/// `after`, `before`.
pub async fn list_items(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let page = PageParams::from_query(&query, Order::Asc)?;
    let limit = page.limit;
    let rows = state
        .db
        .read(move |conn| {
            load(conn, &id)?;
            let list = ListQuery {
                select: "SELECT item_id, body FROM conversation_items WHERE conversation = ?",
                column: "seq",
                params: vec![id.clone().into()],
            };
            let rows = page.fetch(
                conn,
                list,
                |item| {
                    lookup::int(
                        conn,
                        "SELECT seq FROM conversation_items WHERE conversation = ?1 AND item_id = ?2",
                        [&id, item],
                    )
                },
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )?;
            rows.into_iter()
                .map(|(item, body)| Ok((item, serde_json::from_str(&body)?)))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(Json(envelope(rows, limit, EmptyIds::EmptyString)))
}

/// `POST /conversations/{id}/items` `{items}`: the stored items, as a list envelope.
pub async fn add_items(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let items = stored_items(&items_field(&body, true)?, &id)?;
    let rows: Vec<(String, Value)> = items
        .iter()
        .map(|i| (i["id"].as_str().unwrap_or_default().to_owned(), i.clone()))
        .collect();
    state
        .db
        .write(move |tx| {
            load(tx, &id)?;
            append(tx, &id, &items)
        })
        .await?;
    let n = rows.len();
    Ok(Json(envelope(rows, n, EmptyIds::EmptyString)))
}

fn load_item(conn: &Connection, id: &str, item: &str) -> ApiResult<Value> {
    load(conn, id)?;
    lookup::json(
        conn,
        "SELECT body FROM conversation_items WHERE conversation = ?1 AND item_id = ?2",
        [id, item],
    )?
    .ok_or_else(|| ApiError::not_found(format!("Item with id '{item}' not found.")))
}

/// `GET /conversations/{id}/items/{item_id}`.
pub async fn get_item(
    State(state): State<AppState>,
    Path((id, item)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let item = state
        .db
        .read(move |conn| load_item(conn, &id, &item))
        .await?;
    Ok(Json(item))
}

/// `DELETE /conversations/{id}/items/{item_id}`: answers the conversation, as recorded.
pub async fn delete_item(
    State(state): State<AppState>,
    Path((id, item)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let conversation = state
        .db
        .write(move |tx| {
            load_item(tx, &id, &item)?;
            tx.execute(
                "DELETE FROM conversation_items WHERE conversation = ?1 AND item_id = ?2",
                [&id, &item],
            )?;
            load(tx, &id)
        })
        .await?;
    Ok(Json(conversation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_message_becomes_one_text_part_in_the_conversations_group() {
        let id = ids::conversation();
        let g = group(&id);
        let user = input_item(&json!({"role": "user", "content": "hi"}), &g, "items[0]").unwrap();
        assert_eq!(
            user["content"],
            json!([{"type": "input_text", "text": "hi"}])
        );
        assert!(
            user["id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("msg_{g}00"))
        );
        let assistant = input_item(
            &json!({"type": "message", "role": "assistant", "content": "ok"}),
            &g,
            "items[0]",
        )
        .unwrap();
        assert_eq!(assistant["content"][0]["type"], "output_text");
        let err =
            input_item(&json!({"role": "robot", "content": "x"}), &g, "items[2]").unwrap_err();
        assert_eq!(err.param.as_deref(), Some("items[2].role"));
    }

    #[test]
    fn metadata_is_a_small_map_of_strings() {
        let body = |m: Value| json!({ "metadata": m }).as_object().unwrap().clone();
        assert_eq!(metadata_field(&Map::new()).unwrap(), json!({}));
        assert!(metadata_field(&body(json!({"k": "v"}))).is_ok());
        assert!(metadata_field(&body(json!({"k": 1}))).is_err());
        let many: Map<String, Value> = (0..17).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(metadata_field(&body(Value::Object(many))).is_err());
    }
}
