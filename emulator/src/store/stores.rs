//! Memory store rows: each store's wire JSON, by name.

use rusqlite::{Connection, params};
use serde_json::Value;
use serde_json::value::RawValue;

use super::error::StoreResult;
use super::lookup;
use super::paging::{ListQuery, Page, raw_bodies};

/// A store's wire JSON.
pub fn get(conn: &Connection, name: &str) -> StoreResult<Option<Value>> {
    lookup::json(conn, "SELECT body FROM stores WHERE name = ?1", [name])
}

/// Whether a store of this name exists.
pub fn exists(conn: &Connection, name: &str) -> StoreResult<bool> {
    lookup::exists(conn, "SELECT 1 FROM stores WHERE name = ?1", [name])
}

/// Adds a store (its name must be free).
pub fn insert(conn: &Connection, id: &str, name: &str, store: &Value) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO stores (id, name, body) VALUES (?1, ?2, ?3)",
        params![id, name, store.to_string()],
    )?;
    Ok(())
}

/// Replaces a store's wire JSON.
pub fn replace(conn: &Connection, name: &str, store: &Value) -> StoreResult<()> {
    conn.execute(
        "UPDATE stores SET body = ?1 WHERE name = ?2",
        params![store.to_string(), name],
    )?;
    Ok(())
}

/// Removes a store with every scope, memory and update; `false` when there was none.
pub fn delete(conn: &Connection, name: &str) -> StoreResult<bool> {
    if conn.execute("DELETE FROM stores WHERE name = ?1", [name])? == 0 {
        return Ok(false);
    }
    conn.execute("DELETE FROM items WHERE store = ?1", [name])?;
    conn.execute("DELETE FROM updates WHERE store = ?1", [name])?;
    Ok(true)
}

/// One page of stores by creation order, as `(id, wire JSON)`; cursors are store ids.
pub fn list(conn: &Connection, page: &Page) -> StoreResult<Vec<(String, Box<RawValue>)>> {
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
    raw_bodies(rows)
}
