//! `foundryctl destroy`: delete every resource this set owns, agents before the stores they
//! use. Resources of other sets and unmanaged ones are never touched; deleting a memory store
//! is blocked unless it is declared `disposable` or named with `--allow-delete`.

use std::path::PathBuf;

use super::apply::{cancelled, carry_out, target_name};
use super::context::{self, PlanFormat, Session};
use crate::cli::GlobalArgs;
use crate::exit::ExitStatus;
use crate::model::{DesiredState, ResourceRef};
use crate::plan::{self, PlanOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifests, consulted only for `lifecycle: {disposable: true}` (which lifts the
    /// protection of a store). Optional; repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,

    /// Allow deleting this memory store and every memory in it. Repeatable.
    #[arg(long, value_name = "memory_store/NAME")]
    pub allow_delete: Vec<ResourceRef>,

    /// Destroy without asking. Required off a terminal.
    #[arg(long)]
    pub auto_approve: bool,

    /// How many independent deletes run at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: u16,
}

pub async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    let session = Session::connect(global).await?;
    let desired = if args.files.is_empty() {
        DesiredState::default()
    } else {
        context::load_manifests(&args.files, &session)?.desired
    };
    let live = session.read_live(&desired).await?;
    let options = PlanOptions {
        set: session.set.clone(),
        destroy: true,
        allow_delete: args.allow_delete.iter().cloned().collect(),
        ..PlanOptions::default()
    };
    let plan = plan::plan(&desired, &live, &options);
    context::print_plan(&plan, PlanFormat::Human, global.color)?;
    if let Some(mut refusal) = context::refusal(&plan) {
        if refusal.status == ExitStatus::Blocked && args.files.is_empty() {
            // Without manifests, destroy cannot know which stores were declared disposable.
            refusal.message.push_str(
                "\nhint: stores declared `lifecycle: {disposable: true}` are deleted without \
                 --allow-delete when the manifests are passed with -f",
            );
        }
        return Err(refusal.into());
    }
    if plan.actions.is_empty() {
        session.close().await;
        return Ok(ExitStatus::Success);
    }
    let question = format!(
        "Destroy these {} resource(s) of set `{}` in {}?",
        plan.actions.len(),
        session.set,
        target_name(&session)
    );
    if !context::confirm(&question, args.auto_approve, false)? {
        return Err(cancelled());
    }
    carry_out(session, &plan, usize::from(args.parallelism), false).await
}
