//! Contract tests: every interaction of `emulator/tests/recordings/*.json`, replayed in order
//! against a fresh emulator per file, must give the recorded status, the recorded JSON shape
//! (keys and value types) and the recorded values, with these exceptions, each narrow and
//! explained where it is defined:
//!
//! - ids are compared through a recorded→emulated map, learned as responses reveal them and
//!   checked every later time (cursors `first_id`/`last_id` included);
//! - times, request ids and token counts are compared by type only ([`UNCOMPARED`]), and so is
//!   a model's answer text ([`ANSWER_TEXT`]);
//! - what the service's models produced (the memories an update extracts) is compared loosely
//!   ([`MODEL_OUTPUT`]); search results are compared in number, not in text ([`SEARCH_RESULTS`]);
//! - an error message's ` [Request ID: …]` suffix is left out of the comparison (it must name
//!   the answer's own request id);
//! - `api-supported-versions` of entries recorded before v1 existed ([`before_v1`]);
//! - one update is replayed with `update_delay: 1` for `0`, so its recorded `queued` phase
//!   exists ([`request_body`]); update polls wait for the recorded phase but never accept a
//!   later one.
//!
//! Array lengths are compared everywhere else, so list pages and `has_more` must match. The
//! `operation-location` header must name the emulator's endpoint, the recorded path (ids mapped)
//! and the recorded api-version. The replay runs twice: with a generous processing time and
//! with the one the shipped commands use.
//!
//! The recordings come from shared projects that already held resources; the few resources a
//! file relies on without creating them are set up first (`setup`), each with the reason.
//! Known, documented differences of shape are listed in `ALLOWED_EXTRA`.

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
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/recordings")
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

