//! Finding credentials a saved plan would write down.
//!
//! A saved plan (`plan --out FILE`) holds each action's full request, after `${VAR}`
//! interpolation, so that `apply FILE` needs nothing but the file. Typed specs hold no secrets,
//! but a pass-through tool (`mcp`, `openapi`, …) can: an `mcp` tool's `headers` commonly carry
//! `Authorization` or `api-key`, interpolated from the environment. ARCHITECTURE.md's invariant is
//! "secrets stay secret", so `plan --out` refuses such a plan rather than write it (the command layer turns
//! [`secret_fields`] into the error).
//!
//! Why refuse rather than redact: a redacted plan cannot be applied from the file alone, and
//! re-reading the manifests at apply time would make the file no longer the whole approval.
//! Refusing keeps `apply FILE` exactly what was reviewed; the hints offer the ways out (a
//! project connection, which the service resolves, or applying from the manifests).
//!
//! What counts: any value under a `headers` object (headers are how HTTP tools carry
//! credentials, and their names vary), and any field whose name says credential
//! (`authorization`, `api_key`, `token`, `secret`, `password`, and names ending in those).
//! Identifiers of credentials kept elsewhere (`project_connection_id`) are fine.
//!
//! The same rule masks values in the renderings ([`masked`]): `plan` output goes to CI logs
//! and pull-request comments, so a credential's value is replaced by [`MASK`] there, while the
//! plan itself (what `apply` sends) keeps it. Masking compares before it masks, so a changed
//! credential still reads as changed ([`MASK_CHANGED`]).

use std::borrow::Cow;

use serde_json::Value;

use super::types::{FieldChange, Op, Plan};
use crate::model::Tool;

/// A field of a pass-through tool that looks like a credential: `agent/NAME tools[i].path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretField {
    pub action: String,
    pub path: String,
}

impl std::fmt::Display for SecretField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.action, self.path)
    }
}

/// Every credential-like field in the plan's agent versions, in action order.
pub fn secret_fields(plan: &Plan) -> Vec<SecretField> {
    let mut out = Vec::new();
    for action in &plan.actions {
        let Op::CreateAgentVersion { spec, .. } = &action.op else {
            continue;
        };
        for (i, tool) in spec.tools.iter().enumerate() {
            if let Tool::Other(value) = tool {
                walk(&format!("tools[{i}]"), value, false, &mut |path| {
                    out.push(SecretField {
                        action: action.id.clone(),
                        path,
                    });
                });
            }
        }
    }
    out
}

/// Calls `found` with the path of every non-empty credential-like value under `value`.
fn walk(path: &str, value: &Value, under_headers: bool, found: &mut impl FnMut(String)) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let child = format!("{path}.{key}");
                if under_headers || is_credential_name(key) {
                    if !is_empty(v) {
                        found(child);
                    }
                } else {
                    walk(&child, v, key.eq_ignore_ascii_case("headers"), found);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), v, under_headers, found);
            }
        }
        _ => {}
    }
}

/// What the renderings show instead of a credential's value.
pub const MASK: &str = "(sensitive value)";
/// What they show for the new value of a credential that changed: the reader learns that it
/// changed, never what it was or becomes.
pub const MASK_CHANGED: &str = "(sensitive value, changed)";

/// A change as the renderings may show it.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedChange<'c> {
    /// The change with every credential-like value of a tool replaced by [`MASK`] or
    /// [`MASK_CHANGED`]; the change itself, not a copy, when it holds no credential (nearly
    /// every change: rendering a large plan masks each of them).
    pub change: Cow<'c, FieldChange>,
    /// The field itself is a credential (its values are markers, not data), as opposed to a
    /// larger value that merely contains one.
    pub sensitive: bool,
}

/// Masks the credential-like values of a change to an agent's tools, with the rule
/// [`secret_fields`] applies to saved plans. Values are compared before masking: the new side
/// of a credential that differs from the old reads [`MASK_CHANGED`].
pub fn masked(change: &FieldChange) -> MaskedChange<'_> {
    let (sensitive, under_headers) = path_context(&change.path);
    let sensitive = sensitive && (change.before.is_some() || change.after.is_some());
    let holds = |v: &Option<Value>| {
        v.as_ref()
            .is_some_and(|v| holds_credential(v, sensitive, under_headers))
    };
    if !holds(&change.before) && !holds(&change.after) {
        // Nothing to hide: the change as it is (`sensitive` still says what the path is).
        return MaskedChange {
            change: Cow::Borrowed(change),
            sensitive,
        };
    }
    let before = change
        .before
        .as_ref()
        .map(|v| mask(v, None, sensitive, under_headers));
    let after = change
        .after
        .as_ref()
        .map(|v| mask(v, change.before.as_ref(), sensitive, under_headers));
    MaskedChange {
        change: Cow::Owned(FieldChange {
            before,
            after,
            path: change.path.clone(),
            ..*change
        }),
        sensitive,
    }
}

