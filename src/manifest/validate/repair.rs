//! Finding every shape problem of a document, although the YAML deserializer stops at the
//! first one.
//!
//! # Expected flow
//! Parse; on a located shape problem (unknown field, wrong type), report it,
//! blank the entry it is on out of a working copy of the text, and parse the copy again,
//! until it parses or a problem cannot be repaired this way.
//!
//! # Guarantees
//! - Lines are blanked, never removed, so every position found in the copy is a position in
//!   the original text.
//! - A problem the blanking caused itself is not reported: one on a blanked line, or a
//!   "missing field" for a key that was blanked.
//! - Syntax and budget errors end the search (nothing after them can be trusted), and so does
//!   a problem at a line that cannot be blanked, or more than [`MAX_REPAIRS`] repairs.
//! - A document that needed a repair is invalid whatever the copy parses to; the copy's value
//!   is only used to check the rest of the document (limits, names) in the same run.

use std::collections::BTreeSet;

use super::super::yaml::{YamlError, YamlErrorKind};

/// Repairs per document at most: enough for any hand-written manifest, and a bound on the
/// re-parsing a pathological input can cause.
pub const MAX_REPAIRS: usize = 32;

/// Documents larger than this are not repaired (each repair parses the text again); their
/// first problem is reported alone.
pub const MAX_REPAIRED_LEN: usize = 1 << 20;

/// A working copy of a document's text with some entries blanked out.
#[derive(Debug, Clone)]
pub struct Repair {
    lines: Vec<String>,
    /// 0-based indices of the blanked lines.
    blanked: BTreeSet<usize>,
    /// Everything blanked, to recognise a "missing field" the blanking caused.
    removed: String,
}

impl Repair {
    pub fn new(text: &str) -> Repair {
        Repair {
            lines: text.split_inclusive('\n').map(str::to_owned).collect(),
            blanked: BTreeSet::new(),
            removed: String::new(),
        }
    }

    pub fn text(&self) -> String {
        self.lines.concat()
    }

    /// Whether `error` may be a consequence of the blanking rather than a problem of its own.
    pub fn caused(&self, error: &YamlError) -> bool {
        if let Some(pos) = error.pos
            && self.blanked.contains(&pos.line.saturating_sub(1))
        {
            return true;
        }
        error
            .message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .is_some_and(|field| names_key(&self.removed, field))
    }

    /// Blanks the entry on 1-based `line` and the block nested under it, if `error` is a
    /// problem of that entry that blanking can get past. Returns whether it did.
    pub fn blank_for(&mut self, error: &YamlError) -> bool {
        let repairable = matches!(error.kind, YamlErrorKind::Shape);
        match error.pos {
            Some(pos) if repairable && !error.message.starts_with("missing field") => {
                self.blank_entry(pos.line)
            }
            _ => false,
        }
    }

    fn blank_entry(&mut self, line: usize) -> bool {
        let Some(i) = line.checked_sub(1) else {
            return false;
        };
        if i >= self.lines.len() || self.blanked.contains(&i) {
            return false;
        }
        let content = self.lines[i].trim_end_matches(['\n', '\r']).to_owned();
        let indent = content.len() - content.trim_start_matches(' ').len();
        let (prefix, entry) = content.split_at(indent);
        if entry.is_empty() || entry.starts_with('#') {
            return false;
        }
        // `- key: value` keeps its dash, so the list item's other keys stay where they are;
        // the entry's own block is what is indented deeper than its key.
        let dash = entry.starts_with("- ");
        let Some(key_column) = self.indent_of(i) else {
            return false;
        };
        self.removed.push_str(entry);
        self.removed.push('\n');
        self.blanked.insert(i);
        let mut next = self.lines.len();
        for j in i + 1..self.lines.len() {
            let Some(column) = self.indent_of(j) else {
                continue;
            };
            if column <= key_column {
                next = j;
                break;
            }
            let body = self.lines[j]
                .trim_start_matches(' ')
                .trim_end_matches(['\n', '\r']);
            self.removed.push_str(body);
            self.removed.push('\n');
            self.lines[j] = "\n".to_owned();
            self.blanked.insert(j);
        }
        // The only entry of its mapping leaves an empty mapping, not a null, so the parent's
        // type still fits and only what is really missing gets reported.
        let sibling_before = !dash
            && (0..i)
                .rev()
                .find_map(|j| self.indent_of(j))
                .is_some_and(|column| column == key_column);
        let sibling_after = next < self.lines.len()
            && self.indent_of(next) == Some(key_column)
            && !self.lines[next].trim_start_matches(' ').starts_with("- ");
        let lone = !sibling_before && !sibling_after;
        self.lines[i] = match (dash, lone) {
            (false, false) => "\n".to_owned(),
            (false, true) => format!("{prefix}{{}}\n"),
            (true, false) => format!("{prefix}-\n"),
            (true, true) => format!("{prefix}- {{}}\n"),
        };
        true
    }

