//! Request building, checked without a server: paths, queries and headers per api-version.

use super::*;

fn requests(api: ApiVersion) -> Requests {
    Requests::new(
        Url::parse("https://acct.services.ai.azure.com/api/projects/p/").unwrap(),
        api,
    )
}

fn path_and_query(spec: &RequestSpec) -> String {
    match spec.url.query() {
        Some(q) => format!("{}?{}", spec.url.path(), q),
        None => spec.url.path().to_owned(),
    }
}

#[test]
fn memory_store_calls_carry_the_opt_in_header_only_on_v1() {
    let v1 = requests(ApiVersion::V1).get_store("dev-prefs");
    assert_eq!(
        path_and_query(&v1),
        "/api/projects/p/memory_stores/dev-prefs?api-version=v1"
    );
    assert_eq!(
        v1.header("foundry-features"),
        Some("MemoryStores=V1Preview")
    );

    let preview = requests(ApiVersion::Preview20251115).get_store("dev-prefs");
    assert_eq!(
        path_and_query(&preview),
        "/api/projects/p/memory_stores/dev-prefs?api-version=2025-11-15-preview"
    );
    assert_eq!(preview.header("foundry-features"), None);
}

#[test]
fn agent_calls_never_carry_the_opt_in_header() {
    let r = requests(ApiVersion::V1);
    for spec in [
        r.get_agent("a"),
        r.list_agents(&PageQuery::default()),
        r.create_agent_version("a", serde_json::json!({})),
        r.delete_agent("a"),
    ] {
        assert_eq!(spec.header("foundry-features"), None, "{}", spec.operation);
    }
}

#[test]
fn colon_verbs_are_literal_path_text() {
    let r = requests(ApiVersion::V1);
    assert_eq!(
        path_and_query(&r.update_memories("s", serde_json::json!({}))),
        "/api/projects/p/memory_stores/s:update_memories?api-version=v1"
    );
    assert_eq!(
        path_and_query(&r.search_memories("s", serde_json::json!({}))),
        "/api/projects/p/memory_stores/s:search_memories?api-version=v1"
    );
    let scope = r.delete_scope("s", "user_1");
    assert_eq!(
        path_and_query(&scope),
        "/api/projects/p/memory_stores/s:delete_scope?api-version=v1"
    );
    assert_eq!(scope.body, Some(serde_json::json!({"scope": "user_1"})));
    let list = r.list_items(
        "s",
        "u",
        &PageQuery {
            limit: Some(3),
            order: Some(Order::Asc),
            ..Default::default()
        },
    );
    assert_eq!(list.method, Method::POST);
    assert_eq!(
        path_and_query(&list),
        "/api/projects/p/memory_stores/s/items:list?limit=3&order=asc&api-version=v1"
    );
    assert_eq!(list.idempotency, Idempotency::Idempotent);
}

#[test]
fn paging_cursors_are_query_encoded_before_the_api_version() {
    let r = requests(ApiVersion::V1);
    let page = PageQuery {
        after: Some("MyAgent1:1".into()),
        ..Default::default()
    };
    assert_eq!(
        path_and_query(&r.list_agent_versions("MyAgent1", &page)),
        "/api/projects/p/agents/MyAgent1/versions?after=MyAgent1%3A1&api-version=v1"
    );
}

#[test]
fn opaque_ids_stay_one_path_segment() {
    let r = requests(ApiVersion::V1);
    let spec = r.get_item("s", "dXNlcl8xMjM_50a1/../x?y");
    assert_eq!(
        spec.url.path(),
        "/api/projects/p/memory_stores/s/items/dXNlcl8xMjM_50a1%2F..%2Fx%3Fy"
    );
    let spec = r.get_update("s", "77eea012-4ab0-4bb3-b931-cd2848e7e072");
    assert_eq!(
        spec.url.path(),
        "/api/projects/p/memory_stores/s/updates/77eea012-4ab0-4bb3-b931-cd2848e7e072"
    );
}

