//! Single-row lookups shared by the resources. Each answers "not there" with `None` (or
//! `false`) and leaves the not-found error to the caller, because every resource words its 404
//! differently, as recorded.

use rusqlite::{Connection, OptionalExtension, Params};
use serde_json::Value;

use super::error::StoreResult;

/// The stored wire JSON in the one column `sql` selects (a `body`), if a row matches.
pub fn json(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<Option<Value>> {
    let body: Option<String> = conn.query_row(sql, params, |r| r.get(0)).optional()?;
    Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
}

/// The integer in the one column `sql` selects (a creation sequence, a version counter), if a
/// row matches.
pub fn int(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<Option<i64>> {
    Ok(conn.query_row(sql, params, |r| r.get(0)).optional()?)
}

/// Whether `sql` matches a row.
pub fn exists(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<bool> {
    Ok(conn
        .query_row(sql, params, |_| Ok(()))
        .optional()?
        .is_some())
}
