//! `foundryctl apply`: plan against the live project and carry the plan out, or carry out a
//! plan saved by `plan -o FILE` (checking each action's precondition right before its write).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::context::{self, PlanFormat, PlanningArgs, Session};
use super::plan::{make_plan, require_files};
use crate::apply::{self, ExecuteOptions, Progress};
use crate::cli::GlobalArgs;
use crate::exit::{ExitStatus, StatusError};
use crate::plan::{Plan, SavedPlan};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plan saved by `foundryctl plan -o FILE`, applied as it is (no new planning, no
    /// question: the file is the approval). Refused when the project changed since.
    #[arg(value_name = "PLAN_FILE", conflicts_with_all = ["files", "prune", "targets", "allow_replace", "allow_delete"])]
    pub plan_file: Option<PathBuf>,

    #[command(flatten)]
    pub planning: PlanningArgs,

    /// Apply without asking. Required off a terminal unless a plan file is given.
    #[arg(long)]
    pub auto_approve: bool,

    /// How many independent actions run at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: u16,
}

pub async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    if let Some(path) = &args.plan_file {
        return apply_saved(global, path, usize::from(args.parallelism)).await;
    }
    require_files(&args.planning.files)?;
    let session = Session::connect_for_parallelism(global, usize::from(args.parallelism)).await?;
    let (_, plan) = make_plan(&session, &args.planning, global, false).await?;
    let approval = Approval::Ask {
        question: format!("Apply these changes to {}?", target_name(&session)),
        auto_approve: args.auto_approve,
        saved_plan_alternative: true,
    };
    let run = Run {
        color: global.color,
        approval,
        parallelism: usize::from(args.parallelism),
    };
    run.go(session, &plan, |_| {}).await
}

/// How a run gets the go-ahead.
pub enum Approval {
    /// Ask (or take `--auto-approve`); see [`context::confirm`].
    Ask {
        question: String,
        auto_approve: bool,
        saved_plan_alternative: bool,
    },
    /// A saved plan: the file is the approval, and each action's precondition is re-checked
    /// right before its write.
    SavedPlan,
}

/// What `apply`, `apply FILE` and `destroy` do once they hold a plan.
pub struct Run {
    pub color: crate::cli::ColorChoice,
    pub approval: Approval,
    pub parallelism: usize,
}

impl Run {
    /// Shows the plan, refuses what may not run (`refine` may add a command's own hint to the
    /// refusal), stops when there is nothing to do, gets the approval, and carries the plan out.
    pub async fn go(
        self,
        session: Session,
        plan: &Plan,
        refine: impl FnOnce(&mut StatusError),
    ) -> anyhow::Result<ExitStatus> {
        context::print_plan(plan, PlanFormat::Human, self.color)?;
        if let Some(mut refusal) = context::refusal(plan) {
            refine(&mut refusal);
            return Err(refusal.into());
        }
        if plan.actions.is_empty() {
            session.close().await;
            return Ok(ExitStatus::Success);
        }
        let saved = match self.approval {
            Approval::Ask {
                question,
                auto_approve,
                saved_plan_alternative,
            } => {
                if !context::confirm(&question, auto_approve, saved_plan_alternative)? {
                    return Err(cancelled());
                }
                false
            }
            Approval::SavedPlan => true,
        };
        carry_out(session, plan, self.parallelism, saved).await
    }
}

/// `apply FILE`: the saved plan, against the project it was made for.
async fn apply_saved(
    global: &GlobalArgs,
    path: &Path,
    parallelism: usize,
) -> anyhow::Result<ExitStatus> {
    let saved = read_saved(path)?;
    let session = Session::connect_for_parallelism(global, parallelism).await?;
    let here = session.endpoint_id();
    if saved.endpoint != here {
        return Err(StatusError::new(
            ExitStatus::Error,
            format!(
                "the plan in {} was made for {}, not {here}\nhint: pass --endpoint {} to apply it there",
                path.display(),
                saved.endpoint,
                saved.endpoint
            ),
        )
        .into());
    }
    if saved.set != session.set && session.set.as_str() != crate::model::SetName::default().as_str()
    {
        return Err(StatusError::new(
            ExitStatus::Error,
            format!(
                "the plan in {} is for set `{}`, not `{}`",
                path.display(),
                saved.set,
                session.set
            ),
        )
        .into());
    }
    let run = Run {
        color: global.color,
        approval: Approval::SavedPlan,
        parallelism,
    };
    run.go(session, &saved.plan, |_| {}).await
}

fn read_saved(path: &Path) -> anyhow::Result<SavedPlan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the plan file {}", path.display()))?;
    let saved: SavedPlan = serde_json::from_str(&text).with_context(|| {
        format!(
            "failed to read the plan file {}: it is not a plan saved by `foundryctl plan -o`",
            path.display()
        )
    })?;
    if saved.format_version != SavedPlan::FORMAT_VERSION {
        anyhow::bail!(
            "the plan file {} has format version {}, this foundryctl reads {}\nhint: make the plan again with this foundryctl",
            path.display(),
            saved.format_version,
            SavedPlan::FORMAT_VERSION
        );
    }
    Ok(saved)
}

/// Runs the plan, prints the report, and turns it into the exit status (0, 5 or 6).
pub async fn carry_out(
    session: Session,
    plan: &Plan,
    parallelism: usize,
    check_preconditions: bool,
) -> anyhow::Result<ExitStatus> {
    let options = ExecuteOptions {
        parallelism,
        check_preconditions,
    };
    let stop = context::interrupts()?;
    let mut progress = Progress::for_stderr();
    let report = apply::execute(session.client(), plan, options, stop, &mut progress)
        .await
        .context("failed to apply")?;
    session.close().await;
    let mut out = std::io::stdout().lock();
    report
        .render(&mut out)
        .context("failed to write the report")?;
    Ok(report.status())
}

/// `the local emulator (DIR)` or the project URL, for questions.
pub fn target_name(session: &Session) -> String {
    session
        .conn
        .describe()
        .trim_start_matches("target: ")
        .to_owned()
}

pub fn cancelled() -> anyhow::Error {
    StatusError::new(ExitStatus::Error, "cancelled; nothing was changed").into()
}