#[test]
fn creates_are_not_idempotent_and_set_style_posts_are() {
    let r = requests(ApiVersion::V1);
    assert_eq!(
        r.create_store(serde_json::json!({})).idempotency,
        Idempotency::NonIdempotent
    );
    assert_eq!(
        r.create_agent_version("a", serde_json::json!({}))
            .idempotency,
        Idempotency::NonIdempotent
    );
    assert_eq!(
        r.update_store("s", serde_json::json!({})).idempotency,
        Idempotency::Idempotent
    );
    assert_eq!(r.delete_store("s").method, Method::DELETE);
}

#[test]
fn responses_route_and_reference_field_follow_the_api_version() {
    let v1 = requests(ApiVersion::V1).create_response("bot", None, "hi".into(), Some("u1"));
    assert_eq!(path_and_query(&v1), "/api/projects/p/openai/v1/responses");
    assert_eq!(
        v1.body,
        Some(
            serde_json::json!({"input": "hi", "agent_reference": {"type": "agent_reference", "name": "bot"}})
        )
    );
    assert_eq!(v1.header("x-memory-user-id"), Some("u1"));

    let preview =
        requests(ApiVersion::Preview20251115).create_response("bot", Some("3"), "hi".into(), None);
    assert_eq!(
        path_and_query(&preview),
        "/api/projects/p/openai/responses?api-version=2025-11-15-preview"
    );
    assert_eq!(
        preview.body,
        Some(
            serde_json::json!({"input": "hi", "agent": {"type": "agent_reference", "name": "bot", "version": "3"}})
        )
    );
    assert_eq!(preview.header("x-memory-user-id"), None);
}

#[test]
fn conversation_routes_follow_the_api_version() {
    let v1 = requests(ApiVersion::V1);
    let create = v1.create_conversation(serde_json::json!({}));
    assert_eq!(
        path_and_query(&create),
        "/api/projects/p/openai/v1/conversations"
    );
    assert_eq!(create.idempotency, Idempotency::NonIdempotent);
    let items = v1.list_conversation_items("conv_1", &PageQuery::first_full_page());
    assert_eq!(
        path_and_query(&items),
        "/api/projects/p/openai/v1/conversations/conv_1/items?limit=100"
    );
    let preview = requests(ApiVersion::Preview20251115).get_conversation("conv_1");
    assert_eq!(
        path_and_query(&preview),
        "/api/projects/p/openai/conversations/conv_1?api-version=2025-11-15-preview"
    );
    assert_eq!(preview.header("foundry-features"), None);
}

#[test]
fn polls_send_the_opt_in_header_for_the_api_version_the_url_names() {
    let r = requests(ApiVersion::V1);
    let preview_url = Url::parse("https://acct.services.ai.azure.com/api/projects/p/memory_stores/s/updates/u?api-version=2025-11-15-preview").unwrap();
    assert_eq!(r.poll_url(preview_url).header("foundry-features"), None);
    let v1_url = Url::parse("https://acct.services.ai.azure.com/api/projects/p/memory_stores/s/updates/u?api-version=v1").unwrap();
    assert_eq!(
        r.poll_url(v1_url).header("foundry-features"),
        Some("MemoryStores=V1Preview")
    );
}

#[test]
fn memory_tool_type_belongs_to_the_api_version() {
    assert_eq!(ApiVersion::V1.memory_tool_type(), "memory_search_preview");
    assert_eq!(
        ApiVersion::Preview20251115.memory_tool_type(),
        "memory_search"
    );
}

#[test]
fn deployments_pages_follow_the_cursor_on_the_projects_own_url() {
    let requests = Requests::new(
        Url::parse("https://acct.services.ai.azure.com/api/projects/p").unwrap(),
        ApiVersion::V1,
    );
    let first = requests.list_deployments(None);
    assert_eq!(
        path_and_query(&first),
        "/api/projects/p/deployments?api-version=v1"
    );
    // A link to another host keeps only its cursor.
    let link =
        Url::parse("https://elsewhere.example/x/deployments?api-version=v1&skip=20").unwrap();
    let next = requests.list_deployments(Some(&link));
    assert_eq!(next.url.host_str(), Some("acct.services.ai.azure.com"));
    assert_eq!(
        path_and_query(&next),
        "/api/projects/p/deployments?api-version=v1&skip=20"
    );
}
