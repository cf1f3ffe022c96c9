//! Memory item rows, by store and scope. Items are ordered by insertion (`seq`), since the wire
//! item has no `created_at`. Every read of memories names its store and scope, so no query here
//! can return another scope's memories.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use super::error::StoreResult;
use super::lookup;
use super::paging::{ListQuery, Page};
use crate::ids;

/// The columns [`item_json`] reads, in its order.
const COLUMNS: &str = "memory_id, updated_at, scope, content, kind";

/// Reads an item row ([`COLUMNS`]) as its wire JSON.
fn item_json(row: &Row<'_>) -> rusqlite::Result<Value> {
    Ok(json!({
        "memory_id": row.get::<_, String>(0)?,
        "updated_at": row.get::<_, i64>(1)?,
        "scope": row.get::<_, String>(2)?,
        "content": row.get::<_, String>(3)?,
        "kind": row.get::<_, String>(4)?,
    }))
}

/// Inserts one item and returns its wire JSON; used by item create and by update extraction.
pub fn insert(
    conn: &Connection,
    store: &str,
    scope: &str,
    kind: &str,
    content: &str,
) -> StoreResult<Value> {
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

/// One item of a store.
pub fn get(conn: &Connection, store: &str, id: &str) -> StoreResult<Option<Value>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM items WHERE store = ?1 AND memory_id = ?2"),
            params![store, id],
            item_json,
        )
        .optional()?)
}

/// The item of `scope` with `kind` whose content reads as `content`, spacing aside: the memory
/// an update would otherwise store a second time.
pub fn find_same(
    conn: &Connection,
    store: &str,
    scope: &str,
    kind: &str,
    content: &str,
) -> StoreResult<Option<String>> {
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let wanted = words(content);
    let mut stmt = conn.prepare_cached(
        "SELECT memory_id, content FROM items WHERE store = ?1 AND scope = ?2 AND kind = ?3",
    )?;
    let rows = stmt.query_map(params![store, scope, kind], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (id, existing) = row?;
        if words(&existing) == wanted {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Changes an item's content and moves its `updated_at`.
pub fn set_content(conn: &Connection, store: &str, id: &str, content: &str) -> StoreResult<()> {
    conn.execute(
        "UPDATE items SET content = ?1, updated_at = ?2 WHERE store = ?3 AND memory_id = ?4",
        params![content, ids::now_secs(), store, id],
    )?;
    Ok(())
}

/// Removes one item; `false` when there was none.
pub fn delete(conn: &Connection, store: &str, id: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM items WHERE store = ?1 AND memory_id = ?2",
        params![store, id],
    )? > 0)
}

/// Removes every item of a scope; how many there were.
pub fn delete_scope(conn: &Connection, store: &str, scope: &str) -> StoreResult<usize> {
    Ok(conn.execute(
        "DELETE FROM items WHERE store = ?1 AND scope = ?2",
        params![store, scope],
    )?)
}

/// Every memory of one scope, newest first.
pub fn in_scope(conn: &Connection, store: &str, scope: &str) -> StoreResult<Vec<Value>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM items WHERE store = ?1 AND scope = ?2 ORDER BY seq DESC"
    ))?;
    let all = stmt
        .query_map(params![store, scope], item_json)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(all)
}

/// One page of a scope's items, optionally of one kind, as `(memory_id, wire JSON)`.
pub fn list(
    conn: &Connection,
    store: &str,
    scope: &str,
    kind: Option<&str>,
    page: &Page,
) -> StoreResult<Vec<(String, Value)>> {
    let mut select = format!("SELECT {COLUMNS} FROM items WHERE store = ? AND scope = ?");
    let mut params = vec![store.to_owned().into(), scope.to_owned().into()];
    if let Some(kind) = kind {
        select.push_str(" AND kind = ?");
        params.push(kind.to_owned().into());
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
}
