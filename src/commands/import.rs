//! `foundryctl import KIND/NAME -f …`: adopt a live resource into this set by stamping it,
//! without changing its content. The difference to the manifests is shown first; the next
//! `apply` makes it.

use super::apply::{Approval, Run, write_report};
use super::args::GlobalArgs;
use super::output::{self, OutputFormat, ReportArgs};
use super::plan::require_existing_files;
use super::session;
use crate::apply::json::{self as report_json, Command, Ending};
use crate::exit::{ExitStatus, StatusError};
use crate::model::ResourceRef;
use crate::ops::LocalAccess;
use crate::ops::{self, Session};
use crate::plan::{self, ImportError, Plan, PlanOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: super::args::TargetArgs,

    #[command(flatten)]
    pub set: super::args::SetArg,

    /// The resource to adopt, as KIND/NAME (e.g. memory_store/dev-prefs-memory).
    #[arg(value_name = "KIND/NAME")]
    pub resource: ResourceRef,

    /// Manifest file or directory that declares the resource (recursively *.yaml, *.yml); `-`
    /// reads stdin. Repeatable. Only this is taken from the planning flags: an import stamps
    /// one resource, so `--prune`, `--target` and the `--allow-*` flags have no meaning here.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR")]
    pub files: Vec<std::path::PathBuf>,

    #[command(flatten)]
    pub variables: crate::manifest::VariableArgs,

    /// Import without asking. Required off a terminal.
    #[arg(long)]
    pub auto_approve: bool,

    /// Re-stamp a resource this set already manages, recording its live content as what was
    /// applied. This forgets its drift; it is the way out when `plan` infers a change to store
    /// options the service does not report and you know there was none. Without it, importing
    /// this set's own resource changes nothing.
    #[arg(long)]
    pub restamp: bool,

    /// `json`: one report on stdout (docs/apply-json.md); the plan and progress go to stderr,
    /// and nothing is asked (pass --auto-approve).
    #[command(flatten)]
    pub output: ReportArgs,
}

pub async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    require_existing_files(&args.files)?;
    let session = session::connect(global, LocalAccess::FindOrCreate).await?;
    let validated = session::load_manifests(&args.files, &args.variables, &session, global.color)?;
    let plan = match ops::plan::make_import_plan(&session, &validated, &args.resource, args.restamp)
        .await?
    {
        Ok(plan) => plan,
        Err(ImportError::AlreadyManaged(set)) => {
            let message = format!(
                "{} is already managed by set `{set}`; nothing to import.",
                args.resource
            );
            match args.output.output {
                OutputFormat::Human => {
                    output::print_text(&format!("{message}\n")).or_else(output::reader_gone)?;
                }
                OutputFormat::Json => {
                    let run = report_json::Run {
                        command: Command::Import,
                        saved_plan: false,
                        ending: Ending::NothingToDo,
                        message: Some(message),
                        hints: vec![ALREADY_MANAGED_HINT.to_owned()],
                    };
                    write_report(&empty_plan(&session), &run)?;
                }
            }
            session.close().await;
            crate::say!("hint: {ALREADY_MANAGED_HINT}");
            return Ok(ExitStatus::Success);
        }
        Err(e) => return Err(import_failure(&args.resource, &e)),
    };
    let question = format!(
        "Stamp {} in {} as managed by set `{}`?",
        args.resource,
        session.target_name(),
        session.set
    );
    let run = Run {
        command: Command::Import,
        color: global.color,
        output: args.output.output,
        approval: Approval::Ask {
            question,
            auto_approve: args.auto_approve,
            saved_plan_alternative: false,
        },
        parallelism: 1,
    };
    run.go(session, &plan, |_| {}).await
}

/// The plan of an import that has nothing to do, for the JSON report: planning nothing
/// against nothing gives it, with every field in place.
fn empty_plan(session: &Session) -> Plan {
    let options = PlanOptions {
        set: session.set.clone(),
        ..PlanOptions::default()
    };
    plan::plan(
        &crate::model::DesiredState::default(),
        &crate::model::LiveState::default(),
        &options,
    )
}

/// What to do when the resource is already this set's.
const ALREADY_MANAGED_HINT: &str = "`foundryctl plan -f …` shows how it differs from the manifests";

fn import_failure(resource: &ResourceRef, error: &ImportError) -> anyhow::Error {
    let hint = match error {
        ImportError::NotDeclared => Some(format!(
            "declare it in the manifests first (`foundryctl get {resource} -o yaml` prints it as a manifest)"
        )),
        ImportError::NotFound => Some("check the name with `foundryctl get`".to_owned()),
        ImportError::OtherSet(set) => Some(format!("it belongs to set `{set}`; use --set {set}")),
        ImportError::NotImportable => Some(format!(
            "`foundryctl apply --target {resource}` writes the memories it declares that are missing"
        )),
        ImportError::NotPromptAgent | ImportError::AlreadyManaged(_) => None,
    };
    let message = format!("failed to import {resource}: {error}");
    let status = match error {
        ImportError::OtherSet(_) => ExitStatus::StaleOrConflict,
        _ => ExitStatus::Error,
    };
    let refusal = StatusError::new(status, message);
    match hint {
        Some(hint) => refusal.with_hint(hint),
        None => refusal,
    }
    .into()
}
