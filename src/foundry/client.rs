//! The typed client: memory stores and agents, paging, the read-back that makes creates safe
//! to retry, and [`Client::read_live_state`] for the planner. Memory operations and Responses
//! live in `memory.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

use super::auth::Auth;
use super::convert;
use super::error::ClientError;
use super::request::{ApiVersion, Order, PageQuery, RequestSpec, Requests};
use super::transport::{Response, Transport, TransportConfig};
use super::wire;
use crate::model::{
    AgentName, AgentSpec, LiveAgent, LiveAgentVersion, LiveMemoryStore, LiveScopes, LiveState,
    MemoryStoreName, MemoryStoreSpec,
};

/// How often a create whose outcome was unknown, and found absent on read-back, is sent again.
const MAX_RESENDS: u32 = 3;

/// A page count no real project reaches; a server repeating its cursor is caught sooner.
const MAX_PAGES: usize = 10_000;

/// A client for one project endpoint and api-version. Cheap to clone; clones share the
/// connection pool, the in-flight limit and the token cache.
/// How the client waits for a long-running update (`update_memories`; see `lro.rs`).
#[derive(Debug, Clone)]
pub struct LroConfig {
    /// Give up after this long (recorded updates with `update_delay: 0` finished in 4–13 s).
    pub timeout: Duration,
    /// The first wait before polling, when the service names none (`Retry-After`); each later
    /// wait doubles, up to `max_interval`. Short, because an update can finish at once (the
    /// emulator with no processing time, a supersede); doubling keeps a slow one (seconds on the
    /// service) to a handful of polls.
    pub first_interval: Duration,
    pub max_interval: Duration,
}

impl Default for LroConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(180),
            first_interval: Duration::from_millis(20),
            max_interval: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    pub(super) transport: Transport,
    pub(super) requests: Requests,
    pub(super) lro: LroConfig,
}

impl Client {
    pub fn new(
        endpoint: Url,
        api: ApiVersion,
        auth: Auth,
        transport: TransportConfig,
    ) -> Result<Self, ClientError> {
        Ok(Self {
            transport: Transport::new(transport, Arc::new(auth), &endpoint)?,
            requests: Requests::new(endpoint, api),
            lro: LroConfig::default(),
        })
    }

    /// Replaces the long-running-operation settings (tests shorten them).
    pub fn with_lro(mut self, lro: LroConfig) -> Self {
        self.lro = lro;
        self
    }

    pub fn api_version(&self) -> ApiVersion {
        self.requests.api_version()
    }

    pub fn endpoint(&self) -> &Url {
        self.requests.endpoint()
    }

    /// The transport settings this client was made with (the in-flight limit, timeouts).
    pub fn transport_config(&self) -> &TransportConfig {
        self.transport.config()
    }

    // --- plumbing ---------------------------------------------------------------------------

