use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Env, create_store};

/// POSTs a Responses call as `user` (x-memory-user-id).
async fn respond(env: &Env, path: &str, user: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = env.http.post(format!("{}{path}", env.base)).json(&body);
    if let Some(u) = user {
        req = req.header("x-memory-user-id", u);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

fn answer_text(r: &Value) -> String {
    r["output"][0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn wait_update(env: &Env, store: &str, id: &str) {
    for _ in 0..200 {
        let r = env
            .get(&format!(
                "/memory_stores/{store}/updates/{id}?api-version=v1"
            ))
            .await;
        if r.body["status"] == "completed" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("write-back {id} never completed");
}

/// The seed tutorial, end to end over raw HTTP.
#[tokio::test]
async fn seed_tutorial_recalls_across_calls_and_isolates_users() {
    let env = Env::start().await;
    create_store(&env, "dev-prefs").await;
    let up = env
        .post(
            "/memory_stores/dev-prefs:update_memories?api-version=v1",
            json!({"scope": "user_dana", "update_delay": 0, "items": [
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "I write Rust on Linux and prefer terse answers."}]}
            ]}),
        )
        .await;
    wait_update(&env, "dev-prefs", up.body["update_id"].as_str().unwrap()).await;
    let found = env
        .post(
            "/memory_stores/dev-prefs:search_memories?api-version=v1",
            json!({"scope": "user_dana", "items": [{"type": "message", "role": "user", "content": "What coding language fits this developer?"}], "options": {"max_memories": 5}}),
        )
        .await;
    assert!(
        found.body["memories"][0]["memory_item"]["content"]
            .as_str()
            .unwrap()
            .contains("Rust")
    );
    let agent = env
        .post(
            "/agents/dev-buddy/versions?api-version=v1",
            json!({"definition": {"kind": "prompt", "model": "gpt-4.1-mini", "instructions": "Use memory.",
                "tools": [{"type": "memory_search_preview", "memory_store_name": "dev-prefs", "scope": "{{$userId}}", "update_delay": 0}]}}),
        )
        .await;
    assert_eq!(agent.status, 200, "{}", agent.body);

    let (status, first) = respond(
        &env,
        "/openai/v1/responses",
        Some("user_dana"),
        json!({"agent_reference": {"type": "agent_reference", "name": "dev-buddy"}, "input": "My favourite editor is Helix."}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        first["agent_reference"],
        json!({"type": "agent_reference", "name": "dev-buddy", "version": "1"})
    );
    assert!(first["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(
        first["tools"],
        json!([{"type": "memory_search", "memory_store_name": "dev-prefs", "scope": "{{$userId}}"}])
    );
    let call = &first["output"][1];
    assert_eq!(call["type"], "memory_search_call");
    assert_eq!(call["status"], "in_progress");
    assert_eq!(call["response_id"], first["id"]);
    wait_update(&env, "dev-prefs", call["update_id"].as_str().unwrap()).await;

    let (_, second) = respond(
        &env,
        "/openai/v1/responses",
        Some("user_dana"),
        json!({"agent_reference": {"type": "agent_reference", "name": "dev-buddy", "version": "1"}, "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Which IDE should I open?"}]}
        ]}),
    )
    .await;
    let text = answer_text(&second);
    assert!(text.contains("Your favourite editor is Helix."), "{text}");
    assert!(
        text.contains("dev-buddy") && text.contains("version 1"),
        "{text}"
    );
    assert!(second["output"][1]["memories"][0]["memory_id"].is_string());

    let (_, sam) = respond(
        &env,
        "/openai/v1/responses",
        Some("user_sam"),
        json!({"agent_reference": {"type": "agent_reference", "name": "dev-buddy"}, "input": "Which editor is my favourite? Which language do I write?"}),
    )
    .await;
    assert_eq!(sam["output"][1]["memories"], json!([]));
    assert!(!answer_text(&sam).contains("Helix"));
}

