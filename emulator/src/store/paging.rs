//! The SQL of list paging: a window of rows by creation sequence, between optional cursors, in
//! either order. Reading the window's parameters from a query string is `api::paging`'s job.

use rusqlite::{Connection, Row};
use serde_json::value::RawValue;

use super::error::StoreResult;

/// Sort direction over the creation sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    pub fn sql(self) -> &'static str {
        match self {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        }
    }
}

/// One page to read: up to `limit` rows in `order`, after/before the rows the cursor ids name
/// (*in the requested order*; they combine into a window).
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: usize,
    pub order: Order,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// One resource's list before paging: `select` reads up to and including the resource's own
/// `WHERE` condition, `column` is the creation order that both the cursor window and the sort
/// use, and `params` fill the placeholders of `select`.
pub struct ListQuery<'a> {
    pub select: &'a str,
    pub column: &'a str,
    pub params: Vec<rusqlite::types::Value>,
}

impl Page {
    /// The SQL condition on `column` (a creation sequence) for resolved cursor positions, plus
    /// its parameters. `None` for a cursor means "not given"; an unknown cursor id must be
    /// handled by the caller (it yields an empty page).
    fn window(&self, column: &str, after: Option<i64>, before: Option<i64>) -> (String, Vec<i64>) {
        let (after_op, before_op) = match self.order {
            Order::Asc => (">", "<"),
            Order::Desc => ("<", ">"),
        };
        let mut sql = String::new();
        let mut params = Vec::new();
        if let Some(a) = after {
            sql.push_str(&format!(" AND {column} {after_op} ?"));
            params.push(a);
        }
        if let Some(b) = before {
            sql.push_str(&format!(" AND {column} {before_op} ?"));
            params.push(b);
        }
        (sql, params)
    }

    /// Fetches up to `limit + 1` rows of the window (the extra row only tells whether more lie
    /// in it), mapped by `row`. `position` resolves a cursor id to its place in `column`; a
    /// cursor naming nothing yields an empty page, as recorded.
    pub fn fetch<T>(
        &self,
        conn: &Connection,
        query: ListQuery<'_>,
        mut position: impl FnMut(&str) -> StoreResult<Option<i64>>,
        row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut resolve = |cursor: &Option<String>| match cursor {
            None => Ok(Some(None)),
            Some(id) => position(id).map(|p| p.map(Some)),
        };
        let (Some(after), Some(before)) = (resolve(&self.after)?, resolve(&self.before)?) else {
            return Ok(Vec::new());
        };
        let (cond, args) = self.window(query.column, after, before);
        let sql = format!(
            "{}{cond} ORDER BY {} {} LIMIT {}",
            query.select,
            query.column,
            self.order.sql(),
            self.limit + 1
        );
        let mut params = query.params;
        params.extend(args.into_iter().map(rusqlite::types::Value::from));
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// Rows of `(id, body)` with the body's stored JSON checked and kept as written: a list page
/// copies it into the response instead of building and serializing a tree per row (the most
/// of an agents page's time went there).
pub fn raw_bodies(rows: Vec<(String, String)>) -> StoreResult<Vec<(String, Box<RawValue>)>> {
    rows.into_iter()
        .map(|(id, body)| Ok((id, RawValue::from_string(body)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_flip_with_the_order() {
        let p = Page {
            limit: 20,
            order: Order::Desc,
            after: None,
            before: None,
        };
        let (sql, params) = p.window("seq", Some(10), Some(2));
        assert_eq!(sql, " AND seq < ? AND seq > ?");
        assert_eq!(params, vec![10, 2]);
    }
}
