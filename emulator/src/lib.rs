//! A local, durable emulator of the Microsoft Foundry project API: memory stores (with items,
//! updates, search and scopes), prompt agents (versions), Responses with an agent reference and
//! the model deployments list, for api-versions `v1` and `2025-11-15-preview`.
//!
//! Fidelity to the recorded service comes first: status codes, envelopes, id layouts, pagination
//! and error bodies follow the recorded traffic in `tests/recordings`. The only deliberate stand-ins are the
//! models: memory extraction and search, and the Responses answer, are deterministic (see
//! [`extract`] and [`similarity`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let emulator = foundry_emulator::Emulator::start(foundry_emulator::Config::default()).await?;
//! println!("{}", emulator.endpoint()); // http://127.0.0.1:PORT/api/projects/local
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Code map, top to bottom (each layer uses only those below it; `tests/emulator/layers.rs`
//! checks it): `server` (accept loop, faults, stats), `tls`; `api` (the router, one handler
//! module per resource, the request checks they share); `agent_run` (the simulated agent run)
//! and `recall` (memory search); `store` (SQLite: the database and the SQL of each surface);
//! `extract` and `similarity` (the memory stand-ins), `ids` (id layouts), `config`;
//! beside them `tokens` (loopback token endpoints for credential tests: GitHub-Actions-shaped
//! OIDC, Entra). The emulator
//! has its own wire types (JSON values shaped here) and never imports the foundryctl client's,
//! so a misspelt field cannot hide on both sides.

mod agent_run;
pub mod api;
mod config;
pub mod extract;
mod ids;
mod recall;
mod server;
pub mod similarity;
mod store;
mod tls;
pub mod tokens;

pub use config::{
    Config, DEFAULT_DEPLOYMENTS, DEFAULT_UPDATE_PROCESSING, Deployment, DeploymentError,
    FaultConfig, FaultEnvError, Storage, TlsConfig, VersionDedup, VersionDedupError,
    default_deployments,
};
pub use server::{Emulator, Stats};
pub use tokens::TokenEndpoints;
