//! Agent and agent-version rows. Versions are numbered per agent from a counter that survives
//! version deletes (`agents.last_version`) and goes only with the whole agent.

use rusqlite::{Connection, params};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::error::StoreResult;
use super::lookup;
use super::paging::{ListQuery, Page};
use crate::ids;

/// The latest version's wire JSON of a visible agent (one with at least one version).
pub fn latest(conn: &Connection, name: &str) -> StoreResult<Option<Value>> {
    lookup::json(
        conn,
        "SELECT body FROM versions WHERE agent = ?1 ORDER BY version DESC LIMIT 1",
        [name],
    )
}

/// One version's wire JSON.
pub fn version(conn: &Connection, name: &str, version: i64) -> StoreResult<Option<Value>> {
    lookup::json(
        conn,
        "SELECT body FROM versions WHERE agent = ?1 AND version = ?2",
        params![name, version],
    )
}

/// Whether the agent exists (it may have no version left).
pub fn exists(conn: &Connection, name: &str) -> StoreResult<bool> {
    lookup::exists(conn, "SELECT 1 FROM agents WHERE name = ?1", [name])
}

/// Adds the next version of `name` (creating the agent on first use) and returns its wire JSON.
pub fn add_version(
    conn: &Connection,
    name: &str,
    definition: Value,
    description: &str,
    metadata: Value,
) -> StoreResult<Value> {
    let last = lookup::int(
        conn,
        "SELECT last_version FROM agents WHERE name = ?1",
        [name],
    )?;
    let number = last.unwrap_or(0) + 1;
    match last {
        Some(_) => conn.execute(
            "UPDATE agents SET last_version = ?1 WHERE name = ?2",
            params![number, name],
        )?,
        None => conn.execute(
            "INSERT INTO agents (name, last_version) VALUES (?1, ?2)",
            params![name, number],
        )?,
    };
    let version = json!({
        "metadata": metadata,
        "object": "agent.version",
        "id": format!("{name}:{number}"),
        "name": name,
        "version": number.to_string(),
        "description": description,
        "created_at": ids::now_secs(),
        "definition": definition,
    });
    conn.execute(
        "INSERT INTO versions (agent, version, body) VALUES (?1, ?2, ?3)",
        params![name, number, version.to_string()],
    )?;
    Ok(version)
}

/// Removes the agent with every version and its counter; `false` when it had no version.
pub fn delete(conn: &Connection, name: &str) -> StoreResult<bool> {
    let versions = conn.execute("DELETE FROM versions WHERE agent = ?1", [name])?;
    conn.execute("DELETE FROM agents WHERE name = ?1", [name])?;
    Ok(versions > 0)
}

/// Removes one version (its number is never handed out again); `false` when there was none.
pub fn delete_version(conn: &Connection, name: &str, version: i64) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM versions WHERE agent = ?1 AND version = ?2",
        params![name, version],
    )? > 0)
}

/// One page of visible agents by creation order, as `(name, latest version's wire JSON)`;
/// cursors are agent names.
pub fn list(conn: &Connection, page: &Page) -> StoreResult<Vec<(String, Box<RawValue>)>> {
    let list = ListQuery {
        select: "SELECT a.name, (SELECT body FROM versions v WHERE v.agent = a.name \
                 ORDER BY v.version DESC LIMIT 1) AS latest FROM agents a \
                 WHERE latest IS NOT NULL",
        column: "a.seq",
        params: Vec::new(),
    };
    let rows = page.fetch(
        conn,
        list,
        |n| lookup::int(conn, "SELECT seq FROM agents WHERE name = ?1", [n]),
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )?;
    super::paging::raw_bodies(rows)
}

/// One page of an agent's versions, as `(id, wire JSON)`; cursors are `name:n` ids, and one
/// naming another agent or not a number matches nothing.
pub fn list_versions(
    conn: &Connection,
    name: &str,
    page: &Page,
) -> StoreResult<Vec<(String, Value)>> {
    let number_of = |id: &str| {
        Ok(id
            .rsplit_once(':')
            .filter(|(n, _)| *n == name)
            .and_then(|(_, v)| v.parse::<i64>().ok()))
    };
    let list = ListQuery {
        select: "SELECT body FROM versions WHERE agent = ?",
        column: "version",
        params: vec![name.to_owned().into()],
    };
    let bodies = page.fetch(conn, list, number_of, |r| r.get::<_, String>(0))?;
    bodies
        .into_iter()
        .map(|b| {
            let v: Value = serde_json::from_str(&b)?;
            let id = v["id"].as_str().unwrap_or_default().to_owned();
            Ok((id, v))
        })
        .collect()
}