fn item(store: &str, scope: &str, kind: &str, content: &str) -> Step {
    (
        "POST",
        format!("/memory_stores/{store}/items?api-version=v1"),
        Some(json!({"scope": scope, "content": content, "kind": kind})),
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
            // The page says `has_more`: the project held a later agent too.
            steps.push(agent(
                "a-later-agent",
                json!({"definition": {"kind": "prompt", "model": "gpt-4.1"}}),
            ));
            steps
        }
        // MyAgent1 with the two versions agent_versions.json[5] and [6] made.
        ("agents.json", 6) => vec![
            agent(
                "MyAgent1",
                json!({"definition": {"kind": "prompt", "model": "sanitized-model-deployment-name", "instructions": "First set of instructions here"}}),
            ),
            agent(
                "MyAgent1",
                json!({"definition": {"kind": "prompt", "model": "sanitized-gpt-memory", "instructions": "Second set of instructions here"}}),
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
        // The three memories the recorded update wrote (memory_updates.json[6]), made as items
        // so the search has as many to find as the service's had.
        ("memory_search.json", 0) => vec![
            store("test_memory_store_update_1"),
            item(
                "test_memory_store_update_1",
                "test_user_001",
                "user_profile",
                "The user prefers dark roast coffee.",
            ),
            item(
                "test_memory_store_update_1",
                "test_user_001",
                "user_profile",
                "The user usually drinks coffee in the morning.",
            ),
            item(
                "test_memory_store_update_1",
                "test_user_001",
                "chat_summary",
                "The user stated a preference for dark roast coffee and said the user usually drinks coffee in the morning.",
            ),
            store("test-memory-store"),
            store("my_memory_store"),
        ],
        ("memory_search.json", 3) => vec![remember(
            "test-memory-store",
            "user_123",
            "My favorite animal is Plagiarus praepotens.",
        )],
        // The Python sample updated a store made by another run, with the definition it echoes.
        ("memory_stores.json", 10) => vec![(
            "POST",
            "/memory_stores?api-version=v1".to_owned(),
            Some(
                json!({"name": "my_memory_store", "definition": entries[10]["response_body"]["definition"]}),
            ),
        )],
        ("memory_stores.json", 11) => vec![(
            "DELETE",
            "/memory_stores/my_memory_store?api-version=v1".to_owned(),
            None,
        )],
        // The JavaScript test's project held nine earlier versions of its agent (it answers "10").
        ("responses_js.json", 0) => (1..10)
            .map(|n| {
                agent(
                    "my-agent-basic",
                    json!({"definition": {"kind": "prompt", "model": "gpt-5.2", "instructions": format!("Earlier version {n}")}}),
                )
            })
            .collect(),
        // …and version 1 of the memory agent (it answers "2").
        ("responses_js.json", 9) => vec![agent(
            "MemorySearchAgent",
            json!({"definition": {"kind": "prompt", "model": "gpt-5.2"}}),
        )],
        ("memory_updates.json", 0) => vec![
            store("test_memory_store_update_1"),
            store("test-memory-store"),
            store("my_memory_store"),
        ],
        // [10] is another recorded run of the .NET test of [7]: every run makes its store anew,
        // so the facts [7] wrote are not there to be consolidated with.
        ("memory_updates.json", 10) => vec![
            (
                "DELETE",
                "/memory_stores/test-memory-store?api-version=v1".to_owned(),
                None,
            ),
            store("test-memory-store"),
        ],
        _ => Vec::new(),
    }
}

/// Keys whose values differ by nature; their shape is still compared.
const UNCOMPARED: &[(&str, &str)] = &[
    ("created_at", "a time"),
    ("updated_at", "a time"),
    ("completed_at", "a time"),
    (
        "request_id",
        "minted per failed request (checked against X-Request-ID instead)",
    ),
    ("usage", "token counts of the service's models"),
];

/// Keys holding ids: their values are compared through the recorded→emulated id map, and
/// learned into it when first seen.
const ID_KEYS: &[&str] = &[
    "id",
    "response_id",
    "memory_id",
    "update_id",
    "search_id",
    "first_id",
    "last_id",
    "superseded_by",
];

/// Arrays filled by the service's models (memory extraction): the deterministic stand-ins extract
/// other memories (one profile memory per turn where the service may make several), so neither
/// their number, order, texts nor ids match the recording. Emptiness is compared, and every
/// emulated element must match one recorded element in shape and in the values of
/// [`MODEL_COMPARED`] (operation `kind` "created"; the upper-case item `kind`; `scope`).
const MODEL_OUTPUT: &[&str] = &["memory_operations"];

/// Inside [`MODEL_OUTPUT`] (and inside search results, whose *number* is compared but whose
/// memories are the stand-in's): the keys whose values are still compared.
const MODEL_COMPARED: &[&str] = &["kind", "scope", "object"];

/// Search results: their number is compared (the setup gives the emulated scope the memories the
/// recorded one held), their order, texts and ids are not (see [`MODEL_OUTPUT`]).
const SEARCH_RESULTS: &str = "memories";

/// The key of a model's answer text (`output[].content[].text`, a string; the `text` options
/// object is compared as usual): the stand-in answers other words, so only the type counts.
const ANSWER_TEXT: &str = "text";

/// The ` [Request ID: <32 hex>]` suffix the service appends to some error messages (May 2026).
fn split_request_id(message: &str) -> (&str, Option<&str>) {
    match message.rsplit_once(" [Request ID: ") {
        Some((text, rest)) if rest.ends_with(']') => (text, Some(&rest[..rest.len() - 1])),
        _ => (message, None),
    }
}

/// Compares a recorded and an emulated body: shape everywhere, values where they are
/// deterministic, ids through the map.
struct Compare<'a> {
    ids: &'a mut HashMap<String, String>,
    out: Vec<String>,
}

