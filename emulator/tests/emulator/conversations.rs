use serde_json::{Value, json};

use crate::common::{Env, ids};

const V1: &str = "/openai/v1/conversations";

fn group(id: &str) -> &str {
    let (_, rest) = id.split_once('_').unwrap();
    &rest[..16]
}

#[tokio::test]
async fn conversations_are_created_read_updated_and_deleted_in_the_recorded_shapes() {
    let env = Env::start().await;
    let made = env.post(V1, json!({})).await;
    assert_eq!(made.status, 200, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("conv_") && id.len() == 55, "{id}");
    assert_eq!(&id[21..23], "00");
    assert_eq!(made.body["object"], "conversation");
    assert!(made.body["created_at"].is_i64());
    assert_eq!(made.body["metadata"], json!({}));
    let keys: Vec<&str> = made
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{keys:?}");

    let got = env.get(&format!("{V1}/{id}")).await;
    assert_eq!(got.body, made.body);

    let updated = env
        .post(&format!("{V1}/{id}"), json!({"metadata": {"key": "value"}}))
        .await;
    assert_eq!(updated.body["metadata"], json!({"key": "value"}));
    assert_eq!(
        env.get(&format!("{V1}/{id}")).await.body["metadata"],
        json!({"key": "value"})
    );

    let deleted = env.delete(&format!("{V1}/{id}")).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.body,
        json!({"object": "conversation.deleted", "deleted": true, "id": id})
    );
    for (method, path) in [
        ("GET", format!("{V1}/{id}")),
        ("DELETE", format!("{V1}/{id}")),
        ("GET", format!("{V1}/{id}/items")),
    ] {
        let r = env.call(method, &path, None, false).await;
        assert_eq!(r.status, 404, "{method} {path}");
        assert_eq!(r.body["error"]["code"], "not_found");
        assert_eq!(r.body["error"]["type"], "error");
        assert_eq!(
            r.body["error"]["message"],
            format!("Conversation with id '{id}' not found.")
        );
        assert!(r.headers.contains_key("x-request-id"));
    }
}

