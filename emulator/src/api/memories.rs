//! `:update_memories` and its state machine, `updates/{id}`, `:search_memories` and
//! `:delete_scope`.
//!
//! # Expected flow of an update
//! `queued` (until `update_delay` has passed) → `in_progress` (for `AppState::processing`) →
//! `completed`, with the extracted memories written in the same transaction as the status. A new
//! update for the same store and scope supersedes every update of that scope still `queued`: the
//! old one ends `superseded` with `superseded_by`, and its messages move into the new one so no
//! turn is lost. `:delete_scope` ends the scope's pending updates `superseded` with no
//! `superseded_by`: their turns are dropped with the scope.
//!
//! # Guarantees
//! Progress is computed from stored times, so it is the same whoever advances it: the
//! background [`worker`], a poll, a search, or another process sharing the file. Each step is
//! one transaction that re-checks the status, so an update is processed exactly once.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::error::{ApiError, ApiResult};
use super::items::item_json;
use super::request::{Checked, Memory};
use super::{ApiVersion, AppState, Ctx, stores, validate};
use crate::{extract, ids, similarity};

/// The service's default `update_delay`, in seconds.
const DEFAULT_UPDATE_DELAY: i64 = 300;

/// Deterministic token counts for `usage` (words, not real tokens).
fn usage(input: usize, output: usize, embedding: usize) -> Value {
    json!({
        "embedding_tokens": embedding,
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input + output + embedding,
    })
}

/// Queues an update; returns its id. Shared with Responses write-back.
pub fn enqueue(
    tx: &Transaction<'_>,
    store: &str,
    scope: &str,
    items: Vec<Value>,
    delay_secs: i64,
    processing: Duration,
) -> ApiResult<String> {
    let now = ids::now_millis();
    advance_in(tx, now)?;
    let id = ids::uuid();
    let mut all: Vec<Value> = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT update_id, items FROM updates WHERE store = ?1 AND scope = ?2 \
             AND status = 'queued' ORDER BY seq",
        )?;
        let rows = stmt
            .query_map(params![store, scope], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (old, old_items) in rows {
            if let Value::Array(a) = serde_json::from_str(&old_items)? {
                all.extend(a);
            }
            tx.execute(
                "UPDATE updates SET status = 'superseded', superseded_by = ?1 WHERE update_id = ?2",
                params![id, old],
            )?;
        }
    }
    all.extend(items);
    let due = now + delay_secs.saturating_mul(1000);
    let done = due + i64::try_from(processing.as_millis()).unwrap_or(i64::MAX / 2);
    tx.execute(
        "INSERT INTO updates (update_id, store, scope, status, items, due_ms, done_ms) \
         VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6)",
        params![id, store, scope, Value::Array(all).to_string(), due, done],
    )?;
    Ok(id)
}

/// Moves every update whose time has come: `queued` → `in_progress` → `completed`.
pub fn advance_in(tx: &Connection, now_ms: i64) -> ApiResult<()> {
    tx.execute(
        "UPDATE updates SET status = 'in_progress' WHERE status = 'queued' AND due_ms <= ?1",
        [now_ms],
    )?;
    let due: Vec<(String, String, String, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT update_id, store, scope, items FROM updates \
             WHERE status = 'in_progress' AND done_ms <= ?1 ORDER BY seq",
        )?;
        stmt.query_map([now_ms], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<Vec<_>, _>>()?
    };
    for (id, store, scope, items) in due {
        let result = process(tx, &store, &scope, &items)?;
        tx.execute(
            "UPDATE updates SET status = 'completed', result = ?1 WHERE update_id = ?2",
            params![result.to_string(), id],
        )?;
    }
    Ok(())
}

/// Extracts and writes the memories of one update; returns its `result`.
fn process(tx: &Connection, store: &str, scope: &str, items: &str) -> ApiResult<Value> {
    let items: Vec<Value> = match serde_json::from_str(items)? {
        Value::Array(a) => a,
        _ => Vec::new(),
    };
    let definition = stores::load(tx, store)?;
    let options = &definition["definition"]["options"];
    let profile = options["user_profile_enabled"].as_bool().unwrap_or(true);
    let summary = options["chat_summary_enabled"].as_bool().unwrap_or(true);
    let facts = extract::extract(&items, profile, summary);
    let mut operations = Vec::new();
    for (kind, content) in facts {
        let mut item = super::items::insert(tx, store, scope, kind, &content)?;
        // Update results spell kinds in upper case, as recorded (search and CRUD do not).
        item["kind"] = json!(kind.to_uppercase());
        operations.push(json!({"kind": "created", "memory_item": item}));
    }
    let input: usize = extract::messages(&items)
        .iter()
        .map(|(_, t)| t.split_whitespace().count())
        .sum();
    let output = operations.len() * 10;
    Ok(json!({"memory_operations": operations, "usage": usage(input, output, output)}))
}

/// Advances updates if any is due; cheap when none is.
pub fn advance(tx: &Transaction<'_>) -> ApiResult<()> {
    advance_in(tx, ids::now_millis())
}

