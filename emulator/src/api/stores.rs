//! Memory stores: create, get, list, update (description and metadata only), delete. The
//! `{name}:verb` actions that share the store's path segment are in `memories`.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::paging::{EmptyIds, FromQuery as _, ListPage, Order, PageParams, envelope};
use super::request::{ApiVersion, Checked, CheckedBody, Memory, json_body};
use super::state::AppState;
use super::validate;
use crate::ids;
use crate::store::stores as rows;

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
    let row = store.clone();
    state
        .db
        .write(move |tx| {
            if rows::exists(tx, &name)? {
                return Err(ApiError::conflict(format!(
                    "MemoryStore '{name}' already exists"
                )));
            }
            rows::insert(tx, &id, &name, &row)?;
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
    let store = state
        .db
        .read(move |conn| rows::get(conn, &name)?.ok_or_else(|| ApiError::store_not_found(&name)))
        .await?;
    Ok(Json(store))
}

/// `GET /memory_stores`: paged by creation order (default newest first: no recording shows the
/// unordered order of several stores, and OpenAI-style lists default to `desc`).
pub async fn list(
    State(state): State<AppState>,
    Checked { query, .. }: Checked<Memory>,
) -> ApiResult<Json<ListPage<Box<RawValue>>>> {
    let page = PageParams::from_query(&query, Order::Desc)?;
    let limit = page.limit;
    let rows = state
        .db
        .read(move |conn| rows::list(conn, &page).map_err(ApiError::from))
        .await?;
    Ok(Json(envelope(rows, limit, EmptyIds::EmptyString)))
}

/// Update in place: only `description` and `metadata` may change; `updated_at` moves forward
/// (the May 2026 behaviour).
pub async fn update(
    state: AppState,
    name: String,
    body: Map<String, Value>,
) -> ApiResult<Response> {
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
            let mut store =
                rows::get(tx, &name)?.ok_or_else(|| ApiError::store_not_found(&name))?;
            if let Some(obj) = store.as_object_mut() {
                if let Some(d) = description {
                    obj.insert("description".to_owned(), Value::String(d));
                }
                if let Some(m) = metadata {
                    obj.insert("metadata".to_owned(), Value::Object(m));
                }
                obj.insert("updated_at".to_owned(), json!(ids::now_secs()));
            }
            rows::replace(tx, &name, &store)?;
            Ok::<_, ApiError>(store)
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
            if !rows::delete(tx, &name)? {
                return Err(ApiError::store_not_found(&name));
            }
            Ok(json!({"object": "memory_store.deleted", "name": name, "deleted": true}))
        })
        .await?;
    Ok(Json(out))
}
