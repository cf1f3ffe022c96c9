//! Building HTTP requests without sending them: paths, query strings and headers for each
//! call and each api-version. Nothing here touches the network, so every rule about the wire
//! (which api-version, which `Foundry-Features` header, which memory tool type, which
//! Responses route) is unit-tested without a server, the way kube-rs builds its requests.

use reqwest::{Method, Url};

use crate::cli::ApiVersionArg;

/// The REST api-version foundryctl speaks. It decides the `api-version` query value, whether
/// memory-store calls need `Foundry-Features: MemoryStores=V1Preview`, the memory tool's type
/// on the wire, and the Responses route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiVersion {
    #[default]
    V1,
    Preview20251115,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1",
            ApiVersion::Preview20251115 => "2025-11-15-preview",
        }
    }

    /// The `type` of the memory search tool inside an agent definition: the preview named it
    /// `memory_search`; `v1` renamed it `memory_search_preview` (and rejects the old name).
    pub fn memory_tool_type(self) -> &'static str {
        match self {
            ApiVersion::V1 => MEMORY_TOOL_V1,
            ApiVersion::Preview20251115 => MEMORY_TOOL_PREVIEW,
        }
    }

    /// The api-version named by a URL's query, for URLs the service hands back
    /// (`Operation-Location`), which may name another api-version than the one we sent.
    pub fn of_url(url: &Url) -> Option<ApiVersion> {
        url.query_pairs()
            .find(|(k, _)| k == "api-version")
            .and_then(|(_, v)| match v.as_ref() {
                "v1" => Some(ApiVersion::V1),
                "2025-11-15-preview" => Some(ApiVersion::Preview20251115),
                _ => None,
            })
    }
}

impl From<ApiVersionArg> for ApiVersion {
    fn from(arg: ApiVersionArg) -> Self {
        match arg {
            ApiVersionArg::V1 => ApiVersion::V1,
            ApiVersionArg::Preview20251115 => ApiVersion::Preview20251115,
        }
    }
}

pub const MEMORY_TOOL_V1: &str = "memory_search_preview";
pub const MEMORY_TOOL_PREVIEW: &str = "memory_search";
pub const FOUNDRY_FEATURES: &str = "Foundry-Features";
pub const MEMORY_STORES_FEATURE: &str = "MemoryStores=V1Preview";
pub const MEMORY_USER_ID: &str = "x-memory-user-id";

/// Whether repeating a request is harmless. Decides what the transport may do when the outcome
/// of an attempt is unknown (a timeout or a dropped connection after the request was sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, deletes, and POSTs that set a value (store update, item update, delete_scope,
    /// search, items:list): retry freely.
    Idempotent,
    /// Creates and other POSTs that make something new: when the outcome is unknown, the
    /// transport reports it instead of retrying, so the caller can read back first.
    NonIdempotent,
}

/// One request, fully described, not yet sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    /// A short name of the operation for logs and errors ("create memory store").
    pub operation: &'static str,
    pub method: Method,
    pub url: Url,
    /// Extra headers beyond Authorization/Accept/Content-Type, which the transport adds.
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
    pub idempotency: Idempotency,
}

impl RequestSpec {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// List order, by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

/// The paging query every list takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub order: Option<Order>,
    pub after: Option<String>,
    pub before: Option<String>,
}

impl PageQuery {
    /// The largest page the service allows: fewer round trips for a full read.
    pub const MAX_LIMIT: u32 = 100;

    pub fn first_full_page() -> Self {
        Self {
            limit: Some(Self::MAX_LIMIT),
            ..Self::default()
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(order) = self.order {
            let order = match order {
                Order::Asc => "asc",
                Order::Desc => "desc",
            };
            pairs.push(("order", order.to_owned()));
        }
        if let Some(after) = &self.after {
            pairs.push(("after", after.clone()));
        }
        if let Some(before) = &self.before {
            pairs.push(("before", before.clone()));
        }
        pairs
    }
}

/// Builds every request foundryctl sends to one project endpoint with one api-version.
#[derive(Debug, Clone)]
pub struct Requests {
    endpoint: Url,
    api: ApiVersion,
}

impl Requests {
    /// `endpoint` is the project endpoint (`…/api/projects/NAME`); a trailing slash is ignored.
    pub fn new(mut endpoint: Url, api: ApiVersion) -> Self {
        if endpoint.path().ends_with('/') {
            let trimmed = endpoint.path().trim_end_matches('/').to_owned();
            endpoint.set_path(&trimmed);
        }
        endpoint.set_query(None);
        endpoint.set_fragment(None);
        Self { endpoint, api }
    }

