//! The executor: carries out a plan's actions against the project and reports what happened.
//! It makes no decisions; it may only refuse (a blocked plan, or a saved plan whose
//! precondition no longer holds).
//!
//! - [`schedule`]: dependency order, bounded parallelism, skip-on-failure, stop on Ctrl-C.
//! - `ops`: one plan op → client calls, and the saved-plan precondition check.
//! - `execute`: the two together, producing a [`Report`].
//! - [`progress`]: the progress bar (terminal) or one line per action (otherwise).
//! - `report`: the per-action outcome and the exit status it implies.
//! - [`json`]: the `--output json` report of `apply`, `destroy` and `import`.

mod execute;
pub mod json;
mod ops;
pub mod progress;
mod report;
pub mod schedule;

pub use execute::{ExecuteError, ExecuteOptions, execute};
pub use ops::OpError;
pub use progress::Progress;
pub use report::{Counts, Entry, Report};

#[cfg(test)]
mod tests;
