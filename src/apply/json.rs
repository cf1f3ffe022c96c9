//! `apply|destroy|import --output json`: one versioned document on stdout that says what the
//! run was asked to do and what became of it (docs/apply-json.md).
//!
//! It is the plan's JSON document (`render::json`, docs/plan-json.md) with every field in its
//! place, plus what the run adds: each action's outcome, the counts, whether it was
//! interrupted, how it ended and the exit code. So whatever reads a plan reads the report too.
//! Pure: it takes values and returns a value.
//!
//! Adding a field is compatible; renaming or removing one (here or in the plan format) bumps
//! [`FORMAT_VERSION`].

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use super::report::Report;
use crate::exit::ExitStatus;
use crate::plan::Plan;
use crate::render;

/// The version of the report format.
pub const FORMAT_VERSION: u32 = 1;

/// Which command made the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Apply,
    Destroy,
    Import,
}

impl Command {
    fn as_str(self) -> &'static str {
        match self {
            Command::Apply => "apply",
            Command::Destroy => "destroy",
            Command::Import => "import",
        }
    }
}

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending<'a> {
    /// The plan was carried out (completely or not): the report says how.
    Ran(&'a Report),
    /// Nothing to do: the plan is empty (or, for `import`, the resource is already this set's).
    NothingToDo,
    /// The plan was refused before anything ran: errors (3), conflicts (6), blocked (4).
    Refused(ExitStatus),
    /// No approval: `--auto-approve` missing, or the question answered no (1).
    NotApproved,
}

/// What the run was and how it ended, besides the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run<'a> {
    pub command: Command,
    /// `apply FILE`: the plan was read from a file, not made by this run.
    pub saved_plan: bool,
    pub ending: Ending<'a>,
    /// Why it ended the way it did when that is not evident (a refusal, a missing approval,
    /// "already managed"); the same text stderr shows.
    pub message: Option<String>,
    /// What to do about it (`hint:` lines on stderr); empty when there is nothing to add.
    pub hints: Vec<String>,
}

impl Run<'_> {
    /// The exit status the run ends with.
    pub fn status(&self) -> ExitStatus {
        match self.ending {
            Ending::Ran(report) => report.status(),
            Ending::NothingToDo => ExitStatus::Success,
            Ending::Refused(status) => status,
            Ending::NotApproved => ExitStatus::Error,
        }
    }

    fn result(&self) -> &'static str {
        match self.ending {
            Ending::Ran(report) if report.is_stale() => "stale",
            Ending::Ran(report) if report.is_complete() => "complete",
            Ending::Ran(report) if report.interrupted => "interrupted",
            Ending::Ran(_) => "incomplete",
            Ending::NothingToDo => "nothing_to_do",
            Ending::Refused(_) => "refused",
            Ending::NotApproved => "not_approved",
        }
    }
}

/// The report document for `plan` run as `run` says.
pub fn to_value(plan: &Plan, run: &Run<'_>) -> Value {
    let mut doc = match render::json::to_value(plan) {
        Value::Object(map) => map,
        other => unreachable!("the plan document is an object, not {other}"),
    };
    let entries = match run.ending {
        Ending::Ran(report) => Some(report),
        _ => None,
    };
    if let Some(Value::Array(actions)) = doc.get_mut("actions") {
        for (i, action) in actions.iter_mut().enumerate() {
            let (outcome, detail, stale) = match entries {
                Some(report) => outcome(report, i),
                None => ("not_started", None, false),
            };
            if let Value::Object(action) = action {
                action.insert("outcome".to_owned(), json!(outcome));
                action.insert("detail".to_owned(), json!(detail));
                action.insert("stale".to_owned(), json!(stale));
            }
        }
    }
    let counts = entries.map(Report::counts).unwrap_or_default();
    let not_started = if entries.is_some() {
        counts.not_started
    } else {
        plan.actions.len()
    };
    let status = run.status();
    let extra = json!({
        "format_version": FORMAT_VERSION,
        "command": run.command.as_str(),
        "saved_plan": run.saved_plan,
        "result": run.result(),
        "message": run.message,
        "hints": run.hints,
        "exit_code": status.code(),
        "interrupted": entries.is_some_and(|r| r.interrupted),
        "counts": {
            "done": counts.done,
            "failed": counts.failed,
            "refused": counts.refused,
            "skipped": counts.skipped,
            "not_started": not_started,
        },
    });
    if let Value::Object(extra) = extra {
        doc.extend(extra);
    }
    Value::Object(Map::from_iter(doc))
}

/// Writes the document, pretty-printed, with a trailing newline.
pub fn render(plan: &Plan, run: &Run<'_>, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(plan, run))?;
    writeln!(out)
}

