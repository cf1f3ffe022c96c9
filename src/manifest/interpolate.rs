//! `${VAR}` expansion of one string: the rules, apart from YAML. [`super::yaml`] applies them
//! to every scalar value of a document, whatever its quoting style.
//!
//! - `${NAME}`: the variable's value; unset is an error.
//! - `${NAME:-text}` / `${NAME-text}`: `text` when unset or empty / when unset.
//! - `${NAME:+text}` / `${NAME+text}`: `text` when set and non-empty / when set, else empty.
//! - `${NAME:?message}` / `${NAME?message}`: an error saying `message` when unset or empty /
//!   when unset.
//! - `$$` is one literal `$`; a `$` followed by anything else is literal, which is what keeps
//!   `{{$userId}}` and `$5` verbatim.
//!
//! Operator text may hold references itself (`${A:-${B}}`), up to [`MAX_DEPTH`] levels.
//! Variable names are ASCII letters, digits and `_`, not starting with a digit.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

/// How deeply operator text may nest references.
pub const MAX_DEPTH: usize = 8;

/// Why a string could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `${NAME}` with `NAME` unset and no default.
    Unset { name: String },
    /// `${NAME:?message}` and the like.
    Required { name: String, message: String },
    /// `${` with no matching `}`.
    Unterminated,
    /// `${…}` whose content is not a name with an optional operator.
    Invalid { reference: String },
    /// Operator text nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// A problem and the text it is about, as written (`${NAME`, `${`, …): the caller finds it in
/// the source to point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub problem: Problem,
    pub needle: String,
}

impl Error {
    /// The message, without location.
    pub fn message(&self) -> String {
        match &self.problem {
            Problem::Unset { name } => format!("variable `{name}` is not set"),
            Problem::Required { name, message } if message.is_empty() => {
                format!("variable `{name}` is required and not set")
            }
            Problem::Required { name, message } => format!("variable `{name}`: {message}"),
            Problem::Unterminated => "`${` is not closed with `}`".to_owned(),
            Problem::Invalid { reference } => {
                format!("`{reference}` is not a variable reference")
            }
            Problem::TooDeep => {
                format!("variable defaults are nested more than {MAX_DEPTH} levels deep")
            }
        }
    }

    /// What to do about it. Every hint says how to write a literal `$`, since text that was
    /// never meant as a variable is the other common cause.
    pub fn hint(&self) -> String {
        match &self.problem {
            Problem::Unset { name } if name == "each" => {
                "`${each}` is bound in the copies of a document with `metadata.for_each`; add \
                 `for_each` to this document, or write $$ for a literal $"
                    .to_owned()
            }
            Problem::Unset { name } | Problem::Required { name, .. } => format!(
                "set {name} (environment, .env, --env-file or --var {name}=…) or give a default: \
                 ${{{name}:-value}}; write $$ for a literal $"
            ),
            Problem::Unterminated => {
                "close the reference with `}`, or write `$${` for a literal `${`".to_owned()
            }
            Problem::Invalid { .. } => "a variable name is letters, digits and `_`, not starting \
                 with a digit, as in ${NAME} or ${NAME:-default}; write $$ for a literal $"
                .to_owned(),
            Problem::TooDeep => "write the default out; write $$ for a literal $".to_owned(),
        }
    }
}

/// Expands `input` with `vars`. Borrowed when there is nothing to expand.
#[cfg(test)]
pub fn expand<'a>(input: &'a str, vars: &HashMap<String, String>) -> Result<Cow<'a, str>, Error> {
    expand_noting(input, vars, &mut BTreeSet::new())
}

/// [`expand`], adding to `used` the name of every variable that was set where it was looked
/// up (saved plans record them).
pub fn expand_noting<'a>(
    input: &'a str,
    vars: &HashMap<String, String>,
    used: &mut BTreeSet<String>,
) -> Result<Cow<'a, str>, Error> {
    if !input.contains('$') {
        return Ok(Cow::Borrowed(input));
    }
    let mut out = String::with_capacity(input.len());
    let mut ctx = Ctx { vars, used };
    expand_into(input, &mut ctx, 0, &mut out)?;
    if out == input {
        Ok(Cow::Borrowed(input))
    } else {
        Ok(Cow::Owned(out))
    }
}

/// What expansion reads and notes.
struct Ctx<'v, 'u> {
    vars: &'v HashMap<String, String>,
    used: &'u mut BTreeSet<String>,
}