impl Compare<'_> {
    /// `model`: inside model output or search results, where only [`MODEL_COMPARED`] values
    /// count and ids are neither compared nor learned.
    fn diff(&mut self, recorded: &Value, ours: &Value, at: &str, key: &str, model: bool) {
        match (recorded, ours) {
            (Value::Object(r), Value::Object(o)) => {
                // Cursors last, so the ids of the page's elements are known when they are checked.
                let mut keys: Vec<&String> = r.keys().collect();
                keys.sort_by_key(|k| matches!(k.as_str(), "first_id" | "last_id"));
                for k in keys {
                    let rv = &r[k];
                    let here = format!("{at}.{k}");
                    let Some(ov) = o.get(k) else {
                        self.out.push(format!("{here}: missing"));
                        continue;
                    };
                    if UNCOMPARED.iter().any(|(u, _)| u == k) {
                        shape_diff(rv, ov, &here, &mut self.out);
                    } else {
                        let model =
                            model || MODEL_OUTPUT.contains(&k.as_str()) || k == SEARCH_RESULTS;
                        self.diff(rv, ov, &here, k, model);
                    }
                }
                for k in o.keys() {
                    if !r.contains_key(k) && !ALLOWED_EXTRA.contains(&k.as_str()) {
                        self.out.push(format!("{at}.{k}: not in the recording"));
                    }
                }
            }
            (Value::Array(r), Value::Array(o)) => {
                let counted = !MODEL_OUTPUT.contains(&key);
                if (counted && r.len() != o.len()) || r.is_empty() != o.is_empty() {
                    self.out.push(format!(
                        "{at}: recorded {} elements, emulated {}",
                        r.len(),
                        o.len()
                    ));
                }
                if model {
                    // The stand-ins find other memories in another order: each emulated one must
                    // match some recorded one (shape, kind, scope).
                    for (i, ov) in o.iter().enumerate() {
                        let mut best: Option<Vec<String>> = None;
                        for rv in r {
                            let mut inner = Compare {
                                ids: &mut *self.ids,
                                out: Vec::new(),
                            };
                            inner.diff(rv, ov, &format!("{at}[{i}]"), key, true);
                            if best.as_ref().is_none_or(|b| inner.out.len() < b.len()) {
                                best = Some(inner.out);
                            }
                        }
                        self.out.extend(best.unwrap_or_default());
                    }
                } else {
                    for (i, (rv, ov)) in r.iter().zip(o).enumerate() {
                        self.diff(rv, ov, &format!("{at}[{i}]"), key, model);
                    }
                }
            }
            (Value::String(r), Value::String(o)) if ID_KEYS.contains(&key) => {
                if !model {
                    self.id(r, o, at);
                }
            }
            (Value::String(_), Value::String(_)) if key == ANSWER_TEXT => {}
            (Value::String(r), Value::String(o)) if key == "message" => {
                let (r, _) = split_request_id(r);
                let (o, _) = split_request_id(o);
                if r != o {
                    self.out
                        .push(format!("{at}: recorded {r:?}, emulated {o:?}"));
                }
            }
            (r, o) if type_name(r) != type_name(o) => {
                self.out.push(format!(
                    "{at}: recorded {}, emulated {}",
                    type_name(r),
                    type_name(o)
                ));
            }
            (r, o) => {
                if (!model || MODEL_COMPARED.contains(&key)) && r != o {
                    self.out.push(format!("{at}: recorded {r}, emulated {o}"));
                }
            }
        }
    }

    /// A recorded id must map to the emulated one: learned the first time, checked afterwards,
    /// and never two recorded ids for one emulated id. An empty id (an empty page's cursors)
    /// must be empty on both sides.
    fn id(&mut self, recorded: &str, ours: &str, at: &str) {
        if recorded.is_empty() || ours.is_empty() {
            if recorded != ours {
                self.out
                    .push(format!("{at}: recorded {recorded:?}, emulated {ours:?}"));
            }
            return;
        }
        match self.ids.get(recorded) {
            Some(mapped) if mapped != ours => self.out.push(format!(
                "{at}: recorded {recorded} (emulated as {mapped}), emulated {ours}"
            )),
            Some(_) => {}
            None => {
                if let Some((other, _)) = self.ids.iter().find(|(_, o)| *o == ours) {
                    self.out.push(format!(
                        "{at}: emulated {ours} stands for recorded {other}, not {recorded}"
                    ));
                } else {
                    self.ids.insert(recorded.to_owned(), ours.to_owned());
                }
            }
        }
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

/// Differences of shape only (keys and value types), for [`UNCOMPARED`] subtrees.
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

/// The order of update statuses; a poll may wait for a later one, never go back.
fn rank(status: &Value) -> u8 {
    match status.as_str() {
        Some("queued") => 0,
        Some("in_progress") => 1,
        _ => 2,
    }
}

/// The recorded ids of updates that a later poll saw still `queued`.
fn polled_queued(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["method"] == "GET" && e["response_body"]["status"] == "queued")
        .filter_map(|e| e["response_body"]["update_id"].as_str().map(str::to_owned))
        .collect()
}

