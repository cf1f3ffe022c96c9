use serde_json::{Value, json};

use crate::common::{Env, ids};

fn prompt(instructions: &str) -> Value {
    json!({"definition": {"kind": "prompt", "model": "gpt-4.1", "instructions": instructions}})
}

#[tokio::test]
async fn first_version_creates_the_agent_with_recorded_shape() {
    let env = Env::start().await;
    let r = env
        .post("/agents/a1/versions?api-version=v1", prompt("x"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["object"], "agent.version");
    assert_eq!(r.body["id"], "a1:1");
    assert_eq!(r.body["version"], "1");
    assert_eq!(r.body["metadata"], json!({}));
    assert_eq!(r.body["description"], "");
    let g = env.get("/agents/a1?api-version=v1").await;
    assert_eq!(g.body["object"], "agent");
    assert_eq!(g.body["id"], "a1");
    assert_eq!(g.body["versions"]["latest"], r.body);
}

#[tokio::test]
async fn identical_definition_returns_latest_and_a_change_makes_a_new_version() {
    let env = Env::start().await;
    let v1 = env
        .post("/agents/a/versions?api-version=v1", prompt("x"))
        .await
        .body;
    let again = env
        .post("/agents/a/versions?api-version=v1", prompt("x"))
        .await
        .body;
    assert_eq!(again, v1);
    let v2 = env
        .post("/agents/a/versions?api-version=v1", prompt("y"))
        .await
        .body;
    assert_eq!(v2["version"], "2");
    let mut with_desc = prompt("y");
    with_desc["description"] = json!("now described");
    let v3 = env
        .post("/agents/a/versions?api-version=v1", with_desc)
        .await
        .body;
    assert_eq!(v3["version"], "3");
}

/// Issue 15: the service does not promise to merge identical versions, so the emulator can
/// stop doing it; every request then makes a new version.
#[tokio::test]
async fn with_version_dedup_off_an_identical_definition_makes_a_new_version() {
    let env = Env::with(foundry_emulator::Config {
        version_dedup: foundry_emulator::VersionDedup::Off,
        ..foundry_emulator::Config::default()
    })
    .await;
    for expected in ["1", "2", "3"] {
        let r = env
            .post("/agents/a/versions?api-version=v1", prompt("x"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["version"], expected);
        assert_eq!(r.body["id"], format!("a:{expected}"));
    }
    let versions = env.get("/agents/a/versions?api-version=v1").await;
    assert_eq!(ids(&versions.body, "version"), ["3", "2", "1"]);
}

#[tokio::test]
async fn version_numbers_are_never_reused_after_delete() {
    let env = Env::start().await;
    env.post("/agents/a/versions?api-version=v1", prompt("x"))
        .await;
    env.post("/agents/a/versions?api-version=v1", prompt("y"))
        .await;
    let d = env.delete("/agents/a/versions/2?api-version=v1").await;
    assert_eq!(
        d.body,
        json!({"object": "agent.version.deleted", "name": "a", "version": "2", "deleted": true})
    );
    let g = env.get("/agents/a/versions/2?api-version=v1").await;
    assert_eq!(g.status, 404);
    assert_eq!(
        g.body["error"]["message"],
        "Agent a with version 2 not found"
    );
    assert_eq!(
        env.get("/agents/a?api-version=v1").await.body["versions"]["latest"]["version"],
        "1"
    );
    let v = env
        .post("/agents/a/versions?api-version=v1", prompt("z"))
        .await
        .body;
    assert_eq!(v["version"], "3");
}

#[tokio::test]
async fn delete_agent_removes_every_version_and_404s_after() {
    let env = Env::start().await;
    env.post("/agents/a/versions?api-version=v1", prompt("x"))
        .await;
    let d = env.delete("/agents/a?api-version=v1").await;
    assert_eq!(
        d.body,
        json!({"object": "agent.deleted", "name": "a", "deleted": true})
    );
    let d = env.delete("/agents/a?api-version=v1").await;
    assert_eq!(d.status, 404);
    assert_eq!(d.body["error"]["message"], "Agent not found");
    let g = env.get("/agents/a?api-version=v1").await;
    assert_eq!(g.body["error"]["message"], "Agent a doesn't exist");
}

#[tokio::test]
async fn agent_lists_page_by_name_cursor_and_versions_default_newest_first() {
    let env = Env::start().await;
    for n in ["a", "b", "c"] {
        env.post(&format!("/agents/{n}/versions?api-version=v1"), prompt(n))
            .await;
    }
    env.post("/agents/a/versions?api-version=v1", prompt("a2"))
        .await;
    let p = env
        .get("/agents?api-version=v1&order=asc&limit=2")
        .await
        .body;
    assert_eq!(ids(&p, "name"), vec!["a", "b"]);
    assert_eq!(p["has_more"], true);
    assert_eq!(p["data"][0]["versions"]["latest"]["version"], "2");
    let p = env
        .get("/agents?api-version=v1&order=asc&limit=2&after=b")
        .await
        .body;
    assert_eq!(ids(&p, "name"), vec!["c"]);
    let p = env
        .get("/agents?api-version=v1&order=asc&after=b&before=c")
        .await
        .body;
    assert_eq!(p, json!({"data": [], "has_more": false, "object": "list"}));
    let v = env.get("/agents/a/versions?api-version=v1").await.body;
    assert_eq!(ids(&v, "id"), vec!["a:2", "a:1"]);
    assert_eq!(v["first_id"], "a:2");
    let v = env
        .get("/agents/a/versions?api-version=v1&after=a%3A1")
        .await
        .body;
    assert_eq!(v, json!({"data": [], "has_more": false, "object": "list"}));
}

#[tokio::test]
async fn agent_validation_rejects_bad_fields_with_param() {
    let env = Env::start().await;
    let cases = [
        ("bad_name", prompt("x"), "agent_name"),
        (
            "a",
            json!({"definition": {"kind": "prompt"}}),
            "definition.model",
        ),
        (
            "a",
            json!({"definition": {"kind": "prompt", "model": "m", "temperature": 2.5}}),
            "definition.temperature",
        ),
        (
            "a",
            json!({"definition": {"kind": "prompt", "model": "m", "top_p": -0.1}}),
            "definition.top_p",
        ),
        (
            "a",
            json!({"definition": {"kind": "prompt", "model": "m"}, "description": "d".repeat(513)}),
            "description",
        ),
        (
            "a",
            json!({"definition": {"kind": "prompt", "model": "m"}, "metadata": {"k": "v".repeat(513)}}),
            "metadata",
        ),
        (
            "a",
            json!({"definition": {"kind": "prompt", "model": "m", "tools": [{"type": "memory_search", "memory_store_name": "s", "scope": "u"}]}}),
            "definition.tools[0].type",
        ),
    ];
    for (name, body, param) in cases {
        let r = env
            .post(&format!("/agents/{name}/versions?api-version=v1"), body)
            .await;
        assert_eq!(r.status, 400, "{param}: {}", r.body);
        assert_eq!(r.body["error"]["param"], param);
    }
    let r = env
        .post(
            "/agents/a/versions?api-version=2025-11-15-preview",
            json!({"definition": {"kind": "prompt", "model": "m", "tools": [{"type": "memory_search_preview", "memory_store_name": "s", "scope": "u"}]}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = env
        .post(
            "/agents/a/versions?api-version=2025-11-15-preview",
            json!({"definition": {"kind": "prompt", "model": "m", "tools": [{"type": "memory_search", "memory_store_name": "s", "scope": "u", "update_delay": 1}]}}),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn workflow_definition_without_opt_in_is_403_preview_feature_required() {
    let env = Env::start().await;
    let r = env
        .call(
            "POST",
            "/agents/w/versions?api-version=v1",
            Some(json!({"definition": {"kind": "workflow", "workflow": "kind: workflow"}})),
            false,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"]["code"], "preview_feature_required");
    assert!(r.body["error"].get("param").is_none());
}
