//! Operations: what a command does once its arguments are parsed, as library calls that tests
//! and benches use as they are (cargo's `ops`). A command module parses arguments, calls these,
//! and prints; nothing here knows a command-line type.
//!
//! - [`session`] opens a session with a project: resolves the target, starts the embedded
//!   emulator for a local one, and hands the client a URL and a credential.
//! - [`live`] reads the live state a plan needs, overlapping the reads with the manifests' half
//!   of planning.
//! - [`plan`] makes a plan from validated manifests and the live project, and says whether it
//!   may run (errors, conflicts, blocked actions).
//! - [`saved`] writes a plan to a file for a later `apply FILE`.
//! - [`check`] puts each declared agent's probes to it and judges the answers.
//! - [`apply`] carries a plan out (apply, destroy and import all end there), Ctrl-C included.

pub mod apply;
pub mod check;
pub mod live;
pub mod plan;
pub mod saved;
pub mod session;

pub use session::{
    Connection, LocalAccess, LocalProject, Presence, Session, SessionOptions, locate_local,
};
