//! `foundryctl plan`: show what apply would change, optionally saving the plan for `apply FILE`.

use std::path::PathBuf;

use super::args::{GlobalArgs, PlanningArgs};
use super::output::{self, PlanFormat, PlanFormatParser, stderr_color};
use super::session;
use crate::exit::{ExitStatus, StatusError};
use crate::manifest::Validated;
use crate::model::ResourcePattern;
use crate::ops::LocalAccess;
use crate::ops::{self, Session};
use crate::plan::{self, Plan};

#[derive(Debug, clap::Args)]
#[command(override_usage = "foundryctl plan -f <FILE|DIR>... [OPTIONS]")]
pub struct Args {
    #[command(flatten)]
    pub planning: PlanningArgs,

    #[command(flatten)]
    pub target: super::args::TargetArgs,

    #[command(flatten)]
    pub set: super::args::SetArg,

    /// Also write the plan to FILE (JSON, no secrets), to apply later with `foundryctl apply FILE`.
    /// Not the output format (that is `-o`/`--output`): a bare `json`, `markdown`, … is refused.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// How to show the plan on stdout.
    #[arg(short, long, value_parser = PlanFormatParser, default_value = "human")]
    pub output: PlanFormat,

    /// Exit 2 when there are changes to apply (0 when there are none).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

pub async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    if let Some(path) = &args.out {
        check_out_path(path)?;
    }
    require_files(&args.planning.files)?;
    let session = session::connect(global, LocalAccess::Find).await?;
    let (validated, plan) = make_plan(&session, &args.planning, global, false).await?;
    let refusal = ops::plan::refusal(&plan);
    // Saved before printing, so a closed stdout (`| head`) cannot lose the file. A plan that
    // `apply` would refuse (errors, conflicts, blocked actions) is not written at all: a file
    // that cannot be applied would only be advertised as if it could.
    if let Some(path) = &args.out {
        match &refusal {
            None => {
                ops::saved::save(&session, &validated, &plan, path)?;
                crate::say!(
                    "Saved the plan to {0}; apply it with `foundryctl apply {0}`.",
                    path.display()
                );
            }
            Some(refusal) => {
                // An earlier plan left at that path would still apply (its preconditions hold
                // while the project is unchanged), so this run's refusal must not leave it there.
                let what = if ops::saved::remove_earlier(path)? {
                    "removed the earlier plan there, so it cannot be applied by mistake"
                } else {
                    "nothing was written"
                };
                crate::say!(
                    "Not saving the plan to {}: {}; {what}.",
                    path.display(),
                    unsaved_reason(refusal.status)
                );
            }
        }
    }
    output::print_plan(&plan, &session.endpoint_id(), args.output, global.color)
        .or_else(output::reader_gone)?;
    session.close().await;
    let pending = plan.has_changes();
    super::free_in_background((validated, plan));
    if let Some(refusal) = refusal {
        return Err(refusal.into());
    }
    Ok(if args.detailed_exitcode && pending {
        ExitStatus::ChangesPending
    } else {
        ExitStatus::Success
    })
}

/// Output format names that `--out` is mistaken for (`--out` is the plan file; the format is
/// `-o`/`--output`). `get` takes `-o yaml`, hence `yaml`.
const FORMAT_NAMES: [&str; 4] = ["human", "json", "markdown", "yaml"];

/// Refuses `--out json` and the like: a bare output format name with no extension or directory
/// is almost certainly `--output` mistyped, and would silently write a plan file named `json`.
/// `./json` (or any path with a separator or an extension) is taken as meant. `--out -` is
/// refused too: `-` means stdout elsewhere (`-f -`), and a file named `-` was written instead.
fn check_out_path(path: &std::path::Path) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        return Err(StatusError::new(
            ExitStatus::Error,
            "refusing to write the plan to a file named `-`: --out writes a file, not stdout",
        )
        .with_hint(
            "stdout already shows the plan (`-o json` shows it as JSON); to write a file of \
             that name, pass --out ./-",
        )
        .into());
    }
    let Some(name) = path.to_str().filter(|p| FORMAT_NAMES.contains(p)) else {
        return Ok(());
    };
    let hint = if name == "yaml" {
        "plan has no YAML output; `--output` takes human, json or markdown".to_owned()
    } else {
        format!("did you mean --output {name}? --out names the plan file")
    };
    Err(StatusError::new(
        ExitStatus::Error,
        format!(
            "refusing to write the plan to a file named `{name}`: that is an output format, not \
             a file name"
        ),
    )
    .with_hint(format!(
        "{hint}; to write a file of that name, pass --out ./{name}"
    ))
    .into())
}

/// Why a refused plan is not saved, for the note on stderr (the refusal itself follows the plan).
fn unsaved_reason(status: ExitStatus) -> &'static str {
    match status {
        ExitStatus::InvalidManifests => "it has errors, and apply refuses such a plan",
        ExitStatus::StaleOrConflict => "it has conflicts, and apply refuses such a plan",
        ExitStatus::Blocked => {
            "it has actions blocked by data-loss protection, and apply refuses such a plan"
        }
        _ => "apply would refuse it",
    }
}

