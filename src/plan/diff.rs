//! Field-by-field differences between two normal forms, as [`FieldChange`]s with readable
//! paths. Objects are compared key by key, arrays element by element, so a plan says
//! `tools[0].scope` changed rather than "tools changed".

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

use super::types::FieldChange;

/// The differences from `before` to `after`. Paths in `unreported` (the service did not report
/// them) are skipped when `before` lacks them: an unknown is not a difference.
pub fn diff(
    before: Option<&Value>,
    after: Option<&Value>,
    unreported: &BTreeSet<String>,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(String::new(), before, after, unreported, &mut out);
    out
}

/// The changes that create `value` from nothing, as `diff(None, Some(&value), &∅)` lists them,
/// taking the leaves instead of copying them: every create lists each declared field, so a
/// large first apply builds thousands of these.
pub fn additions(value: Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    add(&mut String::new(), value, &mut out);
    out
}

/// One level of [`additions`]: `path` is the value's path, extended and restored in place.
fn add(path: &mut String, value: Value, out: &mut Vec<FieldChange>) {
    let len = path.len();
    let mut descend = |path: &mut String, v: Value| {
        add(path, v, out);
        path.truncate(len);
    };
    match value {
        Value::Object(map) => {
            // Keys in sorted order, as `walk` visits them.
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            if !entries.is_sorted_by(|a, b| a.0 <= b.0) {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
            for (key, v) in entries {
                if len > 0 {
                    path.push('.');
                }
                path.push_str(&key);
                descend(path, v);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.into_iter().enumerate() {
                // Writing into a String cannot fail.
                let _ = write!(path, "[{i}]");
                descend(path, v);
            }
        }
        leaf => out.push(FieldChange {
            path: path.clone(),
            before: None,
            after: Some(leaf),
            before_unreported: false,
            forces_replacement: false,
        }),
    }
}

fn walk(
    path: String,
    before: Option<&Value>,
    after: Option<&Value>,
    unreported: &BTreeSet<String>,
    out: &mut Vec<FieldChange>,
) {
    if before.is_none() && unreported.contains(&path) {
        return;
    }
    match (before, after) {
        (Some(b), Some(a)) if b == a => {}
        (b @ (None | Some(Value::Object(_))), a @ (None | Some(Value::Object(_))))
            if b.is_some() || a.is_some() =>
        {
            for key in union_of_keys(b, a) {
                walk(
                    join(&path, key),
                    b.and_then(|v| v.get(key)),
                    a.and_then(|v| v.get(key)),
                    unreported,
                    out,
                );
            }
        }
        (b @ (None | Some(Value::Array(_))), a @ (None | Some(Value::Array(_))))
            if b.is_some() || a.is_some() =>
        {
            let len = array_len(b).max(array_len(a));
            for i in 0..len {
                walk(
                    format!("{path}[{i}]"),
                    b.and_then(|v| v.get(i)),
                    a.and_then(|v| v.get(i)),
                    unreported,
                    out,
                );
            }
        }
        (None, None) => {}
        (b, a) => out.push(FieldChange {
            path,
            before: b.cloned(),
            after: a.cloned(),
            before_unreported: false,
            forces_replacement: false,
        }),
    }
}

/// The keys of both objects, sorted and without duplicates. serde_json's maps iterate in
/// key order (unless built with `preserve_order`), so this is usually a merge of two sorted
/// lists, or one list as it is when one side is absent (every create), and the sort is skipped
/// when the concatenation is already in order.
fn union_of_keys<'v>(b: Option<&'v Value>, a: Option<&'v Value>) -> Vec<&'v String> {
    let mut keys: Vec<&String> = object_keys(b).chain(object_keys(a)).collect();
    if !keys.is_sorted() {
        keys.sort_unstable();
    }
    // A key both sides have appears twice, next to each other once sorted.
    keys.dedup();
    keys
}

fn object_keys(v: Option<&Value>) -> impl Iterator<Item = &String> {
    v.and_then(Value::as_object)
        .into_iter()
        .flat_map(serde_json::Map::keys)
}

fn array_len(v: Option<&Value>) -> usize {
    v.and_then(Value::as_array).map_or(0, Vec::len)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(changes: &[FieldChange]) -> Vec<&str> {
        changes.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn nested_objects_and_arrays_diff_to_leaf_paths() {
        let before = json!({"a": 1, "o": {"x": true, "y": "s"}, "t": [{"k": 1}]});
        let after = json!({"a": 1, "o": {"x": false}, "t": [{"k": 2}, {"k": 3}]});
        let changes = diff(Some(&before), Some(&after), &BTreeSet::new());
        assert_eq!(paths(&changes), ["o.x", "o.y", "t[0].k", "t[1].k"]);
        assert_eq!(changes[1].after, None);
        assert_eq!(changes[3].before, None);
    }

    #[test]
    fn creating_lists_every_leaf() {
        let after = json!({"b": "x", "labels": {}, "options": {"on": true}});
        let changes = diff(None, Some(&after), &BTreeSet::new());
        assert_eq!(paths(&changes), ["b", "options.on"]);
    }

    #[test]
    fn additions_are_the_diff_from_nothing() {
        let value = json!({"b": "x", "a": {"o": [1, {"k": null}, []], "e": {}}, "t": [true]});
        assert_eq!(
            additions(value.clone()),
            diff(None, Some(&value), &BTreeSet::new())
        );
        assert_eq!(
            paths(&additions(value)),
            ["a.o[0]", "a.o[1].k", "b", "t[0]"]
        );
    }

    #[test]
    fn unreported_paths_are_not_differences() {
        let before = json!({"options": {}});
        let after = json!({"options": {"p": true}});
        let unreported = BTreeSet::from(["options.p".to_owned()]);
        assert!(diff(Some(&before), Some(&after), &unreported).is_empty());
        assert_eq!(diff(Some(&before), Some(&after), &BTreeSet::new()).len(), 1);
    }
}