/// Whether the value at a change path is a credential, and whether it is a `headers` object
/// (whose values all are). Only tool paths qualify: `tools[1].headers.Authorization`,
/// `tools[0].config.client_secret`. Keys are split on `.`, so a key holding a dot can only
/// make more of the path sensitive, never less.
fn path_context(path: &str) -> (bool, bool) {
    let Some(rest) = path.strip_prefix("tools[") else {
        return (false, false);
    };
    let mut keys = rest
        .split('.')
        .skip(1)
        .map(|k| k.split('[').next().unwrap_or(k));
    let mut under_headers = false;
    for key in keys.by_ref() {
        if under_headers || is_credential_name(key) {
            return (true, false);
        }
        under_headers = key.eq_ignore_ascii_case("headers");
    }
    (false, under_headers)
}

/// `value` with every credential-like value replaced by a marker; `other` is the value on the
/// other side of the change at the same place (for the new side), to say whether it changed.
fn mask(value: &Value, other: Option<&Value>, sensitive: bool, under_headers: bool) -> Value {
    if sensitive {
        if is_empty(value) {
            return value.clone();
        }
        let changed = other.is_some_and(|o| !is_empty(o) && o != value);
        return Value::String(if changed { MASK_CHANGED } else { MASK }.to_owned());
    }
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| {
                    let child = mask(
                        v,
                        other.and_then(|o| o.get(key)),
                        under_headers || is_credential_name(key),
                        key.eq_ignore_ascii_case("headers"),
                    );
                    (key.clone(), child)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| mask(v, other.and_then(|o| o.get(i)), under_headers, false))
                .collect(),
        ),
        _ => value.clone(),
    }
}

