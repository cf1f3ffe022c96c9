//! Exit codes: one documented table (docs/exit-codes.md), one place that maps outcomes to them.

use std::fmt;

/// How a command ended. Every command returns one of these; `main` turns it into the process
/// exit code, so the mapping lives here and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success; for `plan`, no changes.
    Success,
    /// 1: error (I/O, API, auth, internal).
    Error,
    /// 2: `plan --detailed-exitcode` found changes to make.
    ChangesPending,
    /// 3: the manifests are invalid.
    InvalidManifests,
    /// 4: the plan contains actions blocked by data-loss protection.
    Blocked,
    /// 5: apply ran but some actions failed (the report lists them).
    ApplyIncomplete,
    /// 6: a saved plan is stale, or an unmanaged resource is in the way.
    StaleOrConflict,
    /// 7: `check` ran, and some probe failed (the report lists which and why).
    ChecksFailed,
    /// 130: Ctrl-C at a question (nothing was changed), the code a shell gives SIGINT.
    Interrupted,
}

impl ExitStatus {
    pub const fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Error => 1,
            ExitStatus::ChangesPending => 2,
            ExitStatus::InvalidManifests => 3,
            ExitStatus::Blocked => 4,
            ExitStatus::ApplyIncomplete => 5,
            ExitStatus::StaleOrConflict => 6,
            ExitStatus::ChecksFailed => 7,
            ExitStatus::Interrupted => 130,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}

/// An error that carries its own exit status, for failures that are not plain errors (exit 1):
/// invalid manifests (3), blocked plans (4), stale plans and conflicts (6). Commands return it
/// inside `anyhow::Error`; `main` finds it with `downcast_ref` after printing the message.
///
/// Its hint is data, not part of the message: `main` prints it after the whole error chain,
/// once, as `hint: …`, and the JSON reports give it a field of its own.
#[derive(Debug)]
pub struct StatusError {
    pub status: ExitStatus,
    pub message: String,
    /// What the user can do about it, each without the `hint: ` prefix.
    pub hints: Vec<String>,
}

impl StatusError {
    pub fn new(status: ExitStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    /// Adds what the user can do about it (without the `hint: ` prefix).
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StatusError {}

/// The exit status for an error that ended a command.
pub fn status_of(error: &anyhow::Error) -> ExitStatus {
    error
        .downcast_ref::<StatusError>()
        .or_else(|| error.chain().find_map(|e| e.downcast_ref::<StatusError>()))
        .map_or(ExitStatus::Error, |e| e.status)
}

/// The hints of the [`StatusError`]s in an error's chain (as the error itself or as context),
/// each once, in order.
pub fn hints(error: &anyhow::Error) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    let outer = error.downcast_ref::<StatusError>().into_iter();
    let chained = error
        .chain()
        .filter_map(|e| e.downcast_ref::<StatusError>());
    for status in outer.chain(chained) {
        for hint in &status.hints {
            if !hints.contains(hint) {
                hints.push(hint.clone());
            }
        }
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_documented_table() {
        let table = [
            (ExitStatus::Success, 0),
            (ExitStatus::Error, 1),
            (ExitStatus::ChangesPending, 2),
            (ExitStatus::InvalidManifests, 3),
            (ExitStatus::Blocked, 4),
            (ExitStatus::ApplyIncomplete, 5),
            (ExitStatus::StaleOrConflict, 6),
            (ExitStatus::ChecksFailed, 7),
        ];
        for (status, code) in table {
            assert_eq!(status.code(), code, "{status:?}");
        }
    }

    #[test]
    fn status_errors_survive_context() {
        let err = anyhow::Error::new(StatusError::new(ExitStatus::Blocked, "blocked"))
            .context("failed to apply");
        assert_eq!(status_of(&err), ExitStatus::Blocked);
        assert_eq!(status_of(&anyhow::anyhow!("boom")), ExitStatus::Error);
    }

    #[test]
    fn hints_are_found_as_the_error_or_as_context_and_listed_once() {
        let refused = StatusError::new(ExitStatus::Error, "refused").with_hint("do this");
        let err = anyhow::Error::new(refused).context("failed to apply");
        assert_eq!(hints(&err), ["do this"]);
        assert_eq!(err.to_string(), "failed to apply");
        assert!(!format!("{err:#}").contains("do this"));

        let io = std::io::Error::other("disk full");
        let err = anyhow::Error::new(io).context(
            StatusError::new(ExitStatus::Error, "failed to read the plan file p")
                .with_hint("pass -f")
                .with_hint("pass -f"),
        );
        assert_eq!(hints(&err), ["pass -f"]);
        let blocked = anyhow::Error::new(std::io::Error::other("x"))
            .context(StatusError::new(ExitStatus::Blocked, "blocked"));
        assert_eq!(status_of(&blocked), ExitStatus::Blocked);
    }
}
