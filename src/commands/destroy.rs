//! `foundryctl destroy`: delete every resource this set owns (or only those `--target`
//! names), agents before the stores they use. Resources of other sets and unmanaged ones are
//! never touched; deleting a memory store is blocked unless an earlier apply stamped it
//! disposable (`lifecycle: {disposable: true}`) or it is named with `--allow-delete`.

use std::path::PathBuf;

use super::apply::{Approval, Run};
use super::args::GlobalArgs;
use super::output::ReportArgs;
use super::session;
use crate::apply::json::Command;
use crate::exit::ExitStatus;
use crate::model::{DesiredState, ResourceRef};
use crate::ops;
use crate::ops::LocalAccess;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: super::args::TargetArgs,

    #[command(flatten)]
    pub set: super::args::SetArg,

    /// Manifests. Optional; repeatable. Protection does not need them: a store is deleted
    /// without --allow-delete when the apply that made it stamped it disposable.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub variables: crate::manifest::VariableArgs,

    /// Destroy only this resource (KIND/NAME, e.g. agent/dev-buddy), not the whole set.
    /// Repeatable.
    #[arg(long = "target", value_name = "KIND/NAME")]
    pub targets: Vec<ResourceRef>,

    /// Allow deleting this memory store and every memory in it. Repeatable. A name that this
    /// run does not delete is warned about.
    #[arg(long, value_name = "memory_store/NAME")]
    pub allow_delete: Vec<ResourceRef>,

    /// Destroy without asking. Required off a terminal.
    #[arg(long)]
    pub auto_approve: bool,

    /// How many independent deletes run at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: u16,

    /// `json`: one report on stdout (docs/apply-json.md); the plan and progress go to stderr,
    /// and nothing is asked (pass --auto-approve).
    #[command(flatten)]
    pub output: ReportArgs,
}

pub async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    let session =
        session::connect_for_parallelism(global, LocalAccess::Find, usize::from(args.parallelism))
            .await?;
    let desired = if args.files.is_empty() {
        DesiredState::default()
    } else {
        session::load_manifests(&args.files, &args.variables, &session, global.color)?.desired
    };
    let (plan, options) =
        ops::plan::make_destroy_plan(&session, &desired, &args.allow_delete, &args.targets).await?;
    super::plan::warn_unused_allows(&plan, &options);
    let approval = Approval::Ask {
        question: format!(
            "Destroy these {} resource(s) of set `{}` in {}?",
            plan.actions.len(),
            session.set,
            session.target_name()
        ),
        auto_approve: args.auto_approve,
        saved_plan_alternative: false,
    };
    let run = Run {
        command: Command::Destroy,
        color: global.color,
        output: args.output.output,
        approval,
        parallelism: usize::from(args.parallelism),
    };
    run.go(session, &plan, |_| {}).await
}
