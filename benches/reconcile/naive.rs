//! The baseline: what a straightforward script does. One GET per declared resource, one after
//! the other, then one write per change, one after the other. It uses foundryctl's
//! single-resource client calls (so it sends exactly the same requests and bodies, retries
//! included) and the planner only to decide what changed; what differs is the request
//! pattern, which is the point of the comparison.

use std::time::Instant;

use anyhow::Context as _;

use foundryctl::foundry::Client;
use foundryctl::manifest::Validated;
use foundryctl::model::LiveState;
use foundryctl::plan::{self, Op, PlanOptions};

/// Wall time of a naive plan (reads only), in milliseconds.
pub async fn plan(client: &Client, validated: &Validated) -> anyhow::Result<f64> {
    let started = Instant::now();
    let live = read_one_by_one(client, validated).await?;
    let plan = plan::plan(&validated.desired, &live, &PlanOptions::default());
    std::hint::black_box(&plan);
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

/// Wall time of a naive apply (reads, then sequential writes), in milliseconds, and the number
/// of writes it made.
pub async fn apply(client: &Client, validated: &Validated) -> anyhow::Result<(f64, usize)> {
    let started = Instant::now();
    let live = read_one_by_one(client, validated).await?;
    let plan = plan::plan(&validated.desired, &live, &PlanOptions::default());
    for action in &plan.actions {
        match &action.op {
            Op::CreateStore {
                name,
                spec,
                metadata,
            } => {
                client.create_store(name, spec, metadata).await?;
            }
            Op::UpdateStore {
                name,
                description,
                metadata,
            } => {
                client.update_store(name, description, metadata).await?;
            }
            Op::CreateAgentVersion {
                name,
                spec,
                metadata,
            } => {
                client.create_agent_version(name, spec, metadata).await?;
            }
            other => anyhow::bail!("the naive baseline does not handle {other:?}"),
        }
    }
    Ok((started.elapsed().as_secs_f64() * 1e3, plan.actions.len()))
}

/// One `GET /memory_stores/{name}` per declared store, then one `GET /agents/{name}` per
/// declared agent, sequentially.
async fn read_one_by_one(client: &Client, validated: &Validated) -> anyhow::Result<LiveState> {
    let mut live = LiveState::default();
    for name in validated.desired.stores.keys() {
        if let Some(store) = client.get_store(name).await.context("naive get store")? {
            live.stores.insert(name.clone(), store);
        }
    }
    for name in validated.desired.agents.keys() {
        if let Some(agent) = client.get_agent(name).await.context("naive get agent")? {
            live.agents.insert(name.clone(), agent);
        }
    }
    Ok(live)
}
