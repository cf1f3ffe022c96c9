//! Carrying a plan out: `apply`, `apply FILE`, `destroy` and `import` all end here once the
//! plan is approved.

use std::io::Write;

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
/// says so, and the next run of the command (which plans from the live project) picks up from
/// there.
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
            say_then_exit(
                format!("{name} after the run ended: stopping without the rest of its report"),
                status,
            );
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
            say_then_exit(
                format!(
                    "second {name}: stopping now, without waiting for the writes in flight; \
                     they may or may not have reached the project\n\
                     hint: run the command again: it plans from the live project"
                ),
                ExitStatus::ApplyIncomplete,
            );
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

/// Says `message` on stderr if it can within a moment, then ends the process with `status`. The
/// write runs on a thread of its own: a stderr whose reader stopped reading (or a lock held by a
/// writer stuck on it) must not keep a stop signal from stopping, and `eprintln!` would panic
/// on a failed write, which in a task does not end the process.
fn say_then_exit(message: String, status: ExitStatus) -> ! {
    say_within(std::io::stderr(), message, LAST_WORDS);
    std::process::exit(i32::from(status.code()))
}

/// How long a stop waits for its message to be written.
const LAST_WORDS: std::time::Duration = std::time::Duration::from_millis(200);

/// Writes `message` and a line break to `out` on a thread of its own, waiting at most `wait`
/// for it; whether it was written.
fn say_within(
    mut out: impl Write + Send + 'static,
    message: String,
    wait: std::time::Duration,
) -> bool {
    let (said, written) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("last words".into())
        .spawn(move || {
            let _ = writeln!(out, "{message}");
            let _ = said.send(());
        });
    spawned.is_ok() && written.recv_timeout(wait).is_ok()
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A stderr that never takes a byte: its reader stopped reading and the pipe is full.
    struct Stuck;

    impl Write for Stuck {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            loop {
                std::thread::park();
            }
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stop_message_that_cannot_be_written_does_not_hold_the_stop() {
        let started = Instant::now();
        assert!(!say_within(
            Stuck,
            "stopping".into(),
            Duration::from_millis(50)
        ));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(say_within(
            std::io::sink(),
            "stopping".into(),
            Duration::from_secs(5)
        ));
    }
}
