//! Finding credentials a saved plan would write down.
//!
//! A saved plan (`plan -o FILE`) holds each action's full request, after `${VAR}`
//! interpolation, so that `apply FILE` needs nothing but the file. Typed specs hold no secrets,
//! but a pass-through tool (`mcp`, `openapi`, …) can: an `mcp` tool's `headers` commonly carry
//! `Authorization` or `api-key`, interpolated from the environment. DESIGN says "no secrets in
//! plan files", so `plan -o` refuses such a plan rather than write it (the command layer turns
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

use serde_json::Value;

use super::types::{Op, Plan};
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

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// `Authorization`, `api-key`, `x-api-key`, `client_secret`, `access_token`, … but not
/// `project_connection_id` or `token_limit`-like names that merely start with a credential word.
fn is_credential_name(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    const WORDS: [&str; 6] = [
        "authorization",
        "api_key",
        "apikey",
        "token",
        "secret",
        "password",
    ];
    WORDS
        .iter()
        .any(|w| key == *w || key.ends_with(&format!("_{w}")))
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
}
