//! `metadata.for_each`: one document, many copies.
//!
//! A document with `for_each` is checked once per value with `${each}` bound to the value, as
//! if it had been written out that many times; the copies are ordinary resources of the set
//! (so references between copies, `memory_store_name: ${each}-memory`, are checked like any
//! other), and each remembers its template for the plan's per-template summary.
//!
//! The values come from the document (`for_each: [a, b]`) or from a list file
//! (`for_each: {file: PATH}`), which the edge reads beforehand ([`list_files`] says which), so
//! validation stays free of I/O. `for_each` itself is read as written: it is not interpolated.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::raw::ForEachHeader;
use super::super::source::SourceFile;
use super::super::yaml::{self, Spanned};
use super::common::Checker;
use super::document::{self, Document};

/// The contents of the files `for_each: {file: …}` names, read at the edge: keyed by the
/// manifest's name and the path as written, with the text or why it could not be read.
#[derive(Debug, Clone, Default)]
pub struct ForEachLists(pub BTreeMap<(String, String), Result<String, String>>);

/// The most copies one document may expand to: a workshop is tens, a mistake is millions.
pub const MAX_COPIES: usize = 1000;

/// Every `for_each: {file: PATH}` in `files`, as (manifest name, PATH as written).
pub fn list_files(files: &[SourceFile]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for file in files {
        for doc in document::split(file) {
            if let Some(spanned) = for_each_of(&doc)
                && let Value::Object(map) = &spanned.value
                && let Some(Value::String(path)) = map.get("file")
            {
                out.push((file.name.clone(), path.clone()));
            }
        }
    }
    out
}

/// Whether `doc` may have a `metadata.for_each`: most documents have none, and a text that
/// never spells the key (nor escapes anything, as a quoted key could spell it) says so at once.
pub fn may_have_for_each(doc: &Document<'_>) -> bool {
    doc.text.contains("for_each") || doc.text.contains('\\')
}

fn for_each_of(doc: &Document<'_>) -> Option<Spanned<Value>> {
    // Otherwise the head tells, without the rest being read.
    if !may_have_for_each(doc) {
        return None;
    }
    if yaml::quick_head(doc.text).is_some_and(|head| !head.for_each) {
        return None;
    }
    yaml::from_document::<ForEachHeader>(doc.text)
        .ok()??
        .metadata?
        .for_each
}

/// A document's copies: `None` without `for_each`; otherwise the values and the template's
/// identity (`FILE:LINE` of `for_each`). `Err(())` once a problem is reported.
pub fn values(
    check: &mut Checker<'_, '_>,
    lists: &ForEachLists,
) -> Result<Option<(Vec<String>, String)>, ()> {
    let Some(spanned) = for_each_of(&check.doc) else {
        return Ok(None);
    };
    let template = match check.doc.at(&spanned) {
        Some(pos) => format!("{}:{}", check.doc.file.name, pos.line),
        None => check.doc.file.name.clone(),
    };
    let values = match &spanned.value {
        Value::Array(items) => {
            let mut values = Vec::new();
            for item in items {
                match item {
                    Value::String(s) => values.push(s.clone()),
                    Value::Number(n) => values.push(n.to_string()),
                    _ => {
                        check.error_hint(
                            &spanned,
                            "`for_each` values must be strings",
                            "write one value per item: for_each: [att01, att02]",
                        );
                        return Err(());
                    }
                }
            }
            values
        }
        Value::Object(map) if map.len() == 1 && map.get("file").is_some_and(Value::is_string) => {
            let path = map.get("file").and_then(Value::as_str).unwrap_or_default();
            match lists.0.get(&(check.doc.file.name.clone(), path.to_owned())) {
                Some(Ok(text)) => parse_list(text),
                Some(Err(why)) => {
                    check.error_hint(
                        &spanned,
                        format!("cannot read the `for_each` file {path}: {why}"),
                        "the path is relative to the manifest that names it",
                    );
                    return Err(());
                }
                None => {
                    check.error_hint(
                        &spanned,
                        format!("the `for_each` file {path} was not read"),
                        "list files are read when manifests are loaded from files",
                    );
                    return Err(());
                }
            }
        }
        _ => {
            check.error_hint(
                &spanned,
                "`for_each` must be a list of values or `{file: PATH}`",
                "for_each: [att01, att02], or for_each: {file: attendees.txt}",
            );
            return Err(());
        }
    };
    if values.is_empty() {
        check.error_hint(
            &spanned,
            "`for_each` has no values",
            "list at least one value, or remove `for_each` to declare the document once",
        );
        return Err(());
    }
    if values.len() > MAX_COPIES {
        check.error_at(
            &spanned,
            format!(
                "`for_each` has {} values; the limit is {MAX_COPIES}",
                values.len()
            ),
        );
        return Err(());
    }
    if let Some(bad) = values
        .iter()
        .find(|v| v.trim().is_empty() || v.chars().any(char::is_control))
    {
        check.error_hint(
            &spanned,
            format!("`for_each` value {bad:?} is empty or holds a control character"),
            "each value becomes part of names; write printable text",
        );
        return Err(());
    }
    Ok(Some((values, template)))
}

/// One value a line; blank lines and `#` comments (whole-line, or after ` #`) are skipped.
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split(" #").next().unwrap_or(line).trim())
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_files_hold_one_value_a_line_with_comments() {
        let text = "# attendees\natt01\n\n  att02  # late\n#att03\natt04\n";
        assert_eq!(parse_list(text), ["att01", "att02", "att04"]);
    }

    #[test]
    fn a_list_file_is_found_however_the_key_is_spelled() {
        let file = SourceFile::new(
            "m/a.yaml",
            "metadata: {\"for\\u005Feach\": {file: list.txt}}\n---\nmetadata: {name: x}\n",
        );
        assert_eq!(
            list_files(&[file]),
            [("m/a.yaml".to_owned(), "list.txt".to_owned())]
        );
    }

    #[test]
    fn list_files_are_found_per_manifest() {
        let file = SourceFile::new(
            "m/a.yaml",
            "metadata:\n  name: x\n  for_each: {file: list.txt}\n---\nmetadata: {for_each: [a]}\n",
        );
        assert_eq!(
            list_files(&[file]),
            [("m/a.yaml".to_owned(), "list.txt".to_owned())]
        );
    }
}
