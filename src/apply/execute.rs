//! The executor: runs a plan's actions against the project through [`schedule`] and collects a
//! [`Report`].
//!
//! # Expected flow
//! Refuse a plan with blocked actions outright. Otherwise run every action in dependency order,
//! at most `parallelism` at once. With `check_preconditions` (a saved plan, or a plan a person
//! took time to approve), each action first re-reads its resource and checks the recorded
//! precondition; then it sends the op's writes.
//!
//! # Guarantees
//! - It makes no decisions: what to write, in which order and what is blocked all come from the
//!   plan. A blocked action is never executed.
//! - Every agent version write is checked after it: when another writer's version came between
//!   the plan's read and ours, ours is deleted again and the action is a conflict (exit 6),
//!   never "created version 2" for a create (`ops::run`). The expected number costs no request
//!   to confirm; re-reading the agent before every write would cost one round trip per agent
//!   on every apply, for a window the check after the write closes anyway.
//! - A stale precondition writes nothing for that action and stops scheduling (a stale plan is
//!   refused, not half-applied further); in-flight actions finish.
//! - On a failure, in-flight actions finish, dependents are skipped, independent actions go on.
//! - When `stop` resolves (Ctrl-C), nothing new starts and in-flight actions finish.
//! - Every action appears in the report exactly once.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use super::ops;
use super::progress::Progress;
use super::report::{Entry, Report};
use super::schedule::{self, Event};
use crate::foundry::Client;
use crate::model::ResourceRef;
use crate::plan::Plan;

/// How to run a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecuteOptions {
    /// Actions in flight at most (`--parallelism`).
    pub parallelism: usize,
    /// Re-check each action's precondition right before its write: for saved plans, and for
    /// plans a person approved at the question (minutes may have passed since the read).
    pub check_preconditions: bool,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        Self {
            parallelism: 8,
            check_preconditions: false,
        }
    }
}

/// Why the executor refused to start.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    #[error("execute a plan with blocked actions ({})", list(.0))]
    Blocked(Vec<ResourceRef>),
}

fn list(resources: &[ResourceRef]) -> String {
    resources
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Carries out `plan` against `client`.
pub async fn execute(
    client: &Client,
    plan: &Plan,
    options: ExecuteOptions,
    stop: impl Future<Output = ()>,
    progress: &mut Progress,
) -> Result<Report, ExecuteError> {
    let blocked: Vec<ResourceRef> = plan
        .actions
        .iter()
        .filter(|a| a.blocked.is_some())
        .map(|a| a.resource.clone())
        .collect();
    if !blocked.is_empty() {
        return Err(ExecuteError::Blocked(blocked));
    }

    let stale: Arc<Mutex<BTreeSet<usize>>> = Arc::default();
    let stale_seen = Arc::new(Notify::new());
    let stop_scheduling = {
        let stale_seen = Arc::clone(&stale_seen);
        async move {
            tokio::select! {
                () = stop => {}
                () = stale_seen.notified() => {}
            }
        }
    };
    let mut stopped = false;
    progress.begin(plan.actions.len());
    let outcomes = schedule::run(
        &plan.dependency_indices(),
        options.parallelism,
        stop_scheduling,
        |event| {
            if matches!(event, Event::Stopping) {
                stopped = true;
            }
            let refused = stale.lock().unwrap_or_else(PoisonError::into_inner).clone();
            progress.event(&plan.actions, &event, &refused);
        },
        |i| {
            let client = client.clone();
            let action = plan.actions[i].clone();
            let set = plan.set.clone();
            let stale = Arc::clone(&stale);
            let stale_seen = Arc::clone(&stale_seen);
            async move {
                let result = async {
                    if options.check_preconditions {
                        ops::check_precondition(&client, &action, &set).await?;
                    }
                    ops::run(&client, &action).await
                }
                .await;
                result.map_err(|error| {
                    if error.is_stale() {
                        stale
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert(i);
                        // Stored as a permit when nobody waits yet, so it is never lost.
                        stale_seen.notify_one();
                    }
                    error.to_string()
                })
            }
        },
    )
    .await;
    progress.finish();

    let stale = std::mem::take(&mut *stale.lock().unwrap_or_else(PoisonError::into_inner));
    let entries = plan
        .actions
        .iter()
        .zip(outcomes)
        .enumerate()
        .map(|(i, (action, outcome))| Entry {
            resource: action.resource.clone(),
            kind: action.kind,
            outcome,
            stale: stale.contains(&i),
        })
        .collect();
    Ok(Report {
        entries,
        interrupted: stopped && stale.is_empty(),
        destroy: plan.destroy,
    })
}
