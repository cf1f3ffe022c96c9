//! Memory updates and their state machine, in SQL.
//!
//! # Expected flow of an update
//! `queued` (until `update_delay` has passed) → `in_progress` (for the configured processing
//! time) → `completed`, with the extracted memories written in the same transaction as the
//! status. A new update for the same store and scope supersedes every update of that scope
//! still `queued`: the old one ends `superseded` with `superseded_by`, and its messages move
//! into the new one so no turn is lost. Deleting a scope ends its pending updates `superseded`
//! with no `superseded_by` ([`cancel_scope`]): their turns are dropped with the scope.
//!
//! # Guarantees
//! Progress is computed from stored times, so it is the same whoever advances it: the
//! background [`worker`], a poll, a search, an item read, or another process sharing the file. Each step is
//! one transaction that re-checks the status, so an update is processed exactly once.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::db::Db;
use super::error::{StoreError, StoreResult};
use super::{items, stores};
use crate::{extract, ids};

/// Deterministic token counts for `usage` (words, not real tokens).
pub fn usage(input: usize, output: usize, embedding: usize) -> Value {
    json!({
        "embedding_tokens": embedding,
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input + output + embedding,
    })
}

/// Queues an update of `store`'s `scope` with the message `items`, due after `delay_secs` and
/// done `processing` later; returns its id. Earlier queued updates of the scope are superseded
/// by it and hand it their messages.
pub fn enqueue(
    tx: &Transaction<'_>,
    store: &str,
    scope: &str,
    items: Vec<Value>,
    delay_secs: i64,
    processing: Duration,
) -> StoreResult<String> {
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
pub fn advance_in(tx: &Connection, now_ms: i64) -> StoreResult<()> {
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
fn process(tx: &Connection, store: &str, scope: &str, items: &str) -> StoreResult<Value> {
    let items: Vec<Value> = match serde_json::from_str(items)? {
        Value::Array(a) => a,
        _ => Vec::new(),
    };
    let definition = stores::get(tx, store)?.unwrap_or(Value::Null);
    let options = &definition["definition"]["options"];
    let profile = options["user_profile_enabled"].as_bool().unwrap_or(true);
    let summary = options["chat_summary_enabled"].as_bool().unwrap_or(true);
    let facts = extract::extract(&items, profile, summary);
    let mut operations = Vec::new();
    for (kind, content) in facts {
        // The service consolidates what it is told again: a fact the scope already holds is
        // updated in place (its time moves) rather than stored twice.
        let same = items::find_same(tx, store, scope, kind, &content)?;
        let (operation, mut item) = match same {
            Some(id) => {
                items::set_content(tx, store, &id, &content)?;
                // Found in this transaction, so it is there.
                let item = items::get(tx, store, &id)?
                    .ok_or(StoreError::Sql(rusqlite::Error::QueryReturnedNoRows))?;
                ("updated", item)
            }
            None => ("created", items::insert(tx, store, scope, kind, &content)?),
        };
        // Update results spell kinds in upper case, as recorded (search and CRUD do not).
        item["kind"] = json!(kind.to_uppercase());
        operations.push(json!({"kind": operation, "memory_item": item}));
    }
    let input: usize = extract::messages(&items)
        .iter()
        .map(|(_, t)| t.split_whitespace().count())
        .sum();
    let output = operations.len() * 10;
    Ok(json!({"memory_operations": operations, "usage": usage(input, output, output)}))
}

/// Advances updates if any is due; cheap when none is.
pub fn advance(tx: &Transaction<'_>) -> StoreResult<()> {
    advance_in(tx, ids::now_millis())
}

/// An update's wire JSON: `{update_id, status}`, plus `superseded_by` once superseded and
/// `result` once completed.
pub fn get(conn: &Connection, store: &str, id: &str) -> StoreResult<Option<Value>> {
    let row: Option<(String, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT status, superseded_by, result FROM updates \
             WHERE store = ?1 AND update_id = ?2",
            params![store, id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((status, superseded_by, result)) = row else {
        return Ok(None);
    };
    let mut out = json!({"update_id": id, "status": status});
    if let Some(by) = superseded_by {
        out["superseded_by"] = json!(by);
    }
    if let Some(r) = result {
        out["result"] = serde_json::from_str(&r)?;
    }
    Ok(Some(out))
}

/// Ends the scope's `queued` and `in_progress` updates `superseded`, without `superseded_by`.
pub fn cancel_scope(conn: &Connection, store: &str, scope: &str) -> StoreResult<()> {
    conn.execute(
        "UPDATE updates SET status = 'superseded' \
         WHERE store = ?1 AND scope = ?2 AND status IN ('queued', 'in_progress')",
        params![store, scope],
    )?;
    Ok(())
}

/// Whether any update is due to move at `now_ms`.
fn pending(conn: &Connection, now_ms: i64) -> StoreResult<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM updates WHERE (status = 'queued' AND due_ms <= ?1) \
             OR (status = 'in_progress' AND done_ms <= ?1) LIMIT 1",
            [now_ms],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false))
}

/// Background progress, so memories appear after `update_delay` even when nobody polls.
pub async fn worker(db: Db, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let due = db.read(|conn| pending(conn, ids::now_millis())).await;
        if matches!(due, Ok(true))
            && let Err(e) = db.write::<_, StoreError, _>(advance).await
        {
            tracing::warn!("emulator failed to advance memory updates: {e}");
        }
    }
}