#[tokio::test]
async fn items_are_stored_in_order_with_the_conversations_group() {
    let env = Env::start().await;
    let made = env
        .post(
            V1,
            json!({"items": [{"type": "message", "role": "user", "content": "first message"}]}),
        )
        .await;
    let id = made.body["id"].as_str().unwrap().to_owned();
    let added = env
        .post(
            &format!("{V1}/{id}/items"),
            json!({"items": [
                {"content": "third message", "type": "message", "role": "system"},
                {"content": [{"text": "fourth message", "type": "input_text"}], "type": "message", "role": "user"}
            ]}),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.body["object"], "list");
    assert_eq!(added.body["has_more"], false);
    let new = ids(&added.body, "id");
    assert_eq!(added.body["first_id"], new[0].as_str());
    assert_eq!(added.body["last_id"], new[1].as_str());
    assert_eq!(
        added.body["data"][0],
        json!({"type": "message", "id": new[0], "status": "completed", "role": "system",
               "content": [{"type": "input_text", "text": "third message"}]})
    );
    for item in &new {
        assert!(item.starts_with(&format!("msg_{}00", group(&id))), "{item}");
    }

    let list = env.get(&format!("{V1}/{id}/items")).await;
    let texts: Vec<&str> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first message", "third message", "fourth message"]);
    let newest = env
        .get(&format!("{V1}/{id}/items?order=desc&limit=1"))
        .await;
    assert_eq!(ids(&newest.body, "id"), [new[1].clone()]);
    assert_eq!(newest.body["has_more"], true);

    let one = env.get(&format!("{V1}/{id}/items/{}", new[0])).await;
    assert_eq!(one.body["role"], "system");
    let after_delete = env.delete(&format!("{V1}/{id}/items/{}", new[0])).await;
    assert_eq!(after_delete.body["object"], "conversation");
    assert_eq!(after_delete.body["id"], id.as_str());
    let gone = env.get(&format!("{V1}/{id}/items/{}", new[0])).await;
    assert_eq!(gone.status, 404);

    let too_many: Vec<Value> = (0..21)
        .map(|i| json!({"role": "user", "content": format!("m{i}")}))
        .collect();
    let r = env
        .post(&format!("{V1}/{id}/items"), json!({"items": too_many}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["param"], "items");
    let r = env
        .post(
            &format!("{V1}/{id}/items"),
            json!({"items": [{"role": "robot", "content": "x"}]}),
        )
        .await;
    assert_eq!(r.body["error"]["param"], "items[0].role");
}

#[tokio::test]
async fn the_preview_route_form_needs_the_preview_api_version() {
    let env = Env::start().await;
    let made = env
        .call(
            "POST",
            "/openai/conversations?api-version=2025-11-15-preview",
            Some(json!({})),
            false,
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let id = made.body["id"].as_str().unwrap();
    let got = env
        .call(
            "GET",
            &format!("/openai/conversations/{id}?api-version=2025-11-15-preview"),
            None,
            false,
        )
        .await;
    assert_eq!(got.body["id"], id);
    let v1 = env
        .call(
            "POST",
            "/openai/conversations?api-version=v1",
            Some(json!({})),
            false,
        )
        .await;
    assert_eq!(v1.status, 404);
    let none = env
        .call("POST", "/openai/conversations", Some(json!({})), false)
        .await;
    assert_eq!(none.status, 400);
}

/// POSTs a v1 Responses call with an agent.
async fn respond(env: &Env, body: Value) -> (u16, Value) {
    let r = env
        .call("POST", "/openai/v1/responses", Some(body), false)
        .await;
    (r.status, r.body)
}

#[tokio::test]
async fn responses_in_a_conversation_keep_its_history() {
    let env = Env::start().await;
    env.post(
        "/agents/chat/versions?api-version=v1",
        json!({"definition": {"kind": "prompt", "model": "gpt-4.1-mini", "instructions": "Chat."}}),
    )
    .await;
    let agent = json!({"type": "agent_reference", "name": "chat"});

    let (status, body) = respond(
        &env,
        json!({"agent_reference": agent, "input": "hi", "conversation": "conv_doesnotexist"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(
        body["error"]["message"],
        "Conversation with id 'conv_doesnotexist' not found."
    );

    // The recorded flow: the user turn goes into the conversation first, the call omits input.
    let conv = env
        .post(
            V1,
            json!({"items": [{"type": "message", "role": "user", "content": "My favourite editor is Helix."}]}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, first) = respond(
        &env,
        json!({"agent_reference": agent, "conversation": conv}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["conversation"], json!({"id": conv}));
    let g = group(&conv);
    assert!(
        first["id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("resp_{g}00"))
    );
    let msg = first["output"][0]["id"].as_str().unwrap();
    assert!(msg.starts_with(&format!("msg_{g}00")), "{msg}");
    let text = first["output"][0]["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        text,
        "Agent chat (version 1) (emulated) received your message."
    );

    let (_, second) = respond(
        &env,
        json!({"agent_reference": agent, "conversation": {"id": conv}, "input": "Which editor do I like?"}),
    )
    .await;
    let text = second["output"][0]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.ends_with("Earlier in this conversation you said: My favourite editor is Helix."),
        "{text}"
    );

    // Without the conversation, nothing of it is seen.
    let (_, alone) = respond(
        &env,
        json!({"agent_reference": agent, "input": "Which editor?"}),
    )
    .await;
    let text = alone["output"][0]["content"][0]["text"].as_str().unwrap();
    assert!(!text.contains("Helix"), "{text}");

    let items = env.get(&format!("{V1}/{conv}/items")).await;
    let roles: Vec<&str> = items.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(items.body["data"][1]["response_id"], first["id"]);
    assert_eq!(items.body["data"][1]["agent_reference"]["version"], "1");
}