/// `(outcome, detail, stale)` of action `i`: the human report's label and detail, with
/// `not started` spelled `not_started`.
fn outcome(report: &Report, i: usize) -> (&'static str, Option<String>, bool) {
    let (label, detail) = report.describe(i);
    let stale = report.entries.get(i).is_some_and(|e| e.stale);
    let outcome = if label == "not started" {
        "not_started"
    } else {
        label
    };
    (outcome, Some(detail), stale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::Entry;
    use crate::apply::schedule::Outcome;
    use crate::plan::PlanOptions;
    use crate::plan::service_model::Service;
    use crate::plan::tests::{agent, desired, plan_against, store};

    fn plan() -> Plan {
        let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
        plan_against(&Service::default(), &want, &PlanOptions::default())
    }

    fn report(plan: &Plan, outcomes: Vec<(Outcome, bool)>, interrupted: bool) -> Report {
        Report {
            entries: plan
                .actions
                .iter()
                .zip(outcomes)
                .map(|(a, (outcome, stale))| Entry {
                    resource: a.resource.clone(),
                    kind: a.kind,
                    outcome,
                    stale,
                })
                .collect(),
            interrupted,
            destroy: plan.destroy,
        }
    }

    /// An `apply` that ran to `report`, from a saved plan or not, with no message or hints.
    fn applied(report: &Report, saved_plan: bool) -> Run<'_> {
        Run {
            command: Command::Apply,
            saved_plan,
            ending: Ending::Ran(report),
            message: None,
            hints: Vec::new(),
        }
    }

    fn text(plan: &Plan, run: &Run<'_>) -> String {
        let mut out = Vec::new();
        render(plan, run, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_failed_action_and_its_skipped_dependent() {
        let plan = plan();
        let report = report(
            &plan,
            vec![
                (
                    Outcome::Failed("HTTP 409: already exists".to_owned()),
                    false,
                ),
                (
                    Outcome::Skipped {
                        failed_dependency: 0,
                    },
                    false,
                ),
            ],
            false,
        );
        let run = applied(&report, false);
        assert_eq!(run.status(), ExitStatus::ApplyIncomplete);
        insta::assert_snapshot!("report_incomplete_json", text(&plan, &run));
    }

    #[test]
    fn a_stale_saved_plan_is_refused_not_failed() {
        let plan = plan();
        let report = report(
            &plan,
            vec![
                (
                    Outcome::Failed(
                        "memory_store/prefs changed since the plan was made (it exists now); \
                         nothing was written to it"
                            .to_owned(),
                    ),
                    true,
                ),
                (Outcome::NotStarted, false),
            ],
            false,
        );
        let run = applied(&report, true);
        assert_eq!(run.status(), ExitStatus::StaleOrConflict);
        insta::assert_snapshot!("report_stale_json", text(&plan, &run));
    }

    #[test]
    fn a_refused_plan_starts_nothing_and_says_why() {
        let plan = plan();
        let run = Run {
            command: Command::Destroy,
            saved_plan: false,
            ending: Ending::Refused(ExitStatus::Blocked),
            message: Some("the plan is blocked".to_owned()),
            hints: Vec::new(),
        };
        let doc = to_value(&plan, &run);
        assert_eq!(doc["result"], "refused");
        assert_eq!(doc["exit_code"], 4);
        assert_eq!(doc["command"], "destroy");
        assert_eq!(doc["message"], "the plan is blocked");
        assert_eq!(doc["counts"]["not_started"], 2);
        assert_eq!(doc["counts"]["done"], 0);
        for action in doc["actions"].as_array().unwrap() {
            assert_eq!(action["outcome"], "not_started");
            assert_eq!(action["detail"], Value::Null);
        }
        let none = Run {
            ending: Ending::NotApproved,
            ..run
        };
        assert_eq!(to_value(&plan, &none)["exit_code"], 1);
        assert_eq!(to_value(&plan, &none)["result"], "not_approved");
    }

    /// The report is the plan document plus the run: every plan field is there, unchanged
    /// (apart from `format_version`, the report's own), and every action keeps its plan fields.
    #[test]
    fn every_plan_field_is_in_the_report_unchanged() {
        let plan = plan();
        let report = report(
            &plan,
            vec![
                (Outcome::Done("created".to_owned()), false),
                (Outcome::Done("created version 1".to_owned()), false),
            ],
            false,
        );
        let run = applied(&report, false);
        let doc = to_value(&plan, &run);
        let Value::Object(plan_doc) = render::json::to_value(&plan) else {
            panic!("the plan document is an object")
        };
        for (key, value) in &plan_doc {
            match key.as_str() {
                "format_version" => assert_eq!(doc[key], FORMAT_VERSION),
                "actions" => {
                    for (ours, theirs) in doc[key]
                        .as_array()
                        .unwrap()
                        .iter()
                        .zip(value.as_array().unwrap())
                    {
                        for (field, v) in theirs.as_object().unwrap() {
                            assert_eq!(&ours[field], v, "{field}");
                        }
                    }
                }
                _ => assert_eq!(&doc[key], value, "{key}"),
            }
        }
        assert_eq!(doc["result"], "complete");
        assert_eq!(doc["actions"][1]["detail"], "created version 1");
    }
}
