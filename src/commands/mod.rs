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
