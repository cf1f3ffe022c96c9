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
use rusqlite::Connection;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::paging::{EmptyIds, FromQuery as _, ListPage, Order, PageParams, envelope};
use super::request::{ApiVersion, json_body, project_ctx};
use super::state::AppState;
use super::validate;
use crate::ids;
use crate::store::conversations as rows;

/// The most items one request may add ("You may add up to 20 items at a time").
pub const MAX_ITEMS_PER_REQUEST: usize = 20;

/// The stored conversation, or its 404.
fn load(conn: &Connection, id: &str) -> ApiResult<Value> {
    rows::get(conn, id)?.ok_or_else(|| ApiError::conversation_missing(id))
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
    let group = ids::conversation_group(id);
    items
        .iter()
        .enumerate()
        .map(|(i, item)| validate::conversation_item(item, &group, &format!("items[{i}]")))
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
            rows::insert(tx, &id, &conversation)?;
            Ok::<_, ApiError>(rows::append(tx, &id, &items)?)
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
            rows::replace(tx, &id, &conversation)?;
            Ok::<_, ApiError>(conversation)
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
            rows::delete(tx, &id)?;
            Ok::<_, ApiError>(json!({"object": "conversation.deleted", "deleted": true, "id": id}))
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
) -> ApiResult<Json<ListPage<Box<RawValue>>>> {
    let page = PageParams::from_query(&query, Order::Asc)?;
    let limit = page.limit;
    let rows = state
        .db
        .read(move |conn| {
            load(conn, &id)?;
            Ok::<_, ApiError>(rows::list_items(conn, &id, &page)?)
        })
        .await?;
    Ok(Json(envelope(rows, limit, EmptyIds::EmptyString)))
}

/// `POST /conversations/{id}/items` `{items}`: the stored items, as a list envelope.
pub async fn add_items(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<ListPage<Value>>> {
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
            Ok::<_, ApiError>(rows::append(tx, &id, &items)?)
        })
        .await?;
    let n = rows.len();
    Ok(Json(envelope(rows, n, EmptyIds::EmptyString)))
}

fn load_item(conn: &Connection, id: &str, item: &str) -> ApiResult<Value> {
    load(conn, id)?;
    rows::item(conn, id, item)?
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
            rows::delete_item(tx, &id, &item)?;
            load(tx, &id)
        })
        .await?;
    Ok(Json(conversation))
}

#[cfg(test)]
mod tests {
    use super::*;

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
