//! The one place that knows the YAML library (serde-saphyr). Everything else in `manifest`
//! sees plain Rust values, [`Spanned`] locations and [`YamlError`]s, so the library can be
//! swapped by rewriting this file alone.
//!
//! Choices made here, and why:
//! - YAML 1.2 booleans only (`strict_booleans`): `on`/`no`/`yes` stay strings where a string is
//!   expected and are refused where a boolean is, instead of silently becoming `true`/`false`.
//! - Leading-zero numbers stay strings in untyped values (`0755` is not `755`).
//! - `${VAR}`, `${VAR:-default}` and `$$` are expanded by the parser in plain (unquoted)
//!   scalars, with the scalar's location on an unset variable. Quoted and block scalars are
//!   left untouched, which is what keeps `"{{$userId}}"` and prompt text verbatim.
//! - The library's budgets stay on (alias bombs, deep nesting) and duplicate keys are errors.

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use serde_saphyr::Spanned;

/// A position in the text a document was parsed from: 1-based line and column (in
/// characters), and the length of the offending text in characters (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub len: usize,
}

impl Pos {
    /// The position recorded in a [`Spanned`] value, or `None` when the library had none
    /// (values built in code, for export).
    pub fn of<T>(spanned: &Spanned<T>) -> Option<Pos> {
        from_location(spanned.referenced)
    }
}

fn from_location(location: serde_saphyr::Location) -> Option<Pos> {
    if location == serde_saphyr::Location::UNKNOWN || location.line() == 0 {
        return None;
    }
    let to_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    Some(Pos {
        line: to_usize(location.line()),
        column: to_usize(location.column()).max(1),
        len: to_usize(location.span().len()).max(1),
    })
}

/// Wraps a value with no known location, for raw manifests built in code (export).
pub fn unspanned<T>(value: T) -> Spanned<T> {
    Spanned::new(
        value,
        serde_saphyr::Location::UNKNOWN,
        serde_saphyr::Location::UNKNOWN,
    )
}

/// A YAML problem: syntax, type, unknown or missing field, unset variable, budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// The message without location (the caller renders file:line:column itself).
    pub message: String,
    pub pos: Option<Pos>,
    /// What kind of problem it is, for hints.
    pub kind: YamlErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// The text is not well-formed YAML; nothing after it in the same text can be trusted.
    Syntax,
    /// A property (`${VAR}`) was referenced but not set.
    UnsetVariable,
    /// A resource limit of the parser (aliases, depth, size) was exceeded.
    Budget,
    /// Well-formed YAML that does not fit the expected shape (types, fields).
    Shape,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Parser options for manifests. Built per parse because the library's options are `!Send`.
fn options(vars: Option<&HashMap<String, String>>) -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.with_snippet = false;
    options.reject_unsupported_tags = true;
    options.merge_keys = serde_saphyr::MergeKeyPolicy::Error;
    if let Some(vars) = vars {
        options = options.with_properties(vars.clone());
    }
    options
}

/// Parses one YAML document (the text may carry a leading `---`) into `T`, expanding
/// variables from `vars` when given. An empty or null document is `Ok(None)`.
pub fn from_document<T: DeserializeOwned>(
    text: &str,
    vars: Option<&HashMap<String, String>>,
) -> Result<Option<T>, YamlError> {
    serde_saphyr::from_str_with_options::<Option<T>>(text, options(vars)).map_err(convert)
}

fn convert(error: serde_saphyr::Error) -> YamlError {
    use serde_saphyr::MessageFormatter as _;
    let inner = error.without_snippet();
    let message = serde_saphyr::DefaultMessageFormatter
        .format_message(inner)
        .into_owned();
    let kind = classify(inner, &message);
    // The library suggests one of its own options; that advice is not for our users.
    let message = message
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or_default()
        .to_owned();
    YamlError {
        message: sanitize(&message),
        pos: error.location().and_then(from_location),
        kind,
    }
}

