//! The report of `foundryctl check`: per agent and probe, whether the agent answered, whether
//! its memory tool was called, which memories came back, and whether the probe passed. As
//! text, JSON (`format_version` 1) and Markdown, each written into an `impl io::Write`.

use std::io::{self, Write};

use serde::Serialize;

use super::escape::{visible, visible_lines};
use super::markdown::prose;
use super::memory::Palette;

/// The whole run (`check -o json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub format_version: u32,
    /// Every probe passed.
    pub passed: bool,
    pub summary: CheckSummary,
    pub agents: Vec<AgentCheck>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckSummary {
    pub agents: usize,
    pub probes: usize,
    pub passed: usize,
    pub failed: usize,
}

/// The probes of one agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentCheck {
    pub agent: String,
    /// Whether the agent declares a memory search tool (then every probe expects a call).
    pub has_memory_tool: bool,
    pub probes: Vec<ProbeResult>,
}

/// One probe and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeResult {
    pub ask: String,
    /// The `user_id` the manifest gives, or `None` for a throw-away user.
    pub user_id: Option<String>,
    /// The probe was the default one (the agent declares no `checks`).
    pub default_probe: bool,
    /// The id the probe asked as (`x-memory-user-id`): `user_id`, or the throw-away one.
    pub asked_as: String,
    /// The agent gave a non-empty answer.
    pub answered: bool,
    pub answer: Option<String>,
    /// The agent's memory tool ran during the answer.
    pub memory_tool_called: bool,
    /// The contents of the memories the memory tool recalled, in its order.
    pub memories: Vec<String>,
    pub expect: ExpectView,
    pub passed: bool,
    /// Why it failed, each a sentence; empty when it passed.
    pub failures: Vec<String>,
    /// What the probe may leave in the project: the memory scope its turn may be written to
    /// by the agent's memory tool; `None` when it leaves nothing (no memory tool, or a
    /// throw-away scope that `check` forgot).
    pub may_leave: Option<String>,
    /// A throw-away scope `check` deleted after the probe.
    pub forgot_scope: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExpectView {
    pub memory_recalled: Option<String>,
    pub answer_contains: Option<String>,
}

impl CheckReport {
    /// A report from the agents' results, with its summary.
    pub fn new(agents: Vec<AgentCheck>) -> Self {
        let probes = agents.iter().map(|a| a.probes.len()).sum();
        let passed = agents
            .iter()
            .flat_map(|a| &a.probes)
            .filter(|p| p.passed)
            .count();
        Self {
            format_version: 1,
            passed: passed == probes,
            summary: CheckSummary {
                agents: agents.len(),
                probes,
                passed,
                failed: probes - passed,
            },
            agents,
        }
    }
}

/// "3 probes of 2 agents: 2 passed, 1 failed".
pub fn summary_line(s: &CheckSummary) -> String {
    format!(
        "{} probe{} of {} agent{}: {} passed, {} failed",
        s.probes,
        if s.probes == 1 { "" } else { "s" },
        s.agents,
        if s.agents == 1 { "" } else { "s" },
        s.passed,
        s.failed
    )
}

/// How far an answer is shown in the human and Markdown reports.
const ANSWER_CHARS: usize = 160;

