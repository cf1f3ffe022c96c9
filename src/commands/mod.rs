//! One module per subcommand. Each parses its arguments, calls the library (mostly
//! [`crate::ops`]), prints, and returns an [`ExitStatus`](crate::exit::ExitStatus). What several
//! commands share is split by concern: [`args`] (the options every command accepts, the
//! planning flags), [`session`] (connecting and announcing the target), [`output`] (output
//! formats and colour) and [`confirm`] (asking before a change).

pub mod agent;
pub mod apply;
pub mod args;
pub mod check;
pub mod confirm;
pub mod destroy;
pub mod emulator;
pub mod get;
pub mod import;
pub mod memory;
pub mod output;
pub mod plan;
pub mod schema;
pub mod session;
pub mod validate;

pub use args::{GlobalArgs, PlanningArgs};
pub use output::ColorChoice;

/// Frees `value` on a thread of its own, for what a command built and no longer needs just
/// before it ends: the process returns all its memory at once when it exits, while freeing
/// the plan and manifests of a thousand resources piece by piece took 3 ms of a 50 ms `plan`.
/// What is not yet freed when the process exits never needs to be; a thread that cannot be
/// started frees it here.
pub fn free_in_background<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("free".into())
        .spawn(move || drop(value));
}
