//! Runs a set of actions in dependency order, independent ones concurrently, and reports what
//! became of each. It knows nothing about Foundry: the plan supplies the graph, the caller
//! supplies the work. It makes no decisions beyond "this may start now".
//!
//! # Expected flow
//! Actions whose dependencies have all succeeded start, lowest index first, while fewer than
//! `parallelism` are in flight. When one finishes, its dependents become ready.
//!
//! # Guarantees
//! - An action never starts before every action it depends on has succeeded.
//! - When an action fails, everything that depends on it, directly or not, is skipped; actions
//!   already in flight are finished, and independent actions go on.
//! - When `stop` resolves (Ctrl-C), nothing new starts; in-flight actions finish; the rest are
//!   reported as not started.
//! - Every action gets exactly one [`Outcome`].
//!
//! # Assumptions
//! Dependency indices are in range and the graph is acyclic (the planner builds it so; a cycle
//! would leave its members "not started", never hang).

use std::collections::BTreeSet;
use std::future::Future;

use tokio::task::JoinSet;

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and succeeded; the text says what was done (e.g. "created version 3").
    Done(String),
    /// It ran and failed.
    Failed(String),
    /// It did not run because an action it depends on failed.
    Skipped { failed_dependency: usize },
    /// It did not run because the run was stopped (Ctrl-C) or its dependencies never finished.
    NotStarted,
}

/// Progress, reported as it happens (for the TTY progress display and the one-line log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Started(usize),
    Finished(usize, &'a Outcome),
    Stopping,
}

/// Runs `work(i)` for every action `i`, honouring `depends_on[i]`.
pub async fn run<W, Fut>(
    depends_on: &[Vec<usize>],
    parallelism: usize,
    stop: impl Future<Output = ()>,
    mut on_event: impl FnMut(Event<'_>),
    work: W,
) -> Vec<Outcome>
where
    W: Fn(usize) -> Fut,
    Fut: Future<Output = Result<String, String>> + Send + 'static,
{
    let n = depends_on.len();
    let parallelism = parallelism.max(1);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; n];
    let mut remaining_deps: Vec<usize> = depends_on.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, deps) in depends_on.iter().enumerate() {
        for &d in deps {
            dependents[d].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| remaining_deps[i] == 0).collect();
    let mut in_flight: JoinSet<(usize, Result<String, String>)> = JoinSet::new();
    let mut stopping = false;
    tokio::pin!(stop);

    loop {
        while !stopping && in_flight.len() < parallelism {
            let Some(i) = ready.pop_first() else { break };
            on_event(Event::Started(i));
            let fut = work(i);
            in_flight.spawn(async move { (i, fut.await) });
        }
        if in_flight.is_empty() {
            break;
        }
        let joined = tokio::select! {
            joined = in_flight.join_next() => joined,
            () = &mut stop, if !stopping => {
                stopping = true;
                on_event(Event::Stopping);
                continue;
            }
        };
        let Some(joined) = joined else { break };
        let (i, result) = match joined {
            Ok(pair) => pair,
            // A panicking action cannot report its index; the JoinSet only holds our own
            // futures, which do not panic, so treat this as an internal error for all
            // still-unfinished work by stopping the run.
            Err(e) => {
                stopping = true;
                tracing::error!("an apply task failed unexpectedly: {e}");
                continue;
            }
        };
        let outcome = match result {
            Ok(done) => {
                for &d in &dependents[i] {
                    remaining_deps[d] -= 1;
                    if remaining_deps[d] == 0 && outcomes[d].is_none() {
                        ready.insert(d);
                    }
                }
                Outcome::Done(done)
            }
            Err(error) => {
                skip_dependents(i, i, &dependents, &mut outcomes, &mut ready, &mut on_event);
                Outcome::Failed(error)
            }
        };
        on_event(Event::Finished(i, &outcome));
        outcomes[i] = Some(outcome);
    }

    outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::NotStarted))
        .collect()
}

