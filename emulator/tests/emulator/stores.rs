use serde_json::json;

use crate::common::{Env, create_store, ids};

#[tokio::test]
async fn store_create_echoes_defaults_and_rejects_duplicates() {
    let env = Env::start().await;
    let r = env
        .post(
            "/memory_stores?api-version=v1",
            json!({"name": "s1", "definition": {"chat_model": "c", "embedding_model": "e"}}),
        )
        .await;
    assert_eq!(r.status, 200);
    let b = &r.body;
    assert_eq!(b["object"], "memory_store");
    assert!(b["id"].as_str().unwrap().starts_with("memstore_"));
    assert_eq!(b["description"], "");
    assert_eq!(b["metadata"], json!({}));
    assert_eq!(b["definition"]["kind"], "default");
    assert_eq!(
        b["definition"]["options"],
        json!({"user_profile_enabled": true, "chat_summary_enabled": true, "default_ttl_seconds": 0})
    );
    assert!(b["created_at"].is_i64());
    assert_eq!(
        r.headers["api-supported-versions"],
        "1.0,2025-05-15-preview,2025-11-15-preview"
    );
    assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");
    let dup = env
        .post(
            "/memory_stores?api-version=v1",
            json!({"name": "s1", "definition": {"chat_model": "c", "embedding_model": "e"}}),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        dup.body["error"]["additionalInfo"]["request_id"]
            .as_str()
            .unwrap(),
        dup.headers["x-request-id"].to_str().unwrap()
    );
}

#[tokio::test]
async fn v1_memory_routes_require_the_feature_header_but_preview_does_not() {
    let env = Env::start().await;
    let r = env
        .call("GET", "/memory_stores?api-version=v1", None, false)
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"]["code"], "preview_feature_required");
    let r = env
        .call(
            "GET",
            "/memory_stores?api-version=2025-11-15-preview",
            None,
            false,
        )
        .await;
    assert_eq!(r.status, 200);
    // The current list, whichever version was asked for (recorded on preview polls, Feb 2026).
    assert_eq!(
        r.headers["api-supported-versions"],
        "1.0,2025-05-15-preview,2025-11-15-preview"
    );
}

#[tokio::test]
async fn missing_api_version_is_400_and_unknown_is_404() {
    let env = Env::start().await;
    let r = env.get("/memory_stores").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["param"], "api-version");
    let r = env.get("/agents?api-version=2099-01-01").await;
    assert_eq!(r.status, 404);
}

