//! `foundryctl apply`: plan against the live project and carry the plan out, or carry out a
//! plan saved by `plan --out FILE` (checking each action's precondition right before its write).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::args::{GlobalArgs, PlanningArgs};
use super::confirm::{cancelled, confirm};
use super::output::{
    self, ColorChoice, OutputFormat, PlanFormat, ReportArgs, stderr_color, terminal_width,
};
use super::plan::{make_plan, require_existing_files};
use super::session;
use crate::apply::json::{self as report_json, Command, Ending};
use crate::exit::{ExitStatus, StatusError};
use crate::foundry::TransportConfig;
use crate::ops::LocalAccess;
use crate::ops::{self, Session};
use crate::plan::{Plan, PlanOptions, SavedPlan};
use crate::render::{self, HumanOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plan saved by `foundryctl plan --out FILE`, applied as it is (no new planning, no
    /// question: the file is the approval). Refused when the project changed since; a store
    /// replace or delete, or an exclusive seed's deletes, in it need --allow-replace/
    /// --allow-delete again (or the live store's disposable stamp), re-checked now, whatever
    /// the file says.
    #[arg(value_name = "PLAN_FILE", conflicts_with_all = ["files", "prune", "targets", "replace", "vars", "env_file"])]
    pub plan_file: Option<PathBuf>,

    #[command(flatten)]
    pub planning: PlanningArgs,

    #[command(flatten)]
    pub target: super::args::TargetArgs,

    #[command(flatten)]
    pub set: super::args::SetArg,

    /// Apply without asking. Required off a terminal unless a plan file is given.
    #[arg(long)]
    pub auto_approve: bool,

    /// How many independent actions run at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: u16,

    /// `json`: one report on stdout (docs/apply-json.md); the plan and progress go to stderr,
    /// and nothing is asked (pass --auto-approve, or a plan file).
    #[command(flatten)]
    pub output: ReportArgs,
}

pub async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    if let Some(path) = &args.plan_file {
        // --replace cannot be given with a plan file, so nothing is declared to match.
        let allow = args.planning.options(
            &crate::model::SetName::default(),
            false,
            &crate::model::DesiredState::default(),
        )?;
        return apply_saved(
            global,
            path,
            usize::from(args.parallelism),
            args.output.output,
            &allow,
        )
        .await;
    }
    require_existing_files(&args.planning.files)?;
    let session = session::connect_for_parallelism(
        global,
        LocalAccess::FindOrCreate,
        usize::from(args.parallelism),
    )
    .await?;
    let (validated, plan) = make_plan(&session, &args.planning, global, false).await?;
    super::free_in_background(validated);
    let approval = Approval::Ask {
        question: format!("Apply these changes to {}?", session.target_name()),
        auto_approve: args.auto_approve,
        saved_plan_alternative: true,
    };
    let run = Run {
        command: Command::Apply,
        color: global.color,
        output: args.output.output,
        approval,
        parallelism: usize::from(args.parallelism),
    };
    let status = run.go(session, &plan, |_| {}).await;
    super::free_in_background(plan);
    status
}

/// How a run gets the go-ahead.
pub enum Approval {
    /// Ask (or take `--auto-approve`); see [`confirm`].
    Ask {
        question: String,
        auto_approve: bool,
        saved_plan_alternative: bool,
    },
    /// A saved plan: the file is the approval, and each action's precondition is re-checked
    /// right before its write.
    SavedPlan,
}

/// What `apply`, `apply FILE`, `destroy` and `import` do once they hold a plan.
pub struct Run {
    pub command: Command,
    pub color: ColorChoice,
    /// `human`: the plan and the report on stdout. `json`: the report document on stdout, the
    /// plan (as text) on stderr, and no question.
    pub output: OutputFormat,
    pub approval: Approval,
    pub parallelism: usize,
}

