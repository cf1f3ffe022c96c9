//! Splitting a file into YAML documents, and the per-document context that turns positions
//! inside a document into positions in its file.

use super::super::diagnostic::Diagnostic;
use super::super::source::SourceFile;
use super::super::suggest::{did_you_mean, parse_unknown_field};
use super::super::yaml::{Pos, Spanned, YamlError, YamlErrorKind};

/// One YAML document of a file. Documents are parsed one at a time so that an error in one
/// does not hide the problems of the next, and so that each can be parsed twice (a header
/// first, then the type its `kind` names).
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    pub file: &'a SourceFile,
    /// The document's text, from its `---` line (if any) to just before the next one.
    pub text: &'a str,
    /// Lines of the file before the document's first line.
    pub line_offset: usize,
}

/// Splits `file` at document markers. A `---` or `...` at the start of a line always ends a
/// document in YAML (even inside block scalars), so splitting on lines is exact.
pub fn split(file: &SourceFile) -> Vec<Document<'_>> {
    let text = file.text.as_str();
    let mut documents = Vec::new();
    let mut start = 0;
    let mut start_line = 0;
    let mut offset = 0;
    for (line_index, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_start = is_marker(bare, "---");
        let is_end = is_marker(bare, "...");
        if is_start && offset > start {
            documents.push(Document {
                file,
                text: &text[start..offset],
                line_offset: start_line,
            });
            start = offset;
            start_line = line_index;
        }
        offset += line.len();
        if is_end {
            documents.push(Document {
                file,
                text: &text[start..offset],
                line_offset: start_line,
            });
            start = offset;
            start_line = line_index + 1;
        }
    }
    if start < text.len() {
        documents.push(Document {
            file,
            text: &text[start..],
            line_offset: start_line,
        });
    }
    documents
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

impl<'a> Document<'a> {
    /// A position inside this document as a position in the file.
    pub fn pos(&self, pos: Option<Pos>) -> Option<Pos> {
        pos.map(|p| Pos {
            line: p.line + self.line_offset,
            ..p
        })
    }

    /// Where a spanned value is, in the file.
    pub fn at<T>(&self, value: &Spanned<T>) -> Option<Pos> {
        self.pos(Pos::of(value))
    }

    /// The document's first line with content, for problems about the document as a whole.
    pub fn start(&self) -> Option<Pos> {
        self.text
            .lines()
            .enumerate()
            .find(|(_, l)| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#') && !is_marker(t, "---")
            })
            .map(|(i, l)| Pos {
                line: i + 1 + self.line_offset,
                column: 1,
                len: l.trim_end().chars().count().max(1),
            })
    }

    /// Finds `key:` at or after file line `from_line` within this document, for problems found
    /// after parsing in values that carry no location of their own (inside tools).
    pub fn find_key(&self, from_line: usize, key: &str) -> Option<Pos> {
        let skip = from_line.saturating_sub(self.line_offset + 1);
        self.text
            .lines()
            .enumerate()
            .skip(skip)
            .find_map(|(i, line)| {
                let trimmed = line.trim_start().trim_start_matches("- ").trim_start();
                let rest = trimmed.strip_prefix(key)?;
                rest.trim_start().starts_with(':').then(|| Pos {
                    line: i + 1 + self.line_offset,
                    column: line.chars().count() - trimmed.chars().count() + 1,
                    len: key.chars().count(),
                })
            })
    }

    /// A parser error as a diagnostic, with a hint where the fix is clear.
    pub fn yaml_error(&self, error: &YamlError) -> Diagnostic {
        let mut pos = self.pos(error.pos);
        let mut message = error.message.clone();
        let mut hint = None;
        if let Some((name, expected)) = parse_unknown_field(&error.message) {
            message = format!("unknown field `{name}`");
            hint = Some(unknown_field_hint(&name, &expected));
        } else if error.kind == YamlErrorKind::Interpolation {
            hint.clone_from(&error.hint);
        } else if error.kind == YamlErrorKind::Budget {
            message = format!(
                "document is too large or too deeply nested to read ({})",
                budget_reason(&message)
            );
            hint = Some(
                "anchors, aliases or nesting here go beyond foundryctl's limits; write the values out"
                    .to_owned(),
            );
        } else if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            hint = Some(format!("add `{field}:` here"));
        } else if message.contains("tab") {
            if let Some(tab) = self.first_tab_indent() {
                pos = Some(tab);
            }
            hint = Some("indent YAML with spaces; tabs are not allowed".to_owned());
        } else if error.kind == YamlErrorKind::Syntax
            && message.contains("flow")
            && self.line_text(pos).is_some_and(|line| line.contains("${"))
        {
            // `{` and `}` end a flow collection, so `{${each}: …}` or `[${A}]` cannot be
            // read until the reference is quoted.
            hint = Some("inside `{ }` or `[ ]`, quote a ${…} reference: \"${each}\"".to_owned());
        } else if message.starts_with("invalid boolean") {
            hint = Some(
                "write true or false (YAML 1.2); quote the value if you meant a string".to_owned(),
            );
        }
        let message = plain_words(&message);
        let diagnostic = Diagnostic::error(self.file, pos, message);
        match hint {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        }
    }

    /// The text of the document line `pos` points at (a file line number).
    fn line_text(&self, pos: Option<Pos>) -> Option<&str> {
        let line = pos?.line.checked_sub(1 + self.line_offset)?;
        self.text.lines().nth(line)
    }

    fn first_tab_indent(&self) -> Option<Pos> {
        self.text.lines().enumerate().find_map(|(i, line)| {
            let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
            indent.find('\t').map(|col| Pos {
                line: i + 1 + self.line_offset,
                column: indent[..col].chars().count() + 1,
                len: 1,
            })
        })
    }
}

