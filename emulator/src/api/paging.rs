//! List paging with the recorded semantics: `limit` 1–100 (default 20), `order` asc|desc by
//! creation, and `after`/`before` cursors that mean "after/before this id *in the requested
//! order*" and combine into a window. `has_more` describes that window only.

use std::collections::HashMap;

use rusqlite::{Connection, Row};

use super::error::{ApiError, ApiResult};

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

/// Validated list parameters; cursors are still ids, resolved by each resource.
#[derive(Debug, Clone)]
pub struct PageParams {
    pub limit: usize,
    pub order: Order,
    pub after: Option<String>,
    pub before: Option<String>,
}

impl PageParams {
    /// Reads `limit`, `order`, `after`, `before` from the query string; `default_order` is what
    /// the resource does without `order` (items and agent versions: newest first, as recorded).
    pub fn from_query(query: &HashMap<String, String>, default_order: Order) -> ApiResult<Self> {
        let limit = match query.get("limit") {
            None => 20,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    return Err(ApiError::invalid(
                        "limit",
                        format!(
                            "Invalid value for 'limit': '{raw}'. Limit can range between 1 and 100."
                        ),
                    ));
                }
            },
        };
        let order = match query.get("order").map(String::as_str) {
            None => default_order,
            Some("asc") => Order::Asc,
            Some("desc") => Order::Desc,
            Some(other) => {
                return Err(ApiError::invalid(
                    "order",
                    format!("Invalid value for 'order': '{other}'. Expected 'asc' or 'desc'."),
                ));
            }
        };
        let cursor = |k: &str| query.get(k).filter(|v| !v.is_empty()).cloned();
        Ok(PageParams {
            limit,
            order,
            after: cursor("after"),
            before: cursor("before"),
        })
    }

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

    /// Fetches up to `limit + 1` rows of the window (see [`envelope`]), mapped by `row`.
    /// `position` resolves a cursor id to its place in `column`; a cursor naming nothing yields
    /// an empty page, as recorded.
    pub fn fetch<T>(
        &self,
        conn: &Connection,
        query: ListQuery<'_>,
        mut position: impl FnMut(&str) -> ApiResult<Option<i64>>,
        row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> ApiResult<Vec<T>> {
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

/// One resource's list before paging: `select` reads up to and including the resource's own
/// `WHERE` condition, `column` is the creation order that both the cursor window and the sort
/// use, and `params` fill the placeholders of `select`.
pub struct ListQuery<'a> {
    pub select: &'a str,
    pub column: &'a str,
    pub params: Vec<rusqlite::types::Value>,
}

/// How an empty page spells its cursors: memory stores and items send `""`, agents omit them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyIds {
    EmptyString,
    Absent,
}

/// Builds the list envelope from up to `limit + 1` fetched rows (the extra row only tells
/// whether more lie in the window).
pub fn envelope(
    mut rows: Vec<(String, serde_json::Value)>,
    limit: usize,
    empty: EmptyIds,
) -> serde_json::Value {
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let mut out = serde_json::Map::new();
    let first = rows.first().map(|(id, _)| id.clone());
    let last = rows.last().map(|(id, _)| id.clone());
    out.insert(
        "data".to_owned(),
        serde_json::Value::Array(rows.into_iter().map(|(_, v)| v).collect()),
    );
    match (first, last, empty) {
        (Some(f), Some(l), _) => {
            out.insert("first_id".to_owned(), f.into());
            out.insert("last_id".to_owned(), l.into());
        }
        (_, _, EmptyIds::EmptyString) => {
            out.insert("first_id".to_owned(), "".into());
            out.insert("last_id".to_owned(), "".into());
        }
        (_, _, EmptyIds::Absent) => {}
    }
    out.insert("has_more".to_owned(), has_more.into());
    out.insert("object".to_owned(), "list".into());
    serde_json::Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn limit_outside_one_to_hundred_is_rejected_with_param() {
        for bad in ["0", "101", "x"] {
            let err = PageParams::from_query(&q(&[("limit", bad)]), Order::Desc).unwrap_err();
            assert_eq!(err.param.as_deref(), Some("limit"));
        }
        assert_eq!(
            PageParams::from_query(&q(&[]), Order::Asc).unwrap().limit,
            20
        );
    }

    #[test]
    fn cursors_flip_with_the_order() {
        let p = PageParams::from_query(&q(&[("order", "desc")]), Order::Asc).unwrap();
        let (sql, params) = p.window("seq", Some(10), Some(2));
        assert_eq!(sql, " AND seq < ? AND seq > ?");
        assert_eq!(params, vec![10, 2]);
    }

    #[test]
    fn empty_pages_differ_between_stores_and_agents() {
        let stores = envelope(vec![], 20, EmptyIds::EmptyString);
        assert_eq!(stores["first_id"], "");
        let agents = envelope(vec![], 20, EmptyIds::Absent);
        assert!(agents.get("first_id").is_none());
        assert_eq!(agents["has_more"], false);
    }
}
