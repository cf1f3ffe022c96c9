//! The one place that knows the YAML library (serde-saphyr). Everything else in `manifest`
//! sees plain Rust values, [`Spanned`] locations and [`YamlError`]s, so the library can be
//! swapped by rewriting this file alone.
//!
//! Choices made here, and why:
//! - YAML 1.2 booleans only (`strict_booleans`): `on`/`no`/`yes` stay strings where a string is
//!   expected and are refused where a boolean is, instead of silently becoming `true`/`false`.
//! - Leading-zero numbers stay strings in untyped values (`0755` is not `755`).
//! - `${VAR}`, `${VAR:-default}` and `$$` are expanded in every scalar value, plain, quoted
//!   and block alike ([`interpolate`], rules in [`super::interpolate`]), before the typed
//!   parse: an expanded value is written back into the text as a scalar over the same lines,
//!   so every position found afterwards is still a position in the file. Keys are never
//!   expanded. `{{$userId}}` is not a reference and stays verbatim.
//! - The library's budgets stay on (alias bombs, deep nesting) and duplicate keys are errors.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

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
    /// The fix, when this layer knows it.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// The text is not well-formed YAML; nothing after it in the same text can be trusted.
    Syntax,
    /// A `${…}` reference that cannot be expanded (unset, unterminated, invalid).
    Interpolation,
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
/// The library's own interpolation stays off: it expands plain scalars only.
fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.with_snippet = false;
    options.reject_unsupported_tags = true;
    options.merge_keys = serde_saphyr::MergeKeyPolicy::Error;
    options
}

/// Parses one YAML document (the text may carry a leading `---`) into `T`, as written (run
/// [`interpolate`] first to expand variables). An empty or null document is `Ok(None)`.
pub fn from_document<T: DeserializeOwned>(text: &str) -> Result<Option<T>, YamlError> {
    serde_saphyr::from_str_with_options::<Option<T>>(text, options()).map_err(convert)
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
        hint: None,
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
    vars: &HashMap<String, String>,
) -> Result<Vec<serde_json::Value>, YamlError> {
    let interpolated = interpolate(text, vars);
    if let Some(error) = interpolated.errors.into_iter().next() {
        return Err(error);
    }
    serde_saphyr::from_multiple_with_options::<serde_json::Value>(&interpolated.text, options())
        .map_err(convert)
}

/// What a document says it is: its top-level `apiVersion` and `kind`, and whether its
/// `metadata` has a `for_each` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub api_version: String,
    pub kind: String,
    pub for_each: bool,
}

