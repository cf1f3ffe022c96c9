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
    ask(question)
}

/// Asks `question [y/N]` on the terminal (stderr) and reads one key: `y` is yes; `n`, Enter
/// and Escape are no. Ctrl-C is an answer too: the command ends with exit 130 saying that
/// nothing was changed, instead of dying mid-line.
///
/// Nothing here writes an escape sequence: the cursor is never hidden, so there is nothing to
/// restore when the question is left in any way, and `--color never`/`NO_COLOR` output stays
/// plain text. The key is read with the terminal in raw mode (Ctrl-C arrives as a key, not a
/// signal), and the mode is restored before the read returns.
pub fn ask(question: &str) -> anyhow::Result<bool> {
    use console::Key;
    let term = console::Term::stderr();
    term.write_str(&format!("{question} [y/N] "))
        .context("failed to show the question")?;
    let answer = loop {
        match term.read_key_raw().context("failed to read the answer")? {
            Key::Char('y' | 'Y') => break Some(true),
            Key::Char('n' | 'N') | Key::Enter | Key::Escape => break Some(false),
            Key::CtrlC => break None,
            // EOF on the terminal: no answer will come.
            Key::Unknown => break Some(false),
            _ => {}
        }
    };
    let echo = match answer {
        Some(true) => "y",
        Some(false) => "n",
        None => "^C",
    };
    term.write_line(echo).context("failed to show the answer")?;
    match answer {
        Some(yes) => Ok(yes),
        None => Err(interrupted()),
    }
}

/// The error Ctrl-C at a question ends with (exit 130, as a shell reports SIGINT).
pub fn interrupted() -> anyhow::Error {
    StatusError::new(
        ExitStatus::Interrupted,
        "interrupted at the question; nothing was changed",
    )
    .into()
}

/// The error a "no" ends with.
pub fn cancelled() -> anyhow::Error {
    StatusError::new(ExitStatus::Error, "cancelled; nothing was changed").into()
}