/// Marks every transitive dependent of `failed` as skipped (iteratively; graphs can be deep).
fn skip_dependents(
    from: usize,
    failed: usize,
    dependents: &[Vec<usize>],
    outcomes: &mut [Option<Outcome>],
    ready: &mut BTreeSet<usize>,
    on_event: &mut impl FnMut(Event<'_>),
) {
    let mut stack = vec![from];
    while let Some(j) = stack.pop() {
        for &d in &dependents[j] {
            if outcomes[d].is_none() {
                ready.remove(&d);
                let outcome = Outcome::Skipped {
                    failed_dependency: failed,
                };
                on_event(Event::Finished(d, &outcome));
                outcomes[d] = Some(outcome);
                stack.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;

    fn never() -> impl Future<Output = ()> {
        std::future::pending()
    }

    #[tokio::test]
    async fn dependencies_finish_before_dependents_start() {
        // 0 -> 1 -> 2, and 3 independent.
        let deps = vec![vec![], vec![0], vec![1], vec![]];
        let log = Arc::new(Mutex::new(Vec::new()));
        let outcomes = run(
            &deps,
            4,
            never(),
            |_| {},
            |i| {
                let log = Arc::clone(&log);
                async move {
                    log.lock().unwrap().push(format!("start {i}"));
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    log.lock().unwrap().push(format!("end {i}"));
                    Ok(format!("did {i}"))
                }
            },
        )
        .await;
        assert!(outcomes.iter().all(|o| matches!(o, Outcome::Done(_))));
        let log = log.lock().unwrap();
        let pos = |s: &str| log.iter().position(|l| l == s).unwrap();
        assert!(pos("end 0") < pos("start 1"));
        assert!(pos("end 1") < pos("start 2"));
    }

    #[tokio::test]
    async fn a_failure_skips_only_its_transitive_dependents() {
        // 0 fails; 1 depends on 0; 2 depends on 1; 3 is independent.
        let deps = vec![vec![], vec![0], vec![1], vec![]];
        let outcomes = run(
            &deps,
            2,
            never(),
            |_| {},
            |i| async move {
                if i == 0 {
                    Err("boom".to_owned())
                } else {
                    Ok(String::new())
                }
            },
        )
        .await;
        assert_eq!(outcomes[0], Outcome::Failed("boom".to_owned()));
        assert_eq!(
            outcomes[1],
            Outcome::Skipped {
                failed_dependency: 0
            }
        );
        assert_eq!(
            outcomes[2],
            Outcome::Skipped {
                failed_dependency: 0
            }
        );
        assert_eq!(outcomes[3], Outcome::Done(String::new()));
    }

    #[tokio::test]
    async fn parallelism_bounds_the_actions_in_flight() {
        let deps = vec![vec![]; 20];
        let current = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        run(
            &deps,
            3,
            never(),
            |_| {},
            |_| {
                let current = Arc::clone(&current);
                let peak = Arc::clone(&peak);
                async move {
                    let now = current.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    current.fetch_sub(1, Ordering::SeqCst);
                    Ok(String::new())
                }
            },
        )
        .await;
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn stopping_finishes_in_flight_work_and_starts_nothing_new() {
        let deps = vec![vec![]; 10];
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let tx = Mutex::new(Some(tx));
        let outcomes = run(
            &deps,
            2,
            async move {
                let _ = rx.await;
            },
            |_| {},
            |i| {
                if i == 1
                    && let Some(tx) = tx.lock().unwrap().take()
                {
                    let _ = tx.send(());
                }
                async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok(format!("{i}"))
                }
            },
        )
        .await;
        assert_eq!(outcomes[0], Outcome::Done("0".to_owned()));
        assert_eq!(outcomes[1], Outcome::Done("1".to_owned()));
        assert!(
            outcomes[2..].iter().all(|o| *o == Outcome::NotStarted),
            "{outcomes:?}"
        );
    }

    #[tokio::test]
    async fn a_cycle_leaves_its_members_not_started_instead_of_hanging() {
        let deps = vec![vec![1], vec![0], vec![]];
        let outcomes = run(&deps, 2, never(), |_| {}, |_| async { Ok(String::new()) }).await;
        assert_eq!(outcomes[0], Outcome::NotStarted);
        assert_eq!(outcomes[1], Outcome::NotStarted);
        assert_eq!(outcomes[2], Outcome::Done(String::new()));
    }
}