impl Run {
    /// Shows the plan, refuses what may not run (`refine` may add a command's own hint to the
    /// refusal), stops when there is nothing to do, gets the approval, and carries the plan out.
    /// Under `--output json` every ending after planning writes the report document, then the
    /// error (if any) goes to stderr as usual.
    pub async fn go(
        self,
        session: Session,
        plan: &Plan,
        refine: impl FnOnce(&mut StatusError),
    ) -> anyhow::Result<ExitStatus> {
        // A plan nobody could see is not carried out; one that changes nothing (refused, or
        // empty) ends as it would have, whoever reads it ([`output::reader_gone`]).
        let refusal = ops::plan::refusal(plan);
        if let Err(error) = self.show_plan(plan, &session.endpoint_id()) {
            if refusal.is_none() && !plan.actions.is_empty() {
                return Err(error);
            }
            output::reader_gone(error)?;
        }
        if let Some(mut refusal) = refusal {
            refine(&mut refusal);
            session.close().await;
            self.report(
                plan,
                Ending::Refused(refusal.status),
                Some(&refusal.message),
                &refusal.hints,
            )?;
            return Err(refusal.into());
        }
        if plan.actions.is_empty() {
            session.close().await;
            self.report(plan, Ending::NothingToDo, None, &[])?;
            return Ok(ExitStatus::Success);
        }
        let approved = match &self.approval {
            Approval::Ask {
                question,
                auto_approve,
                saved_plan_alternative,
            } => self.confirm(question, *auto_approve, *saved_plan_alternative),
            Approval::SavedPlan => Ok(()),
        };
        if let Err(refusal) = approved {
            session.close().await;
            let hints = refusal
                .downcast_ref::<StatusError>()
                .map(|e| e.hints.clone())
                .unwrap_or_default();
            self.report(
                plan,
                Ending::NotApproved,
                Some(&refusal.to_string()),
                &hints,
            )?;
            return Err(refusal);
        }
        // The plan's read is milliseconds old under --auto-approve; a saved plan, or one a
        // person read before answering, may be minutes old: re-read before each write.
        let recheck = match &self.approval {
            Approval::SavedPlan => true,
            Approval::Ask { auto_approve, .. } => !auto_approve,
        };
        let report = ops::apply::carry_out(
            session,
            plan,
            self.parallelism,
            recheck,
            stderr_color(self.color),
            self.output == OutputFormat::Human,
        )
        .await?;
        let saved_plan = matches!(self.approval, Approval::SavedPlan).then_some(&plan.set);
        match self.output {
            OutputFormat::Human => {
                let mut out = std::io::stdout().lock();
                report
                    .render(&mut out, saved_plan)
                    .context("failed to write the report")
                    .or_else(output::reader_gone)?;
            }
            OutputFormat::Json => {
                let hints: Vec<String> = report.hint(saved_plan).into_iter().collect();
                self.report(plan, Ending::Ran(&report), None, &hints)?;
            }
        }
        Ok(report.status())
    }

    /// The plan for people: on stdout, or on stderr when stdout carries the JSON report. There
    /// the report holds the whole plan (docs/apply-json.md), so a stderr that cannot take the
    /// text loses only the text: the run and its report go on.
    fn show_plan(&self, plan: &Plan, project: &str) -> anyhow::Result<()> {
        match self.output {
            OutputFormat::Human => output::print_plan(plan, project, PlanFormat::Human, self.color),
            OutputFormat::Json => {
                let options = HumanOptions {
                    color: stderr_color(self.color),
                    width: terminal_width(),
                };
                let mut err = anstream::stderr().lock();
                let _ = render::human::render(plan, &mut err, &options);
                Ok(())
            }
        }
    }

    /// Asks, except under `--output json`, which never asks: without `--auto-approve` it is
    /// refused like a run off a terminal.
    fn confirm(
        &self,
        question: &str,
        auto_approve: bool,
        saved_plan_alternative: bool,
    ) -> anyhow::Result<()> {
        let may_ask = self.output != OutputFormat::Json;
        if confirm(question, auto_approve, saved_plan_alternative, may_ask)? {
            Ok(())
        } else {
            Err(cancelled())
        }
    }

    /// Under `--output json`, the report document on stdout; nothing otherwise.
    fn report(
        &self,
        plan: &Plan,
        ending: Ending<'_>,
        message: Option<&str>,
        hints: &[String],
    ) -> anyhow::Result<()> {
        if self.output != OutputFormat::Json {
            return Ok(());
        }
        let run = report_json::Run {
            command: self.command,
            saved_plan: matches!(self.approval, Approval::SavedPlan),
            ending,
            message: message.map(str::to_owned),
            hints: hints.to_vec(),
        };
        write_report(plan, &run)
    }
}

/// Writes a report document to stdout. It comes after the run it reports on, so a reader that
/// has gone is no failure ([`output::reader_gone`]).
pub fn write_report(plan: &Plan, run: &report_json::Run<'_>) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = output::buffered_stdout();
    report_json::render(plan, run, &mut out)
        .and_then(|()| out.flush())
        .context("failed to write the report")
        .or_else(output::reader_gone)
}