/// Reads a document's [`Head`] from its first events and stops there, so that the rest of the
/// document is read once, by the typed parse (reading every document in full just to choose its
/// type cost a third of validation). Keys may come in any order; the value of a key other than
/// `metadata` is skipped without being looked at.
///
/// `None` for anything out of the ordinary: not a mapping, a key missing or repeated, anchors,
/// aliases or tags on the way, a key that is not a plain scalar, text the parser cannot read.
/// The caller then takes the slow path that parses the whole document and reports exactly what
/// is wrong; this function never decides that a document is invalid.
pub fn quick_head(text: &str) -> Option<Head> {
    use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

    let mut parser = Parser::new_from_str(text);
    // The next event (the library's `comments` feature is off: comments are not events).
    let mut next = move || match parser.next() {
        Some(Ok((event, _))) => Some(event),
        _ => None,
    };
    // A key: a plain scalar with no anchor or tag. `None` at the end of the mapping.
    fn key(event: Event<'_>) -> Option<Option<String>> {
        match event {
            Event::MappingEnd => Some(None),
            Event::Scalar(key, ScalarStyle::Plain, 0, None) => Some(Some(key.into_owned())),
            _ => None,
        }
    }
    // Skips one value; `None` on anything but plain data.
    fn skip<'a>(first: Event<'a>, next: &mut impl FnMut() -> Option<Event<'a>>) -> Option<()> {
        let mut depth = 0usize;
        let mut event = first;
        loop {
            match event {
                Event::Scalar(_, _, 0, None) => {}
                Event::MappingStart(_, 0, None) | Event::SequenceStart(_, 0, None) => depth += 1,
                Event::MappingEnd | Event::SequenceEnd => depth = depth.checked_sub(1)?,
                _ => return None,
            }
            if depth == 0 {
                return Some(());
            }
            event = next()?;
        }
    }
    loop {
        match next()? {
            Event::StreamStart | Event::DocumentStart(..) => {}
            Event::MappingStart(_, 0, None) => break,
            _ => return None,
        }
    }
    let (mut api_version, mut kind, mut metadata) = (None, None, None);
    while api_version.is_none() || kind.is_none() || metadata.is_none() {
        let Some(name) = key(next()?)? else {
            break;
        };
        match name.as_str() {
            "apiVersion" | "kind" => {
                let Event::Scalar(value, _, 0, None) = next()? else {
                    return None;
                };
                let slot = if name == "kind" {
                    &mut kind
                } else {
                    &mut api_version
                };
                if slot.replace(value.into_owned()).is_some() {
                    return None;
                }
            }
            "metadata" => {
                if metadata.is_some() {
                    return None;
                }
                let Event::MappingStart(_, 0, None) = next()? else {
                    return None;
                };
                let mut for_each = false;
                while let Some(field) = key(next()?)? {
                    for_each |= field == "for_each";
                    skip(next()?, &mut next)?;
                }
                metadata = Some(for_each);
            }
            _ => skip(next()?, &mut next)?,
        }
    }
    Some(Head {
        api_version: api_version?,
        kind: kind?,
        for_each: metadata?,
    })
}

/// A text with its scalar values expanded, and the references that could not be.
#[derive(Debug)]
pub struct Interpolated<'a> {
    /// The text to parse: the input with each expanded scalar rewritten over the same lines.
    pub text: Cow<'a, str>,
    /// One error per scalar that could not be expanded, located at the reference.
    pub errors: Vec<YamlError>,
    /// Where those scalars start; they are left as written, so whatever else is found wrong
    /// with them there is a consequence, not a problem of its own.
    pub failed: Vec<(usize, usize)>,
    /// The variables that were set where a reference looked them up.
    pub used: BTreeSet<String>,
    /// Whether a rewritten scalar carries a tag (`!!float ${TEMP}`): the typed parse then
    /// reads the tag on the expanded value, where reading the text as written applies it to
    /// the reference itself.
    pub rewrote_tagged: bool,
}

