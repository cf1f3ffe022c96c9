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
            json!({"scope": "user_dana", "items": [{"type": "message", "role": "user", "content": "Which language do I write?"}], "options": {"max_memories": 5}}),
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
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Which editor is my favourite?"}]}
        ]}),
    )
    .await;
    let text = answer_text(&second);
    assert!(text.contains("Helix"), "{text}");
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
