//! The one place foundryctl talks to a Foundry project: typed REST calls, authentication,
//! retries, paging and long-running operations. Everything above this module works with typed
//! values from [`crate::model`] and never sees HTTP.
//!
//! - [`request`] builds requests (paths, query, headers per api-version) without sending them.
//! - [`transport`] sends them: timeouts, retries with backoff, the in-flight limit, logging.
//! - [`auth`] turns `--auth` into bearer tokens, cached and refreshed.
//! - [`wire`] holds the REST shapes; [`convert`] maps them to and from the domain model.
//! - [`client`] is the typed API, including [`Client::read_live_state`] for the planner.
//! - [`deployments`] lists the project's model deployments for the preflight.
//! - [`lro`] waits for `update_memories`; [`target`] resolves which project to talk to.
//!
//! The client receives a URL and a credential; it knows no command-line type and never starts
//! the emulator (that is [`crate::ops::session`]).

pub mod auth;
mod client;
pub mod convert;
pub mod deployments;
pub mod error;
pub mod logging;
pub mod lro;
pub mod memory;
pub mod redact;
pub mod request;
pub mod target;
pub mod transport;
pub mod wire;

#[cfg(test)]
mod scripted_tests;
#[cfg(test)]
mod test_server;

pub use auth::{Auth, AuthError, AuthMode};
pub use client::{Client, HistoryError, LroConfig};
pub use deployments::Deployments;
pub use error::ClientError;
pub use memory::{AgentResponse, MemorySearchCall, Message, Role, UpdateStarted};
pub use request::ApiVersion;
pub use target::{Target, TargetError};
pub use transport::TransportConfig;
pub use wire::MemoryKind;
