//! `foundryctl validate`: check manifests without contacting the project, or, with
//! `--against-project`, also check that every model deployment they name exists there.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;

use crate::commands::GlobalArgs;
use crate::commands::output::{self, OutputFormat, stderr_color};
use crate::env::Env;
use crate::exit::{ExitStatus, StatusError};
use crate::manifest::{self, Diagnostic, Validated};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest file or directory (recursively *.yaml, *.yml); `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR", required = true)]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub variables: manifest::VariableArgs,

    /// `human` writes the result to stdout and problems to stderr; `json` writes one JSON
    /// object (result and every diagnostic) to stdout.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,

    /// Also read the project's model deployments and report every `chat_model`,
    /// `embedding_model` or agent `model` that names none (exit 3), as `plan` does. Talks to
    /// the project that --endpoint, PROJECT_ENDPOINT or the local emulator names; without this
    /// flag `validate` contacts nothing and the target options are refused.
    #[arg(long)]
    pub against_project: bool,

    #[command(flatten)]
    pub target: crate::commands::args::TargetArgs,
}

/// The `--output json` document. Versioned so scripts can rely on it.
#[derive(Debug, Serialize)]
struct JsonReport {
    format_version: u32,
    valid: bool,
    files: usize,
    resources: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    diagnostics: Vec<Diagnostic>,
}

pub async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    if !args.against_project
        && let Some(flag) = args.target.given()
    {
        return Err(StatusError::new(
            ExitStatus::Error,
            format!("{flag} has no effect on `validate` without --against-project"),
        )
        .with_hint("add --against-project to check the manifests' model deployments against the project, or drop the flag")
        .into());
    }
    let cwd = std::env::current_dir().context("failed to find the working directory")?;
    let vars = Env::load(&cwd)
        .map_err(anyhow::Error::from)
        .and_then(|env| Ok(args.variables.resolve(&env)?));
    match args.output {
        OutputFormat::Human => {
            let vars = vars?;
            let color = stderr_color(global.color);
            let validated = manifest::load_with(&args.files, &vars, &mut std::io::stderr(), color)?;
            if args.against_project {
                let missing = against_project(global, &validated, None).await?;
                if missing > 0 {
                    return Err(crate::ops::plan::undeployed_error(missing).into());
                }
            }
            output::print_text(&format!("{}\n", summary(&validated)))
                .or_else(output::reader_gone)?;
            super::free_in_background(validated);
            Ok(ExitStatus::Success)
        }
        OutputFormat::Json => {
            let env_file = args.variables.env_file.as_ref();
            let label = env_file.map_or_else(|| ".env".to_owned(), |p| p.display().to_string());
            let (mut report, mut status, validated) = json_report(&args.files, vars, &label);
            if args.against_project
                && let Some(validated) = validated
            {
                let mut found = Vec::new();
                // The report is written whatever happens: a project that cannot be read is a
                // diagnostic of its own (exit 1), like an input that cannot be read.
                match against_project(global, &validated, Some(&mut found)).await {
                    Ok(missing) if missing > 0 => {
                        report.valid = false;
                        status = ExitStatus::InvalidManifests;
                    }
                    Ok(_) => {}
                    Err(error) => {
                        found.push(Diagnostic::about_input("project", format!("{error:#}")));
                        status = ExitStatus::Error;
                    }
                }
                report.diagnostics.extend(found);
            }
            print_json(&report, status)
        }
    }
}

/// The deployments preflight against the project the target options name. Diagnostics go to
/// stderr, or into `collect` (for the JSON report); returns how many references name no
/// deployment.
async fn against_project(
    global: &GlobalArgs,
    validated: &Validated,
    collect: Option<&mut Vec<Diagnostic>>,
) -> anyhow::Result<usize> {
    let session = crate::commands::session::connect(global, crate::ops::LocalAccess::Find).await?;
    let listed = session
        .client()
        .list_deployments()
        .await
        .context("failed to read the project's model deployments");
    session.close().await;
    let listed = listed?;
    match collect {
        None => {
            let color = stderr_color(global.color);
            crate::ops::plan::check_deployments(validated, &listed, &mut std::io::stderr(), color)
        }
        Some(found) => {
            match &listed {
                crate::foundry::Deployments::Listed(names) => found.extend(
                    validated
                        .deployment_refs
                        .iter()
                        .filter(|r| !names.contains(&r.deployment))
                        .map(|r| r.missing(names)),
                ),
                crate::foundry::Deployments::NotAllowed => {
                    let mut skipped = Diagnostic::about_input(
                        "deployments",
                        "skipped the deployments check: the identity may not list the project's model deployments (403)",
                    );
                    skipped.severity = manifest::Severity::Warning;
                    found.push(skipped);
                }
            }
            Ok(found
                .iter()
                .filter(|d| d.severity == manifest::Severity::Error)
                .count())
        }
    }
}

/// The JSON report, whatever happens, so a script always has something to parse: invalid
/// manifests end with exit 3, inputs that cannot be read (a missing file, a broken `.env`)
/// with exit 1, and either way the report's diagnostics say why. The validated manifests come
/// back too when they are valid.
fn json_report(
    paths: &[PathBuf],
    vars: anyhow::Result<manifest::Variables>,
    env_label: &str,
) -> (JsonReport, ExitStatus, Option<Validated>) {
    let unreadable = |path: &str, error: anyhow::Error| {
        (
            report(
                false,
                0,
                0,
                None,
                vec![Diagnostic::about_input(path, format!("{error:#}"))],
            ),
            ExitStatus::Error,
            None,
        )
    };
    match (vars, manifest::read_inputs_skipping(paths)) {
        (Err(error), _) => unreadable(env_label, error),
        (_, Err(error)) if !error.is_content_error() => {
            let path = error.path().to_owned();
            unreadable(
                &path,
                anyhow::Error::new(error).context("failed to read the manifests"),
            )
        }
        (Ok(_), Err(error)) => {
            let diagnostic = Diagnostic::about_input(error.path(), error.to_string());
            (
                report(false, 0, 0, None, vec![diagnostic]),
                ExitStatus::InvalidManifests,
                None,
            )
        }
        (Ok(vars), Ok((files, skipped))) => {
            let mut skipped = manifest::skipped_warnings(&skipped);
            match manifest::validate_files(&files, &vars) {
                Ok(v) => {
                    skipped.extend(v.warnings.iter().cloned());
                    let json = report(
                        true,
                        v.file_count,
                        v.resource_count(),
                        Some(v.digest()),
                        skipped,
                    );
                    (json, ExitStatus::Success, Some(v))
                }
                Err(diagnostics) => (
                    report(false, files.len(), 0, None, {
                        skipped.extend(diagnostics.0);
                        skipped
                    }),
                    ExitStatus::InvalidManifests,
                    None,
                ),
            }
        }
    }
}

/// Prints the JSON report and ends with its status.
fn print_json(report: &JsonReport, status: ExitStatus) -> anyhow::Result<ExitStatus> {
    let mut stdout = output::buffered_stdout();
    crate::render::memory::write_json(&mut stdout, report)
        .and_then(|()| stdout.flush())
        .context("failed to write the report")
        .or_else(output::reader_gone)?;
    match status {
        ExitStatus::Success => Ok(status),
        ExitStatus::InvalidManifests => {
            Err(StatusError::new(status, "invalid manifests (see the JSON report)").into())
        }
        _ => Err(StatusError::new(
            status,
            "could not read the inputs or the project (see the JSON report)",
        )
        .into()),
    }
}

fn report(
    valid: bool,
    files: usize,
    resources: usize,
    digest: Option<String>,
    diagnostics: Vec<Diagnostic>,
) -> JsonReport {
    JsonReport {
        format_version: 1,
        valid,
        files,
        resources,
        digest,
        diagnostics,
    }
}

/// "3 resources in 2 files are valid".
pub fn summary(validated: &Validated) -> String {
    let resources = validated.resource_count();
    let files = validated.file_count;
    format!(
        "{resources} resource{} in {files} file{} {} valid",
        if resources == 1 { "" } else { "s" },
        if files == 1 { "" } else { "s" },
        if resources == 1 { "is" } else { "are" },
    )
}