/// Whether [`mask`] would replace anything in `value`: the same walk, without building a copy.
fn holds_credential(value: &Value, sensitive: bool, under_headers: bool) -> bool {
    if sensitive {
        return !is_empty(value);
    }
    match value {
        Value::Object(map) => map.iter().any(|(key, v)| {
            holds_credential(
                v,
                under_headers || is_credential_name(key),
                key.eq_ignore_ascii_case("headers"),
            )
        }),
        Value::Array(items) => items
            .iter()
            .any(|v| holds_credential(v, under_headers, false)),
        _ => false,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// The words that make a key a credential's name, whole or as the last `_` part.
const CREDENTIAL_WORDS: [&str; 6] = [
    "authorization",
    "api_key",
    "apikey",
    "token",
    "secret",
    "password",
];

/// `Authorization`, `api-key`, `x-api-key`, `client_secret`, `access_token`, … but not
/// `project_connection_id` or `token_limit`-like names that merely start with a credential word.
/// Compared ignoring ASCII case and reading `-` as `_`, without building the folded name: every
/// path of every change is checked when a plan is rendered.
pub fn is_credential_name(key: &str) -> bool {
    let folded = |b: u8| {
        if b == b'-' {
            b'_'
        } else {
            b.to_ascii_lowercase()
        }
    };
    let same = |a: &[u8], word: &[u8]| a.iter().map(|&b| folded(b)).eq(word.iter().copied());
    let key = key.as_bytes();
    CREDENTIAL_WORDS.iter().map(|w| w.as_bytes()).any(|word| {
        // `key == word`, or `key` ends with `_word`.
        match key.len().checked_sub(word.len()) {
            Some(0) => same(key, word),
            Some(start) => folded(key[start - 1]) == b'_' && same(&key[start..], word),
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn found(value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        walk("tools[0]", value, false, &mut |p| out.push(p));
        out
    }

    #[test]
    fn header_values_and_credential_names_are_found() {
        let tool = json!({
            "type": "mcp",
            "server_label": "github",
            "server_url": "https://example.test/mcp",
            "headers": {"Authorization": "Bearer abc", "X-Trace": "1"},
            "project_connection_id": "conn-1",
            "config": {"client-secret": "s", "token_limit": 5, "api_key": ""},
        });
        assert_eq!(
            found(&tool),
            [
                "tools[0].config.client-secret",
                "tools[0].headers.Authorization",
                "tools[0].headers.X-Trace",
            ]
        );
    }

    #[test]
    fn a_tool_without_credentials_has_none() {
        let tool =
            json!({"type": "mcp", "server_url": "u", "project_connection_id": "c", "headers": {}});
        assert!(found(&tool).is_empty());
    }

    fn change(path: &str, before: Option<Value>, after: Option<Value>) -> FieldChange {
        FieldChange {
            path: path.to_owned(),
            before,
            after,
            before_unreported: false,
            forces_replacement: false,
        }
    }

    #[test]
    fn a_changed_credential_is_masked_on_both_sides_and_still_reads_changed() {
        let c = change(
            "tools[1].headers.Authorization",
            Some(json!("Bearer old")),
            Some(json!("Bearer new")),
        );
        let m = masked(&c);
        assert!(m.sensitive);
        assert_eq!(m.change.before, Some(json!(MASK)));
        assert_eq!(m.change.after, Some(json!(MASK_CHANGED)));
        let c = change("tools[0].config.api-key", None, Some(json!("k")));
        let added = masked(&c);
        assert_eq!(added.change.after, Some(json!(MASK)));
    }

    #[test]
    fn credentials_inside_a_larger_value_are_masked_and_the_rest_kept() {
        let before = json!({"type": "mcp", "server_url": "u", "headers": {"X-Key": "a"},
            "token": "t", "list": [{"password": "p"}]});
        let after = json!({"type": "mcp", "server_url": "v", "headers": {"X-Key": "b"},
            "token": "t", "list": [{"password": "p"}]});
        let c = change("tools[1]", Some(before), Some(after));
        let m = masked(&c);
        assert!(!m.sensitive);
        assert_eq!(
            m.change.after,
            Some(
                json!({"type": "mcp", "server_url": "v", "headers": {"X-Key": MASK_CHANGED},
                "token": MASK, "list": [{"password": MASK}]})
            )
        );
        assert_eq!(
            m.change.before.as_ref().unwrap()["headers"]["X-Key"],
            json!(MASK)
        );
        let c = change("tools[0].headers", None, Some(json!({"A": "s"})));
        let headers = masked(&c);
        assert_eq!(headers.change.after, Some(json!({"A": MASK})));
    }

    #[test]
    fn credential_names_ignore_case_and_dashes() {
        // The rule as first written: fold the name, then compare whole or after a `_`.
        let by_folding = |key: &str| {
            let key = key.to_ascii_lowercase().replace('-', "_");
            CREDENTIAL_WORDS
                .iter()
                .any(|w| key == *w || key.ends_with(&format!("_{w}")))
        };
        for key in [
            "Authorization",
            "api-key",
            "X-API-KEY",
            "apikey",
            "x_apikey",
            "client_secret",
            "client-Secret",
            "access_token",
            "TOKEN",
            "password",
            "db-password",
            "token_limit",
            "tokens",
            "mytoken",
            "_token",
            "-token",
            "project_connection_id",
            "secretive",
            "",
            "é_token",
            "tökén",
            "x--password",
        ] {
            assert_eq!(is_credential_name(key), by_folding(key), "{key}");
        }
    }

    #[test]
    fn a_change_without_credentials_is_not_copied() {
        let c = change("tools[0].scope", None, Some(json!({"a": [1, {"b": "c"}]})));
        assert!(matches!(masked(&c).change, Cow::Borrowed(_)));
        let secret = change("tools[0]", None, Some(json!({"a": [{"api-key": "k"}]})));
        assert!(matches!(masked(&secret).change, Cow::Owned(_)));
        // An empty credential has nothing to hide, but its path is still a credential's (the
        // plan JSON's `sensitive` field says so).
        let empty = change("tools[1].headers.Authorization", None, Some(json!("")));
        let m = masked(&empty);
        assert!(matches!(m.change, Cow::Borrowed(_)));
        assert!(m.sensitive);
    }

    #[test]
    fn fields_that_are_not_credentials_are_shown_as_they_are() {
        for path in [
            "tools[0].scope",
            "tools[0].token_limit",
            "labels.token",
            "description",
        ] {
            let c = change(path, Some(json!("a")), Some(json!("b")));
            let m = masked(&c);
            assert!(!m.sensitive, "{path}");
            assert_eq!(*m.change, c, "{path}");
        }
    }
}
