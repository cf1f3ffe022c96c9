//! Memory stores: create, get, list, update (description and metadata only), delete, and the
//! `{name}:verb` actions that share the store's path segment.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::paging::{EmptyIds, ListQuery, Order, PageParams, envelope};
use super::request::{Checked, CheckedBody, Memory};
use super::{ApiVersion, AppState, json_body, lookup, memories, validate};
use crate::ids;

/// The not-found error for a store, in the newest recorded wording (May 2026, which names the
/// request id; Feb 2026 did not).
pub fn store_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("MemoryStore '{name}' not found")).naming_request_id()
}

/// Loads a store's wire JSON, or 404.
pub fn load(conn: &Connection, name: &str) -> ApiResult<Value> {
    lookup::json(conn, "SELECT body FROM stores WHERE name = ?1", [name])?
        .ok_or_else(|| store_not_found(name))
}

/// Validates `definition` and fills the option defaults the service echoes: both enabled flags,
/// and (v1, May 2026 on) `default_ttl_seconds: 0`. `procedural_memory_enabled` and
/// `user_profile_details` are echoed only when sent.
fn definition(body: &Map<String, Value>, version: ApiVersion) -> ApiResult<Value> {
    let def = validate::required_object(body, "definition")?;
    let kind = match def.get("kind") {
        None | Some(Value::Null) => "default",
        Some(Value::String(k)) if k == "default" => "default",
        Some(_) => {
            return Err(ApiError::invalid(
                "definition.kind",
                "'definition.kind' must be 'default'.",
            ));
        }
    };
    let chat = validate::required_str(def, "chat_model", "definition.chat_model")?;
    let embedding = validate::required_str(def, "embedding_model", "definition.embedding_model")?;
    let mut options = match def.get("options") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                "definition.options",
                "'definition.options' must be an object.",
            ));
        }
    };
    for flag in [
        "user_profile_enabled",
        "chat_summary_enabled",
        "procedural_memory_enabled",
    ] {
        if let Some(v) = options.get(flag)
            && !v.is_boolean()
        {
            return Err(ApiError::invalid(
                format!("definition.options.{flag}"),
                format!("'{flag}' must be a boolean."),
            ));
        }
    }
    if let Some(v) = options.get("user_profile_details")
        && !v.is_string()
    {
        return Err(ApiError::invalid(
            "definition.options.user_profile_details",
            "'user_profile_details' must be a string.",
        ));
    }
    if let Some(v) = options.get("default_ttl_seconds")
        && v.as_i64().is_none_or(|n| n < 0)
    {
        return Err(ApiError::invalid(
            "definition.options.default_ttl_seconds",
            "'default_ttl_seconds' must be a non-negative integer.",
        ));
    }
    options
        .entry("user_profile_enabled")
        .or_insert(Value::Bool(true));
    options
        .entry("chat_summary_enabled")
        .or_insert(Value::Bool(true));
    if version == ApiVersion::V1 {
        options.entry("default_ttl_seconds").or_insert(json!(0));
    }
    Ok(json!({
        "kind": kind,
        "chat_model": chat,
        "embedding_model": embedding,
        "options": options,
    }))
}

/// `POST /memory_stores`: 200 with the store; 409 when the name is taken.
pub async fn create(
    State(state): State<AppState>,
    CheckedBody { ctx, body, .. }: CheckedBody<Memory>,
) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let name = validate::required_str(&body, "name", "name")?.to_owned();
    validate::store_name(&name)?;
    let description = validate::description(&body)?;
    let metadata = validate::metadata(&body)?;
    let definition = definition(&body, ctx.version)?;
    let now = ids::now_secs();
    let id = ids::memory_store();
    let store = json!({
        "object": "memory_store",
        "id": id,
        "created_at": now,
        "updated_at": now,
        "name": name,
        "description": description,
        "metadata": metadata,
        "definition": definition,
    });
    let text = store.to_string();
    state
        .db
        .write(move |tx| {
            if lookup::exists(tx, "SELECT 1 FROM stores WHERE name = ?1", [&name])? {
                return Err(ApiError::conflict(format!(
                    "MemoryStore '{name}' already exists"
                )));
            }
            tx.execute(
                "INSERT INTO stores (id, name, body) VALUES (?1, ?2, ?3)",
                params![id, name, text],
            )?;
            Ok(())
        })
        .await?;
    Ok(Json(store).into_response())
}

