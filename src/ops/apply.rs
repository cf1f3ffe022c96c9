//! Carrying a plan out: `apply`, `apply FILE`, `destroy` and `import` all end here once the
//! plan is approved.

use std::io::Write as _;

use anyhow::Context as _;

use super::Session;
use crate::apply::{self, ExecuteOptions, Progress, Report};
use crate::exit::ExitStatus;
use crate::plan::Plan;

/// Runs the plan (progress on stderr as [`Progress::for_stderr`] says for `escapes` and
/// `report_follows`) and returns what happened; its exit status is 0, 5 or 6. With
/// `check_preconditions` (saved plans, and plans a person approved at the question) each
/// action's precondition is re-checked right before its write. The session is closed once the
/// writes are done.
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
    let (stop, ended) = interrupts()?;
    let mut progress = Progress::for_stderr(escapes, report_follows);
    let report = apply::execute(session.client(), plan, options, stop, &mut progress)
        .await
        .context("failed to apply")?;
    ended.send_replace(Some(report.status()));
    session.close().await;
    Ok(report)
}

/// Ctrl-C, SIGTERM or SIGHUP while a plan is carried out: all three mean "stop" (a terminal
/// sends SIGINT; CI runners, Kubernetes and init systems send SIGTERM; a closed terminal or SSH
/// session sends SIGHUP), and all three are graceful. The handlers are installed here, before
/// the first write, so no signal falls through to the default (killing the process
/// mid-write), and they are owned by a task of their own, so they keep listening whatever the
/// executor does with the returned future (which it drops when a stale precondition stops the
/// run first). The future resolves on the first signal: the executor then starts nothing new
/// and lets the writes in flight finish, and the report follows (exit 5). A second signal of
/// any of the three ends the process at once with exit 5, for when a write in flight hangs and
/// the user (or the runner) will not wait for it; what it did is then unknown, so the message
/// says so, and the next `apply` (which plans from the live project) picks up from there.
///
/// The caller sends the run's status on the returned sender once the writes are over: a signal
/// after that (the report stuck behind a reader that stopped reading) finds nothing in flight,
/// and ends the process at once with that status.
pub fn interrupts() -> anyhow::Result<(
    impl Future<Output = ()> + Send + 'static,
    tokio::sync::watch::Sender<Option<ExitStatus>>,
)> {
    let mut signals = Signals::listen()?;
    let (first, mut pressed) = tokio::sync::watch::channel(false);
    let (ended, run) = tokio::sync::watch::channel(None);
    let after_the_run = move |name: &str| {
        let status: Option<ExitStatus> = *run.borrow();
        if let Some(status) = status {
            // Said if stderr can take it; the exit happens either way.
            let _ = writeln!(
                std::io::stderr(),
                "{name} after the run ended: stopping without the rest of its report"
            );
            std::process::exit(i32::from(status.code()));
        }
    };
    tokio::spawn(async move {
        // `None` means the signal driver is gone: no signal can arrive any more.
        let Some(name) = signals.recv().await else {
            return;
        };
        after_the_run(name);
        let _ = first.send(true);
        if let Some(name) = signals.recv().await {
            after_the_run(name);
            // Said if stderr can take it; the exit must happen either way (`eprintln!` panics
            // when stderr's reader has gone or its disk is full, and a panicking task does not
            // end the process).
            let _ = writeln!(
                std::io::stderr(),
                "second {name}: stopping now, without waiting for the writes in flight; \
                 they may or may not have reached the project\n\
                 hint: run `foundryctl apply` again: it plans from the live project"
            );
            std::process::exit(i32::from(ExitStatus::ApplyIncomplete.code()));
        }
    });
    let stop = async move {
        // An error means the listener ended without a signal: none will come.
        if pressed.wait_for(|&yes| yes).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    Ok((stop, ended))
}

/// The stop signals, as one stream of their names.
struct Signals {
    #[cfg(unix)]
    streams: Vec<(&'static str, tokio::signal::unix::Signal)>,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl Signals {
    #[cfg(unix)]
    fn listen() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            ("Ctrl-C", SignalKind::interrupt()),
            ("SIGTERM", SignalKind::terminate()),
            ("SIGHUP", SignalKind::hangup()),
        ];
        let streams = kinds
            .into_iter()
            .map(|(name, kind)| {
                signal(kind)
                    .map(|s| (name, s))
                    .with_context(|| format!("failed to listen for {name}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Signals { streams })
    }

    #[cfg(windows)]
    fn listen() -> anyhow::Result<Signals> {
        let ctrl_c = tokio::signal::windows::ctrl_c().context("failed to listen for Ctrl-C")?;
        Ok(Signals { ctrl_c })
    }

    /// The next signal's name; `None` when no signal can arrive any more.
    #[cfg(unix)]
    async fn recv(&mut self) -> Option<&'static str> {
        std::future::poll_fn(|cx| {
            let mut all_closed = true;
            for (name, stream) in &mut self.streams {
                match stream.poll_recv(cx) {
                    std::task::Poll::Ready(Some(())) => return std::task::Poll::Ready(Some(*name)),
                    std::task::Poll::Ready(None) => {}
                    std::task::Poll::Pending => all_closed = false,
                }
            }
            if all_closed {
                std::task::Poll::Ready(None)
            } else {
                std::task::Poll::Pending
            }
        })
        .await
    }

    #[cfg(windows)]
    async fn recv(&mut self) -> Option<&'static str> {
        self.ctrl_c.recv().await.map(|()| "Ctrl-C")
    }
}