/// Expands `${…}` in every scalar value of `text`, whatever its style, and in the keys of
/// `spec.scopes` (a seed's scope names, so one seed per `for_each` value can name the scope
/// `${each}`). Other keys, comments and tags are left alone. A text the YAML parser cannot read
/// is returned as is (the typed parse reports the syntax error).
///
/// A rewritten scalar keeps its first line and column and covers exactly as many lines as
/// before: a plain one-line scalar whose value is still a safe plain scalar is written plain
/// (so `${TEMPERATURE}` can still be a number); anything else is written double-quoted, padded
/// with escaped line breaks. Only text after a rewritten scalar on its own last line moves.
pub fn interpolate<'a>(text: &'a str, vars: &HashMap<String, String>) -> Interpolated<'a> {
    use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

    let unchanged = |text: &'a str| Interpolated {
        text: Cow::Borrowed(text),
        errors: Vec::new(),
        failed: Vec::new(),
        used: BTreeSet::new(),
        rewrote_tagged: false,
    };
    // Only `${` and `$$` mean anything (`{{$userId}}` is verbatim), and a scalar holds them
    // without the text spelling them only through a double-quoted escape (`"$\u007B X}"`). A
    // text with no `$` at all is left alone, escapes or not.
    let may_refer =
        text.contains("${") || text.contains("$$") || (text.contains('$') && text.contains('\\'));
    if !may_refer {
        return unchanged(text);
    }
    // For each open collection: `Some(expecting_key)` for a mapping, `None` for a sequence.
    let mut stack: Vec<Option<bool>> = Vec::new();
    // The key path to the innermost open collection (the key of each enclosing mapping entry,
    // "" for a sequence item or a key that is not a plain string), and the last key read.
    let mut path: Vec<String> = Vec::new();
    let mut last_key = String::new();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut errors = Vec::new();
    let mut failed = Vec::new();
    let mut used = BTreeSet::new();
    let mut rewrote_tagged = false;
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else {
            return unchanged(text);
        };
        let is_key = match &event {
            Event::Scalar(..)
            | Event::Alias(..)
            | Event::MappingStart(..)
            | Event::SequenceStart(..) => match stack.last_mut() {
                Some(Some(expecting_key)) => {
                    let was = *expecting_key;
                    *expecting_key = !was;
                    was
                }
                _ => false,
            },
            _ => false,
        };
        let in_mapping = matches!(stack.last(), Some(Some(_)));
        if is_key {
            last_key = match &event {
                Event::Scalar(key, ..) => key.to_string(),
                _ => String::new(),
            };
        }
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if !stack.is_empty() {
                    path.push(if in_mapping {
                        std::mem::take(&mut last_key)
                    } else {
                        String::new()
                    });
                }
                stack.push(matches!(event, Event::MappingStart(..)).then_some(true));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                path.pop();
            }
            Event::Scalar(value, style, _, tag)
                if (!is_key || path == ["spec", "scopes"]) && value.contains('$') =>
            {
                let (Some(start), Some(end)) = (span.start.byte_offset(), span.end.byte_offset())
                else {
                    continue;
                };
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                let start = if block {
                    block_indicator(text, start).unwrap_or(start)
                } else {
                    start
                };
                let Some(region) = text.get(start..end) else {
                    continue;
                };
                match super::interpolate::expand_noting(&value, vars, &mut used) {
                    Ok(Cow::Borrowed(_)) => {}
                    Ok(Cow::Owned(expanded)) => {
                        let body = region.trim_end_matches([' ', '\t', '\r', '\n']);
                        let trailing = &region[body.len()..];
                        let lines = body.matches('\n').count();
                        // A scope name is a string whatever it spells: a key written plain
                        // as `null` or `~` would be a null key, so keys are always quoted.
                        let mut replacement = if style == ScalarStyle::Plain
                            && !is_key
                            && lines == 0
                            && is_safe_plain(&expanded)
                        {
                            expanded
                        } else {
                            double_quoted(&expanded, lines, span.start.col())
                        };
                        replacement.push_str(trailing);
                        edits.push((start, end, replacement));
                        rewrote_tagged |= tag.is_some();
                    }
                    Err(error) => {
                        let at = region
                            .find(&error.needle)
                            .map_or(start, |offset| start + offset);
                        let (line, column) = line_column(text, at);
                        errors.push(YamlError {
                            message: sanitize(&error.message()),
                            pos: Some(Pos {
                                line,
                                column,
                                len: error.needle.chars().count().max(1),
                            }),
                            kind: YamlErrorKind::Interpolation,
                            hint: Some(error.hint()),
                        });
                        failed.push((span.start.line(), span.start.col() + 1));
                    }
                }
            }
            _ => {}
        }
    }
    if edits.is_empty() {
        return Interpolated {
            text: Cow::Borrowed(text),
            errors,
            failed,
            used,
            rewrote_tagged: false,
        };
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end, replacement) in edits {
        out.push_str(text.get(copied..start).unwrap_or_default());
        out.push_str(&replacement);
        copied = end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    Interpolated {
        text: Cow::Owned(out),
        errors,
        failed,
        used,
        rewrote_tagged,
    }
}

