//! Memory items (v1 only): create, get, update, delete, and `POST items:list` for one scope.
//! Items are ordered by insertion, since the wire item has no `created_at`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::paging::{EmptyIds, ListQuery, Order, PageParams, envelope};
use super::request::{Checked, CheckedBody, Items};
use super::{ApiVersion, AppState, Ctx, json_body, lookup, memory_ctx, stores, validate};
use crate::ids;

/// The kinds an item may have on the wire (lower case, as item CRUD and search return them).
pub const KINDS: [&str; 3] = ["user_profile", "chat_summary", "procedural"];

/// Item routes exist only on `v1`; on the preview version the service has no such route.
pub(super) fn items_ctx(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<Ctx> {
    let ctx = memory_ctx(query, headers)?;
    if ctx.version == ApiVersion::Preview {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            code: "api_version_not_supported",
            message: format!(
                "Memory item operations are not available in api-version {}; use v1.",
                ApiVersion::PREVIEW
            ),
            kind: "invalid_request_error",
            param: Some("api-version".to_owned()),
        });
    }
    Ok(ctx)
}

/// Reads an item row (`memory_id, updated_at, scope, content, kind`) as its wire JSON.
pub fn item_json(row: &Row<'_>) -> rusqlite::Result<Value> {
    Ok(json!({
        "memory_id": row.get::<_, String>(0)?,
        "updated_at": row.get::<_, i64>(1)?,
        "scope": row.get::<_, String>(2)?,
        "content": row.get::<_, String>(3)?,
        "kind": row.get::<_, String>(4)?,
    }))
}

fn ensure_store(conn: &Connection, name: &str) -> ApiResult<()> {
    stores::load(conn, name).map(|_| ())
}

fn load_item(conn: &Connection, store: &str, id: &str) -> ApiResult<Value> {
    conn.query_row(
        "SELECT memory_id, updated_at, scope, content, kind FROM items \
         WHERE store = ?1 AND memory_id = ?2",
        params![store, id],
        item_json,
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("MemoryItem '{id}' not found")))
}

/// Inserts one item and returns its wire JSON; used by item create and by update extraction.
pub fn insert(
    conn: &Connection,
    store: &str,
    scope: &str,
    kind: &str,
    content: &str,
) -> ApiResult<Value> {
    let id = ids::memory_item(scope);
    let now = ids::now_secs();
    conn.execute(
        "INSERT INTO items (store, scope, memory_id, kind, content, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![store, scope, id, kind, content, now],
    )?;
    Ok(
        json!({"memory_id": id, "updated_at": now, "scope": scope, "content": content, "kind": kind}),
    )
}

fn kind_of(body: &serde_json::Map<String, Value>) -> ApiResult<String> {
    known_kind(validate::required_str(body, "kind", "kind")?)
}

fn known_kind(kind: &str) -> ApiResult<String> {
    if KINDS.contains(&kind) {
        Ok(kind.to_owned())
    } else {
        Err(ApiError::invalid(
            "kind",
            format!(
                "Invalid memory kind '{kind}'. Expected one of: user_profile, chat_summary, procedural."
            ),
        ))
    }
}

/// `POST /memory_stores/{name}/items`.
pub async fn create(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CheckedBody { body, .. }: CheckedBody<Items>,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let scope = validate::required_str(&body, "scope", "scope")?.to_owned();
    let content = validate::required_str(&body, "content", "content")?.to_owned();
    let kind = kind_of(&body)?;
    let item = state
        .db
        .write(move |tx| {
            ensure_store(tx, &name)?;
            insert(tx, &name, &scope, &kind, &content)
        })
        .await?;
    Ok(Json(item))
}

/// `GET /memory_stores/{name}/items/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    _: Checked<Items>,
) -> ApiResult<Json<Value>> {
    let item = state
        .db
        .read(move |conn| {
            ensure_store(conn, &name)?;
            load_item(conn, &name, &id)
        })
        .await?;
    Ok(Json(item))
}

/// `POST /memory_stores/{name}/items/{id}`: changes `content` and bumps `updated_at`. Only
/// `content` is mutable (spec: the body is `{content}`); a `kind` other than the item's is 400,
/// the item's own kind sent back is accepted.
pub async fn update(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    CheckedBody { body, .. }: CheckedBody<Items>,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let content = validate::required_str(&body, "content", "content")?.to_owned();
    let kind = body.get("kind").cloned();
    let item = state
        .db
        .write(move |tx| {
            ensure_store(tx, &name)?;
            let current = load_item(tx, &name, &id)?;
            if let Some(kind) = kind
                && kind != current["kind"]
            {
                return Err(ApiError::invalid(
                    "kind",
                    "'kind' cannot be changed; only 'content' can be updated.",
                ));
            }
            tx.execute(
                "UPDATE items SET content = ?1, updated_at = ?2 WHERE store = ?3 AND memory_id = ?4",
                params![content, ids::now_secs(), name, id],
            )?;
            load_item(tx, &name, &id)
        })
        .await?;
    Ok(Json(item))
}

/// `DELETE /memory_stores/{name}/items/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    _: Checked<Items>,
) -> ApiResult<Json<Value>> {
    let out = state
        .db
        .write(move |tx| {
            ensure_store(tx, &name)?;
            let n = tx.execute(
                "DELETE FROM items WHERE store = ?1 AND memory_id = ?2",
                params![name, id],
            )?;
            if n == 0 {
                return Err(ApiError::not_found(format!("MemoryItem '{id}' not found")));
            }
            Ok(json!({"object": "memory_store.item.deleted", "memory_id": id, "deleted": true}))
        })
        .await?;
    Ok(Json(out))
}

/// `POST /memory_stores/{name}/items:list` with `{"scope"}` and an optional `kind` in the
/// query; default order newest first.
pub async fn list(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CheckedBody { query, body, .. }: CheckedBody<Items>,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let scope = validate::required_str(&body, "scope", "scope")?.to_owned();
    let page = PageParams::from_query(&query, Order::Desc)?;
    let kind = query.get("kind").map(|k| known_kind(k)).transpose()?;
    let limit = page.limit;
    let rows = state
        .db
        .read(move |conn| {
            ensure_store(conn, &name)?;
            let mut select = "SELECT memory_id, updated_at, scope, content, kind FROM items \
                              WHERE store = ? AND scope = ?"
                .to_owned();
            let mut params = vec![name.into(), scope.into()];
            if let Some(kind) = kind {
                select.push_str(" AND kind = ?");
                params.push(kind.into());
            }
            let list = ListQuery {
                select: &select,
                column: "seq",
                params,
            };
            let items = page.fetch(
                conn,
                list,
                |id| lookup::int(conn, "SELECT seq FROM items WHERE memory_id = ?1", [id]),
                item_json,
            )?;
            Ok(items
                .into_iter()
                .map(|v| (v["memory_id"].as_str().unwrap_or_default().to_owned(), v))
                .collect())
        })
        .await?;
    Ok(Json(envelope(rows, limit, EmptyIds::EmptyString)))
}
