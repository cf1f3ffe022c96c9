//! Diagnostics: one located problem in a manifest, and the list of them that validation
//! returns. Rendering lives in `render.rs`; this file only describes and builds them.

use std::fmt;

use serde::Serialize;

use super::source::SourceFile;
use super::yaml::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem, with everything needed to show it without the file at hand: where it is, the
/// source line, and which columns to underline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file as the user named it (`-` is stdin).
    pub file: String,
    /// 1-based; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based, in characters; 0 when unknown.
    pub column: usize,
    /// How many characters to underline from `column` (at least 1 when located).
    #[serde(skip_serializing_if = "is_zero")]
    pub width: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The text of `line`, without its line break.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_line: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Longest source line kept in a diagnostic: a minified or binary "line" must not flood the
/// terminal.
const MAX_SOURCE_LINE_CHARS: usize = 200;

impl Diagnostic {
    /// A diagnostic at `pos` in `file`, or at the file as a whole when `pos` is `None`.
    pub fn new(
        severity: Severity,
        file: &SourceFile,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column, width) = pos.map_or((0, 0, 0), |p| (p.line, p.column, p.len));
        let source_line = (line > 0)
            .then(|| file.line(line))
            .flatten()
            .map(|text| text.chars().take(MAX_SOURCE_LINE_CHARS).collect::<String>());
        // Underline no further than the end of the shown line (spans of multi-line values).
        let width = match &source_line {
            Some(text) => {
                let available = text
                    .chars()
                    .count()
                    .saturating_sub(column.saturating_sub(1));
                width.min(available).max(1)
            }
            None => width,
        };
        Self {
            severity,
            file: file.name.clone(),
            line,
            column,
            width,
            message: message.into(),
            hint: None,
            source_line,
        }
    }

    pub fn error(file: &SourceFile, pos: Option<Pos>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, file, pos, message)
    }

    pub fn warning(file: &SourceFile, pos: Option<Pos>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, file, pos, message)
    }

    /// A problem with an input that could not be read as text at all (too large, not UTF-8).
    pub fn about_input(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            file: file.into(),
            line: 0,
            column: 0,
            width: 0,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same problem as an error: a warning at `validate` (memory tool naming an undeclared
    /// store) becomes an error at `plan` when the live project lacks the store too.
    #[must_use]
    pub fn into_error(mut self) -> Self {
        self.severity = Severity::Error;
        self
    }

    /// `file:line:column`, or just `file` when the problem is not located.
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// Every problem validation found, errors first in input order, then warnings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn error_count(&self) -> usize {
        self.0
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    /// A one-line summary, for `anyhow` chains; the full report is rendered separately.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.error_count();
        write!(
            f,
            "{errors} problem{} found in the manifests",
            if errors == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}
