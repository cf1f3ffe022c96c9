//! Conversation rows and their items, kept in insertion order.

use rusqlite::{Connection, params};
use serde_json::Value;
use serde_json::value::RawValue;

use super::error::StoreResult;
use super::lookup;
use super::paging::{ListQuery, Page, raw_bodies};

/// A conversation's wire JSON.
pub fn get(conn: &Connection, id: &str) -> StoreResult<Option<Value>> {
    lookup::json(conn, "SELECT body FROM conversations WHERE id = ?1", [id])
}

/// Adds a conversation.
pub fn insert(conn: &Connection, id: &str, conversation: &Value) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO conversations (id, body) VALUES (?1, ?2)",
        params![id, conversation.to_string()],
    )?;
    Ok(())
}

/// Replaces a conversation's wire JSON.
pub fn replace(conn: &Connection, id: &str, conversation: &Value) -> StoreResult<()> {
    conn.execute(
        "UPDATE conversations SET body = ?2 WHERE id = ?1",
        params![id, conversation.to_string()],
    )?;
    Ok(())
}

/// Removes a conversation and its items.
pub fn delete(conn: &Connection, id: &str) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM conversation_items WHERE conversation = ?1",
        [id],
    )?;
    conn.execute("DELETE FROM conversations WHERE id = ?1", [id])?;
    Ok(())
}

/// Every item of a conversation, oldest first.
pub fn history(conn: &Connection, id: &str) -> StoreResult<Vec<Value>> {
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
pub fn append(conn: &Connection, id: &str, items: &[Value]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO conversation_items (conversation, item_id, body) VALUES (?1, ?2, ?3)",
    )?;
    for item in items {
        let item_id = item["id"].as_str().unwrap_or_default();
        stmt.execute(params![id, item_id, item.to_string()])?;
    }
    Ok(())
}

/// One item of a conversation.
pub fn item(conn: &Connection, id: &str, item: &str) -> StoreResult<Option<Value>> {
    lookup::json(
        conn,
        "SELECT body FROM conversation_items WHERE conversation = ?1 AND item_id = ?2",
        [id, item],
    )
}

/// Removes one item of a conversation.
pub fn delete_item(conn: &Connection, id: &str, item: &str) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM conversation_items WHERE conversation = ?1 AND item_id = ?2",
        [id, item],
    )?;
    Ok(())
}

/// One page of a conversation's items, as `(item id, wire JSON)`.
pub fn list_items(
    conn: &Connection,
    id: &str,
    page: &Page,
) -> StoreResult<Vec<(String, Box<RawValue>)>> {
    let list = ListQuery {
        select: "SELECT item_id, body FROM conversation_items WHERE conversation = ?",
        column: "seq",
        params: vec![id.to_owned().into()],
    };
    let rows = page.fetch(
        conn,
        list,
        |item| {
            lookup::int(
                conn,
                "SELECT seq FROM conversation_items WHERE conversation = ?1 AND item_id = ?2",
                [id, item],
            )
        },
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )?;
    raw_bodies(rows)
}
