//! What the user sees while a plan runs, on stderr: a progress bar on a terminal, or one line
//! per finished action on a terminal that takes no escape sequences (`--color never`,
//! `NO_COLOR`). Off a terminal (CI logs, pipes) only why a run stops is said: the report that
//! follows lists every action once, and a merged log would otherwise show each twice.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::schedule::{Event, Outcome};
use crate::plan::Action;

/// The progress display for one run.
pub struct Progress {
    sink: Sink,
    /// Started and unfinished, by action index, for the bar's message.
    in_flight: BTreeMap<usize, String>,
}

enum Sink {
    Bar(ProgressBar),
    Lines(Box<dyn Write + Send>),
    /// Only the line saying why nothing new starts (Ctrl-C, a stale saved plan).
    Stops(Box<dyn Write + Send>),
    Silent,
}

impl Progress {
    /// A bar on the terminal's stderr.
    pub fn bar() -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        // The template is a constant and known to parse; fall back to the default style anyway.
        if let Ok(style) = ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg}") {
            bar.set_style(style);
        }
        Self::with(Sink::Bar(bar))
    }

    /// One line per finished action into `out` (stderr off a terminal; a buffer in tests).
    pub fn lines(out: Box<dyn Write + Send>) -> Progress {
        Self::with(Sink::Lines(out))
    }

    /// Nothing at all.
    pub fn silent() -> Progress {
        Self::with(Sink::Silent)
    }

    /// Only why a run stops, into `out`.
    pub fn stops(out: Box<dyn Write + Send>) -> Progress {
        Self::with(Sink::Stops(out))
    }

    /// The display stderr calls for: on a terminal a bar when escape sequences are allowed
    /// (`escapes`: colour is on), else one plain line per action; off a terminal only why a
    /// run stops when the human report follows on stdout (`report_follows`), since it lists
    /// every action, else (`--output json`) one line per action, the log's only account.
    pub fn for_stderr(escapes: bool, report_follows: bool) -> Progress {
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            if report_follows {
                Self::stops(Box::new(std::io::stderr()))
            } else {
                Self::lines(Box::new(std::io::stderr()))
            }
        } else if escapes {
            Self::bar()
        } else {
            Self::lines(Box::new(std::io::stderr()))
        }
    }

    fn with(sink: Sink) -> Progress {
        Progress {
            sink,
            in_flight: BTreeMap::new(),
        }
    }

    pub fn begin(&mut self, total: usize) {
        if let Sink::Bar(bar) = &self.sink {
            bar.set_length(total as u64);
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
    }

    /// Shows `event`. `refused` holds the actions refused so far because a saved plan's
    /// precondition no longer held: those read "refused", not "failed", and the run stops
    /// because the plan is stale, not because of Ctrl-C.
    pub fn event(&mut self, actions: &[Action], event: &Event<'_>, refused: &BTreeSet<usize>) {
        let line = match event {
            Event::Started(i) => {
                self.in_flight.insert(*i, actions[*i].id.clone());
                None
            }
            Event::Finished(i, outcome) => {
                self.in_flight.remove(i);
                if let Sink::Bar(bar) = &self.sink {
                    bar.inc(1);
                }
                Some(finished_line(actions, *i, outcome, refused))
            }
            Event::Stopping => {
                // A refused action may not have reported yet; it is not "in flight" any more.
                let in_flight = self
                    .in_flight
                    .keys()
                    .filter(|i| !refused.contains(i))
                    .count();
                Some(stopping_line(in_flight, !refused.is_empty()))
            }
        };
        // Outcomes quote the service's error messages: shown, never obeyed by the terminal.
        let line = line.map(|line| crate::render::escape::visible(&line).into_owned());
        match &mut self.sink {
            Sink::Bar(bar) => {
                if let Some(line) = line {
                    bar.println(line);
                }
                let names: Vec<&str> = self.in_flight.values().map(String::as_str).collect();
                bar.set_message(crate::render::escape::visible(&names.join(", ")).into_owned());
            }
            Sink::Lines(out) => {
                if let Some(line) = line {
                    // Progress is best effort: a closed stderr must not fail the apply.
                    let _ = writeln!(out, "{line}");
                }
            }
            Sink::Stops(out) => {
                if let (Event::Stopping, Some(line)) = (event, line) {
                    let _ = writeln!(out, "{line}");
                }
            }
            Sink::Silent => {}
        }
    }

    pub fn finish(&mut self) {
        if let Sink::Bar(bar) = &self.sink {
            bar.finish_and_clear();
        }
    }
}

/// `memory_store/prefs: created`, `agent/buddy: failed: …`, `agent/x: skipped (…)`,
/// `agent/y: refused: …` (a saved plan's stale precondition; nothing was written).
pub fn finished_line(
    actions: &[Action],
    i: usize,
    outcome: &Outcome,
    refused: &BTreeSet<usize>,
) -> String {
    let id = &actions[i].id;
    match outcome {
        Outcome::Done(what) => format!("{id}: {what}"),
        Outcome::Failed(why) if refused.contains(&i) => format!("{id}: refused: {why}"),
        Outcome::Failed(why) => format!("{id}: failed: {why}"),
        Outcome::Skipped { failed_dependency } => format!(
            "{id}: skipped, because {} {}",
            actions
                .get(*failed_dependency)
                .map_or("a dependency", |a| a.id.as_str()),
            if refused.contains(failed_dependency) {
                "was refused"
            } else {
                "failed"
            }
        ),
        Outcome::NotStarted => format!("{id}: not started"),
    }
}

/// Why nothing new starts: an interrupt, or a plan found stale (a refusal, not a failure).
fn stopping_line(in_flight: usize, stale: bool) -> String {
    if !stale {
        return format!(
            "stopping: {in_flight} action(s) in flight will finish; nothing new starts"
        );
    }
    let finishing = if in_flight == 0 {
        String::new()
    } else {
        format!("; {in_flight} action(s) already in flight will finish")
    };
    format!(
        "refusing the plan: the project changed since it was made; nothing new starts{finishing}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_stop_reads_as_a_refusal_and_ctrl_c_as_a_stop() {
        assert_eq!(
            stopping_line(0, true),
            "refusing the plan: the project changed since it was made; nothing new starts"
        );
        assert_eq!(
            stopping_line(2, false),
            "stopping: 2 action(s) in flight will finish; nothing new starts"
        );
    }
}
