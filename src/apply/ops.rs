//! One plan [`Op`] → the client calls that carry it out, and the saved-plan precondition check
//! that runs right before them. Nothing here chooses: the op says exactly what to send.

use crate::foundry::{Client, ClientError};
use crate::model::ResourceRef;
use crate::plan::{Action, Op, Precondition};

/// Why an action did not complete.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The saved plan's precondition no longer holds: the resource changed since the plan was
    /// made. Nothing was written.
    #[error("{resource} changed since the plan was made ({found}); nothing was written to it")]
    Stale {
        resource: ResourceRef,
        found: String,
    },
    /// A replace deleted the store, then failed to create it again: the store is now absent,
    /// and the next apply will create it.
    #[error("deleted the store, then failed to create it again: {0}")]
    ReplaceHalfDone(#[source] ClientError),
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl OpError {
    pub fn is_stale(&self) -> bool {
        matches!(self, OpError::Stale { .. })
    }
}

/// Sends the writes for `op` and says, in a few words, what was done.
///
/// # Guarantees
/// - A replace deletes first and creates second, as the plan orders it; when the create fails
///   the error says the delete happened.
/// - Creates survive a lost answer without duplicates (the client reads back before resending),
///   so running an op again after an unknown outcome converges.
pub async fn run(client: &Client, op: &Op) -> Result<String, OpError> {
    Ok(match op {
        Op::CreateStore {
            name,
            spec,
            metadata,
        } => {
            client.create_store(name, spec, metadata).await?;
            "created".to_owned()
        }
        Op::UpdateStore {
            name,
            description,
            metadata,
        } => {
            client.update_store(name, description, metadata).await?;
            "updated in place".to_owned()
        }
        Op::ReplaceStore {
            name,
            spec,
            metadata,
        } => {
            client.delete_store(name).await?;
            client
                .create_store(name, spec, metadata)
                .await
                .map_err(OpError::ReplaceHalfDone)?;
            "replaced (deleted, then created)".to_owned()
        }
        Op::DeleteStore { name } => {
            if client.delete_store(name).await? {
                "deleted".to_owned()
            } else {
                "already absent".to_owned()
            }
        }
        Op::CreateAgentVersion {
            name,
            spec,
            metadata,
        } => {
            let version = client.create_agent_version(name, spec, metadata).await?;
            format!("created version {}", version.version)
        }
        Op::DeleteAgent { name } => {
            if client.delete_agent(name).await? {
                "deleted with all its versions".to_owned()
            } else {
                "already absent".to_owned()
            }
        }
        Op::StampStore {
            name,
            description,
            metadata,
        } => {
            client.update_store(name, description, metadata).await?;
            "stamped as managed by foundryctl".to_owned()
        }
        Op::StampAgent {
            name,
            spec,
            metadata,
        } => {
            let version = client.create_agent_version(name, spec, metadata).await?;
            format!(
                "stamped as managed by foundryctl (version {})",
                version.version
            )
        }
    })
}

/// Reads the action's resource (one GET) and refuses when it no longer looks the way the saved
/// plan recorded.
pub async fn check_precondition(client: &Client, action: &Action) -> Result<(), OpError> {
    let stale = |found: String| OpError::Stale {
        resource: action.resource.clone(),
        found,
    };
    match &action.resource {
        ResourceRef::MemoryStore(name) => {
            let live = client.get_store(name).await?;
            if action.precondition.holds_for_store(live.as_ref()) {
                return Ok(());
            }
            Err(stale(match (&action.precondition, live) {
                (Precondition::Absent, Some(_)) => "it exists now".to_owned(),
                (_, None) => "it no longer exists".to_owned(),
                (_, Some(store)) => format!(
                    "its definition or metadata differ; last updated at {}",
                    store.updated_at
                ),
            }))
        }
        ResourceRef::Agent(name) => {
            let live = client.get_agent(name).await?;
            if action.precondition.holds_for_agent(live.as_ref()) {
                return Ok(());
            }
            Err(stale(match (&action.precondition, live) {
                (Precondition::Absent, Some(agent)) => {
                    format!("it exists now, at version {}", agent.latest.version)
                }
                (_, None) => "it no longer exists".to_owned(),
                (Precondition::Agent { latest_version }, Some(agent)) => format!(
                    "its latest version is {}, the plan expected {latest_version}",
                    agent.latest.version
                ),
                (_, Some(agent)) => format!("its latest version is {}", agent.latest.version),
            }))
        }
    }
}