/// The request body to send for entry `e`. One documented change: the service took 1–3 s to
/// pick up an update sent with `update_delay: 0` (polls saw it `queued` for that long), while
/// the emulator starts it as soon as its delay has passed. Where the recording polled such an
/// update while it was still `queued`, the replay sends `update_delay: 1`, so the queued phase
/// exists for the poll to see; every later poll then waits for its recorded status.
fn request_body(e: &Value, queued: &[String]) -> Option<Value> {
    let mut body = e.get("request_body").filter(|b| !b.is_null())?.clone();
    let path = e["path"].as_str().unwrap_or_default();
    if path.contains(":update_memories")
        && body["update_delay"] == 0
        && e["response_body"]["update_id"]
            .as_str()
            .is_some_and(|id| queued.iter().any(|q| q == id))
    {
        body["update_delay"] = json!(1);
    }
    Some(body)
}

fn header<'a>(recorded: &'a Value, name: &str) -> Option<&'a str> {
    recorded
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))?
        .1
        .as_str()
}

/// The entry was recorded before v1 reached its region (it existed from 1 Feb 2026; a
/// recording of 3 Feb 2026 still lacks it): the service then listed only the preview versions
/// in `api-supported-versions`, which the emulator (answering as the service does now) does not
/// reproduce.
fn before_v1(e: &Value) -> bool {
    header(&e["response_headers"], "date")
        .is_some_and(|d| d.contains(" Dec 2025 ") || d.contains(" Jan 2026 "))
        || header(&e["response_headers"], "api-supported-versions")
            .is_some_and(|v| !v.split(',').any(|v| v == "1.0"))
}