    /// Sends and maps the answer: a success decoded as `T`, anything else as an error.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        spec: &RequestSpec,
    ) -> Result<T, ClientError> {
        self.transport
            .send(spec)
            .await?
            .ok(spec.operation)?
            .json(spec.operation)
    }

    /// Like [`Client::call`], with 404 meaning "absent".
    pub(super) async fn call_optional<T: DeserializeOwned>(
        &self,
        spec: &RequestSpec,
    ) -> Result<Option<T>, ClientError> {
        let resp: Response = self.transport.send(spec).await?;
        if resp.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        resp.ok(spec.operation)?.json(spec.operation).map(Some)
    }

    /// Reads every page: follows `last_id` as `after` while `has_more`. A page that says
    /// `has_more` but holds no items or no cursor, or a cursor that does not move, is malformed:
    /// an error, never taken as the end (that would read half the project) nor looped on.
    pub(super) async fn list_all<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        request: impl Fn(&PageQuery) -> RequestSpec,
    ) -> Result<Vec<T>, ClientError> {
        let mut page = PageQuery::first_full_page();
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let spec = request(&page);
            let got: wire::Page<T> = self.call(&spec).await?;
            let empty = got.data.is_empty();
            items.extend(got.data);
            if !got.has_more {
                return Ok(items);
            }
            let malformed = |reason: String| ClientError::MalformedPage { operation, reason };
            if empty {
                return Err(malformed(
                    "`has_more` is true but the page holds no items".into(),
                ));
            }
            match got.last_id.filter(|id| !id.is_empty()) {
                Some(id) if page.after.as_deref() == Some(id.as_str()) => {
                    return Err(malformed(format!(
                        "`has_more` is true but the cursor did not move from {id:?}"
                    )));
                }
                Some(id) => page.after = Some(id),
                None => {
                    return Err(malformed(
                        "`has_more` is true but the page has no `last_id` to continue from".into(),
                    ));
                }
            }
        }
        Err(ClientError::Request {
            operation,
            reason: format!("more than {MAX_PAGES} pages"),
        })
    }

    /// `DELETE` with 404 meaning "already absent" (`Ok(false)`), which is also what a retried
    /// delete whose first answer was lost sees.
    pub(super) async fn delete(&self, spec: &RequestSpec) -> Result<bool, ClientError> {
        Ok(self.call_optional::<wire::Deleted>(spec).await?.is_some())
    }

    // --- memory stores ----------------------------------------------------------------------

    pub async fn list_stores(&self) -> Result<Vec<LiveMemoryStore>, ClientError> {
        let stores: Vec<wire::MemoryStore> = self
            .list_all("list memory stores", |p| self.requests.list_stores(p))
            .await?;
        Ok(stores
            .into_iter()
            .filter_map(|s| convert::live_store(s).map_err(skip).ok())
            .collect())
    }

    pub async fn get_store(
        &self,
        name: &MemoryStoreName,
    ) -> Result<Option<LiveMemoryStore>, ClientError> {
        let store = self.get_store_wire(name).await?;
        Ok(store.and_then(|s| convert::live_store(s).map_err(skip).ok()))
    }

    async fn get_store_wire(
        &self,
        name: &MemoryStoreName,
    ) -> Result<Option<wire::MemoryStore>, ClientError> {
        self.call_optional(&self.requests.get_store(name.as_str()))
            .await
    }

    /// Creates a store. When the answer is lost, reads back: a store that matches what was
    /// sent is our write (success, no duplicate); an absent one is created again; a different
    /// one is a conflict.
    pub async fn create_store(
        &self,
        name: &MemoryStoreName,
        spec: &MemoryStoreSpec,
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<LiveMemoryStore, ClientError> {
        let body = convert::create_store_body(name, spec, metadata);
        let request = self.requests.create_store(to_json(&body));
        let store = self
            .create_with_read_back(&request, name.as_str(), || async {
                Ok(self.get_store_wire(name).await?.map(|live| {
                    let matches = convert::store_matches(&live, &body);
                    (live, matches)
                }))
            })
            .await?;
        convert::live_store(store).map_err(|e| ClientError::Request {
            operation: request.operation,
            reason: e.to_string(),
        })
    }

    /// Sets description and metadata (the only fields that change in place).
    pub async fn update_store(
        &self,
        name: &MemoryStoreName,
        description: &str,
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<LiveMemoryStore, ClientError> {
        let body = convert::update_store_body(description, metadata);
        let spec = self.requests.update_store(name.as_str(), to_json(&body));
        let store: wire::MemoryStore = self.call(&spec).await?;
        convert::live_store(store).map_err(|e| ClientError::Request {
            operation: spec.operation,
            reason: e.to_string(),
        })
    }

    /// Deletes a store and every memory in it. `Ok(false)` when it was already absent.
    pub async fn delete_store(&self, name: &MemoryStoreName) -> Result<bool, ClientError> {
        self.delete(&self.requests.delete_store(name.as_str()))
            .await
    }

    // --- agents -----------------------------------------------------------------------------

    pub async fn list_agents(&self) -> Result<Vec<LiveAgent>, ClientError> {
        let agents: Vec<wire::Agent> = self
            .list_all("list agents", |p| self.requests.list_agents(p))
            .await?;
        Ok(agents.into_iter().filter_map(live_agent).collect())
    }

    pub async fn get_agent(&self, name: &AgentName) -> Result<Option<LiveAgent>, ClientError> {
        let agent: Option<wire::Agent> = self
            .call_optional(&self.requests.get_agent(name.as_str()))
            .await?;
        Ok(agent.and_then(live_agent))
    }

    /// Every version of an agent, newest first. Empty when the agent does not exist.
    pub async fn list_agent_versions(
        &self,
        name: &AgentName,
    ) -> Result<Vec<LiveAgentVersion>, ClientError> {
        let request = |p: &PageQuery| {
            let page = PageQuery {
                order: Some(Order::Desc),
                ..p.clone()
            };
            self.requests.list_agent_versions(name.as_str(), &page)
        };
        match self
            .list_all::<wire::AgentVersion>("list agent versions", request)
            .await
        {
            Ok(versions) => Ok(versions
                .into_iter()
                .map(convert::live_agent_version)
                .collect()),
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub async fn get_agent_version(
        &self,
        name: &AgentName,
        version: &str,
    ) -> Result<Option<LiveAgentVersion>, ClientError> {
        let v: Option<wire::AgentVersion> = self
            .call_optional(&self.requests.get_agent_version(name.as_str(), version))
            .await?;
        Ok(v.map(convert::live_agent_version))
    }

    /// Creates a new version (the agent itself on first use). When the answer is lost, reads
    /// the agent back: a latest version matching what was sent is our write, so a retry never
    /// leaves a duplicate version; otherwise the version is sent again.
    pub async fn create_agent_version(
        &self,
        name: &AgentName,
        spec: &AgentSpec,
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<LiveAgentVersion, ClientError> {
        let body = convert::agent_version_body(spec, metadata, self.api_version());
        let request = self
            .requests
            .create_agent_version(name.as_str(), to_json(&body));
        let version = self
            .create_with_read_back(&request, name.as_str(), || async {
                let agent: Option<wire::Agent> = self
                    .call_optional(&self.requests.get_agent(name.as_str()))
                    .await?;
                // A latest version that differs is not a conflict: our write simply did not
                // happen (or someone else's came after). Report it as absent, so it is resent.
                Ok(agent
                    .map(|a| a.versions.latest)
                    .filter(|latest| convert::agent_version_matches(latest, &body))
                    .map(|latest| (latest, true)))
            })
            .await?;
        Ok(convert::live_agent_version(version))
    }

    /// `Ok(false)` when the version (or the agent) was already absent.
    pub async fn delete_agent_version(
        &self,
        name: &AgentName,
        version: &str,
    ) -> Result<bool, ClientError> {
        self.delete(&self.requests.delete_agent_version(name.as_str(), version))
            .await
    }

    /// Deletes the agent and all its versions. `Ok(false)` when it was already absent.
    pub async fn delete_agent(&self, name: &AgentName) -> Result<bool, ClientError> {
        self.delete(&self.requests.delete_agent(name.as_str()))
            .await
    }

    // --- the planner's view -------------------------------------------------------------------

    /// The live state the planner compares against: one paged `GET /memory_stores` and one
    /// paged `GET /agents` (run concurrently), never a GET per resource. For the agents in
    /// `history_for` whose latest version is not stamped `managed-by: foundryctl`, the version
    /// history is read too (one extra call each), so the planner can tell an agent edited in
    /// the portal (drift) from a foreign one.
    pub async fn read_live_state(
        &self,
        history_for: &BTreeSet<AgentName>,
    ) -> Result<LiveState, ClientError> {
        let (stores, agents) = tokio::try_join!(self.list_stores(), self.list_agents())?;
        let mut state = LiveState {
            stores: stores.into_iter().map(|s| (s.name.clone(), s)).collect(),
            agents: agents.into_iter().map(|a| (a.name.clone(), a)).collect(),
            memories: Default::default(),
        };
        let needs_history: Vec<AgentName> = state
            .agents
            .values()
            .filter(|a| history_for.contains(&a.name) && !a.ownership().managed)
            .map(|a| a.name.clone())
            .collect();
        let histories = self
            .list_versions_of_agents(needs_history)
            .await
            .map_err(|e| e.error)?;
        for (name, history) in histories {
            if let Some(agent) = state.agents.get_mut(&name) {
                agent.history = Some(history);
            }
        }
        Ok(state)
    }

    /// The memories of the scopes seeds declare (`store → scopes`), one paged `items:list`
    /// per scope, run concurrently (the transport bounds how many are in flight). Needs the
    /// item API (api-version v1).
    pub async fn read_scopes(
        &self,
        wanted: &BTreeMap<MemoryStoreName, BTreeSet<String>>,
    ) -> Result<LiveScopes, ClientError> {
        let mut tasks = tokio::task::JoinSet::new();
        for (store, scopes) in wanted {
            for scope in scopes {
                let (client, store, scope) = (self.clone(), store.clone(), scope.clone());
                tasks.spawn(async move {
                    let items = client.list_items(&store, &scope).await?;
                    let items: Vec<_> = items.iter().map(convert::live_memory).collect();
                    Ok::<_, ClientError>((store, scope, items))
                });
            }
        }
        let mut out = LiveScopes::new();
        while let Some(joined) = tasks.join_next().await {
            let (store, scope, items) = match joined {
                Ok(read) => read?,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => {
                    return Err(ClientError::Request {
                        operation: "list memory items",
                        reason: e.to_string(),
                    });
                }
            };
            out.entry(store).or_default().insert(scope, items);
        }
        Ok(out)
    }

    /// The version histories of `names` ([`Client::list_agent_versions`] each), read
    /// concurrently: a project with many hand-made agents would otherwise pay one round trip
    /// per agent in series. At most the client's in-flight limit run at once (the transport
    /// enforces the same limit across all callers; this bound just keeps the number of waiting
    /// tasks small). The result is in the order of `names`, whatever order the answers came
    /// in. The first failure ends the reads (the others are abandoned) and names its agent.
    pub async fn list_versions_of_agents(
        &self,
        names: Vec<AgentName>,
    ) -> Result<Vec<(AgentName, Vec<LiveAgentVersion>)>, HistoryError> {
        let limit = self.transport.config().max_in_flight.max(1);
        let mut histories: Vec<Option<Vec<LiveAgentVersion>>> = vec![None; names.len()];
        let mut tasks = tokio::task::JoinSet::new();
        // Which agent each task reads, to name it when the task itself fails.
        let mut task_index = std::collections::HashMap::new();
        let mut next = 0;
        loop {
            while tasks.len() < limit && next < names.len() {
                let (client, name, index) = (self.clone(), names[next].clone(), next);
                let handle = tasks.spawn(async move {
                    let result = client.list_agent_versions(&name).await;
                    (index, result)
                });
                task_index.insert(handle.id(), index);
                next += 1;
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            let (index, result) = match joined {
                Ok(done) => done,
                // A panic in the task (it only awaits the client): pass it on unchanged.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // Cancelled: nothing here aborts a task, but say which read was lost if the
                // runtime ever does (it shuts down while reading).
                Err(e) => {
                    let index = task_index.get(&e.id()).copied().unwrap_or_default();
                    return Err(HistoryError {
                        name: names[index].clone(),
                        error: ClientError::Request {
                            operation: "list agent versions",
                            reason: e.to_string(),
                        },
                    });
                }
            };
            histories[index] = Some(result.map_err(|error| HistoryError {
                name: names[index].clone(),
                error,
            })?);
        }
        // Every index was spawned and joined exactly once by now (the loop ends only when no
        // task is left and none is left to spawn), so every slot is `Some`.
        Ok(names
            .into_iter()
            .zip(histories)
            .map(|(name, history)| (name, history.unwrap_or_default()))
            .collect())
    }

    // --- creates that survive a lost answer -------------------------------------------------

    /// Sends a non-idempotent create. On an unknown outcome (or a 409, which may be our own
    /// earlier attempt), `read_back` says whether the resource now exists and whether it is
    /// what we sent: ours → success; absent → send again (bounded); different → conflict.
    async fn create_with_read_back<T, F, Fut>(
        &self,
        request: &RequestSpec,
        name: &str,
        read_back: F,
    ) -> Result<T, ClientError>
    where
        T: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<(T, bool)>, ClientError>>,
    {
        let mut resends = 0;
        loop {
            let error = match self.call::<T>(request).await {
                Ok(created) => return Ok(created),
                Err(e @ ClientError::OutcomeUnknown { .. }) => e,
                Err(e) if e.status() == Some(StatusCode::CONFLICT) => e,
                Err(e) => return Err(e),
            };
            tracing::info!(target: "foundryctl::http", "{}: {error}; reading back before retrying", request.operation);
            match read_back().await? {
                Some((live, true)) => return Ok(live),
                Some((_, false)) => {
                    return Err(ClientError::Conflict {
                        operation: request.operation,
                        name: name.to_owned(),
                    });
                }
                None if resends < MAX_RESENDS && error.status().is_none() => resends += 1,
                None => return Err(error),
            }
        }
    }
}

/// A failed history read, with the agent it was for (the client error alone does not say).
#[derive(Debug)]
pub struct HistoryError {
    pub name: AgentName,
    pub error: ClientError,
}

fn to_json<T: serde::Serialize>(body: &T) -> serde_json::Value {
    // Serializing these plain structs (strings, maps, JSON values) cannot fail: serde_json
    // fails only on non-string map keys or failing Serialize impls, and there are neither.
    serde_json::to_value(body).unwrap_or(serde_json::Value::Null)
}

fn live_agent(agent: wire::Agent) -> Option<LiveAgent> {
    let name = convert::agent_name(&agent.name).map_err(skip).ok()?;
    Some(LiveAgent {
        name,
        latest: convert::live_agent_version(agent.versions.latest),
        history: None,
    })
}

/// A live resource foundryctl cannot name is left out of every listing, with a note at -v.
fn skip(e: convert::UnmanageableName) {
    tracing::info!(target: "foundryctl::http", "skipping {e}");
}