#[tokio::test]
async fn per_request_tools_with_an_agent_are_rejected() {
    let env = Env::start().await;
    env.post(
        "/agents/a/versions?api-version=v1",
        json!({"definition": {"kind": "prompt", "model": "m"}}),
    )
    .await;
    let (status, body) = respond(
        &env,
        "/openai/v1/responses",
        None,
        json!({"agent_reference": {"type": "agent_reference", "name": "a"}, "input": "hi", "tools": [{"type": "web_search"}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_payload");
    assert_eq!(body["error"]["param"], "tools");
    assert_eq!(
        body["error"]["message"],
        "Not allowed when agent is specified."
    );
}

#[tokio::test]
async fn preview_dialect_uses_agent_and_omits_item_references() {
    let env = Env::start().await;
    env.call(
        "POST",
        "/agents/p/versions?api-version=2025-11-15-preview",
        Some(json!({"definition": {"kind": "prompt", "model": "m"}})),
        false,
    )
    .await;
    let (status, r) = respond(
        &env,
        "/openai/responses?api-version=2025-11-15-preview",
        None,
        json!({"agent": {"type": "agent_reference", "name": "p"}, "input": "hello"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        r["agent"],
        json!({"type": "agent_id", "name": "p", "version": "1"})
    );
    assert_eq!(r["user"], Value::Null);
    assert!(r.get("completed_at").is_none());
    assert!(r["output"][0].get("agent_reference").is_none());
    let (status, _) = respond(
        &env,
        "/openai/v1/responses",
        None,
        json!({"agent_reference": {"type": "agent_reference", "name": "missing"}, "input": "hello"}),
    )
    .await;
    assert_eq!(status, 404);
}

/// The top-level keys of a response, sorted.
fn keys(r: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

/// The recorded key sets (live service, 2026): a missing or an extra key fails.
const V1_KEYS: &[&str] = &[
    "agent_reference",
    "background",
    "completed_at",
    "created_at",
    "error",
    "id",
    "incomplete_details",
    "instructions",
    "metadata",
    "model",
    "object",
    "output",
    "parallel_tool_calls",
    "reasoning",
    "service_tier",
    "status",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "truncation",
    "usage",
];
const PREVIEW_KEYS: &[&str] = &[
    "agent",
    "background",
    "conversation",
    "created_at",
    "error",
    "id",
    "incomplete_details",
    "instructions",
    "metadata",
    "model",
    "object",
    "output",
    "parallel_tool_calls",
    "reasoning",
    "service_tier",
    "status",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "truncation",
    "usage",
    "user",
];

fn with(base: &[&'static str], extra: &[&'static str]) -> Vec<&'static str> {
    let mut k: Vec<&str> = base.iter().chain(extra).copied().collect();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn responses_carry_exactly_the_recorded_key_sets_for_both_api_versions() {
    let env = Env::start().await;
    env.post(
        "/agents/a/versions?api-version=v1",
        json!({"definition": {"kind": "prompt", "model": "gpt-4.1-mini"}}),
    )
    .await;
    let reference = json!({"type": "agent_reference", "name": "a"});
    let (status, r) = respond(
        &env,
        "/openai/v1/responses",
        None,
        json!({"agent_reference": reference, "input": "hi"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(keys(&r), with(V1_KEYS, &[]));
    assert_eq!(r["background"], false);
    assert_eq!(r["service_tier"], "default");
    assert_eq!(r["top_logprobs"], 0);
    assert_eq!(r["reasoning"], json!({}));
    assert_eq!(
        r["text"],
        json!({"format": {"type": "text"}, "verbosity": "medium"})
    );

    let conv = env.post("/openai/v1/conversations", json!({})).await;
    let conv = conv.body["id"].as_str().unwrap().to_owned();
    let (_, r) = respond(
        &env,
        "/openai/v1/responses",
        None,
        json!({"agent_reference": reference, "input": "hi", "conversation": conv}),
    )
    .await;
    assert_eq!(keys(&r), with(V1_KEYS, &["conversation"]));

    // The JavaScript SDK's shape: `agent` on v1 (recorded March 2026).
    let (status, r) = respond(
        &env,
        "/openai/v1/responses",
        None,
        json!({"agent": reference, "input": "hi"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(keys(&r), with(V1_KEYS, &["agent"]));
    assert_eq!(
        r["agent"],
        json!({"type": "agent_id", "name": "a", "version": "1"})
    );
    assert_eq!(
        r["agent_reference"],
        json!({"type": "agent_reference", "name": "a", "version": "1"})
    );
    assert_eq!(
        r["output"][0]["created_by"],
        json!({"agent": r["agent"], "response_id": r["id"]})
    );

    let (status, r) = respond(
        &env,
        "/openai/responses?api-version=2025-11-15-preview",
        None,
        json!({"agent": reference, "input": "hi"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(keys(&r), with(PREVIEW_KEYS, &[]));
    assert_eq!(r["conversation"], Value::Null);
    assert!(r["output"][0]["created_by"]["agent"].is_object());
}

/// An agent whose tool scope holds memories of two users.
async fn two_users(env: &Env, max_memories: u64) {
    create_store(env, "prefs").await;
    for (scope, text) in [
        (
            "user_dana",
            "I work mostly in Python and I like short, code-first answers.",
        ),
        ("user_dana", "My cat is called Miso."),
        ("user_sam", "I write Go on macOS."),
    ] {
        env.post(
            "/memory_stores/prefs/items?api-version=v1",
            json!({"scope": scope, "content": format!("The user said: {text}"), "kind": "user_profile"}),
        )
        .await;
    }
    env.post(
        "/agents/buddy/versions?api-version=v1",
        json!({"definition": {"kind": "prompt", "model": "gpt-4.1-mini",
            "tools": [{"type": "memory_search_preview", "memory_store_name": "prefs", "scope": "{{$userId}}", "update_delay": 300,
                "search_options": {"max_memories": max_memories}}]}}),
    )
    .await;
}

async fn ask(env: &Env, user: &str, question: &str) -> Value {
    let (status, r) = respond(
        env,
        "/openai/v1/responses",
        Some(user),
        json!({"agent_reference": {"type": "agent_reference", "name": "buddy"}, "input": question}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    r
}

#[tokio::test]
async fn the_answer_uses_the_nearest_memories_and_never_another_users() {
    let env = Env::start().await;
    two_users(&env, 10).await;
    let r = ask(
        &env,
        "user_dana",
        "What are this developer's coding preferences?",
    )
    .await;
    let text = answer_text(&r);
    assert!(
        text.contains("You work mostly in Python and you like short, code-first answers."),
        "{text}"
    );
    assert!(
        !text.contains("Miso"),
        "an unrelated memory is not told: {text}"
    );
    let r = ask(&env, "user_sam", "Which operating system?").await;
    let text = answer_text(&r);
    assert!(text.contains("You write Go on macOS."), "{text}");
    let recalled = r["output"][1]["memories"].as_array().unwrap();
    assert!(
        recalled.iter().all(|m| m["scope"] == "user_sam"),
        "{recalled:?}"
    );
    let r = ask(&env, "user_kim", "What are my coding preferences?").await;
    assert_eq!(r["output"][1]["memories"], json!([]));
    let text = answer_text(&r);
    assert!(text.contains("I have no memories of you yet"), "{text}");
    assert!(!text.contains("Python") && !text.contains("Go"), "{text}");
}

/// Static profile memories come with every response, beside the per-turn search: with a
/// search limited to one memory, the profile the search left out is still recalled.
#[tokio::test]
async fn profile_memories_are_injected_beside_the_search() {
    let env = Env::start().await;
    two_users(&env, 1).await;
    let r = ask(&env, "user_dana", "Any pets at home?").await;
    let recalled: Vec<&str> = r["output"][1]["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        recalled,
        [
            "The user said: My cat is called Miso.",
            "The user said: I work mostly in Python and I like short, code-first answers."
        ]
    );
    let text = answer_text(&r);
    assert!(text.contains("Your cat is called Miso."), "{text}");
}