/// For the commands that create the local project when there is none (`apply`, `import`): the
/// manifests given must be there before it is made, or a mistyped path leaves an empty project
/// behind. The error is the one reading them gives.
pub fn require_existing_files(files: &[PathBuf]) -> anyhow::Result<()> {
    require_files(files)?;
    crate::manifest::check_given(files)
        .map_err(|error| anyhow::Error::new(error).context("failed to read the manifests"))
}

/// `-f` is required wherever manifests are planned against.
pub fn require_files(files: &[PathBuf]) -> anyhow::Result<()> {
    if files.is_empty() {
        return Err(StatusError::new(ExitStatus::Error, "no manifests given")
            .with_hint("pass -f FILE|DIR (repeatable), e.g. -f manifests/")
            .into());
    }
    Ok(())
}

/// Loads the manifests, reads the live project, checks store references and plans. The live
/// project's lists start first: they do not need the manifests, so reading and validating
/// those costs nothing while the round trips are in flight.
pub async fn make_plan(
    session: &Session,
    planning: &PlanningArgs,
    global: &GlobalArgs,
    destroy: bool,
) -> anyhow::Result<(Validated, Plan)> {
    // Tasks on the runtime's worker threads; this one (`block_on`'s) reads the manifests.
    let lists = ops::live::Lists::start(session.client());
    let lists = if destroy {
        lists
    } else {
        lists.with_deployments(session.client())
    };
    let validated =
        session::load_manifests(&planning.files, &planning.variables, session, global.color)?;
    let options = planning.options(&session.set, destroy, &validated.desired)?;
    // Unlocked: the live reads log to stderr (-v) from other threads while this awaits, so a
    // lock held across the await would deadlock them.
    let mut err = std::io::stderr();
    let plan = ops::plan::make_plan(
        session,
        lists,
        &validated,
        &options,
        &mut err,
        stderr_color(global.color),
    )
    .await?;
    for line in unused_allow_warnings(&plan, &options, &planning.replace) {
        crate::say!("warning: {line}");
    }
    Ok((validated, plan))
}

/// A warning on stderr for each `--allow-*` flag that unblocks nothing (a typo, or an agent,
/// which is not protected). Not an error: a pipeline may always pass the flag.
pub fn warn_unused_allows(plan: &Plan, options: &plan::PlanOptions) {
    for line in unused_allow_warnings(plan, options, &[]) {
        crate::say!("warning: {line}");
    }
}

/// The warnings of [`warn_unused_allows`], with the stores a `--replace` pattern with `*`
/// matched said once per pattern rather than once per store (a first apply of a workshop
/// would otherwise print twenty lines for one flag).
fn unused_allow_warnings(
    plan: &Plan,
    options: &plan::PlanOptions,
    patterns: &[ResourcePattern],
) -> Vec<String> {
    let globs: Vec<&ResourcePattern> = patterns
        .iter()
        .filter(|p| matches!(p, ResourcePattern::Glob { .. }))
        .collect();
    let mut by_pattern: Vec<usize> = vec![0; globs.len()];
    let mut lines = Vec::new();
    for unused in plan::unused_allows(plan, options) {
        let glob = (unused.flag == "--replace")
            .then(|| globs.iter().position(|g| g.matches(&unused.resource)))
            .flatten();
        match glob {
            Some(i) => by_pattern[i] += 1,
            None => lines.push(unused.to_string()),
        }
    }
    for (glob, count) in globs.iter().zip(by_pattern) {
        if count > 0 {
            lines.push(format!(
                "--replace {glob} has no effect on {count} of the stores it matches: this plan \
                 creates them, or --target leaves them out"
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_bare_format_name_is_refused_as_a_plan_file_but_a_real_path_is_not() {
        for name in FORMAT_NAMES {
            let err = check_out_path(Path::new(name)).unwrap_err();
            let status = crate::exit::status_of(&err);
            assert_eq!(status, ExitStatus::Error, "{name}");
            let hints = crate::exit::hints(&err).join("\n");
            assert!(hints.contains(&format!("--out ./{name}")), "{hints}");
        }
        let json = check_out_path(Path::new("json")).unwrap_err();
        let hint = json
            .downcast_ref::<StatusError>()
            .and_then(|e| e.hints.first().cloned());
        assert!(
            hint.as_deref().is_some_and(
                |h| h.starts_with("did you mean --output json? --out names the plan file")
            ),
            "{hint:?}"
        );
        let dash = check_out_path(Path::new("-")).unwrap_err();
        assert_eq!(crate::exit::status_of(&dash), ExitStatus::Error);
        assert!(dash.to_string().contains("not stdout"), "{dash}");
        assert!(
            crate::exit::hints(&dash).join("\n").contains("--out ./-"),
            "{dash:?}"
        );
        for fine in [
            "./-",
            "./json",
            "json.json",
            "plans/json",
            "plan.json",
            "JSON-plan",
            "md",
        ] {
            assert!(check_out_path(Path::new(fine)).is_ok(), "{fine}");
        }
    }
}
