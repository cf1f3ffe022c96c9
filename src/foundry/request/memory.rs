//! The memory-store surface of [`Requests`]: stores, items, and memory operations (update,
//! poll, search, delete scope). Every one of them goes through `Requests::memory`, which adds
//! the `v1` preview opt-in header.

use reqwest::{Method, Url};

use super::{
    ApiVersion, FOUNDRY_FEATURES, Idempotency, MEMORY_STORES_FEATURE, PageQuery, RequestSpec,
    Requests,
};

impl Requests {
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
}
