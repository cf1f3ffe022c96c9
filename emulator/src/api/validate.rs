//! Field validation shared by the resources. Limits come from the specs (see the reference
//! documents); every failure names its field in `param`.

use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use crate::ids;

/// Agent names: 1–63 characters, alphanumeric at both ends, hyphens inside.
pub fn agent_name(name: &str) -> ApiResult<()> {
    let bytes = name.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "agent_name",
            format!(
                "Invalid agent name '{name}'. Names must start and end with alphanumeric characters, \
                 can contain hyphens in the middle, and must not exceed 63 characters."
            ),
        ))
    }
}

/// Memory store names: 1–256 characters without `/ ? # :`, whitespace or control characters
/// (the spec gives only the length; these characters would break the URL routes).
pub fn store_name(name: &str) -> ApiResult<()> {
    let bad = name.is_empty()
        || name.chars().count() > 256
        || name.chars().any(|c| {
            matches!(c, '/' | '?' | '#' | ':' | '%') || c.is_whitespace() || c.is_control()
        });
    if bad {
        return Err(ApiError::invalid(
            "name",
            format!(
                "Invalid memory store name '{name}'. Names are 1 to 256 characters without '/', '?', \
                 '#', ':', '%' or whitespace."
            ),
        ));
    }
    Ok(())
}

/// `description`: optional string of at most 512 characters; absent reads as `""`.
pub fn description(body: &Map<String, Value>) -> ApiResult<String> {
    match body.get("description") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) if s.chars().count() <= 512 => Ok(s.clone()),
        Some(Value::String(_)) => Err(ApiError::invalid(
            "description",
            "'description' must be at most 512 characters.",
        )),
        Some(_) => Err(ApiError::invalid(
            "description",
            "'description' must be a string.",
        )),
    }
}

/// `metadata`: optional string map, at most 16 keys, keys ≤ 64 and values ≤ 512 characters;
/// absent reads as `{}`.
pub fn metadata(body: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let map = match body.get("metadata") {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ApiError::invalid(
                "metadata",
                "'metadata' must be an object of strings.",
            ));
        }
    };
    if map.len() > 16 {
        return Err(ApiError::invalid(
            "metadata",
            "'metadata' can hold at most 16 keys.",
        ));
    }
    for (k, v) in map {
        if k.chars().count() > 64 {
            return Err(ApiError::invalid(
                "metadata",
                format!("metadata key '{k}' is longer than 64 characters."),
            ));
        }
        match v {
            Value::String(s) if s.chars().count() <= 512 => {}
            Value::String(_) => {
                return Err(ApiError::invalid(
                    "metadata",
                    format!("metadata value of '{k}' is longer than 512 characters."),
                ));
            }
            _ => {
                return Err(ApiError::invalid(
                    "metadata",
                    format!("metadata value of '{k}' must be a string."),
                ));
            }
        }
    }
    Ok(map.clone())
}

/// A required non-empty string field.
pub fn required_str<'a>(
    obj: &'a Map<String, Value>,
    field: &str,
    param: &str,
) -> ApiResult<&'a str> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(ApiError::invalid(
            param,
            format!("Missing required field '{param}'."),
        )),
        Some(_) => Err(ApiError::invalid(
            param,
            format!("'{param}' must be a string."),
        )),
    }
}

/// An optional string field (`null` counts as absent). `param` names it in the error; the
/// message names the field itself, as the service does.
pub fn optional_str<'a>(
    obj: &'a Map<String, Value>,
    field: &str,
    param: &str,
) -> ApiResult<Option<&'a str>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(
            param,
            format!("'{field}' must be a string."),
        )),
    }
}

/// A required object field (`null` counts as present and wrong, as for every object field).
pub fn required_object<'a>(
    obj: &'a Map<String, Value>,
    field: &str,
) -> ApiResult<&'a Map<String, Value>> {
    match obj.get(field) {
        Some(Value::Object(o)) => Ok(o),
        Some(_) => Err(ApiError::invalid(
            field,
            format!("'{field}' must be an object."),
        )),
        None => Err(ApiError::invalid(
            field,
            format!("Missing required field '{field}'."),
        )),
    }
}

