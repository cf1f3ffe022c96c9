use std::time::Duration;

use foundry_emulator::Config;
use serde_json::{Value, json};

use crate::common::{Env, create_store, ids};

fn turn(text: &str) -> Value {
    json!([{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}])
}

/// Polls an update until it reaches a terminal status (bounded).
async fn poll(env: &Env, store: &str, id: &str) -> (Vec<String>, Value) {
    let mut seen = Vec::new();
    for _ in 0..200 {
        let r = env
            .get(&format!(
                "/memory_stores/{store}/updates/{id}?api-version=v1"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let status = r.body["status"].as_str().unwrap().to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if ["completed", "superseded", "failed"].contains(&status.as_str()) {
            return (seen, r.body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("update {id} never finished: {seen:?}");
}

#[tokio::test]
async fn update_goes_queued_in_progress_completed_and_writes_memories() {
    let env = Env::with(Config {
        update_processing: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    create_store(&env, "s").await;
    let r = env
        .post(
            "/memory_stores/s:update_memories?api-version=v1",
            json!({"scope": "u", "items": turn("I prefer dark roast coffee"), "update_delay": 0}),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.body["status"], "queued");
    let id = r.body["update_id"].as_str().unwrap().to_owned();
    let location = r.headers["operation-location"].to_str().unwrap();
    assert!(location.starts_with(&env.base));
    assert!(location.ends_with(&format!(
        "/memory_stores/s/updates/{id}?api-version=2025-11-15-preview"
    )));
    let (seen, last) = poll(&env, "s", &id).await;
    assert_eq!(seen.last().unwrap(), "completed");
    assert!(seen.contains(&"in_progress".to_owned()), "{seen:?}");
    let ops = last["result"]["memory_operations"].as_array().unwrap();
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[0]["kind"], "created");
    assert_eq!(ops[0]["memory_item"]["kind"], "USER_PROFILE");
    assert_eq!(ops[1]["memory_item"]["kind"], "CHAT_SUMMARY");
    assert!(last["result"]["usage"]["total_tokens"].is_u64());
    let listed = env
        .post(
            "/memory_stores/s/items:list?api-version=v1",
            json!({"scope": "u"}),
        )
        .await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
}

/// Told a fact it holds already (spacing aside), the store updates that memory instead of
/// storing it twice; a new fact is still created.
#[tokio::test]
async fn a_fact_told_again_is_updated_in_place_not_stored_twice() {
    let env = Env::with(Config {
        update_processing: Duration::ZERO,
        ..Config::default()
    })
    .await;
    create_store(&env, "s").await;
    let mut results = Vec::new();
    for text in [
        "I drink green tea.",
        "I  drink green tea. ",
        "I drink black coffee.",
    ] {
        let r = env
            .post(
                "/memory_stores/s:update_memories?api-version=v1",
                json!({"scope": "u", "items": turn(text), "update_delay": 0}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        let id = r.body["update_id"].as_str().unwrap().to_owned();
        let (_, last) = poll(&env, "s", &id).await;
        results.push(last["result"]["memory_operations"].clone());
    }
    let profile = |ops: &Value| -> (String, String) {
        let op = ops
            .as_array()
            .unwrap()
            .iter()
            .find(|op| op["memory_item"]["kind"] == "USER_PROFILE")
            .expect("a profile operation");
        (
            op["kind"].as_str().unwrap().to_owned(),
            op["memory_item"]["memory_id"].as_str().unwrap().to_owned(),
        )
    };
    let (first, second, third) = (
        profile(&results[0]),
        profile(&results[1]),
        profile(&results[2]),
    );
    assert_eq!(first.0, "created");
    assert_eq!(second, ("updated".to_owned(), first.1.clone()));
    assert_eq!(third.0, "created");
    assert_ne!(third.1, first.1);
    let listed = env
        .post(
            "/memory_stores/s/items:list?api-version=v1",
            json!({"scope": "u"}),
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let contents: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["content"].as_str().unwrap())
        .collect();
    // Two facts, each a profile memory and a turn summary (six memories if stored twice).
    assert_eq!(contents.len(), 4, "{contents:?}");
}

#[tokio::test]
async fn a_newer_update_supersedes_a_queued_one_and_keeps_its_messages() {
    let env = Env::start().await;
    create_store(&env, "s").await;
    let a = env
        .post(
            "/memory_stores/s:update_memories?api-version=v1",
            json!({"scope": "u", "items": turn("I live in Oslo"), "update_delay": 300}),
        )
        .await
        .body["update_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a_status = env
        .get(&format!("/memory_stores/s/updates/{a}?api-version=v1"))
        .await;
    assert_eq!(a_status.body["status"], "queued");
    let b = env
        .post(
            "/memory_stores/s:update_memories?api-version=v1",
            json!({"scope": "u", "items": turn("I ride a bike"), "update_delay": 0, "previous_update_id": a}),
        )
        .await
        .body["update_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, a_last) = poll(&env, "s", &a).await;
    assert_eq!(
        a_last,
        json!({"update_id": a, "status": "superseded", "superseded_by": b})
    );
    let (_, b_last) = poll(&env, "s", &b).await;
    let contents: Vec<&str> = b_last["result"]["memory_operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["memory_item"]["content"].as_str().unwrap())
        .collect();
    assert!(contents.iter().any(|c| c.contains("Oslo")), "{contents:?}");
    assert!(contents.iter().any(|c| c.contains("bike")), "{contents:?}");
}

#[tokio::test]
async fn search_ranks_nearest_first_honours_max_and_scope_only_gives_profile() {
    let env = Env::start().await;
    create_store(&env, "s").await;
    for text in [
        "I prefer dark roast coffee",
        "My dog is called Rex",
        "I drink coffee every morning with my dog",
    ] {
        env.post(
            "/memory_stores/s:update_memories?api-version=v1",
            json!({"scope": "u", "items": turn(text), "update_delay": 0}),
        )
        .await;
    }
    let search = |body: Value| {
        let env = &env;
        async move {
            let r = env
                .post("/memory_stores/s:search_memories?api-version=v1", body)
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body
        }
    };
    let contents = |r: &Value| -> Vec<String> {
        r["memories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["memory_item"]["content"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = search(json!({"scope": "u", "items": turn("coffee in the morning?"), "options": {"max_memories": 1}})).await;
    assert_eq!(r["error"], Value::Null);
    assert_eq!(r["search_id"].as_str().unwrap().len(), 32);
    let mems = contents(&r);
    assert_eq!(mems.len(), 1);
    assert!(mems[0].contains("every morning"), "{mems:?}");
    // Like a vector store: every memory of the scope is a neighbour (3 profile memories and 3
    // summaries here), nearest first, so the one about the dog alone comes after the coffee.
    let r = search(
        json!({"scope": "u", "items": turn("coffee"), "previous_search_id": r["search_id"]}),
    )
    .await;
    let mems = contents(&r);
    assert_eq!(mems.len(), 6, "{mems:?}");
    let rex = mems
        .iter()
        .position(|m| m == "The user said: My dog is called Rex.");
    let roast = mems
        .iter()
        .position(|m| m == "The user said: I prefer dark roast coffee.");
    assert!(rex.unwrap() > roast.unwrap(), "{mems:?}");
    let r = search(json!({"scope": "u"})).await;
    let mems = r["memories"].as_array().unwrap();
    assert_eq!(mems.len(), 3);
    assert!(
        mems.iter()
            .all(|m| m["memory_item"]["kind"] == "user_profile")
    );
    let r = search(json!({"scope": "other", "items": turn("coffee")})).await;
    assert_eq!(r["memories"], json!([]));
}

/// The issue-11 report: a question sharing no word with what was taught found nothing. Now the
/// nearest memory comes first, and a scope with memories never answers empty.
#[tokio::test]
async fn a_question_sharing_no_word_with_the_memory_still_finds_it_first() {
    let env = Env::start().await;
    create_store(&env, "s").await;
    for (scope, text) in [
        (
            "user_dana",
            "I work mostly in Python and I like short, code-first answers.",
        ),
        ("user_dana", "My cat sleeps on the sofa."),
        ("user_sam", "I write Go on macOS."),
    ] {
        env.post(
            "/memory_stores/s/items?api-version=v1",
            json!({"scope": scope, "content": format!("The user said: {text}"), "kind": "user_profile"}),
        )
        .await;
    }
    let r = env
        .post(
            "/memory_stores/s:search_memories?api-version=v1",
            json!({"scope": "user_dana", "items": turn("What are this developer's coding preferences?")}),
        )
        .await;
    let mems = r.body["memories"].as_array().unwrap();
    assert_eq!(mems.len(), 2, "{}", r.body);
    assert!(
        mems[0]["memory_item"]["content"]
            .as_str()
            .unwrap()
            .contains("Python"),
        "{}",
        r.body
    );
    assert!(
        mems.iter()
            .all(|m| m["memory_item"]["scope"] == "user_dana"),
        "another scope's memory leaked: {}",
        r.body
    );
    let r = env
        .post(
            "/memory_stores/s:search_memories?api-version=v1",
            json!({"scope": "user_kim", "items": turn("What are this developer's coding preferences?")}),
        )
        .await;
    assert_eq!(
        r.body["memories"],
        json!([]),
        "an empty scope answers empty"
    );
}

#[tokio::test]
async fn delete_scope_reports_whether_anything_was_there() {
    let env = Env::start().await;
    create_store(&env, "s").await;
    env.post(
        "/memory_stores/s/items?api-version=v1",
        json!({"scope": "u", "content": "x", "kind": "user_profile"}),
    )
    .await;
    let r = env
        .post(
            "/memory_stores/s:delete_scope?api-version=v1",
            json!({"scope": "u"}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"object": "memory_store.scope.deleted", "name": "s", "scope": "u", "deleted": true})
    );
    let r = env
        .post(
            "/memory_stores/s:delete_scope?api-version=v1",
            json!({"scope": "u"}),
        )
        .await;
    assert_eq!(r.body["deleted"], false);
    let r = env
        .post(
            "/memory_stores/nope:delete_scope?api-version=v1",
            json!({"scope": "u"}),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn items_crud_and_list_cursors_match_recordings() {
    let env = Env::start().await;
    create_store(&env, "s").await;
    let mut made = Vec::new();
    for i in (0..4).rev() {
        let r = env
            .post(
                "/memory_stores/s/items?api-version=v1",
                json!({"scope": "user_123", "content": format!("Memory Item #{i}"), "kind": "chat_summary"}),
            )
            .await;
        assert_eq!(r.status, 200);
        assert!(
            r.body["memory_id"]
                .as_str()
                .unwrap()
                .starts_with("dXNlcl8xMjM_")
        );
        made.push(r.body["memory_id"].as_str().unwrap().to_owned());
    }
    let list = |q: &str| {
        let env = &env;
        let q = q.to_owned();
        async move {
            env.post(
                &format!("/memory_stores/s/items:list?api-version=v1{q}"),
                json!({"scope": "user_123"}),
            )
            .await
            .body
        }
    };
    let b = list("&limit=3&order=asc").await;
    assert_eq!(ids(&b, "memory_id"), made[..3].to_vec());
    assert_eq!(b["has_more"], true);
    let b = list(&format!("&limit=3&order=asc&after={}", made[2])).await;
    assert_eq!(ids(&b, "memory_id"), vec![made[3].clone()]);
    let b = list(&format!(
        "&limit=3&order=asc&after={}&before={}",
        made[0], made[3]
    ))
    .await;
    assert_eq!(ids(&b, "memory_id"), made[1..3].to_vec());
    let b = list(&format!("&limit=3&order=desc&before={}", made[0])).await;
    assert_eq!(
        ids(&b, "memory_id"),
        vec![made[3].clone(), made[2].clone(), made[1].clone()]
    );
    let b = list("").await;
    assert_eq!(ids(&b, "memory_id")[0], made[3]);
    // `kind` in the query narrows the list (the CLI also filters, but other clients rely on it).
    let r = env
        .post(
            "/memory_stores/s/items?api-version=v1",
            json!({"scope": "user_123", "content": "Prefers Rust", "kind": "user_profile"}),
        )
        .await;
    let profile = r.body["memory_id"].as_str().unwrap().to_owned();
    let b = list("&kind=user_profile").await;
    assert_eq!(ids(&b, "memory_id"), vec![profile.clone()]);
    assert_eq!(
        list("&kind=chat_summary").await["data"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let r = env
        .post(
            "/memory_stores/s/items:list?api-version=v1&kind=facts",
            json!({"scope": "user_123"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["param"], "kind");
    let id = &made[0];
    let r = env
        .post(
            &format!("/memory_stores/s/items/{id}?api-version=v1"),
            json!({"content": "changed"}),
        )
        .await;
    assert_eq!(r.body["content"], "changed");
    assert_eq!(r.body["kind"], "chat_summary");
    let r = env
        .delete(&format!("/memory_stores/s/items/{id}?api-version=v1"))
        .await;
    assert_eq!(
        r.body,
        json!({"object": "memory_store.item.deleted", "memory_id": id, "deleted": true})
    );
    assert_eq!(
        env.get(&format!("/memory_stores/s/items/{id}?api-version=v1"))
            .await
            .status,
        404
    );
    let r = env
        .call(
            "POST",
            "/memory_stores/s/items:list?api-version=2025-11-15-preview",
            Some(json!({"scope": "u"})),
            false,
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn item_update_changes_content_only() {
    let env = Env::start().await;
    create_store(&env, "s").await;
    let r = env
        .post(
            "/memory_stores/s/items?api-version=v1",
            json!({"scope": "u", "content": "Likes tea", "kind": "user_profile"}),
        )
        .await;
    let path = format!(
        "/memory_stores/s/items/{}?api-version=v1",
        r.body["memory_id"].as_str().unwrap()
    );
    let r = env
        .post(
            &path,
            json!({"content": "Likes coffee", "kind": "chat_summary"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["param"], "kind");
    let r = env.get(&path).await;
    assert_eq!(
        (&r.body["content"], &r.body["kind"]),
        (&json!("Likes tea"), &json!("user_profile")),
        "a refused update changes nothing"
    );
    // The item's own kind sent back (a client echoing the whole item) is not a change.
    let r = env
        .post(
            &path,
            json!({"content": "Likes coffee", "kind": "user_profile"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["content"], "Likes coffee");
}

#[tokio::test]
async fn delete_scope_ends_pending_updates_superseded_and_pollable() {
    // Long enough that the in-progress update cannot complete during the test.
    let env = Env::with(Config {
        update_processing: Duration::from_secs(30),
        ..Config::default()
    })
    .await;
    create_store(&env, "s").await;
    let mut started = Vec::new();
    for (scope, delay) in [("queued", 300), ("running", 0)] {
        let r = env
            .post(
                "/memory_stores/s:update_memories?api-version=v1",
                json!({"scope": scope, "items": turn("I prefer dark roast coffee"), "update_delay": delay}),
            )
            .await;
        started.push((scope, r.body["update_id"].as_str().unwrap().to_owned()));
    }
    let (_, running) = &started[1];
    let r = env
        .get(&format!(
            "/memory_stores/s/updates/{running}?api-version=v1"
        ))
        .await;
    assert_eq!(r.body["status"], "in_progress");
    for (scope, id) in &started {
        let r = env
            .post(
                "/memory_stores/s:delete_scope?api-version=v1",
                json!({"scope": scope}),
            )
            .await;
        assert_eq!(r.status, 200);
        let (seen, last) = poll(&env, "s", id).await;
        assert_eq!(seen, vec!["superseded"], "{scope}");
        assert_eq!(
            last,
            json!({"update_id": id, "status": "superseded"}),
            "{scope}: no superseded_by, no result"
        );
    }
    // A new update of the emptied scope does not claim the cancelled one (superseded_by stays
    // absent), since only queued updates are folded into a newer one.
    env.post(
        "/memory_stores/s:update_memories?api-version=v1",
        json!({"scope": "queued", "items": turn("I live in Oslo"), "update_delay": 300}),
    )
    .await;
    let (_, first) = &started[0];
    let r = env
        .get(&format!("/memory_stores/s/updates/{first}?api-version=v1"))
        .await
        .body;
    assert_eq!(r["status"], "superseded");
    assert!(r.get("superseded_by").is_none(), "{r}");
}

/// `items:list` lists one scope, as the service does (seeds read only their declared scopes);
/// without a scope it is a 400 naming the parameter.
#[tokio::test]
async fn items_list_filters_by_scope_and_requires_one() {
    let env = Env::start().await;
    create_store(&env, "s").await;
    for (scope, content) in [("user_a", "A likes tea."), ("user_b", "B likes coffee.")] {
        let r = env
            .post(
                "/memory_stores/s/items?api-version=v1",
                json!({"scope": scope, "content": content, "kind": "user_profile"}),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    let listed = env
        .post(
            "/memory_stores/s/items:list?api-version=v1",
            json!({"scope": "user_a"}),
        )
        .await;
    let data = listed.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["content"], "A likes tea.");
    assert_eq!(data[0]["scope"], "user_a");
    let missing = env
        .post("/memory_stores/s/items:list?api-version=v1", json!({}))
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["error"]["param"], "scope");
}

/// A memory update that is due is visible to the first item read of an emulator that opens
/// the file afterwards (as each `foundryctl` command starts its own embedded one), without
/// waiting for that emulator's background worker: the read carries out what is due first.
#[tokio::test]
async fn a_due_update_is_seen_by_the_first_item_read_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = || Config {
        storage: foundry_emulator::Storage::File(dir.path().join("emulator.db")),
        update_processing: Duration::from_millis(200),
        ..Config::default()
    };
    let env = Env::with(file()).await;
    create_store(&env, "s").await;
    let r = env
        .post(
            "/memory_stores/s:update_memories?api-version=v1",
            json!({"scope": "u", "items": turn("I prefer dark roast coffee"), "update_delay": 0}),
        )
        .await;
    assert_eq!(r.status, 202);
    env.emulator.shutdown().await;
    // Done by the stored times once 200 ms have passed, though nobody carried it out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let env = Env::with(file()).await;
    let listed = env
        .post(
            "/memory_stores/s/items:list?api-version=v1",
            json!({"scope": "u"}),
        )
        .await;
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        2,
        "{:?}",
        listed.body
    );
}