    pub fn api_version(&self) -> ApiVersion {
        self.api
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The project URL with `segments` appended (each percent-encoded as one path segment, so
    /// a name can never add a segment) and the query pairs.
    fn url(
        &self,
        segments: &[&str],
        query: &[(&'static str, String)],
        api: Option<ApiVersion>,
    ) -> Url {
        let mut url = self.endpoint.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        // Cannot-be-a-base URLs (`mailto:`) are refused when the endpoint is resolved, so the
        // branch above always runs; nothing to do otherwise.
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            if let Some(api) = api {
                pairs.append_pair("api-version", api.as_str());
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        url
    }

    /// A memory-store request: on `v1` every one of them needs the preview opt-in header.
    fn memory(
        &self,
        operation: &'static str,
        method: Method,
        segments: &[&str],
        query: &[(&'static str, String)],
        body: Option<serde_json::Value>,
        idempotency: Idempotency,
    ) -> RequestSpec {
        let mut headers = Vec::new();
        if self.api == ApiVersion::V1 {
            headers.push((FOUNDRY_FEATURES, MEMORY_STORES_FEATURE.to_owned()));
        }
        RequestSpec {
            operation,
            method,
            url: self.url(segments, query, Some(self.api)),
            headers,
            body,
            idempotency,
        }
    }

    /// An agents request: prompt agents (memory tool included) need no opt-in header.
    fn agents(
        &self,
        operation: &'static str,
        method: Method,
        segments: &[&str],
        query: &[(&'static str, String)],
        body: Option<serde_json::Value>,
        idempotency: Idempotency,
    ) -> RequestSpec {
        RequestSpec {
            operation,
            method,
            url: self.url(segments, query, Some(self.api)),
            headers: Vec::new(),
            body,
            idempotency,
        }
    }

    // --- memory stores -------------------------------------------------------------------

    pub fn create_store(&self, body: serde_json::Value) -> RequestSpec {
        self.memory(
            "create memory store",
            Method::POST,
            &["memory_stores"],
            &[],
            Some(body),
            Idempotency::NonIdempotent,
        )
    }

    pub fn get_store(&self, name: &str) -> RequestSpec {
        self.memory(
            "get memory store",
            Method::GET,
            &["memory_stores", name],
            &[],
            None,
            Idempotency::Idempotent,
        )
    }

    pub fn list_stores(&self, page: &PageQuery) -> RequestSpec {
        self.memory(
            "list memory stores",
            Method::GET,
            &["memory_stores"],
            &page.pairs(),
            None,
            Idempotency::Idempotent,
        )
    }

    /// `POST /memory_stores/{name}` sets description and metadata: repeating it is harmless.
    pub fn update_store(&self, name: &str, body: serde_json::Value) -> RequestSpec {
        self.memory(
            "update memory store",
            Method::POST,
            &["memory_stores", name],
            &[],
            Some(body),
            Idempotency::Idempotent,
        )
    }

    pub fn delete_store(&self, name: &str) -> RequestSpec {
        self.memory(
            "delete memory store",
            Method::DELETE,
            &["memory_stores", name],
            &[],
            None,
            Idempotency::Idempotent,
        )
    }

    // --- memory items ---------------------------------------------------------------------

    pub fn create_item(&self, store: &str, body: serde_json::Value) -> RequestSpec {
        self.memory(
            "create memory item",
            Method::POST,
            &["memory_stores", store, "items"],
            &[],
            Some(body),
            Idempotency::NonIdempotent,
        )
    }

    pub fn get_item(&self, store: &str, memory_id: &str) -> RequestSpec {
        self.memory(
            "get memory item",
            Method::GET,
            &["memory_stores", store, "items", memory_id],
            &[],
            None,
            Idempotency::Idempotent,
        )
    }

    pub fn update_item(
        &self,
        store: &str,
        memory_id: &str,
        body: serde_json::Value,
    ) -> RequestSpec {
        self.memory(
            "update memory item",
            Method::POST,
            &["memory_stores", store, "items", memory_id],
            &[],
            Some(body),
            Idempotency::Idempotent,
        )
    }

    pub fn delete_item(&self, store: &str, memory_id: &str) -> RequestSpec {
        self.memory(
            "delete memory item",
            Method::DELETE,
            &["memory_stores", store, "items", memory_id],
            &[],
            None,
            Idempotency::Idempotent,
        )
    }

    /// `POST /memory_stores/{name}/items:list`: a POST (the scope goes in the body) but a read.
    pub fn list_items(&self, store: &str, scope: &str, page: &PageQuery) -> RequestSpec {
        let body = serde_json::json!({ "scope": scope });
        self.memory(
            "list memory items",
            Method::POST,
            &["memory_stores", store, "items:list"],
            &page.pairs(),
            Some(body),
            Idempotency::Idempotent,
        )
    }

    // --- memory operations ---------------------------------------------------------------

    pub fn update_memories(&self, store: &str, body: serde_json::Value) -> RequestSpec {
        let verb = format!("{store}:update_memories");
        self.memory(
            "update memories",
            Method::POST,
            &["memory_stores", &verb],
            &[],
            Some(body),
            Idempotency::NonIdempotent,
        )
    }

    pub fn get_update(&self, store: &str, update_id: &str) -> RequestSpec {
        self.memory(
            "get memory update",
            Method::GET,
            &["memory_stores", store, "updates", update_id],
            &[],
            None,
            Idempotency::Idempotent,
        )
    }

    /// A poll of an `Operation-Location` URL (already resolved against our endpoint, see
    /// `lro`). The opt-in header follows the api-version the URL names, not ours.
    pub fn poll_url(&self, url: Url) -> RequestSpec {
        let mut headers = Vec::new();
        if ApiVersion::of_url(&url).unwrap_or(self.api) == ApiVersion::V1 {
            headers.push((FOUNDRY_FEATURES, MEMORY_STORES_FEATURE.to_owned()));
        }
        RequestSpec {
            operation: "get memory update",
            method: Method::GET,
            url,
            headers,
            body: None,
            idempotency: Idempotency::Idempotent,
        }
    }

    pub fn search_memories(&self, store: &str, body: serde_json::Value) -> RequestSpec {
        let verb = format!("{store}:search_memories");
        self.memory(
            "search memories",
            Method::POST,
            &["memory_stores", &verb],
            &[],
            Some(body),
            Idempotency::Idempotent,
        )
    }

    pub fn delete_scope(&self, store: &str, scope: &str) -> RequestSpec {
        let verb = format!("{store}:delete_scope");
        let body = serde_json::json!({ "scope": scope });
        self.memory(
            "delete memory scope",
            Method::POST,
            &["memory_stores", &verb],
            &[],
            Some(body),
            Idempotency::Idempotent,
        )
    }

    // --- agents ---------------------------------------------------------------------------

    pub fn create_agent_version(&self, agent: &str, body: serde_json::Value) -> RequestSpec {
        self.agents(
            "create agent version",
            Method::POST,
            &["agents", agent, "versions"],
            &[],
            Some(body),
            Idempotency::NonIdempotent,
        )
    }

    pub fn get_agent(&self, agent: &str) -> RequestSpec {
        self.agents(
            "get agent",
            Method::GET,
            &["agents", agent],
            &[],
            None,
            Idempotency::Idempotent,
        )
    }

    pub fn list_agents(&self, page: &PageQuery) -> RequestSpec {
        self.agents(
            "list agents",
            Method::GET,
            &["agents"],
            &page.pairs(),
            None,
            Idempotency::Idempotent,
        )
    }

    pub fn list_agent_versions(&self, agent: &str, page: &PageQuery) -> RequestSpec {
        self.agents(
            "list agent versions",
            Method::GET,
            &["agents", agent, "versions"],
            &page.pairs(),
            None,
            Idempotency::Idempotent,
        )
    }

    pub fn get_agent_version(&self, agent: &str, version: &str) -> RequestSpec {
        self.agents(
            "get agent version",
            Method::GET,
            &["agents", agent, "versions", version],
            &[],
            None,
            Idempotency::Idempotent,
        )
    }

    pub fn delete_agent_version(&self, agent: &str, version: &str) -> RequestSpec {
        self.agents(
            "delete agent version",
            Method::DELETE,
            &["agents", agent, "versions", version],
            &[],
            None,
            Idempotency::Idempotent,
        )
    }

    pub fn delete_agent(&self, agent: &str) -> RequestSpec {
        self.agents(
            "delete agent",
            Method::DELETE,
            &["agents", agent],
            &[],
            None,
            Idempotency::Idempotent,
        )
    }

    // --- Responses -----------------------------------------------------------------------

    /// A Responses call with an agent reference. `v1`: `POST /openai/v1/responses` (no
    /// api-version) with `agent_reference`; preview: `POST /openai/responses?api-version=…`
    /// with `agent`. `x-memory-user-id` resolves a `{{$userId}}` memory scope.
    pub fn create_response(
        &self,
        agent: &str,
        version: Option<&str>,
        input: serde_json::Value,
        user_id: Option<&str>,
    ) -> RequestSpec {
        let mut reference = serde_json::json!({ "type": "agent_reference", "name": agent });
        if let Some(version) = version {
            reference["version"] = serde_json::Value::String(version.to_owned());
        }
        let (url, field) = match self.api {
            ApiVersion::V1 => (
                self.url(&["openai", "v1", "responses"], &[], None),
                "agent_reference",
            ),
            ApiVersion::Preview20251115 => (
                self.url(
                    &["openai", "responses"],
                    &[],
                    Some(ApiVersion::Preview20251115),
                ),
                "agent",
            ),
        };
        let mut body = serde_json::json!({ "input": input });
        body[field] = reference;
        let headers = user_id
            .map(|id| vec![(MEMORY_USER_ID, id.to_owned())])
            .unwrap_or_default();
        RequestSpec {
            operation: "create response",
            method: Method::POST,
            url,
            headers,
            body: Some(body),
            idempotency: Idempotency::NonIdempotent,
        }
    }
}

#[cfg(test)]
mod tests {
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

        let preview = requests(ApiVersion::Preview20251115).create_response(
            "bot",
            Some("3"),
            "hi".into(),
            None,
        );
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
}