/// An optional number within `lo..=hi`.
pub fn number_in(
    obj: &Map<String, Value>,
    field: &str,
    param: &str,
    lo: f64,
    hi: f64,
) -> ApiResult<()> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(()),
        Some(v) => match v.as_f64() {
            Some(n) if (lo..=hi).contains(&n) => Ok(()),
            _ => Err(ApiError::invalid(
                param,
                format!("'{param}' must be a number between {lo} and {hi}."),
            )),
        },
    }
}

/// The roles a message item may have.
const ROLES: [&str; 4] = ["user", "assistant", "system", "developer"];

/// One input item as a conversation stores it, with a fresh id in `group`. `param` names the
/// item in errors (`items[0]`, `input[1]`).
pub fn conversation_item(item: &Value, group: &str, param: &str) -> ApiResult<Value> {
    let Some(obj) = item.as_object() else {
        return Err(ApiError::invalid(param, "Each item must be an object."));
    };
    // An "easy" input message may omit `type`.
    let kind = match obj.get("type") {
        None | Some(Value::Null) => "message",
        Some(Value::String(t)) => t.as_str(),
        Some(_) => {
            return Err(ApiError::invalid(
                format!("{param}.type"),
                "'type' must be a string.",
            ));
        }
    };
    if kind != "message" {
        // Tool outputs and other items are kept as sent, under an id of the conversation.
        let mut out = obj.clone();
        out.insert("id".to_owned(), json!(ids::grouped_mixed("item_", group)));
        return Ok(Value::Object(out));
    }
    let role = obj
        .get("role")
        .and_then(Value::as_str)
        .filter(|r| ROLES.contains(r))
        .ok_or_else(|| {
            ApiError::invalid(
                format!("{param}.role"),
                format!("'role' must be one of {}.", ROLES.join(", ")),
            )
        })?;
    let part = if role == "assistant" {
        "output_text"
    } else {
        "input_text"
    };
    let content = match obj.get("content") {
        Some(Value::String(text)) => json!([{"type": part, "text": text}]),
        Some(Value::Array(parts)) => Value::Array(parts.clone()),
        _ => {
            return Err(ApiError::invalid(
                format!("{param}.content"),
                "'content' must be a string or an array of content parts.",
            ));
        }
    };
    Ok(json!({
        "type": "message",
        "id": ids::grouped_mixed("msg_", group),
        "status": "completed",
        "role": role,
        "content": content,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn agent_names_follow_the_documented_pattern() {
        for ok in ["a", "MyAgent1", "dev-buddy", &"x".repeat(63)] {
            assert!(agent_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a_b", "a b", &"x".repeat(64)] {
            assert_eq!(
                agent_name(bad).unwrap_err().param.as_deref(),
                Some("agent_name"),
                "{bad}"
            );
        }
    }

    #[test]
    fn store_names_reject_url_breaking_characters() {
        assert!(store_name("my_memory_store-1").is_ok());
        for bad in ["", "a/b", "a:b", "a b", &"x".repeat(257)] {
            assert!(store_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn metadata_limits_are_enforced() {
        let many: Map<String, Value> = (0..17).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(metadata(&obj(json!({"metadata": many}))).is_err());
        assert!(metadata(&obj(json!({"metadata": {"k".repeat(65): "v"}}))).is_err());
        assert!(metadata(&obj(json!({"metadata": {"k": "v".repeat(513)}}))).is_err());
        assert!(metadata(&obj(json!({"metadata": {"k": 1}}))).is_err());
        assert_eq!(metadata(&obj(json!({}))).unwrap(), Map::new());
        assert!(description(&obj(json!({"description": "d".repeat(513)}))).is_err());
    }
    #[test]
    fn a_string_message_becomes_one_text_part_in_the_conversations_group() {
        let id = ids::conversation();
        let g = ids::conversation_group(&id);
        let user =
            conversation_item(&json!({"role": "user", "content": "hi"}), &g, "items[0]").unwrap();
        assert_eq!(
            user["content"],
            json!([{"type": "input_text", "text": "hi"}])
        );
        assert!(
            user["id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("msg_{g}00"))
        );
        let assistant = conversation_item(
            &json!({"type": "message", "role": "assistant", "content": "ok"}),
            &g,
            "items[0]",
        )
        .unwrap();
        assert_eq!(assistant["content"][0]["type"], "output_text");
        let err = conversation_item(&json!({"role": "robot", "content": "x"}), &g, "items[2]")
            .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("items[2].role"));
    }
}
