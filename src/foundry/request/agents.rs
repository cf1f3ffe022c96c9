//! The agents surface of [`Requests`]: versions, agents, and Responses with an agent
//! reference.

use reqwest::Method;

use super::{ApiVersion, Idempotency, MEMORY_USER_ID, PageQuery, RequestSpec, Requests};

impl Requests {
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

    // --- Conversations -------------------------------------------------------------------

    /// The conversations route: `v1` `/openai/v1/conversations/…` (no api-version); preview
    /// `/openai/conversations/…?api-version=2025-11-15-preview`.
    fn conversations(
        &self,
        operation: &'static str,
        method: Method,
        rest: &[&str],
        query: &[(&'static str, String)],
        body: Option<serde_json::Value>,
        idempotency: Idempotency,
    ) -> RequestSpec {
        let (mut segments, api) = match self.api {
            ApiVersion::V1 => (vec!["openai", "v1", "conversations"], None),
            ApiVersion::Preview20251115 => (
                vec!["openai", "conversations"],
                Some(ApiVersion::Preview20251115),
            ),
        };
        segments.extend_from_slice(rest);
        RequestSpec {
            operation,
            method,
            url: self.url(&segments, query, api),
            headers: Vec::new(),
            body,
            idempotency,
        }
    }

    /// Starts a conversation, optionally holding `items` already.
    pub fn create_conversation(&self, body: serde_json::Value) -> RequestSpec {
        self.conversations(
            "create conversation",
            Method::POST,
            &[],
            &[],
            Some(body),
            Idempotency::NonIdempotent,
        )
    }

    pub fn get_conversation(&self, id: &str) -> RequestSpec {
        self.conversations(
            "get conversation",
            Method::GET,
            &[id],
            &[],
            None,
            Idempotency::Idempotent,
        )
    }

    pub fn list_conversation_items(&self, id: &str, page: &PageQuery) -> RequestSpec {
        self.conversations(
            "list conversation items",
            Method::GET,
            &[id, "items"],
            &page.pairs(),
            None,
            Idempotency::Idempotent,
        )
    }
}