/// The body is read before the api-version is checked (as when handlers checked it by hand),
/// so an oversized body without an api-version is refused for its size, and a small one
/// reaches the api-version rule.
#[tokio::test]
async fn an_oversized_body_is_refused_before_the_api_version_is_checked() {
    let env = Env::start().await;
    let send = |body: String| {
        env.http
            .post(format!("{}/memory_stores", env.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let big = send(format!("\"{}\"", "x".repeat(3 * 1024 * 1024)))
        .await
        .unwrap();
    assert_eq!(big.status().as_u16(), 413);
    let small = send("{}".to_owned()).await.unwrap();
    assert_eq!(small.status().as_u16(), 400);
}

#[tokio::test]
async fn store_validation_names_the_field() {
    let env = Env::start().await;
    for (body, param) in [
        (
            json!({"definition": {"chat_model": "c", "embedding_model": "e"}}),
            "name",
        ),
        (
            json!({"name": "a:b", "definition": {"chat_model": "c", "embedding_model": "e"}}),
            "name",
        ),
        (json!({"name": "ok"}), "definition"),
        (
            json!({"name": "ok", "definition": {"embedding_model": "e"}}),
            "definition.chat_model",
        ),
        (
            json!({"name": "ok", "description": "x".repeat(513), "definition": {"chat_model": "c", "embedding_model": "e"}}),
            "description",
        ),
    ] {
        let r = env.post("/memory_stores?api-version=v1", body).await;
        assert_eq!(r.status, 400, "{param}");
        assert_eq!(r.body["error"]["type"], "invalid_request_error");
        assert_eq!(r.body["error"]["param"], param);
    }
}

#[tokio::test]
async fn store_update_changes_description_and_metadata_only() {
    let env = Env::start().await;
    create_store(&env, "s").await;
    let r = env
        .post(
            "/memory_stores/s?api-version=v1",
            json!({"description": "d", "metadata": {"k": "v"}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["description"], "d");
    assert_eq!(r.body["metadata"], json!({"k": "v"}));
    let r = env
        .post(
            "/memory_stores/s?api-version=v1",
            json!({"definition": {"chat_model": "x"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        env.get("/memory_stores/s?api-version=v1").await.body["description"],
        "d"
    );
}

#[tokio::test]
async fn store_delete_then_404_in_recorded_shape() {
    let env = Env::start().await;
    create_store(&env, "s").await;
    let r = env.delete("/memory_stores/s?api-version=v1").await;
    assert_eq!(
        r.body,
        json!({"object": "memory_store.deleted", "name": "s", "deleted": true})
    );
    let r = env.delete("/memory_stores/s?api-version=v1").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"]["code"], "not_found");
    assert_eq!(r.body["error"]["type"], "error");
    // The May 2026 wording: the message ends with the answer's own request id.
    let request_id = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(r.body["error"]["additionalInfo"]["request_id"], request_id);
    assert_eq!(
        r.body["error"]["message"],
        format!("MemoryStore 's' not found [Request ID: {request_id}]")
    );
    let r = env.get("/memory_stores?api-version=v1").await;
    assert_eq!(
        r.body,
        json!({"data": [], "first_id": "", "last_id": "", "has_more": false, "object": "list"})
    );
}

#[tokio::test]
async fn store_list_cursors_follow_recorded_semantics() {
    let env = Env::start().await;
    let mut s = Vec::new();
    for i in 0..4 {
        s.push(create_store(&env, &format!("s{i}")).await);
    }
    let list = |q: String| {
        let env = &env;
        async move {
            env.get(&format!("/memory_stores?api-version=v1&{q}"))
                .await
                .body
        }
    };
    let b = list(format!("order=asc&after={}&before={}", s[0], s[3])).await;
    assert_eq!(ids(&b, "id"), vec![s[1].clone(), s[2].clone()]);
    assert_eq!(b["has_more"], false);
    let b = list(format!("order=desc&before={}", s[0])).await;
    assert_eq!(
        ids(&b, "id"),
        vec![s[3].clone(), s[2].clone(), s[1].clone()]
    );
    let b = list(format!("order=desc&after={}&before={}", s[3], s[0])).await;
    assert_eq!(ids(&b, "id"), vec![s[2].clone(), s[1].clone()]);
    let b = list("order=asc&limit=2".to_owned()).await;
    assert_eq!(ids(&b, "id"), vec![s[0].clone(), s[1].clone()]);
    assert_eq!(b["has_more"], true);
    assert_eq!(b["last_id"], s[1].as_str());
    let b = list(format!("order=asc&limit=2&after={}", s[1])).await;
    assert_eq!(b["has_more"], false);
    let b = list(format!("order=asc&limit=2&after={}", s[3])).await;
    assert_eq!(b["data"], json!([]));
    assert_eq!(b["first_id"], "");
    let b = list("limit=0".to_owned()).await;
    assert_eq!(b["error"]["param"], "limit");
}

#[tokio::test]
async fn stats_count_requests_by_method_and_route() {
    let env = Env::start().await;
    create_store(&env, "s").await;
    env.get("/memory_stores/s?api-version=v1").await;
    env.get("/memory_stores/s?api-version=v1").await;
    let stats = env.emulator.stats();
    assert_eq!(stats.total, 3);
    assert_eq!(stats.by_method["GET"], 2);
    assert_eq!(stats.by_route["GET /memory_stores/{name}"], 2);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_envelope() {
    let env = Env::start().await;
    for path in [
        "/nowhere?api-version=v1",
        "/memory_stores/s/nothing?api-version=v1",
    ] {
        let r = env.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.body["error"]["code"], "not_found", "{path}");
        assert_eq!(
            r.body["error"]["additionalInfo"]["request_id"],
            r.headers["x-request-id"].to_str().unwrap()
        );
    }
    // Outside the project prefix too.
    let outside = env
        .http
        .get(format!("http://{}/elsewhere", env.emulator.local_addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 404);
    let body: serde_json::Value = outside.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let r = env
        .call(
            "PUT",
            "/memory_stores?api-version=v1",
            Some(json!({})),
            true,
        )
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body["error"]["code"], "method_not_allowed");
    assert_eq!(r.body["error"]["type"], "invalid_request_error");
    let allow = r.headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
}
