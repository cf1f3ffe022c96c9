//! Contract tests: every interaction of `shared/reference/recordings/*.json`, replayed in order
//! against a fresh emulator per file, must give the recorded status and the recorded JSON shape
//! (keys and value types; ids, times and other values excepted). Recorded ids are mapped to
//! the emulator's as responses reveal them.
//!
//! The recordings come from shared projects that already held resources; the few resources a
//! file relies on without creating them are set up first (`setup`), each with the reason.
//! Arrays are compared by emptiness and by the shape of the elements both sides have, since the
//! deterministic stand-in models extract and find a different number of memories than the
//! service's models. Known, documented differences are listed in `ALLOWED_EXTRA`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use foundry_emulator::Config;
use serde_json::{Value, json};

use crate::common::Env;

/// Keys the emulator may send that a recording lacks: `default_ttl_seconds` is echoed since May
/// 2026, and the earlier v1 recordings predate it.
const ALLOWED_EXTRA: &[&str] = &["default_ttl_seconds"];

fn recordings_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("FOUNDRY_RECORDINGS_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/recordings")
}

/// One step of setup: `(method, path, body)`, always with the v1 feature header.
type Step = (&'static str, String, Option<Value>);

fn store(name: &str) -> Step {
    (
        "POST",
        "/memory_stores?api-version=v1".to_owned(),
        Some(
            json!({"name": name, "definition": {"kind": "default", "chat_model": "gpt-4.1-mini", "embedding_model": "text-embedding-3-large"}}),
        ),
    )
}

fn remember(store: &str, scope: &str, text: &str) -> Step {
    (
        "POST",
        format!("/memory_stores/{store}:update_memories?api-version=v1"),
        Some(
            json!({"scope": scope, "update_delay": 0, "items": [{"type": "message", "role": "user", "content": text}]}),
        ),
    )
}

fn agent(name: &str, body: Value) -> Step {
    (
        "POST",
        format!("/agents/{name}/versions?api-version=v1"),
        Some(body),
    )
}

/// Resources the recorded projects held before entry `index` of `file`.
fn setup(file: &str, index: usize, entries: &[Value]) -> Vec<Step> {
    match (file, index) {
        // The .NET test created this agent in agent_versions.json between the DELETE and GET.
        ("agents.json", 1) => vec![agent(
            "TestNoVersionAgentFromDotnetTests",
            json!({"metadata": {"delete_me": "please "}, "definition": {"kind": "prompt", "model": "gpt-4.1"}}),
        )],
        // A shared project: code-int-agent, then the listed agents, in creation order.
        ("agents.json", 3) => {
            let mut steps = vec![agent(
                "code-int-agent",
                json!({"definition": {"kind": "prompt", "model": "gpt-4.1"}}),
            )];
            for a in entries[3]["response_body"]["data"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let latest = &a["versions"]["latest"];
                steps.push(agent(
                    a["name"].as_str().unwrap(),
                    json!({"definition": latest["definition"], "description": latest["description"], "metadata": latest["metadata"]}),
                ));
            }
            steps
        }
        // MyAgent1 with two versions, made in agent_versions.json.
        ("agents.json", 6) => vec![
            agent(
                "MyAgent1",
                json!({"definition": {"kind": "prompt", "model": "m", "instructions": "First"}}),
            ),
            agent(
                "MyAgent1",
                json!({"definition": {"kind": "prompt", "model": "m", "instructions": "Second"}}),
            ),
        ],
        ("memory_items.json", 0) => vec![store("test-memory-store")],
        // The pagination test starts from a scope holding items #3, #2, #1, #0 (made in order).
        ("memory_items.json", 8) => {
            let mut steps = vec![(
                "POST",
                "/memory_stores/test-memory-store:delete_scope?api-version=v1".to_owned(),
                Some(json!({"scope": "user_123"})),
            )];
            for i in (0..4).rev() {
                steps.push((
                    "POST",
                    "/memory_stores/test-memory-store/items?api-version=v1".to_owned(),
                    Some(json!({"scope": "user_123", "content": format!("Memory Item #{i}"), "kind": "chat_summary"})),
                ));
            }
            steps
        }
        ("memory_search.json", 0) => vec![
            store("test_memory_store_update_1"),
            remember(
                "test_memory_store_update_1",
                "test_user_001",
                "I prefer dark roast coffee and usually drink it in the morning",
            ),
            store("test-memory-store"),
            store("my_memory_store"),
        ],
        ("memory_search.json", 3) => vec![remember(
            "test-memory-store",
            "user_123",
            "My favorite animal is Plagiarus praepotens.",
        )],
        // The Python sample updated a store it creates later in the same file (another run).
        ("memory_stores.json", 10) => vec![store("my_memory_store")],
        ("memory_stores.json", 11) => vec![(
            "DELETE",
            "/memory_stores/my_memory_store?api-version=v1".to_owned(),
            None,
        )],
        ("memory_updates.json", 0) => vec![
            store("test_memory_store_update_1"),
            store("test-memory-store"),
            store("my_memory_store"),
        ],
        _ => Vec::new(),
    }
}

/// Records recorded→emulated ids found at the same places of two bodies.
fn learn_ids(recorded: &Value, ours: &Value, map: &mut HashMap<String, String>) {
    match (recorded, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (k, rv) in r {
                let Some(ov) = o.get(k) else { continue };
                if let (Value::String(rs), Value::String(os)) = (rv, ov)
                    && [
                        "id",
                        "memory_id",
                        "update_id",
                        "search_id",
                        "first_id",
                        "last_id",
                        "superseded_by",
                    ]
                    .contains(&k.as_str())
                    && !rs.is_empty()
                {
                    map.insert(rs.clone(), os.clone());
                } else {
                    learn_ids(rv, ov, map);
                }
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            for (rv, ov) in r.iter().zip(o) {
                learn_ids(rv, ov, map);
            }
        }
        _ => {}
    }
}

/// Replaces every known recorded id in a string (path or body text), plain and URL-encoded.
fn map_ids(text: &str, map: &HashMap<String, String>) -> String {
    let mut out = text.to_owned();
    for (r, o) in map {
        out = out.replace(r, o);
        out = out.replace(&r.replace(':', "%3A"), &o.replace(':', "%3A"));
    }
    out
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences of shape between a recorded and an emulated body.
fn shape_diff(recorded: &Value, ours: &Value, at: &str, out: &mut Vec<String>) {
    match (recorded, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (k, rv) in r {
                match o.get(k) {
                    Some(ov) => shape_diff(rv, ov, &format!("{at}.{k}"), out),
                    None => out.push(format!("{at}.{k}: missing")),
                }
            }
            for k in o.keys() {
                if !r.contains_key(k) && !ALLOWED_EXTRA.contains(&k.as_str()) {
                    out.push(format!("{at}.{k}: not in the recording"));
                }
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            if r.is_empty() != o.is_empty() {
                out.push(format!(
                    "{at}: recorded {} elements, emulated {}",
                    r.len(),
                    o.len()
                ));
            }
            for (i, (rv, ov)) in r.iter().zip(o).enumerate() {
                shape_diff(rv, ov, &format!("{at}[{i}]"), out);
            }
        }
        (r, o) if type_name(r) != type_name(o) => {
            out.push(format!(
                "{at}: recorded {}, emulated {}",
                type_name(r),
                type_name(o)
            ));
        }
        _ => {}
    }
}

async fn send(
    env: &Env,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<String>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = env.http.request(method, format!("{}{path}", env.base));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn replay(file: &str) -> Vec<String> {
    let path = recordings_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let entries: Vec<Value> = serde_json::from_str(&text).unwrap();
    // Updates stay in progress briefly, so recorded queued/in_progress polls are observable.
    let env = Env::with(Config {
        update_processing: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let mut ids = HashMap::new();
    let mut failures = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        for (method, path, body) in setup(file, i, &entries) {
            let (status, _, b) = send(
                &env,
                method,
                &path,
                &[("Foundry-Features".into(), "MemoryStores=V1Preview".into())],
                body.map(|b| b.to_string()),
            )
            .await;
            assert!(status < 300, "{file} setup {method} {path}: {status} {b}");
            if let Some(id) = b["update_id"].as_str() {
                let poll = format!(
                    "/memory_stores/{}/updates/{id}?api-version=2025-11-15-preview",
                    path.split(['/', ':']).nth(2).unwrap()
                );
                for _ in 0..100 {
                    if send(&env, "GET", &poll, &[], None).await.2["status"] == "completed" {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        let method = e["method"].as_str().unwrap();
        let path = map_ids(e["path"].as_str().unwrap(), &ids);
        let headers: Vec<(String, String)> = e["request_headers"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.eq_ignore_ascii_case("foundry-features"))
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let body = e
            .get("request_body")
            .filter(|b| !b.is_null())
            .map(|b| map_ids(&b.to_string(), &ids));
        let recorded = &e["response_body"];
        let mut reply = send(&env, method, &path, &headers, body.clone()).await;
        // A recorded terminal poll: poll again (bounded) until the emulated update is terminal too.
        if method == "GET"
            && matches!(
                recorded["status"].as_str(),
                Some("completed" | "superseded")
            )
        {
            for _ in 0..100 {
                if reply.2["status"] == recorded["status"] {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                reply = send(&env, method, &path, &headers, None).await;
            }
        }
        let (status, resp_headers, ours) = reply;
        let label = format!("{file}[{i}] {method} {path}");
        if status != e["status"].as_u64().unwrap() as u16 {
            failures.push(format!(
                "{label}: status {status}, recorded {} ({ours})",
                e["status"]
            ));
            continue;
        }
        let mut diffs = Vec::new();
        shape_diff(recorded, &ours, "$", &mut diffs);
        for h in [
            "operation-location",
            "x-request-id",
            "api-supported-versions",
        ] {
            let recorded_has = e["response_headers"]
                .as_object()
                .is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case(h)));
            if recorded_has && !resp_headers.contains_key(h) {
                diffs.push(format!("header {h} missing"));
            }
        }
        if !diffs.is_empty() {
            failures.push(format!("{label}: {}", diffs.join("; ")));
        }
        learn_ids(recorded, &ours, &mut ids);
    }
    failures
}

#[tokio::test]
async fn every_recorded_interaction_replays_with_the_same_status_and_shape() {
    let dir = recordings_dir();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "recordings directory {} is missing ({e}); set FOUNDRY_RECORDINGS_DIR",
                dir.display()
            )
        })
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "expected the recorded files in {}, found {files:?}",
        dir.display()
    );
    let mut failures = Vec::new();
    for f in &files {
        failures.extend(replay(f).await);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
