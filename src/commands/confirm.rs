//! Asking before a change: the one rule for when a command may ask, and what it says when it
//! may not.

use std::io::IsTerminal as _;

use anyhow::Context as _;

use crate::exit::{ExitStatus, StatusError};

/// Asks whether to go on. `--auto-approve` (or a saved plan) says yes without asking; on a
/// terminal the user is asked (default no), unless `may_ask` is false (`--output json`, whose
/// stdout is for a program); anywhere else it refuses at once rather than wait for input that
/// will never come.
///
/// `saved_plan_alternative` says whether the command also takes a saved plan (only `apply`
/// does), so the hint never offers a way out that the command does not have.
pub fn confirm(
    question: &str,
    auto_approve: bool,
    saved_plan_alternative: bool,
    may_ask: bool,
) -> anyhow::Result<bool> {
    if auto_approve {
        return Ok(true);
    }
    let refusal = if !may_ask {
        Some("--output json never asks")
    } else if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        Some("stdin is not a terminal")
    } else {
        None
    };
    if let Some(reason) = refusal {
        let alternative = if saved_plan_alternative {
            ", or save a plan with `foundryctl plan --out plan.json` and apply that file"
        } else {
            ""
        };
        return Err(StatusError::new(
            ExitStatus::Error,
            format!("no confirmation possible: {reason}, so nothing was changed"),
        )
        .with_hint(format!("pass --auto-approve{alternative}"))
        .into());
    }
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .context("failed to read the answer")
}

/// The error a "no" ends with.
pub fn cancelled() -> anyhow::Error {
    StatusError::new(ExitStatus::Error, "cancelled; nothing was changed").into()
}