fn shortened(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(ANSWER_CHARS) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

/// The text report.
pub fn write_human(
    out: &mut (impl Write + ?Sized),
    report: &CheckReport,
    palette: &Palette,
) -> io::Result<()> {
    for agent in &report.agents {
        writeln!(out, "agent/{}", visible(&agent.agent))?;
        for probe in &agent.probes {
            let mark = if probe.passed { "PASS" } else { "FAIL" };
            let who = match &probe.user_id {
                Some(user) => format!("as {}", visible(user)),
                None => "as a throw-away user".to_owned(),
            };
            writeln!(out, "  {mark} \"{}\" ({who})", visible(&probe.ask))?;
            match &probe.answer {
                Some(answer) if probe.answered => {
                    writeln!(out, "       answer: {}", visible(&shortened(answer)))?;
                }
                _ => writeln!(out, "       no answer")?,
            }
            if agent.has_memory_tool {
                let called = if probe.memory_tool_called {
                    match probe.memories.len() {
                        0 => "memory tool called, recalled nothing".to_owned(),
                        1 => "memory tool called, recalled 1 memory:".to_owned(),
                        n => format!("memory tool called, recalled {n} memories:"),
                    }
                } else {
                    "memory tool not called".to_owned()
                };
                writeln!(out, "       {called}")?;
                for memory in &probe.memories {
                    writeln!(out, "         - {}", visible(&shortened(memory)))?;
                }
            }
            for failure in &probe.failures {
                writeln!(out, "       {}", visible_lines(failure))?;
            }
            if let Some(scope) = &probe.may_leave {
                writeln!(
                    out,
                    "       {}",
                    palette.dim(&format!(
                        "the agent's memory tool may write this turn to memory scope {}",
                        visible(scope)
                    ))
                )?;
            }
            if let Some(scope) = &probe.forgot_scope {
                writeln!(
                    out,
                    "       {}",
                    palette.dim(&format!("forgot throw-away scope {}", visible(scope)))
                )?;
            }
        }
    }
    writeln!(out, "\n{}", summary_line(&report.summary))
}

/// The Markdown report, for a pull-request comment or a job summary.
pub fn write_markdown(out: &mut (impl Write + ?Sized), report: &CheckReport) -> io::Result<()> {
    let verdict = if report.passed {
        "all probes passed"
    } else {
        "some probes failed"
    };
    writeln!(out, "### foundryctl check: {verdict}\n")?;
    writeln!(out, "{}\n", summary_line(&report.summary))?;
    writeln!(
        out,
        "| result | agent | ask | as | answered | memory tool | memories recalled | notes |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for agent in &report.agents {
        for probe in &agent.probes {
            let tool = match (agent.has_memory_tool, probe.memory_tool_called) {
                (false, _) => "none",
                (true, true) => "called",
                (true, false) => "not called",
            };
            let memories = probe
                .memories
                .iter()
                .map(|m| prose(&shortened(m)))
                .collect::<Vec<_>>()
                .join("<br>");
            let mut notes: Vec<String> = probe.failures.iter().map(|f| prose(f)).collect();
            if let Some(scope) = &probe.may_leave {
                notes.push(format!("may leave this turn in scope {}", prose(scope)));
            }
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {tool} | {} | {} |",
                if probe.passed { "✅ pass" } else { "❌ fail" },
                prose(&agent.agent),
                prose(&probe.ask),
                probe
                    .user_id
                    .as_deref()
                    .map_or_else(|| "throw-away user".to_owned(), prose),
                if probe.answered { "yes" } else { "no" },
                memories,
                notes.join("<br>"),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(passed: bool) -> ProbeResult {
        ProbeResult {
            ask: "Which language | should the examples use?".into(),
            user_id: Some("user_dana".into()),
            default_probe: false,
            asked_as: "user_dana".into(),
            answered: true,
            answer: Some("You work mostly in Python.".into()),
            memory_tool_called: true,
            memories: vec!["Works mostly in Python.".into()],
            expect: ExpectView {
                memory_recalled: Some("Python".into()),
                answer_contains: Some("Rust".into()),
            },
            passed,
            failures: if passed {
                Vec::new()
            } else {
                vec!["the answer does not contain \"Rust\"".into()]
            },
            may_leave: Some("user_dana".into()),
            forgot_scope: None,
        }
    }

    fn report() -> CheckReport {
        CheckReport::new(vec![AgentCheck {
            agent: "dev-buddy".into(),
            has_memory_tool: true,
            probes: vec![probe(true), probe(false)],
        }])
    }

    #[test]
    fn the_summary_counts_passed_and_failed_probes() {
        let report = report();
        assert!(!report.passed);
        assert_eq!(
            summary_line(&report.summary),
            "2 probes of 1 agent: 1 passed, 1 failed"
        );
    }

    #[test]
    fn the_human_report_names_each_probe_its_memories_and_what_it_leaves() {
        let mut out = Vec::new();
        write_human(&mut out, &report(), &Palette::new(false)).unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }

    #[test]
    fn the_markdown_report_is_one_table_whose_cells_cannot_break_it() {
        let mut out = Vec::new();
        write_markdown(&mut out, &report()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Which language \\| should"), "{text}");
        insta::assert_snapshot!(text);
    }
}
