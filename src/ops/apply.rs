//! Carrying a plan out: `apply`, `apply FILE`, `destroy` and `import` all end here once the
//! plan is approved.

use anyhow::Context as _;

use super::Session;
use crate::apply::{self, ExecuteOptions, Progress, Report};
use crate::exit::ExitStatus;
use crate::plan::Plan;

/// Runs the plan (progress on stderr as [`Progress::for_stderr`] says for `escapes` and
/// `report_follows`) and returns what happened; its exit status is 0, 5 or 6. `check_preconditions` is for saved
/// plans: each action's precondition is re-checked right before its write. The session is
/// closed once the writes are done.
pub async fn carry_out(
    session: Session,
    plan: &Plan,
    parallelism: usize,
    check_preconditions: bool,
    escapes: bool,
    report_follows: bool,
) -> anyhow::Result<Report> {
    let options = ExecuteOptions {
        parallelism,
        check_preconditions,
    };
    let stop = interrupts()?;
    let mut progress = Progress::for_stderr(escapes, report_follows);
    let report = apply::execute(session.client(), plan, options, stop, &mut progress)
        .await
        .context("failed to apply")?;
    session.close().await;
    Ok(report)
}

/// Ctrl-C while a plan is carried out. The handler is installed here, before the first write,
/// so no Ctrl-C falls through to the default (killing the process mid-write), and it is owned
/// by a task of its own, so it keeps listening whatever the executor does with the returned
/// future (which it drops when a stale precondition stops the run first). The future resolves
/// on the first Ctrl-C: the executor then starts nothing new and lets the writes in flight
/// finish. A second one ends the process at once with exit 5, for when a write in flight hangs
/// and the user will not wait for it; what it did is then unknown, so the message says so, and
/// the next `apply` (which plans from the live project) picks up from there.
pub fn interrupts() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("failed to listen for Ctrl-C")?;
    #[cfg(windows)]
    let mut signal = tokio::signal::windows::ctrl_c().context("failed to listen for Ctrl-C")?;
    let (first, mut pressed) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        // `None` means the signal driver is gone: no Ctrl-C can arrive any more.
        if signal.recv().await.is_none() {
            return;
        }
        let _ = first.send(true);
        if signal.recv().await.is_some() {
            eprintln!(
                "second Ctrl-C: stopping now, without waiting for the writes in flight; \
                 they may or may not have reached the project\n\
                 hint: run `foundryctl apply` again: it plans from the live project"
            );
            std::process::exit(i32::from(ExitStatus::ApplyIncomplete.code()));
        }
    });
    Ok(async move {
        // An error means the listener ended without a Ctrl-C: none will come.
        if pressed.wait_for(|&yes| yes).await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}
