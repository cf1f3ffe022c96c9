//! Reading the live project for a plan: one paged list per kind, started before the manifests
//! are even read (the lists do not need them), with the manifests' half of planning done while
//! they are in flight, plus the version histories the plan needs.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use tokio::task::JoinHandle;

use super::Session;
use crate::exit::{ExitStatus, StatusError};
use crate::foundry::{ApiVersion, Client, ClientError, Deployments};
use crate::model::{DesiredState, LiveScopes, LiveState, MemorySeed, MemoryStoreName, ResourceRef};
use crate::plan::{self, PlanOptions, Prepared};

/// The live project's lists (one paged list per kind, both kinds concurrently), running as
/// their own task from [`Lists::start`] until [`read_live_from`] or [`read_and_prepare_from`]
/// takes them, and, for a plan's deployments preflight, the model deployments beside them
/// ([`Lists::with_deployments`]). Dropped unfinished (the manifests were invalid), the tasks
/// are cancelled.
pub struct Lists {
    live: Prefetch<Result<LiveState, ClientError>>,
    deployments: Option<Prefetch<Result<Deployments, ClientError>>>,
}

impl Lists {
    /// Starts listing the project now, on the runtime's other threads: a command starts them
    /// right after connecting and reads and validates its manifests while they are in flight.
    pub fn start(client: &Client) -> Lists {
        let client = client.clone();
        // No history here: which agents need one depends on the manifests; `read_live_from`
        // reads those afterwards.
        Lists {
            live: Prefetch::spawn(async move { client.read_live_state(&Default::default()).await }),
            deployments: None,
        }
    }

    /// Also lists the model deployments now, for the preflight of a plan that creates or
    /// changes resources. Started before the manifests are read, it is one request wasted when
    /// they name no model, and a round trip saved on every plan that does.
    pub fn with_deployments(mut self, client: &Client) -> Lists {
        self.deployments = Some(Self::start_deployments(client));
        self
    }

    /// The model deployments list, started now.
    pub fn start_deployments(client: &Client) -> Prefetch<Result<Deployments, ClientError>> {
        let client = client.clone();
        Prefetch::spawn(async move { client.list_deployments().await })
    }

    /// The deployments list, when [`Lists::with_deployments`] started it.
    pub fn take_deployments(&mut self) -> Option<Prefetch<Result<Deployments, ClientError>>> {
        self.deployments.take()
    }

    async fn finish(self) -> anyhow::Result<LiveState> {
        let live = self
            .live
            .finish()
            .await
            .context("the read of the live project stopped")??;
        Ok(live)
    }
}

/// A task started ahead of need on the runtime's other threads; cancelled when dropped
/// unfinished, so a command that fails first leaves nothing running.
pub struct Prefetch<T>(JoinHandle<T>);

