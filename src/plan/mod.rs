//! The planner: compares the desired state with the live state and decides everything
//! (see ARCHITECTURE.md). Pure: no I/O, clock, environment or async; same inputs, byte-identical plan.
//!
//! - [`decide`]: the per-resource decision table (create, reconcile, delete, conflict, …).
//! - `store`, `agent`: the kind-specific comparison on normalised values and stamps.
//! - `order`: dependency edges and levels for the executor.
//! - `import`: the plan that adopts a live resource by stamping it.
//! - `allow`: `--allow-*` flags that unblock nothing (warned about, not refused).
//! - [`types`]: the [`Plan`] and its actions, serialisable for saved plans.

mod agent;
mod allow;
mod applied;
mod build;
pub mod decide;
mod diff;
mod import;
mod order;
mod planner;
mod prepare;
mod references;
pub mod secrets;
mod seed;
mod store;
pub mod types;

pub use allow::{UnusedAllow, unused_allows};
pub use applied::already_applied;
pub use import::{ImportError, plan_import};
pub use planner::{
    agents_needing_history, plan, plan_indexed, plan_prepared, seed_scope,
    sets_of_declared_elsewhere, unmatched_targets,
};
pub use prepare::{Prepared, prepare};
pub use secrets::{MASK, MASK_CHANGED, MaskedChange, SecretField, masked, secret_fields};
pub use seed::protect_deletes;
pub use store::protect;
pub use types::{
    Action, ActionId, ActionKind, Blocked, BlockedCause, Conflict, DataLoss, Diagnostic,
    DiagnosticCode, Drift, FieldChange, LeftInPlace, NotDeleted, Op, Plan, PlanOptions,
    Precondition, SavedPlan, SeedDelete, SeedWrite, Severity, Summary, TemplateSummary,
};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod seed_tests;
#[cfg(test)]
pub(crate) mod service_model;
#[cfg(test)]
pub(crate) mod tests;
