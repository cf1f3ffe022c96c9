//! `foundryctl check`: put each declared agent's probes (`spec.checks`) to it and report, per
//! agent and probe, whether it answered, whether its memory tool ran, what it recalled, and
//! whether the probe passed.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use super::args::GlobalArgs;
use super::output::stdout_color;
use super::session;
use crate::exit::{ExitStatus, StatusError};
use crate::render::check::{summary_line, write_human, write_markdown};
use crate::render::memory::{Palette, write_json};

/// Put each declared agent's probes to it and report what came back.
///
/// Every agent the manifests declare is asked each of its `spec.checks` probes once (a
/// Responses call with the agent reference, `x-memory-user-id` set to the probe's `user_id`),
/// in parallel. An agent without probes is asked one default question: it must answer, and
/// call its memory tool if it has one. Exit 0 when every probe passes, 7 when any fails.
///
/// `check` writes nothing itself, but an agent's memory tool writes each turn to memory after
/// its `update_delay`, as the service does. A probe with `user_id` may therefore leave its
/// question and answer in that user's memory scope (the report names the scope). A probe
/// without `user_id` asks as a throw-away user whose scope `check` deletes afterwards, waiting
/// for the write-back when the tool's `update_delay` is at most 30 s.
#[derive(Debug, clap::Args)]
#[command(override_usage = "foundryctl check -f <FILE|DIR>... [OPTIONS]")]
pub struct Args {
    /// Manifest file or directory (recursively *.yaml, *.yml); `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR", required = true)]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub variables: crate::manifest::VariableArgs,

    #[command(flatten)]
    pub target: super::args::TargetArgs,

    /// How many probes run at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: u16,

    /// How to show the report on stdout: `human`, `json` (`format_version` 1) or `markdown`
    /// (a table for a pull request or a job summary).
    #[arg(short, long, value_enum, default_value_t = CheckFormat::Human)]
    pub output: CheckFormat,
}

/// `check -o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Human,
    Json,
    Markdown,
}

pub async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    let parallelism = usize::from(args.parallelism);
    let session =
        session::connect_for_parallelism(global, crate::ops::LocalAccess::Find, parallelism)
            .await?;
    let validated = session::load_manifests(&args.files, &args.variables, &session, global.color)?;
    if validated.desired.agents.is_empty() {
        session.close().await;
        return Err(
            StatusError::new(ExitStatus::Error, "the manifests declare no agent to check")
                .with_hint(
                    "`check` probes the agents (`kind: Agent`) of the manifests given with -f",
                )
                .into(),
        );
    }
    let report =
        crate::ops::check::run_checks(session.client(), &validated.desired, parallelism).await;
    session.close().await;
    let mut out = std::io::stdout().lock();
    match args.output {
        CheckFormat::Human => {
            write_human(&mut out, &report, &Palette::new(stdout_color(global.color)))
        }
        CheckFormat::Json => write_json(&mut out, &report),
        CheckFormat::Markdown => write_markdown(&mut out, &report),
    }
    .and_then(|()| out.flush())
    .context("failed to write the report")
    .or_else(super::output::reader_gone)?;
    if report.passed {
        Ok(ExitStatus::Success)
    } else {
        Err(StatusError::new(
            ExitStatus::ChecksFailed,
            format!("checks failed: {}", summary_line(&report.summary)),
        )
        .into())
    }
}