/// Background progress, so memories appear after `update_delay` even when nobody polls.
pub async fn worker(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let pending = state
            .db
            .read(|conn| {
                let now = ids::now_millis();
                Ok(conn
                    .query_row(
                        "SELECT 1 FROM updates WHERE (status = 'queued' AND due_ms <= ?1) \
                         OR (status = 'in_progress' AND done_ms <= ?1) LIMIT 1",
                        [now],
                        |_| Ok(true),
                    )
                    .optional()?
                    .unwrap_or(false))
            })
            .await;
        if matches!(pending, Ok(true))
            && let Err(e) = state.db.write(advance).await
        {
            tracing::warn!("emulator failed to advance memory updates: {}", e.message);
        }
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
    _ctx: Ctx,
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
    if let Some(v) = body.get("previous_update_id")
        && !(v.is_string() || v.is_null())
    {
        return Err(ApiError::invalid(
            "previous_update_id",
            "'previous_update_id' must be a string.",
        ));
    }
    let processing = state.processing;
    let store = name.clone();
    let id = state
        .db
        .write(move |tx| {
            stores::load(tx, &store)?;
            enqueue(tx, &store, &scope, items, delay, processing)
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
            stores::load(tx, &name)?;
            advance(tx)?;
            let row: Option<(String, Option<String>, Option<String>)> = tx
                .query_row(
                    "SELECT status, superseded_by, result FROM updates \
                     WHERE store = ?1 AND update_id = ?2",
                    params![name, id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((status, superseded_by, result)) = row else {
                return Err(ApiError::not_found(format!("Update '{id}' not found")));
            };
            let mut out = json!({"update_id": id, "status": status});
            if let Some(by) = superseded_by {
                out["superseded_by"] = json!(by);
            }
            if let Some(r) = result {
                out["result"] = serde_json::from_str(&r)?;
            }
            Ok(out)
        })
        .await?;
    Ok(Json(out))
}

/// A memory with its similarity to the query that found it.
pub struct Found {
    pub memory: Value,
    pub score: f64,
}

/// The scope's static memories: its `user_profile` memories, newest first, at most `max`. A
/// search with no query returns these, and the agent's memory tool injects them into every
/// response (as the service documents).
pub fn profile_memories(
    conn: &Connection,
    store: &str,
    scope: &str,
    max: usize,
) -> ApiResult<Vec<Value>> {
    Ok(scope_memories(conn, store, scope)?
        .into_iter()
        .filter(|m| m["kind"] == "user_profile")
        .take(max)
        .collect())
}

/// Every memory of one scope of one store, newest first. Scope isolation is this query's
/// `WHERE`: no search reads memories any other way.
fn scope_memories(conn: &Connection, store: &str, scope: &str) -> ApiResult<Vec<Value>> {
    let mut stmt = conn.prepare_cached(
        "SELECT memory_id, updated_at, scope, content, kind FROM items \
         WHERE store = ?1 AND scope = ?2 ORDER BY seq DESC",
    )?;
    let all = stmt
        .query_map(params![store, scope], item_json)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(all)
}

/// The scope's nearest memories to `query`, best first, at most `max`, ranked by the stand-in
/// similarity ([`crate::similarity`]); equal scores go to the newer memory. Like a vector store,
/// a scope holding memories always has nearest neighbours: the answer is empty only for an empty
/// scope. A query with no content words (or none at all) returns the static profile memories.
pub fn search_scope(
    conn: &Connection,
    store: &str,
    scope: &str,
    query: &str,
    max: usize,
) -> ApiResult<Vec<Found>> {
    if similarity::embed(query).is_empty() {
        return Ok(profile_memories(conn, store, scope, max)?
            .into_iter()
            .map(|memory| Found { memory, score: 0.0 })
            .collect());
    }
    let all = scope_memories(conn, store, scope)?;
    let texts: Vec<&str> = all
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default())
        .collect();
    let order = similarity::rank(query, &texts);
    Ok(order
        .into_iter()
        .take(max)
        .map(|(i, score)| Found {
            memory: all[i].clone(),
            score,
        })
        .collect())
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
    if let Some(v) = body.get("previous_search_id")
        && !(v.is_string() || v.is_null())
    {
        return Err(ApiError::invalid(
            "previous_search_id",
            "'previous_search_id' must be a string.",
        ));
    }
    let query = extract::messages(&items)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(" ");
    let embedding = similarity::words(&query).len();
    let memories = state
        .db
        .write(move |tx| {
            stores::load(tx, &name)?;
            advance(tx)?;
            search_scope(tx, &name, &scope, &query, max)
        })
        .await?;
    let memories: Vec<Value> = memories
        .into_iter()
        .map(|f| json!({"memory_item": f.memory}))
        .collect();
    Ok(Json(json!({
        "search_id": ids::hex32(),
        "memories": memories,
        "usage": usage(0, 0, embedding),
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
            stores::load(tx, &name)?;
            advance(tx)?;
            let n = tx.execute(
                "DELETE FROM items WHERE store = ?1 AND scope = ?2",
                params![name, scope],
            )?;
            tx.execute(
                "UPDATE updates SET status = 'superseded' \
                 WHERE store = ?1 AND scope = ?2 AND status IN ('queued', 'in_progress')",
                params![name, scope],
            )?;
            Ok(json!({
                "object": "memory_store.scope.deleted",
                "name": name,
                "scope": scope,
                "deleted": n > 0,
            }))
        })
        .await?;
    Ok(Json(out).into_response())
}