impl<T: Send + 'static> Prefetch<T> {
    fn spawn(task: impl Future<Output = T> + Send + 'static) -> Prefetch<T> {
        Prefetch(tokio::spawn(task))
    }

    /// Its result; an error only when the task panicked or was cancelled.
    pub async fn finish(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for Prefetch<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The live state for planning `desired` with `options`: one paged list per kind, plus the
/// version history of the agents whose latest version is unstamped and whose history the
/// plan needs (`plan::agents_needing_history`: declared ones, and on a deleting run the
/// undeclared ones, so the plan can say which it will not delete).
///
/// The manifests' half of planning ([`plan::prepare`]) runs while the lists are in flight;
/// pass what comes back to [`plan::plan_prepared`].
pub async fn read_live(
    session: &Session,
    desired: &DesiredState,
    options: &PlanOptions,
) -> anyhow::Result<(LiveState, Prepared)> {
    read_live_from(session, Lists::start(session.client()), desired, options).await
}

/// [`read_live`] with lists started earlier ([`Lists::start`], before the manifests were read).
pub async fn read_live_from(
    session: &Session,
    lists: Lists,
    desired: &DesiredState,
    options: &PlanOptions,
) -> anyhow::Result<(LiveState, Prepared)> {
    let client = session.client();
    let (mut live, prepared) = read_and_prepare_from(lists, desired)
        .await
        .context("failed to read the live project")?;
    let names = plan::agents_needing_history(desired, &live, options);
    let histories = client
        .list_versions_of_agents(names.into_iter().collect())
        .await
        .map_err(|e| {
            anyhow::Error::new(e.error)
                .context(format!("failed to read the versions of agent/{}", e.name))
        })?;
    for (name, history) in histories {
        if let Some(agent) = live.agents.get_mut(&name) {
            agent.history = Some(history);
        }
    }
    live.memories = read_seeded_scopes(client, desired, &live, options).await?;
    Ok((live, prepared))
}

/// The memories of the scopes the planned seeds declare, in the stores that exist: one paged
/// `items:list` per declared scope, never a scope nobody declared. Seeds need the v1 item API;
/// on the preview api-version a plan with seeds is refused here, before anything is written.
async fn read_seeded_scopes(
    client: &Client,
    desired: &DesiredState,
    live: &LiveState,
    options: &PlanOptions,
) -> anyhow::Result<LiveScopes> {
    if options.destroy {
        return Ok(LiveScopes::new());
    }
    // The seeds the planner will plan: all, or those `--target` names or pulls in.
    let pulled_in = options
        .targets
        .as_ref()
        .map(|targets| plan::seed_scope(desired, targets));
    let planned = desired.seeds.values().filter(|seed| {
        let seed_ref = ResourceRef::MemorySeed(seed.name.clone());
        options
            .targets
            .as_ref()
            .is_none_or(|t| t.contains(&seed_ref))
            || pulled_in.as_ref().is_some_and(|p| p.contains(&seed_ref))
    });
    let mut wanted: BTreeMap<MemoryStoreName, BTreeSet<String>> = BTreeMap::new();
    let mut any = None;
    for seed in planned {
        any.get_or_insert(&seed.name);
        if live.stores.contains_key(&seed.store) {
            wanted
                .entry(seed.store.clone())
                .or_default()
                .extend(seed.scopes.keys().cloned());
        }
    }
    if let Some(seed) = any
        && client.api_version() != ApiVersion::V1
    {
        return Err(StatusError::new(
            ExitStatus::Error,
            format!(
                "failed to plan memory_seed/{seed}: memory seeds use the memory item operations, \
                 which exist only on api-version v1, not {}",
                client.api_version().as_str()
            ),
        )
        .with_hint("drop --api-version (v1 is the default)")
        .into());
    }
    client
        .read_scopes(&wanted)
        .await
        .context("failed to read the memories of the seeded scopes")
}

/// Lists the live project (one paged list per kind) and, meanwhile, does the half of planning
/// that needs only the manifests. The lists run as their own task, so on the command's
/// multi-threaded runtime the round trips and the CPU work overlap: for a large project that
/// work costs about as much as a round trip, and a plan's bound is one round trip per page.
/// No version histories: see [`read_live`].
pub async fn read_and_prepare(
    client: &Client,
    desired: &DesiredState,
) -> anyhow::Result<(LiveState, Prepared)> {
    read_and_prepare_from(Lists::start(client), desired).await
}

/// [`read_and_prepare`] with lists started earlier.
pub async fn read_and_prepare_from(
    lists: Lists,
    desired: &DesiredState,
) -> anyhow::Result<(LiveState, Prepared)> {
    let prepared = plan::prepare(desired);
    let live = lists.finish().await?;
    Ok((live, prepared))
}

/// The live project as [`plan::already_applied`] needs it to tell whether a saved plan was
/// carried out already: one paged list per kind, plus the memories of the scopes its seed
/// actions write or delete in, in the stores that exist.
pub async fn read_for_saved_plan(client: &Client, saved: &plan::Plan) -> anyhow::Result<LiveState> {
    let mut live = client
        .read_live_state(&BTreeSet::new())
        .await
        .context("failed to read the live project")?;
    let mut wanted: BTreeMap<MemoryStoreName, BTreeSet<String>> = BTreeMap::new();
    for action in &saved.actions {
        if let plan::Op::SeedMemories {
            store,
            create,
            delete,
        } = &action.op
            && live.stores.contains_key(store)
        {
            wanted.entry(store.clone()).or_default().extend(
                create
                    .iter()
                    .map(|w| w.scope.clone())
                    .chain(delete.iter().map(|d| d.scope.clone())),
            );
        }
    }
    live.memories = client
        .read_scopes(&wanted)
        .await
        .context("failed to read the memories of the plan's seeds")?;
    Ok(live)
}

/// The live memories of `seeds`' declared scopes, for `get memory_seed`: one paged
/// `items:list` per declared scope, in the stores that exist; and the seeds' stores that do
/// not exist (nothing is read there).
pub async fn read_seed_scopes(
    client: &Client,
    seeds: &[&MemorySeed],
) -> anyhow::Result<(LiveScopes, BTreeSet<MemoryStoreName>)> {
    let stores: BTreeSet<MemoryStoreName> = client
        .list_stores()
        .await
        .context("failed to list the memory stores")?
        .into_iter()
        .map(|store| store.name)
        .collect();
    let mut wanted: BTreeMap<MemoryStoreName, BTreeSet<String>> = BTreeMap::new();
    let mut missing = BTreeSet::new();
    for seed in seeds {
        if stores.contains(&seed.store) {
            wanted
                .entry(seed.store.clone())
                .or_default()
                .extend(seed.scopes.keys().cloned());
        } else {
            missing.insert(seed.store.clone());
        }
    }
    let live = client
        .read_scopes(&wanted)
        .await
        .context("failed to read the memories of the seeds' scopes")?;
    Ok((live, missing))
}
