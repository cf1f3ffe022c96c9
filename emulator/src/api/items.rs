//! Memory items (v1 only): create, get, update, delete, and `POST items:list` for one scope.

use axum::Json;
use axum::extract::{Path, State};
use rusqlite::Connection;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::paging::{EmptyIds, FromQuery as _, ListPage, Order, PageParams, envelope};
use super::request::{Checked, CheckedBody, Items, json_body};
use super::state::AppState;
use super::validate;
use crate::store::{items as rows, stores, updates};

/// The kinds an item may have on the wire (lower case, as item CRUD and search return them).
pub const KINDS: [&str; 3] = ["user_profile", "chat_summary", "procedural"];

fn ensure_store(conn: &Connection, name: &str) -> ApiResult<()> {
    if stores::exists(conn, name)? {
        Ok(())
    } else {
        Err(ApiError::store_not_found(name))
    }
}

fn item_missing(id: &str) -> ApiError {
    ApiError::not_found(format!("MemoryItem '{id}' not found"))
}

fn load_item(conn: &Connection, store: &str, id: &str) -> ApiResult<Value> {
    rows::get(conn, store, id)?.ok_or_else(|| item_missing(id))
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
            Ok::<_, ApiError>(rows::insert(tx, &name, &scope, &kind, &content)?)
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
    // Updates due by now are carried out first, as a search does: a process that opens the
    // file to read must not race its own background worker for what is already done.
    let item = state
        .db
        .write(move |tx| {
            ensure_store(tx, &name)?;
            updates::advance(tx)?;
            load_item(tx, &name, &id)
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
            rows::set_content(tx, &name, &id, &content)?;
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
            if !rows::delete(tx, &name, &id)? {
                return Err(item_missing(&id));
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
) -> ApiResult<Json<ListPage<Value>>> {
    let body = json_body(&body)?;
    let scope = validate::required_str(&body, "scope", "scope")?.to_owned();
    let page = PageParams::from_query(&query, Order::Desc)?;
    let kind = query.get("kind").map(|k| known_kind(k)).transpose()?;
    let limit = page.limit;
    // As `get`: updates due by now first.
    let rows = state
        .db
        .write(move |tx| {
            ensure_store(tx, &name)?;
            updates::advance(tx)?;
            Ok::<_, ApiError>(rows::list(tx, &name, &scope, kind.as_deref(), &page)?)
        })
        .await?;
    Ok(Json(envelope(rows, limit, EmptyIds::EmptyString)))
}