    /// The indentation of line `j`'s content (after a list dash, the key's), or `None` for a
    /// blank or comment line.
    fn indent_of(&self, j: usize) -> Option<usize> {
        let content = self.lines[j].trim_end_matches(['\n', '\r']);
        let body = content.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            return None;
        }
        let indent = content.len() - body.len();
        Some(match body.strip_prefix("- ") {
            Some(after) => indent + 2 + (after.len() - after.trim_start_matches(' ').len()),
            None => indent,
        })
    }
}

/// Whether `text` holds `key:` as a key of its own (at a line's start, after a list dash, or
/// inside a flow mapping), not as the end of a longer key (`display_name:`) or inside a quoted
/// value.
fn names_key(text: &str, key: &str) -> bool {
    let needle = format!("{key}:");
    text.match_indices(&needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let line = text[..at].rsplit('\n').next().unwrap_or("");
        let quoted = line.matches(['"', '\'']).count() % 2 == 1;
        matches!(before, None | Some('\n' | ' ' | '{' | ',' | '-')) && !quoted
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::yaml::Pos;
    use super::*;

    fn shape(line: usize, message: &str) -> YamlError {
        YamlError {
            message: message.to_owned(),
            pos: Some(Pos {
                line,
                column: 3,
                len: 1,
            }),
            kind: YamlErrorKind::Shape,
            hint: None,
        }
    }

    #[test]
    fn an_entry_and_its_nested_block_are_blanked_and_lines_are_kept() {
        let text = "spec:\n  bad:\n    a: 1\n\n    b: |\n      x\n  good: 2\n";
        let mut r = Repair::new(text);
        assert!(r.blank_for(&shape(2, "unknown field `bad`")));
        assert_eq!(r.text(), "spec:\n\n\n\n\n\n  good: 2\n");
        assert_eq!(r.text().lines().count(), text.lines().count());
        // The same line cannot be blanked twice, and problems there are the blanking's.
        assert!(!r.blank_for(&shape(2, "x")));
        assert!(r.caused(&shape(3, "expected a mapping")));
        assert!(!r.caused(&shape(7, "invalid type")));
    }

    #[test]
    fn a_list_item_keeps_its_dash_and_its_other_keys() {
        let text = "tools:\n  - tpye: x\n    scope: s\n  - type: y\n";
        let mut r = Repair::new(text);
        assert!(r.blank_for(&shape(2, "unknown field `tpye`")));
        assert_eq!(r.text(), "tools:\n  -\n    scope: s\n  - type: y\n");
        // An item's only entry leaves an empty mapping, not a null item.
        let mut r = Repair::new("tools:\n  - tpye: x\n  - type: y\n");
        assert!(r.blank_for(&shape(2, "unknown field `tpye`")));
        assert_eq!(r.text(), "tools:\n  - {}\n  - type: y\n");
    }

    #[test]
    fn a_mappings_only_entry_leaves_an_empty_mapping() {
        let mut r = Repair::new("spec:\n  chat_model: [a]\nkind: x\n");
        assert!(r.blank_for(&shape(2, "invalid type")));
        assert_eq!(r.text(), "spec:\n  {}\nkind: x\n");
    }

    #[test]
    fn a_missing_field_is_the_blankings_only_when_that_key_was_blanked() {
        let mut r = Repair::new("spec:\n  chat_model: [a]\n");
        assert!(r.blank_for(&shape(2, "invalid type")));
        assert!(r.caused(&shape(1, "missing field `chat_model`")));
        assert!(!r.caused(&shape(1, "missing field `embedding_model`")));
        // A genuinely missing field cannot be blanked past.
        assert!(!r.blank_for(&shape(1, "missing field `embedding_model`")));
    }

    #[test]
    fn only_a_blanked_key_of_that_name_counts_not_a_longer_key_or_a_value() {
        assert!(names_key("chat_model: x\n", "chat_model"));
        assert!(names_key("- name: x\n", "name"));
        assert!(names_key("spec: {a: 1, chat_model: x}\n", "chat_model"));
        assert!(!names_key("display_name: x\n", "name"));
        assert!(!names_key("description: \"name: y\"\n", "name"));
    }

    #[test]
    fn syntax_errors_and_unlocated_problems_are_not_repaired() {
        let mut r = Repair::new("a: [\n");
        let mut syntax = shape(1, "unclosed");
        syntax.kind = YamlErrorKind::Syntax;
        assert!(!r.blank_for(&syntax));
        let mut nowhere = shape(1, "x");
        nowhere.pos = None;
        assert!(!r.blank_for(&nowhere));
    }
}
