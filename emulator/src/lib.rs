//! A local, durable emulator of the Microsoft Foundry project API: memory stores (with items,
//! updates, search and scopes), prompt agents (versions) and Responses with an agent reference,
//! for api-versions `v1` and `2025-11-15-preview`.
//!
//! Fidelity to the recorded service comes first: status codes, envelopes, id layouts, pagination
//! and error bodies follow the recorded traffic in `tests/recordings`. The only deliberate stand-ins are the
//! models: memory extraction and search, and the Responses answer, are deterministic (see
//! [`extract`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let emulator = foundry_emulator::Emulator::start(foundry_emulator::Config::default()).await?;
//! println!("{}", emulator.endpoint()); // http://127.0.0.1:PORT/api/projects/local
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Code map: `config` (what can be configured), `server` (accept loop, faults, stats), `tls`,
//! `tokens` (loopback token endpoints for credential tests: GitHub-Actions-shaped OIDC, Entra),
//! `db` (SQLite), `api` (routes, one module per resource), `ids` (id layouts), `extract`
//! (the memory stand-ins). The emulator has its own wire types (JSON values shaped here) and
//! never imports the foundryctl client's, so a misspelt field cannot hide on both sides.

pub mod api;
mod config;
mod db;
pub mod extract;
mod ids;
mod server;
mod tls;
pub mod tokens;

pub use config::{
    Config, DEFAULT_UPDATE_PROCESSING, FaultConfig, FaultEnvError, Storage, TlsConfig,
};
pub use server::{Emulator, Stats};
pub use tokens::TokenEndpoints;
