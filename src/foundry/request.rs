//! Building HTTP requests without sending them: paths, query strings and headers for each
//! call and each api-version. Nothing here touches the network, so every rule about the wire
//! (which api-version, which `Foundry-Features` header, which memory tool type, which
//! Responses route) is unit-tested without a server, the way kube-rs builds its requests.

use reqwest::{Method, Url};

mod agents;
mod deployments;
mod memory;

/// The REST api-version foundryctl speaks. It decides the `api-version` query value, whether
/// memory-store calls need `Foundry-Features: MemoryStores=V1Preview`, the memory tool's type
/// on the wire, and the Responses route.
///
/// It derives `clap::ValueEnum` here, where the concept lives, so the command line depends on
/// the client and never the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ApiVersion {
    /// `v1` (memory-store calls add `Foundry-Features: MemoryStores=V1Preview`).
    #[default]
    #[value(name = "v1")]
    V1,
    /// `2025-11-15-preview`, as used by the seed tutorial.
    #[value(name = "2025-11-15-preview")]
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
}

#[cfg(test)]
mod tests;
