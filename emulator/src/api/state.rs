//! What every handler shares.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Deployment, VersionDedup};
use crate::store::db::Db;

/// The shared state of the routes.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// How long an update stays `in_progress` once its `update_delay` has passed.
    pub processing: Duration,
    /// The endpoint, for absolute `operation-location` URLs.
    pub endpoint: Arc<str>,
    /// Whether an agent version identical to the latest is merged into it.
    pub version_dedup: VersionDedup,
    /// The model deployments the project lists.
    pub deployments: Arc<[Deployment]>,
}
