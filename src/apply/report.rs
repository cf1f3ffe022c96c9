//! What an apply did, action by action, and the exit status that follows from it.

use std::io::{self, Write};

use super::schedule::Outcome;
use crate::exit::ExitStatus;
use crate::model::{ResourceRef, SetName};
use crate::plan::ActionKind;
use crate::render::escape::visible;

/// The result of running a plan: every action exactly once, in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub entries: Vec<Entry>,
    /// The run was stopped (Ctrl-C) before every action could start.
    pub interrupted: bool,
    /// The run was a `destroy`: the summary speaks of destroying and deleting.
    pub destroy: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub resource: ResourceRef,
    pub kind: ActionKind,
    pub outcome: Outcome,
    /// Failed because the saved plan's precondition no longer held (nothing was written).
    pub stale: bool,
}

/// How many actions ended each way. A stale action (a precondition no longer held, so nothing
/// was written; or a concurrent write was found after ours, which was undone) counts as
/// refused, not failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub done: usize,
    pub failed: usize,
    pub refused: usize,
    pub skipped: usize,
    pub not_started: usize,
}

impl Report {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in &self.entries {
            match e.outcome {
                Outcome::Done(_) => c.done += 1,
                Outcome::Failed(_) if e.stale => c.refused += 1,
                Outcome::Failed(_) => c.failed += 1,
                Outcome::Skipped { .. } => c.skipped += 1,
                Outcome::NotStarted => c.not_started += 1,
            }
        }
        c
    }

    pub fn is_complete(&self) -> bool {
        self.entries
            .iter()
            .all(|e| matches!(e.outcome, Outcome::Done(_)))
    }

    pub fn is_stale(&self) -> bool {
        self.entries.iter().any(|e| e.stale)
    }

    /// 0 when everything was done; 6 when an action turned out stale; 5 otherwise.
    pub fn status(&self) -> ExitStatus {
        if self.is_stale() {
            ExitStatus::StaleOrConflict
        } else if self.is_complete() {
            ExitStatus::Success
        } else {
            ExitStatus::ApplyIncomplete
        }
    }

    /// How entry `i` ended, as a label (`done`, `refused`, `failed`, `skipped`,
    /// `not started`) and a detail that reads on its own.
    pub fn describe(&self, i: usize) -> (&'static str, String) {
        let Some(e) = self.entries.get(i) else {
            return ("not started", "the run stopped first".to_owned());
        };
        match &e.outcome {
            Outcome::Done(what) => ("done", what.clone()),
            Outcome::Failed(why) if e.stale => ("refused", why.clone()),
            Outcome::Failed(why) => ("failed", why.clone()),
            Outcome::Skipped { failed_dependency } => (
                "skipped",
                format!(
                    "depends on {}, which did not complete",
                    self.entries
                        .get(*failed_dependency)
                        .map_or_else(|| "another action".to_owned(), |d| d.resource.to_string())
                ),
            ),
            Outcome::NotStarted if self.is_stale() => (
                "not started",
                "the plan was refused as stale first".to_owned(),
            ),
            Outcome::NotStarted if self.interrupted => {
                ("not started", "the run was interrupted".to_owned())
            }
            Outcome::NotStarted => ("not started", "the run stopped first".to_owned()),
        }
    }

    /// What to do next, when the run did not complete (the line `render` ends with). After a
    /// saved plan that did something (or may have: a failed action can have written part of
    /// what it does), the way on is a new plan: the preconditions of the actions carried out no
    /// longer hold, so the same file would be refused (exit 6). One that was stopped before
    /// anything was written can be applied again as it is.
    pub fn hint(&self, saved_plan: Option<&SetName>) -> Option<String> {
        let command = if self.destroy { "destroy" } else { "apply" };
        let c = self.counts();
        if self.is_stale() {
            Some(
                "the project changed since the plan read it (another apply, or a person); plan \
                 again (`foundryctl plan`, or `plan --out FILE` for a saved plan) and review it"
                    .to_owned(),
            )
        } else if self.is_complete() {
            None
        } else if saved_plan.is_some() && c.done == 0 && c.failed == 0 {
            // Stopped before anything was written (a failed action may have written part of
            // what it does: a replace that deleted its store, say).
            Some(
                "nothing was done: apply the same plan file again to finish (should it be \
                 refused as stale, plan again with `foundryctl plan --out FILE`)"
                    .to_owned(),
            )
        } else if let Some(set) = saved_plan {
            let first = if self.interrupted && c.failed == 0 {
                "to finish, plan again"
            } else {
                "fix the cause, then plan again"
            };
            let set = if set.as_str() == SetName::default().as_str() {
                String::new()
            } else {
                format!(" --set {}", visible(set.as_str()))
            };
            Some(format!(
                "{first} (`foundryctl plan{set} --out FILE`, then `apply FILE`, or `apply{set} \
                 -f` with the manifests): the new plan picks up where this run stopped, and this \
                 plan file would be refused for what it already did"
            ))
        } else {
            // Only an interruption and nothing wrong: there is no cause to fix.
            let first = if self.interrupted && c.failed == 0 {
                format!("run {command} again to finish")
            } else {
                format!("fix the cause and run {command} again")
            };
            Some(format!(
                "{first}; it plans from the live project, so it picks up where this run stopped"
            ))
        }
    }

    /// One line per action, then the summary, and a hint when something is left to do;
    /// `saved_plan`, with its set, when the run carried out a saved plan.
    pub fn render(&self, out: &mut impl Write, saved_plan: Option<&SetName>) -> io::Result<()> {
        let (verb, done) = if self.destroy {
            ("Destroy", "deleted")
        } else {
            ("Apply", "done")
        };
        if self.entries.is_empty() {
            return writeln!(out, "{verb} complete: nothing to do.");
        }
        for (i, e) in self.entries.iter().enumerate() {
            let (label, detail) = self.describe(i);
            // The detail may quote the service (an error message): shown escaped.
            writeln!(
                out,
                "  {label:<11} {}: {}",
                visible(&e.resource.to_string()),
                visible(&detail)
            )?;
        }
        let c = self.counts();
        let head = if self.is_complete() {
            format!("{verb} complete")
        } else if self.is_stale() {
            format!("{verb} refused (the project changed)")
        } else if self.interrupted {
            format!("{verb} interrupted")
        } else {
            format!("{verb} incomplete")
        };
        let refused = if c.refused > 0 {
            format!("{} refused, ", c.refused)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{head}: {refused}{} {done}, {} failed, {} skipped, {} not started.",
            c.done, c.failed, c.skipped, c.not_started
        )?;
        if let Some(hint) = self.hint(saved_plan) {
            writeln!(out, "hint: {hint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, outcome: Outcome) -> Entry {
        Entry {
            resource: format!("agent/{name}").parse().unwrap(),
            kind: ActionKind::Create,
            outcome,
            stale: false,
        }
    }

    /// The report as `render` writes it.
    fn rendered(report: &Report) -> String {
        let mut text = Vec::new();
        report.render(&mut text, None).unwrap();
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn an_interrupted_run_is_incomplete_and_says_what_never_started() {
        let report = Report {
            entries: vec![
                entry("a", Outcome::Done("created version 1".to_owned())),
                entry("b", Outcome::NotStarted),
            ],
            interrupted: true,
            destroy: false,
        };
        assert_eq!(report.status(), ExitStatus::ApplyIncomplete);
        let text = rendered(&report);
        assert_eq!(
            text,
            "  done        agent/a: created version 1\n  \
             not started agent/b: the run was interrupted\n\
             Apply interrupted: 1 done, 0 failed, 0 skipped, 1 not started.\n\
             hint: run apply again to finish; it plans from the live project, so it picks up where this run stopped\n"
        );
    }

    #[test]
    fn staleness_wins_over_incompleteness_and_everything_done_is_success() {
        let mut stale = entry("a", Outcome::Failed("changed".to_owned()));
        stale.stale = true;
        let report = Report {
            entries: vec![
                stale,
                entry(
                    "b",
                    Outcome::Skipped {
                        failed_dependency: 0,
                    },
                ),
            ],
            interrupted: false,
            destroy: false,
        };
        assert_eq!(report.status(), ExitStatus::StaleOrConflict);
        let c = report.counts();
        assert_eq!((c.refused, c.failed, c.skipped), (1, 0, 1));
        let text = rendered(&report);
        assert!(text.contains("  refused     agent/a: changed\n"), "{text}");
        assert!(
            text.contains(
                "Apply refused (the project changed): 1 refused, 0 done, 0 failed, 1 skipped, 0 not started."
            ),
            "{text}"
        );
        let done = Report {
            entries: vec![entry("a", Outcome::Done(String::new()))],
            interrupted: true,
            destroy: false,
        };
        assert_eq!(done.status(), ExitStatus::Success);
    }

    #[test]
    fn a_destroy_reports_deletions_and_asks_to_run_destroy_again() {
        let report = Report {
            entries: vec![
                entry("a", Outcome::Done("deleted".to_owned())),
                entry("b", Outcome::NotStarted),
            ],
            interrupted: true,
            destroy: true,
        };
        let text = rendered(&report);
        assert!(
            text.contains("Destroy interrupted: 1 deleted, 0 failed, 0 skipped, 1 not started.\n"),
            "{text}"
        );
        assert!(text.contains("hint: run destroy again to finish"), "{text}");
        assert!(!text.contains("apply"), "{text}");
    }

    /// After a saved plan, the same file would be refused for what the run did: the hint says
    /// to plan again, for an interruption and for a failure alike; with nothing left to do,
    /// there is no hint.
    #[test]
    fn an_incomplete_saved_plan_is_followed_by_a_new_plan_not_the_same_file() {
        let mut report = Report {
            entries: vec![
                entry("a", Outcome::Done("created version 1".to_owned())),
                entry("b", Outcome::NotStarted),
            ],
            interrupted: true,
            destroy: false,
        };
        let hint = report.hint(Some(&SetName::default())).unwrap();
        assert!(hint.starts_with("to finish, plan again"), "{hint}");
        assert!(hint.contains("this plan file would be refused"), "{hint}");
        let mut text = Vec::new();
        report.render(&mut text, Some(&SetName::default())).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.ends_with(&format!("hint: {hint}\n")), "{text}");
        assert!(!text.contains("run apply again"), "{text}");

        report.entries[1].outcome = Outcome::Failed("the service said no".to_owned());
        report.interrupted = false;
        assert!(
            report
                .hint(Some(&SetName::default()))
                .unwrap()
                .starts_with("fix the cause, then plan again")
        );
        assert!(
            report
                .hint(None)
                .unwrap()
                .starts_with("fix the cause and run apply again")
        );

        // In another set, the commands the hint spells name it.
        let workshop = SetName::new("workshop").unwrap();
        let hint = report.hint(Some(&workshop)).unwrap();
        assert!(
            hint.contains("`foundryctl plan --set workshop --out FILE`")
                && hint.contains("`apply --set workshop -f`"),
            "{hint}"
        );

        // Nothing done, but a failed action may have written part of what it does (a replace
        // that deleted its store): plan again.
        report.entries[0].outcome = Outcome::NotStarted;
        assert!(
            report
                .hint(Some(&SetName::default()))
                .unwrap()
                .starts_with("fix the cause, then plan again")
        );

        // Nothing done: the same file is still good.
        report.entries[0].outcome = Outcome::NotStarted;
        report.entries[1].outcome = Outcome::NotStarted;
        report.interrupted = true;
        let hint = report.hint(Some(&SetName::default())).unwrap();
        assert!(
            hint.starts_with("nothing was done: apply the same plan file again to finish"),
            "{hint}"
        );

        report.entries.truncate(1);
        report.entries[0].outcome = Outcome::Done(String::new());
        assert_eq!(
            (report.hint(Some(&SetName::default())), report.hint(None)),
            (None, None)
        );
    }
}