/// `apply FILE`: the saved plan, against the project it was made for.
async fn apply_saved(
    global: &GlobalArgs,
    path: &Path,
    parallelism: usize,
    output: OutputFormat,
    allow: &PlanOptions,
) -> anyhow::Result<ExitStatus> {
    let mut saved = read_saved(path)?;
    let set = global.set_name()?;
    if global.set_given && saved.set != set {
        return Err(StatusError::new(
            ExitStatus::Error,
            format!(
                "the plan in {} is for set `{}`, not `{set}`",
                path.display(),
                saved.set,
            ),
        )
        .into());
    }
    // The local project is created only for a plan made for it: opened without creating it
    // first, so a plan for another endpoint leaves no empty project behind.
    let transport = TransportConfig::for_parallelism(parallelism);
    let mut session = session::open_quietly(global, LocalAccess::Find, transport.clone()).await?;
    let here = session.endpoint_id();
    if saved.endpoint == here && session.conn.not_created() {
        session.close().await;
        session = session::open_quietly(global, LocalAccess::FindOrCreate, transport).await?;
    }
    session::announce(&session);
    if saved.endpoint != here {
        return Err(StatusError::new(
            ExitStatus::Error,
            format!(
                "the plan in {} was made for {}, not {here}",
                path.display(),
                saved.endpoint,
            ),
        )
        .with_hint(format!(
            "pass --endpoint {} to apply it there",
            saved.endpoint
        ))
        .into());
    }
    // The file is not trusted to say what is protected: each store replace or delete is
    // judged again from the live store and this run's flags.
    ops::plan::recheck_protection(session.client(), &mut saved.plan, allow)
        .await
        .context("failed to re-check the saved plan's protection")?;
    super::plan::warn_unused_allows(&saved.plan, allow);
    let run = Run {
        command: Command::Apply,
        color: global.color,
        output,
        approval: Approval::SavedPlan,
        parallelism,
    };
    // Run twice, a saved plan would be refused action by action as stale; say what happened.
    let live = ops::live::read_for_saved_plan(session.client(), &saved.plan).await?;
    if crate::plan::already_applied(&saved.plan, &live) {
        session.close().await;
        let sentence = format!(
            "The plan in {} was already applied: the project holds everything it makes, so there is nothing to do.",
            path.display()
        );
        match output {
            OutputFormat::Human => {
                output::print_text(&format!("{sentence}\n")).or_else(output::reader_gone)?;
            }
            OutputFormat::Json => {
                crate::say!("{sentence}");
                run.report(&saved.plan, Ending::NothingToDo, Some(&sentence), &[])?;
            }
        }
        return Ok(ExitStatus::Success);
    }
    run.go(session, &saved.plan, |_| {}).await
}

fn read_saved(path: &Path) -> anyhow::Result<SavedPlan> {
    let failure = |message: String, hint: Option<String>| {
        let failure = StatusError::new(ExitStatus::Error, message);
        match hint {
            Some(hint) => failure.with_hint(hint),
            None => failure,
        }
    };
    let text = ops::saved::read_text(path).with_context(|| {
        failure(
            format!("failed to read the plan file {}", path.display()),
            manifests_hint(path, None),
        )
    })?;
    // The version first: a plan of another format may not parse as this one.
    #[derive(serde::Deserialize)]
    struct Format {
        format_version: u32,
    }
    if let Ok(Format { format_version }) = serde_json::from_str(&text)
        && format_version != SavedPlan::FORMAT_VERSION
    {
        return Err(failure(
            format!(
                "the plan file {} has format version {format_version}, this foundryctl reads {}",
                path.display(),
                SavedPlan::FORMAT_VERSION
            ),
            Some("make the plan again with this foundryctl".to_owned()),
        )
        .into());
    }
    let saved: SavedPlan = serde_json::from_str(&text).with_context(|| {
        failure(
            format!(
                "failed to read the plan file {}: it is not a plan saved by `foundryctl plan --out`",
                path.display(),
            ),
            manifests_hint(path, Some(&text)),
        )
    })?;
    let inconsistent = saved.inconsistencies();
    if !inconsistent.is_empty() {
        return Err(failure(
            format!(
                "refusing the plan file {}: it was edited after foundryctl wrote it ({}); \
                 nothing was changed",
                path.display(),
                inconsistent.join("; ")
            ),
            Some("make the plan again with `foundryctl plan --out FILE` and review it".to_owned()),
        )
        .into());
    }
    Ok(saved)
}

/// A hint for `apply PATH` where PATH looks like manifests (a directory, a `.yaml`/`.yml` file,
/// or text that declares a resource): the positional argument is a saved plan; manifests go
/// with `-f`.
fn manifests_hint(path: &Path, text: Option<&str>) -> Option<String> {
    let yaml_name = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    let declares = text.is_some_and(|t| t.contains("apiVersion:") && t.contains("kind:"));
    (path.is_dir() || yaml_name || declares).then(|| {
        format!(
            "to apply manifests, pass them with -f: `foundryctl apply -f {}`",
            path.display()
        )
    })
}