/// The byte offset of the `|` or `>` header of the block scalar whose content starts at
/// `content`: the last indicator on the last line before it that is not blank or a comment.
fn block_indicator(text: &str, content: usize) -> Option<usize> {
    let before = text.get(..content)?;
    let mut end = before.len();
    loop {
        let line_start = before[..end].rfind('\n').map_or(0, |i| i + 1);
        let line = &before[line_start..end];
        // A comment after the header starts at ` #`; the header itself has no `#`.
        let code = line.split(" #").next().unwrap_or(line);
        if let Some(i) = code.rfind(['|', '>']) {
            return Some(line_start + i);
        }
        if line_start == 0 {
            return None;
        }
        end = line_start - 1;
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Whether `value` reads back as itself (or as the number, boolean or null it spells) when
/// written as a plain scalar in any context.
fn is_safe_plain(value: &str) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    let indicator = matches!(
        first,
        '?' | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) || (first == '-' && value.chars().nth(1).is_none_or(char::is_whitespace));
    !indicator
        && value.trim() == value
        && !value.ends_with(':')
        && !value.contains(": ")
        && !value.contains(" #")
        && !value.contains(['$', ',', '[', ']', '{', '}', '\t'])
        && !value.chars().any(char::is_control)
}

/// `value` as a double-quoted scalar that covers `lines` more lines (escaped line breaks, each
/// next line indented by `indent` spaces).
fn double_quoted(value: &str, lines: usize, indent: usize) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    for _ in 0..lines {
        out.push_str("\\\n");
        out.extend(std::iter::repeat_n(' ', indent));
    }
    out.push('"');
    out
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
            hint: None,
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

    fn head(api_version: &str, kind: &str, for_each: bool) -> Option<Head> {
        Some(Head {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            for_each,
        })
    }

    #[test]
    fn quick_head_reads_the_head_in_any_order_and_stops_there() {
        let text = "# a comment\n---\nkind: Agent # why\nmetadata:\n  labels: {a: [1, {b: c}]}\n  name: x\napiVersion: 'foundryctl/v1'\nspec: [unclosed\n";
        assert_eq!(quick_head(text), head("foundryctl/v1", "Agent", false));
        let text = "apiVersion: v\nkind: K\nmetadata: {name: x, for_each: [a, b]}\n";
        assert_eq!(quick_head(text), head("v", "K", true));
    }

    #[test]
    fn quick_head_leaves_anything_unusual_to_the_full_parse() {
        for text in [
            "",
            "- kind: Agent\n",
            "apiVersion: v\nkind: Agent\n",
            "apiVersion: v\nkind: Agent\nkind: Agent\nmetadata: {}\n",
            "apiVersion: v\nkind: !!str Agent\nmetadata: {}\n",
            "apiVersion: v\nkind: &k Agent\nmetadata: {}\n",
            "apiVersion: v\nkind: Agent\nmetadata: *m\n",
            "apiVersion: v\nkind: Agent\nmetadata: {labels: *l}\n",
            "apiVersion: v\n\"kind\": Agent\nmetadata: {}\n",
            "apiVersion: v\nkind: [Agent]\nmetadata: {}\n",
            "apiVersion: v\nkind: Agent\nmetadata: {name: [x}\n",
        ] {
            assert_eq!(quick_head(text), None, "{text:?}");
        }
    }

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
        let interpolated = interpolate(text, &vars(&[("SET", "v"), ("TEMP", "0.5")]));
        if let Some(error) = interpolated.errors.into_iter().next() {
            return Err(error);
        }
        from_document::<Probe>(&interpolated.text)
    }

    #[test]
    fn variables_expand_with_defaults_and_escapes_and_leave_user_id_alone() {
        let probe = parse("name: x-${SET}-${UNSET:-dflt}-$$-{{$userId}}\n")
            .unwrap()
            .unwrap();
        assert_eq!(probe.name.value, "x-v-dflt-$-{{$userId}}");
    }

    #[test]
    fn quoted_and_block_scalars_are_interpolated_like_plain_ones() {
        for text in [
            "name: \"${SET}-memory\"\n",
            "name: '${SET}-memory'\n",
            "name: |-\n  ${SET}-memory\n",
            "name: >- # folded\n  ${SET}-memory\n",
        ] {
            let probe = parse(text).unwrap().unwrap();
            assert_eq!(probe.name.value, "v-memory", "{text}");
        }
        let probe = parse("name: \"{{$userId}} costs $5, $$ ${UNSET:-x}\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(probe.name.value, "{{$userId}} costs $5, $ x");
    }

    #[test]
    fn a_rewritten_scalar_keeps_every_later_position() {
        let text =
            "name: |\n  one ${SET}\n  \"two\"\\\n\n  three\nflag: true\ntemperature: ${TEMP}\n";
        let interpolated = interpolate(text, &vars(&[("SET", "v\n\"x\""), ("TEMP", "1")]));
        assert!(interpolated.errors.is_empty());
        assert_eq!(
            interpolated.text.lines().count(),
            text.lines().count(),
            "{}",
            interpolated.text
        );
        let probe = from_document::<Probe>(&interpolated.text).unwrap().unwrap();
        assert_eq!(probe.name.value, "one v\n\"x\"\n\"two\"\\\n\nthree\n");
        let err = from_document::<Probe>(&interpolated.text.replace("flag: true", "flag: 3"))
            .unwrap_err();
        assert_eq!(err.pos.unwrap().line, 6);
    }

    #[test]
    fn a_plain_reference_can_still_be_a_number() {
        let probe = parse("name: a\ntemperature: ${TEMP}\n").unwrap().unwrap();
        assert_eq!(probe.temperature.unwrap().value, 0.5);
    }

    #[test]
    fn keys_are_not_interpolated() {
        let interpolated = interpolate("${SET}: ${SET}\n", &vars(&[("SET", "v")]));
        assert_eq!(interpolated.text, "${SET}: v\n");
        // Only the keys directly under `spec.scopes` are scope names.
        let text = "spec:\n  ${SET}: 1\n  scopes:\n    a:\n      ${SET}: 2\nscopes:\n  ${SET}: 3\n";
        assert_eq!(interpolate(text, &vars(&[("SET", "v")])).text, text);
    }

    #[test]
    fn the_scope_names_of_a_seed_are_interpolated() {
        let text = "spec:\n  memory_store_name: ${SET}-memory\n  scopes:\n    ${SET}:\n      - {kind: user_profile, content: \"x\"}\n    \"${SET}-b\": []\n    '${SET}-c': []\n  other:\n    ${SET}: 1\n";
        let interpolated = interpolate(text, &vars(&[("SET", "att01")]));
        assert_eq!(
            interpolated.text,
            "spec:\n  memory_store_name: att01-memory\n  scopes:\n    \"att01\":\n      - {kind: user_profile, content: \"x\"}\n    \"att01-b\": []\n    \"att01-c\": []\n  other:\n    ${SET}: 1\n"
        );
        // Whatever a value spells, the scope is named by that string, never a null key.
        for value in ["null", "~", "Null", "true", "1", "-", "a: b"] {
            let text = interpolate("spec:\n  scopes:\n    ${S}: [x]\n", &vars(&[("S", value)]));
            let parsed: serde_json::Value = from_document(&text.text).unwrap().unwrap();
            assert_eq!(
                parsed["spec"]["scopes"][value],
                serde_json::json!(["x"]),
                "{value}"
            );
        }
        let interpolated = interpolate("spec:\n  scopes:\n    ${UNSET}: []\n", &vars(&[]));
        assert_eq!(interpolated.errors.len(), 1);
        assert_eq!(interpolated.errors[0].pos.unwrap().line, 3);
    }

    #[test]
    fn unset_variables_are_located_errors_in_every_style() {
        let err = parse("flag: true\nname: ${UNSET}\n").unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::Interpolation);
        assert!(err.message.contains("UNSET"), "{err}");
        assert!(err.hint.as_deref().unwrap().contains("$$"), "{err:?}");
        let pos = err.pos.unwrap();
        assert_eq!((pos.line, pos.column), (2, 7));
        let err = parse("flag: true\nname: |\n  text\n  more ${UNSET} here\n").unwrap_err();
        let pos = err.pos.unwrap();
        assert_eq!((pos.line, pos.column), (4, 8));
    }

    #[test]
    fn unterminated_references_are_located_errors() {
        let err = parse("name: \"${unterminated\"\n").unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::Interpolation);
        assert!(err.message.contains("not closed"), "{err}");
        assert_eq!(err.pos.unwrap().column, 8);
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
