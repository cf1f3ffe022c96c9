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
}