/// Sorts errors into the kinds callers react to (with hints). The library's error enum is
/// large and grows between versions, so this keys on the one variant that is stable and on
/// the message for the rest; a misclassified error only loses its hint.
fn classify(error: &serde_saphyr::Error, message: &str) -> YamlErrorKind {
    if matches!(error, serde_saphyr::Error::Budget { .. })
        || message.starts_with("budget breached")
        || message.contains("recursion limit")
        || (message.contains("limit") && message.contains("alias"))
    {
        YamlErrorKind::Budget
    } else if message.contains("missing property") {
        YamlErrorKind::UnsetVariable
    } else if message.starts_with("unknown field")
        || message.starts_with("missing field")
        || message.starts_with("invalid")
        || message.starts_with("expected")
        || message.starts_with("duplicate")
    {
        YamlErrorKind::Shape
    } else {
        YamlErrorKind::Syntax
    }
}

/// Keeps messages on one line and free of control characters (they end up on terminals).
fn sanitize(message: &str) -> String {
    message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Parses every document of `text` as untyped JSON values (for checking examples against the
/// JSON Schema), with the same options and interpolation as typed parsing.
pub fn to_json_documents(
    text: &str,
    vars: Option<&HashMap<String, String>>,
) -> Result<Vec<serde_json::Value>, YamlError> {
    serde_saphyr::from_multiple_with_options::<serde_json::Value>(text, options(vars))
        .map_err(convert)
}

/// Whether the serialiser writes `value` as a plain (unquoted, non-block) scalar. Only plain
/// scalars are interpolated when read back, so export escapes `$` exactly in those.
pub fn is_plain_scalar(value: &str) -> bool {
    serde_saphyr::to_string(&value)
        .ok()
        .and_then(|text| text.chars().next())
        .is_some_and(|first| !matches!(first, '\'' | '"' | '|' | '>'))
}

/// Serialises documents as multi-document YAML (export).
pub fn to_multi_document<T: Serialize>(documents: &[T]) -> Result<String, YamlError> {
    let mut out = String::new();
    for (i, document) in documents.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let text = serde_saphyr::to_string(document).map_err(|e| YamlError {
            message: sanitize(&e.to_string()),
            pos: None,
            kind: YamlErrorKind::Shape,
        })?;
        out.push_str(&text);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are read through Debug in assertions")]
    struct Probe {
        name: Spanned<String>,
        #[serde(default)]
        flag: Option<bool>,
        #[serde(default)]
        temperature: Option<Spanned<f64>>,
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn parse(text: &str) -> Result<Option<Probe>, YamlError> {
        from_document::<Probe>(text, Some(&vars(&[("SET", "v")])))
    }

    #[test]
    fn variables_expand_with_defaults_and_escapes_and_leave_user_id_alone() {
        let probe = parse("name: x-${SET}-${UNSET:-dflt}-$$-{{$userId}}\n")
            .unwrap()
            .unwrap();
        assert_eq!(probe.name.value, "x-v-dflt-$-{{$userId}}");
    }

    #[test]
    fn quoted_scalars_are_not_interpolated() {
        let probe = parse("name: \"{{$userId}} ${UNSET}\"\n").unwrap().unwrap();
        assert_eq!(probe.name.value, "{{$userId}} ${UNSET}");
    }

    #[test]
    fn unset_variables_are_located_errors() {
        let err = parse("flag: true\nname: ${UNSET}\n").unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::UnsetVariable);
        assert!(err.message.contains("UNSET"), "{err}");
        let pos = err.pos.unwrap();
        assert_eq!((pos.line, pos.column), (2, 7));
    }

    #[test]
    fn yaml_1_1_booleans_are_refused() {
        let err = parse("name: a\nflag: yes\n").unwrap_err();
        assert!(err.message.contains("boolean"), "{err}");
        assert_eq!(err.pos.unwrap().line, 2);
    }

    #[test]
    fn duplicate_keys_are_errors_without_library_advice() {
        let err = parse("name: a\nname: b\n").unwrap_err();
        assert_eq!(err.message, "duplicate mapping key: name");
    }

    #[test]
    fn empty_documents_are_none() {
        assert!(parse("").unwrap().is_none());
        assert!(parse("# only a comment\n").unwrap().is_none());
    }
}