fn expand_into(
    input: &str,
    ctx: &mut Ctx<'_, '_>,
    depth: usize,
    out: &mut String,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error {
            problem: Problem::TooDeep,
            needle: "${".to_owned(),
        });
    }
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body_and_rest) = after.strip_prefix('{') {
            let Some(close) = closing_brace(body_and_rest) else {
                return Err(Error {
                    problem: Problem::Unterminated,
                    needle: "${".to_owned(),
                });
            };
            let body = &body_and_rest[..close];
            reference(body, ctx, depth, out)?;
            rest = &body_and_rest[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(())
}

/// The index of the `}` that closes a reference whose body starts `text`, counting nested
/// `${` and skipping `$$`.
fn closing_brace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Expands the body of one `${…}`.
fn reference(
    body: &str,
    ctx: &mut Ctx<'_, '_>,
    depth: usize,
    out: &mut String,
) -> Result<(), Error> {
    let name_len = body
        .char_indices()
        .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(body.len(), |(i, _)| i);
    let (name, op) = body.split_at(name_len);
    let invalid = || Error {
        problem: Problem::Invalid {
            reference: format!("${{{body}}}"),
        },
        needle: format!("${{{body}"),
    };
    if name.is_empty() {
        return Err(invalid());
    }
    let vars = ctx.vars;
    let value = vars.get(name).map(String::as_str);
    if value.is_some() {
        ctx.used.insert(name.to_owned());
    }
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    let text =
        |t: &str, ctx: &mut Ctx<'_, '_>, out: &mut String| expand_into(t, ctx, depth + 1, out);
    let required = |message: &str, ctx: &mut Ctx<'_, '_>| -> Result<(), Error> {
        let mut expanded = String::new();
        expand_into(message, ctx, depth + 1, &mut expanded)?;
        Err(Error {
            problem: Problem::Required {
                name: name.to_owned(),
                message: expanded,
            },
            needle: format!("${{{name}"),
        })
    };
    if op.is_empty() {
        return match value {
            Some(v) => {
                out.push_str(v);
                Ok(())
            }
            None => Err(Error {
                problem: Problem::Unset {
                    name: name.to_owned(),
                },
                needle: format!("${{{name}}}"),
            }),
        };
    }
    if let Some(t) = op.strip_prefix(":-") {
        match value {
            Some(v) if !v.is_empty() => out.push_str(v),
            _ => text(t, ctx, out)?,
        }
    } else if let Some(t) = op.strip_prefix('-') {
        match value {
            Some(v) => out.push_str(v),
            None => text(t, ctx, out)?,
        }
    } else if let Some(t) = op.strip_prefix(":+") {
        if set_nonempty {
            text(t, ctx, out)?;
        }
    } else if let Some(t) = op.strip_prefix('+') {
        if value.is_some() {
            text(t, ctx, out)?;
        }
    } else if let Some(m) = op.strip_prefix(":?") {
        match value {
            Some(v) if !v.is_empty() => out.push_str(v),
            _ => required(m, ctx)?,
        }
    } else if let Some(m) = op.strip_prefix('?') {
        match value {
            Some(v) => out.push_str(v),
            None => required(m, ctx)?,
        }
    } else {
        return Err(invalid());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> HashMap<String, String> {
        [("SET", "v"), ("EMPTY", "")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn ok(input: &str) -> String {
        expand(input, &vars()).unwrap().into_owned()
    }

    fn problem(input: &str) -> Problem {
        expand(input, &vars()).unwrap_err().problem
    }

    #[test]
    fn references_defaults_and_escapes_expand() {
        assert_eq!(
            ok("x-${SET}-${UNSET:-d}-${EMPTY:-e}-${EMPTY-f}"),
            "x-v-d-e-"
        );
        assert_eq!(ok("${UNSET:-${SET}}"), "v");
        assert_eq!(ok("${SET:+alt}|${UNSET:+alt}|${EMPTY+alt}"), "alt||alt");
        assert_eq!(ok("$$ $${SET} $$$$"), "$ ${SET} $$");
    }

    #[test]
    fn a_dollar_not_followed_by_a_brace_is_literal() {
        assert_eq!(ok("{{$userId}} costs $5 $"), "{{$userId}} costs $5 $");
        assert!(matches!(
            expand("{{$userId}}", &vars()).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn unset_unterminated_and_invalid_references_are_errors() {
        assert_eq!(
            problem("a ${NOPE} b"),
            Problem::Unset {
                name: "NOPE".into()
            }
        );
        assert_eq!(problem("${unterminated"), Problem::Unterminated);
        assert_eq!(problem("${A:-${B}"), Problem::Unterminated);
        assert_eq!(
            problem("${1X}"),
            Problem::Invalid {
                reference: "${1X}".into()
            }
        );
        assert_eq!(
            problem("${}"),
            Problem::Invalid {
                reference: "${}".into()
            }
        );
        assert_eq!(
            problem("${A B}"),
            Problem::Invalid {
                reference: "${A B}".into()
            }
        );
        assert_eq!(
            problem("${EMPTY:?needed here}"),
            Problem::Required {
                name: "EMPTY".into(),
                message: "needed here".into()
            }
        );
    }

    #[test]
    fn every_hint_mentions_the_escape() {
        for input in ["${NOPE}", "${x", "${1}", "${NOPE?m}"] {
            let error = expand(input, &vars()).unwrap_err();
            assert!(error.hint().contains("$$"), "{input}: {}", error.hint());
        }
    }

    #[test]
    fn the_variables_that_were_set_are_noted() {
        let mut used = BTreeSet::new();
        expand_noting("${SET} ${UNSET:-${EMPTY}} $${NOT}", &vars(), &mut used).unwrap();
        assert_eq!(used, BTreeSet::from(["EMPTY".to_owned(), "SET".to_owned()]));
    }

    #[test]
    fn each_outside_a_for_each_document_says_where_it_is_bound() {
        let error = expand("${each}-memory", &vars()).unwrap_err();
        assert!(
            error.hint().contains("metadata.for_each"),
            "{}",
            error.hint()
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut input = "x".to_owned();
        for _ in 0..=MAX_DEPTH + 1 {
            input = format!("${{UNSET:-{input}}}");
        }
        assert_eq!(problem(&input), Problem::TooDeep);
    }
}