/// Header checks: `Content-Type` and `api-supported-versions` by value, `X-Request-ID` equal to
/// the body's request id, and `operation-location` by path and api-version.
fn header_diff(
    e: &Value,
    env_base: &str,
    path: &str,
    headers: &reqwest::header::HeaderMap,
    ours: &Value,
    ids: &HashMap<String, String>,
    out: &mut Vec<String>,
) {
    let recorded = &e["response_headers"];
    let ours_h = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    for h in ["content-type", "api-supported-versions"] {
        let Some(r) = header(recorded, h) else {
            continue;
        };
        if h == "api-supported-versions" && before_v1(e) {
            continue;
        }
        if ours_h(h) != Some(r) {
            out.push(format!(
                "header {h}: recorded {r:?}, emulated {:?}",
                ours_h(h)
            ));
        }
    }
    if header(recorded, "x-request-id").is_some() {
        let body_id = ours["error"]["additionalInfo"]["request_id"].as_str();
        match ours_h("x-request-id") {
            None => out.push("header x-request-id missing".to_owned()),
            Some(id) if Some(id) != body_id => out.push(format!(
                "header x-request-id {id} is not the body's request_id {body_id:?}"
            )),
            Some(id) => {
                let message = ours["error"]["message"].as_str().unwrap_or_default();
                if let (_, Some(suffix)) = split_request_id(message)
                    && suffix != id
                {
                    out.push(format!("message names request id {suffix}, header {id}"));
                }
            }
        }
    }
    if let Some(r) = header(recorded, "operation-location") {
        let Some(o) = ours_h("operation-location") else {
            out.push("header operation-location missing".to_owned());
            return;
        };
        // The recorded value, with its host and project replaced by the emulator's endpoint and
        // its ids mapped; the JS recorder replaced the whole value by a bare host, so there the
        // value is built from the request path and the api-version every other 202 names.
        let expected = match r.split_once("/api/projects/") {
            Some((_, rest)) => {
                let rest = rest.split_once('/').map_or("", |(_, p)| p);
                format!("{env_base}/{}", map_ids(rest, ids))
            }
            None => {
                let store = path.split(['/', ':']).nth(2).unwrap_or_default();
                format!(
                    "{env_base}/memory_stores/{store}/updates/{}?api-version=2025-11-15-preview",
                    ours["update_id"].as_str().unwrap_or_default()
                )
            }
        };
        if o != expected {
            out.push(format!(
                "header operation-location: expected {expected}, emulated {o}"
            ));
        }
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

async fn replay(file: &str, processing: Duration) -> Vec<String> {
    let path = recordings_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let entries: Vec<Value> = serde_json::from_str(&text).unwrap();
    // Updates stay in progress for `processing`, so recorded in_progress polls are observable.
    let env = Env::with(Config {
        update_processing: processing,
        ..Config::default()
    })
    .await;
    let queued = polled_queued(&entries);
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
        let request = request_body(e, &queued);
        let body = request.as_ref().map(|b| map_ids(&b.to_string(), &ids));
        let recorded = &e["response_body"];
        let mut reply = send(&env, method, &path, &headers, body.clone()).await;
        // An update poll: the service's phases last seconds, the emulator's milliseconds. Poll
        // again (bounded) while the emulated update is in an earlier phase than the recorded
        // one; a later phase is a mismatch, reported below.
        if method == "GET" && path.contains("/updates/") && recorded["status"].is_string() {
            for _ in 0..250 {
                if rank(&reply.2["status"]) >= rank(&recorded["status"]) {
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
        let mut cmp = Compare {
            ids: &mut ids,
            out: Vec::new(),
        };
        cmp.diff(recorded, &ours, "$", "", false);
        let mut diffs = cmp.out;
        if let Some(max) = request
            .as_ref()
            .and_then(|b| b["options"]["max_memories"].as_u64())
            && ours[SEARCH_RESULTS]
                .as_array()
                .is_some_and(|m| m.len() as u64 > max)
        {
            diffs.push(format!("more memories than max_memories {max}"));
        }
        header_diff(e, &env.base, &path, &resp_headers, &ours, &ids, &mut diffs);
        if !diffs.is_empty() {
            failures.push(format!("{label}: {}", diffs.join("; ")));
        }
    }
    failures
}

/// Replays every recording against a fresh emulator per file, with updates staying
/// `in_progress` for `processing`.
async fn replay_all(processing: Duration) {
    let dir = recordings_dir();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "recordings directory {} is missing ({e}); FOUNDRY_RECORDINGS_DIR overrides it",
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
        failures.extend(replay(f, processing).await);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// With a processing time long enough that a busy machine still sees every recorded
/// `in_progress` poll (four in a row in memory_updates.json) before the update completes.
#[tokio::test]
async fn every_recorded_interaction_replays_with_the_same_status_shape_and_values() {
    replay_all(Duration::from_secs(1)).await;
}

/// The same replay with the processing time `foundryctl emulator` and `--endpoint local` ship.
#[tokio::test]
async fn the_replay_holds_with_the_shipped_processing_time() {
    replay_all(foundry_emulator::DEFAULT_UPDATE_PROCESSING).await;
}
