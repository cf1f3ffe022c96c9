//! The memory actions on a store's path segment: `:update_memories`, `:search_memories` and
//! `:delete_scope`, and the update poll `updates/{id}`. The update state machine is
//! `store::updates`; the search ranking is `recall`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::request::{ApiVersion, Checked, Memory};
use super::state::AppState;
use super::validate;
use crate::store::{items, stores, updates};
use crate::{extract, ids, recall, similarity};

/// The service's default `update_delay`, in seconds.
const DEFAULT_UPDATE_DELAY: i64 = 300;

fn ensure_store(conn: &Connection, name: &str) -> ApiResult<()> {
    if stores::exists(conn, name)? {
        Ok(())
    } else {
        Err(ApiError::store_not_found(name))
    }
}

/// Reads an optional array field of messages.
fn items_of(body: &Map<String, Value>) -> ApiResult<Vec<Value>> {
    match body.get("items") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(_) => Err(ApiError::invalid("items", "'items' must be an array.")),
    }
}

/// `POST /memory_stores/{name}:update_memories` → 202 `{update_id, status: "queued"}` with an
/// absolute `operation-location` that, as recorded, names the preview api-version.
pub async fn update_memories(
    state: AppState,
    name: String,
    body: Map<String, Value>,
) -> ApiResult<Response> {
    let scope = validate::required_str(&body, "scope", "scope")?.to_owned();
    let items = items_of(&body)?;
    let delay = match body.get("update_delay") {
        None | Some(Value::Null) => DEFAULT_UPDATE_DELAY,
        Some(v) => v.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::invalid(
                "update_delay",
                "'update_delay' must be a non-negative integer (seconds).",
            )
        })?,
    };
    validate::optional_str(&body, "previous_update_id", "previous_update_id")?;
    let processing = state.processing;
    let store = name.clone();
    let id = state
        .db
        .write(move |tx| {
            ensure_store(tx, &store)?;
            Ok::<_, ApiError>(updates::enqueue(
                tx, &store, &scope, items, delay, processing,
            )?)
        })
        .await?;
    let location = format!(
        "{}/memory_stores/{name}/updates/{id}?api-version={}",
        state.endpoint,
        ApiVersion::PREVIEW
    );
    let mut response = (
        StatusCode::ACCEPTED,
        Json(json!({"update_id": id, "status": "queued"})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert("operation-location", v);
    }
    Ok(response)
}

/// `GET /memory_stores/{name}/updates/{id}`: the status, plus `result` once completed or
/// `superseded_by` once superseded.
pub async fn get_update(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    _: Checked<Memory>,
) -> ApiResult<Json<Value>> {
    let out = state
        .db
        .write(move |tx| {
            ensure_store(tx, &name)?;
            updates::advance(tx)?;
            updates::get(tx, &name, &id)?
                .ok_or_else(|| ApiError::not_found(format!("Update '{id}' not found")))
        })
        .await?;
    Ok(Json(out))
}

/// `POST /memory_stores/{name}:search_memories`. `previous_search_id` is accepted and only
/// validated: the stand-in search is stateless.
pub async fn search_memories(
    state: AppState,
    name: String,
    body: Map<String, Value>,
) -> ApiResult<Response> {
    let scope = validate::required_str(&body, "scope", "scope")?.to_owned();
    let items = items_of(&body)?;
    let max = match body.get("options").and_then(|o| o.get("max_memories")) {
        None | Some(Value::Null) => 10,
        Some(v) => v
            .as_u64()
            // An int32 on the wire; the service documents no maximum.
            .filter(|n| (1..=i32::MAX as u64).contains(n))
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                ApiError::invalid(
                    "options.max_memories",
                    "'max_memories' must be a positive integer.",
                )
            })?,
    };
    validate::optional_str(&body, "previous_search_id", "previous_search_id")?;
    let query = extract::messages(&items)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(" ");
    let embedding = similarity::words(&query).len();
    let memories = state
        .db
        .write(move |tx| {
            ensure_store(tx, &name)?;
            updates::advance(tx)?;
            Ok::<_, ApiError>(recall::search_scope(tx, &name, &scope, &query, max)?)
        })
        .await?;
    let memories: Vec<Value> = memories
        .into_iter()
        .map(|f| json!({"memory_item": f.memory}))
        .collect();
    Ok(Json(json!({
        "search_id": ids::hex32(),
        "memories": memories,
        "usage": updates::usage(0, 0, embedding),
        "error": null,
    }))
    .into_response())
}

/// `POST /memory_stores/{name}:delete_scope`: removes the scope's memories; `deleted: false`
/// (still 200) when it held no memories, as recorded.
///
/// Updates of the scope still `queued` or `in_progress` end `superseded` (the spec's cancelled
/// state) without `superseded_by`: their turns go with the scope, and they stay pollable, so a
/// client waiting on one sees a terminal status instead of a 404. No recording shows what the
/// service does here; deleting them broke pollers, completing them would write memories into
/// the scope just emptied.
pub async fn delete_scope(
    state: AppState,
    name: String,
    body: Map<String, Value>,
) -> ApiResult<Response> {
    let scope = validate::required_str(&body, "scope", "scope")?.to_owned();
    let out = state
        .db
        .write(move |tx| {
            ensure_store(tx, &name)?;
            updates::advance(tx)?;
            let n = items::delete_scope(tx, &name, &scope)?;
            updates::cancel_scope(tx, &name, &scope)?;
            Ok::<_, ApiError>(json!({
                "object": "memory_store.scope.deleted",
                "name": name,
                "scope": scope,
                "deleted": n > 0,
            }))
        })
        .await?;
    Ok(Json(out).into_response())
}