/// The parser's type errors in the words of a manifest author rather than of a Rust type.
fn plain_words(message: &str) -> String {
    let replaced = match message {
        "expected mapping start" => "expected a mapping (`key: value` lines)",
        "expected sequence start" => "expected a list (`- item` lines)",
        "invalid floating point" => "expected a number",
        "expected string scalar" => "expected a string",
        m if m.starts_with("cannot deserialize null into string") => {
            "expected a string, found nothing (null)"
        }
        m => m,
    };
    replaced.to_owned()
}

/// "did you mean `x`?" when a known field is close, else the list of fields allowed here.
pub fn unknown_field_hint(name: &str, expected: &[String]) -> String {
    match did_you_mean(name, expected.iter().map(String::as_str)) {
        Some(near) => format!("did you mean `{near}`?"),
        None if expected.is_empty() => "no fields are allowed here".to_owned(),
        None => format!("allowed here: {}", expected.join(", ")),
    }
}

/// The parser's budget message (`budget breached: Depth { depth: 65 }`) in words: which limit,
/// and the figure when there is one. A message of another shape is kept as it is.
fn budget_reason(message: &str) -> String {
    let Some(detail) = message.strip_prefix("budget breached: ") else {
        return message.to_owned();
    };
    let figure = detail
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| !part.is_empty());
    let limit = detail.split([' ', '{', '(']).next().unwrap_or(detail);
    let what = match limit {
        "Depth" => "nesting",
        "Aliases" | "AliasAnchorRatio" | "Anchors" | "MergeKeys" => "aliases and anchors",
        "Events" | "Nodes" => "values",
        "Documents" => "documents",
        "ScalarBytes" | "InputBytes" | "CommentBytes" => "text",
        _ => return format!("the parser's {limit} limit"),
    };
    match figure {
        Some(n) => format!("{what} reached {n}, over the parser's limit"),
        None => format!("too many {what} for the parser"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_at_markers_with_their_line_offsets() {
        let file = SourceFile::new("f", "a: 1\n---\nb: 2\n...\n--- \nc: |\n  x\n");
        let docs = split(&file);
        let texts: Vec<_> = docs.iter().map(|d| d.text).collect();
        assert_eq!(texts, ["a: 1\n", "---\nb: 2\n...\n", "--- \nc: |\n  x\n"]);
        let offsets: Vec<_> = docs.iter().map(|d| d.line_offset).collect();
        assert_eq!(offsets, [0, 1, 4]);
    }

    #[test]
    fn keys_are_found_below_a_line() {
        let file = SourceFile::new("f", "x: 1\n---\ntools:\n  - type: t\n    scope: s\n");
        let docs = split(&file);
        let pos = docs[1].find_key(4, "scope").unwrap();
        assert_eq!((pos.line, pos.column, pos.len), (5, 5, 5));
        let pos = docs[1].find_key(3, "type").unwrap();
        assert_eq!((pos.line, pos.column), (4, 5));
    }

    #[test]
    fn budget_errors_say_which_limit_in_words() {
        assert_eq!(
            super::budget_reason("budget breached: Depth { depth: 65 }"),
            "nesting reached 65, over the parser's limit"
        );
        assert_eq!(
            super::budget_reason("budget breached: Aliases { aliases: 1001 }"),
            "aliases and anchors reached 1001, over the parser's limit"
        );
        assert_eq!(
            super::budget_reason("recursion limit exceeded"),
            "recursion limit exceeded"
        );
    }
}