/// `GET /memory_stores/{name}`.
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _: Checked<Memory>,
) -> ApiResult<Json<Value>> {
    let store = state.db.read(move |conn| load(conn, &name)).await?;
    Ok(Json(store))
}

/// `GET /memory_stores`: paged by creation order (default newest first: no recording shows the
/// unordered order of several stores, and OpenAI-style lists default to `desc`).
pub async fn list(
    State(state): State<AppState>,
    Checked { query, .. }: Checked<Memory>,
) -> ApiResult<Json<Value>> {
    let page = PageParams::from_query(&query, Order::Desc)?;
    let limit = page.limit;
    let rows = state
        .db
        .read(move |conn| {
            let list = ListQuery {
                select: "SELECT id, body FROM stores WHERE 1=1",
                column: "seq",
                params: Vec::new(),
            };
            let rows = page.fetch(
                conn,
                list,
                |id| lookup::int(conn, "SELECT seq FROM stores WHERE id = ?1", [id]),
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )?;
            rows.into_iter()
                .map(|(id, body)| Ok((id, serde_json::from_str(&body)?)))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(Json(envelope(rows, limit, EmptyIds::EmptyString)))
}

/// `POST /memory_stores/{segment}`: an update when the segment is a bare name, else one of the
/// `:update_memories`, `:search_memories`, `:delete_scope` actions.
pub async fn post_action(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    CheckedBody { ctx, body, .. }: CheckedBody<Memory>,
) -> ApiResult<Response> {
    let body = json_body(&body)?;
    match segment.split_once(':') {
        None => update(state, segment, body).await,
        Some((name, "update_memories")) => {
            memories::update_memories(state, ctx, name.to_owned(), body).await
        }
        Some((name, "search_memories")) => {
            memories::search_memories(state, name.to_owned(), body).await
        }
        Some((name, "delete_scope")) => memories::delete_scope(state, name.to_owned(), body).await,
        Some((_, verb)) => Err(ApiError::not_found(format!(
            "Unknown memory store operation '{verb}'"
        ))),
    }
}

/// Update in place: only `description` and `metadata` may change; `updated_at` moves forward
/// (the May 2026 behaviour).
async fn update(state: AppState, name: String, body: Map<String, Value>) -> ApiResult<Response> {
    if body.contains_key("definition") || body.contains_key("name") {
        let field = if body.contains_key("definition") {
            "definition"
        } else {
            "name"
        };
        return Err(ApiError::invalid(
            field,
            format!(
                "'{field}' cannot be changed; only 'description' and 'metadata' can be updated."
            ),
        ));
    }
    let description = body
        .contains_key("description")
        .then(|| validate::description(&body))
        .transpose()?;
    let metadata = body
        .contains_key("metadata")
        .then(|| validate::metadata(&body))
        .transpose()?;
    let store = state
        .db
        .write(move |tx| {
            let mut store = load(tx, &name)?;
            if let Some(obj) = store.as_object_mut() {
                if let Some(d) = description {
                    obj.insert("description".to_owned(), Value::String(d));
                }
                if let Some(m) = metadata {
                    obj.insert("metadata".to_owned(), Value::Object(m));
                }
                obj.insert("updated_at".to_owned(), json!(ids::now_secs()));
            }
            tx.execute(
                "UPDATE stores SET body = ?1 WHERE name = ?2",
                params![store.to_string(), name],
            )?;
            Ok(store)
        })
        .await?;
    Ok(Json(store).into_response())
}

/// `DELETE /memory_stores/{name}`: removes the store with every scope, memory and update.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _: Checked<Memory>,
) -> ApiResult<Json<Value>> {
    let out = state
        .db
        .write(move |tx| {
            let n = tx.execute("DELETE FROM stores WHERE name = ?1", [&name])?;
            if n == 0 {
                return Err(store_not_found(&name));
            }
            tx.execute("DELETE FROM items WHERE store = ?1", [&name])?;
            tx.execute("DELETE FROM updates WHERE store = ?1", [&name])?;
            Ok(json!({"object": "memory_store.deleted", "name": name, "deleted": true}))
        })
        .await?;
    Ok(Json(out))
}
