//! List paging with the recorded semantics: `limit` 1–100 (default 20), `order` asc|desc by
//! creation, and `after`/`before` cursors that mean "after/before this id *in the requested
//! order*" and combine into a window (read by `store::paging`). `has_more` describes that
//! window only.

use std::collections::HashMap;

use serde::Serialize;

use super::error::{ApiError, ApiResult};
pub use crate::store::paging::{Order, Page};

/// Validated list parameters: the page the store layer reads.
pub type PageParams = Page;

/// Reads list parameters from a query string.
pub trait FromQuery: Sized {
    /// Reads `limit`, `order`, `after`, `before`; `default_order` is what the resource does
    /// without `order` (items and agent versions: newest first, as recorded).
    fn from_query(query: &HashMap<String, String>, default_order: Order) -> ApiResult<Self>;
}

impl FromQuery for Page {
    fn from_query(query: &HashMap<String, String>, default_order: Order) -> ApiResult<Self> {
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
        Ok(Page {
            limit,
            order,
            after: cursor("after"),
            before: cursor("before"),
        })
    }
}

/// How an empty page spells its cursors: memory stores and items send `""`, agents omit them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyIds {
    EmptyString,
    Absent,
}

/// One page of a list, as the service spells it (fields in the order a JSON object of them
/// used to be written: alphabetical).
#[derive(Debug, Serialize)]
pub struct ListPage<T> {
    data: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_id: Option<String>,
    has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_id: Option<String>,
    object: &'static str,
}

/// Builds the list envelope from up to `limit + 1` fetched rows (the extra row only tells
/// whether more lie in the window).
pub fn envelope<T: Serialize>(
    mut rows: Vec<(String, T)>,
    limit: usize,
    empty: EmptyIds,
) -> ListPage<T> {
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let first = rows.first().map(|(id, _)| id.clone());
    let last = rows.last().map(|(id, _)| id.clone());
    let (first_id, last_id) = match (first, last, empty) {
        (Some(f), Some(l), _) => (Some(f), Some(l)),
        (_, _, EmptyIds::EmptyString) => (Some(String::new()), Some(String::new())),
        (_, _, EmptyIds::Absent) => (None, None),
    };
    ListPage {
        data: rows.into_iter().map(|(_, v)| v).collect(),
        first_id,
        has_more,
        last_id,
        object: "list",
    }
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
    fn empty_pages_differ_between_stores_and_agents() {
        let page = |empty| serde_json::to_value(envelope::<()>(vec![], 20, empty)).unwrap();
        let stores = page(EmptyIds::EmptyString);
        assert_eq!(stores["first_id"], "");
        let agents = page(EmptyIds::Absent);
        assert!(agents.get("first_id").is_none());
        assert_eq!(agents["has_more"], false);
    }
}
