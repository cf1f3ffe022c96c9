//! foundryctl: a declarative reconciler for Microsoft Foundry memory stores and prompt agents.
//!
//! # Bird's-eye view
//!
//! ```text
//!  YAML files ──manifest──▶ model::DesiredState ─┐
//!                                                ├─▶ plan (pure) ─▶ Plan ─▶ render (human/json/md)
//!  project ──foundry (REST)──▶ model::LiveState ─┘                    │
//!                                                                      ▼
//!                                              apply (executor; may only refuse) ─▶ foundry
//! ```
//!
//! - [`manifest`] reads YAML into raw types with locations, interpolates `${VAR}`, and validates
//!   into [`model`] types, reporting every problem at once.
//! - [`model`] holds the validated domain: names, specs, ownership stamps, desired and live state.
//! - [`plan`] compares desired with live and decides everything: create, update, new version,
//!   replace, delete, conflict, blocked. It is synchronous and deterministic.
//! - [`render`] turns a plan into text for people, JSON for machines and Markdown for reviews.
//! - [`foundry`] is the one place that talks HTTP: the REST client, authentication, retries.
//! - [`apply`] executes a plan's actions in dependency order and reports what happened.
//! - [`ops`] are the operations commands run: open a session (starting the embedded emulator
//!   for a local target), read the live state, make a plan, carry it out.
//! - [`commands`] are thin adapters from command-line arguments to [`ops`] and printing;
//!   [`cli`] lists them.
//! - [`env`] is the one snapshot of the environment merged with `.env` ([`dotenv`] parses the
//!   file), read once per command for the endpoint, credentials and `${VAR}` interpolation.
//!
//! `manifest` (apart from its edge, `source.rs` and `load.rs`), `model`, `plan` and `render` do
//! no I/O: no network, files, clock, environment or async. See ARCHITECTURE.md for the
//! invariants.

/// `eprintln!` that never panics, coloured as the terminal allows: see
/// [`commands::output::say`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::commands::output::say(format_args!($($arg)*))
    };
}

pub mod apply;
pub mod cli;
pub mod commands;
pub mod dotenv;
pub mod env;
pub mod exit;
pub mod foundry;
pub mod manifest;
pub mod model;
pub mod ops;
pub mod plan;
pub mod render;
